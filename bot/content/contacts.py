"""Typed access to `contacts.yml`: who to contact, and the route for questions the assistant can't answer."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bot.content import CONTENT_DIR, ContentError, load


@dataclass(frozen=True)
class Contact:
    key: str
    name: str
    email: str | None = None
    phone: str | None = None
    url: str | None = None

    def details(self) -> str:
        return ", ".join(part for part in (self.email, self.phone, self.url) if part)


@dataclass(frozen=True)
class Route:
    contact: str
    keywords: tuple[str, ...]

    # a keyword matches its plural too ("internship", "internships")
    def matches(self, text: str) -> bool:
        lowered = text.casefold()
        return any(re.search(rf"\b{re.escape(k.casefold())}s?\b", lowered) for k in self.keywords)


@dataclass(frozen=True)
class Request:
    """A request with a home of its own ("my company wants to partner with IJM"): a message and its contacts."""

    message: str
    contacts: tuple[str, ...]


@dataclass(frozen=True)
class Contacts:
    contacts: dict[str, Contact]
    unknown_message: str
    contact_line: str
    default_route: str
    routes: tuple[Route, ...]
    requests: dict[str, Request]

    def request_reply(self, intent: str) -> str | None:
        """The answer to a request intent, its contacts' lines after the message; None for another intent."""
        request = self.requests.get(intent)
        if request is None:
            return None
        return " ".join([request.message, *(self.line_for(self.get(key)) for key in request.contacts)])

    def get(self, key: str) -> Contact:
        try:
            return self.contacts[key]
        except KeyError:
            raise ContentError(f"contacts.yml has no contact {key!r}") from None

    def route_for(self, question: str) -> Contact:
        return self.routed(question) or self.get(self.default_route)

    def routed(self, question: str) -> Contact | None:
        """The contact a route's keywords pick for the question ("where do i apply": the careers page), if any."""
        route = next((r for r in self.routes if r.matches(question)), None)
        return self.get(route.contact) if route else None

    def line_for(self, contact: Contact) -> str:
        line = self.contact_line.format(name=contact.name, details=contact.details())
        return line[:1].upper() + line[1:]


def contacts(directory: Path = CONTENT_DIR) -> Contacts:
    data = load("contacts", directory)
    try:
        people = {
            key: Contact(key=key, name=str(e["name"]), email=e.get("email"), phone=e.get("phone"), url=e.get("url"))
            for key, e in data["contacts"].items()
        }
        unknown = data["unknown_fact"]
        routes = tuple(Route(str(r["contact"]), tuple(str(k) for k in r["keywords"])) for r in unknown["routes"])
        result = Contacts(
            contacts=people,
            unknown_message=str(unknown["message"]).strip(),
            contact_line=str(unknown["contact_line"]),
            default_route=str(unknown["default"]),
            routes=routes,
            requests={
                str(intent): Request(
                    message=" ".join(str(entry["message"]).split()),
                    contacts=tuple(str(k) for k in [entry["contact"], *([entry["also"]] if entry.get("also") else [])]),
                )
                for intent, entry in (data.get("requests") or {}).items()
            },
        )
    except (KeyError, TypeError) as error:
        raise ContentError(f"contacts.yml is missing or has a malformed entry: {error}") from None
    requested = [key for request in result.requests.values() for key in request.contacts]
    for key in [result.default_route, *(r.contact for r in routes), *requested]:
        result.get(key)  # every route names a known contact
    return result
