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
(a new conversation, one read across all sessions) is saved Rasa's way. The same count streams the new events to
the event broker, where Rasa would read the whole conversation again to find them.

And it keeps the conversations it last saved in memory, checked against the database before each use
(bot/storage/tracker_cache.py), so that a message does not read and replay the whole conversation.

endpoints.yml names this class as the tracker store type (`cache_size`: conversations kept, 0 for none).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.orm import Session, sessionmaker

from bot.storage.database import sqlite_engine_options, tune_sqlite
from bot.storage.tracker_cache import DEFAULT_SIZE, StoredState, TrackerCache

logger = logging.getLogger(__name__)
# The attribute of a tracker read or saved here: how many of its events are in the database.
STORED_EVENTS = "_ijm_stored_events"


class ConversationStoreUnavailable(BaseException):
    """The conversation database failed; deliberately not an Exception, so Rasa's fallbacks can't swallow it."""


class ResilientSQLTrackerStore(SQLTrackerStore):
    def __init__(self, *args: Any, cache_size: int = DEFAULT_SIZE, **kwargs: Any) -> None:
        self.cache = TrackerCache(int(cache_size))
        super().__init__(*args, **kwargs)
        url = self.engine.url
        self.engine.dispose()
        options = {**create_engine_kwargs(url), **sqlite_engine_options(url)}
        self.engine = tune_sqlite(sa.create_engine(url, pool_pre_ping=True, **options))
        self.sessionmaker = sessionmaker(bind=self.engine)

    @property
    def domain(self) -> Domain:
        return self._domain

    @domain.setter
    def domain(self, domain: Domain | None) -> None:
        """A new model's domain (its slots) makes every kept tracker out of date."""
        self._domain = domain or Domain.empty()
        self.cache.clear()

    def stored_state(self, sender_id: str, newer_than: int | None = None) -> tuple[StoredState, int]:
        """The conversation's oldest and newest event row ids and latest event time, and how many of its rows are
        newer than row `newer_than` (all of them for None): one query on the indexed sender id."""
        event = self.SQLEvent
        newer = sa.func.count(event.id if newer_than is None else sa.case((event.id > newer_than, 1)))
        with self.session_scope() as session:
            first, newest, latest, rows = (
                session.query(sa.func.min(event.id), sa.func.max(event.id), sa.func.max(event.timestamp), newer)
                .filter(event.sender_id == sender_id)
                .one()
            )
        return StoredState(first, newest, latest), int(rows or 0)

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        try:
            if not self.cache.size:
                tracker = await super().retrieve(sender_id)
            else:
                stored, _ = self.stored_state(sender_id)
                kept = self.cache.get(sender_id, stored)
                if kept is not None:
                    return kept
                tracker = await super().retrieve(sender_id)
                # Read after `stored`: a write in between only makes the next use a miss.
                self.cache.keep(sender_id, tracker, stored)
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
        sender_id = tracker.sender_id
        before = getattr(tracker, STORED_EVENTS, None)
        when_read = self.cache.stored_when_read(sender_id)
        self.cache.forget(sender_id)
        checked = when_read is not None and before is not None
        try:
            await super().save(tracker)
            if checked:
                after, written = self.stored_state(sender_id, when_read.newest_id)
        except Exception as error:
            raise _unavailable("store", sender_id, error) from error
        setattr(tracker, STORED_EVENTS, len(tracker.events))
        if checked:
            new = list(itertools.islice(tracker.events, before, len(tracker.events)))
            # Kept only if the database holds what it held plus exactly these events (nobody else wrote, nothing was
            # erased: the oldest row is the same) and no new session began (a read would then start from it).
            untouched = when_read.first_id is None or after.first_id == when_read.first_id
            if untouched and written == len(new) and not any(isinstance(e, SessionStarted) for e in new):
                self.cache.keep(sender_id, tracker, after)

    async def stream_events(self, tracker: DialogueStateTracker) -> None:
        """The new events to the event broker: those after the stored ones, without reading the conversation."""
        stored = getattr(tracker, STORED_EVENTS, None)
        if self.event_broker is None or stored is None or stored > len(tracker.events):
            return await super().stream_events(tracker)
        new = list(itertools.islice(tracker.events, stored, len(tracker.events)))
        await self._stream_new_events(self.event_broker, new, tracker.sender_id)

    def _additional_events(self, session: Session, tracker: DialogueStateTracker) -> Iterator[Event]:
        """The tracker's events not stored yet: after those it was read with or saved with, without a query."""
        stored = getattr(tracker, STORED_EVENTS, None)
        if stored is None or stored > len(tracker.events):
            return super()._additional_events(session, tracker)
        return itertools.islice(tracker.events, stored, len(tracker.events))


def _unavailable(doing: str, sender_id: str, error: Exception) -> ConversationStoreUnavailable:
    logger.error("Could not %s conversation %s in the database: %s", doing, sender_id, error)
    return ConversationStoreUnavailable(f"could not {doing} conversation {sender_id}: {error}")
