"""Giving: amounts as visitors write them, the campaign switch by date, the donation link."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from rasa_sdk import Tracker

from actions.donate import donate_reply
from bot.content.links import TrackedLink, links, tracked_url
from bot.donations.amounts import parse_amount
from bot.donations.content import Campaign, donate_content

LARGEST = Decimal(100000)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I'd like to give $50 a month", "50"),
        ("50$ please", "50"),
        ("fifty dollars", "50"),
        ("twenty five bucks once", "25"),
        ("CAD 200", "200"),
        ("donate 25.50 dollars", "25.50"),
        ("$1,000 one time", "1000"),
        ("cinquante dollars par mois", "50"),
        ("put 40 a month in", "40"),
        ("in 2010 I gave 30 dollars", "30"),
        ("i want to give $5k", "5000"),
        ("$2.5k please", "2500"),
    ],
)
def test_amounts_as_visitors_write_them(text, expected):
    amount = parse_amount(text, LARGEST)
    assert amount is not None and amount.usable
    assert amount.plain() == expected


@pytest.mark.parametrize("text", ["-50 dollars", "minus 20 dollars", "give $0", "$-5"])
def test_a_negative_or_zero_amount_is_refused(text):
    amount = parse_amount(text, LARGEST)
    assert amount is not None and amount.problem == "invalid" and not amount.usable


@pytest.mark.parametrize("text", ["a million dollars", "$5000000", "give 100001 dollars"])
def test_an_absurd_amount_is_not_put_in_a_link(text):
    amount = parse_amount(text, LARGEST)
    assert amount is not None and amount.problem == "too_large" and not amount.usable


@pytest.mark.parametrize("text", ["I want to donate", "how can I give monthly", "what happened in 2010", "3 or 4"])
def test_no_amount_is_invented(text):
    assert parse_amount(text, LARGEST) is None


def test_the_campaign_runs_until_its_last_day_and_not_after():
    campaign = Campaign(active=True, ends=date(2026, 12, 31), headline="MATCHING FUNDS AVAILABLE!", matched="")
    assert campaign.running_on(date(2026, 12, 31))
    assert not campaign.running_on(date(2027, 1, 1))
    assert not Campaign(False, date(2030, 1, 1), "", "").running_on(date(2026, 1, 1))


def test_the_link_template_adds_amount_frequency_and_tracking():
    link = TrackedLink("donate", "https://give.example/form?lang=en", "amount", "freq", {"monthly": "M"},
                       {"utm_source": "chat"})  # fmt: skip
    query = parse_qs(urlsplit(link.target(amount="25.50", frequency="monthly")).query)
    assert query == {"lang": ["en"], "amount": ["25.50"], "freq": ["M"], "utm_source": ["chat"]}
    assert parse_qs(urlsplit(link.target(frequency="weekly")).query) == {"lang": ["en"], "utm_source": ["chat"]}


@pytest.mark.parametrize("raw", ["-5", "0", "1e9", "NaN", "Infinity", "12.345", "abc", "100001"])
def test_a_request_cannot_slip_a_bad_amount_into_the_redirect(raw):
    assert links()["donate"].clean_amount(raw, LARGEST) is None


def test_tracked_urls_carry_the_conversation_for_counting():
    url = tracked_url("http://chat.example/", "donate", "conv 1", amount="50", frequency=None)
    assert url == "http://chat.example/go/donate?c=conv+1&amount=50"


def _tracker(text: str, frequency: str | None = None) -> Tracker:
    entities = [{"entity": "frequency", "value": frequency}] if frequency else []
    message = {"text": text, "intent": {"name": "donate", "confidence": 1.0}, "entities": entities}
    return Tracker("conv-9", {}, message, [], False, None, {}, "action_listen")


def test_donating_while_the_campaign_runs_says_gifts_are_matched():
    content = donate_content()
    replies = donate_reply(content, _tracker("I'd like to give $50 a month", "monthly"), "http://w", date(2026, 12, 1))
    assert replies[0].startswith("MATCHING FUNDS AVAILABLE!")
    assert "http://w/go/donate?c=conv-9&amount=50&frequency=monthly" in replies[-1]
    assert "$50" in replies[-1] and "a monthly gift" in replies[-1]


def test_after_the_campaign_ends_nothing_is_said_about_matching():
    content = donate_content()
    replies = donate_reply(content, _tracker("I want to donate"), "http://w", content.campaign.ends.replace(year=2099))
    assert not any("match" in reply.lower() for reply in replies)
    assert replies == [content.message("donate", link="http://w/go/donate?c=conv-9")]


def test_an_absurd_amount_points_to_donor_care_and_leaves_the_amount_out():
    replies = donate_reply(donate_content(), _tracker("I want to give a billion dollars"), "http://w", date(2099, 1, 1))
    assert "info@ijm.ca" in replies[0]
    assert "amount=" not in replies[-1]


def test_asking_whether_a_named_gift_is_matched_gets_the_link_filled_in(monkeypatch):
    """ "is my gift matched right now? i want to give $100": yes, and the form with $100 in it."""
    import asyncio

    from rasa_sdk.executor import CollectingDispatcher

    import actions.donate as donate

    monkeypatch.setattr(donate, "_today", lambda: date(2026, 12, 1))
    message = {"text": "is my gift matched right now? i want to give $100", "entities": [],
               "intent": {"name": "ask_matching", "confidence": 0.62}}  # fmt: skip
    dispatcher = CollectingDispatcher()
    asyncio.run(donate.ActionAnswerMatching().run(dispatcher, Tracker("c", {}, message, [], False, None, {}, "x"), {}))
    texts = [m["text"] for m in dispatcher.messages]
    assert texts[0].startswith("MATCHING FUNDS AVAILABLE!") and "$100" in texts[-1] and "amount=100" in texts[-1]


def test_thousands_written_with_k():
    large = parse_amount("could i give 500k?", LARGEST)
    assert large is not None and large.problem == "too_large"
    assert parse_amount("a 10k walk", LARGEST) is None  # a race, not a gift
    walk = parse_amount("after my 5k run i want to give 20 dollars", LARGEST)
    assert walk is not None and walk.plain() == "20"
