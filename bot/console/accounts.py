"""Staff accounts: argon2-hashed passwords, roles, API tokens, and slowing then locking repeated failed logins.

`ijm-bot staff ...` and the console's login use these functions; nothing else reads the staff tables.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from bot.storage.app_db import audit_log, staff, staff_sessions, staff_tokens

ROLES = ("admin", "viewer")
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 1024
# After this many failures in a row the account is locked for LOCK_DURATION; before that each failure is
# answered more slowly (login_delay).
MAX_FAILED_LOGINS = 5
LOCK_DURATION = timedelta(minutes=15)

_hasher = PasswordHasher()
# Compared against when the name is unknown, so a wrong name takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class StaffError(ValueError):
    """A staff command that can't be carried out; the message is for the person who typed it."""


@dataclass(frozen=True)
class StaffMember:
    id: int
    name: str
    role: str
    created_at: datetime
    locked_until: datetime | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass(frozen=True)
class LoginResult:
    member: StaffMember | None
    locked_until: datetime | None = None
    failures: int = 0


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _member(row: sa.engine.Row) -> StaffMember:
    return StaffMember(
        id=row.id,
        name=row.name,
        role=row.role,
        created_at=row.created_at,
        locked_until=getattr(row, "locked_until", None),
    )


def check_name(name: str) -> str:
    if not NAME_PATTERN.match(name or ""):
        raise StaffError(
            "a staff name is 1 to 64 letters, digits, dots, dashes, underscores or @, starting with a letter or digit"
        )
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_CHARS:
        raise StaffError(f"the password must be at least {MIN_PASSWORD_CHARS} characters long")
    if len(password) > MAX_PASSWORD_CHARS:
        raise StaffError(f"the password must be at most {MAX_PASSWORD_CHARS} characters long")
    return password


def audit(
    connection: sa.engine.Connection, actor: str, action: str, target: str | None = None, detail: str | None = None
) -> None:
    connection.execute(
        audit_log.insert().values(actor=actor, action=action, target=target, detail=detail, created_at=_now())
    )


def add_staff(engine: sa.engine.Engine, name: str, role: str, password: str, actor: str = "cli") -> StaffMember:
    check_name(name)
    if role not in ROLES:
        raise StaffError(f"the role must be one of {', '.join(ROLES)}")
    digest = _hasher.hash(check_password(password))
    with engine.begin() as connection:
        if connection.execute(sa.select(staff.c.id).where(staff.c.name == name)).first():
            raise StaffError(f"there is already a staff member named {name!r}")
        inserted = connection.execute(
            staff.insert().values(name=name, role=role, password_hash=digest, failed_logins=0, created_at=_now())
        )
        audit(connection, actor, "staff.add", name, f"role {role}")
        row = connection.execute(sa.select(staff).where(staff.c.id == inserted.inserted_primary_key[0])).one()
    return _member(row)


def list_staff(engine: sa.engine.Engine) -> list[StaffMember]:
    with engine.connect() as connection:
        return [_member(row) for row in connection.execute(sa.select(staff).order_by(staff.c.name))]


def any_staff(engine: sa.engine.Engine) -> bool:
    with engine.connect() as connection:
        return connection.execute(sa.select(staff.c.id).limit(1)).first() is not None


def remove_staff(engine: sa.engine.Engine, name: str, actor: str = "cli", keep_an_admin: bool = False) -> None:
    """Remove a staff member with their tokens and sessions; with `keep_an_admin`, never the last admin."""
    with engine.begin() as connection:
        row = connection.execute(sa.select(staff.c.id, staff.c.role).where(staff.c.name == name)).first()
        if row is None:
            raise StaffError(f"there is no staff member named {name!r}")
        if keep_an_admin and row.role == "admin":
            admins = connection.execute(sa.select(sa.func.count()).where(staff.c.role == "admin")).scalar_one()
            if admins <= 1:
                raise StaffError(f"{name} is the only admin: add another admin first")
        connection.execute(staff_tokens.delete().where(staff_tokens.c.staff_id == row.id))
        connection.execute(staff_sessions.delete().where(staff_sessions.c.staff_id == row.id))
        connection.execute(staff.delete().where(staff.c.id == row.id))
        audit(connection, actor, "staff.remove", name)


def unlock_staff(engine: sa.engine.Engine, name: str, actor: str = "cli") -> None:
    """Lift a lock from repeated failed sign-ins before it runs out."""
    with engine.begin() as connection:
        updated = connection.execute(
            staff.update().where(staff.c.name == name).values(failed_logins=0, locked_until=None)
        )
        if updated.rowcount == 0:
            raise StaffError(f"there is no staff member named {name!r}")
        audit(connection, actor, "staff.unlock", name)


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(engine: sa.engine.Engine, name: str, actor: str = "cli") -> str:
    """A new API token for `name`: returned once, stored only as its digest."""
    token = "ijm_" + secrets.token_urlsafe(32)
    with engine.begin() as connection:
        row = connection.execute(sa.select(staff.c.id).where(staff.c.name == name)).first()
        if row is None:
            raise StaffError(f"there is no staff member named {name!r}")
        connection.execute(
            staff_tokens.insert().values(staff_id=row.id, token_digest=_token_digest(token), created_at=_now())
        )
        audit(connection, actor, "staff.token", name)
    return token


def member_for_token(engine: sa.engine.Engine, token: str) -> StaffMember | None:
    if not token or len(token) > 200:
        return None
    query = (
        sa.select(staff)
        .join(staff_tokens, staff_tokens.c.staff_id == staff.c.id)
        .where(staff_tokens.c.token_digest == _token_digest(token))
    )
    with engine.connect() as connection:
        row = connection.execute(query).first()
    return _member(row) if row else None


def member_by_id(engine: sa.engine.Engine, member_id: int) -> StaffMember | None:
    with engine.connect() as connection:
        row = connection.execute(sa.select(staff).where(staff.c.id == member_id)).first()
    return _member(row) if row else None


def login_delay(failures: int) -> float:
    """Seconds to wait before answering a failed login: 0.5 s, 1 s, 2 s … (at most 8 s)."""
    return 0.0 if failures <= 0 else min(8.0, 0.5 * 2 ** (failures - 1))


def check_login(engine: sa.engine.Engine, name: str, password: str, now: datetime | None = None) -> LoginResult:
    """Verify a login. A locked account fails even with the right password until the lock ends.

    Each attempt first claims its number (failed_logins + 1, one atomic UPDATE in a short transaction), then
    verifies the password outside any transaction, then settles: so parallel guesses can't all read the same
    count and get more than MAX_FAILED_LOGINS tries, and no database lock is held during the slow hash.
    """
    now = now or _now()
    with engine.begin() as connection:
        row = connection.execute(sa.select(staff).where(staff.c.name == name)).first()
        if row is None:
            _verify(_DUMMY_HASH, password)
            return LoginResult(None, failures=1)
        if row.locked_until and row.locked_until > now:
            return LoginResult(None, locked_until=row.locked_until, failures=row.failed_logins)
        this_row = staff.c.id == row.id
        connection.execute(staff.update().where(this_row).values(failed_logins=staff.c.failed_logins + 1))
        attempt = connection.execute(sa.select(staff.c.failed_logins).where(this_row)).scalar_one()
    if attempt > MAX_FAILED_LOGINS:  # parallel attempts took the last tries; the one that took the last locks
        return LoginResult(None, locked_until=now + LOCK_DURATION, failures=attempt)
    if _verify(row.password_hash, password):
        with engine.begin() as connection:
            connection.execute(staff.update().where(this_row).values(failed_logins=0, locked_until=None))
        return LoginResult(_member(row))
    if attempt < MAX_FAILED_LOGINS:
        return LoginResult(None, failures=attempt)
    locked_until = now + LOCK_DURATION
    with engine.begin() as connection:
        connection.execute(staff.update().where(this_row).values(failed_logins=0, locked_until=locked_until))
        audit(connection, name, "login.locked", name, f"after {attempt} failed logins")
    return LoginResult(None, locked_until=locked_until, failures=attempt)


def _verify(digest: str, password: str) -> bool:
    try:
        return _hasher.verify(digest, password[:MAX_PASSWORD_CHARS])
    except (VerificationError, InvalidHashError):
        return False
