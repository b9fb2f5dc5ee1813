#!/bin/sh
# One-time set-up for the tests on a fresh Debian 12 machine (as root):
# the real peers the end-to-end tests drive, and the npm packages.
set -e
cd "$(dirname "$0")/.."
if [ "$(id -u)" = 0 ]; then
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends \
    sip-tester kamailio baresip baresip-core sox libsox-fmt-all tshark kannel kannel-extras espeak-ng sipvicious \
    rtpengine-daemon curl iproute2 faketime
else
  echo "setup.sh: not root, skipping apt-get (the end-to-end tests need: sip-tester kamailio baresip sox tshark kannel sipvicious faketime; the benchmarks rtpengine-daemon)" >&2
fi
npm ci --no-audit --no-fund
