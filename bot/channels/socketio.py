"""Rasa's socket.io channel (what the web widget speaks), with each visitor message checked first.

A message that cannot be used (not text, empty, too long) gets a polite bot reply instead of an exception
in the server log and silence in the widget; so does a message over the rate limits (bot/channels/limits.py:
per session id and per client address, shared with the REST channel), which never reaches Rasa. A message
whose session id is not a usable conversation id is ignored with a warning, as Rasa ignores one without
(a session_request with such an id gets a new one), and metadata that is not a JSON object is left out.
Rasa opens the socket.io server to every origin (`cors_allowed_origins=[]`); here only pages from
ALLOWED_ORIGINS (default: the web app's own) may connect.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput as RasaSocketIOInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.limits import ChatLimits, shared_chat_limits
from bot.channels.never_silent import never_silent
from bot.channels.validation import InvalidMessage, clean_sender, clean_text
from bot.content.assistant import assistant_content
from bot.settings import Settings

logger = logging.getLogger(__name__)


def _metadata(raw: Any) -> dict[str, Any] | None:
    """The message's metadata when it is a JSON object (or a string holding one, as Rasa accepts), else None."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except (ValueError, RecursionError):
            return None
    return raw if isinstance(raw, dict) else None


class SocketIOInput(RasaSocketIOInput):
    def __init__(
        self, *args: Any, max_message_chars: int | None = None, limits: ChatLimits | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        settings = Settings.from_env()
        self.max_message_chars = max_message_chars or settings.max_message_chars
        self.allowed_origins = list(settings.allowed_origins)
        self.limits = limits or shared_chat_limits()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(never_silent(on_new_message))
        sio = self.sio
        # Checked by engine.io on every request that carries an Origin header (browsers always send one).
        sio.eio.cors_allowed_origins = self.allowed_origins
        namespace = self.namespace or "/"
        rasa_handler = sio.handlers[namespace][self.user_message_evt]
        rasa_session_request = sio.handlers[namespace]["session_request"]

        async def reply(sid: str, key: str) -> None:
            text = assistant_content().message(key)
            await sio.emit(self.bot_message_evt, {"text": text}, room=sid, namespace=namespace)

        def client_ip(sid: str) -> str | None:
            """The address of the connection's opening request (the socket peer, or per X-Forwarded-For)."""
            environ = sio.get_environ(sid, namespace=namespace) or {}
            request = environ.get("sanic.request")
            peer = request.ip if request is not None else environ.get("REMOTE_ADDR")
            return self.limits.client_ip(peer, environ.get("HTTP_X_FORWARDED_FOR"))

        # Clients may send an event with any number of arguments: only the first is read.
        async def handle_checked_message(sid: str, data: Any = None, *_: Any) -> None:
            if not isinstance(data, dict):
                data = {}
            try:
                text = clean_text(data.get("message"), self.max_message_chars)
            except InvalidMessage as error:
                await reply(sid, error.reply_key or "empty_message")
                return
            checked: dict[str, Any] = {"message": text}
            if self.session_persistence:
                # The session id names the room the replies go to (joined on session_request): used as it came.
                session_id = data.get("session_id")
                try:
                    usable = clean_sender(session_id) == session_id
                except InvalidMessage:
                    usable = False
                if not usable:
                    logger.warning("socket.io message without a usable session_id ignored (connection %s)", sid)
                    return
                checked["session_id"] = session_id
            else:
                session_id = sid
            metadata = _metadata(data.get(self.metadata_key))
            if metadata is not None:
                checked[self.metadata_key] = metadata
            if self.limits.admit(session_id, client_ip(sid)) is not None:
                await reply(sid, "slow_down")
                return
            await rasa_handler(sid, checked)

        async def handle_session_request(sid: str, data: Any = None, *_: Any) -> None:
            """Rasa's, given only a usable session id: anything else (not a string, too long) asks for a new one."""
            session_id = data.get("session_id") if isinstance(data, dict) else None
            try:
                usable = session_id is not None and clean_sender(session_id) == session_id
            except InvalidMessage:
                usable = False
            await rasa_session_request(sid, {"session_id": session_id} if usable else {})

        engineio_handle_request = sio.eio.handle_request

        async def handle_engineio_request(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse | None:
            # python-engineio 4.7 answers a POST without a session id with a 500 (it adds None to a string).
            if request.method == "POST" and not request.args.get("sid"):
                return response.text("Invalid session", status=400)
            return await engineio_handle_request(request, *args, **kwargs)

        # A websocket request is answered by the upgrade, and the handler then returns nothing: Sanic logs an error
        # for every closed websocket ("Invalid response type None") unless the handler is marked as a websocket one.
        handle_engineio_request.is_websocket = True  # type: ignore[attr-defined]
        # Read by SocketBlueprint.register (sio.attach), after this method returns.
        sio.eio.handle_request = handle_engineio_request

        sio.on(self.user_message_evt, handle_checked_message, namespace=namespace)
        sio.on("session_request", handle_session_request, namespace=namespace)
        return blueprint
