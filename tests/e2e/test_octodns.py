"""octodns-sync with octodns-powerdns, unchanged, applies YAML zone plans to a
dynzone zone through the PowerDNS-compatible API; a second run finds nothing to do."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.dyndns_server import OTHER_ZONE, Dynzone, start

FIRST = f"""\
---
'':
  - type: MX
    value: {{exchange: mail.{OTHER_ZONE}., preference: 10}}
  - type: TXT
    value: v=spf1 -all
alias:
  type: CNAME
  value: www.{OTHER_ZONE}.
mail:
  - type: A
    value: 192.0.2.25
  - type: AAAA
    value: 2001:db8::25
www:
  type: A
  values: [192.0.2.80, 192.0.2.81]
_sip._tcp:
  type: SRV
  value: {{priority: 10, weight: 5, port: 5060, target: sip.{OTHER_ZONE}.}}
"""
# www changes one address, alias goes, info comes.
SECOND = (
    FIRST.replace("values: [192.0.2.80, 192.0.2.81]", "values: [192.0.2.80, 192.0.2.82]").replace(
        f"alias:\n  type: CNAME\n  value: www.{OTHER_ZONE}.\n", ""
    )
    + "info:\n  type: TXT\n  value: hello world\n"
)


@pytest.fixture(scope="module")
def dz(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dynzone]:
    server = start(tmp_path_factory.mktemp("octodns"))
    try:
        yield server
    finally:
        server.stop()


def sync(dz: Dynzone, workdir: Path, zone_yaml: str, key: str) -> str:
    """octodns-sync --doit with ``zone_yaml`` as the zone's source; its output."""
    zones = workdir / "zones"
    zones.mkdir(exist_ok=True)
    (zones / f"{OTHER_ZONE}.yaml").write_text(zone_yaml)
    config = workdir / "octodns.yaml"
    config.write_text(
        f"""\
providers:
  config:
    class: octodns.provider.yaml.YamlProvider
    directory: {zones}
    default_ttl: 300
    enforce_order: false
  dynzone:
    class: octodns_powerdns.PowerDnsProvider
    host: 127.0.0.1
    port: {dz.http_port}
    scheme: http
    api_key: env/DYNZONE_TOKEN
zones:
  {OTHER_ZONE}.:
    sources: [config]
    targets: [dynzone]
"""
    )
    argv = [sys.executable, "-m", "octodns.cmds.sync", "--config-file", str(config), "--doit"]
    env = dict(os.environ, DYNZONE_TOKEN=key)
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def test_octodns_applies_plans_and_then_finds_nothing_to_do(dz: Dynzone, tmp_path: Path) -> None:
    made = dz.cli("token", "add", "octodns", "--grant", OTHER_ZONE, "--grant", f"*.{OTHER_ZONE}")
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip().splitlines()[-1]
    out = sync(dz, tmp_path, FIRST, key)
    assert "No changes were planned" not in out
    assert dz.query(f"www.{OTHER_ZONE}") == ["192.0.2.80", "192.0.2.81"]
    assert dz.query(f"mail.{OTHER_ZONE}", "AAAA") == ["2001:db8::25"]
    assert dz.query(OTHER_ZONE, "MX") == [f"10 mail.{OTHER_ZONE}."]
    assert dz.query(f"_sip._tcp.{OTHER_ZONE}", "SRV") == [f"10 5 5060 sip.{OTHER_ZONE}."]
    assert dz.query(f"alias.{OTHER_ZONE}", "CNAME") == [f"www.{OTHER_ZONE}."]
    assert "No changes were planned" in sync(dz, tmp_path, FIRST, key)

    out = sync(dz, tmp_path, SECOND, key)
    assert "No changes were planned" not in out
    assert dz.query(f"www.{OTHER_ZONE}") == ["192.0.2.80", "192.0.2.82"]
    assert dz.query(f"alias.{OTHER_ZONE}", "CNAME") == []
    assert dz.query(f"info.{OTHER_ZONE}", "TXT") == ['"hello world"']
    assert dz.query(OTHER_ZONE, "NS") == [f"ns1.{OTHER_ZONE}."], "the apex NS stays"
    assert "No changes were planned" in sync(dz, tmp_path, SECOND, key)
    journal = dz.cli("zone", "journal", OTHER_ZONE).stdout
    assert len(re.findall(r"by token:octodns", journal)) == 2, journal
