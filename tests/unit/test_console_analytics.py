"""The console's analytics on the real web app (`python -m bot.web` on a free port, fresh SQLite): the page, its
CSV downloads and GET /api/stats, over a hand-made Rasa `events` table and the app's own tables."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta, timezone

import pytest
import requests
import sqlalchemy as sa

from bot.console.accounts import add_staff, issue_token
from bot.console.analytics import Chart, parse_range, to_csv
from bot.spreadsheet import safe_cell
from bot.storage.app_db import enquiries, feedback, link_clicks, newsletter_records
from tests.e2e.harness import running_web_app
from tests.unit.rasa_events import action, add_events, bot, ensure_events_table, user
from tests.unit.supporters_db import migrated_database

PASSWORD = "a long enough password"
DAY_1 = date(2027, 1, 15)
DAY_2 = DAY_1 + timedelta(days=1)
RANGE = f"from={DAY_1}&to={DAY_2}"
XSS_INTENT = "<script>evil()</script>"


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=timezone.utc)


def said(intent: str, text: str = "hi") -> tuple:
    return user(text, intent)


# (conversation, day, events in order): two days, plus one conversation long before the range.
CONVERSATIONS = [
    ("c-a", DAY_1, [said("greet"), bot("Hello!"), said("donate"), bot("Give here: https://x.test/go/donate?c=c-a")]),
    (
        "c-b",
        DAY_1,
        [
            said("nlu_fallback", "<script>alert(1)</script>"),
            action("action_fallback_topics"),
            bot("Sorry?"),
            said(XSS_INTENT),
            action("action_listen"),
            said("=SUM(A1)"),
        ],
    ),
    ("c-c", DAY_2, [said("greet"), action("action_core_fallback"), said("donate"), bot("Thanks for asking")]),
    ("c-a", DAY_2, [said("thanks")]),
    ("c-old", DAY_1 - timedelta(days=5), [said("donate"), bot("/go/donate")]),
]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def app(request, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("analytics")
    with migrated_database(request.param, workdir) as database_url:
        yield from run_app(workdir, database_url)


def run_app(workdir, database_url: str):
    engine = sa.create_engine(database_url)
    add_staff(engine, "amira", "admin", PASSWORD)
    ensure_events_table(engine)
    for conversation, day, events in CONVERSATIONS:
        add_events(engine, conversation, events, start=at(day, 10).timestamp(), step=1.5)
    with engine.begin() as connection:
        connection.execute(
            link_clicks.insert(),
            [
                {"link": "donate", "conversation_id": "c-a", "clicked_at": at(DAY_1, 10, 5)},
                {"link": "donate", "conversation_id": "c-a", "clicked_at": at(DAY_1, 10, 6)},  # same conversation
                {"link": "contact", "conversation_id": "c-b", "clicked_at": at(DAY_1, 11)},
                {"link": "donate", "conversation_id": "c-old", "clicked_at": at(DAY_1 - timedelta(days=5), 10)},
            ],
        )
        connection.execute(
            newsletter_records.insert(),
            [
                {"email": "a@example.org", "action": "subscribe", "created_at": at(DAY_1, 9)},
                {"email": "b@example.org", "action": "subscribe", "created_at": at(DAY_1, 23, 59)},
                {"email": "a@example.org", "action": "unsubscribe", "created_at": at(DAY_2, 0, 1)},
                {"email": "c@example.org", "action": "subscribe", "created_at": at(DAY_2 + timedelta(days=1), 0)},
            ],
        )
        lead = {"team": "t", "email": "x@example.org", "details": "{}"}
        connection.execute(
            enquiries.insert(),
            [
                {**lead, "kind": "fundraiser", "created_at": at(DAY_1, 12)},
                {**lead, "kind": "message", "created_at": at(DAY_1, 13)},
                {**lead, "kind": "message", "created_at": at(DAY_2, 13)},
            ],
        )
        connection.execute(
            feedback.insert(),
            [
                {"conversation_id": "c-a", "rating": rating, "message_text": "x", "created_at": at(DAY_2, 8)}
                for rating in ("up", "up", "up", "down")
            ],
        )
    with running_web_app(workdir, database_url) as url:
        yield url, engine
    engine.dispose()


def sign_in(url: str) -> requests.Session:
    browser = requests.Session()
    form = browser.get(f"{url}/console/login", timeout=10)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    answer = browser.post(
        f"{url}/console/login",
        data={"csrf_token": csrf, "name": "amira", "password": PASSWORD},
        allow_redirects=False,
        timeout=30,
    )
    assert answer.status_code == 303
    return browser


def test_stats_count_conversations_messages_intents_fallbacks_and_the_funnel(app):
    url, engine = app
    token = issue_token(engine, "amira")
    answer = requests.get(f"{url}/api/stats?{RANGE}", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert answer.status_code == 200
    stats = answer.json()
    assert (stats["from"], stats["to"]) == (str(DAY_1), str(DAY_2))
    charts = {name: chart["rows"] for name, chart in stats["charts"].items()}
    assert charts["conversations"] == [[str(DAY_1), 2], [str(DAY_2), 2]]
    assert charts["messages"] == [[str(DAY_1), 5], [str(DAY_2), 3]]
    assert charts["intents"] == [
        ["donate", 2],
        ["greet", 2],
        [XSS_INTENT, 1],
        ["=SUM(A1)", 1],
        ["nlu_fallback", 1],
        ["thanks", 1],
    ]
    assert charts["fallback"] == [[str(DAY_1), 0.2], [str(DAY_2), 0.3333]]
    assert charts["donation"] == [["Asked to donate", 2], ["Donate link shown", 1], ["Donate link clicked", 1]]
    assert charts["newsletter"] == [[str(DAY_1), 2, 0], [str(DAY_2), 0, 1]]
    assert charts["leads"] == [["fundraiser", 1], ["media", 0], ["message", 2]]
    assert charts["feedback"] == [["👍", 3], ["👎", 1]]


def test_a_day_without_messages_has_zero_counts_and_no_fallback_rate(app):
    url, _ = app
    browser = sign_in(url)
    day = DAY_2 + timedelta(days=1)
    charts = browser.get(f"{url}/api/stats?from={day}&to={day}", timeout=10).json()["charts"]
    assert charts["messages"]["rows"] == [[str(day), 0]] and charts["fallback"]["rows"] == [[str(day), None]]
    assert charts["newsletter"]["rows"] == [[str(day), 1, 0]]


def test_a_csv_download_has_a_header_and_defuses_formulas(app):
    url, _ = app
    browser = sign_in(url)
    answer = browser.get(f"{url}/console/analytics/intents.csv?{RANGE}", timeout=10)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    lines = answer.text.splitlines()
    assert lines[0] == "intent,messages" and lines[1] == "donate,2"
    assert "'=SUM(A1),1" in lines and "=SUM(A1),1" not in lines
    funnel = browser.get(f"{url}/console/analytics/donation.csv?{RANGE}", timeout=10).text.splitlines()
    assert funnel == ["step,conversations", "Asked to donate,2", "Donate link shown,1", "Donate link clicked,1"]
    assert browser.get(f"{url}/console/analytics/nope.csv?{RANGE}", timeout=10).status_code == 404
    assert browser.get(f"{url}/console/analytics/intents.csv?from=yesterday", timeout=10).status_code == 400


def test_without_signing_in_the_page_redirects_and_the_api_refuses(app):
    url, _ = app
    for path in ("/console/analytics", f"/console/analytics/intents.csv?{RANGE}"):
        answer = requests.get(url + path, allow_redirects=False, timeout=10)
        assert answer.status_code == 303 and answer.headers["location"] == "/console/login"
    assert requests.get(f"{url}/api/stats", timeout=10).status_code == 401
    assert requests.get(f"{url}/api/stats", headers={"Authorization": "Bearer nope"}, timeout=10).status_code == 401


@pytest.mark.parametrize(
    "query",
    ["from=2027-13-01", "to=tomorrow", f"from={DAY_2}&to={DAY_1}", "from=1990-01-01", "to=0001-01-01", "to=9999-12-31"],
)
def test_bad_dates_get_a_clear_400(app, query):
    url, _ = app
    browser = sign_in(url)
    page = browser.get(f"{url}/console/analytics?{query}", timeout=10)
    assert page.status_code == 400 and 'class="error"' in page.text
    api = browser.get(f"{url}/api/stats?{query}", timeout=10)
    assert api.status_code == 400 and api.json()["error"] == "invalid_range"


def test_the_page_embeds_the_numbers_escaped_and_loads_only_our_scripts(app):
    url, _ = app
    browser = sign_in(url)
    page = browser.get(f"{url}/console/analytics?{RANGE}", timeout=10)
    assert page.status_code == 200 and "script-src" not in page.headers["content-security-policy"]
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert "<script>evil" not in page.text and "<script>alert" not in page.text
    assert "&lt;script&gt;evil()&lt;/script&gt;" in page.text  # the numbers table
    data = re.search(r'<script type="application/json" id="data">(.*?)</script>', page.text, re.S).group(1)
    assert "<" not in data
    intents = next(chart for chart in json.loads(data)["charts"] if chart["name"] == "intents")
    assert [XSS_INTENT, 1] in intents["rows"]
    scripts = re.findall(r'<script src="([^"]+)"', page.text)
    assert scripts == ["/vendor/chart.umd.js", "/console/analytics.js"]
    for script in scripts:
        served = requests.get(url + script, timeout=10)
        assert served.status_code == 200 and served.headers["content-type"].startswith("application/javascript")
    assert "Chart" in requests.get(f"{url}/vendor/chart.umd.js", timeout=10).text[:2000]
    assert f'href="/console/analytics/feedback.csv?from={DAY_1}&amp;to={DAY_2}"' in page.text


def test_the_default_range_is_the_last_30_days():
    period = parse_range(None, "", today=date(2027, 3, 31))
    assert (period.first, period.last) == (date(2027, 3, 2), date(2027, 3, 31))


def test_defusing_prefixes_formula_cells_only():
    cells = (
        "=1+1",
        "+1",
        "-2",
        "@x",
        "  =1",
        "\tx",
        "ok",
        "a=b",
        3,
        -2,
        None,
        datetime(2030, 1, 2, tzinfo=timezone.utc),
    )
    assert [safe_cell(cell) for cell in cells] == [
        "'=1+1",
        "'+1",
        "'-2",
        "'@x",
        "'  =1",
        "'\tx",
        "ok",
        "a=b",
        "3",
        "-2",
        "",
        "2030-01-02T00:00:00+00:00",
    ]
    assert to_csv(Chart("c", "C", "bar", ("a", "b"), [("=x", 1)])) == "a,b\r\n'=x,1\r\n"
