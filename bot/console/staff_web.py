"""Staff management in the console, for admins: add a member, issue an API token, unlock, remove.

The same functions as `ijm-bot staff ...` (bot/console/accounts.py), with the signed-in admin as the audit actor.
An admin cannot remove themselves, nor the last admin, so the console can't be left without one.
"""

from __future__ import annotations

from datetime import datetime, timezone
from html import escape
from urllib.parse import quote

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.console.access import engine, in_thread
from bot.console.accounts import (
    MIN_PASSWORD_CHARS,
    ROLES,
    StaffError,
    StaffMember,
    add_staff,
    issue_token,
    list_staff,
    remove_staff,
    unlock_staff,
)
from bot.console.pages import (
    console_page,
    csrf_ok,
    decoded_path_params,
    form_expired,
    form_fields,
    page_header,
    render_page,
)
from bot.console.sessions import Session

ADMINS_ONLY = "Only admins can manage staff."


def _button(action: str, label: str, csrf: str, aria: str) -> str:
    return (
        f'<form method="post" action="{action}" class="inline"><input type="hidden" name="csrf_token" '
        f'value="{escape(csrf)}"><button type="submit" aria-label="{escape(aria)}">{escape(label)}</button></form>'
    )


def _row(member: StaffMember, session: Session, now: datetime) -> str:
    target = f"/console/staff/{quote(member.name, safe='')}"
    csrf = session.csrf_token
    locked = member.locked_until is not None and member.locked_until > now
    actions = [_button(f"{target}/token", "New API token", csrf, f"New API token for {member.name}")]
    if locked:
        actions.append(_button(f"{target}/unlock", "Unlock", csrf, f"Unlock {member.name}"))
    if member.name != session.member.name:
        actions.append(f'<a href="{target}/remove" aria-label="Remove {escape(member.name)}">Remove…</a>')
    state = f"locked until {member.locked_until:%H:%M} UTC" if locked else "active"
    return (
        f"<tr><td>{escape(member.name)}</td><td>{escape(member.role)}</td><td>{member.created_at:%Y-%m-%d}</td>"
        f"<td>{state}</td><td>{' '.join(actions)}</td></tr>"
    )


def _staff_page(session: Session, members: list[StaffMember], message: str = "", status: int = 200) -> HTTPResponse:
    now = datetime.now(timezone.utc)
    rows = "".join(_row(member, session, now) for member in members)
    roles = "".join(f'<option value="{role}">{role}</option>' for role in ROLES)
    notice = f'<p class="error" role="alert">{escape(message)}</p>' if message else ""
    body = f"""{page_header(session)}<main><h1>Staff</h1>{notice}
<table><thead><tr><th scope=col>Name</th><th scope=col>Role</th><th scope=col>Added</th><th scope=col>Sign-in</th>
<th scope=col>Actions</th></tr></thead><tbody>{rows}</tbody></table>
<h2>Add a staff member</h2>
<p>Viewers read everything with visitors' e-mail addresses and phone numbers masked; admins also see them, export,
erase, and manage staff. Give the password to the person by a separate, private channel.</p>
<form method="post" action="/console/staff">
<input type="hidden" name="csrf_token" value="{escape(session.csrf_token)}">
<label for="staff-name">Name</label><input id="staff-name" name="name" maxlength="64" required
 autocomplete="off">
<label for="staff-role">Role</label><select id="staff-role" name="role">{roles}</select>
<label for="staff-password">Password (at least {MIN_PASSWORD_CHARS} characters)</label>
<input id="staff-password" name="password" type="password" minlength="{MIN_PASSWORD_CHARS}" required
 autocomplete="new-password">
<div><button type="submit">Add</button></div></form></main>"""
    return render_page("Staff", body, status)


def staff_blueprint() -> Blueprint:
    staff_pages = Blueprint("console_staff")

    async def _show(request: Request, session: Session, message: str = "", status: int = 200) -> HTTPResponse:
        return _staff_page(session, await in_thread(list_staff, engine(request)), message, status)

    @staff_pages.get("/console/staff", error_format="html")
    @console_page(admin_only=ADMINS_ONLY)
    async def staff_list(request: Request, session: Session) -> HTTPResponse:
        return await _show(request, session)

    @staff_pages.post("/console/staff", error_format="html")
    @console_page(admin_only=ADMINS_ONLY)
    async def staff_add(request: Request, session: Session) -> HTTPResponse:
        form = form_fields(request)
        if not csrf_ok(form, session):
            return form_expired(session)
        name, role, password = form.get("name", "").strip(), form.get("role", ""), form.get("password", "")
        try:
            await in_thread(add_staff, engine(request), name, role, password, session.member.name)
        except StaffError as error:
            return await _show(request, session, f"Not added: {error}.", 400)
        return response.redirect("/console/staff", status=303)

    @staff_pages.post("/console/staff/<name:str>/token", error_format="html")
    @decoded_path_params
    @console_page(admin_only=ADMINS_ONLY)
    async def staff_token(request: Request, session: Session, name: str) -> HTTPResponse:
        if not csrf_ok(form_fields(request), session):
            return form_expired(session)
        try:
            token = await in_thread(issue_token, engine(request), name, session.member.name)
        except StaffError as error:
            return await _show(request, session, f"No token: {error}.", 404)
        body = f"""{page_header(session)}<main><h1>API token for {escape(name)}</h1>
<p>Copy it now: it is shown only this once and stored only as a digest. Send it as
<code>Authorization: Bearer &lt;token&gt;</code>.</p>
<p><input readonly aria-label="API token" value="{escape(token)}" size="60"></p>
<p><a href="/console/staff">Back to staff</a></p></main>"""
        page = render_page("API token", body)
        page.headers["Cache-Control"] = "no-store"
        return page

    @staff_pages.post("/console/staff/<name:str>/unlock", error_format="html")
    @decoded_path_params
    @console_page(admin_only=ADMINS_ONLY)
    async def staff_unlock(request: Request, session: Session, name: str) -> HTTPResponse:
        if not csrf_ok(form_fields(request), session):
            return form_expired(session)
        try:
            await in_thread(unlock_staff, engine(request), name, session.member.name)
        except StaffError as error:
            return await _show(request, session, f"Not unlocked: {error}.", 404)
        return response.redirect("/console/staff", status=303)

    @staff_pages.get("/console/staff/<name:str>/remove", error_format="html")
    @decoded_path_params
    @console_page(admin_only=ADMINS_ONLY)
    async def staff_remove_confirmation(request: Request, session: Session, name: str) -> HTTPResponse:
        target = f"/console/staff/{quote(name, safe='')}/remove"
        body = f"""{page_header(session)}<main><h1>Remove {escape(name)}?</h1>
<p>They are signed out at once and their API tokens stop working. This is recorded in the audit log.</p>
<form method="post" action="{target}"><input type="hidden" name="csrf_token" value="{escape(session.csrf_token)}">
<button type="submit">Remove {escape(name)}</button> <a href="/console/staff">Cancel</a></form></main>"""
        return render_page("Remove staff member", body)

    @staff_pages.post("/console/staff/<name:str>/remove", error_format="html")
    @decoded_path_params
    @console_page(admin_only=ADMINS_ONLY)
    async def staff_remove(request: Request, session: Session, name: str) -> HTTPResponse:
        if not csrf_ok(form_fields(request), session):
            return form_expired(session)
        if name == session.member.name:
            return await _show(request, session, "Not removed: you can't remove yourself.", 400)
        try:
            await in_thread(remove_staff, engine(request), name, session.member.name, True)
        except StaffError as error:
            return await _show(request, session, f"Not removed: {error}.", 400)
        return response.redirect("/console/staff", status=303)

    return staff_pages
