"""What every store command needs: the config (or the demo default) and the store."""

from __future__ import annotations

import sys
from pathlib import Path

import dns.name

from dynzone import store
from dynzone.config import DEFAULT_DATA_DIR, Config, demo_config, load_config
from dynzone.policy import REGEX_PREFIX, Grant
from dynzone.store.base import Store


def load(config_path: str | None) -> Config:
    """The config at ``config_path``, or the demo default ``serve`` uses without one."""
    if config_path is None:
        return demo_config(Path(DEFAULT_DATA_DIR))
    return load_config(config_path)


def open_store(config: Config) -> Store:
    return store.open_store(config.data_dir)


def fail(message: str) -> int:
    print(f"dynzone: error: {message}", file=sys.stderr)
    return 1


def warn_unserved(grants: list[Grant], zones: list[dns.name.Name], consequence: str) -> None:
    """Warn about grants for names in none of the configured zones."""
    for g in grants:
        if g.pattern.startswith(REGEX_PREFIX):
            continue
        name = dns.name.from_text(g.pattern.removeprefix("*."))
        if not any(name.is_subdomain(z) for z in zones):
            print(
                f"dynzone: warning: {g.pattern} is in none of the configured zones; {consequence}",
                file=sys.stderr,
            )
