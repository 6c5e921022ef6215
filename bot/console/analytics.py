"""The console's analytics (issue #6): what the charts on /console/analytics, their CSV files and /api/stats show.

Each chart is a list of rows: a label (a day, an intent, a step, a kind) and its value(s). Days are UTC. The
queries are plain SQL with bound parameters that run on SQLite and PostgreSQL. Those about conversations read the
console's summary of Rasa's `events` per conversation and UTC day (bot/console/summary.py), not `events` itself,
so that a year of two million events answers quickly.
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

from bot.console.summary import catch_up
from bot.spreadsheet import safe_cell
from bot.storage.app_db import UtcDateTime

DAY_SECONDS = 86_400
DEFAULT_DAYS = 30
MAX_DAYS = 731
TOP_INTENTS = 15
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


# Dates outside these can't hold conversations, and near year 1 or 9999 date arithmetic overflows.
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2100, 12, 31)


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
    if not EARLIEST_DAY <= last_day <= LATEST_DAY:
        raise RangeError(f"“to” must be between {EARLIEST_DAY} and {LATEST_DAY}.")
    first_day = parse(first, "from", max(EARLIEST_DAY, last_day - timedelta(days=DEFAULT_DAYS - 1)))
    if not EARLIEST_DAY <= first_day <= LATEST_DAY:
        raise RangeError(f"“from” must be between {EARLIEST_DAY} and {LATEST_DAY}.")
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


def to_csv(chart: Chart) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_cell(column) for column in chart.columns])
    writer.writerows([safe_cell(cell) for cell in row] for row in chart.rows)
    return out.getvalue()


# --- queries ----------------------------------------------------------------------------------------------------


def _days(period: DateRange) -> dict[str, int]:
    """The range as day numbers (days since 1970-01-01 UTC), both included."""
    epoch = date(1970, 1, 1)
    return {"first": (period.first - epoch).days, "last": (period.last - epoch).days}


def _summary(engine: sa.engine.Engine) -> bool:
    """Bring the console's summary of `events` up to date (bot/console/summary.py); False when there are no
    events at all. The charts read the summary's conversation-days: ranges are whole UTC days, so counting by day
    is exactly counting by timestamp."""
    if not sa.inspect(engine).has_table("events"):
        return False
    catch_up(engine)
    return True


def _conversation_days(engine: sa.engine.Engine, period: DateRange) -> dict[str, tuple[int, int, int]]:
    """day → (conversations in which the visitor wrote that day, their messages, those not understood)."""
    query = sa.text(
        "SELECT day, COUNT(*) AS conversations, SUM(messages) AS n, SUM(fallbacks) AS fallbacks "
        "FROM console_conversation_days WHERE day >= :first AND day <= :last AND messages > 0 GROUP BY day"
    )
    with engine.connect() as connection:
        return {
            day_label(row.day): (int(row.conversations), int(row.n), int(row.fallbacks or 0))
            for row in connection.execute(query, _days(period))
        }


def _activity_charts(per_day: dict[str, tuple[int, int, int]], period: DateRange) -> tuple[list[Row], ...]:
    """(day, conversations), (day, messages) and (day, fallback rate) rows of every day of the range."""
    rows = fill_days(period, per_day, (0, 0, 0))
    return (
        [(day, c) for day, c, _, _ in rows],
        [(day, m) for day, _, m, _ in rows],
        [(day, share(f, m)) for day, _, m, f in rows],
    )


def conversations_and_messages(engine: sa.engine.Engine, period: DateRange) -> tuple[list[Row], list[Row]]:
    """(day, conversations in which the visitor wrote that day) and (day, visitor messages that day)."""
    per_day = _conversation_days(engine, period) if _summary(engine) else {}
    conversations, messages, _ = _activity_charts(per_day, period)
    return conversations, messages


def top_intents(
    engine: sa.engine.Engine, period: DateRange, limit: int = TOP_INTENTS, summarised: bool | None = None
) -> list[Row]:
    """(intent, visitor messages), most frequent first."""
    if not (_summary(engine) if summarised is None else summarised):
        return []
    query = sa.text(
        "SELECT intent_name, SUM(messages) AS n FROM console_conversation_intents WHERE day >= :first "
        "AND day <= :last GROUP BY intent_name ORDER BY n DESC, intent_name LIMIT :limit"
    )
    with engine.connect() as connection:
        rows = [(row.intent_name, int(row.n)) for row in connection.execute(query, {**_days(period), "limit": limit})]
    return sorted(rows, key=lambda row: (-row[1], row[0]))  # ties by code point, whatever the database's collation


def fallback_rate(engine: sa.engine.Engine, period: DateRange) -> list[Row]:
    """(day, share of visitor messages not understood): classified nlu_fallback, or answered by a fallback action
    before the visitor's next message. Empty days have no rate (None)."""
    per_day = _conversation_days(engine, period) if _summary(engine) else {}
    return _activity_charts(per_day, period)[2]


def donation_funnel(engine: sa.engine.Engine, period: DateRange, summarised: bool | None = None) -> list[Row]:
    """Conversations that asked to donate (intent donate), were shown the donate link (/go/donate in an answer),
    and clicked it (link_clicks for 'donate' carrying the conversation id)."""
    asked = shown = 0
    has_events = _summary(engine) if summarised is None else summarised
    with engine.connect() as connection:
        if has_events:
            asked = connection.execute(
                sa.text(
                    "SELECT COUNT(DISTINCT conversation_id) FROM console_conversation_intents "
                    "WHERE intent_name = 'donate' AND day >= :first AND day <= :last"
                ),
                _days(period),
            ).scalar_one()
            shown = connection.execute(
                sa.text(
                    "SELECT COUNT(DISTINCT conversation_id) FROM console_conversation_days "
                    "WHERE donation_link AND day >= :first AND day <= :last"
                ),
                _days(period),
            ).scalar_one()
        clicked = connection.execute(
            sa.text(
                "SELECT COUNT(DISTINCT conversation_id) FROM link_clicks WHERE link = 'donate' "
                "AND clicked_at >= :start AND clicked_at < :end"
            ).bindparams(sa.bindparam("start", type_=UtcDateTime), sa.bindparam("end", type_=UtcDateTime)),
            {"start": period.start, "end": period.end},
        ).scalar_one()
    return [("Asked to donate", int(asked)), ("Donate link shown", int(shown)), ("Donate link clicked", int(clicked))]


def _counts_between(engine: sa.engine.Engine, table: str, groups: str, period: DateRange) -> list[sa.Row]:
    """(groups..., n) of an app table's rows created in the range; `table` and `groups` are constants."""
    query = sa.text(
        f"SELECT {groups}, COUNT(*) AS n FROM {table} WHERE created_at >= :start AND created_at < :end "
        f"GROUP BY {groups}"
    ).bindparams(sa.bindparam("start", type_=UtcDateTime), sa.bindparam("end", type_=UtcDateTime))
    with engine.connect() as connection:
        return list(connection.execute(query, {"start": period.start, "end": period.end}))


def _created_day(engine: sa.engine.Engine) -> str:
    """SQL for the UTC day (YYYY-MM-DD) of an app table's created_at (SQLite keeps it as UTC text)."""
    if engine.dialect.name == "postgresql":
        return "CAST(CAST(created_at AT TIME ZONE 'UTC' AS DATE) AS VARCHAR)"
    return "date(created_at)"


def newsletter_per_day(engine: sa.engine.Engine, period: DateRange) -> list[Row]:
    """(day, sign-ups, withdrawals)."""
    counts: dict[str, list[int]] = {}
    for day, action, n in _counts_between(engine, "newsletter_records", f"{_created_day(engine)}, action", period):
        counts.setdefault(str(day), [0, 0])[0 if action == "subscribe" else 1] += int(n)
    return fill_days(period, counts, (0, 0))


def _tally(rows: list[sa.Row], labels: Sequence[str]) -> list[Row]:
    counts = dict.fromkeys(labels, 0)
    for value, n in sorted(rows, key=lambda row: str(row[0])):
        counts[value] = counts.get(value, 0) + int(n)
    return list(counts.items())


def leads_by_kind(engine: sa.engine.Engine, period: DateRange) -> list[Row]:
    return _tally(_counts_between(engine, "enquiries", "kind", period), LEAD_KINDS)


def feedback_ratio(engine: sa.engine.Engine, period: DateRange) -> list[Row]:
    """(👍, count) and (👎, count)."""
    rows = _tally(_counts_between(engine, "feedback", "rating", period), ("up", "down"))
    names = {"up": "👍", "down": "👎"}
    return [(names.get(label, label), n) for label, n in rows]


def all_charts(engine: sa.engine.Engine, period: DateRange) -> list[Chart]:
    summarised = _summary(engine)  # once for every chart
    per_day = _conversation_days(engine, period) if summarised else {}
    conversations, messages, fallbacks = _activity_charts(per_day, period)
    return [
        Chart("conversations", "Conversations per day", "line", ("day", "conversations"), conversations),
        Chart("messages", "Visitor messages per day", "line", ("day", "messages"), messages),
        Chart(
            "intents", "Top intents", "bar", ("intent", "messages"), top_intents(engine, period, summarised=summarised)
        ),
        Chart("fallback", "Fallback rate per day", "line", ("day", "fallback_rate"), fallbacks),
        Chart(
            "donation",
            "Donation funnel (conversations)",
            "bar",
            ("step", "conversations"),
            donation_funnel(engine, period, summarised=summarised),
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
