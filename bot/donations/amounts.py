"""Read the amount of a gift from what a visitor typed: "$50", "50$", "fifty dollars", "CAD 25.50"."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from text_to_num import alpha2digit

_NUMBER = r"(?P<number>-?\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|-?\d+(?:\.\d{1,2})?)"
_BEFORE = r"(?P<before>\$|cad\s?\$?|c\$)\s?"
_AFTER = r"\s?(?P<after>\$|dollars?|bucks|cad\b|canadian)"
_WITH_CURRENCY = re.compile(rf"(?:{_BEFORE}{_NUMBER}|{_NUMBER.replace('number', 'number2')}{_AFTER})", re.I)
_BARE = re.compile(r"(?<![\d.,])-?\d+(?:\.\d{1,2})?(?![\d.,%a-zA-Z])")
_NEGATIVE_WORDS = re.compile(r"\b(minus|negative)\s+(?=\d)", re.I)
_YEAR = re.compile(r"^(19|20)\d{2}$")
# "$5k", "500k": thousands. A bare "5k" or "10k" is more often a race than a gift: only from 100k up, or with a $.
_THOUSANDS = re.compile(r"(?P<dollar>\$\s?)?(?<![\w.,])(?P<number>\d+(?:\.\d+)?)\s?k\b", re.I)


def _expand_thousands(text: str) -> str:
    def expand(match: re.Match[str]) -> str:
        number = Decimal(match.group("number"))
        if not match.group("dollar") and number < 100:
            return match.group(0)
        return f"{match.group('dollar') or ''}{(number * 1000).normalize():f}"

    return _THOUSANDS.sub(expand, text)


@dataclass(frozen=True)
class Amount:
    value: Decimal | None
    problem: str | None = None  # "invalid" or "too_large"

    @property
    def usable(self) -> bool:
        return self.value is not None and self.problem is None

    def plain(self) -> str:
        """As a form field wants it: 50, 25.50."""
        assert self.value is not None
        return f"{self.value:f}" if self.value != self.value.to_integral() else str(int(self.value))


def _digits(text: str) -> str:
    """Turn number words into digits ("fifty" → "50"), in English and French."""
    converted = alpha2digit(text, "en")
    return alpha2digit(converted, "fr") if converted == text else converted


def parse_amount(text: str, largest: Decimal | None = None) -> Amount | None:
    """The amount named in `text`, None if none is. Bare numbers count only when nothing else could be meant.
    Above `largest` (when given) the amount is "too_large"."""
    text = _NEGATIVE_WORDS.sub("-", _expand_thousands(_digits(text)))
    match = _WITH_CURRENCY.search(text)
    if match:
        raw = match.group("number") or match.group("number2")
    else:
        bare = [n for n in _BARE.findall(text) if not _YEAR.match(n.lstrip("-"))]
        if len(bare) != 1:
            return None
        raw = bare[0]
    try:
        value = Decimal(raw.replace(",", ""))
    except InvalidOperation:
        return Amount(None, "invalid")
    if value <= 0:
        return Amount(None, "invalid")
    if largest is not None and value > largest:
        return Amount(value, "too_large")
    return Amount(value.quantize(Decimal("0.01")) if value != value.to_integral() else value)
