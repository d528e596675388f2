#!/bin/bash
# Process security: capabilities (five sets), rlimits, oomScoreAdj,
# personality, scheduler, ioPriority, execCPUAffinity, sysctl, keyring,
# masked paths, LSM labels, seccomp (errno, kill, trap, trace, log, args,
# Docker's profile, notify, the compiled-profile cache, loaded last), and
# `sprout features`.  Facts are read from inside with sprout-probe and
# sprout-sys and compared with the config.
. "$(dirname "$0")/lib.sh"

SYS=sprout-sys
DOCKER_PROFILE=$REPO/tests/data/seccomp-default-amd64.json
[ -x "$SPROUT_FIXTURE/usr/bin/$SYS" ] || bail "fixture has no $SYS (build tests/helpers)"
AGENT=$HELPERS_DIR/sprout-seccomp-agent
[ -x "$AGENT" ] || bail "$AGENT not built"

hex() { printf '0x%x' "$((16#${1:-0}))"; }
mask() { # mask CAPNUM...: the hex of the bit set
	local m=0 c
	for c in "$@"; do m=$((m | (1 << c))); done
	printf '0x%x' "$m"
}
# bits: CHOWN 0, DAC_OVERRIDE 1, FOWNER 3, FSETID 4, KILL 5, SETGID 6,
# SETUID 7, SETPCAP 8, NET_BIND_SERVICE 10, NET_RAW 13, SYS_CHROOT 18,
# SYS_ADMIN 21, MKNOD 27, AUDIT_WRITE 29, SETFCAP 31
DOCKER14='["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FSETID","CAP_FOWNER","CAP_MKNOD","CAP_NET_RAW","CAP_SETGID","CAP_SETUID","CAP_SETFCAP","CAP_SETPCAP","CAP_NET_BIND_SERVICE","CAP_SYS_CHROOT","CAP_KILL","CAP_AUDIT_WRITE"]'

# seccomp CONFIG_JSON: set .linux.seccomp
seccomp() { cfg '.linux.seccomp = $s' --argjson s "$1"; }
allow_but() { # allow_but ACTION NAME [EXTRA_JSON]: default allow, one rule
	seccomp "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"$2\"], \"action\": \"$1\"${3:+, $3}}]}"
}

# ------------------------------------------------------- capabilities ---

t_caps_five_sets() {
	# a non-root workload keeps exactly its ambient set across execve, so
	# all five sets are visible from inside
	new_container
	cfg '.process.user = {uid: 1000, gid: 1000}
	   | .process.capabilities = {bounding: ["CAP_KILL", "CAP_NET_RAW", "CAP_CHOWN", "CAP_SETPCAP"],
	       permitted: ["CAP_KILL", "CAP_NET_RAW"], effective: ["CAP_KILL", "CAP_NET_RAW"],
	       inheritable: ["CAP_KILL", "CAP_NET_RAW"], ambient: ["CAP_KILL"]}'
	set_args sprout-probe cap_bnd cap_inh cap_amb cap_prm cap_eff
	rt run -b "$BUNDLE" "$CID"
	expect_ok run || return
	expect_eq "$(hex "$(pv cap_bnd)")" "$(mask 5 13 0 8)" "CapBnd"
	expect_eq "$(hex "$(pv cap_inh)")" "$(mask 5 13)" "CapInh"
	expect_eq "$(hex "$(pv cap_amb)")" "$(mask 5)" "CapAmb"
	expect_eq "$(hex "$(pv cap_prm)")" "$(mask 5)" "CapPrm (= ambient after exec)"
	expect_eq "$(hex "$(pv cap_eff)")" "$(mask 5)" "CapEff (= ambient after exec)"
	leftovers_after "$CID"
}
t "capabilities: bounding, inheritable, ambient, permitted, effective as configured" t_caps_five_sets

t_caps_docker14() {
	new_container
	cfg '.process.capabilities = {bounding: $c, effective: $c, permitted: $c}' --argjson c "$DOCKER14"
	set_args sprout-probe cap_eff cap_bnd cap_inh cap_amb
	rt run -b "$BUNDLE" "$CID"
	expect_ok "run with Docker's 14 default capabilities" || return
	local want
	want=$(mask 0 1 3 4 5 6 7 8 10 13 18 27 29 31)
	expect_eq "$(hex "$(pv cap_eff)")" "$want" "CapEff"
	expect_eq "$(hex "$(pv cap_bnd)")" "$want" "CapBnd"
	expect_eq "$(hex "$(pv cap_inh)")" 0x0 "CapInh"
	expect_eq "$(hex "$(pv cap_amb)")" 0x0 "CapAmb"
}
t "capabilities: Docker's default 14 (no CAP_SYS_RESOURCE) work" t_caps_docker14

t_caps_unknown() {
	new_container
	cfg '.process.capabilities.bounding += ["CAP_NOT_A_THING"]'
	rt create -b "$BUNDLE" "$CID"
	expect_failure "create with CAP_NOT_A_THING" || return
	expect_sprout_error
	expect_contains "$ERR" 'CAP_NOT_A_THING' "error names the capability"
	expect_contains "$ERR" '.process.capabilities.bounding[' "error names the JSON path"
	leftovers "$CID"
}
t "capabilities: an unknown name fails before anything is made, naming it" t_caps_unknown

t_caps_runtime_lacks() {
	if (( ($(awk '/^CapEff:/ { print "0x" $2 }' /proc/self/status) >> 24) & 1 )); then
		skip "this host has CAP_SYS_RESOURCE"
		return
	fi
	new_container
	cfg '.process.capabilities.bounding += ["CAP_SYS_RESOURCE"] | .process.capabilities.permitted += ["CAP_SYS_RESOURCE"] | .process.capabilities.effective += ["CAP_SYS_RESOURCE"]'
	rt run -b "$BUNDLE" "$CID"
	expect_failure "run asking for CAP_SYS_RESOURCE the runtime lacks" || return
	expect_sprout_error
	expect_contains "$ERR" CAP_SYS_RESOURCE "error names the capability (runc: 'unable to apply caps: operation not permitted')"
	leftovers_after "$CID"
}
t "capabilities: one the runtime does not hold fails naming it, nothing left" t_caps_runtime_lacks

# ----------------------------------------------------------- rlimits ---

t_rlimits_all() {
	# every RLIMIT_*: soft = hard = min(1000-ish value, the host's hard)
	local name res hard v rl='[]' want=()
	while read -r name res; do
		# fixed columns: name 26, soft 21, hard 21
		hard=$(awk -v r="$res" 'index($0, r) == 1 { h = substr($0, 48, 21); gsub(/ /, "", h); print h }' /proc/self/limits)
		[ "$hard" = unlimited ] && hard=
		case $name in
		NOFILE) v=512 ;; NPROC) v=4000 ;; STACK) v=8388608 ;;
		AS | DATA | RSS | MEMLOCK | FSIZE | MSGQUEUE) v=1073741824 ;;
		*) v=1000 ;;
		esac
		[ -n "$hard" ] && [ "$hard" -lt "$v" ] && v=$hard
		rl=$(jq -c --arg t "RLIMIT_$name" --argjson v "$v" '. + [{type: $t, soft: $v, hard: $v}]' <<<"$rl")
		want+=("$(tr 'A-Z' 'a-z' <<<"$name") $v")
	done <<'EOF'
AS Max address space
CORE Max core file size
CPU Max cpu time
DATA Max data size
FSIZE Max file size
LOCKS Max file locks
MEMLOCK Max locked memory
MSGQUEUE Max msgqueue size
NICE Max nice priority
NOFILE Max open files
NPROC Max processes
RSS Max resident set
RTPRIO Max realtime priority
RTTIME Max realtime timeout
SIGPENDING Max pending signals
STACK Max stack size
EOF
	new_container
	cfg '.process.rlimits = $r' --argjson r "$rl"
	set_args sprout-probe rlimits
	rt run -b "$BUNDLE" "$CID"
	expect_ok "run with all 16 rlimits" || return
	local w n
	for w in "${want[@]}"; do
		n=${w% *} v=${w#* }
		expect_eq "$(pv "rlimit_${n}_soft") $(pv "rlimit_${n}_hard")" "$v $v" "RLIMIT_${n^^}"
	done
}
t "rlimits: all 16 RLIMIT_* names applied (soft and hard)" t_rlimits_all

t_oom_negative() {
	if (( ($(awk '/^CapEff:/ { print "0x" $2 }' /proc/self/status) >> 24) & 1 )); then
		skip "this host has CAP_SYS_RESOURCE: oom_score_adj can be lowered"
		return
	fi
	local cur
	cur=$(cat /proc/self/oom_score_adj)
	new_container
	cfg '.process.oomScoreAdj = $v' --argjson v $((cur - 100 < -1000 ? -1000 : cur - 100))
	rt run -b "$BUNDLE" "$CID"
	expect_failure "run lowering oom_score_adj without CAP_SYS_RESOURCE" || return
	expect_sprout_error
	expect_contains "$ERR" oom_score_adj "error names oom_score_adj"
	leftovers_after "$CID"
}
t "oomScoreAdj below the runtime's own fails cleanly (no CAP_SYS_RESOURCE)" t_oom_negative

t_oom_userns() {
	# in a user namespace the init's /proc/self files are not its own once
	# it is uid 0 there; runc sets the value all the same
	new_container
	add_userns
	cfg '.process.oomScoreAdj = 321'
	sleeper_args
	rt run -d -b "$BUNDLE" "$CID"
	expect_ok "run -d with a user namespace and oomScoreAdj" || return
	state "$CID"
	expect_eq "$(cat "/proc/$(jq -r .pid <<<"$STATE")/oom_score_adj")" 321 "oom_score_adj of the init"
	rt exec "$CID" sprout-probe oom_score_adj
	expect_ok exec && expect_eq "$(pv oom_score_adj)" 321 "oom_score_adj of an exec'd process"
	force_delete "$CID"
	leftovers_after "$CID"
}
t "oomScoreAdj in a user namespace: the init and exec'd processes" t_oom_userns

# ---------------------------------- personality, scheduler, affinity ---

t_personality() {
	new_container
	cfg '.linux.personality = {domain: "LINUX32"}'
	set_args sh -c 'sprout-probe personality; echo "machine=$(uname -m)"'
	rt run -b "$BUNDLE" "$CID"
	expect_ok run || return
	expect_eq "$(pv personality)" 0x8 "personality (PER_LINUX32)"
	expect_match "$(pv machine)" '^i[3-6]86$' "uname -m under LINUX32"
}
t "personality LINUX32: uname -m says i686" t_personality

t_scheduler() {
	new_container
	cfg '.process.scheduler = {policy: "SCHED_BATCH", nice: 7}'
	set_args cat /proc/self/stat
	rt run -b "$BUNDLE" "$CID"
	expect_ok run || return
	# fields after "(comm)": state is 3, nice 19, policy 41
	local f
	f=$(sed 's/^.*) //' <<<"$OUT")
	expect_eq "$(awk '{ print $17 }' <<<"$f")" 7 "nice"
	expect_eq "$(awk '{ print $39 }' <<<"$f")" 3 "policy (SCHED_BATCH)"
}
t "scheduler SCHED_BATCH nice 7 applied" t_scheduler

t_ioprio() {
	new_container
	cfg '.process.ioPriority = {class: "IOPRIO_CLASS_BE", priority: 6}'
	# ioprio_get(IOPRIO_WHO_PROCESS, 0) = 252 on x86_64
	set_args $SYS 252 1 0
	rt run -b "$BUNDLE" "$CID"
	expect_ok run || return
	expect_eq "$OUT" "252=$(((2 << 13) | 6))" "ioprio_get: class BE (2) << 13 | 6"
}
t "ioPriority IOPRIO_CLASS_BE 6 applied" t_ioprio

t_affinity() {
	local ncpu
	ncpu=$(nproc --all)
	new_container
	cfg '.process.execCPUAffinity = {initial: "0", final: "0"}'
	set_args grep Cpus_allowed_list /proc/self/status
	rt run -b "$BUNDLE" "$CID"
	expect_ok run || return
	expect_match "$OUT" 'Cpus_allowed_list:[[:space:]]+0$' "final affinity 0"
	if [ "$ncpu" -gt 1 ]; then
		new_container
		cfg '.process.execCPUAffinity = {initial: "0"}'
		set_args grep Cpus_allowed_list /proc/self/status
		rt run -b "$BUNDLE" "$CID"
		expect_ok run || return
		expect_no_match "$OUT" 'Cpus_allowed_list:[[:space:]]+0$' "with only initial, the workload is not left on CPU 0"
	fi
}
t "execCPUAffinity: final applied before exec; initial alone does not stick" t_affinity

# The init fails right after the parent's first GO (a CPU this host lacks),
# while the parent makes the v1 cgroups and then sends its second GO, enters
# the netns for lo, or waits for a message: whichever of those meets the
# dead init (EPIPE, ESRCH, ECONNRESET), the error reported is the init's.
# Racy by nature, so many times; each failed with the parent's own
# consequence in 20 of 20 before the fix.
t_affinity_missing_cpu() {
	local cpu i cmd
	cpu=$(($(nproc --all) + 7))
	for i in 1 2 3 4 5 6 7 8; do
		for cmd in create run; do
			new_container
			cfg '.process.execCPUAffinity = {initial: $c}' --arg c "$cpu"
			rt "$cmd" -b "$BUNDLE" "$CID"
			expect_failure "$cmd with execCPUAffinity.initial $cpu" || return
			expect_sprout_error || return
			expect_match "$ERR" "execCPUAffinity.initial: set the CPU affinity to $cpu" \
				"$cmd (round $i): the init's own error" || return
			leftovers "$CID" || return
		done
	done
}
t "execCPUAffinity.initial of a CPU the host lacks: the init's error, not the parent's EPIPE/ESRCH" t_affinity_missing_cpu

# ------------------------------------------------------------ sysctl ---

t_sysctl_ok() {
	new_container
	cfg '.linux.sysctl = {"net.ipv4.ip_forward": "1", "kernel.shmmax": "123456789", "kernel.domainname": "sprout.test"}'
	set_args sh -c 'echo "fwd=$(cat /proc/sys/net/ipv4/ip_forward)"; echo "shm=$(cat /proc/sys/kernel/shmmax)"; echo "dom=$(cat /proc/sys/kernel/domainname)"'
	rt run -b "$BUNDLE" "$CID"
	expect_ok run || return
	expect_eq "$(pv fwd)" 1 "net.ipv4.ip_forward in the container's netns"
	expect_eq "$(pv shm)" 123456789 "kernel.shmmax in the container's ipc ns"
	expect_eq "$(pv dom)" sprout.test "kernel.domainname in the container's uts ns"
	expect_ne "$(cat /proc/sys/kernel/shmmax)" 123456789 "the host's kernel.shmmax"
}
t "sysctl: net.*, kernel.shm*, kernel.domainname set in the container's own namespaces" t_sysctl_ok

t_sysctl_refused() {
	local key=$1 setup=$2 why=$3
	new_container
	[ -n "$setup" ] && cfg "$setup"
	cfg '.linux.sysctl = {($k): "1"}' --arg k "$key"
	rt create -b "$BUNDLE" "$CID"
	expect_failure "create with sysctl $key" || return
	expect_sprout_error
	expect_contains "$ERR" "$key" "error names the key"
	expect_match "$ERR" "$why" "error says why"
	leftovers "$CID"
}
t "sysctl: vm.swappiness (not namespaced) refused before side effects" t_sysctl_refused vm.swappiness "" 'namespace'
t "sysctl: net.* without a network namespace refused" t_sysctl_refused net.ipv4.ip_forward \
	'.linux.namespaces = [.linux.namespaces[] | select(.type != "network")]' 'network'
t "sysctl: kernel.msgmax without an ipc namespace refused" t_sysctl_refused kernel.msgmax \
	'.linux.namespaces = [.linux.namespaces[] | select(.type != "ipc")]' 'ipc'

t_sysctl_host_netns() {
	# the network namespace is joined by path, and it is the host's: a
	# net.* sysctl would change the host (runc refuses it too).  The value
	# is the host's own, so a runtime that writes it changes nothing.
	local key=net.ipv4.ip_forward before
	before=$(cat /proc/sys/net/ipv4/ip_forward)
	new_container
	add_ns network "/proc/$$/ns/net"
	cfg '.linux.sysctl = {($k): $v}' --arg k "$key" --arg v "$before"
	rt create -b "$BUNDLE" "$CID"
	expect_failure "create with sysctl $key in the host's network namespace" || { force_delete "$CID"; return; }
	expect_sprout_error
	expect_contains "$ERR" "$key" "error names the key"
	expect_contains "$ERR" "host" "error says it is the host's namespace"
	expect_eq "$(cat /proc/sys/net/ipv4/ip_forward)" "$before" "the host's $key"
	leftovers "$CID"
}
t "sysctl: net.* in a network namespace joined by path that is the host's refused" t_sysctl_host_netns

# ----------------------------------------------------------- keyring ---

t_keyring() {
	# KEYCTL_GET_KEYRING_ID (0) of KEY_SPEC_SESSION_KEYRING (-3)
	local host
	host=$("$HELPERS_DIR/$SYS" keyctl 0 -3 0)
	new_container
	set_args $SYS keyctl 0 -3 0
	rt run -b "$BUNDLE" "$CID"
	expect_ok run || return
	expect_match "$OUT" '^keyctl=[0-9]+$' "session keyring id inside"
	expect_ne "$OUT" "$host" "a new session keyring by default"
	new_container
	set_args $SYS keyctl 0 -3 0
	rt run --no-new-keyring -b "$BUNDLE" "$CID"
	expect_ok "run --no-new-keyring" || return
	expect_eq "$OUT" "$host" "--no-new-keyring keeps the caller's session keyring"
}
t "keyring: a new session keyring; --no-new-keyring keeps the caller's" t_keyring

t_keyring_exec() {
	# an exec'd process gets a new session keyring too, unless the container
	# was created with --no-new-keyring (runc keeps the caller's then)
	local host flag
	host=$("$HELPERS_DIR/$SYS" keyctl 0 -3 0)
	for flag in "" --no-new-keyring; do
		new_container
		sleeper_args
		rt run -d $flag -b "$BUNDLE" "$CID"
		expect_ok "run -d $flag" || return
		rt exec "$CID" $SYS keyctl 0 -3 0
		expect_ok "exec ($flag)"
		expect_match "$OUT" '^keyctl=[0-9]+$' "session keyring id of an exec'd process"
		if [ -z "$flag" ]; then
			expect_ne "$OUT" "$host" "exec: a new session keyring by default"
		else
			expect_eq "$OUT" "$host" "exec in a --no-new-keyring container keeps the caller's"
		fi
		force_delete "$CID"
		leftovers_after "$CID"
	done
}
t "keyring: exec follows the container's --no-new-keyring" t_keyring_exec

# ------------------------------------------------------ masked paths ---

t_masked_kinds() {
	new_container
	cfg '.linux.maskedPaths = ["/proc/keys", "/sys/firmware"] | .linux.readonlyPaths = ["/proc/bus"]'
	set_args sh -c '
		echo "keys=$(stat -c "%F %t:%T" /proc/keys)"
		echo "firmware_fs=$(stat -f -c %T /sys/firmware)"
		touch /sys/firmware/x 2>/dev/null; echo "firmware_write=$?"
		echo "firmware_n=$(ls -A /sys/firmware | wc -l)"
		echo 1 > /proc/bus/x 2>/dev/null; echo "bus_write=$?"
		sprout-probe mounts'
	rt run -b "$BUNDLE" "$CID"
	expect_ok run || return
	expect_eq "$(pv keys)" "character special file 1:3" "masked file is the null device"
	expect_eq "$(pv firmware_fs)" tmpfs "masked directory is a tmpfs"
	expect_ne "$(pv firmware_write)" 0 "masked directory is read-only"
	expect_eq "$(pv firmware_n)" 0 "masked directory is empty"
	expect_ne "$(pv bus_write)" 0 "readonly path refuses writes"
	# (procfs refuses new files anyway: the mount flag is what shows it)
	expect_match "$(awk '$5 == "/proc/bus" { print $6 }' <<<"$OUT")" '(^|,)ro(,|$)' "ro flag of the /proc/bus mount"
	expect_match "$(awk '$5 == "/sys/firmware" { print $6 }' <<<"$OUT")" '(^|,)ro(,|$)' "ro flag of the /sys/firmware mask"
}
t "maskedPaths: files -> /dev/null (1:3), dirs -> empty read-only tmpfs; readonlyPaths ro" t_masked_kinds

# --------------------------------------------------------------- LSM ---

t_lsm_refused() {
	local what=$1 filter=$2 lsm=$3
	if [ "$lsm" = apparmor ] && [ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" = Y ]; then
		skip "AppArmor is enabled on this host"
		return
	fi
	if [ "$lsm" = selinux ] && [ -e /sys/fs/selinux/enforce ]; then
		skip "SELinux is enabled on this host"
		return
	fi
	new_container
	cfg "$filter"
	rt create -b "$BUNDLE" "$CID"
	expect_failure "create with $what" || return
	expect_sprout_error
	expect_contains "$ERR" "$what" "error names the field"
	expect_match "$ERR" "(AppArmor|SELinux) is not enabled" "error says the LSM is off"
	leftovers "$CID"
}
t "apparmorProfile without AppArmor: clear error before side effects" t_lsm_refused \
	.process.apparmorProfile '.process.apparmorProfile = "sprout-test"' apparmor
t "selinuxLabel without SELinux: clear error before side effects" t_lsm_refused \
	.process.selinuxLabel '.process.selinuxLabel = "system_u:system_r:container_t:s0"' selinux
t "mountLabel without SELinux: clear error before side effects" t_lsm_refused \
	.linux.mountLabel '.linux.mountLabel = "system_u:object_r:container_file_t:s0"' selinux

# ----------------------------------------------------------- seccomp ---

t_seccomp_errno() {
	new_container
	allow_but SCMP_ACT_ERRNO getppid '"errnoRet": 38'
	set_args sh -c "$SYS getppid; $SYS getpid; sprout-probe seccomp no_new_privs"
	rt run -b "$BUNDLE" "$CID"
	expect_ok run || return
	expect_eq "$(pv getppid)" "-1 errno=38" "blocked getppid"
	expect_match "$(pv getpid)" '^[0-9]+$' "getpid allowed"
	expect_eq "$(pv seccomp)" 2 "Seccomp mode (filter)"
	new_container
	allow_but SCMP_ACT_ERRNO getppid
	set_args $SYS getppid
	rt run -b "$BUNDLE" "$CID"
	expect_ok run || return
	expect_eq "$OUT" "getppid=-1 errno=1" "without errnoRet: EPERM"
}
t "seccomp: SCMP_ACT_ERRNO returns errnoRet (38), EPERM by default; others allowed" t_seccomp_errno

t_seccomp_kill() {
	local act=$1
	new_container
	allow_but "$act" getppid
	set_args $SYS getppid
	rt run -b "$BUNDLE" "$CID"
	expect_rc 159 "run exit (128 + SIGSYS)" || return
	expect_eq "$OUT" "" "output of the killed call"
	leftovers_after "$CID"
}
t "seccomp: SCMP_ACT_KILL kills with SIGSYS" t_seccomp_kill SCMP_ACT_KILL
t "seccomp: SCMP_ACT_KILL_PROCESS kills with SIGSYS" t_seccomp_kill SCMP_ACT_KILL_PROCESS
t "seccomp: SCMP_ACT_KILL_THREAD kills with SIGSYS" t_seccomp_kill SCMP_ACT_KILL_THREAD
t "seccomp: SCMP_ACT_TRAP delivers SIGSYS" t_seccomp_kill SCMP_ACT_TRAP

t_seccomp_trace_log() {
	new_container
	seccomp '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
		{"names": ["getppid"], "action": "SCMP_ACT_TRACE"},
		{"names": ["getuid"], "action": "SCMP_ACT_LOG"}]}'
	set_args sh -c "$SYS getppid; $SYS getuid"
	rt run -b "$BUNDLE" "$CID"
	expect_ok run || return
	expect_eq "$(pv getppid)" "-1 errno=38" "SCMP_ACT_TRACE without a tracer: ENOSYS"
	expect_eq "$(pv getuid)" 0 "SCMP_ACT_LOG lets the call through"
}
t "seccomp: SCMP_ACT_TRACE (no tracer -> ENOSYS), SCMP_ACT_LOG (allowed)" t_seccomp_trace_log

t_seccomp_args() {
	new_container
	# umask(022=18) and umask(077=63); errno 5 marks a match
	seccomp '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
		{"names": ["umask"], "action": "SCMP_ACT_ERRNO", "errnoRet": 5,
		 "args": [{"index": 0, "value": 63, "op": "SCMP_CMP_EQ"}]},
		{"names": ["personality"], "action": "SCMP_ACT_ERRNO", "errnoRet": 6,
		 "args": [{"index": 0, "value": 65535, "valueTwo": 8, "op": "SCMP_CMP_MASKED_EQ"}]},
		{"names": ["getpriority"], "action": "SCMP_ACT_ERRNO", "errnoRet": 7,
		 "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}, {"index": 1, "value": 100, "op": "SCMP_CMP_GT"}]},
		{"names": ["setpriority"], "action": "SCMP_ACT_ERRNO", "errnoRet": 8,
		 "args": [{"index": 2, "value": 3, "op": "SCMP_CMP_EQ"}, {"index": 2, "value": 4, "op": "SCMP_CMP_EQ"}]}]}'
	set_args sh -c "
		echo a=\$($SYS umask 18); echo b=\$($SYS umask 63)
		echo c=\$($SYS personality 0xffffffff); echo d=\$($SYS personality 8)
		echo e=\$($SYS getpriority 0 0); echo f=\$($SYS getpriority 0 101); echo g=\$($SYS getpriority 1 101)
		echo h=\$($SYS setpriority 0 0 3); echo i=\$($SYS setpriority 0 0 4); echo j=\$($SYS setpriority 0 0 1)"
	rt run -b "$BUNDLE" "$CID"
	expect_ok run || return
	expect_no_match "$(pv a)" errno "umask(022): EQ 077 does not match"
	expect_eq "$(pv b)" "umask=-1 errno=5" "umask(077): EQ matches"
	expect_no_match "$(pv c)" errno "personality(query): MASKED_EQ does not match"
	expect_eq "$(pv d)" "personality=-1 errno=6" "personality(PER_LINUX32): MASKED_EQ matches"
	expect_no_match "$(pv e)" "errno=7" "getpriority(0, 0): AND of two args, one fails"
	expect_eq "$(pv f)" "getpriority=-1 errno=7" "getpriority(0, 101): both args match"
	expect_no_match "$(pv g)" "errno=7" "getpriority(1, 101): first arg fails"
	expect_eq "$(pv h)" "setpriority=-1 errno=8" "setpriority(.., 3): same-index conditions are ORed"
	expect_eq "$(pv i)" "setpriority=-1 errno=8" "setpriority(.., 4): same-index conditions are ORed"
	expect_eq "$(pv j)" "setpriority=0" "setpriority(.., 1): neither condition"
}
t "seccomp: argument filters (EQ, MASKED_EQ, AND across args, OR on one arg)" t_seccomp_args

t_seccomp_ops() {
	local op=$1 v=$2 want18=$3 want63=$4
	new_container
	allow_but SCMP_ACT_ERRNO umask "\"errnoRet\": 5, \"args\": [{\"index\": 0, \"value\": $v, \"op\": \"$op\"}]"
	set_args sh -c "echo a=\$($SYS umask 18); echo b=\$($SYS umask 63)"
	rt run -b "$BUNDLE" "$CID"
	expect_ok run || return
	local a=no b=no
	grep -q 'errno=5' <<<"$(pv a)" && a=yes
	grep -q 'errno=5' <<<"$(pv b)" && b=yes
	expect_eq "$a $b" "$want18 $want63" "$op $v matches umask(18), umask(63)"
}
t "seccomp: SCMP_CMP_NE" t_seccomp_ops SCMP_CMP_NE 63 yes no
t "seccomp: SCMP_CMP_LT" t_seccomp_ops SCMP_CMP_LT 63 yes no
t "seccomp: SCMP_CMP_LE" t_seccomp_ops SCMP_CMP_LE 63 yes yes
t "seccomp: SCMP_CMP_GT" t_seccomp_ops SCMP_CMP_GT 18 no yes
t "seccomp: SCMP_CMP_GE" t_seccomp_ops SCMP_CMP_GE 18 yes yes

t_seccomp_flags() {
	new_container
	seccomp '{"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
		"SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"],
		"syscalls": [{"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 40}]}'
	set_args $SYS getppid
	rt run -b "$BUNDLE" "$CID"
	expect_ok "run with every filter flag (WAIT_KILLABLE_RECV without a listener is ignored)" || return
	expect_eq "$OUT" "getppid=-1 errno=40" "the filter"
}
t "seccomp: flags TSYNC, LOG, SPEC_ALLOW (and WAIT_KILLABLE_RECV) accepted" t_seccomp_flags

t_seccomp_docker() {
	new_container
	cfg '.linux.seccomp = $p[0] | .process.capabilities = {bounding: $c, effective: $c, permitted: $c}' \
		--slurpfile p "$DOCKER_PROFILE" --argjson c "$DOCKER14"
	set_args sh -c "echo hello; ls / >/dev/null && echo ls=ok; $SYS unshare 0; $SYS keyctl 0 -3 0; sprout-probe seccomp; $SYS 1000"
	rt run -b "$BUNDLE" "$CID"
	expect_ok "run under Docker's default profile" || return
	expect_contains "$OUT" hello "echo"
	expect_eq "$(pv ls)" ok "ls"
	expect_eq "$(pv unshare)" "-1 errno=1" "unshare (not allowed): EPERM"
	expect_eq "$(pv keyctl)" "-1 errno=1" "keyctl (not allowed): EPERM"
	expect_eq "$(pv seccomp)" 2 "Seccomp mode"
	expect_eq "$(pv 1000)" "-1 errno=38" "syscall 1000 (newer than the profile): ENOSYS"
}
t "seccomp: Docker's default profile: a shell works, unshare/keyctl get EPERM, newer syscalls ENOSYS" t_seccomp_docker

# Syscalls newer than the profile: -ENOSYS (so libc falls back), not the
# default action.  OLD_SYSCALLS: what busybox sh, sprout-sys and runc's init
# need, all older than Linux 4.18 (largest: rseq, 334 on x86_64).
OLD_SYSCALLS='["read", "write", "readv", "writev", "pread64", "open", "openat", "close", "stat",
 "lstat", "fstat", "newfstatat", "statfs", "fstatfs", "lseek", "access", "faccessat", "readlink",
 "getdents64", "getcwd", "chdir", "fcntl", "dup2", "dup3", "ioctl", "brk", "mmap", "munmap",
 "mprotect", "arch_prctl", "set_tid_address", "set_robust_list", "rseq", "prlimit64",
 "getrandom", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack", "futex",
 "nanosleep", "getpid", "getuid", "geteuid", "getgid", "getegid", "uname", "capget", "capset",
 "prctl", "setresuid", "setresgid", "setgroups", "clone", "fork", "vfork", "execve", "wait4",
 "exit", "exit_group"]'
# the four calls newer than the profile, a number no kernel has yet, then
# two older calls the profile does not name
NEWER_PROBE="$SYS clone3 0 0; $SYS close_range 1000 1000 0; $SYS openat2 -100 @/ buf 24;
 $SYS faccessat2 -100 @/ 0 0; $SYS 1000; $SYS getppid; $SYS mkdirat -100 @/tmp/x 0755"

t_seccomp_enosys_newer() {
	new_container
	seccomp "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"architectures\": [\"SCMP_ARCH_X86_64\",
		\"SCMP_ARCH_X86\", \"SCMP_ARCH_X32\"], \"syscalls\": [{\"names\": $OLD_SYSCALLS,
		\"action\": \"SCMP_ACT_ALLOW\"}]}"
	set_args sh -c "$NEWER_PROBE"
	rt run -b "$BUNDLE" "$CID"
	expect_ok run || return
	local c
	for c in clone3 close_range openat2 faccessat2 1000; do
		expect_eq "$(pv $c)" "-1 errno=38" "$c (newer than the profile): ENOSYS"
	done
	expect_eq "$(pv getppid)" "-1 errno=1" "getppid (older, not named): the default action"
	expect_eq "$(pv mkdirat)" "-1 errno=1" "mkdirat (older, not named): the default action"
	# naming faccessat2 (439) moves the limit: 436..438 are older now.
	# No "architectures" this time: the filter still has the native one.
	new_container
	seccomp "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": $OLD_SYSCALLS,
		\"action\": \"SCMP_ACT_ALLOW\"}, {\"names\": [\"faccessat2\"], \"action\": \"SCMP_ACT_ALLOW\"}]}"
	set_args sh -c "$NEWER_PROBE"
	rt run -b "$BUNDLE" "$CID"
	expect_ok run || return
	expect_eq "$(pv faccessat2)" 0 "faccessat2 (named): allowed"
	expect_eq "$(pv close_range)" "-1 errno=1" "close_range (below faccessat2): the default action"
	expect_eq "$(pv openat2)" "-1 errno=1" "openat2 (below faccessat2): the default action"
	if [ "$RT_NAME" = runc ]; then
		# runc 1.1.5 has no clone3 special case, and no stub at all for a
		# profile without "architectures"
		expect_eq "$(pv clone3)" "-1 errno=1" "clone3 (not named, below faccessat2): EPERM in runc 1.1.5"
		expect_eq "$(pv 1000)" "-1 errno=1" "1000 without architectures: EPERM in runc 1.1.5"
	else
		expect_eq "$(pv clone3)" "-1 errno=38" "clone3 (not named, below faccessat2): still ENOSYS"
		expect_eq "$(pv 1000)" "-1 errno=38" "1000 (native architecture, not listed): ENOSYS"
	fi
}
t "seccomp: syscalls newer than the profile get ENOSYS, older unnamed ones the default action" t_seccomp_enosys_newer

t_seccomp_enosys_allow_default() {
	# an allowing default action: nothing changes, the kernel answers
	new_container
	allow_but SCMP_ACT_ERRNO getppid
	set_args sh -c "$SYS clone3 0 0; $SYS close_range 1000 1000 0; $SYS getppid"
	rt run -b "$BUNDLE" "$CID"
	expect_ok run || return
	expect_eq "$(pv clone3)" "-1 errno=22" "clone3 with no arguments: EINVAL from the kernel"
	expect_eq "$(pv close_range)" 0 "close_range: allowed"
	expect_eq "$(pv getppid)" "-1 errno=1" "getppid: its rule"
}
t "seccomp: with an allowing default action newer syscalls are left alone" t_seccomp_enosys_allow_default

t_seccomp_unknown_name() {
	new_container
	allow_but SCMP_ACT_ERRNO no_such_syscall_in_any_kernel
	set_args true
	rt --debug --log "$TMPDIR_IT/unknown.log" run -b "$BUNDLE" "$CID"
	expect_ok "run with an unknown syscall name" || return
	expect_contains "$(cat "$TMPDIR_IT/unknown.log")" 'no_such_syscall_in_any_kernel' "debug log names the skipped syscall"
}
t "seccomp: a syscall name unknown to libseccomp is skipped with a debug log" t_seccomp_unknown_name

t_seccomp_no_nnp() {
	# no noNewPrivileges and no CAP_SYS_ADMIN for the workload: the runtime
	# still loads the filter, and the workload's caps are as configured
	new_container
	cfg '.process.noNewPrivileges = false | .process.user = {uid: 1000, gid: 1000}
	   | .process.capabilities = {bounding: ["CAP_KILL"], permitted: ["CAP_KILL"], effective: ["CAP_KILL"], inheritable: ["CAP_KILL"], ambient: ["CAP_KILL"]}'
	allow_but SCMP_ACT_ERRNO getppid '"errnoRet": 38'
	set_args sh -c "$SYS getppid; sprout-probe no_new_privs seccomp cap_eff cap_prm cap_bnd"
	rt run -b "$BUNDLE" "$CID"
	expect_ok run || return
	expect_eq "$(pv getppid)" "-1 errno=38" "filter in place"
	expect_eq "$(pv no_new_privs)" 0 "no_new_privs"
	expect_eq "$(hex "$(pv cap_eff)")" "$(mask 5)" "CapEff (no CAP_SYS_ADMIN left)"
	expect_eq "$(hex "$(pv cap_prm)")" "$(mask 5)" "CapPrm"
	expect_eq "$(hex "$(pv cap_bnd)")" "$(mask 5)" "CapBnd"
}
t "seccomp without noNewPrivileges: filter loaded, no stray CAP_SYS_ADMIN" t_seccomp_no_nnp

t_seccomp_no_nnp_strict() {
	# without noNewPrivileges runc loads the filter before its own setuid and
	# capset, so a profile that kills those kills runc's init; sprout runs
	# nothing but execve under the filter
	new_container
	cfg '.process.noNewPrivileges = false | .process.user = {uid: 1000, gid: 1000}'
	seccomp '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["capset", "setresuid", "setresgid", "setgroups", "prctl", "chdir", "close_range", "rt_sigaction", "rt_sigprocmask"], "action": "SCMP_ACT_KILL_PROCESS"}]}'
	set_args sprout-probe uid seccomp
	rt run -b "$BUNDLE" "$CID"
	expect_ok "run under a filter that kills capset, setresuid, prctl, ..." || return
	expect_eq "$(pv uid)" 1000 uid
	expect_eq "$(pv seccomp)" 2 "Seccomp mode"
}
t "seccomp without noNewPrivileges: nothing but execve runs under the filter" t_seccomp_no_nnp_strict

t_seccomp_last() {
	# the created container's init waits on exec.fifo without a filter; the
	# workload has it: the filter comes after everything else
	new_container
	allow_but SCMP_ACT_ERRNO getppid
	sleeper_args
	rt create -b "$BUNDLE" "$CID"
	expect_ok create || return
	state "$CID"
	local pid
	pid=$(jq -r .pid <<<"$STATE")
	expect_eq "$(awk '/^Seccomp:/ { print $2 }' "/proc/$pid/status")" 0 "Seccomp of the waiting init"
	rt start "$CID"
	expect_ok start || return
	local i s=
	for ((i = 0; i < 50; i++)); do
		s=$(awk '/^Seccomp:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
		[ "$s" = 2 ] && break
		sleep 0.1
	done
	expect_eq "$s" 2 "Seccomp of the workload"
	force_delete "$CID"
	leftovers_after "$CID"
}
t "seccomp: loaded as the last step (not in the waiting init, in the workload)" t_seccomp_last

t_seccomp_cache() {
	local log=$TMPDIR_IT/cache.log cache=$ROOT/@cache/seccomp f1 st1 st2
	rm -rf "$cache"
	new_container
	allow_but SCMP_ACT_ERRNO getppid '"errnoRet": 41'
	set_args $SYS getppid
	rt --debug --log "$log" run -b "$BUNDLE" "$CID"
	expect_ok "first run" || return
	expect_eq "$OUT" "getppid=-1 errno=41" "filter of the first run"
	expect_contains "$(cat "$log")" "seccomp: compiled" "first run compiles"
	f1=$(ls "$cache"/*.bpf 2>/dev/null)
	[ "$(wc -w <<<"$f1")" = 1 ] || { fail "expected one cache file, got: $f1"; return; }
	st1=$(stat -c '%i %s' "$f1")
	touch -d '2020-01-01 00:00:00' "$f1" # long unused
	: >"$log"
	new_container
	allow_but SCMP_ACT_ERRNO getppid '"errnoRet": 41'
	set_args $SYS getppid
	rt --debug --log "$log" run -b "$BUNDLE" "$CID"
	expect_ok "second run" || return
	expect_eq "$OUT" "getppid=-1 errno=41" "filter of the second run (from the cache)"
	expect_contains "$(cat "$log")" "seccomp: cache hit" "second run hits the cache"
	expect_no_match "$(cat "$log")" "seccomp: compiled" "second run does not compile"
	st2=$(stat -c '%i %s' "$f1")
	expect_eq "$st2" "$st1" "cache file not rewritten (inode, size)"
	# the hit is the cache's "recently used" clock (eviction goes by mtime)
	[ "$(stat -c %Y "$f1")" -ge $(($(date +%s) - 60)) ] ||
		fail "a hit refreshes the file's mtime: $(stat -c %y "$f1")"
	# another profile: compiled again, a second file, the right filter
	: >"$log"
	new_container
	allow_but SCMP_ACT_ERRNO getppid '"errnoRet": 42'
	set_args $SYS getppid
	rt --debug --log "$log" run -b "$BUNDLE" "$CID"
	expect_ok "run with a changed profile" || return
	expect_eq "$OUT" "getppid=-1 errno=42" "the changed profile's filter"
	expect_contains "$(cat "$log")" "seccomp: compiled" "a changed profile compiles"
	expect_eq "$(ls "$cache"/*.bpf | wc -l)" 2 "cache files"
	rt list -q
	expect_no_match "$OUT" "cache" "list shows no cache entry"
}
t "seccomp: the compiled profile is cached by digest; a second run hits it" t_seccomp_cache

# seccomp notify: the agent gets the state and the fd and answers getppid
t_seccomp_notify() {
	local sock=$TMPDIR_IT/agent.sock out=$TMPDIR_IT/agent-out
	mkdir -p "$out"
	"$AGENT" "$sock" "$out" getppid=4242 2>"$out/err" &
	HELPER_PIDS+=($!)
	local apid=$! i
	for ((i = 0; i < 50; i++)); do [ -S "$sock" ] && break; sleep 0.1; done
	[ -S "$sock" ] || { fail "agent did not listen"; return; }
	new_container
	cfg '.annotations = {"org.test": "yes"}'
	# TSYNC with a listener needs TSYNC_ESRCH; WAIT_KILLABLE_RECV needs the listener
	seccomp "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"$sock\", \"listenerMetadata\": \"hello-agent\",
		\"flags\": [\"SECCOMP_FILTER_FLAG_TSYNC\", \"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV\"],
		\"syscalls\": [{\"names\": [\"getppid\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}"
	set_args sh -c "$SYS getppid; $SYS getpid"
	rt run --pid-file "$TMPDIR_IT/notify.pid" -b "$BUNDLE" "$CID"
	expect_ok "run with SCMP_ACT_NOTIFY" || return
	expect_eq "$(pv getppid)" 4242 "getppid answered by the agent"
	expect_match "$(pv getpid)" '^[0-9]+$' "other calls untouched"
	wait "$apid" 2>/dev/null
	local st=$out/state.json
	[ -s "$st" ] || { fail "agent got no state: $(cat "$out/err")"; return; }
	expect_eq "$(cat "$out/fds")" 1 "fds sent with the state"
	expect_eq "$(jq -r '.fds | join(",")' "$st")" seccompFd ".fds"
	expect_eq "$(jq -r .metadata "$st")" hello-agent ".metadata"
	expect_eq "$(jq -r .state.id "$st")" "$CID" ".state.id"
	expect_eq "$(jq -r .state.bundle "$st")" "$BUNDLE" ".state.bundle"
	expect_eq "$(jq -r '.state.annotations["org.test"]' "$st")" yes ".state.annotations"
	expect_eq "$(jq -r .pid "$st")" "$(cat "$TMPDIR_IT/notify.pid")" ".pid (the init's host pid)"
	expect_eq "$(jq -r .state.pid "$st")" "$(cat "$TMPDIR_IT/notify.pid")" ".state.pid"
	expect_match "$(cat "$out/log")" "nr=110 .*answer=4242" "agent log"
	leftovers_after "$CID"
}
t "seccomp notify: listener gets state + fd (SCM_RIGHTS) and answers getppid" t_seccomp_notify

t_seccomp_notify_no_listener() {
	new_container
	seccomp "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"$TMPDIR_IT/nobody.sock\",
		\"syscalls\": [{\"names\": [\"getppid\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}"
	rt create -b "$BUNDLE" "$CID"
	expect_failure "create with a listener that is not there" || return
	expect_sprout_error
	expect_contains "$ERR" "$TMPDIR_IT/nobody.sock" "error names the listener path"
	leftovers "$CID"
}
t "seccomp notify: no listener at listenerPath fails create, nothing left" t_seccomp_notify_no_listener

t_seccomp_bad_errno() {
	new_container
	allow_but SCMP_ACT_ERRNO getppid '"errnoRet": 70000'
	rt create -b "$BUNDLE" "$CID"
	expect_failure "create with errnoRet 70000" || return
	expect_sprout_error
	expect_contains "$ERR" ".linux.seccomp.syscalls[0].errnoRet" "error names the JSON path"
	leftovers "$CID"
}
t "seccomp: an errnoRet that cannot be encoded fails before side effects" t_seccomp_bad_errno

# ---------------------------------------------------------- features ---

t_features() {
	rt_noroot features
	expect_ok features || return
	local f=$OUT
	jq -e . >/dev/null <<<"$f" || { fail "features is not JSON: $f"; return; }
	expect_eq "$(jq -r .ociVersionMin <<<"$f")" 1.0.0 ociVersionMin
	expect_eq "$(jq -r .ociVersionMax <<<"$f")" 1.2.0 ociVersionMax
	expect_eq "$(jq -r '.linux.namespaces | sort | join(",")' <<<"$f")" cgroup,ipc,mount,network,pid,time,user,uts namespaces
	expect_eq "$(jq -r '.linux.seccomp.actions | length' <<<"$f")" 9 "seccomp actions"
	expect_eq "$(jq -r '.linux.seccomp.operators | length' <<<"$f")" 7 "seccomp operators"
	expect_eq "$(jq -r '.linux.seccomp.archs | index("SCMP_ARCH_X86_64") != null' <<<"$f")" true "x86_64 arch"
	expect_eq "$(jq -r '(.linux.seccomp.supportedFlags - .linux.seccomp.knownFlags) | length' <<<"$f")" 0 "supportedFlags within knownFlags"
	expect_eq "$(jq -r '.linux.capabilities | index("CAP_SYS_ADMIN") != null and index("CAP_CHECKPOINT_RESTORE") != null' <<<"$f")" true capabilities
	expect_eq "$(jq -r '.linux.apparmor.enabled, .linux.selinux.enabled' <<<"$f" | paste -sd,)" true,true "apparmor, selinux supported"
	expect_eq "$(jq -r '.mountOptions | index("rro") != null and index("nosymfollow") != null' <<<"$f")" true "mount options"
	expect_eq "$("$SPROUT" features | tail -c 2 | od -An -tx1 | tr -d ' ')" 7d0a "the output ends with one newline"
	if [ -x /usr/sbin/runc ]; then
		local r
		r=$(/usr/sbin/runc features 2>/dev/null)
		expect_eq "$(jq -r '(.linux.seccomp.actions - input.linux.seccomp.actions) | length' <(echo "$r") <(echo "$f"))" 0 "runc's seccomp actions are all here"
	fi
	rt_noroot features extra
	expect_failure "features with an argument"
}
t "features: truthful runtime-spec features JSON" t_features

t_leftovers_all() {
	local id
	for id in "${ALL_IDS[@]}"; do
		leftovers "$id"
	done
}
t "no container of this file left anything behind" t_leftovers_all

done_testing
