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


class FilterError(ValueError):
    pass


@dataclass(frozen=True)
class Filters:
    q: str = ""
    date_from: str = ""
    date_to: str = ""
    status: str = ""
    tag: str = ""

    @classmethod
    def from_args(cls, args: Any) -> Filters:
        def arg(name: str) -> str:
            return str(args.get(name) or "").strip()[:200]

        filters = cls(q=arg("q"), date_from=arg("from"), date_to=arg("to"), status=arg("status"), tag=arg("tag"))
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
        names = {"q": "q", "date_from": "from", "date_to": "to", "status": "status", "tag": "tag"}
        pairs = {names[k]: v for k, v in asdict(self).items() if v}
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
    having = []
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
    return [
        {
            "id": row.sender_id,
            "started": datetime.fromtimestamp(row.started or 0, timezone.utc),
            "messages": int(row.messages or 0),
            "first_message": first.get(row.sender_id, ""),
            "status": statuses.get(row.sender_id, "new"),
            "tags": tags.get(row.sender_id, []),
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
