#!/bin/bash
# Integration tests: cgroups on this host — v1 controllers with cgroup2 at
# /sys/fs/cgroup/unified (hybrid), or whatever the host has: placement in
# every hierarchy, cgroupsPath forms, the limits written to the v1 files
# (and enforced where the host allows it without touching its own groups:
# devices, memory, pids, freezer), update, pause/resume, ps, events, the
# disabled manager, and that delete leaves no cgroup directory.
#
# Only cgroups the tests create are limited; nothing else is touched.  The
# same kind of tests on a real cgroup-v2 kernel run in tests/vm/.
. "$(dirname "$0")/lib.sh"

CG=/sys/fs/cgroup
MODE=v1
if [ "$(stat -f -c %T $CG)" = cgroup2fs ]; then
	MODE=v2
elif [ -d $CG/unified ] && [ "$(stat -f -c %T $CG/unified)" = cgroup2fs ]; then
	MODE=hybrid
fi

# hier CTL: where the v1 hierarchy with controller CTL is mounted ("" none).
hier() {
	awk -v c="$1" '{ for (i = 7; $i != "-"; i++);
		if ($(i + 1) == "cgroup") { n = split($(i + 3), o, ",");
			for (k = 1; k <= n; k++) if (o[k] == c) { print $5; exit } } }' /proc/self/mountinfo
}

# cg_of PID CTL: the cgroup of PID in the hierarchy of CTL ("" for cgroup2).
cg_of() {
	awk -F: -v c="$2" '{ path = substr($0, length($1) + length($2) + 3) }
		c == "" && $1 == "0" && $2 == "" { print path; exit }
		c != "" { n = split($2, o, ","); for (k = 1; k <= n; k++) if (o[k] == c) { print path; exit } }' \
		"/proc/$1/cgroup"
}

# dir_of PID CTL: the directory of PID's cgroup in CTL's hierarchy.
dir_of() {
	if [ -z "$2" ]; then
		echo "$CG/unified$(cg_of "$1" "")"
	else
		echo "$(hier "$2")$(cg_of "$1" "$2")"
	fi
}

# start_detached: create (pid file) and start the container of BUNDLE; PID.
start_detached() {
	rt create --pid-file "$BUNDLE/pid" -b "$BUNDLE" "$CID"
	expect_ok create || return 1
	rt start "$CID"
	expect_ok start || return 1
	PID=$(cat "$BUNDLE/pid")
}

TMP_MOUNT='.mounts += [{destination: "/tmp", type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev"]}]'

if [ "$MODE" = v2 ]; then
	echo "1..0 # SKIP this host has a unified cgroup v2 hierarchy: see tests/vm"
	exit 0
fi
MEMCG=$(hier memory)
[ -n "$MEMCG" ] || bail "no v1 memory hierarchy"

# ------------------------------------------------------------ placement ---

t_placement() {
	local ctl own d
	new_container
	sleeper_args
	start_detached || return
	for ctl in memory pids cpu cpuacct cpuset devices freezer blkio; do
		[ -n "$(hier $ctl)" ] || continue
		own=$(cg_of $$ $ctl)
		[ "$own" = / ] && own=
		expect_eq "$(cg_of "$PID" $ctl)" "$own/$CID" "$ctl cgroup of the init (default path under ours)"
	done
	if [ "$MODE" = hybrid ]; then
		own=$(cg_of $$ "")
		[ "$own" = / ] && own=
		expect_eq "$(cg_of "$PID" "")" "$own/$CID" "cgroup2 (unified) cgroup of the init"
	fi
	d=$(dir_of "$PID" cpuset)
	expect_ne "$(cat "$d/cpuset.cpus")" "" "cpuset.cpus inherited (a task could join)"
	# below a balancing root the flag changes nothing: off, so that the
	# cpus write and the removal do not rebuild the scheduler domains
	if [ "$(cat "$(hier cpuset)/cpuset.sched_load_balance")" = 1 ]; then
		expect_eq "$(cat "$d/cpuset.sched_load_balance")" 0 "cpuset.sched_load_balance off below a balancing root"
	fi
	rt delete "$CID"
	expect_failure "delete of a running container"
	rt delete --force "$CID"
	expect_ok "delete --force"
	for ctl in memory pids cpu devices; do
		[ -e "$(hier $ctl)$(cg_of $$ $ctl | sed 's|^/$||')/$CID" ] &&
			fail "$ctl cgroup still there after delete"
	done
	leftovers_after "$CID"
}
t "placement: the init is in ID under our own cgroup in every hierarchy, as with runc" t_placement

# Someone else's cgroup of the container's name below ours, with a process
# in it, in the hierarchies CTL... ("" the cgroup2 one): the default path
# would be that cgroup.  runc 1.1 joins it (and its delete kills what is
# in it); sprout refuses, names it and touches nothing in it.  When only
# v1 hierarchies have it (the second test), the refusal comes after clone3:
# the unified directory is made first and the v1 ones while the init
# mounts, so a part of the container is there and must go without it.
foreign_cgroup() { # CTL...
	local ctl d dirs=() sleeper
	new_container
	sleep 1000 &
	sleeper=$!
	for ctl in "$@"; do
		d=$(dir_of $$ "$ctl")
		d=${d%/}/$CID
		mkdir "$d" || { fail "mkdir $d"; break; }
		dirs+=("$d")
		if [ "$ctl" = cpuset ]; then
			cat "${d%/*}/cpuset.cpus" >"$d/cpuset.cpus"
			cat "${d%/*}/cpuset.mems" >"$d/cpuset.mems"
		fi
		echo "$sleeper" >"$d/cgroup.procs" || fail "move the sleeper into $d"
	done
	rt run -b "$BUNDLE" "$CID"
	expect_failure "run with the id of a populated cgroup"
	expect_contains "$ERR" "exists and has processes in it" "error names the reason"
	expect_contains "$ERR" "/$CID" "error names the cgroup"
	kill -0 "$sleeper" 2>/dev/null || fail "the other cgroup's process was killed"
	for d in "${dirs[@]}"; do
		[ -d "$d" ] || fail "the other cgroup $d was removed"
		grep -qx "$sleeper" "$d/cgroup.procs" || fail "the other cgroup's process left $d"
	done
	kill "$sleeper"
	wait "$sleeper" 2>/dev/null
	for d in "${dirs[@]}"; do
		rmdir "$d" || fail "rmdir $d"
	done
	leftovers_after "$CID"
}
t_foreign_all() {
	if [ "$MODE" = hybrid ]; then
		foreign_cgroup "" pids memory cpuset
	else
		foreign_cgroup pids memory cpuset
	fi
}
t "an id naming someone else's cgroup with processes (every hierarchy): refused, nothing of it touched" t_foreign_all
t_foreign_v1() { foreign_cgroup "pids"; }
t "... in one v1 hierarchy only (refused after clone3): the container goes, the other cgroup stays" t_foreign_v1

t_paths() {
	local base=sprout-it-$$ d
	new_container
	sleeper_args
	cfg '.linux.cgroupsPath = $p' --arg p "/$base/a/$CID"
	start_detached || return
	expect_eq "$(cg_of "$PID" pids)" "/$base/a/$CID" "absolute path (pids)"
	expect_eq "$(cg_of "$PID" devices)" "/$base/a/$CID" "absolute path (devices)"
	rt delete --force "$CID"
	for d in $CG/*/$base; do
		[ -e "$d" ] && fail "delete left $d (parents sprout made)"
	done
	leftovers_after "$CID"

	new_container
	sleeper_args
	# every '-' of a slice name is a level: a-b.slice is a.slice/a-b.slice
	cfg '.linux.cgroupsPath = $p' --arg p "sproutit$$-x.slice:sprout:$CID"
	start_detached || return
	expect_eq "$(cg_of "$PID" pids)" "/sproutit$$.slice/sproutit$$-x.slice/sprout-$CID.scope" \
		"slice:prefix:name (pids)"
	rt delete --force "$CID"
	[ -e "$(hier pids)/sproutit$$.slice" ] && fail "delete left the slices it made"
	leftovers_after "$CID"

	new_container
	sleeper_args
	cfg '.linux.cgroupsPath = "rel/x"'
	start_detached || return
	own=$(cg_of $$ memory)
	[ "$own" = / ] && own=
	expect_eq "$(cg_of "$PID" memory)" "$own/rel/x" "relative path: under our own memory cgroup"
	rt delete --force "$CID"
	leftovers_after "$CID"

	new_container
	cfg '.linux.cgroupsPath = "/a/../../escape"'
	rt create -b "$BUNDLE" "$CID"
	expect_failure "cgroupsPath with .."
	expect_contains "$ERR" '".."' "error names the .. component"
	forget "$CID"
	leftovers "$CID"
}
t "cgroupsPath: absolute, slice:prefix:name, relative; .. refused; delete removes the parents it made" t_paths

# --------------------------------------------------------------- limits ---

t_v1_files() {
	local m
	new_container
	sleeper_args
	cfg '.linux.resources = {
		memory: {limit: 104857600, reservation: 52428800, swap: 209715200, swappiness: 10},
		cpu: {shares: 512, quota: 50000, period: 100000, cpus: "0"},
		pids: {limit: 42}}'
	start_detached || return
	m=$(dir_of "$PID" memory)
	expect_eq "$(cat "$m/memory.limit_in_bytes")" 104857600 memory.limit_in_bytes
	expect_eq "$(cat "$m/memory.soft_limit_in_bytes")" 52428800 "memory.soft_limit_in_bytes (reservation)"
	[ -e "$m/memory.memsw.limit_in_bytes" ] &&
		expect_eq "$(cat "$m/memory.memsw.limit_in_bytes")" 209715200 "memory.memsw.limit_in_bytes (swap)"
	expect_eq "$(cat "$m/memory.swappiness")" 10 memory.swappiness
	expect_eq "$(cat "$(dir_of "$PID" cpu)/cpu.shares")" 512 cpu.shares
	expect_eq "$(cat "$(dir_of "$PID" cpu)/cpu.cfs_quota_us")" 50000 cpu.cfs_quota_us
	expect_eq "$(cat "$(dir_of "$PID" cpu)/cpu.cfs_period_us")" 100000 cpu.cfs_period_us
	expect_eq "$(cat "$(dir_of "$PID" cpuset)/cpuset.cpus")" 0 cpuset.cpus
	expect_eq "$(cat "$(dir_of "$PID" pids)/pids.max")" 42 pids.max
	expect_contains "$(cat "$(dir_of "$PID" devices)/devices.list")" "c 1:3 rwm" "devices.list has /dev/null"
	expect_no_match "$(cat "$(dir_of "$PID" devices)/devices.list")" "^a " "devices.list does not allow all"
	rt delete --force "$CID"
	leftovers_after "$CID"
}
t "v1: memory, swap, swappiness, cpu, cpuset, pids and devices files" t_v1_files

t_hugetlb_unified() {
	[ "$MODE" = hybrid ] || { skip "not a hybrid host"; return; }
	grep -qw hugetlb $CG/unified/cgroup.controllers || { skip "no hugetlb in cgroup2"; return; }
	[ -n "$(hier hugetlb)" ] && { skip "hugetlb is a v1 controller here"; return; }
	new_container
	sleeper_args
	cfg '.linux.resources.hugepageLimits = [{pageSize: "2MB", limit: 4194304}]'
	start_detached || return
	expect_eq "$(cat "$(dir_of "$PID" "")/hugetlb.2MB.max")" 4194304 \
		"hugetlb.2MB.max in cgroup2 (no v1 hugetlb hierarchy)"
	rt delete --force "$CID"
	leftovers_after "$CID"
}
t "hybrid: hugepageLimits go to cgroup2 when no v1 hierarchy has hugetlb" t_hugetlb_unified

t_devices_enforced() {
	new_container
	cfg '.linux.devices = [{path: "/dev/kmsg", type: "c", major: 1, minor: 11, fileMode: 438}]'
	set_args sh -c 'if echo "<7>sprout-it" >/dev/kmsg; then echo w=ok; else echo w=denied; fi
		echo "zero=$(head -c 3 /dev/zero | wc -c)"' "$CID"
	rt run -b "$BUNDLE" "$CID"
	expect_ok run || return
	expect_eq "$(pv w)" denied "c 1:11 without an allow rule"
	expect_contains "$ERR" "Operation not permitted" "the open error"
	expect_eq "$(pv zero)" 3 "/dev/zero reads"
	forget "$CID"
	new_container
	cfg '.linux.devices = [{path: "/dev/kmsg", type: "c", major: 1, minor: 11, fileMode: 438}]
		| .linux.resources.devices += [{allow: true, type: "c", major: 1, minor: 11, access: "w"}]'
	set_args sh -c 'if echo "<7>sprout-it" >/dev/kmsg; then echo w=ok; else echo w=denied; fi' "$CID"
	rt run -b "$BUNDLE" "$CID"
	expect_ok run || return
	expect_eq "$(pv w)" ok "c 1:11 w with an allow rule"
	forget "$CID"
	leftovers_after "$CID"
}
t "devices: denied unless a rule allows it (v1 devices controller)" t_devices_enforced

t_memory_oom() {
	local ev i m
	new_container
	cfg "$TMP_MOUNT | .linux.resources.memory = {limit: 33554432}"
	set_args sh -c 'dd if=/dev/zero of=/dev/null bs=48M count=1 2>/dev/null; echo "first=$?" >/tmp/r
		while [ ! -e /tmp/go ]; do sleep 0.1; done
		dd if=/dev/zero of=/dev/null bs=48M count=1 2>/dev/null; echo "second=$?" >>/tmp/r
		exec sleep 100' "$CID"
	rt create --pid-file "$BUNDLE/pid" -b "$BUNDLE" "$CID"
	expect_ok create || return
	PID=$(cat "$BUNDLE/pid")
	m=$(dir_of "$PID" memory)
	ev=$TMPDIR_IT/events.$CID
	timeout 60 "$SPROUT" --root "$ROOT" events --interval 30s "$CID" >"$ev" 2>&1 &
	HELPER_PIDS+=($!)
	rt start "$CID"
	expect_ok start || return
	wait_file "/proc/$PID/root/tmp/r" 20 first= || { fail "the first hog did not finish"; return; }
	expect_eq "$(pv first "$(cat "/proc/$PID/root/tmp/r")")" 137 "a 48 MiB hog under a 32 MiB limit is SIGKILLed"
	for ((i = 0; i < 30; i++)); do
		grep -q '"type":"oom"' "$ev" && break
		sleep 0.1
	done
	expect_contains "$(cat "$ev")" "{\"type\":\"oom\",\"id\":\"$CID\"}" "events reports the OOM kill"
	rt update --memory 128m --memory-swap 256m "$CID"
	expect_ok "update --memory 128m --memory-swap 256m"
	expect_eq "$(cat "$m/memory.limit_in_bytes")" 134217728 "memory.limit_in_bytes after update"
	touch "/proc/$PID/root/tmp/go"
	wait_file "/proc/$PID/root/tmp/r" 20 second= || { fail "the second hog did not finish"; return; }
	expect_eq "$(pv second "$(cat "/proc/$PID/root/tmp/r")")" 0 "the same hog after update"
	rt delete --force "$CID"
	leftovers_after "$CID"
}
t "memory (v1): a hog is OOM-killed at the limit, events says oom, update raises it" t_memory_oom

t_update() {
	local m p c
	new_container
	sleeper_args
	cfg '.linux.resources = {memory: {limit: 67108864, swap: 67108864}, pids: {limit: 20}}'
	start_detached || return
	m=$(dir_of "$PID" memory) p=$(dir_of "$PID" pids) c=$(dir_of "$PID" cpu)
	rt update --pids-limit 30 --cpu-share 256 --cpu-quota 20000 --cpu-period 50000 "$CID"
	expect_ok "update of pids and cpu"
	expect_eq "$(cat "$p/pids.max")" 30 "pids.max after update"
	expect_eq "$(cat "$c/cpu.shares")" 256 "cpu.shares after update"
	expect_eq "$(cat "$c/cpu.cfs_quota_us")" 20000 "cpu.cfs_quota_us after update"
	expect_eq "$(cat "$c/cpu.cfs_period_us")" 50000 "cpu.cfs_period_us after update"
	printf '{"pids": {"limit": 40}, "memory": {"limit": 33554432}}' | {
		_IO_COUNTER=$((_IO_COUNTER + 1))
		timeout 30 "$SPROUT" --root "$ROOT" update --resources - "$CID" >"$TMPDIR_IT/io/u.out" 2>&1
		echo $? >"$TMPDIR_IT/io/u.rc"
	}
	expect_eq "$(cat "$TMPDIR_IT/io/u.rc")" 0 "update --resources - (stdin)"
	expect_eq "$(cat "$p/pids.max")" 40 "pids.max after update --resources -"
	expect_eq "$(cat "$m/memory.limit_in_bytes")" 33554432 "memory limit after update --resources -"
	if [ -e "$m/memory.memsw.limit_in_bytes" ]; then
		rt update --memory 128m "$CID"
		expect_failure "a memory limit above memory+swap"
		expect_sprout_error
		expect_contains "$ERR" "memory+swap limit in force" "the error explains memory+swap"
	fi
	rt update --memory 1k "$CID"
	expect_failure "a memory limit below what the container uses"
	rt update --memory lots "$CID"
	expect_failure "--memory lots"
	expect_contains "$ERR" "--memory" "the error names the flag"
	rt update --resources "$BUNDLE/pid" --memory 1g "$CID"
	expect_failure "--resources with other flags"
	rt update "$CID"
	expect_failure "update with nothing to change"
	rt delete --force "$CID"
	rt update --pids-limit 5 "$CID"
	expect_failure "update of a deleted container"
	leftovers_after "$CID"
}
t "update: flags and --resources - change the v1 files; bad values are refused" t_update

t_pause_ps() {
	local f a b
	new_container
	cfg "$TMP_MOUNT"
	set_args sh -c 'i=0; while :; do i=$((i+1)); echo $i >/tmp/c; sleep 0.05; done' "$CID"
	start_detached || return
	wait_file "/proc/$PID/root/tmp/c" 10 || { fail "no counter"; return; }
	rt pause "$CID"
	expect_ok pause || return
	state "$CID"
	expect_eq "$STATUS" paused "state after pause"
	f=$(dir_of "$PID" freezer)
	[ -n "$(hier freezer)" ] && expect_eq "$(cat "$f/freezer.state")" FROZEN freezer.state
	a=$(cat "/proc/$PID/root/tmp/c")
	sleep 0.5
	b=$(cat "/proc/$PID/root/tmp/c")
	expect_eq "$b" "$a" "counter while paused"
	rt ps --format json "$CID"
	expect_ok "ps --format json"
	expect_eq "$(jq -c 'sort' <<<"$OUT")" "$(cat "$(dir_of "$PID" pids)/cgroup.procs" | sort -n | jq -cs .)" \
		"ps json = cgroup.procs"
	expect_contains "$(jq -c . <<<"$OUT")" "$PID" "ps json has the init"
	rt ps "$CID"
	expect_ok ps
	expect_match "$(head -n1 <<<"$OUT")" "^UID +PID +PPID +C +STIME +TTY +TIME +CMD$" "ps table header"
	expect_match "$OUT" "root +$PID +[0-9]+ .*sh -c i=0" "ps table row of the init"
	rt ps "$CID" -ef
	expect_failure "ps with ps(1) options"
	rt resume "$CID"
	expect_ok resume
	state "$CID"
	expect_eq "$STATUS" running "state after resume"
	sleep 0.5
	b=$(cat "/proc/$PID/root/tmp/c")
	[ "$b" -gt "$a" ] || fail "the counter did not move after resume ($a -> $b)"
	rt resume "$CID"
	expect_failure "resume of a running container"
	expect_sprout_error
	# a frozen init dies only once thawed: delete --force must not wait for it
	rt pause "$CID"
	expect_ok "pause again"
	local t0=$SECONDS
	rt delete --force "$CID"
	expect_ok "delete --force of a paused container"
	[ $((SECONDS - t0)) -le 3 ] || fail "delete --force of a paused container took $((SECONDS - t0))s"
	rt pause "$CID"
	expect_failure "pause of a deleted container"
	leftovers_after "$CID"
}
t "pause freezes (state paused), resume thaws; ps lists the cgroup's processes" t_pause_ps

t_stats() {
	new_container
	sleeper_args
	cfg '.linux.resources = {memory: {limit: 67108864}, pids: {limit: 50}}'
	start_detached || return
	rt events --stats "$CID"
	expect_ok "events --stats" || return
	expect_eq "$(jq -c '[.type, .id, .data.memory.usage.limit, .data.pids.limit, .data.pids.current,
		(.data.memory.usage.usage > 0), (.data.cpu | has("usage")), .data.network_interfaces]' <<<"$OUT")" \
		"[\"stats\",\"$CID\",67108864,50,2,true,true,null]" \
		"[type, id, memory limit, pids limit, pids current, memory used, cpu usage, network_interfaces]"
	rt events --interval 0 "$CID"
	expect_failure "--interval 0"
	rt delete --force "$CID"
	leftovers_after "$CID"
}
t "events --stats prints runc's stats JSON from the v1 files" t_stats

# ------------------------------------------------------------- refused ---

t_refused() {
	local c
	for c in \
		'.linux.resources.network = {classID: 1048577}|.network' \
		'.linux.resources.rdma = {"mlx5_0": {hcaHandles: 3}}|.rdma' \
		'.linux.resources.unified = {"memory.high": "1000000"}|.unified.memory.high' \
		'.linux.resources.hugepageLimits = [{pageSize: "3MB", limit: 0}]|.hugepageLimits[0].pageSize' \
		'.linux.resources.memory = {limit: 1000000, swap: 100}|.memory.swap'; do
		new_container
		cfg "${c%|*}"
		rt create -b "$BUNDLE" "$CID"
		if [ "$RC" = 0 ]; then
			# this host may have the controller after all
			case ${c#*|} in .network | .rdma) rt delete --force "$CID"; continue ;; esac
		fi
		expect_failure "create with ${c%|*}"
		expect_sprout_error
		expect_contains "$ERR" ".linux.resources${c#*|}" "error names the field"
		forget "$CID"
		leftovers "$CID"
	done
}
t "limits this host cannot honour fail create, naming the field, leaving nothing" t_refused

# ------------------------------------------------------ cgroup inside ---

t_cgroup_mount() {
	local opts
	for opts in ro rw; do
		new_container
		cfg '.mounts = [.mounts[] | if .type == "cgroup" then .options = ["nosuid", "noexec", "nodev", $o] else . end]' \
			--arg o "$opts"
		set_args sh -c 'echo "procs=$(cat /sys/fs/cgroup/pids/cgroup.procs | tr "\n" " ")"
			echo "self=$(grep :pids: /proc/self/cgroup)"
			if mkdir /sys/fs/cgroup/pids/sub 2>/dev/null; then echo mkdir=ok; else echo mkdir=denied; fi' "$CID"
		rt run -b "$BUNDLE" "$CID"
		expect_ok "run with a cgroup mount ($opts)" || return
		expect_match "$(pv self)" ":pids:/$" "/proc/self/cgroup in the cgroup namespace ($opts)"
		expect_match "$(pv procs)" "^1 " "the mount shows the container's own cgroup ($opts)"
		expect_eq "$(pv mkdir)" "$([ $opts = ro ] && echo denied || echo ok)" "mkdir in a $opts cgroup mount"
		forget "$CID"
		leftovers_after "$CID"
	done
}
t "a cgroup mount inside shows the container's own subtree, read-only unless rw" t_cgroup_mount

# The v1 hierarchies are binds of the container's own cgroup (a new mount
# of a v1 hierarchy walks every cgroup of the host): with the config's
# flags, and, without a cgroup namespace too, the container's subtree only,
# never the host's hierarchy.  The flags are set on all the mounts at once
# (mount_setattr); "old kernel" runs sprout as on a kernel without it
# (ENOSYS), where each mount is remounted.
t_cgroup_mount_bind() {
	local ns
	for ns in with without "old kernel"; do
		new_container
		[ "$ns" = without ] && del_ns cgroup
		set_args sh -c 'echo "procs=$(cat /sys/fs/cgroup/pids/cgroup.procs | tr "\n" " ")"
			echo "dirs=$(ls /sys/fs/cgroup/pids | grep -c -v "^cgroup\.\|^pids\.\|^tasks$\|^notify_on_release$")"
			echo "opts=$(awk "\$5 == \"/sys/fs/cgroup/pids\" { print \$6 }" /proc/self/mountinfo)"
			echo "top=$(awk "\$5 == \"/sys/fs/cgroup\" { print \$6 }" /proc/self/mountinfo)"' "$CID"
		if [ "$ns" = "old kernel" ]; then
			without_syscalls mount_setattr rt run -b "$BUNDLE" "$CID"
		else
			rt run -b "$BUNDLE" "$CID"
		fi
		expect_ok "run with a cgroup mount, $ns" || return
		expect_match "$(pv procs)" "^1( [0-9]+)* $" "only the container's processes in the mount ($ns)"
		expect_eq "$(pv dirs)" 0 "no other cgroup below the mount's root ($ns)"
		expect_match ",$(pv opts)," ",ro,.*nosuid,nodev,noexec," "mount flags of the bind ($ns)"
		expect_match ",$(pv top)," ",ro,.*nosuid,nodev,noexec," "mount flags of the tmpfs ($ns)"
		forget "$CID"
		leftovers_after "$CID"
	done
}
[ "$MODE" = v2 ] || t "v1 cgroup mounts show the container's subtree, with or without a cgroup namespace" t_cgroup_mount_bind

# ------------------------------------------------------------ disabled ---

t_disabled() {
	new_container
	sleeper_args
	cfg '.linux.resources = {memory: {limit: 67108864}}'
	rt --cgroup-manager disabled create --pid-file "$BUNDLE/pid" -b "$BUNDLE" "$CID"
	expect_ok "create with --cgroup-manager disabled" || return
	PID=$(cat "$BUNDLE/pid")
	expect_eq "$(cg_of "$PID" pids)" "$(cg_of $$ pids)" "the init stays in our pids cgroup"
	[ -z "$(find $CG/*/ -maxdepth 4 -type d -name "$CID" 2>/dev/null)" ] || fail "a cgroup was made"
	rt start "$CID"
	expect_ok start
	rt pause "$CID"
	expect_failure "pause without a cgroup"
	expect_contains "$ERR" "no cgroup" "pause error"
	rt update --pids-limit 3 "$CID"
	expect_failure "update without a cgroup"
	rt ps --format json "$CID"
	expect_ok "ps without a cgroup"
	expect_eq "$OUT" "[$PID]" "ps lists the init"
	rt delete --force "$CID"
	expect_ok delete
	leftovers_after "$CID"
}
t "--cgroup-manager disabled: no cgroup at all; pause/update say why" t_disabled

done_testing
