"""Message rate limits of the public chat: per conversation (sender id) and per client address.

Both channels (REST and socket.io) ask `ChatLimits.admit` before a visitor message reaches Rasa; a refused
message gets the polite `slow_down` reply from assistant.yml and is never seen by Rasa (no tracker event).
Each limit is a sliding window (bot/ratelimit.py): "at most N messages in any S seconds".

The counts live in this process's memory, which is right for one Rasa server. Several Rasa instances behind
a proxy that routes each visitor to one instance (hash routing, needed by socket.io anyway) each keep their own
counts, so a client spread over k instances may send up to k times the limit; a shared store (a Redis-backed
limiter, e.g. a sorted set per key or a token bucket in a Lua script) would be the next step.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.ratelimit import (
    DEFAULT_MAX_KEYS,
    IPNetwork,
    Rate,
    SlidingWindowLimiter,
    client_ip,
    parse_networks,
)
from bot.settings import Settings

logger = logging.getLogger(__name__)

# How often, at most, the Rasa server's log says how many messages were refused (a flood must not flood the log).
REFUSAL_REPORT_SECONDS = 60.0


@dataclass(frozen=True)
class Refusal:
    """Why a message was refused: which limit ("session" or "ip"), and when the client may try again."""

    limit: str
    retry_after: float

    @property
    def retry_after_header(self) -> str:
        """The Retry-After header's value: whole seconds, at least 1."""
        return str(max(1, math.ceil(self.retry_after)))


class ChatLimits:
    """The per-session and per-address limits, checked together: a message is counted only when both admit it.

    `client_ip` is checked by the per-address limit; None (the address is unknown) skips that limit.
    """

    def __init__(
        self,
        per_session: Rate | None,
        per_ip: Rate | None,
        trusted_proxies: tuple[IPNetwork, ...] = (),
        max_keys: int = DEFAULT_MAX_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.session = SlidingWindowLimiter(per_session, max_keys, clock)
        self.ip = SlidingWindowLimiter(per_ip, max_keys, clock)
        self.trusted_proxies = trusted_proxies
        self.clock = clock
        self.refused = 0  # since the last report in the log
        self._last_report: float | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> ChatLimits:
        def rate(pair: tuple[int, int] | None) -> Rate | None:
            return Rate(*pair) if pair else None

        return cls(
            rate(settings.rate_limit_per_session),
            rate(settings.rate_limit_per_ip),
            parse_networks(settings.trusted_proxies),
        )

    def client_ip(self, peer: str | None, forwarded_for: str | None) -> str | None:
        return client_ip(peer, forwarded_for, self.trusted_proxies)

    def admit(self, session_id: str, client_ip: str | None) -> Refusal | None:
        """None when the message may go on to Rasa (and it is counted), else the Refusal (nothing counted)."""
        refusal = None
        if not self.session.allows(session_id):
            refusal = Refusal("session", self.session.retry_after(session_id))
        elif client_ip is not None and not self.ip.allows(client_ip):
            refusal = Refusal("ip", self.ip.retry_after(client_ip))
        if refusal is not None:
            self._report(refusal, session_id, client_ip)
            return refusal
        self.session.record(session_id)
        if client_ip is not None:
            self.ip.record(client_ip)
        return None

    def _report(self, refusal: Refusal, session_id: str, client_ip: str | None) -> None:
        self.refused += 1
        now = self.clock()
        if self._last_report is not None and now - self._last_report < REFUSAL_REPORT_SECONDS:
            return
        logger.warning(
            "Chat rate limit: %d message(s) refused since the last report; latest by the %s limit "
            "(conversation %.80s, address %s)",
            self.refused,
            refusal.limit,
            session_id,
            client_ip,
        )
        self.refused = 0
        self._last_report = now


_shared: ChatLimits | None = None


def shared_chat_limits() -> ChatLimits:
    """The Rasa server's one ChatLimits, from the settings: both channels count against the same limits."""
    global _shared
    if _shared is None:
        _shared = ChatLimits.from_settings(Settings.from_env())
    return _shared
