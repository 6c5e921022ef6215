"""The one SQL database named by DATABASE_URL: resolving it and checking it can be reached."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from bot.settings import PROJECT_ROOT


class DatabaseUnreachable(RuntimeError):
    pass


def resolve_database_url(url: str, root: Path = PROJECT_ROOT) -> str:
    """Make a relative SQLite path absolute (relative to the project), so every process agrees on the file."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        path = Path(parsed.database)
        if not path.is_absolute():
            parsed = parsed.set(database=str((root / path).resolve()))
    return parsed.render_as_string(hide_password=False)


def display_url(url: str) -> str:
    """The URL with its password hidden, for messages."""
    return make_url(url).render_as_string(hide_password=True)


def is_sqlite_file(url: str | URL) -> bool:
    parsed = make_url(url)
    return parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:")


def sqlite_engine_options(url: str | URL) -> dict[str, object]:
    """For a SQLite file, keep connections open in a pool instead of SQLAlchemy 1.4's default of one new
    connection per use (opening one is most of a small query's cost, and closing the last one checkpoints the
    write-ahead log). Connections move between threads only one at a time, through the pool."""
    if not is_sqlite_file(url):
        return {}
    return {"poolclass": sa.pool.QueuePool, "connect_args": {"check_same_thread": False}}


def tune_sqlite(engine: sa.engine.Engine) -> sa.engine.Engine:
    """SQLite in write-ahead-log mode: readers (the console, the web app) no longer wait on the writer, and a
    commit appends to the log instead of rewriting a journal with several fsyncs. synchronous=NORMAL: a commit
    survives any of our processes crashing; a power cut can lose the last commits (SQLite's documented WAL
    trade-off; PostgreSQL is the production store). Other databases are left alone."""
    if not is_sqlite_file(engine.url):
        return engine

    @sa.event.listens_for(engine, "connect")
    def _pragmas(connection, _record) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine


def _connect_args(url: URL) -> dict[str, object]:
    backend = url.get_backend_name()
    if backend == "postgresql":
        return {"connect_timeout": 5}
    if backend == "mysql":
        return {"connect_timeout": 5}
    return {}


def check_database(url: str) -> None:
    """Connect once and run a trivial query; create the folder of a SQLite file first.

    Raises DatabaseUnreachable with a message fit for a person.
    """
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError as error:
        raise DatabaseUnreachable(f"DATABASE_URL is not a valid database URL: {error}") from None
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    try:
        engine = sa.create_engine(parsed, connect_args=_connect_args(parsed))
    except (sa.exc.ArgumentError, ImportError) as error:
        raise DatabaseUnreachable(f"cannot use {display_url(url)}: {error}") from None
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        raise DatabaseUnreachable(f"cannot reach the database at {display_url(url)}: {reason}") from None
    finally:
        engine.dispose()
