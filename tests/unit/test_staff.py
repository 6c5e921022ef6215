"""Staff accounts (bot/console/accounts.py) and `ijm-bot staff`, on a migrated temporary SQLite database and on
PostgreSQL (a throw-away schema; skipped when no server answers on 127.0.0.1:5432)."""

from __future__ import annotations

import io
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from bot.cli import main
from bot.console import accounts
from bot.console.accounts import (
    LOCK_DURATION,
    MAX_FAILED_LOGINS,
    StaffError,
    add_staff,
    any_staff,
    check_login,
    issue_token,
    list_staff,
    login_delay,
    member_for_token,
    remove_staff,
)
from bot.storage.app_db import audit_log, staff, staff_tokens
from bot.supporters.records import engine_for
from tests.unit.supporters_db import empty_database

PASSWORD = "correct horse battery"
T0 = datetime(2030, 1, 1, tzinfo=timezone.utc)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path, monkeypatch):
    with empty_database(request.param, tmp_path) as url:
        monkeypatch.setenv("DATABASE_URL", url)
        assert main(["migrate"]) == 0
        yield engine_for(url)


def test_a_password_is_stored_only_as_an_argon2_hash(engine):
    add_staff(engine, "amira", "admin", PASSWORD)
    with engine.connect() as connection:
        digest = connection.execute(sa.select(staff.c.password_hash)).scalar_one()
    assert digest.startswith("$argon2id$") and PASSWORD not in digest
    assert check_login(engine, "amira", PASSWORD, T0).member.name == "amira"
    assert check_login(engine, "amira", "wrong password!!", T0).member is None
    assert check_login(engine, "nobody", PASSWORD, T0).member is None


@pytest.mark.parametrize(
    ("name", "role", "password", "problem"),
    [
        ("amira", "owner", PASSWORD, "role"),
        ("", "admin", PASSWORD, "staff name"),
        ("<script>", "admin", PASSWORD, "staff name"),
        ("amira", "admin", "short", "at least"),
        ("amira", "admin", "x" * 2000, "at most"),
    ],
)
def test_bad_staff_details_are_refused(engine, name, role, password, problem):
    with pytest.raises(StaffError, match=problem):
        add_staff(engine, name, role, password)
    assert not any_staff(engine)


def test_a_name_is_taken_once(engine):
    add_staff(engine, "amira", "admin", PASSWORD)
    with pytest.raises(StaffError, match="already"):
        add_staff(engine, "amira", "viewer", PASSWORD)


def test_repeated_failures_are_slowed_then_locked_then_unlocked(engine):
    add_staff(engine, "ben", "viewer", PASSWORD)
    for attempt in range(1, MAX_FAILED_LOGINS):
        result = check_login(engine, "ben", "not the password", T0)
        assert result.failures == attempt and result.locked_until is None
        assert login_delay(result.failures) > login_delay(result.failures - 1)
    locked = check_login(engine, "ben", "not the password", T0)
    assert locked.locked_until == T0 + LOCK_DURATION
    # even the right password fails while locked
    assert check_login(engine, "ben", PASSWORD, T0 + timedelta(minutes=1)).member is None
    assert check_login(engine, "ben", PASSWORD, T0 + LOCK_DURATION + timedelta(seconds=1)).member is not None
    with engine.connect() as connection:
        assert connection.execute(sa.select(audit_log.c.action).where(audit_log.c.target == "ben")).scalars().all() == [
            "staff.add",
            "login.locked",
        ]


def test_parallel_guesses_get_no_more_tries_than_one_guesser(engine, monkeypatch):
    """Guesses sent at once must not all read the same failure count: at most MAX_FAILED_LOGINS are checked."""
    add_staff(engine, "cara", "viewer", PASSWORD)
    checked = []
    real_verify = accounts._verify
    monkeypatch.setattr(
        accounts, "_verify", lambda digest, password: checked.append(1) or real_verify(digest, password)
    )
    start = threading.Barrier(12)

    def guess(n: int):
        start.wait()
        return check_login(engine, "cara", f"guess number {n}", T0)

    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(guess, range(12)))
    assert len(checked) <= MAX_FAILED_LOGINS
    assert all(result.member is None for result in results)
    assert sum(result.locked_until is None for result in results) == MAX_FAILED_LOGINS - 1
    assert check_login(engine, "cara", PASSWORD, T0 + timedelta(minutes=1)).member is None  # locked


def test_tokens_are_shown_once_and_stored_as_digests(engine):
    add_staff(engine, "cal", "viewer", PASSWORD)
    token = issue_token(engine, "cal")
    with engine.connect() as connection:
        stored = connection.execute(sa.select(staff_tokens.c.token_digest)).scalar_one()
    assert token not in stored and len(stored) == 64
    assert member_for_token(engine, token).name == "cal"
    assert member_for_token(engine, token + "x") is None
    assert member_for_token(engine, "") is None
    remove_staff(engine, "cal")
    assert member_for_token(engine, token) is None
    with pytest.raises(StaffError, match="no staff member"):
        issue_token(engine, "cal")


def test_the_staff_commands(engine, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["staff", "add", "dana", "--role", "admin", "--password-stdin"]) == 0
    assert check_login(engine, "dana", PASSWORD, T0).member.is_admin
    assert main(["staff", "list"]) == 0
    assert "dana  admin" in capsys.readouterr().out
    assert main(["staff", "token", "dana"]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert member_for_token(engine, token).name == "dana"
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["staff", "add", "eve", "--role", "viewer", "--password-stdin"]) == 1
    assert "at least" in capsys.readouterr().err
    assert main(["staff", "remove", "dana"]) == 0
    assert main(["staff", "remove", "dana"]) == 1
    assert [m.name for m in list_staff(engine)] == []


def test_run_says_how_to_create_the_first_admin_and_no_more_once_there_is_one(engine, monkeypatch, capsys):
    """`ijm-bot run` is stopped where it would train or load the model, after the hint is printed."""
    from bot.cli import NO_STAFF_HINT

    def stop_before_training(*_):
        raise SystemExit(0)

    monkeypatch.setattr("bot.cli.ensure_model", stop_before_training)
    with pytest.raises(SystemExit):
        main(["run"])
    assert NO_STAFF_HINT in capsys.readouterr().out
    add_staff(engine, "amira", "admin", PASSWORD)
    with pytest.raises(SystemExit):
        main(["run"])
    assert NO_STAFF_HINT not in capsys.readouterr().out


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("write to kim.lee+news@example.co.uk please", "write to [e-mail hidden] please"),
        ("call 416-555-0199 or +1 (613) 555 0123", "call [phone hidden] or [phone hidden]"),
        ("IJM began in 1997 and rescued 76,000 people", "IJM began in 1997 and rescued 76,000 people"),
        ("the bake sale is on 2026-12-05, call 416 555 0199", "the bake sale is on 2026-12-05, call [phone hidden]"),
    ],
)
def test_personal_details_are_masked_for_viewers(text, masked):
    from bot.console.transcripts import mask_personal_details

    assert mask_personal_details(text) == masked
