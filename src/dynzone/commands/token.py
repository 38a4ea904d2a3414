"""``dynzone token add|list|remove``: API tokens, usable while the server runs."""

from __future__ import annotations

import argparse
import sys
import time

from dynzone.commands.common import load, open_store, warn_unserved
from dynzone.commands.key import parse_grant
from dynzone.policy import PatternError
from dynzone.tokens import (
    TokenError,
    add_token,
    all_tokens,
    parse_duration,
    parse_networks,
    remove_token,
)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    token = sub.add_parser("token", help="manage API tokens (HTTP APIs)")
    token_sub = token.add_subparsers(dest="token_command", metavar="ACTION", required=True)
    add = token_sub.add_parser("add", help="create a token; prints its key once")
    add.add_argument("name", metavar="NAME")
    add.add_argument(
        "--grant",
        metavar="'PATTERN [TYPE ...]'",
        action="append",
        default=[],
        help="names the token may change (host.example.com, or *.sub.example.com for a"
        " subtree), optionally followed by record types; repeatable. Without any, the"
        " token may only read",
    )
    add.add_argument(
        "--from",
        dest="allow_from",
        metavar="CIDR",
        action="append",
        default=[],
        help="a client network the token may be used from (repeatable; default: any)",
    )
    add.add_argument(
        "--expires",
        metavar="DURATION",
        help="stop working after this long: seconds, or with units s m h d w (90d, 12h)",
    )
    lst = token_sub.add_parser("list", help="list tokens, their grants, networks and expiry")
    rm = token_sub.add_parser("remove", help="remove a token; it stops working at once")
    rm.add_argument("name", metavar="NAME")
    for p in (add, lst, rm):
        p.add_argument("--config", metavar="FILE", help="TOML configuration file")


def run(args: argparse.Namespace) -> int:
    config = load(args.config)
    store = open_store(config)
    try:
        if args.token_command == "add":
            grants = [parse_grant(g) for g in args.grant]
            networks = parse_networks(args.allow_from)
            lifetime = None if args.expires is None else parse_duration(args.expires)
            warn_unserved(grants, [z.name for z in config.zones], "changes to it will be refused")
            key = add_token(store, args.name, grants, networks, lifetime)
            may = "; ".join(g.describe() for g in grants) or "nothing: it may only read"
            print(f"# token {args.name} added, may change: {may}")
            if networks:
                print(f"# usable from: {' '.join(str(n) for n in networks)}")
            if lifetime is not None:
                print(f"# expires: {_when(time.time() + lifetime)}")
            print(key)
            print("(the key is shown only now; it is stored as a keyed hash)", file=sys.stderr)
        elif args.token_command == "list":
            now = time.time()
            for token in all_tokens(store):
                held = "; ".join(g.describe() for g in token.grants) or "(read only)"
                where = " ".join(str(n) for n in token.allow_from) or "any client"
                if token.expires is None:
                    until = "never expires"
                else:
                    state = "expired" if token.expired(now) else "expires"
                    until = f"{state} {_when(token.expires)}"
                print(f"{token.name}: {held}; from {where}; {until}")
        elif args.token_command == "remove":
            remove_token(store, args.name)
            print(f"token {args.name} removed")
    except (TokenError, PatternError) as exc:
        print(f"dynzone: error: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    return 0


def _when(moment: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(moment))
