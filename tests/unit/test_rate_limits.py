"""The chat's rate limits (bot/channels/limits.py) and their settings, with a fake clock."""

from __future__ import annotations

import logging

import pytest

from bot.channels.limits import ChatLimits
from bot.ratelimit import Rate, SlidingWindowLimiter, client_ip, parse_networks
from bot.settings import Settings, SettingsError


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_n_hits_in_the_window_are_admitted_and_the_next_is_refused(clock):
    limiter = SlidingWindowLimiter(Rate(3, 60), clock=clock)
    assert [limiter.hit("a") for _ in range(4)] == [True, True, True, False]
    assert limiter.hit("b") is True  # another key has its own count


def test_the_window_slides_each_hit_frees_its_place_when_it_leaves(clock):
    limiter = SlidingWindowLimiter(Rate(3, 60), clock=clock)
    limiter.hit("a")  # t = 0
    clock.advance(20)
    limiter.hit("a")  # t = 20
    limiter.hit("a")  # t = 20
    clock.advance(39.9)  # t = 59.9: all three still in the window
    assert limiter.hit("a") is False
    assert limiter.retry_after("a") == pytest.approx(0.1)
    clock.advance(0.1)  # t = 60: the first has left, the two at t = 20 have not
    assert limiter.retry_after("a") == 0
    assert limiter.hit("a") is True
    assert limiter.hit("a") is False
    assert limiter.retry_after("a") == pytest.approx(20)


def test_refused_hits_are_not_counted(clock):
    limiter = SlidingWindowLimiter(Rate(2, 10), clock=clock)
    limiter.hit("a")
    limiter.hit("a")
    for _ in range(50):
        clock.advance(0.1)
        assert limiter.hit("a") is False
    clock.advance(5)  # 10 s after the two admitted ones, however often it tried meanwhile
    assert limiter.hit("a") is True


def test_reset_forgets_every_count(clock):
    limiter = SlidingWindowLimiter(Rate(1, 60), clock=clock)
    limiter.hit("a")
    assert limiter.hit("a") is False
    limiter.reset()
    assert len(limiter) == 0
    assert limiter.hit("a") is True


def test_idle_keys_are_forgotten(clock):
    limiter = SlidingWindowLimiter(Rate(5, 60), clock=clock)
    for n in range(100):
        limiter.hit(f"visitor-{n}")
    assert len(limiter) == 100
    clock.advance(61)
    limiter.hit("late")
    assert len(limiter) == 1


def test_an_idle_key_emptied_by_a_check_is_forgotten_too(clock):
    limiter = SlidingWindowLimiter(Rate(5, 60), clock=clock)
    limiter.hit("a")
    clock.advance(61)
    assert limiter.allows("a")  # empties a's list of times without removing it
    limiter.hit("b")
    assert len(limiter) == 1


def test_the_number_of_tracked_keys_is_capped_dropping_the_least_recent(clock):
    limiter = SlidingWindowLimiter(Rate(1, 60), max_keys=3, clock=clock)
    for key in ("a", "b", "c", "d"):
        clock.advance(1)
        assert limiter.hit(key)
    assert len(limiter) == 3
    assert limiter.hit("a") is True  # forgotten: fails open
    assert limiter.hit("c") is False and limiter.hit("d") is False  # the recent ones still counted
    assert len(limiter) == 3


def test_memory_stays_bounded_under_a_flood_of_new_keys(clock):
    limiter = SlidingWindowLimiter(Rate(20, 60), max_keys=1000, clock=clock)
    for n in range(20_000):
        limiter.hit(f"flood-{n}")
    assert len(limiter) == 1000


def test_a_disabled_limiter_admits_everything_and_tracks_nothing(clock):
    limiter = SlidingWindowLimiter(None, clock=clock)
    assert not limiter.enabled
    assert all(limiter.hit("a") for _ in range(10_000))
    assert len(limiter) == 0
    assert limiter.retry_after("a") == 0


def test_a_rate_needs_a_positive_count_and_window():
    with pytest.raises(ValueError):
        Rate(0, 60)
    with pytest.raises(ValueError):
        Rate(5, 0)
    assert str(Rate(20, 60)) == "20/60"


def test_chat_limits_count_a_message_only_when_both_limits_admit_it(clock):
    limits = ChatLimits(Rate(2, 60), Rate(3, 60), clock=clock)
    assert limits.admit("s1", "192.0.2.1") is None
    assert limits.admit("s1", "192.0.2.1") is None
    refusal = limits.admit("s1", "192.0.2.1")
    assert refusal is not None and refusal.limit == "session" and refusal.retry_after_header == "60"
    # The refused message did not use the address's third place.
    assert limits.admit("s2", "192.0.2.1") is None
    refusal = limits.admit("s3", "192.0.2.1")
    assert refusal is not None and refusal.limit == "ip"
    # s3's refused message did not count against s3.
    assert limits.admit("s3", "192.0.2.2") is None
    assert limits.admit("s3", "192.0.2.2") is None
    # An unknown address skips the per-address limit.
    assert limits.admit("s4", None) is None


def test_chat_limits_with_both_off_admit_everything(clock):
    limits = ChatLimits(None, None, clock=clock)
    assert all(limits.admit("s", "192.0.2.1") is None for _ in range(1000))


def test_refusals_are_reported_in_the_log_at_most_once_a_minute(clock, caplog):
    limits = ChatLimits(Rate(1, 600), None, clock=clock)
    limits.admit("s", None)
    with caplog.at_level(logging.WARNING, logger="bot.channels.limits"):
        for _ in range(100):
            clock.advance(0.1)
            limits.admit("s", None)
        clock.advance(60)
        limits.admit("s", None)
    reports = [r.getMessage() for r in caplog.records if "rate limit" in r.getMessage()]
    assert len(reports) == 2
    assert reports[0].startswith("Chat rate limit: 1 message(s)")
    assert reports[1].startswith("Chat rate limit: 100 message(s)")


PROXIES = parse_networks(["10.0.0.0/8", "::1"])


@pytest.mark.parametrize(
    ("peer", "forwarded", "proxies", "expected"),
    [
        ("203.0.113.9", None, (), "203.0.113.9"),
        # Without trusted proxies, or from a peer that is not one, the header is a client's claim: ignored.
        ("203.0.113.9", "198.51.100.1", (), "203.0.113.9"),
        ("203.0.113.9", "198.51.100.1", PROXIES, "203.0.113.9"),
        # From a trusted proxy: the rightmost address that is not a trusted proxy.
        ("10.0.0.2", "198.51.100.1", PROXIES, "198.51.100.1"),
        ("10.0.0.2", "6.6.6.6, 198.51.100.1, 10.0.0.7", PROXIES, "198.51.100.1"),
        ("::1", "2001:db8::5", PROXIES, "2001:db8::5"),
        ("10.0.0.2", "[2001:db8::5]:4711", PROXIES, "2001:db8::5"),
        ("10.0.0.2", "198.51.100.1:4711", PROXIES, "198.51.100.1"),
        # Nothing but proxies: the leftmost; garbage stops the walk at the last good hop.
        ("10.0.0.2", "10.0.0.3", PROXIES, "10.0.0.3"),
        ("10.0.0.2", "198.51.100.1, not-an-ip", PROXIES, "10.0.0.2"),
        ("10.0.0.2", "", PROXIES, "10.0.0.2"),
    ],
)
def test_the_client_address_believes_x_forwarded_for_only_from_trusted_proxies(peer, forwarded, proxies, expected):
    assert client_ip(peer, forwarded, proxies) == expected


def test_the_limits_come_from_the_settings_with_defaults_a_visitor_never_reaches():
    defaults = Settings.from_env({})
    assert defaults.rate_limit_per_session == (20, 60)
    assert defaults.rate_limit_per_ip == (120, 60)
    assert defaults.trusted_proxies == ()
    limits = ChatLimits.from_settings(defaults)
    assert limits.session.rate == Rate(20, 60) and limits.ip.rate == Rate(120, 60)

    custom = Settings.from_env(
        {"RATE_LIMIT_PER_SESSION": " 5/10 ", "RATE_LIMIT_PER_IP": "off", "TRUSTED_PROXIES": "10.0.0.1, fd00::/8"}
    )
    assert custom.rate_limit_per_session == (5, 10)
    assert custom.rate_limit_per_ip is None
    assert custom.trusted_proxies == ("10.0.0.1", "fd00::/8")
    limits = ChatLimits.from_settings(custom)
    assert not limits.ip.enabled
    assert limits.client_ip("10.0.0.1", "198.51.100.1") == "198.51.100.1"
    assert Settings.from_env({"RATE_LIMIT_PER_SESSION": "0"}).rate_limit_per_session is None


@pytest.mark.parametrize("value", ["20", "20/", "/60", "0/60", "20/0", "-1/60", "twenty/60", "20/60/5"])
def test_a_rate_setting_that_cannot_be_used_is_refused(value):
    with pytest.raises(SettingsError, match="RATE_LIMIT_PER_SESSION"):
        Settings.from_env({"RATE_LIMIT_PER_SESSION": value})


def test_trusted_proxies_must_be_addresses_or_networks():
    with pytest.raises(SettingsError, match="TRUSTED_PROXIES"):
        Settings.from_env({"TRUSTED_PROXIES": "10.0.0.1, proxy.example"})


def test_the_message_length_cap_is_a_setting():
    assert Settings.from_env({}).max_message_chars == 2000
    assert Settings.from_env({"MAX_MESSAGE_CHARS": "500"}).max_message_chars == 500
    with pytest.raises(SettingsError, match="MAX_MESSAGE_CHARS"):
        Settings.from_env({"MAX_MESSAGE_CHARS": "0"})
