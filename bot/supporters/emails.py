"""Finding and checking the e-mail address in a visitor's message.

Syntax only (the email-validator library, no DNS lookups): the reason for a refusal is plain English the bot
can show the visitor as it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email

NOT_FOUND = "I couldn't find an e-mail address in that"
# Punctuation a sentence puts around an address: "(bob@example.com)", "bob@example.com." or "<bob@x.ca>,".
_EDGES = "\"'`()[]{}<>,;:.!?«»“”‘’"
# Something at either side of an @ with spaces around it: "bob @ example.com".
_SPACED_AT = re.compile(r"\S\s*@\s+\S|\S\s+@\s*\S")
_SPACES_AROUND_AT = re.compile(r"\s*@\s*")
# A word that looks like an address missing its @: "bob.example.com", "bobexample.ca".
_MISSING_AT = re.compile(r"^[\w.+-]+\.[^\W\d_]{2,}$")

# email-validator's messages (2.x) → what we tell the visitor. First match wins.
_REASONS = (
    ("exactly one @", "it should have exactly one @ sign"),
    ("something before the @", "it needs something before the @ sign"),
    ("something after the @", "it needs a domain after the @ sign, like example.com"),
    ("too long", "it's too long to be an e-mail address"),
    ("should have a period", "the part after the @ needs a dot, like example.com"),
    ("not a valid top-level", "the ending after the last dot isn't a real domain ending"),
    ("period", "it has a dot in the wrong place"),
    ("hyphen", "it has a hyphen in the wrong place"),
    ("invalid character", "it contains characters an e-mail address can't have"),
    ("not allowed", "it contains characters an e-mail address can't have"),
    ("special-use", "that domain can't receive e-mail"),
)
_FALLBACK = "that doesn't look like a complete e-mail address"


@dataclass(frozen=True)
class EmailCheck:
    email: str | None  # normalised (lower-cased) address when valid
    reason: str | None  # why not, fit to show the visitor, when invalid

    @property
    def valid(self) -> bool:
        return self.email is not None


def _friendly(error: EmailNotValidError) -> str:
    message = str(error).lower()
    return next((reason for marker, reason in _REASONS if marker in message), _FALLBACK)


def check_email(candidate: str) -> EmailCheck:
    """Validate one address as given (no searching); normalise it: IDNA/Unicode forms and lower case."""
    if candidate.count("@") > 1:
        return EmailCheck(None, "it should have exactly one @ sign")
    try:
        result = validate_email(
            candidate,
            check_deliverability=False,
            allow_smtputf8=True,
            allow_quoted_local=False,
            allow_domain_literal=False,
        )
    except EmailNotValidError as error:
        return EmailCheck(None, _friendly(error))
    if len(result.ascii_domain.rsplit(".", 1)[-1]) < 2:  # the library accepts "bob@example.c"; no such ending exists
        return EmailCheck(None, "the ending after the last dot is too short, like .com or .ca")
    return EmailCheck(result.normalized.lower(), None)


def normalise_email(email: str) -> str:
    """The stored form of an address already checked; ValueError if it is not one."""
    checked = check_email(email.strip())
    if checked.email is None:
        raise ValueError(f"not a valid e-mail address: {checked.reason}")
    return checked.email


def find_email(text: str) -> EmailCheck:
    """Pick the e-mail address out of a message ("my email is Bob@Example.com please") and check it.

    The first valid word with an @ is the address (without the punctuation around it), or the address once the
    spaces around its @ are taken out ("bob @ example.com"). Otherwise the reason says what is wrong: spaces
    around the @ (when even without them it is no address), the first candidate's fault, an address missing its @
    ("it needs an @ sign"), or NOT_FOUND.
    """
    words = [word.strip(_EDGES) for word in text.split()]
    checks = [check_email(word) for word in words if "@" in word]
    valid = next((checked for checked in checks if checked.valid), None)
    if valid is not None:
        return valid
    if _SPACED_AT.search(text):
        # "priya.raman @ outlook.com": the address is plain once the spaces around its @ go
        joined = [word.strip(_EDGES) for word in _SPACES_AROUND_AT.sub("@", text).split()]
        rejoined = next((c for c in (check_email(w) for w in joined if "@" in w) if c.valid), None)
        return rejoined or EmailCheck(None, "an e-mail address can't contain spaces")
    if checks:
        return checks[0]
    if any(_MISSING_AT.match(word) for word in words):
        return EmailCheck(None, "it needs an @ sign")
    return EmailCheck(None, NOT_FOUND)
