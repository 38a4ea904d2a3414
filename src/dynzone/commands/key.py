"""``dynzone key add|list|remove``: TSIG keys for RFC 2136 UPDATE, usable while the server runs."""

from __future__ import annotations

import argparse
import sys

from dynzone.commands.common import load, open_store, warn_unserved
from dynzone.config import Config
from dynzone.keys import (
    ALGORITHMS,
    DEFAULT_ALGORITHM,
    KeyError_,
    add_key,
    all_keys,
    bind_key_file,
    certbot_credentials,
    remove_key,
)
from dynzone.policy import Grant, PatternError, normalise_pattern, parse_types


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    key = sub.add_parser("key", help="manage TSIG keys (RFC 2136 UPDATE, ACME dns-01)")
    key_sub = key.add_subparsers(dest="key_command", metavar="ACTION", required=True)
    add = key_sub.add_parser(
        "add", help="create a key; prints it as a BIND key file and certbot credentials"
    )
    add.add_argument("name", metavar="NAME")
    add.add_argument(
        "--algorithm",
        default=DEFAULT_ALGORITHM,
        choices=list(ALGORITHMS),
        help=f"HMAC algorithm (default {DEFAULT_ALGORITHM})",
    )
    add.add_argument(
        "--grant",
        metavar="'PATTERN [TYPE ...]'",
        action="append",
        default=[],
        help="names the key may change (host.example.com, or *.sub.example.com for a"
        " subtree), optionally followed by record types; repeatable. Without any, the"
        " key changes nothing: a key for zone transfers and NOTIFY",
    )
    add.add_argument("--secret", metavar="BASE64", help="use this secret instead of a new one")
    lst = key_sub.add_parser("list", help="list keys, their algorithms and grants")
    rm = key_sub.add_parser("remove", help="remove a key; it stops working at once")
    rm.add_argument("name", metavar="NAME")
    for p in (add, lst, rm):
        p.add_argument("--config", metavar="FILE", help="TOML configuration file")


def parse_grant(text: str) -> Grant:
    """``'_acme-challenge.example.com TXT'`` -> a Grant."""
    words = text.split()
    if not words:
        raise PatternError("--grant needs a name pattern, e.g. '_acme-challenge.example.com TXT'")
    if words[0].startswith("regex:"):
        raise PatternError("TSIG key grants take names and subtrees (*.sub.zone), not regex:")
    return Grant(normalise_pattern(words[0]), parse_types(words[1:]))


def run(args: argparse.Namespace) -> int:
    config = load(args.config)
    store = open_store(config)
    try:
        if args.key_command == "add":
            grants = [parse_grant(g) for g in args.grant]
            warn_unserved(grants, [z.name for z in config.zones], "updates to it will get NOTAUTH")
            key = add_key(store, args.name, args.algorithm, grants, args.secret)
            server, port = _server(config)
            described = "; ".join(g.describe() for g in grants)
            if grants:
                print(f"# key {key.name} added, may change: {described}")
            else:
                print(f"# key {key.name} added; it may change nothing (transfers, NOTIFY)")
            print("# BIND key file (nsupdate -k FILE, named.conf include):")
            sys.stdout.write(bind_key_file(key))
            if grants:
                print("# certbot --dns-rfc2136-credentials FILE (chmod 600):")
                sys.stdout.write(certbot_credentials(key, server, port))
            print("(the secret is stored in the store as given; keep it private)", file=sys.stderr)
        elif args.key_command == "list":
            for key, identity in all_keys(store):
                held = "; ".join(g.describe() for g in identity.grants) or "(no grants)"
                print(f"{key.name} {key.algorithm}: {held}")
        elif args.key_command == "remove":
            remove_key(store, args.name)
            print(f"key {args.name} removed")
    except (KeyError_, PatternError) as exc:
        print(f"dynzone: error: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    return 0


def _server(config: Config) -> tuple[str, int]:
    """The address clients should send UPDATEs to: the first DNS listener."""
    first = config.dns.listen[0]
    host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(first.host, first.host)
    return host, first.port
