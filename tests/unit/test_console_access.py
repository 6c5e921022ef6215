"""Signing in to the staff console on the real web app (`python -m bot.web` on a free port), on a fresh SQLite
database and on PostgreSQL (a throw-away schema; skipped when no server answers on 127.0.0.1:5432)."""

from __future__ import annotations

import csv
import io
import json
import re
import time
from datetime import datetime, timezone
from urllib.parse import quote

import pytest
import requests
import sqlalchemy as sa

from bot.console.accounts import MAX_FAILED_LOGINS, add_staff, issue_token
from bot.storage.app_db import feedback
from tests.e2e.harness import running_web_app
from tests.unit.rasa_events import action, add_events, bot, ensure_events_table, slot, user
from tests.unit.supporters_db import migrated_database

PASSWORD = "a long enough password"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def console(request, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("console")
    with migrated_database(request.param, workdir) as database_url:
        engine = sa.create_engine(database_url)
        add_staff(engine, "amira", "admin", PASSWORD)
        add_staff(engine, "locky", "viewer", PASSWORD)
        # A conversation in Rasa's events table, as the tracker store writes it (with a script in the first message).
        ensure_events_table(engine)
        events = [
            user("<script>alert(1)</script> hi", "greet", 0.93),
            bot("Hello!"),
            user(
                "I'm kim@example.org, call 416-555-0199",
                "subscribe_newsletter",
                0.81,
                entities=[{"entity": "place", "value": "Toronto"}],
            ),
            action("newsletter_form"),
            slot("newsletter_email", "kim@example.org"),
            bot("Thanks!"),
        ]
        add_events(engine, "c-1", events, start=1_800_000_000)
        with running_web_app(workdir, database_url) as url:
            yield url, engine
        engine.dispose()


def sign_in(url: str, name: str, password: str) -> tuple[requests.Session, requests.Response]:
    browser = requests.Session()
    form = browser.get(f"{url}/console/login", timeout=10)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    answer = browser.post(
        f"{url}/console/login",
        data={"csrf_token": csrf, "name": name, "password": password},
        allow_redirects=False,
        timeout=30,
    )
    return browser, answer


def test_unauthenticated_requests_get_the_login_page_or_401(console):
    url, _ = console
    answer = requests.get(f"{url}/console", allow_redirects=False, timeout=10)
    assert answer.status_code == 303 and answer.headers["location"] == "/console/login"
    assert requests.get(f"{url}/api/me", timeout=10).status_code == 401
    assert requests.get(f"{url}/api/me", headers={"Authorization": "Bearer nope"}, timeout=10).status_code == 401


def test_signing_in_sets_a_strict_httponly_session_and_shows_the_conversations_escaped(console):
    url, _ = console
    browser, answer = sign_in(url, "amira", PASSWORD)
    assert answer.status_code == 303 and answer.headers["location"] == "/console"
    cookie = answer.headers["set-cookie"]
    assert "ijm_console=" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    page = browser.get(f"{url}/console", timeout=10)
    assert page.status_code == 200 and "amira (admin)" in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; hi" in page.text and "<script>alert" not in page.text
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert browser.get(f"{url}/api/me", timeout=10).json() == {"name": "amira", "role": "admin"}


def test_a_form_without_its_csrf_token_is_refused(console):
    url, _ = console
    answer = requests.post(
        f"{url}/console/login", data={"name": "amira", "password": PASSWORD}, allow_redirects=False, timeout=10
    )
    assert answer.status_code == 403 and "ijm_console=" not in answer.headers.get("set-cookie", "")
    browser, _ = sign_in(url, "amira", PASSWORD)
    refused = browser.post(f"{url}/console/logout", data={"csrf_token": "forged"}, allow_redirects=False, timeout=10)
    assert refused.status_code == 403
    assert browser.get(f"{url}/api/me", timeout=10).status_code == 200  # still signed in


def test_signing_out_ends_the_session_on_the_server(console):
    url, _ = console
    browser, _ = sign_in(url, "amira", PASSWORD)
    stolen = browser.cookies.get("ijm_console")
    page = browser.get(f"{url}/console", timeout=10)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    out = browser.post(f"{url}/console/logout", data={"csrf_token": csrf}, allow_redirects=False, timeout=10)
    assert out.status_code == 303
    assert requests.get(f"{url}/api/me", cookies={"ijm_console": stolen}, timeout=10).status_code == 401


def test_wrong_passwords_are_refused_then_the_account_is_locked(console):
    url, _ = console
    for _ in range(MAX_FAILED_LOGINS - 1):
        assert sign_in(url, "locky", "wrong password here")[1].status_code == 401
    assert sign_in(url, "locky", "wrong password here")[1].status_code == 429
    locked = sign_in(url, "locky", PASSWORD)[1]
    assert locked.status_code == 429 and "locked until" in locked.text


def test_an_api_token_authenticates_the_api(console):
    url, engine = console
    token = issue_token(engine, "amira")
    answer = requests.get(f"{url}/api/me", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert answer.json() == {"name": "amira", "role": "admin"}


@pytest.mark.parametrize(
    "body", [b"\xff\xfe", b"name=%ZZ&&&", b"x" * 5000, b""], ids=["binary", "bad-escapes", "huge", "empty"]
)
def test_malformed_login_forms_get_a_clear_refusal(console, body):
    url, _ = console
    answer = requests.post(
        f"{url}/console/login",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 403


def test_a_transcript_shows_each_message_with_its_intent_and_folds_the_steps_away(console):
    url, _ = console
    browser, _ = sign_in(url, "amira", PASSWORD)
    page = browser.get(f"{url}/console/conversations/c-1", timeout=10)
    assert page.status_code == 200
    assert "greet 0.93" in page.text and "subscribe_newsletter 0.81" in page.text and "place=Toronto" in page.text
    assert "&lt;script&gt;" in page.text and "<script>alert" not in page.text
    assert "<details><summary>2 steps (actions and slot changes)</summary>" in page.text
    assert page.text.count('action="/console/corrections"') == 2  # a correction form under each visitor message
    assert 'href="/console/analytics"' in page.text
    assert "kim@example.org" in page.text and "416-555-0199" in page.text  # an admin sees them
    assert browser.get(f"{url}/console/conversations/nope", timeout=10).status_code == 404
    assert requests.get(f"{url}/console/conversations/c-1", allow_redirects=False, timeout=10).status_code == 303


def test_a_viewer_sees_e_mail_addresses_and_phone_numbers_masked(console):
    url, engine = console
    add_staff(engine, "vera", "viewer", PASSWORD)
    browser, _ = sign_in(url, "vera", PASSWORD)
    for path in ("/console", "/console/conversations/c-1"):
        page = browser.get(url + path, timeout=10)
        assert "kim@example.org" not in page.text and "416-555-0199" not in page.text
    assert "[e-mail hidden]" in page.text and "[phone hidden]" in page.text


def add_conversation(engine, conversation_id: str) -> None:
    add_events(engine, conversation_id, [user("please forget me")], start=1)


def events_of(engine, conversation_id: str) -> int:
    with engine.connect() as connection:
        query = sa.text("SELECT count(*) FROM events WHERE sender_id = :s")
        return connection.execute(query, {"s": conversation_id}).scalar_one()


def test_erasing_through_the_api_needs_an_admin(console):
    url, engine = console
    add_conversation(engine, "api-erase")
    add_staff(engine, "vic", "viewer", PASSWORD)
    viewer, admin = issue_token(engine, "vic"), issue_token(engine, "amira")
    target = f"{url}/api/conversations/api-erase"
    assert requests.delete(target, timeout=10).status_code == 401
    assert requests.delete(target, headers={"Authorization": f"Bearer {viewer}"}, timeout=10).status_code == 403
    browser, _ = sign_in(url, "amira", PASSWORD)
    assert browser.delete(target, timeout=10).status_code == 403  # a session without its CSRF header
    assert events_of(engine, "api-erase") == 1
    answer = requests.delete(target, headers={"Authorization": f"Bearer {admin}"}, timeout=10)
    assert answer.status_code == 200 and answer.json()["deleted"]["events"] == 1
    assert events_of(engine, "api-erase") == 0
    assert requests.delete(target, headers={"Authorization": f"Bearer {admin}"}, timeout=10).status_code == 404


def test_erasing_in_the_console_asks_for_confirmation_first(console):
    url, engine = console
    add_conversation(engine, "console-erase")
    browser, _ = sign_in(url, "amira", PASSWORD)
    transcript = browser.get(f"{url}/console/conversations/console-erase", timeout=10)
    assert "Erase this conversation" in transcript.text
    confirmation = browser.get(f"{url}/console/conversations/console-erase/erase", timeout=10)
    assert "for good" in confirmation.text and events_of(engine, "console-erase") == 1
    forged = browser.post(f"{url}/console/conversations/console-erase/erase", data={"csrf_token": "x"}, timeout=10)
    assert forged.status_code == 403 and events_of(engine, "console-erase") == 1
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', confirmation.text).group(1)
    done = browser.post(
        f"{url}/console/conversations/console-erase/erase", data={"csrf_token": csrf}, allow_redirects=False, timeout=10
    )
    assert done.status_code == 303 and events_of(engine, "console-erase") == 0
    again = browser.post(f"{url}/console/conversations/console-erase/erase", data={"csrf_token": csrf}, timeout=10)
    assert again.status_code == 404 and "Nothing is stored" in again.text


def test_the_json_api_lists_and_reads_conversations_masked_for_viewers(console):
    url, engine = console
    admin = {"Authorization": f"Bearer {issue_token(engine, 'amira')}"}
    add_staff(engine, "val", "viewer", PASSWORD)
    viewer = {"Authorization": f"Bearer {issue_token(engine, 'val')}"}
    assert requests.get(f"{url}/api/conversations", timeout=10).status_code == 401
    listing = requests.get(f"{url}/api/conversations", headers=admin, timeout=10).json()
    assert "c-1" in [c["id"] for c in listing["conversations"]] and listing["page"] == 1
    assert requests.get(f"{url}/api/conversations?page=x", headers=admin, timeout=10).status_code == 400
    assert requests.get(f"{url}/api/conversations?page=0", headers=admin, timeout=10).status_code == 400
    full = requests.get(f"{url}/api/conversations/c-1", headers=admin, timeout=10).json()
    assert full["turns"][0]["intent"] == "greet" and full["turns"][0]["text"].startswith("<script>")
    assert "kim@example.org" in full["turns"][1]["text"]
    masked = requests.get(f"{url}/api/conversations/c-1", headers=viewer, timeout=10).json()
    assert "kim@example.org" not in json.dumps(masked) and "416-555-0199" not in json.dumps(masked)
    assert requests.get(f"{url}/api/conversations/nope", headers=admin, timeout=10).status_code == 404


def csrf_of(page: requests.Response) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def test_review_status_note_and_tags_are_saved_and_filter_the_list(console):
    url, engine = console
    add_conversation(engine, "to-review")
    browser, _ = sign_in(url, "amira", PASSWORD)
    page = browser.get(f"{url}/console/conversations/to-review", timeout=10)
    csrf = csrf_of(page)
    saved = browser.post(
        f"{url}/console/conversations/to-review/review",
        data={"csrf_token": csrf, "status": "needs_attention", "note": "<b>check</b> the answer"},
        allow_redirects=False,
        timeout=10,
    )
    assert saved.status_code == 303
    browser.post(
        f"{url}/console/conversations/to-review/tags", data={"csrf_token": csrf, "add": "Donor Care"}, timeout=10
    )
    page = browser.get(f"{url}/console/conversations/to-review", timeout=10)
    assert "&lt;b&gt;check&lt;/b&gt; the answer" in page.text and "donor care" in page.text
    assert 'value="needs_attention" selected' in page.text
    # the filters combine, and the URL keeps them
    listed = browser.get(f"{url}/console?status=needs_attention&tag=donor+care", timeout=10)
    assert "please forget me" in listed.text and "&lt;script&gt;" not in listed.text
    assert "please forget me" not in browser.get(f"{url}/console?status=reviewed", timeout=10).text
    assert "please forget me" in browser.get(f"{url}/console?q=FORGET", timeout=10).text
    assert "please forget me" not in browser.get(f"{url}/console?q=forget&tag=other", timeout=10).text
    assert browser.get(f"{url}/console?from=2000-13-01", timeout=10).status_code == 400
    assert browser.get(f"{url}/console?status=bogus", timeout=10).status_code == 400
    # removing the tag; a bad status; a forged form
    browser.post(
        f"{url}/console/conversations/to-review/tags", data={"csrf_token": csrf, "remove": "donor care"}, timeout=10
    )
    assert "please forget me" not in browser.get(f"{url}/console?tag=donor+care", timeout=10).text
    bad = browser.post(
        f"{url}/console/conversations/to-review/review", data={"csrf_token": csrf, "status": "x"}, timeout=10
    )
    assert bad.status_code == 400
    forged = browser.post(
        f"{url}/console/conversations/to-review/tags", data={"csrf_token": "f", "add": "x"}, timeout=10
    )
    assert forged.status_code == 403


def test_a_search_for_wildcards_matches_them_literally(console):
    url, engine = console
    add_conversation(engine, "wildcards")
    browser, _ = sign_in(url, "amira", PASSWORD)
    assert "please forget me" not in browser.get(f"{url}/console?q=%25%25", timeout=10).text  # "%%"
    assert "please forget me" not in browser.get(f"{url}/console?q=please_forget", timeout=10).text


def test_admins_export_the_filtered_conversations_as_csv_and_jsonl_and_it_is_audited(console):
    url, engine = console
    add_events(engine, "formula", [user('=HYPERLINK("http://evil")', "greet")], start=5)
    admin = {"Authorization": f"Bearer {issue_token(engine, 'amira')}"}
    csv_text = requests.get(f"{url}/api/export?format=csv&q=hyperlink", headers=admin, timeout=10).text
    assert csv_text.splitlines()[0] == "conversation_id,time,speaker,text,intent,confidence"
    assert "'=HYPERLINK" in csv_text and "c-1" not in csv_text  # defused, and only what the filter matched
    lines = requests.get(f"{url}/api/export?format=jsonl", headers=admin, timeout=10).text.splitlines()
    exported = {json.loads(line)["id"]: json.loads(line) for line in lines}
    assert exported["c-1"]["messages"][0]["text"] == "<script>alert(1)</script> hi"  # data, not HTML
    assert requests.get(f"{url}/api/export?format=xml", headers=admin, timeout=10).status_code == 400
    add_staff(engine, "vex", "viewer", PASSWORD)
    viewer = {"Authorization": f"Bearer {issue_token(engine, 'vex')}"}
    assert requests.get(f"{url}/api/export?format=csv", headers=viewer, timeout=10).status_code == 403
    assert requests.get(f"{url}/api/export?format=csv", timeout=10).status_code == 401
    browser, _ = sign_in(url, "amira", PASSWORD)
    download = browser.get(f"{url}/console/export/csv?q=hyperlink", timeout=10)
    assert download.headers["content-disposition"] == 'attachment; filename="conversations.csv"'
    with engine.connect() as connection:
        exports = connection.execute(
            sa.text("SELECT actor, target FROM audit_log WHERE action = 'conversations.export'")
        ).all()
    assert [tuple(row) for row in exports] == [("amira", "csv"), ("amira", "jsonl"), ("amira", "csv")]


def test_admins_read_the_audit_log_and_viewers_cannot(console):
    url, engine = console
    admin, _ = sign_in(url, "amira", PASSWORD)
    page = admin.get(f"{url}/console/audit", timeout=10)
    assert page.status_code == 200 and "staff.add" in page.text and 'href="/console/audit"' in page.text
    add_staff(engine, "vivi", "viewer", PASSWORD)
    viewer, _ = sign_in(url, "vivi", PASSWORD)
    refused = viewer.get(f"{url}/console/audit", timeout=10)
    assert refused.status_code == 403 and 'href="/console/audit"' not in refused.text


def test_the_list_shows_outcomes_and_filters_by_intent_action_confidence_feedback_and_outcome(console):
    url, engine = console
    now = time.time()
    add_events(engine, "unsure", [user("hmm whats this", "nlu_fallback", 0.2), action("action_fallback_topics")], now)
    giving = [
        user("i want to give", "donate", 0.99),
        action("action_donate"),
        bot("Give here: http://x/go/donate?c=giver"),
    ]
    add_events(engine, "giver", giving, now)
    with engine.begin() as connection:
        connection.execute(
            feedback.insert().values(
                conversation_id="giver", rating="down", message_text="x", created_at=datetime.now(timezone.utc)
            )
        )
    browser, _ = sign_in(url, "amira", PASSWORD)

    def listed(query: str) -> str:
        page = browser.get(f"{url}/console?{query}", timeout=10)
        assert page.status_code == 200, page.text
        return page.text

    assert "donation link shown" in listed("intent=donate") and "hmm whats this" not in listed("intent=donate")
    assert "i want to give" in listed("action=action_donate")
    assert "hmm whats this" in listed("fallback=1") and "i want to give" not in listed("fallback=1")
    assert "hmm whats this" in listed("below=0.5") and "i want to give" not in listed("below=0.5")
    assert "i want to give" in listed("thumbs_down=1") and "hmm whats this" not in listed("thumbs_down=1")
    assert "i want to give" in listed("outcome=donation_link&intent=donate")
    assert "i want to give" not in listed("outcome=donation_click")
    assert browser.get(f"{url}/console?below=2", timeout=10).status_code == 400
    assert browser.get(f"{url}/console?outcome=bogus", timeout=10).status_code == 400


@pytest.mark.parametrize("conversation_id", ["web/2026 #1?x=%41", "ünïcode ✓ id", "x/../y", "ends-with/", "a@b.ca"])
def test_a_conversation_whose_id_has_slashes_or_url_characters_is_read_reviewed_and_erased(console, conversation_id):
    """The REST channel accepts any printable sender id; the console must reach each one by the link it prints."""
    url, engine = console
    add_conversation(engine, conversation_id)
    target = quote(conversation_id, safe="")
    browser, _ = sign_in(url, "amira", PASSWORD)
    listed = browser.get(f"{url}/console?q=forget", timeout=10)
    assert f'href="/console/conversations/{target}"' in listed.text
    transcript = browser.get(f"{url}/console/conversations/{target}", timeout=10)
    assert transcript.status_code == 200 and "please forget me" in transcript.text
    saved = browser.post(
        f"{url}/console/conversations/{target}/tags",
        data={"csrf_token": csrf_of(transcript), "add": "odd id"},
        allow_redirects=False,
        timeout=10,
    )
    assert saved.status_code == 303 and saved.headers["location"] == f"/console/conversations/{target}"
    assert "odd id" in browser.get(f"{url}/console/conversations/{target}", timeout=10).text
    admin = {"Authorization": f"Bearer {issue_token(engine, 'amira')}"}
    read = requests.get(f"{url}/api/conversations/{target}", headers=admin, timeout=10)
    assert read.status_code == 200 and read.json()["id"] == conversation_id
    confirmation = browser.get(f"{url}/console/conversations/{target}/erase", timeout=10)
    assert confirmation.status_code == 200 and "for good" in confirmation.text
    erased = requests.delete(f"{url}/api/conversations/{target}", headers=admin, timeout=10)
    assert erased.status_code == 200 and erased.json()["erased"] == conversation_id
    assert events_of(engine, conversation_id) == 0


def test_a_viewer_sees_no_cut_address_in_the_list_and_no_entity_values(console):
    url, engine = console
    long_opening = "x" * 105 + " mail kim@example.org or call 416-555-0199 please"  # the 120-character cut is inside
    add_events(
        engine,
        "long-opening",
        [user(long_opening, "greet", 0.9, entities=[{"entity": "email", "value": "kim@example.org"}])],
    )
    add_staff(engine, "vanya", "viewer", PASSWORD)
    viewer, _ = sign_in(url, "vanya", PASSWORD)
    listed = viewer.get(f"{url}/console?q=xxxxxxxx", timeout=10).text
    assert 'href="/console/conversations/long-opening">xxxxx' in listed
    assert "kim@ex" not in listed and "416-5" not in listed
    transcript = viewer.get(f"{url}/console/conversations/long-opening", timeout=10).text
    assert "email=[e-mail hidden]" in transcript and "kim@example" not in transcript
    token = {"Authorization": f"Bearer {issue_token(engine, 'vanya')}"}
    turns = requests.get(f"{url}/api/conversations/long-opening", headers=token, timeout=10).json()["turns"]
    assert turns[0]["entities"] == ["email=[e-mail hidden]"]


def test_a_viewer_cannot_search_for_an_address_but_an_admin_can(console):
    url, engine = console
    add_events(engine, "searchable", [user("reach me at lee@example.net", "greet")])
    add_staff(engine, "vance", "viewer", PASSWORD)
    viewer, _ = sign_in(url, "vance", PASSWORD)
    refused = viewer.get(f"{url}/console?q=lee@example.net", timeout=10)
    assert refused.status_code == 400 and "can&#x27;t search for e-mail addresses" in refused.text
    token = {"Authorization": f"Bearer {issue_token(engine, 'vance')}"}
    api = requests.get(f"{url}/api/conversations?q=613-555-0100", headers=token, timeout=10)
    assert api.status_code == 400 and api.json()["error"] == "search_refused"
    assert viewer.get(f"{url}/console?q=reach+me", timeout=10).status_code == 200
    admin, _ = sign_in(url, "amira", PASSWORD)
    assert "lee@example.net" in admin.get(f"{url}/console?q=lee@example.net", timeout=10).text


def test_a_viewer_is_refused_the_console_erase_and_export(console):
    url, engine = console
    add_conversation(engine, "not-for-viewers")
    add_staff(engine, "vesna", "viewer", PASSWORD)
    viewer, _ = sign_in(url, "vesna", PASSWORD)
    page = viewer.get(f"{url}/console/conversations/not-for-viewers", timeout=10)
    assert "Erase this conversation" not in page.text
    assert viewer.get(f"{url}/console/conversations/not-for-viewers/erase", timeout=10).status_code == 403
    forged = viewer.post(
        f"{url}/console/conversations/not-for-viewers/erase", data={"csrf_token": csrf_of(page)}, timeout=10
    )
    assert forged.status_code == 403 and events_of(engine, "not-for-viewers") == 1
    assert "Export these conversations" not in viewer.get(f"{url}/console", timeout=10).text
    assert viewer.get(f"{url}/console/export/csv", timeout=10).status_code == 403


def test_pages_of_the_list_link_both_ways_and_keep_the_filters(console):
    url, engine = console
    for n in range(55):
        add_events(engine, f"paged-{n:02}", [user(f"pagination check {n}", "greet")], start=1_700_000_000 + n)
    browser, _ = sign_in(url, "amira", PASSWORD)
    first = browser.get(f"{url}/console?q=pagination+check", timeout=10).text
    assert first.count("pagination check ") == 50 and "pagination check 54" in first  # newest first
    assert 'href="/console?q=pagination+check&amp;page=2">Older conversations' in first and "Newer" not in first
    second = browser.get(f"{url}/console?q=pagination+check&page=2", timeout=10).text
    assert second.count("pagination check ") == 5 and "pagination check 0<" in second
    assert 'href="/console?q=pagination+check&amp;page=1">Newer conversations' in second and "Older" not in second
    admin = {"Authorization": f"Bearer {issue_token(engine, 'amira')}"}
    pages = [
        requests.get(f"{url}/api/conversations?q=pagination+check&page={n}", headers=admin, timeout=10).json()
        for n in (1, 2)
    ]
    assert [(len(p["conversations"]), p["has_more"]) for p in pages] == [(50, True), (5, False)]


def test_the_date_range_filter_takes_whole_utc_days(console):
    url, engine = console
    may_10 = datetime(2031, 5, 10, 23, 59, tzinfo=timezone.utc).timestamp()
    add_events(engine, "on-may-10", [user("dated conversation", "greet")], start=may_10)
    browser, _ = sign_in(url, "amira", PASSWORD)

    def found(query: str) -> bool:
        page = browser.get(f"{url}/console?q=dated+conversation&{query}", timeout=10)
        assert page.status_code == 200
        return 'href="/console/conversations/on-may-10"' in page.text

    assert found("from=2031-05-10&to=2031-05-10") and found("from=2031-05-01") and found("to=2031-05-10")
    assert not found("from=2031-05-11") and not found("to=2031-05-09")


def test_checkbox_filters_are_on_off_or_refused(console):
    url, engine = console
    add_events(engine, "understood", [user("a clear question indeed", "greet", 0.99)])
    browser, _ = sign_in(url, "amira", PASSWORD)
    assert "a clear question indeed" in browser.get(f"{url}/console?q=clear+question&fallback=0", timeout=10).text
    assert "a clear question indeed" not in browser.get(f"{url}/console?q=clear+question&fallback=1", timeout=10).text
    assert browser.get(f"{url}/console?thumbs_down=maybe", timeout=10).status_code == 400


def test_a_visitors_html_is_shown_as_text_in_the_list_and_exported_as_data(console):
    url, engine = console
    payload = '<img src=x onerror="alert(1)"> <script>alert(2)</script>'
    add_events(engine, "hostile", [user(payload, "greet"), bot("Hello!")])
    browser, _ = sign_in(url, "amira", PASSWORD)
    listed = browser.get(f"{url}/console?q=onerror", timeout=10).text
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in listed and "<img src=x" not in listed
    assert "<script>alert(2)" not in listed
    exported = browser.get(f"{url}/console/export/csv?q=onerror", timeout=10)
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert rows[0]["text"] == payload  # the visitor's words as data, unchanged; a CSV is not rendered as HTML
    assert exported.headers["content-type"].startswith("text/csv")
    assert exported.headers["x-export-conversations"] == "1" and exported.headers["x-export-truncated"] == "false"


def test_cookies_are_secure_when_the_public_address_is_https(tmp_path):
    with migrated_database("sqlite", tmp_path) as database_url:
        engine = sa.create_engine(database_url)
        add_staff(engine, "amira", "admin", PASSWORD)
        with running_web_app(tmp_path, database_url, PUBLIC_URL="https://chat.example.org") as url:
            form = requests.get(f"{url}/console/login", timeout=10)
            assert "secure" in form.headers["set-cookie"].lower()
            # requests (like a browser) keeps a Secure cookie off plain http: send it by hand, as https would
            csrf = csrf_of(form)
            answer = requests.post(
                f"{url}/console/login",
                data={"csrf_token": csrf, "name": "amira", "password": PASSWORD},
                headers={"Cookie": f"ijm_console_login={csrf}"},
                allow_redirects=False,
                timeout=30,
            )
            assert answer.status_code == 303
            session_cookie = answer.raw.headers.getlist("set-cookie")
            assert any(c.startswith("ijm_console=") and "; Secure" in c for c in session_cookie), session_cookie
        with running_web_app(tmp_path, database_url, PUBLIC_URL="http://127.0.0.1") as url:
            assert "secure" not in requests.get(f"{url}/console/login", timeout=10).headers["set-cookie"].lower()
        engine.dispose()
