"""A zone-file edit + SIGHUP applies the edit and keeps records added over HTTP.

Also: an edit that clashes with dynamic data is refused and the zone kept, and
``export_file``/``export_command`` follow every change.
"""

from __future__ import annotations

import signal
from pathlib import Path

from tests.e2e.dyndns_server import ZONE, ZONE_TEXT, start
from tests.peers import wait_until


def test_edit_and_sighup_keep_dynamic_records_and_apply_the_edit(tmp_path: Path) -> None:
    dz = start(
        tmp_path,
        zone='export_file = "export/dyn.zone"\nexport_command = "cp export/dyn.zone copied.zone"',
    )
    (tmp_path / "export").mkdir(exist_ok=True)
    try:
        dz.add_user("home", "pw-home", f"home.{ZONE}")
        assert dz.curl(f"hostname=home.{ZONE}&myip=192.0.2.50", "home", "pw-home")[1].startswith(
            "good"
        )
        serial = dz.soa_serial()

        zone_file = tmp_path / f"{ZONE}.zone"
        edited = ZONE_TEXT.replace("static   IN A   192.0.2.1", "static   IN A   192.0.2.2")
        zone_file.write_text(edited + "new      IN A   192.0.2.77\n")
        dz.server.proc.send_signal(signal.SIGHUP)
        assert wait_until(lambda: dz.query(f"new.{ZONE}") == ["192.0.2.77"])
        assert dz.query(f"static.{ZONE}") == ["192.0.2.2"]
        assert dz.query(f"home.{ZONE}") == ["192.0.2.50"]  # the dynamic record survived
        assert dz.soa_serial() == serial + 1
        journal = dz.cli("zone", "journal", ZONE, "--last", "1").stdout
        assert f"by file:{zone_file}" in journal
        assert f"- static.{ZONE}. 300 IN A 192.0.2.1" in journal

        # A CNAME where HTTP added an address: refused, the zone stays as it was.
        zone_file.write_text(edited + "home     IN CNAME static\n")
        dz.server.proc.send_signal(signal.SIGHUP)
        assert wait_until(lambda: "would have a CNAME beside other data" in dz.server.log_text())
        assert dz.query(f"home.{ZONE}") == ["192.0.2.50"]
        assert dz.query(f"new.{ZONE}") == ["192.0.2.77"]
        assert f"keeping serial {serial + 1}" in dz.server.log_text()

        # Every change is exported, then the command runs.
        assert wait_until(lambda: (tmp_path / "copied.zone").exists())
        assert wait_until(
            lambda: (
                "home 60 IN A 192.0.2.50" in (tmp_path / "copied.zone").read_text()
                and "new 300 IN A 192.0.2.77" in (tmp_path / "copied.zone").read_text()
            )
        )
        assert "export_command exited with status 0" in dz.server.log_text()
    finally:
        dz.stop()


def test_edits_made_while_stopped_are_applied_at_the_next_start(tmp_path: Path) -> None:
    dz = start(tmp_path)
    ports = (dz.dns_port, dz.http_port)
    try:
        dz.add_user("home", "pw-home", f"home.{ZONE}")
        dz.curl(f"hostname=home.{ZONE}&myip=192.0.2.51", "home", "pw-home")
    finally:
        dz.stop()
    zone_file = tmp_path / f"{ZONE}.zone"
    zone_file.write_text(ZONE_TEXT + 'later    IN TXT  "added while stopped"\n')
    dz = start(tmp_path, ports=ports)
    try:
        assert dz.query(f"later.{ZONE}", "TXT") == ['"added while stopped"']
        assert dz.query(f"home.{ZONE}") == ["192.0.2.51"]
    finally:
        dz.stop()
