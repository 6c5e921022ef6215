"""The staff console on the web app: sign-in, sign-out, the conversation list, and the API's authentication.

Sessions are server-side (bot/console/sessions.py); the cookie is HttpOnly, SameSite=Strict, and Secure when
PUBLIC_URL is https. Every form carries a CSRF token: the session's, or before sign-in a double-submit token.
Pages are built with html.escape on every value that comes from a visitor or a staff member.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from html import escape
from urllib.parse import quote

import sqlalchemy as sa
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.console.access import SESSION_COOKIE, api_member, current_session, engine, in_thread
from bot.console.accounts import StaffMember, audit, check_login, login_delay, member_for_token
from bot.console.activity import load_activity
from bot.console.conversation_list import OUTCOME_LABELS, PAGE_SIZE, FilterError, Filters, list_conversations
from bot.console.corrections import correction_form_html, corrections_by_event, domain_intents
from bot.console.erase import erase_conversation, erased_anything
from bot.console.export import MAX_EXPORT_CONVERSATIONS, conversation_ids, export_csv, export_jsonl
from bot.console.pages import (
    console_page,
    csrf_ok,
    decoded_path_params,
    form_expired,
    form_fields,
    page_header,
    render_page,
    shown_for,
)
from bot.console.reviews import STATUS_LABELS, STATUSES, ReviewError, add_tag, remove_tag, review_of, save_review
from bot.console.sessions import SESSION_LIFETIME, Session, end_session, start_session
from bot.console.transcripts import Turn, attach_activity, contains_personal_details, load_transcript
from bot.storage.app_db import audit_log
from bot.web.limits import WebLimits

LOGIN_CSRF_COOKIE = "ijm_console_login"


def _login_page(csrf: str, secure: bool, message: str = "", status: int = 200) -> HTTPResponse:
    error = f'<p class="error" role="alert">{escape(message)}</p>' if message else ""
    body = f"""<header><strong>IJM assistant console</strong></header><main>
<h1>Sign in</h1>{error}
<form method="post" action="/console/login">
<input type="hidden" name="csrf_token" value="{escape(csrf)}">
<label for="name">Name</label><input id="name" name="name" autocomplete="username" required>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<div><button type="submit">Sign in</button></div></form></main>"""
    resp = render_page("Sign in", body, status)
    resp.cookies[LOGIN_CSRF_COOKIE] = csrf
    resp.cookies[LOGIN_CSRF_COOKIE]["httponly"] = True
    resp.cookies[LOGIN_CSRF_COOKIE]["samesite"] = "Strict"
    resp.cookies[LOGIN_CSRF_COOKIE]["path"] = "/console"
    if secure:
        resp.cookies[LOGIN_CSRF_COOKIE]["secure"] = True
    return resp


def _filter_form(filters: Filters) -> str:
    options = "".join(
        f'<option value="{value}"{" selected" if filters.status == value else ""}>{label}</option>'
        for value, label in [("", "Any review status"), *STATUS_LABELS.items()]
    )
    outcomes = "".join(
        f'<option value="{value}"{" selected" if filters.outcome == value else ""}>{escape(label)}</option>'
        for value, label in [("", "Any outcome"), *OUTCOME_LABELS.items()]
    )
    return f"""<form method="get" action="/console" class="filters">
<label for="q">Words in a visitor message</label><input id="q" name="q" value="{escape(filters.q)}">
<label for="from">Active from</label><input id="from" name="from" type="date" value="{escape(filters.date_from)}">
<label for="to">to</label><input id="to" name="to" type="date" value="{escape(filters.date_to)}">
<label for="status">Review</label><select id="status" name="status">{options}</select>
<label for="tag">Tag</label><input id="tag" name="tag" value="{escape(filters.tag)}">
<label for="intent">Intent of a visitor message</label>
<input id="intent" name="intent" value="{escape(filters.intent)}">
<label for="action">Action run</label><input id="action" name="action" value="{escape(filters.action)}">
<label for="below">Lowest NLU confidence below</label>
<input id="below" name="below" type="number" min="0" max="1" step="0.05" value="{escape(filters.below)}">
<label for="outcome">Outcome</label><select id="outcome" name="outcome">{outcomes}</select>
<label><input type="checkbox" name="fallback" value="1"{" checked" if filters.fallback else ""}>
a fallback happened</label>
<label><input type="checkbox" name="thumbs_down" value="1"{" checked" if filters.thumbs_down else ""}> 👎 given</label>
<div><button type="submit">Filter</button> <a href="/console">Clear</a></div></form>"""


def _review_html(conversation_id: str, review, csrf: str) -> str:
    target = quote(conversation_id, safe="")
    options = "".join(
        f'<option value="{value}"{" selected" if review.status == value else ""}>{STATUS_LABELS[value]}</option>'
        for value in STATUSES
    )
    tags = "".join(
        f"""<li>{escape(tag)} <form method="post" action="/console/conversations/{target}/tags" class="inline">
<input type="hidden" name="csrf_token" value="{escape(csrf)}"><input type="hidden" name="remove" value="{escape(tag)}">
<button type="submit" aria-label="Remove tag {escape(tag)}">×</button></form></li>"""
        for tag in review.tags
    )
    return f"""<section class="review"><h2>Review</h2>
<form method="post" action="/console/conversations/{target}/review">
<input type="hidden" name="csrf_token" value="{escape(csrf)}">
<label for="review-status">Status</label><select id="review-status" name="status">{options}</select>
<label for="review-note">Note</label>
<textarea id="review-note" name="note" rows="3" cols="60">{escape(review.note)}</textarea>
<div><button type="submit">Save review</button></div></form>
<h3>Tags</h3><ul>{tags}</ul>
<form method="post" action="/console/conversations/{target}/tags">
<input type="hidden" name="csrf_token" value="{escape(csrf)}">
<label for="new-tag">Add a tag</label><input id="new-tag" name="add" maxlength="40">
<button type="submit">Add</button></form></section>"""


# Which tier of bot/nlu/safety_override.py recognised a disclosure, as staff read it.
SAFETY_TIER_LABELS = {
    "model": "by the model",
    "net": "by the phrase net",
    "model+net": "by the model and the phrase net",
}
# A conversation with the safety answer shows no text in the list: staff open it deliberately.
SAFETY_PREVIEW = "Safety conversation: open to read"
SAFETY_BADGE = ' <span class="badge safety">safety</span>'


def list_preview(row: dict, shown) -> str:
    if "safety" in row["outcomes"]:
        return SAFETY_PREVIEW
    return shown(row["first_message"])[:120] or "(no message)"


def _turn_html(turn: Turn, shown) -> str:
    parts = ['<section class="turn">']
    if turn.text is not None:
        confidence = f" {turn.confidence:.2f}" if isinstance(turn.confidence, (int, float)) else ""
        entities = f" · {escape(shown(', '.join(turn.entities)))}" if turn.entities else ""
        tier_label = SAFETY_TIER_LABELS.get(turn.safety_tier or "", turn.safety_tier or "")
        tier = f' <span class="badge safety">disclosure · {escape(tier_label)}</span>' if turn.safety_tier else ""
        parts.append(
            f"<p><strong>Visitor</strong> <small>{turn.at:%Y-%m-%d %H:%M:%S} · "
            f"{escape(turn.intent or '?')}{confidence}{entities}</small>{tier}<br>{escape(shown(turn.text))}</p>"
        )
    for reply in turn.replies:
        parts.append(f"<p><strong>Assistant</strong><br>{escape(shown(reply)).replace(chr(10), '<br>')}</p>")
    if turn.outcomes or turn.activity:
        items = [f'<li class="outcome">{escape(outcome)}</li>' for outcome in turn.outcomes]
        items += [
            f'<li class="activity {escape(a.kind)}">{escape(shown(a.label))} <small>{a.at:%H:%M:%S}</small></li>'
            for a in turn.activity
        ]
        parts.append(f'<ul class="outcomes" aria-label="What this led to">{"".join(items)}</ul>')
    if turn.steps:
        steps = "".join(f"<li>{escape(shown(step))}</li>" for step in turn.steps)
        parts.append(
            f"<details><summary>{len(turn.steps)} {'step' if len(turn.steps) == 1 else 'steps'} (actions and slot "
            f"changes)</summary><ul>{steps}</ul></details>"
        )
    parts.append("</section>")
    return "".join(parts)


def _search_refused(member: StaffMember, filters: Filters) -> str | None:
    """Viewers can't search for an e-mail address or phone number: the list would tell them where it was written."""
    if filters.q and not member.is_admin and contains_personal_details(filters.q):
        return "Viewers can't search for e-mail addresses or phone numbers (they are hidden from viewers)."
    return None


def transcript_with_activity(db: sa.engine.Engine, conversation_id: str) -> list[Turn] | None:
    """The transcript with feedback, clicks, sign-ups and leads placed under the turns they followed."""
    turns = load_transcript(db, conversation_id)
    if turns is not None:
        attach_activity(turns, load_activity(db, conversation_id))
    return turns


def console_blueprint(secure_cookies: bool) -> Blueprint:
    """The console's routes; `secure_cookies` marks the session cookie Secure (PUBLIC_URL is https)."""
    console = Blueprint("console")

    @console.get("/console/login", error_format="html")
    async def login_form(request: Request) -> HTTPResponse:
        if await current_session(request):
            return response.redirect("/console", status=303)
        return _login_page(secrets.token_urlsafe(32), secure_cookies)

    @console.post("/console/login", error_format="html")
    async def login(request: Request) -> HTTPResponse:
        limits: WebLimits = request.app.ctx.limits
        if (wait := limits.wait_before(limits.login, request)) is not None:
            minutes = max(1, round(wait / 60))
            busy = f"Too many sign-in attempts from your network. Please try again in {minutes} minute(s)."
            page = _login_page(secrets.token_urlsafe(32), secure_cookies, busy, 429)
            page.headers["Retry-After"] = str(wait)
            return page
        form = form_fields(request)
        expected = request.cookies.get(LOGIN_CSRF_COOKIE)
        if not expected or not secrets.compare_digest(form.get("csrf_token", ""), expected):
            return _login_page(
                secrets.token_urlsafe(32), secure_cookies, "The form expired. Please sign in again.", 403
            )
        name, password = form.get("name", "")[:64], form.get("password", "")
        result = await in_thread(check_login, engine(request), name, password)
        if result.member is None:
            await asyncio.sleep(login_delay(result.failures))
            if result.locked_until:
                until = result.locked_until.strftime("%H:%M UTC")
                locked = f"Too many failed sign-ins: this account is locked until {until}."
                return _login_page(expected, secure_cookies, locked, 429)
            return _login_page(expected, secure_cookies, "Wrong name or password.", 401)
        cookie, _ = await in_thread(start_session, engine(request), result.member)
        resp = response.redirect("/console", status=303)
        resp.cookies[SESSION_COOKIE] = cookie
        morsel = resp.cookies[SESSION_COOKIE]
        morsel["httponly"] = True
        morsel["samesite"] = "Strict"
        morsel["path"] = "/"
        morsel["max-age"] = int(SESSION_LIFETIME.total_seconds())
        if secure_cookies:
            morsel["secure"] = True
        del resp.cookies[LOGIN_CSRF_COOKIE]
        return resp

    @console.post("/console/logout", error_format="html")
    @console_page()
    async def logout(request: Request, session: Session) -> HTTPResponse:
        if not csrf_ok(form_fields(request), session):
            return form_expired()
        await in_thread(end_session, engine(request), request.cookies.get(SESSION_COOKIE))
        resp = response.redirect("/console/login", status=303)
        del resp.cookies[SESSION_COOKIE]
        return resp

    @console.get("/console", error_format="html")
    @console_page()
    async def conversations(request: Request, session: Session) -> HTTPResponse:
        try:
            page = max(1, min(int(request.args.get("page", "1")), 10_000))
        except ValueError:
            page = 1
        try:
            filters = Filters.from_args(request.args)
        except FilterError as error:
            problem = f"<p class=error>{escape(str(error))}</p>"
            body = f"{page_header(session)}<main>{_filter_form(Filters())}{problem}</main>"
            return render_page("Conversations", body, 400)
        if refused := _search_refused(session.member, filters):
            body = f"{page_header(session)}<main>{_filter_form(filters)}<p class=error>{escape(refused)}</p></main>"
            return render_page("Conversations", body, 400)
        rows = await in_thread(list_conversations, engine(request), filters, page, True)
        rows, more_pages = rows[:PAGE_SIZE], len(rows) > PAGE_SIZE
        shown = shown_for(session.member)
        lines = "".join(
            f"<tr><td>{row['started']:%Y-%m-%d %H:%M}</td><td>{row['messages']}</td>"
            f'<td><a href="/console/conversations/{quote(row["id"], safe="")}">'
            f"{escape(list_preview(row, shown))}</a>"
            f"{SAFETY_BADGE if 'safety' in row['outcomes'] else ''}</td>"
            f"<td>{escape(STATUS_LABELS.get(row['status'], row['status']))}</td>"
            f"<td>{escape(', '.join(row['tags']))}</td>"
            f"<td>{escape(', '.join(OUTCOME_LABELS[o] for o in row['outcomes']))}</td></tr>"
            for row in rows
        )
        table = (
            "<table><thead><tr><th scope=col>Started (UTC)</th><th scope=col>Visitor messages</th>"
            "<th scope=col>First message</th><th scope=col>Review</th><th scope=col>Tags</th>"
            "<th scope=col>Outcomes</th></tr></thead>"
            f"<tbody>{lines}</tbody></table>"
            if rows
            else "<p>No conversations match.</p>"
        )
        pages = [f"Page {page}"]
        if page > 1:
            pages.insert(0, f'<a href="/console?{escape(filters.query_string(page=page - 1))}">Newer conversations</a>')
        if more_pages:
            pages.append(f'<a href="/console?{escape(filters.query_string(page=page + 1))}">Older conversations</a>')
        more = f'<nav aria-label="Pages"><p>{" · ".join(pages)}</p></nav>' if rows or page > 1 else ""
        exports = ""
        if session.member.is_admin:
            query = escape(filters.query_string())
            exports = (
                f'<p>Export these conversations: <a href="/console/export/csv?{query}">CSV</a> (a row per message) · '
                f'<a href="/console/export/jsonl?{query}">JSONL</a> (a conversation per line); at most '
                f"{MAX_EXPORT_CONVERSATIONS:,} conversations a file, the newest: narrow the dates for more</p>"
            )
        body = f"{page_header(session)}<main><h1>Conversations</h1>{_filter_form(filters)}{exports}{table}{more}</main>"
        return render_page("Conversations", body)

    @console.get("/console/conversations/<conversation_id:str>", error_format="html")
    @decoded_path_params
    @console_page()
    async def transcript(request: Request, session: Session, conversation_id: str) -> HTTPResponse:
        turns = await in_thread(transcript_with_activity, engine(request), conversation_id[:255])
        header = page_header(session)
        if turns is None:
            return render_page(
                "Not found", f"{header}<main><p>There is no conversation {escape(conversation_id)}.</p></main>", 404
            )
        body = f'{header}<main><p><a href="/console">All conversations</a></p><h1>Conversation</h1>'
        corrected = await in_thread(corrections_by_event, engine(request), [t.event_id for t in turns if t.event_id])
        intents = domain_intents()
        here = f"/console/conversations/{quote(conversation_id, safe='')}"
        for turn in turns:
            body += _turn_html(turn, shown_for(session.member))
            if turn.event_id is not None:
                current = corrected.get(turn.event_id, turn.intent)
                body += correction_form_html(turn.event_id, current, session.csrf_token, here, intents)
        review = await in_thread(review_of, engine(request), conversation_id[:255])
        body += _review_html(conversation_id, review, session.csrf_token)
        if session.member.is_admin:
            body += (
                f'<form method="get" action="/console/conversations/{quote(conversation_id, safe="")}/erase">'
                "<button type=submit>Erase this conversation…</button></form>"
            )
        body += "</main>"
        return render_page("Conversation", body)

    async def _review_change(request: Request, conversation_id: str, change) -> HTTPResponse:
        session = await current_session(request)
        if session is None:
            return response.redirect("/console/login", status=303)
        form = form_fields(request)
        if not csrf_ok(form, session):
            return form_expired()
        try:
            await in_thread(change, engine(request), conversation_id[:255], form, session.member.name)
        except ReviewError as error:
            problem = f"<p class=error>{escape(str(error))}</p>"
            return render_page("Not saved", f"{page_header(session)}<main>{problem}</main>", 400)
        return response.redirect(f"/console/conversations/{quote(conversation_id, safe='')}", status=303)

    @console.post("/console/conversations/<conversation_id:str>/review", error_format="html")
    @decoded_path_params
    async def review(request: Request, conversation_id: str) -> HTTPResponse:
        def change(db, cid, form, by):
            save_review(db, cid, form.get("status", ""), form.get("note", ""), by)

        return await _review_change(request, conversation_id, change)

    @console.post("/console/conversations/<conversation_id:str>/tags", error_format="html")
    @decoded_path_params
    async def tags(request: Request, conversation_id: str) -> HTTPResponse:
        def change(db, cid, form, by):
            if form.get("add", "").strip():
                add_tag(db, cid, form["add"])
            if form.get("remove"):
                remove_tag(db, cid, form["remove"])

        return await _review_change(request, conversation_id, change)

    @console.get("/console/conversations/<conversation_id:str>/erase", error_format="html")
    @decoded_path_params
    @console_page(admin_only="Only admins can erase.")
    async def erase_confirmation(request: Request, session: Session, conversation_id: str) -> HTTPResponse:
        target = quote(conversation_id, safe="")
        body = f"""{page_header(session)}<main><h1>Erase this conversation?</h1>
<p>Conversation {escape(conversation_id)}: its messages and everything stored with it (sign-ups, enquiries,
clicks, feedback) are deleted for good. This is recorded in the audit log.</p>
<form method="post" action="/console/conversations/{target}/erase">
<input type="hidden" name="csrf_token" value="{escape(session.csrf_token)}">
<button type="submit">Erase for good</button> <a href="/console/conversations/{target}">Cancel</a></form></main>"""
        return render_page("Erase", body)

    @console.post("/console/conversations/<conversation_id:str>/erase", error_format="html")
    @decoded_path_params
    @console_page(admin_only="Only admins can erase.")
    async def erase(request: Request, session: Session, conversation_id: str) -> HTTPResponse:
        if not csrf_ok(form_fields(request), session):
            return form_expired()
        counts = await in_thread(erase_conversation, engine(request), conversation_id[:255], session.member.name)
        if not erased_anything(counts):
            nothing = (
                f"<p>Nothing is stored for conversation {escape(conversation_id)}: it may have been erased already.</p>"
            )
            return render_page("Not found", f"{page_header(session)}<main>{nothing}</main>", 404)
        return response.redirect("/console", status=303)

    @console.delete("/api/conversations/<conversation_id:str>", error_format="json")
    @decoded_path_params
    async def erase_api(request: Request, conversation_id: str) -> HTTPResponse:
        """Admins only. With a session cookie (not a token) the X-CSRF-Token header must carry the session's token."""
        authorization = request.headers.get("authorization", "")
        if authorization.lower().startswith("bearer "):
            member = await in_thread(member_for_token, engine(request), authorization[7:].strip())
        else:
            session = await current_session(request)
            member = session.member if session else None
            if session and not secrets.compare_digest(request.headers.get("x-csrf-token", ""), session.csrf_token):
                return response.json({"error": "csrf", "detail": "send the session's CSRF token in X-CSRF-Token"}, 403)
        if member is None:
            return response.json({"error": "unauthorized", "detail": "sign in or send a staff API token"}, 401)
        if not member.is_admin:
            return response.json({"error": "forbidden", "detail": "only admins can erase conversations"}, 403)
        counts = await in_thread(erase_conversation, engine(request), conversation_id[:255], member.name)
        if not erased_anything(counts):
            return response.json({"error": "not_found", "detail": "nothing is stored for that conversation"}, 404)
        return response.json({"erased": conversation_id, "deleted": counts})

    @console.get("/api/conversations", error_format="json")
    async def conversations_api(request: Request) -> HTTPResponse:
        """Newest first, PAGE_SIZE a page (?page=N), with the list's filters; viewers get personal details masked."""
        member = await api_member(request)
        if member is None:
            return response.json({"error": "unauthorized", "detail": "sign in or send a staff API token"}, 401)
        try:
            page = int(request.args.get("page", "1"))
        except ValueError:
            return response.json({"error": "invalid_page", "detail": "page must be a whole number"}, 400)
        if not 1 <= page <= 10_000:
            return response.json({"error": "invalid_page", "detail": "page must be between 1 and 10000"}, 400)
        try:
            filters = Filters.from_args(request.args)
        except FilterError as error:
            return response.json({"error": "invalid_filter", "detail": str(error)}, 400)
        if refused := _search_refused(member, filters):
            return response.json({"error": "search_refused", "detail": refused}, 400)
        shown = shown_for(member)
        rows = await in_thread(list_conversations, engine(request), filters, page, True)
        rows, more_pages = rows[:PAGE_SIZE], len(rows) > PAGE_SIZE
        items = [
            {
                **row,
                "started": row["started"].isoformat(),
                "first_message": None if "safety" in row["outcomes"] else shown(row["first_message"]),
            }
            for row in rows
        ]
        return response.json({"page": page, "page_size": PAGE_SIZE, "has_more": more_pages, "conversations": items})

    @console.get("/api/conversations/<conversation_id:str>", error_format="json")
    @decoded_path_params
    async def conversation_api(request: Request, conversation_id: str) -> HTTPResponse:
        member = await api_member(request)
        if member is None:
            return response.json({"error": "unauthorized", "detail": "sign in or send a staff API token"}, 401)
        turns = await in_thread(transcript_with_activity, engine(request), conversation_id[:255])
        if turns is None:
            return response.json({"error": "not_found", "detail": "there is no such conversation"}, 404)
        shown = shown_for(member)
        return response.json(
            {
                "id": conversation_id,
                "turns": [
                    {
                        "at": turn.at.isoformat(),
                        "text": shown(turn.text) if turn.text is not None else None,
                        "intent": turn.intent,
                        "confidence": turn.confidence,
                        "entities": [shown(entity) for entity in turn.entities],
                        "replies": [shown(reply) for reply in turn.replies],
                        "steps": [shown(step) for step in turn.steps],
                        "outcomes": turn.outcomes,
                        "safety_tier": turn.safety_tier,
                        "activity": [
                            {"at": a.at.isoformat(), "kind": a.kind, "label": shown(a.label)} for a in turn.activity
                        ],
                    }
                    for turn in turns
                ],
            }
        )

    async def _export(request: Request, member: StaffMember | None, fmt: str, as_json_error: bool) -> HTTPResponse:
        def refuse(status: int, code: str, detail: str) -> HTTPResponse:
            if as_json_error:
                return response.json({"error": code, "detail": detail}, status)
            return render_page("Export", f"<main><p class=error>{escape(detail)}</p></main>", status)

        if member is None:
            return refuse(401, "unauthorized", "sign in or send a staff API token")
        if not member.is_admin:
            return refuse(403, "forbidden", "only admins can export conversations")
        if fmt not in ("csv", "jsonl"):
            return refuse(400, "invalid_format", "the format is csv or jsonl")
        try:
            filters = Filters.from_args(request.args)
        except FilterError as error:
            return refuse(400, "invalid_filter", str(error))

        def build() -> tuple[str, int, bool]:
            ids, truncated = conversation_ids(engine(request), filters)
            body = (export_csv if fmt == "csv" else export_jsonl)(engine(request), ids, lambda text: text)
            with engine(request).begin() as connection:
                audit(
                    connection,
                    member.name,
                    "conversations.export",
                    fmt,
                    json.dumps({"filters": filters.query_string(), "conversations": len(ids), "truncated": truncated}),
                )
            return body, len(ids), truncated

        body, count, truncated = await in_thread(build)
        content_type = "text/csv; charset=utf-8" if fmt == "csv" else "application/x-ndjson; charset=utf-8"
        disposition = f'attachment; filename="conversations.{fmt}"'
        headers = {
            "Content-Disposition": disposition,
            "X-Export-Conversations": str(count),
            # more conversations matched than one export holds (the newest are in it)
            "X-Export-Truncated": "true" if truncated else "false",
        }
        return response.text(body, content_type=content_type, headers=headers)

    @console.get("/console/export/<fmt:str>", error_format="html")
    @console_page()
    async def export_page(request: Request, session: Session, fmt: str) -> HTTPResponse:
        return await _export(request, session.member, fmt, as_json_error=False)

    @console.get("/api/export", error_format="json")
    async def export_api(request: Request) -> HTTPResponse:
        return await _export(request, await api_member(request), request.args.get("format", ""), as_json_error=True)

    @console.get("/console/audit", error_format="html")
    @console_page(admin_only="Only admins can read the audit log.")
    async def audit_page(request: Request, session: Session) -> HTTPResponse:
        """Admins read who exported, erased, corrected, or changed staff, newest first (the last 500)."""

        def newest() -> list:
            with engine(request).connect() as connection:
                query = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(500)
                return connection.execute(query).all()

        rows = await in_thread(newest)
        lines = "".join(
            f"<tr><td>{row.created_at:%Y-%m-%d %H:%M:%S}</td><td>{escape(row.actor)}</td><td>{escape(row.action)}</td>"
            f"<td>{escape(row.target or '')}</td><td>{escape(row.detail or '')}</td></tr>"
            for row in rows
        )
        table = (
            "<table><thead><tr><th scope=col>When (UTC)</th><th scope=col>Who</th><th scope=col>What</th>"
            f"<th scope=col>On</th><th scope=col>Details</th></tr></thead><tbody>{lines}</tbody></table>"
        )
        return render_page("Audit log", f"{page_header(session)}<main><h1>Audit log</h1>{table}</main>")

    @console.get("/api/me", error_format="json")
    async def me(request: Request) -> HTTPResponse:
        member = await api_member(request)
        if member is None:
            return response.json({"error": "unauthorized", "detail": "sign in or send a staff API token"}, 401)
        return response.json({"name": member.name, "role": member.role})

    return console
