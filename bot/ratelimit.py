"""Sliding-window rate limits per key, and the client's address behind trusted proxies.

Used by the chat channels (bot/channels/limits.py) and the web app's public forms (bot/web/limits.py). Kept
apart from bot/channels, whose package imports Rasa: the web app must not load Rasa and TensorFlow.

Each limit is a sliding window ("at most N hits in any S seconds", `SlidingWindowLimiter`): the times of the
hits admitted in the last S seconds are kept per key, at most N of them. Refused hits are not counted, so a
client that keeps trying is admitted again as soon as its oldest hit leaves the window. Memory is bounded: a
key whose hits have all left the window is forgotten, and at most `max_keys` keys are tracked per limit (beyond
that the least recently admitted key is dropped, and with it its count: the limiter fails open rather than
refusing someone it no longer remembers).
"""

from __future__ import annotations

import ipaddress
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

logger = logging.getLogger(__name__)

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
                "A request from %s carries X-Forwarded-For, which is ignored because %s is not in "
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
