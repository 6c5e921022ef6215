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
# DIET reads some answers as `stop` or `goodbye` from one word ("end of june" for a date, "a trivia night" as good
# night): they end a form only with a word of stopping or leaving in the message.
STOPPING_WORDS = re.compile(
    r"\b(stop\w*|cancel\w*|quit|never\s?mind|nvm|forget|exit|changed? my mind|enough|done|drop it|no more|abort|"
    r"end (it|this|that|here|now|the (form|chat|conversation|sign-?up))|don'?t want|not interested|later)\b",
    re.IGNORECASE,
)
LEAVING_WORDS = re.compile(
    r"\b(bye|goodbye|good-?bye|good night|goodnight|gotta go|got to go|have to go|see (you|ya)|cya|ttyl|talk later|"
    r"that'?s all|that is all|i'?m done|have a (good|nice|great))\b",
    re.IGNORECASE,
)
# "you can text me at 604-555-0182" (or "wei.seventh hotmail.com", a domain without its "@") where an e-mail address was
# asked is the visitor's own detail, not a request.
OWN_DETAILS = re.compile(
    r"\d{3}\D{0,2}\d{3}\D?\d{4}|\bmy (e-?mail|address|number|phone|cell)\b|"
    r"\b(at|@)\s*(gmail|hotmail|outlook|yahoo|icloud|live|msn|aol|proton\w*|shaw|telus|videotron|sympatico|rogers|"
    r"bell|cogeco|eastlink)\b|\bdot\s+(com|ca|org|net)\b|\b[\w-]+\s?\.\s?(com|ca|org|net|me|io|edu)\b",
    re.IGNORECASE,
)
# "thanks" or "hello" mid-form is answered, not taken for a name, though it is no question. Only when the
# model is very sure: it reads some real answers ("Friday at noon") as a greeting with 0.9.
SOCIAL_INTENTS = frozenset({"greet", "thank"})
SOCIAL_CONFIDENCE = 0.97
# An e-mail question's answer has an address: a message with none that the model is this sure of is a request of
# its own ("and how do I contact IJM in general" while the newsletter asks for an address), not a mistyped address.
NO_ADDRESS_CONFIDENCE = 0.8
# A name has a few words ("Marie-Claire Dubois-Tremblay", "my name is Jean Paul Okafor"): a longer answer to the name
# question that the model surely reads as a request it can answer is that request.
NAME_WORDS = 6

# "and how do I contact IJM?", "ok so who do I write to": a question after a word that only joins it on; "and if its
# about an event instead" asks too.
QUESTION_START = re.compile(
    r"^(?:(?:and|but|so|also|ok|okay|oh|then|um|hmm|wait|actually|sorry|btw|by the way|hold on|hang on|quick question|"
    r"one (?:more )?question)\b[\s,.!:-]*)*"
    r"(what|what's|whats|who|who's|whom|whose|when|where|where's|why|how|how's|which|can|could|would|will|"
    r"should|do|does|did|is|are|was|were|has|have|tell me|i want to know|i'd like to know|explain|show me|if)\b",
    re.IGNORECASE,
)
# "oh first - where else did IJM open offices?", "before that, when did IJM begin?": a question put before the answer,
# even where the answer is free text (a message for the team).
ASIDE = re.compile(
    r"^\W*(oh\W+)?(wait|hold on|hang on|before (that|i do|i answer|i write)|first|quick question|"
    r"one (more )?question)\b",
    re.IGNORECASE,
)
# A no in words, first thing in the message: "nah", "not right now", "i'd rather not", "don't".
CLEAR_NO = re.compile(
    r"^\W*((hmm+|um+|uh+|well|actually|oh|ah|sorry)\W+)*(no|nope|nah|not (now|yet|today|right now|really|interested)|"
    r"i don'?t|i do not|don'?t|i'?d rather not|rather not|never)\b",
    re.IGNORECASE,
)
NEGATION = re.compile(r"\b(no|not|nope|nah|don'?t|do not|never|won'?t|disagree|refuse)\b", re.IGNORECASE)
SKIP = re.compile(
    r"^(skip|skip it|skip that|skip this|pass|no|no thanks|no thank you|nope|rather not|i'?d rather not|"
    r"prefer not|i prefer not to|prefer not to say|none|n/?a|-)[.!]*$",
    re.IGNORECASE,
)
# "yep go ahead", "ok sure why not": a yes typed where a name was asked (the offer it answers was already taken).
YES_PHRASE = re.compile(
    r"^\W*((yes|yep|yeah|yup|sure|sure thing|ok|okay|alright|all right|of course|absolutely|definitely|please|"
    r"please do|go ahead|go for it|sounds (good|great)|why not|great|perfect|cool|fine|that'?s fine|works for me|"
    r"that works|you bet|thanks|thank you|let'?s do it|do it|i agree|agreed|i do|sign me up)\W*)+$",
    re.IGNORECASE,
)
# "what will you do with my email?", "will you share my address?": what happens to what the visitor gives a form.
PRIVACY_QUESTION = re.compile(
    r"\b(privacy|private|confidential|spam|sell|share|shared|sharing|do with|happens? (to|with)|use|used|store|stored|"
    r"keep|kept|safe)\b.{0,40}\b(e-?mails?|address|data|info|information|details|name|number)\b|"
    r"\b(my|your) (data|information|info|details|e-?mail|address)\b.{0,30}\b(safe|private|shared|sold|used|stored)\b|"
    r"\bprivacy (policy|notice)\b|\bspam(med|ming)?\b",
    re.IGNORECASE,
)
# "Great. My name is Alisha Karim.", "yes please, Nicole Fournier": words before the name that are not part of it.
NAME_LEAD = re.compile(
    r"^((great|sure|ok|okay|yes|yeah|yep|thanks|thank you|perfect|please|of course|certainly|absolutely|wonderful)"
    r"\b[\s,.!:;-]*)+(?=\S)",
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
    message: Message,
    answerable: frozenset[str],
    open_text: bool = False,
    expects_address: bool = False,
    expects_yes_no: bool = False,
    expects_name: bool = False,
) -> bool:
    """True when the message is not an answer to the form's question but something to handle first.

    `answerable` are the intents the assistant can answer mid-form. An `open_text` question (a journalist's
    question, a message for the team) is itself free text, so only a way out or a question put first as an aside
    ("oh first - where else did IJM open offices?") interrupts it. When the question
    `expects_address` (an e-mail), a message without "@" that the model reads surely as something it can answer
    is that, not an address. When it `expects_yes_no` (consent), a request the model is sure of is that, not a no.
    When it `expects_name`, a message longer than a name that the model is sure of is that request.
    """
    if message.intent in EXIT_INTENTS:
        return message.is_button or _says_it_leaves(message)
    if message.intent not in answerable:
        return False
    if open_text:
        return bool(ASIDE.match(message.text.strip())) and looks_like_question(message.text)
    if message.is_button:
        return True
    if message.intent in SOCIAL_INTENTS and message.confidence >= SOCIAL_CONFIDENCE:
        return True
    if expects_address and "@" not in message.text and message.confidence >= NO_ADDRESS_CONFIDENCE:
        return looks_like_question(message.text) or not OWN_DETAILS.search(message.text)
    if expects_yes_no and message.confidence >= NO_ADDRESS_CONFIDENCE:
        return True
    if expects_name and len(message.text.split()) > NAME_WORDS and message.confidence >= NO_ADDRESS_CONFIDENCE:
        return True  # "honestly that sounds like a lot of work, can i just donate $60 instead" is no name
    return looks_like_question(message.text)


def _says_it_leaves(message: Message) -> bool:
    if message.intent == "stop":
        return bool(STOPPING_WORDS.search(message.text))
    if message.intent == "goodbye":
        return bool(LEAVING_WORDS.search(message.text) or STOPPING_WORDS.search(message.text))
    return True  # a disclosure of danger always ends the form


def is_explicit_yes(message: Message) -> bool:
    """Consent counts only for a clear yes: words that are only a yes ("ok sure why not"), or the affirm intent (or
    its button) and no negation in the text."""
    if YES_PHRASE.match(message.text.strip()):
        return True
    if message.intent != "affirm":
        return False
    return message.is_button or not NEGATION.search(message.text)


def asks_about_privacy(text: str) -> bool:
    """A question about what becomes of the visitor's details (asked while a form wants them)."""
    return looks_like_question(text) and "@" not in text and bool(PRIVACY_QUESTION.search(text))


def reads_consent(message: Message) -> bool | None:
    """Consent's answer: True for a clear yes, False for a clear no (a no in words first, or the `deny` intent with a
    no in the words), None for anything else ("hmm before i agree, how often do you send them", "hmm i guess?
    maybe?", which DIET reads as `deny`), which is asked again: a question or a doubt is neither consent nor a
    refusal, and must not end the sign-up."""
    if is_explicit_yes(message):
        return True
    text = message.text.strip()
    if CLEAR_NO.match(text) or (message.intent == "deny" and NEGATION.search(text)):
        return False
    return None


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
    if YES_PHRASE.match(tidy):
        return None
    name = NAME_PREFIX.sub("", NAME_LEAD.sub("", tidy)).strip(" .!,;:")
    if not name or len(name) > MAX_NAME_CHARS or "@" in name or "<" in name or "/" in name:
        return None
    if not any(ch.isalpha() for ch in name) or len(name.split()) > 5:
        return None
    return name
