"""The transcript shows what a conversation led to: feedback, clicks, sign-ups, leads, safety and fallback answers.

On SQLite and PostgreSQL, through the real web app: the page and the API place each record under the turn it
followed, escape what visitors typed, and mask e-mail addresses for viewers.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import pytest
import requests
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore

from bot.console.accounts import add_staff, issue_token
from bot.console.activity import Activity, load_activity
from bot.console.transcripts import (
    DONATION_LINK_SHOWN,
    FALLBACK,
    SAFETY_ANSWER_GIVEN,
    Turn,
    attach_activity,
    load_transcript,
)
from bot.storage.app_db import enquiries, feedback, link_clicks, newsletter_records
from tests.e2e.harness import running_web_app
from tests.unit.supporters_db import migrated_database

PASSWORD = "a long enough password"
START = datetime(2026, 11, 2, 15, 0, tzinfo=timezone.utc)
CONVERSATION = "visit-1"


def user(text: str, intent: str, confidence: float = 0.9, **parse: object) -> tuple[str, dict]:
    return "user", {"text": text, "parse_data": {"intent": {"name": intent, "confidence": confidence}, **parse}}


def bot(text: str) -> tuple[str, dict]:
    return "bot", {"text": text}


def action(name: str) -> tuple[str, dict]:
    return "action", {"name": name}


# Turn 1 at +0 s, turn 2 at +10 s, turn 3 at +20 s, turn 4 at +30 s (each event a second after its turn's start).
TURNS = [
    [user("how can I donate?", "donate"), action("action_donate"), bot("Give here: https://x.test/go/donate?c=1")],
    [user("sign me up, <b>bold</b> kim@example.org", "subscribe_newsletter"), bot("Thanks <img src=x onerror=1>")],
    [
        user("someone is hurting me", "disclose_danger", 1.0, safety={"tier": "net", "model": False, "net": True}),
        action("action_safety_help"),
        bot("Call 911"),
    ],
    [user("blorp", "nlu_fallback", 0.2), action("action_fallback_topics"), bot("I can help with…")],
]


def write_conversation(engine: sa.engine.Engine) -> None:
    SQLTrackerStore.SQLEvent.__table__.create(engine, checkfirst=True)
    with engine.begin() as connection:
        for number, turn in enumerate(TURNS):
            for offset, (kind, data) in enumerate(turn):
                connection.execute(
                    SQLTrackerStore.SQLEvent.__table__.insert().values(
                        sender_id=CONVERSATION,
                        type_name=kind,
                        timestamp=(START + timedelta(seconds=10 * number + offset)).timestamp(),
                        intent_name=data.get("parse_data", {}).get("intent", {}).get("name"),
                        action_name=data.get("name"),
                        data=json.dumps(data),
                    )
                )
        connection.execute(
            link_clicks.insert().values(
                link="donate", conversation_id=CONVERSATION, clicked_at=START + timedelta(seconds=5)
            )
        )
        connection.execute(
            newsletter_records.insert().values(
                email="kim@example.org",
                action="subscribe",
                consent_text="Yes",
                conversation_id=CONVERSATION,
                channel="socketio",
                created_at=START + timedelta(seconds=15),
            )
        )
        connection.execute(
            feedback.insert().values(
                conversation_id=CONVERSATION,
                rating="down",
                message_text="Thanks <img src=x onerror=1> kim@example.org",
                created_at=START + timedelta(seconds=16),
            )
        )
        connection.execute(
            enquiries.insert().values(
                kind="fundraiser",
                team="events",
                email="kim@example.org",
                details="{}",
                conversation_id=CONVERSATION,
                created_at=START + timedelta(seconds=35),
            )
        )
        # Another conversation's records never show up in this one.
        connection.execute(
            feedback.insert().values(conversation_id="someone-else", rating="up", message_text="x", created_at=START)
        )


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database(request, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("activity")
    with migrated_database(request.param, workdir) as url:
        engine = sa.create_engine(url)
        write_conversation(engine)
        add_staff(engine, "amira", "admin", PASSWORD)
        add_staff(engine, "vic", "viewer", PASSWORD)
        yield workdir, url, engine
        engine.dispose()


def test_records_land_under_the_turn_they_followed(database):
    _, _, engine = database
    turns = load_transcript(engine, CONVERSATION)
    attach_activity(turns, load_activity(engine, CONVERSATION))
    assert turns[0].text == "how can I donate?"
    assert [[a.kind for a in turn.activity] for turn in turns] == [
        ["link_click"],
        ["newsletter_subscribe", "feedback_down"],
        [],
        ["enquiry"],
    ]
    assert [turn.outcomes for turn in turns] == [[DONATION_LINK_SHOWN], [], [SAFETY_ANSWER_GIVEN], [FALLBACK]]
    assert turns[3].activity[0].label == "Fundraiser lead recorded (to events)"
    assert all("kim@example.org" not in a.label for turn in turns for a in turn.activity if a.kind != "feedback_down")


def test_a_record_older_than_every_turn_goes_under_the_first():
    first, second = Turn(at=START), Turn(at=START + timedelta(minutes=1))
    early = Activity(at=START - timedelta(hours=1), kind="link_click", label="early")
    late = Activity(at=START + timedelta(hours=1), kind="link_click", label="late")
    attach_activity([first, second], [early, late])
    assert first.activity == [early] and second.activity == [late]
    attach_activity([], [early])  # no turns: nothing to attach to, no error


def sign_in(url: str, name: str) -> requests.Session:
    browser = requests.Session()
    form = browser.get(f"{url}/console/login", timeout=10)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    answer = browser.post(
        f"{url}/console/login", data={"csrf_token": csrf, "name": name, "password": PASSWORD}, timeout=30
    )
    assert answer.status_code == 200
    return browser


@pytest.fixture(scope="module")
def web(database):
    workdir, url, engine = database
    with running_web_app(workdir, url) as web_url:
        yield web_url, engine


def test_the_transcript_page_shows_outcomes_escaped_and_masked_for_viewers(web):
    url, _ = web
    page = sign_in(url, "amira").get(f"{url}/console/conversations/{CONVERSATION}", timeout=10).text
    for label in (
        "Donation link shown",
        "Clicked the donate link",
        "Newsletter sign-up, consent recorded",
        "Safety answer given",
        "Fallback: not understood",
        "Fundraiser lead recorded (to events)",
    ):
        assert label in page
    assert "👎 on “Thanks &lt;img src=x onerror=1&gt; kim@example.org”" in page
    assert "<img src=x" not in page
    viewer_page = sign_in(url, "vic").get(f"{url}/console/conversations/{CONVERSATION}", timeout=10).text
    assert "👎 on “Thanks &lt;img src=x onerror=1&gt; [e-mail hidden]”" in viewer_page
    assert "kim@example.org" not in viewer_page


def test_the_api_gives_each_turn_its_outcomes_and_records(web):
    url, engine = web
    token = issue_token(engine, "vic")
    answer = requests.get(
        f"{url}/api/conversations/{CONVERSATION}", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    turns = answer.json()["turns"]
    assert [turn["outcomes"] for turn in turns] == [[DONATION_LINK_SHOWN], [], [SAFETY_ANSWER_GIVEN], [FALLBACK]]
    assert [a["kind"] for a in turns[1]["activity"]] == ["newsletter_subscribe", "feedback_down"]
    assert "kim@example.org" not in json.dumps(turns)
    assert turns[0]["activity"][0]["at"].startswith("2026-11-02T15:00:05")


def test_the_tier_that_recognised_a_disclosure_is_shown_in_the_transcript_and_the_api(web):
    url, engine = web
    page = sign_in(url, "amira").get(f"{url}/console/conversations/{CONVERSATION}", timeout=10).text
    assert page.count("disclosure · by the phrase net") == 1
    token = issue_token(engine, "vic")
    turns = requests.get(
        f"{url}/api/conversations/{CONVERSATION}", headers={"Authorization": f"Bearer {token}"}, timeout=10
    ).json()["turns"]
    assert [turn["safety_tier"] for turn in turns] == [None, None, "net", None]


def test_a_safety_conversation_shows_no_preview_text_in_the_list_but_a_badge(web):
    url, engine = web
    page = sign_in(url, "amira").get(f"{url}/console", timeout=10).text
    assert "Safety conversation: open to read" in page
    assert '<span class="badge safety">safety</span>' in page
    assert "how can I donate?" not in page  # the first message is not previewed
    token = issue_token(engine, "amira")
    listed = requests.get(f"{url}/api/conversations", headers={"Authorization": f"Bearer {token}"}, timeout=10).json()
    row = next(c for c in listed["conversations"] if c["id"] == CONVERSATION)
    assert row["first_message"] is None and "safety" in row["outcomes"]
