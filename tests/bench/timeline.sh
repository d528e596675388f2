#!/bin/bash
# tests/bench/timeline.sh — where one sprout command spends its time, step
# by step, from the SP_MARK() timestamps of a -Dtimeline=true build:
#
#   meson setup /tmp/tl -Dtimeline=true && ninja -C /tmp/tl
#   tests/bench/timeline.sh [-n RUNS] [--after CMD] [--keep FILE] -- \
#       /tmp/tl/src/cli/sprout --root /run/tl run --bundle B id
#
# Runs the command RUNS times (50) with SPROUT_TIMELINE set, CMD (a shell
# command, e.g. a delete) after each run outside the measurement, and
# prints every step's median time since `main` and the difference to the
# step before it, steps in the order of their medians; "init." steps are
# the container's init, the others the command itself.  --keep FILE keeps
# the raw marks (runs separated by "---").  Needs a timeline build: a
# normal one writes nothing, and the script says so.
set -u
set -o pipefail

RUNS=50
AFTER=
KEEP=
while [ $# -gt 0 ]; do
	case $1 in
	-n) RUNS=${2:?}; shift 2 ;;
	--after) AFTER=${2:?}; shift 2 ;;
	--keep) KEEP=${2:?}; shift 2 ;;
	--) shift; break ;;
	-h | --help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || { echo "timeline.sh: no command (see --help)" >&2; exit 2; }

log=${KEEP:-$(mktemp /tmp/sprout-timeline.XXXXXX)}
[ -n "$KEEP" ] || trap 'rm -f "$log"' EXIT
: >"$log"
for ((i = 0; i < RUNS; i++)); do
	echo --- >>"$log"
	if ! SPROUT_TIMELINE=$log "$@" </dev/null >/dev/null 2>"$log.err"; then
		echo "timeline.sh: run $((i + 1)) failed: $(tail -n 3 "$log.err")" >&2
		rm -f "$log.err"
		exit 1
	fi
	if [ "$i" = 0 ] && ! grep -q '^main ' "$log"; then
		echo "timeline.sh: no marks: $1 is not a -Dtimeline=true build" >&2
		rm -f "$log.err"
		exit 1
	fi
	[ -z "$AFTER" ] || bash -c "$AFTER" </dev/null >/dev/null 2>&1
done
rm -f "$log.err"

# each run's steps as milliseconds since its "main"; then per step the
# median over the runs (sort + awk: no gawk needed)
awk '
	/^---$/ { run++; next }
	{ t[run, $1] = $2; if ($1 == "main") t0[run] = $2; names[$1] = 1 }
	END {
		for (r = 1; r <= run; r++)
			for (n in names)
				if ((r, n) in t && r in t0)
					printf "%s %.3f\n", n, (t[r, n] - t0[r]) * 1000
	}' "$log" | sort -k1,1 -k2,2n | awk '
	function flush() { if (cnt) printf "%s %.3f %d\n", name, v[int((cnt + 1) / 2)], cnt }
	$1 != name { flush(); name = $1; cnt = 0 }
	{ v[++cnt] = $2 }
	END { flush() }' | sort -k2,2n | awk '
	BEGIN { printf "%-20s %10s %10s %6s\n", "step", "ms", "+ms", "runs" }
	{ printf "%-20s %10.3f %10.3f %6d\n", $1, $2, $2 - prev, $3; prev = $2 }'
