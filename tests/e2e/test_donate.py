"""Giving over REST, and the /go/ redirect that counts clicks."""

from __future__ import annotations

import re
import uuid
from datetime import date
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import sqlalchemy as sa

from bot.content.links import links
from bot.donations.content import donate_content

pytestmark = pytest.mark.e2e


def test_a_monthly_gift_with_an_amount_gets_a_tracked_prefilled_link(assistant):
    sender = f"giver-{uuid.uuid4().hex}"
    replies = requests.post(
        assistant.rest_url, json={"sender": sender, "message": "I'd like to give $50 a month"}, timeout=60
    ).json()
    texts = [r["text"] for r in replies]
    # The link is written [Donate now](address): the widget shows its title.
    link = re.search(r"\[Donate now\]\((\S+/go/donate\S*?)\)", texts[-1]).group(1)
    assert link == f"{assistant.web_url}/go/donate?c={sender}&amount=50&frequency=monthly"
    campaign = donate_content().campaign
    assert any(t.startswith(campaign.headline) for t in texts) == campaign.running_on(date.today())


def clicks(assistant, conversation: str) -> int:
    engine = sa.create_engine(assistant.database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(
                sa.text("SELECT count(*) FROM link_clicks WHERE conversation_id = :c"), {"c": conversation}
            ).scalar_one()
    finally:
        engine.dispose()


def test_the_redirect_counts_the_click_and_sends_to_the_configured_address(assistant):
    conversation = f"click-{uuid.uuid4().hex}"
    reply = requests.get(
        f"{assistant.web_url}/go/donate",
        params={"c": conversation, "amount": "50", "frequency": "monthly", "url": "https://evil.example"},
        allow_redirects=False,
        timeout=10,
    )
    assert reply.status_code == 302
    target = urlsplit(reply.headers["Location"])
    donate = urlsplit(links()["donate"].url)
    assert (target.scheme, target.netloc, target.path) == (donate.scheme, donate.netloc, donate.path)
    assert parse_qs(target.query)["amount"] == ["50"]
    assert parse_qs(target.query)["utm_source"] == ["chat"]
    assert "evil" not in reply.headers["Location"]
    assert clicks(assistant, conversation) == 1


@pytest.mark.parametrize("name", ["nope", "..%2F..%2Fetc", "https:%2F%2Fevil.example"])
def test_an_unknown_link_is_404_and_redirects_nowhere(assistant, name):
    reply = requests.get(f"{assistant.web_url}/go/{name}", allow_redirects=False, timeout=10)
    assert reply.status_code == 404
    assert "Location" not in reply.headers


def test_a_bad_amount_in_the_link_is_dropped_not_passed_on(assistant):
    reply = requests.get(
        f"{assistant.web_url}/go/donate", params={"amount": "-100", "c": "x" * 5000}, allow_redirects=False, timeout=10
    )
    assert reply.status_code == 302
    assert "amount" not in parse_qs(urlsplit(reply.headers["Location"]).query)
