"""The console's "Scale" benchmark: the conversation list with each single filter, and the statistics, against a
database filled by bench/console_data.py (100,000 conversations, about 2 million events).

    .venv/bin/python -m bench.console_scale [URL] [--repeat 20] [--out bench/results/console-scale.md]

It starts the real web app (`python -m bot.web`, as tests/e2e/harness.py does) on URL, adds an admin and an API
token, then for every request does 1 warm-up and --repeat timed requests, one after the other, and reports the
median and the 95th percentile of the wall-clock time (client side, over loopback) in a Markdown file. It exits
with 1 when any median is 300 ms or more. This is a benchmark, not a test: the numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import secrets
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import requests
import sqlalchemy as sa

from bench.console_data import DEFAULT_URL
from bot.console.accounts import add_staff, issue_token
from bot.storage.app_db import create_engine
from tests.e2e.harness import running_web_app

LIMIT_MS = 300.0
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "bench" / "results" / "console-scale.md"
OUTCOMES = (
    "donation_link", "donation_click", "newsletter", "fundraiser_lead", "media_lead", "safety", "fallback",
    "thumbs_down",
)  # fmt: skip


def requests_to_time(today: datetime) -> list[tuple[str, str]]:
    """(what, path and query) of every timed request."""
    day = today.date()
    list_queries = [
        ("list, no filter", ""),
        ("list, q (common word: volunteer)", "q=volunteer"),
        ("list, q (no match)", "q=no+such+words+anywhere"),
        ("list, from (90 days ago)", f"from={day - timedelta(days=90)}"),
        ("list, to (180 days ago)", f"to={day - timedelta(days=180)}"),
        ("list, status=needs_attention", "status=needs_attention"),
        ("list, status=new", "status=new"),
        ("list, tag=follow up", "tag=follow+up"),
        ("list, intent=donate", "intent=donate"),
        ("list, intent=disclose_danger", "intent=disclose_danger"),
        ("list, action=action_safety_help", "action=action_safety_help"),
        ("list, fallback=1", "fallback=1"),
        ("list, below=0.5", "below=0.5"),
        ("list, thumbs_down=1", "thumbs_down=1"),
        *((f"list, outcome={outcome}", f"outcome={outcome}") for outcome in OUTCOMES),
        ("list, no filter, page 20", "page=20"),
    ]
    return [
        *((what, f"/api/conversations?{query}") for what, query in list_queries),
        ("stats, default range (last 30 days)", "/api/stats"),
        ("stats, 365 days", f"/api/stats?from={day - timedelta(days=364)}&to={day}"),
        ("analytics page (last 30 days)", "/console/analytics"),
        ("unanswered questions page (last 30 days)", "/console/unanswered?days=30"),
        ("unanswered questions page (365 days)", "/console/unanswered?days=365"),
    ]


def sign_in(url: str, name: str, password: str) -> requests.Session:
    browser = requests.Session()
    form = browser.get(f"{url}/console/login", timeout=30)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    answer = browser.post(
        f"{url}/console/login", data={"csrf_token": csrf, "name": name, "password": password}, timeout=60
    )
    answer.raise_for_status()
    return browser


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        memory = next(
            line.split(":", 1)[1].strip() for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )  # fmt: skip
    except (OSError, StopIteration):
        memory = "?"
    return f"{cpu}, {os.cpu_count()} cores, {memory} RAM, {platform.system()} {platform.release()}"


def data_sizes(engine: sa.engine.Engine) -> list[tuple[str, str]]:
    sizes = []
    with engine.connect() as connection:
        version = connection.execute(sa.text("SHOW server_version")).scalar_one()
        sizes.append(("PostgreSQL", version))
        for label, sql in (
            ("events", "SELECT COUNT(*) FROM events"),
            ("conversations (distinct sender_id)", "SELECT COUNT(DISTINCT sender_id) FROM events"),
            ("visitor messages (user events)", "SELECT COUNT(*) FROM events WHERE type_name = 'user'"),
            ("link_clicks", "SELECT COUNT(*) FROM link_clicks"),
            ("newsletter_records", "SELECT COUNT(*) FROM newsletter_records"),
            ("enquiries", "SELECT COUNT(*) FROM enquiries"),
            ("feedback", "SELECT COUNT(*) FROM feedback"),
            ("conversation_reviews", "SELECT COUNT(*) FROM conversation_reviews"),
            ("conversation_tags", "SELECT COUNT(*) FROM conversation_tags"),
        ):
            sizes.append((label, f"{connection.execute(sa.text(sql)).scalar_one():,}"))
        size = connection.execute(sa.text("SELECT pg_size_pretty(pg_database_size(current_database()))"))
        sizes.append(("database size", size.scalar_one()))
        revision = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()
        sizes.append(("migration revision", revision))
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", nargs="?", default=DEFAULT_URL)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--title", default="Console scale benchmark")
    args = parser.parse_args(argv)
    from bot.console.summary import catch_up
    from bot.storage.migrate import upgrade

    started = time.perf_counter()
    upgrade(args.url)  # as `ijm-bot run` does before anything starts
    migrated = time.perf_counter() - started
    engine = create_engine(args.url)  # as the app makes them
    started = time.perf_counter()
    catch_up(engine)  # the console's summary of events: built in full the first time (else: nothing new)
    summarised = time.perf_counter() - started
    print(f"migrated in {migrated:.1f} s; summary up to date in {summarised:.1f} s", flush=True)
    name, password = f"bench-{secrets.token_hex(3)}", secrets.token_urlsafe(24)
    add_staff(engine, name, "admin", password, actor="bench")
    headers = {"Authorization": f"Bearer {issue_token(engine, name, actor='bench')}"}
    workdir = ROOT / "var" / "bench"
    workdir.mkdir(parents=True, exist_ok=True)
    today = datetime.now(timezone.utc)
    results = []
    first_requests = []
    with running_web_app(workdir, args.url) as url:
        browser = sign_in(url, name, password)
        for what, path in requests_to_time(today):
            client = browser if path.startswith("/console/") else requests.Session()
            client.headers.update({} if client is browser else headers)
            timings = []
            for n in range(args.repeat + 1):
                started = time.perf_counter()
                answer = client.get(url + path, timeout=600)
                elapsed = (time.perf_counter() - started) * 1000
                if answer.status_code != 200:
                    print(f"{what}: HTTP {answer.status_code}: {answer.text[:300]}", file=sys.stderr)
                    return 2
                if n == 0:
                    first_requests.append((what, elapsed))
                    listed = answer.json().get("conversations") if path.startswith("/api/conversations") else None
                else:
                    timings.append(elapsed)
            median, p95 = statistics.median(timings), percentile(timings, 0.95)
            rows = "" if listed is None else str(len(listed))
            results.append((what, path, median, p95, rows))
            print(f"{what:45} median {median:8.1f} ms   p95 {p95:8.1f} ms   {rows}", flush=True)
    sizes = data_sizes(engine)
    engine.dispose()
    slow = [row for row in results if row[2] >= LIMIT_MS]
    preparation = [("migrations (`upgrade`)", migrated), ("summary brought up to date (`catch_up`)", summarised)]
    write_report(args, results, first_requests, preparation, sizes, slow)
    print(f"report: {args.out}")
    if slow:
        print(f"{len(slow)} request(s) with a median of {LIMIT_MS:.0f} ms or more", file=sys.stderr)
        return 1
    return 0


def write_report(args, results, first_requests, preparation, sizes, slow) -> None:
    lines = [
        f"# {args.title}",
        "",
        f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC by `bench/console_scale.py` "
        f"(1 warm-up + {args.repeat} requests each, one at a time; wall-clock time at the client over loopback; "
        f"the goal: every median under {LIMIT_MS:.0f} ms).",
        "",
        "Commands:",
        "",
        "```",
        "make bench-console",
        "# which runs:",
        f".venv/bin/python -m bench.console_data --if-empty {args.url}",
        f".venv/bin/python -m bench.console_scale {args.url}",
        "```",
        "",
        f"Machine: {machine()}; Python {platform.python_version()}.",
        "",
        "| data | size |",
        "|---|---|",
        *(f"| {label} | {value} |" for label, value in sizes),
        "",
        "| request | median ms | p95 ms | rows | under the goal |",
        "|---|---:|---:|---:|---|",
        *(
            f"| {what} (`{path}`) | {median:.1f} | {p95:.1f} | {rows} | {'yes' if median < LIMIT_MS else '**no**'} |"
            for what, path, median, p95, rows in results
        ),
        "",
        "Not counted: the warm-up request of each, and, before the web app starts, the migrations and bringing the "
        "console's summary up to date (on a database that never had it, that is the full build from `events`):",
        "",
        *(f"- {what}: {seconds:.1f} s" for what, seconds in preparation),
        *(f"- warm-up of {what}: {ms:.0f} ms" for what, ms in first_requests),
        "",
        f"Result: {'all medians under the goal' if not slow else f'{len(slow)} median(s) at or over the goal'}.",
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
