"""Reading a visitor's answer to a form question: is it an answer, a question of its own, or a way out?

Pure functions, so each rule is unit-tested on its own (tests/unit/test_understanding.py). The form
validation actions (actions/forms.py) use them to decide, for each message, whether it fills the requested slot
or whether the form steps aside (Rasa's "rejection") so a rule can answer the interruption.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Intents that end a form at once, whatever was asked (see the form rules in data/rules.yml).
EXIT_INTENTS = frozenset({"stop", "goodbye", "disclose_danger"})
# "thanks" or "hello" mid-form is answered, not taken for a name, though it is no question. Only when the
# model is very sure: it reads some real answers ("Friday at noon") as a greeting with 0.9.
SOCIAL_INTENTS = frozenset({"greet", "thank"})
SOCIAL_CONFIDENCE = 0.97
# An e-mail question's answer has an address: a message with none that the model is this sure of is a request of
# its own ("and how do I contact IJM in general" while the newsletter asks for an address), not a mistyped address.
NO_ADDRESS_CONFIDENCE = 0.8

# "and how do I contact IJM?", "ok so who do I write to": a question after a word that only joins it on.
QUESTION_START = re.compile(
    r"^(?:(?:and|but|so|also|ok|okay|oh|then|um|hmm)\b[\s,.!]*)*(what|what's|whats|who|who's|whom|whose|when|where|where's|why|how|how's|which|can|could|would|will|"
    r"should|do|does|did|is|are|was|were|has|have|tell me|i want to know|i'd like to know|explain|show me)\b",
    re.IGNORECASE,
)
NEGATION = re.compile(r"\b(no|not|nope|nah|don'?t|do not|never|won'?t|disagree|refuse)\b", re.IGNORECASE)
SKIP = re.compile(
    r"^(skip|skip it|skip that|skip this|pass|no|no thanks|no thank you|nope|rather not|i'?d rather not|"
    r"prefer not|i prefer not to|prefer not to say|none|n/?a|-)[.!]*$",
    re.IGNORECASE,
)
NAME_PREFIX = re.compile(
    r"^(hi|hello|hey)?[ ,]*(my name is|my name's|name is|i'm|i am|im|it's|its|call me|this is)\s+", re.I
)

MAX_NAME_CHARS = 80
MAX_SHORT_ANSWER_CHARS = 200


@dataclass(frozen=True)
class Message:
    """What the form needs to know about the visitor's latest message."""

    text: str
    intent: str | None
    confidence: float

    @property
    def is_button(self) -> bool:
        return self.text.startswith("/")


def looks_like_question(text: str) -> bool:
    stripped = text.strip()
    return stripped.endswith("?") or bool(QUESTION_START.match(stripped))


def is_interruption(
    message: Message, answerable: frozenset[str], open_text: bool = False, expects_address: bool = False
) -> bool:
    """True when the message is not an answer to the form's question but something to handle first.

    `answerable` are the intents the assistant can answer mid-form. An `open_text` question (a journalist's
    question, a message for the team) is itself free text, so only a way out interrupts it. When the question
    `expects_address` (an e-mail), a message without "@" that the model reads surely as something it can answer
    is that, not an address.
    """
    if message.intent in EXIT_INTENTS:
        return True
    if open_text or message.intent not in answerable:
        return False
    if message.is_button:
        return True
    if message.intent in SOCIAL_INTENTS and message.confidence >= SOCIAL_CONFIDENCE:
        return True
    if expects_address and "@" not in message.text and message.confidence >= NO_ADDRESS_CONFIDENCE:
        return True
    return looks_like_question(message.text)


def is_explicit_yes(message: Message) -> bool:
    """Consent counts only for a clear yes: the affirm intent (or its button) and no negation in the text."""
    if message.intent != "affirm":
        return False
    return message.is_button or not NEGATION.search(message.text)


def wants_to_skip(message: Message) -> bool:
    """A skip word, or a refusal the model read as `deny` that says no in words: the model also reads some
    first names as `deny` (Noor, Nora, Noah), and a name must never be dropped as a refusal."""
    text = message.text.strip()
    return bool(SKIP.match(text)) or (message.intent == "deny" and bool(NEGATION.search(text)))


def clean_text(text: str, limit: int = MAX_SHORT_ANSWER_CHARS) -> str | None:
    """The answer with control characters removed and spaces tidied; None if nothing readable is left or
    it is longer than `limit`."""
    printable = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    tidy = " ".join(printable.split())
    if not tidy or len(tidy) > limit or not any(ch.isalnum() for ch in tidy):
        return None
    return tidy


def clean_name(text: str) -> str | None:
    """A person's name from "I'm Jane", "my name is Jean-Luc Picard." or "Amélie"; None if it can't be one."""
    tidy = clean_text(text, limit=MAX_NAME_CHARS * 2)
    if tidy is None:
        return None
    name = NAME_PREFIX.sub("", tidy).strip(" .!,;:")
    if not name or len(name) > MAX_NAME_CHARS or "@" in name or "<" in name or "/" in name:
        return None
    if not any(ch.isalpha() for ch in name) or len(name.split()) > 5:
        return None
    return name
