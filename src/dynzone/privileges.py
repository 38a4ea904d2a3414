"""Dropping root once the sockets are bound (``user = "NAME"`` in the config).

As NSD's ``username:``, dynzone starts as root only to bind port 53 (and the
HTTP port), then becomes ``user`` and its group for good, before it reads a
single query. The data directory is handed to that user first, so the store
it opens later (readers, backups, the propagation file) stays its own.
"""

from __future__ import annotations

import logging
import os
import pwd
from pathlib import Path

log = logging.getLogger("dynzone")


class PrivilegeError(Exception):
    """Cannot become the configured user; the message says why."""


def lookup(user: str) -> pwd.struct_passwd:
    """The passwd entry of ``user``, or PrivilegeError naming what to do."""
    try:
        return pwd.getpwnam(user)
    except KeyError:
        raise PrivilegeError(
            f'user = "{user}": no such user on this system; create it'
            f" (useradd --system --no-create-home {user}) or change user in the config"
        ) from None


def drop_to(user: str, data_dir: Path) -> None:
    """Become ``user`` (and its groups), giving it ``data_dir`` first.

    Not running as root, there is nothing to drop: dynzone stays who it is
    (a warning says so if that is not ``user``).
    """
    entry = lookup(user)
    if os.geteuid() != 0:
        if os.geteuid() != entry.pw_uid:
            log.warning(
                'not started as root, so running as uid %d, not user "%s"', os.geteuid(), user
            )
        return
    for path in (data_dir, *data_dir.rglob("*")):
        os.lchown(path, entry.pw_uid, entry.pw_gid)
    os.initgroups(entry.pw_name, entry.pw_gid)
    os.setgid(entry.pw_gid)
    # glibc applies set*id to every thread, so the listener threads started
    # as root drop with us.
    os.setuid(entry.pw_uid)
    if os.getuid() != entry.pw_uid or os.geteuid() != entry.pw_uid:
        raise PrivilegeError(f'could not become user "{user}"')
    log.info('running as user "%s" (uid %d, gid %d)', user, entry.pw_uid, entry.pw_gid)
