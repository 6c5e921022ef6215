"""No visitor message goes unanswered: when Rasa sends nothing back, the channel sends an apology.

Rasa 3.6 swallows a failing custom action (action server down, timing out, or answering 500 because of a
bug or a broken content file): it logs "the actions events are lost" and the visitor waits for ever. Each of
our channels wraps Rasa's message handler with `never_silent`, which counts what goes out through the output
channel and, when a message produced nothing (or the handling raised), sends `something_went_wrong` from
assistant.yml: an apology, the general contact, and the emergency number. The apology is not an event in the
tracker; the warning in the Rasa server's log names the conversation. A conversation database that fails
(bot/storage/tracker_store.py raises ConversationStoreUnavailable) gets the same apology.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import OutputChannel, UserMessage

from bot.content import ContentError
from bot.content.assistant import assistant_content
from bot.content.contacts import contacts
from bot.content.safety import emergency_number
from bot.storage.tracker_store import ConversationStoreUnavailable

logger = logging.getLogger(__name__)

# Used when even the content files can't be read: the apology must not depend on what may be broken.
LAST_RESORT = "Sorry, something went wrong on my side and I couldn't answer that. Please try again in a moment."


def apology() -> str:
    try:
        people = contacts()
        return (
            assistant_content()
            .message("something_went_wrong")
            .format(contact=people.line_for(people.get(people.default_route)), emergency=emergency_number())
        )
    except (ContentError, KeyError, ValueError):
        logger.exception("The apology could not be built from the content files; sending the last-resort text")
        return LAST_RESORT


def _counted(name: str) -> Callable[..., Awaitable[None]]:
    """A sender of CountingOutputChannel: counts, then calls the wrapped channel's sender of that name."""

    async def send(self: CountingOutputChannel, recipient_id: str, *args: Any, **kwargs: Any) -> None:
        self.sent += 1
        await getattr(self.inner, name)(recipient_id, *args, **kwargs)

    send.__name__ = name
    return send


class CountingOutputChannel(OutputChannel):
    """Passes every message on to the channel it wraps, counting them.

    Rasa's processor sends everything through send_response; each direct sender is forwarded too, so the
    wrapped channel formats buttons, images and custom JSON its own way.
    """

    def __init__(self, inner: OutputChannel) -> None:
        self.inner = inner
        self.sent = 0

    def name(self) -> str:  # type: ignore[override]  # an instance's name: the wrapped channel's
        return self.inner.name()

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        self.sent += 1
        await self.inner.send_response(recipient_id, message)

    send_text_message = _counted("send_text_message")
    send_image_url = _counted("send_image_url")
    send_attachment = _counted("send_attachment")
    send_text_with_buttons = _counted("send_text_with_buttons")
    send_quick_replies = _counted("send_quick_replies")
    send_elements = _counted("send_elements")
    send_custom_json = _counted("send_custom_json")

    def __getattr__(self, attribute: str) -> Any:
        """Anything else (a channel's own attributes, e.g. CollectingOutputChannel.messages) is the wrapped one's."""
        return getattr(self.inner, attribute)


def never_silent(on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Callable[[UserMessage], Awaitable[Any]]:
    async def handle(message: UserMessage) -> Any:
        counting = CountingOutputChannel(message.output_channel)
        message.output_channel = counting
        try:
            return await on_new_message(message)
        except ConversationStoreUnavailable:
            # Not answered from a blank history, not kept in memory: the visitor gets the apology and may resend.
            logger.warning("Conversation %s: the conversation database failed; message refused", message.sender_id)
            return None
        except Exception:
            logger.exception("Handling a message of conversation %s failed", message.sender_id)
            raise
        finally:
            if counting.sent == 0:
                logger.warning("Conversation %s: no answer to a message; sending the apology", message.sender_id)
                await counting.inner.send_text_message(message.sender_id, apology())

    return handle
