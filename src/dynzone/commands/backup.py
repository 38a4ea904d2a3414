"""``dynzone backup FILE`` and ``dynzone restore FILE``: the whole store, safely.

``backup`` may run while the server serves and updates stream in: it copies
one consistent snapshot (zones, journals, users, keys). ``restore`` puts a
backup into a data_dir that has no store yet, with no server running on it.
Serials and journals come back as they were, so secondaries keep asking for
IXFR; should a secondary have moved past the backup's serial meanwhile, the
server moves the zone's serial past that secondary's once it sees it (see
xfr/notify_out.py), and the secondary takes the whole zone once.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from dynzone.commands.common import fail, load, open_store
from dynzone.data_dir import DataDirError, ServerLock
from dynzone.store import restore_store
from dynzone.store.base import StoreError


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    backup = sub.add_parser(
        "backup", help="write a consistent copy of the store to FILE (the server may run)"
    )
    backup.add_argument("file", metavar="FILE", help="a new file (it holds secrets: kept 0600)")
    restore = sub.add_parser(
        "restore", help="put a backup in place as the store of an empty data_dir"
    )
    restore.add_argument("file", metavar="FILE", help="a file written by dynzone backup")
    for p in (backup, restore):
        p.add_argument("--config", metavar="FILE", help="TOML configuration file")


def _serials(serials: dict[str, int]) -> str:
    if not serials:
        return "no zones"
    return ", ".join(f"{zone} serial {serial}" for zone, serial in serials.items())


def run_backup(args: argparse.Namespace) -> int:
    config = load(args.config)
    store = open_store(config)
    try:
        serials = store.backup(Path(args.file))
    finally:
        store.close()
    print(f"backup written to {args.file}: {_serials(serials)}")
    return 0


def run_restore(args: argparse.Namespace) -> int:
    config = load(args.config)
    source = Path(args.file)
    if not source.is_file():
        return fail(f"{source}: no such file")
    try:
        lock = ServerLock(config.data_dir) if config.data_dir.exists() else None
    except DataDirError as exc:
        return fail(f"{exc} (restore needs the server stopped)")
    try:
        serials = restore_store(source, config.data_dir)
    except StoreError as exc:
        return fail(str(exc))
    finally:
        if lock is not None:
            lock.release()
    store = open_store(config)  # brings the schema up to this version's
    store.close()
    print(f"restored {source} into {config.data_dir}: {_serials(serials)}")
    return 0
