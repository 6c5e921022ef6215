"""A conversation's transcript from Rasa's `events` table, and masking personal details for viewers."""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import datetime, timezone

import sqlalchemy as sa

from bot.console.activity import Activity
from bot.console.summary import DONATE_PATH, FALLBACK_ACTIONS, FALLBACK_INTENT, SAFETY_ACTION

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
# North American and international phone numbers: at least 7 digits with the usual separators.
PHONE = re.compile(r"(?<![\w])(\+?\d[\d\s().-]{5,}\d)(?![\w])")
HIDDEN_ACTIONS = {"action_listen", "action_session_start", "action_extract_slots"}
# Outcomes read off the events themselves (the app's own records are in bot/console/activity.py).
DONATION_LINK_SHOWN = "Donation link shown"
SAFETY_ANSWER_GIVEN = "Safety answer given"
FALLBACK = "Fallback: not understood"


ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _phone_or_not(match: re.Match) -> str:
    digits = match.group(1)
    if sum(ch.isdigit() for ch in digits) < 7 or ISO_DATE.fullmatch(digits):  # "2026-12-05" is a date, not a phone
        return digits
    return "[phone hidden]"


def mask_personal_details(text: str) -> str:
    """E-mail addresses and phone numbers hidden, for staff with the viewer role."""
    return PHONE.sub(_phone_or_not, EMAIL.sub("[e-mail hidden]", text))


def contains_personal_details(text: str) -> bool:
    return mask_personal_details(text) != text


@dataclass
class Turn:
    """One visitor message (or the conversation's opening) and what followed it until the next one."""

    at: datetime
    # The events row id of the visitor message (what a correction refers to).
    event_id: int | None = None
    text: str | None = None
    intent: str | None = None
    confidence: float | None = None
    entities: list[str] = field(default_factory=list)
    # Which NLU tier read the message as a disclosure of danger: model, net or model+net (None: neither).
    safety_tier: str | None = None
    replies: list[str] = field(default_factory=list)
    # Actions run and slots set, shown folded away.
    steps: list[str] = field(default_factory=list)
    # What the turn led to: outcomes seen in the events, then the app's records (feedback, clicks, sign-ups…).
    outcomes: list[str] = field(default_factory=list)
    activity: list[Activity] = field(default_factory=list)

    def mark(self, outcome: str) -> None:
        if outcome not in self.outcomes:
            self.outcomes.append(outcome)


def attach_activity(turns: list[Turn], activities: list[Activity]) -> None:
    """Put each record under the last turn that began before it (the first turn when it is older than all)."""
    if not turns:
        return
    starts = [turn.at for turn in turns]
    for activity in activities:
        turns[max(0, bisect_right(starts, activity.at) - 1)].activity.append(activity)


def _safety_tier(parse: dict) -> str | None:
    safety = parse.get("safety")
    tier = safety.get("tier") if isinstance(safety, dict) else None
    return str(tier) if tier else None


def load_transcript(engine: sa.engine.Engine, conversation_id: str) -> list[Turn] | None:
    """The conversation's turns, oldest first; None when there is no such conversation."""
    if not sa.inspect(engine).has_table("events"):
        return None
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT id, type_name, timestamp, data FROM events WHERE sender_id = :s ORDER BY id"),
            {"s": conversation_id},
        ).all()
    if not rows:
        return None
    turns: list[Turn] = []
    for row in rows:
        try:
            data = json.loads(row.data or "{}")
        except ValueError:
            data = {}
        at = datetime.fromtimestamp(row.timestamp or 0, timezone.utc)
        if row.type_name == "user":
            parse = data.get("parse_data") or {}
            intent = parse.get("intent") or {}
            turns.append(
                Turn(
                    at=at,
                    event_id=row.id,
                    text=str(data.get("text") or ""),
                    intent=intent.get("name"),
                    confidence=intent.get("confidence"),
                    entities=[f"{e.get('entity')}={e.get('value')}" for e in parse.get("entities") or []],
                    safety_tier=_safety_tier(parse),
                )
            )
            if intent.get("name") == FALLBACK_INTENT:
                turns[-1].mark(FALLBACK)
            continue
        if not turns:
            turns.append(Turn(at=at))
        turn = turns[-1]
        if row.type_name == "bot":
            buttons = (data.get("data") or {}).get("buttons") or []
            titles = " ".join(f"[{b.get('title')}]" for b in buttons if isinstance(b, dict))
            reply = (str(data.get("text") or "") + (f"\n{titles}" if titles else "")).strip()
            turn.replies.append(reply)
            if DONATE_PATH in reply:
                turn.mark(DONATION_LINK_SHOWN)
        elif row.type_name == "action" and data.get("name") not in HIDDEN_ACTIONS:
            turn.steps.append(f"action {data.get('name')}")
            if data.get("name") == SAFETY_ACTION:
                turn.mark(SAFETY_ANSWER_GIVEN)
            elif data.get("name") in FALLBACK_ACTIONS:
                turn.mark(FALLBACK)
        elif row.type_name == "slot":
            turn.steps.append(f"slot {data.get('name')} = {json.dumps(data.get('value'))}")
        elif row.type_name == "active_loop":
            turn.steps.append(f"form {data.get('name') or 'ended'}")
    return turns
