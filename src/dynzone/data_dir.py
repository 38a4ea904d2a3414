"""The data directory: private to dynzone, and served by one process at a time.

The store holds TSIG secrets in clear (a MAC needs them) and password
hashes, so the directory is 0700 and every file in it 0600, whatever the
umask; a store an older dynzone left readable by others is fixed on open,
or refused when it cannot be. ``ServerLock`` keeps a second ``dynzone serve``
off a store that one already serves: two servers would each answer from
their own stale view.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import stat
from pathlib import Path

log = logging.getLogger("dynzone")

LOCK_NAME = "dynzone.lock"
_OTHERS = stat.S_IRWXG | stat.S_IRWXO


class DataDirError(Exception):
    """The data directory cannot be used safely; the message says why and what to do."""


def make_private(data_dir: Path) -> None:
    """Create ``data_dir`` 0700 if missing; take group and other access off it and its files."""
    _create(data_dir)
    fixed = [p for p in (data_dir, *_tree(data_dir)) if _fix(p)]
    if fixed:
        log.warning(
            "%s: was readable by other users; made private (0700/0600): %s",
            data_dir,
            ", ".join(p.name for p in fixed),
        )


def _create(data_dir: Path) -> None:
    try:
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise DataDirError(
            f"{data_dir}: cannot create the data directory: {exc.strerror}"
        ) from None


def _tree(top: Path) -> list[Path]:
    out: list[Path] = []
    for root, dirs, files in os.walk(top):
        out += [Path(root, name) for name in (*dirs, *files)]
    return out


def _fix(path: Path) -> bool:
    """Take group and other bits off ``path``; True if there were any."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return False  # a -wal or temporary file went away meanwhile
    if stat.S_ISLNK(mode) or not mode & _OTHERS:
        return False
    try:
        path.chmod(stat.S_IMODE(mode) & ~_OTHERS)
    except PermissionError:
        raise DataDirError(
            f"{path}: readable by other users and not ours to fix (owner uid"
            f" {path.stat().st_uid}); run chmod go= on it as its owner, or chown it to the user"
            " dynzone runs as"
        ) from None
    return True


def create_private(path: Path) -> None:
    """Create the empty file ``path`` 0600 unless it exists (so SQLite keeps that mode)."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def write_private(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data``, 0600 from the first byte, all at once."""
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    create_private(tmp)
    tmp.write_bytes(data)
    tmp.replace(path)


def secret_file(path: Path, size: int) -> bytes:
    """The random secret kept in ``path`` (0600), made on first use."""
    try:
        data = path.read_bytes()
        if len(data) == size:
            return data
    except FileNotFoundError:
        pass
    data = os.urandom(size)
    write_private(path, data)
    return data


class ServerLock:
    """An exclusive lock on ``data_dir`` held while one server runs."""

    def __init__(self, data_dir: Path) -> None:
        _create(data_dir)
        path = data_dir / LOCK_NAME
        create_private(path)
        self.fd = os.open(path, os.O_RDWR)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(self.fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(self.fd)
            raise DataDirError(
                f"{data_dir}: another dynzone serve (pid {holder}) is already serving this store;"
                " stop it first, or give this server a data_dir of its own"
            ) from None
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, f"{os.getpid()}\n".encode(), 0)

    def release(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
