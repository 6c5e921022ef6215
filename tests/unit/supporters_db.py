"""Helpers for the tests of the supporters' records and the outbox: migrated databases (SQLite, and
PostgreSQL in a throw-away schema when a server runs on 127.0.0.1:5432), free ports."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.ports import free_port as free_port  # for the tests that import it from here
from bot.storage.migrate import upgrade

POSTGRES_SERVER = "postgresql://postgres@127.0.0.1:5432/test"


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ijm.db'}"


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A URL whose tables all land in a fresh schema, dropped afterwards; skips when no server answers (fails
    instead when IJM_REQUIRE_POSTGRES is set, as `make test` does)."""
    admin = sa.create_engine(POSTGRES_SERVER, connect_args={"connect_timeout": 3})
    schema = f"t_{uuid.uuid4().hex[:12]}"
    try:
        with admin.begin() as connection:
            connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.OperationalError as error:
        admin.dispose()
        reason = f"no PostgreSQL at {POSTGRES_SERVER}: {str(error.orig).strip().splitlines()[0]}"
        if os.environ.get("IJM_REQUIRE_POSTGRES"):  # set by `make test`: the PostgreSQL half must run, not vanish
            pytest.fail(reason + " (IJM_REQUIRE_POSTGRES is set)")
        pytest.skip(reason)
    try:
        yield f"{POSTGRES_SERVER}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def migrated_database(kind: str, tmp_path: Path) -> Iterator[str]:
    """A database of `kind` ("sqlite" or "postgresql") with every migration applied; yields its URL."""
    if kind == "sqlite":
        url = sqlite_url(tmp_path)
        upgrade(url)
        yield url
        return
    with postgres_schema() as url:
        upgrade(url)
        yield url


@contextmanager
def empty_database(kind: str, tmp_path: Path) -> Iterator[str]:
    """A database of `kind` ("sqlite" or "postgresql") with nothing in it yet (for `ijm-bot migrate`); yields its
    URL. Engines that `engine_for` made for it are disposed of before the PostgreSQL schema is dropped."""
    if kind == "sqlite":
        yield sqlite_url(tmp_path)
        return
    from bot.supporters.records import engine_for

    with postgres_schema() as url:
        try:
            yield url
        finally:
            engine_for(url).dispose()
