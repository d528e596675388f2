#!/bin/bash
# podman 4.3 with conmon 2.1.6 (Debian's packages) driving the runtime, as
# root: `podman --runtime BIN` run (attached, detached, -t, --rm), exec,
# stop, kill, pause, unpause, update, top, --memory/--pids-limit,
# --preserve-fds, --rootfs DIR and an image loaded from the OCI archive
# built from the busybox fixture.
#
# podman runs with its own --root/--runroot/--tmpdir under the run's
# temporary directory, vfs storage, --cgroup-manager cgroupfs,
# --events-backend file, its own network config dir, --network none and
# --ulimit nofile=20000:20000 --ulimit nproc=4096:4096 (its defaults exceed
# the hard limits of this machine, which cannot be raised without
# CAP_SYS_RESOURCE). CONTAINERS_CONF is contrib/podman/containers.conf (the
# sprout path replaced by the build's) plus file locks, so that nothing goes
# to the machine's /dev/shm/libpod_lock; one scenario uses no runtime
# configuration at all. The runtime keeps its state in its default root
# (podman calls `state ID` without --root).
#
# Run alone: bash tests/clients/podman.sh (TAP); tests/clients/run.sh runs
# it with containerd.sh.

PM=
PM_CONF=
PM_N=0
PM_SLEEPER=(sh -c 'trap "exit 0" TERM; sleep 1000 & wait')
PM_RUN_FLAGS=(--network none --ulimit nofile=20000:20000 --ulimit nproc=4096:4096)

PODMAN=() # the podman command line, without runtime (set by pm_start)

# pm_ ARGS...: podman with the test's configuration (RC/OUT/ERR).
pm_() {
	run env CONTAINERS_CONF="$PM_CONF" "${PODMAN[@]}" "$@"
}

# pmr_ ARGS...: the same with --runtime of the column.
pmr_() {
	pm_ --runtime "$RT_BIN" "$@"
}

pm_stop_all() {
	[ -n "$PM" ] || return 0
	timeout 60 env CONTAINERS_CONF="$PM_CONF" "${PODMAN[@]}" rm -a -f -t 0 </dev/null >/dev/null 2>&1
	# conmon's cgroup under libpod_parent (created by podman for conmon)
	rmdir /sys/fs/cgroup/*/libpod_parent/conmon 2>/dev/null
}

pm_start() {
	if ! command -v podman >/dev/null || ! command -v conmon >/dev/null; then
		SUITE_SKIP="podman is not installed (apt-get install podman)"
		return 0
	fi
	prepare_image
	PM=$CT/podman
	mkdir -p "$PM/cni" "$PM/tmp"
	PODMAN=(podman --root "$PM/root" --runroot "$PM/runroot" --tmpdir "$PM/tmp"
		--storage-driver vfs --cgroup-manager cgroupfs --events-backend file
		--network-config-dir "$PM/cni")
	# The contrib snippet, its first path set to the sprout under test, and
	# file locks in --tmpdir instead of the machine's shared memory.
	sed -E "s|\"/usr/local/bin/sprout\"|\"$SPROUT\"|; s|^\\[engine\\]\$|[engine]\\nlock_type = \"file\"|" \
		"$REPO/contrib/podman/containers.conf" >"$PM/containers.conf"
	printf '[engine]\nlock_type = "file"\n' >"$PM/plain.conf"
	PM_CONF=$PM/containers.conf
	# podman's parent cgroup (pm_stop_all removes conmon's below it first)
	own_cgroup_parent libpod_parent
	at_exit pm_stop_all
	pm_ load -i "$IMAGE_ARCHIVE"
	PM_LOAD=$(last_call)
	[ "$RC" = 0 ] || PM_LOAD_FAILED=1
}

pm_new_name() {
	PM_N=$((PM_N + 1))
	NAME=$(printf 'p%d-%s-%03d' $$ "$RT" "$PM_N")
}

# pm_inspect FORMAT NAME: podman inspect's field(s) of the container.
pm_inspect() {
	env CONTAINERS_CONF="$PM_CONF" "${PODMAN[@]}" inspect --format "$1" "$2" </dev/null 2>/dev/null
}

pm_status_is() { [ "$(pm_inspect '{{.State.Status}}' "$1")" = "$2" ]; }

pm_diag_runtime_state() { # what the runtime itself says about container ID
	diag "$RT_BIN state $1: $(timeout 10 "$RT_BIN" state "$1" 2>&1 | tr '\n' ' ' | cut -c1-400)"
}

# pm_sleeper [RUN OPTIONS...]: a detached container NAME running the
# sleeper; ID is its id, PID its init's host pid.
pm_sleeper() {
	pm_new_name
	pmr_ run -d --name "$NAME" "${PM_RUN_FLAGS[@]}" "$@" "$IMAGE_REF" "${PM_SLEEPER[@]}"
	if [ "$RC" != 0 ]; then
		fail "podman run -d failed"
		diag "$(last_call)"
		return 1
	fi
	ID=$(tail -n1 <<<"$OUT")
	if ! poll 10 pm_status_is "$NAME" running; then
		fail "container $NAME is not running: $(pm_inspect '{{.State.Status}} {{.State.Error}}' "$NAME")"
		return 1
	fi
	PID=$(pm_inspect '{{.State.Pid}}' "$NAME")
}

# pm_remove NAME ID: podman rm -f; then nothing of it may be left.
pm_remove() {
	pm_ rm -f -t 0 "$1"
	expect_ok "podman rm -f $1"
	no_leftovers "$2" "$(default_root)/$2"
}

# ------------------------------------------------------------ scenarios ---

# (the load itself is part of pm_start)
t_pm_load() {
	[ -z "${PM_LOAD_FAILED:-}" ] || { fail "podman load failed"; diag "$PM_LOAD"; return; }
	pm_ images --format '{{.Repository}}:{{.Tag}}'
	expect_match "$OUT" "^$IMAGE_REF\$" "podman images"
}

pm_run_attached() {
	pm_new_name
	local cidfile=$PM/$NAME.cid
	pmr_ run --rm --name "$NAME" --cidfile "$cidfile" "${PM_RUN_FLAGS[@]}" "$IMAGE_REF" \
		sh -c 'echo "hello from podman, nofile=$(ulimit -n)"; exit 3'
	expect_rc 3 "podman run --rm (exit 3 inside)"
	expect_match "$OUT" '^hello from podman, nofile=20000$' "container output"
	local id
	id=$(cat "$cidfile" 2>/dev/null)
	[ -n "$id" ] || { fail "no container id in $cidfile"; return; }
	pm_ ps -a -q --no-trunc
	expect_no_match "$OUT" "^$id\$" "podman ps -a after run --rm"
	no_leftovers "$id" "$(default_root)/$id"
}

# detached: the runtime's state is in its default root (podman's `state`
# call passes no --root), the pid is the container's own, conmon is its
# parent, and the cgroup is podman's.
pm_run_detached() {
	pm_sleeper || return
	expect_match "$(tr '\0' ' ' <"/proc/$PID/cmdline" 2>/dev/null)" '^sh -c trap' "cmdline of pid $PID"
	local parent
	parent=$(awk '/^PPid:/ { print $2 }' "/proc/$PID/status" 2>/dev/null)
	expect_eq "$(cat "/proc/$parent/comm" 2>/dev/null)" conmon "parent of the container (pid $parent)"
	expect_match "$(cat "/proc/$PID/cgroup" 2>/dev/null)" "/libpod_parent/libpod-$ID\$" "cgroup of the container"
	[ -d "$(default_root)/$ID" ] || fail "no state directory $(default_root)/$ID"
	run "$RT_BIN" state "$ID"
	expect_ok "$RT state ID (default root)"
	jq -e -s 'length == 1 and (.[0] | type) == "object"' <<<"$OUT" >/dev/null 2>&1 ||
		fail "$RT state: stdout is not exactly one JSON object: $(head -c 600 <<<"$OUT")"
	expect_eq "$(jq -r .status <<<"$OUT" 2>/dev/null)" running "status in $RT state"
	expect_eq "$(jq -r .pid <<<"$OUT" 2>/dev/null)" "$PID" "pid in $RT state"
	# --sync: podman asks the runtime (`state ID`, no --root)
	pm_ ps --sync --filter "name=$NAME" --format '{{.Names}} {{.Status}}'
	expect_ok "podman ps --sync"
	expect_match "$OUT" "^$NAME Up " "podman ps --sync"
	pm_remove "$NAME" "$ID"
}

pm_exec() {
	pm_sleeper || return
	pm_ exec "$NAME" sh -c 'echo "exec pid1=$(cat /proc/1/comm)"; exit 4'
	expect_rc 4 "podman exec (exit 4 inside)"
	expect_match "$OUT" '^exec pid1=sh$' "exec output"
	pm_remove "$NAME" "$ID"
}

pm_exec_tty() {
	pm_sleeper || return
	run_tty env CONTAINERS_CONF="$PM_CONF" "${PODMAN[@]}" exec -t "$NAME" sh -c 'echo "tty=$(tty)"; exit 6'
	expect_rc 6 "podman exec -t (exit 6 inside)"
	expect_match "$OUT" 'tty=/dev/pts/[0-9]+' "tty inside exec -t"
	pm_remove "$NAME" "$ID"
}

pm_run_tty() {
	pm_new_name
	local cidfile=$PM/$NAME.cid
	run_tty env CONTAINERS_CONF="$PM_CONF" "${PODMAN[@]}" --runtime "$RT_BIN" run --rm -t --name "$NAME" \
		--cidfile "$cidfile" "${PM_RUN_FLAGS[@]}" "$IMAGE_REF" sh -c 'echo "tty=$(tty)"; exit 2'
	expect_rc 2 "podman run -t (exit 2 inside)"
	expect_match "$OUT" 'tty=/dev/pts/[0-9]+' "tty inside run -t"
	local id
	id=$(cat "$cidfile" 2>/dev/null)
	if [ -n "$id" ]; then
		pm_ rm -f -t 0 "$id"
		no_leftovers "$id" "$(default_root)/$id"
	fi
}

pm_top() {
	pm_sleeper || return
	pm_ top "$NAME"
	expect_ok "podman top"
	expect_match "$OUT" 'sleep 1000' "podman top lists the sleep"
	pm_remove "$NAME" "$ID"
}

# stop: SIGTERM through the runtime's kill; the init exits 0.
pm_stop() {
	pm_sleeper || return
	pm_ stop -t 10 "$NAME"
	expect_ok "podman stop" || pm_diag_runtime_state "$ID"
	expect_eq "$(pm_inspect '{{.State.Status}} {{.State.ExitCode}}' "$NAME")" "exited 0" "state after stop"
	pm_ rm "$NAME"
	expect_ok "podman rm"
	no_leftovers "$ID" "$(default_root)/$ID"
}

pm_kill() {
	pm_sleeper || return
	pm_ kill -s KILL "$NAME"
	expect_ok "podman kill -s KILL" || pm_diag_runtime_state "$ID"
	poll 10 pm_status_is "$NAME" exited || fail "status after kill: $(pm_inspect '{{.State.Status}}' "$NAME")"
	expect_eq "$(pm_inspect '{{.State.ExitCode}}' "$NAME")" 137 "exit code after SIGKILL"
	pm_remove "$NAME" "$ID"
}

pm_pause() {
	pm_sleeper || return
	local freezer=/sys/fs/cgroup/freezer/libpod_parent/libpod-$ID/freezer.state
	pm_ pause "$NAME"
	expect_ok "podman pause" || pm_diag_runtime_state "$ID"
	expect_eq "$(pm_inspect '{{.State.Status}}' "$NAME")" paused "status after pause"
	[ ! -e "$freezer" ] || expect_eq "$(cat "$freezer")" FROZEN "freezer.state after pause"
	run "$RT_BIN" state "$ID"
	expect_eq "$(jq -r .status <<<"$OUT" 2>/dev/null)" paused "status in $RT state"
	pm_ unpause "$NAME"
	expect_ok "podman unpause"
	expect_eq "$(pm_inspect '{{.State.Status}}' "$NAME")" running "status after unpause"
	[ ! -e "$freezer" ] || expect_eq "$(cat "$freezer")" THAWED "freezer.state after unpause"
	pm_remove "$NAME" "$ID"
}

# update (new in podman 4.3): `runtime update --resources FILE ID`.
pm_update() {
	pm_sleeper || return
	pm_ update --memory 64m --cpu-shares 512 "$NAME"
	expect_ok "podman update --memory 64m --cpu-shares 512" || pm_diag_runtime_state "$ID"
	local cg=/sys/fs/cgroup
	expect_eq "$(cat "$cg/memory/libpod_parent/libpod-$ID/memory.limit_in_bytes" 2>&1)" 67108864 \
		"memory.limit_in_bytes after update"
	expect_eq "$(cat "$cg/cpu/libpod_parent/libpod-$ID/cpu.shares" 2>&1)" 512 "cpu.shares after update"
	pm_remove "$NAME" "$ID"
}

# --memory and --pids-limit at run: linux.resources reach the cgroups.
pm_limits() {
	pm_sleeper --memory 64m --pids-limit 50 || return
	local cg=/sys/fs/cgroup
	expect_eq "$(cat "$cg/memory/libpod_parent/libpod-$ID/memory.limit_in_bytes" 2>&1)" 67108864 \
		"memory.limit_in_bytes"
	expect_eq "$(cat "$cg/pids/libpod_parent/libpod-$ID/pids.max" 2>&1)" 50 "pids.max"
	pm_remove "$NAME" "$ID"
}

# --preserve-fds 1: conmon passes fd 3 through `create --preserve-fds 1`.
pm_preserve_fds() {
	pm_new_name
	echo "preserved-fd-content" >"$PM/$NAME.fd3"
	run bash -c 'exec 3<"$1"; shift; exec "$@"' fd3 "$PM/$NAME.fd3" \
		env CONTAINERS_CONF="$PM_CONF" "${PODMAN[@]}" --runtime "$RT_BIN" run --rm --name "$NAME" \
		--preserve-fds 1 "${PM_RUN_FLAGS[@]}" "$IMAGE_REF" sh -c 'cat <&3'
	expect_ok "podman run --preserve-fds 1"
	expect_eq "$OUT" preserved-fd-content "what the container read from fd 3"
}

# --rootfs DIR: no image, a directory as the root.
pm_rootfs() {
	pm_new_name
	local dir=$PM/rootfs-$RT cidfile=$PM/$NAME.cid
	[ -d "$dir" ] || cp -a "$SPROUT_FIXTURE" "$dir"
	pmr_ run --rm --name "$NAME" --cidfile "$cidfile" "${PM_RUN_FLAGS[@]}" --rootfs "$dir" \
		sh -c 'echo "rootfs ok: $(head -n1 /etc/passwd)"'
	expect_ok "podman run --rootfs"
	expect_eq "$OUT" "rootfs ok: root:x:0:0:root:/root:/bin/sh" "output"
	local id
	id=$(cat "$cidfile" 2>/dev/null)
	[ -z "$id" ] || no_leftovers "$id" "$(default_root)/$id"
}

# A runtime error appears in podman's message: through the one JSON error
# object in the oci-log (--log-format=json, the runtime is listed in
# runtime_supports_json) or, with no runtime configuration (PLAIN), through
# the runtime's stderr.
pm_error() {
	local conf=$PM_CONF
	[ "${1:-}" = plain ] && conf=$PM/plain.conf
	pm_new_name
	run env CONTAINERS_CONF="$conf" "${PODMAN[@]}" --runtime "$RT_BIN" run --rm --name "$NAME" \
		"${PM_RUN_FLAGS[@]}" "$IMAGE_REF" /nonexistent/binary
	expect_rc 127 "podman run of a missing executable (127: not found)"
	expect_match "$ERR" 'exec:? "?/nonexistent/binary' "the runtime's own message in podman's error"
	pm_ ps -a -q --filter "name=$NAME"
	[ -z "$OUT" ] || fail "container $NAME left after run --rm: $OUT"
	[ "${1:-}" = plain ] || return 0
	# and a good run with the same configuration
	pm_new_name
	run env CONTAINERS_CONF="$conf" "${PODMAN[@]}" --runtime "$RT_BIN" run --rm --name "$NAME" \
		"${PM_RUN_FLAGS[@]}" "$IMAGE_REF" echo plain-ok
	expect_ok "podman run with no runtime configuration"
	expect_eq "$OUT" plain-ok "output"
}

# podman info shows `BIN --version` as it is.
pm_info() {
	local want
	want=$(timeout 10 "$RT_BIN" --version 2>&1)
	pmr_ info --format '{{.Host.OCIRuntime.Path}}
{{.Host.OCIRuntime.Version}}'
	expect_ok "podman info"
	expect_eq "$(head -n1 <<<"$OUT")" "$RT_BIN" "podman info's runtime path"
	expect_eq "$(tail -n +2 <<<"$OUT")" "$want" "podman info's runtime version vs $RT --version"
}

# contrib/podman/containers.conf makes sprout podman's default runtime.
t_pm_conf_default() {
	RT=sprout RT_BIN=$SPROUT
	pm_new_name
	pm_ run -d --name "$NAME" "${PM_RUN_FLAGS[@]}" "$IMAGE_REF" "${PM_SLEEPER[@]}"
	expect_ok "podman run -d without --runtime" || return
	ID=$(tail -n1 <<<"$OUT")
	expect_eq "$(pm_inspect '{{.OCIRuntime}}' "$NAME")" sprout "the container's OCI runtime"
	[ -d "/run/sprout/$ID" ] || fail "no sprout state directory /run/sprout/$ID"
	pm_remove "$NAME" "$ID"
}

podman_suite() {
	SUITE_SKIP='' SUITE_BROKEN=''
	pm_start
	t "podman: podman load of the OCI archive" t_pm_load
	scenario "podman: run attached --rm" pm_run_attached
	scenario "podman: run -d, default root state, conmon" pm_run_detached
	scenario "podman: exec" pm_exec
	scenario "podman: exec -t" pm_exec_tty
	scenario "podman: run -t" pm_run_tty
	scenario "podman: top" pm_top
	scenario "podman: stop" pm_stop
	scenario "podman: kill" pm_kill
	scenario "podman: pause and unpause" pm_pause
	scenario "podman: update" pm_update
	scenario "podman: --memory and --pids-limit" pm_limits
	scenario "podman: --preserve-fds" pm_preserve_fds
	scenario "podman: --rootfs DIR" pm_rootfs
	scenario "podman: runtime error in podman's message" pm_error
	scenario "podman: no runtime configuration" pm_error plain
	scenario "podman: info shows --version" pm_info
	t "podman: contrib containers.conf makes sprout the default [sprout]" t_pm_conf_default
	pm_stop_all
	SUITE_SKIP='' SUITE_BROKEN=''
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	. "$(dirname "$0")/lib.sh"
	podman_suite
	done_testing
fi
