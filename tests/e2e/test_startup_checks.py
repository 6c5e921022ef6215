"""`ijm-bot run` refuses to start rather than run without its database."""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from tests.e2e.harness import IJM_BOT, free_port

pytestmark = pytest.mark.e2e


def test_an_unreachable_database_stops_the_start_with_a_clear_error():
    env = dict(
        os.environ,
        DATABASE_URL=f"postgresql://ijm:hunter2@127.0.0.1:{free_port()}/ijm",
        RASA_PORT=str(free_port()),
        ACTION_PORT=str(free_port()),
        WEB_PORT=str(free_port()),
    )
    started = time.monotonic()
    result = subprocess.run([IJM_BOT, "run"], env=env, capture_output=True, text=True, timeout=120)

    assert result.returncode == 2
    assert "not starting: cannot reach the database at postgresql://ijm:***@127.0.0.1" in result.stderr
    assert "hunter2" not in result.stderr + result.stdout
    assert "Rasa server" not in result.stdout  # nothing was started
    assert time.monotonic() - started < 60


def test_a_bad_setting_is_named():
    env = dict(os.environ, RASA_PORT="five thousand")
    result = subprocess.run([IJM_BOT, "run"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "RASA_PORT must be a whole number" in result.stderr
