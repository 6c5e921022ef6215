"""Staff review of conversations: status (new / reviewed / needs attention), a note, and tags."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone

import sqlalchemy as sa

from bot.storage.app_db import conversation_reviews, conversation_tags

STATUSES = ("new", "reviewed", "needs_attention")
STATUS_LABELS = {"new": "New", "reviewed": "Reviewed", "needs_attention": "Needs attention"}
TAG_PATTERN = re.compile(r"^[\w][\w -]{0,39}$")
MAX_NOTE_CHARS = 5000


class ReviewError(ValueError):
    pass


@dataclass(frozen=True)
class Review:
    status: str = "new"
    note: str = ""
    tags: list[str] = field(default_factory=list)


def clean_tag(tag: str) -> str:
    tag = " ".join(tag.split()).lower()
    if not TAG_PATTERN.match(tag):
        raise ReviewError("a tag is 1 to 40 letters, digits, spaces, dashes or underscores")
    return tag


def review_of(engine: sa.engine.Engine, conversation_id: str) -> Review:
    with engine.connect() as connection:
        row = connection.execute(
            sa.select(conversation_reviews).where(conversation_reviews.c.conversation_id == conversation_id)
        ).first()
        tags = connection.execute(
            sa.select(conversation_tags.c.tag)
            .where(conversation_tags.c.conversation_id == conversation_id)
            .order_by(conversation_tags.c.tag)
        ).scalars()
        return Review(status=row.status if row else "new", note=(row.note or "") if row else "", tags=list(tags))


def save_review(engine: sa.engine.Engine, conversation_id: str, status: str, note: str, by: str) -> None:
    if status not in STATUSES:
        raise ReviewError(f"the status must be one of {', '.join(STATUSES)}")
    if len(note) > MAX_NOTE_CHARS:
        raise ReviewError(f"the note is longer than {MAX_NOTE_CHARS} characters")
    values = {
        "status": status,
        "note": note.strip() or None,
        "updated_by": by,
        "updated_at": datetime.now(timezone.utc),
    }
    with engine.begin() as connection:
        updated = connection.execute(
            conversation_reviews.update()
            .where(conversation_reviews.c.conversation_id == conversation_id)
            .values(**values)
        ).rowcount
        if not updated:
            connection.execute(conversation_reviews.insert().values(conversation_id=conversation_id, **values))


def add_tag(engine: sa.engine.Engine, conversation_id: str, tag: str) -> None:
    tag = clean_tag(tag)
    with engine.begin() as connection:
        exists = connection.execute(
            sa.select(conversation_tags.c.id).where(
                conversation_tags.c.conversation_id == conversation_id, conversation_tags.c.tag == tag
            )
        ).first()
        if not exists:
            connection.execute(conversation_tags.insert().values(conversation_id=conversation_id, tag=tag))


def remove_tag(engine: sa.engine.Engine, conversation_id: str, tag: str) -> None:
    with engine.begin() as connection:
        connection.execute(
            conversation_tags.delete().where(
                conversation_tags.c.conversation_id == conversation_id, conversation_tags.c.tag == tag
            )
        )
