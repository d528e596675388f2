#!/bin/bash
# Load and races.
#  1. LOAD_WORKERS parallel workers (default 5) run create / start / kill /
#     delete on distinct ids, LOAD_OPS operations in all (default 200),
#     while a reader keeps calling `state` and `list` and reading every
#     state.json directly: every command ends with success or a clear
#     one-line error, every state output and state.json is whole JSON.
#  2. Racing operations on one id: two creates, create vs delete, start vs
#     kill, delete vs delete, state vs delete, kill vs delete.  Each round
#     ends in a state that `state` tells truthfully and that delete --force
#     clears.
#  3. At the end the host holds exactly what it held before: nothing under
#     --root, no cgroup, mount or process of this run.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/robust.bash"

LOAD_WORKERS=${LOAD_WORKERS:-5}
LOAD_OPS=${LOAD_OPS:-200}
RACE_ROUNDS=${RACE_ROUNDS:-10}

HOST_BEFORE=$(rb_host_snapshot)
RB_MOUNTS_BEFORE=$(rb_mounts)

# One bundle for every container of this file: a workload that sleeps.
new_container
SHARED=$BUNDLE
set_args sh -c 'trap "exit 0" TERM; sleep 1000 & wait'
forget "$CID"
ID_PREFIX=it-$SUITE-$$

# w_rt LOG OP ID ARGS...: one runtime call from a worker: the outcome goes
# to LOG as "OP<tab>ID<tab>RC<tab>STDERR (newlines shown as \n)".
w_rt() {
	local log=$1 op=$2 id=$3 o e rc
	shift 3
	o=$(mktemp "$TMPDIR_IT/io/w.XXXXXX")
	e=$o.err
	timeout -k 5 "$RT_TIMEOUT" "$SPROUT" --root "$ROOT" "$@" </dev/null >"$o" 2>"$e"
	rc=$?
	printf '%s\t%s\t%s\t%s\n' "$op" "$id" "$rc" "$(sed ':a;N;$!ba;s/\n/\\n/g' "$e")" >>"$log"
	W_OUT=$(cat "$o")
	rm -f "$o" "$e"
	return $rc
}

# check_outcomes LOG: every call exited 0, or 1 with one "sprout: " line.
check_outcomes() {
	local bad
	bad=$(awk -F'\t' '
		$3 == 0 && $4 == "" { next }
		$3 == 1 && $4 ~ /^sprout: / && $4 !~ /\\n/ { next }
		{ print }' "$1")
	[ -z "$bad" ] || fail "calls that neither succeeded nor failed with one clear line: $(head -n 10 <<<"$bad")"
}

# ------------------------------------------------------ parallel load ---

worker() { # worker N COUNT: COUNT containers through their lifecycle
	local n=$1 count=$2 i id log=$TMPDIR_IT/worker-$1.log tries
	: >"$log"
	for ((i = 0; i < count; i++)); do
		id=$ID_PREFIX-w$n-$i
		w_rt "$log" create "$id" create -b "$SHARED" "$id" || continue
		w_rt "$log" start "$id" start "$id"
		w_rt "$log" kill "$id" kill "$id" KILL
		# the kill is asynchronous: delete (no --force) may first see it
		# running and refuse, clearly; it succeeds once the init is gone
		for ((tries = 0; tries < 50; tries++)); do
			w_rt "$log" delete "$id" delete "$id" && break
			sleep 0.1
		done
	done
}

reader() { # reader: state / list / state.json, until $TMPDIR_IT/stop-reader
	local log=$TMPDIR_IT/reader.log f n=0
	: >"$log"
	while [ ! -e "$TMPDIR_IT/stop-reader" ]; do
		if w_rt "$log" list - list --format json; then
			jq -e . >/dev/null 2>&1 <<<"$W_OUT" || echo "TORN list: $W_OUT" >>"$TMPDIR_IT/torn.log"
		fi
		for f in "$ROOT"/*/state.json; do
			[ -e "$f" ] || continue
			local id
			id=$(basename "$(dirname "$f")")
			if w_rt "$log" state "$id" state "$id"; then
				jq -e .status >/dev/null 2>&1 <<<"$W_OUT" ||
					echo "TORN state $id: $W_OUT" >>"$TMPDIR_IT/torn.log"
			fi
			# the file itself: whole or gone, never half-written
			local content
			content=$(cat "$f" 2>/dev/null) || continue
			[ -z "$content" ] && [ ! -e "$f" ] && continue
			jq -e .id >/dev/null 2>&1 <<<"$content" || echo "TORN file $f: $content" >>"$TMPDIR_IT/torn.log"
		done
		n=$((n + 1))
	done
	echo "$n" >"$TMPDIR_IT/reader.rounds"
}

t_parallel_load() {
	local per=$((LOAD_OPS / 4 / LOAD_WORKERS)) n pids=() start secs ops
	start=$(date +%s)
	reader &
	local rpid=$!
	for ((n = 0; n < LOAD_WORKERS; n++)); do
		worker "$n" "$per" &
		pids+=($!)
	done
	for n in "${pids[@]}"; do
		wait "$n"
	done
	touch "$TMPDIR_IT/stop-reader"
	wait "$rpid"
	secs=$(($(date +%s) - start))
	cat "$TMPDIR_IT"/worker-*.log >"$TMPDIR_IT/workers.log"
	ops=$(awk -F'\t' '$3 == 0' "$TMPDIR_IT/workers.log" | wc -l)
	echo "# $ops successful operations by $LOAD_WORKERS workers in ${secs}s, $(wc -l <"$TMPDIR_IT/workers.log") calls; reader: $(cat "$TMPDIR_IT/reader.rounds") rounds, $(wc -l <"$TMPDIR_IT/reader.log") calls"
	check_outcomes "$TMPDIR_IT/workers.log"
	check_outcomes "$TMPDIR_IT/reader.log"
	# distinct ids: nothing stands in the way of any create, start or kill
	local failed
	failed=$(awk -F'\t' '$1 != "delete" && $3 != 0' "$TMPDIR_IT/workers.log")
	[ -z "$failed" ] || fail "create/start/kill failed under load: $(head -n 5 <<<"$failed")"
	for op in create start kill delete; do
		n=$(awk -F'\t' -v op=$op '$1 == op && $3 == 0' "$TMPDIR_IT/workers.log" | wc -l)
		expect_eq "$n" $((per * LOAD_WORKERS)) "successful ${op}s"
	done
	[ ! -s "$TMPDIR_IT/torn.log" ] || fail "torn output: $(head -n 5 "$TMPDIR_IT/torn.log")"
	local left
	left=$(ls -A "$ROOT")
	[ -z "$left" ] || fail "left under --root: $left"
}
t "$LOAD_OPS create/start/kill/delete by $LOAD_WORKERS parallel workers: all succeed, nothing torn" t_parallel_load

# ------------------------------------------------------------- races ---

# race_pair LOG "OP ARGS" "OP ARGS" ID: both calls at once, the second
# after a random 0-99 ms, so that it meets the first at different steps.
race_pair() {
	local log=$1 a=$2 b=$3 id=$4
	# shellcheck disable=SC2086
	w_rt "$log" "${a%% *}" "$id" ${a} &
	local p=$!
	sleep "0.0$((RANDOM % 10))$((RANDOM % 10))"
	# shellcheck disable=SC2086
	w_rt "$log" "${b%% *}" "$id" ${b}
	wait "$p"
}

# truth ID: `state` is whole and true; sets STATUS ("" when missing).
truth() {
	local id=$1 pid
	state "$id"
	if [ "$RC" != 0 ]; then
		expect_contains "$ERR" "does not exist" "state of $id"
		[ ! -e "$ROOT/$id" ] || fail "state fails for $id but its state dir exists"
		STATUS=
		return
	fi
	pid=$(jq -r .pid <<<"$STATE")
	case $STATUS in
	created | running) pid_alive "$pid" || fail "$id reads $STATUS but pid $pid is not alive" ;;
	stopped) expect_eq "$pid" 0 "pid of stopped $id" ;;
	*) fail "$id: status '$STATUS'" ;;
	esac
}

# end_round ID: delete --force clears whatever the round left.
end_round() {
	rt delete --force "$1"
	expect_ok "delete --force after the race"
	rb_nothing_left "$1"
}

t_short_lived_parallel() {
	# containers that come and go, two at a time, nothing else alive, in
	# cgroups below one parent that none of them names as its own
	# (cgroupsPath P/a and P/b): P is made by a create and removed by its
	# delete while the other worker creates too (a cpuset v1 parent made
	# by a concurrent create is blank until that create fills it: a child
	# copying it got no cpus, ENOSPC at the join)
	local w pids=() log=$TMPDIR_IT/short.log parent=sprout-load-$$
	new_container
	set_args true
	local b=$BUNDLE
	forget "$CID"
	for w in a b; do
		mkdir -p "$b-$w"
		jq --arg p "$parent/$w" '.linux.cgroupsPath = $p' "$b/config.json" >"$b-$w/config.json"
	done
	for w in a b; do
		(
			for ((i = 0; i < 40; i++)); do
				id=$ID_PREFIX-short-$w-$i
				"$SPROUT" --root "$ROOT" create -b "$b-$w" "$id" >/dev/null 2>>"$log" &&
					"$SPROUT" --root "$ROOT" start "$id" 2>>"$log" &&
					"$SPROUT" --root "$ROOT" delete --force "$id" 2>>"$log" ||
					echo "$id failed" >>"$log"
			done
		) &
		pids+=($!)
	done
	for w in "${pids[@]}"; do
		wait "$w"
	done
	[ ! -s "$log" ] || fail "create/start/delete under churn: $(head -n 4 "$log")"
	local left
	left=$(ls -A "$ROOT")
	[ -z "$left" ] || fail "left under --root: $left"
	# P stays where the container that made it went while the other's
	# was alive (a parent is removed by the delete of its maker only)
	find /sys/fs/cgroup/*/ -maxdepth 3 -depth -type d -name "$parent" -exec rmdir {} + 2>/dev/null
}
t "80 short-lived containers by 2 parallel workers (a shared parent cgroup comes and goes): all succeed" t_short_lived_parallel

t_race_create_create() {
	local i id log=$TMPDIR_IT/race-cc.log wins
	: >"$log"
	for ((i = 0; i < RACE_ROUNDS; i++)); do
		id=$ID_PREFIX-cc-$i
		race_pair "$log" "create -b $SHARED $id" "create -b $SHARED $id" "$id"
		wins=$(awk -F'\t' -v id="$id" '$2 == id && $3 == 0' "$log" | wc -l)
		expect_eq "$wins" 1 "creates of $id that succeeded"
		awk -F'\t' -v id="$id" '$2 == id && $3 != 0' "$log" | grep -q "already exists" ||
			fail "the losing create of $id does not say 'already exists'"
		truth "$id"
		expect_eq "$STATUS" created "$id after two creates"
		end_round "$id"
	done
	check_outcomes "$log"
}
t "race: two creates of one id: exactly one wins, the other says 'already exists'" t_race_create_create

t_race_create_delete() {
	local i id log=$TMPDIR_IT/race-cd.log
	: >"$log"
	for ((i = 0; i < RACE_ROUNDS; i++)); do
		id=$ID_PREFIX-cd-$i
		race_pair "$log" "create -b $SHARED $id" "delete --force $id" "$id"
		truth "$id"
		case $STATUS in
		"" | created | stopped) ;;
		*) fail "$id after create vs delete: $STATUS" ;;
		esac
		end_round "$id"
	done
	check_outcomes "$log"
	echo "# create vs delete outcomes: $(cut -f1,3,4 "$log" | cut -c1-80 | sort | uniq -c | tr '\n' ';')"
}
t "race: create vs delete --force: a true state, nothing orphaned" t_race_create_delete

t_race_start_kill() {
	local i id log=$TMPDIR_IT/race-sk.log
	: >"$log"
	for ((i = 0; i < RACE_ROUNDS; i++)); do
		id=$ID_PREFIX-sk-$i
		w_rt "$log" create "$id" create -b "$SHARED" "$id" || { fail "create $id"; continue; }
		race_pair "$log" "start $id" "kill $id KILL" "$id"
		wait_status "$id" stopped 5 || fail "$id not stopped after start vs kill ($STATUS)"
		truth "$id"
		end_round "$id"
	done
	check_outcomes "$log"
}
t "race: start vs kill KILL: both end clearly, the container ends stopped" t_race_start_kill

t_race_delete_delete() {
	local i id log=$TMPDIR_IT/race-dd.log bad
	: >"$log"
	for ((i = 0; i < RACE_ROUNDS; i++)); do
		id=$ID_PREFIX-dd-$i
		w_rt "$log" run "$id" run -d -b "$SHARED" "$id" || { fail "run -d $id"; continue; }
		race_pair "$log" "delete --force $id" "delete --force $id" "$id"
		truth "$id"
		expect_eq "$STATUS" "" "$id after two deletes"
		rb_nothing_left "$id"
	done
	bad=$(awk -F'\t' '$1 == "delete" && $3 != 0' "$log")
	[ -z "$bad" ] || fail "a delete --force failed: $bad"
	check_outcomes "$log"
}
t "race: delete --force vs delete --force: both succeed, nothing left" t_race_delete_delete

t_race_state_delete() {
	local i id log=$TMPDIR_IT/race-sd.log
	: >"$log"
	for ((i = 0; i < RACE_ROUNDS; i++)); do
		id=$ID_PREFIX-sd-$i
		w_rt "$log" run "$id" run -d -b "$SHARED" "$id" || { fail "run -d $id"; continue; }
		w_rt "$log" state "$id" state "$id" &
		local p=$!
		w_rt "$log" kill "$id" kill "$id" KILL &
		local q=$!
		w_rt "$log" delete "$id" delete --force "$id"
		wait "$p" "$q"
		truth "$id"
		end_round "$id"
	done
	check_outcomes "$log"
}
t "race: state and kill vs delete --force: clear outcomes, nothing left" t_race_state_delete

# ---------------------------------------------------------------- end ---

t_host_unchanged() {
	local now
	now=$(rb_host_snapshot)
	expect_eq "$now" "$HOST_BEFORE" "the host (state, cgroups, mounts, processes of this run)"
	local procs
	procs=$(procs_in_cgroup "$ID_PREFIX-")
	[ -z "$procs" ] || fail "processes in cgroups of this run: $procs"
}
t "the host holds exactly what it held before" t_host_unchanged

done_testing
