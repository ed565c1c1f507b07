#!/bin/sh
# Runs the cross-architecture digest (test/support/plugin-digest.ts) under Debian's arm64 Node in
# qemu-user, on an x86-64 Debian 12 machine, as root (docs/cross-architecture.md). Not part of
# `npm test`: emulated Node takes about a minute and a half. Needs `npm run build` first.
# Usage: sh test/cross-arch/arm64-digest.sh [sysroot folder, default /tmp/wasmgate-arm64]
set -eu
ROOT=${1:-/tmp/wasmgate-arm64}
REPO=$(cd "$(dirname "$0")/../.." && pwd)

if [ ! -x "$ROOT/sysroot/usr/bin/node" ]; then
  command -v qemu-aarch64-static >/dev/null || { apt-get update && apt-get install -y qemu-user qemu-user-static; }
  dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64
  apt-get update
  mkdir -p "$ROOT/debs" "$ROOT/sysroot"
  cd "$ROOT/debs"
  # nodejs:arm64 and the arm64 libraries it needs (dpkg, tar and install-info only install it), plus
  # the architecture-independent modules Debian's Node loads from /usr/share/nodejs at start.
  apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces --no-enhances nodejs:arm64 \
    | grep '^[a-z].*:arm64$' | grep -v -e '^dpkg:' -e '^tar:' -e '^install-info:' | sort -u | xargs apt-get download
  apt-get download node-acorn node-cjs-module-lexer node-undici
  for deb in ./*.deb; do dpkg-deb -x "$deb" "$ROOT/sysroot"; done
fi

cd "$REPO"
qemu-aarch64-static -L "$ROOT/sysroot" "$ROOT/sysroot/usr/bin/node" -e 'console.log(process.arch, process.version)'
exec qemu-aarch64-static -L "$ROOT/sysroot" "$ROOT/sysroot/usr/bin/node" dist/test/support/plugin-digest.js
