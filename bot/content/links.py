"""Typed access to links.yml: the tracked links the assistant gives, served by the web app's /go/<name>."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from bot.content import CONTENT_DIR, ContentError, load


@dataclass(frozen=True)
class TrackedLink:
    name: str
    url: str
    amount_parameter: str | None = None
    frequency_parameter: str | None = None
    frequencies: dict[str, str] = field(default_factory=dict)
    tracking: dict[str, str] = field(default_factory=dict)

    def target(self, amount: str | None = None, frequency: str | None = None) -> str:
        """The address to send the visitor to: the configured URL plus the form and tracking parameters."""
        parts = urlsplit(self.url)
        query = parse_qsl(parts.query, keep_blank_values=True)
        if amount and self.amount_parameter:
            query.append((self.amount_parameter, amount))
        if frequency in self.frequencies and self.frequency_parameter:
            query.append((self.frequency_parameter, self.frequencies[frequency]))
        query.extend(self.tracking.items())
        return urlunsplit(parts._replace(query=urlencode(query)))

    def clean_amount(self, raw: str | None, largest: Decimal) -> str | None:
        """An amount from a request, kept only if it is a positive number within the limit."""
        if not raw or not self.amount_parameter:
            return None
        try:
            value = Decimal(raw)
        except InvalidOperation:
            return None
        if not value.is_finite() or value <= 0 or value > largest or value != value.quantize(Decimal("0.01")):
            return None
        return raw


def links(directory: Path = CONTENT_DIR) -> dict[str, TrackedLink]:
    data = load("links", directory)
    try:
        return {
            name: TrackedLink(
                name=name,
                url=str(entry["url"]),
                amount_parameter=entry.get("amount_parameter"),
                frequency_parameter=entry.get("frequency_parameter"),
                frequencies={str(k): str(v) for k, v in (entry.get("frequencies") or {}).items()},
                tracking={str(k): str(v) for k, v in (entry.get("tracking") or {}).items()},
            )
            for name, entry in data["links"].items()
        }
    except (KeyError, TypeError, AttributeError) as error:
        raise ContentError(f"links.yml is missing or has a malformed entry: {error}") from None


def tracked_url(public_url: str, name: str, conversation_id: str, **parameters: str | None) -> str:
    """The /go/<name> address the bot gives, which counts the click and redirects."""
    query = {"c": conversation_id, **{k: v for k, v in parameters.items() if v}}
    return f"{public_url.rstrip('/')}/go/{name}?{urlencode(query)}"
