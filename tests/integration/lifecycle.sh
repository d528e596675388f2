#!/bin/bash
# Container lifecycle: run, create/start/kill/delete, state, list, signals,
# concurrency, and the informational commands (--version, help, spec).
. "$(dirname "$0")/lib.sh"

# ------------------------------------------------------------------ run ---

t_run_exit() {
	local code=$1
	new_container
	set_args sh -c "exit $code" "$CID"
	rt run -b "$BUNDLE" "$CID"
	expect_rc "$code" "run (workload exits $code)"
	leftovers_after "$CID"
}
t "run: workload exit 0 -> run exits 0, nothing left" t_run_exit 0
t "run: workload exit 3 -> run exits 3" t_run_exit 3
t "run: workload exit 42 -> run exits 42" t_run_exit 42

t_run_killed_inside() {
	# Without a pid namespace the shell is not an init, so `kill -9 $$` kills
	# it (pid 1 of a namespace would ignore it).
	new_container
	del_ns pid
	set_args sh -c 'kill -9 $$; exit 1' "$CID"
	rt run -b "$BUNDLE" "$CID"
	expect_rc 137 "run (workload kills itself with SIGKILL)"
	leftovers_after "$CID"
}
t "run: workload killed by SIGKILL -> run exits 137" t_run_killed_inside

t_run_killed_outside() {
	new_container
	sleeper_args
	rt_bg run -b "$BUNDLE" "$CID"
	if ! wait_status "$CID" running 10; then
		fail "container never became running (status '$STATUS')"
		kill "$BG_PID" 2>/dev/null
		rt_wait
		diag "$(last_call)"
		return
	fi
	rt kill "$CID" KILL
	expect_ok "kill KILL"
	rt_wait
	expect_rc 137 "run whose init got SIGKILL"
	leftovers_after "$CID"
}
t "run: init killed with sprout kill KILL -> run exits 137" t_run_killed_outside

# ----------------------------------------------------- create ... delete ---

LC_ID=
LC_PID=
t_create() {
	new_container
	LC_ID=$CID
	LC_BUNDLE=$BUNDLE
	sleeper_args
	rt create --pid-file "$BUNDLE/init.pid" -b "$BUNDLE" "$CID"
	expect_ok create || return
	state "$CID"
	expect_eq "$STATUS" created "state .status after create"
	LC_PID=$(jq -r .pid <<<"$STATE" 2>/dev/null)
}
t "create: state says created" t_create

t_pidfile() {
	local f=$LC_BUNDLE/init.pid content
	if [ ! -f "$f" ]; then
		fail "pid file $f was not written"
		return
	fi
	content=$(head -c 64 "$f")
	expect_match "$content" '^[0-9]+$' "pid file content"
	expect_eq "$(wc -c <"$f")" "${#content}" "pid file size (no trailing newline)"
	expect_eq "$content" "$LC_PID" "pid file vs state .pid"
}
t "create: --pid-file holds the init pid, digits only, no newline" t_pidfile

t_init_exists() {
	expect_match "$LC_PID" '^[1-9][0-9]*$' "state .pid" || return
	[ -d "/proc/$LC_PID" ] || fail "/proc/$LC_PID does not exist"
	# the workload has not been exec'd yet
	if tr '\0' ' ' <"/proc/$LC_PID/cmdline" 2>/dev/null | grep -q 'sleep 100'; then
		fail "workload already running before start: $(tr '\0' ' ' <"/proc/$LC_PID/cmdline")"
	fi
}
t "create: init process exists, workload not started yet" t_init_exists

t_start() {
	rt start "$LC_ID"
	expect_ok start || return
	state "$LC_ID"
	expect_eq "$STATUS" running "state .status after start"
	expect_eq "$(jq -r .pid <<<"$STATE")" "$LC_PID" "pid after start"
	wait_file "/proc/$LC_PID/cmdline" 5
	local i cmd=
	for ((i = 0; i < 50; i++)); do
		cmd=$(tr '\0' ' ' <"/proc/$LC_PID/cmdline" 2>/dev/null)
		grep -q "$LC_ID" <<<"$cmd" && break
		sleep 0.1
	done
	expect_contains "$cmd" "$LC_ID" "init's cmdline after start is the workload"
}
t "start: state says running, the workload runs as the init pid" t_start

t_start_twice() {
	rt start "$LC_ID"
	expect_failure "second start"
	state "$LC_ID"
	expect_eq "$STATUS" running "state after a failed second start"
}
t "start: starting a running container again fails" t_start_twice

t_delete_running() {
	rt delete "$LC_ID"
	expect_failure "delete of a running container without --force"
	state "$LC_ID"
	expect_eq "$STATUS" running "state after refused delete"
	pid_alive "$LC_PID" || fail "init $LC_PID died after a refused delete"
}
t "delete: running container without --force fails, container untouched" t_delete_running

t_delete_force() {
	rt delete --force "$LC_ID"
	expect_ok "delete --force" || return
	forget "$LC_ID"
	rt state "$LC_ID"
	expect_failure "state after delete --force"
	leftovers_after "$LC_ID"
	wait_dead "$LC_PID" || fail "init $LC_PID still alive after delete --force"
}
t "delete --force: running container is killed and removed" t_delete_force

t_kill_form() {
	# The workload records the signal it got in a host directory bound on
	# its /tmp: TERM forms must deliver SIGTERM (not SIGKILL).
	local sig=$1 want=$2 sigdir
	new_container
	sigdir=$TMPDIR_IT/sig-$CID
	mkdir -p "$sigdir"
	add_mount /tmp bind "$sigdir" bind
	set_args sh -c 'trap "echo TERM >/tmp/got; exit 0" TERM; trap "echo USR1 >/tmp/got; exit 0" USR1; sleep 100 & wait' "$CID"
	rt run -d -b "$BUNDLE" "$CID"
	expect_ok "run -d" || return
	wait_status "$CID" running 5 || { fail "not running after run -d: '$STATUS'"; return; }
	if [ -n "$sig" ]; then rt kill "$CID" "$sig"; else rt kill "$CID"; fi
	expect_ok "kill ${sig:-(default)}" || return
	wait_status "$CID" stopped 10 || fail "state after kill ${sig:-(default)}: '$STATUS', expected stopped"
	expect_eq "$(cat "$sigdir/got" 2>/dev/null)" "$want" "signal the workload received"
	rt delete "$CID"
	expect_ok "delete of a stopped container" || return
	forget "$CID"
	leftovers_after "$CID"
}
t "kill (default signal) delivers SIGTERM -> stopped; delete" t_kill_form "" TERM
t "kill TERM -> SIGTERM, stopped; delete" t_kill_form TERM TERM
t "kill SIGTERM -> SIGTERM, stopped; delete" t_kill_form SIGTERM TERM
t "kill 15 -> SIGTERM, stopped; delete" t_kill_form 15 TERM
t "kill USR1 -> SIGUSR1, stopped; delete" t_kill_form USR1 USR1
t "kill KILL -> stopped; delete" t_kill_form KILL ""

t_state_after_delete() {
	new_container
	sleeper_args
	rt run -d -b "$BUNDLE" "$CID"
	expect_ok "run -d" || return
	rt kill "$CID" KILL
	wait_status "$CID" stopped 10
	rt delete "$CID"
	expect_ok delete || return
	forget "$CID"
	rt state "$CID"
	expect_failure "state of a deleted container"
	expect_contains "$ERR" "does not exist" "state error"
	rt delete "$CID"
	expect_failure "second delete"
	expect_contains "$ERR" "does not exist" "second delete error"
	leftovers_after "$CID"
}
t "delete: afterwards state and delete fail with 'does not exist'" t_state_after_delete

t_delete_created() {
	local pid
	new_container
	sleeper_args
	rt create -b "$BUNDLE" "$CID"
	expect_ok create || return
	state "$CID"
	pid=$(jq -r .pid <<<"$STATE")
	rt delete "$CID"
	expect_ok "delete of a created container" || return
	forget "$CID"
	wait_dead "$pid" || fail "init $pid still alive after delete"
	leftovers_after "$CID"
}
t "delete: a created container is killed and removed" t_delete_created

t_kill_all() {
	# No pid namespace: killing init alone would leave the other two shells
	# running; --all must reach every process of the container.
	local n i
	new_container
	del_ns pid
	set_args sh -c 'mkfifo /dev/shm/f; for i in 1 2; do (read x </dev/shm/f) & done; read x </dev/shm/f' "$CID"
	rt run -d -b "$BUNDLE" "$CID"
	expect_ok "run -d" || return
	for ((i = 0; i < 50; i++)); do
		n=$(pgrep -f -- "$CID" | wc -l)
		[ "$n" -ge 3 ] && break
		sleep 0.1
	done
	expect_eq "$n" 3 "processes in the container before kill --all" || return
	rt kill --all "$CID" KILL
	expect_ok "kill --all KILL" || return
	for ((i = 0; i < 50; i++)); do
		n=$(pgrep -f -- "$CID" | wc -l)
		[ "$n" = 0 ] && break
		sleep 0.1
	done
	expect_eq "$n" 0 "processes left after kill --all"
	wait_status "$CID" stopped 5 || fail "state after kill --all: '$STATUS'"
	rt delete "$CID"
	expect_ok delete
	forget "$CID"
	leftovers_after "$CID"
}
t "kill --all signals every process of the container" t_kill_all

# ---------------------------------------------------------------- state ---

t_state_fields() {
	local s created
	new_container
	sleeper_args
	cfg '.annotations = {"org.sprout.test": $v, "empty": ""}' --arg v "value-$CID"
	# relative bundle path: state must report it absolute
	pushd "$TMPDIR_IT/bundles" >/dev/null || return
	rt create -b "./$CID" "$CID"
	popd >/dev/null || return
	expect_ok create || return
	state "$CID"
	s=$STATE
	jq -e . >/dev/null <<<"$s" || { fail "state is not JSON: $s"; return; }
	expect_match "$(jq -r '.ociVersion // empty' <<<"$s")" '^1\.[0-9]+\.[0-9]+' ".ociVersion"
	expect_eq "$(jq -r .id <<<"$s")" "$CID" ".id"
	expect_eq "$(jq -r '.pid | type' <<<"$s")" number ".pid type"
	expect_eq "$(jq -r .status <<<"$s")" created ".status"
	expect_eq "$(jq -r .bundle <<<"$s")" "$BUNDLE" ".bundle (absolute)"
	expect_eq "$(jq -r .rootfs <<<"$s")" "$SPROUT_FIXTURE" ".rootfs"
	created=$(jq -r .created <<<"$s")
	expect_match "$created" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9}(Z|[+-][0-9]{2}:[0-9]{2})$' ".created (RFC3339, nanoseconds)"
	expect_eq "$(jq -r 'has("owner")' <<<"$s")" true ".owner present"
	expect_eq "$(jq -r '.annotations["org.sprout.test"]' <<<"$s")" "value-$CID" ".annotations[\"org.sprout.test\"]"
	expect_eq "$(jq -r '.annotations.empty' <<<"$s")" "" ".annotations.empty"
}
t "state: ociVersion, id, pid, status, absolute bundle, rootfs, created, owner, annotations" t_state_fields
STATE_ID=$CID

# as runc: no "annotations" when config.json has none; one newline at the end
t_state_no_annotations() {
	new_container
	sleeper_args
	rt create -b "$BUNDLE" "$CID"
	expect_ok create || return
	rt state "$CID"
	expect_ok state || return
	expect_eq "$(jq -r 'has("annotations")' <<<"$OUT")" false "no .annotations"
	expect_eq "$("$SPROUT" --root "$ROOT" state "$CID" | tail -c 2 | od -An -tx1 | tr -d ' ')" 7d0a \
		"the output ends with one newline"
}
t "state: no annotations field when there are none, a single trailing newline" t_state_no_annotations

t_state_missing() {
	rt state "it-never-created-$$"
	expect_failure "state of an unknown id"
	expect_contains "$ERR" "does not exist" "error"
}
t "state: unknown id fails with 'does not exist'" t_state_missing

# ----------------------------------------------------------------- list ---

t_list() {
	local created_id=$STATE_ID running_id header row
	new_container
	sleeper_args
	rt run -d -b "$BUNDLE" "$CID"
	expect_ok "run -d" || return
	running_id=$CID

	rt list
	expect_ok list || return
	header=$(head -n1 <<<"$OUT")
	expect_match "$header" '^ID +PID +STATUS +BUNDLE +CREATED +OWNER *$' "list header"
	row=$(grep -E "^$created_id " <<<"$OUT")
	expect_match "$row" "^$created_id +[0-9]+ +created +$TMPDIR_IT/bundles/$created_id +[0-9]{4}-" "row of the created container"
	row=$(grep -E "^$running_id " <<<"$OUT")
	expect_match "$row" "^$running_id +[0-9]+ +running +$BUNDLE +[0-9]{4}-" "row of the running container"

	rt list -q
	expect_ok "list -q" || return
	local ids
	ids=$(sort <<<"$OUT")
	expect_contains "$ids" "$created_id" "list -q"
	expect_contains "$ids" "$running_id" "list -q"
	local line c known
	while IFS= read -r line; do
		known=0
		for c in "${CONTAINERS[@]}"; do [ "$c" = "$line" ] && known=1; done
		[ "$known" = 1 ] || fail "list -q printed '$line', which is not a container id"
	done <<<"$OUT"

	rt list --format json
	expect_ok "list --format json" || return
	expect_eq "$(jq -r 'type' <<<"$OUT" 2>&1)" array "list --format json type" || return
	expect_eq "$(jq -r --arg id "$running_id" '.[] | select(.id == $id) | .status' <<<"$OUT")" running "json status of running"
	expect_eq "$(jq -r --arg id "$created_id" '.[] | select(.id == $id) | .status' <<<"$OUT")" created "json status of created"
	expect_eq "$(jq -r --arg id "$running_id" '.[] | select(.id == $id) | [has("id","pid","status","bundle","created","owner")] | all' <<<"$OUT")" \
		true "json object has id, pid, status, bundle, created, owner"
	expect_eq "$(jq -r --arg id "$running_id" '.[] | select(.id == $id) | .bundle' <<<"$OUT")" "$BUNDLE" "json bundle"

	force_delete "$running_id"
	force_delete "$created_id"
	rt list -q
	expect_no_match "$OUT" "^($running_id|$created_id)\$" "list -q after delete"
	rt list --format json
	expect_eq "$(jq -r 'type' <<<"$OUT" 2>&1)" array "list --format json after delete"
}
t "list: table header, -q ids, --format json" t_list

t_init_exited() {
	new_container
	set_args sh -c 'exit 0' "$CID"
	rt create -b "$BUNDLE" "$CID"
	expect_ok create || return
	rt start "$CID"
	expect_ok start || return
	wait_status "$CID" stopped 10 || fail "state after the workload exited: '$STATUS', expected stopped"
	rt delete "$CID"
	expect_ok "delete of the stopped container"
	forget "$CID"
	leftovers_after "$CID"
}
t "state: a container whose workload exited reads stopped" t_init_exited

t_init_killed_host() {
	local pid
	new_container
	sleeper_args
	rt run -d -b "$BUNDLE" "$CID"
	expect_ok "run -d" || return
	state "$CID"
	pid=$(jq -r .pid <<<"$STATE")
	[ -d "/proc/$pid" ] || { fail "no /proc/$pid"; return; }
	kill -KILL "$pid"
	wait_status "$CID" stopped 10 || fail "state after init was SIGKILLed from the host: '$STATUS'"
	rt delete "$CID"
	expect_ok "delete"
	forget "$CID"
	leftovers_after "$CID"
}
t "state: a container whose init was killed from the host reads stopped" t_init_killed_host

# ---------------------------------------------------------- run variants ---

t_run_detach() {
	local start end
	new_container
	sleeper_args
	start=$(date +%s)
	rt run --detach -b "$BUNDLE" "$CID"
	end=$(date +%s)
	expect_ok "run --detach" || return
	[ $((end - start)) -lt 10 ] || fail "run --detach took $((end - start)) s"
	state "$CID"
	expect_eq "$STATUS" running "state after run --detach"
	force_delete "$CID"
	leftovers_after "$CID"
}
t "run --detach returns and leaves the container running" t_run_detach

t_run_forwards() {
	local sig=$1 want=$2 rpid
	new_container
	set_args sh -c 'trap "exit 7" USR1; trap "exit 8" TERM; echo ready; sleep 100 & wait' "$CID"
	rt_bg run -b "$BUNDLE" "$CID"
	if ! wait_file "$BG_OUT" 10 ready; then
		fail "workload did not start"
		kill "$BG_PID" 2>/dev/null
		rt_wait
		diag "$(last_call)"
		return
	fi
	rpid=$(bg_runtime_pid) || { fail "cannot find the runtime process"; return; }
	kill -"$sig" "$rpid"
	rt_wait
	expect_rc "$want" "run after SIG$sig to the runtime"
	leftovers_after "$CID"
}
t "run forwards SIGUSR1 to the workload (trap exits 7)" t_run_forwards USR1 7
t "run forwards SIGTERM to the workload (trap exits 8)" t_run_forwards TERM 8

t_run_stdio() {
	new_container
	set_args sh -c 'echo to-stdout; echo to-stderr >&2' "$CID"
	rt run -b "$BUNDLE" "$CID"
	expect_ok run
	expect_eq "$OUT" to-stdout "stdout of the workload"
	expect_contains "$ERR" to-stderr "stderr of the workload"
}
t "run passes the workload's stdout and stderr through" t_run_stdio

t_concurrent_create() {
	local i pids=() ok=0 rcs=
	new_container
	sleeper_args
	for i in 1 2 3 4 5 6 7 8; do
		timeout "$RT_TIMEOUT" "$SPROUT" --root "$ROOT" create -b "$BUNDLE" "$CID" \
			</dev/null >"$TMPDIR_IT/io/cc$i.out" 2>"$TMPDIR_IT/io/cc$i.err" &
		pids+=($!)
	done
	for i in 0 1 2 3 4 5 6 7; do
		wait "${pids[$i]}"
		local rc=$?
		rcs="$rcs $rc"
		[ "$rc" = 0 ] && ok=$((ok + 1))
	done
	expect_eq "$ok" 1 "successful concurrent creates (exit codes:$rcs)" ||
		diag "$(head -c 1500 "$TMPDIR_IT"/io/cc*.err)"
	state "$CID"
	expect_eq "$STATUS" created "state after the concurrent creates"
	rt delete --force "$CID"
	expect_ok "delete --force"
	forget "$CID"
	leftovers_after "$CID"
}
t "8 concurrent creates of one id: exactly one succeeds" t_concurrent_create

# ------------------------------------------------------ informational ---

t_version() {
	rt_noroot --version
	expect_ok "--version" || return
	expect_match "$OUT" '^sprout version [0-9]' "a line 'sprout version X'"
	expect_match "$OUT" '^commit: ' "a 'commit:' line"
	expect_match "$OUT" '^spec: 1\.2' "a 'spec: 1.2' line"
	expect_contains "$OUT" "+SECCOMP" "features"
}
t "--version: sprout version, commit, spec 1.2, +SECCOMP" t_version

t_help() {
	local what=$1
	shift
	rt_noroot "$@"
	expect_ok "$*" || return
	expect_contains "$OUT$ERR" "$what" "$* output"
}
t "--help exits 0 and lists create" t_help create --help
t "help create exits 0 and describes create" t_help create help create
t "create --help exits 0 and describes create" t_help create create --help

t_spec_cwd() {
	local d=$TMPDIR_IT/spec-cwd before
	mkdir -p "$d"
	pushd "$d" >/dev/null || return
	rt_noroot spec
	popd >/dev/null || return
	expect_ok spec || return
	jq -e '.ociVersion and .process and .root and .mounts and .linux' "$d/config.json" >/dev/null ||
		fail "config.json is not a complete spec: $(head -c 300 "$d/config.json")"
	echo '{"sentinel": true}' >"$d/config.json"
	before=$(sha256sum <"$d/config.json")
	pushd "$d" >/dev/null || return
	rt_noroot spec
	popd >/dev/null || return
	expect_failure "spec over an existing config.json"
	expect_eq "$(sha256sum <"$d/config.json")" "$before" "config.json checksum after refused spec"
	[ -n "$ERR" ] || fail "refused spec printed no error"
}
t "spec writes config.json and refuses to overwrite it" t_spec_cwd

t_spec_bundle() {
	local d=$TMPDIR_IT/spec-bundle
	mkdir -p "$d"
	rt_noroot spec --bundle "$d"
	expect_ok "spec --bundle" || return
	jq -e '.ociVersion' "$d/config.json" >/dev/null || fail "no valid $d/config.json"
	[ ! -e "$PWD/config.json" ] || [ "$PWD" = "$d" ] || fail "spec --bundle also wrote $PWD/config.json"
}
t "spec --bundle DIR writes DIR/config.json" t_spec_bundle

t_default_spec() {
	new_id
	BUNDLE=$TMPDIR_IT/bundles/$CID
	mkdir -p "$BUNDLE"
	rt_noroot spec --bundle "$BUNDLE"
	expect_ok "spec --bundle" || return
	# only the root and the command change: the default must run with no
	# tty (runc's default asks for a terminal and fails here)
	cfg '.root.path = $p | .process.args = ["true"]' --arg p "$SPROUT_FIXTURE"
	rt run -b "$BUNDLE" "$CID"
	expect_ok "run of the default spec with args [true]"
	leftovers_after "$CID"
}
t "the default spec runs true on the fixture" t_default_spec

done_testing
