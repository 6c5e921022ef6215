"""The supporter journeys end to end over REST: the trained model, the real action server and database, and the
outbox worker delivering to real local receivers (a webhook server and an SMTP server)."""

from __future__ import annotations

import json
import uuid

import pytest
import requests
import sqlalchemy as sa

from bot.content.supporters import consent_sentence, fundraising_content, prompt_for
from tests.e2e.receivers import wait_for

pytestmark = pytest.mark.e2e


class Visitor:
    def __init__(self, assistant, name: str = "visitor") -> None:
        self.assistant = assistant
        self.sender = f"{name}-{uuid.uuid4().hex}"

    def says(self, message: str) -> list[str]:
        response = requests.post(self.assistant.rest_url, json={"sender": self.sender, "message": message}, timeout=60)
        assert response.status_code == 200, response.text
        return [r.get("text", "") for r in response.json()]


def asks(texts: list[str], slot: str) -> bool:
    return texts[-1] == prompt_for(slot).text


def sign_up(visitor: Visitor, email: str, first_name: str = "skip", consent: str = "yes, I agree") -> list[str]:
    assert asks(visitor.says("I'd like to sign up for your newsletter"), "newsletter_email")
    assert asks(visitor.says(email), "newsletter_first_name")
    assert consent_sentence() in visitor.says(first_name)[-1]
    return visitor.says(consent)


def test_newsletter_sign_up_is_stored_with_its_consent_and_delivered_once(assistant, webhooks):
    visitor = Visitor(assistant)
    email = f"robin-{uuid.uuid4().hex[:8]}@example.org"
    assert asks(visitor.says("please add me to your email updates"), "newsletter_email")
    invalid = visitor.says("robin at example dot org")
    assert "e-mail address" in invalid[0] and asks(invalid, "newsletter_email")
    assert asks(visitor.says(f"it's {email.upper()}"), "newsletter_first_name")
    assert consent_sentence() in visitor.says("Robin")[-1]
    texts = visitor.says("yes, I agree")
    assert "Thank you, Robin" in texts[0] and email in texts[0]

    stored = assistant.query(
        "SELECT email, first_name, consent_text, conversation_id, channel FROM newsletter_records WHERE email = :e",
        e=email,
    )
    assert stored == [(email, "Robin", consent_sentence(), visitor.sender, "rest")]
    delivered = wait_for(lambda: [r for r in webhooks.received if r[2].get("email") == email])
    assert len(delivered) == 1
    path, key, body = delivered[0]
    assert path == "/newsletter" and key and body["type"] == "newsletter.subscribe"
    assert body["consent_text"] == consent_sentence()

    again = Visitor(assistant, "returning")  # an address signed up already: told at once, no name or consent asked
    assert asks(again.says("I'd like to sign up for your newsletter"), "newsletter_email")
    assert "already signed up" in again.says(email)[0]
    assert len(assistant.query("SELECT id FROM newsletter_records WHERE email = :e", e=email)) == 1


def test_declining_consent_stores_nothing(assistant):
    email = f"maybe-{uuid.uuid4().hex[:8]}@example.org"
    texts = sign_up(Visitor(assistant), email, consent="no thanks")
    assert "haven't signed you up" in texts[0]
    assert assistant.query("SELECT id FROM newsletter_records WHERE email = :e", e=email) == []


def test_a_question_mid_form_is_answered_then_the_form_asks_again(assistant):
    visitor = Visitor(assistant)
    visitor.says("sign me up for the newsletter")
    texts = visitor.says("wait, when was IJM founded?")
    assert "1997" in texts[0]
    assert asks(texts, "newsletter_email")
    assert asks(visitor.says(f"q-{uuid.uuid4().hex[:8]}@example.com"), "newsletter_first_name")


def test_never_mind_ends_the_form_and_it_does_not_come_back(assistant):
    visitor = Visitor(assistant)
    visitor.says("I want to subscribe to the newsletter")
    assert "Nothing from that form was saved" in visitor.says("never mind")[0]
    texts = visitor.says("what is IJM's mission?")
    assert not any(t == prompt_for("newsletter_email").text for t in texts)


def test_the_safety_answer_wins_over_a_form(assistant):
    visitor = Visitor(assistant)
    visitor.says("can I get your newsletter")
    texts = visitor.says("my employer took my passport and won't let me leave")
    assert "911" in texts[0] or "emergency" in texts[0].lower()
    assert not any(t == prompt_for("newsletter_email").text for t in texts)


def test_unsubscribe_is_recorded_and_delivered(assistant, webhooks):
    email = f"leaving-{uuid.uuid4().hex[:8]}@example.com"
    texts = Visitor(assistant).says(f"please unsubscribe {email} from your emails")
    assert texts[0].startswith("Done") and email in texts[0]
    assert assistant.query("SELECT action FROM newsletter_records WHERE email = :e", e=email) == [("unsubscribe",)]
    delivered = wait_for(lambda: [r for r in webhooks.received if r[2].get("email") == email])
    assert [body["type"] for _, _, body in delivered] == ["newsletter.unsubscribe"]


def test_a_birthday_fundraiser_lead_reaches_the_events_team(assistant, webhooks, smtp):
    visitor = Visitor(assistant)
    email = f"dana-{uuid.uuid4().hex[:8]}@example.com"
    texts = visitor.says("I want to do a birthday fundraiser for IJM")
    birthday = fundraising_content().kinds["birthday"]
    assert birthday.tips[0] in texts[0] and fundraising_content().kinds["school"].tips[0] not in texts[0]
    assert "25 Tips for the Novice Fundraiser" in texts[1] and "events@ijm.ca" in texts[1]
    assert asks(visitor.says("yes please"), "lead_name")
    assert asks(visitor.says("<img src=x onerror=alert(1)>"), "lead_name")  # not a name: asked again
    assert asks(visitor.says("Dana Smith"), "lead_email")
    assert asks(visitor.says(email), "lead_event_date")  # the kind was named already
    assert visitor.says("sometime next spring") == [fundraising_content().message("thank_you")]

    stored = assistant.query(
        "SELECT kind, team, name, details, conversation_id FROM enquiries WHERE email = :e", e=email
    )
    assert [(r.kind, r.team, r.name, r.conversation_id) for r in stored] == [
        ("fundraiser", "events", "Dana Smith", visitor.sender)
    ]
    assert json.loads(stored[0].details) == {"event_kind": birthday.title, "event_date": "sometime next spring"}
    mails = wait_for(lambda: [m for m in smtp.inbox.messages if email in m.get_payload(decode=True).decode()])
    assert len(mails) == 1 and "events@ijm.ca" in mails[0]["X-Envelope-To"]
    leads = wait_for(lambda: [r for r in webhooks.received if r[2].get("email") == email])
    assert [(path, body["type"]) for path, _, body in leads] == [("/leads", "enquiry.fundraiser")]


def test_a_journalist_leaves_a_media_enquiry(assistant):
    visitor = Visitor(assistant)
    email = f"alex-{uuid.uuid4().hex[:8]}@example.com"
    texts = visitor.says("Hi, I'm a journalist and I'd like to request an interview with IJM Canada")
    assert "We're here to answer your questions" in texts[0] and asks(texts, "media_name")
    visitor.says("Alex Chen")
    visitor.says(email)
    visitor.says("The Example Times")
    assert asks(visitor.says("Friday at noon"), "media_question")
    texts = visitor.says("How has IJM's work in Cambodia changed since it began?")  # a question, yet the answer
    assert "someone from our team will follow up with you soon" in texts[0]
    stored = assistant.query("SELECT kind, team, details FROM enquiries WHERE email = :e", e=email)
    assert [(r.kind, r.team) for r in stored] == [("media", "media")]
    assert json.loads(stored[0].details)["question"].startswith("How has IJM's work in Cambodia")


def test_talk_to_a_person_gives_contacts_and_takes_a_message(assistant):
    visitor = Visitor(assistant)
    email = f"sam-{uuid.uuid4().hex[:8]}@example.com"
    texts = visitor.says("can I talk to a real person?")
    assert "events@ijm.ca" in texts[0] and "take a message" in texts[1]
    assert asks(visitor.says("yes"), "message_name")
    visitor.says("Sam")
    visitor.says(email)
    texts = visitor.says("I never got my tax receipt for last year")
    assert "donor care" in texts[0] and email in texts[0]
    assert assistant.query("SELECT team FROM enquiries WHERE email = :e", e=email) == [("donor_care",)]


def test_typing_the_offers_words_takes_the_offer_and_asking_the_address_gives_the_contacts(assistant):
    """ "leave a message" typed (read as asking for a person again) starts the message form; "what's the email?" after
    the same offer gets the contacts again, not the form."""
    visitor = Visitor(assistant)
    visitor.says("can i talk to a real person")
    assert asks(visitor.says("yes, I'd like to leave a message"), "message_name")
    other = Visitor(assistant)
    other.says("How do I get in touch with IJM Canada?")
    texts = other.says("what's the email")
    assert "info@ijm.ca" in texts[0] and not asks(texts, "message_name")


def test_a_doubt_at_the_consent_step_is_asked_again_and_a_question_is_answered(assistant):
    email = f"doubt-{uuid.uuid4().hex[:8]}@example.org"
    visitor = Visitor(assistant)
    assert asks(visitor.says("Sign me up for IJM updates"), "newsletter_email")
    visitor.says(email)
    visitor.says("skip")
    texts = visitor.says("what will you do with my email?")
    assert "erased" in texts[0] and consent_sentence() in texts[-1]
    texts = visitor.says("wait what is the 7.3 million number about")
    assert "7.3 million" in texts[0] and consent_sentence() in texts[-1]
    assert "signed up" in visitor.says("ok yes i agree")[0]
    assert len(assistant.query("SELECT id FROM newsletter_records WHERE email = :e", e=email)) == 1


def test_asking_the_events_team_for_help_after_the_ideas_starts_the_lead_form(assistant):
    visitor = Visitor(assistant)
    visitor.says("how can I fundraise for IJM?")
    assert asks(visitor.says("can your team help us plan it?"), "lead_name")


def test_the_link_again_after_a_sign_up_is_the_same_gift(assistant):
    visitor = Visitor(assistant)
    assert "$25" in visitor.says("hi! i'd like to donate $25 once, for my sister's birthday")[-1]
    visitor.says("oh and do you have a newsletter")
    visitor.says(f"amelie-{uuid.uuid4().hex[:8]}@example.org")
    visitor.says("Amelie")
    assert "haven't signed you up" in visitor.says("nah")[0]
    texts = visitor.says("ok np. can you send me that link again")
    assert "Donate now" in texts[-1] and "amount=25" in texts[-1] and "frequency=" in texts[-1]


def go_quiet_for(assistant, sender: str, seconds: float) -> None:
    """Move the conversation's stored events `seconds` into the past, as if the visitor had been silent that long
    (Rasa starts a new session after the domain's session_expiration_time, measured from the stored events)."""
    engine = sa.create_engine(assistant.database_url)
    try:
        with engine.begin() as connection:
            events = connection.execute(
                sa.text("SELECT id, timestamp, data FROM events WHERE sender_id = :s"), {"s": sender}
            ).all()
            for event in events:
                data = json.loads(event.data)
                data["timestamp"] -= seconds
                connection.execute(
                    sa.text("UPDATE events SET timestamp = :t, data = :d WHERE id = :i"),
                    {"t": event.timestamp - seconds, "d": json.dumps(data), "i": event.id},
                )
    finally:
        engine.dispose()


def test_a_form_left_unfinished_before_a_new_session_asks_its_questions_again(assistant):
    """After an hour of silence the conversation starts a new session: the answers of a form the visitor left
    unfinished must not fill in a new form without asking (their e-mail address, their consent)."""
    visitor = Visitor(assistant)
    assert asks(visitor.says("I'd like to sign up for your newsletter"), "newsletter_email")
    assert asks(visitor.says(f"left-{uuid.uuid4().hex[:8]}@example.org"), "newsletter_first_name")
    go_quiet_for(assistant, visitor.sender, 2 * 3600)
    assert asks(visitor.says("I'd like to sign up for your newsletter"), "newsletter_email")
    sessions = assistant.query(
        "SELECT id FROM events WHERE sender_id = :s AND type_name = 'session_started'", s=visitor.sender
    )
    assert len(sessions) == 2  # the new session really started
