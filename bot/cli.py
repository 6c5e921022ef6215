"""`ijm-bot`: the project's command line (run, train, migrate, evaluate, outbox, export)."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa

from bot.cluster import ClusterRefused, build_cluster, check_cluster
from bot.console.accounts import any_staff
from bot.console.commands import add_staff_parser, run_staff_command
from bot.console.corrections import export_training
from bot.console.erase import erase_conversation, erased_anything
from bot.console.retention import purge
from bot.endpoints import rasa_endpoints, unreachable_services
from bot.model import RUN_TUNING_ENV, TrainingFailed, child_env, ensure_model, rasa_executable
from bot.outbox import admin as outbox_admin
from bot.outbox.worker import READY_LINE as OUTBOX_READY_LINE
from bot.settings import PROJECT_ROOT, Settings, SettingsError
from bot.storage.database import DatabaseUnreachable, check_database, resolve_database_url
from bot.storage.migrate import upgrade as upgrade_database
from bot.stream.command import add_consume_parser, run_consume
from bot.supervisor import ServiceSpec, Supervisor
from bot.supporters.export import export_enquiries, export_newsletter
from bot.supporters.records import engine_for
from bot.web.widget import size_line as widget_size_line

READY_MARKER = "IJM assistant is ready."
# There is no default password: the first admin is created by hand.
NO_STAFF_HINT = "No staff account yet. Create the first admin with: ijm-bot staff add NAME --role admin"


def _fail(message: str, code: int = 2) -> int:
    print(f"ijm-bot: {message}", file=sys.stderr, flush=True)
    return code


def service_specs(settings: Settings, model: Path, database_url: str) -> list[ServiceSpec]:
    python = sys.executable
    action_base = settings.action_server_url.removesuffix("/webhook")
    env = child_env({"DATABASE_URL": database_url, "ACTION_SERVER_URL": settings.action_server_url})
    # endpoints.yml plus the lock store (REDIS_URL) and event broker (RABBITMQ_URL) sections when configured;
    # their passwords reach the Rasa process only, as environment variables the file names (bot/endpoints.py).
    endpoints = rasa_endpoints(settings)
    return [
        ServiceSpec(
            name="action server",
            command=[python, "-m", "rasa_sdk", "--actions", "actions", "--port", str(settings.action_port)],
            ready_url=f"{action_base}/health",
            env={**env, "SANIC_HOST": settings.bind_host},
            cwd=PROJECT_ROOT,
        ),
        ServiceSpec(
            name="Rasa server",
            command=[
                rasa_executable(),
                "run",
                "--model",
                str(model),
                "--endpoints",
                str(endpoints.path),
                "--credentials",
                "credentials.yml",
                "--interface",
                settings.bind_host,
                "--port",
                str(settings.rasa_port),
            ],
            ready_url=f"{settings.rasa_url}/",
            env={**env, **endpoints.env, **RUN_TUNING_ENV},
            cwd=PROJECT_ROOT,
            # Rasa keeps running on an in-memory store when its configured one fails: conversations would be lost.
            # (Its Redis lock store and RabbitMQ broker never fall back: the first fails each message after
            # REDIS_TIMEOUT, the second stops the server at start. A broker type it cannot load is dropped.)
            # A model that fails to load leaves it serving with no model (/readyz relies on this marker).
            fatal_markers=(
                "InMemoryTrackerStore",
                "Not using any event broker",
                "Could not load model due to",
                "Agent loaded with no model",
            ),
        ),
        ServiceSpec(
            name="web app",
            command=[python, "-m", "bot.web"],
            ready_url=f"{settings.web_url}/healthz",
            env=env,
            cwd=PROJECT_ROOT,
        ),
        ServiceSpec(
            name="outbox worker",
            command=[python, "-m", "bot.outbox"],
            ready_url=None,  # no server: ready once it has reached the database
            ready_marker=OUTBOX_READY_LINE,
            env=env,
            cwd=PROJECT_ROOT,
        ),
    ]


def standalone_specs(model: Path, database_url: str, env: dict[str, str]) -> tuple[Settings, dict[str, ServiceSpec]]:
    """The processes of `ijm-bot run` by name, each to be started and stopped on its own (tests, benchmarks), with
    `env` (ports, DATABASE_URL, other settings) added to the environment they read their settings from. Migrates
    the database first, as `ijm-bot run` does."""
    upgrade_database(database_url)
    settings = Settings.from_env({**os.environ, **env})
    specs = service_specs(settings, model, database_url)
    return settings, {spec.name: dataclasses.replace(spec, env={**spec.env, **env}) for spec in specs}


def ready_banner(settings: Settings) -> str:
    return "\n".join(
        [
            "",
            READY_MARKER,
            f"  Web page:        {settings.web_url}/",
            f'  Chat over REST:  POST {settings.rasa_url}/webhooks/rest/webhook {{"sender": "you", "message": "hi"}}',
            f"  Chat widget:     {settings.web_url}/widget.js, talking socket.io to {settings.rasa_url}/socket.io",
            f"  Widget size:     {widget_size_line()}",
            f"  Staff console:   {settings.web_url}/console (staff accounts: ijm-bot staff add NAME --role admin)",
            "Press Ctrl-C to stop.",
            "",
        ]
    )


def command_train(args: argparse.Namespace, settings: Settings) -> int:
    try:
        model, trained = ensure_model(settings.model_dir, force=args.force)
    except TrainingFailed as error:
        return _fail(str(error), 1)
    print(f"{'Trained' if trained else 'Up to date, not retrained'}: {model}", flush=True)
    return 0


def command_run(args: argparse.Namespace, settings: Settings) -> int:
    database_url = resolve_database_url(settings.database_url)
    instances = getattr(args, "instances", 1)
    if instances != 1:  # a cluster behind nginx (bot/cluster.py): refused at once when it would not be one
        try:
            nginx = check_cluster(settings, database_url, instances)
        except ClusterRefused as error:
            return _fail(f"not starting: {error}")
    try:
        check_database(database_url)
    except DatabaseUnreachable as error:
        return _fail(
            f"not starting: {error}.\nRasa would otherwise keep conversations only in memory and lose them. "
            "Check DATABASE_URL and that the database server is running."
        )
    problems = unreachable_services(settings)
    if problems:
        listed = "\n  ".join(problems)
        return _fail(
            f"not starting: a configured service cannot be reached:\n  {listed}\n"
            "Rasa would otherwise fail every message (Redis) or stop (RabbitMQ). "
            "Check the setting named and that the server is running, or unset it."
        )
    upgrade_database(database_url)
    if not any_staff(engine_for(database_url)):
        print(NO_STAFF_HINT, flush=True)
    if getattr(args, "model", None) is not None:
        model, trained = args.model.resolve(), False
        if not model.is_file():
            return _fail(f"not starting: no trained model at {model}")
    else:
        try:
            model, trained = ensure_model(settings.model_dir)
        except TrainingFailed as error:
            return _fail(f"not starting: {error}", 1)
    print(f"{'Trained' if trained else 'Using'} model {model.name}", flush=True)
    specs, cluster_lines = service_specs(settings, model, database_url), ""
    if instances != 1:
        specs, cluster_lines = build_cluster(
            settings, instances, nginx, specs, lambda own: service_specs(own, model, database_url)
        )
    supervisor = Supervisor(specs)
    return supervisor.run(
        settings.ready_timeout, on_ready=lambda: supervisor.say(ready_banner(settings) + cluster_lines)
    )


def command_migrate(args: argparse.Namespace, settings: Settings) -> int:
    database_url = resolve_database_url(settings.database_url)
    try:
        check_database(database_url)
    except DatabaseUnreachable as error:
        return _fail(str(error))
    upgrade_database(database_url)
    print("The app's tables are up to date.", flush=True)
    return 0


def command_evaluate(args: argparse.Namespace, settings: Settings) -> int:
    from bot.evaluation import REPORT_DIR, Thresholds, run_evaluation

    results = run_evaluation(settings.model_dir, baseline=args.baseline)
    print((REPORT_DIR / "nlu-evaluation.md").read_text(encoding="utf-8"), flush=True)
    problems = results[0].failures(Thresholds()) if args.check else []
    if not args.no_replies:
        from bot.evaluation import train_baseline
        from bot.reply_evaluation import run_reply_evaluation

        stock = train_baseline().path if args.baseline else None  # trained above already: kept in var/
        problems += run_reply_evaluation(REPORT_DIR, check=args.check, stock_model=stock)
    if not args.check:
        return 0
    for problem in problems:
        print(f"FAILED: {problem}", file=sys.stderr, flush=True)
    return 1 if problems else 0


def _app_engine(settings: Settings) -> sa.engine.Engine:
    """The app's database, reachable and up to date (DatabaseUnreachable otherwise)."""
    database_url = resolve_database_url(settings.database_url)
    check_database(database_url)
    upgrade_database(database_url)
    return engine_for(database_url)


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "-"


def _table(rows: list[tuple[str, ...]]) -> str:
    """Columns padded to their widest cell; the last column is left as it is."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = ("  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[-1]]) for row in rows)
    return "\n".join(line.rstrip() for line in lines)


def command_outbox(args: argparse.Namespace, settings: Settings) -> int:
    try:
        engine = _app_engine(settings)
    except DatabaseUnreachable as error:
        return _fail(str(error))
    if args.retry is not None:
        try:
            outbox_admin.retry(engine, args.retry, datetime.now(timezone.utc))
        except outbox_admin.NotRetryable as error:
            return _fail(str(error), 1)
        print(f"Outbox row {args.retry} is back in the queue; the outbox worker sends it within seconds.", flush=True)
        return 0
    entries = outbox_admin.list_entries(engine, include_sent=args.all)
    if entries:
        header = ("id", "status", "type", "record", "destination", "attempts", "next attempt / sent", "last error")
        rows = [
            (
                str(e.id),
                e.status,
                e.type,
                str(e.record_id),
                e.destination,
                str(e.attempts),
                _when(e.sent_at if e.status == "sent" else e.next_attempt_at),
                " ".join((e.last_error or "").split())[:100],
            )
            for e in entries
        ]
        print(_table([header, *rows]), flush=True)
    counts = outbox_admin.status_counts(engine)
    print(
        f"{counts['pending']} pending, {counts['failed']} failed (need staff: fix, then --retry ID), "
        f"{counts['sent']} sent.",
        flush=True,
    )
    return 0


def command_export(args: argparse.Namespace, settings: Settings) -> int:
    try:
        engine = _app_engine(settings)
    except DatabaseUnreachable as error:
        return _fail(str(error))
    export = export_newsletter if args.records == "newsletter" else export_enquiries
    if args.output is None:
        count = export(engine, sys.stdout)
    else:
        with open(args.output, "w", encoding="utf-8", newline="") as out:
            count = export(engine, out)
    print(f"Exported {count} {args.records} record(s).", file=sys.stderr, flush=True)
    return 0


def command_export_training(args: argparse.Namespace, settings: Settings) -> int:
    try:
        engine = _app_engine(settings)
    except DatabaseUnreachable as error:
        return _fail(str(error))
    text, count = export_training(engine, actor="cli")
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8")
    print(f"Exported {count} intent correction(s) as Rasa NLU training data.", file=sys.stderr, flush=True)
    return 0


def command_staff(args: argparse.Namespace, settings: Settings) -> int:
    try:
        engine = _app_engine(settings)
    except DatabaseUnreachable as error:
        return _fail(str(error))
    return run_staff_command(args, engine)


def command_forget(args: argparse.Namespace, settings: Settings) -> int:
    try:
        engine = _app_engine(settings)
    except DatabaseUnreachable as error:
        return _fail(str(error))
    counts = erase_conversation(engine, args.conversation_id, actor="cli")
    if not erased_anything(counts):
        print(f"Nothing was stored for conversation {args.conversation_id!r}.", flush=True)
        return 1
    print(f"Erased conversation {args.conversation_id!r}: " + ", ".join(f"{n} {t}" for t, n in counts.items() if n))
    return 0


def command_purge(args: argparse.Namespace, settings: Settings) -> int:
    try:
        engine = _app_engine(settings)
    except DatabaseUnreachable as error:
        return _fail(str(error))
    days = args.days or settings.retention_days
    print(f"Erased {purge(engine, days)} conversation(s) with no message in the last {days} days.", flush=True)
    return 0


def command_consume(args: argparse.Namespace, settings: Settings) -> int:
    """The event-broker consumer: RabbitMQ's stream of Rasa events into the stream analytics (bot/stream/)."""
    return run_consume(args, settings)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ijm-bot", description="IJM Canada supporter assistant")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="start the action server, the Rasa server, the web app and the outbox worker")
    run.add_argument(
        "--instances",
        type=int,
        default=1,
        metavar="N",
        help="run N Rasa servers and N action servers behind nginx (N >= 2; needs PostgreSQL, REDIS_URL, nginx)",
    )
    run.add_argument(
        "--model",
        type=Path,
        metavar="FILE",
        help="serve this trained model (a .tar.gz) instead of the project's own; e.g. the stock-config baseline",
    )
    run.set_defaults(handler=command_run)
    train = commands.add_parser("train", help="train the model unless models/ has one for the current project")
    train.add_argument("--force", action="store_true", help="train even if an up-to-date model exists")
    train.set_defaults(handler=command_train)
    commands.add_parser("migrate", help="bring the app's own tables up to date (run does it too)").set_defaults(
        handler=command_migrate
    )
    evaluate = commands.add_parser("evaluate", help="test the model on the held-out NLU file; report to reports/")
    evaluate.add_argument("--baseline", action="store_true", help="also train and test Rasa's stock config")
    evaluate.add_argument("--check", action="store_true", help="exit 1 unless the quality goals hold")
    evaluate.add_argument(
        "--no-replies", action="store_true", help="skip playing the held-out visitor questions to the running assistant"
    )
    evaluate.set_defaults(handler=command_evaluate)
    outbox = commands.add_parser("outbox", help="list deliveries waiting or refused (records for webhooks and e-mail)")
    outbox.add_argument("--all", action="store_true", help="include the deliveries already sent")
    outbox.add_argument("--retry", type=int, metavar="ID", help="put a failed delivery back in the queue")
    outbox.set_defaults(handler=command_outbox)
    export = commands.add_parser("export", help="write the newsletter records or the enquiries as CSV")
    export.add_argument("records", choices=("newsletter", "enquiries"))
    export.add_argument("--output", type=Path, metavar="FILE", help="write to FILE instead of standard output")
    export.set_defaults(handler=command_export)
    training = commands.add_parser("export-training", help="write the console's intent corrections as Rasa NLU YAML")
    training.add_argument("--output", type=Path, metavar="FILE", help="write to FILE instead of standard output")
    training.set_defaults(handler=command_export_training)
    add_staff_parser(commands, command_staff)
    forget = commands.add_parser("forget", help="erase one conversation and everything tied to it (audited)")
    forget.add_argument("conversation_id")
    forget.set_defaults(handler=command_forget)
    purge_parser = commands.add_parser(
        "purge", help="erase conversations older than RETENTION_DAYS (run does it daily)"
    )
    purge_parser.add_argument("--days", type=int, help="override RETENTION_DAYS for this run")
    purge_parser.set_defaults(handler=command_purge)
    add_consume_parser(commands, command_consume)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        return _fail(str(error))
    return args.handler(args, settings)


if __name__ == "__main__":
    sys.exit(main())
