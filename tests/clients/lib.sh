# shellcheck shell=bash
# Library for the client suites: containerd (ctr) and podman driving sprout
# exactly as they drive runc, as root, printing one TAP stream.
#
#   . "$(dirname "$0")/lib.sh"
#   scenario "containerd: run attached" ctd_run_attached
#   done_testing
#
# Every scenario runs once per runtime column (CLIENT_RUNTIMES, default
# "runc sprout": runc first, so that when sprout fails the diagnostics say
# whether the same scenario passed with runc, i.e. whether the failure is
# sprout's or the environment's). A scenario function sees RT (the column's
# name: runc or sprout) and RT_BIN (its absolute path), and uses the
# assertions below; the TAP line is "SCENARIO [RT]".
#
# Environment:
#   SPROUT           sprout binary (default <repo>/build/src/cli/sprout)
#   RUNC             the reference runtime (default /usr/sbin/runc)
#   CLIENT_RUNTIMES  columns to run, in order (default "runc sprout")
#   SPROUT_FIXTURE   busybox rootfs (default /var/tmp/sprout-fixture)
#   HELPERS_DIR      built test helpers (default <repo>/build/tests/helpers)
#   CLIENT_TIMEOUT   seconds for one client command (default 20)
#   CLIENT_KEEP=1    keep the temporary directory (logs) after the run
#   CLIENT_ONLY      an ERE: run only the tests whose name matches it

set -u
set -o pipefail

CLIENTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$CLIENTS_DIR/../.." && pwd)
SPROUT=${SPROUT:-$REPO/build/src/cli/sprout}
RUNC=${RUNC:-/usr/sbin/runc}
CLIENT_RUNTIMES=${CLIENT_RUNTIMES:-runc sprout}
SPROUT_FIXTURE=${SPROUT_FIXTURE:-/var/tmp/sprout-fixture}
HELPERS_DIR=${HELPERS_DIR:-$REPO/build/tests/helpers}
CLIENT_TIMEOUT=${CLIENT_TIMEOUT:-20}
IMAGE_REF=localhost/sprout-busybox:latest

bail() {
	echo "Bail out! $*"
	exit 1
}

[ "$(id -u)" = 0 ] || bail "the client suites must run as root"
case $SPROUT in
/*) ;;
*) SPROUT=$(command -v "$SPROUT" 2>/dev/null || echo "$PWD/$SPROUT") ;;
esac
for tool in jq timeout script tar sha256sum; do
	command -v $tool >/dev/null || bail "$tool is not installed"
done

# The columns: name -> binary.
declare -A RT_BINS=([sprout]=$SPROUT [runc]=$RUNC)
COLUMNS=()
for rt in $CLIENT_RUNTIMES; do
	[ -n "${RT_BINS[$rt]:-}" ] || bail "CLIENT_RUNTIMES: unknown runtime $rt (sprout or runc)"
	[ -x "${RT_BINS[$rt]}" ] || bail "runtime $rt not found at ${RT_BINS[$rt]} (build it, or set SPROUT=/RUNC=)"
	COLUMNS+=("$rt")
done

# Everything of this run lives under CT (logs, daemon state, bundles).
CT=$(mktemp -d /tmp/sprout-clients.XXXXXX) || bail "mktemp failed"
chmod 755 "$CT"
mkdir -p "$CT/io"

# ---------------------------------------------------------------- TAP ---

_TESTS=0
_FAILED_TESTS=0
_FAIL=0
_SKIP=
_DIAG=()
declare -A RESULT=()   # "SCENARIO|RT" -> ok / FAIL / skip
SCENARIOS=()           # in order, for the summary table

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

_tap_line() { # _tap_line NAME: print the TAP line of the test just run
	local line
	_TESTS=$((_TESTS + 1))
	if [ -n "$_SKIP" ]; then
		echo "ok $_TESTS - $1 # SKIP $_SKIP"
	elif [ "$_FAIL" = 0 ]; then
		echo "ok $_TESTS - $1"
	else
		_FAILED_TESTS=$((_FAILED_TESTS + 1))
		echo "not ok $_TESTS - $1"
		for line in "${_DIAG[@]}"; do
			echo "#   $line"
		done
	fi
}

# selected NAME: CLIENT_ONLY is unset or matches NAME.
selected() {
	[ -z "${CLIENT_ONLY:-}" ] || grep -Eq -- "$CLIENT_ONLY" <<<"$1"
}

# t NAME FUNCTION [ARGS...]: one test that does not depend on a runtime.
t() {
	local name=$1
	shift
	selected "$name" || return 0
	_FAIL=0 _SKIP='' _DIAG=()
	_run_or_not "$@"
	_tap_line "$name"
}

# A suite sets SUITE_SKIP (its client is not installed) or SUITE_BROKEN
# (its client did not start): its tests then skip or fail with that reason.
SUITE_SKIP=
SUITE_BROKEN=
_run_or_not() {
	if [ -n "$SUITE_SKIP" ]; then
		skip "$SUITE_SKIP"
	elif [ -n "$SUITE_BROKEN" ]; then
		fail "$SUITE_BROKEN"
	else
		"$@"
	fi
}

# scenario NAME FUNCTION [ARGS...]: FUNCTION once per runtime column.
scenario() {
	local name=$1 rt runc_result
	shift
	selected "$name" || return 0
	SCENARIOS+=("$name")
	for rt in "${COLUMNS[@]}"; do
		RT=$rt
		# shellcheck disable=SC2034 # used by the scenario functions
		RT_BIN=${RT_BINS[$rt]}
		_FAIL=0 _SKIP='' _DIAG=()
		_run_or_not "$@"
		if [ -n "$_SKIP" ]; then
			RESULT["$name|$rt"]=skip
		elif [ "$_FAIL" = 0 ]; then
			RESULT["$name|$rt"]=ok
		else
			RESULT["$name|$rt"]=FAIL
			if [ "$rt" != runc ]; then
				runc_result=${RESULT["$name|runc"]:-not run}
				case $runc_result in
				ok) diag "runc passes this scenario: the failure is ${rt}'s" ;;
				FAIL) diag "runc fails this scenario too: look at the environment first" ;;
				*) diag "runc: $runc_result" ;;
				esac
			fi
		fi
		_tap_line "$name [$rt]"
	done
}

# The scenario x runtime table, as TAP comments.
summary_table() {
	local name rt w=8 line
	for name in "${SCENARIOS[@]}"; do
		[ "${#name}" -le "$w" ] || w=${#name}
	done
	line=$(printf "%-${w}s" scenario)
	for rt in "${COLUMNS[@]}"; do
		line+=$(printf '  %-7s' "$rt")
	done
	echo "# $line"
	for name in "${SCENARIOS[@]}"; do
		line=$(printf "%-${w}s" "$name")
		for rt in "${COLUMNS[@]}"; do
			line+=$(printf '  %-7s' "${RESULT["$name|$rt"]:--}")
		done
		echo "# $line"
	done
}

done_testing() {
	[ ${#SCENARIOS[@]} = 0 ] || summary_table
	echo "1..$_TESTS"
	[ "$_FAILED_TESTS" = 0 ]
	exit
}

# ------------------------------------------------------------ cleanup ---

CLEANUPS=() # commands run at exit, last first

at_exit() {
	CLEANUPS+=("$*")
}

_cleanup() {
	local i
	for ((i = ${#CLEANUPS[@]} - 1; i >= 0; i--)); do
		eval "${CLEANUPS[$i]}" >/dev/null 2>&1
	done
	wait 2>/dev/null
	if [ -z "${CLIENT_KEEP:-}" ] && ! grep -qF " $CT/" /proc/self/mountinfo; then
		rm -rf --one-file-system "$CT"
	elif [ -n "${CLIENT_KEEP:-}" ]; then
		echo "# kept $CT" >&2
	fi
}
trap _cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------ commands ---

# run ARGS...: run a command with a timeout, stdin /dev/null, stdout and
# stderr to fresh files (never a pipe: a daemon or container may keep it).
# Sets RC, OUT, ERR, CMD.
run() {
	_IO=$((${_IO:-0} + 1))
	local o=$CT/io/$_IO.out e=$CT/io/$_IO.err
	CMD="$*"
	timeout -k 5 "$CLIENT_TIMEOUT" "$@" </dev/null >"$o" 2>"$e"
	RC=$?
	OUT=$(tr -d '\0' <"$o")
	ERR=$(tr -d '\0' <"$e")
	return 0
}

# run_tty ARGS...: the same with a pty as the command's stdin/stdout/stderr
# (util-linux script); OUT holds what was written to the terminal, with
# carriage returns removed.
run_tty() {
	local q a
	q=
	for a in "$@"; do
		q+=" $(printf '%q' "$a")"
	done
	run script -qec "${q# }" /dev/null
	OUT=$(tr -d '\r' <<<"$OUT")
}

last_call() {
	echo "command: $CMD"
	echo "exit: $RC"
	[ -z "$OUT" ] || echo "stdout: $(head -c 1500 <<<"$OUT")"
	[ -z "$ERR" ] || echo "stderr: $(head -c 1500 <<<"$ERR")"
}

# ------------------------------------------------------------ asserts ---

expect_rc() { # expect_rc EXPECTED [WHAT]
	if [ "$RC" != "$1" ]; then
		fail "${2:-command}: expected exit $1, got $RC"
		diag "$(last_call)"
		return 1
	fi
}

expect_ok() { expect_rc 0 "${1:-command}"; }

expect_failure() {
	if [ "$RC" = 0 ] || [ "$RC" = 124 ] || [ "$RC" = 137 ]; then
		fail "${1:-command}: expected a failure, got exit $RC"
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

# poll SECONDS COMMAND...: until COMMAND succeeds (10 tries a second).
poll() {
	local secs=$1 i
	shift
	for ((i = 0; i < secs * 10; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# pid_alive PID: the process exists and is not a zombie.
pid_alive() {
	local st
	st=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# procs_in_cgroup PATTERN: "pid cmdline" of the live processes whose cgroup
# path (any hierarchy) contains PATTERN.
procs_in_cgroup() {
	local f p
	for f in $(grep -lF -- "$1" /proc/[0-9]*/cgroup 2>/dev/null); do
		p=${f#/proc/}
		p=${p%/cgroup}
		pid_alive "$p" || continue
		echo "$p $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)"
	done
}

# cgroup_dirs PATTERN: cgroup directories (any hierarchy) named *PATTERN*.
cgroup_dirs() {
	find /sys/fs/cgroup/ -mindepth 1 -maxdepth 5 -type d -name "*$1*" 2>/dev/null
}

# no_leftovers ID STATEDIR: nothing of the container ID is left: no state
# directory STATEDIR, no cgroup directory, no live process in its cgroup or
# naming it (shim, conmon, runtime); waits up to 5 s for the kernel and the
# client to finish.
no_leftovers() {
	local id=$1 statedir=$2 found
	# shellcheck disable=SC2317 # called through poll
	_gone() {
		[ ! -e "$statedir" ] && [ -z "$(cgroup_dirs "$id")" ] &&
			[ -z "$(procs_in_cgroup "$id")" ] && ! pgrep -f -- "$id" >/dev/null
	}
	poll 5 _gone && return 0
	[ ! -e "$statedir" ] || fail "leftover state directory $statedir: $(ls -A "$statedir" 2>&1 | tr '\n' ' ')"
	found=$(cgroup_dirs "$id")
	[ -z "$found" ] || fail "leftover cgroups: $found"
	found=$(procs_in_cgroup "$id")
	[ -z "$found" ] || fail "leftover processes in its cgroup: $found"
	found=$(pgrep -a -f -- "$id")
	[ -z "$found" ] || fail "leftover processes naming it: $found"
	return 1
}

# default_root: the --root a client gets when it passes none.
default_root() {
	case $RT in
	runc) echo /run/runc ;;
	*) echo "/run/$RT" ;;
	esac
}

# ------------------------------------------------------------ fixture ---

# The busybox rootfs (shared, cached) and the OCI image archive made from
# it (per run, in CT: it takes a fraction of a second).
prepare_image() {
	if [ -z "${IMAGE_ARCHIVE:-}" ]; then
		local helpers=()
		[ -d "$HELPERS_DIR" ] && helpers=(--helpers "$HELPERS_DIR")
		"$REPO/rootfs-fixtures/build-busybox.sh" "${helpers[@]}" "$SPROUT_FIXTURE" >/dev/null ||
			bail "cannot build the rootfs fixture in $SPROUT_FIXTURE"
		"$REPO/rootfs-fixtures/build-oci-image.sh" --name "$IMAGE_REF" \
			"$SPROUT_FIXTURE" "$CT/image.tar" ||
			bail "cannot build the OCI image archive from $SPROUT_FIXTURE"
		IMAGE_ARCHIVE=$CT/image.tar
	fi
}

# Cgroup directories that a client creates under each hierarchy's root
# (containerd's namespace, podman's libpod_parent): removed at exit when
# this run created them and they are empty (rmdir never removes more).
own_cgroup_parent() {
	local name=$1 d
	for d in /sys/fs/cgroup/*/ /sys/fs/cgroup/unified/; do
		[ -d "$d$name" ] && continue
		at_exit "rmdir '$d$name'"
	done
}
