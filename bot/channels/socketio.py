"""Rasa's socket.io channel (what the web widget speaks), with each visitor message checked first.

A message that cannot be used (not text, empty, too long) gets a polite bot reply instead of an exception
in the server log and silence in the widget. Rasa opens the socket.io server to every origin
(`cors_allowed_origins=[]`); here only pages from ALLOWED_ORIGINS (default: the web app's own) may connect.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput as RasaSocketIOInput
from sanic import Blueprint

from bot.channels.never_silent import never_silent
from bot.channels.validation import InvalidMessage, clean_text
from bot.content.assistant import assistant_content
from bot.settings import Settings


class SocketIOInput(RasaSocketIOInput):
    def __init__(self, *args: Any, max_message_chars: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = Settings.from_env()
        self.max_message_chars = max_message_chars or settings.max_message_chars
        self.allowed_origins = list(settings.allowed_origins)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(never_silent(on_new_message))
        sio = self.sio
        # Checked by engine.io on every request that carries an Origin header (browsers always send one).
        sio.eio.cors_allowed_origins = self.allowed_origins
        namespace = self.namespace or "/"
        rasa_handler = sio.handlers[namespace][self.user_message_evt]

        async def handle_checked_message(sid: str, data: Any) -> None:
            if not isinstance(data, dict):
                data = {}
            try:
                text = clean_text(data.get("message"), self.max_message_chars)
            except InvalidMessage as error:
                reply = assistant_content().message(error.reply_key or "empty_message")
                await sio.emit(self.bot_message_evt, {"text": reply}, room=sid, namespace=namespace)
                return
            await rasa_handler(sid, {**data, "message": text})

        sio.on(self.user_message_evt, handle_checked_message, namespace=namespace)
        return blueprint
