#!/bin/bash
# tests/bench/run.sh — sprout side by side with runc, crun and the floor.
#
#   tests/bench/run.sh [--cases LIST] [--runs N] [--warmup N] [--rounds N]
#                      [--many N] [--parallel N] [--json FILE] [--no-vm]
#                      [--quick]
#   tests/bench/run.sh --report FILE     print the table of a saved JSON again
#
# Not a test: it passes or fails on nothing but its own ability to measure.
# Each case runs under hyperfine (one command per measurement, no shell),
# the same config.json for every runtime, in one run:
#
#   1    run /bin/true, `sprout spec`'s default config on the busybox
#        fixture, cgroups on; also the floor: unshare --mount --pid --net
#        --ipc --uts --cgroup --fork chroot ROOTFS /bin/true
#   2    the same with the default seccomp profile (seccomp-default.json,
#        ~370 allowed syscalls) and containerd's 14 default capabilities
#   3    create + start + delete, each command timed on its own, summed
#   4    exec /bin/true into a running container
#   5    100 containers created, started and deleted by 2 parallel workers
#   6    create and list with N (1000) containers present, and with none
#   7    case 1 with sprout's overlay root (run --overlay), against
#        case 1's sprout again in the same rounds
#   rss  peak RSS of `run` (GNU time's %M, the largest of 10)
#
# crun 1.8 refuses this hybrid-cgroup host: it is measured (cases 1-4 and
# rss, with sprout, runc and the floor again) inside the cgroup-v2 QEMU
# guest of tests/vm, when crun is installed.
#
# Prints a table of means, ratios and the issue's targets, and writes all
# numbers, the machine and the versions to FILE (default ./sprout-bench.json).
#
# --cases LIST   comma-separated subset of 1,2,3,4,5,6,7,rss,vm (default all)
# --runs N       hyperfine runs per command (30); --warmup N (3)
# --rounds N     cases 1, 2 and 7 take their runs in N rounds (3), the tools
#                in turns (sprout, runc, floor, sprout, ...), so that a machine
#                whose speed drifts drifts under every tool alike; so do case
#                6's two creates with N present (N and X)
# --many N       containers present in case 6 (1000)
# --parallel N   containers in case 5 (100)
# --quick        --runs 10 --warmup 1 --many 200 --parallel 40, no vm
# --no-vm        skip the guest
# --no-strip     measure $SPROUT itself, not a stripped copy of it
# --roots-on-disk  the tools' state roots under /tmp with the bundles,
#                not on the tmpfs the benchmark mounts for them
#
# sprout is measured as a package installs it: a stripped copy of $SPROUT
# in the work directory (a build's binary carries ~1 MB of debug info, and
# its pages are what the CVE-2019-5736 re-exec maps again on every run that
# needs it).  runc and crun are Debian's, stripped too.
#
# Environment: SPROUT (default <repo>/build/src/cli/sprout), RUNC
# (/usr/sbin/runc), CRUN (/usr/bin/crun), BENCH_FIXTURE (busybox rootfs,
# default /var/tmp/sprout-bench-fixture), SPROUT_VM_CACHE as for tests/vm.
# Needs root and: hyperfine, time (GNU), jq, util-linux (unshare), runc;
# crun for the guest (apt-get install hyperfine time jq runc crun).
set -u
set -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
SPROUT=${SPROUT:-$REPO/build/src/cli/sprout}
RUNC=${RUNC:-/usr/sbin/runc}
CRUN=${CRUN:-/usr/bin/crun}
BENCH_FIXTURE=${BENCH_FIXTURE:-/var/tmp/sprout-bench-fixture}
JSON_OUT=$PWD/sprout-bench.json
CASES=1,2,3,4,5,6,7,rss,vm
NO_STRIP=
ROOTS_ON_DISK=
export BENCH_RUNS=${BENCH_RUNS:-30} BENCH_WARMUP=${BENCH_WARMUP:-3} BENCH_ROUNDS=${BENCH_ROUNDS:-3}
export BENCH_MANY=${BENCH_MANY:-1000} BENCH_PARALLEL=${BENCH_PARALLEL:-100}

usage() {
	sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'
	exit "${1:-0}"
}

while [ $# -gt 0 ]; do
	case $1 in
	--cases) CASES=${2:?}; shift 2 ;;
	--runs) BENCH_RUNS=${2:?}; shift 2 ;;
	--warmup) BENCH_WARMUP=${2:?}; shift 2 ;;
	--rounds) BENCH_ROUNDS=${2:?}; shift 2 ;;
	--many) BENCH_MANY=${2:?}; shift 2 ;;
	--parallel) BENCH_PARALLEL=${2:?}; shift 2 ;;
	--json) JSON_OUT=${2:?}; shift 2 ;;
	--no-vm) CASES=${CASES//vm/}; shift ;;
	--no-strip) NO_STRIP=1; shift ;;
	--roots-on-disk) ROOTS_ON_DISK=1; shift ;;
	--quick)
		BENCH_RUNS=10 BENCH_WARMUP=1 BENCH_MANY=200 BENCH_PARALLEL=40
		CASES=${CASES//vm/}
		shift
		;;
	--report)
		jq -r -f "$HERE/report.jq" "${2:?}"
		exit
		;;
	-h | --help) usage 0 ;;
	*) echo "run.sh: unknown argument $1" >&2; usage 2 >&2 ;;
	esac
done
case $JSON_OUT in /*) ;; *) JSON_OUT=$PWD/$JSON_OUT ;; esac

. "$HERE/lib.sh"

want() { [[ ,$CASES, == *,$1,* ]]; }

[ "$(id -u)" = 0 ] || die "the benchmark creates containers: run it as root"
missing=()
for tool in hyperfine jq unshare chroot; do
	command -v $tool >/dev/null || missing+=("$tool")
done
[ -x /usr/bin/time ] || missing+=("time (GNU, /usr/bin/time)")
[ ${#missing[@]} = 0 ] || die "missing: ${missing[*]} (apt-get install hyperfine time jq util-linux)"
case $SPROUT in /*) ;; *) SPROUT=$PWD/$SPROUT ;; esac
[ -x "$SPROUT" ] || die "sprout not found at $SPROUT (build it, or set SPROUT=)"
[ -x "$RUNC" ] || { say "no runc at $RUNC: measuring without it"; RUNC=; }
# the helpers of sprout's build go into the fixture too (tests/vm wants them)
HELPERS_DIR=${HELPERS_DIR:-$(dirname "$SPROUT")/../../tests/helpers}
helpers=()
[ -d "$HELPERS_DIR" ] && helpers=(--helpers "$HELPERS_DIR")
"$REPO/rootfs-fixtures/build-busybox.sh" "${helpers[@]}" "$BENCH_FIXTURE" >/dev/null ||
	die "cannot build the busybox fixture in $BENCH_FIXTURE"

WORK=$(mktemp -d /tmp/sprout-bench.XXXXXX) || die "mktemp failed"
chmod 755 "$WORK"
# the state roots on a tmpfs of their own, as /run (runc's /run/runc,
# containerd's /run/containerd, sprout's /run/sprout) is on a host: a disk
# file system would measure it, not the runtimes (PROFILE.md section 11)
ROOTS=$WORK
if [ -z "$ROOTS_ON_DISK" ]; then
	mkdir "$WORK/run" && mount -t tmpfs -o mode=755 sprout-bench "$WORK/run" ||
		die "cannot mount a tmpfs on $WORK/run (--roots-on-disk: without)"
	ROOTS=$WORK/run
fi
trap 'bench_teardown; [ "$ROOTS" = "$WORK" ] || umount "$ROOTS"; rm -rf --one-file-system "$WORK"' EXIT
trap 'exit 130' INT TERM
SPROUT_BUILD=$SPROUT
if [ -z "$NO_STRIP" ]; then
	strip -o "$WORK/sprout" "$SPROUT" 2>/dev/null || cp "$SPROUT" "$WORK/sprout"
	SPROUT=$WORK/sprout
fi
# crun runs only in the guest
HOST_CRUN=$CRUN
CRUN=
bench_setup "$WORK"

# ------------------------------------------------------------- host ---

want 1 && case_run
want 2 && case_seccomp
want 3 && case_sequence
want 4 && case_exec
want 5 && case_parallel
want 6 && case_many
want 7 && case_overlay
want rss && case_rss

# ------------------------------------------------------------ guest ---

GUEST=$WORK/guest.jsonl
: >"$GUEST"
guest_note=
if ! want vm; then
	guest_note="not run (--no-vm, --quick or --cases)"
elif [ ! -x "$REPO/tests/vm/run.sh" ] && [ ! -f "$REPO/tests/vm/run.sh" ]; then
	guest_note="not run: tests/vm/run.sh is missing"
elif [ ! -x "$HOST_CRUN" ]; then
	guest_note="not run: no crun at $HOST_CRUN (apt-get install crun)"
else
	say "guest: booting the cgroup-v2 VM (crun, runc, sprout, floor)"
	extras=()
	for b in "$HOST_CRUN" "${RUNC:-}" "$(command -v hyperfine)" /usr/bin/time \
		"$(command -v unshare)" "$(command -v chroot)"; do
		[ -n "$b" ] && extras+=(--extra "$b")
	done
	printf 'BENCH_RUNS=%s\nBENCH_WARMUP=%s\nBENCH_ROUNDS=%s\n' "${BENCH_GUEST_RUNS:-10}" \
		"${BENCH_GUEST_WARMUP:-2}" "${BENCH_GUEST_ROUNDS:-2}" >"$WORK/guest.env"
	SPROUT=$SPROUT SPROUT_FIXTURE=$BENCH_FIXTURE HELPERS_DIR=$HELPERS_DIR \
		bash "$REPO/tests/vm/run.sh" --script "$HERE/guest.sh" --timeout "${BENCH_VM_TIMEOUT:-900}" \
		--file "$HERE/.:/repo/tests/bench" --file "$WORK/guest.env:/repo/tests/bench/guest.env" \
		"${extras[@]}" >"$WORK/vm.log" 2>&1
	sed -n '/^@@BENCH-RESULTS-BEGIN@@$/,/^@@BENCH-RESULTS-END@@$/p' "$WORK/vm.log" |
		sed '1d;$d' | jq -c . >"$GUEST" 2>/dev/null
	cp "$WORK/vm.log" "${JSON_OUT%.json}-vm.log" 2>/dev/null
	if [ -s "$GUEST" ]; then
		guest_note=ok
	else
		guest_note="failed: $(grep -E 'Bail out|bench:' "$WORK/vm.log" | tail -n 3 | tr '\n' ' ')"
		say "guest: $guest_note"
		tail -n 20 "$WORK/vm.log" >&2
	fi
fi

# ----------------------------------------------------------- report ---

ver() { "$@" 2>/dev/null | head -n1; }
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
mem=$(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
if [ -d /sys/fs/cgroup/unified ]; then
	cgroups=hybrid
elif [ -f /sys/fs/cgroup/cgroup.controllers ]; then
	cgroups=v2
else
	cgroups=v1
fi
jq -n --slurpfile host "$RESULTS" --slurpfile guest "$GUEST" \
	--arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
	--arg desc "$(nproc) x $cpu, $mem, Linux $(uname -r), $cgroups cgroups" \
	--arg kernel "$(uname -r)" --arg cpu "$cpu" --arg nproc "$(nproc)" --arg mem "$mem" \
	--arg cgroups "$cgroups" \
	--arg sprout "$(ver "$SPROUT" --version | tr -s ' ')" \
	--arg runc "$( [ -n "$RUNC" ] && ver "$RUNC" --version)" \
	--arg crun "$( [ -x "$HOST_CRUN" ] && ver "$HOST_CRUN" --version)" \
	--arg hyperfine "$(ver hyperfine --version)" \
	--arg note "$guest_note" \
	--arg build "$SPROUT_BUILD" --argjson size "$(stat -c %s "$SPROUT")" \
	--argjson stripped "$([ -z "$NO_STRIP" ] && echo true || echo false)" \
	--argjson runs "$BENCH_RUNS" --argjson warmup "$BENCH_WARMUP" --argjson rounds "$BENCH_ROUNDS" \
	--argjson many "$BENCH_MANY" --argjson parallel "$BENCH_PARALLEL" \
	--arg roots "$([ "$ROOTS" = "$WORK" ] && echo "disk (/tmp)" || echo tmpfs)" \
	'{date: $date,
	  machine: {description: $desc, kernel: $kernel, cpu: $cpu, cpus: ($nproc | tonumber),
	            memory: $mem, cgroups: $cgroups},
	  versions: ({sprout: $sprout, runc: $runc, crun: $crun, hyperfine: $hyperfine}
	             | with_entries(select(.value != ""))),
	  settings: {runs: $runs, warmup: $warmup, rounds: $rounds, many: $many, parallel: $parallel,
	             state_roots: $roots,
	             sprout_binary: {build: $build, stripped: $stripped, bytes: $size}},
	  host: $host, guest: $guest, guest_note: $note}' >"$JSON_OUT" ||
	die "cannot write $JSON_OUT"
echo
jq -r -f "$HERE/report.jq" "$JSON_OUT"
echo
echo "results: $JSON_OUT"
