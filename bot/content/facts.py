"""Typed access to `facts.yml`: IJM's history and impact as fact cards, grouped in topics.

A card answers one fact of the 25-years article and quotes the passages it rests on; a topic groups cards for
menus and "tell me more" (its first card is its summary). A card is trained as the retrieval intent
`<topic intent>/<card key>` (data/nlu/knowledge/<topic>.yml); topics without an intent of their own (places)
are asked through `ask_event` with a place, year or event entity.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path

from bot.content import CONTENT_DIR, ContentError, load

EVENT_INTENT = "ask_event"


@dataclass(frozen=True)
class Card:
    key: str
    topic: str
    title: str
    answer: str
    passages: tuple[str, ...]
    places: tuple[str, ...] = ()
    years: tuple[int, ...] = ()
    events: tuple[str, ...] = ()
    gives: tuple[str, ...] = ()  # details of details_not_given this card does give
    sums_up: bool = False  # sums up the whole article: a follow-up after it is read on its own when the NLU is sure


@dataclass(frozen=True)
class Topic:
    key: str
    title: str
    cards: tuple[str, ...]
    intents: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    years: tuple[int, ...] = ()
    events: tuple[str, ...] = ()
    related: tuple[str, ...] = ()  # topics a follow-up may continue into ("who founded it?" → "when?")

    @property
    def intent(self) -> str:
        """The intent its questions are trained under (retrieval intent `<intent>/<card>`)."""
        return self.intents[0] if self.intents else EVENT_INTENT


@dataclass(frozen=True)
class Facts:
    article_title: str
    article_url: str
    read_more: str
    more_button: str
    messages: dict[str, str]
    topics: dict[str, Topic]
    cards: dict[str, Card]
    detail_message: str = ""
    details_not_given: tuple[tuple[str, re.Pattern], ...] = ()
    # a count asked for one place or year ("how many were rescued in Uganda / in 2022?"): given only by a card
    # that names that place or year itself
    count_question: re.Pattern | None = None
    # the kind of answer a question asks for (a year, a count, an age) and what an answer of that kind contains: a
    # card whose answer has nothing of the kind does not answer it ("when did IJM start working in Kenya?")
    answer_kinds: tuple[tuple[str, re.Pattern, re.Pattern], ...] = ()
    # kinds a follow-up finds among the cards of the last answer's topic, never said to be missing ("why was it such a
    # big deal?")
    follow_up_kinds: tuple[tuple[str, re.Pattern, re.Pattern], ...] = ()
    # the people the article names, and the topics about each (facts.yml `people`)
    people: dict[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    # the article's dated events in order, as (year, card): "and the next year?", "what happened after that?"
    timeline: tuple[tuple[int, str], ...] = ()
    # how the article tells a timeline year it never writes out ("the year after 2003"), by card
    said_as: dict[str, str] = dataclasses.field(default_factory=dict)

    def missing_detail(self, question: str, card: Card) -> str | None:
        """The detail the question asks for that the article does not give (and this card does not either)."""
        lowered = question.casefold().replace("’", "'")
        named = next((n for n, p in self.details_not_given if n not in card.gives and p.search(lowered)), None)
        if named is None and self.count_question is not None and self.count_question.search(lowered):
            own = " ".join([card.answer, *card.places, *self.topic_of(card).places]).casefold()
            if any(name not in own for name in self.places_and_years_in(lowered)):
                return "count_for_place_or_year"
        if named is None:
            answer = card.answer.casefold()
            named = next(
                (n for n, asks, has in self.answer_kinds if asks.search(lowered) and not has.search(answer)), None
            )
        return named

    def year_of(self, card: Card) -> int | None:
        """The year a card's event happened: its own, its place on the timeline, or the year its answer puts it in
        ("In 2003, ...", "..., in 2003, ..."); not any year its answer names (Chennai and Kenya opened "soon after"
        the offices of 2000) nor its topic's."""
        if card.years:
            return card.years[0]
        on_timeline = next((year for year, key in self.timeline if key == card.key), None)
        if on_timeline is not None:
            return on_timeline
        named = re.search(r"^In ((?:19|20)\d\d)\b|(?<!after), in ((?:19|20)\d\d),", card.answer)
        return int(named.group(1) or named.group(2)) if named else None

    def when(self, card: Card) -> str:
        """The card's year as a reply may say it: as the article tells it when it never writes the year out."""
        return self.said_as.get(card.key) or str(self.year_of(card) or "")

    def milestones(self) -> list[tuple[str, Card]]:
        """The timeline's events whose year the article writes out, as (year, card), in order."""
        return [(str(year), self.cards[key]) for year, key in self.timeline if key not in self.said_as]

    def neighbour(self, card: Card, step: int) -> Card | None:
        """The card `step` (1 or -1) from this one in its topic, which tells its story in the article's order."""
        order = self.topic_of(card).cards
        position = order.index(card.key) + step
        return self.cards[order[position]] if 0 <= position < len(order) else None

    def event_from(self, year: int, step: int, exact: bool) -> tuple[Card, bool] | None:
        """The timeline's event `step` (1 or -1) from `year`: with `exact`, of that very year (else the nearest in
        that direction, and False: the article tells of nothing in the year asked); without, the next one told of."""
        later = sorted(self.timeline, reverse=step < 0)
        after = [(y, key) for y, key in later if (y - year) * step > 0]
        if not after:
            return None
        wanted = year + step
        found_year, key = after[0]
        return self.cards[key], (found_year == wanted or not exact)

    def places_and_years_in(self, lowered: str) -> list[str]:
        """The article's places and any years a (lower-cased) question names."""
        places = {str(p).casefold() for t in self.topics.values() for p in t.places}
        named = [p for p in places if re.search(rf"\b{re.escape(p)}\b", lowered)]
        return named + re.findall(r"\b(?:19|20)\d\d\b", lowered)

    def family(self, card: Card) -> list[str]:
        """The cards a message not understood right after this card may be about: its topic's, then its related
        topics'."""
        topic = self.topic_of(card)
        keys = list(topic.cards)
        for related in topic.related:
            keys += [k for k in self.topics[related].cards if k not in keys]
        return keys

    def people_family(self, card: Card) -> list[str]:
        """The cards about the people this card's answer names ("where was he working from?" after the mission,
        whose answer names Gary Haugen: the founder's and the founding's cards)."""
        answer = card.answer.casefold()
        topics = [t for name, about in self.people.items() if name.split()[-1].casefold() in answer for t in about]
        return list(dict.fromkeys(key for topic in topics for key in self.topics[topic].cards))

    def topic(self, key: str | None) -> Topic | None:
        return self.topics.get(key) if key else None

    def card(self, key: str | None) -> Card | None:
        return self.cards.get(key) if key else None

    def summary(self, topic: Topic) -> Card:
        return self.cards[topic.cards[0]]

    def topic_of(self, card: Card) -> Topic:
        return self.topics[card.topic]

    def label(self, card: Card) -> str:
        """The card's retrieval intent, as the NLU names it."""
        return f"{self.topic_of(card).intent}/{card.key}"

    def card_for_label(self, label: str | None) -> Card | None:
        """The card a retrieval label (`ask_founder/founder_career`) stands for, if it is a fact card."""
        if not label or "/" not in label:
            return None
        card = self.cards.get(label.split("/", 1)[1])
        return card if card is not None and self.label(card) == label else None

    def for_intent(self, intent: str | None) -> Topic | None:
        return next((t for t in self.topics.values() if intent in t.intents), None)

    def for_entities(self, places: list[str], years: list[str], events: list[str]) -> Card | None:
        """The card a named event, else a place, else a year points to (most specific first): a card that names
        the value itself, else the summary of the topic that does."""
        for values, field in ((events, "events"), (places, "places"), (years, "years")):
            for value in values:
                for card in self.cards.values():
                    if _matches(value, getattr(card, field)):
                        return card
                for topic in self.topics.values():
                    if _matches(value, getattr(topic, field)):
                        return self.summary(topic)
        return None

    def next_card(self, card: Card) -> Card | None:
        """The card after this one in its topic ("tell me more"), None after the last."""
        return self.neighbour(card, 1)

    def message(self, key: str, **values: str) -> str:
        try:
            return self.messages[key].format(**values)
        except KeyError as missing:
            raise ContentError(f"facts.yml: message {key!r} or its placeholder {missing} is missing") from None

    def read_more_line(self) -> str:
        return self.read_more.format(url=self.article_url)

    def topics_with_entities(self) -> list[Topic]:
        return [t for t in self.topics.values() if t.places or t.years or t.events]


def _matches(value: str, candidates: tuple) -> bool:
    wanted = str(value).strip().casefold()
    return any(str(candidate).casefold() == wanted for candidate in candidates)


def _optional_pattern(pattern: object) -> re.Pattern | None:
    return re.compile(str(pattern)) if pattern else None


def _strings(entry: dict, field: str) -> tuple:
    raw = entry.get(field) or []
    if not isinstance(raw, list):
        raise ContentError(f"facts.yml: `{field}` must be a list")
    return tuple(raw)


def facts(directory: Path = CONTENT_DIR) -> Facts:
    data = load("facts", directory)
    try:
        article = data["article"]
        topics = {
            key: Topic(
                key=key,
                title=str(entry["title"]),
                cards=tuple(str(c) for c in entry["cards"]),
                intents=_strings(entry, "intents"),
                places=_strings(entry, "places"),
                years=tuple(int(y) for y in _strings(entry, "years")),
                events=_strings(entry, "events"),
                related=_strings(entry, "related"),
            )
            for key, entry in data["topics"].items()
        }
        owner = {card: topic.key for topic in topics.values() for card in topic.cards}
        cards = {
            key: Card(
                key=key,
                topic=owner[key],
                title=str(entry["title"]),
                answer=" ".join(str(entry["answer"]).split()),
                passages=tuple(str(p) for p in entry["passages"]),
                places=_strings(entry, "places"),
                years=tuple(int(y) for y in _strings(entry, "years")),
                events=_strings(entry, "events"),
                gives=_strings(entry, "gives"),
                sums_up=entry.get("sums_up") is True,
            )
            for key, entry in data["cards"].items()
        }
        missing = [c for topic in topics.values() for c in topic.cards if c not in cards]
        missing += [r for topic in topics.values() for r in topic.related if r not in topics]
        people = {str(name): tuple(str(t) for t in about) for name, about in (data.get("people") or {}).items()}
        missing += [t for about in people.values() for t in about if t not in topics]
        timeline = tuple((int(entry[0]), str(entry[1])) for entry in data.get("timeline") or [])
        said_as = {str(entry[1]): str(entry[2]) for entry in data.get("timeline") or [] if len(entry) > 2}
        missing += [key for _, key in timeline if key not in cards]
        if missing or not all(t.cards for t in topics.values()):
            raise ContentError(f"facts.yml: unknown cards or related topics, or a topic with no cards: {missing}")
        return Facts(
            article_title=str(article["title"]),
            article_url=str(article["url"]),
            read_more=str(data["read_more"]),
            more_button=str(data["more_button"]),
            messages={str(k): str(v).strip() for k, v in data["messages"].items()},
            topics=topics,
            cards=cards,
            detail_message=str((data.get("details_not_given") or {}).get("message") or ""),
            details_not_given=tuple(
                (str(name), re.compile(str(pattern)))
                for name, pattern in ((data.get("details_not_given") or {}).get("details") or {}).items()
            ),
            count_question=_optional_pattern((data.get("details_not_given") or {}).get("count_for_place_or_year")),
            people=people,
            timeline=timeline,
            said_as=said_as,
            answer_kinds=_kinds((data.get("details_not_given") or {}).get("answer_kinds")),
            follow_up_kinds=_kinds((data.get("details_not_given") or {}).get("follow_up_kinds")),
        )
    except (KeyError, TypeError, ValueError, re.error) as error:
        if isinstance(error, ContentError):
            raise
        raise ContentError(f"facts.yml is missing or has a malformed entry: {error}") from None


def _kinds(entries: dict | None) -> tuple[tuple[str, re.Pattern, re.Pattern], ...]:
    """Answer kinds as (name, what the question says, what an answer of that kind has)."""
    return tuple(
        (str(name), re.compile(str(kind["question"])), re.compile(str(kind["answer"])))
        for name, kind in (entries or {}).items()
    )
