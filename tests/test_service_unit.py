"""The systemd unit in contrib/ is valid (``systemd-analyze verify``) and sandboxed."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import need_peer

UNIT = Path(__file__).resolve().parent.parent / "contrib" / "dynzone.service"


def _installed_dynzone() -> str:
    found = shutil.which("dynzone") or str(Path(sys.executable).parent / "dynzone")
    assert Path(found).exists(), "the dynzone command is not installed (pip install .)"
    return found


def test_the_unit_verifies_without_a_warning(tmp_path: Path) -> None:
    analyze = need_peer("systemd-analyze")
    unit = tmp_path / "dynzone.service"
    # As installed: ExecStart points at wherever pip put the command.
    unit.write_text(UNIT.read_text().replace("/usr/local/bin/dynzone", _installed_dynzone()))
    done = subprocess.run(
        [analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "", done.stderr  # an unknown or misspelt key only warns


def test_the_unit_runs_unprivileged_and_sandboxed() -> None:
    lines = {line.strip() for line in UNIT.read_text().splitlines()}
    for wanted in (
        "User=dynzone",
        "AmbientCapabilities=CAP_NET_BIND_SERVICE",
        "CapabilityBoundingSet=CAP_NET_BIND_SERVICE",
        "StateDirectory=dynzone",
        "StateDirectoryMode=0700",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "PrivateTmp=yes",
        "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
        "SystemCallFilter=@system-service",
        "ExecReload=/bin/kill -HUP $MAINPID",
    ):
        assert wanted in lines, wanted
