"""``dynzone user add|list|remove|passwd``: HTTP users, usable while the server runs."""

from __future__ import annotations

import argparse
import sys

from dynzone.commands.common import load, open_store, warn_unserved
from dynzone.policy import PatternError, parse_host
from dynzone.users import PREFIX, UserError, add_user, new_password, remove_user, set_password


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    user = sub.add_parser("user", help="manage HTTP users (dyndns2)")
    user_sub = user.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    add = user_sub.add_parser("add", help="add a user; prints a generated password once")
    add.add_argument("name", metavar="NAME")
    add.add_argument(
        "--host",
        metavar="PATTERN",
        action="append",
        required=True,
        help="a name the user may update: host.example.com, or *.lab.example.com for a subtree;"
        " 'host.example.com ipv6-suffix=::1:2:3:4' sets the host's AAAA from a prefix update",
    )
    add.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    lst = user_sub.add_parser("list", help="list users and their hosts")
    rm = user_sub.add_parser("remove", help="remove a user")
    rm.add_argument("name", metavar="NAME")
    pw = user_sub.add_parser(
        "passwd", help="set a new password (generated unless --password-stdin)"
    )
    pw.add_argument("name", metavar="NAME")
    pw.add_argument("--password-stdin", action="store_true")
    for p in (add, lst, rm, pw):
        p.add_argument("--config", metavar="FILE", help="TOML configuration file")


def _password(from_stdin: bool) -> tuple[str, bool]:
    """The password and whether it was generated (and must be shown)."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n"), False
    return new_password(), True


def run(args: argparse.Namespace) -> int:
    config = load(args.config)
    store = open_store(config)
    try:
        if args.user_command == "add":
            grants = [parse_host(p) for p in args.host]
            warn_unserved(grants, [z.name for z in config.zones], "updates to it will get nohost")
            password, generated = _password(args.password_stdin)
            add_user(store, args.name, password, grants, generated)
            print(f"user {args.name} added, may update: {', '.join(g.pattern for g in grants)}")
            if generated:
                print(f"password: {password}")
                print("(shown only now; it is stored as an argon2 hash)", file=sys.stderr)
        elif args.user_command == "list":
            for row in store.identities(PREFIX):
                held = store.grants(row.name)
                hosts = ", ".join(g.describe() for g in held) or "(no hosts)"
                note = f"  [{row.origin}]" if row.origin else ""
                print(f"{row.name[len(PREFIX) :]}: {hosts}{note}")
        elif args.user_command == "remove":
            remove_user(store, args.name)
            print(f"user {args.name} removed")
        elif args.user_command == "passwd":
            password, generated = _password(args.password_stdin)
            set_password(store, args.name, password, generated)
            print(f"password of {args.name} changed")
            if generated:
                print(f"password: {password}")
    except (UserError, PatternError) as exc:
        print(f"dynzone: error: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    return 0
