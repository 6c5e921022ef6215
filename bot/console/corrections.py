"""Correcting what the model understood, and the questions it could not answer (issue #6).

Staff choose the right intent for a visitor message (a row of Rasa's `events`); the corrections are stored in
`intent_corrections` and exported as a Rasa NLU YAML file (`ijm-bot export-training`, or the console download)
ready to add to `data/`. The unanswered questions are the visitor messages that got a fallback (as the console's
summary counts one) or were classified `out_of_scope`, grouped by similar text.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from html import escape
from pathlib import Path

import sqlalchemy as sa
import yaml

from bot.console.accounts import audit
from bot.console.summary import OUT_OF_SCOPE_INTENT as OUT_OF_SCOPE
from bot.console.summary import catch_up
from bot.settings import PROJECT_ROOT
from bot.storage.app_db import console_unanswered, intent_corrections

# Two groups of unanswered questions are merged when their word sets overlap at least this much.
SIMILARITY = 0.6
# The newest unanswered messages read at most (the page is a to-do list, not an archive).
MAX_UNANSWERED_ROWS = 20_000
# Rasa reads `[text](entity)`, `[text]{...}` and `[text][...]` in an example as an entity annotation.
_ENTITY_MARKUP = re.compile(r"\[[^\]]*\]\s*[({\[]")


class CorrectionError(ValueError):
    """A correction that can't be recorded; `status` is the HTTP status that says why."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Correction:
    id: int
    conversation_id: str
    event_id: int
    text: str
    predicted_intent: str | None
    corrected_intent: str
    corrected_by: str
    created_at: datetime


@dataclass
class UnansweredGroup:
    """Similar unanswered messages: how many, the most frequent wording, and a conversation it came from."""

    example: str
    count: int
    conversation_id: str
    tokens: frozenset[str] = field(repr=False)
    wordings: Counter = field(default_factory=Counter, repr=False)


@lru_cache(maxsize=4)
def _intents_of(domain_path: Path, modified: float) -> tuple[str, ...]:
    domain = yaml.safe_load(domain_path.read_text(encoding="utf-8")) or {}
    names = []
    for item in domain.get("intents") or []:
        name = next(iter(item)) if isinstance(item, dict) else item
        if isinstance(name, str) and name not in names:
            names.append(name)
    if OUT_OF_SCOPE not in names:
        names.append(OUT_OF_SCOPE)
    return tuple(names)


def domain_intents(domain_path: Path | None = None) -> list[str]:
    """The intents a message can be corrected to: domain.yml's, and out_of_scope."""
    path = domain_path or PROJECT_ROOT / "domain.yml"
    return list(_intents_of(path, path.stat().st_mtime))


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _correction(row: sa.engine.Row) -> Correction:
    return Correction(
        id=row.id,
        conversation_id=row.conversation_id,
        event_id=row.event_id,
        text=row.text,
        predicted_intent=row.predicted_intent,
        corrected_intent=row.corrected_intent,
        corrected_by=row.corrected_by,
        created_at=row.created_at,
    )


def _visitor_message(connection: sa.engine.Connection, event_id: int) -> sa.engine.Row | None:
    if not sa.inspect(connection).has_table("events"):
        return None
    return connection.execute(
        sa.text("SELECT id, sender_id, intent_name, data FROM events WHERE id = :i AND type_name = 'user'"),
        {"i": event_id},
    ).first()


def record_correction(
    engine: sa.engine.Engine, event_id: int, corrected_intent: str, actor: str, intents: list[str] | None = None
) -> Correction:
    """Store (or change) the right intent of the visitor message `event_id`; its text and predicted intent come
    from the events row. CorrectionError 400 for an intent the domain doesn't have, 404 for an unknown message."""
    if corrected_intent not in (intents if intents is not None else domain_intents()):
        raise CorrectionError(f"{corrected_intent!r} is not an intent of the assistant", 400)
    with engine.begin() as connection:
        event = _visitor_message(connection, event_id)
        if event is None:
            raise CorrectionError(f"there is no visitor message {event_id}", 404)
        try:
            data = json.loads(event.data or "{}")
        except ValueError:
            data = {}
        predicted = event.intent_name or ((data.get("parse_data") or {}).get("intent") or {}).get("name")
        values = {
            "conversation_id": event.sender_id,
            "text": str(data.get("text") or ""),
            "predicted_intent": predicted,
            "corrected_intent": corrected_intent,
            "corrected_by": actor,
            "created_at": _now(),
        }
        existing = connection.execute(
            sa.select(intent_corrections.c.id).where(intent_corrections.c.event_id == event_id)
        ).scalar()
        if existing is None:
            connection.execute(intent_corrections.insert().values(event_id=event_id, **values))
        else:
            connection.execute(intent_corrections.update().where(intent_corrections.c.id == existing).values(**values))
        row = connection.execute(sa.select(intent_corrections).where(intent_corrections.c.event_id == event_id)).one()
    return _correction(row)


def list_corrections(engine: sa.engine.Engine) -> list[Correction]:
    """Every correction, newest first."""
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(intent_corrections).order_by(
                intent_corrections.c.created_at.desc(), intent_corrections.c.id.desc()
            )
        ).all()
    return [_correction(row) for row in rows]


def corrections_by_event(engine: sa.engine.Engine, event_ids: list[int]) -> dict[int, str]:
    """The corrected intent of each of `event_ids` that has one (for the transcript)."""
    if not event_ids:
        return {}
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(intent_corrections.c.event_id, intent_corrections.c.corrected_intent).where(
                intent_corrections.c.event_id.in_(event_ids)
            )
        ).all()
    return {row.event_id: row.corrected_intent for row in rows}


def _example_text(text: str) -> str:
    """One line of plain text, as Rasa reads an example: no control characters, no entity markup."""
    text = "".join(" " if unicodedata.category(ch).startswith("C") else ch for ch in text)
    text = " ".join(text.split())
    if _ENTITY_MARKUP.search(text):
        text = text.replace("[", "(").replace("]", ")")
    return text


class _LiteralText(str):
    """Written as a YAML block literal (`|`) when PyYAML can; otherwise it quotes it."""


class _TrainingDumper(yaml.SafeDumper):
    pass


_TrainingDumper.add_representer(
    _LiteralText, lambda dumper, data: dumper.represent_scalar("tag:yaml.org,2002:str", str(data), style="|")
)


def training_yaml(corrections: list[Correction]) -> str:
    """A Rasa NLU training file (version 3.1): the corrected texts under their intents, each text once."""
    by_intent: dict[str, list[str]] = {}
    for correction in sorted(corrections, key=lambda c: (c.corrected_intent, c.event_id)):
        text = _example_text(correction.text)
        examples = by_intent.setdefault(correction.corrected_intent, [])
        if text and text not in examples:
            examples.append(text)
    document = {
        "version": "3.1",
        "nlu": [
            {"intent": intent, "examples": _LiteralText("".join(f"- {text}\n" for text in examples))}
            for intent, examples in by_intent.items()
            if examples
        ],
    }
    header = "# Intent corrections from the staff console (ijm-bot export-training); review, then add to data/.\n"
    return header + yaml.dump(
        document, Dumper=_TrainingDumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=1000
    )


def export_training(engine: sa.engine.Engine, actor: str) -> tuple[str, int]:
    """The training YAML of every correction, and how many there are; the export is written to the audit log."""
    corrections = list_corrections(engine)
    with engine.begin() as connection:
        audit(connection, actor, "training.export", None, f"{len(corrections)} corrections")
    return training_yaml(corrections), len(corrections)


def correction_form_html(
    event_id: int, current_intent: str | None, csrf_token: str, next_path: str, intents: list[str]
) -> str:
    """A small form to correct the intent of visitor message `event_id` (posts to /console/corrections)."""
    choices = list(intents) + ([OUT_OF_SCOPE] if OUT_OF_SCOPE not in intents else [])
    options = "".join(
        f'<option value="{escape(name)}"{" selected" if name == current_intent else ""}>{escape(name)}</option>'
        for name in choices
    )
    if current_intent and current_intent not in choices:
        # What the model said is no intent one can correct to (nlu_fallback: not understood): shown first and
        # selected, but disabled, so the form sends nothing until staff pick the right intent.
        options = (
            f'<option value="{escape(current_intent)}" selected disabled>{escape(current_intent)} '
            "(what the model said)</option>" + options
        )
    field_id = f"correct-{int(event_id)}"
    return (
        '<form method="post" action="/console/corrections" class="correction">'
        f'<input type="hidden" name="csrf_token" value="{escape(csrf_token)}">'
        f'<input type="hidden" name="event_id" value="{int(event_id)}">'
        f'<input type="hidden" name="next" value="{escape(next_path)}">'
        f'<label for="{field_id}">Right intent</label>'
        f'<select id="{field_id}" name="corrected_intent">{options}</select> '
        '<button type="submit">Correct</button></form>'
    )


def normalise(text: str) -> str:
    """Lower case, punctuation removed, spaces collapsed: "What's the weather?" → "whats the weather"."""
    return " ".join(re.sub(r"[^\w\s]", "", text.lower()).replace("_", " ").split())


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 1.0
    shared = len(a & b)
    return shared / (len(a) + len(b) - shared)  # len(a | b), without making the union


# Prefix filtering (Chaudhuri et al. 2006; Xiao et al. 2008, "PPJoin"). Sort every word set by one global order,
# rarest word first. Two sets with a Jaccard of at least t share at least ceil(t * size) words of each, so each
# one's first size - ceil(t * size) + 1 words (its prefix) hold a word of the other's prefix; and, when the first
# word they share is at position i of one and j of the other, they share at most 1 + min(q - 1 - i, f - 1 - j)
# words, while a Jaccard of t needs t / (1 + t) * (q + f). The bounds are rounded generously (- 1e-9): erring
# makes the search slower, never wrong, and the Jaccard itself decides, exactly as comparing every pair did.


def _least_shared(share: float) -> int:
    return max(1, math.ceil(share - 1e-9))


def exact_groups(messages: list[tuple[str, str]]) -> list[UnansweredGroup]:
    """(conversation id, text) pairs with the same normalised text in one group; most frequent first, then by
    that text. The first step of `group_unanswered`."""
    exact: dict[str, UnansweredGroup] = {}
    for conversation_id, text in messages:
        key = normalise(text) or text.strip().lower()
        if not key:
            continue
        group = exact.get(key)
        if group is None:
            group = exact[key] = UnansweredGroup(text, 0, conversation_id, frozenset(key.split()))
        group.count += 1
        group.wordings[text] += 1
    return [group for _key, group in sorted(exact.items(), key=lambda item: (-item[1].count, item[0]))]


def finished_groups(merged: list[UnansweredGroup]) -> list[UnansweredGroup]:
    """Each merged group shown by its most frequent wording; most frequent group first. The last step."""
    for group in merged:
        group.example = min(group.wordings.items(), key=lambda item: (-item[1], item[0]))[0]
    return sorted(merged, key=lambda g: (-g.count, g.example))


def group_unanswered(messages: list[tuple[str, str]]) -> list[UnansweredGroup]:
    """Group (conversation id, text) pairs: identical normalised texts together, then groups whose word sets
    have a Jaccard similarity of at least SIMILARITY merged into the biggest one they match. Most frequent first.
    Deterministic: the same messages always give the same groups.

    "The biggest one they match" is the first in (count desc, text) order whose first word set matches. Not every
    pair is compared (that took minutes for MAX_UNANSWERED_ROWS texts): a group is only compared with the groups
    that can be similar enough, found through the words of their prefixes (see above)."""
    exact = exact_groups(messages)
    frequency = Counter(token for group in exact for token in group.tokens)
    merged: list[UnansweredGroup] = []
    # word → (merged group, its word set, its size, how many of its words follow this one) for each word of each
    # merged group's prefix, in the groups' order
    prefixes: dict[str, list[tuple[int, frozenset[str], int, int]]] = {}
    most = max((len(group.tokens) for group in exact), default=0)
    # the least number of shared words for a Jaccard of SIMILARITY, by the sum of the two sets' sizes
    needed = [_least_shared(SIMILARITY / (1 + SIMILARITY) * total) for total in range(2 * most + 1)]
    for group in exact:
        tokens = group.tokens
        words = sorted(tokens, key=lambda token: (frequency[token], token))
        size = len(words)
        prefix = words[: size - _least_shared(SIMILARITY * size) + 1]
        first: int | None = None
        for position, word in enumerate(prefix):
            rest = size - 1 - position
            for candidate, other, other_size, other_rest in prefixes.get(word, ()):
                if first is not None and candidate >= first:
                    break
                # When this is the first word the two share, they share at most 1 + min(rest, other_rest); when
                # it is not, the candidate was already compared: skipping it again changes nothing.
                at_most = 1 + (rest if rest < other_rest else other_rest)
                if at_most >= needed[size + other_size] and _jaccard(other, tokens) >= SIMILARITY:
                    first = candidate
                    break
        if first is None:
            first = len(merged)
            merged.append(UnansweredGroup(group.example, 0, group.conversation_id, tokens))
            for position, word in enumerate(prefix):
                prefixes.setdefault(word, []).append((first, tokens, size, size - 1 - position))
        home = merged[first]
        home.count += group.count
        home.wordings.update(group.wordings)
    return finished_groups(merged)


def unanswered_messages(engine: sa.engine.Engine, days: int, now: datetime | None = None) -> list[tuple[str, str]]:
    """(conversation id, text) of the visitor messages of the last `days` days that went unanswered, newest first,
    at most MAX_UNANSWERED_ROWS: classified nlu_fallback or out_of_scope, or answered by a fallback action before
    the next message, as the console's summary records them (bot/console/summary.py, brought up to date first)."""
    if not sa.inspect(engine).has_table(console_unanswered.name):
        return []
    catch_up(engine)
    since = ((now or _now()) - timedelta(days=days)).timestamp()
    query = (
        sa.select(console_unanswered.c.conversation_id, console_unanswered.c.text)
        .where(console_unanswered.c.at >= since)
        .order_by(console_unanswered.c.at.desc(), console_unanswered.c.event_id.desc())
        .limit(MAX_UNANSWERED_ROWS)
    )
    with engine.connect() as connection:
        return [(row.conversation_id, row.text) for row in connection.execute(query)]


def unanswered_questions(
    engine: sa.engine.Engine, days: int, now: datetime | None = None
) -> tuple[int, list[UnansweredGroup]]:
    """How many unanswered messages the last `days` days have, and their groups (blocking: run it in a thread)."""
    messages = unanswered_messages(engine, days, now)
    return len(messages), group_unanswered(messages)
