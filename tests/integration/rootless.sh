#!/bin/bash
# Rootless: an ordinary user (made here if missing, with /etc/subuid and
# /etc/subgid entries) runs `spec --rootless` and `run`, and creates,
# execs, kills and deletes a container; the state lives under
# $XDG_RUNTIME_DIR/sprout; ids beyond its own are mapped with newuidmap;
# a network namespace has lo up; cgroups are used where delegated and
# skipped elsewhere; --rootless is accepted as runc accepts it.
. "$(dirname "$0")/lib.sh"

RL_USER=sprout-rootless
if ! id -u "$RL_USER" >/dev/null 2>&1; then
	useradd --system --no-create-home --shell /bin/sh "$RL_USER" >/dev/null 2>&1 ||
		bail "cannot create the test user $RL_USER"
fi
RL_UID=$(id -u "$RL_USER")
RL_GID=$(id -g "$RL_USER")
# subordinate ids for newuidmap (useradd --system adds none)
SUB_START=420000
grep -q "^$RL_USER:" /etc/subuid 2>/dev/null || echo "$RL_USER:$SUB_START:65536" >>/etc/subuid
grep -q "^$RL_USER:" /etc/subgid 2>/dev/null || echo "$RL_USER:$SUB_START:65536" >>/etc/subgid
SUB_UID=$(awk -F: -v u="$RL_USER" '$1 == u { print $2; exit }' /etc/subuid)
SUB_GID=$(awk -F: -v u="$RL_USER" '$1 == u { print $2; exit }' /etc/subgid)

XDG=$TMPDIR_IT/xdg-$RL_UID
mkdir -p "$XDG"
chown "$RL_USER:" "$XDG"
chmod 700 "$XDG"
RL_STATE=$XDG/sprout

# urt ARGS...: the runtime as the test user, with XDG_RUNTIME_DIR and no
# --root (the default state root is part of what is tested).
urt() {
	_urt env XDG_RUNTIME_DIR="$XDG" "$@"
}
_urt() {
	_IO_COUNTER=$((_IO_COUNTER + 1))
	local o=$TMPDIR_IT/io/$_IO_COUNTER.out e=$TMPDIR_IT/io/$_IO_COUNTER.err
	CMD="[$RL_USER] $*"
	timeout -k 5 "$RT_TIMEOUT" runuser -u "$RL_USER" -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		"$@" </dev/null >"$o" 2>"$e"
	RC=$?
	OUT=$(cat "$o")
	ERR=$(cat "$e")
}

RL_CONTAINERS=()
rl_cleanup() {
	local id
	for id in "${RL_CONTAINERS[@]}"; do
		runuser -u "$RL_USER" -- env XDG_RUNTIME_DIR="$XDG" "$SPROUT" delete --force "$id" >/dev/null 2>&1
	done
	[ -n "${DELEG:-}" ] && rmdir "$DELEG"/* "$DELEG" 2>/dev/null
	cleanup
}
trap rl_cleanup EXIT

# rl_container: a bundle made by the user with `spec --rootless`, on the
# fixture, running "$@".
rl_container() {
	new_id
	RL_CONTAINERS+=("$CID")
	BUNDLE=$TMPDIR_IT/bundles/$CID
	mkdir -p "$BUNDLE"
	chown "$RL_USER:" "$BUNDLE"
	_urt sh -c "cd '$BUNDLE' && '$SPROUT' spec --rootless"
	[ "$RC" = 0 ] || { fail "spec --rootless as $RL_USER failed"; diag "$(last_call)"; return 1; }
	cfg '.root.path = $p | .process.terminal = false' --arg p "$SPROUT_FIXTURE"
	set_args "$@"
	chown "$RL_USER:" "$BUNDLE/config.json"
}

rl_leftovers() {
	[ ! -e "$RL_STATE/$CID" ] || fail "leftover state dir $RL_STATE/$CID"
	local found
	found=$(pgrep -a -f -- "$CID")
	[ -z "$found" ] || fail "leftover processes: $found"
}

t_spec_run() {
	rl_container sh -c 'cat /proc/self/uid_map /proc/self/setgroups; echo uid=$(stat -c %u /proc/self/)'
	urt "$SPROUT" run -b "$BUNDLE" "$CID"
	expect_ok "run as $RL_USER" || return
	expect_eq "$(awk 'NR == 1 { print $1, $2, $3 }' <<<"$OUT")" "0 $RL_UID 1" "uid map: the user itself as root"
	expect_contains "$OUT" deny "setgroups is denied for a single-id mapping"
	expect_contains "$OUT" uid=0 "the workload runs as uid 0 inside"
	rl_leftovers
	forget "$CID"
}
t "spec --rootless, then run, as an ordinary user" t_spec_run

t_lifecycle() {
	rl_container sh -c 'trap "exit 0" TERM; sleep 100 & wait'
	urt "$SPROUT" create -b "$BUNDLE" "$CID"
	expect_ok "create as $RL_USER" || return
	[ -f "$RL_STATE/$CID/state.json" ] || fail "no state under \$XDG_RUNTIME_DIR/sprout"
	[ ! -e "$ROOT/$CID" ] && [ ! -e "/run/sprout/$CID" ] || fail "state written elsewhere"
	urt "$SPROUT" start "$CID"
	expect_ok "start" || return
	urt "$SPROUT" state "$CID"
	expect_eq "$(jq -r .status <<<"$OUT")" running "status after start"
	if "$SPROUT" help exec >/dev/null 2>&1; then
		urt "$SPROUT" exec "$CID" sh -c 'echo exec-$(cat /proc/self/uid_map | awk "{print \$2}")'
		expect_ok "exec as $RL_USER"
		expect_eq "$OUT" "exec-$RL_UID" "exec runs inside the user namespace"
	fi
	urt "$SPROUT" kill "$CID" TERM
	expect_ok "kill" || return
	local i
	for ((i = 0; i < 50; i++)); do
		urt "$SPROUT" state "$CID"
		[ "$(jq -r .status <<<"$OUT" 2>/dev/null)" = stopped ] && break
		sleep 0.1
	done
	expect_eq "$(jq -r .status <<<"$OUT" 2>/dev/null)" stopped "status after kill"
	urt "$SPROUT" delete "$CID"
	expect_ok "delete" || return
	urt "$SPROUT" list -q
	expect_no_match "$OUT" "$CID" "list after delete"
	rl_leftovers
	forget "$CID"
}
t "an ordinary user creates, starts, execs, kills and deletes a container" t_lifecycle

t_selfexe_sealed_copy() {
	# CVE-2019-5736 without privilege: a sprout binary that the user owns
	# (so its uid, mapped into the container, could write it) cannot be
	# viewed through a read-only bind mount (no CAP_SYS_ADMIN), so the
	# command re-executes from a sealed memfd copy, and the container's
	# init shows that copy, not the file.
	local dir=$TMPDIR_IT/rl-bin log=$TMPDIR_IT/rl-selfexe.log exe
	mkdir -p "$dir"
	cp "$SPROUT" "$dir/sprout"
	chown -R "$RL_USER:" "$dir"
	: >"$log"
	chown "$RL_USER:" "$log"
	rl_container sh -c 'trap "exit 0" TERM; sleep 100 & wait'
	urt "$dir/sprout" --debug --log "$log" create --pid-file "$BUNDLE/pid" -b "$BUNDLE" "$CID"
	expect_ok "create with a binary the user owns" || return
	expect_contains "$(cat "$log")" "re-executing from a sealed copy" "sealed copy (debug log)"
	exe=$(readlink "/proc/$(cat "$BUNDLE/pid")/exe")
	expect_match "$exe" '^/memfd:sprout' "the init runs from the sealed copy"
	urt "$dir/sprout" delete --force "$CID"
	expect_ok "delete --force" || return
	rl_leftovers
	forget "$CID"
	rm -rf "$dir"
}
t "rootless: a binary the user can write is re-executed from a sealed copy" t_selfexe_sealed_copy

t_no_xdg() {
	rl_container true
	if runuser -u "$RL_USER" -- test -w /run/sprout 2>/dev/null ||
		{ [ ! -e /run/sprout ] && runuser -u "$RL_USER" -- test -w /run; }; then
		skip "/run/sprout is writable by $RL_USER"
		return
	fi
	_urt "$SPROUT" run -b "$BUNDLE" "$CID"
	expect_failure "run without XDG_RUNTIME_DIR" || return
	expect_sprout_error
	expect_contains "$ERR" XDG_RUNTIME_DIR "the error says what to set"
	forget "$CID"
}
t "no XDG_RUNTIME_DIR and /run/sprout not writable: a clear error" t_no_xdg

t_subuids() {
	command -v newuidmap >/dev/null || { skip "newuidmap (package uidmap) is not installed"; return; }
	rl_container sh -c 'cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups'
	cfg '.linux.uidMappings = [{containerID: 0, hostID: $u, size: 1}, {containerID: 1, hostID: $su, size: 65536}] |
	     .linux.gidMappings = [{containerID: 0, hostID: $g, size: 1}, {containerID: 1, hostID: $sg, size: 65536}]' \
		--argjson u "$RL_UID" --argjson g "$RL_GID" --argjson su "$SUB_UID" --argjson sg "$SUB_GID"
	urt "$SPROUT" run -b "$BUNDLE" "$CID"
	expect_ok "run with subordinate ids" || return
	expect_eq "$(awk '{ print $1, $2, $3 }' <<<"$OUT" | sed -n 2p)" "1 $SUB_UID 65536" "the second uid range (newuidmap)"
	expect_eq "$(awk '{ print $1, $2, $3 }' <<<"$OUT" | sed -n 4p)" "1 $SUB_GID 65536" "the second gid range (newgidmap)"
	expect_eq "$(sed -n 5p <<<"$OUT")" allow "setgroups stays allowed with newgidmap"
	rl_leftovers
	forget "$CID"
}
t "ids beyond the user's own are mapped with newuidmap/newgidmap" t_subuids

t_subuids_refused() {
	command -v newuidmap >/dev/null || { skip "newuidmap is not installed"; return; }
	rl_container true
	cfg '.linux.uidMappings = [{containerID: 0, hostID: 0, size: 1}]'
	urt "$SPROUT" run -b "$BUNDLE" "$CID"
	expect_failure "mapping the host's root as a user" || return
	expect_sprout_error
	expect_contains "$ERR" uidMappings "the error names the mapping"
	rl_leftovers
	forget "$CID"
}
t "a mapping the user is not allowed: fails naming uidMappings, nothing left" t_subuids_refused

t_netns_lo() {
	rl_container ip -o link show lo
	cfg '.linux.namespaces += [{type: "network"}]'
	urt "$SPROUT" run -b "$BUNDLE" "$CID"
	expect_ok "run with a network namespace" || return
	expect_match "$OUT" '<[^>]*\bUP\b' "lo is up"
	rl_leftovers
	forget "$CID"
}
t "rootless with a network namespace: lo is UP" t_netns_lo

t_sysfs_fallback() {
	rl_container sh -c 'ls /sys/kernel >/dev/null && echo sys-ok'
	# a root-style sysfs mount, without a network namespace of its own
	cfg '.mounts = [.mounts[] | if .destination == "/sys" then {destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"]} else . end]'
	urt "$SPROUT" run -b "$BUNDLE" "$CID"
	expect_ok "run with a sysfs mount" || return
	expect_eq "$OUT" sys-ok "/sys (bound from the host when sysfs cannot be mounted)"
	rl_leftovers
	forget "$CID"
}
t "sysfs that cannot be mounted is bound from the host" t_sysfs_fallback

t_overlay_timens() {
	rl_container sh -c 'cut -d. -f1 /proc/uptime; echo x > /written && echo wrote'
	cfg '.root.readonly = false | .linux.namespaces += [{type: "time"}] |
	     .linux.timeOffsets = {boottime: {secs: 500000000, nanosecs: 0}}'
	urt "$SPROUT" run --overlay -b "$BUNDLE" "$CID"
	expect_ok "run --overlay with a time namespace as $RL_USER" || return
	local up
	up=$(head -n1 <<<"$OUT")
	[ -n "$up" ] && [ "$up" -ge 500000000 ] || fail "uptime inside: '$up'"
	expect_contains "$OUT" wrote "the write to the overlay root"
	[ ! -e "$SPROUT_FIXTURE/written" ] || fail "the write reached the image"
	rl_leftovers
	forget "$CID"
}
t "rootless: an overlay root and a time namespace" t_overlay_timens

t_cgroup_delegated() {
	[ -d /sys/fs/cgroup/pids ] || { skip "no v1 pids hierarchy"; return; }
	DELEG=/sys/fs/cgroup/pids/$MARKER
	mkdir -p "$DELEG" && chown -R "$RL_USER:" "$DELEG" || { fail "cannot delegate $DELEG"; return; }
	rl_container sh -c 'trap "exit 0" TERM; sleep 100 & wait'
	cfg '.linux.cgroupsPath = $p' --arg p "/$MARKER/$CID"
	urt "$SPROUT" --debug create -b "$BUNDLE" "$CID"
	expect_ok "create with a delegated pids cgroup" || return
	expect_contains "$ERR" "not delegated" "a debug line for the hierarchies skipped"
	urt "$SPROUT" state "$CID"
	local pid
	pid=$(jq -r .pid <<<"$OUT")
	grep -qx "$pid" "$DELEG/$CID/cgroup.procs" 2>/dev/null ||
		fail "the init ($pid) is not in $DELEG/$CID"
	[ ! -e "/sys/fs/cgroup/memory/$MARKER" ] || fail "a memory cgroup was made"
	urt "$SPROUT" delete --force "$CID"
	expect_ok "delete" || return
	[ ! -e "$DELEG/$CID" ] || fail "the cgroup $DELEG/$CID is left"
	rl_leftovers
	forget "$CID"
}
t "cgroups: used where delegated to the user, skipped elsewhere" t_cgroup_delegated

t_rootless_flag() {
	local v
	for v in true false auto; do
		rt_noroot --rootless "$v" --root "$ROOT" list -q
		expect_ok "--rootless $v"
	done
	rt_noroot --rootless maybe list
	expect_failure "--rootless maybe" || return
	expect_contains "$ERR" "--rootless" "the error names the flag"
}
t "--rootless true|false|auto is accepted, anything else refused" t_rootless_flag

done_testing
