"""Who is asking: the signed-in session behind a console page, or the staff member behind an API request."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from sanic.request import Request

from bot.console.accounts import StaffMember, member_for_token
from bot.console.sessions import Session, session_for

SESSION_COOKIE = "ijm_console"
T = TypeVar("T")


def engine(request: Request) -> sa.engine.Engine:
    return request.app.ctx.db


async def in_thread(function: Callable[..., T], *args: Any) -> T:
    """Run blocking database work off the event loop."""
    return await asyncio.get_running_loop().run_in_executor(None, function, *args)


async def current_session(request: Request) -> Session | None:
    return await in_thread(session_for, engine(request), request.cookies.get(SESSION_COOKIE))


async def api_member(request: Request) -> StaffMember | None:
    """A Bearer token's staff member, or the signed-in browser's."""
    authorization = request.headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        return await in_thread(member_for_token, engine(request), authorization[7:].strip())
    session = await current_session(request)
    return session.member if session else None
