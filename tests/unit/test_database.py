from __future__ import annotations

import socket

import pytest

from bot.storage.database import DatabaseUnreachable, check_database, display_url, resolve_database_url


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
