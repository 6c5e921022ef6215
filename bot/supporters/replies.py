"""The texts of the supporter journeys' answers, built from bot/content/ (no Rasa here, so each is unit-tested).

Used by the journey actions and, without the offers that would start a form, by the mid-form interruption
answers (actions/interruptions.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.content.contacts import contacts
from bot.content.links import tracked_url
from bot.content.supporters import enquiry_messages, fundraising_content


@dataclass(frozen=True)
class Reply:
    text: str
    buttons: list[dict[str, str]] = field(default_factory=list)


def _offer(messages, yes: str = "/affirm", no: str = "/deny") -> Reply:
    return Reply(
        messages("offer"),
        [{"title": messages("offer_yes"), "payload": yes}, {"title": messages("offer_no"), "payload": no}],
    )


def fundraising_replies(
    kind: str | None, public_url: str, conversation_id: str, offer: bool = True, ideas: bool = True
) -> list[Reply]:
    """Ideas for every kind of fundraiser, or the tips for the one the visitor named; the guide; events@.
    `ideas=False`: a follow-up to the ideas already shown: the kinds in a line, the guide, events@ and the offer."""
    content = fundraising_content()
    message = content.message
    chosen = content.kinds.get(kind) if kind else None
    if not ideas:
        kinds = ", ".join(k.title for k in content.kinds.values())
        replies = [Reply(message("follow_up", headline=content.headline, kinds=kinds))]
    elif chosen:
        replies = [Reply(message("one_kind", title=chosen.title) + "\n" + "\n".join(f"- {t}" for t in chosen.tips))]
    else:
        every = "\n\n".join(f"{k.title}:\n" + "\n".join(f"- {t}" for t in k.tips) for k in content.kinds.values())
        replies = [Reply(message("intro", headline=content.headline) + "\n\n" + every)]
    events = contacts().get("events")
    guide = tracked_url(public_url, "fundraising_guide", conversation_id)
    replies.append(Reply(message("resources", guide=guide, name=events.name, email=events.email or events.details())))
    if offer:
        replies.append(_offer(message))
    return replies


def media_intro() -> Reply:
    media = contacts().get("media")
    return Reply(enquiry_messages("media")("intro", name=media.name, details=media.details()))


def contact_replies(offer: bool = True) -> list[Reply]:
    """There is no live chat: who to contact, and (optionally) the offer to take a message."""
    messages = enquiry_messages("person")
    people = contacts()
    lines = [
        messages("contact_line", name=c.name[:1].upper() + c.name[1:], details=c.details())
        for c in map(people.get, messages.texts["teams"])
    ]
    replies = [Reply(messages("intro") + "\n" + "\n".join(lines))]
    if offer:
        replies.append(_offer(messages))
    return replies
