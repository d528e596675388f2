# shellcheck shell=bash
# Library for the integration tests: real containers on this host, as root,
# printing TAP.  Source it from a test script:
#
#   . "$(dirname "$0")/lib.sh"
#   t_example() { new_container; set_args true; rt run "$CID"; expect_rc 0; }
#   t "example" t_example
#   done_testing
#
# Environment:
#   SPROUT          runtime binary (default: <repo>/build/src/cli/sprout);
#                   SPROUT=/usr/sbin/runc runs the same tests against runc
#   SPROUT_FIXTURE  busybox rootfs, built once (default /var/tmp/sprout-fixture)
#   HELPERS_DIR     built test helpers (default <repo>/build/tests/helpers)
#
# Every runtime call goes through `rt`, which adds a per-run `--root`, wraps
# the call in `timeout 30`, and leaves the result in RC, OUT and ERR.
# Assertions (expect_*) record failures; a test passes when none failed.
# An EXIT trap deletes every container the script created (delete --force),
# stops the helper processes it started and undoes the host mounts it made.

set -u
set -o pipefail

LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$LIB_DIR/../.." && pwd)
SPROUT=${SPROUT:-$REPO/build/src/cli/sprout}
SPROUT_FIXTURE=${SPROUT_FIXTURE:-/var/tmp/sprout-fixture}
HELPERS_DIR=${HELPERS_DIR:-$REPO/build/tests/helpers}
RT_TIMEOUT=${RT_TIMEOUT:-30}
SUITE=$(basename "$0" .sh)

bail() {
	echo "Bail out! $*"
	exit 1
}

[ "$(id -u)" = 0 ] || bail "integration tests must run as root"
case $SPROUT in
/*) ;;
*) SPROUT=$(command -v "$SPROUT" 2>/dev/null || echo "$PWD/$SPROUT") ;;
esac
[ -x "$SPROUT" ] || bail "runtime $SPROUT not found (build it, or set SPROUT=)"
for tool in jq timeout pgrep flock; do
	command -v $tool >/dev/null || bail "$tool is not installed"
done
# runc or sprout: a few facts differ and are reported as such in diagnostics
RT_NAME=$(basename "$SPROUT")

"$REPO/rootfs-fixtures/build-busybox.sh" --helpers "$HELPERS_DIR" "$SPROUT_FIXTURE" >/dev/null ||
	bail "cannot build the rootfs fixture in $SPROUT_FIXTURE"
[ -x "$SPROUT_FIXTURE/usr/bin/sprout-probe" ] || bail "fixture has no sprout-probe"

# Everything this run makes lives under TMPDIR_IT; its name is the run's
# marker (it appears in --root and bundle paths, so in runtime cmdlines).
TMPDIR_IT=$(mktemp -d "/tmp/sprout-it-$SUITE.XXXXXX") || bail "mktemp failed"
chmod 755 "$TMPDIR_IT"
MARKER=$(basename "$TMPDIR_IT")
ROOT=$TMPDIR_IT/root
mkdir -p "$ROOT" "$TMPDIR_IT/io" "$TMPDIR_IT/bundles"

CONTAINERS=()   # ids to delete --force at exit
ALL_IDS=()      # every id this run used
HELPER_PIDS=()  # processes we started ourselves, killed at exit
HOST_MOUNTS=()  # host mounts we made, unmounted at exit (last first)
_ID_COUNTER=0
_IO_COUNTER=0
_TESTS=0
_FAILED_TESTS=0

cleanup() {
	local id p i
	for id in "${CONTAINERS[@]}"; do
		timeout "$RT_TIMEOUT" "$SPROUT" --root "$ROOT" delete --force "$id" </dev/null >/dev/null 2>&1
	done
	# Processes the runtime leaked for our containers (reported by the
	# leftovers checks already) are ours: do not leave them running.
	for id in "${ALL_IDS[@]}"; do
		for p in $(procs_in_cgroup "$id" | cut -d' ' -f1) $(pgrep -f -- "$id"); do
			kill -KILL "$p" 2>/dev/null
		done
	done
	for p in "${HELPER_PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null
	done
	for ((i = ${#HOST_MOUNTS[@]} - 1; i >= 0; i--)); do
		umount -l "${HOST_MOUNTS[$i]}" 2>/dev/null
	done
	wait 2>/dev/null
	if ! grep -qF " $TMPDIR_IT/" /proc/self/mountinfo; then
		rm -rf --one-file-system "$TMPDIR_IT"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- TAP ---

_FAIL=0
_SKIP=
_DIAG=()

diag() {
	local line
	while IFS= read -r line; do
		_DIAG+=("$line")
	done <<<"$*"
}

fail() {
	_FAIL=1
	diag "$@"
}

skip() {
	_SKIP=$*
}

# t NAME FUNCTION [ARGS...]: run one test and print its TAP line.
t() {
	local name=$1 line
	shift
	_FAIL=0 _SKIP='' _DIAG=()
	"$@"
	_TESTS=$((_TESTS + 1))
	if [ -n "$_SKIP" ]; then
		echo "ok $_TESTS - $name # SKIP $_SKIP"
	elif [ "$_FAIL" = 0 ]; then
		echo "ok $_TESTS - $name"
	else
		_FAILED_TESTS=$((_FAILED_TESTS + 1))
		echo "not ok $_TESTS - $name"
		for line in "${_DIAG[@]}"; do
			echo "#   $line"
		done
	fi
}

done_testing() {
	echo "1..$_TESTS"
	[ "$_FAILED_TESTS" = 0 ]
	exit
}

# ------------------------------------------------------------ runtime ---

# rt ARGS...: run the runtime with --root and a timeout; stdin is /dev/null,
# stdout/stderr go to fresh files (never a pipe: a detached container keeps
# them open). Sets RC, OUT, ERR, CMD.
rt() {
	_rt_exec "$SPROUT" --root "$ROOT" "$@"
}

# rt_noroot ARGS...: the same without the --root option (spec, --version).
rt_noroot() {
	_rt_exec "$SPROUT" "$@"
}

_rt_exec() {
	_IO_COUNTER=$((_IO_COUNTER + 1))
	local o=$TMPDIR_IT/io/$_IO_COUNTER.out e=$TMPDIR_IT/io/$_IO_COUNTER.err
	CMD="$*"
	timeout -k 5 "$RT_TIMEOUT" "$@" </dev/null >"$o" 2>"$e"
	RC=$?
	OUT=$(cat "$o")
	ERR=$(cat "$e")
	OUT_FILE=$o
	ERR_FILE=$e
	return 0
}

# rt_bg ARGS...: start the runtime in the background (e.g. a foreground
# `run`). Sets BG_PID (the timeout process), BG_OUT, BG_ERR. Wait for it with
# rt_wait, which sets RC, OUT, ERR.
rt_bg() {
	_IO_COUNTER=$((_IO_COUNTER + 1))
	BG_OUT=$TMPDIR_IT/io/$_IO_COUNTER.out
	BG_ERR=$TMPDIR_IT/io/$_IO_COUNTER.err
	CMD="$SPROUT --root $ROOT $*"
	timeout -k 5 "$RT_TIMEOUT" "$SPROUT" --root "$ROOT" "$@" </dev/null >"$BG_OUT" 2>"$BG_ERR" &
	BG_PID=$!
}

rt_wait() {
	wait "$BG_PID"
	RC=$?
	OUT=$(cat "$BG_OUT")
	ERR=$(cat "$BG_ERR")
}

# The runtime process itself under rt_bg's timeout (to signal it).
bg_runtime_pid() {
	local i p
	for ((i = 0; i < 50; i++)); do
		p=$(pgrep -P "$BG_PID" | head -n1)
		[ -n "$p" ] && { echo "$p"; return 0; }
		sleep 0.1
	done
	return 1
}

# A description of the last runtime call, for diagnostics.
last_call() {
	echo "command: $CMD"
	echo "exit: $RC"
	[ -z "$OUT" ] || echo "stdout: $(head -c 2000 <<<"$OUT")"
	[ -z "$ERR" ] || echo "stderr: $(head -c 2000 <<<"$ERR")"
}

# ------------------------------------------------------------ bundles ---

# The spec template: `$SPROUT spec` once per run.
SPEC_TEMPLATE=$TMPDIR_IT/spec-template/config.json
mkdir -p "$TMPDIR_IT/spec-template"
if ! (cd "$TMPDIR_IT/spec-template" && timeout 30 "$SPROUT" spec </dev/null >/dev/null 2>"$TMPDIR_IT/spec.err") ||
	! jq -e . "$SPEC_TEMPLATE" >/dev/null 2>&1; then
	bail "\`$SPROUT spec\` did not write a valid config.json: $(head -c 500 "$TMPDIR_IT/spec.err" 2>/dev/null)"
fi

# new_id: a fresh container id in CID (recorded for cleanup) and a snapshot
# of the host mount table for the leftovers check.
new_id() {
	_ID_COUNTER=$((_ID_COUNTER + 1))
	CID=$(printf 'it-%s-%d-%03d' "$SUITE" $$ "$_ID_COUNTER")
	CONTAINERS+=("$CID")
	ALL_IDS+=("$CID")
	MOUNTS_BEFORE=$(mount_snapshot)
}

# new_container [--copy]: new_id plus a bundle in BUNDLE whose config is the
# runtime's own `spec` with terminal off and root.path the fixture (or, with
# --copy, a private copy of it in BUNDLE/rootfs, for tests that write to the
# root or mount onto new paths).  Args default to `true`.
new_container() {
	new_id
	BUNDLE=$TMPDIR_IT/bundles/$CID
	mkdir -p "$BUNDLE"
	cp "$SPEC_TEMPLATE" "$BUNDLE/config.json"
	if [ "${1:-}" = --copy ]; then
		cp -a "$SPROUT_FIXTURE" "$BUNDLE/rootfs"
		ROOTFS=$BUNDLE/rootfs
		cfg '.root.path = "rootfs"'
	else
		ROOTFS=$SPROUT_FIXTURE
		cfg '.root.path = $p' --arg p "$SPROUT_FIXTURE"
	fi
	cfg '.process.terminal = false | .process.args = ["true"]'
}

# cfg JQ_FILTER [JQ_ARGS...]: edit BUNDLE/config.json in place.
cfg() {
	local filter=$1
	shift
	# file before the options: after --args every argument is positional
	jq "$filter" "$BUNDLE/config.json" "$@" >"$BUNDLE/config.json.new" &&
		mv "$BUNDLE/config.json.new" "$BUNDLE/config.json" ||
		fail "jq edit failed: $filter"
}

# set_args ARG...: .process.args = the arguments.
set_args() {
	cfg '.process.args = $a' --argjson a "$(json_array "$@")"
}

# json_array ARG...: the arguments as a JSON array of strings. (jq's --args
# would take an argument like "-c" for one of its own options.)
json_array() {
	local a
	for a in "$@"; do
		jq -n --arg a "$a" '$a'
	done | jq -s -c .
}

# add_mount DEST TYPE SOURCE [OPTION...]
add_mount() {
	local dest=$1 type=$2 src=$3
	shift 3
	cfg '.mounts += [{destination: $d, type: $t, source: $s, options: $o}]' \
		--arg d "$dest" --arg t "$type" --arg s "$src" --argjson o "$(json_array "$@")"
}

# add_ns TYPE [PATH]: add (or replace) a namespace entry.
add_ns() {
	if [ $# -ge 2 ]; then
		cfg '.linux.namespaces = ([.linux.namespaces[] | select(.type != $t)] + [{type: $t, path: $p}])' \
			--arg t "$1" --arg p "$2"
	else
		cfg '.linux.namespaces = ([.linux.namespaces[] | select(.type != $t)] + [{type: $t}])' \
			--arg t "$1"
	fi
}

# add_userns: a new user namespace, container ids 0-65535 mapped to the
# host's 100000-165535.
add_userns() {
	add_ns user
	cfg '.linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
	   | .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]'
}

del_ns() {
	cfg '.linux.namespaces = [.linux.namespaces[] | select(.type != $t)]' --arg t "$1"
}

# state ID: the runtime's state JSON in STATE (empty on failure), status in
# STATUS.
state() {
	rt state "$1"
	if [ "$RC" = 0 ]; then
		STATE=$OUT
		STATUS=$(jq -r .status <<<"$OUT" 2>/dev/null)
	else
		STATE='' STATUS=''
	fi
}

# wait_status ID STATUS [SECONDS]: poll state until it reads STATUS.
wait_status() {
	local id=$1 want=$2 secs=${3:-10} i
	for ((i = 0; i < secs * 10; i++)); do
		state "$id"
		[ "$STATUS" = "$want" ] && return 0
		sleep 0.1
	done
	return 1
}

# wait_file FILE [SECONDS] [PATTERN]: poll until FILE exists (and matches).
wait_file() {
	local f=$1 secs=${2:-10} pat=${3:-} i
	for ((i = 0; i < secs * 10; i++)); do
		if [ -e "$f" ] && { [ -z "$pat" ] || grep -q -- "$pat" "$f"; }; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# A workload that sleeps, exits 0 on SIGTERM, and carries the container id in
# its cmdline (for the leftovers check).
sleeper_args() {
	set_args sh -c 'trap "exit 0" TERM; sleep 100 & wait' "$CID"
}

# probe value KEY from probe output in OUT (or $2).
pv() {
	local text=${2-$OUT}
	sed -n "s/^$1=//p" <<<"$text" | head -n1
}

# Host namespace inode.
host_ns() {
	stat -L -c %i "/proc/self/ns/$1"
}

# pid_alive PID: the process exists and is not a zombie.
pid_alive() {
	local st
	st=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# wait_dead PID [SECONDS]: wait until PID is gone (or a zombie).
wait_dead() {
	local i
	for ((i = 0; i < ${2:-5} * 10; i++)); do
		pid_alive "$1" || return 0
		sleep 0.1
	done
	return 1
}

# ------------------------------------------------------------ asserts ---

expect_rc() { # expect_rc EXPECTED [WHAT]
	if [ "$RC" != "$1" ]; then
		fail "${2:-runtime call}: expected exit $1, got $RC"
		diag "$(last_call)"
		return 1
	fi
}

expect_ok() { expect_rc 0 "${1:-runtime call}"; }

expect_failure() { # the last runtime call failed (non-zero, not a timeout)
	if [ "$RC" = 0 ]; then
		fail "${1:-runtime call}: expected failure, got exit 0"
		diag "$(last_call)"
		return 1
	fi
	if [ "$RC" = 124 ] || [ "$RC" = 137 ]; then
		fail "${1:-runtime call}: timed out"
		diag "$(last_call)"
		return 1
	fi
}

expect_eq() { # expect_eq ACTUAL EXPECTED WHAT
	if [ "$1" != "$2" ]; then
		fail "$3: expected '$2', got '$1'"
		return 1
	fi
}

expect_ne() {
	if [ "$1" = "$2" ]; then
		fail "$3: expected something other than '$2'"
		return 1
	fi
}

expect_match() { # expect_match STRING ERE WHAT
	if ! grep -Eq -- "$2" <<<"$1"; then
		fail "$3: '$(head -c 1000 <<<"$1")' does not match /$2/"
		return 1
	fi
}

expect_no_match() {
	if grep -Eq -- "$2" <<<"$1"; then
		fail "$3: '$(head -c 1000 <<<"$1")' matches /$2/"
		return 1
	fi
}

expect_contains() { # expect_contains STRING SUBSTRING WHAT
	if ! grep -qF -- "$2" <<<"$1"; then
		fail "$3: '$(head -c 1000 <<<"$1")' does not contain '$2'"
		return 1
	fi
}

# The error of the last call is one line on stderr starting with "sprout: ".
expect_sprout_error() {
	local n
	n=$(grep -c '' <<<"$ERR")
	[ -n "$ERR" ] || n=0
	if [ "$n" != 1 ]; then
		fail "expected exactly one line on stderr, got $n"
		diag "$(last_call)"
		return 1
	fi
	if [ "${ERR#sprout: }" = "$ERR" ]; then
		fail "stderr does not start with 'sprout: '"
		diag "$(last_call)"
		return 1
	fi
}

# without_syscalls NAME[,NAME...] CMD [ARGS...]: CMD (a test or a call
# of rt) with sprout run as on a kernel that lacks those system calls:
# they fail with ENOSYS for sprout and everything it starts
# (tests/helpers/sprout-enosys).
without_syscalls() {
	local saved=$SPROUT names=$1 r
	shift
	printf '#!/bin/sh\nexec %s %s %s "$@"\n' "$HELPERS_DIR/sprout-enosys" "$names" "$saved" \
		>"$TMPDIR_IT/without-$names"
	chmod +x "$TMPDIR_IT/without-$names"
	SPROUT=$TMPDIR_IT/without-$names
	"$@"
	r=$?
	SPROUT=$saved
	return $r
}

# no_openat2 TEST [ARGS...]: TEST as on a kernel before 5.6, without
# openat2: every open inside the container's root then takes sprout's own
# walk.
no_openat2() { without_syscalls openat2 "$@"; }

# ---------------------------------------------------------- leftovers ---

# not_other_runs: filter mount_snapshot lines, dropping the mounts of other
# test runs going on at the same time on this machine (their private
# /tmp/sprout-it-* directories), and those matching $SPROUT_IT_MOUNT_IGNORE
# (an ERE on the mount point, for a shared development machine).
not_other_runs() {
	awk -v mine="$TMPDIR_IT" -v ignore="${SPROUT_IT_MOUNT_IGNORE:-}" '
		$5 ~ "^/tmp/sprout-it-" && index($5 "/", mine "/") != 1 { next }
		ignore != "" && $5 ~ ignore { next }
		{ print }'
}

mount_snapshot() {
	# mount id, parent, device, root, mount point, fs type, source
	awk '{ for (i = 7; $i != "-"; i++); print $1, $2, $3, $4, $5, $(i+1), $(i+2) }' /proc/self/mountinfo | sort
}

# leftovers ID: nothing of container ID is left on the host: no entry under
# the --root, no cgroup directory in any hierarchy, no new host mount since
# new_id, no process whose cmdline mentions the id.
leftovers() {
	local id=$1 found now
	found=$(find "$ROOT" -mindepth 1 -maxdepth 2 -name "*$id*" 2>/dev/null)
	[ -z "$found" ] || fail "leftover state under --root: $found"
	found=$(find /sys/fs/cgroup/* -maxdepth 4 -type d -name "*$id*" 2>/dev/null)
	[ -z "$found" ] || fail "leftover cgroup: $found"
	now=$(mount_snapshot)
	found=$(comm -13 <(echo "$MOUNTS_BEFORE") <(echo "$now") | not_other_runs)
	[ -z "$found" ] || fail "new host mounts: $found"
	found=$(comm -23 <(echo "$MOUNTS_BEFORE") <(echo "$now") | not_other_runs)
	[ -z "$found" ] || fail "host mounts gone: $found"
	found=$(pgrep -a -f -- "$id")
	[ -z "$found" ] || fail "leftover processes: $found"
	found=$(procs_in_cgroup "$id")
	[ -z "$found" ] || fail "leftover processes in a cgroup of $id: $found"
}

# procs_in_cgroup ID: "pid cmdline" of every live process in a cgroup whose path
# mentions ID (e.g. a runtime's init that was never reaped).
procs_in_cgroup() {
	local f p
	for f in $(grep -lF -- "$1" /proc/[0-9]*/cgroup 2>/dev/null); do
		p=${f#/proc/}
		p=${p%/cgroup}
		pid_alive "$p" || continue # zombies are waiting for their reaper
		echo "$p $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)"
	done
}

# leftovers_after ID: wait (up to 5 s) for processes of ID to be reaped by
# the kernel after a delete, then run the leftovers check.
leftovers_after() {
	local i
	for ((i = 0; i < 50; i++)); do
		pgrep -f -- "$1" >/dev/null || [ -n "$(procs_in_cgroup "$1")" ] || break
		sleep 0.1
	done
	leftovers "$1"
}

# forget ID: the container has been deleted by the test itself.
forget() {
	local keep=() c
	for c in "${CONTAINERS[@]}"; do
		[ "$c" = "$1" ] || keep+=("$c")
	done
	CONTAINERS=("${keep[@]}")
}

# force_delete ID: delete --force, quietly, and forget the id.
force_delete() {
	timeout "$RT_TIMEOUT" "$SPROUT" --root "$ROOT" delete --force "$1" </dev/null >/dev/null 2>&1
	forget "$1"
}

# host_mount ARGS... TARGET: mount on the host, undone at exit.
host_mount() {
	mount "$@" || return 1
	HOST_MOUNTS+=("${!#}")
}

host_umount() {
	umount "$1" || umount -l "$1"
	local keep=() m
	for m in "${HOST_MOUNTS[@]}"; do
		[ "$m" = "$1" ] || keep+=("$m")
	done
	HOST_MOUNTS=("${keep[@]}")
}
