"""What every console page shares: the HTML frame and its security policy, the header, reading a form and its
CSRF token, masking for viewers, and the sign-in check (`console_page`)."""

from __future__ import annotations

import functools
import secrets
from collections.abc import Awaitable, Callable
from html import escape
from typing import Any
from urllib.parse import parse_qs, unquote

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.console.access import current_session
from bot.console.accounts import StaffMember
from bot.console.sessions import Session
from bot.console.transcripts import mask_personal_details

CONSOLE_POLICY = (
    "default-src 'self'; style-src 'self' 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


def render_page(title: str, body: str, status: int = 200) -> HTTPResponse:
    html = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} · IJM assistant console</title>
<style>
body{{font-family:system-ui,sans-serif;margin:0;color:#1a1a1a;background:#f6f6f4}}
header{{background:#003366;color:#fff;padding:.8rem 1.5rem;display:flex;justify-content:space-between;
  align-items:center}}
main{{max-width:60rem;margin:1.5rem auto;padding:0 1rem}}
table{{border-collapse:collapse;width:100%;background:#fff}}
th,td{{text-align:left;padding:.4rem .6rem;border-bottom:1px solid #ddd}}
label{{display:block;margin:.6rem 0 .2rem}} input{{font:inherit;padding:.4rem;width:18rem;max-width:100%}}
button{{font:inherit;padding:.4rem 1rem;margin-top:.8rem}} .error{{color:#a00000}} header button{{margin:0}}
header a{{color:#fff}} header nav a:focus-visible{{outline:2px solid #fff}}
input[type=checkbox]{{width:auto}} form.inline{{display:inline}} form.inline button{{margin:0 0 0 .3rem}}
.outcomes{{list-style:none;padding:0;margin:.2rem 0}}
.outcomes li{{display:inline-block;background:#e6eef7;border-radius:1rem;padding:.1rem .7rem;margin:.1rem .2rem 0 0}}
.outcomes li.feedback_down{{background:#fbe4e4}}
.badge{{display:inline-block;border-radius:1rem;padding:.05rem .6rem;margin-left:.4rem;font-size:.85em}}
.badge.safety{{background:#fff0d6;color:#6b3d00;border:1px solid #c98a2b}}
</style></head><body>{body}</body></html>"""
    return response.html(html, status=status, headers={"Content-Security-Policy": CONSOLE_POLICY})


def form_fields(request: Request) -> dict[str, str]:
    """The urlencoded form fields (first value of each), tolerating bodies Sanic can't parse."""
    try:
        fields = parse_qs(request.body.decode("utf-8"), keep_blank_values=True, max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        return {}
    return {key: values[0] for key, values in fields.items()}


def csrf_ok(form: dict[str, str], session: Session) -> bool:
    """The form carries the session's CSRF token."""
    return secrets.compare_digest(form.get("csrf_token", ""), session.csrf_token)


def form_expired(session: Session | None = None) -> HTTPResponse:
    """The answer to a form without its session's CSRF token."""
    top = page_header(session) if session else ""
    return render_page("Forbidden", f"{top}<main><p>The form expired. Go back and try again.</p></main>", 403)


def page_header(session: Session) -> str:
    member = session.member
    return f"""<header><strong>IJM assistant console</strong>
<nav aria-label="Console"><a href="/console">Conversations</a> · <a href="/console/analytics">Analytics</a> ·
<a href="/console/corrections">Corrections</a> · <a href="/console/unanswered">Unanswered</a>
{'· <a href="/console/staff">Staff</a> · <a href="/console/audit">Audit log</a>' if member.is_admin else ""}</nav>
<form method="post" action="/console/logout"><span>{escape(member.name)} ({escape(member.role)})</span>
<input type="hidden" name="csrf_token" value="{escape(session.csrf_token)}">
<button type="submit">Sign out</button></form></header>"""


def shown_for(member: StaffMember):
    """Viewers see visitors' e-mail addresses and phone numbers masked; admins see them."""
    return (lambda text: text) if member.is_admin else mask_personal_details


Handler = Callable[..., Awaitable[HTTPResponse]]


def decoded_path_params(handler: Handler) -> Handler:
    """Percent-decode the route's parameters (a conversation id or staff name with `/`, `@`, spaces, accents).

    Sanic 21.12 matches the raw path, and its `unquote=True` decodes a parameter only when a route ends at it
    (`/console/staff/<name>/remove` would arrive still encoded), so handlers decode their own, exactly once.
    """

    @functools.wraps(handler)
    async def decoded(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
        return await handler(request, *args, **{k: unquote(v) if isinstance(v, str) else v for k, v in kwargs.items()})

    return decoded


def console_page(admin_only: str | None = None) -> Callable[[Handler], Handler]:
    """For a console page: sign-in required (else the login page), and admins only when `admin_only` says why.

    The handler gets the session after the request.
    """

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def page(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
            session = await current_session(request)
            if session is None:
                return response.redirect("/console/login", status=303)
            if admin_only and not session.member.is_admin:
                return render_page("Forbidden", f"{page_header(session)}<main><p>{escape(admin_only)}</p></main>", 403)
            return await handler(request, session, *args, **kwargs)

        return page

    return decorate
