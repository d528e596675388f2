#!/bin/bash
# tests/valgrind/run.sh — every unit test binary under valgrind's memcheck,
# printing TAP: one test per binary, passing when no process of it (the
# Check runner and the children it forks per test) reports a memory error
# or a definite leak.  Only false positives of valgrind are suppressed
# (tests/valgrind/sprout.supp, each with its reason).
#
# Whether the Check tests pass is not asserted here (the unit suite does
# that): under valgrind some cannot, for valgrind's own reasons — it
# refuses setrlimit(RLIMIT_NOFILE), answers openat2, seccomp(2) and an
# execveat of a memfd with errors, so the rlimit, procfs over-mount,
# seccomp and re-exec tests fail there.  Their result is shown in the
# test's description.
#
# Usage: tests/valgrind/run.sh [NAME...]   (default: every unit test)
# Environment: BUILD_DIR (default: the build SPROUT lives in, else
# <repo>/build), VALGRIND (valgrind), VALGRIND_JOBS (binaries at once,
# default the number of CPUs).
set -u

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if [ -n "${BUILD_DIR:-}" ]; then
	BUILD=$BUILD_DIR
elif [ -n "${SPROUT:-}" ] && [ "$(basename "$(dirname "$(dirname "$SPROUT")")")" = src ]; then
	BUILD=$(cd "$(dirname "$SPROUT")/../.." && pwd)
else
	BUILD=$REPO/build
fi
VALGRIND=${VALGRIND:-valgrind}

N=0
FAILED=0
finish() { echo "1..$N"; [ "$FAILED" = 0 ]; exit; }

command -v "$VALGRIND" >/dev/null || { echo "Bail out! valgrind is not installed (apt-get install valgrind)"; exit 1; }
command -v jq >/dev/null || { echo "Bail out! jq is not installed"; exit 1; }
tests=$(meson introspect --tests "$BUILD" 2>/dev/null |
	jq -c '.[] | select(any(.suite[]; . == "unit" or endswith(":unit")))') || tests=
[ -n "$tests" ] || { echo "Bail out! no unit tests in $BUILD (build it first)"; exit 1; }

WORK=$(mktemp -d /tmp/sprout-valgrind.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

# run_one NAME TEST_JSON: one binary under valgrind, its logs in WORK/NAME
run_one() {
	local name=$1 t=$2 logs=$WORK/$1 start cmd
	mapfile -t cmd < <(jq -r '.cmd[]' <<<"$t")
	mkdir -p "$logs"
	start=$(date +%s)
	(
		cd "$(jq -r '.workdir // empty' <<<"$t" | grep . || echo "$BUILD")" || exit 99
		while IFS= read -r kv; do export "$kv"; done < <(jq -r '.env | to_entries[] | "\(.key)=\(.value)"' <<<"$t")
		# valgrind is ~20x slower: Check's per-test timeout grows with it
		export CK_TIMEOUT_MULTIPLIER=10
		timeout -k 10 600 "$VALGRIND" --quiet --leak-check=full --show-leak-kinds=definite \
			--errors-for-leak-kinds=definite --suppressions="$REPO/tests/valgrind/sprout.supp" \
			--log-file="$logs/vg.%p.log" "${cmd[@]}"
	) </dev/null >"$logs/stdout" 2>&1
	echo "$? $(($(date +%s) - start))" >"$logs/result"
}

# as many at once as there are CPUs (meson test runs them in parallel too)
JOBS=${VALGRIND_JOBS:-$(nproc)}
NAMES=()
while IFS= read -r t; do
	name=$(jq -r .name <<<"$t")
	if [ $# -gt 0 ] && ! printf '%s\n' "$@" | grep -qx "$name"; then
		continue
	fi
	NAMES+=("$name")
	while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do
		wait -n
	done
	run_one "$name" "$t" &
done <<<"$tests"
wait

for name in "${NAMES[@]}"; do
	logs=$WORK/$name
	read -r rc secs <"$logs/result" 2>/dev/null || { rc=99; secs=0; }
	N=$((N + 1))
	checks=$(grep -Eo 'Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' "$logs/stdout" | tail -n1)
	nproc=$(find "$logs" -name 'vg.*.log' | wc -l)
	# with --quiet a log holds only errors and leak records ("==PID== ...")
	# and valgrind's own warnings ("--PID-- ...", e.g. unknown syscalls)
	bad=$(grep -l '^==[0-9]*== ' "$logs"/vg.*.log 2>/dev/null | sort)
	problem=
	if [ -n "$bad" ]; then
		problem="memcheck errors in $(wc -l <<<"$bad") of $nproc processes"
	elif [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		problem="timed out"
	elif [ -z "$checks" ]; then
		problem="no Check summary (exit $rc)"
	fi
	if [ -z "$problem" ]; then
		echo "ok $N - $name: memcheck clean in $nproc processes, no definite leak ($checks under valgrind, ${secs}s)"
	else
		FAILED=$((FAILED + 1))
		echo "not ok $N - $name: $problem"
		for f in $bad; do
			grep '^==[0-9]*== ' "$f" | grep -v '^==[0-9]*== *$' | head -n 30 | sed 's/^/#   /'
		done | head -n 80
		tail -n 5 "$logs/stdout" | sed 's/^/#   /'
	fi
done
finish
