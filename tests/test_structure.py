"""The layering holds: sqlite3 only behind the store port, and the doors depend on
the engine, never on the process's composition or the config file's model."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "dynzone"
# What may know about the config file and the composition of the process.
COMPOSITION = {"cli.py", "server.py", "config.py", "demo.py"}


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
    return out


MODULES = sorted(p for p in SRC.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_the_layers_hold(path: Path) -> None:
    relative = path.relative_to(SRC)
    found = imports(path)
    if relative.parts[0] != "store":
        assert "sqlite3" not in found, "sqlite3 belongs behind the store port (store/)"
    if str(relative) not in COMPOSITION and relative.parts[0] != "commands":
        assert "dynzone.server" not in found, "doors depend on the engine, not on server.py"
        assert "dynzone.config" not in found, "doors read settings, not the config file's model"
    if relative.parts[0] == "engine":
        doors = ("dynzone.dns", "dynzone.http", "dynzone.update", "dynzone.xfr")
        assert not any(m.startswith(doors) for m in found), "the engine does not know its doors"
