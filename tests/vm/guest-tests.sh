#!/bin/bash
# tests/vm/guest-tests.sh — cgroup v2 enforcement, run by tests/vm/run.sh
# inside a QEMU guest whose /sys/fs/cgroup is a pure cgroup2 hierarchy with
# every controller enabled at the root.  Prints TAP (tests/integration/lib.sh).
#
# Every test shows an effect, not just a file: an OOM kill at the memory
# limit (and the oom event), fork failures at pids.max, a CPU share close to
# the quota, a device the rules deny, a paused counter that stops, limits
# changed by `update` that change what the workload can do, and nothing left
# in /sys/fs/cgroup after delete.  tests/vm/guest-apparmor.sh, sourced near
# the end, adds AppArmor's positive path (the guest kernel has AppArmor).
HERE_VM=$(cd "$(dirname "$0")" && pwd)
. "$HERE_VM/../integration/lib.sh"

CG=/sys/fs/cgroup
[ "$(stat -f -c %T $CG)" = cgroup2fs ] || bail "$CG is not cgroup2 (run this inside tests/vm/run.sh)"

# Under TCG every process start costs (jq about 0.5 s): these helpers make a
# bundle with one jq call and read pids and states without jq.

TMP_MOUNT='.mounts += [{destination: "/tmp", type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev"]}]'

# bundle FILTER [ARG...]: new_id, and BUNDLE/config.json from the spec
# template in one jq call: the fixture as root, no terminal, .process.args =
# ARG... (default: a sleeper carrying the id), then FILTER.
bundle() {
	local filter=$1 jargs=() list= i=0 a
	shift
	new_id
	BUNDLE=$TMPDIR_IT/bundles/$CID
	mkdir -p "$BUNDLE"
	[ $# -gt 0 ] || set -- sh -c 'trap "exit 0" TERM; sleep 100 & wait' "$CID"
	for a in "$@"; do
		jargs+=(--arg "a$i" "$a")
		list+="${list:+,}\$a$i"
		i=$((i + 1))
	done
	jq ".root.path = \$root | .process.terminal = false | .process.args = [$list] | $filter" \
		--arg root "$SPROUT_FIXTURE" "${jargs[@]}" "$SPEC_TEMPLATE" >"$BUNDLE/config.json" ||
		fail "jq: $filter"
}

# start_detached: create (with a pid file) and start; PID and CGDIR set.
start_detached() {
	rt create --pid-file "$BUNDLE/pid" -b "$BUNDLE" "$CID"
	expect_ok create || return 1
	rt start "$CID"
	expect_ok start || return 1
	PID=$(cat "$BUNDLE/pid")
	CGDIR=$CG$(sed -n 's/^0:://p' "/proc/$PID/cgroup")
}

# status ID: the status field of `state`, in STATUS.
status() {
	rt state "$1"
	STATUS=
	[[ $OUT =~ \"status\":\ *\"([a-z]+)\" ]] && STATUS=${BASH_REMATCH[1]}
}

# timed FUNCTION: run it and print how long it took (TCG is slow: keep an eye).
timed() {
	local start=$SECONDS
	"$@"
	echo "# $1: $((SECONDS - start))s"
}

# ------------------------------------------------------------------ paths ---

# create ID's bundle, check where the init is, delete, check what is left.
path_case() {
	local want=$1 what=$2
	rt create --pid-file "$BUNDLE/pid" -b "$BUNDLE" "$CID"
	expect_ok "create with $what" || return
	expect_eq "$(cat "/proc/$(cat "$BUNDLE/pid")/cgroup")" "0::$want" "init's cgroup ($what)"
	rt delete --force "$CID"
	expect_ok delete
}

t_paths() {
	bundle ".linux.cgroupsPath = \"/sprout-vm/abs-it-$$\""
	path_case "/sprout-vm/abs-it-$$" "an absolute cgroupsPath"
	[ ! -e $CG/sprout-vm ] || fail "delete left $CG/sprout-vm (a parent sprout made)"
	bundle ".linux.cgroupsPath = \"machine.slice:sprout:it-$$\""
	path_case "/machine.slice/sprout-it-$$.scope" "the slice:prefix:name form"
	[ ! -e $CG/machine.slice ] || fail "delete left $CG/machine.slice"
	bundle .
	rt --debug create --pid-file "$BUNDLE/pid" -b "$BUNDLE" "$CID"
	expect_ok "create (default path, --debug)" || return
	expect_contains "$ERR" "born in $CG/$CID (CLONE_INTO_CGROUP)" "clone3 into the cgroup"
	expect_eq "$(cat "/proc/$(cat "$BUNDLE/pid")/cgroup")" "0::/$CID" "init's cgroup (default path)"
	rt delete --force "$CID"
	leftovers_after "$CID"
}
t "cgroupsPath: absolute, slice:prefix:name and default; init born there; delete removes what it made" timed t_paths

# ------------------------------------------------------------ conversions ---

t_files() {
	local d
	bundle '.linux.resources = {
		memory: {limit: 67108864, reservation: 33554432, swap: 100663296},
		cpu: {shares: 1024, quota: 50000, period: 200000, cpus: "0", mems: "0"},
		pids: {limit: 42},
		blockIO: {weight: 500},
		hugepageLimits: [{pageSize: "2MB", limit: 0}],
		unified: {"memory.high": "62914560"}}'
	start_detached || return
	d=$CGDIR
	expect_eq "$(cat "$d/memory.max")" 67108864 memory.max
	expect_eq "$(cat "$d/memory.low")" 33554432 "memory.low (reservation)"
	expect_eq "$(cat "$d/memory.swap.max")" 33554432 "memory.swap.max (swap - limit)"
	expect_eq "$(cat "$d/memory.high")" 62914560 "memory.high (unified)"
	expect_eq "$(cat "$d/cpu.weight")" 39 "cpu.weight (shares 1024)"
	expect_eq "$(cat "$d/cpu.max")" "50000 200000" cpu.max
	expect_eq "$(cat "$d/cpuset.cpus")" 0 cpuset.cpus
	expect_eq "$(cat "$d/pids.max")" 42 pids.max
	expect_eq "$(cat "$d/hugetlb.2MB.max")" 0 hugetlb.2MB.max
	if [ -e "$d/io.bfq.weight" ]; then
		expect_match "$(cat "$d/io.bfq.weight")" "default 500" io.bfq.weight
	else
		expect_match "$(cat "$d/io.weight")" "default 4950" "io.weight (blkio 500)"
	fi
	rt delete --force "$CID"
	leftovers_after "$CID"
}
t "linux.resources written with runc's conversions (weight, swap, io, hugetlb, unified)" timed t_files

t_refused() {
	local i=0 field line
	local -a fields=(.memory.disableOOMKiller .cpu.realtimeRuntime .memory.swappiness
		.unified.nosuch.file .unified.memory.nosuchfile .memory.swap)
	bundle .
	# one jq call for every case (each costs half a second under TCG)
	jq -c '. as $b | [
		{memory: {disableOOMKiller: true}}, {cpu: {realtimeRuntime: 1000}},
		{memory: {swappiness: 10}}, {unified: {"nosuch.file": "1"}},
		{unified: {"memory.nosuchfile": "1"}}, {memory: {swap: 1000000}}
		][] as $r | $b | .linux.resources = $r' "$BUNDLE/config.json" >"$BUNDLE/cases"
	while IFS= read -r line; do
		field=${fields[i]}
		i=$((i + 1))
		printf '%s\n' "$line" >"$BUNDLE/config.json"
		rt create -b "$BUNDLE" "$CID"
		expect_failure "create with .linux.resources$field set"
		expect_sprout_error
		expect_contains "$ERR" ".linux.resources$field" "error names the field"
	done <"$BUNDLE/cases"
	expect_eq "$i" "${#fields[@]}" "cases run"
	forget "$CID"
	leftovers "$CID"
}
t "values cgroup v2 cannot honour fail create, naming the field, leaving nothing" timed t_refused

# ---------------------------------------------------------------- memory ---

t_memory_oom() {
	local ev i
	# the first hog (48 MiB) must die; after update the second one fits
	bundle "$TMP_MOUNT | .linux.resources.memory = {limit: 33554432}" sh -c '
		dd if=/dev/zero of=/dev/null bs=48M count=1 2>/dev/null; echo "first=$?" >/tmp/r
		while [ ! -e /tmp/go ]; do sleep 0.1; done
		dd if=/dev/zero of=/dev/null bs=48M count=1 2>/dev/null; echo "second=$?" >>/tmp/r
		exec sleep 100' "$CID"
	rt create --pid-file "$BUNDLE/pid" -b "$BUNDLE" "$CID"
	expect_ok create || return
	PID=$(cat "$BUNDLE/pid")
	CGDIR=$CG$(sed -n 's/^0:://p' "/proc/$PID/cgroup")
	ev=$TMPDIR_IT/events.$CID
	timeout 120 "$SPROUT" --root "$ROOT" events --interval 60s "$CID" >"$ev" 2>&1 &
	HELPER_PIDS+=($!)
	rt start "$CID"
	expect_ok start || return
	wait_file "/proc/$PID/root/tmp/r" 30 first= || { fail "the first hog did not finish"; return; }
	expect_eq "$(pv first "$(cat "/proc/$PID/root/tmp/r")")" 137 "48 MiB hog under a 32 MiB limit is SIGKILLed"
	expect_ne "$(sed -n 's/^oom_kill //p' "$CGDIR/memory.events")" 0 "memory.events oom_kill"
	for ((i = 0; i < 50; i++)); do
		grep -q '"type":"oom"' "$ev" && break
		sleep 0.1
	done
	expect_contains "$(cat "$ev")" "{\"type\":\"oom\",\"id\":\"$CID\"}" "events reports the OOM kill"
	rt update --memory 128m "$CID"
	expect_ok "update --memory 128m"
	expect_eq "$(cat "$CGDIR/memory.max")" 134217728 "memory.max after update"
	touch "/proc/$PID/root/tmp/go"
	wait_file "/proc/$PID/root/tmp/r" 30 second= || { fail "the second hog did not finish"; return; }
	expect_eq "$(pv second "$(cat "/proc/$PID/root/tmp/r")")" 0 "the same hog after update to 128 MiB"
	# checkBeforeUpdate refuses a limit below the usage
	printf '{"memory": {"limit": 4096, "checkBeforeUpdate": true}}' >"$TMPDIR_IT/res.json"
	rt update --resources "$TMPDIR_IT/res.json" "$CID"
	expect_failure "update below the usage with checkBeforeUpdate"
	expect_contains "$ERR" "below the current usage" "checkBeforeUpdate message"
	expect_eq "$(cat "$CGDIR/memory.max")" 134217728 "memory.max after the refused update"
	rt delete --force "$CID"
	leftovers_after "$CID"
}
t "memory: a hog is OOM-killed at the limit, events says oom, update raises it with effect" timed t_memory_oom

# ------------------------------------------------------------------ pids ---

t_pids() {
	local cur
	# the inner shell forks until it cannot (and then gives up)
	bundle "$TMP_MOUNT | .linux.resources.pids = {limit: 8}" sh -c '
		sh -c "while :; do sleep 60 & done" 2>/tmp/err; echo done >/tmp/done; exec sleep 60' "$CID"
	start_detached || return
	wait_file "/proc/$PID/root/tmp/done" 20 || { fail "the fork bomb did not stop"; return; }
	expect_contains "$(cat "/proc/$PID/root/tmp/err")" "can't fork" "the fork bomb's error"
	cur=$(cat "$CGDIR/pids.current")
	[ "$cur" -le 8 ] && [ "$cur" -ge 6 ] || fail "pids.current under a fork bomb with pids.max 8: $cur"
	expect_ne "$(sed -n 's/^max //p' "$CGDIR/pids.events")" 0 "pids.events max (forks refused)"
	rt ps --format json "$CID"
	expect_ok ps
	expect_eq "$(jq length <<<"$OUT")" "$cur" "ps lists the processes of pids.current"
	rt update --pids-limit 12 "$CID"
	expect_ok "update --pids-limit 12"
	expect_eq "$(cat "$CGDIR/pids.max")" 12 "pids.max after update"
	rt delete --force "$CID"
	leftovers_after "$CID"
}
t "pids: a fork bomb stops at pids.max; ps sees them; update raises the limit" timed t_pids

# ------------------------------------------------------------------- cpu ---

# cpu_pct SECONDS: the container's CPU use over SECONDS, in % of one CPU.
cpu_pct() {
	local u0 u1 t0 t1
	u0=$(sed -n 's/^usage_usec //p' "$CGDIR/cpu.stat") t0=${EPOCHREALTIME/./}
	sleep "$1"
	u1=$(sed -n 's/^usage_usec //p' "$CGDIR/cpu.stat") t1=${EPOCHREALTIME/./}
	echo $(((u1 - u0) * 100 / (t1 - t0)))
}

t_cpu() {
	local pct
	bundle '.linux.resources.cpu = {quota: 20000, period: 100000}' sh -c 'while :; do :; done' "$CID"
	start_detached || return
	sleep 0.3
	pct=$(cpu_pct 2)
	echo "# cpu use under quota 20000/100000: $pct%"
	[ "$pct" -ge 10 ] && [ "$pct" -le 30 ] || fail "CPU use under a 20% quota: $pct%"
	expect_ne "$(sed -n 's/^nr_throttled //p' "$CGDIR/cpu.stat")" 0 "nr_throttled"
	rt update --cpu-quota 50000 "$CID"
	expect_ok "update --cpu-quota 50000"
	expect_eq "$(cat "$CGDIR/cpu.max")" "50000 100000" "cpu.max after update"
	pct=$(cpu_pct 2)
	echo "# cpu use under quota 50000/100000: $pct%"
	[ "$pct" -ge 38 ] && [ "$pct" -le 62 ] || fail "CPU use under a 50% quota: $pct%"
	rt delete --force "$CID"
	leftovers_after "$CID"
}
t "cpu: a spinner gets about its quota, before and after update" timed t_cpu

# --------------------------------------------------------------- devices ---

t_devices() {
	local kmsg='.linux.devices = [{path: "/dev/kmsg", type: "c", major: 1, minor: 11, fileMode: 438}]'
	local probe='for m in w r; do
		if [ $m = w ]; then echo "<7>sprout" >/dev/kmsg; else head -c 1 /dev/kmsg >/dev/null; fi &&
			echo "$m=ok" || echo "$m=denied"; done; echo "zero=$(head -c 3 /dev/zero | wc -c)"'
	bundle "$kmsg" sh -c "$probe" "$CID"
	rt run -b "$BUNDLE" "$CID"
	expect_ok run || return
	expect_eq "$(pv w)" denied "write c 1:11 without a rule (deny by default)"
	expect_contains "$ERR" "Operation not permitted" "the open error"
	expect_eq "$(pv zero)" 3 "/dev/zero (a default device) reads"
	forget "$CID"

	bundle "$kmsg | .linux.resources.devices += [{allow: true, type: \"c\", major: 1, minor: 11, access: \"w\"}]" \
		sh -c "$probe" "$CID"
	rt run -b "$BUNDLE" "$CID"
	expect_ok run || return
	expect_eq "$(pv w)" ok "write c 1:11 with an allow w rule"
	expect_eq "$(pv r)" denied "read c 1:11 with an allow w rule"
	forget "$CID"
	leftovers_after "$CID"

	# update --resources with device rules replaces the program
	bundle "$TMP_MOUNT | $kmsg" sh -c 'while :; do
		if echo "<7>sprout" >/dev/kmsg 2>/dev/null; then echo ok >/tmp/w; else echo denied >/tmp/w; fi
		sleep 0.1; done' "$CID"
	start_detached || return
	wait_file "/proc/$PID/root/tmp/w" 10 denied || fail "write c 1:11 before update: not denied"
	printf '{"devices": [{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 1, "minor": 11, "access": "w"}]}' \
		>"$BUNDLE/devices.json"
	rt update --resources "$BUNDLE/devices.json" "$CID"
	expect_ok "update --resources with device rules"
	wait_file "/proc/$PID/root/tmp/w" 10 ok || fail "write c 1:11 after update: still denied"
	rt delete --force "$CID"
	leftovers_after "$CID"
}
t "devices: a BPF program denies what the rules do not allow, allows what they do; update replaces it" timed t_devices

# ------------------------------------------------------------ pause, ps ---

t_pause() {
	local a b
	# the counter is renamed into place: a freeze between the truncation
	# and the write of "echo >" would leave an empty file to read
	bundle "$TMP_MOUNT" sh -c 'i=0; while :; do i=$((i+1)); echo $i >/tmp/c.new; mv /tmp/c.new /tmp/c; sleep 0.05; done' "$CID"
	start_detached || return
	wait_file "/proc/$PID/root/tmp/c" 10 || { fail "no counter"; return; }
	rt pause "$CID"
	expect_ok pause || return
	status "$CID"
	expect_eq "$STATUS" paused "state after pause"
	expect_eq "$(sed -n 's/^frozen //p' "$CGDIR/cgroup.events")" 1 "cgroup.events frozen"
	a=$(cat "/proc/$PID/root/tmp/c")
	sleep 1
	b=$(cat "/proc/$PID/root/tmp/c")
	expect_eq "$b" "$a" "counter while paused"
	rt ps "$CID"
	expect_ok ps
	expect_match "$(head -n1 <<<"$OUT")" "^UID +PID +PPID +C +STIME +TTY +TIME +CMD" "ps table header"
	expect_match "$OUT" "root +$PID +[0-9]+ .* sh -c i=0" "ps lists the init"
	rt pause "$CID"
	expect_failure "pause of a paused container"
	rt resume "$CID"
	expect_ok resume
	status "$CID"
	expect_eq "$STATUS" running "state after resume"
	sleep 1
	b=$(cat "/proc/$PID/root/tmp/c")
	[ "$b" -gt "$a" ] || fail "counter did not move after resume ($a -> $b)"
	rt resume "$CID"
	expect_failure "resume of a running container"
	rt delete --force "$CID"
	leftovers_after "$CID"
}
t "pause stops progress (state paused), resume restarts it; ps lists the processes" timed t_pause

# ------------------------------------------------------- events --stats ---

t_stats() {
	bundle '.linux.resources = {memory: {limit: 67108864}, pids: {limit: 50}}'
	start_detached || return
	rt events --stats "$CID"
	expect_ok "events --stats" || return
	expect_eq "$(jq -c '[.type, .id, .data.memory.usage.limit, .data.pids.limit, .data.pids.current,
		(.data.memory.usage.usage > 0), (.data.cpu.usage.total > 0)]' <<<"$OUT")" \
		"[\"stats\",\"$CID\",67108864,50,2,true,true]" \
		"[type, id, memory limit, pids limit, pids current, memory used, cpu used]"
	rt delete --force "$CID"
	leftovers_after "$CID"
}
t "events --stats prints runc's stats JSON (cpu, memory, pids)" timed t_stats

# --------------------------------------------------- cgroup inside ---

t_cgroup_mount() {
	bundle . sh -c 'echo "procs=$(cat /sys/fs/cgroup/cgroup.procs | tr "\n" " ")"
		echo "self=$(cat /proc/self/cgroup)"
		if mkdir /sys/fs/cgroup/sub 2>/dev/null; then echo mkdir=ok; else echo mkdir=denied; fi' "$CID"
	rt run -b "$BUNDLE" "$CID"
	expect_ok run || return
	expect_eq "$(pv self)" "0::/" "/proc/self/cgroup in the cgroup namespace"
	expect_match "$(pv procs)" "^1 " "the mount shows the container's own cgroup (pid 1 in it)"
	expect_eq "$(pv mkdir)" denied "read-only cgroup mount"
	forget "$CID"
	leftovers_after "$CID"
}
t "a cgroup mount inside shows the container's own subtree, read-only" timed t_cgroup_mount

# -------------------------------------------------------------- AppArmor ---

. "$HERE_VM/guest-apparmor.sh"

# ------------------------------------------------------------------ end ---

t_nothing_left() {
	local found
	[ ! -e $CG/sprout ] || fail "$CG/sprout is still there: $(find $CG/sprout -mindepth 1 -type d)"
	found=$(find $CG -mindepth 1 -type d -name "it-*" 2>/dev/null)
	[ -z "$found" ] || fail "leftover cgroups: $found"
}
t "after the last delete, no cgroup directory of sprout is left" timed t_nothing_left

done_testing
