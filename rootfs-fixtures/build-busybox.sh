#!/bin/bash
# build-busybox.sh [--helpers DIR] [--busybox PATH] DEST
#
# Builds a minimal busybox-static root filesystem into DEST for the tests:
#   bin sbin etc proc sys dev tmp root var/tmp usr/bin usr/sbin home/test
#   busybox (Debian's busybox-static) as /bin/busybox, every applet as a
#   relative symlink to it (what `busybox --install -s` would make);
#   /etc/passwd (root 0, nobody 65534, test 1000), /etc/group (root, tty 5,
#   test 1000, extra2000, extra3000, nogroup 65534), /etc/hosts;
#   the static test helpers (sprout-probe, ...) from DIR into /usr/bin.
#
# DIR defaults to $HELPERS_DIR; without either, no helpers are copied.
# Cached by content: DEST/.fixture-hash holds the sha256 of this script, the
# busybox binary and the helper binaries; when it matches, nothing is done.
# Concurrent callers are serialised with a lock file next to DEST.
set -euo pipefail

usage() { echo "usage: $0 [--helpers DIR] [--busybox PATH] DEST" >&2; exit 2; }

helpers=${HELPERS_DIR:-}
busybox=${BUSYBOX:-/bin/busybox}
dest=
while [ $# -gt 0 ]; do
	case $1 in
	--helpers) helpers=${2:?}; shift 2 ;;
	--helpers=*) helpers=${1#*=}; shift ;;
	--busybox) busybox=${2:?}; shift 2 ;;
	--busybox=*) busybox=${1#*=}; shift ;;
	-h|--help) usage ;;
	-*) echo "$0: unknown option $1" >&2; usage ;;
	*) [ -z "$dest" ] || usage; dest=$1; shift ;;
	esac
done
[ -n "$dest" ] || usage

die() { echo "build-busybox.sh: $*" >&2; exit 1; }

[ -x "$busybox" ] || die "$busybox not found (apt-get install busybox-static)"
busybox=$(realpath "$busybox") # used from inside the new tree
# Debian's dynamically linked busybox would not run inside the rootfs.
if ! LC_ALL=C file -L "$busybox" 2>/dev/null | grep -q 'statically linked'; then
	if command -v file >/dev/null; then
		die "$busybox is not statically linked (install busybox-static)"
	fi
fi

helper_bins=()
if [ -n "$helpers" ]; then
	[ -d "$helpers" ] || die "helpers directory $helpers does not exist (build with meson first)"
	helpers=$(realpath "$helpers") # the copy below runs in another directory
	for f in "$helpers"/*; do
		# executables only: skip meson's *.p object directories
		[ -f "$f" ] && [ -x "$f" ] && helper_bins+=("$f")
	done
	[ ${#helper_bins[@]} -gt 0 ] || die "no helper binaries in $helpers"
fi

self=$(readlink -f "$0")
hash=$( {
	sha256sum "$self" | cut -d' ' -f1
	sha256sum "$busybox" | cut -d' ' -f1
	for f in "${helper_bins[@]}"; do
		printf '%s ' "$(basename "$f")"
		sha256sum "$f" | cut -d' ' -f1
	done
} | sha256sum | cut -d' ' -f1)

dest=$(realpath -m "$dest")
mkdir -p "$(dirname "$dest")"

exec 9>"$dest.lock"
flock 9

if [ -f "$dest/.fixture-hash" ] && [ "$(cat "$dest/.fixture-hash")" = "$hash" ]; then
	exit 0
fi

tmp=$(mktemp -d "$dest.new.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"

(
	cd "$tmp"
	mkdir -p bin sbin etc proc sys dev tmp root var/tmp usr/bin usr/sbin home/test
	chmod 1777 tmp var/tmp
	chmod 700 root
	cp "$busybox" bin/busybox
	chmod 755 bin/busybox

	# Every applet as a relative symlink to /bin/busybox.
	"$busybox" --list-full | while read -r applet; do
		[ -n "$applet" ] || continue
		[ "$applet" = bin/busybox ] && continue
		[ -e "$applet" ] || [ -L "$applet" ] && continue
		dir=$(dirname "$applet")
		mkdir -p "$dir"
		up=
		rest=$dir
		while [ "$rest" != . ]; do up=../$up; rest=$(dirname "$rest"); done
		ln -s "${up}bin/busybox" "$applet"
	done
	[ -L bin/sh ] || die "busybox has no sh applet"

	cat >etc/passwd <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
test:x:1000:1000:test:/home/test:/bin/sh
EOF
	cat >etc/group <<'EOF'
root:x:0:
tty:x:5:
test:x:1000:
extra2000:x:2000:test
extra3000:x:3000:test
nogroup:x:65534:
EOF
	cat >etc/hosts <<'EOF'
127.0.0.1	localhost
::1	localhost ip6-localhost ip6-loopback
EOF
	: >etc/resolv.conf
	echo sprout-fixture >etc/hostname
	chmod 644 etc/passwd etc/group etc/hosts etc/resolv.conf etc/hostname
	chown 1000:1000 home/test

	for f in "${helper_bins[@]}"; do
		cp "$f" usr/bin/
		chmod 755 "usr/bin/$(basename "$f")"
	done

	echo "$hash" >.fixture-hash
)

# Swap in the new tree. rename(2) cannot replace a non-empty directory, so
# the old one is moved aside first.
if [ -e "$dest" ]; then
	old=$(mktemp -d "$dest.old.XXXXXX")
	mv "$dest" "$old/"
	mv "$tmp" "$dest"
	rm -rf "$old"
else
	mv "$tmp" "$dest"
fi
trap - EXIT
echo "build-busybox.sh: built $dest" >&2
