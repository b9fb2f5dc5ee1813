#!/bin/sh
# One-time set-up for the tests on a fresh Debian 12 machine (as root):
# the real peers the end-to-end tests drive, the npm packages, and the ARM builds
# of Node 20 under qemu-user for the ARM end-to-end tests (in .arm/, once).
set -e
cd "$(dirname "$0")/.."
if [ "$(id -u)" = 0 ]; then
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends \
    sip-tester kamailio baresip baresip-core sox libsox-fmt-all tshark kannel kannel-extras espeak-ng sipvicious \
    rtpengine-daemon curl iproute2 faketime qemu-user-static
else
  echo "setup.sh: not root, skipping apt-get (the end-to-end tests need: sip-tester kamailio baresip sox tshark kannel sipvicious faketime qemu-user-static; the benchmarks rtpengine-daemon)" >&2
fi
npm ci --no-audit --no-fund
scripts/setup-arm.sh
