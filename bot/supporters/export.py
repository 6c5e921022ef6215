"""CSV exports of the supporters' records (`ijm-bot export`): how staff get them when no webhook is configured."""

from __future__ import annotations

import csv
import json
from typing import TextIO

import sqlalchemy as sa

from bot.spreadsheet import safe_cell
from bot.storage.app_db import enquiries, newsletter_records

NEWSLETTER_COLUMNS = ("email", "first_name", "action", "consent_text", "created_at", "conversation_id", "channel")
ENQUIRY_COLUMNS = ("id", "kind", "team", "name", "email", "created_at", "conversation_id", "channel")


def export_newsletter(engine: sa.engine.Engine, out: TextIO) -> int:
    """Every sign-up and withdrawal, oldest first; returns the number of rows."""
    with engine.connect() as connection:
        rows = connection.execute(sa.select(newsletter_records).order_by(newsletter_records.c.id)).all()
    writer = csv.writer(out)
    writer.writerow(NEWSLETTER_COLUMNS)
    for row in rows:
        writer.writerow([safe_cell(getattr(row, column)) for column in NEWSLETTER_COLUMNS])
    return len(rows)


def export_enquiries(engine: sa.engine.Engine, out: TextIO) -> int:
    """Every enquiry, oldest first, one column per detail (event_kind, deadline…); returns the number of rows."""
    with engine.connect() as connection:
        rows = connection.execute(sa.select(enquiries).order_by(enquiries.c.id)).all()
    details = [json.loads(row.details) for row in rows]
    detail_columns = sorted({key for detail in details for key in detail})
    writer = csv.writer(out)
    writer.writerow([*ENQUIRY_COLUMNS, *detail_columns])
    for row, detail in zip(rows, details, strict=True):
        writer.writerow(
            [safe_cell(getattr(row, column)) for column in ENQUIRY_COLUMNS]
            + [safe_cell(detail.get(k)) for k in detail_columns]
        )
    return len(rows)
