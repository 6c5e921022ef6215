"""The supporter journeys' actions, run with rasa_sdk's own Tracker and dispatcher, and a real SQLite database."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.enquiries import ActionOfferContacts, ActionSubmitMedia, ActionSubmitMessage, ValidateMessageForm
from actions.forms import FORM_SLOTS, SKIPPED, ActionFormCancelled
from actions.fundraising import ActionFundraisingIdeas, ActionSubmitFundraiserLead, ValidateFundraiserForm
from actions.interruptions import ANSWERABLE_MID_FORM, ActionAnswerInterruption
from actions.newsletter import (
    ALREADY_SIGNED_UP,
    CONSENT_SHOWN_SLOT,
    ActionAskNewsletterConsent,
    ActionSubmitNewsletter,
    ActionSubmitUnsubscribe,
    ValidateNewsletterForm,
    ValidateUnsubscribeForm,
)
from bot.content.supporters import consent_sentence, fundraising_content
from bot.storage.migrate import upgrade
from tests.conftest import ROOT


def tracker(
    text: str,
    intent: str | None = "nlu_fallback",
    confidence: float = 0.9,
    slots: dict[str, Any] | None = None,
    entities: list[dict] | None = None,
) -> Tracker:
    message = {"text": text, "intent": {"name": intent, "confidence": confidence}, "entities": entities or []}
    return Tracker(
        sender_id="conversation-1",
        slots=dict(slots or {}),
        latest_message=message,
        events=[{"event": "user", "text": text, "parse_data": message, "input_channel": "rest"}],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def run(action: Action, tracker: Tracker) -> tuple[list[str], list[dict]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, {}))
    return [m.get("text") or m.get("response") for m in dispatcher.messages], events


def slot_events(events: list[dict]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


@pytest.fixture()
def database(tmp_path, monkeypatch) -> sa.engine.Engine:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    upgrade(url)
    monkeypatch.setenv("DATABASE_URL", url)
    for name in ("NEWSLETTER_WEBHOOK_URL", "LEADS_WEBHOOK_URL", "SMTP_HOST"):
        monkeypatch.delenv(name, raising=False)
    return sa.create_engine(url)


# --- the forms' shape matches domain.yml and the rules


def test_forms_and_slots_agree_with_the_domain(domain):
    assert {f: s["required_slots"] for f, s in domain["forms"].items()} == {f: list(s) for f, s in FORM_SLOTS.items()}
    for slots in FORM_SLOTS.values():
        for slot in slots:
            assert domain["slots"][slot]["influence_conversation"] is False
            assert f"action_ask_{slot}" in domain["actions"]
    for form in FORM_SLOTS:
        assert f"validate_{form}" in domain["actions"]


def test_every_form_steps_aside_for_exactly_the_intents_it_answers():
    rules = yaml.safe_load((ROOT / "data" / "rules_supporters.yml").read_text(encoding="utf-8"))["rules"]
    interruption_rules = [r for r in rules if any(s.get("action") == "action_answer_interruption" for s in r["steps"])]
    assert {r["condition"][0]["active_loop"] for r in interruption_rules} == set(FORM_SLOTS)
    for rule in interruption_rules:
        assert {step["intent"] for step in rule["steps"][0]["or"]} == set(ANSWERABLE_MID_FORM)


# --- reading answers


def test_every_form_has_the_messages_its_questions_can_need():
    from actions.forms import EMAIL, NAME, OPEN, OPTIONAL_NAME, SHORT, JourneyForm

    needed = {EMAIL: "invalid_email", NAME: "invalid_name", OPTIONAL_NAME: "invalid_name", SHORT: "invalid_text"}
    needed[OPEN] = "invalid_text"
    forms = {cls.form: cls() for cls in JourneyForm.__subclasses__()}
    assert set(forms) == set(FORM_SLOTS)
    for form, slots in FORM_SLOTS.items():
        messages = forms[form].messages()
        for kind in slots.values():
            if kind in needed:
                assert messages(needed[kind], reason="r"), (form, kind)


def test_an_address_in_the_first_message_is_used_and_an_invalid_one_ignored():
    _, events = run(ValidateUnsubscribeForm(), tracker("unsubscribe Jo@Example.COM please", "unsubscribe_newsletter"))
    assert slot_events(events) == {"unsubscribe_email": "jo@example.com"}
    _, events = run(ValidateNewsletterForm(), tracker("sign me up: jo@", "subscribe_newsletter"))
    assert events == []


def test_an_invalid_address_is_asked_again_with_the_reason():
    texts, events = run(
        ValidateNewsletterForm(), tracker("jo.example.com", slots={"requested_slot": "newsletter_email"})
    )
    assert slot_events(events) == {"newsletter_email": None}
    assert "@" in texts[0] and "type it again" in texts[0]


def test_a_question_mid_form_fills_nothing_so_the_form_steps_aside():
    slots = {"requested_slot": "newsletter_email"}
    assert run(ValidateNewsletterForm(), tracker("who founded IJM?", "ask_founder", slots=slots)) == ([], [])
    assert run(ValidateNewsletterForm(), tracker("never mind", "stop", slots=slots)) == ([], [])


def test_the_optional_first_name_can_be_skipped():
    slots = {"requested_slot": "newsletter_first_name"}
    _, events = run(ValidateNewsletterForm(), tracker("skip", slots=slots))
    assert slot_events(events) == {"newsletter_first_name": SKIPPED}
    # the model reads a bare "skip" as `stop`: for this question it is still the answer, not a way out
    _, events = run(ValidateNewsletterForm(), tracker("Skip", "stop", 0.99, slots=slots))
    assert slot_events(events) == {"newsletter_first_name": SKIPPED}
    assert run(ValidateNewsletterForm(), tracker("never mind", "stop", slots=slots)) == ([], [])
    _, events = run(ValidateNewsletterForm(), tracker("I'm Nora", "greet", 0.6, slots=slots))
    assert slot_events(events) == {"newsletter_first_name": "Nora"}


@pytest.mark.parametrize(
    ("text", "intent", "consent"),
    [("yes I agree", "affirm", True), ("no", "deny", False), ("nah not right now", "nlu_fallback", False),
     ("hmm", "nlu_fallback", None), ("hmm before i agree, how often do you send them", "nlu_fallback", None),
     ("sure but don't share my address", "affirm", None)],
)  # fmt: skip
def test_consent_is_true_only_for_a_clear_yes_and_a_doubt_is_asked_again(text, intent, consent):
    """A doubt or a question the assistant can't answer is neither consent nor a refusal: the question is asked
    again (with a word on why), and the sign-up is not dropped."""
    asked = tracker(text, intent, slots={"requested_slot": "newsletter_consent"})
    messages, events = run(ValidateNewsletterForm(), asked)
    assert slot_events(events) == {"newsletter_consent": consent}
    assert bool(messages) == (consent is None)


def test_a_question_at_the_consent_step_is_answered_not_taken_for_a_no():
    slots = {"requested_slot": "newsletter_consent"}
    asked = tracker("wait what is the 7.3 million number about", "ask_impact", 1.0, slots=slots)
    assert run(ValidateNewsletterForm(), asked) == ([], [])


def test_the_kind_of_fundraiser_comes_from_the_entity_or_the_text():
    slots = {"requested_slot": "lead_event_kind"}
    entity = [{"entity": "fundraiser_kind", "value": "challenge"}]
    _, events = run(ValidateFundraiserForm(), tracker("a polar dip", "fundraise", slots=slots, entities=entity))
    assert slot_events(events) == {"lead_event_kind": "challenge"}
    _, events = run(ValidateFundraiserForm(), tracker("a gala dinner", slots=slots))
    assert slot_events(events) == {"lead_event_kind": "a gala dinner"}


def test_the_consent_question_shows_and_remembers_the_sentence_from_content():
    texts, events = run(ActionAskNewsletterConsent(), tracker("kim", slots={}))
    assert consent_sentence() in texts[0]
    assert "International Justice Mission Canada" in consent_sentence() and "unsubscribe" in consent_sentence()
    assert slot_events(events) == {CONSENT_SHOWN_SLOT: consent_sentence()}


# --- saving


def newsletter_slots(consent: bool = True, **extra) -> dict[str, Any]:
    return {
        "newsletter_email": "kim@example.org",
        "newsletter_first_name": "Kim",
        "newsletter_consent": consent,
        CONSENT_SHOWN_SLOT: "the sentence shown",
        **extra,
    }


def test_a_sign_up_is_stored_with_its_consent_once_then_recognised(database):
    texts, events = run(ActionSubmitNewsletter(), tracker("yes", "affirm", slots=newsletter_slots()))
    assert "Kim" in texts[0] and "kim@example.org" in texts[0]
    assert all(value is None for value in slot_events(events).values())
    texts, _ = run(ActionSubmitNewsletter(), tracker("yes", "affirm", slots=newsletter_slots()))
    assert "already" in texts[0]
    with database.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT email, first_name, action, consent_text, conversation_id, channel FROM newsletter_records")
        ).all()
    assert rows == [("kim@example.org", "Kim", "subscribe", "the sentence shown", "conversation-1", "rest")]


def test_a_declined_consent_stores_nothing(database):
    texts, _ = run(ActionSubmitNewsletter(), tracker("no", "deny", slots=newsletter_slots(consent=False)))
    assert "haven't signed you up" in texts[0]
    with database.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM newsletter_records")).scalar() == 0


def test_unsubscribing_is_recorded_and_confirmed(database):
    run(ActionSubmitNewsletter(), tracker("yes", "affirm", slots=newsletter_slots()))
    texts, _ = run(ActionSubmitUnsubscribe(), tracker("x", slots={"unsubscribe_email": "kim@example.org"}))
    assert texts[0].startswith("Done") and "kim@example.org" in texts[0]
    texts, _ = run(ActionSubmitUnsubscribe(), tracker("x", slots={"unsubscribe_email": "nobody@example.org"}))
    assert "couldn't find a sign-up" in texts[0]
    with database.connect() as connection:
        actions = connection.execute(sa.text("SELECT email, action FROM newsletter_records ORDER BY id")).all()
    assert actions == [
        ("kim@example.org", "subscribe"),
        ("kim@example.org", "unsubscribe"),
        ("nobody@example.org", "unsubscribe"),
    ]


def test_a_database_failure_is_said_and_nothing_claimed(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'no-tables.db'}")  # never migrated
    texts, _ = run(ActionSubmitNewsletter(), tracker("yes", "affirm", slots=newsletter_slots()))
    assert "couldn't save" in texts[0] and "Nothing was recorded" in texts[0]


def test_leads_media_and_messages_are_stored_for_the_right_team(database):
    lead = {
        "lead_name": "Dana",
        "lead_email": "dana@example.com",
        "lead_event_kind": "birthday",
        "lead_event_date": "May",
    }
    texts, _ = run(ActionSubmitFundraiserLead(), tracker("May", slots=lead))
    assert texts == ["Thank you for signing up to learn more about starting a fundraiser. We will be in touch soon!"]
    media = {
        "media_name": "Alex",
        "media_email": "alex@example.com",
        "media_outlet": "Example Times",
        "media_deadline": "Friday",
        "media_question": "<b>How</b> has the work changed?",
    }
    texts, _ = run(ActionSubmitMedia(), tracker("x", slots=media))
    assert "follow up with you soon" in texts[0]
    message = {"message_name": "Sam", "message_email": "sam@example.com", "message_text": "Where is my tax receipt?"}
    texts, _ = run(ActionSubmitMessage(), tracker("x", slots=message))
    assert "donor care" in texts[0]
    with database.connect() as connection:
        rows = connection.execute(sa.text("SELECT kind, team, name, details FROM enquiries ORDER BY id")).all()
    assert [(r.kind, r.team, r.name) for r in rows] == [
        ("fundraiser", "events", "Dana"),
        ("media", "media", "Alex"),
        ("message", "donor_care", "Sam"),
    ]
    assert "Birthday fundraiser" in rows[0].details and "<b>How</b>" in rows[1].details


# --- answers


def test_birthday_fundraiser_gets_only_the_birthday_tips():
    entity = [{"entity": "fundraiser_kind", "value": "birthday"}]
    texts, events = run(ActionFundraisingIdeas(), tracker("a birthday fundraiser", "fundraise", entities=entity))
    kinds = fundraising_content().kinds
    assert all(tip in texts[0] for tip in kinds["birthday"].tips)
    assert not any(tip in texts[0] for tip in kinds["school"].tips)
    assert "/go/fundraising_guide?c=conversation-1" in texts[1] and "events@ijm.ca" in texts[1]
    assert slot_events(events) == {"lead_event_kind": "birthday"}


def test_a_follow_up_to_the_ideas_gets_the_guide_the_events_team_and_the_offer_not_the_ideas_again():
    texts, events = run(ActionFundraisingIdeas(), tracker("is there a guide or something", "nlu_fallback"))
    assert len(texts) == 3
    content = fundraising_content()
    assert content.headline in texts[0] and all(kind.title in texts[0] for kind in content.kinds.values())
    assert "25 Tips for the Novice Fundraiser" in texts[1] and "events@ijm.ca" in texts[1]
    assert texts[2] == content.message("offer")
    assert not any(kind.tips[0] in text for kind in content.kinds.values() for text in texts)
    assert events == []  # the kind named with the ideas is kept for the lead form


def test_how_can_i_fundraise_gets_every_kind():
    texts, events = run(ActionFundraisingIdeas(), tracker("how can I fundraise", "fundraise"))
    for kind in fundraising_content().kinds.values():
        assert kind.title in texts[0] and kind.tips[0] in texts[0]
    assert slot_events(events) == {"lead_event_kind": None}


def test_talk_to_a_person_lists_the_teams_and_offers_a_message():
    texts, _ = run(ActionOfferContacts(), tracker("can I talk to someone", "talk_to_person"))
    assert "events@ijm.ca" in texts[0] and "donor care" in texts[0]
    assert "take a message" in texts[1]


def test_an_interruption_is_answered_without_starting_another_form():
    texts, _ = run(ActionAnswerInterruption(), tracker("how do I fundraise?", "fundraise"))
    assert len(texts) == 2 and "events@ijm.ca" in texts[1]
    texts, events = run(ActionAnswerInterruption(), tracker("when did IJM start?", "ask_founding"))
    assert texts and slot_events(events).get("fact_topic")
    texts, _ = run(ActionAnswerInterruption(), tracker("thanks", "thank"))
    assert texts == ["utter_you_are_welcome"]


def test_a_vague_question_in_the_middle_of_the_fundraiser_form_is_about_fundraising():
    """ "wait what's the free guide called?" while the form asks for a name: the guide and the events team, not the
    topic menu; a question a card answers surely is still that card's."""
    vague = tracker("wait what's the free guide called?", "ask_followup", 0.64)
    vague.active_loop = {"name": "fundraiser_form"}
    texts, _ = run(ActionAnswerInterruption(), vague)
    assert any("25 Tips for the Novice Fundraiser" in t and "events@ijm.ca" in t for t in texts)
    assert not any("Birthday fundraiser:" in t for t in texts)  # not the ideas again
    outside = tracker("wait what's the free guide called?", "ask_followup", 0.64)  # no form: not for this rule
    texts, _ = run(ActionAnswerInterruption(), outside)
    assert not any("25 Tips" in t for t in texts)


def test_cancelling_forgets_every_form_answer():
    texts, events = run(ActionFormCancelled(), tracker("never mind", "stop"))
    assert "Nothing from that form was saved" in texts[0]
    assert set(slot_events(events)) == {s for slots in FORM_SLOTS.values() for s in slots}


@pytest.mark.parametrize("slot", ["newsletter_email", "newsletter_first_name", "newsletter_consent"])
def test_a_privacy_question_in_a_form_is_answered_and_the_question_asked_again(slot):
    """ "what will you do with my email?" is not a mistyped address (nor a name, nor a no)."""
    messages, events = run(
        ValidateNewsletterForm(), tracker("what will you do with my email?", slots={"requested_slot": slot})
    )
    assert slot_events(events) == {slot: None}
    assert "erased" in messages[0] and "info@ijm.ca" in messages[0]


def test_a_yes_where_a_name_was_asked_is_not_taken_for_a_name():
    slots = {"requested_slot": "lead_name"}
    messages, events = run(ValidateFundraiserForm(), tracker("ok sure why not", "affirm", 0.99, slots=slots))
    assert slot_events(events) == {"lead_name": None} and messages
    _, events = run(ValidateFundraiserForm(), tracker("Rene", "affirm", 0.77, slots=slots))
    assert slot_events(events) == {"lead_name": "Rene"}  # a name the model reads as yes stays a name


def test_the_offers_words_typed_right_after_it_take_it():
    from actions.enquiries import ActionOfferContacts

    def said_after_offer(text: str, last_action: str = "action_offer_contacts") -> Tracker:
        events = [{"event": "user", "text": "can i talk to a person"}, {"event": "action", "name": last_action},
                  {"event": "action", "name": "action_listen"}, {"event": "user", "text": text}]  # fmt: skip
        message = {"text": text, "intent": {"name": "talk_to_person", "confidence": 0.99}, "entities": []}
        return Tracker("unit", {}, message, events, False, None, {}, "action_listen")

    messages, events = run(ActionOfferContacts(), said_after_offer("yes, I'd like to leave a message"))
    assert messages == [] and events[-1] == {"event": "followup", "name": "message_form", "timestamp": None}
    direct = said_after_offer("can i leave a message for the team", "action_answer_fact")
    asked, events = run(ActionOfferContacts(), direct)
    assert asked == [] and events[-1]["name"] == "message_form"  # asking for the form itself, before any offer
    for text, last in (("what's the email", "action_offer_contacts"), ("can i talk to someone", "action_answer_fact")):
        messages, events = run(ActionOfferContacts(), said_after_offer(text, last))
        assert "info@ijm.ca" in messages[0] and not any(e.get("event") == "followup" for e in events)


def test_an_activity_the_visitor_names_is_the_leads_kind_and_is_not_asked_again():
    """ "a car wash fundraiser" is none of the kinds with tips: all the ideas are shown, and the lead form, if
    accepted, takes "car wash" as the kind; a kind it knows stays that kind."""
    _, events = run(
        ActionFundraisingIdeas(), tracker("We'd love to do a car wash fundraiser in the spring", "fundraise")
    )
    assert slot_events(events) == {"lead_event_kind": "car wash"}
    birthday = [{"entity": "fundraiser_kind", "value": "birthday"}]
    _, events = run(ActionFundraisingIdeas(), tracker("a birthday bake sale", "fundraise", entities=birthday))
    assert slot_events(events) == {"lead_event_kind": "birthday"}
    _, events = run(ActionFundraisingIdeas(), tracker("I want to organize a fundraiser", "fundraise"))
    assert slot_events(events) == {"lead_event_kind": None}


def test_an_address_signed_up_already_ends_the_sign_up_at_once_and_writes_nothing(database):
    run(ActionSubmitNewsletter(), tracker("yes", "affirm", slots=newsletter_slots()))  # kim@example.org signs up
    _, events = run(ValidateNewsletterForm(), tracker("KIM@example.org", slots={"requested_slot": "newsletter_email"}))
    filled = slot_events(events)
    assert filled["newsletter_email"] == "kim@example.org" and filled["newsletter_consent"] == ALREADY_SIGNED_UP
    texts, _ = run(ActionSubmitNewsletter(), tracker("x", slots={**filled, CONSENT_SHOWN_SLOT: None}))
    assert "already signed up" in texts[0]
    with database.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM newsletter_records")).scalar() == 1
    _, events = run(ValidateNewsletterForm(), tracker("new@example.org", slots={"requested_slot": "newsletter_email"}))
    assert slot_events(events) == {"newsletter_email": "new@example.org"}  # a new address goes on to the name


def test_an_address_given_at_a_later_question_replaces_the_first():
    slots = {"requested_slot": "newsletter_first_name", "newsletter_email": "dtremblay@gmial.com"}
    texts, events = run(ValidateNewsletterForm(), tracker("oops wrong email, it's dtremblay@gmail.com", slots=slots))
    assert slot_events(events) == {"newsletter_email": "dtremblay@gmail.com", "newsletter_first_name": None}
    assert "dtremblay@gmail.com" in texts[0]
    message_slots = {"requested_slot": "message_text", "message_email": "a@example.org"}
    _, events = run(ValidateMessageForm(), tracker("please write to my colleague b@example.org", slots=message_slots))
    assert slot_events(events) == {"message_text": "please write to my colleague b@example.org"}  # the message itself


def test_no_to_the_events_team_with_a_question_gets_the_guide_too():
    from actions.fundraising import ActionDeclineFundraiserHelp

    texts, _ = run(ActionDeclineFundraiserHelp(), tracker("nah i'll just read the guide first, what's it called again"))
    assert len(texts) == 2 and "25 Tips for the Novice Fundraiser" in texts[1]
    texts, _ = run(ActionDeclineFundraiserHelp(), tracker("no thanks", "deny"))
    assert len(texts) == 1
