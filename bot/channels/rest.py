"""Rasa's REST channel (`POST /webhooks/rest/webhook`), refusing malformed input with a clear 4xx.

Rasa's own channel answers a JSON array, a body without `message` or without `sender` with a 500 or an
empty conversation id; here each gets a JSON error naming the problem, and nothing reaches the model.

A message over the rate limits (bot/channels/limits.py) gets a 429 whose body has the shape of Rasa's own
replies, one message with the polite `slow_down` text, so a client shows it; it does not reach Rasa either.

Behind nginx (`ijm-bot run --instances N`, bot/cluster.py) clients should also put the sender in the URL,
`POST /webhooks/rest/webhook?sender=<the body's sender>` (or an `X-Conversation-Id: <sender>` header): nginx
cannot read the JSON body, and hashes on that value to keep every message of a conversation on one Rasa
server. A message without it is placed by the client's address, which keeps one client's conversations
together but spreads nothing else reliably.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput as RasaRestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.limits import ChatLimits, shared_chat_limits
from bot.channels.never_silent import never_silent
from bot.channels.validation import ChatMessage, InvalidMessage, parse_rest_body
from bot.content.assistant import assistant_content
from bot.settings import Settings


class RestInput(RasaRestInput):
    def __init__(self, max_message_chars: int | None = None, limits: ChatLimits | None = None) -> None:
        self.max_message_chars = max_message_chars or Settings.from_env().max_message_chars
        self.limits = limits or shared_chat_limits()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        blueprint = super().blueprint(never_silent(on_new_message))

        @blueprint.middleware("request")
        async def check_message(request: Request) -> HTTPResponse | None:
            if request.method != "POST":
                return None
            try:
                message = parse_rest_body(request.body, self.max_message_chars)
            except InvalidMessage as error:
                return response.json({"error": error.code, "detail": error.detail}, status=error.status)
            forwarded = ",".join(request.headers.getall("x-forwarded-for", []))
            refusal = self.limits.admit(message.sender, self.limits.client_ip(request.ip, forwarded))
            if refusal is not None:
                return response.json(
                    [{"recipient_id": message.sender, "text": assistant_content().message("slow_down")}],
                    status=429,
                    headers={"Retry-After": refusal.retry_after_header},
                )
            request.ctx.chat_message = message
            return None

        return blueprint

    @staticmethod
    def _message(request: Request) -> ChatMessage:
        return request.ctx.chat_message

    async def _extract_sender(self, req: Request) -> str | None:
        return self._message(req).sender

    def _extract_message(self, req: Request) -> str | None:
        return self._message(req).text

    def _extract_input_channel(self, req: Request) -> str:
        # A client does not get to claim another channel's name.
        return self.name()

    def get_metadata(self, request: Request) -> dict[str, Any] | None:
        return self._message(request).metadata
