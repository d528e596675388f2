#!/bin/bash
# tests/bench/guest.sh — the benchmark's part inside the cgroup-v2 QEMU guest
# (run by tests/bench/run.sh through tests/vm/run.sh --script): cases 1-4
# and peak RSS for sprout, crun, runc and the floor.  Prints the result
# records (JSON lines, see lib.sh) between @@BENCH-RESULTS-BEGIN@@ and
# @@BENCH-RESULTS-END@@ on the console; run.sh picks them up.
#
# The guest's environment (tests/vm/guest-init.sh): SPROUT, SPROUT_FIXTURE;
# the host's settings (runs, warmup) come in /repo/tests/bench/guest.env.
set -u
# tests/vm/run.sh runs a copy of this script as /repo/guest-script.sh
HERE=/repo/tests/bench
[ -f "$HERE/lib.sh" ] || HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck disable=SC1091
[ -f "$HERE/guest.env" ] && . "$HERE/guest.env"
export BENCH_RUNS=${BENCH_RUNS:-10} BENCH_WARMUP=${BENCH_WARMUP:-2} BENCH_ROUNDS=${BENCH_ROUNDS:-2}
export RSS_SAMPLES=${RSS_SAMPLES:-5}
BENCH_FIXTURE=$SPROUT_FIXTURE
RUNC=/usr/sbin/runc
CRUN=/usr/bin/crun
. "$HERE/lib.sh"

WORK=$(mktemp -d /tmp/sprout-bench.XXXXXX)
chmod 755 "$WORK"
bench_setup "$WORK"
say "guest: tools ${TOOLS[*]}; $(uname -r); cgroup controllers: $(cat /sys/fs/cgroup/cgroup.controllers 2>/dev/null)"
case_run
case_seccomp
case_sequence
case_exec
case_rss
bench_teardown
echo "@@BENCH-RESULTS-BEGIN@@"
cat "$RESULTS"
echo "@@BENCH-RESULTS-END@@"
