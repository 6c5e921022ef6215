"""Console sessions, kept server-side: the cookie carries a random value whose digest finds the session."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from bot.console.accounts import StaffMember
from bot.storage.app_db import staff, staff_sessions

SESSION_LIFETIME = timedelta(hours=8)


@dataclass(frozen=True)
class Session:
    member: StaffMember
    csrf_token: str


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def start_session(engine: sa.engine.Engine, member: StaffMember, now: datetime | None = None) -> tuple[str, Session]:
    """A new session for `member`: the cookie value (given to the browser only) and the session."""
    now = now or datetime.now(timezone.utc)
    cookie, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    with engine.begin() as connection:
        connection.execute(staff_sessions.delete().where(staff_sessions.c.expires_at < now))
        connection.execute(
            staff_sessions.insert().values(
                staff_id=member.id,
                cookie_digest=_digest(cookie),
                csrf_token=csrf,
                created_at=now,
                expires_at=now + SESSION_LIFETIME,
            )
        )
    return cookie, Session(member, csrf)


def session_for(engine: sa.engine.Engine, cookie: str | None, now: datetime | None = None) -> Session | None:
    if not cookie or len(cookie) > 200:
        return None
    now = now or datetime.now(timezone.utc)
    query = (
        sa.select(staff, staff_sessions.c.csrf_token, staff_sessions.c.expires_at)
        .join(staff_sessions, staff_sessions.c.staff_id == staff.c.id)
        .where(staff_sessions.c.cookie_digest == _digest(cookie))
    )
    with engine.connect() as connection:
        row = connection.execute(query).first()
    if row is None or row.expires_at <= now:
        return None
    member = StaffMember(id=row.id, name=row.name, role=row.role, created_at=row.created_at)
    return Session(member, row.csrf_token)


def end_session(engine: sa.engine.Engine, cookie: str | None) -> None:
    if cookie:
        with engine.begin() as connection:
            connection.execute(staff_sessions.delete().where(staff_sessions.c.cookie_digest == _digest(cookie)))
