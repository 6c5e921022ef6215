"""The staff console in a real browser, on conversations the real assistant stored: a reviewer's session end to end.

Sign in, filter the list, read a transcript, tag it, correct an intent, download the training export, see the
analytics charts drawn, sign out: on SQLite (the session's assistant) and on PostgreSQL (an assistant of its own
on a throw-away schema). Screenshots go to reports/ each run; with IJM_DOCS_SCREENSHOTS=1 the README's
docs/console.png and docs/console-analytics.png are written too.
"""

from __future__ import annotations

import os
import secrets
import uuid
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml
from playwright.sync_api import expect

from tests.browser.console import Console, add_admin_with_the_cli, say, understood
from tests.e2e.harness import Assistant
from tests.unit.supporters_db import postgres_schema

pytestmark = pytest.mark.e2e

DOCS = Path(__file__).resolve().parents[2] / "docs"
ADMIN = "amira.reviewer"
# Realistic conversations (as on the README's screenshot); the first has a word no other one has.
HISTORY = ["Hello from Moose Jaw!", "When was IJM founded?"]
UNIQUE_WORD = "moose"
DONATION = ["How can I donate to IJM Canada?"]
PLACES = ["Which countries does IJM work in?", "thanks!"]
# The model does not understand this (nlu_fallback or out_of_scope): staff correct it to what it means.
MISUNDERSTOOD = ["I'd like to set up a bake sale at my school for you"]
RIGHT_INTENT = "fundraise"
TAG = "church group"
WRITE_DOCS = os.environ.get("IJM_DOCS_SCREENSHOTS") == "1"

# Every canvas on the page: its Chart.js chart (if any), and how many of its pixels are painted.
CHARTS = """() => Array.from(document.querySelectorAll("canvas")).map((canvas) => {
  const chart = typeof Chart === "undefined" ? null : Chart.getChart(canvas);
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) painted++;
  return {
    id: canvas.id, width: canvas.width, height: canvas.height, painted: painted,
    type: chart ? chart.config.type : null,
    labels: chart ? chart.data.labels : null,
    data: chart ? chart.data.datasets.map((set) => set.data) : null,
  };
})"""


def converse(assistant, messages: list[str]) -> tuple[str, list[list[str]]]:
    """A new conversation through the REST channel: its id, and the replies to each message."""
    sender = f"console-{uuid.uuid4().hex}"
    return sender, [say(assistant, sender, text) for text in messages]


@pytest.fixture(params=["sqlite", "postgresql"])
def console_assistant(request, tmp_path_factory):
    """The session's assistant (SQLite), or one started for this test on PostgreSQL."""
    if request.param == "sqlite":
        yield request.getfixturevalue("assistant")
        return
    workdir = tmp_path_factory.mktemp("browser-postgres")
    with postgres_schema() as database_url:
        running = Assistant(workdir=workdir, database_url=database_url)
        running.start()
        try:
            yield running
        finally:
            running.stop()


def test_a_reviewer_filters_reads_tags_corrects_exports_and_sees_the_charts(visit_factory, console_assistant, reports):
    assistant = console_assistant
    # Conversations as Rasa really stores them: through the REST channel, with the trained model.
    history, history_replies = converse(assistant, HISTORY)
    donation, _ = converse(assistant, DONATION)
    places, _ = converse(assistant, PLACES)
    misunderstood, _ = converse(assistant, MISUNDERSTOOD)
    ours = {history, donation, places, misunderstood}
    founded = understood(assistant, history)[1]
    assert founded.text == HISTORY[1]
    assert history_replies[1], "the assistant did not answer"

    password = secrets.token_urlsafe(18)
    assert f"Added {ADMIN} (admin)" in add_admin_with_the_cli(assistant, ADMIN, password)

    visit = visit_factory(web_url=assistant.web_url, rasa_url=assistant.rasa_url)
    page = visit.page
    console_errors: list[str] = []
    page.on(
        "console", lambda message: console_errors.append(_console_error(message)) if message.type == "error" else None
    )
    failed: list[str] = []
    page.on(
        "response",
        lambda response: failed.append(f"{response.status} {response.url}") if response.status >= 400 else None,
    )
    console = Console(page, assistant.web_url)
    console.sign_in(ADMIN, password)
    expect(page.get_by_role("banner")).to_contain_text(f"{ADMIN} (admin)")
    listed = {row.split("/console/conversations/")[1] for row in _links(page)}
    assert ours <= listed  # the four conversations, among any other test's
    page.screenshot(path=str(reports / "console-list.png"), full_page=True)

    # The search box finds exactly the conversation with that word.
    console.filter(q=UNIQUE_WORD)
    expect(page.get_by_label("Words in a visitor message", exact=True)).to_have_value(UNIQUE_WORD)
    expect(console.rows).to_have_count(1)
    started, messages, first, status, tags, _outcomes = console.row_cells()[0]
    assert (messages, first, status, tags) == ("2", HISTORY[0], "New", "")
    assert started.startswith(datetime.now(timezone.utc).strftime("%Y-%m-%d"))

    # Its transcript: each visitor message with what the model understood, and the assistant's replies.
    console.rows.first.get_by_role("link", name=HISTORY[0]).click()
    expect(console.heading).to_have_text("Conversation")
    expect(page).to_have_url(f"{assistant.web_url}/console/conversations/{history}")
    for message, replies in zip(understood(assistant, history), history_replies, strict=True):
        turn = console.turn(message.text)
        expect(turn).to_have_count(1)
        expect(turn.locator("small")).to_contain_text(f"{message.intent} {message.confidence:.2f}")
        assert replies
        for reply in replies:
            expect(turn.locator("p", has=page.locator("strong", has_text="Assistant"))).to_contain_text(
                reply.splitlines()[0]
            )
    expect(console.turn(HISTORY[1])).to_contain_text("1997")  # the founding year, from the real answer

    # A tag: shown on the conversation, then the list filtered by it has that conversation only.
    page.get_by_label("Add a tag").fill("Church Group")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(console.heading).to_have_text("Conversation")
    expect(page.locator("section.review li")).to_have_text([f"{TAG} ×"])
    expect(page.get_by_role("button", name=f"Remove tag {TAG}")).to_be_visible()
    page.screenshot(path=str(reports / "console-transcript.png"), full_page=True)
    if WRITE_DOCS:
        page.screenshot(path=str(DOCS / "console.png"), full_page=True)
    page.get_by_role("link", name="All conversations").click()
    console.filter(tag=TAG)
    expect(console.rows).to_have_count(1)
    expect(console.rows.first.locator("td").nth(4)).to_have_text(TAG)
    expect(console.rows.first.get_by_role("link")).to_have_attribute("href", f"/console/conversations/{history}")

    # The misunderstood message: its intent corrected from its conversation.
    page.goto(f"{assistant.web_url}/console/conversations/{misunderstood}")
    wrong = understood(assistant, misunderstood)[0]
    right = RIGHT_INTENT
    form = console.correction_form(wrong.text)
    expect(form.get_by_label("Right intent")).to_have_value(wrong.intent)  # what the model said, to start with
    form.get_by_label("Right intent").select_option(right)
    form.get_by_role("button", name="Correct").click()
    expect(page).to_have_url(f"{assistant.web_url}/console/conversations/{misunderstood}")  # back where it was
    expect(console.correction_form(wrong.text).get_by_label("Right intent")).to_have_value(right)
    expect(console.turn(wrong.text).locator("small")).to_contain_text(wrong.intent)  # the model's, still shown

    console.go_to("Corrections")
    expect(console.heading).to_have_text("Intent corrections")
    correction = page.locator("main table tbody tr").filter(has_text=wrong.text)
    expect(correction).to_have_count(1)
    assert correction.locator("td").all_inner_texts()[1:] == [wrong.text, wrong.intent, right, ADMIN]
    page.screenshot(path=str(reports / "console-corrections.png"), full_page=True)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download as Rasa NLU training data").click()
    download = download_info.value
    assert download.suggested_filename == "nlu-corrections.yml"
    saved = reports / "console-nlu-corrections.yml"
    download.save_as(saved)
    training = yaml.safe_load(saved.read_text(encoding="utf-8"))
    assert training["version"] == "3.1"
    examples = {item["intent"]: item["examples"] for item in training["nlu"]}
    assert f"- {wrong.text}\n" in examples[right]
    assert not any(f"- {wrong.text}\n" in text for intent, text in examples.items() if intent != right)

    # The analytics page: each chart drawn by Chart.js on its canvas, from today's conversations.
    console.go_to("Analytics")
    expect(console.heading).to_have_text("Analytics")
    canvases = page.locator("main canvas")
    expect(canvases.first).to_be_visible()
    page.wait_for_function("() => typeof Chart !== 'undefined' && Chart.getChart(document.querySelector('canvas'))")
    charts = {chart["id"]: chart for chart in page.evaluate(CHARTS)}
    assert len(charts) == canvases.count() >= 8
    for chart in charts.values():
        assert chart["type"] in ("line", "bar", "doughnut"), chart
        assert chart["width"] > 100 and chart["height"] > 50, chart
        assert chart["painted"] > 1000, f"nothing drawn on {chart['id']}"  # axes, labels, bars: not a blank canvas
    today = datetime.now(timezone.utc).date().isoformat()
    visitor_messages = charts["chart-messages"]
    assert visitor_messages["labels"][-1] == today
    assert visitor_messages["data"][0][-1] >= len(HISTORY + DONATION + PLACES + MISUNDERSTOOD)
    assert charts["chart-conversations"]["data"][0][-1] >= len(ours)
    intents = dict(zip(charts["chart-intents"]["labels"], charts["chart-intents"]["data"][0], strict=True))
    ours_by_intent = Counter(m.intent for sender in ours for m in understood(assistant, sender))
    for intent, count in ours_by_intent.items():
        assert intents.get(intent, 0) >= count, (intent, intents)
    page.screenshot(path=str(reports / "console-analytics.png"), full_page=True)
    if WRITE_DOCS:  # the top of the page: the period, conversations and messages per day, the top intents
        bottom = page.locator("section.chart").nth(2).bounding_box()
        clip = {"x": 0, "y": 0, "width": page.viewport_size["width"], "height": bottom["y"] + bottom["height"]}
        page.screenshot(path=str(DOCS / "console-analytics.png"), full_page=True, clip=clip)

    # Signing out ends the session: the console sends the browser back to the login page.
    console.sign_out()
    expect(console.heading).to_have_text("Sign in")
    page.goto(f"{assistant.web_url}/console/conversations/{history}")
    expect(page).to_have_url(f"{assistant.web_url}/console/login")
    page.goto(f"{assistant.web_url}/console/analytics")
    expect(page).to_have_url(f"{assistant.web_url}/console/login")

    assert visit.third_party_requests() == []
    assert visit.errors == []
    assert failed == []
    assert [
        error for error in console_errors if not error.endswith("/favicon.ico")
    ] == []  # no script, style or image refused by the console's Content-Security-Policy


def _links(page) -> list[str]:
    return page.locator("main table tbody a").evaluate_all("links => links.map(a => a.getAttribute('href'))")


def _console_error(message) -> str:
    """The error and the address it is about (the browser asks for /favicon.ico by itself: the console has none)."""
    return f"{message.text} at {message.location.get('url', '')}"
