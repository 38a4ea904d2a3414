"""Run pebble, the ACME test CA, offline on loopback, validating dns-01 through dynzone."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests.peers import Server, free_port


@dataclass
class Pebble:
    server: Server
    ca_file: Path  # the CA of pebble's own HTTPS certificate, for the ACME clients

    @property
    def directory(self) -> str:
        return f"https://127.0.0.1:{self.server.port}/dir"

    def stop(self) -> None:
        self.server.stop()


def _tls_files(workdir: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a certificate for 127.0.0.1/localhost signed by it."""
    ca_key, ca, key, csr, cert = (
        workdir / n for n in ("ca.key", "ca.pem", "key.pem", "req.csr", "cert.pem")
    )
    ext = workdir / "san.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    for argv in (
        ["req", "-x509", *ec, "-keyout", ca_key, "-out", ca, "-days", "2", "-subj", "/CN=test CA"],
        ["req", *ec, "-keyout", key, "-out", csr, "-subj", "/CN=localhost"],
        [
            "x509",
            "-req",
            "-in",
            csr,
            "-CA",
            ca,
            "-CAkey",
            ca_key,
            "-CAcreateserial",
            "-out",
            cert,
            "-days",
            "2",
            "-extfile",
            ext,
        ],
    ):
        subprocess.run(["openssl", *map(str, argv)], check=True, capture_output=True, timeout=60)
    return ca, cert, key


def start_pebble(pebble: str, workdir: Path, dns_port: int) -> Pebble:
    """Start pebble with its ACME API on a free loopback port; returns once it answers."""
    workdir.mkdir(parents=True, exist_ok=True)
    ca, cert, key = _tls_files(workdir)
    port = free_port()
    config = workdir / "pebble.json"
    config.write_text(
        json.dumps(
            {
                "pebble": {
                    "listenAddress": f"127.0.0.1:{port}",
                    "managementListenAddress": f"127.0.0.1:{free_port()}",
                    "certificate": str(cert),
                    "privateKey": str(key),
                    # Ports pebble would connect to for http-01/tls-alpn-01; unused here.
                    "httpPort": 5002,
                    "tlsPort": 5001,
                    "ocspResponderURL": "",
                    "externalAccountBindingRequired": False,
                }
            }
        )
    )
    env = dict(
        os.environ,
        PEBBLE_VA_NOSLEEP="1",  # validate at once
        PEBBLE_WFE_NONCEREJECT="0",  # no random badNonce errors
        PEBBLE_AUTHZREUSE="0",  # every order proves its names anew
    )
    log = workdir / "pebble.log"
    argv = [pebble, "-config", str(config), "-dnsserver", f"127.0.0.1:{dns_port}"]
    with open(log, "wb") as fh:
        proc = subprocess.Popen(argv, stdout=fh, stderr=subprocess.STDOUT, cwd=workdir, env=env)
    server = Server(name="pebble", port=port, proc=proc, workdir=workdir, log=log)
    context = ssl.create_default_context(cafile=str(ca))
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(
                f"https://127.0.0.1:{port}/dir", context=context, timeout=2
            ):
                return Pebble(server, ca)
        except (urllib.error.URLError, OSError):
            if proc.poll() is not None or time.monotonic() > deadline:
                server.stop()
                raise RuntimeError(f"pebble did not start:\n{log.read_text()}") from None
            time.sleep(0.2)
