"""Exporting the (filtered) conversations: CSV with one row per message, JSONL with one conversation per line."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator

import sqlalchemy as sa

from bot.console.conversation_list import PAGE_SIZE, Filters, list_conversations
from bot.console.transcripts import load_transcript
from bot.spreadsheet import safe_cell

# The most conversations one export holds (a bigger one: narrow the filters, or read the database).
MAX_EXPORT_CONVERSATIONS = 10_000
CSV_COLUMNS = ("conversation_id", "time", "speaker", "text", "intent", "confidence")


def conversation_ids(engine: sa.engine.Engine, filters: Filters) -> tuple[list[str], bool]:
    """The ids of the filtered conversations, newest first, at most MAX_EXPORT_CONVERSATIONS; and whether more
    matched than that."""
    ids: list[str] = []
    page = 1
    while len(ids) <= MAX_EXPORT_CONVERSATIONS:
        rows = list_conversations(engine, filters, page)
        ids.extend(row["id"] for row in rows)
        if len(rows) < PAGE_SIZE:
            break
        page += 1
    return ids[:MAX_EXPORT_CONVERSATIONS], len(ids) > MAX_EXPORT_CONVERSATIONS


def _messages(engine: sa.engine.Engine, conversation_id: str, shown: Callable[[str], str]) -> Iterator[dict]:
    for turn in load_transcript(engine, conversation_id) or []:
        if turn.text is not None:
            yield {
                "time": turn.at.isoformat(),
                "speaker": "visitor",
                "text": shown(turn.text),
                "intent": turn.intent,
                "confidence": turn.confidence,
            }
        for reply in turn.replies:
            yield {
                "time": turn.at.isoformat(),
                "speaker": "assistant",
                "text": shown(reply),
                "intent": None,
                "confidence": None,
            }


def export_csv(engine: sa.engine.Engine, ids: list[str], shown: Callable[[str], str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for conversation_id in ids:
        for message in _messages(engine, conversation_id, shown):
            row = {"conversation_id": conversation_id, **message}
            writer.writerow([safe_cell(row[c]) for c in CSV_COLUMNS])
    return out.getvalue()


def export_jsonl(engine: sa.engine.Engine, ids: list[str], shown: Callable[[str], str]) -> str:
    lines = (
        json.dumps(
            {"id": conversation_id, "messages": list(_messages(engine, conversation_id, shown))}, ensure_ascii=False
        )
        for conversation_id in ids
    )
    return "".join(line + "\n" for line in lines)
