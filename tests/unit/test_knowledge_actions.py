"""The history, unknown-fact and safety actions, with rasa_sdk's Tracker and CollectingDispatcher."""

from __future__ import annotations

import asyncio

import pytest
from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import knowledge
from actions.conversation import (
    ActionFallbackTopics,
    ActionListCapabilities,
    ActionNothingPending,
    ActionOutOfScopeTopics,
)
from actions.knowledge import CARD_SLOT, TOPIC_SLOT, ActionAnswerFact, ActionTellMore, card_payload
from actions.safety import SAFETY_TIER_SLOT, ActionReportInfo, ActionSafetyHelp
from actions.unknown import ActionAnswerRequest, ActionAnswerUnknownFact
from bot.content.assistant import assistant_content
from bot.content.contacts import contacts
from bot.content.facts import facts
from bot.content.safety import safety_content


def tracker(
    intent: str, text: str = "", entities: list[dict] | None = None, parse: dict | None = None, **slots
) -> Tracker:
    message = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.99},
        "entities": entities or [],
        **(parse or {}),
    }
    return Tracker("unit", slots, message, [], False, None, {}, "action_listen")


def verdict(*labels: str, unsure: bool = False, lexical: float = 0.5) -> dict:
    """What bot/nlu/card_matcher.py writes into the parse data."""
    ranking = [
        {"label": label, "score": 0.9 - i / 10, "selector": 0.5, "lexical": lexical} for i, label in enumerate(labels)
    ]
    return {"fact_card": {"card": labels[0].split("/")[1], "label": labels[0], "unsure": unsure, "ranking": ranking}}


def scored(*cards: tuple[str, float]) -> dict:
    """A verdict with the given cards' scores, best first."""
    ranking = [{"label": label(key), "score": score, "selector": score, "lexical": 0.5} for key, score in cards]
    return {"fact_card": {"card": cards[0][0], "label": label(cards[0][0]), "unsure": False, "score": cards[0][1],
                          "ranking": ranking}}  # fmt: skip


def label(key: str) -> str:
    return facts().label(facts().card(key))


def run(action: Action, state: Tracker) -> tuple[list[dict], list]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, state, {}))
    return dispatcher.messages, events


def entity(name: str, value: str) -> dict:
    return {"entity": name, "value": value}


def answered(messages: list[dict], key: str) -> bool:
    return messages[0]["text"].startswith(facts().card(key).answer)


@pytest.mark.parametrize("topic", [t for t in facts().topics.values() if t.intents], ids=lambda t: t.key)
def test_a_topic_intent_with_no_card_verdict_gets_its_summary_card_a_read_more_link_and_a_more_button(topic):
    messages, events = run(ActionAnswerFact(), tracker(topic.intents[0]))
    summary = facts().summary(topic)

    assert len(messages) == 1
    assert answered(messages, summary.key)
    assert facts().article_url in messages[0]["text"]
    assert messages[0]["buttons"] == [{"title": "Tell me more", "payload": "/ask_more"}]
    assert events == [SlotSet(TOPIC_SLOT, topic.key), SlotSet(CARD_SLOT, summary.key)]


def test_the_card_the_nlu_chose_is_the_answer_whatever_the_topic_intent():
    parse = verdict(label("cambodia_37_girls"), label("cambodia_first_rescue"))
    messages, events = run(ActionAnswerFact(), tracker("ask_founding", "how old were the girls in 2003?", parse=parse))
    assert answered(messages, "cambodia_37_girls")
    assert SlotSet(CARD_SLOT, "cambodia_37_girls") in events


def test_a_button_naming_a_card_answers_exactly_that_card():
    card = facts().card("gates_result_79")
    payload = card_payload(facts(), card)
    assert payload == '/ask_event{"card": "gates_result_79"}'
    messages, _ = run(ActionAnswerFact(), tracker("ask_event", payload, [entity("card", "gates_result_79")]))
    assert answered(messages, "gates_result_79")


def test_when_unsure_the_visitor_is_asked_with_the_likeliest_cards_as_buttons():
    labels = (label("founding_year"), label("gary_haugen"), label("ijm_name"), label("guest_bedroom"))
    messages, events = run(ActionAnswerFact(), tracker("ask_founding", "start?", parse=verdict(*labels, unsure=True)))
    assert messages[0]["text"] == facts().message("did_you_mean")
    assert [b["payload"] for b in messages[0]["buttons"]] == [
        card_payload(facts(), facts().card(k)) for k in ("founding_year", "gary_haugen", "ijm_name")
    ]
    assert events == []


def test_when_unsure_a_named_place_narrows_the_choice_to_its_topic():
    parse = verdict(label("offices_2000"), label("cambodia_office"), unsure=True)
    messages, _ = run(
        ActionAnswerFact(), tracker("ask_event", "office in Cambodia?", [entity("place", "Cambodia")], parse)
    )
    assert answered(messages, "cambodia_office")


@pytest.mark.parametrize(
    ("entities", "expected"),
    [
        ([entity("place", "Cambodia")], "cambodia"),
        ([entity("place", "phnom penh")], "cambodia"),
        ([entity("place", "Philippines")], "philippines"),
        ([entity("place", "Dominican Republic")], "dominican_republic"),
        ([entity("year", "2010")], "philippines"),
        ([entity("year", "2020")], "india"),
        ([entity("event", "brick_kiln")], "india"),
        ([entity("event", "gates_project")], "philippines"),
        # the most specific wins: a named event before a place before a year
        ([entity("year", "2000"), entity("event", "child_marriage")], "dominican_republic"),
    ],
)
def test_with_no_card_verdict_a_place_year_or_event_picks_a_card_of_the_right_topic(entities, expected):
    messages, events = run(ActionAnswerFact(), tracker("ask_event", "what happened?", entities))
    card = next(e["value"] for e in events if e["name"] == CARD_SLOT)
    assert facts().card(card).topic == expected
    assert answered(messages, card)


def test_a_year_the_article_does_not_cover_gets_an_honest_menu_not_a_guess():
    parse = verdict(label("ijm_story"), label("founding_year"))
    parse["fact_card"]["score"] = 0.5
    messages, events = run(
        ActionAnswerFact(), tracker("ask_event", "what happened in 1999", [entity("year", "1999")], parse)
    )
    assert messages[0]["text"] == facts().message("unknown_place_or_year")
    assert messages[0]["buttons"] and all(b["payload"].startswith("/ask_") for b in messages[0]["buttons"])
    assert events == []


def test_an_event_question_naming_nothing_offers_every_topic():
    messages, _ = run(ActionAnswerFact(), tracker("ask_event", "what happened back then?"))
    assert messages[0]["text"] == facts().message("pick_a_topic")
    assert len(messages[0]["buttons"]) == len(facts().topics)


@pytest.mark.parametrize(
    ("text", "last", "cards", "expected"),
    [
        # a sibling of the last card named clearly: answered from it
        ("how old were they?", "cambodia_first_rescue",
         (("twenty_five_years", 0.9), ("cambodia_37_girls", 1.1), ("gary_haugen", 0.7)), "cambodia_37_girls"),
        # "what year?" after the Phnom Penh rescue: 2003 is in its answer; the study of 2015 only scores a little
        # better than the other cards on two words, and the founding year (another topic) better still
        ("what year?", "phnom_penh_brothel",
         (("founding_year", 0.6), ("cambodia_73_percent", 0.5), ("phnom_penh_brothel", 0.1)), "phnom_penh_brothel"),
    ],
    ids=["a sibling named clearly", "nothing named clearly stays"],
)  # fmt: skip
def test_a_follow_up_moves_only_to_a_card_it_names_clearly(text, last, cards, expected):
    state = tracker("ask_followup", text, parse=scored(*cards), **{CARD_SLOT: last})
    messages, events = run(ActionAnswerFact(), state)
    assert answered(messages, expected)
    assert SlotSet(CARD_SLOT, expected) in events


def test_a_follow_up_moves_to_the_card_of_the_topic_whose_answer_has_its_words():
    # "office" matches the first offices of 2000 better, and the Cambodia office card only weakly, but its answer is
    # the one that says an office opened; the girls' card (the last) says nothing of it
    parse = scored(("offices_2000", 0.61), ("cambodia_office", 0.36), ("chennai_kenya", 0.3))
    state = tracker("ask_followup", "and when did they open an office there?", parse=parse,
                    **{CARD_SLOT: "cambodia_37_girls"})  # fmt: skip
    assert answered(run(ActionAnswerFact(), state)[0], "cambodia_office")


def test_a_topic_button_is_not_read_as_a_follow_up():
    messages, _ = run(ActionAnswerFact(), tracker("ask_field_offices", "/ask_field_offices",
                                                  **{CARD_SLOT: "founding_year"}))  # fmt: skip
    assert answered(messages, "offices_2000")


def test_a_follow_up_with_nothing_in_the_topic_repeats_the_last_card_rather_than_guess():
    state = tracker("ask_followup", "when was that?", parse=verdict(label("gary_haugen")), **{CARD_SLOT: "brick_kiln"})
    messages, _ = run(ActionAnswerFact(), state)
    assert answered(messages, "brick_kiln")


def test_a_follow_up_with_no_answer_before_it_asks_what_it_is_about():
    messages, events = run(ActionAnswerFact(), tracker("ask_followup", "how old were they?"))
    assert messages[0]["text"] == facts().message("follow_up_without_context")
    assert events == []


def test_a_short_question_pointing_back_prefers_the_last_cards_topic():
    # the lawyer card scores best on its own, but "he" points back to the founding, and the guest bedroom (its topic)
    # is named clearly enough to move to
    parse = scored(("haugen_lawyer", 1.2), ("guest_bedroom", 1.1))
    state = tracker("ask_founder", "where did he work from?", parse=parse, **{CARD_SLOT: "founding_year"})
    messages, _ = run(ActionAnswerFact(), state)
    assert answered(messages, "guest_bedroom")


def test_a_very_short_question_the_nlu_cannot_place_is_read_in_the_thread():
    parse = scored(("offices_2000", 0.44), ("chennai_kenya", 0.36))
    state = tracker("ask_field_offices", "which country?", parse=parse, **{CARD_SLOT: "child_marriage_bill"})
    messages, _ = run(ActionAnswerFact(), state)
    assert facts().card("child_marriage_bill").answer in messages[0]["text"]
    # ...but not a question that names its subject clearly
    parse = scored(("offices_2000", 0.95), ("chennai_kenya", 0.36))
    state = tracker("ask_field_offices", "first offices?", parse=parse, **{CARD_SLOT: "child_marriage_bill"})
    messages, _ = run(ActionAnswerFact(), state)
    assert answered(messages, "offices_2000")


def test_a_message_not_understood_right_after_a_card_is_tried_as_its_follow_up():
    parse = verdict(label("gates_result_79"), lexical=0.6)
    messages, _ = run(ActionFallbackTopics(), tracker("nlu_fallback", "and the result?", parse=parse,
                                                      **{CARD_SLOT: "gates_project"}))  # fmt: skip
    assert answered(messages, "gates_result_79")

    weak = verdict(label("gates_result_79"), lexical=0.1)
    messages, _ = run(
        ActionFallbackTopics(), tracker("nlu_fallback", "qwerty", parse=weak, **{CARD_SLOT: "gates_project"})
    )
    assert messages[0]["text"] == assistant_content().message("not_understood")

    # a pronoun points back, whatever the words match; not so for an out-of-scope message
    messages, _ = run(ActionFallbackTopics(), tracker("nlu_fallback", "did IJM have a role in it?", parse=weak,
                                                      **{CARD_SLOT: "child_marriage_bill"}))  # fmt: skip
    assert facts().card("child_marriage_bill").answer in messages[0]["text"]
    messages, _ = run(ActionOutOfScopeTopics(), tracker("out_of_scope", "is it cold there?", parse=weak,
                                                        **{CARD_SLOT: "child_marriage_bill"}))  # fmt: skip
    assert messages[0]["text"] == assistant_content().message("out_of_scope")


def test_a_question_about_trafficking_gets_its_fact_and_one_line_pointing_to_the_hotline():
    parse = verdict(label("cambodia_37_girls"))
    messages, _ = run(ActionAnswerFact(), tracker("ask_event", "how old were the girls in 2003?", parse=parse))
    assert safety_content().topic_line not in messages[0]["text"]
    messages, _ = run(ActionAnswerFact(), tracker("ask_event", "how many trafficked girls were rescued?", parse=parse))
    assert answered(messages, "cambodia_37_girls")
    assert safety_content().topic_line in messages[0]["text"]
    assert "1-833-900-1010" in safety_content().topic_line


def test_tell_me_more_walks_the_topics_cards_then_points_to_the_article():
    content = facts()
    founder = content.topic("founder")
    for key, following in zip(founder.cards, founder.cards[1:], strict=False):
        messages, events = run(ActionTellMore(), tracker("ask_more", **{CARD_SLOT: key}))
        assert answered(messages, following)
        assert SlotSet(CARD_SLOT, following) in events
    messages, events = run(ActionTellMore(), tracker("ask_more", **{CARD_SLOT: founder.cards[-1]}))
    assert messages[0]["text"] == content.message("nothing_more", title=founder.title, url=content.article_url)
    assert content.summary(founder).key not in str(messages[0]["buttons"])
    assert events == []


def test_tell_me_more_with_nothing_before_offers_the_topics():
    messages, events = run(ActionTellMore(), tracker("ask_more"))
    assert messages[0]["text"] == facts().message("pick_a_topic")
    assert events == []


@pytest.mark.parametrize(
    ("question", "contact"),
    [
        ("can I get a tax receipt for my gift?", "donor_care"),
        ("are you hiring right now", "careers"),
        ("any internships for students?", "careers"),  # a keyword's plural
        ("I'm a journalist, who handles press?", "media"),
        ("how much does the CEO earn", "general"),
    ],
)
def test_an_unknown_fact_gets_an_honest_answer_and_the_right_contact(question, contact):
    expected = contacts().get(contact)
    messages, _ = run(ActionAnswerUnknownFact(), tracker("ask_ijm_unknown", question))
    text = messages[0]["text"]
    assert text.startswith(contacts().unknown_message)
    assert expected.details() in text
    assert expected.name in text.casefold() or expected.name[:1].upper() + expected.name[1:] in text


@pytest.mark.parametrize(("intent", "contact"), [("ask_partnership", "partnerships"), ("ask_volunteer", "events")])
def test_partnerships_and_volunteering_have_a_home_and_a_contact(intent, contact):
    messages, _ = run(ActionAnswerRequest(), tracker(intent, "our company wants to work with you"))
    text = messages[0]["text"]
    assert text.startswith(contacts().requests[intent].message)
    assert contacts().get(contact).details() in text


def test_the_safety_answer_gives_emergency_hotline_and_cybertip_at_once_and_records_the_tier():
    parse = {"safety": {"tier": "model+net", "model": True, "net": True}}
    messages, events = run(ActionSafetyHelp(), tracker("disclose_danger", "they took my passport", parse=parse))
    text = messages[0]["text"]
    assert "911" in text
    assert "1-833-900-1010" in text
    assert "https://www.cybertip.ca" in text
    assert "{" not in text  # every placeholder filled
    assert "?" not in text  # it never asks for details
    assert events == [SlotSet(SAFETY_TIER_SLOT, "model+net")]


@pytest.mark.parametrize("key", sorted(safety_content().follow_ups))
def test_each_question_after_the_safety_answer_gets_its_own_careful_answer(key):
    parse = {"fact_card": {"ranking": [{"label": f"safety_followup/{key}", "score": 0.9}]}}
    messages, events = run(ActionSafetyHelp(), tracker("safety_followup", "should I…", parse=parse))
    assert messages == [{**messages[0], "text": safety_content().follow_up(key)}]
    assert "{" not in messages[0]["text"]
    assert events == []


def test_an_unsure_safety_follow_up_with_no_safety_answer_before_it_gets_the_numbers_as_information_not_advice():
    parse = {"fact_card": {"ranking": [{"label": "safety_followup/evidence", "score": 0.5}]}}
    state = tracker("safety_followup", "who should we contact?", parse=parse)
    state.latest_message["intent"]["confidence"] = 0.55
    messages, _ = run(ActionSafetyHelp(), state)
    assert messages[0]["text"] == safety_content().report_info

    state.slots[SAFETY_TIER_SLOT] = "model"  # after the safety answer, the same reading is a safety follow-up
    messages, _ = run(ActionSafetyHelp(), state)
    assert messages[0]["text"] == safety_content().follow_up("evidence")


def test_where_to_report_is_information_not_thank_you_for_telling_me():
    messages, _ = run(ActionReportInfo(), tracker("ask_where_to_report", "how do I report trafficking?"))
    text = messages[0]["text"]
    assert "1-833-900-1010" in text and "cybertip" in text.casefold()
    assert not text.startswith("Thank you for telling me")


def test_a_detail_the_article_does_not_give_is_said_so_before_the_closest_card():
    content = facts()
    parse = verdict(label("chennai_kenya"))
    messages, _ = run(
        ActionAnswerFact(), tracker("ask_field_offices", "what year did the Kenya office open?", parse=parse)
    )
    assert messages[0]["text"].startswith(content.detail_message)
    assert content.card("chennai_kenya").answer in messages[0]["text"]


def test_a_card_that_gives_the_detail_answers_without_the_hedge():
    parse = verdict(label("phnom_penh_brothel"))
    messages, _ = run(ActionAnswerFact(), tracker("ask_event", "which city was the brothel in?", parse=parse))
    assert answered(messages, "phnom_penh_brothel")
    messages, _ = run(ActionAnswerFact(), tracker("ask_event", "what happened in the brothel rescue?", parse=parse))
    assert answered(messages, "phnom_penh_brothel")


def test_a_close_call_is_answered_and_the_runner_up_offered():
    parse = verdict(label("founding_year"), label("ijm_story"), label("gary_haugen"))
    parse["fact_card"]["close_call"] = True
    messages, _ = run(ActionAnswerFact(), tracker("ask_founding", "when did the organization start?", parse=parse))
    assert answered(messages, "founding_year")
    titles = [b["title"] for b in messages[0]["buttons"]]
    assert titles == ["Tell me more", facts().card("ijm_story").title, facts().card("gary_haugen").title]


def test_without_the_card_matcher_the_response_selectors_first_card_is_the_answer():
    """Rasa's stock config has a ResponseSelector but not our card matcher: its ranking is used as it is (Rasa's
    parse data also lists the retrieval intents beside it)."""
    selector = {
        "all_retrieval_intents": ["ask_event", "ask_where_to_report"],
        "default": {
            "ranking": [
                {"intent_response_key": "ask_where_to_report/report", "confidence": 0.6},
                {"intent_response_key": label("gates_result_79"), "confidence": 0.3},
                {"intent_response_key": label("gates_goal_20"), "confidence": 0.1},
            ]
        },
    }
    parse = {"response_selector": selector}
    messages, events = run(ActionAnswerFact(), tracker("ask_event", "what did the Gates project get?", parse=parse))
    assert answered(messages, "gates_result_79")
    assert "buttons" in messages[0] and len(messages[0]["buttons"]) == 1  # answered, not "Did you mean"
    assert SlotSet(CARD_SLOT, "gates_result_79") in events


def test_a_follow_up_moves_to_another_topic_only_when_it_names_it_clearly():
    """After "who founded IJM?", "when?" stays on the founder's card, which has the year; a question that names the
    founding clearly moves to it."""
    parse = scored(("founding_year", 0.9), ("guest_bedroom", 0.3))
    messages, _ = run(ActionAnswerFact(), tracker("ask_followup", "when?", parse=parse, **{CARD_SLOT: "gary_haugen"}))
    assert answered(messages, "gary_haugen") and "1997" in messages[0]["text"]
    parse = scored(("founding_year", 1.4), ("guest_bedroom", 0.3))
    state = tracker("ask_followup", "and when was IJM itself founded?", parse=parse, **{CARD_SLOT: "gary_haugen"})
    assert answered(run(ActionAnswerFact(), state)[0], "founding_year")


def test_a_count_for_a_place_the_card_does_not_name_is_said_to_be_missing():
    parse = verdict(label("people_rescued"))
    messages, _ = run(ActionAnswerFact(), tracker("ask_impact", "how many people has IJM rescued in Uganda?",
                                                   [entity("place", "Uganda")], parse=parse))  # fmt: skip
    assert messages[0]["text"].startswith(facts().detail_message)
    assert facts().card("people_rescued").answer in messages[0]["text"]

    parse = verdict(label("cambodia_37_girls"))
    messages, _ = run(ActionAnswerFact(), tracker("ask_event", "how many girls were rescued in Cambodia in 2003?",
                                                   [entity("place", "Cambodia")], parse=parse))  # fmt: skip
    assert answered(messages, "cambodia_37_girls")


def test_a_clear_question_with_a_wrong_year_gets_its_card():
    """ "Was the child marriage bill passed in 2012?": the bill's card (it says 2021), not the menu."""
    parse = verdict(label("child_marriage_bill"))
    parse["fact_card"]["score"] = 0.97
    state = tracker("ask_event", "was the DR child marriage bill passed in 2012?", [entity("year", "2012")], parse)
    assert answered(run(ActionAnswerFact(), state)[0], "child_marriage_bill")


def test_a_question_that_asks_two_things_gets_both_cards():
    ranking = [{"label": label("cambodia_73_percent"), "score": 0.5, "selector": 0.4, "lexical": 0.5},
               {"label": label("cambodia_training"), "score": 0.4, "selector": 0.1, "lexical": 0.5},
               {"label": label("gates_result_79"), "score": 0.45, "selector": 0.3, "lexical": 0.5}]  # fmt: skip
    parse = {"fact_card": {"card": "cambodia_73_percent", "score": 0.5, "unsure": False, "ranking": ranking}}
    text = run(ActionAnswerFact(), tracker("ask_event", "which drop was bigger, Cambodia's or the Philippines'?",
                                           parse=parse))[0][0]["text"]  # fmt: skip
    assert text.startswith(facts().card("cambodia_73_percent").answer)
    assert facts().card("gates_result_79").answer in text

    one = run(ActionAnswerFact(), tracker("ask_event", "what did the 2015 study find?", parse=parse))[0][0]["text"]
    assert facts().card("gates_result_79").answer not in one  # one thing asked: one card


def test_an_unknown_fact_that_points_back_at_the_last_card_is_answered_from_it():
    parse = verdict(label("violence_kinds"), label("mission_statement"))
    state = tracker("ask_ijm_unknown", "does that include abuse online?", parse=parse, **{CARD_SLOT: "violence_kinds"})
    assert answered(run(ActionAnswerUnknownFact(), state)[0], "violence_kinds")

    fresh = tracker("ask_ijm_unknown", "does that include abuse online?", parse=parse)  # no card before it
    assert run(ActionAnswerUnknownFact(), fresh)[0][0]["text"].startswith(contacts().unknown_message)


def test_a_question_naming_what_the_last_answer_spoke_of_is_read_in_its_context():
    """ "when did the office open?" right after the Cambodia rescue (whose answer says an office opened there the
    following year): the NLU took it for a question the article can't answer, but it is about that office."""
    parse = scored(("cambodia_office", 1.1), ("chennai_kenya", 0.4))
    state = tracker("ask_ijm_unknown", "when did the office open?", parse=parse,
                    **{CARD_SLOT: "cambodia_first_rescue"})  # fmt: skip
    assert answered(run(ActionAnswerUnknownFact(), state)[0], "cambodia_office")
    # naming something the last answer did not speak of stays an honest "I don't have that"
    other = tracker("ask_ijm_unknown", "when did the podcast start?", parse=parse,
                    **{CARD_SLOT: "cambodia_first_rescue"})  # fmt: skip
    assert run(ActionAnswerUnknownFact(), other)[0][0]["text"].startswith(contacts().unknown_message)


def with_topic_words(parse: dict, **words: str) -> dict:
    """A verdict with the words that name topics, as bot/nlu/card_matcher.py reports them."""
    parse["fact_card"]["topic_words"] = words
    return parse


def test_a_short_question_naming_no_other_topic_stays_in_the_thread_however_sure_the_nlu():
    # "who benefits?" after the Dominican bill: the mission card is the NLU's sure choice on its own
    parse = with_topic_words(scored(("mission_statement", 0.95), ("generation_of_girls", 0.2)))
    state = tracker("ask_mission", "who benefits?", parse=parse, **{CARD_SLOT: "child_marriage_bill"})
    messages, _ = run(ActionAnswerFact(), state)
    assert facts().card(events_card(messages)).topic == "dominican_republic"
    # ...but "founder?" names a topic of its own
    parse = with_topic_words(scored(("gary_haugen", 0.95), ("generation_of_girls", 0.2)), founder="founder")
    state = tracker("ask_founder", "founder?", parse=parse, **{CARD_SLOT: "child_marriage_bill"})
    messages, _ = run(ActionAnswerFact(), state)
    assert answered(messages, "gary_haugen")


def events_card(messages: list[dict]) -> str:
    """The key of the card whose answer the message starts with."""
    return next(card.key for card in facts().cards.values() if messages[0]["text"].startswith(card.answer))


def test_and_the_other_one_is_asked_of_the_last_cards_topic_when_one_of_its_cards_names_it():
    parse = verdict(label("india_2020"))
    state = tracker("ask_event", "and the India one?", [entity("place", "India")], parse=parse,
                    **{CARD_SLOT: "chennai_kenya"})  # fmt: skip
    messages, _ = run(ActionAnswerFact(), state)
    assert answered(messages, "chennai_kenya")  # its answer: the first offices of 2000, India among them
    # no card of the topic names India: a question of its own
    state = tracker("ask_event", "and in India?", [entity("place", "India")], parse=parse,
                    **{CARD_SLOT: "violence_kinds"})  # fmt: skip
    messages, _ = run(ActionAnswerFact(), state)
    assert answered(messages, "india_2020")


def test_what_else_asked_after_a_topics_last_card_gets_that_card_not_nothing_more():
    messages, _ = run(ActionTellMore(), tracker("ask_more", "what else do they fight?",
                                                     **{CARD_SLOT: "violence_kinds"}))  # fmt: skip
    assert answered(messages, "violence_kinds")
    messages, _ = run(ActionTellMore(), tracker("ask_more", "tell me more", **{CARD_SLOT: "violence_kinds"}))
    topic = facts().topic("violence_types")
    assert messages[0]["text"] == facts().message("nothing_more", title=topic.title, url=facts().article_url)


def test_a_short_question_not_understood_after_a_card_is_read_in_its_thread_unless_it_names_another_topic():
    weak = with_topic_words(verdict(label("covid_work_continued"), lexical=0.1))
    state = tracker("nlu_fallback", "where exactly?", parse=weak, **{CARD_SLOT: "cambodia_first_rescue"})
    messages, _ = run(ActionFallbackTopics(), state)
    assert facts().card(events_card(messages)).topic == "cambodia"
    weak = with_topic_words(verdict(label("covid_work_continued"), lexical=0.1), pandemic="covid")
    state = tracker("nlu_fallback", "what about the pandemic?", parse=weak, **{CARD_SLOT: "cambodia_first_rescue"})
    messages, _ = run(ActionFallbackTopics(), state)
    assert messages[0]["text"] == assistant_content().message("not_understood")


def test_a_question_the_answerability_classifier_marks_gets_the_honest_line_before_the_closest_card():
    content = facts()
    parse = {**scored(("gary_haugen", 0.9)), "answerability": {"unanswerable": 0.8, "asks_missing_detail": True}}
    messages, _ = run(ActionAnswerFact(), tracker("ask_founder", "does gary haugen have kids?", parse=parse))
    assert messages[0]["text"].startswith(f"{content.detail_message} {content.card('gary_haugen').answer}")
    # a follow-up read in the thread is not judged on its few words ("how many?" says nothing on its own)
    parse = {**scored(("gary_haugen", 0.3)), "answerability": {"unanswerable": 0.9, "asks_missing_detail": True}}
    messages, _ = run(ActionAnswerFact(), tracker("ask_followup", "how many?", parse=parse,
                                                  **{CARD_SLOT: "cambodia_37_girls"}))  # fmt: skip
    assert answered(messages, "cambodia_37_girls")
    # unmarked, the card alone
    parse = {**scored(("gary_haugen", 0.9)), "answerability": {"unanswerable": 0.1, "asks_missing_detail": False}}
    messages, _ = run(ActionAnswerFact(), tracker("ask_founder", "who founded IJM?", parse=parse))
    assert answered(messages, "gary_haugen")


def test_a_short_question_read_as_yes_or_no_right_after_a_card_is_its_follow_up():
    parse = with_topic_words(verdict(label("covid_work_continued"), lexical=0.1), online="violence_types")
    messages, events = run(ActionNothingPending(), tracker("affirm", "online too?", parse=parse,
                                                           **{CARD_SLOT: "violence_kinds"}))  # fmt: skip
    assert answered(messages, "violence_kinds")
    assert SlotSet(CARD_SLOT, "violence_kinds") in events
    # a plain yes, or a question with nothing answered before it: nothing pending
    for text, slots in (("yes", {CARD_SLOT: "violence_kinds"}), ("online too?", {})):
        messages, events = run(ActionNothingPending(), tracker("affirm", text, parse=parse, **slots))
        assert messages[0]["text"] == assistant_content().message("nothing_pending") and events == []


def answer_after(last: str, intent: str, text: str, parse: dict, entities: list[dict] | None = None) -> list[dict]:
    """The fact action's messages for `text` asked right after the card `last`."""
    messages, _ = run(ActionAnswerFact(), tracker(intent, text, entities, parse=parse, **{CARD_SLOT: last}))
    return messages


def test_a_question_of_five_or_six_words_naming_no_other_topic_stays_in_the_thread():
    # "a reduction of what exactly" after the 73% drop: the NLU's best guess is the Gates project's goal
    parse = with_topic_words(scored(("gates_goal_20", 0.38), ("cambodia_73_percent", 0.36)))
    messages = answer_after("cambodia_73_percent", "ask_event", "a reduction of what exactly", parse)
    assert answered(messages, "cambodia_73_percent")
    # ...but seven words are a question of their own
    messages = answer_after("cambodia_73_percent", "ask_event", "what was the goal of the project", parse)
    assert answered(messages, "gates_goal_20")


def test_a_word_of_another_topic_that_the_last_answer_uses_itself_keeps_the_thread():
    # "what was the original goal?" after the first year's 20 cases, whose answer speaks of the starting goal
    parse = with_topic_words(scored(("mission_statement", 0.74), ("five_cases", 0.38)), goal="mission")
    messages = answer_after("twenty_cases", "ask_mission", "What was the original goal?", parse)
    assert facts().card(events_card(messages)).topic == facts().card("twenty_cases").topic
    # the same word after an answer that does not use it names the mission
    messages = answer_after("brick_kiln", "ask_mission", "What was the original goal?", parse)
    assert answered(messages, "mission_statement")


def test_any_in_a_place_is_asked_of_the_last_cards_topic_when_one_of_its_cards_names_it():
    parse = verdict(label("india_2020"))
    messages = answer_after("chennai_kenya", "ask_event", "any in india?", parse, [entity("place", "India")])
    assert answered(messages, "chennai_kenya")


def test_a_pronoun_does_not_hold_the_thread_when_the_question_names_another_topic():
    # "how many cases did he plan on?" after the pattern Gary Haugen noticed: the founding's five cases
    parse = with_topic_words(scored(("five_cases", 0.86), ("twenty_cases", 0.44)), cases="founding")
    messages = answer_after("disturbing_pattern", "ask_founding", "how many cases did he plan on", parse)
    assert answered(messages, "five_cases")
    # with no word of another topic, "he" points back
    parse = with_topic_words(scored(("five_cases", 0.86), ("twenty_cases", 0.44)))
    messages = answer_after("disturbing_pattern", "ask_founding", "what did he notice then", parse)
    assert answered(messages, "disturbing_pattern")


def test_a_pronoun_for_a_place_leaves_the_thread_for_the_nlus_sure_card_that_has_the_questions_words():
    # "when did ijm open an office there" after "60 Minutes" showed the work in India: the offices of 2000
    parse = scored(("offices_2000", 0.85), ("chennai_kenya", 0.4), ("sixty_minutes", 0.1))
    messages = answer_after("sixty_minutes", "ask_field_offices", "when did ijm open an office there", parse)
    assert answered(messages, "offices_2000")
    # ...but "it" stands for the last answer's subject: "when did it start?" after the Gates project is its year,
    # though the founding's answer has "starting" and the NLU is sure of it
    parse = scored(("founding_year", 0.85), ("gates_project", 0.2))
    messages = answer_after("gates_project", "ask_founding", "When did it start?", parse)
    assert answered(messages, "gates_project")
    # ...and an unsure NLU never takes the visitor out of the thread
    parse = {"fact_card": {**scored(("offices_2000", 0.85), ("sixty_minutes", 0.1))["fact_card"], "unsure": True}}
    messages = answer_after("sixty_minutes", "ask_field_offices", "when did ijm open an office there", parse)
    assert answered(messages, "sixty_minutes")


def test_a_place_or_event_the_last_card_speaks_of_does_not_start_a_new_subject():
    # "where was the brothel exactly" after the 2003 rescue, read as a detail the article lacks: the rescue's card
    parse = scored(("phnom_penh_brothel", 1.0), ("cambodia_first_rescue", 0.35))
    brothel = [entity("event", "brothel_rescue")]
    state = tracker("ask_ijm_unknown", "where was the brothel exactly", brothel, parse=parse,
                    **{CARD_SLOT: "cambodia_first_rescue"})  # fmt: skip
    messages, _ = run(ActionAnswerUnknownFact(), state)
    assert "Phnom Penh" in messages[0]["text"]
    # after a card that speaks of neither, it is the honest "I don't have that"
    state = tracker(
        "ask_ijm_unknown", "where was the brothel exactly", brothel, parse=parse, **{CARD_SLOT: "brick_kiln"}
    )
    messages, _ = run(ActionAnswerUnknownFact(), state)
    assert messages[0]["text"].startswith(contacts().unknown_message)


def test_a_figure_the_last_answer_does_not_have_starts_a_new_subject():
    # "no the other one, the 79% one. where was that?" after the 73% drop: the Gates project's result
    parse = scored(("gates_result_79", 0.94), ("cambodia_73_percent", 0.19))
    text = "no the other one, the 79% one. where was that?"
    assert answered(answer_after("cambodia_73_percent", "ask_event", text, parse), "gates_result_79")
    # a figure the last answer has keeps the thread: "where was that 73%?"
    parse = scored(("gates_result_79", 0.6), ("cambodia_73_percent", 0.3))
    messages = answer_after("cambodia_73_percent", "ask_event", "where was that 73%?", parse)
    assert answered(messages, "cambodia_73_percent")


def test_a_pronoun_question_read_as_what_can_you_do_is_the_last_cards_follow_up():
    parse = scored(("mission_statement", 0.33), ("child_marriage_bill", 0.21))
    state = tracker("ask_capabilities", "who does it help?", parse=parse, **{CARD_SLOT: "child_marriage_bill"})
    messages, _ = run(ActionListCapabilities(), state)
    assert "generation of girls" in messages[0]["text"]
    # "what can you do?" is still the list, after a card too
    state = tracker("ask_capabilities", "what can you do?", parse=parse, **{CARD_SLOT: "child_marriage_bill"})
    messages, _ = run(ActionListCapabilities(), state)
    assert messages[0]["text"] == assistant_content().message("capabilities")


def test_a_card_of_a_related_topic_with_more_of_the_questions_words_moves_ahead():
    # "who was being held captive" after COVID-19 (whose answer tells of the India kiln): the kiln's card
    parse = scored(("brick_kiln", 0.32), ("covid_work_continued", 0.1))
    messages = answer_after("covid_work_continued", "ask_followup", "who was being held captive", parse)
    assert answered(messages, "brick_kiln")


def test_a_question_for_a_kind_of_answer_the_last_card_lacks_goes_to_the_nlus_sure_card_that_has_it():
    # "how long ago was that" after the mission (no date in it): the founding, twenty-five years ago
    parse = scored(("founding_year", 0.78), ("mission_statement", 0.1))
    messages = answer_after("mission_statement", "ask_followup", "how long ago was that", parse)
    assert answered(messages, "founding_year")
    # after a card that has a date, "that" stays on it
    messages = answer_after("gates_project", "ask_followup", "how long ago was that", parse)
    assert answered(messages, "gates_project")


def test_the_question_after_a_courtesy_is_what_is_read_against_the_thread():
    # "thanks a lot, that's amazing. and how old were they?": DIET's courtesy set aside (bot/nlu/question_guard.py)
    text = "thanks a lot, that is truly amazing to hear about. and how old were they?"
    parse = scored(("people_rescued", 0.5), ("cambodia_37_girls", 0.2))
    messages = answer_after(
        "cambodia_37_girls", "ask_impact", text, {**parse, "question_part": "and how old were they?"}
    )
    assert answered(messages, "cambodia_37_girls")
    # read whole, fifteen words are a question of its own
    messages = answer_after("cambodia_37_girls", "ask_impact", text, parse)
    assert facts().card("people_rescued").answer in messages[0]["text"]


def test_only_the_cards_that_cover_most_of_the_questions_words_move_ahead():
    # "what's the long-term goal" after the people protected: both the half billion (same topic) and the Gates
    # project's goal (a related topic) have words of the question; the one with more of them is the answer
    parse = scored(("mission_statement", 0.92), ("gates_goal_20", 0.35), ("half_a_billion", 0.2))
    text = "what's the long-term goal"
    content = facts()
    stems = knowledge.question_words(text)
    half, gates = content.card("half_a_billion"), content.card("gates_goal_20")
    assert knowledge.covered(stems, half.answer) > knowledge.covered(stems, gates.answer) > 0
    messages = answer_after("people_protected", "ask_followup", text, parse)
    assert answered(messages, "half_a_billion")


def test_a_place_the_last_card_names_holds_the_thread_against_another_topics_word():
    # "which city in India?" after the offices of 2000 (whose answer names India and Chennai): "city" mostly names
    # Cambodia's capital, and the NLU is sure of the India kiln
    parse = with_topic_words(scored(("india_2020", 0.75), ("chennai_kenya", 0.23)), city="cambodia", india="india")
    messages = answer_after("offices_2000", "ask_event", "which city in india", parse, [entity("place", "India")])
    assert "Chennai" in messages[0]["text"]
    # a place the last card does not name is a new question
    parse = with_topic_words(scored(("child_marriage_bill", 0.8), ("chennai_kenya", 0.2)), city="cambodia")
    places = [entity("place", "Dominican Republic")]
    messages = answer_after("offices_2000", "ask_event", "which city in the dominican republic", parse, places)
    assert facts().card("child_marriage_bill").answer in messages[0]["text"]


def test_a_pronoun_for_the_person_the_last_answer_names_reaches_that_persons_cards():
    # "where was he working from back then?" after the mission, whose answer names Gary Haugen: the guest bedroom
    parse = scored(("guest_bedroom", 0.43), ("mission_statement", 0.1))
    messages = answer_after("mission_statement", "ask_followup", "where was he working from back then?", parse)
    assert answered(messages, "guest_bedroom")
    # without a pronoun for a person, the mission's own thread holds
    messages = answer_after("mission_statement", "ask_followup", "where was it working from back then?", parse)
    assert answered(messages, "mission_statement")


def test_a_comparison_with_the_last_answer_gets_both_cards():
    # "how does that compare to the number freed from the brick kiln?" after the 37 girls
    parse = scored(("kiln_7000_freed", 0.9), ("cambodia_37_girls", 0.2))
    text = "how does that compare to the number freed from the brick kiln"
    messages = answer_after("cambodia_37_girls", "ask_event", text, parse)
    content = facts()
    assert answered(messages, "kiln_7000_freed") and content.card("cambodia_37_girls").answer in messages[0]["text"]
    # staying on the last card, the NLU's sure first card is the other half
    parse = scored(("founding_year", 0.8), ("offices_2000", 0.3))
    messages = answer_after("offices_2000", "ask_followup", "how does the founding compare with that", parse)
    assert answered(messages, "offices_2000") and content.card("founding_year").answer in messages[0]["text"]
    # a question of their order: both, earlier first (events_in_order)
    messages = answer_after("offices_2000", "ask_followup", "how many years after the founding was that", parse)
    lead = content.message("in_order", earlier="1997", later="2000")
    assert messages[0]["text"].startswith(f"{lead} {content.card('founding_year').answer}")
    assert content.card("offices_2000").answer in messages[0]["text"]
    # no comparison, one card
    parse = scored(("kiln_7000_freed", 0.9), ("cambodia_37_girls", 0.2))
    messages = answer_after("cambodia_37_girls", "ask_event", "how many were freed from the brick kiln", parse)
    assert content.card("cambodia_37_girls").answer not in messages[0]["text"]


def test_after_a_card_that_sums_up_the_article_a_follow_up_goes_to_the_nlus_sure_card():
    # "ok and who founded it" after the 25 years, whose answer has a little of everything
    assert facts().card("twenty_five_years").sums_up and not facts().card("gates_project").sums_up
    parse = scored(("gary_haugen", 0.98), ("twenty_five_years", 0.1))
    messages = answer_after("twenty_five_years", "ask_founder", "ok and who founded it", parse)
    assert answered(messages, "gary_haugen")
    # an unsure NLU does not move it; nor does a sure one after a card of one subject
    unsure = {"fact_card": {**parse["fact_card"], "unsure": True}}
    messages = answer_after("twenty_five_years", "ask_founder", "ok and who founded it", unsure)
    assert answered(messages, "twenty_five_years")
    parse = scored(("founding_year", 0.8), ("gates_project", 0.2))
    messages = answer_after("gates_project", "ask_followup", "how long was it", parse)
    assert answered(messages, "gates_project")


def test_a_word_of_a_related_topic_does_not_break_the_thread():
    # "and what was special about the data" after the Gates project: "data" mostly names the impact topic, which is
    # related to the Philippines; the 79% card, whose answer speaks of the data, is the answer
    ranked = scored(("twenty_five_years", 0.42), ("gates_result_79", 0.2), ("gates_project", 0.1))
    parse = with_topic_words(ranked, data="impact")
    messages = answer_after("gates_project", "ask_anniversary", "and what was special about the data", parse)
    assert answered(messages, "gates_result_79")
    # a word of an unrelated topic still does
    parse = with_topic_words(scored(("gary_haugen", 0.9), ("gates_project", 0.1)), founder="founder")
    messages = answer_after("gates_project", "ask_founder", "and the founder", parse)
    assert answered(messages, "gary_haugen")


def test_a_word_the_last_answer_uses_in_another_form_does_not_break_the_thread():
    # "when did it launch" after the Gates project ("In 2010, IJM launched a 3-year project"): "launch" mostly names
    # the founding, but the last answer says "launched"; "Foundation" is no form of "founder" (above)
    parse = with_topic_words(scored(("founding_year", 0.9), ("gates_project", 0.1)), launch="founding")
    messages = answer_after("gates_project", "ask_founding", "when did it launch", parse)
    assert answered(messages, "gates_project")


def test_a_figure_before_the_question_part_starts_a_new_subject():
    # "no the other one, the 79% one. where was that?" after the 73% drop: the question part is "where was that?"
    text = "no the other one, the 79% one. where was that?"
    parse = {**scored(("gates_result_79", 0.8), ("cambodia_73_percent", 0.3)), "question_part": "where was that?"}
    messages = answer_after("cambodia_73_percent", "nlu_fallback", text, parse)
    assert answered(messages, "gates_result_79")


@pytest.mark.parametrize(
    ("last", "text", "expected", "told"),
    [
        ("india_2020", "and the next year?", "child_marriage_bill", True),
        ("cambodia_first_rescue", "what happened the year after", "cambodia_office", True),
        ("founding_year", "and then what happened", "offices_2000", True),
        ("gates_project", "what came before that?", "cambodia_office", True),
        # 1998: the article tells of nothing that year; the nearest later event, said so first
        ("founding_year", "what about the following year", "offices_2000", False),
    ],
)
def test_a_follow_up_that_moves_in_time_gets_the_next_event_of_the_timeline(last, text, expected, told):
    parse = scored(("mission_statement", 0.5), ("founding_year", 0.2))
    for intent in ("ask_followup", "ask_mission"):
        messages = answer_after(last, intent, text, parse)
        detail = facts().detail_message
        assert messages[0]["text"].startswith(facts().card(expected).answer if told else detail), (intent, text)
        assert facts().card(expected).answer in messages[0]["text"]


def test_moving_in_time_needs_a_dated_card_and_a_short_message_naming_nothing_new():
    parse = scored(("half_a_billion", 0.9), ("people_protected", 0.2))
    # a card with no year: the next card of its topic, in the article's order; none after its last
    after = tracker("ask_followup", "and what came after that?", parse=parse, **{CARD_SLOT: "people_protected"})
    assert knowledge.timeline_follow_up(facts(), after) == (facts().card("half_a_billion"), True)
    offices = tracker("ask_followup", "and after that?", parse=parse, **{CARD_SLOT: "chennai_kenya"})
    assert knowledge.timeline_follow_up(facts(), offices) == (facts().card("uganda_cambodia"), True)
    last = tracker("ask_followup", "and after that?", parse=parse, **{CARD_SLOT: "violence_kinds"})
    assert knowledge.timeline_follow_up(facts(), last) is None
    assert knowledge.timeline_follow_up(facts(), tracker("ask_followup", "the year after?", parse=parse,
                                                         **{CARD_SLOT: "chennai_kenya"})) is None  # fmt: skip
    named = tracker("ask_event", "what happened after that in india", [entity("place", "India")], parse=parse,
                    **{CARD_SLOT: "founding_year"})  # fmt: skip
    assert knowledge.timeline_follow_up(facts(), named) is None
    dated = tracker("ask_followup", "and after that?", parse=parse, **{CARD_SLOT: "founding_year"})
    assert knowledge.timeline_follow_up(facts(), dated) == (facts().card("offices_2000"), True)


def test_the_timeline_is_in_order_and_each_year_is_its_cards():
    content = facts()
    years = [year for year, _ in content.timeline]
    assert years == sorted(years) and len(set(years)) == len(years)
    for year, key in content.timeline:
        assert content.year_of(content.card(key)) == year, key


def test_a_question_of_who_did_what_the_article_does_not_say_is_said_so_in_the_thread():
    detail = facts().detail_message
    parse = scored(("gary_haugen", 0.5), ("child_marriage_bill", 0.3))
    assert answer_after("child_marriage_bill", "ask_followup", "who signed it", parse)[0]["text"].startswith(detail)
    assert answer_after("cambodia_37_girls", "ask_followup", "what were the girls' names", parse)[0]["text"].startswith(
        detail
    )
    assert answer_after("survivors_joy", "ask_followup", "what happened to her", parse)[0]["text"].startswith(detail)
    # the article does say who funded the Gates project
    messages = answer_after("gates_project", "ask_followup", "who funded it", scored(("gates_project", 0.9)))
    assert answered(messages, "gates_project")


def test_an_unknown_question_in_the_thread_is_said_so_unless_the_card_has_every_word_it_asks_about():
    parse = scored(("cambodia_37_girls", 0.3), ("cambodia_office", 0.2))
    names = tracker("ask_ijm_unknown", "and their birthdays?", parse=parse, **{CARD_SLOT: "cambodia_37_girls"})
    messages, _ = run(ActionAnswerUnknownFact(), names)
    assert messages[0]["text"].startswith(facts().detail_message)
    office = tracker("ask_ijm_unknown", "when did the office open?", parse=parse, **{CARD_SLOT: "cambodia_office"})
    messages, _ = run(ActionAnswerUnknownFact(), office)
    assert answered(messages, "cambodia_office")


def test_a_goal_asked_of_the_founder_gets_the_mission_too():
    # "what was his goal?" after the founder: the thread holds the five cases (his starting goal); the NLU is sure
    # of the mission, whose answer speaks of it in other words: both are answered
    parse = scored(("mission_statement", 0.86), ("five_cases", 0.23))
    messages = answer_after("gary_haugen", "ask_followup", "what was his goal", parse)
    assert "end slavery in our lifetime" in messages[0]["text"]


def test_a_message_not_understood_that_names_a_contact_route_gets_that_contact():
    messages, _ = run(ActionFallbackTopics(), tracker("nlu_fallback", "where do i apply"))
    careers = contacts().get("careers")
    assert messages[0]["text"].startswith(contacts().unknown_message) and careers.url in messages[0]["text"]
    # out of scope is not a job enquiry, unless asked of IJM
    messages, _ = run(ActionOutOfScopeTopics(), tracker("out_of_scope", "are robots going to take all our jobs"))
    assert careers.url not in messages[0]["text"]
    messages, _ = run(ActionOutOfScopeTopics(), tracker("out_of_scope", "do you have any jobs in toronto"))
    assert careers.url in messages[0]["text"]


def test_a_question_for_a_year_the_last_answer_has_none_of_takes_the_nlus_card_that_has_one():
    # "in what year" after the mission (no year in its answer): the founding, which the NLU puts first at 0.63
    messages = answer_after("mission_statement", "ask_followup", "in what year", scored(("founding_year", 0.63)))
    assert answered(messages, "founding_year")
    # ...not when the NLU is far from sure: then the mission, said honestly to lack it
    messages = answer_after("mission_statement", "ask_followup", "in what year", scored(("founding_year", 0.3)))
    assert messages[0]["text"].startswith(facts().detail_message)


def test_a_question_for_a_year_gets_the_card_of_its_topic_that_has_one_too():
    # the 79% result first, the project (2010) second: "when did IJM do the project ...?" is the project's year, and
    # the honest line is not said, since the second card gives it
    parse = scored(("gates_result_79", 0.7), ("gates_project", 0.6), ("cambodia_73_percent", 0.5))
    messages = answer_after(
        "", "ask_event", "When did IJM do the project on kids sold for sex in the Philippines?", parse
    )
    assert answered(messages, "gates_result_79") and facts().card("gates_project").answer in messages[0]["text"]
    # a card of another topic does not join in
    assert facts().card("cambodia_73_percent").answer not in messages[0]["text"]
    parse = scored(("gates_result_79", 0.7), ("cambodia_73_percent", 0.6))
    messages = answer_after("", "ask_event", "when did they get the 79%?", parse)
    assert "79%" in messages[0]["text"] and not answered(messages, "cambodia_73_percent")


def test_a_question_that_asks_something_else_as_well_is_no_step_in_time():
    parse = scored(("cambodia_37_girls", 0.9))
    for text in ("what happened to the girls after that", "did the rate go down after that?"):
        state = tracker("ask_followup", text, parse=parse, **{CARD_SLOT: "cambodia_first_rescue"})
        assert knowledge.timeline_follow_up(facts(), state) is None, text


def test_what_happened_after_that_gets_the_next_event_and_the_rest_of_the_story():
    # after the Gates project's launch, "what happened after that?": the next event (2015), and the project's card
    parse = scored(("gates_result_79", 0.5), ("gates_project", 0.4))
    messages = answer_after("gates_project", "ask_followup", "what happened after that?", parse)
    assert answered(messages, "cambodia_73_percent") and "79%" in messages[0]["text"]
    # "the year after" is exact: the event of that year alone
    messages = answer_after("india_2020", "ask_followup", "and the year after?", parse)
    assert answered(messages, "child_marriage_bill") and "79%" not in messages[0]["text"]


def test_a_follow_up_kept_on_the_last_card_gets_the_nlus_sure_reading_too_when_it_answers_as_well():
    # "what was his goal" after the founding ("a starting goal of five cases"): the mission too
    parse = scored(("mission_statement", 0.86), ("five_cases", 0.25))
    messages = answer_after("founding_year", "ask_followup", "what was his goal", parse)
    assert answered(messages, "founding_year") and "end slavery in our lifetime" in messages[0]["text"]
    # an unsure reading adds nothing
    parse = scored(("mission_statement", 0.5), ("five_cases", 0.25))
    messages = answer_after("founding_year", "ask_followup", "what was his goal", parse)
    assert facts().card("mission_statement").answer not in messages[0]["text"]


def test_a_word_another_card_of_the_topic_uses_does_not_break_the_thread():
    # "when did it launch" after the 79% result (whose answer has no "launch"): the project's card says "launched"
    parse = with_topic_words(scored(("founding_year", 0.95), ("gates_project", 0.1)), launch="founding")
    messages = answer_after("gates_result_79", "ask_founding", "when did it launch", parse)
    assert "2010" in messages[0]["text"] and not answered(messages, "founding_year")


def test_a_question_about_the_order_of_two_events_gets_both_earlier_first_after_their_years():
    content = facts()
    # the two events named by topic words ("kiln", "dominican"), the NLU ranking the later one first
    parse = with_topic_words(scored(("child_marriage_bill", 0.93), ("dr_highest_rate", 0.5), ("brick_kiln", 0.4)),
                             kiln="india", dominican="dominican_republic")  # fmt: skip
    state = tracker("ask_event", "which came first, the kiln rescue or the dominican law", parse=parse)
    messages, events = run(ActionAnswerFact(), state)
    lead = content.message("in_order", earlier="2020", later="2021")
    assert messages[0]["text"].startswith(f"{lead} {content.card('brick_kiln').answer}")
    assert content.card("child_marriage_bill").answer in messages[0]["text"]
    assert SlotSet(CARD_SLOT, "brick_kiln") in events
    # the other event by the NLU's ranking ("starting IJM" names no topic): the founding, before the offices
    parse = scored(("offices_2000", 0.74), ("chennai_kenya", 0.32), ("founding_year", 0.2))
    state = tracker("ask_field_offices", "how many years between starting ijm and the first field offices", parse=parse)
    assert knowledge.events_in_order(content, state, knowledge.ranked_cards(content, state)) == (
        content.card("founding_year"), content.card("offices_2000"))  # fmt: skip
    # pointing back: the last answer is the other event
    parse = with_topic_words(scored(("brick_kiln", 0.78), ("cambodia_office", 0.3)), kiln="india")
    state = tracker("ask_event", "was that before or after the kiln?", parse=parse,
                    **{CARD_SLOT: "child_marriage_bill"})  # fmt: skip
    assert knowledge.events_in_order(content, state, knowledge.ranked_cards(content, state)) == (
        content.card("brick_kiln"), content.card("child_marriage_bill"))  # fmt: skip


def test_an_order_question_is_left_alone_when_years_cannot_tell_the_order_or_none_is_asked():
    content = facts()
    # 60 Minutes has no year of its own
    parse = with_topic_words(scored(("sixty_minutes", 0.8), ("cambodia_first_rescue", 0.5)),
                             minutes="media_coverage", cambodia="cambodia")  # fmt: skip
    state = tracker("ask_event", "which happened first, the cambodia rescue or the 60 minutes episode?", parse=parse)
    assert knowledge.events_in_order(content, state, knowledge.ranked_cards(content, state)) is None
    # no order asked, though "before" or "after" is in the question
    parse = scored(("child_marriage_bill", 0.9), ("brick_kiln", 0.4))
    for text in ("tell me about the kiln and the dominican law", "what happened to the girls after they were rescued?",
                 "how long had the kiln workers been held before they were freed?"):  # fmt: skip
        state = tracker("ask_event", text, parse=parse)
        assert knowledge.events_in_order(content, state, knowledge.ranked_cards(content, state)) is None, text


def test_a_question_naming_a_figure_of_the_article_is_answered_by_its_card_not_with_i_dont_know():
    parse = scored(("rescue_stories", 0.9), ("people_rescued", 0.4))
    state = tracker("ask_ijm_unknown", "is the 76063 a salary or something", parse=parse)
    messages, _ = run(ActionAnswerUnknownFact(), state)
    assert facts().card("rescue_stories").answer in messages[0]["text"]
    # a number the card does not give: the honest answer
    state = tracker("ask_ijm_unknown", "is the 5000 a salary or something", parse=parse)
    messages, _ = run(ActionAnswerUnknownFact(), state)
    assert facts().card("rescue_stories").answer not in messages[0]["text"]


def test_a_question_for_a_number_the_first_card_lacks_gets_the_runner_up_that_has_one():
    parse = scored(("mission_statement", 0.6), ("half_a_billion", 0.32))
    messages, _ = run(ActionAnswerFact(), tracker("ask_mission", "ijm's long term vision number?", parse=parse))
    assert facts().card("half_a_billion").answer in messages[0]["text"]


def test_a_year_the_article_never_writes_out_is_said_as_the_article_tells_it():
    content = facts()
    parse = scored(("cambodia_37_girls", 0.97), ("phnom_penh_brothel", 0.66), ("cambodia_office", 0.33))
    text = "Was the Cambodia office already there when the 37 girls were rescued, or did it come later?"
    messages, _ = run(ActionAnswerFact(), tracker("ask_event", text, parse=parse))
    lead = content.message("in_order", earlier="2003", later=content.message("following_year"))
    assert messages[0]["text"].startswith(lead)
    assert "2004" not in messages[0]["text"]
    assert content.when(content.card("cambodia_office")) == "the year after 2003"


def test_milestones_are_the_timeline_years_the_article_writes_out_each_a_button_to_its_card():
    content = facts()
    parse = scored(("twenty_five_years", 0.34), ("survivors_joy", 0.26))
    messages, _ = run(ActionAnswerFact(), tracker("ask_anniversary", "ijm milestones list please", parse=parse))
    text = messages[0]["text"]
    assert text.startswith(content.message("milestones"))
    for year in ("1997", "2000", "2003", "2010", "2015", "2020", "2021"):
        assert f"- {year}: " in text
    assert "2004" not in text
    assert [b["title"] for b in messages[0]["buttons"]][:2] == ["1997", "2000"]
    assert messages[0]["buttons"][0]["payload"] == card_payload(content, content.card("founding_year"))
    # naming a place or year asks about that, not the whole timeline
    state = tracker("ask_event", "key dates in india", [entity("place", "India")], parse=parse)
    messages, _ = run(ActionAnswerFact(), state)
    assert not messages[0]["text"].startswith(content.message("milestones"))


def test_a_person_the_last_answer_does_not_name_leads_out_of_the_thread():
    # "what was gary's goal about slavery when he started?" after the kinds of violence, whose answer names no one
    parse = with_topic_words(scored(("mission_statement", 0.67), ("haugen_lawyer", 0.32)))
    text = "what was gary's goal about slavery when he started?"
    messages = answer_after("violence_kinds", "ask_founder", text, parse)
    assert answered(messages, "mission_statement")
    # ...but after an answer that names him, "he" stays in its thread
    parse = with_topic_words(scored(("mission_statement", 0.67), ("haugen_lawyer", 0.32)))
    messages = answer_after("gary_haugen", "ask_followup", "and what did gary do before that?", parse)
    assert not answered(messages, "mission_statement")


def test_at_first_is_a_when_not_a_word_to_find_in_an_answer():
    # "where did he run it from at first" after the founder, whose answer has the guest bedroom: not the five cases
    # of "that first year"
    parse = scored(("guest_bedroom", 0.89), ("five_cases", 0.34))
    messages = answer_after("gary_haugen", "ask_founding", "where did he run it from at first", parse)
    assert "guest bedroom" in messages[0]["text"]
    assert not answered(messages, "five_cases")


def test_an_exclamation_about_a_milestone_is_no_request_for_the_milestones():
    # "ijm's 25 years, what a milestone": the 25 years, so that "what's next?" has a card to follow
    parse = scored(("twenty_five_years", 1.3), ("next_25_years", 0.65))
    messages, _ = run(ActionAnswerFact(), tracker("ask_anniversary", "ijm's 25 years, what a milestone", parse=parse))
    assert answered(messages, "twenty_five_years")
    messages, _ = run(ActionAnswerFact(), tracker("ask_anniversary", "what were the key milestone years", parse=parse))
    assert messages[0]["text"].startswith(facts().message("milestones"))


def test_other_and_place_are_no_words_of_a_card_in_a_follow_up():
    # "what other place opened around then" after Chennai and Kenya: not the card that says "taking place" and
    # "other countries"
    parse = with_topic_words(scored(("other_countries", 0.33), ("offices_2000", 0.24), ("chennai_kenya", 0.23)))
    messages = answer_after("chennai_kenya", "ask_field_offices", "what other place opened around then", parse)
    assert answered(messages, "chennai_kenya")


def test_there_is_the_place_named_last_so_a_count_the_article_gives_only_for_all_is_said_to_be_missing():
    """ "what happened in uganda" → "how many people were rescued there": the article gives everyone's count only."""
    content = facts()
    parse = with_topic_words(scored(("people_rescued", 0.77), ("people_protected", 0.38)))
    text = "how many people were rescued there"
    events = [
        {"event": "user", "text": "what happened in uganda", "parse_data": {"entities": [entity("place", "Uganda")]}},
        {"event": "action", "name": "action_answer_fact"},
        {"event": "user", "text": text, "parse_data": {"entities": []}},
    ]
    message = {"text": text, "intent": {"name": "ask_impact", "confidence": 0.99}, "entities": [], **parse}
    state = Tracker("unit", {CARD_SLOT: "uganda_cambodia"}, message, events, False, None, {}, "action_listen")
    messages, _ = run(ActionAnswerFact(), state)
    assert messages[0]["text"].startswith(content.detail_message)
    assert "76,063" in messages[0]["text"]
    # "how many were there?" asks how many, not how many in a place; and with no place named before, nothing changes
    assert knowledge.with_place_named(state, "how many girls were there?") == "how many girls were there?"
    assert knowledge.with_place_named(state, text) == "how many people were rescued in Uganda"
    alone = Tracker("unit", {}, message, events[-1:], False, None, {}, "action_listen")
    assert knowledge.with_place_named(alone, text) == text


def test_why_it_mattered_is_found_among_the_cards_of_the_last_answers_topic():
    # "why was it such a big deal" after the Gates project: the first externally validated data, never "I don't have"
    parse = with_topic_words(scored(("disturbing_pattern", 0.34), ("twenty_five_years", 0.24)))
    messages = answer_after("gates_project", "ask_followup", "why was it such a big deal", parse)
    assert "externally validated" in messages[0]["text"]
    assert not messages[0]["text"].startswith(facts().detail_message)
    # ...and a last answer that says it already stays
    messages = answer_after("gates_result_79", "ask_followup", "why was it such a big deal", parse)
    assert answered(messages, "gates_result_79")


def test_a_fragment_going_on_with_the_last_question_is_asked_of_the_last_card():
    # "of adults or kids" after the 73% drop in sex trafficking of minors: not understood, and the 37 girls' words
    # match it a little
    parse = verdict(label("violence_kinds"), label("cambodia_37_girls"), lexical=0.37)
    state = tracker("nlu_fallback", "of adults or kids", parse=parse, **{CARD_SLOT: "cambodia_73_percent"})
    messages, _ = run(ActionFallbackTopics(), state)
    assert answered(messages, "cambodia_73_percent")


def test_besides_is_no_card_word_in_a_follow_up():
    # "any other african country besides that one?" after Chennai and Kenya, whose answer names Uganda too: not the
    # card that says "besides the overhaul" and "other countries"
    parse = with_topic_words(scored(("other_countries", 0.53), ("chennai_kenya", 0.45)))
    messages = answer_after("chennai_kenya", "ask_field_offices", "any other african country besides that one?", parse)
    assert answered(messages, "chennai_kenya")


def test_a_card_of_the_place_the_question_names_comes_before_a_first_card_that_speaks_of_none():
    # "going back to the philippines one, who funded it" ("funded" looks like "founded") after India's card
    parse = with_topic_words(scored(("gary_haugen", 0.67), ("gates_project", 0.59), ("gates_result_79", 0.41)))
    messages = answer_after("india_2020", "ask_event", "going back to the philippines one, who funded it", parse,
                            [entity("place", "Philippines")])  # fmt: skip
    assert answered(messages, "gates_project")
    # ...not when it scores far less than the first
    parse = with_topic_words(scored(("gary_haugen", 0.9), ("gates_project", 0.3)))
    messages = answer_after("india_2020", "ask_event", "going back to the philippines one, who funded it", parse,
                            [entity("place", "Philippines")])  # fmt: skip
    assert answered(messages, "gary_haugen")


def test_whether_it_worked_is_found_among_the_cards_of_the_last_answers_topic():
    # "and did it make any difference in the end?" after the Cambodia office: the training and the 73% it led to
    parse = with_topic_words(scored(("told_never_change", 0.3), ("people_rescued", 0.2)))
    messages = answer_after("cambodia_office", "ask_followup", "and did it make any difference in the end?", parse)
    assert "73%" in messages[0]["text"] and not messages[0]["text"].startswith(facts().detail_message)


def test_a_year_asked_of_the_last_answers_topic_by_name_is_its_card_with_a_year():
    # "what year did that project start" after the 79% result: the project's 2010, not the founding year
    parse = with_topic_words(scored(("founding_year", 0.84), ("guest_bedroom", 0.27)), project="philippines")
    messages = answer_after("gates_result_79", "ask_founding", "what year did that project start", parse)
    assert answered(messages, "gates_project")
    # ...while naming another topic leaves the thread for it
    parse = with_topic_words(scored(("founding_year", 0.84), ("guest_bedroom", 0.27)), ijm="founding")
    messages = answer_after("gates_result_79", "ask_founding", "what year did ijm start", parse)
    assert answered(messages, "founding_year")


def test_a_follow_up_after_a_contact_route_gets_that_contact_again():
    """ "are you hiring?" → the careers page; "where do i look" → the careers page again, not the topic menu."""
    parse = with_topic_words(scored(("offices_2000", 0.24), ("guest_bedroom", 0.19)))
    parse["fact_card"]["unsure"] = True
    events = [
        {"event": "user", "text": "are you hiring"},
        {"event": "action", "name": "action_answer_unknown_fact"},
        {"event": "bot", "text": "I'm sorry, I don't have that information. IJM's careers page can help"},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "where do i look"},
    ]
    message = {"text": "where do i look", "intent": {"name": "ask_followup", "confidence": 0.56}, "entities": [],
               **parse}  # fmt: skip
    messages, _ = run(ActionAnswerFact(), Tracker("unit", {}, message, events, False, None, {}, "action_listen"))
    careers = contacts().get("careers")
    assert messages[0]["text"] == contacts().line_for(careers) and careers.url in messages[0]["text"]
    # right after a fact card instead, the same words with no card to follow get the menu
    events[1] = {"event": "action", "name": "action_answer_fact"}
    messages, _ = run(ActionAnswerFact(), Tracker("unit", {}, message, events, False, None, {}, "action_listen"))
    assert messages[0]["text"] == facts().message("follow_up_without_context")


def test_after_the_safety_answer_the_number_again_and_a_doubt_get_the_help_whatever_the_nlu_read():
    """ "i think my neighbour is being trafficked" → the safety answer; "i'm not sure tho, maybe i'm overreacting" (read
    as a no) → the follow-up for someone unsure; "what's that number again" (read as IJM's figures) → the numbers."""
    safety = safety_content()
    events = [
        {"event": "user", "text": "i think my neighbour is being trafficked"},
        {"event": "action", "name": "action_safety_help"},
        {"event": "bot", "text": safety.answer.message},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "i'm not sure tho, maybe i'm overreacting"},
    ]
    doubt = {"text": events[-1]["text"], "intent": {"name": "deny", "confidence": 0.88}, "entities": []}
    slots = {SAFETY_TIER_SLOT: "model"}
    messages, _ = run(ActionNothingPending(), Tracker("unit", slots, doubt, events, False, None, {}, "action_listen"))
    assert messages[0]["text"] == safety.follow_up("unsure") and "1-833-900-1010" in messages[0]["text"]
    again = {"text": "what's that number again", "intent": {"name": "ask_impact", "confidence": 0.7}, "entities": [],
             **scored(("people_rescued", 0.46), ("people_protected", 0.31))}  # fmt: skip
    later = [*events, {"event": "action", "name": "action_nothing_pending"}, {"event": "user", "text": again["text"]}]
    messages, _ = run(ActionAnswerFact(), Tracker("unit", slots, again, later, False, None, {}, "action_listen"))
    assert messages[0]["text"] == safety.report_info
    # with no safety answer in the conversation, the number asked for is IJM's figure
    messages, _ = run(ActionAnswerFact(), Tracker("unit", {}, again, later, False, None, {}, "action_listen"))
    assert answered(messages, "people_rescued")


def test_a_topic_the_question_names_picks_its_card_unless_the_first_card_is_of_a_related_topic():
    # "what's ijm's big goal for the future": "future" names the impact, whose half a billion is second
    parse = with_topic_words(scored(("mission_statement", 0.66), ("half_a_billion", 0.58)), future="impact")
    messages, _ = run(ActionAnswerFact(), tracker("ask_mission", "what's ijm's big goal for the future", parse=parse))
    assert "half a billion" in messages[0]["text"]
    # "also what year did gary haugen start ijm": the founder's words, but the founding (a related topic) answers
    parse = with_topic_words(scored(("founding_year", 0.64), ("disturbing_pattern", 0.52)), gary="founder",
                             haugen="founder")  # fmt: skip
    messages, _ = run(ActionAnswerFact(), tracker("ask_founder", "also what year did gary haugen start ijm",
                                                  parse=parse))  # fmt: skip
    assert answered(messages, "founding_year")


def test_a_country_named_before_the_question_part_still_gets_the_honest_line():
    # "and ijm canada specifically, when did that start?": the question part is "when did that start?"
    parse = with_topic_words(scored(("founding_year", 1.03), ("guest_bedroom", 0.36)))
    parse["question_part"] = "when did that start?"
    text = "and ijm canada specifically, when did that start?"
    messages = answer_after("founding_year", "ask_founding", text, parse)
    assert messages[0]["text"].startswith(facts().detail_message)
    parse.pop("question_part")
    messages = answer_after("founding_year", "ask_founding", "and when did that start?", parse)
    assert not messages[0]["text"].startswith(facts().detail_message)


def test_a_short_message_not_understood_after_a_contact_route_gets_that_contact_again():
    # "jobs at ijm canada?" → the careers page; "link?" (not understood) → the careers page again
    events = [
        {"event": "user", "text": "jobs at ijm canada?"},
        {"event": "action", "name": "action_answer_unknown_fact"},
        {"event": "bot", "text": "IJM's careers page can help"},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "link?"},
    ]
    message = {"text": "link?", "intent": {"name": "nlu_fallback", "confidence": 0.45}, "entities": [],
               **verdict(label("ijm_story"), unsure=True, lexical=0.1)}  # fmt: skip
    messages, _ = run(ActionFallbackTopics(), Tracker("unit", {}, message, events, False, None, {}, "action_listen"))
    assert contacts().get("careers").url in messages[0]["text"]
