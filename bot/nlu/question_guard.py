"""A question is not a command: "did IJM's work stop during the pandemic?" and "who carried out the study that
showed the 73% drop?" ask about IJM; they are not the visitor telling the assistant to stop. DIET reads the word
("stop", "drop"); this component reads the form. A message DIET gave one of `commands` that is a question about
something (it opens with a question word, three words or more, and not "do you…"/"can you…") becomes
`nlu_fallback`, with DIET's other guesses after it: the card matcher that follows gives it its card's topic when the
cards agree, and otherwise the visitor is asked to rephrase, never told "OK, I've stopped".

A courtesy is not the message either when a question follows it: "thank you! who led it?", "great thanks. and what
happened next?" are questions, which DIET reads as `thank` from their first words. A message DIET gave one of
`courtesies` whose part after the first sentence break is a question about something falls back the same way, so
that the question is answered (a follow-up in the thread of the last answer, actions/), not "You're welcome!". The
question itself is kept as `question_part` for the card matcher, which then reads "who led it?" and not "thank".

So is a question after a reaction or a story that DIET could not place (`preambles`: "oh cool my dad loves that
show. what country was it about?", "makes sense, ty. what happened to trafficking of minors after?"): its last
sentence, when that is a question about something, is the `question_part` (so is the question before a courtesy that
ends it: "…, if you don't mind me asking?"); and so is the last sentence of a message
DIET read as a question about IJM, after a part that asks nothing (its intent is kept: the card matcher reads both the
whole and the part).
"""

from __future__ import annotations

import re
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.intent_change import replace_intent

FALLBACK_INTENT = "nlu_fallback"
QUESTION_PART_KEY = "question_part"
# Set (True) when the question part follows a reaction or a story, whose words may name what it asks about ("the 79%
# one. where was that?"): the card matcher then reads the whole message as well as the question.
AFTER_PREAMBLE_KEY = "question_after_preamble"
# A question about something: a question word first (after a joining word or a preposition: "and when did it stop?",
# "by how much did it drop?"), not addressed to the assistant or about the asker's own doing ("do you stop?",
# "how do I stop this?", "can you stop?" stay commands).
QUESTION = re.compile(
    r"^(?:(?:and|so|but|ok|okay|by|in|for|to|from|since|at|of|with|about)\s+)?"
    r"(who|whom|whose|what|when|where|why|which|did|does|was|were|is|are|has|have|had|how \w+)"
    r"\b(?! (you|u|we|i)\b)"
)
MIN_WORDS = 3
# The first sentence break: what follows it is the rest of the message ("thanks! who led it?" → "who led it?").
WH_WORD = re.compile(r"(?:(?:and|so|but|ok|okay)\s+)?(who|whom|whose|what|when|where|why|which|how)\b")
TO_THE_ASSISTANT = re.compile(r"\b(you|your|u|ur)\b", re.IGNORECASE)
# ...but "what was the title of that free guide you mentioned?" asks about the guide
WHAT_YOU_SAID = re.compile(
    r"\b(you|u) (just |had |have )?(mentioned|said|sent|gave|listed|talked about|wrote|linked|shared)\b", re.IGNORECASE
)
# "I want to help. where do I start?" asks about the visitor's own doing, not about IJM
ABOUT_THE_ASKER = re.compile(r"\b(i|i'm|im|me|my|we|our|us)\b", re.IGNORECASE)
SENTENCE_BREAK = re.compile(r"[.!,;:]+\s*|\s+-+\s+")
# "can you tell me what the bill did?", "so I'm curious what they highlighted": a question put politely is still a
# question about something (the courtesy is left out of the question part)
POLITE_OPENING = re.compile(
    r"^(?:(?:so|and|but|ok|okay|well)\s+)?(?:(?:can|could|would) (?:you|u) (?:please )?(?:tell|let) me(?: know)?|"
    r"i(?:'m| am) (?:curious|wondering)(?: about)?|i (?:was |am )?(?:wondering|wonder)(?: about)?|"
    r"i'?d (?:love|like) to know|(?:do|does) (?:you|anyone) know|(?:please )?tell me)\s+",
    re.IGNORECASE,
)
# "and what was his goal at the start, if you don't mind me asking?": a courtesy after the question, which DIET could
# not place with it; the question before it is the question part
POLITE_ENDING = re.compile(
    r"[\s,.;:!-]+(if you (don'?t|do not) mind( me asking| my asking)?|if (that'?s|it'?s) (ok|okay|alright|all right)|"
    r"if you (know|can|could)|by any chance|(please|pls|plz)|(thanks|thank you|thx|ty)( so much| in advance)?)\W*$",
    re.IGNORECASE,
)
# A message DIET read as a question about IJM whose last sentence is a question after a reaction or a story: that
# sentence is the question part, read in the thread of the conversation ("I work in program evaluation so I'm always
# suspicious of self-reported numbers, who actually verified the result they're quoting?" after the Gates project).
MIN_PREAMBLE_MESSAGE_WORDS = 6
FACT_INTENT_PREFIX = "ask_"


def is_question_about_something(text: str) -> bool:
    lowered = text.casefold().replace("’", "'").strip()
    return len(lowered.split()) >= MIN_WORDS and bool(QUESTION.search(lowered))


def question_after_courtesy(text: str) -> str | None:
    """A question about something after the message's first sentence break ("thank you! who led it?" → "who led
    it?"), not one addressed to the assistant ("thanks! who are you?", "thanks, what can you do?" stay courtesies)."""
    parts = SENTENCE_BREAK.split(text.strip(), maxsplit=1)
    return parts[1] if len(parts) == 2 and asks_about_something(parts[1]) else None


def asks_about_something(part: str) -> bool:
    """A part of a message that is a question about something, not one addressed to the assistant, opening with a
    question word or ending with a question mark ("have a good one" opens like "have they…?" but is a goodbye)."""
    if not is_question_about_something(part) or TO_THE_ASSISTANT.search(WHAT_YOU_SAID.sub(" ", part)):
        return False
    return bool(WH_WORD.match(part.casefold())) or part.rstrip().endswith("?")


def question_after_preamble(text: str) -> str | None:
    """The message's last sentence when something comes before it and it is a question about something, not one
    addressed to the assistant ("oh cool. what country was it about?" → "what country was it about?")."""
    parts = [part for part in SENTENCE_BREAK.split(text.strip()) if part.strip()]
    if len(parts) >= 3 and len(parts[-1].split()) < MIN_WORDS:
        parts[-2:] = [f"{parts[-2]}, {parts[-1]}"]  # "..., what did it prove, if anything?"
    last = POLITE_OPENING.sub("", parts[-1].strip()) if len(parts) >= 2 else ""
    return last if last and asks_about_something(last) and not ABOUT_THE_ASKER.search(last) else None


def question_before_polite_ending(text: str) -> str | None:
    """The question before a courtesy that ends the message ("what was his goal at the start, if you don't mind me
    asking?" → "what was his goal at the start"), when it is a question about something."""
    ending = POLITE_ENDING.search(text.strip())
    question = text.strip()[: ending.start()].strip() if ending else ""
    return question if question and asks_about_something(question + "?") else None


def question_at_the_end(intent: str | None, text: str) -> str | None:
    """The last sentence of a message read as a question about IJM, when it is a question of its own and what comes
    before it asks nothing ("oh my gosh, babies basically. how many girls total?"; not "when did IJM start, and who
    founded it?", which asks two things)."""
    if not (intent or "").startswith(FACT_INTENT_PREFIX) or len(text.split()) < MIN_PREAMBLE_MESSAGE_WORDS:
        return None
    last = question_after_preamble(text)
    if last is None:
        return None
    parts = [part for part in SENTENCE_BREAK.split(text.strip()) if part.strip()]
    before = text[: text.rfind(parts[-1])]
    asks_before = "?" in before or any(is_question_about_something(part) for part in parts[:-1])
    return None if asks_before else last


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class QuestionNotCommand(GraphComponent):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"commands": ["stop"], "courtesies": [], "preambles": []}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> QuestionNotCommand:
        return cls(config)

    def __init__(self, config: dict[str, Any]) -> None:
        config = {**self.get_default_config(), **config}
        self.commands = frozenset(config["commands"])
        self.courtesies = frozenset(config["courtesies"])
        self.preambles = frozenset(config["preambles"])

    def question_in(self, intent: str | None, text: str) -> str | None:
        """The question the message asks when DIET read it as a command or a courtesy, else None."""
        if intent in self.commands:
            return text if is_question_about_something(text) else None
        if intent in self.courtesies:
            # "Lovely, thank you. What was the title of that free guide you mentioned?": the last sentence
            return question_after_courtesy(text) or question_after_preamble(text)
        if intent not in self.preambles:
            return None
        return question_after_preamble(text) or question_before_polite_ending(text)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            name = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
            text = message.get(TEXT) or ""
            question = self.question_in(name, text)
            if question is None:
                if (last := question_at_the_end(name, text)) is not None:
                    message.set(QUESTION_PART_KEY, last, add_to_output=True)
                    message.set(AFTER_PREAMBLE_KEY, True)
                continue
            if question != text:
                message.set(QUESTION_PART_KEY, question, add_to_output=True)
                message.set(AFTER_PREAMBLE_KEY, name in self.preambles)
            replace_intent(message, FALLBACK_INTENT)
        return messages
