#!/bin/bash
# tests/fuzz/run.sh — build the libFuzzer targets (clang, ASan + UBSan,
# -Dfuzz=true) and run each of them, printing TAP.  Per target:
#   - every seed in tests/fuzz/corpus/<target>/ runs once, cleanly;
#   - then FUZZ_SECONDS / <number of targets> seconds of fuzzing from those
#     seeds with tests/fuzz/sprout.dict.
# A crash, a leak, a sanitizer report, a timeout or a broken error contract
# (see fuzz_common.h) fails the test; its input is kept in FUZZ_ARTIFACTS and
# printed (base64) in the TAP diagnostics, with the command that replays it.
# Every such input becomes a case in tests/unit/test_regressions.c.
#
# The main suite (tests/run-all.sh) runs this with the defaults: ~30 s of
# fuzzing in total.  A longer run, e.g. an hour, keeping what it learns:
#
#   FUZZ_SECONDS=3600 FUZZ_CORPUS_OUT=/var/tmp/sprout-corpus tests/fuzz/run.sh
#
# and to add the new inputs to the seeds in the repo afterwards (minimised):
#
#   for t in /var/tmp/sprout-corpus/*; do
#     "$FUZZ_BUILD/tests/fuzz/$(basename $t)" -merge=1 \
#       tests/fuzz/corpus/$(basename $t) "$t"; done
#
# Environment: FUZZ_SECONDS (30), FUZZ_TARGETS (all; e.g. "fuzz_spec
# fuzz_cgroup"), FUZZ_BUILD (/tmp/sprout-fuzz-build), FUZZ_ARTIFACTS
# ($FUZZ_BUILD/artifacts), FUZZ_CORPUS_OUT (where grown corpora go; default
# a temporary directory, removed), CC (clang).
set -u

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
FUZZ_SECONDS=${FUZZ_SECONDS:-30}
FUZZ_BUILD=${FUZZ_BUILD:-/tmp/sprout-fuzz-build}
FUZZ_ARTIFACTS=${FUZZ_ARTIFACTS:-$FUZZ_BUILD/artifacts}
ALL_TARGETS="fuzz_spec fuzz_process fuzz_resources fuzz_seccomp fuzz_mountopt fuzz_parse fuzz_cgroup fuzz_cgconvert"
read -r -a TARGETS <<<"${FUZZ_TARGETS:-$ALL_TARGETS}"
CC=${CC_FUZZ:-clang}

N=0
FAILED=0
ok() { N=$((N + 1)); echo "ok $N - $*"; }
not_ok() { N=$((N + 1)); FAILED=$((FAILED + 1)); echo "not ok $N - $*"; }
diag() { sed 's/^/#   /'; }
finish() { echo "1..$N"; [ "$FAILED" = 0 ]; exit; }

WORK=$(mktemp -d /tmp/sprout-fuzz-run.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

# ------------------------------------------------------------- build ---

if ! command -v "$CC" >/dev/null; then
	echo "Bail out! $CC not found (apt-get install clang): the fuzz targets need clang's libFuzzer"
	exit 1
fi
start=$(date +%s)
if [ ! -f "$FUZZ_BUILD/build.ninja" ]; then
	rm -rf "$FUZZ_BUILD"
	CC=$CC meson setup "$FUZZ_BUILD" "$REPO" -Dfuzz=true -Dtests=false \
		-Db_sanitize=address,undefined -Db_lundef=false >"$WORK/setup.log" 2>&1
fi
if [ -f "$FUZZ_BUILD/build.ninja" ] &&
	ninja -C "$FUZZ_BUILD" $(printf 'tests/fuzz/%s ' "${TARGETS[@]}") >"$WORK/build.log" 2>&1; then
	ok "build ${#TARGETS[@]} fuzz targets with $CC -fsanitize=fuzzer,address,undefined ($(($(date +%s) - start)) s)"
else
	not_ok "build the fuzz targets with $CC"
	cat "$WORK/setup.log" "$WORK/build.log" 2>/dev/null | tail -n 40 | diag
	finish
fi
mkdir -p "$FUZZ_ARTIFACTS"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# report TARGET LOG: the diagnostics of a failed run
report() {
	local t=$1 log=$2 a
	grep -aE '^(==[0-9]+==|SUMMARY|fuzz invariant|.*runtime error|    #[0-9] )' "$log" | head -n 40 | diag
	for a in $(grep -ao "Test unit written to [^ ]*" "$log" | cut -d' ' -f5); do
		[ -f "$a" ] || continue
		echo "input (base64): $(base64 -w0 <"$a" | head -c 3000)" | diag
		echo "replay: $FUZZ_BUILD/tests/fuzz/$t $a" | diag
	done
}

per=$((FUZZ_SECONDS / ${#TARGETS[@]}))
[ "$per" -ge 1 ] || per=1
for t in "${TARGETS[@]}"; do
	bin=$FUZZ_BUILD/tests/fuzz/$t
	seeds=$REPO/tests/fuzz/corpus/$t
	log=$WORK/$t.log
	# 1. the seeds, each once
	mapfile -t files < <(find "$seeds" -type f 2>/dev/null | sort)
	if [ ${#files[@]} = 0 ]; then
		not_ok "$t: no seed corpus in tests/fuzz/corpus/$t"
	elif (cd "$WORK" && timeout -k 5 120 "$bin" -artifact_prefix="$FUZZ_ARTIFACTS/$t-" \
		"${files[@]}") >"$log" 2>&1; then
		ok "$t: ${#files[@]} seed inputs run cleanly"
	else
		not_ok "$t: a seed input fails (exit $?)"
		report "$t" "$log"
	fi
	# 2. fuzzing from the seeds
	out=${FUZZ_CORPUS_OUT:-$WORK/corpus}/$t
	mkdir -p "$out"
	(cd "$WORK" && timeout -k 5 $((per + 120)) "$bin" -max_total_time="$per" -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 -dict="$REPO/tests/fuzz/sprout.dict" \
		-artifact_prefix="$FUZZ_ARTIFACTS/$t-" "$out" "$seeds") >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
	cov=$(grep -Eo 'cov: [0-9]+' "$log" | tail -n1)
	if [ "$rc" = 0 ] && [ -n "$runs" ]; then
		ok "$t: $per s of fuzzing, ${runs} inputs, ${cov:-cov: ?}: no crash, leak or sanitizer report"
	else
		not_ok "$t: fuzzing found a problem (exit $rc after ${runs:-?} inputs)"
		report "$t" "$log"
	fi
done
finish
