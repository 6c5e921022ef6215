"""`ijm-bot staff add|list|remove|token`: managing who may use the staff console."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable

import sqlalchemy as sa

from bot.console.accounts import ROLES, StaffError, add_staff, issue_token, list_staff, remove_staff


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != first:
        raise StaffError("the two passwords differ")
    return first


def run_staff_command(args: argparse.Namespace, engine: sa.engine.Engine) -> int:
    try:
        if args.staff_command == "add":
            member = add_staff(engine, args.name, args.role, _read_password(args.password_stdin))
            print(f"Added {member.name} ({member.role}). They sign in at /console on the web app.", flush=True)
        elif args.staff_command == "list":
            members = list_staff(engine)
            for member in members:
                print(f"{member.name}  {member.role}  since {member.created_at:%Y-%m-%d}", flush=True)
            if not members:
                print("No staff yet: ijm-bot staff add NAME --role admin", flush=True)
        elif args.staff_command == "remove":
            remove_staff(engine, args.name)
            print(f"Removed {args.name} and their API tokens.", flush=True)
        else:
            token = issue_token(engine, args.name)
            print("API token (shown only this once; send it as 'Authorization: Bearer <token>'):", flush=True)
            print(token, flush=True)
    except StaffError as error:
        print(f"ijm-bot staff: {error}", file=sys.stderr, flush=True)
        return 1
    return 0


def add_staff_parser(
    commands: argparse._SubParsersAction, handler: Callable[[argparse.Namespace, object], int]
) -> None:
    staff_parser = commands.add_parser("staff", help="manage the staff who may use the console")
    staff_commands = staff_parser.add_subparsers(dest="staff_command", required=True)
    add = staff_commands.add_parser("add", help="add a staff member (password from a prompt or --password-stdin)")
    add.add_argument("name")
    add.add_argument("--role", choices=ROLES, required=True)
    add.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    staff_commands.add_parser("list", help="list the staff members")
    remove = staff_commands.add_parser("remove", help="remove a staff member and their API tokens")
    remove.add_argument("name")
    token = staff_commands.add_parser("token", help="create an API token for a staff member (shown once)")
    token.add_argument("name")
    staff_parser.set_defaults(handler=handler)
