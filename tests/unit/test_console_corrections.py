"""Intent corrections, their training export and the unanswered questions, on the real web app, over a fresh SQLite
database and over PostgreSQL (a throw-away schema; skipped when no server answers on 127.0.0.1:5432)."""

from __future__ import annotations

import random
import re
import time
from collections import Counter

import pytest
import requests
import sqlalchemy as sa
import yaml

from bot.cli import main
from bot.console.accounts import add_staff
from bot.console.corrections import (
    SIMILARITY,
    UnansweredGroup,
    correction_form_html,
    domain_intents,
    exact_groups,
    finished_groups,
    group_unanswered,
    normalise,
    record_correction,
    training_yaml,
    unanswered_messages,
)
from bot.console.summary import summarise
from bot.storage.app_db import audit_log
from tests.e2e.harness import running_web_app
from tests.unit.rasa_events import action, add_events, bot, ensure_events_table, user
from tests.unit.supporters_db import migrated_database

PASSWORD = "a long enough password"
SCRIPT = "<script>alert(1)</script> weather"
# Long visitor messages whose e-mail address or phone number straddles where a page cuts them: at 300 characters
# (an unanswered question's example) and at 200 (the list of corrections).
LONG_EMAIL = "x" * 285 + " write to kim@example.org"  # cut at 300: "kim@e"
LONG_PHONE = "y" * 286 + " call +1 416 555 0199"  # cut at 300: "+1 416 5"
LONG_CORRECTED = "z" * 187 + " mail kim@example.org"  # cut at 200: "kim@exa"


def add_message(engine: sa.engine.Engine, sender: str, text: str, intent: str) -> int:
    """A visitor message as Rasa's tracker store writes it (now), returning its events row id."""
    return add_events(engine, sender, [user(text, intent, 0.3)])[0]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def console(request, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("corrections")
    with migrated_database(request.param, workdir) as database_url:
        engine = sa.create_engine(database_url)
        add_staff(engine, "amira", "admin", PASSWORD)
        add_staff(engine, "vera", "viewer", PASSWORD)
        ensure_events_table(engine)
        ids = {
            "weather-1": add_message(engine, "c-1", "whats the weather?", "nlu_fallback"),
            "weather-2": add_message(engine, "c-2", "What's the weather", "out_of_scope"),
            "script": add_message(engine, "c-3", SCRIPT, "nlu_fallback"),
            "donate": add_message(engine, "c-3", "how do I give monthly", "greet"),
            "long-email": add_message(engine, "c-5", LONG_EMAIL, "nlu_fallback"),
            "long-phone": add_message(engine, "c-5", LONG_PHONE, "out_of_scope"),
            "long-corrected": add_message(engine, "c-6", LONG_CORRECTED, "greet"),
        }
        # understood with confidence, but the dialogue policy found nothing to do: the core fallback answered it
        core = [user("is the gala in Halifax this year", "ask_event", 0.97), action("action_core_fallback")]
        add_events(engine, "c-4", [*core, bot("Sorry, I lost track of our conversation there.")])
        # an old one, outside the default 30 days, and a bot reply
        add_events(engine, "c-old", [user("an old question", "nlu_fallback", 0.3)], start=time.time() - 100 * 86400)
        add_events(engine, "c-1", [bot("Sorry")])
        with running_web_app(workdir, database_url) as url:
            yield url, engine, ids, database_url
        engine.dispose()


def sign_in(url: str, name: str) -> tuple[requests.Session, str]:
    """A signed-in browser and its session's CSRF token."""
    browser = requests.Session()
    form = browser.get(f"{url}/console/login", timeout=10)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    browser.post(f"{url}/console/login", data={"csrf_token": csrf, "name": name, "password": PASSWORD}, timeout=30)
    page = browser.get(f"{url}/console/corrections", timeout=10)
    assert page.status_code == 200
    return browser, re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def correct(browser: requests.Session, url: str, csrf: str, event_id, intent: str, **extra) -> requests.Response:
    data = {"csrf_token": csrf, "event_id": str(event_id), "corrected_intent": intent, **extra}
    return browser.post(f"{url}/console/corrections", data=data, allow_redirects=False, timeout=10)


def test_unauthenticated_requests_go_to_the_login_page(console):
    url, *_ = console
    for path in ("/console/corrections", "/console/corrections/export.yml", "/console/unanswered"):
        answer = requests.get(url + path, allow_redirects=False, timeout=10)
        assert answer.status_code == 303 and answer.headers["location"] == "/console/login", path
    answer = requests.post(f"{url}/console/corrections", data={"event_id": "1"}, allow_redirects=False, timeout=10)
    assert answer.status_code == 303 and answer.headers["location"] == "/console/login"


def test_a_correction_is_recorded_updated_and_listed(console):
    url, engine, ids, _ = console
    browser, csrf = sign_in(url, "amira")
    answer = correct(browser, url, csrf, ids["donate"], "ask_matching", next="/console/conversations/c-3")
    assert answer.status_code == 303 and answer.headers["location"] == "/console/conversations/c-3"
    answer = correct(browser, url, csrf, ids["donate"], "donate", next="https://evil.example/")
    assert answer.status_code == 303 and answer.headers["location"] == "/console/corrections"
    page = browser.get(f"{url}/console/corrections", timeout=10)
    assert "how do I give monthly" in page.text and "<td>greet</td><td>donate</td><td>amira</td>" in page.text
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM intent_corrections")).scalar_one() == 1


def test_forged_csrf_bad_intent_and_unknown_message_are_refused(console):
    url, engine, ids, _ = console
    browser, csrf = sign_in(url, "amira")
    assert correct(browser, url, "forged", ids["weather-1"], "ask_event").status_code == 403
    assert correct(browser, url, csrf, ids["weather-1"], "not_an_intent").status_code == 400
    assert correct(browser, url, csrf, ids["weather-1"], "nlu_fallback").status_code == 400
    assert correct(browser, url, csrf, 999_999, "greet").status_code == 404
    assert correct(browser, url, csrf, "nope", "greet").status_code == 404
    with engine.connect() as connection:
        query = sa.text("SELECT count(*) FROM intent_corrections WHERE event_id = :e")
        assert connection.execute(query, {"e": ids["weather-1"]}).scalar_one() == 0


def test_the_export_is_rasa_training_data_with_the_text_under_its_corrected_intent(console, tmp_path, monkeypatch):
    from rasa.shared.nlu.training_data.loading import load_data

    url, engine, ids, database_url = console
    browser, csrf = sign_in(url, "amira")
    assert correct(browser, url, csrf, ids["script"], "out_of_scope").status_code == 303
    assert correct(browser, url, csrf, ids["weather-2"], "out_of_scope").status_code == 303
    download = browser.get(f"{url}/console/corrections/export.yml", timeout=10)
    assert download.status_code == 200 and "attachment" in download.headers["content-disposition"]
    exported = tmp_path / "download.yml"
    exported.write_text(download.text, encoding="utf-8")
    examples = {(m.get("intent"), m.get("text")) for m in load_data(str(exported)).training_examples}
    assert examples == {
        ("donate", "how do I give monthly"),
        ("out_of_scope", SCRIPT),
        ("out_of_scope", "What's the weather"),
    }
    monkeypatch.setenv("DATABASE_URL", database_url)
    written = tmp_path / "cli.yml"
    assert main(["export-training", "--output", str(written)]) == 0
    assert written.read_text(encoding="utf-8") == download.text
    with engine.connect() as connection:
        actors = connection.execute(sa.select(audit_log.c.actor).where(audit_log.c.action == "training.export")).all()
    assert {row.actor for row in actors} == {"amira", "cli"}
    viewer, _ = sign_in(url, "vera")
    assert viewer.get(f"{url}/console/corrections/export.yml", timeout=10).status_code == 403


def test_unanswered_questions_are_grouped_by_similar_text(console):
    url, *_ = console
    browser, _ = sign_in(url, "vera")
    page = browser.get(f"{url}/console/unanswered", timeout=10)
    assert page.status_code == 200
    rows = re.findall(r"<tr><td>(\d+)</td><td>(.*?)</td>", page.text)
    assert rows[0][0] == "2" and rows[0][1] in ("whats the weather?", "What&#x27;s the weather")
    assert ("1", "&lt;script&gt;alert(1)&lt;/script&gt; weather") in rows
    assert "an old question" not in page.text and "<script>alert" not in page.text
    assert "an old question" in browser.get(f"{url}/console/unanswered?days=365", timeout=10).text
    assert browser.get(f"{url}/console/unanswered?days=x", timeout=10).status_code == 200


def test_a_visitors_script_is_escaped_on_every_page(console):
    url, _engine, ids, _ = console
    browser, csrf = sign_in(url, "amira")
    correct(browser, url, csrf, ids["script"], "out_of_scope")
    for path in ("/console/corrections", "/console/unanswered"):
        text = browser.get(url + path, timeout=10).text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text and "<script>" not in text, path


def test_grouping_is_deterministic_and_merges_similar_word_sets():
    assert normalise("  What's   the WEATHER?! ") == "whats the weather"
    groups = group_unanswered(
        [
            ("a", "whats the weather?"),
            ("b", "What's the weather"),
            ("c", "what is the weather today"),
            ("d", "whats the weather like"),
            ("e", "can I volunteer"),
        ]
    )
    assert [(g.count, g.example) for g in groups] == [
        (3, "What's the weather"),
        (1, "can I volunteer"),
        (1, "what is the weather today"),
    ]
    assert group_unanswered([("a", "x y"), ("b", "y x")])[0].count == 2
    assert group_unanswered([]) == []


def test_training_yaml_survives_awkward_texts(tmp_path):
    from rasa.shared.nlu.training_data.loading import load_data

    from bot.console.corrections import Correction

    awkward = ['key: "value" # not a comment', "- a dash\nand a new line", "[Toronto](city) please", "  ", "é ✓"]
    corrections = [
        Correction(i, "c", i, text, None, "ask_event", "amira", None)  # type: ignore[arg-type]
        for i, text in enumerate([*awkward, awkward[0]])
    ]
    path = tmp_path / "nlu.yml"
    path.write_text(training_yaml(corrections), encoding="utf-8")
    assert yaml.safe_load(path.read_text(encoding="utf-8"))["version"] == "3.1"
    loaded = load_data(str(path))
    texts = [m.get("text") for m in loaded.training_examples]
    assert texts == ['key: "value" # not a comment', "- a dash and a new line", "(Toronto)(city) please", "é ✓"]
    assert not loaded.entity_examples


def test_the_correction_form_is_escaped_and_preselects_the_intent():
    html = correction_form_html(7, "donate", 'x"><script>', "/console/conversations/a?b=<c>", ["greet", "donate"])
    assert '<option value="donate" selected>donate</option>' in html and '<option value="out_of_scope">' in html
    assert "<script>" not in html and "&lt;c&gt;" in html and 'name="event_id" value="7"' in html
    assert (
        "out_of_scope" in domain_intents() and "donate" in domain_intents() and "nlu_fallback" not in domain_intents()
    )


def test_recording_refuses_an_unknown_intent_without_touching_the_database(tmp_path):
    from bot.console.corrections import CorrectionError

    engine = sa.create_engine(f"sqlite:///{tmp_path}/x.db")
    with pytest.raises(CorrectionError) as refused:
        record_correction(engine, 1, "nope", "amira", intents=["greet"])
    assert refused.value.status == 400


def reference_group_unanswered(messages: list[tuple[str, str]]) -> list[UnansweredGroup]:
    """The first, all-pairs merge (quadratic: too slow for the page), kept as the definition of the result (the
    exact grouping before it and the choice of examples after it are the shared steps)."""

    def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
        return len(a & b) / len(a | b) if a or b else 1.0

    merged: list[UnansweredGroup] = []
    for group in exact_groups(messages):
        home = next((m for m in merged if jaccard(m.tokens, group.tokens) >= SIMILARITY), None)
        if home is None:
            merged.append(UnansweredGroup(group.example, 0, group.conversation_id, group.tokens))
            home = merged[-1]
        home.count += group.count
        home.wordings.update(group.wordings)
    return finished_groups(merged)


def random_messages(seed: int, count: int, vocabulary: int) -> list[tuple[str, str]]:
    """Seeded visitor messages of 1 to 12 words from a small vocabulary (so that many are alike), some repeated
    with other capitals and punctuation."""
    generator = random.Random(seed)
    words = [f"w{n}" for n in range(vocabulary)]
    messages: list[tuple[str, str]] = []
    for n in range(count):
        if messages and generator.random() < 0.2:
            text = generator.choice(messages)[1].upper() + generator.choice(["?", "!", ""])
        else:
            size = generator.randint(1, 12)
            text = " ".join(generator.choices(words, weights=range(vocabulary, 0, -1), k=size))
        messages.append((f"c-{n % 37}", text))
    return messages


def described(groups: list[UnansweredGroup]) -> list[tuple]:
    return [(g.count, g.example, g.conversation_id, g.tokens, dict(g.wordings)) for g in groups]


@pytest.mark.parametrize(("seed", "vocabulary"), [(1, 12), (2, 20), (3, 40), (4, 8)])
def test_grouping_gives_what_comparing_all_pairs_gives(seed, vocabulary):
    messages = random_messages(seed, 400, vocabulary)
    expected = reference_group_unanswered(messages)
    distinct = {normalise(text) or text.strip().lower() for _, text in messages}
    assert len(expected) <= len(distinct) - 10  # the similar texts were merged: the comparison means something
    assert described(group_unanswered(messages)) == described(expected)
    shuffled = random.Random(seed).sample(messages, len(messages))
    assert described(group_unanswered(shuffled)) == described(reference_group_unanswered(shuffled))


def test_a_message_answered_by_a_fallback_action_is_unanswered(console):
    """As the summary counts a fallback: classified nlu_fallback, or answered by a fallback action before the
    visitor's next message; out of scope too."""
    url, engine, _ids, _ = console
    now = time.time()
    conversations = {
        "fb-none": [action("action_core_fallback")],
        "fb-core": [user("is the gala in Toronto", "ask_event", 0.98), action("action_core_fallback"), bot("Sorry"),
                    action("action_fallback_topics")],
        "fb-no-intent": [user("hm"), action("action_core_fallback")],
        "fb-topics": [user("hi", "greet", 0.99), action("utter_greet"), user("moose", "donate", 0.95),
                      action("action_fallback_topics")],
        "fb-both": [user("blorp", "nlu_fallback", 0.2), action("action_fallback_topics")],
        "fb-scope": [user("tell me a joke", "out_of_scope", 0.9), action("utter_out_of_scope")],
        "fb-fine": [user("how do I donate", "donate", 0.99), action("utter_donate"), action("action_listen")],
    }  # fmt: skip
    for n, (sender, events) in enumerate(conversations.items()):
        add_events(engine, sender, events, start=now - 600 + n * 60)
    # a fallback long ago, outside the period
    add_events(
        engine, "fb-old", [user("old gala", "ask_event"), action("action_core_fallback")], start=now - 40 * 86400
    )
    listed = [(sender, text) for sender, text in unanswered_messages(engine, 30) if sender.startswith("fb-")]
    assert listed == [("fb-scope", "tell me a joke"), ("fb-both", "blorp"), ("fb-topics", "moose"),
                      ("fb-no-intent", "hm"), ("fb-core", "is the gala in Toronto")]  # fmt: skip
    # the same messages as the summary's fallback count (out of scope aside)
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT id, sender_id, type_name, timestamp, intent_name, action_name, data, 0 AS link FROM events "
                "WHERE sender_id LIKE 'fb-%' AND timestamp >= :since ORDER BY sender_id, id"
            ),
            {"since": now - 30 * 86400},
        ).all()
    fallbacks = Counter({s.conversation_id: sum(d.fallbacks for d in s.days.values()) for s in summarise(rows)})
    assert +fallbacks == Counter(sender for sender, _ in listed if sender != "fb-scope")
    browser, _ = sign_in(url, "vera")
    page = browser.get(f"{url}/console/unanswered", timeout=10).text
    assert "is the gala in Halifax this year" in page and "is the gala in Toronto" in page
    assert "how do I donate" not in page and "old gala" not in page


def test_a_viewer_never_sees_a_cut_email_address_or_phone_number(console):
    url, engine, ids, _ = console
    record_correction(engine, ids["long-corrected"], "donate", "amira")
    browser, _ = sign_in(url, "vera")
    unanswered = browser.get(f"{url}/console/unanswered", timeout=10).text
    assert "x" * 285 + " write to [e-ma<" in unanswered and "y" * 286 + " call [phone h<" in unanswered
    assert "kim@" not in unanswered and "416" not in unanswered
    corrections = browser.get(f"{url}/console/corrections", timeout=10).text
    assert "z" * 187 + " mail [e-mail<" in corrections and "kim@" not in corrections
    admin, _ = sign_in(url, "amira")
    assert "write to kim@e<" in admin.get(f"{url}/console/unanswered", timeout=10).text
    assert "mail kim@exa<" in admin.get(f"{url}/console/corrections", timeout=10).text


def test_a_message_not_understood_shows_what_the_model_said_but_cannot_be_sent_as_the_correction():
    html = correction_form_html(7, "nlu_fallback", "token", "/console", ["greet", "donate"])
    assert '<option value="nlu_fallback" selected disabled>nlu_fallback (what the model said)</option>' in html
    assert html.index("nlu_fallback") < html.index('value="greet"')
    assert html.count(" selected") == 1
