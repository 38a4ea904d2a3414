"""A damaged store ends ``dynzone serve`` with one line saying what to do, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.peers import free_port


def _damage(path: Path, how: str) -> None:
    data = bytearray(path.read_bytes())
    if how == "truncated":
        data = data[: len(data) // 2]
    elif how == "garbage":
        data = bytearray(os.urandom(len(data)))
    else:  # pages in the middle overwritten
        for i in range(4096, min(len(data), 6 * 4096)):
            data[i] = 0x5A
    path.write_bytes(bytes(data))


def _serve(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dynzone", "serve", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.mark.parametrize("how", ["truncated", "garbage", "middle"])
def test_a_damaged_store_gives_one_line(tmp_path: Path, how: str) -> None:
    config = tmp_path / "dynzone.toml"
    config.write_text(
        f'data_dir = "data"\n[dns]\nlisten = ["127.0.0.1:{free_port()}"]\n'
        '[[zone]]\nname = "d.test"\nns = ["ns1.d.test."]\nemail = "h@d.test"\n'
    )
    # A store with a zone in it, made by the user commands, then damaged.
    made = subprocess.run(
        [sys.executable, "-m", "dynzone", "user", "add", "u", "--host", "a.d.test",
         "--password-stdin", "--config", str(config)],
        input="a-long-password-1\n", capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    db = tmp_path / "data" / "dynzone.sqlite3"
    for extra in ("-wal", "-shm"):
        Path(str(db) + extra).unlink(missing_ok=True)
    _damage(db, how)
    done = _serve(config)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("dynzone: error:")]
    assert len(lines) == 1 and "dynzone.sqlite3" in lines[0], done.stderr
