"""Configuration errors name the key (or file:line) and exit non-zero."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from dynzone.config import ConfigError, load_config
from dynzone.engine.settings import HostPort

ZONE = "$TTL 300\n@ SOA ns1 host 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.1\n"


def write(tmp_path: Path, text: str, zone: str = ZONE) -> Path:
    (tmp_path / "zones").mkdir(exist_ok=True)
    (tmp_path / "zones" / "example.com.zone").write_text(zone)
    cfg = tmp_path / "dynzone.toml"
    cfg.write_text(text)
    return cfg


GOOD = """
data_dir = "dynzone-data"

[dns]
listen = ["127.0.0.1:5353", "[::1]:5353"]

[[zone]]
name = "example.com"
file = "zones/example.com.zone"
"""


def test_the_documented_example_loads_with_paths_relative_to_the_file(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, GOOD))
    assert cfg.data_dir == tmp_path / "dynzone-data"
    assert cfg.dns.listen == (HostPort("127.0.0.1", 5353), HostPort("::1", 5353))
    assert cfg.zones[0].file == tmp_path / "zones" / "example.com.zone"


def test_transfer_settings_parse_keys_networks_and_notify_targets(tmp_path: Path) -> None:
    text = GOOD + (
        'allow_transfer = ["key:XFR.", "192.0.2.0/24", "::1"]\n'
        'notify = ["192.0.2.2", "127.0.0.1:5300", "[::1]:5301"]\n'
        'notify_key = "Xfr"\n'
    )
    zone = load_config(write(tmp_path, text)).zones[0]
    assert zone.notify == (
        HostPort("192.0.2.2", 53),
        HostPort("127.0.0.1", 5300),
        HostPort("::1", 5301),
    )
    assert zone.notify_key == "xfr"
    assert zone.transfer_keys == frozenset({"xfr"})
    assert [str(n) for n in zone.transfer_networks] == ["192.0.2.0/24", "::1/128"]


def test_transfers_are_denied_by_default(tmp_path: Path) -> None:
    zone = load_config(write(tmp_path, GOOD)).zones[0]
    assert not zone.transfer_keys and not zone.transfer_networks


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (GOOD.replace("[dns]", "[dns]\nlisten_on = []"), "unknown key dns.listen_on"),
        (GOOD + "\nport = 53\n", "unknown key zone[0].port"),
        ("colour = 'blue'\n" + GOOD, "unknown key colour"),
        (
            GOOD.replace('"[::1]:5353"', '"localhost:5353"'),
            "dns.listen[1]: 'localhost' is not an IP",
        ),
        (GOOD.replace('"[::1]:5353"', '"127.0.0.1:99999"'), "dns.listen[1]: '99999' is not a port"),
        (
            GOOD.replace('"[::1]:5353"', '"127.0.0.1"'),
            "dns.listen[1]: '127.0.0.1' is not HOST:PORT",
        ),
        (GOOD.replace("zones/example.com.zone", "zones/missing.zone"), "zone[0].file: zone file"),
        (GOOD.replace('name = "example.com"', 'name = "bad..name"'), "zone[0].name: 'bad..name'"),
        (
            GOOD + '[[zone]]\nname = "example.com."\nfile = "zones/example.com.zone"\n',
            "zone[1].name: zone example.com. is configured twice",
        ),
        (GOOD.replace("[dns]", "[dns]\nedns_payload = 100"), "dns.edns_payload: 100 is outside"),
        (GOOD.replace("[dns]", "[dns]\ntcp_idle_timeout = true"), "dns.tcp_idle_timeout: expected"),
        ("data_dir = [\n", "not valid TOML"),
        (
            GOOD + '[[zone]]\nname = "dyn.example.com"\n',
            "zone[1]: zone dyn.example.com. has no file, so it needs ns and email",
        ),
        (
            GOOD + '[[zone]]\nname = "d.example"\nns = ["ns1.d.example."]\nemail = "nobody"\n',
            "zone[1].email: 'nobody' is not an address",
        ),
        (GOOD + 'serial_policy = "weekly"\n', "zone[0].serial_policy: 'weekly' is not one of"),
        (GOOD + "journal_limit = 0\n", "zone[0].journal_limit: keep at least 1"),
        (GOOD + 'export_command = "true"\n', "zone[0].export_command: needs export_file"),
        (GOOD + 'allow_update = ["lan"]\n', "zone[0].allow_update[0]: 'lan' is not an address"),
        (
            GOOD + 'allow_transfer = ["secondaries"]\n',
            "zone[0].allow_transfer[0]: 'secondaries' is neither \"key:NAME\" nor an address",
        ),
        (GOOD + 'allow_transfer = ["key:"]\n', "zone[0].allow_transfer[0]: '' is not a key name"),
        (
            GOOD + 'notify = ["ns2.example.com"]\n',
            "zone[0].notify[0]: 'ns2.example.com' is not an IP",
        ),
        (GOOD + 'notify = ["127.0.0.1:0"]\n', "zone[0].notify[0]: '0' is not a port"),
        (GOOD + 'notify_key = "xfr"\n', "zone[0].notify_key: needs notify to be set too"),
        (GOOD + '[http]\nlisten = ["127.0.0.1"]\n', "http.listen[0]: '127.0.0.1' is not HOST:PORT"),
        (GOOD + '[http]\ntrusted_proxies = ["me"]\n', "http.trusted_proxies[0]: 'me' is not"),
        (GOOD + "[http]\nfailed_logins_per_minute = 0\n", "http.failed_logins_per_minute"),
        (GOOD + "[http]\nport = 80\n", "unknown key http.port"),
        (GOOD.replace("[dns]", "[dns]\nrrl_limit = -1"), "dns.rrl_limit: responses per second"),
        (GOOD.replace("[dns]", "[dns]\nrrl_slip = 11"), "dns.rrl_slip: 0 (never slip) to 10"),
        (GOOD.replace("[dns]", '[dns]\nrrl_exempt = ["x"]'), "dns.rrl_exempt[0]: 'x' is not"),
        (GOOD.replace("[dns]", '[dns]\ncookie_secret = "abc"'), "dns.cookie_secret: give 16"),
        (
            GOOD.replace("[dns]", "[dns]\ntcp_max_connections_per_address = 0"),
            "dns.tcp_max_connections_per_address: must be at least 1",
        ),
        (GOOD + "[http]\nheader_timeout = 0\n", "http.header_timeout: must be more than 0"),
        (GOOD + '[http]\nmetrics_from = ["all"]\n', "http.metrics_from[0]: 'all' is not"),
        ('user = "no-such-user-here"\n' + GOOD, 'user = "no-such-user-here": no such user'),
        (GOOD.replace("[dns]", '[log]\nformat = "xml"\n[dns]'), "log.format: 'xml' is not one"),
    ],
)
def test_config_error_names_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=None) as err:
        load_config(write(tmp_path, text))
    assert message in str(err.value)
    assert str(err.value).startswith(str(tmp_path / "dynzone.toml"))


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dynzone", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_serve_with_a_bad_config_prints_one_clear_line_and_exits_nonzero(tmp_path: Path) -> None:
    cfg = write(tmp_path, GOOD.replace("[dns]", "[dns]\nlisten_on = []"))
    result = run_cli("serve", "--config", str(cfg), cwd=tmp_path)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"dynzone: error: {cfg}: unknown key dns.listen_on (known keys: dns.cookie_secret,"
        " dns.cookies, dns.edns_payload, dns.listen, dns.rrl_exempt, dns.rrl_limit,"
        " dns.rrl_slip, dns.tcp_idle_timeout, dns.tcp_max_connections,"
        " dns.tcp_max_connections_per_address)"
    ]


def test_serve_with_a_bad_zone_names_file_and_line(tmp_path: Path) -> None:
    cfg = write(tmp_path, GOOD, zone=ZONE + "www A 192.0.2.300\n")
    result = run_cli("serve", "--config", str(cfg), cwd=tmp_path)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert f"{tmp_path}/zones/example.com.zone:5:" in result.stderr


def test_serve_with_a_missing_config_file_says_so(tmp_path: Path) -> None:
    result = run_cli("serve", "--config", "nope.toml", cwd=tmp_path)
    assert result.returncode != 0
    assert "nope.toml: config file not found" in result.stderr


def test_check_reports_each_problem_as_file_line_message(tmp_path: Path) -> None:
    zone = tmp_path / "example.com.zone"
    zone.write_text(ZONE + "www.example.net. A 192.0.2.1\nmail CNAME www\nmail MX 10 mail\n")
    result = run_cli("check", str(zone), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{zone}:5: www.example.net. is outside the zone example.com.",
        f"{zone}:7: CNAME beside other data at mail.example.com.: MX (also line 6);"
        " a name with a CNAME may have no other records",
    ]


def test_check_passes_a_good_zone_and_takes_the_origin_from_the_option(tmp_path: Path) -> None:
    zone = tmp_path / "anything.txt"
    zone.write_text(ZONE)
    assert run_cli("check", str(zone), cwd=tmp_path).returncode == 1  # origin unknown
    result = run_cli("check", str(zone), "--origin", "example.com", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "zone example.com. is OK (3 records)" in result.stdout


def test_serve_on_an_address_in_use_says_so_without_a_traceback(tmp_path: Path) -> None:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as busy:
        busy.bind(("127.0.0.1", 0))
        port = busy.getsockname()[1]
        cfg = write(tmp_path, GOOD.replace('"127.0.0.1:5353", "[::1]:5353"', f'"127.0.0.1:{port}"'))
        result = run_cli("serve", "--config", str(cfg), cwd=tmp_path)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert f"cannot listen on 127.0.0.1:{port} (UDP): Address already in use" in result.stderr
    assert "Change dns.listen in the config." in result.stderr


ACME = GOOD + '\n[http]\nlisten = ["127.0.0.1:8053"]\n'


def test_acme_dns_is_closed_by_default_and_values_live_an_hour(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, ACME + '[acme_dns]\nzone = "example.com"\n'))
    acme = cfg.http.acme_dns
    assert acme is not None and acme.zone.to_text() == "example.com."
    assert acme.register_from == () and acme.txt_ttl == 3600
    cfg = load_config(
        write(
            tmp_path,
            ACME + '[acme_dns]\nzone = "example.com"\nregister_from = ["10.0.0.0/8"]\n'
            'txt_ttl = "15m"\n',
        )
    )
    assert cfg.http.acme_dns is not None
    assert cfg.http.acme_dns.txt_ttl == 900
    assert [str(n) for n in cfg.http.acme_dns.register_from] == ["10.0.0.0/8"]
    assert load_config(write(tmp_path, ACME)).http.acme_dns is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (ACME + '[acme_dns]\nzone = "other.org"\n', "acme_dns.zone: 'other.org' must name one"),
        (ACME + "[acme_dns]\n", "acme_dns.zone: '' must name one"),
        (ACME + '[acme_dns]\nzone = "example.com"\ntxt_ttl = "soon"\n', "acme_dns.txt_ttl"),
        (ACME + '[acme_dns]\nzone = "example.com"\ntxt_ttl = 0\n', "acme_dns.txt_ttl"),
        (ACME + '[acme_dns]\nzone = "example.com"\nregister_from = ["x"]\n', "register_from[0]"),
        (ACME + '[acme_dns]\nzone = "example.com"\nopen = true\n', "acme_dns.open"),
        (GOOD + '[acme_dns]\nzone = "example.com"\n', "set http.listen"),
    ],
)
def test_acme_dns_mistakes_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(write(tmp_path, text))
