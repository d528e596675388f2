#!/bin/bash
# Install, as root on Debian 12, every package the build and the whole test
# suite need (only those missing; apt-get update first when any is).  Used by
# .ci/run and by tests/run-all.sh, so the README's test command works on a
# fresh machine.  As an ordinary user it only lists what is missing.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

packages=(
	# build
	meson ninja-build pkg-config gcc libc6-dev git
	libyajl-dev libseccomp-dev libcap-dev libmnl-dev check
	# tests: fixture, comparison runtime, tools the test scripts use
	busybox-static runc jq iproute2 util-linux procps coreutils findutils file
	# client suite (tests/clients): the real containerd and podman/conmon;
	# curl sends containerd's Tasks.Update (ctr 1.6 has no update command)
	containerd podman conmon curl
	# rootless tests: newuidmap/newgidmap, useradd
	uidmap passwd
	# tests/vm: a cgroup-v2 kernel under QEMU/TCG (the kernel .deb itself is
	# fetched by tests/vm/run.sh with apt-get download, never installed)
	qemu-system-x86 cpio
	# tests/vm's AppArmor tests: apparmor_parser, copied into the guest to
	# load their profiles (the host kernel has no AppArmor: nothing is loaded
	# here, its service does not start)
	apparmor
	# robustness (issue 9): libFuzzer + sanitizers (tests/fuzz), memcheck
	# (tests/valgrind), fault injection (tests/integration/faults.sh)
	clang libclang-rt-dev valgrind strace
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -gt 0 ] || exit 0
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages (install them as root): ${missing[*]}" >&2
	exit 1
fi
echo "== apt-get install ${missing[*]}"
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"

