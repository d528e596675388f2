#!/bin/bash
# tests/vm/run.sh — run tests inside a QEMU guest with a real cgroup-v2 kernel.
#
#   tests/vm/run.sh [--script FILE] [--extra BIN]... [--file SRC:DEST]...
#                   [--timeout SECS]
#
# Boots Debian's kernel (the package linux-image-amd64 depends on, fetched
# with `apt-get download` and unpacked with dpkg-deb, never installed) under
# QEMU/TCG with an initramfs made here: busybox-static, bash, jq and a few
# host tools with their shared libraries, the built sprout ($SPROUT), the
# rootfs fixture ($SPROUT_FIXTURE with the helpers of $HELPERS_DIR), the
# repository's test scripts (at /repo) and overlay.ko.  The guest's init
# (tests/vm/guest-init.sh) switch_roots into a tmpfs, mounts cgroup2 on
# /sys/fs/cgroup with every controller enabled, mounts securityfs, runs the
# script (default tests/vm/guest-tests.sh) and powers off.  The script's
# output comes back over the serial console and is printed here: TAP,
# counted by run-all.sh.
#
# AppArmor: the kernel boots with apparmor=1 (Debian's kernel enables it by
# default; this keeps it so), and the host's apparmor_parser (package
# apparmor, tests/install-deps.sh) is copied into the guest, where
# tests/vm/guest-apparmor.sh loads tests/vm/sprout-test.apparmor with it.
# The profiles are compiled in the guest, for the guest kernel's features.
#
# --script FILE     run FILE in the guest instead (bash; cwd /repo)
# --extra BIN       also copy the host binary BIN (e.g. /usr/bin/crun) and its
#                   shared libraries into the guest, at the same path
# --file SRC:DEST   also copy the file or directory SRC to DEST in the guest
# --timeout SECS    give up on the guest after SECS (default 240)
#
# Exit status: the script's; 1 (with a "Bail out!" line) when the guest did
# not report back, or something needed is missing.
#
# Cache ($SPROUT_VM_CACHE, default /var/tmp/sprout-vm): the kernel .deb, its
# vmlinuz and overlay.ko, and the initramfs part made of host tools, each
# keyed by content.  Environment: SPROUT, HELPERS_DIR, SPROUT_FIXTURE as for
# the integration tests; SPROUT_VM_MEM (MiB, 1024), SPROUT_VM_SMP (2),
# SPROUT_VM_KERNEL_PKG (a linux-image-* package name, default: what
# linux-image-amd64 depends on).
set -u
set -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
SPROUT=${SPROUT:-$REPO/build/src/cli/sprout}
HELPERS_DIR=${HELPERS_DIR:-$REPO/build/tests/helpers}
SPROUT_FIXTURE=${SPROUT_FIXTURE:-/var/tmp/sprout-fixture}
CACHE=${SPROUT_VM_CACHE:-/var/tmp/sprout-vm}
MEM=${SPROUT_VM_MEM:-1024}
SMP=${SPROUT_VM_SMP:-2}
SCRIPT=$HERE/guest-tests.sh
TIMEOUT=240
EXTRA=()
FILES=()

bail() {
	echo "Bail out! vm: $*"
	exit 1
}

while [ $# -gt 0 ]; do
	case $1 in
	--script) SCRIPT=${2:?}; shift 2 ;;
	--extra) EXTRA+=("${2:?}"); shift 2 ;;
	--file) FILES+=("${2:?}"); shift 2 ;;
	--timeout) TIMEOUT=${2:?}; shift 2 ;;
	-h | --help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) bail "unknown argument $1 (see --help)" ;;
	esac
done

[ "$(id -u)" = 0 ] || bail "must run as root (the guest tests create containers)"
for tool in qemu-system-x86_64 cpio dpkg-deb apt-get sha256sum; do
	command -v $tool >/dev/null || bail "$tool is not installed (apt-get install qemu-system-x86 cpio)"
done
BUSYBOX=/bin/busybox
LC_ALL=C file -L "$BUSYBOX" 2>/dev/null | grep -q 'statically linked' ||
	bail "$BUSYBOX is not busybox-static (apt-get install busybox-static)"
case $SPROUT in /*) ;; *) SPROUT=$PWD/$SPROUT ;; esac
[ -x "$SPROUT" ] || bail "runtime $SPROUT not found (build it, or set SPROUT=)"
[ -f "$SCRIPT" ] || bail "guest script $SCRIPT not found"
"$REPO/rootfs-fixtures/build-busybox.sh" --helpers "$HELPERS_DIR" "$SPROUT_FIXTURE" >/dev/null ||
	bail "cannot build the rootfs fixture in $SPROUT_FIXTURE"

mkdir -p "$CACHE" || bail "cannot create $CACHE"
exec 8>"$CACHE/.lock"
flock 8

WORK=$(mktemp -d /tmp/sprout-vm.XXXXXX) || bail "mktemp failed"
trap '[ -n "${SPROUT_VM_KEEP:-}" ] && echo "# vm: kept $WORK" || rm -rf "$WORK"' EXIT

# ------------------------------------------------------------ kernel ---

pkg=${SPROUT_VM_KERNEL_PKG:-$(apt-cache depends linux-image-amd64 2>/dev/null |
	sed -n 's/^ *Depends: \(linux-image-[^ ]*\)$/\1/p' | head -n1)}
deb=
if [ -n "$pkg" ]; then
	deb=$(ls "$CACHE"/"${pkg}"_*.deb 2>/dev/null | head -n1)
	if [ -z "$deb" ]; then
		(cd "$CACHE" && apt-get download -q "$pkg" >"$WORK/apt.log" 2>&1) ||
			bail "apt-get download $pkg failed: $(tail -n 3 "$WORK/apt.log")"
		deb=$(ls "$CACHE"/"${pkg}"_*.deb 2>/dev/null | head -n1)
	fi
else
	# no package lists (apt-get update not run): any kernel fetched before
	deb=$(ls -t "$CACHE"/linux-image-*.deb 2>/dev/null | head -n1)
fi
[ -n "$deb" ] || bail "no kernel package (apt-get update, then apt-get download linux-image-amd64's dependency)"
kkey=$(sha256sum "$deb" | cut -c1-16)
KDIR=$CACHE/kernel-$kkey
if [ ! -f "$KDIR/vmlinuz" ]; then
	rm -rf "$KDIR.new"
	mkdir -p "$KDIR.new/x"
	dpkg-deb -x "$deb" "$KDIR.new/x" || bail "dpkg-deb -x $deb failed"
	cp "$KDIR.new"/x/boot/vmlinuz-* "$KDIR.new/vmlinuz" || bail "no vmlinuz in $deb"
	ko=$(find "$KDIR.new/x/lib/modules" -name 'overlay.ko*' | head -n1)
	[ -n "$ko" ] && cp "$ko" "$KDIR.new/"
	rm -rf "$KDIR.new/x"
	mv "$KDIR.new" "$KDIR" || bail "cannot store the kernel in $KDIR"
fi

# ------------------------------------------------------------ initramfs ---

# copy_bin ROOT BIN: BIN and the shared libraries it needs, at the same paths.
copy_bin() {
	local root=$1 bin=$2 lib
	[ -e "$bin" ] || bail "$bin not found"
	mkdir -p "$root$(dirname "$bin")"
	cp -L "$bin" "$root$bin"
	for lib in $(ldd "$bin" 2>/dev/null | grep -o '/[^ ]*'); do
		[ -e "$root$lib" ] && continue
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
}

# mkcpio DIR OUT: a newc archive of DIR's content (owned by root).
mkcpio() {
	(cd "$1" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$2"
}

# The base: busybox, host tools (bash and jq for the test library, GNU
# tools whose options busybox lacks), overlay.ko.  Cached by content.
HOST_TOOLS=(bash jq timeout pgrep pkill realpath flock find mktemp stat comm rm)
# AppArmor's parser (package apparmor) loads the profiles of the guest's
# AppArmor tests; without it they fail and say so (the cgroup tests still run)
AA_PARSER=$(command -v apparmor_parser || echo /usr/sbin/apparmor_parser)
[ -x "$AA_PARSER" ] || AA_PARSER=
base_key=$( {
	sha256sum "$BUSYBOX" "$0" "$KDIR/vmlinuz" $AA_PARSER
	for t in "${HOST_TOOLS[@]}"; do sha256sum "$(command -v "$t")"; done
} | sha256sum | cut -c1-16)
BASE=$CACHE/base-$base_key.cpio
if [ ! -f "$BASE" ]; then
	b=$WORK/base
	mkdir -p "$b"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,newroot,lib/modules}
	cp "$BUSYBOX" "$b/bin/busybox"
	for a in $("$BUSYBOX" --list); do
		[ "$a" = busybox ] || ln -s busybox "$b/bin/$a"
	done
	for t in "${HOST_TOOLS[@]}"; do
		p=$(command -v "$t") || bail "$t is not installed"
		copy_bin "$b" "$(readlink -f "$p")"
		[ -e "$b/usr/bin/$t" ] || ln -s "$(readlink -f "$p")" "$b/usr/bin/$t"
	done
	ln -sf /usr/bin/bash "$b/bin/bash"
	[ -z "$AA_PARSER" ] || copy_bin "$b" "$(readlink -f "$AA_PARSER")"
	cp "$KDIR"/overlay.ko* "$b/lib/modules/" 2>/dev/null
	echo 'root:x:0:0:root:/root:/bin/sh' >"$b/etc/passwd"
	echo 'root:x:0:' >"$b/etc/group"
	mkcpio "$b" "$BASE.new" && mv "$BASE.new" "$BASE" || bail "cannot write $BASE"
	rm -rf "$b"
	# the bases of older tools or of an older run.sh are not needed again
	find "$CACHE" -maxdepth 1 -name 'base-*.cpio' ! -name "$(basename "$BASE")" -delete
fi

# This run's part: sprout, the fixture, the helpers, the scripts, extras.
r=$WORK/run
mkdir -p "$r/usr/local/bin" "$r/repo/tests" "$r/repo/rootfs-fixtures" "$r/opt/helpers" \
	"$r/var/tmp"
copy_bin "$r" "$(readlink -f "$SPROUT")"
ln -sf "$(readlink -f "$SPROUT")" "$r/usr/local/bin/sprout"
cp -a "$SPROUT_FIXTURE" "$r/var/tmp/sprout-fixture"
for f in "$HELPERS_DIR"/*; do
	[ -f "$f" ] && [ -x "$f" ] && cp "$f" "$r/opt/helpers/"
done
cp -a "$REPO/tests/integration" "$REPO/tests/vm" "$r/repo/tests/"
cp -a "$REPO/rootfs-fixtures/build-busybox.sh" "$r/repo/rootfs-fixtures/"
SCRIPT=$(realpath "$SCRIPT")
case $SCRIPT in
"$REPO"/*) # a script of the repository runs where it is (it may source lib.sh)
	printf '#!/bin/bash\nexec bash /repo/%s "$@"\n' "${SCRIPT#"$REPO"/}" >"$r/repo/guest-script.sh"
	mkdir -p "$r/repo/$(dirname "${SCRIPT#"$REPO"/}")"
	cp "$SCRIPT" "$r/repo/${SCRIPT#"$REPO"/}" ;;
*) cp "$SCRIPT" "$r/repo/guest-script.sh" ;;
esac
cp "$HERE/guest-init.sh" "$r/init"
chmod 755 "$r/init"
for x in "${EXTRA[@]}"; do
	copy_bin "$r" "$(readlink -f "$(command -v "$x" || echo "$x")")"
	case $x in /*) [ -e "$r$x" ] || ln -s "$(readlink -f "$x")" "$r$x" ;; esac
done
for f in "${FILES[@]}"; do
	src=${f%%:*} dest=${f#*:}
	mkdir -p "$r$(dirname "$dest")"
	cp -a "$src" "$r$dest" || bail "cannot copy $src"
done
mkcpio "$r" "$WORK/run.cpio" || bail "cannot build the initramfs"
cat "$BASE" "$WORK/run.cpio" >"$WORK/initrd.cpio"
flock -u 8

# ------------------------------------------------------------ boot ---

LOG=$WORK/console.log
start=$(date +%s)
timeout -k 5 "$TIMEOUT" qemu-system-x86_64 -accel tcg,thread=multi -cpu max \
	-m "$MEM" -smp "$SMP" -nographic -no-reboot -nic none \
	-kernel "$KDIR/vmlinuz" -initrd "$WORK/initrd.cpio" \
	-append "console=ttyS0 quiet loglevel=1 panic=-1 apparmor=1 rdinit=/init" \
	</dev/null >"$LOG" 2>&1
qrc=$?
secs=$(($(date +%s) - start))
tr -d '\r' <"$LOG" >"$LOG.txt"
if ! grep -q '^@@SPROUT-VM-END ' "$LOG.txt"; then
	sed -n '/@@SPROUT-VM-BEGIN@@/,$p' "$LOG.txt" | sed '1d'
	echo "# qemu exit $qrc after ${secs}s; last console lines:"
	tail -n 30 "$LOG.txt" | sed 's/^/#   /'
	bail "the guest did not report back"
fi
sed -n '/@@SPROUT-VM-BEGIN@@/,/^@@SPROUT-VM-END /p' "$LOG.txt" | sed '1d;$d'
rc=$(sed -n 's/^@@SPROUT-VM-END rc=\([0-9]*\)@@$/\1/p' "$LOG.txt" | tail -n1)
echo "# vm: guest ran for ${secs}s, script exit ${rc:-?}"
exit "${rc:-1}"
