#!/usr/bin/env bash
# Install the real DNS peers the end-to-end tests and benchmarks run against.
# Debian/Ubuntu only; needs root (or sudo). Safe to run more than once.
set -euo pipefail

# bind9 gives named, the third server the write benchmark compares with;
# openssl makes the throwaway TLS certificate pebble serves its ACME API with;
# prometheus scrapes /metrics; systemd gives systemd-analyze, which checks the
# unit file in contrib/ (no systemd is started).
PEERS=(nsd knot knot-dnsutils bind9 bind9-dnsutils dnsperf ddclient inadyn curl openssl certbot
       python3-certbot-dns-rfc2136 lego pebble prometheus systemd)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# Package maintainer scripts would start nsd/knot on port 53 as system
# services; the tests start their own instances on free loopback ports, so keep
# the packaged services from starting at install time.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi

missing=()
for p in "${PEERS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-peers: all peers already installed"
  exit 0
fi

echo "install-peers: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
