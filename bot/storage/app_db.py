"""The app's own tables (beside Rasa's `events`), in the same DATABASE_URL. Their schema changes only
through the Alembic migrations in bot/storage/migrations/."""

from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa

from bot.storage.database import sqlite_engine_options, tune_sqlite

metadata = sa.MetaData()


class UtcDateTime(sa.types.TypeDecorator):
    """A timezone-aware UTC datetime on every backend.

    SQLite keeps no zone: values are stored as UTC and come back naive, so they are marked UTC again on the way
    out. A naive value on the way in is refused rather than guessed at.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.engine.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("UtcDateTime needs a timezone-aware datetime")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.engine.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


link_clicks = sa.Table(
    "link_clicks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("link", sa.String(64), nullable=False, index=True),
    # As sent in the link's `c` parameter: used for counting only, never trusted for anything else.
    sa.Column("conversation_id", sa.String(255), nullable=True, index=True),
    sa.Column("clicked_at", sa.DateTime(timezone=True), nullable=False),
)

# Append-only: one row per sign-up or withdrawal. Whether someone is subscribed is their latest row.
newsletter_records = sa.Table(
    "newsletter_records",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.String(320), nullable=False, index=True),
    sa.Column("first_name", sa.String(255), nullable=True),
    sa.Column("action", sa.String(16), nullable=False),
    # The exact consent sentence the visitor was shown (null for a withdrawal).
    sa.Column("consent_text", sa.Text, nullable=True),
    sa.Column("conversation_id", sa.String(255), nullable=True, index=True),
    sa.Column("channel", sa.String(64), nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.CheckConstraint("action IN ('subscribe', 'unsubscribe')", name="ck_newsletter_records_action"),
)

enquiries = sa.Table(
    "enquiries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False, index=True),
    sa.Column("team", sa.String(64), nullable=False),
    sa.Column("name", sa.String(255), nullable=True),
    sa.Column("email", sa.String(320), nullable=False),
    sa.Column("details", sa.Text, nullable=False),  # JSON object of str → str
    sa.Column("conversation_id", sa.String(255), nullable=True, index=True),
    sa.Column("channel", sa.String(64), nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.CheckConstraint("kind IN ('fundraiser', 'media', 'message')", name="ck_enquiries_kind"),
)

# What still has to leave the database: one row per record and destination (see bot/outbox/).
outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("record_type", sa.String(16), nullable=False),
    sa.Column("record_id", sa.Integer, nullable=False),
    sa.Column("destination", sa.String(32), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),  # JSON
    sa.Column("idempotency_key", sa.String(36), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", UtcDateTime, nullable=False),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("sent_at", UtcDateTime, nullable=True),
    sa.UniqueConstraint("idempotency_key", name="uq_outbox_idempotency_key"),
    sa.CheckConstraint("record_type IN ('newsletter', 'enquiry')", name="ck_outbox_record_type"),
    sa.CheckConstraint(
        "destination IN ('newsletter_webhook', 'leads_webhook', 'team_email')", name="ck_outbox_destination"
    ),
    sa.CheckConstraint("status IN ('pending', 'sent', 'failed')", name="ck_outbox_status"),
    sa.Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),
)

# 👍 / 👎 that visitors give an answer in the website widget (POST /api/feedback), with the text they rated.
feedback = sa.Table(
    "feedback",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    # The widget's session id, which is the Rasa sender id of the conversation.
    sa.Column("conversation_id", sa.String(255), nullable=False, index=True),
    sa.Column("rating", sa.String(8), nullable=False),
    sa.Column("message_text", sa.Text, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.CheckConstraint("rating IN ('up', 'down')", name="ck_feedback_rating"),
)


# The staff console (issue #6): who may use it, their API tokens, and the audit log of exports and erasures.
staff = sa.Table(
    "staff",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
    sa.Column("locked_until", UtcDateTime, nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.CheckConstraint("role IN ('admin', 'viewer')", name="ck_staff_role"),
)

# API tokens: random, shown once, stored as a SHA-256 digest (they carry 256 bits of entropy, so a fast hash
# is enough; passwords get argon2).
staff_tokens = sa.Table(
    "staff_tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("staff_id", sa.Integer, sa.ForeignKey("staff.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("token_digest", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

# Every export, deletion and staff change, for admins to read.
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("target", sa.String(255), nullable=True),
    sa.Column("detail", sa.Text, nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False, index=True),
)


# Signed-in console sessions: the cookie holds a random value, stored here only as its SHA-256 digest, with the
# session's CSRF token and its expiry (server-side, so signing out or removing the staff member ends it at once).
staff_sessions = sa.Table(
    "staff_sessions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("staff_id", sa.Integer, sa.ForeignKey("staff.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("cookie_digest", sa.String(64), nullable=False, unique=True),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=False),
)


# Staff review of a conversation in the console: its status and a free-text note (one row per reviewed
# conversation), and its tags.
conversation_reviews = sa.Table(
    "conversation_reviews",
    metadata,
    sa.Column("conversation_id", sa.String(255), primary_key=True),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("note", sa.Text, nullable=True),
    sa.Column("updated_by", sa.String(64), nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.CheckConstraint("status IN ('new', 'reviewed', 'needs_attention')", name="ck_conversation_reviews_status"),
)

conversation_tags = sa.Table(
    "conversation_tags",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("conversation_id", sa.String(255), nullable=False),
    sa.Column("tag", sa.String(40), nullable=False, index=True),
    sa.UniqueConstraint("conversation_id", "tag", name="uq_conversation_tags"),
)

# "Correct the understanding" (issue #6): the right intent for a visitor message, chosen by staff. One row per
# message (the `events` row id); the text and the predicted intent are copied from that row.
intent_corrections = sa.Table(
    "intent_corrections",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("conversation_id", sa.String(255), nullable=False, index=True),
    sa.Column("event_id", sa.Integer, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("predicted_intent", sa.String(255), nullable=True),
    sa.Column("corrected_intent", sa.String(255), nullable=False),
    sa.Column("corrected_by", sa.String(64), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("event_id", name="uq_intent_corrections_event_id"),
)


# Rasa's own `events` table (its SQL tracker store writes every conversation there). Rasa defines it
# (rasa.core.tracker_store.SQLTrackerStore.SQLEvent); migration 0008 makes it with that very definition when Rasa
# hasn't yet, and adds the console's indexes. It is described here only so that the schema check sees those
# indexes: its columns are Rasa's and must never change (tests/unit/test_console_scale.py compares them).
events = sa.Table(
    "events",
    metadata,
    sa.Column("id", sa.Integer, sa.Sequence("events_seq", optional=True), primary_key=True),
    sa.Column("sender_id", sa.String(255), nullable=False, index=True),
    sa.Column("type_name", sa.String(255), nullable=False),
    sa.Column("timestamp", sa.Float),
    sa.Column("intent_name", sa.String(255)),
    sa.Column("action_name", sa.String(255)),
    sa.Column("data", sa.Text),
    # the list's intent and action filters: the conversations with such a message / step, from the index alone
    sa.Index("ix_console_events_type_intent", "type_name", "intent_name", "sender_id"),
    sa.Index("ix_console_events_type_action", "type_name", "action_name", "sender_id"),
)

# The console's summary of `events` (bot/console/summary.py): derived data, kept in step with `events` before each
# list or statistics query (a watermark of the last event id folded in), rebuildable from it at any time, and
# erased with the conversation. One row per conversation, for the list:
console_conversations = sa.Table(
    "console_conversations",
    metadata,
    sa.Column("conversation_id", sa.String(255), primary_key=True),
    sa.Column("started_at", sa.Float, nullable=True),  # MIN(events.timestamp), an epoch as Rasa stores it
    sa.Column("last_at", sa.Float, nullable=True),  # MAX(events.timestamp)
    sa.Column("messages", sa.Integer, nullable=False),  # visitor messages (user events)
    sa.Column("first_message", sa.Text, nullable=True),  # the text of the first one
    sa.Column("search_text", sa.Text, nullable=False),  # what the visitor wrote, lower-cased, one line a message
    sa.Column("min_confidence", sa.Float, nullable=True),  # the lowest NLU confidence of those messages
    sa.Column("donation_link", sa.Boolean, nullable=False),  # an answer held /go/donate
    sa.Column("safety", sa.Boolean, nullable=False),  # action_safety_help ran
    sa.Column("fallback", sa.Boolean, nullable=False),  # nlu_fallback, or a fallback action ran
    sa.Index("ix_console_conversations_last_at", "last_at", "conversation_id"),
)

# ... one row per conversation and UTC day (days since 1970-01-01) with a visitor message or a donate link, for the
# statistics:
console_conversation_days = sa.Table(
    "console_conversation_days",
    metadata,
    sa.Column("conversation_id", sa.String(255), primary_key=True),
    sa.Column("day", sa.Integer, primary_key=True),
    sa.Column("messages", sa.Integer, nullable=False),
    # visitor messages classified nlu_fallback or answered by a fallback action before the next one
    sa.Column("fallbacks", sa.Integer, nullable=False),
    sa.Column("donation_link", sa.Boolean, nullable=False),
    sa.Index("ix_console_conversation_days_day", "day"),
)

# ... and its visitor messages per day and intent (events.intent_name).
console_conversation_intents = sa.Table(
    "console_conversation_intents",
    metadata,
    sa.Column("conversation_id", sa.String(255), primary_key=True),
    sa.Column("day", sa.Integer, primary_key=True),
    sa.Column("intent_name", sa.String(255), primary_key=True),
    sa.Column("messages", sa.Integer, nullable=False),
    sa.Index("ix_console_conversation_intents_day", "day", "intent_name"),
    sa.Index("ix_console_conversation_intents_intent", "intent_name", "day"),
)

# ... and the visitor messages that went unanswered (classified nlu_fallback or out_of_scope, or answered by a
# fallback action before the next one), for the console's "Unanswered questions" page:
console_unanswered = sa.Table(
    "console_unanswered",
    metadata,
    sa.Column("conversation_id", sa.String(255), primary_key=True),
    sa.Column("event_id", sa.Integer, primary_key=True, autoincrement=False),  # the message's events.id
    sa.Column("at", sa.Float, nullable=True),  # its events.timestamp
    sa.Column("text", sa.Text, nullable=False),
    sa.Index("ix_console_unanswered_at", "at", "event_id"),
)

# Where the summary stands: one row (id 1), the highest events.id folded in, and since when a hole in the ids above
# it has been seen (a transaction still writing, or rows deleted): see bot/console/summary.py.
console_summary_state = sa.Table(
    "console_summary_state",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("last_event_id", sa.Integer, nullable=False),
    sa.Column("gap_seen_at", sa.Float, nullable=True),
)


# The event-broker consumer's analytics (`ijm-bot consume`, bot/stream/): folded from the RabbitMQ stream of Rasa's
# events, not from `events`, with the console's definitions (fallback, donate link, safety answer). Days are UTC day
# numbers (days since 1970-01-01), as in the console's summary. One row per day, for the charts:
stream_daily_counts = sa.Table(
    "stream_daily_counts",
    metadata,
    sa.Column("day", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("conversations_started", sa.Integer, nullable=False),  # first visitor message of a conversation
    sa.Column("conversations", sa.Integer, nullable=False),  # conversations with a visitor message that day
    sa.Column("messages", sa.Integer, nullable=False),  # visitor messages
    sa.Column("fallbacks", sa.Integer, nullable=False),  # ... not understood (as console_conversation_days)
    sa.Column("donation_links", sa.Integer, nullable=False),  # conversations shown the donate link that day
    sa.Column("safety_answers", sa.Integer, nullable=False),  # action_safety_help runs
)

# ... visitor messages per day and intent:
stream_intent_counts = sa.Table(
    "stream_intent_counts",
    metadata,
    sa.Column("day", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("intent_name", sa.String(255), primary_key=True),
    sa.Column("messages", sa.Integer, nullable=False),
)

# ... per conversation and day, for distinct counts over a range (and a day's "first time" tests):
stream_conversation_days = sa.Table(
    "stream_conversation_days",
    metadata,
    sa.Column("conversation_id", sa.String(255), primary_key=True),
    sa.Column("day", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("messages", sa.Integer, nullable=False),
    sa.Column("fallbacks", sa.Integer, nullable=False),
    sa.Column("donation_link", sa.Boolean, nullable=False),
    sa.Column("safety", sa.Boolean, nullable=False),
    sa.Index("ix_stream_conversation_days_day", "day"),
)

# ... per conversation: when its first visitor message came, and its latest one (a fallback action answering it
# counts it as not understood, once), as the console's summary folds it.
stream_conversations = sa.Table(
    "stream_conversations",
    metadata,
    sa.Column("conversation_id", sa.String(255), primary_key=True),
    sa.Column("first_day", sa.Integer, nullable=False),
    sa.Column("open_day", sa.Integer, nullable=True),
    sa.Column("open_fallback", sa.Boolean, nullable=False),
)

# The events already folded in (RabbitMQ delivers at least once): a SHA-256 of the message's canonical JSON, kept for
# a retention period (bot/stream/fold.py SEEN_RETENTION_SECONDS), so that a redelivered event changes nothing.
stream_seen_events = sa.Table(
    "stream_seen_events",
    metadata,
    sa.Column("event_key", sa.String(64), primary_key=True),
    sa.Column("seen_at", sa.Float, nullable=False),  # epoch seconds, when it was folded in
    sa.Index("ix_stream_seen_events_seen_at", "seen_at"),
)


def create_engine(url: str) -> sa.engine.Engine:
    return tune_sqlite(sa.create_engine(url, future=True, pool_pre_ping=True, **sqlite_engine_options(url)))
