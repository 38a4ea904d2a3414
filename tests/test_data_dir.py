"""The data directory is private whatever the umask, and one server holds it at a time."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dynzone.data_dir import DataDirError, ServerLock, make_private, secret_file
from dynzone.store import open_store


def test_a_new_store_is_private_under_a_permissive_umask(tmp_path: Path) -> None:
    old = os.umask(0o000)
    try:
        store = open_store(tmp_path / "data")
        store.close()
    finally:
        os.umask(old)
    data = tmp_path / "data"
    assert data.stat().st_mode & 0o777 == 0o700
    for p in data.iterdir():
        assert p.stat().st_mode & 0o077 == 0, p


def test_group_and_other_access_is_taken_off_existing_files(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    secret = data / "dynzone.sqlite3"
    secret.write_bytes(b"")
    secret.chmod(0o664)
    make_private(data)
    assert data.stat().st_mode & 0o777 == 0o700
    assert secret.stat().st_mode & 0o777 == 0o600


def test_a_second_lock_on_the_same_directory_is_refused(tmp_path: Path) -> None:
    first = ServerLock(tmp_path)
    try:
        with pytest.raises(DataDirError, match=f"pid {os.getpid()}"):
            ServerLock(tmp_path)
    finally:
        first.release()
    ServerLock(tmp_path).release()  # free again once released


def test_a_secret_file_is_made_once_private_and_then_kept(tmp_path: Path) -> None:
    first = secret_file(tmp_path / "cookie-secret", 16)
    assert len(first) == 16 and (tmp_path / "cookie-secret").stat().st_mode & 0o777 == 0o600
    assert secret_file(tmp_path / "cookie-secret", 16) == first  # a restart keeps cookies valid
