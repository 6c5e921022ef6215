"""The conversations the Rasa server is talking to, kept in memory between messages, and checked against the
database before each use.

Stock Rasa reads a conversation's events from the database on every message, parses each from JSON and replays
them into a new tracker: work that grows with the conversation (issue #20). The tracker store keeps the tracker
object it last saved for each recent conversation, with what the database held for it then: its oldest and newest
event rows' ids and its latest event time. Before handing a kept tracker out, it asks the database for those (one
query on the indexed sender id); any change (erasure, retention, another instance's write, a save that failed
half way) means the tracker is read again Rasa's way. A tracker is also dropped when its own event count has
changed since it was kept (a message handled but not saved), and all of them when the model's domain changes.

Handing out the kept object itself, not a copy, is safe because Rasa handles one message per conversation at a
time (its lock store) and every change to a tracker is an event; the checks above catch everything else.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from rasa.shared.core.trackers import DialogueStateTracker

# Conversations kept: each holds its events and their parse data, and the Rasa server must stay under 800 MB
# (issue #15): 64 took it from 801 to 805 MB after the benchmark's load (bench/models.py). A conversation not kept
# is read Rasa's way, no slower than without the cache.
DEFAULT_SIZE = 32


@dataclass(frozen=True)
class StoredState:
    """What the database holds for one conversation: its oldest and newest event rows' ids (None: no rows), and its
    latest event time. Rows are only ever added after the newest (ids grow) or deleted from the oldest (retention) or
    all (erasure), so the ids change whenever the rows do; the time catches events moved in time in place (as a test
    does to make a session expire: Rasa measures the session from the events' times)."""

    first_id: int | None
    newest_id: int | None
    latest_time: float | None = None


@dataclass
class Kept:
    tracker: DialogueStateTracker | None  # None: the conversation had no events when it was read
    events: int  # len(tracker.events) when kept
    stored: StoredState


class TrackerCache:
    """A least-recently-used map of conversation id → the tracker kept for it."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self.size = size
        self._kept: OrderedDict[str, Kept] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._kept)

    def get(self, sender_id: str, stored: StoredState) -> DialogueStateTracker | None:
        """The kept tracker, if the database still holds what it held when it was kept and the tracker has not
        changed since; otherwise None (and it is forgotten)."""
        kept = self._kept.get(sender_id)
        if kept is None or kept.tracker is None:
            self.misses += 1
            return None
        if kept.stored != stored or len(kept.tracker.events) != kept.events:
            del self._kept[sender_id]
            self.misses += 1
            return None
        self._kept.move_to_end(sender_id)
        self.hits += 1
        return kept.tracker

    def stored_when_read(self, sender_id: str) -> StoredState | None:
        kept = self._kept.get(sender_id)
        return None if kept is None else kept.stored

    def keep(self, sender_id: str, tracker: DialogueStateTracker | None, stored: StoredState) -> None:
        self._kept[sender_id] = Kept(tracker, len(tracker.events) if tracker is not None else 0, stored)
        self._kept.move_to_end(sender_id)
        while len(self._kept) > self.size:
            self._kept.popitem(last=False)

    def forget(self, sender_id: str) -> None:
        self._kept.pop(sender_id, None)

    def clear(self) -> None:
        self._kept.clear()
