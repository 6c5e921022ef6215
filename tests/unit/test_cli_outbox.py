"""`ijm-bot outbox` and `ijm-bot export` on a temporary SQLite database; the outbox worker in `ijm-bot run`."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.cli import main, service_specs
from bot.outbox.worker import READY_LINE, drain_once
from bot.settings import Settings
from bot.storage.app_db import outbox
from bot.supporters.delivery_config import DeliveryConfig
from bot.supporters.records import Origin, engine_for, record_enquiry, subscribe, unsubscribe
from tests.unit.supporters_db import free_port, sqlite_url

ORIGIN = Origin(conversation_id="conv-9", channel="socketio")
NOTHING = DeliveryConfig(None, None, None)
T0 = datetime(2030, 1, 1, tzinfo=timezone.utc)


@pytest.fixture
def database(tmp_path, monkeypatch):
    """DATABASE_URL for the CLI; the engine the records are written with."""
    url = sqlite_url(tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(["migrate"]) == 0
    return engine_for(url)


def rows(engine) -> list:
    with engine.connect() as connection:
        return connection.execute(sa.select(outbox).order_by(outbox.c.id)).all()


def enquire(engine, delivery: DeliveryConfig, name: str = "Ann Lee", details: dict[str, str] | None = None) -> int:
    return record_enquiry(
        engine,
        kind="media",
        team="media",
        team_email="media@ijm.ca",
        name=name,
        email="ann@example.com",
        details=details if details is not None else {"outlet": "CBC", "deadline": "Friday"},
        origin=ORIGIN,
        delivery=delivery,
    )


def test_a_refused_delivery_is_listed_and_retry_sends_it(database, httpserver, capsys):
    config = DeliveryConfig(None, httpserver.url_for("/leads"), None, timeout_seconds=2)
    enquire(database, config)
    httpserver.expect_request("/leads", method="POST").respond_with_data("missing field", status=400)
    assert drain_once(database, config, T0).failed == 1
    capsys.readouterr()

    assert main(["outbox"]) == 0
    listing = capsys.readouterr().out
    (row_id,) = [row.id for row in rows(database)]
    header, line, summary = listing.splitlines()
    assert header.split()[:6] == ["id", "status", "type", "record", "destination", "attempts"]
    assert line.split()[:6] == [str(row_id), "failed", "enquiry.media", "1", "leads_webhook", "1"]
    assert "HTTP 400: missing field" in line
    assert summary.startswith("0 pending, 1 failed")

    assert main(["outbox", "--retry", str(row_id)]) == 0
    assert "back in the queue" in capsys.readouterr().out
    assert (rows(database)[0].status, rows(database)[0].attempts) == ("pending", 0)

    httpserver.clear()
    httpserver.expect_request("/leads", method="POST").respond_with_data("ok")
    assert drain_once(database, config, datetime.now(timezone.utc) + timedelta(seconds=1)).sent == 1
    assert main(["outbox"]) == 0
    assert capsys.readouterr().out.strip() == "0 pending, 0 failed (need staff: fix, then --retry ID), 1 sent."
    assert main(["outbox", "--all"]) == 0
    assert capsys.readouterr().out.splitlines()[1].split()[:3] == [str(row_id), "sent", "enquiry.media"]


def test_retry_refuses_a_sent_or_unknown_row(database, httpserver, capsys):
    config = DeliveryConfig(None, httpserver.url_for("/leads"), None)
    enquire(database, config)
    httpserver.expect_request("/leads", method="POST").respond_with_data("ok")
    drain_once(database, config, T0)
    assert main(["outbox", "--retry", str(rows(database)[0].id)]) == 1
    assert main(["outbox", "--retry", "999"]) == 1
    assert "there is no outbox row 999" in capsys.readouterr().err
    assert rows(database)[0].status == "sent"


def test_newsletter_records_export_to_csv(database, tmp_path, capsys):
    consent = "Yes, IJM Canada may e-mail me."
    subscribe(
        database, email="Bob@Example.com", first_name="Bob", consent_text=consent, origin=ORIGIN, delivery=NOTHING
    )
    subscribe(
        database,
        email="eve@example.com",
        first_name="=HYPERLINK(1)",
        consent_text=consent,
        origin=ORIGIN,
        delivery=NOTHING,
    )
    unsubscribe(database, email="bob@example.com", origin=Origin(None, None), delivery=NOTHING)
    target = tmp_path / "newsletter.csv"

    assert main(["export", "newsletter", "--output", str(target)]) == 0

    assert "Exported 3 newsletter record(s)." in capsys.readouterr().err
    exported = list(csv.DictReader(target.open(encoding="utf-8", newline="")))
    assert list(exported[0]) == [
        "email",
        "first_name",
        "action",
        "consent_text",
        "created_at",
        "conversation_id",
        "channel",
    ]
    assert [(r["email"], r["action"]) for r in exported] == [
        ("bob@example.com", "subscribe"),
        ("eve@example.com", "subscribe"),
        ("bob@example.com", "unsubscribe"),
    ]
    assert exported[0]["consent_text"] == consent and exported[2]["consent_text"] == ""
    assert exported[0]["conversation_id"] == "conv-9" and exported[2]["channel"] == ""
    assert datetime.fromisoformat(exported[0]["created_at"]).tzinfo is not None
    assert exported[1]["first_name"] == "'=HYPERLINK(1)"  # never a live formula in a spreadsheet


def test_enquiries_export_with_one_column_per_detail(database, capsys):
    first = enquire(database, NOTHING)
    second = enquire(database, NOTHING, name="Raj", details={"message": "Hello"})

    assert main(["export", "enquiries"]) == 0

    exported = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert list(exported[0])[:8] == ["id", "kind", "team", "name", "email", "created_at", "conversation_id", "channel"]
    assert list(exported[0])[8:] == ["deadline", "message", "outlet"]
    assert [r["id"] for r in exported] == [str(first), str(second)]
    assert (exported[0]["outlet"], exported[0]["deadline"], exported[0]["message"]) == ("CBC", "Friday", "")
    assert (exported[1]["name"], exported[1]["message"], exported[1]["outlet"]) == ("Raj", "Hello", "")


def test_the_commands_say_when_the_database_is_unreachable(monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", f"postgresql://ijm:secret@127.0.0.1:{free_port()}/ijm")
    assert main(["outbox"]) == 2
    assert main(["export", "newsletter"]) == 2
    errors = capsys.readouterr().err
    assert "cannot reach the database" in errors and "secret" not in errors


def test_run_starts_the_outbox_worker_with_the_database(tmp_path):
    specs = service_specs(Settings.from_env({}), tmp_path / "model.tar.gz", "sqlite:////tmp/x.db")
    worker = next(spec for spec in specs if spec.name == "outbox worker")
    assert worker.command[-2:] == ["-m", "bot.outbox"]
    assert (worker.ready_url, worker.ready_marker) == (None, READY_LINE)
    assert worker.env["DATABASE_URL"] == "sqlite:////tmp/x.db"
    assert Path(worker.cwd).is_dir()


def test_payload_in_the_listing_is_not_shown(database, capsys):
    """The listing names records by type and id only; their personal data stays in the database."""
    enquire(database, DeliveryConfig(None, "http://127.0.0.1:9/leads", None))
    assert json.loads(rows(database)[0].payload)["email"] == "ann@example.com"
    assert main(["outbox"]) == 0
    assert "ann@example.com" not in capsys.readouterr().out
