"""The web app's side of the widget: feedback validation, the files and settings it serves, the size budget.

The HTTP tests run the real web app (`python -m bot.web`) on a free port with a fresh SQLite database; no Rasa
server or model is needed.
"""

from __future__ import annotations

import concurrent.futures
import gzip
import json
import time

import pytest
import requests
import sqlalchemy as sa

from bot.cli import ready_banner
from bot.console.erase import erase_conversation
from bot.content.assistant import assistant_content
from bot.settings import Settings
from bot.storage.app_db import feedback
from bot.storage.migrate import upgrade
from bot.web.app import FEEDBACK_WAIT_SECONDS
from bot.web.widget import (
    MAX_RATED_TEXT_CHARS,
    SIZE_BUDGET_BYTES,
    WIDGET_FILES,
    FeedbackError,
    gzip_size,
    parse_feedback,
    size_line,
)
from tests.e2e.harness import free_port, running_web_app
from tests.unit.rasa_events import add_events, bot, user
from tests.unit.supporters_db import empty_database, migrated_database

JSON = "application/json"


def body(**fields: object) -> bytes:
    data = {"conversation_id": "abc123", "rating": "up", "message_text": "IJM was founded in 1997."}
    data.update(fields)
    return json.dumps({k: v for k, v in data.items() if v is not None}).encode()


def test_good_feedback_is_read():
    rated = parse_feedback(body(rating="down"), "application/json; charset=utf-8")
    assert (rated.conversation_id, rated.rating, rated.message_text) == ("abc123", "down", "IJM was founded in 1997.")


@pytest.mark.parametrize(
    ("raw", "content_type", "status", "code"),
    [
        (body(rating="meh"), JSON, 422, "invalid_field"),
        (body(rating=None), JSON, 422, "invalid_field"),
        (body(rating=1), JSON, 422, "invalid_field"),
        (body(conversation_id=None), JSON, 422, "invalid_field"),
        (body(conversation_id="   "), JSON, 422, "invalid_field"),
        (body(conversation_id="x" * 256), JSON, 422, "invalid_field"),
        (body(message_text=None), JSON, 422, "invalid_field"),
        (body(message_text=["a list"]), JSON, 422, "invalid_field"),
        (body(message_text="x" * (MAX_RATED_TEXT_CHARS + 1)), JSON, 422, "invalid_field"),
        (body(message_text="x" * 40_000), JSON, 413, "too_large"),
        (b'{"rating": "up",', JSON, 400, "invalid_json"),
        (b"\xff\xfe", JSON, 400, "invalid_json"),
        (b"", JSON, 400, "invalid_json"),
        (b'"up"', JSON, 400, "invalid_json"),
        (b"[" * 5000 + b"]" * 5000, JSON, 400, "invalid_json"),  # deeper than Python's recursion limit
        (b'{"conversation_id": "\\ud800", "rating": "up", "message_text": "x"}', JSON, 422, "invalid_field"),
        (body(), "text/plain", 415, "unsupported_media_type"),
        (body(), "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
        (body(), None, 415, "unsupported_media_type"),
    ],
)
def test_bad_feedback_is_refused_with_its_reason(raw, content_type, status, code):
    with pytest.raises(FeedbackError) as refused:
        parse_feedback(raw, content_type)
    assert (refused.value.status, refused.value.code) == (status, code)
    assert set(refused.value.as_json()) == {"error", "detail"}


def test_the_widget_stays_within_its_size_budget_and_the_ready_banner_says_its_size():
    size = gzip_size()
    assert 0 < size <= SIZE_BUDGET_BYTES
    assert size == sum(len(gzip.compress(path.read_bytes(), mtime=0, compresslevel=9)) for path in WIDGET_FILES)
    assert f"Widget size:     {size_line()}" in ready_banner(Settings.from_env({}))
    assert size_line().startswith(f"{size / 1024:.1f} KB gzipped")


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    """The real web app on a free port, with the app's tables in a fresh SQLite file."""
    workdir = tmp_path_factory.mktemp("web")
    database_url = f"sqlite:///{workdir}/ijm.db"
    upgrade(database_url)
    port = free_port()
    origins = f"http://127.0.0.1:{port},https://www.ijm.ca"
    with running_web_app(workdir, database_url, port=port, ALLOWED_ORIGINS=origins) as url:
        engine = sa.create_engine(database_url)
        add_events(engine, "conv-1", [user("when was IJM founded?", "ask_founding"), bot("IJM was founded in 1997.")])
        yield url, engine
        engine.dispose()


def feedback_rows(engine) -> list[tuple]:
    with engine.connect() as connection:
        return [
            tuple(r) for r in connection.execute(sa.text("SELECT conversation_id, rating, message_text FROM feedback"))
        ]


def test_feedback_is_stored_and_bad_feedback_is_not(web):
    url, engine = web
    created = requests.post(url + "/api/feedback", data=body(conversation_id="conv-1"), headers={"Content-Type": JSON})
    assert created.status_code == 201
    assert isinstance(created.json()["id"], int)
    assert ("conv-1", "up", "IJM was founded in 1997.") in feedback_rows(engine)

    count = len(feedback_rows(engine))
    for raw, content_type, status in [
        (body(rating="sideways"), JSON, 422),
        (b"{not json", JSON, 400),
        (body(), "text/plain", 415),
        (body(message_text="x" * 200_000), JSON, 413),  # past the web app's request size limit
    ]:
        refused = requests.post(url + "/api/feedback", data=raw, headers={"Content-Type": content_type})
        assert refused.status_code == status
        assert refused.headers["content-type"].startswith(JSON)
    assert len(feedback_rows(engine)) == count


def test_the_widget_config_carries_the_topics_texts_and_server(web):
    url, _ = web
    config = requests.get(url + "/widget/config.json").json()
    content = assistant_content()
    assert config["topics"] == content.topic_buttons()
    assert config["welcome"] == content.message("widget_welcome")
    assert config["privacyNotice"] == content.message("privacy_notice")
    assert config["server"] == "http://127.0.0.1:5999"
    assert config["maxMessageChars"] == 2000


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/widget.js", "application/javascript"),
        ("/widget.css", "text/css"),
        ("/vendor/socket.io.min.js", "application/javascript"),
        ("/vendor/axe.min.js", "application/javascript"),
    ],
)
def test_the_widget_and_its_packages_are_served_from_here_gzipped_when_asked(web, path, content_type):
    url, _ = web
    plain = requests.get(url + path, headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200
    assert plain.headers["content-type"].startswith(content_type)
    assert "content-encoding" not in plain.headers
    packed = requests.get(url + path, headers={"Accept-Encoding": "gzip"})
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.content == plain.content  # requests unpacks it
    assert int(packed.headers["content-length"]) < len(plain.content)


def test_the_demo_page_embeds_the_widget_in_one_line_and_allows_only_our_servers(web):
    url, _ = web
    page = requests.get(url + "/")
    assert '<script src="/widget.js" data-title="Ask IJM Canada" defer></script>' in page.text
    policy = page.headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert "connect-src 'self' http://127.0.0.1:5999 ws://127.0.0.1:5999;" in policy


def test_pages_of_allowed_origins_may_send_feedback_and_others_may_not(web):
    url, _ = web
    asked = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    allowed = requests.options(url + "/api/feedback", headers={"Origin": "https://www.ijm.ca", **asked})
    assert allowed.headers["access-control-allow-origin"] == "https://www.ijm.ca"
    assert "Content-Type" in allowed.headers["access-control-allow-headers"]
    refused = requests.options(url + "/api/feedback", headers={"Origin": "https://evil.example", **asked})
    assert "access-control-allow-origin" not in refused.headers


# Feedback only for a conversation Rasa has events of (an erased one has none), on SQLite and PostgreSQL.


def post_feedback(url: str, conversation_id: str, **headers: str) -> requests.Response:
    return requests.post(
        url + "/api/feedback",
        data=body(conversation_id=conversation_id),
        headers={"Content-Type": JSON, **headers},
        timeout=FEEDBACK_WAIT_SECONDS + 30,
    )


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def conversations_web(request, tmp_path_factory):
    """The real web app on a migrated database of each kind (Rasa's `events` table included)."""
    workdir = tmp_path_factory.mktemp("feedback")
    with migrated_database(request.param, workdir) as database_url:
        engine = sa.create_engine(database_url)
        with running_web_app(workdir, database_url, ALLOWED_ORIGINS="https://www.ijm.ca") as url:
            yield url, engine
        engine.dispose()


def test_feedback_on_a_conversation_rasa_never_saw_is_refused_and_not_stored(conversations_web):
    url, engine = conversations_web
    refused = post_feedback(url, "nobody-ever", Origin="https://www.ijm.ca")
    assert refused.status_code == 404
    assert refused.json()["error"] == "unknown_conversation" and refused.json()["detail"]
    assert refused.headers["access-control-allow-origin"] == "https://www.ijm.ca"  # the widget can read why
    assert [row for row in feedback_rows(engine) if row[0] == "nobody-ever"] == []


def test_feedback_on_an_erased_conversation_is_refused_and_not_stored(conversations_web):
    url, engine = conversations_web
    add_events(engine, "to-erase", [user("hi", "greet"), bot("Hello!")])
    assert post_feedback(url, "to-erase").status_code == 201
    assert erase_conversation(engine, "to-erase", "amira")["feedback"] == 1
    refused = post_feedback(url, "to-erase")
    assert (refused.status_code, refused.json()["error"]) == (404, "unknown_conversation")
    assert [row for row in feedback_rows(engine) if row[0] == "to-erase"] == []


def test_feedback_sent_before_rasa_saved_the_turn_is_stored_once_it_has(conversations_web):
    """Rasa's socket.io channel sends an answer before it saves the turn's events: a quick 👍 waits for them."""
    url, engine = conversations_web
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        sent = pool.submit(post_feedback, url, "saved-late")
        time.sleep(1)
        assert not sent.done()
        add_events(engine, "saved-late", [user("hi", "greet"), bot("Hello!")])
        stored = sent.result()
    assert stored.status_code == 201
    assert [row[0] for row in feedback_rows(engine)].count("saved-late") == 1


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_feedback_before_rasa_made_its_events_table_is_refused(kind, tmp_path):
    with empty_database(kind, tmp_path) as database_url:
        engine = sa.create_engine(database_url)
        feedback.create(engine)  # the feedback table alone: no `events` yet
        with running_web_app(tmp_path, database_url) as url:
            refused = post_feedback(url, "conv-1")
        assert (refused.status_code, refused.json()["error"]) == (404, "unknown_conversation")
        assert feedback_rows(engine) == []
        engine.dispose()
