"""Answers about IJM's history and impact: one fact card of bot/content/facts.yml per answer.

Which card: a button names it (entity `card`); otherwise the NLU's verdict (`fact_card` in the parse data,
bot/nlu/card_matcher.py). When that verdict is unsure, a place, year or event the question names narrows it to
that topic; with nothing to narrow it, the visitor is asked "Did you mean …?" with the likeliest cards as buttons.
A follow-up ("how old were they?", intent ask_followup, a short question that points back, or one with no word that
names another topic: `topic_words` of the verdict) stays on the card answered last unless it names another card
clearly (card_in_thread); "and the India one?" is asked of the last card's topic first (sibling_in_thread). A
question that asks two things gets the other topic's best card too. "tell me more" walks the topic's cards in order.
A question the answerability classifier (bot/nlu/answerability.py) reads as asking a detail the article never gives
gets "I don't have that information" before its closest card.
"""

from __future__ import annotations

import json
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.journey_thread import (
    continue_journey,
    earlier_user_messages,
    last_bot_action,
    picks_a_fundraiser_kind,
)
from actions.safety import answered_in_safety_thread
from bot.content.contacts import contacts
from bot.content.facts import Card, Facts, Topic, facts
from bot.content.safety import safety_content

TOPIC_SLOT = "fact_topic"
CARD_SLOT = "fact_card"
FOLLOW_UP_INTENT = "ask_followup"
DID_YOU_MEAN = 3
# A short question that points back ("where did he work from?", "and what did they get?") is read in the
# thread of the conversation (card_in_thread, below).
ANAPHORA = re.compile(r"\b(he|she|they|them|it|that|there|those|this|his|her|their|then)\b", re.IGNORECASE)
CONTEXT_WORDS = 10
ECHO_WORDS = 14
# ...and so does one that names, with "the", something the last answer spoke of ("when did the office open?" after
# the Cambodia rescue, whose answer says an office opened; "who were the victims?" after the brick kiln).
DEFINITE = re.compile(r"\bthe (\w{4,})", re.IGNORECASE)
# ...and so does a very short question the NLU cannot place well on its own ("which country?", "who benefits?"),
# or one a little longer that has no word naming another topic ("a reduction of what exactly", "what was the original
# goal?" after the first year's cases).
ELLIPSIS_WORDS = 4
ELLIPSIS_WORDS_IN_THREAD = 6
# ...not counting a word that only joins the question on ("and what was special about the data?")
JOINING_WORD = re.compile(r"^\W*(and|so|but|ok|okay|oh|also)\b", re.IGNORECASE)
WEAK_SCORE = 0.6
# In the thread of the conversation, the card just answered keeps it (its answer has the asked fact's closest
# siblings: "what year?" after the Phnom Penh rescue is 2003, not the 2015 study), unless the message itself names
# another card clearly: a card's score is the NLU's, plus STAY_ON_LAST for the last card and SAME_TOPIC for the
# cards of its topic. On the tuning files' 197 follow-ups, staying helps with any STAY_ON_LAST from 0.8 to 3 (README).
STAY_ON_LAST = 1.0
SAME_TOPIC = 0.3
# ...but a card of its topic (or of a related topic: facts.yml `related`) whose answer has more of the question's own
# words than the last card's moves ahead ("and when did they open an office there?" after the 37 girls: the office
# card says "opened an office"; "who was being held captive?" after COVID-19: the India kiln).
COVERS_MORE = 1.0
# ...and so does the NLU's sure first card of another topic when it has more of them: the pronoun asks for a place or
# a person of the last answer, not for the same card ("when did IJM open an office there?" after "60 Minutes" showed
# the work in India: the offices of 2000, India among them; "who founded it that year?" after 1997).
# Only a pronoun for a place, a time or a person does that, or a question for a kind of answer (a year, a count, an
# age) that the last answer has nothing of: "it" and "that" stand for the last answer's subject ("when did it start?"
# after the Gates project is the project's year, whatever the NLU makes of "start").
LEAVE_THREAD_SCORE = 0.75
# ...a question for a kind of answer the last one has nothing of leaves it more easily: staying could only say "I
# don't have that" ("in what year?" after the mission, the founding at 0.63)
LEAVE_FOR_KIND_SCORE = 0.5
POINTS_TO_AN_ATTRIBUTE = re.compile(r"\b(there|then|that (year|time)|he|him|his|she|her)\b", re.IGNORECASE)
# A pronoun for a person after an answer that names one (facts.yml `people`): that person's topics join the family.
POINTS_TO_A_PERSON = re.compile(r"\b(he|him|his|she|her)\b", re.IGNORECASE)
WORD = re.compile(r"[a-z]{3,}")
FIGURE = re.compile(r"(?<![\w.,])\d[\d,]*(?:\.\d+)?")
YEAR = re.compile(r"(19|20)\d\d")
# The entities that name something of the article, and the card's and topic's fields that list their values.
ENTITY_FIELDS = {"place": "places", "year": "years", "event": "events"}
FUNCTION_WORDS = frozenset(
    re.findall(
        r"\w+",
        """the and did does was were what when where which who whom whose why how many much they them their there that
        this those these then with for from about into again its his her she him you your our are has have had any some
        can could would will tell more know ijm also been being get got just like one out over than too very yes not
        all but happen happened total overall altogether exactly roughly approximately actually really other others
        else place places besides except apart aside""",
    )
)
# A fragment that goes on with the last question, opening with a preposition or "or" ("of adults or kids?", "in which
# year?", "or was it later?"): asked of the last card.
CONTINUES_THE_QUESTION = re.compile(r"^\W*(of|in|for|from|at|by|with|to|or|and of|and in)\b", re.IGNORECASE)
# A message not understood, short, after a card: a follow-up if it matches a card of that topic this well.
FALLBACK_CONTEXT_WORDS = 8
FALLBACK_CONTEXT_LEXICAL = 0.3
# ...and so is a short question of that length naming nothing else (is_short_question_in_thread)
QUESTION_WORD = re.compile(r"\b(who|whom|what|when|where|why|how|which|any|else|others?)\b", re.IGNORECASE)
# A question that asks two things: the best card of another topic is answered too when it scores at least this
# share of the first card's score, and at least SECOND_HALF_MIN.
TWO_THINGS = re.compile(
    r"\b(and|or|vs\.?|versus|compared? (to|with)|which came first|bigger|smaller|both)\b", re.IGNORECASE
)
SECOND_HALF_SHARE = 0.6
SECOND_HALF_MIN = 0.25
SECOND_HALF_RANKS = 4
# "did that come before or after the Phnom Penh rescue?", "how does that compare to the kiln?": a comparison with the
# last answer gets both cards (compared_with)
COMPARES = re.compile(
    r"\b(compared?|comparison|vs\.?|versus|stack up|(earlier|later|before|after|sooner) (or|than)|"
    r"how (long|many years) (after|before|later|earlier)|bigger|smaller|larger|difference|ratio)\b",
    re.IGNORECASE,
)
# "and the India one?", "what about 2003?": asked of the last card's topic (sibling_in_thread)
SIBLING = re.compile(r"^\W*(and|what about|how about|same for|any)\b|\bone\W*$", re.IGNORECASE)
SIBLING_WORDS = 7
# "and the next year?", "what happened the year after?" (the year after the last card's, exactly), "and after that?",
# "what came before?" (the event the article tells of next): a short message that moves in time from the last card's
# year, along facts.yml `timeline` (timeline_follow_up)
NEXT_YEAR = re.compile(r"\b(the )?(next|following|subsequent) year\b|\b(the |a )?year (after|later|on)\b", re.I)
YEAR_BEFORE = re.compile(r"\b(the )?(previous|preceding|prior) year\b|\b(the |a )?year (before|earlier)\b", re.I)
NEXT_EVENT = re.compile(
    r"\b(after (that|this|it|those|then)|afterwards?|what happened next|what came next|what came after|"
    r"then what|and then|what followed|(what|anything) (happened |else )?(later|after)|"
    r"next (big )?(thing|step|event|milestone))\b",
    re.I,
)
EVENT_BEFORE = re.compile(
    r"\b(before (that|this|it|those|then)|beforehand|what came before|prior to (that|this|it)|(what|anything) "
    r"(happened |else )?(earlier|before))\b",
    re.I,
)
TIMELINE_WORDS = 9
# "which came first, the kiln rescue or the Dominican bill?", "was the Thailand office before or after the Cambodia
# rescue?", "how many years between the founding and the first offices?": two dated events, answered in the order
# they happened (events_in_order)
ASKS_ORDER = re.compile(
    r"\b(before or after|after or before|earlier or later|later or earlier|sooner or later|first or (second|last)|"
    r"which (one )?(came|happened|was|started|opened) (first|earlier|later|last|before)|came first|happened first|"
    r"(did it|was it|were they) (come|happen|open)?\s*(later|after|earlier|before)|"
    r"how (many years|long) (between|after|before|passed|later|earlier|apart|separated?)|years? (apart|between))\b|"
    r"^\W*(was|were|did|does|is|had)\b.{0,80}\b(before|after|earlier than|later than|prior to) (the|ijm)\b",
    re.I,
)
ORDER_RANKS = 5
# "IJM's milestones?", "a timeline of the 25 years please": the timeline's years and titles (answer_milestones)
ASKS_MILESTONES = re.compile(
    r"\b(milestones|(key|main|major|big|important|biggest|greatest) milestone|time ?line|key dates|important dates|"
    r"chronolog\w*|year by year|(big|main|major|key) "
    r"(moments|events|dates)|turning points|history in order|dates and events)\b",
    re.I,
)
TIME_WORDS = frozenset({"next", "year", "came", "come", "afte", "befo", "then", "later", "earl", "earlier", "follow"})
# A year no card has gets the honest menu unless the first card scores this much (bot/nlu/card_matcher.py).
UNKNOWN_YEAR_UNLESS = 0.7


def card_payload(content: Facts, card: Card) -> str:
    """A button payload that asks for exactly this card, whatever the model would make of free text."""
    return f"/{content.topic_of(card).intent}" + json.dumps({"card": card.key})


def topic_payload(topic: Topic, content: Facts | None = None) -> str:
    content = content or facts()
    return card_payload(content, content.summary(topic))


def topic_buttons(topics: list[Topic], content: Facts | None = None) -> list[dict[str, str]]:
    content = content or facts()
    return [{"title": topic.title, "payload": topic_payload(topic, content)} for topic in topics]


def send_topic_menu(dispatcher: CollectingDispatcher, content: Facts, message_key: str, topics: list[Topic]) -> None:
    dispatcher.utter_message(text=content.message(message_key), buttons=topic_buttons(topics, content))


def card_verdict(tracker: Tracker) -> dict[str, Any]:
    """The NLU's verdict on which card answers (`fact_card`, written by bot/nlu/card_matcher.py). A pipeline
    without the card matcher (Rasa's stock config, as `ijm-bot evaluate --baseline` compares) still has the
    ResponseSelector's ranking: its first card is taken as sure, which is what stock Rasa does with it."""
    message = tracker.latest_message
    verdict = message.get(CARD_SLOT)
    if isinstance(verdict, dict):
        return verdict
    selectors = message.get("response_selector") or {}
    for selector in selectors.values() if isinstance(selectors, dict) else []:
        if not isinstance(selector, dict):  # Rasa also lists the retrieval intents there ("all_retrieval_intents")
            continue
        ranking = [
            {"label": entry.get("intent_response_key"), "score": entry.get("confidence")}
            for entry in selector.get("ranking") or []
            if isinstance(entry, dict)
        ]
        if ranking:
            return {"ranking": ranking, "score": ranking[0]["score"], "unsure": False, "close_call": False}
    return {}


def ranked_cards(content: Facts, tracker: Tracker) -> list[Card]:
    """The fact cards of the NLU's ranking, best first (other retrieval labels left out)."""
    ranking = card_verdict(tracker).get("ranking") or []
    cards = [content.card_for_label(entry.get("label")) for entry in ranking if isinstance(entry, dict)]
    return [card for card in cards if card is not None]


def answer_card(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    content: Facts,
    card: Card,
    asked: bool = False,
    also: list[Card] | None = None,
    second: Card | None = None,
    in_thread: bool = False,
    untold: bool = False,
    lead: str = "",
) -> list[EventType]:
    """The card's answer, a read-more link and "Tell me more". `asked`: the visitor's own question (not a button),
    so a detail the article doesn't give is said so first; `also`: close alternatives, offered as buttons;
    `second`: the other half of a question that asks two things, answered after the first; `in_thread`: a
    follow-up read against the last card, whose few words ("how many?", "where?") the answerability classifier
    cannot judge on their own (the listed details of facts.yml still count); `untold`: the article does not tell what
    was asked (this card is the nearest it does), said so first; `lead`: a line before the answer."""
    question = with_place_named(tracker, message_text(tracker))
    text = card.answer if second is None else f"{card.answer}\n\n{second.answer}"
    # (a detail given by the second card is not missing)
    missing = (
        content.missing_detail(question, card) and (second is None or content.missing_detail(question, second))
    ) or (not in_thread and asks_missing_detail(tracker))
    # "and ijm canada specifically, when did that start?": the question part is "when did that start?", the country
    # the article says nothing of is before it
    whole = str(tracker.latest_message.get("text") or "")
    missing = missing or (whole != question and content.missing_detail(whole, card) == OTHER_COUNTRY)
    if (asked and missing) or untold:
        text = f"{content.detail_message} {text}"
    elif lead:
        text = f"{lead} {text}"
    safety = safety_content()
    if safety.mentions_topic(tracker.latest_message.get("text") or ""):
        text = f"{text}\n\n{safety.topic_line}"
    buttons = [{"title": content.more_button, "payload": "/ask_more"}]
    buttons += [{"title": other.title, "payload": card_payload(content, other)} for other in also or []]
    dispatcher.utter_message(text=f"{text}\n\n{content.read_more_line()}", buttons=buttons)
    return [SlotSet(TOPIC_SLOT, card.topic), SlotSet(CARD_SLOT, card.key)]


def with_place_named(tracker: Tracker, question: str) -> str:
    """The question with "there" (a place, not "were there") as the place the visitor named last, for the check of a
    detail the article does not give: "how many people were rescued there?" after "what happened in Uganda?" asks for
    Uganda's count, which the article does not give (its count is everyone's)."""
    if not PLACE_PRONOUN.search(question) or THERE_IS.search(question) or named_entities(tracker):
        return question
    place = last_place_named(tracker)
    return question if place is None else PLACE_PRONOUN.sub(f"in {place}", question)


def last_place_named(tracker: Tracker) -> str | None:
    """The place of the visitor's latest message before this one that named one, within PLACE_TURNS messages."""
    for event in reversed(earlier_user_messages(tracker)[-PLACE_TURNS:]):
        entities = (event.get("parse_data") or {}).get("entities") or []
        place = next((str(e.get("value")) for e in entities if e.get("entity") == "place" and e.get("value")), None)
        if place is not None:
            return place
    return None


PLACE_PRONOUN = re.compile(r"\b(over )?there\b|\bin (that|this) (country|city|place)\b", re.IGNORECASE)
THERE_IS = re.compile(r"\b(is|are|was|were|be|been|any) there\b|\bthere (is|are|was|were|been)\b", re.IGNORECASE)
PLACE_TURNS = 3
# The detail of facts.yml `details_not_given` for a country the article says nothing of
OTHER_COUNTRY = "other_country"


def asks_missing_detail(tracker: Tracker) -> bool:
    """The NLU's answerability classifier (bot/nlu/answerability.py) reads the question as asking for something the
    article does not give ("does Gary Haugen have kids?")."""
    verdict = tracker.latest_message.get("answerability")
    return isinstance(verdict, dict) and bool(verdict.get("asks_missing_detail"))


def is_anaphoric(tracker: Tracker, last: Card | None = None, definite: bool = False) -> bool:
    """A short question naming no new place, year or event that points back: a pronoun, or (`definite`) "the
    <something the last answer spoke of>"."""
    text = message_text(tracker)
    if names_something(tracker, last) or len(text.split()) > CONTEXT_WORDS:
        return False
    if ANAPHORA.search(text):
        return True
    spoken_of = set(re.findall(r"\w+", last.answer.lower())) if last is not None and definite else set()
    return any(word.lower() in spoken_of for word in DEFINITE.findall(text))


def names_something(tracker: Tracker, last: Card | None = None) -> bool:
    """Whether the message names a place, year, event or figure; after `last`, one that card does not already speak
    of ("which city in India?" after the offices of 2000 asks within them; "where was the brothel?" after the 2003
    rescue; but "the 79% one, where was that?" after the 73% drop names another result)."""
    whole = tracker.latest_message.get("text") or ""  # the figure may be before the question part
    if last is not None and any(figure not in figures_in(last.answer) for figure in figures_in(whole)):
        return True
    named = named_entities(tracker)
    if not named or last is None:
        return bool(named)
    return not names_what_last_speaks_of(tracker, last)


def named_entities(tracker: Tracker) -> list[tuple[str, str]]:
    """The places, years and events the message names, as (entity, value)."""
    return [(name, str(value)) for name in ENTITY_FIELDS for value in tracker.get_latest_entity_values(name) if value]


def names_what_last_speaks_of(tracker: Tracker, last: Card) -> bool:
    """The message names places, years or events, all of which the last card speaks of."""
    named = named_entities(tracker)
    topic = facts().topic_of(last)
    return bool(named) and all(speaks_of(last, topic, name, value) for name, value in named)


def message_text(tracker: Tracker) -> str:
    """The visitor's question: the whole message, or its question after a courtesy ("thank you! who led it?" →
    "who led it?", `question_part` of bot/nlu/question_guard.py)."""
    return tracker.latest_message.get("question_part") or tracker.latest_message.get("text") or ""


def figures_in(text: str) -> set[str]:
    """The numbers a text names, other than years (the `year` entity's), without thousands separators."""
    numbers = {match.replace(",", "") for match in FIGURE.findall(text)}
    return {number for number in numbers if not YEAR.fullmatch(number)}


def speaks_of(card: Card, topic: Topic, entity: str, value: str) -> bool:
    """The card names the entity's value: in its answer, or among its own or its topic's places, years or events."""
    field = ENTITY_FIELDS[entity]
    wanted = value.strip().casefold()
    listed = getattr(card, field) + getattr(topic, field)
    return wanted in card.answer.casefold() or any(str(item).casefold() == wanted for item in listed)


def is_elliptical(tracker: Tracker, last: Card | None = None) -> bool:
    """A very short question naming nothing that the NLU cannot place well on its own ("which country?"), or, after
    `last`, one with no word that names another topic: "who benefits?" after the Dominican bill is about the bill,
    however sure the NLU is of the mission card; "founder?" names a topic of its own."""
    text = message_text(tracker)
    verdict = card_verdict(tracker)
    if not verdict.get("ranking") or text.startswith("/"):  # a button's payload, not a question
        return False
    words = len(JOINING_WORD.sub("", text).split())
    if words > ELLIPSIS_WORDS_IN_THREAD or names_something(tracker, last):
        return False
    in_thread = last is not None and not names_other_topic(tracker, last)
    if words > ELLIPSIS_WORDS:
        return in_thread
    weak = bool(verdict.get("unsure", True)) or float(verdict.get("score") or 0) < WEAK_SCORE
    return weak or in_thread


def names_other_topic(tracker: Tracker, last: Card, unknown: bool = True) -> bool:
    """Whether the message has a word that names a topic other than the last card's (`topic_words`, from
    bot/nlu/card_matcher.py) and that the last answer does not use itself: "what was the original goal?" after
    "a starting goal of five legal cases" stays in the thread, though "goal" mostly names the mission, and "when did it
    launch?" after "IJM launched a 3-year project" (the word in any form); so does a word
    of a related topic (facts.yml `related`: "what was special about the data?" after the Gates project). A place, year
    or event of the last card named in the message holds it in the thread whatever its other words (so does a word that
    another card of its topic uses: "when did it launch?" after the 79% result): "which city in
    India?" after the offices of 2000 asks within them, though "city" mostly names Cambodia's capital. A verdict
    without that list (an older model, Rasa's stock config) counts as `unknown`. A word that only qualifies the question
    ("how many girls total?") names nothing (FUNCTION_WORDS)."""
    named = card_verdict(tracker).get("topic_words")
    if not isinstance(named, dict):
        return unknown
    if names_what_last_speaks_of(tracker, last):
        return False
    content = facts()
    if names_person_last_does_not(content, message_text(tracker), last):
        return True
    thread = {last.topic, *content.topic_of(last).related}
    # a word the last answer uses, in any form ("launch" after "IJM launched a 3-year project"), or another answer of
    # its topic does ("when did it launch?" after the 79% result: the project's card says "launched"), is not another
    # topic
    siblings = [content.cards[key].answer for key in content.topic_of(last).cards]
    return any(
        topic not in thread and word not in FUNCTION_WORDS and not any(uses_word(answer, word) for answer in siblings)
        for word, topic in named.items()
    )


def names_person_last_does_not(content: Facts, text: str, last: Card) -> bool:
    """Whether the message names a person of the article (facts.yml `people`, by first or last name) that the last
    answer does not: "what was gary's goal when he started?" after the kinds of violence asks about him, not them."""
    words = set(re.findall(r"[a-z]+", text.casefold().replace("'s", "")))
    answer = last.answer.casefold()
    return any(name in words and name not in answer for person in content.people for name in person.casefold().split())


def uses_word(answer: str, word: str) -> bool:
    """Whether the answer has the word, bare or with a plain ending ("launched" for "launch", "rescue" for "rescued";
    not "found" nor "Foundation" for "founder")."""
    word = word.lower()
    return any(
        (w.startswith(word) and w[len(word) :] in PLAIN_ENDINGS)
        or (word.startswith(w) and word[len(w) :] in PLAIN_ENDINGS)
        for w in WORD.findall(answer.lower())
    )


PLAIN_ENDINGS = frozenset({"", "s", "es", "d", "ed", "ing"})


def question_words(text: str) -> set[str]:
    """The question's own words, each cut to a stem ("opened" and "open" are one); not the adverb of a question form
    ("how long did that take?" asks for a time, not for the word "long", which the half billion's "long-term" has;
    "how old" stays: "years old" is what it asks for; "at first" says when, not "the first year")."""
    text = QUESTION_FORM.sub(" ", text.lower())
    return {word[: max(4, len(word) - 2)] for word in WORD.findall(text) if word not in FUNCTION_WORDS}


QUESTION_FORM = re.compile(r"\bhow long\b|\bat first\b|\b(at|in) the (start|beginning)\b")


def covered(stems: set[str], answer: str) -> int:
    """How many of the question's words the answer has (a word of the same meaning counts: SAME_MEANING)."""
    words = set(WORD.findall(answer.lower()))
    return sum(any(word.startswith(alike) for word in words for alike in alike_stems(stem)) for stem in stems)


def alike_stems(stem: str) -> tuple[str, ...]:
    """The stem and those of the same meaning (a group's stem of four letters or more stands for its longer forms)."""
    return next(
        (group for group in SAME_MEANING if any(stem == g or (len(g) >= 4 and stem.startswith(g)) for g in group)),
        (stem,),
    )


# Words a visitor uses for what an answer says in other words ("his goal" is the mission, "the long-term goal" the
# vision; "what had he seen?" is what he noticed), as question_words' stems.
SAME_MEANING = (
    ("goal", "aim", "targ", "miss", "visi", "purpo", "objecti"),
    ("seen", "saw", "notic", "witn", "obser"),
    ("paid", "pay", "fund", "finan", "spons", "bankr"),
)


def other_reading(content: Facts, tracker: Tracker, card: Card) -> Card | None:
    """A follow-up the thread took to `card` (or kept on it) that the NLU surely reads as another card's question,
    which answers it as well: that card too ("what was his goal?" after the founder: the five cases he set out to take
    on, and the mission he founded IJM with; after the founding, which says "a starting goal", the mission too)."""
    last = content.card(tracker.get_slot(CARD_SLOT))
    first = sure_first_card(content, tracker, LEAVE_THREAD_SCORE)
    if first is None or last is None or first in (card, last):
        return None
    stems = question_words(message_text(tracker))
    return first if stems and covered(stems, first.answer) >= covered(stems, card.answer) else None


def card_in_thread(content: Facts, tracker: Tracker, last: Card) -> Card:
    """The card a follow-up asks for: the last card, unless the message names another clearly (see STAY_ON_LAST).
    After a card that sums up the whole article (facts.yml `sums_up`), whose answer has a little of everything, the
    NLU's sure first card ("who founded it?" after the 25 years: the founder)."""
    if last.sums_up and (surely := sure_first_card(content, tracker, LEAVE_THREAD_SCORE)) is not None:
        return surely
    if (of_kind := family_card_of_kind(content, tracker, last)) is not None:
        return of_kind
    verdict = card_verdict(tracker)
    first = next(iter(ranked_cards(content, tracker)), None)
    own = set(content.topic_of(last).cards)
    family = set(content.family(last))
    text = message_text(tracker)
    if POINTS_TO_A_PERSON.search(text):
        family |= set(content.people_family(last))
    stems = question_words(text)
    last_covers = covered(stems, last.answer)
    best, best_score = last, STAY_ON_LAST + SAME_TOPIC
    ranking = verdict.get("ranking") or []
    unsure = bool(verdict.get("unsure", True))
    attribute = POINTS_TO_AN_ATTRIBUTE.search(text) is not None
    entries = [(entry, content.card_for_label(entry.get("label"))) for entry in ranking if isinstance(entry, dict)]
    coverage = {card.key: covered(stems, card.answer) for _, card in entries if card is not None}
    # Only the cards that cover the most of them move ahead: "what's the long-term goal?" after the people
    # protected is the half billion of the same topic, not the Gates project's goal of a related one.
    most = max((n for key, n in coverage.items() if key in family), default=0)
    for entry, card in entries:
        if card is None:
            continue
        score = float(entry.get("score") or 0) + (SAME_TOPIC if card.key in own else 0.0)
        score += STAY_ON_LAST if card == last else 0.0
        if card != last and coverage[card.key] > last_covers:
            nlu_score = float(entry.get("score") or 0) if card is first and not unsure else 0.0
            leaves = (nlu_score >= LEAVE_THREAD_SCORE and attribute) or (
                nlu_score >= LEAVE_FOR_KIND_SCORE and answers_kind_last_lacks(content, text, last, card)
            )
            if card.key in family and coverage[card.key] == most:  # a related topic's counts as the topic's
                score += COVERS_MORE + (0.0 if card.key in own else SAME_TOPIC)
            elif leaves:
                score += STAY_ON_LAST + SAME_TOPIC
        if score > best_score:
            best, best_score = card, score
    return best


def family_card_of_kind(content: Facts, tracker: Tracker, last: Card) -> Card | None:
    """For a follow-up asking why it mattered or whether it worked (facts.yml `follow_up_kinds`) that the last answer
    does not say: the card of its topic, then of a related one, that does ("why was it such a big deal?" after the
    Gates project: the first clear-cut, externally validated data that IJM's model works). So for a year, a count or
    an age (`answer_kinds`) asked of the last card's topic by name: its first card that has one."""
    question = message_text(tracker).casefold()
    asked = [has for _, asks, has in content.follow_up_kinds if asks.search(question)]
    keys = content.family(last)
    if not asked and names_the_topic_of(tracker, last):
        # "what year did that project start?" after the 79% result: its topic's card with a year (the project's),
        # not the founding year the NLU is sure of
        asked = [has for _, asks, has in content.answer_kinds if asks.search(question)]
        keys = list(content.topic_of(last).cards)
    if not asked or any(has.search(last.answer.casefold()) for has in asked):
        return None
    cards = [content.cards[key] for key in keys if key != last.key]
    return next((card for card in cards if any(has.search(card.answer.casefold()) for has in asked)), None)


def names_the_topic_of(tracker: Tracker, last: Card) -> bool:
    """The message has a word that names the last card's topic (`topic_words` of the verdict: "project" for the
    Philippines) and none that names another."""
    named = card_verdict(tracker).get("topic_words")
    return isinstance(named, dict) and bool(named) and set(named.values()) == {last.topic}


def card_of_what_is_named(content: Facts, tracker: Tracker, ranked: list[Card]) -> Card | None:
    """When the message names a place the NLU's first card does not speak of, the next-ranked card that does, if the
    NLU gives it nearly as much ("going back to the philippines one, who funded it": the Gates project, not the
    founder, whom "funded" looks like "founded"); naming no place, so for the one topic its words name (`topic_words`);
    else None."""
    places = [str(value) for value in tracker.get_latest_entity_values("place") if value]
    named = card_verdict(tracker).get("topic_words")
    topics = set(named.values()) if isinstance(named, dict) else set()
    if not (places or len(topics) == 1) or not ranked:
        return None
    scores = {e.get("label"): float(e.get("score") or 0) for e in card_verdict(tracker).get("ranking") or []}

    def speaks_of_all(card: Card) -> bool:
        if not places:  # "what's ijm's big goal for the future?": "future" names the impact (half a billion)
            return card.topic in topics
        return all(speaks_of(card, content.topic_of(card), "place", place) for place in places)

    if not places and any(ranked[0].topic in (topic, *content.topic(topic).related) for topic in topics):
        return None  # "what year did gary haugen start ijm": the founder's words, the founding's year (related)

    if speaks_of_all(ranked[0]):
        return None
    least = PLACE_NAMED_SHARE * scores.get(content.label(ranked[0]), 0.0)
    return next(
        (c for c in ranked[1:ORDER_RANKS] if speaks_of_all(c) and scores.get(content.label(c), 0.0) >= least), None
    )


# ...a card that speaks of the place the question names is answered instead of the first when its score is at least
# this share of the first's
PLACE_NAMED_SHARE = 0.7


def sure_first_card(content: Facts, tracker: Tracker, min_score: float = 0.0) -> Card | None:
    """The NLU's first card when its verdict is sure (and scores at least `min_score`), else None."""
    verdict = card_verdict(tracker)
    if verdict.get("unsure", True) or float(verdict.get("score") or 0) < min_score:
        return None
    return next(iter(ranked_cards(content, tracker)), None)


def answers_kind_last_lacks(content: Facts, question: str, last: Card, card: Card) -> bool:
    """The question asks for a kind of answer (a year, a count, an age: facts.yml `answer_kinds`) that the last
    card's answer has nothing of and `card`'s has ("how long ago was that?" after the mission)."""
    lowered = question.casefold()
    return any(
        asks.search(lowered) and not has.search(last.answer.casefold()) and has.search(card.answer.casefold())
        for _, asks, has in content.answer_kinds
    )


def card_with_the_kind_asked(content: Facts, question: str, ranked: list[Card]) -> Card | None:
    """When the question asks for a kind of answer the first card has nothing of (a year, a count, an age), the
    next-ranked card of its topic that has one ("when did IJM do the project on kids sold for sex in the
    Philippines?": the 79% result has no year; the project's card says 2010), else the NLU's second card if it has
    one; else None."""
    first = ranked[0]
    same_topic = next(
        (c for c in ranked[1:] if c.topic == first.topic and answers_kind_last_lacks(content, question, first, c)), None
    )
    # else the NLU's second card, of whatever topic ("IJM's long-term vision number?": the mission has none; half a
    # billion people protected, of the impact, is second)
    runner_up = ranked[1] if len(ranked) > 1 and answers_kind_last_lacks(content, question, first, ranked[1]) else None
    return same_topic or runner_up


def card_in_context(content: Facts, tracker: Tracker, definite: bool = False) -> Card | None:
    """For a short question that points back, or a very short one the NLU cannot place: the card in the thread.
    `definite`: "the <something the last answer spoke of>" points back too (used where the NLU took the question for
    one the article can't answer: "when did the office open?" after the Cambodia rescue). A pronoun does not hold the
    thread when the question has a word of another topic: "how many cases did he plan on?" after the pattern Gary
    Haugen noticed asks for the founding's five cases."""
    last = content.card(tracker.get_slot(CARD_SLOT))
    if last is None:
        return None
    points_back = is_anaphoric(tracker, last, definite) and not names_other_topic(tracker, last, False)
    if not (points_back or is_elliptical(tracker, last) or echoes_last_answer(content, tracker, last)):
        return None
    return card_in_thread(content, tracker, last)


def echoes_last_answer(content: Facts, tracker: Tracker, last: Card) -> bool:
    """A short question naming nothing new whose words are in the last answer (two or more, all but one at most),
    more of them than in the NLU's first card's: it asks within the last answer ("how many people were brought to
    safety?" after "60 Minutes", whose answer says hundreds were; not the count of everyone IJM has rescued)."""
    text = message_text(tracker)
    stems = question_words(text)
    words = len(text.split())
    if len(stems) < 2 or words > ECHO_WORDS or names_something(tracker, last):
        return False
    first = next(iter(ranked_cards(content, tracker)), None)
    if first is None or first == last:
        return False
    echoed = covered(stems, last.answer)
    # a longer question echoes it only with three of its words or more ("and what did they do there over the next
    # couple years" after the Cambodia office, whose answer says "over the next couple of years")
    enough = max(2 if words <= CONTEXT_WORDS else 3, len(stems) - 1)
    return echoed >= enough and echoed > covered(stems, first.answer)


def fallback_follow_up(content: Facts, tracker: Tracker, pronouns: bool = False) -> Card | None:
    """A short message the NLU could not place, after a card: the card of that topic its words match, if any;
    with `pronouns`, also one that points back with a pronoun ("did IJM have a role in it?")."""
    last = content.card(tracker.get_slot(CARD_SLOT))
    text = message_text(tracker)
    if last is None or len(text.split()) > FALLBACK_CONTEXT_WORDS:
        return None
    if pronouns and pronoun_follow_up(tracker, last):
        return card_in_thread(content, tracker, last)
    if pronouns and is_short_question_in_thread(tracker, last):
        return card_in_thread(content, tracker, last)
    if CONTINUES_THE_QUESTION.search(text) and not names_something(tracker, last):
        return card_in_thread(content, tracker, last)  # "of adults or kids?" after the 73% drop in sex trafficking
    family = set(content.family(last))
    ranking = card_verdict(tracker).get("ranking") or []
    for entry in ranking:
        card = content.card_for_label(entry.get("label"))
        if card is not None and card.key in family and float(entry.get("lexical") or 0) >= FALLBACK_CONTEXT_LEXICAL:
            return card
    return None


def pronoun_follow_up(tracker: Tracker, last: Card) -> bool:
    """A short message after `last` that points back with a pronoun and names nothing new ("who does it help?")."""
    text = message_text(tracker)
    return (
        len(text.split()) <= FALLBACK_CONTEXT_WORDS
        and bool(ANAPHORA.search(text))
        and not names_something(tracker, last)
    )


def is_short_question_in_thread(tracker: Tracker, last: Card, question_mark: bool = False) -> bool:
    """A short question ("who was affected the most?", "where exactly?", "any others?"; with `question_mark`, also
    one that only ends with "?": "online too?") naming no place, year, event or other topic than the last card's."""
    text = message_text(tracker)
    asks = QUESTION_WORD.search(text) is not None or (question_mark and text.rstrip().endswith("?"))
    return (
        len(text.split()) <= FALLBACK_CONTEXT_WORDS
        and asks
        and not names_something(tracker, last)
        and not names_other_topic(tracker, last)
    )


def sibling_in_thread(content: Facts, tracker: Tracker) -> Card | None:
    """ "and the India one?" after "when did the Philippines office open?": a short "and …?" / "what about …?" /
    "any …?" that names a place, year or event is asked of the last card's topic when one of its cards speaks of that
    (the 2000 offices card names India); otherwise (no such card: "and in India?" after the kinds of violence) it is a
    question of its own."""
    last = content.card(tracker.get_slot(CARD_SLOT))
    text = message_text(tracker)
    if last is None or len(text.split()) > SIBLING_WORDS or not SIBLING.search(text):
        return None
    named = [str(v).lower() for name in ("place", "year", "event") for v in tracker.get_latest_entity_values(name)]
    if not named:
        return None
    topic = content.topic_of(last)
    cards = [last] + [content.card(key) for key in topic.cards if key != last.key]
    return next(
        (card for card in cards if card is not None and all(value in card.answer.lower() for value in named)), None
    )


def compared_with(content: Facts, tracker: Tracker, card: Card) -> Card | None:
    """The card to answer beside `card` when the question compares it with the last answer ("how does that compare to
    the number freed from the brick kiln?" after the 37 girls: both), or, when `card` is the last one, with the NLU's
    sure first card ("how many years after the founding was that?" after the offices of 2000: the founding too)."""
    last = content.card(tracker.get_slot(CARD_SLOT))
    if last is None or not COMPARES.search(message_text(tracker)):
        return None
    if card != last:
        return last
    first = sure_first_card(content, tracker)
    return first if first != last else None


def timeline_follow_up(content: Facts, tracker: Tracker) -> tuple[Card, bool] | None:
    """For "and the next year?" or "what happened after that?" after a dated card: the event next to it in time, and
    whether the article tells of it (False: nothing in the very year asked, so the nearest event it does tell of).
    After a card with no year of its own, "and after that?" is the next card of its topic, which tells its story in
    the article's order (after Chennai and Kenya, Uganda and Cambodia)."""
    last = content.card(tracker.get_slot(CARD_SLOT))
    text = message_text(tracker)
    if last is None or len(text.split()) > TIMELINE_WORDS or COMPARES.search(text) or names_something(tracker):
        return None
    year = content.year_of(last)
    for pattern, step, exact in ((NEXT_YEAR, 1, True), (YEAR_BEFORE, -1, True), (NEXT_EVENT, 1, False),
                                 (EVENT_BEFORE, -1, False)):  # fmt: skip
        moved = pattern.search(text)
        # only a step in time, nothing else asked: not "what happened to the girls after that?"
        if moved is None or question_words(text[: moved.start()] + " " + text[moved.end() :]) - TIME_WORDS:
            continue
        if year is not None:
            return content.event_from(year, step, exact)
        neighbour = None if exact else content.neighbour(last, step)
        return None if neighbour is None else (neighbour, True)
    return None


def answer_in_time(dispatcher: CollectingDispatcher, tracker: Tracker, content: Facts) -> list[EventType] | None:
    """The answer to a follow-up that moves in time (timeline_follow_up), or None when the message is not one."""
    found = timeline_follow_up(content, tracker)
    if found is None:
        return None
    card, told = found
    text = message_text(tracker)
    if told and (NEXT_YEAR.search(text) or YEAR_BEFORE.search(text)):
        return answer_card(dispatcher, tracker, content, card, asked=True, in_thread=True)
    # "what happened after that?" may mean the rest of the same story too (the 79% result after the Gates project's
    # launch), and so may a year the article tells nothing of: the next event, then the thread's own card
    last = content.card(tracker.get_slot(CARD_SLOT))
    own = None if last is None else card_in_thread(content, tracker, last)
    second = own if own is not None and own != card else None
    return answer_card(dispatcher, tracker, content, card, asked=True, in_thread=True, second=second, untold=not told)


def dated_card_of(content: Facts, topic_key: str, ranked: list[Card]) -> Card | None:
    """The topic's dated card the NLU ranks best, else its first dated card in the article's order."""
    topic = content.topic(topic_key)
    if topic is None:
        return None
    cards = [c for c in ranked if c.topic == topic_key] + [content.cards[k] for k in topic.cards if k in content.cards]
    return next((c for c in cards if content.year_of(c) is not None), None)


def events_in_order(content: Facts, tracker: Tracker, ranked: list[Card]) -> tuple[Card, Card] | None:
    """For a question about the order of two events (ASKS_ORDER): the two, earlier first. The first is the NLU's best
    dated card; the other is, in this order of preference, a dated card of another topic the message names by its
    words ("gates", "thailand") or entities ("the kiln", 2015), then the NLU's next dated card of another year ("how
    many years between starting IJM and the first field offices?": the founding) or the last card answered; the
    last card comes first when the question points back to it ("was that before or after the kiln rescue?")."""
    text = message_text(tracker)
    if not ASKS_ORDER.search(text):
        return None
    dated = [c for c in ranked[:ORDER_RANKS] if content.year_of(c) is not None]
    if not dated:
        return None
    first = dated[0]
    named_topics = list(dict.fromkeys((card_verdict(tracker).get("topic_words") or {}).values()))
    if content.year_of(ranked[0]) is None and ranked[0].topic in named_topics:
        return None  # the event asked about has no year ("the 60 Minutes episode"): years cannot tell the order
    named = [dated_card_of(content, key, ranked) for key in named_topics if key != first.topic]
    entities = {name: list(tracker.get_latest_entity_values(name)) for name in ("year", "event")}
    named += [content.for_entities([], [year], []) for year in entities["year"]]
    named += [content.for_entities([], [], [event]) for event in entities["event"]]
    last = content.card(tracker.get_slot(CARD_SLOT))
    # the last answer, or its topic's dated card when it has no year (the 79% result: the Gates project's 2010)
    dated_last = last if last is None or content.year_of(last) is not None else dated_card_of(content, last.topic, [])
    thread = [dated_last] if dated_last is not None else []
    # a short question pointing back ("was that before or after the kiln?") compares with the last answer
    named = [c for c in named if c is not None]
    if last is not None and ANAPHORA.search(text) and len(text.split()) <= CONTEXT_WORDS:
        candidates = thread + named + dated[1:]
    else:
        candidates = named + dated[1:] + thread
    year = content.year_of(first)
    other = next((c for c in candidates if content.year_of(c) not in (None, year)), None)
    if other is None:
        return None
    return (first, other) if year < (content.year_of(other) or 0) else (other, first)


def answer_in_order(dispatcher: CollectingDispatcher, tracker: Tracker, content: Facts) -> list[EventType] | None:
    """Both events of a question about their order (events_in_order), earlier first, after a line with their
    years; None when the message is not such a question."""
    pair = events_in_order(content, tracker, ranked_cards(content, tracker))
    if pair is None:
        return None
    earlier, later = pair
    said_later = content.when(later)
    if later.key in content.said_as and content.year_of(later) == (content.year_of(earlier) or 0) + 1:
        said_later = content.message("following_year")  # "2003, then the following year", as the article says
    lead = content.message("in_order", earlier=content.when(earlier), later=said_later)
    return answer_card(dispatcher, tracker, content, earlier, asked=True, second=later, in_thread=True, lead=lead)


def answer_milestones(dispatcher: CollectingDispatcher, tracker: Tracker, content: Facts) -> list[EventType] | None:
    """For "what are IJM's milestones?" (ASKS_MILESTONES, naming no place or year): the timeline, a line a year with
    its card's title, each year a button to its card; None for any other message."""
    if not ASKS_MILESTONES.search(message_text(tracker)) or named_entities(tracker):
        return None
    milestones = content.milestones()
    lines = "\n".join(f"- {year}: {card.title}" for year, card in milestones)
    dispatcher.utter_message(
        text=f"{content.message('milestones')}\n{lines}\n\n{content.read_more_line()}",
        buttons=[{"title": year, "payload": card_payload(content, card)} for year, card in milestones],
    )
    return []


def route_followed_up(tracker: Tracker) -> str | None:
    """A follow-up right after an answer that gave a contact route ("where do i look?" after "are you hiring?", which
    got the careers page): that contact's line again, for the message it answered; else None."""
    if last_bot_action(tracker) not in ROUTE_ANSWERS or len(message_text(tracker).split()) > ROUTE_FOLLOW_UP_WORDS:
        return None
    messages = earlier_user_messages(tracker)
    earlier = str(messages[-1].get("text") or "") if messages else ""
    people = contacts()
    contact = people.routed(earlier)
    return None if contact is None else people.line_for(contact)


ROUTE_FOLLOW_UP_WORDS = 6
# The answers that may give a contact route (contacts.yml `routes`)
ROUTE_ANSWERS = frozenset(
    {"action_answer_unknown_fact", "action_answer_request", "action_fallback_topics", "action_out_of_scope_topics"}
)


def follow_up_card(content: Facts, tracker: Tracker) -> Card | None:
    """For "how old were they?": the card in the thread of the last one answered (see STAY_ON_LAST)."""
    last = content.card(tracker.get_slot(CARD_SLOT))
    return None if last is None else card_in_thread(content, tracker, last)


def second_half(content: Facts, tracker: Tracker, ranked: list[Card]) -> Card | None:
    """A question that asks two things ("which drop was bigger, Cambodia's or the Philippines'?", "who founded IJM
    and when?"): the best card of another topic, when it scores nearly as well as the first."""
    text = message_text(tracker)
    if len(ranked) < 2 or not TWO_THINGS.search(text):
        return None
    scores = {e.get("label"): float(e.get("score") or 0) for e in card_verdict(tracker).get("ranking") or []}
    first = scores.get(content.label(ranked[0]), 0.0)
    other = next((c for c in ranked[1:SECOND_HALF_RANKS] if c.topic != ranked[0].topic), None)
    if other is None or scores.get(content.label(other), 0.0) < max(SECOND_HALF_MIN, SECOND_HALF_SHARE * first):
        return None
    return other


class ActionAnswerFact(Action):
    """Answer a question about IJM's history or impact with the card that answers it."""

    def name(self) -> str:
        return "action_answer_fact"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        content = facts()
        message = tracker.latest_message
        intent = (message.get("intent") or {}).get("name")
        named = content.card(next(iter(tracker.get_latest_entity_values("card")), None))
        if named is not None:
            return answer_card(dispatcher, tracker, content, named)
        if answered_in_safety_thread(dispatcher, tracker):  # "what's that number again" after the safety answer
            return []
        if (in_time := answer_in_time(dispatcher, tracker, content)) is not None:
            return in_time
        if (in_order := answer_in_order(dispatcher, tracker, content)) is not None:
            return in_order
        if (milestones := answer_milestones(dispatcher, tracker, content)) is not None:
            return milestones
        verdict = card_verdict(tracker)
        weak = bool(verdict.get("unsure", True)) or float(verdict.get("score") or 0) < WEAK_SCORE
        # ...not a question naming a topic of its own ("Also where did Gary actually start IJM?" after the link)
        weak = weak and not verdict.get("topic_words")
        if (weak or picks_a_fundraiser_kind(tracker)) and (journey := continue_journey(tracker)) is not None:
            return journey  # "never done one before, any help?", "i like the birthday one" after the fundraiser ideas
        if (sibling := sibling_in_thread(content, tracker)) is not None:
            also = compared_with(content, tracker, sibling)
            return answer_card(dispatcher, tracker, content, sibling, asked=True, second=also, in_thread=True)
        if intent == FOLLOW_UP_INTENT:
            card = follow_up_card(content, tracker)
            if card is None and (route := route_followed_up(tracker)) is not None:
                dispatcher.utter_message(text=route)  # "where do i look?" after "are you hiring?": the careers page
                return []
            if card is None:
                send_topic_menu(dispatcher, content, "follow_up_without_context", list(content.topics.values()))
                return []
            also = compared_with(content, tracker, card) or other_reading(content, tracker, card)
            return answer_card(dispatcher, tracker, content, card, asked=True, second=also, in_thread=True)

        ranked = ranked_cards(content, tracker)
        # A year no card has ("what happened in 1999?"): say so, unless the question is clearly about one card
        # and only its year is wrong ("was the DR bill passed in 2012?": the answer says 2021).
        years = list(tracker.get_latest_entity_values("year"))
        unknown_year = bool(years) and all(content.for_entities([], [year], []) is None for year in years)
        if unknown_year and float(verdict.get("score") or 0) < UNKNOWN_YEAR_UNLESS:
            send_topic_menu(dispatcher, content, "unknown_place_or_year", content.topics_with_entities())
            return []
        if (in_context := card_in_context(content, tracker)) is not None:
            also = compared_with(content, tracker, in_context) or other_reading(content, tracker, in_context)
            return answer_card(dispatcher, tracker, content, in_context, asked=True, second=also, in_thread=True)
        unsure = bool(verdict.get("unsure", True))
        if ranked and not unsure:
            # A close call (a card of another topic nearly as likely): answer, and offer the others too.
            others = (
                [c for c in dict.fromkeys(ranked[1:DID_YOU_MEAN]) if c != ranked[0]]
                if verdict.get("close_call")
                else []
            )
            second = second_half(content, tracker, ranked) or compared_with(content, tracker, ranked[0])
            # a question for a year (a count, an age) the first card has nothing of: its topic's card that has one
            # too ("when did IJM do the project on kids sold for sex in the Philippines?": the 79% result, and the
            # project's card, which says 2010)
            second = second or card_with_the_kind_asked(content, message_text(tracker), ranked)
            first = card_of_what_is_named(content, tracker, ranked) or ranked[0]
            others = [c for c in others if c not in (second, first)]
            second = None if second == first else second
            return answer_card(dispatcher, tracker, content, first, asked=True, also=others, second=second)
        entities = {name: list(tracker.get_latest_entity_values(name)) for name in ("place", "year", "event")}
        by_entity = content.for_entities(entities["place"], entities["year"], entities["event"])
        if by_entity is not None:
            topic = content.topic_of(by_entity)
            within = next((card for card in ranked if card.topic == topic.key), by_entity)
            return answer_card(dispatcher, tracker, content, within, asked=True)
        if len(ranked) >= 2:
            choices = list(dict.fromkeys(ranked))[:DID_YOU_MEAN]
            dispatcher.utter_message(
                text=content.message("did_you_mean"),
                buttons=[{"title": card.title, "payload": card_payload(content, card)} for card in choices],
            )
            return []
        topic = content.for_intent(intent)
        if topic is not None:
            summary = content.summary(topic)
            return answer_card(dispatcher, tracker, content, summary, asked=bool(verdict))
        named_something = any(entities.values())
        menu = content.topics_with_entities() if named_something else list(content.topics.values())
        send_topic_menu(dispatcher, content, "unknown_place_or_year" if named_something else "pick_a_topic", menu)
        return []


class ActionTellMore(Action):
    """Continue the last topic: its next card, then the article and the other topics."""

    def name(self) -> str:
        return "action_tell_more"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        content = facts()
        last = content.card(tracker.get_slot(CARD_SLOT))
        if last is None:
            topic = content.topic(tracker.get_slot(TOPIC_SLOT))
            if topic is None:
                send_topic_menu(dispatcher, content, "pick_a_topic", list(content.topics.values()))
                return []
            return answer_card(dispatcher, tracker, content, content.summary(topic))
        following = content.next_card(last)
        text = message_text(tracker)
        if following is None and QUESTION_WORD.search(text) and not text.startswith("/"):
            # "what else do they fight?" after the one card on the kinds of violence: that card is the answer
            return answer_card(dispatcher, tracker, content, last, asked=True, in_thread=True)
        if following is None:
            topic = content.topic_of(last)
            others = [t for t in content.topics.values() if t.key != topic.key]
            dispatcher.utter_message(
                text=content.message("nothing_more", title=topic.title, url=content.article_url),
                buttons=topic_buttons(others, content),
            )
            return []
        return answer_card(dispatcher, tracker, content, following)
