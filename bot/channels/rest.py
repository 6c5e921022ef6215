"""Rasa's REST channel (`POST /webhooks/rest/webhook`), refusing malformed input with a clear 4xx.

Rasa's own channel answers a JSON array, a body without `message` or without `sender` with a 500 or an
empty conversation id; here each gets a JSON error naming the problem, and nothing reaches the model.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput as RasaRestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.never_silent import never_silent
from bot.channels.validation import ChatMessage, InvalidMessage, parse_rest_body
from bot.settings import Settings


class RestInput(RasaRestInput):
    def __init__(self, max_message_chars: int | None = None) -> None:
        self.max_message_chars = max_message_chars or Settings.from_env().max_message_chars

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        blueprint = super().blueprint(never_silent(on_new_message))

        @blueprint.middleware("request")
        async def check_message(request: Request) -> HTTPResponse | None:
            if request.method != "POST":
                return None
            try:
                request.ctx.chat_message = parse_rest_body(request.body, self.max_message_chars)
            except InvalidMessage as error:
                return response.json({"error": error.code, "detail": error.detail}, status=error.status)
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
