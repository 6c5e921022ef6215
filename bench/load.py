"""The load benchmark (issue #7): simulated visitors hold multi-turn conversations with `ijm-bot run --instances 2`
on PostgreSQL + Redis for a fixed time; then every turn and every sign-up is looked for in the database.

    .venv/bin/python -m bench.load [--visitors 50] [--seconds 300] [--seed 7] [--keep] [--out bench/results/load.md]

It creates a fresh PostgreSQL database (ijm_load_<UTC time> on --server, dropped at the end unless --keep), starts
the cluster (`ijm-bot run --instances 2`, free ports, DATABASE_URL, REDIS_URL with a key prefix of its own,
RABBITMQ_URL, SMTP and the leads webhook unset) and waits for "IJM assistant is ready.". All the visitors come
from 127.0.0.1, so the per-address limit (RATE_LIMIT_PER_IP, 120/60 by default) would refuse most of them: it is
raised (--rate-limit-per-ip); the per-conversation limit keeps its default. The newsletter webhook points at a
receiver inside this script (a local aiohttp server answering 200), so that each sign-up has its outbox row and
the outbox worker delivers it (with no webhook configured the app writes no outbox row at all); --no-webhook
leaves it unset too, and the outbox check is then skipped.

Each visitor (an asyncio task; one aiohttp session) loops over conversations, each with a sender id of its own,
sent over REST through nginx with `?sender=<id>` (which keeps a conversation on one Rasa server):
"when was IJM founded?", "tell me more", "where does IJM work?", "how can I donate?", and in every third
conversation a full newsletter sign-up with a unique address (load+<run>-<n>@example.org): the request, the
address, a first name, "yes, I agree". Before each message it waits a random think time (--think, seeded). Every
reply is checked against the content files (the founding answer and its "more", the field offices answer, the
tracked donate link for this conversation, each question of the form, the thank-you naming the address); a wrong
reply is an error and ends that conversation. So are an HTTP status other than 200, a timeout, a connection
error, an empty answer and the apology ("something went wrong").

Measured at the client: the latency of every message (p50/p95/p99, max), the throughput overall and per minute;
on the machine: the resident memory (VmRSS) of every process of the cluster every --sample seconds. After the
run, once the outbox is empty: every acknowledged visitor message must be a `user` event of its conversation,
in order, and every reply received a `bot` event, in order; every completed sign-up a `subscribe` row in
newsletter_records with its address, conversation and consent sentence, with its outbox row delivered once.

The report goes to --out (Markdown). Exit code 0 when there was no error and everything was found, else 1; 2
when the cluster could not be started. This is a benchmark, not a test: the numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import aiohttp
import sqlalchemy as sa
from aiohttp import web
from sqlalchemy.engine import make_url

from bench.console_scale import machine, percentile
from bot.cli import READY_MARKER
from bot.content.facts import facts
from bot.content.supporters import consent_sentence, prompt_for
from tests.e2e.harness import IJM_BOT, free_port

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "bench" / "results" / "load.md"
DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
INSTANCES = 2
START_TIMEOUT = 600
APOLOGY = "something went wrong"  # never_silent's apology and the forms' "couldn't save that"
RAMP_SECONDS = 5.0  # visitors start spread over the first seconds
OUTBOX_DRAIN_SECONDS = 90


# ---------------------------------------------------------------------------------------------- conversations


@dataclass
class Step:
    what: str  # names the step in error kinds
    text: str
    check: object  # (sender, texts) -> None when right, else what is wrong


def _first(texts: list[str]) -> str:
    return texts[0] if texts else ""


def conversation_steps(sender: str, email: str | None, first_name: str) -> list[Step]:
    content = facts()
    founding, offices = content.card("founding_year"), content.summary(content.topic("field_offices"))

    def starts(expected: str):
        return lambda texts: None if _first(texts).startswith(expected) else f"expected {expected[:50]!r}…"

    def donate(texts: list[str]) -> str | None:
        link = f"/go/donate?c={sender}"
        return None if any(link in text for text in texts) else f"no {link} in the replies"

    def asks(slot: str):
        question = prompt_for(slot).text
        return lambda texts: None if texts and texts[-1] == question else f"expected the question {question[:50]!r}…"

    def consent(texts: list[str]) -> str | None:
        return None if texts and consent_sentence() in texts[-1] else "expected the consent sentence"

    def thanked(texts: list[str]) -> str | None:
        expected = f"Thank you, {first_name}! {email} is now signed up"
        return None if _first(texts).startswith(expected) else f"expected {expected!r}"

    steps = [
        Step("founding question", "when was IJM founded?", starts(founding.answer)),
        Step("tell me more", "tell me more", starts(content.next_card(founding).answer)),
        Step("field offices question", "where does IJM work?", starts(offices.answer)),
        Step("donation question", "how can I donate?", donate),
    ]
    if email:
        steps += [
            Step("newsletter request", "I'd like to sign up for your newsletter", asks("newsletter_email")),
            Step("newsletter e-mail", email, asks("newsletter_first_name")),
            Step("newsletter first name", first_name, consent),
            Step("newsletter consent", "yes, I agree", thanked),
        ]
    return steps


# First names the visitors give (the form must thank them by name). Left out: names the trained model reads as
# `deny` ("Noor" 0.94, "Nora" 0.98, "Noah" 0.99 with models/ijm-48be8229ee81e0e4), which the form takes for
# "skip" (bot/supporters/understanding.py, wants_to_skip) and so signs the visitor up without the name: a
# defect of understanding, not of load, found by this benchmark's trial run and reported on its own.
FIRST_NAMES = ("Robin", "Sam", "Alex", "Dana", "Maria", "Kwame", "Lea", "Jun", "Priya")
MISREAD_NAMES = ("Noor", "Nora", "Noah")


# ---------------------------------------------------------------------------------------------- the run's records


@dataclass
class Request:
    sent_at: float  # seconds since the start of the load
    seconds: float  # until the answer (or the error)
    ok: bool
    instance: str
    step: str


@dataclass
class Conversation:
    sender: str
    acknowledged: list[str] = field(default_factory=list)  # visitor messages answered with HTTP 200
    unacknowledged: list[str] = field(default_factory=list)  # sent, no 200 (timeout, 5xx, ...)
    replies: list[str] = field(default_factory=list)  # every text received, in order
    email: str | None = None
    signed_up: bool = False  # the form thanked the visitor
    cut: bool = False  # the run ended before the conversation did


@dataclass
class Run:
    tag: str
    chat_url: str
    started: float = 0.0
    deadline: float = 0.0
    requests: list[Request] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    conversations: list[Conversation] = field(default_factory=list)
    counter: int = 0

    def error(self, kind: str, example: str) -> None:
        self.errors[kind] += 1
        if len(self.examples[kind]) < 3:
            self.examples[kind].append(example)
        print(f"ERROR {kind}: {example}", file=sys.stderr, flush=True)


async def say(run: Run, client: aiohttp.ClientSession, talk: Conversation, step: Step, timeout: float) -> bool:
    started = time.monotonic()
    instance, ok = "", False
    try:
        async with client.post(
            f"{run.chat_url}/webhooks/rest/webhook",
            params={"sender": talk.sender},
            json={"sender": talk.sender, "message": step.text},
            timeout=aiohttp.ClientTimeout(total=timeout),
        ) as answer:
            body = await answer.text()
            instance = answer.headers.get("X-IJM-Instance", "")
            status = answer.status
    except asyncio.TimeoutError:
        talk.unacknowledged.append(step.text)
        run.error("timeout", f"{talk.sender} {step.what}: no answer in {timeout:g} s")
        return _record(run, started, ok, instance, step)
    except aiohttp.ClientError as error:
        talk.unacknowledged.append(step.text)
        run.error(f"connection ({type(error).__name__})", f"{talk.sender} {step.what}: {error}")
        return _record(run, started, ok, instance, step)
    if status != 200:
        talk.unacknowledged.append(step.text)
        run.error(f"HTTP {status}", f"{talk.sender} {step.what}: {body[:200]}")
        return _record(run, started, ok, instance, step)
    try:
        texts = [reply.get("text") or "" for reply in json.loads(body)]
    except (ValueError, AttributeError):
        talk.unacknowledged.append(step.text)
        run.error("unreadable answer", f"{talk.sender} {step.what}: {body[:200]}")
        return _record(run, started, ok, instance, step)
    talk.acknowledged.append(step.text)
    talk.replies.extend(text for text in texts if text)
    if not any(texts):
        run.error("no reply", f"{talk.sender} {step.what}: {body[:200]}")
    elif any(APOLOGY in text.lower() for text in texts):
        run.error("apology (something went wrong)", f"{talk.sender} {step.what}: {texts[0][:200]}")
    else:
        wrong = step.check(texts)
        if wrong:
            run.error(f"wrong reply: {step.what}", f"{talk.sender}: {wrong}; got {texts!r}"[:600])
        else:
            ok = True
    return _record(run, started, ok, instance, step)


def _record(run: Run, started: float, ok: bool, instance: str, step: Step) -> bool:
    run.requests.append(Request(started - run.started, time.monotonic() - started, ok, instance, step.what))
    return ok


async def visitor(run: Run, number: int, client: aiohttp.ClientSession, args: argparse.Namespace) -> None:
    rng = random.Random(f"{args.seed}-{number}")
    low, high = args.think
    await asyncio.sleep(rng.uniform(0, RAMP_SECONDS))
    own = 0
    while time.monotonic() < run.deadline:
        own += 1
        run.counter += 1
        index = run.counter
        sender = f"load-{run.tag}-v{number:02d}-c{own}"
        email = f"load+{run.tag}-{index}@example.org" if index % args.signup_every == 0 else None
        talk = Conversation(sender, email=email)
        run.conversations.append(talk)
        first_name = rng.choice(FIRST_NAMES)
        for step in conversation_steps(sender, email, first_name):
            await asyncio.sleep(rng.uniform(low, high))
            if time.monotonic() >= run.deadline:
                talk.cut = True
                break
            ok = await say(run, client, talk, step, args.timeout)
            if step.what == "newsletter consent":  # stored, whatever else is wrong with the thank-you
                talk.signed_up = any(f"{email} is now signed up" in text for text in talk.replies[-3:])
            if not ok:
                break  # the conversation is not where the next step expects it


# ---------------------------------------------------------------------------------------------- the cluster


def ports_in_log(output: str, kind: str) -> list[int]:
    found = re.search(rf"{kind} \(127\.0\.0\.1:([\d, ]+)\)", output)
    return [int(port) for port in found.group(1).split(",")] if found else []


def process_tree(root: int) -> dict[int, tuple[int, list[str]]]:
    """pid -> (parent pid, command line) of `root` and all its descendants."""
    parents, commands = {}, {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
            commands[int(entry.name)] = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except (OSError, IndexError, ValueError):
            continue
    tree, frontier = {}, [root]
    while frontier:
        pid = frontier.pop()
        if pid in commands:
            tree[pid] = (parents.get(pid, 0), commands[pid])
            frontier.extend(child for child, parent in parents.items() if parent == pid)
    return tree


def label(command: list[str], rasa_ports: list[int], action_ports: list[int]) -> str | None:
    def port() -> int | None:
        if "--port" in command and command.index("--port") + 1 < len(command):
            value = command[command.index("--port") + 1]
            return int(value) if value.isdigit() else None
        return None

    words = [Path(word).name for word in command[:2]]
    if "rasa" in words and "run" in command and port() in rasa_ports:
        return f"Rasa server {rasa_ports.index(port()) + 1}"
    if "rasa_sdk" in command and port() in action_ports:
        return f"action server {action_ports.index(port()) + 1}"
    if "bot.web" in command:
        return "web app"
    if "bot.outbox" in command:
        return "outbox worker"
    if command[0].startswith("nginx: master"):
        return "nginx master"
    if command[0].startswith("nginx: worker"):
        return "nginx worker"
    if "ijm-bot" in words and "run" in command:
        return "ijm-bot run (supervisor)"
    return None


def rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def sample_memory(root: int, output: str) -> dict[str, int]:
    """Resident memory (KiB) per process of the cluster, by role; children of a role are added to it."""
    rasa_ports, action_ports = ports_in_log(output, "Rasa servers"), ports_in_log(output, "action servers")
    tree = process_tree(root)
    names: dict[int, str] = {}
    for pid, (_, command) in sorted(tree.items()):
        names[pid] = label(command, rasa_ports, action_ports) or ""
    memory: dict[str, int] = defaultdict(int)
    for pid, (parent, command) in tree.items():
        name, up = names[pid], parent
        while not name and up in tree:  # e.g. a helper process of a Rasa server: counted with it
            name, up = names[up], tree[up][0]
        rss = rss_kib(pid)
        if rss is not None:
            memory[name or Path(command[0]).name] += rss
    return dict(memory)


@dataclass
class Cluster:
    process: subprocess.Popen
    log: Path
    env: dict[str, str]

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                return self.process.wait(timeout=90)
            except subprocess.TimeoutExpired:
                self.process.kill()
                return self.process.wait()
        return self.process.returncode


def start_cluster(args, database_url: str, tag: str, webhook: str | None, workdir: Path) -> Cluster:
    env = dict(os.environ)
    for name in ("RABBITMQ_URL", "NEWSLETTER_WEBHOOK_URL", "LEADS_WEBHOOK_URL", "SMTP_HOST"):
        env.pop(name, None)
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=args.redis,
        REDIS_KEY_PREFIX=f"ijmload{tag}",
        RASA_PORT=str(free_port()),
        ACTION_PORT=str(free_port()),
        WEB_PORT=str(free_port()),
        CLUSTER_PORT_BASE=str(free_port()),
        RATE_LIMIT_PER_IP=args.rate_limit_per_ip,
        READY_TIMEOUT=str(START_TIMEOUT - 20),
        RASA_TELEMETRY_ENABLED="false",
    )
    if webhook:
        env["NEWSLETTER_WEBHOOK_URL"] = webhook
    log = workdir / "ijm-bot.log"
    with open(log, "w", encoding="utf-8") as out:
        process = subprocess.Popen(
            [IJM_BOT, "run", "--instances", str(INSTANCES)], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    return Cluster(process, log, env)


def wait_until_ready(cluster: Cluster) -> float:
    started = time.monotonic()
    while READY_MARKER not in cluster.output():
        if cluster.process.poll() is not None:
            raise RuntimeError(f"ijm-bot run exited with {cluster.process.returncode}:\n{cluster.output()[-4000:]}")
        if time.monotonic() - started > START_TIMEOUT:
            cluster.stop()
            raise RuntimeError(f"not ready after {START_TIMEOUT} s:\n{cluster.output()[-4000:]}")
        time.sleep(0.5)
    return time.monotonic() - started


# ---------------------------------------------------------------------------------------------- the database


def admin_engine(server: str) -> sa.engine.Engine:
    return sa.create_engine(server, isolation_level="AUTOCOMMIT")


def create_database(server: str, name: str) -> str:
    engine = admin_engine(server)
    with engine.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(server).set(database=name).render_as_string(hide_password=False)


def drop_database(server: str, name: str) -> None:
    engine = admin_engine(server)
    with engine.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def outbox_pending(database_url: str) -> int:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text("SELECT count(*) FROM outbox WHERE status <> 'sent'")).scalar_one()
    finally:
        engine.dispose()


def verify(run: Run, database_url: str, receiver: list[dict] | None) -> tuple[list[tuple[str, str]], list[str]]:
    """(check, figures) rows for the report, and the mismatches found (each an error)."""
    engine = sa.create_engine(database_url)
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT sender_id, type_name, data FROM events WHERE sender_id LIKE :p ORDER BY id"),
            {"p": f"load-{run.tag}-%"},
        ).all()
        records = connection.execute(
            sa.text("SELECT id, email, action, conversation_id, consent_text FROM newsletter_records")
        ).all()
        outbox = connection.execute(
            sa.text("SELECT record_id, destination, status, attempts FROM outbox WHERE record_type = 'newsletter'")
        ).all()
        totals = connection.execute(
            sa.text(
                "SELECT count(*), count(*) FILTER (WHERE type_name = 'user'),"
                " count(*) FILTER (WHERE type_name = 'bot'), count(DISTINCT sender_id) FROM events"
            )
        ).one()
    engine.dispose()
    users: dict[str, list[str]] = defaultdict(list)
    bots: dict[str, list[str]] = defaultdict(list)
    for sender, kind, data in rows:
        text = json.loads(data).get("text")
        if kind == "user":
            users[sender].append(text)
        elif kind == "bot":
            bots[sender].append(text or "")
    problems: list[str] = []
    acknowledged = sum(len(talk.acknowledged) for talk in run.conversations)
    unacknowledged = sum(len(talk.unacknowledged) for talk in run.conversations)
    user_found = bot_found = received = 0
    for talk in run.conversations:
        stored = users.get(talk.sender, [])
        if stored == talk.acknowledged:
            user_found += len(stored)
        else:
            position, found = 0, 0
            for text in talk.acknowledged:  # every acknowledged one, in order (a timed-out one may be there too)
                while position < len(stored) and stored[position] != text:
                    position += 1
                if position < len(stored):
                    found, position = found + 1, position + 1
            user_found += found
            if found < len(talk.acknowledged) or len(stored) > len(talk.acknowledged) + len(talk.unacknowledged):
                problems.append(
                    f"{talk.sender}: visitor messages acknowledged {talk.acknowledged!r}, stored {stored!r}"
                )
        joined, position = "\n\n".join(bots.get(talk.sender, [])), 0
        for text in talk.replies:  # one stored answer may reach REST as several messages
            received += 1
            at = joined.find(text, position)
            if at < 0:
                problems.append(f"{talk.sender}: reply not stored (in order): {text[:80]!r}")
                continue
            bot_found, position = bot_found + 1, at + len(text)
    signed_up = {talk.email: talk.sender for talk in run.conversations if talk.signed_up}
    subscribes = {r.email: r for r in records if r.action == "subscribe"}
    stored_signups = 0
    for email, sender in signed_up.items():
        record = subscribes.get(email)
        if record is None:
            problems.append(f"sign-up of {email} ({sender}) not in newsletter_records")
        elif record.conversation_id != sender or record.consent_text != consent_sentence():
            problems.append(f"sign-up of {email}: stored with conversation {record.conversation_id!r} / other consent")
        else:
            stored_signups += 1
    ours = [r for r in records if r.email in signed_up]
    extra = [r.email for r in records if r.email not in signed_up]
    if extra:
        problems.append(f"{len(extra)} newsletter record(s) no visitor completed: {extra[:5]}")
    if len(ours) != len(signed_up):
        problems.append(f"{len(ours)} newsletter records for {len(signed_up)} completed sign-ups (duplicates?)")
    figures = [
        (
            "conversations (sender ids)",
            f"{len(run.conversations):,} started, {sum(1 for t in run.conversations if t.acknowledged):,} with a "
            f"message answered; {totals[3]:,} in `events` (a conversation cut before its first message has none)",
        ),
        (
            "visitor messages",
            f"{acknowledged:,} acknowledged (HTTP 200), {unacknowledged:,} unacknowledged; "
            f"{sum(len(v) for v in users.values()):,} `user` events stored; "
            f"{user_found:,} of the acknowledged found for their conversation, in order",
        ),
        (
            "bot replies",
            f"{received:,} received; {sum(len(v) for v in bots.values()):,} `bot` events stored; "
            f"{bot_found:,} of the received found for their conversation, in order (Rasa's REST channel sends "
            "a text with blank lines as several messages: more received than stored)",
        ),
        ("all events in the database", f"{totals[0]:,} ({totals[1]:,} user, {totals[2]:,} bot)"),
        (
            "newsletter sign-ups",
            f"{len(signed_up):,} completed (thanked); {stored_signups:,} found in `newsletter_records` (subscribe, "
            f"address, conversation, consent sentence); {len(records):,} rows in the table",
        ),
    ]
    if receiver is None:
        figures.append(("outbox", f"not checked (--no-webhook: no destination, so no row): {len(outbox)} rows"))
    else:
        ids = {r.id for r in ours}
        rows_for = Counter(row.record_id for row in outbox if row.record_id in ids)
        sent = sum(1 for row in outbox if row.record_id in ids and row.status == "sent")
        missing = [r.email for r in ours if rows_for[r.id] != 1]
        if missing:
            problems.append(f"{len(missing)} sign-up(s) without exactly one outbox row: {missing[:5]}")
        if sent != len(ours):
            problems.append(f"{len(ours) - sent} outbox row(s) of sign-ups not sent")
        delivered = Counter(body.get("email") for body in receiver)
        twice = [email for email, count in delivered.items() if count > 1]
        if set(delivered) != set(signed_up) or twice:
            problems.append(
                f"webhook received {len(receiver)} deliveries for {len(signed_up)} sign-ups "
                f"(missing {len(set(signed_up) - set(delivered))}, twice {len(twice)})"
            )
        attempts = max((row.attempts for row in outbox), default=0)
        figures.append(
            (
                "outbox (newsletter webhook)",
                f"{sum(rows_for.values()):,} rows for the {len(ours):,} stored sign-ups, {sent:,} sent "
                f"(most attempts for one row: {attempts}); the receiver got {len(receiver):,} deliveries, "
                f"{len(delivered):,} distinct addresses",
            )
        )
    return figures, problems


# ---------------------------------------------------------------------------------------------- the load


async def webhook_receiver(received: list[dict]) -> tuple[web.AppRunner, str]:
    async def hook(request: web.Request) -> web.Response:
        received.append(await request.json())
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/newsletter", hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}/newsletter"


async def sampler(run: Run, cluster: Cluster, every: float, samples: list[tuple[float, dict[str, int]]]) -> None:
    while True:
        samples.append((time.monotonic() - run.started, sample_memory(cluster.process.pid, cluster.output())))
        await asyncio.sleep(every)


async def load(run: Run, cluster: Cluster, args, samples) -> float:
    run.started = time.monotonic()
    run.deadline = run.started + args.seconds
    memory = asyncio.create_task(sampler(run, cluster, args.sample, samples))
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    async with aiohttp.ClientSession(connector=connector) as client:
        await asyncio.gather(*(visitor(run, number, client, args) for number in range(1, args.visitors + 1)))
    memory.cancel()
    return time.monotonic() - run.started


# ---------------------------------------------------------------------------------------------- the report


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f}"


def latency_row(requests: list[Request]) -> tuple[str, str, str, str, str]:
    times = [r.seconds for r in requests]
    if not times:
        return ("–",) * 5
    return (
        ms(percentile(times, 0.50)),
        ms(percentile(times, 0.95)),
        ms(percentile(times, 0.99)),
        ms(max(times)),
        ms(statistics.fmean(times)),
    )


def write_report(args, context: dict) -> None:
    run: Run = context["run"]
    samples = context["samples"]
    elapsed = context["elapsed"]
    answered = run.requests
    errors = sum(run.errors.values())
    problems = context["problems"]
    passed = errors == 0 and not problems and not context["restarts"]
    by_instance = Counter(r.instance or "(none)" for r in answered)
    lines = [
        "# Load benchmark",
        "",
        f"Measured {context['date']:%Y-%m-%d %H:%M} UTC by `bench/load.py`: {args.visitors} simulated visitors for "
        f"{args.seconds} s against `ijm-bot run --instances {INSTANCES}` on PostgreSQL + Redis, then every turn and "
        "every sign-up looked for in the database.",
        "",
        f"**Result: {'PASSED' if passed else 'FAILED'}** — {len(answered):,} messages, "
        f"{len(answered) / elapsed:.1f} messages/s, p50 {latency_row(answered)[0]} ms, "
        f"p95 {latency_row(answered)[1]} ms, p99 {latency_row(answered)[2]} ms; "
        f"{errors} error(s); {len(problems)} mismatch(es) in the database; "
        f"{len(context['restarts'])} process restart(s).",
        "",
        "Command:",
        "",
        "```",
        "make bench-load",
        "# which runs:",
        f".venv/bin/python -m bench.load {' '.join(context['argv'])}".rstrip(),
        "```",
        "",
        f"Machine: {machine()}; Python {platform.python_version()}; {context['postgres']}; Redis "
        f"{context['redis_version']}. The load generator (one asyncio process, aiohttp) runs on the same machine and "
        "shares its 2 cores with the cluster.",
        "",
        "## Settings and topology",
        "",
        "| setting | value |",
        "|---|---|",
        f"| visitors (concurrent, closed loop) | {args.visitors} |",
        f"| duration | {args.seconds} s of load (messages stop at the deadline; a conversation under way is cut) "
        f"after a ramp-up: each visitor starts at a random moment in the first {RAMP_SECONDS:g} s |",
        f"| think time | before each message, uniform random {args.think[0]:g}–{args.think[1]:g} s "
        f"(seed {args.seed}, one generator per visitor) |",
        '| conversation | "when was IJM founded?", "tell me more", "where does IJM work?", "how can I donate?" '
        f"(every conversation); then in every {_ordinal(args.signup_every)} conversation a newsletter sign-up: "
        '"I\'d like to sign up for your newsletter", a unique address `load+<run>-<n>@example.org`, a first name, '
        '"yes, I agree". First names: '
        + ", ".join(FIRST_NAMES)
        + f" (left out: {', '.join(MISREAD_NAMES)}, which the model reads as `deny`, so the form drops the name as "
        "a skip — a defect of understanding, not of load) |",
        f"| request timeout | {args.timeout:g} s |",
        "| channel | REST through nginx, `POST /webhooks/rest/webhook?sender=<id>` (the sender in the query keeps the "
        "conversation on one Rasa server) |",
        f"| database | a fresh PostgreSQL database `{context['database']}` "
        f"({'kept' if args.keep else 'dropped at the end'}) |",
        f"| Redis | `{args.redis}`, lock keys prefixed `{context['redis_prefix']}` |",
        "| RabbitMQ | not used (RABBITMQ_URL unset) |",
        f"| `RATE_LIMIT_PER_IP` | `{args.rate_limit_per_ip}` — every visitor comes from 127.0.0.1 (nginx is a trusted "
        "proxy, so its X-Forwarded-For names 127.0.0.1), and the default 120/60 would refuse all but 2 messages/s "
        "(per Rasa server); `RATE_LIMIT_PER_SESSION` keeps its default 20/60 (a conversation sends at most 8) |",
        f"| newsletter webhook | {context['webhook_note']} |",
        "| leads webhook, SMTP | unset |",
        f"| memory | VmRSS of every process of the cluster (from `/proc/<pid>/status`) every {args.sample:g} s |",
        "",
        "```",
        "load generator ──► nginx :RASA_PORT ──(hash on ?sender=)──► Rasa server 1, Rasa server 2",
        "                                                                 │ ACTION_SERVER_URL",
        "                    nginx :ACTION_PORT ◄─────────────────────────┘",
        "                         └─(round robin)──► action server 1, action server 2",
        "                    web app (behind nginx :WEB_PORT), outbox worker ──► newsletter webhook",
        "                    all on PostgreSQL (tracker store + app tables) and Redis (conversation locks)",
        "```",
        "",
        f"The cluster was ready {context['ready_seconds']:.0f} s after `ijm-bot run` started (not counted). "
        f"Messages answered per Rasa server (X-IJM-Instance): "
        + ", ".join(f"{name} {count:,}" for name, count in sorted(by_instance.items()))
        + ".",
        "",
        "## Throughput and latency",
        "",
        "Latency: from sending the request to the end of the answer, at the client (over loopback, through nginx).",
        "",
        "| | messages | messages/s | p50 ms | p95 ms | p99 ms | max ms | mean ms | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| whole run ({elapsed:.0f} s) | {len(answered):,} | {len(answered) / elapsed:.2f} | "
        + " | ".join(latency_row(answered))
        + f" | {errors} |",
    ]
    minutes = defaultdict(list)
    for request in answered:
        minutes[int(request.sent_at // 60)].append(request)
    for minute in sorted(minutes):
        chunk = minutes[minute]
        span = min(60.0, max(1.0, elapsed - minute * 60))
        failed = sum(1 for r in chunk if not r.ok)
        lines.append(
            f"| minute {minute + 1} | {len(chunk):,} | {len(chunk) / span:.2f} | "
            + " | ".join(latency_row(chunk))
            + f" | {failed} |"
        )
    steps = context["step_latency"]
    conversations = run.conversations
    lines += [
        "",
        f"Conversations: {len(conversations):,} started, "
        f"{sum(1 for t in conversations if not t.cut and len(t.acknowledged) == _expected(t)):,} completed, "
        f"{sum(1 for t in conversations if t.cut):,} cut by the end of the run; newsletter sign-ups completed: "
        f"{sum(1 for t in conversations if t.signed_up):,} (of {sum(1 for t in conversations if t.email):,} "
        "begun).",
        "",
        "| step | messages | p50 ms | p95 ms | p99 ms | max ms | mean ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
        *(f"| {what} | {len(items):,} | " + " | ".join(latency_row(items)) + " |" for what, items in steps.items()),
        "",
        "## Errors",
        "",
    ]
    if run.errors:
        lines += ["| kind | count | examples |", "|---|---:|---|"]
        for kind, count in run.errors.most_common():
            examples = "<br>".join(_cell(example) for example in run.examples[kind])
            lines.append(f"| {_cell(kind)} | {count} | {examples} |")
    else:
        lines.append(
            "None: every message got HTTP 200 within the timeout, with replies, no apology, and the reply each "
            "step expects."
        )
    if context["restarts"]:
        lines += ["", "Processes restarted during the run (from the log):", ""]
        lines += [f"- `{_cell(line)}`" for line in context["restarts"]]
    lines += [
        "",
        f"Lines at ERROR level (or tracebacks) in the cluster's log during the run: {len(context['log_errors'])}"
        + (":" if context["log_errors"] else "."),
        "",
        *(f"- `{_cell(line[:300])}`" for line in context["log_errors"][:10]),
        *([""] if context["log_errors"] else []),
        "## Memory (resident, MiB)",
        "",
    ]
    names = _process_order({name for _, memory in samples for name in memory})
    lines += [
        "| process | start | peak | end |",
        "|---|---:|---:|---:|",
    ]
    for name in names:
        values = [memory.get(name) for _, memory in samples if memory.get(name) is not None]
        if values:
            lines.append(f"| {name} | {_mib(values[0])} | {_mib(max(values))} | {_mib(values[-1])} |")
    totals = [sum(memory.values()) for _, memory in samples]
    if totals:
        lines.append(f"| **all** | {_mib(totals[0])} | {_mib(max(totals))} | {_mib(totals[-1])} |")
    every = max(1, round(30 / args.sample))
    shown = [sample for index, sample in enumerate(samples) if index % every == 0 or index == len(samples) - 1]
    lines += [
        "",
        f"Over time (every {every * args.sample:g} s; the last row after the run and the outbox drain):",
        "",
        "| s | " + " | ".join(names) + " | all |",
        "|---:|" + "---:|" * (len(names) + 1),
    ]
    for at, memory in shown:
        cells = " | ".join(_mib(memory[name]) if name in memory else "–" for name in names)
        lines.append(f"| {at:.0f} | {cells} | {_mib(sum(memory.values()))} |")
    lines += [
        "",
        "## Stored versus sent",
        "",
        "After the load, once the outbox had nothing pending (or after "
        f"{OUTBOX_DRAIN_SECONDS} s), and after the cluster stopped (Ctrl-C):",
        "",
        "| what | figures |",
        "|---|---|",
        *(f"| {what} | {_cell(value)} |" for what, value in context["figures"]),
        "",
    ]
    if problems:
        lines += [f"Mismatches ({len(problems)}; the first 20):", ""]
        lines += [f"- {_cell(problem[:400])}" for problem in problems[:20]]
    else:
        lines.append("No mismatch: everything acknowledged was stored, in order, and every sign-up with its delivery.")
    lines += [
        "",
        "## Verdict",
        "",
        (
            f"PASSED: no error in {len(answered):,} messages from {args.visitors} concurrent visitors over "
            f"{args.seconds} s, and every turn and sign-up stored."
            if passed
            else f"FAILED: {errors} error(s) at the client, {len(problems)} mismatch(es) in the database, "
            f"{len(context['restarts'])} process restart(s). See above."
        ),
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines), encoding="utf-8")


def _expected(talk: Conversation) -> int:
    return 8 if talk.email else 4


def _ordinal(n: int) -> str:
    return {1: "", 2: "second", 3: "third"}.get(n, f"{n}th")


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _mib(kib: int) -> str:
    return f"{kib / 1024:,.0f}"


def _process_order(names: set[str]) -> list[str]:
    order = [
        "Rasa server 1", "Rasa server 2", "action server 1", "action server 2", "web app", "outbox worker",
        "nginx master", "nginx worker", "ijm-bot run (supervisor)",
    ]  # fmt: skip
    return [name for name in order if name in names] + sorted(names - set(order))


# ---------------------------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--visitors", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--think", type=float, nargs=2, default=(0.5, 1.5), metavar=("MIN", "MAX"))
    parser.add_argument("--signup-every", type=int, default=3, help="a newsletter sign-up in every Nth conversation")
    parser.add_argument("--timeout", type=float, default=60, help="seconds one message may take")
    parser.add_argument("--sample", type=float, default=10, help="seconds between two memory samples")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--server", default=DEFAULT_SERVER, help="PostgreSQL server (any database on it)")
    parser.add_argument("--redis", default=DEFAULT_REDIS)
    parser.add_argument("--rate-limit-per-ip", default="100000/60")
    parser.add_argument("--no-webhook", action="store_true", help="leave NEWSLETTER_WEBHOOK_URL unset")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    return parser.parse_args(argv)


def redis_version(url: str) -> str:
    try:
        import redis

        return str(redis.Redis.from_url(url, socket_timeout=2).info("server")["redis_version"])
    except Exception as error:  # only shown in the report
        return f"? ({type(error).__name__})"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    begun = time.monotonic()
    date = datetime.now(timezone.utc)
    tag = date.strftime("%Y%m%d%H%M%S")
    database = f"ijm_load_{tag}"
    workdir = ROOT / "var" / "bench" / f"load-{tag}"
    workdir.mkdir(parents=True, exist_ok=True)
    database_url = create_database(args.server, database)
    print(f"database {database}; log {workdir / 'ijm-bot.log'}", flush=True)
    received: list[dict] = []
    loop = asyncio.new_event_loop()
    runner, webhook = (None, None) if args.no_webhook else loop.run_until_complete(webhook_receiver(received))
    cluster = start_cluster(args, database_url, tag, webhook, workdir)
    try:
        try:
            ready = wait_until_ready(cluster)
        except RuntimeError as error:
            print(f"the cluster did not start: {error}", file=sys.stderr)
            return 2
        print(f"cluster ready in {ready:.0f} s; {args.visitors} visitors for {args.seconds:g} s", flush=True)
        log_before = len(cluster.output())
        run = Run(tag, f"http://127.0.0.1:{cluster.env['RASA_PORT']}")
        samples: list[tuple[float, dict[str, int]]] = []
        elapsed = loop.run_until_complete(load(run, cluster, args, samples))
        print(f"load done: {len(run.requests)} messages in {elapsed:.0f} s, {sum(run.errors.values())} errors")
        drain_deadline = time.monotonic() + OUTBOX_DRAIN_SECONDS
        while not args.no_webhook and outbox_pending(database_url) and time.monotonic() < drain_deadline:
            loop.run_until_complete(asyncio.sleep(1))
        samples.append((time.monotonic() - run.started, sample_memory(cluster.process.pid, cluster.output())))
        during = cluster.output()[log_before:]
        stopped = cluster.stop()
        print(f"cluster stopped (exit code {stopped})", flush=True)
        restarts = [line.strip() for line in during.splitlines() if "stopped unexpectedly" in line]
        log_errors = [
            line.strip() for line in during.splitlines() if re.search(r"\bERROR\b|Traceback \(most recent", line)
        ]
        figures, problems = verify(run, database_url, None if args.no_webhook else received)
        engine = admin_engine(database_url)
        with engine.connect() as connection:
            postgres = "PostgreSQL " + connection.execute(sa.text("SHOW server_version")).scalar_one()
        engine.dispose()
        by_step: dict[str, list[Request]] = defaultdict(list)
        context = {
            "run": run,
            "samples": samples,
            "elapsed": elapsed,
            "problems": problems,
            "figures": figures,
            "restarts": restarts,
            "log_errors": log_errors,
            "date": date,
            "argv": sys.argv[1:] if argv is None else argv,
            "postgres": postgres,
            "redis_version": redis_version(args.redis),
            "database": database,
            "redis_prefix": f"ijmload{tag}",
            "webhook_note": (
                "unset (--no-webhook): no outbox rows are written, the outbox is not checked"
                if args.no_webhook
                else "a receiver inside bench/load.py (aiohttp on 127.0.0.1, answers 200): with no webhook configured "
                "the app writes no outbox row, so this is what gives every sign-up its outbox row and delivery"
            ),
            "ready_seconds": ready,
            "step_latency": by_step,
        }
        for request in run.requests:
            by_step[request.step].append(request)
        write_report(args, context)
        print(f"report: {args.out} (whole benchmark {time.monotonic() - begun:.0f} s)")
        for problem in problems[:20]:
            print(f"MISMATCH {problem}", file=sys.stderr)
        passed = not run.errors and not problems and not restarts
        print("PASSED" if passed else "FAILED", flush=True)
        return 0 if passed else 1
    finally:
        cluster.stop()
        if runner is not None:
            loop.run_until_complete(runner.cleanup())
        loop.close()
        if not args.keep:
            drop_database(args.server, database)


if __name__ == "__main__":
    sys.exit(main())
