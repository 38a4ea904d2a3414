"""``dynzone acme-dns register|list|remove``: acme-dns accounts, usable while the server runs."""

from __future__ import annotations

import argparse
import json
import sys
import time

from dynzone.acme_accounts import AccountError, all_accounts, register, remove
from dynzone.commands.common import load, open_store
from dynzone.tokens import TokenError, parse_networks


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    acme = sub.add_parser("acme-dns", help="manage acme-dns accounts ([acme_dns] in the config)")
    acme_sub = acme.add_subparsers(dest="acme_command", metavar="ACTION", required=True)
    reg = acme_sub.add_parser(
        "register", help="make an account; prints it as acme-dns's /register does, once"
    )
    reg.add_argument(
        "--allowfrom",
        metavar="CIDR",
        nargs="+",
        action="extend",
        default=[],
        help="client networks the account may be used from (default: any)",
    )
    lst = acme_sub.add_parser("list", help="list accounts: username, TXT name, networks")
    rm = acme_sub.add_parser("remove", help="remove an account; it stops working at once")
    rm.add_argument("username", metavar="USERNAME")
    for p in (reg, lst, rm):
        p.add_argument("--config", metavar="FILE", help="TOML configuration file")


def run(args: argparse.Namespace) -> int:
    config = load(args.config)
    acme = config.http.acme_dns
    if acme is None and args.acme_command == "register":
        where = config.path or "the configuration"
        print(
            f"dynzone: error: {where} has no [acme_dns] table; add one naming the zone"
            ' accounts get their names in, e.g. [acme_dns] zone = "acme.example.com"',
            file=sys.stderr,
        )
        return 1
    store = open_store(config)
    try:
        if args.acme_command == "register":
            assert acme is not None
            reg = register(store, acme.zone, parse_networks(args.allowfrom, "--allowfrom"))
            print(json.dumps(reg.as_json(), indent=2))
            print("(the password is shown only now; it is stored as a keyed hash)", file=sys.stderr)
        elif args.acme_command == "list":
            for account in all_accounts(store):
                where = " ".join(str(n) for n in account.allowfrom) or "any client"
                made = time.strftime("%Y-%m-%d", time.gmtime(account.created))
                print(
                    f"{account.username}: {account.fulldomain.to_text(omit_final_dot=True)};"
                    f" from {where}; registered {made}"
                )
        elif args.acme_command == "remove":
            remove(store, args.username)
            print(f"acme-dns account {args.username} removed")
    except (TokenError, AccountError) as exc:
        print(f"dynzone: error: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    return 0
