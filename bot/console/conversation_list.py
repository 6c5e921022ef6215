"""The console's conversation list: Rasa's `events` by conversation (their summary), newest first, with filters.

Every filter is a bound parameter; they combine (AND). The URL carries them, so a filtered list can be shared.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timezone
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa

from bot.console.reviews import STATUSES
from bot.console.summary import catch_up

PAGE_SIZE = 50

# What happened in a conversation, each as the SQL of the conversations it happened in (fixed text, no input).
# Those read from events (a donate link in an answer, the safety action, a fallback) are kept in the console's
# summary of each conversation (bot/console/summary.py).
OUTCOME_QUERIES = {
    "donation_link": "SELECT conversation_id AS id FROM console_conversations WHERE donation_link",
    "donation_click": "SELECT conversation_id AS id FROM link_clicks WHERE link = 'donate'",
    "newsletter": "SELECT conversation_id AS id FROM newsletter_records WHERE action = 'subscribe'",
    "fundraiser_lead": "SELECT conversation_id AS id FROM enquiries WHERE kind = 'fundraiser'",
    "media_lead": "SELECT conversation_id AS id FROM enquiries WHERE kind = 'media'",
    # action_safety_help ran
    "safety": "SELECT conversation_id AS id FROM console_conversations WHERE safety",
    # a message classified nlu_fallback, or action_fallback_topics / action_core_fallback ran
    "fallback": "SELECT conversation_id AS id FROM console_conversations WHERE fallback",
    "thumbs_down": "SELECT conversation_id AS id FROM feedback WHERE rating = 'down'",
}
OUTCOMES = tuple(OUTCOME_QUERIES)
# The outcomes that are a column of the summary itself.
_SUMMARY_FLAGS = ("donation_link", "safety", "fallback")
_ON, _OFF = {"1", "true", "on", "yes"}, {"", "0", "false", "off", "no"}
OUTCOME_LABELS = {
    "donation_link": "donation link shown",
    "donation_click": "donation link clicked",
    "newsletter": "newsletter sign-up",
    "fundraiser_lead": "fundraiser lead",
    "media_lead": "media lead",
    "safety": "safety answer",
    "fallback": "fallback",
    "thumbs_down": "👎",
}


class FilterError(ValueError):
    pass


@dataclass(frozen=True)
class Filters:
    q: str = ""
    date_from: str = ""
    date_to: str = ""
    status: str = ""
    tag: str = ""
    intent: str = ""
    action: str = ""
    fallback: str = ""
    below: str = ""
    thumbs_down: str = ""
    outcome: str = ""

    @classmethod
    def from_args(cls, args: Any) -> Filters:
        def arg(name: str) -> str:
            return str(args.get(name) or "").strip()[:200]

        def switch(name: str) -> str:
            """A checkbox: "1" when on, "" when off."""
            value = arg(name).lower()
            if value not in _ON | _OFF:
                raise FilterError(f"{name} is 1 (only those conversations) or 0 (all of them)")
            return "1" if value in _ON else ""

        filters = cls(
            q=arg("q"),
            date_from=arg("from"),
            date_to=arg("to"),
            status=arg("status"),
            tag=arg("tag"),
            intent=arg("intent"),
            action=arg("action"),
            fallback=switch("fallback"),
            below=arg("below"),
            thumbs_down=switch("thumbs_down"),
            outcome=arg("outcome"),
        )
        if filters.below:
            try:
                threshold = float(filters.below)
            except ValueError:
                raise FilterError("the confidence threshold is a number between 0 and 1") from None
            if not 0 <= threshold <= 1:
                raise FilterError("the confidence threshold is a number between 0 and 1")
        if filters.outcome and filters.outcome not in OUTCOMES:
            raise FilterError(f"the outcome must be one of {', '.join(OUTCOMES)}")
        for value in (filters.date_from, filters.date_to):
            if value:
                try:
                    date.fromisoformat(value)
                except ValueError:
                    raise FilterError(f"{value!r} is not a date like 2026-11-30") from None
        if filters.status and filters.status not in STATUSES:
            raise FilterError(f"the status must be one of {', '.join(STATUSES)}")
        return filters

    def query_string(self, **extra: Any) -> str:
        names = {"date_from": "from", "date_to": "to"}
        pairs = {names.get(k, k): v for k, v in asdict(self).items() if v}
        pairs.update({k: v for k, v in extra.items() if v})
        return urlencode(pairs)


def _epoch(day: str, end: bool) -> float:
    moment = datetime.combine(date.fromisoformat(day), time.max if end else time.min, tzinfo=timezone.utc)
    return moment.timestamp()


def list_conversations(
    engine: sa.engine.Engine, filters: Filters, page: int, one_more: bool = False
) -> list[dict[str, Any]]:
    """One page of conversations, newest activity first: id, start, visitor messages, first message, status, tags.

    Read from the console's summary of `events` (bot/console/summary.py), brought up to date first. With
    `one_more`, also the first row of the next page, so that the caller knows whether there is one."""
    if not sa.inspect(engine).has_table("events"):
        return []
    catch_up(engine)
    where, params = ["1 = 1"], {"limit": PAGE_SIZE + int(one_more), "offset": (page - 1) * PAGE_SIZE}
    if filters.q:
        # in what the visitor wrote (lower-cased in the summary), with LIKE's wildcards escaped
        like = filters.q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where.append("search_text LIKE :q ESCAPE '\\'")
        params["q"] = f"%{like}%"
    if filters.status == "new":
        where.append("conversation_id NOT IN (SELECT conversation_id FROM conversation_reviews WHERE status <> 'new')")
    elif filters.status:
        where.append("conversation_id IN (SELECT conversation_id FROM conversation_reviews WHERE status = :status)")
        params["status"] = filters.status
    if filters.tag:
        where.append("conversation_id IN (SELECT conversation_id FROM conversation_tags WHERE tag = :tag)")
        params["tag"] = filters.tag.lower()
    if filters.intent:
        where.append(
            "conversation_id IN (SELECT sender_id FROM events WHERE type_name = 'user' AND intent_name = :intent)"
        )
        params["intent"] = filters.intent
    if filters.action:
        where.append(
            "conversation_id IN (SELECT sender_id FROM events WHERE type_name = 'action' AND action_name = :action)"
        )
        params["action"] = filters.action
    if filters.fallback:
        where.append("fallback")
    if filters.thumbs_down:
        where.append(f"conversation_id IN ({OUTCOME_QUERIES['thumbs_down']})")
    if filters.outcome in _SUMMARY_FLAGS:
        where.append(filters.outcome)
    elif filters.outcome:
        where.append(f"conversation_id IN ({OUTCOME_QUERIES[filters.outcome]})")
    if filters.below:
        # the lowest NLU confidence of the conversation's visitor messages (read from the stored parse data)
        where.append("min_confidence < :below")
        params["below"] = float(filters.below)
    if filters.date_from:
        where.append("last_at >= :date_from")
        params["date_from"] = _epoch(filters.date_from, end=False)
    if filters.date_to:
        where.append("started_at <= :date_to")
        params["date_to"] = _epoch(filters.date_to, end=True)
    query = sa.text(
        f"""
        SELECT conversation_id, started_at, messages, first_message FROM console_conversations
        WHERE {" AND ".join(where)}
        ORDER BY last_at DESC, conversation_id DESC LIMIT :limit OFFSET :offset
        """
    )
    with engine.connect() as connection:
        rows = connection.execute(query, params).all()
        ids = [row.conversation_id for row in rows]
        statuses, tags, outcomes = _statuses(connection, ids), _tags(connection, ids), _outcomes(connection, ids)
    return [
        {
            "id": row.conversation_id,
            "started": datetime.fromtimestamp(row.started_at or 0, timezone.utc),
            "messages": int(row.messages or 0),
            "first_message": row.first_message or "",
            "status": statuses.get(row.conversation_id, "new"),
            "tags": tags.get(row.conversation_id, []),
            "outcomes": outcomes.get(row.conversation_id, []),
        }
        for row in rows
    ]


def _statuses(connection: sa.engine.Connection, ids: list[str]) -> dict[str, str]:
    if not ids:
        return {}
    query = sa.text("SELECT conversation_id, status FROM conversation_reviews WHERE conversation_id IN :ids")
    query = query.bindparams(sa.bindparam("ids", expanding=True))
    return {row.conversation_id: row.status for row in connection.execute(query, {"ids": ids})}


def _tags(connection: sa.engine.Connection, ids: list[str]) -> dict[str, list[str]]:
    if not ids:
        return {}
    query = sa.text("SELECT conversation_id, tag FROM conversation_tags WHERE conversation_id IN :ids ORDER BY tag")
    query = query.bindparams(sa.bindparam("ids", expanding=True))
    tags: dict[str, list[str]] = {}
    for row in connection.execute(query, {"ids": ids}):
        tags.setdefault(row.conversation_id, []).append(row.tag)
    return tags


def _outcomes(connection: sa.engine.Connection, ids: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    if not ids:
        return found
    for outcome, subquery in OUTCOME_QUERIES.items():
        query = sa.text(f"SELECT DISTINCT q.id FROM ({subquery}) q WHERE q.id IN :ids")
        query = query.bindparams(sa.bindparam("ids", expanding=True))
        for (conversation_id,) in connection.execute(query, {"ids": ids}):
            found.setdefault(conversation_id, []).append(outcome)
    return found
