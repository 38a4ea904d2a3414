#!/usr/bin/env bash
# Install the real DNS peers the end-to-end tests and benchmarks run against.
# Debian/Ubuntu only; needs root (or sudo). Safe to run more than once.
set -euo pipefail

# bind9 gives named, the third server the write benchmark compares with;
# openssl makes the throwaway TLS certificate pebble serves its ACME API with;
# prometheus scrapes /metrics; systemd gives systemd-analyze, which checks the
# unit file in contrib/ (no systemd is started); unbound and dnsmasq-base are the
# local resolvers put in front of dynzone (no service is started: the tests run
# their own on free ports). python3-zope.interface and
# python3-mock are what the certbot-dns-acmedns plugin (below) declares it needs.
PEERS=(nsd knot knot-dnsutils bind9 bind9-dnsutils dnsperf ddclient inadyn curl openssl certbot
       python3-certbot-dns-rfc2136 python3-zope.interface python3-mock lego pebble prometheus
       systemd unbound dnsmasq-base)

# certbot's acme-dns plugin is only on PyPI. It goes into a directory of its own
# for Debian's certbot (on the system Python), which the tests hand to certbot
# as PYTHONPATH; nothing is installed into the system Python itself.
CERTBOT_PLUGINS=/usr/local/lib/dynzone-peers/certbot-plugins
install_certbot_plugins() {
  if [ -d "$CERTBOT_PLUGINS/certbot_dns_acmedns" ]; then return; fi
  echo "install-peers: installing certbot-dns-acmedns into $CERTBOT_PLUGINS"
  $SUDO python3 -m pip install -q --no-deps --no-compile --target "$CERTBOT_PLUGINS" \
    certbot-dns-acmedns==0.1.0 pyacmedns==0.4
}

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
  install_certbot_plugins
  exit 0
fi

echo "install-peers: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
install_certbot_plugins
