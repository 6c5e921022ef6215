"""The console's analytics page (/console/analytics), its CSV downloads, and GET /api/stats (issue #6).

The charts are drawn in the browser by Chart.js (/vendor/chart.umd.js, from npm) and bot/console/static/analytics.js
(/console/analytics.js), both served here, as the console's policy allows scripts from this site only. The page
hands them the numbers in a JSON block whose "<" are escaped, so nothing in it can end the block.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from urllib.parse import urlencode

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.console.access import api_member, engine, in_thread
from bot.console.analytics import (
    CHART_NAMES,
    Chart,
    DateRange,
    RangeError,
    all_charts,
    chart_named,
    parse_range,
    to_csv,
)
from bot.console.pages import console_page, page_header, render_page
from bot.console.sessions import Session
from bot.web.widget import Asset, AssetCache

SCRIPT = Asset(
    Path(__file__).resolve().parent / "static" / "analytics.js",
    "application/javascript; charset=utf-8",
    "public, max-age=300",
)


def json_for_script(data: object) -> str:
    """JSON safe inside <script type="application/json">: no "<" survives, so no "</script>" either."""
    return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")


def _table(chart: Chart) -> str:
    head = "".join(f"<th scope=col>{escape(str(column))}</th>" for column in chart.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape('' if cell is None else str(cell))}</td>" for cell in row) + "</tr>"
        for row in chart.rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def analytics_body(session: Session, period: DateRange | None, charts: list[Chart], error: str, asked: dict) -> str:
    first = period.first.isoformat() if period else asked.get("from", "")
    last = period.last.isoformat() if period else asked.get("to", "")
    form = f"""<form method="get" action="/console/analytics" class="range">
<label for="from">From</label><input id="from" name="from" type="date" value="{escape(first)}">
<label for="to">To (included, UTC)</label><input id="to" name="to" type="date" value="{escape(last)}">
<div><button type="submit">Show</button></div></form>"""
    problem = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    sections = []
    query = urlencode({"from": first, "to": last})
    for chart in charts:
        sections.append(
            f"""<section class="chart"><h2>{escape(chart.title)}</h2>
<canvas id="chart-{chart.name}" role="img" aria-label="{escape(chart.title)}"></canvas>
<p><a href="/console/analytics/{chart.name}.csv?{escape(query)}" download>Download CSV</a></p>
<details><summary>Numbers</summary>{_table(chart)}</details></section>"""
        )
    data = json_for_script({"charts": [chart.as_json() for chart in charts]})
    scripts = (
        f'<script type="application/json" id="data">{data}</script>'
        '<script src="/vendor/chart.umd.js"></script><script src="/console/analytics.js"></script>'
        if charts
        else ""
    )
    return (
        f'{page_header(session)}<main><p><a href="/console">Conversations</a></p><h1>Analytics</h1>{form}{problem}'
        f"{''.join(sections)}</main>{scripts}"
    )


def analytics_blueprint() -> Blueprint:
    analytics = Blueprint("console_analytics")
    script_cache = AssetCache()

    def asked(request: Request) -> dict[str, str]:
        return {key: (request.args.get(key) or "")[:40] for key in ("from", "to")}

    @analytics.get("/console/analytics", error_format="html")
    @console_page()
    async def page(request: Request, session: Session) -> HTTPResponse:
        dates = asked(request)
        try:
            period = parse_range(dates["from"], dates["to"])
        except RangeError as error:
            return render_page("Analytics", analytics_body(session, None, [], str(error), dates), 400)
        charts = await in_thread(all_charts, engine(request), period)
        return render_page("Analytics", analytics_body(session, period, charts, "", dates))

    @analytics.get("/console/analytics/<filename:str>", error_format="html")
    @console_page()
    async def csv_download(request: Request, session: Session, filename: str) -> HTTPResponse:
        """/console/analytics/<chart>.csv"""
        name = filename.removesuffix(".csv")
        if not filename.endswith(".csv") or name not in CHART_NAMES:
            return response.text(f"There is no chart called {name[:40]!r}.\n", status=404)
        dates = asked(request)
        try:
            period = parse_range(dates["from"], dates["to"])
        except RangeError as error:
            return response.text(f"{error}\n", status=400)
        chart = await in_thread(chart_named, engine(request), period, name)
        download = f"{name}-{period.first.isoformat()}-{period.last.isoformat()}.csv"
        return response.text(
            to_csv(chart),
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{download}"', "Cache-Control": "no-store"},
        )

    @analytics.get("/console/analytics.js")
    async def script(_: Request) -> HTTPResponse:
        body, _packed = script_cache.get(SCRIPT)
        return response.raw(body, headers={"Cache-Control": SCRIPT.cache_control}, content_type=SCRIPT.content_type)

    @analytics.get("/api/stats", error_format="json")
    async def stats(request: Request) -> HTTPResponse:
        """Every chart's rows for ?from=&to= (UTC days, both included; default the last 30 days)."""
        member = await api_member(request)
        if member is None:
            return response.json({"error": "unauthorized", "detail": "sign in or send a staff API token"}, 401)
        dates = asked(request)
        try:
            period = parse_range(dates["from"], dates["to"])
        except RangeError as error:
            return response.json({"error": "invalid_range", "detail": str(error)}, 400)
        charts = await in_thread(all_charts, engine(request), period)
        return response.json(
            {
                "from": period.first.isoformat(),
                "to": period.last.isoformat(),
                "charts": {chart.name: chart.as_json() for chart in charts},
            },
            headers={"Cache-Control": "no-store"},
        )

    return analytics
