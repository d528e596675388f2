#!/usr/bin/env bash
# Quick start: install the build dependencies (Debian 12, as root), build
# sprout, build a busybox root filesystem and run a demo container.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
if [ "$(id -u)" != 0 ]; then
  echo "quickstart: run as root (it installs packages and runs a container)" >&2
  exit 1
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends meson ninja-build pkg-config gcc \
  libc6-dev libyajl-dev libseccomp-dev libcap-dev libmnl-dev check \
  busybox-static jq >/dev/null
[ -d build ] || meson setup build >/dev/null
ninja -C build >/dev/null
demo=$(mktemp -d /tmp/sprout-demo.XXXXXX)
trap 'rm -rf "$demo"' EXIT
rootfs-fixtures/build-busybox.sh "$demo/rootfs" >/dev/null
build/src/cli/sprout spec --bundle "$demo"
jq '.process.args = ["sh", "-c", "echo hello from a sprout container; echo hostname: $(hostname); echo pid: $$; echo user: $(id); echo; ps; echo; mount | head -5"]' \
  "$demo/config.json" > "$demo/config.new" && mv "$demo/config.new" "$demo/config.json"
build/src/cli/sprout --root "$demo/state" run --bundle "$demo" quickstart-demo
