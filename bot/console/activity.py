"""What a conversation led to, from the app's own tables: 👍/👎, link clicks, sign-ups, withdrawals and leads.

The transcript shows each of these under the visitor turn it followed, so staff read a conversation and its
results in one place. Labels never carry a visitor's e-mail address: the records themselves hold those.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import sqlalchemy as sa

from bot.storage.app_db import enquiries, feedback, link_clicks, newsletter_records

ENQUIRY_LABELS = {"fundraiser": "Fundraiser lead recorded", "media": "Media enquiry recorded"}


@dataclass(frozen=True)
class Activity:
    at: datetime
    kind: str  # feedback_up, feedback_down, link_click, newsletter_subscribe, newsletter_unsubscribe, enquiry
    label: str


def _utc(moment: datetime) -> datetime:
    """SQLite returns the naive UTC time it stored; PostgreSQL an aware one."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _quote(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return f"“{text[:limit]}{'…' if len(text) > limit else ''}”"


def load_activity(engine: sa.engine.Engine, conversation_id: str) -> list[Activity]:
    """Everything the app recorded for the conversation, oldest first."""
    found: list[Activity] = []
    with engine.connect() as connection:
        for row in connection.execute(
            sa.select(feedback.c.rating, feedback.c.message_text, feedback.c.created_at).where(
                feedback.c.conversation_id == conversation_id
            )
        ):
            thumb = "👍" if row.rating == "up" else "👎"
            found.append(
                Activity(_utc(row.created_at), f"feedback_{row.rating}", f"{thumb} on {_quote(row.message_text)}")
            )
        for row in connection.execute(
            sa.select(link_clicks.c.link, link_clicks.c.clicked_at).where(
                link_clicks.c.conversation_id == conversation_id
            )
        ):
            found.append(Activity(_utc(row.clicked_at), "link_click", f"Clicked the {row.link} link"))
        for row in connection.execute(
            sa.select(newsletter_records.c.action, newsletter_records.c.created_at).where(
                newsletter_records.c.conversation_id == conversation_id
            )
        ):
            label = "Newsletter sign-up, consent recorded" if row.action == "subscribe" else "Newsletter withdrawal"
            found.append(Activity(_utc(row.created_at), f"newsletter_{row.action}", label))
        for row in connection.execute(
            sa.select(enquiries.c.kind, enquiries.c.team, enquiries.c.created_at).where(
                enquiries.c.conversation_id == conversation_id
            )
        ):
            label = ENQUIRY_LABELS.get(row.kind, "Message for a person recorded")
            found.append(Activity(_utc(row.created_at), "enquiry", f"{label} (to {row.team})"))
    return sorted(found, key=lambda activity: activity.at)
