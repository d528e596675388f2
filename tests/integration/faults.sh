#!/bin/bash
# Faults: sprout killed with SIGKILL at points of create, start, exec and
# delete, and the container killed or its pid reused behind sprout's back.
#
# The kill points come from strace's fault injection: the command runs once
# under strace to record its system calls; then, for a chosen call (the
# k-th `mkdir`, say), it runs again with
#   strace -e inject=mkdir:signal=KILL:when=k
# which kills it on entry to that call, before the call happens.  Every
# command gets fixed points (the calls where its state changes: the claim
# of the id, the cgroup, clone3, state.json, the GO and READY messages, the
# fifo, the kills and removals of delete) and random ones among all its
# calls.  FAULTS_SEED replays a run's random choice (printed as a comment);
# FAULTS_POINTS=all tries every call (minutes; the documented long run);
# FAULTS_RANDOM=N sets how many random points a command gets (default 6);
# FAULTS_COMMANDS picks the commands (default "create start delete exec").
# The long run, every system call of every command (~12 minutes here):
#   FAULTS_POINTS=all SUITE_TIMEOUT=3600 tests/run-all.sh integration/faults
#
# After each kill: `state` tells the truth (does not exist / creating: the
# create did not complete, its init lives / created with a live init still
# waiting in the runtime / running with the workload alive / stopped with
# nothing alive), a present state.json is whole JSON, `delete --force`
# succeeds, and nothing is left behind.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/robust.bash"

command -v strace >/dev/null || bail "strace is not installed (apt-get install strace)"

FAULTS_SEED=${FAULTS_SEED:-$((RANDOM * 32768 + RANDOM))}
FAULTS_RANDOM=${FAULTS_RANDOM:-6}
FAULTS_POINTS=${FAULTS_POINTS:-sample}
FAULTS_COMMANDS=${FAULTS_COMMANDS:-create start delete exec}
echo "# FAULTS_SEED=$FAULTS_SEED"
RANDOM=$FAULTS_SEED

eval "_lib_$(declare -f new_id)"
new_id() { _lib_new_id; rb_mark; }

TRACE_DIR=$TMPDIR_IT/traces
mkdir -p "$TRACE_DIR"

# ------------------------------------------------------------ helpers ---

# A sleeper container, not started.
sleeper_container() {
	new_container
	sleeper_args
}

# rt_strace INJECT ARGS...: the runtime under strace (no -f: the runtime's
# own calls, not its children's), with the injection INJECT ("" records
# only, into TRACE).  Sets RC like rt.
rt_strace() {
	local inject=$1
	shift
	local args=(-qq -o "$TRACE_DIR/last")
	[ -n "$inject" ] && args+=(-e "inject=$inject")
	# (in a shell of its own, which reports the SIGKILL into ERR, not here;
	# a sanitizer build's leak checker cannot work under ptrace)
	_rt_exec env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		bash -c '"$@"; exit $?' strace strace "${args[@]}" "$SPROUT" --root "$ROOT" "$@"
}

# syscall_points TRACE: "name k" for every call in the trace, in order (k:
# the call's occurrence among calls of that name, what `when=` counts).
syscall_points() {
	awk -F'(' '/^[a-z_0-9]+\(/ { n[$1]++; print $1, n[$1] }' "$1"
}

# choose_points TRACE NAMED...: the points to try for a command: for each
# NAMED syscall its first occurrence (NAME) or a given one (NAME:K or
# NAME:last), then FAULTS_RANDOM random ones (or all).
choose_points() {
	local trace=$1 spec name k total i
	shift
	mapfile -t ALL < <(syscall_points "$trace")
	total=${#ALL[@]}
	POINTS=()
	if [ "$FAULTS_POINTS" = all ]; then
		POINTS=("${ALL[@]}")
		return
	fi
	for spec in "$@"; do
		name=${spec%%:*}
		k=1
		[ "$spec" != "$name" ] && k=${spec#*:}
		if [ "$k" = last ]; then
			k=$(grep -c "^$name " <(printf '%s\n' "${ALL[@]}"))
		fi
		if printf '%s\n' "${ALL[@]}" | grep -qx "$name $k"; then
			POINTS+=("$name $k")
		fi
	done
	for ((i = 0; i < FAULTS_RANDOM && total > 0; i++)); do
		POINTS+=("${ALL[$((RANDOM % total))]}")
	done
}

# init_pid_of ID: the pid state.json recorded (0 when none).
init_pid_of() {
	local f=$ROOT/$1/state.json
	[ -f "$f" ] && jq -r '.pid // 0' "$f" 2>/dev/null || echo 0
}

# is_runtime PID: the process is still sprout's init (before execve of the
# workload): its executable is the runtime, not the workload's busybox.
is_runtime() {
	local exe
	exe=$(readlink "/proc/$1/exe" 2>/dev/null) || return 1
	case $exe in *busybox*) return 1 ;; *) return 0 ;; esac
}

# check_truth ID WHAT: after a kill, `state` reports something true and a
# present state.json is whole.
check_truth() {
	local id=$1 what=$2 pid recorded f=$ROOT/$1/state.json
	if [ -e "$f" ] && ! jq -e . "$f" >/dev/null 2>&1; then
		fail "$what: state.json is not whole JSON: $(head -c 300 "$f")"
	fi
	if ls "$ROOT/$id"/state.json.tmp* >/dev/null 2>&1; then
		diag "($what: a temporary state file is left: $(ls "$ROOT/$id"))"
	fi
	recorded=$(init_pid_of "$id")
	state "$id"
	if [ "$RC" != 0 ]; then
		if [ -d "$ROOT/$id" ]; then
			fail "$what: state fails although the state dir exists"
			diag "$(last_call)"
		else
			expect_contains "$ERR" "does not exist" "$what: state of a missing container"
			# a missing container has nothing left at all
			rb_nothing_left "$id"
		fi
		return
	fi
	pid=$(jq -r .pid <<<"$STATE")
	case $STATUS in
	creating)
		# a create killed before it completed, whose init lives on (set
		# up and waiting, or about to die of its parent's death): it is
		# not startable, delete --force removes it
		rt start "$id"
		expect_rc 1 "$what: start of a container still 'creating'"
		;;
	created)
		pid_alive "$pid" || fail "$what: state says created but its init $pid is not alive"
		is_runtime "$pid" || fail "$what: state says created but $pid runs the workload ($(readlink /proc/$pid/exe))"
		;;
	running)
		pid_alive "$pid" || fail "$what: state says running but $pid is not alive"
		is_runtime "$pid" && fail "$what: state says running but $pid is still the runtime's init"
		;;
	stopped)
		expect_eq "$pid" 0 "$what: pid of a stopped container"
		# an init whose create was killed before it was set up dies of
		# its parent's death (PDEATHSIG): give it a moment
		if [ "$recorded" != 0 ] && pid_alive "$recorded" && [ -n "$(procs_in_cgroup "$id")" ] &&
			! wait_dead "$recorded" 2; then
			fail "$what: state says stopped but its init $recorded is alive"
		fi
		;;
	*) fail "$what: unexpected status '$STATUS'" ;;
	esac
}

# finish_case ID WHAT: delete --force succeeds, nothing is left.
finish_case() {
	local id=$1 what=$2
	rt delete --force "$id"
	expect_ok "$what: delete --force afterwards"
	forget "$id"
	rb_nothing_left "$id"
}

wanted_cmd() { [[ " $FAULTS_COMMANDS " == *" $1 "* ]]; }

# ------------------------------------------------------ create killed ---

if wanted_cmd create; then
sleeper_container
rt_strace "" create -b "$BUNDLE" "$CID"
cp "$TRACE_DIR/last" "$TRACE_DIR/create"
[ "$RC" = 0 ] || bail "create under strace failed: $ERR"
force_delete "$CID"
choose_points "$TRACE_DIR/create" mkdirat mkdir mkdir:last socketpair clone3 \
	renameat renameat:last sendto recvmsg execveat memfd_create mknodat exit_group

t_create_killed() {
	local name=$1 k=$2 what="create killed at $1 #$2"
	sleeper_container
	rt_strace "$name:signal=KILL:when=$k" create -b "$BUNDLE" "$CID"
	[ "$RC" = 137 ] || diag "($what: the runtime exited $RC: the call was not reached)"
	check_truth "$CID" "$what"
	# a container that reads created must be startable
	if [ "$STATUS" = created ]; then
		rt start "$CID"
		expect_ok "$what: start of the created container"
		wait_status "$CID" running 5 || fail "$what: not running after start (status $STATUS)"
	fi
	finish_case "$CID" "$what"
}
for p in "${POINTS[@]}"; do
	read -r name k <<<"$p"
	t "create killed by SIGKILL at syscall $name #$k: state true, delete --force, nothing left" \
		t_create_killed "$name" "$k"
done
fi

# ------------------------------------------------------- start killed ---

if wanted_cmd start; then
sleeper_container
rt create -b "$BUNDLE" "$CID"
[ "$RC" = 0 ] || bail "create failed: $ERR"
rt_strace "" start "$CID"
cp "$TRACE_DIR/last" "$TRACE_DIR/start"
force_delete "$CID"
choose_points "$TRACE_DIR/start" flock pidfd_open poll read:last unlinkat exit_group

t_start_killed() {
	local name=$1 k=$2 what="start killed at $1 #$2"
	sleeper_container
	rt create -b "$BUNDLE" "$CID"
	expect_ok "$what: create" || { force_delete "$CID"; return; }
	rt_strace "$name:signal=KILL:when=$k" start "$CID"
	[ "$RC" = 137 ] || diag "($what: the runtime exited $RC: the call was not reached)"
	sleep 0.2 # a released init needs a moment to execve
	check_truth "$CID" "$what"
	case $STATUS in
	created)
		rt start "$CID"
		expect_ok "$what: a second start"
		wait_status "$CID" running 5 || fail "$what: not running after the second start ($STATUS)"
		;;
	running)
		rt start "$CID"
		expect_rc 1 "$what: start of a running container"
		;;
	esac
	finish_case "$CID" "$what"
}
for p in "${POINTS[@]}"; do
	read -r name k <<<"$p"
	t "start killed by SIGKILL at syscall $name #$k: state true, delete --force, nothing left" \
		t_start_killed "$name" "$k"
done
fi

# ------------------------------------------------------ delete killed ---

if wanted_cmd delete; then
sleeper_container
rt run -d -b "$BUNDLE" "$CID"
[ "$RC" = 0 ] || bail "run -d failed: $ERR"
rt_strace "" delete --force "$CID"
cp "$TRACE_DIR/last" "$TRACE_DIR/delete"
forget "$CID"
choose_points "$TRACE_DIR/delete" flock pidfd_send_signal kill rmdir rmdir:last unlinkat \
	unlinkat:last exit_group

t_delete_killed() {
	local name=$1 k=$2 what="delete killed at $1 #$2"
	sleeper_container
	rt run -d -b "$BUNDLE" "$CID"
	expect_ok "$what: run -d" || { force_delete "$CID"; return; }
	rt_strace "$name:signal=KILL:when=$k" delete --force "$CID"
	[ "$RC" = 137 ] || diag "($what: the runtime exited $RC: the call was not reached)"
	check_truth "$CID" "$what"
	finish_case "$CID" "$what"
}
for p in "${POINTS[@]}"; do
	read -r name k <<<"$p"
	t "delete --force killed by SIGKILL at syscall $name #$k: state true, delete --force, nothing left" \
		t_delete_killed "$name" "$k"
done
fi

# -------------------------------------------------------- exec killed ---

if wanted_cmd exec && "$SPROUT" help exec >/dev/null 2>&1; then
	sleeper_container
	rt run -d -b "$BUNDLE" "$CID"
	[ "$RC" = 0 ] || bail "run -d failed: $ERR"
	rt_strace "" exec "$CID" sleep 1
	cp "$TRACE_DIR/last" "$TRACE_DIR/exec"
	force_delete "$CID"
	choose_points "$TRACE_DIR/exec" clone3 sendto recvmsg exit_group

	t_exec_killed() {
		local name=$1 k=$2 what="exec killed at $1 #$2"
		sleeper_container
		rt run -d -b "$BUNDLE" "$CID"
		expect_ok "$what: run -d" || { force_delete "$CID"; return; }
		# (a short workload: an exec that is not killed waits for it)
		rt_strace "$name:signal=KILL:when=$k" exec "$CID" sleep 1
		[ "$RC" = 137 ] || diag "($what: the runtime exited $RC: the call was not reached)"
		check_truth "$CID" "$what"
		expect_eq "$STATUS" running "$what: the container after a killed exec"
		rt exec "$CID" true
		expect_ok "$what: another exec afterwards"
		finish_case "$CID" "$what"
	}
	for p in "${POINTS[@]}"; do
		read -r name k <<<"$p"
		t "exec killed by SIGKILL at syscall $name #$k: container intact, delete --force, nothing left" \
			t_exec_killed "$name" "$k"
	done
fi

# ------------------------------------------- the container behind sprout ---

# The workload (the init) dies before start: state stopped, start fails
# saying so, delete works.
t_init_dies_before_start() {
	local pid
	sleeper_container
	rt create -b "$BUNDLE" "$CID"
	expect_ok create || return
	pid=$(init_pid_of "$CID")
	kill -KILL "$pid"
	wait_dead "$pid" || fail "init $pid did not die"
	wait_status "$CID" stopped 5 || fail "state after the init died: '$STATUS', not stopped"
	rt start "$CID"
	must_fail_start() {
		expect_rc 1 "start of a container whose init died"
		expect_sprout_error
		expect_match "$ERR" "stopped|exited" "the error says it stopped"
	}
	must_fail_start
	rt delete "$CID"
	expect_ok "delete (no --force) of the stopped container"
	forget "$CID"
	rb_nothing_left "$CID"
}
t "init killed before start: state stopped, start fails clearly, delete works" t_init_dies_before_start

# A supervisor kills the container while `start` runs.
t_kill_during_start() {
	local pid i
	for i in 1 2 3; do
		sleeper_container
		rt create -b "$BUNDLE" "$CID"
		expect_ok create || return
		pid=$(init_pid_of "$CID")
		rt_bg start "$CID"
		kill -KILL "$pid"
		rt_wait
		if [ "$RC" != 0 ]; then
			expect_rc 1 "start racing a SIGKILL of the container"
			expect_sprout_error
		fi
		wait_status "$CID" stopped 5 || fail "state after the kill: '$STATUS', not stopped"
		finish_case "$CID" "kill during start ($i)"
	done
}
t "container killed during start: start succeeds or fails clearly, state stopped, delete works" t_kill_during_start

# The foreground `run` is killed: the container lives on, state says so,
# delete --force removes it.
t_run_killed() {
	local rpid
	sleeper_container
	rt_bg run -b "$BUNDLE" "$CID"
	wait_status "$CID" running 10 || { fail "run did not start the container ($STATUS)"; kill "$BG_PID"; return; }
	rpid=$(bg_runtime_pid) || { fail "no runtime process"; return; }
	kill -KILL "$rpid"
	rt_wait
	state "$CID"
	expect_eq "$STATUS" running "state after the foreground run was killed"
	finish_case "$CID" "run killed"
}
t "foreground run killed by SIGKILL: state running, delete --force cleans up" t_run_killed

# pid reuse: the init dies and its pid goes to another process (ours).
# state must say stopped, kill and delete must leave that process alone.
# The pid is taken for real through /proc/sys/kernel/ns_last_pid when the
# machine lets us win the race, else state.json is pointed at our process.
t_pid_reuse() {
	local pid other i how=real
	sleeper_container
	rt create -b "$BUNDLE" "$CID"
	expect_ok create || return
	pid=$(init_pid_of "$CID")
	kill -KILL "$pid"
	wait_dead "$pid"
	for ((i = 0; i < 2000; i++)); do
		[ -e "/proc/$pid" ] || break
		sleep 0.01
	done
	other=
	for ((i = 0; i < 20; i++)); do
		echo $((pid - 1)) >/proc/sys/kernel/ns_last_pid 2>/dev/null || break
		sleep 300 &
		if [ "$!" = "$pid" ]; then
			other=$!
			break
		fi
		kill "$!"
		wait "$!" 2>/dev/null
	done
	if [ -z "$other" ]; then
		how=simulated
		sleep 300 &
		other=$!
		jq --argjson p "$other" '.pid = $p' "$ROOT/$CID/state.json" >"$ROOT/$CID/state.json.new" &&
			mv "$ROOT/$CID/state.json.new" "$ROOT/$CID/state.json"
	fi
	HELPER_PIDS+=("$other")
	diag "(pid reuse: $how, pid $other)"
	state "$CID"
	expect_eq "$STATUS" stopped "state when the init's pid ($how reuse) belongs to another process"
	expect_eq "$(jq -r .pid <<<"$STATE")" 0 "pid shown for the stopped container"
	rt kill "$CID" KILL
	expect_rc 1 "kill of a container whose pid was reused"
	pid_alive "$other" || fail "kill signalled the process that reuses the pid"
	rt delete --force "$CID"
	expect_ok "delete --force"
	forget "$CID"
	pid_alive "$other" || fail "delete --force killed the process that reuses the pid"
	kill "$other" 2>/dev/null
	wait "$other" 2>/dev/null
	rb_nothing_left "$CID"
}
t "pid reuse: state stopped, kill and delete leave the new owner of the pid alone" t_pid_reuse

# A state.json torn by hand (a crash of something else, a full disk long
# ago): state fails clearly, delete --force still removes what it can.
t_torn_state() {
	sleeper_container
	rt create -b "$BUNDLE" "$CID"
	expect_ok create || return
	local pid
	pid=$(init_pid_of "$CID")
	head -c 40 "$ROOT/$CID/state.json" >"$ROOT/$CID/state.json.new"
	mv "$ROOT/$CID/state.json.new" "$ROOT/$CID/state.json"
	rt state "$CID"
	expect_rc 1 "state of a torn state.json"
	expect_sprout_error
	expect_contains "$ERR" "state.json" "the error names state.json"
	rt delete --force "$CID"
	expect_ok "delete --force of a torn state"
	forget "$CID"
	[ ! -e "$ROOT/$CID" ] || fail "the state dir is still there"
	# With the state torn the runtime cannot know the init's pid or the
	# cgroup (the config may have named any): they may be left, as with
	# runc.  sprout's own writes are atomic (tmp + rename); only something
	# else tears a state.json.  The test removes what is left.
	if pid_alive "$pid"; then
		diag "(init $pid survives a delete --force of a torn state; killed by the test)"
		kill -KILL "$pid"
		wait_dead "$pid"
	fi
	local d
	for d in $(find /sys/fs/cgroup/*/ -maxdepth 5 -type d -name "$CID" 2>/dev/null); do
		rmdir "$d" 2>/dev/null
	done
	rb_nothing_left "$CID"
}
t "torn state.json: state fails naming it, delete --force removes the container" t_torn_state

done_testing
