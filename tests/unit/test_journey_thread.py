"""A short message right after a supporter journey's answer goes back to that journey (actions/journey_thread.py)."""

from __future__ import annotations

import asyncio

import pytest
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import ActionFallbackTopics, ActionOutOfScopeTopics
from actions.donate import ActionDonate
from actions.enquiries import ActionOfferContacts
from actions.journey_thread import last_bot_action
from actions.knowledge import ActionAnswerFact
from actions.unknown import ActionAnswerUnknownFact
from bot.content.contacts import contacts
from bot.content.facts import facts


def after(action: str, intent: str, text: str, card_score: float = 0.3, entities: list | None = None) -> Tracker:
    """The tracker of `text`, sent right after the assistant ran `action`."""
    card = facts().card("haugen_lawyer")
    label = facts().label(card)
    verdict = {"card": card.key, "label": label, "unsure": card_score < 0.5, "score": card_score,
               "ranking": [{"label": label, "score": card_score, "selector": card_score, "lexical": 0.3}]}  # fmt: skip
    message = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": entities or [],
               "fact_card": verdict}  # fmt: skip
    events = [
        {"event": "user", "text": "the journey's question"},
        {"event": "action", "name": action},
        {"event": "bot", "text": "the journey's answer"},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": text},
    ]
    return Tracker("unit", {}, message, events, False, None, {}, "action_listen")


def run(action: Action, state: Tracker) -> tuple[list[dict], list]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, state, {}))
    return dispatcher.messages, events


def followed_by(events: list) -> str | None:
    return next((e["name"] for e in events if e.get("event") == "followup"), None)


@pytest.mark.parametrize(
    ("journey", "action", "intent", "text", "expected"),
    [
        ("action_fundraising_ideas", ActionOutOfScopeTopics(), "out_of_scope", "there is some document for help me?",
         "action_fundraising_ideas"),
        ("action_fundraising_ideas", ActionAnswerFact(), "ask_founder", "never done one before, any help?",
         "action_fundraising_ideas"),
        ("action_answer_matching", ActionFallbackTopics(), "nlu_fallback", "ok give me the link", "action_donate"),
        ("action_offer_contacts", ActionAnswerUnknownFact(), "ask_ijm_unknown", "and the address?",
         "action_offer_contacts"),
        ("action_donate", ActionDonate(), "nlu_fallback", "and if I have other questions, where do I write?",
         "action_offer_contacts"),
        ("action_fundraising_ideas", ActionOfferContacts(), "talk_to_person", "anything i can read in the meantime?",
         "action_fundraising_ideas"),
    ],
)  # fmt: skip
def test_a_short_message_right_after_a_journey_is_that_journeys_follow_up(journey, action, intent, text, expected):
    messages, events = run(action, after(journey, intent, text))
    assert followed_by(events) == expected
    assert messages == []


def test_a_question_about_the_gift_the_link_does_not_answer_gets_the_donor_contact():
    messages, events = run(ActionAnswerUnknownFact(), after("action_donate", "ask_ijm_unknown", "is it tax deductible"))
    assert followed_by(events) is None and messages[0]["text"].startswith(contacts().unknown_message)
    messages, events = run(ActionDonate(), after("action_donate", "ask_followup", "is it tax deductible"))
    care = contacts().get("donor_care")
    assert followed_by(events) is None and messages[0]["text"].startswith(contacts().unknown_message)
    assert care.name in messages[0]["text"]


def test_only_right_after_a_journey():
    messages, events = run(ActionOutOfScopeTopics(), after("action_answer_fact", "out_of_scope", "any document?"))
    assert followed_by(events) is None and messages


def test_a_long_message_a_named_place_or_a_button_is_a_question_of_its_own():
    long = "I was wondering what Gary Haugen did for a living before he founded IJM"
    _, events = run(ActionAnswerFact(), after("action_fundraising_ideas", "ask_founder", long))
    assert followed_by(events) is None
    place = [{"entity": "place", "value": "India"}]
    _, events = run(ActionAnswerFact(), after("action_donate", "ask_event", "and in india?", entities=place))
    assert followed_by(events) is None
    _, events = run(ActionFallbackTopics(), after("action_donate", "nlu_fallback", '/ask_event{"card": "x"}'))
    assert followed_by(events) is None


def test_a_card_the_nlu_is_sure_of_is_answered_even_right_after_a_journey():
    messages, events = run(
        ActionAnswerFact(), after("action_fundraising_ideas", "ask_founder", "was he a lawyer?", 0.9)
    )
    assert followed_by(events) is None
    assert messages[0]["text"].startswith(facts().card("haugen_lawyer").answer)


def test_the_last_action_is_the_one_before_the_latest_message():
    assert last_bot_action(after("action_donate", "affirm", "yes")) == "action_donate"
    state = after("action_donate", "affirm", "yes")
    state.events.append({"event": "user", "text": "a second message"})  # two in a row: the first went unanswered
    assert last_bot_action(state) is None
    assert last_bot_action(Tracker("unit", {}, {}, [], False, None, {}, "action_listen")) is None


def test_the_link_again_reaches_back_to_the_last_journey_that_gave_one_with_its_amount():
    """ "$25 once" → the link; a newsletter sign-up; "ok np. can you send me that link again" → the same gift's link."""
    from actions.donate import gift_asked
    from actions.journey_thread import journey_in_thread

    gift = {"event": "user", "text": "i'd like to donate $25 once",
            "parse_data": {"entities": [{"entity": "frequency", "value": "one_time"}]}}  # fmt: skip
    events = [
        gift,
        {"event": "action", "name": "action_donate"},
        {"event": "bot", "text": "Here is the donation form with $25, a one-time gift filled in"},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "oh and do you have a newsletter"},
        {"event": "action", "name": "newsletter_form"},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "nah"},
        {"event": "action", "name": "action_submit_newsletter"},
        {"event": "action", "name": "action_listen"},
    ]
    again = "ok np. can you send me that link again"
    message = {"text": again, "intent": {"name": "ask_followup", "confidence": 0.96}, "entities": []}
    state = Tracker("unit", {}, message, [*events, {"event": "user", "text": again}], False, None, {}, "action_listen")
    assert journey_in_thread(state) == "action_donate"
    assert gift_asked(state) == ("i'd like to donate $25 once", "one_time")
    # a message that does not ask for the link again is read as it is, and is no follow-up so long after
    other = {"text": "what year did IJM start", "intent": {"name": "ask_founding", "confidence": 0.9}, "entities": []}
    state = Tracker("unit", {}, other, [*events, {"event": "user", "text": other["text"]}], False, None, {}, "x")
    assert journey_in_thread(state) is None and gift_asked(state) == ("what year did IJM start", None)


def test_a_question_about_the_gift_right_after_the_link_gives_the_same_gift_again():
    """ "$40/month" → the link; "wait is that monthly for sure" (read as yes) → the link again, with the $40."""
    from actions.conversation import ActionNothingPending
    from actions.donate import gift_asked

    gift = {"event": "user", "text": "id like to give $40/month",
            "parse_data": {"entities": [{"entity": "frequency", "value": "monthly"}]}}  # fmt: skip
    asked = "wait is that monthly for sure"
    message = {"text": asked, "intent": {"name": "affirm", "confidence": 0.47},
               "entities": [{"entity": "frequency", "value": "monthly"}]}  # fmt: skip
    events = [gift, {"event": "action", "name": "action_donate"}, {"event": "action", "name": "action_listen"},
              {"event": "user", "text": asked}]  # fmt: skip
    state = Tracker("unit", {}, message, events, False, None, {}, "action_listen")
    messages, followed = run(ActionNothingPending(), state)
    assert followed_by(followed) == "action_donate" and messages == []
    assert gift_asked(state) == ("id like to give $40/month", "monthly")
    plain_yes = {**message, "text": "yes"}
    messages, followed = run(ActionNothingPending(), Tracker("unit", {}, plain_yes, events, False, None, {}, "x"))
    assert followed_by(followed) is None and messages  # a plain yes is still "OK! anything else?"


@pytest.mark.parametrize(
    ("text", "takes_it"),
    [("can your team help us plan it?", True), ("could someone from the events team call me?", True),
     ("who do i email about it", False), ("can i email you about it?", False)],
)  # fmt: skip
def test_asking_for_the_teams_help_right_after_the_ideas_takes_the_offer(text, takes_it):
    from actions.fundraising import ActionFundraisingIdeas

    messages, events = run(ActionFundraisingIdeas(), after("action_fundraising_ideas", "ask_followup", text))
    assert (followed_by(events) == "fundraiser_form") is takes_it
    assert bool(messages) is not takes_it  # the form asks its first question; otherwise the guide and the offer again


def test_asking_about_the_frequency_keeps_the_gift_and_saying_it_changes_it():
    from actions.donate import gift_asked

    gift = {"event": "user", "text": "id like to give $40 once",
            "parse_data": {"entities": [{"entity": "frequency", "value": "one_time"}]}}  # fmt: skip

    def then(text: str) -> Tracker:
        message = {"text": text, "intent": {"name": "affirm", "confidence": 0.5},
                   "entities": [{"entity": "frequency", "value": "monthly"}]}  # fmt: skip
        events = [gift, {"event": "action", "name": "action_donate"}, {"event": "action", "name": "action_listen"},
                  {"event": "user", "text": text}]  # fmt: skip
        return Tracker("unit", {}, message, events, False, None, {}, "action_listen")

    assert gift_asked(then("wait is that monthly?")) == ("id like to give $40 once", "one_time")
    assert gift_asked(then("actually make it monthly")) == ("id like to give $40 once", "monthly")
    assert gift_asked(then("can you make it monthly instead?")) == ("id like to give $40 once", "monthly")


def test_a_contact_asked_for_right_after_the_link_gets_the_contacts():
    from actions.journey_thread import journey_in_thread

    assert journey_in_thread(after("action_donate", "ask_followup", "ok and what's the events email")) == (
        "action_offer_contacts"
    )
    assert journey_in_thread(after("action_donate", "ask_followup", "email me the link")) == "action_donate"
    from actions.donate import ActionDonate  # the rules send a follow-up after the link to the link's action

    messages, events = run(ActionDonate(), after("action_donate", "nlu_fallback", "ok and what's the events email"))
    assert followed_by(events) == "action_offer_contacts" and messages == []


def test_a_message_not_understood_right_after_the_safety_answer_gets_the_help_again():
    """ "he's in the next room" after a disclosure: the numbers again, never the topic menu."""
    messages, _ = run(ActionFallbackTopics(), after("action_safety_help", "nlu_fallback", "he's in the next room"))
    assert len(messages) == 1 and "1-833-900-1010" in messages[0]["text"] and "911" in messages[0]["text"]
    messages, _ = run(ActionFallbackTopics(), after("action_answer_fact", "nlu_fallback", "he's in the next room"))
    assert not any("1-833-900-1010" in (m.get("text") or "") for m in messages)


def test_questions_about_the_matching_campaign_get_its_end_or_the_donor_contact():
    from datetime import date

    from actions.donate import matching_detail_reply
    from bot.donations.content import donate_content

    content = donate_content()
    running = content.campaign.ends
    ends = matching_detail_reply(content, "until when are the matching funds available", "LINK", running)
    assert ends is not None and f"{running:%B} {running.day}, {running.year}" in ends and "LINK" in ends
    source = matching_detail_reply(content, "who is providing the matching funds?", "LINK", running)
    assert source is not None and source.startswith(contacts().unknown_message)
    assert contacts().get("donor_care").name in source
    assert matching_detail_reply(content, "is my gift matched?", "LINK", running) is None
    after_it = date.fromordinal(running.toordinal() + 1)
    assert matching_detail_reply(content, "until when are the matching funds available", "LINK", after_it) is None


@pytest.mark.parametrize(
    ("text", "link"),
    [("is my donation to ijm canada tax deductible", False), ("I'd like to give $50, do I get a tax receipt?", True)],
)
def test_a_tax_question_gets_the_donor_contact_and_the_link_only_when_giving_too(text, link):
    from actions.donate import ActionDonate

    state = Tracker("unit", {}, {"text": text, "intent": {"name": "donate", "confidence": 0.6}, "entities": []}, [],
                    False, None, {}, "action_listen")  # fmt: skip
    messages, _ = run(ActionDonate(), state)
    if link:
        assert "Donate now" in messages[-2]["text"] and contacts().get("donor_care").name in messages[-1]["text"]
    else:
        assert len(messages) == 1 and messages[0]["text"].startswith(contacts().unknown_message)
        assert contacts().get("donor_care").name in messages[0]["text"] and "Donate now" not in messages[0]["text"]


def test_asking_how_to_help_gets_the_gift_first_then_the_other_ways_and_the_link_again_after():
    """ "how can i help" (a cue marks it): the donation link, then fundraising, e-mail updates and volunteering as
    buttons; "send me that link again" right after gets the donation link."""
    from actions.journey_thread import journey_in_thread
    from bot.donations.content import donate_content

    message = {"text": "how can i help", "intent": {"name": "donate", "confidence": 0.9}, "entities": [],
               "request": "ways_to_help"}  # fmt: skip
    state = Tracker("unit", {}, message, [{"event": "user", "text": "how can i help"}], False, None, {}, "x")
    [reply], _ = run(ActionDonate(), state)
    assert "Donate now](" in reply["text"] and "/go/donate?c=unit" in reply["text"]
    assert [b["payload"] for b in reply["buttons"]] == [p for _, p in donate_content().ways_to_help]
    assert {"/fundraise", "/subscribe_newsletter", "/ask_volunteer"} <= {b["payload"] for b in reply["buttons"]}
    # the same message unmarked is a gift: the link, without the other ways
    plain = dict(message, request=None)
    replies, _ = run(ActionDonate(), Tracker("unit", {}, plain, state.events, False, None, {}, "x"))
    assert all(not m.get("buttons") for m in replies) and "Thank you for wanting to give" in replies[-1]["text"]
    # an amount named with it is a gift of that amount
    gift = dict(message, text="i want to help, $50")
    replies, _ = run(ActionDonate(), Tracker("unit", {}, gift, state.events, False, None, {}, "x"))
    assert "amount=50" in replies[-1]["text"]
    again = after("action_donate", "ask_followup", "send me that link again")
    assert journey_in_thread(again) == "action_donate"


def test_a_kind_picked_right_after_the_ideas_gets_its_tips_whatever_diet_read():
    """ "i like the birthday one" right after the fundraiser ideas (read as the 25th anniversary, surely): the
    birthday fundraiser's tips; "Also where did Gary actually start IJM?" right after the link names a topic of its
    own: its card, not the link again."""
    from actions.fundraising import ActionFundraisingIdeas
    from actions.journey_thread import picks_a_fundraiser_kind
    from bot.content.supporters import fundraising_content

    kind = [{"entity": "fundraiser_kind", "value": "birthday"}]
    state = after("action_fundraising_ideas", "ask_anniversary", "i like the birthday one", card_score=0.65,
                  entities=kind)  # fmt: skip
    assert picks_a_fundraiser_kind(state)
    _, events = run(ActionAnswerFact(), state)
    assert followed_by(events) == "action_fundraising_ideas"
    messages, _ = run(ActionFundraisingIdeas(), state)
    birthday = fundraising_content().kinds["birthday"]
    assert any(birthday.title in m["text"] for m in messages)
    assert not any(fundraising_content().kinds["online"].title in m["text"] for m in messages)  # that kind only
    # ...not after another answer
    assert not picks_a_fundraiser_kind(after("action_donate", "ask_anniversary", "i like the birthday one",
                                             entities=kind))  # fmt: skip
    gary = after("action_donate", "ask_founder", "Also where did Gary actually start IJM?", card_score=0.58)
    gary.latest_message["fact_card"]["topic_words"] = {"gary": "founder"}
    _, events = run(ActionAnswerFact(), gary)
    assert followed_by(events) is None


def test_asking_for_the_guide_in_a_longer_message_after_the_ideas_gets_the_guide():
    """ "Lovely, thank you. What was the title of that free guide you mentioned?" (its question part, after the
    question guard) right after the fundraiser ideas: the guide, not "You're welcome"."""
    from actions.journey_thread import journey_in_thread

    question = "What was the title of that free guide you mentioned?"
    text = f"Lovely, thank you so much for all of that, it really helps. {question}"
    state = after("action_fundraising_ideas", "nlu_fallback", text)
    state.latest_message["question_part"] = question
    assert journey_in_thread(state) == "action_fundraising_ideas"
    # ...but a long message about something else is a question of its own
    other = after("action_fundraising_ideas", "nlu_fallback", "Lovely, thank you. Where did Gary Haugen work before?")
    assert journey_in_thread(other) is None
