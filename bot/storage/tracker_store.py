"""Rasa's SQL tracker store, made to fail loudly instead of forgetting, and to recover at once.

Two things in Rasa 3.6 would lose conversations quietly when the database has a problem:

- Rasa wraps every tracker store in a FailSafeTrackerStore: a failed read gives a *new, empty* tracker (the
  visitor is answered without their history) and a failed write keeps the events *in memory only*. Both
  catch `Exception`, so this store turns a database failure into ConversationStoreUnavailable, a
  BaseException, which passes through them; the channels' `never_silent` wrapper catches it, answers the
  visitor with the apology, and the message is neither answered from a blank history nor half stored.
- Rasa makes its engine without `pool_pre_ping`: after the database restarts each pooled connection fails
  once. With the ping a dead connection is replaced before the query, so the first message after an outage
  is stored.

It also saves without counting. Before each save Rasa counts the conversation's stored events since its last session
start (a query that grows with the conversation) to know which of the tracker's events are new. A tracker read by
`retrieve` holds exactly those stored events, so this store notes how many it read, and how many it has saved since,
on the tracker object itself; a save of that object writes the events after them. A tracker it did not read
(a new conversation, one read across all sessions) is saved Rasa's way.

endpoints.yml names this class as the tracker store type.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.orm import Session, sessionmaker

from bot.storage.database import sqlite_engine_options, tune_sqlite

logger = logging.getLogger(__name__)
# The attribute of a tracker read or saved here: how many of its events are in the database.
STORED_EVENTS = "_ijm_stored_events"


class ConversationStoreUnavailable(BaseException):
    """The conversation database failed; deliberately not an Exception, so Rasa's fallbacks can't swallow it."""


class ResilientSQLTrackerStore(SQLTrackerStore):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        url = self.engine.url
        self.engine.dispose()
        options = {**create_engine_kwargs(url), **sqlite_engine_options(url)}
        self.engine = tune_sqlite(sa.create_engine(url, pool_pre_ping=True, **options))
        self.sessionmaker = sessionmaker(bind=self.engine)

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        try:
            tracker = await super().retrieve(sender_id)
        except Exception as error:
            raise _unavailable("read", sender_id, error) from error
        if tracker is not None:
            setattr(tracker, STORED_EVENTS, len(tracker.events))
        return tracker

    async def retrieve_full_tracker(self, conversation_id: str) -> DialogueStateTracker | None:
        try:
            return await super().retrieve_full_tracker(conversation_id)
        except Exception as error:
            raise _unavailable("read", conversation_id, error) from error

    async def save(self, tracker: DialogueStateTracker) -> None:
        try:
            await super().save(tracker)
        except Exception as error:
            raise _unavailable("store", tracker.sender_id, error) from error
        setattr(tracker, STORED_EVENTS, len(tracker.events))

    def _additional_events(self, session: Session, tracker: DialogueStateTracker) -> Iterator[Event]:
        """The tracker's events not stored yet: after those it was read with or saved with, without a query."""
        stored = getattr(tracker, STORED_EVENTS, None)
        if stored is None or stored > len(tracker.events):
            return super()._additional_events(session, tracker)
        return itertools.islice(tracker.events, stored, len(tracker.events))


def _unavailable(doing: str, sender_id: str, error: Exception) -> ConversationStoreUnavailable:
    logger.error("Could not %s conversation %s in the database: %s", doing, sender_id, error)
    return ConversationStoreUnavailable(f"could not {doing} conversation {sender_id}: {error}")
