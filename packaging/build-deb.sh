#!/bin/sh
# Builds wasmgate_<version>_<arch>.deb from this checkout with dpkg-deb, for the machine it runs on.
#   npm ci && packaging/build-deb.sh [OUTPUT_DIR]        (default OUTPUT_DIR: dist/deb)
#
# One package per architecture (amd64, arm64, armhf), built on that architecture, not one "all":
# better-sqlite3 (the outbox) and unix-dgram (systemd notification) are native modules that npm ci
# compiled for this machine's CPU and this Node's ABI, and an arch-all package would carry them to a
# machine they cannot load on. Everything else in it is the same for every architecture.
# Node itself is not bundled: the package depends on the distribution's nodejs of the major version
# the modules were compiled for, which gets its security updates from apt like the rest of the system.
set -eu

cd "$(dirname "$0")/.."
out=${1:-dist/deb}

[ -f dist/src/host/cli/main.js ] || { echo "build-deb: dist/ is missing: run npm ci (or npm run build) first" >&2; exit 1; }
# The bundled host (dist/bundle/, what the installed bin/host-entry.js runs) must be built from this
# dist/src: one older than it is yesterday's code.
[ -f dist/bundle/main.js ] || { echo "build-deb: dist/bundle/ is missing: run npm run build first" >&2; exit 1; }
[ ! dist/src/host/cli/main.js -nt dist/bundle/main.js ] || { echo "build-deb: dist/bundle/ is older than dist/src/: run npm run build:bundle first" >&2; exit 1; }
[ -f build/Release/wasmgate_execve.node ] || { echo "build-deb: build/Release/wasmgate_execve.node is missing: run npm ci first" >&2; exit 1; }
[ -f node_modules/better-sqlite3/build/Release/better_sqlite3.node ] || { echo "build-deb: node_modules has no compiled better-sqlite3: run npm ci first" >&2; exit 1; }

version=$(node -p "require('./package.json').version")
arch=$(dpkg --print-architecture)
node_arch=$(node -p process.arch)
case "$arch:$node_arch" in
    amd64:x64 | arm64:arm64 | armhf:arm) ;;
    *) echo "build-deb: dpkg architecture $arch does not match this node's $node_arch" >&2; exit 1 ;;
esac
node_major=$(node -p "process.versions.node.split('.')[0]")

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root=$stage/root
lib=$root/usr/lib/wasmgate

install -d "$lib/dist" "$root/usr/bin" "$root/usr/lib/systemd/system" "$root/etc/wasmgate/pipelines" \
    "$root/usr/share/doc/wasmgate" "$root/DEBIAN"

# The program: compiled host, bundled (what runs: bin/host-entry.js) and as tsc wrote it (the plugin
# harness imports it), the CLI shim, the built plugins with their manifests.
cp -R bin "$lib/bin"
cp -R dist/src "$lib/dist/src"
cp -R dist/bundle "$lib/dist/bundle"
# The bundle's source maps stay (2 MB): with NODE_OPTIONS=--enable-source-maps in a drop-in, the stack
# traces in the journal name src/*.ts files and lines (docs/service.md, "Stack traces").
find "$lib/dist/src" -name '*.map' -delete
cp package.json package-lock.json "$lib/"
# execve for `wasmgate run` started by hand (bin/daemon-runtime.js); the unit does not need it.
install -d "$lib/build/Release"
cp build/Release/wasmgate_execve.node "$lib/build/Release/"
for dir in plugins/*/; do
    name=$(basename "$dir")
    [ -f "$dir/plugin.yaml" ] || continue
    install -d "$lib/plugins/$name/build"
    cp "$dir/plugin.yaml" "$lib/plugins/$name/"
    cp "$dir"/build/*.wasm "$lib/plugins/$name/build/"
done

# Production modules only, as npm ci compiled them here (npm prune removes the dev dependencies
# without fetching or compiling anything), less what only building or other platforms need.
cp -R node_modules "$lib/node_modules"
(cd "$lib" && npm prune --omit=dev --ignore-scripts --no-audit --no-fund >/dev/null)
rm -rf "$lib/node_modules/better-sqlite3/deps" "$lib/node_modules/better-sqlite3/src" \
    "$lib/node_modules/better-sqlite3/build/Release/obj" "$lib/node_modules/better-sqlite3/build/Release/obj.target" \
    "$lib/node_modules/better-sqlite3/build/Release/.deps" "$lib/node_modules/better-sqlite3/build/Release/test_extension.node" \
    "$lib/node_modules/better-sqlite3/build/deps" \
    "$lib/node_modules/unix-dgram/build/Release/obj.target" "$lib/node_modules/unix-dgram/build/Release/.deps"
case "$arch" in amd64) keep=linux-x64 ;; arm64) keep=linux-arm64 ;; armhf) keep=linux-arm ;; esac
prebuilds=$lib/node_modules/@serialport/bindings-cpp/prebuilds
if [ -d "$prebuilds" ]; then
    find "$prebuilds" -mindepth 1 -maxdepth 1 ! -name "$keep" -exec rm -rf {} +
    find "$prebuilds" -name '*musl*' -delete
fi
ln -s ../lib/wasmgate/bin/wasmgate.js "$root/usr/bin/wasmgate"
# The editor schemas, for a modeline in /etc/wasmgate's files (docs/config.md, "Editor support").
cp -R schemas "$lib/schemas"

# The service, the default configuration, the documentation.
cp systemd/wasmgate.service "$root/usr/lib/systemd/system/"
cp packaging/etc/gateway.yaml "$root/etc/wasmgate/"
cp packaging/etc/pipelines/example.yaml "$root/etc/wasmgate/pipelines/"
cp README.md docs/service.md docs/config.md docs/serial.md docs/cli.md docs/errors.md "$root/usr/share/doc/wasmgate/"
cp LICENSE "$root/usr/share/doc/wasmgate/copyright"

# The C library the native modules were linked against, at least: the newest glibc symbol version
# they use (what dpkg-shlibdeps would find, without a source package around this).
glibc=$(find "$lib/node_modules" -name '*.node' -exec objdump -T {} + 2>/dev/null | \
    grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -n 1)

cp packaging/debian/postinst packaging/debian/prerm packaging/debian/postrm "$root/DEBIAN/"
chmod 0755 "$root/DEBIAN/postinst" "$root/DEBIAN/prerm" "$root/DEBIAN/postrm"
printf '/etc/wasmgate/gateway.yaml\n/etc/wasmgate/pipelines/example.yaml\n' >"$root/DEBIAN/conffiles"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat >"$root/DEBIAN/control" <<CONTROL
Package: wasmgate
Version: $version
Architecture: $arch
Maintainer: wasmgate developers <wasmgate@invalid>
Installed-Size: $size
Depends: nodejs (>= $node_major), nodejs (<< $((node_major + 1))), adduser, libc6 (>= ${glibc:-2.28}), libstdc++6
Recommends: systemd
Section: net
Priority: optional
Description: edge gateway: field devices to a WebAssembly plugin chain to MQTT
 Polls PLCs and field devices (Modbus TCP, Modbus RTU on RS-485, RTU over TCP),
 runs the readings through a YAML-defined chain of sandboxed WebAssembly plugins
 and publishes them to MQTT or CoAP through a durable outbox. Runs as the
 hardened systemd service wasmgate.service under its own user.
CONTROL

mkdir -p "$out"
deb=$out/wasmgate_${version}_${arch}.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
