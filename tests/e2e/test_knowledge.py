"""History and impact questions over REST, answered by the trained model and the action server."""

from __future__ import annotations

import uuid

import pytest
import requests

from bot.content.facts import facts
from bot.content.safety import safety_answer

pytestmark = pytest.mark.e2e


class Visitor:
    def __init__(self, assistant) -> None:
        self.url = assistant.rest_url
        self.sender = f"visitor-{uuid.uuid4().hex}"

    def say(self, text: str) -> list[dict]:
        reply = requests.post(self.url, json={"sender": self.sender, "message": text}, timeout=60)
        assert reply.status_code == 200, reply.text
        return reply.json()


def test_a_fact_question_then_tell_me_more_then_a_place(assistant):
    content = facts()
    visitor = Visitor(assistant)

    founding = visitor.say("when was IJM founded?")
    assert founding[0]["text"].startswith(content.card("founding_year").answer)
    assert content.article_url in founding[0]["text"]

    more = visitor.say("tell me more")
    assert more[0]["text"].startswith(content.next_card(content.card("founding_year")).answer)

    cambodia = visitor.say("what happened in Cambodia?")
    assert cambodia[0]["text"].startswith(content.summary(content.topic("cambodia")).answer)


def test_a_question_by_year_gets_that_year(assistant):
    replies = Visitor(assistant).say("what did IJM do in 2010?")
    assert replies[0]["text"].startswith(facts().summary(facts().topic("philippines")).answer)


def test_a_disclosure_gets_the_safety_answer_first(assistant):
    replies = Visitor(assistant).say("my boss has my passport and won't let me leave the farm")
    assert replies[0]["text"] == safety_answer().message


def test_a_fact_not_in_the_article_is_not_guessed(assistant):
    replies = Visitor(assistant).say("how big is IJM's yearly budget?")
    text = replies[0]["text"]
    assert text.startswith("I'm sorry, I don't have that information")
    assert "@ijm.ca" in text


def test_a_specific_question_gets_its_own_card_and_a_follow_up_keeps_the_thread(assistant):
    content = facts()
    visitor = Visitor(assistant)
    girls = visitor.say("how many girls were rescued from the brothel in Phnom Penh?")
    assert girls[0]["text"].startswith(content.card("cambodia_37_girls").answer)
    office = visitor.say("and when did they open an office there?")
    assert office[0]["text"].startswith(content.card("cambodia_office").answer)


def test_a_question_after_the_safety_answer_gets_a_careful_answer(assistant):
    visitor = Visitor(assistant)
    first = visitor.say("a man online says he'll post pictures of my daughter unless she sends more")
    assert first[0]["text"] == safety_answer().message
    follow_up = visitor.say("should I delete the messages?")
    from bot.content.safety import safety_content

    assert follow_up[0]["text"] == safety_content().follow_up("evidence")


def test_a_history_question_full_of_danger_words_gets_its_fact_not_the_safety_answer(assistant):
    replies = Visitor(assistant).say("were the brick kiln workers held in captivity?")
    text = replies[0]["text"]
    assert text != safety_answer().message
    assert "7,000" in text or "brick kiln" in text


def test_a_year_alone_finds_the_card_that_names_it(assistant):
    """Places, years and events are extracted (annotated in the training data), and a year weighs in the card."""
    replies = Visitor(assistant).say("what happened in 2015?")
    assert replies[0]["text"].startswith(facts().card("cambodia_73_percent").answer)


def test_a_follow_up_stays_on_the_card_that_has_its_answer(assistant):
    visitor = Visitor(assistant)
    assert visitor.say("who founded IJM?")[0]["text"].startswith(facts().card("gary_haugen").answer)
    assert "1997" in visitor.say("when?")[0]["text"]  # the founder's card says when; no need to change the subject


def test_the_pages_call_to_action_then_the_link_again(assistant):
    visitor = Visitor(assistant)
    first = " ".join(m.get("text") or "" for m in visitor.say("I will send rescue?"))
    assert "/go/donate" in first and "Donate now" in first
    again = " ".join(m.get("text") or "" for m in visitor.say("resend the link"))
    assert "/go/donate" in again  # a follow-up after the donation link is about the donation, not a fact card


def test_a_follow_up_that_moves_in_time_and_one_the_article_cannot_answer(assistant):
    content = facts()
    visitor = Visitor(assistant)
    assert "2020" in visitor.say("what happened in 2020")[0]["text"]
    next_year = visitor.say("and the next year?")[0]["text"]
    assert next_year.startswith(content.card("child_marriage_bill").answer)
    # who signed the bill: the article does not say, and the answer says so before the card
    assert visitor.say("who signed it")[0]["text"].startswith(content.detail_message)


def test_a_question_about_a_tax_receipt_gets_the_donor_care_team(assistant):
    from bot.content.contacts import contacts

    text = " ".join(m.get("text", "") for m in Visitor(assistant).say("is my donation to ijm canada tax deductible"))
    assert text.startswith(contacts().unknown_message) and contacts().get("donor_care").name in text
    assert "Donate now" not in text
