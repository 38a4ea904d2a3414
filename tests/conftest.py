"""Shared test helpers."""

from __future__ import annotations

import os

import pytest

from tests.peers import INSTALL_HINT, find_binary


def need_peer(*names: str) -> str:
    """Path of a real peer binary; skip locally (fail in CI) when it is missing.

    CI installs every peer with scripts/install-peers.sh, so a missing one there
    is a broken install, not a reason to skip.
    """
    path = find_binary(*names)
    if path is None:
        message = f"{' / '.join(names)} not installed; {INSTALL_HINT}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path
