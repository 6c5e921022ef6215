"""Per-address limits on the web app's public forms: the widget's 👍/👎 (POST /api/feedback) and the console's
sign-in (POST /console/login).

Sign-in is also slowed and locked per account (bot/console/accounts.py); this limit is per client address, so
one address can't try many accounts, nor fill the feedback table. The counts live in this process's memory (the
web app runs once, also in the cluster). Behind a reverse proxy the address comes from X-Forwarded-For when the
proxy is listed in TRUSTED_PROXIES (as `ijm-bot run --instances N` does for its nginx), as for the chat limits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sanic.request import Request

from bot.ratelimit import IPNetwork, Rate, SlidingWindowLimiter, client_ip, parse_networks
from bot.settings import Settings


@dataclass
class WebLimits:
    feedback: SlidingWindowLimiter
    login: SlidingWindowLimiter
    trusted_proxies: tuple[IPNetwork, ...]

    @classmethod
    def from_settings(cls, settings: Settings) -> WebLimits:
        def limiter(pair: tuple[int, int] | None) -> SlidingWindowLimiter:
            return SlidingWindowLimiter(Rate(*pair) if pair else None)

        return cls(
            limiter(settings.feedback_rate_limit_per_ip),
            limiter(settings.login_rate_limit_per_ip),
            parse_networks(settings.trusted_proxies),
        )

    def wait_before(self, limiter: SlidingWindowLimiter, request: Request) -> int | None:
        """None when the request's address may go on (and it is counted), else the whole seconds to wait."""
        address = client_ip(request.ip, request.headers.get("x-forwarded-for"), self.trusted_proxies)
        if address is None or limiter.hit(address):
            return None
        return max(1, math.ceil(limiter.retry_after(address)))
