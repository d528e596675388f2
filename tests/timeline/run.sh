#!/bin/bash
# tests/timeline/run.sh — the profiling build (-Dtimeline=true, see
# include/sprout/timeline.h) as one suite of tests/run-all.sh: it builds,
# its marks come in the order of the steps of `run` and `create`, the
# container's workload never gets the marks' file, a normal build writes
# no marks, and tests/bench/timeline.sh reports the steps.
# Environment: TIMELINE_BUILD (default <repo>/build-timeline), SPROUT (the
# normal build), SPROUT_FIXTURE (the busybox rootfs).
set -u
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
B=${TIMELINE_BUILD:-$REPO/build-timeline}
SPROUT=${SPROUT:-$REPO/build/src/cli/sprout}
FIXTURE=${SPROUT_FIXTURE:-/var/tmp/sprout-fixture}
WORK=$(mktemp -d /tmp/sprout-timeline.XXXXXX)
ROOT=$WORK/root
ID=tl-$$
trap '"$B/src/cli/sprout" --root "$ROOT" delete --force "$ID" >/dev/null 2>&1; rm -rf "$WORK"' EXIT

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
diag() { sed 's/^/#   /'; }

if [ -f "$B/build.ninja" ]; then
	setup=(meson setup --reconfigure "$B" "$REPO")
else
	setup=(meson setup "$B" "$REPO")
fi
if ! "${setup[@]}" -Dwerror_ci=true -Dtimeline=true -Dtests=false >"$WORK/setup.log" 2>&1 ||
	! ninja -C "$B" src/cli/sprout >"$WORK/build.log" 2>&1; then
	echo "Bail out! the timeline build failed"
	tail -n 20 "$WORK/setup.log" "$WORK/build.log" | sed 's/^/# /'
	exit 1
fi
ok "a -Dtimeline=true build builds (warnings are errors)"
TL=$B/src/cli/sprout

mkdir -p "$WORK/b" "$ROOT"
(cd "$WORK/b" && "$SPROUT" spec) || { echo "Bail out! sprout spec failed"; exit 1; }
if ! jq --arg fx "$FIXTURE" '.root.path = $fx | .process.terminal = false
	| .process.args = ["sh", "-c", "ls /proc/self/fd"]' "$WORK/b/config.json" >"$WORK/c" ||
	! mv "$WORK/c" "$WORK/b/config.json"; then
	echo "Bail out! cannot write the bundle"
	exit 1
fi

# in_order FILE STEP...: every STEP is in FILE, each later than the one before
in_order() {
	local f=$1 prev=0 step t
	shift
	for step in "$@"; do
		t=$(awk -v s="$step" '$1 == s { print $2; exit }' "$f")
		[ -n "$t" ] || { echo "no mark $step"; return 1; }
		awk -v a="$prev" -v b="$t" 'BEGIN { exit !(b >= a) }' || { echo "$step before the step ahead of it"; return 1; }
		prev=$t
	done
}

# run: the command's steps and the init's, in order; the workload's fds
marks=$WORK/run.marks
if SPROUT_TIMELINE=$marks "$TL" --root "$ROOT" run --bundle "$WORK/b" "$ID" >"$WORK/out" 2>"$WORK/err"; then
	# the command's steps, the init's, and where one waits for the other
	# (the parent writes its state while the init execs: no order there)
	if why=$(in_order "$marks" main checked state cgroups clone3 cloned ready release running \
		exited cleaned end) &&
		why=$(in_order "$marks" init.go init.rootfs init.rootfs_done init.finish_done \
			init.ready init.exec) &&
		why=$(in_order "$marks" cloned init.go) && why=$(in_order "$marks" init.ready ready) &&
		why=$(in_order "$marks" release init.exec exited); then
		ok "run: the marks of every step, in order"
	else
		not_ok "run: the marks of every step, in order"
		{ echo "$why"; cat "$marks"; } | diag
	fi
	if [ "$(sort -n "$WORK/out" | paste -sd,)" = 0,1,2,3 ]; then
		ok "run: the workload has no fd of the marks' file (0-2 and ls's own)"
	else
		not_ok "run: the workload has no fd of the marks' file"
		diag <"$WORK/out"
	fi
else
	not_ok "run with SPROUT_TIMELINE"
	diag <"$WORK/err"
	not_ok "run: the workload's fds (not run)"
fi

# create: no workload, no exit; the init's steps up to its wait on start
marks=$WORK/create.marks
if SPROUT_TIMELINE=$marks "$TL" --root "$ROOT" create --bundle "$WORK/b" "$ID" >/dev/null 2>"$WORK/err"; then
	if why=$(in_order "$marks" main checked state cgroups clone3 cloned init.go init.ready ready end) &&
		! grep -q -e '^exited ' -e '^init.exec ' "$marks"; then
		ok "create: marks up to the init's wait for start, none after"
	else
		not_ok "create: marks up to the init's wait for start, none after"
		{ echo "${why:-a mark of a later step}"; cat "$marks"; } | diag
	fi
	"$TL" --root "$ROOT" delete --force "$ID" >/dev/null 2>&1
else
	not_ok "create with SPROUT_TIMELINE"
	diag <"$WORK/err"
fi

# a normal build: nothing written, and timeline.sh says why it has no table
rm -f "$WORK/none.marks"
SPROUT_TIMELINE=$WORK/none.marks "$SPROUT" --root "$ROOT" run --bundle "$WORK/b" "$ID" >/dev/null 2>&1
if [ ! -e "$WORK/none.marks" ] &&
	! bash "$REPO/tests/bench/timeline.sh" -n 2 -- "$SPROUT" --root "$ROOT" run --bundle "$WORK/b" "$ID" \
		>"$WORK/out" 2>"$WORK/err" && grep -q 'not a -Dtimeline=true build' "$WORK/err"; then
	ok "a normal build writes no marks; timeline.sh says it is not a timeline build"
else
	not_ok "a normal build writes no marks; timeline.sh says it is not a timeline build"
	{ ls -l "$WORK/none.marks" 2>&1; cat "$WORK/err"; } | diag
fi

# timeline.sh: a table with every step of 3 runs of create (delete after each)
if bash "$REPO/tests/bench/timeline.sh" -n 3 --after "$TL --root $ROOT delete --force $ID" -- \
	"$TL" --root "$ROOT" create --bundle "$WORK/b" "$ID" >"$WORK/table" 2>"$WORK/err" &&
	head -n 1 "$WORK/table" | grep -q '^step' &&
	awk 'NR > 1 { if ($4 != 3) bad = 1; n++ } END { exit !(n >= 10 && !bad) }' "$WORK/table" &&
	[ "$(awk 'NR == 2 { print $1 }' "$WORK/table")" = main ]; then
	ok "timeline.sh: each step's median of 3 runs, main first"
else
	not_ok "timeline.sh: each step's median of 3 runs, main first"
	cat "$WORK/table" "$WORK/err" | diag
fi

echo "1..$n"
[ "$failed" = 0 ]
