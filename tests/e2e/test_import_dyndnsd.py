"""``dynzone import-dyndnsd`` on a sample dyndnsd config and db.json, then real updates."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.dyndns_server import OTHER_ZONE, ZONE, dynzone_cli, start, write_config
from tests.peers import free_port

DYNDNSD_CONFIG = f"""\
host: "0.0.0.0"
port: "8245"
db: "db.json"
domain: "{ZONE}"
updater:
  name: "command_with_bind_zone"
  params:
    zone_file: "/etc/nsd/{ZONE}.zone"
    command: "nsd-control reload"
    ttl: "5m"
    dns: "ns1.{ZONE}."
    email_addr: "admin.{ZONE}."
users:
  foo:
    password: "foo-clear-secret"
    hosts:
      - foo.{ZONE}
      - bar.{ZONE}
  lab:
    password: "lab-clear-secret"
    regex: '^[a-z0-9-]+\\.lab\\.dyn\\.example\\.com$'
"""
DB = {
    "serial": 42,
    "hosts": {f"foo.{ZONE}": ["192.0.2.7", "2001:db8::7"], f"bar.{ZONE}": ["192.0.2.8"]},
}


def test_import_dyndnsd_users_and_records(tmp_path: Path) -> None:
    src = tmp_path / "dyndnsd"
    src.mkdir()
    (src / "config.yaml").write_text(DYNDNSD_CONFIG)
    (src / "db.json").write_text(json.dumps(DB))
    srv = tmp_path / "srv"
    ports = (free_port(), free_port())
    config = write_config(srv, *ports)

    done = dynzone_cli(config, "import-dyndnsd", str(src / "config.yaml"))
    assert done.returncode == 0, done.stderr
    assert "users: 2 imported" in done.stdout
    assert f"zone {ZONE}.: 3 records imported" in done.stdout

    again = dynzone_cli(config, "import-dyndnsd", str(src / "config.yaml"))
    assert again.returncode == 0 and "foo already exists" in again.stderr

    listed = dynzone_cli(config, "user", "list").stdout
    assert f"foo: foo.{ZONE}., bar.{ZONE}." in listed
    assert "lab: regex:" in listed and "[dyndnsd]" in listed

    dz = start(srv, ports=ports)
    try:
        assert dz.query(f"foo.{ZONE}") == ["192.0.2.7"]
        assert dz.query(f"foo.{ZONE}", "AAAA") == ["2001:db8::7"]
        assert dz.query(f"bar.{ZONE}") == ["192.0.2.8"]
        # The imported passwords work, and the grants are the dyndnsd ones.
        q = f"hostname=bar.{ZONE}&myip=192.0.2.9"
        assert dz.curl(q, "foo", "foo-clear-secret") == (200, "good 192.0.2.9")
        q = f"hostname=x1.lab.{ZONE}&myip=192.0.2.10"
        assert dz.curl(q, "lab", "lab-clear-secret") == (200, "good 192.0.2.10")
        q = f"hostname=foo.{ZONE}&myip=192.0.2.10"
        assert dz.curl(q, "lab", "lab-clear-secret") == (200, "nohost")
    finally:
        dz.stop()
    stored = b"".join(p.read_bytes() for p in (srv / "data").iterdir())
    assert b"foo-clear-secret" not in stored and b"lab-clear-secret" not in stored


def test_import_dyndnsd_refuses_hosts_outside_the_configured_zones(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(DYNDNSD_CONFIG)
    (tmp_path / "db.json").write_text(json.dumps({"hosts": {"x.elsewhere.org": ["192.0.2.1"]}}))
    config = write_config(tmp_path / "srv", free_port(), free_port())
    done = dynzone_cli(config, "import-dyndnsd", str(tmp_path / "config.yaml"))
    assert done.returncode == 1
    assert "x.elsewhere.org from the dyndnsd db is in no configured zone" in done.stderr
    assert "Traceback" not in done.stderr
    assert "foo" not in dynzone_cli(config, "user", "list").stdout  # nothing half done


def test_an_unanchored_dyndnsd_regex_cannot_leave_its_name_or_zone(tmp_path: Path) -> None:
    """dyndnsd writes regexes unanchored; imported, they match whole names in its domain only."""
    src = tmp_path / "dyndnsd"
    src.mkdir()
    home = f"home.{ZONE}".replace(".", "\\.")
    (src / "config.yaml").write_text(
        f'domain: "{ZONE}"\nusers:\n  h:\n    password: "h-secret-1"\n    regex: \'{home}\'\n'
    )
    srv = tmp_path / "srv"
    ports = (free_port(), free_port())
    config = write_config(srv, *ports)
    done = dynzone_cli(config, "import-dyndnsd", str(src / "config.yaml"))
    assert done.returncode == 0, done.stderr
    dz = start(srv, ports=ports)
    try:
        q = "hostname={}&myip=192.0.2.44"
        assert dz.curl(q.format(f"home.{ZONE}"), "h", "h-secret-1") == (200, "good 192.0.2.44")
        for outside in (f"xhome.{ZONE}", f"a.home.{ZONE}", f"home.{ZONE}.{OTHER_ZONE}"):
            assert dz.curl(q.format(outside), "h", "h-secret-1") == (200, "nohost"), outside
            assert dz.query(outside) == []
    finally:
        dz.stop()
