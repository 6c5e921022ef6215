"""Per-address limits on the web app's public forms (bot/web/limits.py), on the real web app: the widget's
feedback and the console's sign-in refuse an address over its limit with 429, store nothing, and leave other
addresses alone (behind a trusted proxy, X-Forwarded-For names the address)."""

from __future__ import annotations

import re

import pytest
import requests
import sqlalchemy as sa

from bot.console.accounts import add_staff
from bot.settings import Settings, SettingsError
from tests.e2e.harness import running_web_app
from tests.unit.rasa_events import add_events, user
from tests.unit.supporters_db import migrated_database

PASSWORD = "a long enough password"


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("limits")
    with migrated_database("sqlite", workdir) as database_url:
        engine = sa.create_engine(database_url)
        add_staff(engine, "amira", "admin", PASSWORD)
        add_events(engine, "rated", [user("hi", "greet")])
        limits = {"FEEDBACK_RATE_LIMIT_PER_IP": "3/600", "LOGIN_RATE_LIMIT_PER_IP": "2/600"}
        with running_web_app(workdir, database_url, TRUSTED_PROXIES="127.0.0.1", **limits) as url:
            yield url, engine
        engine.dispose()


def feedback_rows(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(sa.text("SELECT COUNT(*) FROM feedback")).scalar_one()


def rate(url: str, visitor: str) -> requests.Response:
    return requests.post(
        f"{url}/api/feedback",
        json={"conversation_id": "rated", "rating": "up", "message_text": "Hello!"},
        headers={"X-Forwarded-For": visitor},
        timeout=10,
    )


def test_feedback_over_the_limit_of_an_address_is_refused_and_not_stored(web):
    url, engine = web
    assert [rate(url, "198.51.100.7").status_code for _ in range(3)] == [201, 201, 201]
    refused = rate(url, "198.51.100.7")
    assert refused.status_code == 429 and refused.json()["error"] == "rate_limited"
    assert 1 <= int(refused.headers["retry-after"]) <= 600
    assert feedback_rows(engine) == 3
    assert rate(url, "198.51.100.8").status_code == 201  # another visitor is not slowed by the first


def sign_in(url: str, address: str, password: str) -> requests.Response:
    browser = requests.Session()
    form = browser.get(f"{url}/console/login", timeout=10)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    return browser.post(
        f"{url}/console/login",
        data={"csrf_token": csrf, "name": "amira", "password": password},
        headers={"X-Forwarded-For": address},
        allow_redirects=False,
        timeout=30,
    )


def test_sign_in_attempts_over_the_limit_of_an_address_are_refused_even_with_the_right_password(web):
    url, _ = web
    assert [sign_in(url, "203.0.113.5", "wrong password!!").status_code for _ in range(2)] == [401, 401]
    refused = sign_in(url, "203.0.113.5", PASSWORD)
    assert refused.status_code == 429 and "Too many sign-in attempts from your network" in refused.text
    assert "retry-after" in refused.headers
    assert sign_in(url, "203.0.113.6", PASSWORD).status_code == 303  # the account itself is not locked


def test_the_limits_are_settings():
    settings = Settings.from_env({"FEEDBACK_RATE_LIMIT_PER_IP": "off", "LOGIN_RATE_LIMIT_PER_IP": "5/60"})
    assert (settings.feedback_rate_limit_per_ip, settings.login_rate_limit_per_ip) == (None, (5, 60))
    defaults = Settings.from_env({})
    assert (defaults.feedback_rate_limit_per_ip, defaults.login_rate_limit_per_ip) == ((60, 60), (20, 600))
    with pytest.raises(SettingsError, match="LOGIN_RATE_LIMIT_PER_IP"):
        Settings.from_env({"LOGIN_RATE_LIMIT_PER_IP": "lots"})
