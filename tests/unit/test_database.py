from __future__ import annotations

import socket

import pytest

from bot.storage.app_db import create_engine
from bot.storage.database import (
    DatabaseUnreachable,
    check_database,
    display_url,
    resolve_database_url,
    sqlite_engine_options,
)
from bot.storage.tracker_store import ResilientSQLTrackerStore


def test_a_relative_sqlite_path_is_anchored_at_the_project(tmp_path):
    assert resolve_database_url("sqlite:///var/ijm.db", tmp_path) == f"sqlite:///{tmp_path}/var/ijm.db"
    assert resolve_database_url("sqlite:////abs/ijm.db", tmp_path) == "sqlite:////abs/ijm.db"
    assert resolve_database_url("postgresql://u:p@h/db", tmp_path) == "postgresql://u:p@h/db"


def test_the_sqlite_file_and_its_folder_are_created(tmp_path):
    url = f"sqlite:///{tmp_path}/new/folder/ijm.db"
    check_database(url)
    assert (tmp_path / "new" / "folder" / "ijm.db").exists()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_server_is_reported_without_the_password():
    url = f"postgresql://ijm:secret@127.0.0.1:{_closed_port()}/ijm"
    with pytest.raises(DatabaseUnreachable) as caught:
        check_database(url)
    assert "cannot reach the database" in str(caught.value)
    assert "secret" not in str(caught.value)
    assert "***" in display_url(url)


def test_a_malformed_url_is_named():
    with pytest.raises(DatabaseUnreachable, match="not a valid database URL"):
        check_database("not a url")


def _pragmas_and_connection(engine) -> tuple[str, int, bool]:
    """journal mode, synchronous level, and whether this connection is one used before (it has our temp table)."""
    with engine.connect() as connection:
        journal = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
        synchronous = connection.exec_driver_sql("PRAGMA synchronous").scalar()
        seen = connection.exec_driver_sql("SELECT count(*) FROM sqlite_temp_master WHERE name = 'mark'").scalar()
        connection.exec_driver_sql("CREATE TEMP TABLE IF NOT EXISTS mark (x)")
        return journal, synchronous, bool(seen)


@pytest.mark.parametrize("make_engine", ["app", "tracker store"])
def test_a_sqlite_file_is_used_in_wal_mode_through_kept_connections(tmp_path, make_engine):
    """issue #8: one new connection per query and a rollback journal were a third of the Rasa server's time."""
    url = f"sqlite:///{tmp_path}/ijm.db"
    # (the tracker store gets DATABASE_URL from endpoints.yml as its host)
    engine = create_engine(url) if make_engine == "app" else ResilientSQLTrackerStore(domain=None, host=url).engine
    try:
        first = _pragmas_and_connection(engine)
        second = _pragmas_and_connection(engine)
    finally:
        engine.dispose()
    assert first == ("wal", 1, False)  # 1: NORMAL
    assert second == ("wal", 1, True)  # the same connection again, kept in the pool


def test_other_databases_are_left_as_they_are():
    assert sqlite_engine_options("postgresql://u@h/db") == {}
    assert sqlite_engine_options("sqlite://") == {}  # in memory
