"""Message rate limits of the public chat: per conversation (sender id) and per client address.

Both channels (REST and socket.io) ask `ChatLimits.admit` before a visitor message reaches Rasa; a refused
message gets the polite `slow_down` reply from assistant.yml and is never seen by Rasa (no tracker event).

Each limit is a sliding window ("at most N messages in any S seconds", `SlidingWindowLimiter`): the times of
the messages admitted in the last S seconds are kept per key, at most N of them. Refused messages are not
counted, so a client that keeps trying is admitted again as soon as its oldest message leaves the window.

Memory is bounded: a key whose messages have all left the window is forgotten, and at most `max_keys` keys
are tracked per limit (beyond that the least recently admitted key is dropped, and with it its count: the
limiter fails open rather than refusing someone it no longer remembers).

The counts live in this process's memory, which is right for one Rasa server. Several Rasa instances behind
a proxy that routes each visitor to one instance (hash routing, needed by socket.io anyway) each keep their own
counts, so a client spread over k instances may send up to k times the limit; a shared store (a Redis-backed
limiter, e.g. a sorted set per key or a token bucket in a Lua script) would be the next step.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bot.settings import Settings

logger = logging.getLogger(__name__)

# How often, at most, the Rasa server's log says how many messages were refused (a flood must not flood the log).
REFUSAL_REPORT_SECONDS = 60.0
# Per limit. A key costs a deque of at most N floats: 10,000 keys with N = 120 stay well under 20 MB.
DEFAULT_MAX_KEYS = 10_000

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Rate:
    """At most `count` messages in any `seconds` seconds."""

    count: int
    seconds: float

    def __post_init__(self) -> None:
        if self.count < 1 or self.seconds <= 0:
            raise ValueError(f"a rate needs a positive count and window, got {self.count}/{self.seconds}")

    def __str__(self) -> str:
        return f"{self.count}/{self.seconds:g}"


class SlidingWindowLimiter:
    """Admits at most `rate.count` hits per key in any `rate.seconds` seconds; `rate=None` admits everything."""

    def __init__(
        self,
        rate: Rate | None,
        max_keys: int = DEFAULT_MAX_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_keys < 1:
            raise ValueError("max_keys must be at least 1")
        self.rate = rate
        self.max_keys = max_keys
        self.clock = clock
        # key -> times of its admitted hits, oldest first; keys ordered by their latest admitted hit.
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self.rate is not None

    def __len__(self) -> int:
        """How many keys are tracked now."""
        return len(self._hits)

    def _forget_idle(self, now: float) -> None:
        """Drop keys with no hit in the window (keys are in order of their latest hit: only the front is looked at)."""
        assert self.rate is not None
        horizon = now - self.rate.seconds
        while self._hits:
            key, times = next(iter(self._hits.items()))
            if times and times[-1] > horizon:
                break
            del self._hits[key]

    def _recent(self, key: str, now: float) -> deque[float] | None:
        assert self.rate is not None
        times = self._hits.get(key)
        if times is not None:
            horizon = now - self.rate.seconds
            while times and times[0] <= horizon:
                times.popleft()
        return times

    def allows(self, key: str) -> bool:
        """Would a hit for `key` be admitted now? (Counts nothing.)"""
        if self.rate is None:
            return True
        times = self._recent(key, self.clock())
        return not times or len(times) < self.rate.count

    def record(self, key: str) -> None:
        """Count a hit for `key` now (whether or not it was allowed: callers check `allows` first)."""
        if self.rate is None:
            return
        now = self.clock()
        self._forget_idle(now)
        times = self._recent(key, now)
        if times is None:
            times = self._hits[key] = deque(maxlen=self.rate.count)
        times.append(now)
        self._hits.move_to_end(key)
        while len(self._hits) > self.max_keys:
            self._hits.popitem(last=False)

    def hit(self, key: str) -> bool:
        """Admit and count a hit for `key`, or refuse it (and count nothing)."""
        if not self.allows(key):
            return False
        self.record(key)
        return True

    def retry_after(self, key: str) -> float:
        """Seconds until `key` may send again (0 when it may now)."""
        if self.rate is None:
            return 0.0
        now = self.clock()
        times = self._recent(key, now)
        if not times or len(times) < self.rate.count:
            return 0.0
        return max(0.0, times[0] + self.rate.seconds - now)

    def reset(self) -> None:
        self._hits.clear()


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


def parse_networks(entries: Iterable[str]) -> tuple[IPNetwork, ...]:
    """Addresses or networks ("10.0.0.1", "10.0.0.0/8", "::1"); raises ValueError on anything else."""
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip())


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An IP address as a proxy writes it: bare, "[v6]", "[v6]:port" or "v4:port"; None for anything else."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address, proxies: tuple[IPNetwork, ...]) -> bool:
    return any(address.version == network.version and address in network for network in proxies)


_warned_untrusted_forwarding = False


def client_ip(peer: str | None, forwarded_for: str | None, trusted_proxies: tuple[IPNetwork, ...]) -> str | None:
    """The visitor's address: the socket peer, or, when the peer is a trusted proxy, from X-Forwarded-For.

    X-Forwarded-For is read from the right (each proxy appends the address it saw), skipping trusted proxies;
    the first address that is not one is the client. Anything a client wrote further left is never believed.
    If an entry is not an address, the last trusted hop is used. Without trusted proxies the header is ignored.
    """
    global _warned_untrusted_forwarding
    peer_address = _address(peer) if peer else None
    if peer_address is None:
        return peer or None
    if not forwarded_for:
        return str(peer_address)
    if not trusted_proxies or not _trusted(peer_address, trusted_proxies):
        if not _warned_untrusted_forwarding:
            _warned_untrusted_forwarding = True
            logger.warning(
                "A chat request from %s carries X-Forwarded-For, which is ignored because %s is not in "
                "TRUSTED_PROXIES: behind a reverse proxy, list it there, or every visitor shares its address "
                "and its per-address rate limit",
                peer_address,
                peer_address,
            )
        return str(peer_address)
    client = peer_address
    for entry in reversed(forwarded_for.split(",")):
        address = _address(entry)
        if address is None:
            break
        client = address
        if not _trusted(address, trusted_proxies):
            break
    return str(client)
