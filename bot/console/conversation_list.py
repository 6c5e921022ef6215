"""The console's conversation list: Rasa's `events` grouped by conversation, newest first, with filters.

Every filter is a bound parameter; they combine (AND). The URL carries them, so a filtered list can be shared.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timezone
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa

from bot.console.reviews import STATUSES

PAGE_SIZE = 50

# What happened in a conversation, each as the SQL of the conversations it happened in (fixed text, no input).
OUTCOME_QUERIES = {
    "donation_link": "SELECT sender_id AS id FROM events WHERE type_name = 'bot' AND data LIKE '%/go/donate%'",
    "donation_click": "SELECT conversation_id AS id FROM link_clicks WHERE link = 'donate'",
    "newsletter": "SELECT conversation_id AS id FROM newsletter_records WHERE action = 'subscribe'",
    "fundraiser_lead": "SELECT conversation_id AS id FROM enquiries WHERE kind = 'fundraiser'",
    "media_lead": "SELECT conversation_id AS id FROM enquiries WHERE kind = 'media'",
    "safety": "SELECT sender_id AS id FROM events WHERE type_name = 'action' AND action_name = 'action_safety_help'",
    "fallback": (
        "SELECT sender_id AS id FROM events WHERE (type_name = 'user' AND intent_name = 'nlu_fallback') OR "
        "(type_name = 'action' AND action_name IN ('action_fallback_topics', 'action_core_fallback'))"
    ),
    "thumbs_down": "SELECT conversation_id AS id FROM feedback WHERE rating = 'down'",
}
OUTCOMES = tuple(OUTCOME_QUERIES)
# The NLU confidence inside a user event's stored JSON, per database.
_CONFIDENCE = {
    "sqlite": "CAST(json_extract(data, '$.parse_data.intent.confidence') AS REAL)",
    "postgresql": "CAST((CAST(data AS json) -> 'parse_data' -> 'intent' ->> 'confidence') AS FLOAT)",
}
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

        filters = cls(
            q=arg("q"),
            date_from=arg("from"),
            date_to=arg("to"),
            status=arg("status"),
            tag=arg("tag"),
            intent=arg("intent"),
            action=arg("action"),
            fallback=arg("fallback"),
            below=arg("below"),
            thumbs_down=arg("thumbs_down"),
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


def list_conversations(engine: sa.engine.Engine, filters: Filters, page: int) -> list[dict[str, Any]]:
    """One page of conversations, newest activity first: id, start, visitor messages, first message, status, tags."""
    if not sa.inspect(engine).has_table("events"):
        return []
    where, params = ["1 = 1"], {"limit": PAGE_SIZE, "offset": (page - 1) * PAGE_SIZE}
    if filters.q:
        # The text as Rasa stores it inside the event's JSON, then with LIKE's wildcards escaped.
        encoded = json.dumps(filters.q.lower())[1:-1]
        like = encoded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where.append(
            "sender_id IN (SELECT sender_id FROM events WHERE type_name = 'user' AND LOWER(data) LIKE :q ESCAPE '\\')"
        )
        params["q"] = f"%{like}%"
    if filters.status == "new":
        where.append("sender_id NOT IN (SELECT conversation_id FROM conversation_reviews WHERE status <> 'new')")
    elif filters.status:
        where.append("sender_id IN (SELECT conversation_id FROM conversation_reviews WHERE status = :status)")
        params["status"] = filters.status
    if filters.tag:
        where.append("sender_id IN (SELECT conversation_id FROM conversation_tags WHERE tag = :tag)")
        params["tag"] = filters.tag.lower()
    if filters.intent:
        where.append("sender_id IN (SELECT sender_id FROM events WHERE type_name = 'user' AND intent_name = :intent)")
        params["intent"] = filters.intent
    if filters.action:
        where.append("sender_id IN (SELECT sender_id FROM events WHERE type_name = 'action' AND action_name = :action)")
        params["action"] = filters.action
    if filters.fallback:
        where.append(f"sender_id IN ({OUTCOME_QUERIES['fallback']})")
    if filters.thumbs_down:
        where.append(f"sender_id IN ({OUTCOME_QUERIES['thumbs_down']})")
    if filters.outcome:
        where.append(f"sender_id IN ({OUTCOME_QUERIES[filters.outcome]})")
    having = []
    if filters.below:
        # the lowest NLU confidence of the conversation's visitor messages (read from the stored parse data)
        confidence = _CONFIDENCE[engine.dialect.name]
        where.append(f"sender_id IN (SELECT sender_id FROM events WHERE type_name = 'user' AND {confidence} < :below)")
        params["below"] = float(filters.below)
    if filters.date_from:
        having.append("MAX(timestamp) >= :date_from")
        params["date_from"] = _epoch(filters.date_from, end=False)
    if filters.date_to:
        having.append("MIN(timestamp) <= :date_to")
        params["date_to"] = _epoch(filters.date_to, end=True)
    query = sa.text(
        f"""
        SELECT sender_id, MIN(timestamp) AS started, MAX(timestamp) AS last,
               SUM(CASE WHEN type_name = 'user' THEN 1 ELSE 0 END) AS messages
        FROM events WHERE {" AND ".join(where)} GROUP BY sender_id
        {"HAVING " + " AND ".join(having) if having else ""}
        ORDER BY MAX(timestamp) DESC LIMIT :limit OFFSET :offset
        """
    )
    with engine.connect() as connection:
        rows = connection.execute(query, params).all()
        ids = [row.sender_id for row in rows]
        first, statuses, tags = _first_messages(connection, ids), _statuses(connection, ids), _tags(connection, ids)
        outcomes = _outcomes(connection, ids)
    return [
        {
            "id": row.sender_id,
            "started": datetime.fromtimestamp(row.started or 0, timezone.utc),
            "messages": int(row.messages or 0),
            "first_message": first.get(row.sender_id, ""),
            "status": statuses.get(row.sender_id, "new"),
            "tags": tags.get(row.sender_id, []),
            "outcomes": outcomes.get(row.sender_id, []),
        }
        for row in rows
    ]


def _first_messages(connection: sa.engine.Connection, ids: list[str]) -> dict[str, str]:
    if not ids:
        return {}
    query = sa.text(
        "SELECT e.sender_id, e.data FROM events e JOIN (SELECT sender_id, MIN(id) AS first_id FROM events "
        "WHERE type_name = 'user' AND sender_id IN :ids GROUP BY sender_id) f ON e.id = f.first_id"
    ).bindparams(sa.bindparam("ids", expanding=True))
    result = {}
    for row in connection.execute(query, {"ids": ids}):
        try:
            result[row.sender_id] = str(json.loads(row.data or "{}").get("text") or "")
        except ValueError:
            result[row.sender_id] = ""
    return result


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
