"""The console's intent corrections, their training export, and the unanswered questions (issue #6)."""

from __future__ import annotations

import re
from html import escape
from urllib.parse import quote

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.console.access import engine, in_thread
from bot.console.corrections import (
    CorrectionError,
    export_training,
    list_corrections,
    record_correction,
    unanswered_questions,
)
from bot.console.pages import console_page, csrf_ok, form_expired, form_fields, page_header, render_page, shown_for
from bot.console.sessions import Session

DEFAULT_DAYS = 30
MAX_GROUPS_SHOWN = 200
# The longest visitor message shown in the list of corrections, and example of unanswered questions (cut after
# masking, so that a cut e-mail address or phone number is still masked for viewers).
MAX_CORRECTION_CHARS = 200
MAX_EXAMPLE_CHARS = 300
# Where a correction form may send the browser back to: a console path, nothing that could leave the site.
SAFE_NEXT = re.compile(r"/console/[A-Za-z0-9/_.~%?=&+-]*")


def safe_next(value: str) -> str:
    return value if SAFE_NEXT.fullmatch(value or "") else "/console/corrections"


def corrections_blueprint() -> Blueprint:
    corrections = Blueprint("console_corrections")

    def nav() -> str:
        return (
            '<p><a href="/console">Conversations</a> · <a href="/console/corrections">Corrections</a> · '
            '<a href="/console/unanswered">Unanswered questions</a></p>'
        )

    @corrections.get("/console/corrections", error_format="html")
    @console_page()
    async def list_page(request: Request, session: Session) -> HTTPResponse:
        rows = await in_thread(list_corrections, engine(request))
        shown = shown_for(session.member)
        lines = "".join(
            f"<tr><td>{row.created_at:%Y-%m-%d %H:%M}</td>"
            f'<td><a href="/console/conversations/{quote(row.conversation_id, safe="")}">'
            f"{escape(shown(row.text)[:MAX_CORRECTION_CHARS])}</a></td><td>{escape(row.predicted_intent or '?')}</td>"
            f"<td>{escape(row.corrected_intent)}</td><td>{escape(row.corrected_by)}</td></tr>"
            for row in rows
        )
        table = (
            "<table><thead><tr><th scope=col>When (UTC)</th><th scope=col>Visitor message</th>"
            "<th scope=col>Understood as</th><th scope=col>Corrected to</th><th scope=col>By</th></tr></thead>"
            f"<tbody>{lines}</tbody></table>"
            if rows
            else "<p>No corrections yet: correct a visitor message's intent from its conversation.</p>"
        )
        download = (
            '<p><a href="/console/corrections/export.yml" download>Download as Rasa NLU training data</a></p>'
            if session.member.is_admin and rows
            else ""
        )
        body = f"{page_header(session)}<main>{nav()}<h1>Intent corrections</h1>{download}{table}</main>"
        return render_page("Corrections", body)

    @corrections.post("/console/corrections", error_format="html")
    @console_page()
    async def correct(request: Request, session: Session) -> HTTPResponse:
        form = form_fields(request)
        if not csrf_ok(form, session):
            return form_expired()
        header = page_header(session)
        try:
            event_id = int(form.get("event_id", ""))
        except ValueError:
            event_id = -1
        try:
            await in_thread(
                record_correction, engine(request), event_id, form.get("corrected_intent", ""), session.member.name
            )
        except CorrectionError as error:
            title = "Not found" if error.status == 404 else "Not corrected"
            body = f"{header}<main>{nav()}<p class=error>{escape(str(error))}.</p></main>"
            return render_page(title, body, error.status)
        return response.redirect(safe_next(form.get("next", "")), status=303)

    @corrections.get("/console/corrections/export.yml", error_format="html")
    @console_page(admin_only="Only admins can export.")
    async def export(request: Request, session: Session) -> HTTPResponse:
        text, _ = await in_thread(export_training, engine(request), session.member.name)
        return response.text(
            text,
            content_type="application/x-yaml; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="nlu-corrections.yml"', "Cache-Control": "no-store"},
        )

    @corrections.get("/console/unanswered", error_format="html")
    @console_page()
    async def unanswered(request: Request, session: Session) -> HTTPResponse:
        try:
            days = max(1, min(int(request.args.get("days", DEFAULT_DAYS)), 3650))
        except ValueError:
            days = DEFAULT_DAYS
        # reading and grouping up to MAX_UNANSWERED_ROWS messages takes a while: never on the event loop
        message_count, groups = await in_thread(unanswered_questions, engine(request), days)
        shown = shown_for(session.member)
        lines = "".join(
            f"<tr><td>{group.count}</td><td>{escape(shown(group.example)[:MAX_EXAMPLE_CHARS])}</td>"
            f'<td><a href="/console/conversations/{quote(group.conversation_id, safe="")}">a conversation</a></td></tr>'
            for group in groups[:MAX_GROUPS_SHOWN]
        )
        table = (
            "<table><thead><tr><th scope=col>Times asked</th><th scope=col>Example</th>"
            f"<th scope=col>Seen in</th></tr></thead><tbody>{lines}</tbody></table>"
            if groups
            else "<p>No unanswered questions in this period.</p>"
        )
        periods = " · ".join(f'<a href="/console/unanswered?days={n}">{n} days</a>' for n in (7, 30, 90, 365))
        body = (
            f"{page_header(session)}<main>{nav()}<h1>Unanswered questions</h1>"
            f"<p>Visitor messages of the last {days} days that got a fallback or were out of scope, similar ones "
            f"together, most frequent first: what to teach the assistant next. {periods}</p>"
            f"<p>{message_count} messages in {len(groups)} groups.</p>{table}</main>"
        )
        return render_page("Unanswered questions", body)

    return corrections
