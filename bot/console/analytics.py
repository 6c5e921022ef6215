"""The console's analytics (issue #6): what the charts on /console/analytics, their CSV files and /api/stats show.

Each chart is a list of rows: a label (a day, an intent, a step, a kind) and its value(s). Days are UTC. The
queries are plain SQL with bound parameters that run on SQLite and PostgreSQL; the only part chosen by the
database is how an epoch timestamp becomes a day number (a constant, never user input).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

import sqlalchemy as sa

from bot.storage.app_db import UtcDateTime

DAY_SECONDS = 86_400
DEFAULT_DAYS = 30
MAX_DAYS = 731
TOP_INTENTS = 15
FALLBACK_INTENT = "nlu_fallback"
FALLBACK_ACTIONS = ("action_core_fallback", "action_fallback_topics")
LEAD_KINDS = ("fundraiser", "media", "message")

Row = tuple[Any, ...]


class RangeError(ValueError):
    """The from/to dates can't be used; the message says why, for the page or the API."""


@dataclass(frozen=True)
class DateRange:
    """From `first` to `last`, both included (UTC days)."""

    first: date
    last: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time.min, tzinfo=timezone.utc)

    @property
    def end(self) -> datetime:
        """The first moment after the range."""
        return datetime.combine(self.last + timedelta(days=1), time.min, tzinfo=timezone.utc)

    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


def parse_range(first: str | None, last: str | None, today: date | None = None) -> DateRange:
    """The range of ?from=YYYY-MM-DD&to=YYYY-MM-DD; missing ends default to the last DEFAULT_DAYS days."""
    today = today or datetime.now(timezone.utc).date()

    def parse(value: str | None, name: str, default: date) -> date:
        value = (value or "").strip()
        if not value:
            return default
        try:
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                return date.fromisoformat(value)
        except ValueError:
            pass
        raise RangeError(f"“{name}” must be a date like 2026-01-31 (got {value[:40]!r}).")

    last_day = parse(last, "to", today)
    first_day = parse(first, "from", last_day - timedelta(days=DEFAULT_DAYS - 1))
    if first_day > last_day:
        raise RangeError("“from” must not be after “to”.")
    if (last_day - first_day).days + 1 > MAX_DAYS:
        raise RangeError(f"Choose at most {MAX_DAYS} days.")
    return DateRange(first_day, last_day)


@dataclass(frozen=True)
class Chart:
    name: str
    title: str
    kind: str  # Chart.js type: line, bar, doughnut
    columns: tuple[str, ...]
    rows: list[Row]

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "kind": self.kind,
            "columns": list(self.columns),
            "rows": [list(row) for row in self.rows],
        }


# --- pure helpers -----------------------------------------------------------------------------------------------


def day_label(day_number: int) -> str:
    """'2027-01-15' for a day number (days since 1970-01-01 UTC)."""
    return (date(1970, 1, 1) + timedelta(days=int(day_number))).isoformat()


def fill_days(period: DateRange, counts: dict[str, Sequence[Any]], zero: Sequence[Any]) -> list[Row]:
    """One row a day over the whole range, (day, *values), with `zero` for days without data."""
    return [(day.isoformat(), *counts.get(day.isoformat(), zero)) for day in period.days()]


def share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def defuse(cell: Any) -> Any:
    """A spreadsheet must not run a cell as a formula: text starting with = + - @ (or a tab/CR) gets a leading '."""
    if isinstance(cell, str) and cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + cell
    return "" if cell is None else cell


def to_csv(chart: Chart) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([defuse(column) for column in chart.columns])
    writer.writerows([defuse(cell) for cell in row] for row in chart.rows)
    return out.getvalue()


# --- queries ----------------------------------------------------------------------------------------------------


def _day_of_timestamp(engine: sa.engine.Engine) -> str:
    """SQL for the UTC day number of events.timestamp (a float epoch, never negative here)."""
    if engine.dialect.name == "postgresql":
        return "CAST(FLOOR(timestamp / 86400) AS BIGINT)"
    return "CAST(timestamp / 86400 AS INTEGER)"


def _epochs(period: DateRange) -> dict[str, float]:
    return {"start": period.start.timestamp(), "end": period.end.timestamp()}


def _has_events(engine: sa.engine.Engine) -> bool:
    return sa.inspect(engine).has_table("events")


def conversations_and_messages(engine: sa.engine.Engine, period: DateRange) -> tuple[list[Row], list[Row]]:
    """(day, conversations in which the visitor wrote that day) and (day, visitor messages that day)."""
    counts: dict[str, tuple[int, int]] = {}
    if _has_events(engine):
        query = sa.text(
            f"SELECT {_day_of_timestamp(engine)} AS day, COUNT(DISTINCT sender_id) AS conversations, COUNT(*) AS n "
            "FROM events WHERE type_name = 'user' AND timestamp >= :start AND timestamp < :end GROUP BY 1"
        )
        with engine.connect() as connection:
            for row in connection.execute(query, _epochs(period)):
                counts[day_label(row.day)] = (int(row.conversations), int(row.n))
    rows = fill_days(period, counts, (0, 0))
    return [(day, c) for day, c, _ in rows], [(day, m) for day, _, m in rows]


def top_intents(engine: sa.engine.Engine, period: DateRange, limit: int = TOP_INTENTS) -> list[Row]:
    """(intent, visitor messages), most frequent first."""
    if not _has_events(engine):
        return []
    query = sa.text(
        "SELECT intent_name, COUNT(*) AS n FROM events WHERE type_name = 'user' AND intent_name IS NOT NULL "
        "AND timestamp >= :start AND timestamp < :end GROUP BY intent_name ORDER BY n DESC, intent_name LIMIT :limit"
    )
    with engine.connect() as connection:
        rows = [(row.intent_name, int(row.n)) for row in connection.execute(query, {**_epochs(period), "limit": limit})]
    return sorted(rows, key=lambda row: (-row[1], row[0]))  # ties by code point, whatever the database's collation


def fallback_rate(engine: sa.engine.Engine, period: DateRange) -> list[Row]:
    """(day, share of visitor messages not understood): classified nlu_fallback, or answered by a fallback action
    before the visitor's next message. Empty days have no rate (None)."""
    counts: dict[str, tuple[float | None]] = {}
    if _has_events(engine):
        query = sa.text(
            f"""
            SELECT {_day_of_timestamp(engine)} AS day, COUNT(*) AS n,
                   SUM(CASE WHEN u.intent_name = :fallback_intent OR EXISTS (
                         SELECT 1 FROM events a WHERE a.sender_id = u.sender_id AND a.type_name = 'action'
                           AND a.action_name IN (:action_1, :action_2) AND a.id > u.id
                           AND NOT EXISTS (SELECT 1 FROM events v WHERE v.sender_id = u.sender_id
                                             AND v.type_name = 'user' AND v.id > u.id AND v.id < a.id))
                       THEN 1 ELSE 0 END) AS fallbacks
            FROM events u WHERE u.type_name = 'user' AND u.timestamp >= :start AND u.timestamp < :end GROUP BY 1
            """
        )
        params = {
            **_epochs(period),
            "fallback_intent": FALLBACK_INTENT,
            "action_1": FALLBACK_ACTIONS[0],
            "action_2": FALLBACK_ACTIONS[1],
        }
        with engine.connect() as connection:
            for row in connection.execute(query, params):
                counts[day_label(row.day)] = (share(int(row.fallbacks or 0), int(row.n)),)
    return fill_days(period, counts, (None,))


def donation_funnel(engine: sa.engine.Engine, period: DateRange) -> list[Row]:
    """Conversations that asked to donate (intent donate), were shown the donate link (/go/donate in an answer),
    and clicked it (link_clicks for 'donate' carrying the conversation id)."""
    asked = shown = 0
    params = _epochs(period)
    with engine.connect() as connection:
        if _has_events(engine):
            asked = connection.execute(
                sa.text(
                    "SELECT COUNT(DISTINCT sender_id) FROM events WHERE type_name = 'user' AND intent_name = 'donate' "
                    "AND timestamp >= :start AND timestamp < :end"
                ),
                params,
            ).scalar_one()
            shown = connection.execute(
                sa.text(
                    "SELECT COUNT(DISTINCT sender_id) FROM events WHERE type_name = 'bot' AND data LIKE :link "
                    "AND timestamp >= :start AND timestamp < :end"
                ),
                {**params, "link": "%/go/donate%"},
            ).scalar_one()
        clicked = connection.execute(
            sa.text(
                "SELECT COUNT(DISTINCT conversation_id) FROM link_clicks WHERE link = 'donate' "
                "AND clicked_at >= :start AND clicked_at < :end"
            ).bindparams(sa.bindparam("start", type_=UtcDateTime), sa.bindparam("end", type_=UtcDateTime)),
            {"start": period.start, "end": period.end},
        ).scalar_one()
    return [("Asked to donate", int(asked)), ("Donate link shown", int(shown)), ("Donate link clicked", int(clicked))]


def _rows_between(engine: sa.engine.Engine, table: str, columns: str, period: DateRange) -> list[sa.Row]:
    """(created_at, columns...) of an app table's rows in the range; `table` and `columns` are constants."""
    query = (
        sa.text(f"SELECT created_at, {columns} FROM {table} WHERE created_at >= :start AND created_at < :end")
        .bindparams(sa.bindparam("start", type_=UtcDateTime), sa.bindparam("end", type_=UtcDateTime))
        .columns(sa.column("created_at", UtcDateTime))
    )
    with engine.connect() as connection:
        return list(connection.execute(query, {"start": period.start, "end": period.end}))


def newsletter_per_day(engine: sa.engine.Engine, period: DateRange) -> list[Row]:
    """(day, sign-ups, withdrawals)."""
    counts: dict[str, list[int]] = {}
    for row in _rows_between(engine, "newsletter_records", "action", period):
        day = counts.setdefault(row.created_at.date().isoformat(), [0, 0])
        day[0 if row.action == "subscribe" else 1] += 1
    return fill_days(period, counts, (0, 0))


def _tally(rows: list[sa.Row], field: str, labels: Sequence[str]) -> list[Row]:
    counts = dict.fromkeys(labels, 0)
    for row in rows:
        value = getattr(row, field)
        counts[value] = counts.get(value, 0) + 1
    return list(counts.items())


def leads_by_kind(engine: sa.engine.Engine, period: DateRange) -> list[Row]:
    return _tally(_rows_between(engine, "enquiries", "kind", period), "kind", LEAD_KINDS)


def feedback_ratio(engine: sa.engine.Engine, period: DateRange) -> list[Row]:
    """(👍, count) and (👎, count)."""
    rows = _tally(_rows_between(engine, "feedback", "rating", period), "rating", ("up", "down"))
    names = {"up": "👍", "down": "👎"}
    return [(names.get(label, label), n) for label, n in rows]


def all_charts(engine: sa.engine.Engine, period: DateRange) -> list[Chart]:
    conversations, messages = conversations_and_messages(engine, period)
    return [
        Chart("conversations", "Conversations per day", "line", ("day", "conversations"), conversations),
        Chart("messages", "Visitor messages per day", "line", ("day", "messages"), messages),
        Chart("intents", "Top intents", "bar", ("intent", "messages"), top_intents(engine, period)),
        Chart("fallback", "Fallback rate per day", "line", ("day", "fallback_rate"), fallback_rate(engine, period)),
        Chart(
            "donation",
            "Donation funnel (conversations)",
            "bar",
            ("step", "conversations"),
            donation_funnel(engine, period),
        ),
        Chart(
            "newsletter",
            "Newsletter sign-ups and withdrawals",
            "bar",
            ("day", "sign_ups", "withdrawals"),
            newsletter_per_day(engine, period),
        ),
        Chart("leads", "Leads by kind", "bar", ("kind", "enquiries"), leads_by_kind(engine, period)),
        Chart("feedback", "👍 / 👎 on answers", "doughnut", ("rating", "answers"), feedback_ratio(engine, period)),
    ]


CHART_NAMES = ("conversations", "messages", "intents", "fallback", "donation", "newsletter", "leads", "feedback")


def chart_named(engine: sa.engine.Engine, period: DateRange, name: str) -> Chart | None:
    return next((chart for chart in all_charts(engine, period) if chart.name == name), None)
