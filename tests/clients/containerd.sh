#!/bin/bash
# containerd 1.6 (Debian's package) driving the runtime through its own runc
# shim (io.containerd.runc.v2) with `ctr run --runc-binary BIN`, from an
# image imported offline (`ctr images import` of the OCI archive built from
# the busybox fixture), on the overlayfs and native snapshotters.
#
# containerd runs as a plain process with its own config, root, state and
# sockets under the run's temporary directory, and is stopped at the end;
# its CRI plugin is loaded with contrib/containerd/config.toml (BinaryName
# pointing at the sprout under test). Containers live in a namespace of
# their own (sprout-clients-PID); the shim keeps the runtime's state in
# /run/containerd/runc/<namespace>, and cgroups are /<namespace>/<id>.
#
# Run alone: bash tests/clients/containerd.sh (TAP); tests/clients/run.sh
# runs it with podman.sh.

# ------------------------------------------------------------- daemon ---

CTD_NS=sprout-clients-$$
CTD=
CTD_PID=
CTD_N=0
SLEEPER=(sh -c 'trap "exit 0" TERM; sleep 1000 & wait')

# ctr_ ARGS...: ctr against the private daemon and namespace (RC/OUT/ERR).
ctr_() {
	run ctr --address "$CTD/containerd.sock" --namespace "$CTD_NS" "$@"
}

ctd_log_tail() { # the daemon's log lines about ID (diagnostics)
	grep -F -- "$1" "$CTD/containerd.log" 2>/dev/null | grep -v 'level=debug' | tail -n "${2:-8}" |
		cut -c1-600
}

# The test's containerd config: private paths, the CRI plugin on (loopback
# streaming only, CNI dirs in the temporary directory) and the contrib
# snippet appended, its BinaryName replaced by the sprout under test.
ctd_write_config() {
	local snippet=$REPO/contrib/containerd/config.toml
	cat >"$CTD/config.toml" <<EOF
version = 2
root = "$CTD/root"
state = "$CTD/state"
disabled_plugins = [
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.internal.v1.tracing",
  "io.containerd.tracing.processor.v1.otlp",
]

[grpc]
  address = "$CTD/containerd.sock"

[ttrpc]
  address = "$CTD/containerd.sock.ttrpc"

[plugins."io.containerd.internal.v1.opt"]
  path = "$CTD/opt"

[plugins."io.containerd.grpc.v1.cri"]
  disable_tcp_service = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"

[plugins."io.containerd.grpc.v1.cri".cni]
  bin_dir = "$CTD/cni/bin"
  conf_dir = "$CTD/cni/net.d"

[plugins."io.containerd.grpc.v1.cri".containerd]
  default_runtime_name = "sprout"

# ---- contrib/containerd/config.toml ----
EOF
	grep -v '^version *=' "$snippet" |
		sed -E "s|^([[:space:]]*BinaryName[[:space:]]*=[[:space:]]*).*|\1\"$SPROUT\"|" >>"$CTD/config.toml"
}

ctd_stop() {
	local id p
	[ -n "$CTD" ] || return 0
	if [ -n "$CTD_PID" ]; then
		# remove what is left in our namespace, then stop the daemon
		for id in $(ctr --address "$CTD/containerd.sock" -n "$CTD_NS" containers ls -q 2>/dev/null); do
			timeout 20 ctr --address "$CTD/containerd.sock" -n "$CTD_NS" task kill -s KILL "$id" >/dev/null 2>&1
			timeout 20 ctr --address "$CTD/containerd.sock" -n "$CTD_NS" task rm -f "$id" >/dev/null 2>&1
			timeout 20 ctr --address "$CTD/containerd.sock" -n "$CTD_NS" containers rm "$id" >/dev/null 2>&1
		done
		kill "$CTD_PID" 2>/dev/null
		wait "$CTD_PID" 2>/dev/null
		CTD_PID=
	fi
	# shims our daemon started and that outlived it
	for p in $(pgrep -f -- "-address $CTD/containerd.sock"); do
		kill -KILL "$p" 2>/dev/null
	done
	# the sockets of killed shims (the shim puts them in /run/containerd/s
	# whatever the config says): ours are newer than the run and unbound
	while IFS= read -r p; do
		[ -n "$p" ] && ! grep -qF " $p" /proc/net/unix && rm -f "$p"
	done < <(find /run/containerd/s -maxdepth 1 -type s -newer "$CTD/config.toml" 2>/dev/null)
	rmdir "/run/containerd/runc/$CTD_NS" 2>/dev/null
}

ctd_start() {
	if ! command -v containerd >/dev/null || ! command -v ctr >/dev/null ||
		! command -v containerd-shim-runc-v2 >/dev/null; then
		SUITE_SKIP="containerd is not installed (apt-get install containerd)"
		return 0
	fi
	prepare_image
	CTD=$CT/containerd
	mkdir -p "$CTD/cni/bin" "$CTD/cni/net.d"
	ctd_write_config
	own_cgroup_parent "$CTD_NS"
	at_exit ctd_stop
	containerd --config "$CTD/config.toml" </dev/null >"$CTD/containerd.log" 2>&1 &
	CTD_PID=$!
	# shellcheck disable=SC2016 # expanded by eval
	if ! poll 20 eval 'ctr --address "$CTD/containerd.sock" version >/dev/null 2>&1'; then
		SUITE_BROKEN="containerd did not start (config $CTD/config.toml): $(tail -n 5 "$CTD/containerd.log")"
		return 0
	fi
	ctr_ images import "$IMAGE_ARCHIVE"
	CTD_IMPORT=$(last_call)
	[ "$RC" = 0 ] || CTD_IMPORT_FAILED=1
}

# ctd_new_id: a fresh container id in CID.
ctd_new_id() {
	CTD_N=$((CTD_N + 1))
	CID=$(printf 'c%d-%s-%03d' $$ "$RT" "$CTD_N")
}

# The runtime's state directory for CID, as the shim names it.
ctd_state_dir() { echo "/run/containerd/runc/$CTD_NS/$CID"; }
# The shim's bundle for CID (config.json, init.pid, log.json).
ctd_bundle() { echo "$CTD/state/io.containerd.runtime.v2.task/$CTD_NS/$CID"; }

# ctd_task FIELD ID: the PID or STATUS column of `ctr task ls` for ID.
ctd_task() {
	local out
	out=$(ctr --address "$CTD/containerd.sock" -n "$CTD_NS" task ls 2>/dev/null </dev/null) || return 1
	awk -v id="$2" -v f="$1" '$1 == id { print (f == "PID" ? $2 : $3) }' <<<"$out"
}

ctd_status_is() { [ "$(ctd_task STATUS "$1")" = "$2" ]; }

# shellcheck disable=SC2120 # options are for future scenarios
# ctd_sleeper [RUN OPTIONS...]: a detached container CID running SLEEPER;
# PID is its init's host pid.  Returns non-zero (with the failure
# recorded) when it does not come up.
ctd_sleeper() {
	ctd_new_id
	ctr_ run -d --fifo-dir "$CTD/fifo" --runc-binary "$RT_BIN" "$@" "$IMAGE_REF" "$CID" "${SLEEPER[@]}"
	if [ "$RC" != 0 ]; then
		fail "ctr run -d failed"
		diag "$(last_call)"
		diag "$(ctd_log_tail "$CID")"
		return 1
	fi
	if ! poll 10 ctd_status_is "$CID" RUNNING; then
		fail "task $CID is not RUNNING: $(ctd_task STATUS "$CID")"
		return 1
	fi
	PID=$(ctd_task PID "$CID")
}

# ctd_remove ID: kill the task, delete it and the container; then nothing
# of it may be left.
ctd_remove() {
	local id=$1
	if [ -n "$(ctd_task STATUS "$id")" ]; then
		ctr_ task kill -s KILL "$id"
		poll 10 ctd_status_is "$id" STOPPED
		ctr_ task rm "$id"
		expect_ok "ctr task rm $id"
	fi
	ctr_ containers rm "$id"
	expect_ok "ctr containers rm $id"
	no_leftovers "$id" "/run/containerd/runc/$CTD_NS/$id"
}

# ------------------------------------------------------------ scenarios ---

# (the import itself is part of ctd_start)
t_ctd_import() {
	[ -z "${CTD_IMPORT_FAILED:-}" ] || { fail "ctr images import failed"; diag "$CTD_IMPORT"; return; }
	ctr_ images ls -q
	expect_match "$OUT" "^$IMAGE_REF\$" "ctr images ls"
}

# run attached on SNAPSHOTTER: output and exit status come through, and
# --rm leaves nothing behind.
ctd_run_attached() {
	ctd_new_id
	ctr_ run --rm --fifo-dir "$CTD/fifo" --runc-binary "$RT_BIN" --snapshotter "$1" "$IMAGE_REF" "$CID" \
		sh -c 'echo "hello from $(cat /etc/hostname)"; exit 3'
	expect_rc 3 "ctr run --rm (exit 3 inside)" || diag "$(ctd_log_tail "$CID")"
	expect_match "$OUT" '^hello from sprout-fixture$' "container output"
	ctr_ containers ls -q
	expect_no_match "$OUT" "^$CID\$" "ctr containers ls after run --rm"
	no_leftovers "$CID" "$(ctd_state_dir)"
}

# detached: the pid file the shim reads is the container's own host pid,
# digits only; the container is a child of the shim (a subreaper).
ctd_run_detached() {
	ctd_sleeper || return
	local pidfile shim
	pidfile=$(ctd_bundle)/init.pid
	expect_match "$(cat "$pidfile" 2>&1)" '^[0-9]+$' "init.pid content"
	expect_eq "$(od -An -c "$pidfile" | tr -d ' \n' | grep -c '\\n')" 0 "newline in init.pid"
	expect_eq "$(cat "$pidfile" 2>&1)" "$PID" "init.pid vs ctr task ls"
	pid_alive "$PID" || fail "container pid $PID is not alive"
	expect_match "$(tr '\0' ' ' <"/proc/$PID/cmdline" 2>/dev/null)" '^sh -c trap' "cmdline of pid $PID"
	shim=$(awk '/^PPid:/ { print $2 }' "/proc/$PID/status" 2>/dev/null)
	expect_match "$(tr '\0' ' ' <"/proc/$shim/cmdline" 2>/dev/null)" "containerd-shim-runc-v2 .*-id $CID" \
		"parent of the container (pid $shim)"
	expect_match "$(cat "/proc/$PID/cgroup" 2>/dev/null)" "/$CTD_NS/$CID\$" "cgroup of the container"
	ctd_remove "$CID"
}

# SIGTERM reaches the init, which exits 0; delete then removes everything.
ctd_kill_delete() {
	ctd_sleeper || return
	ctr_ task kill "$CID"
	expect_ok "ctr task kill (SIGTERM)"
	poll 10 ctd_status_is "$CID" STOPPED || fail "task not STOPPED after SIGTERM: $(ctd_task STATUS "$CID")"
	ctr_ task rm "$CID"
	expect_ok "ctr task rm"
	expect_no_match "$OUT$ERR" 'exit code' "ctr task rm (exit status 0 expected)"
	ctr_ containers rm "$CID"
	no_leftovers "$CID" "$(ctd_state_dir)"
}

# kill --all: every process of the container gets the signal.
ctd_kill_all() {
	ctd_sleeper || return
	ctr_ task kill --all -s KILL "$CID"
	expect_ok "ctr task kill --all -s KILL"
	poll 10 ctd_status_is "$CID" STOPPED || fail "task not STOPPED after kill --all: $(ctd_task STATUS "$CID")"
	ctd_remove "$CID"
}

ctd_exec() {
	ctd_sleeper || return
	ctr_ task exec --fifo-dir "$CTD/fifo" --exec-id e1 "$CID" sh -c 'echo "exec in $(cat /etc/hostname) pid1=$(cat /proc/1/comm)"; exit 5'
	expect_rc 5 "ctr task exec (exit 5 inside)" || diag "$(ctd_log_tail "$CID")"
	expect_match "$OUT" '^exec in sprout-fixture pid1=sh$' "exec output"
	ctd_remove "$CID"
}

ctd_exec_tty() {
	ctd_sleeper || return
	run_tty ctr --address "$CTD/containerd.sock" -n "$CTD_NS" task exec -t --fifo-dir "$CTD/fifo" --exec-id t1 "$CID" \
		sh -c 'echo "tty=$(tty)"; exit 6'
	expect_rc 6 "ctr task exec -t (exit 6 inside)" || diag "$(ctd_log_tail "$CID")"
	expect_match "$OUT" 'tty=/dev/pts/[0-9]+' "tty inside exec -t"
	ctd_remove "$CID"
}

ctd_run_tty() {
	ctd_new_id
	run_tty ctr --address "$CTD/containerd.sock" -n "$CTD_NS" run -t --rm --fifo-dir "$CTD/fifo" --runc-binary "$RT_BIN" \
		"$IMAGE_REF" "$CID" sh -c 'echo "tty=$(tty)"; exit 4'
	expect_rc 4 "ctr run -t (exit 4 inside)" || diag "$(ctd_log_tail "$CID")"
	expect_match "$OUT" 'tty=/dev/pts/[0-9]+' "tty inside run -t"
	ctr_ task ls -q
	[ -z "$(ctd_task STATUS "$CID")" ] || ctd_remove "$CID"
	no_leftovers "$CID" "$(ctd_state_dir)"
}

# ctr task ps: the runtime's `ps --format json` lists the container's pids.
ctd_ps() {
	ctd_sleeper || return
	ctr_ task ps "$CID"
	expect_ok "ctr task ps" || diag "$(ctd_log_tail "$CID")"
	expect_match "$OUT" "^${PID}[[:space:]]" "ctr task ps lists the init ($PID)"
	[ "$(grep -cE '^[0-9]+' <<<"$OUT")" -ge 2 ] || fail "ctr task ps lists fewer than 2 processes (sh, sleep): $OUT"
	ctd_remove "$CID"
}

ctd_pause_resume() {
	ctd_sleeper || return
	local freezer=/sys/fs/cgroup/freezer/$CTD_NS/$CID/freezer.state
	ctr_ task pause "$CID"
	expect_ok "ctr task pause" || diag "$(ctd_log_tail "$CID")"
	poll 5 ctd_status_is "$CID" PAUSED || fail "status after pause: $(ctd_task STATUS "$CID")"
	[ ! -e "$freezer" ] || expect_eq "$(cat "$freezer")" FROZEN "$freezer after pause"
	ctr_ task resume "$CID"
	expect_ok "ctr task resume" || diag "$(ctd_log_tail "$CID")"
	poll 5 ctd_status_is "$CID" RUNNING || fail "status after resume: $(ctd_task STATUS "$CID")"
	[ ! -e "$freezer" ] || expect_eq "$(cat "$freezer")" THAWED "$freezer after resume"
	ctr_ task exec --fifo-dir "$CTD/fifo" --exec-id after-resume "$CID" true
	expect_ok "exec after resume"
	ctd_remove "$CID"
}

# grpc_update ID JSON: containerd's Tasks.Update (what CRI's
# UpdateContainerResources and nerdctl update call) with LinuxResources
# JSON; ctr 1.6 has no update command, so the request is built here and sent
# with curl over HTTP/2 to the daemon's socket.  Sets RC, OUT (grpc-status
# and grpc-message), ERR.
_varint() {
	local n=$1 out=
	while [ "$n" -ge 128 ]; do
		out+=$(printf '\\x%02x' $(((n & 127) | 128)))
		n=$((n >> 7))
	done
	printf '%s\\x%02x' "$out" "$n"
}
_pb_field() { # _pb_field TAGBYTE FILE: a length-delimited protobuf field
	# shellcheck disable=SC2059
	printf "$1$(_varint "$(stat -c %s "$2")")"
	cat "$2"
}
grpc_update() {
	local d=$CT/grpc.$RANDOM n
	mkdir -p "$d"
	printf '%s' "$1" >"$d/id"
	printf '%s' "types.containerd.io/opencontainers/runtime-spec/1/LinuxResources" >"$d/url"
	printf '%s' "$2" >"$d/value"
	{ _pb_field '\x0a' "$d/url"; _pb_field '\x12' "$d/value"; } >"$d/any"
	{ _pb_field '\x0a' "$d/id"; _pb_field '\x12' "$d/any"; } >"$d/req"
	n=$(stat -c %s "$d/req")
	{
		# shellcheck disable=SC2059
		printf "\\x00$(printf '\\x%02x\\x%02x\\x%02x\\x%02x' $((n >> 24 & 255)) $((n >> 16 & 255)) $((n >> 8 & 255)) $((n & 255)))"
		cat "$d/req"
	} >"$d/msg"
	run curl -sS --http2-prior-knowledge --unix-socket "$CTD/containerd.sock" -D - -o /dev/null \
		-H 'content-type: application/grpc' -H 'te: trailers' -H "containerd-namespace: $CTD_NS" \
		--data-binary "@$d/msg" http://localhost/containerd.services.tasks.v1.Tasks/Update
	OUT=$(grep -i '^grpc-' <<<"$OUT" | tr -d '\r')
	if [ "$RC" = 0 ] && ! grep -q '^grpc-status: 0$' <<<"$OUT"; then
		RC=1
	fi
}

# update: new memory and cpu limits reach the container's cgroups (and
# containerd's own metrics read them back).
ctd_update() {
	command -v curl >/dev/null || { skip "curl is not installed"; return; }
	ctd_sleeper || return
	grpc_update "$CID" '{"memory":{"limit":67108864},"cpu":{"quota":50000,"period":100000},"pids":{"limit":123}}'
	expect_ok "Tasks.Update (runtime update --resources -)" || diag "$(ctd_log_tail "$CID")"
	local cg=/sys/fs/cgroup
	expect_eq "$(cat "$cg/memory/$CTD_NS/$CID/memory.limit_in_bytes" 2>&1)" 67108864 "memory.limit_in_bytes"
	expect_eq "$(cat "$cg/cpu/$CTD_NS/$CID/cpu.cfs_quota_us" 2>&1)" 50000 "cpu.cfs_quota_us"
	expect_eq "$(cat "$cg/pids/$CTD_NS/$CID/pids.max" 2>&1)" 123 "pids.max"
	ctr_ task metrics "$CID"
	expect_match "$OUT" 'memory\.limit_in_bytes[[:space:]]+67108864' "ctr task metrics after update"
	ctd_remove "$CID"
}

# metrics: containerd reads the container's cgroups itself (they must be
# where the spec's cgroupsPath says).
ctd_metrics() {
	ctd_sleeper || return
	ctr_ task metrics "$CID"
	expect_ok "ctr task metrics" || diag "$(ctd_log_tail "$CID")"
	expect_match "$OUT" 'pids\.current[[:space:]]+[2-9]' "pids.current (sh and sleep)"
	expect_match "$OUT" 'memory\.usage_in_bytes[[:space:]]+[1-9]' "memory.usage_in_bytes"
	ctd_remove "$CID"
}

# A runtime error reaches ctr's message, through the last "level":"error"
# line of the bundle's log.json.
ctd_create_error() {
	ctd_new_id
	ctr_ run --rm --fifo-dir "$CTD/fifo" --runc-binary "$RT_BIN" "$IMAGE_REF" "$CID" /nonexistent/binary
	expect_failure "ctr run of a missing executable"
	expect_match "$ERR" 'OCI runtime create failed' "ctr's error"
	expect_match "$ERR" 'exec:? "?/nonexistent/binary' "the runtime's own message in ctr's error"
	ctr_ containers ls -q
	! grep -qx -- "$CID" <<<"$OUT" || ctd_remove "$CID"
	no_leftovers "$CID" "$(ctd_state_dir)"
}

# An exec error likewise; and every line of log.json is a JSON object with
# level, msg and an RFC 3339 time.
ctd_exec_error_log() {
	ctd_sleeper || return
	ctr_ task exec --fifo-dir "$CTD/fifo" --exec-id bad "$CID" /nonexistent/binary
	expect_failure "ctr task exec of a missing executable"
	expect_match "$ERR" 'exec:? "?/nonexistent/binary' "the runtime's own message in ctr's error"
	local log bad
	log=$(ctd_bundle)/log.json
	if [ ! -s "$log" ]; then
		fail "$log is empty or missing"
	else
		bad=$(jq -R -c 'fromjson? // "NOT JSON: \(.)" | select(type == "string" or (.level | type) != "string"
			or (.msg | type) != "string"
			or ((.time // "") | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$") | not))' "$log")
		[ -z "$bad" ] || fail "log.json lines without level/msg/RFC 3339 time: $bad"
		expect_match "$(jq -r 'select(.level == "error") | .msg' "$log" 2>/dev/null | tail -n1)" \
			'/nonexistent/binary' "last error in log.json"
	fi
	ctd_remove "$CID"
}

# A container in the host's pid namespace: on exit the shim kills what is
# left with `kill --all` on the stopped container, and deletes it.
ctd_host_pidns() {
	ctd_new_id
	ctr_ run --rm --fifo-dir "$CTD/fifo" --runc-binary "$RT_BIN" --with-ns "pid:/proc/$$/ns/pid" "$IMAGE_REF" "$CID" \
		sh -c 'sleep 1000 & echo "pid=$$"'
	expect_ok "ctr run --with-ns pid:/proc/$$/ns/pid" || diag "$(ctd_log_tail "$CID")"
	expect_match "$OUT" '^pid=[0-9]+$' "output"
	[ "$(sed -n 's/^pid=//p' <<<"$OUT")" != 1 ] || fail "pid 1 in the host pid namespace"
	# the shim logs a failed `kill --all` (e.g. refused on a stopped container)
	local err
	err=$(grep -F "failed to kill init's children" "$CTD/containerd.log" | grep -F -- "$CID")
	[ -z "$err" ] || fail "the shim's kill --all failed: $(cut -c1-600 <<<"$err")"
	no_leftovers "$CID" "$(ctd_state_dir)"
}

ctd_checkpoint() {
	if ! command -v criu >/dev/null; then
		skip "criu is not installed"
		return
	fi
	if ! timeout 20 criu check >/dev/null 2>&1; then
		skip "criu check fails on this kernel (runc cannot checkpoint either)"
		return
	fi
	ctd_sleeper || return
	ctr_ task checkpoint "$CID"
	expect_ok "ctr task checkpoint" || diag "$(ctd_log_tail "$CID")"
	ctd_remove "$CID"
}

# contrib/containerd/config.toml: containerd loads it (the CRI plugin starts
# with a runtime "sprout" of type io.containerd.runc.v2 and BinaryName), and
# the BinaryName it parsed runs containers under containerd.
t_ctd_config_snippet() {
	ctr_ plugins ls
	expect_match "$OUT" 'io\.containerd\.grpc\.v1[[:space:]]+cri[[:space:]].*[[:space:]]ok' "CRI plugin status"
	run containerd --config "$CTD/config.toml" config dump
	expect_ok "containerd config dump"
	local binary
	binary=$(awk '/runtimes\.sprout\.options\]/ { f = 1; next } /^[[:space:]]*\[/ { f = 0 }
		f && $1 == "BinaryName" { gsub(/"/, "", $3); print $3 }' <<<"$OUT")
	expect_eq "$binary" "$SPROUT" "BinaryName of runtime sprout in the loaded config"
	expect_match "$(grep -F 'Start cri plugin with config' "$CTD/containerd.log")" \
		"Runtimes:map\\[sprout:\\{Type:io.containerd.runc.v2 .*BinaryName:$SPROUT" "the CRI plugin's runtimes"
	[ -n "$binary" ] || return
	RT=sprout
	ctd_new_id
	ctr_ run --rm --fifo-dir "$CTD/fifo" --runc-binary "$binary" "$IMAGE_REF" "$CID" echo snippet-ok
	expect_ok "ctr run --runc-binary $binary"
	expect_eq "$OUT" snippet-ok "output"
}

# contrib/kubernetes/runtimeclass.yaml: a node.k8s.io/v1 RuntimeClass whose
# handler is the CRI runtime that contrib/containerd/config.toml defines
# (parsed with PyYAML where it is installed, else read line by line).
t_k8s_runtimeclass() {
	local yaml=$REPO/contrib/kubernetes/runtimeclass.yaml fields handler
	local py='import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d is not None]
assert len(docs) == 1, "expected one document, got %d" % len(docs)
d = docs[0]
print(d.get("apiVersion"), d.get("kind"), (d.get("metadata") or {}).get("name"), d.get("handler"))'
	if python3 -c 'import yaml' 2>/dev/null; then
		run python3 -c "$py" "$yaml"
		expect_ok "parse $yaml with PyYAML" || return
		fields=$OUT
	else
		fields=$(awk '/^apiVersion:/ { a = $2 } /^kind:/ { k = $2 } /^  name:/ { n = $2 } /^handler:/ { h = $2 }
			END { print a, k, n, h }' "$yaml")
	fi
	handler=$(sed -nE 's/^\[plugins\."io\.containerd\.grpc\.v1\.cri"\.containerd\.runtimes\.([A-Za-z0-9_-]+)\]$/\1/p' \
		"$REPO/contrib/containerd/config.toml" | head -n1)
	[ -n "$handler" ] || fail "no CRI runtime in contrib/containerd/config.toml"
	expect_eq "$fields" "node.k8s.io/v1 RuntimeClass sprout $handler" \
		"apiVersion kind metadata.name handler of $yaml"
}

containerd_suite() {
	SUITE_SKIP='' SUITE_BROKEN=''
	ctd_start
	t "containerd: ctr images import of the OCI archive" t_ctd_import
	scenario "containerd: run attached (overlayfs)" ctd_run_attached overlayfs
	scenario "containerd: run attached (native)" ctd_run_attached native
	scenario "containerd: run -d, pid file, shim reaps" ctd_run_detached
	scenario "containerd: kill (SIGTERM) and delete" ctd_kill_delete
	scenario "containerd: kill --all" ctd_kill_all
	scenario "containerd: exec" ctd_exec
	scenario "containerd: exec -t" ctd_exec_tty
	scenario "containerd: run -t" ctd_run_tty
	scenario "containerd: task ps" ctd_ps
	scenario "containerd: pause and resume" ctd_pause_resume
	scenario "containerd: update (Tasks.Update)" ctd_update
	scenario "containerd: task metrics" ctd_metrics
	scenario "containerd: create error reaches ctr" ctd_create_error
	scenario "containerd: exec error, log.json lines" ctd_exec_error_log
	scenario "containerd: host pid namespace" ctd_host_pidns
	scenario "containerd: checkpoint (CRIU)" ctd_checkpoint
	t "containerd: contrib config.toml (CRI runtime sprout) [sprout]" t_ctd_config_snippet
	ctd_stop
	SUITE_SKIP='' SUITE_BROKEN=''
	t "kubernetes: contrib runtimeclass.yaml names the CRI runtime" t_k8s_runtimeclass
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	. "$(dirname "$0")/lib.sh"
	containerd_suite
	done_testing
fi
