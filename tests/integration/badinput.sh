#!/bin/bash
# Bad input, exhaustively: a table of malformed and hostile configs, root
# filesystems and command lines.  Every case asserts
#   - the exit status (1, like runc),
#   - one line on stderr, "sprout: ...", naming the cause (the JSON path,
#     the file, the option, the id),
#   - and that nothing was left behind: no state dir or file under --root,
#     no cgroup of the container in any hierarchy, no new host mount, no
#     process, no temporary file in the bundle or next to the pid file.
# Hostile cases that a runtime may also survive by succeeding (a mount
# destination with "..", a symlink out of the root) assert instead that the
# host was not touched.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/robust.bash"

# ------------------------------------------------------------ helpers ---

# new_id / new_container also mark the host mount table for rb_nothing_left
eval "_lib_$(declare -f new_id)"
new_id() { _lib_new_id; rb_mark; }

# nothing_left ID: lib.sh's leftovers check plus the whole --root, the
# bundle and the custom cgroup names the cases use.
nothing_left() {
	local id=$1 found
	rb_nothing_left "$id"
	found=$(find "$ROOT" -mindepth 1 2>/dev/null)
	[ -z "$found" ] || fail "left under --root: $found"
	if [ -n "${BUNDLE:-}" ] && [ -d "$BUNDLE" ]; then
		found=$(find "$BUNDLE" -maxdepth 1 -mindepth 1 ! -name config.json ! -name rootfs \
			! -name 'keep-*' 2>/dev/null)
		[ -z "$found" ] || fail "left in the bundle: $found"
	fi
	found=$(find /sys/fs/cgroup/*/ -maxdepth 5 -type d -name "*bad-$$*" 2>/dev/null)
	[ -z "$found" ] || fail "leftover cgroup: $found"
}

# must_fail WHAT SUBSTRING...: the last call exited 1 with one "sprout: "
# line containing every SUBSTRING.
must_fail() {
	local what=$1 s
	shift
	expect_rc 1 "$what" || return 1
	expect_sprout_error || return 1
	for s in "$@"; do
		expect_contains "$ERR" "$s" "the error names '$s'"
	done
}

# create_fails SUBSTRING...: `create` of the current bundle fails so, and
# nothing is left.
create_fails() {
	rt create -b "$BUNDLE" "$CID"
	if [ "$RC" = 0 ]; then
		fail "create succeeded"
		force_delete "$CID"
		return
	fi
	must_fail create "$@"
	nothing_left "$CID"
}

# C NAME SUBSTRING JQ_FILTER [JQ_ARGS...]: a config edit that create refuses.
C() {
	local name=$1 want=$2
	shift 2
	t "config: $name" _case_cfg "$want" "$@"
}
_case_cfg() {
	local want=$1 filter=$2
	shift 2
	# new_container with the edit in the same jq run (a third of the time)
	new_id
	BUNDLE=$TMPDIR_IT/bundles/$CID
	ROOTFS=$SPROUT_FIXTURE
	mkdir -p "$BUNDLE"
	jq '.root.path = $rootfs | .process.terminal = false | .process.args = ["true"] | '"$filter" \
		--arg rootfs "$SPROUT_FIXTURE" "$@" "$SPEC_TEMPLATE" >"$BUNDLE/config.json" ||
		fail "jq edit failed: $filter"
	create_fails "$want"
}

# R NAME SUBSTRING WRITER: config.json written by the function WRITER.
R() {
	t "config: $1" _case_raw "$2" "$3"
}
_case_raw() {
	new_container
	rm -f "$BUNDLE/config.json"
	"$2"
	create_fails "$1"
}

# L NAME SUBSTRING ARGS...: a command line that fails, touching nothing.
L() {
	local name=$1 want=$2
	shift 2
	t "command line: $name" _case_cli "$want" "$@"
}
_case_cli() {
	local want=$1
	shift
	new_id
	BUNDLE=
	rt "$@"
	must_fail "sprout $*" "$want"
	nothing_left "$CID"
}

# ------------------------------------------------------------ syntax ---

full_config() { # a complete valid config as the base for truncations
	cp "$REPO/tests/unit/data/full-config.json" "$BUNDLE/config.json"
}
w_empty() { : >"$BUNDLE/config.json"; }
w_space() { printf ' \n\t\n' >"$BUNDLE/config.json"; }
w_trunc1() { head -c 1 "$SPEC_TEMPLATE" >"$BUNDLE/config.json"; }
w_trunc_half() { head -c $(($(wc -c <"$SPEC_TEMPLATE") / 2)) "$SPEC_TEMPLATE" >"$BUNDLE/config.json"; }
w_trunc_last() { head -c $(($(wc -c <"$SPEC_TEMPLATE") - 2)) "$SPEC_TEMPLATE" >"$BUNDLE/config.json"; }
w_garbage() { { cat "$SPEC_TEMPLATE"; echo '}'; } >"$BUNDLE/config.json"; }
w_array() { echo '[]' >"$BUNDLE/config.json"; }
w_string() { echo '"config"' >"$BUNDLE/config.json"; }
w_utf8() { printf '{"ociVersion":"1.2.0","root":{"path":"\xff\xfe"}}' >"$BUNDLE/config.json"; }
w_nul() { { printf '{"ociVersion":"1.2.0",'; printf '\0'; printf '}'; } >"$BUNDLE/config.json"; }
w_nul_escape() { jq '.root.path = "a\u0000b"' "$SPEC_TEMPLATE" >"$BUNDLE/config.json"; }
w_deep() { { printf '{"a":'; printf '%.0s[' $(seq 100); printf '%.0s]' $(seq 100); printf '}'; } >"$BUNDLE/config.json"; }
w_dupkey() { jq -c . "$SPEC_TEMPLATE" | sed 's/^{/{"ociVersion":"9.9.9",/' >"$BUNDLE/config.json"; }
w_dir() { mkdir "$BUNDLE/config.json"; }
w_loop() { ln -s config.json "$BUNDLE/config.json"; }
w_devzero() { ln -s /dev/zero "$BUNDLE/config.json"; }
w_fifo() { mkfifo "$BUNDLE/config.json"; }
w_huge_number() { jq -c . "$SPEC_TEMPLATE" | sed 's/"uid":0/"uid":1e999/' >"$BUNDLE/config.json"; }

R "empty file" "invalid JSON: empty document" w_empty
R "only white space" "invalid JSON: empty document" w_space
R "truncated to one byte" "invalid JSON" w_trunc1
R "truncated in the middle" "invalid JSON" w_trunc_half
R "truncated before the last brace" "invalid JSON: parse error: premature EOF" w_trunc_last
R "trailing garbage" "trailing garbage" w_garbage
R "an array, not an object" ".: expected an object, got an array" w_array
R "a string, not an object" ".: expected an object, got a string" w_string
R "invalid UTF-8" "invalid bytes in UTF8 string" w_utf8
R "a NUL byte" "contains a NUL byte" w_nul
R "a \\u0000 escape in a string" 'strings must not contain NUL' w_nul_escape
R "nested 100 levels deep" "nested deeper than 64 levels" w_deep
R "duplicate key (ociVersion twice)" ".ociVersion" w_dupkey
R "config.json is a directory" "config.json: Is a directory" w_dir
R "config.json is a symlink loop" "Too many levels of symbolic links" w_loop
R "config.json is /dev/zero" "config.json" w_devzero
R "config.json is a FIFO with no writer" "config.json" w_fifo
R "a number too large for a double (1e999)" ".process.user.uid" w_huge_number

t_missing_bundle() {
	new_id
	BUNDLE=$TMPDIR_IT/no-such-bundle
	rt create -b "$BUNDLE" "$CID"
	must_fail create "$BUNDLE" "No such file or directory"
	BUNDLE=
	nothing_left "$CID"
}
t "config: --bundle that does not exist" t_missing_bundle

# ------------------------------------------------------ wrong types ---

C "ociVersion a number" ".ociVersion: expected a string, got 1" '.ociVersion = 1'
C "root a string" ".root: expected an object, got a string" '.root = "rootfs"'
C "root.path a number" ".root.path: expected a string, got 5" '.root.path = 5'
C "root.readonly a string" ".root.readonly: expected a boolean, got a string" '.root.readonly = "yes"'
C "mounts an object" ".mounts: expected an array, got an object" '.mounts = {}'
C "mounts[0] a string" ".mounts[0]: expected an object, got a string" '.mounts[0] = "/proc"'
C "mounts[1].options a string" ".mounts[1].options: expected an array, got a string" '.mounts[1].options = "ro"'
C "mounts[2].options[0] a number" ".mounts[2].options[0]: expected a string, got 7" '.mounts[2].options[0] = 7'
C "process an array" ".process: expected an object, got an array" '.process = []'
C "process.args a string" ".process.args: expected an array, got a string" '.process.args = "true"'
C "process.args[0] null" ".process.args[0]" '.process.args = [null]'
C "process.env an object" ".process.env: expected an array, got an object" '.process.env = {}'
C "process.env[0] a number" ".process.env[0]: expected a string, got 1" '.process.env[0] = 1'
C "process.cwd a boolean" ".process.cwd: expected a string, got a boolean" '.process.cwd = true'
C "process.user an array" ".process.user: expected an object, got an array" '.process.user = []'
C "process.user.uid a string" ".process.user.uid: expected an unsigned 32-bit integer, got a string" '.process.user.uid = "0"'
C "process.user.additionalGids a number" ".process.user.additionalGids: expected an array" '.process.user.additionalGids = 5'
C "process.capabilities.bounding a string" ".process.capabilities.bounding: expected an array, got a string" '.process.capabilities.bounding = "CAP_KILL"'
C "process.rlimits an object" ".process.rlimits: expected an array, got an object" '.process.rlimits = {}'
C "process.rlimits[0].soft a string" ".process.rlimits[0].soft" '.process.rlimits[0].soft = "1024"'
C "process.terminal a string" ".process.terminal: expected a boolean, got a string" '.process.terminal = "false"'
C "process.noNewPrivileges a number" ".process.noNewPrivileges: expected a boolean, got 1" '.process.noNewPrivileges = 1'
C "hostname a number" ".hostname: expected a string, got 5" '.hostname = 5'
C "hooks an array" ".hooks: expected an object, got an array" '.hooks = []'
C "hooks.prestart an object" ".hooks.prestart: expected an array, got an object" '.hooks.prestart = {}'
C "hooks.poststop[0].path a number" ".hooks.poststop[0].path: expected a string, got 1" '.hooks.poststop = [{path: 1}]'
C "annotations an array" ".annotations: expected an object, got an array" '.annotations = []'
C "annotations value a number" ".annotations.x: expected a string, got 1" '.annotations = {x: 1}'
C "linux a string" ".linux: expected an object, got a string" '.linux = "x"'
C "linux.namespaces an object" ".linux.namespaces: expected an array, got an object" '.linux.namespaces = {}'
C "linux.namespaces[0] a string" ".linux.namespaces[0]: expected an object, got a string" '.linux.namespaces[0] = "pid"'
C "linux.namespaces[0].type a number" ".linux.namespaces[0].type: expected a string, got 5" '.linux.namespaces[0].type = 5'
C "linux.uidMappings an object" ".linux.uidMappings: expected an array, got an object" '.linux.uidMappings = {}'
C "linux.devices[0] a string" ".linux.devices[0]: expected an object, got a string" '.linux.devices = ["/dev/null"]'
C "linux.resources an array" ".linux.resources: expected an object, got an array" '.linux.resources = []'
C "linux.resources.memory.limit a string" ".linux.resources.memory.limit" '.linux.resources.memory = {limit: "1G"}'
C "linux.resources.pids a number" ".linux.resources.pids: expected an object, got 5" '.linux.resources.pids = 5'
C "linux.seccomp a string" ".linux.seccomp: expected an object, got a string" '.linux.seccomp = "unconfined"'
C "linux.seccomp.syscalls[0].names a string" ".linux.seccomp.syscalls[0].names: expected an array, got a string" \
	'.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", syscalls: [{names: "read", action: "SCMP_ACT_ALLOW"}]}'
C "linux.sysctl value a number" '.linux.sysctl["net.core.somaxconn"]: expected a string, got 256' \
	'.linux.sysctl = {"net.core.somaxconn": 256}'
C "linux.maskedPaths a string" ".linux.maskedPaths: expected an array, got a string" '.linux.maskedPaths = "/proc/kcore"'
C "linux.cgroupsPath a number" ".linux.cgroupsPath: expected a string, got 1" '.linux.cgroupsPath = 1'

# ---------------------------------------- huge numbers, negative sizes ---

C "uid 2^32" ".process.user.uid: expected an unsigned 32-bit integer, got 4294967296" '.process.user.uid = 4294967296'
C "uid -1" ".process.user.uid: expected an unsigned 32-bit integer, got -1" '.process.user.uid = -1'
C "gid 1.5" ".process.user.gid: expected an unsigned 32-bit integer, got 1.5" '.process.user.gid = 1.5'
# N NAME SUBSTRING JQ_FILTER NUMBER: the filter puts "@N@" where NUMBER goes
# (jq itself would round a big number through a double).
N() {
	t "config: $1" _case_num "$2" "$3" "$4"
}
_case_num() {
	new_container
	cfg "$2"
	sed -i "s/\"@N@\"/$3/" "$BUNDLE/config.json"
	grep -q -- "$3" "$BUNDLE/config.json" || fail "the number $3 is not in the config"
	create_fails "$1"
}
N "rlimit hard 2^64" ".process.rlimits[0].hard: expected an unsigned 64-bit integer, got 18446744073709551616" \
	'.process.rlimits = [{type: "RLIMIT_NOFILE", soft: 1, hard: "@N@"}]' 18446744073709551616
N "uid 10^30" ".process.user.uid: expected an unsigned 32-bit integer, got 1000000000000000000000000000000" \
	'.process.user.uid = "@N@"' 1000000000000000000000000000000
N "memory.limit 2^63 (one more than int64)" "got 9223372036854775808" \
	'.linux.resources.memory = {limit: "@N@"}' 9223372036854775808
N "memory.limit -2^63-1" "got -9223372036854775809" \
	'.linux.resources.memory = {limit: "@N@"}' -9223372036854775809
N "uid -0.0" ".process.user.uid" '.process.user.uid = "@N@"' -0.0
N "uid 1e400" ".process.user.uid" '.process.user.uid = "@N@"' 1e400
C "rlimit soft -1" ".process.rlimits[0].soft: expected an unsigned 64-bit integer, got -1" \
	'.process.rlimits = [{type: "RLIMIT_NOFILE", soft: -1, hard: 1}]'
C "oomScoreAdj 10^20" ".process.oomScoreAdj" '.process.oomScoreAdj = 100000000000000000000'
C "umask 01000" ".process.user.umask: expected an integer between 0 and 511, got 512" '.process.user.umask = 512'
C "consoleSize.height 70000" ".process.consoleSize.height" '.process.consoleSize = {height: 70000, width: 80}'
C "uidMappings size -1" ".linux.uidMappings[0].size: expected an unsigned 32-bit integer, got -1" \
	'.linux.namespaces += [{type: "user"}] | .linux.uidMappings = [{containerID: 0, hostID: 0, size: -1}] | .linux.gidMappings = [{containerID: 0, hostID: 0, size: 1}]'
C "uidMappings size 0" ".linux.uidMappings[0].size: must be greater than 0" \
	'.linux.namespaces += [{type: "user"}] | .linux.uidMappings = [{containerID: 0, hostID: 0, size: 0}] | .linux.gidMappings = [{containerID: 0, hostID: 0, size: 1}]'
C "hostID + size over 2^32" ".linux.uidMappings[0]: hostID + size is more than 2^32" \
	'.linux.namespaces += [{type: "user"}] | .linux.uidMappings = [{containerID: 0, hostID: 4294967295, size: 2}] | .linux.gidMappings = [{containerID: 0, hostID: 0, size: 1}]'
C "memory.limit -2" ".linux.resources.memory.limit" '.linux.resources.memory = {limit: -2}'
C "blockIO.weight -1" ".linux.resources.blockIO.weight" '.linux.resources.blockIO = {weight: -1}'
C "hugepage limit -1" ".linux.resources.hugepageLimits[0].limit" '.linux.resources.hugepageLimits = [{pageSize: "2MB", limit: -1}]'
C "device fileMode 4096" ".linux.devices[0].fileMode: expected an integer between 0 and 4095, got 4096" \
	'.linux.devices = [{path: "/dev/x", type: "c", major: 1, minor: 3, fileMode: 4096}]'
C "time offset nanosecs 10^9" ".linux.timeOffsets.boottime.nanosecs" \
	'.linux.namespaces += [{type: "time"}] | .linux.timeOffsets = {boottime: {secs: 0, nanosecs: 1000000000}}'
C "hook timeout 0" ".hooks.prestart[0].timeout: expected an integer between 1 and 2147483647, got 0" \
	'.hooks = {prestart: [{path: "/bin/true", timeout: 0}]}'

# -------------------------------------------------- duplicates, enums ---

C "duplicate namespace pid" '.linux.namespaces[' '.linux.namespaces += [{type: "pid"}]'
C "duplicate namespace: network with and without a path" 'duplicate namespace "network"' \
	'.linux.namespaces += [{type: "network"}, {type: "network", path: "/proc/self/ns/net"}]'
C "duplicate rlimit" 'duplicate rlimit "RLIMIT_NOFILE"' \
	'.process.rlimits = [{type: "RLIMIT_NOFILE", soft: 1, hard: 1}, {type: "RLIMIT_NOFILE", soft: 2, hard: 2}]'
C "unknown namespace type" 'unknown namespace "pidd"' '.linux.namespaces += [{type: "pidd"}]'
C "unknown rlimit" 'unknown rlimit "RLIMIT_FOO"' '.process.rlimits = [{type: "RLIMIT_FOO", soft: 1, hard: 1}]'
C "unknown capability" 'unknown capability "CAP_FOO"' '.process.capabilities.bounding += ["CAP_FOO"]'
C "capability in lower case" 'unknown capability "cap_kill"' '.process.capabilities.effective = ["cap_kill"]'
C "unknown seccomp action" ".linux.seccomp.defaultAction" '.linux.seccomp = {defaultAction: "SCMP_ACT_MAYBE"}'
C "unknown seccomp architecture" "SCMP_ARCH_Z80" '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_Z80"]}'
C "unknown seccomp operator" "SCMP_CMP_LIKE" \
	'.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", syscalls: [{names: ["read"], action: "SCMP_ACT_ERRNO", args: [{index: 0, value: 1, op: "SCMP_CMP_LIKE"}]}]}'
C "seccomp argument index 6" ".linux.seccomp.syscalls[0].args[0].index" \
	'.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", syscalls: [{names: ["read"], action: "SCMP_ACT_ERRNO", args: [{index: 6, value: 1, op: "SCMP_CMP_EQ"}]}]}'
C "unknown device type" '.linux.devices[0].type: unknown device type "x"' '.linux.devices = [{path: "/dev/x", type: "x", major: 1, minor: 3}]'
C "unknown rootfsPropagation" 'unknown propagation "sideways"' '.linux.rootfsPropagation = "sideways"'
C "unknown personality domain" 'unknown personality domain "LINUX64"' '.linux.personality = {domain: "LINUX64"}'
C "unknown scheduler policy" 'unknown scheduler policy "SCHED_FAST"' '.process.scheduler = {policy: "SCHED_FAST"}'
C "unknown ioPriority class" 'unknown I/O priority class' '.process.ioPriority = {class: "IOPRIO_CLASS_TURBO", priority: 1}'
C "unknown mount option on a bind mount" 'unknown mount option "frobnicate"' \
	'.mounts += [{destination: "/mnt", type: "bind", source: "/tmp", options: ["rbind", "frobnicate"]}]'
C "ociVersion 2.0.0" 'unsupported version "2.0.0"' '.ociVersion = "2.0.0"'

# -------------------------------------------------- paths and rootfs ---

C "relative process.cwd" '.process.cwd: must be an absolute path, got "tmp"' '.process.cwd = "tmp"'
C "cgroupsPath with .." '.linux.cgroupsPath: must not contain ".." components' ".linux.cgroupsPath = \"/bad-$$/../../escape\""
C "relative namespace path" ".linux.namespaces" '.linux.namespaces += [{type: "network", path: "run/netns/x"}]'
C "sysctl name with .." '.linux.sysctl["net/../../x"]: invalid sysctl name' '.linux.sysctl = {"net/../../x": "1"}'
C "relative hook path" '.hooks.prestart[0].path: must be an absolute path' '.hooks = {prestart: [{path: "bin/hook"}]}'
C "root.path that does not exist" "no-such-rootfs" '.root.path = "no-such-rootfs"'
C "root.path a file" "not a directory" '.root.path = "config.json"'
C "no mount namespace" "a mount namespace is required" '.linux.namespaces = [.linux.namespaces[] | select(.type != "mount")]'

t_rootfs_loop() {
	new_container
	ln -s keep-loop "$BUNDLE/keep-loop"
	cfg '.root.path = "keep-loop"'
	create_fails "keep-loop" "Too many levels of symbolic links"
}
t "rootfs: root.path is a symlink loop" t_rootfs_loop

# A mount whose destination goes through a symlink loop in the rootfs.
t_mount_dest_loop() {
	new_container --copy
	ln -s /loop "$ROOTFS/loop"
	add_mount /loop/x tmpfs tmpfs
	create_fails "/loop/x" "Too many levels of symbolic links"
}
t "rootfs: mount destination through a symlink loop fails, names it" t_mount_dest_loop

# Hostile: an absolute symlink in the rootfs that points at a host
# directory; a mount below it must land inside the root, never on the host.
t_abs_symlink_dest() {
	local host=$TMPDIR_IT/host-target-$$
	new_container --copy
	mkdir -p "$host"
	ln -s "$host" "$ROOTFS/evil"
	add_mount /evil/sub tmpfs tmpfs
	sleeper_args
	rt create -b "$BUNDLE" "$CID"
	[ -z "$(ls -A "$host")" ] || fail "the runtime created $(ls -A "$host") in the host directory $host"
	if [ "$RC" = 0 ]; then
		[ -d "$ROOTFS$host/sub" ] || fail "the mount point was not made inside the root ($ROOTFS$host/sub)"
		rt delete --force "$CID"
		expect_ok "delete --force"
	else
		must_fail create "/evil/sub"
	fi
	forget "$CID"
	nothing_left "$CID"
}
t "rootfs: mount below an absolute symlink to a host dir stays inside the root" t_abs_symlink_dest

# Hostile: a destination that climbs out with "..".
t_dotdot_dest() {
	local name=escape-$$-$RANDOM
	new_container --copy
	add_mount "/../../../../../../tmp/$name" tmpfs tmpfs
	sleeper_args
	rt create -b "$BUNDLE" "$CID"
	[ ! -e "/tmp/$name" ] || { fail "the runtime created /tmp/$name on the host"; rmdir "/tmp/$name"; }
	if [ "$RC" = 0 ]; then
		[ -d "$ROOTFS/tmp/$name" ] || fail "the mount point was not made inside the root"
		rt delete --force "$CID"
		expect_ok "delete --force"
	else
		must_fail create "$name"
	fi
	forget "$CID"
	nothing_left "$CID"
}
t "rootfs: mount destination /../../tmp/x stays inside the root" t_dotdot_dest

# Hostile: a masked path that climbs out with ".." masks nothing on the host.
t_dotdot_masked() {
	local f=$TMPDIR_IT/masked-$$
	echo secret >"$f"
	new_container --copy
	cfg '.linux.maskedPaths += ["/../../../../..'"$f"'"]'
	sleeper_args
	rt create -b "$BUNDLE" "$CID"
	expect_eq "$(cat "$f")" secret "the host file $f after create"
	if [ "$RC" = 0 ]; then
		rt delete --force "$CID"
		expect_ok "delete --force"
	fi
	forget "$CID"
	nothing_left "$CID"
}
t "rootfs: masked path /../../x does not touch the host" t_dotdot_masked

# A mount source that does not exist: named, nothing left.
C "bind mount source that does not exist" "/no-such-source-$$" \
	'.mounts += [{destination: "/mnt", type: "bind", source: "/no-such-source-'$$'", options: ["rbind"]}]'

# -------------------------------------------------- hooks, workload ---

C "prestart hook that does not exist" "/no-such-hook-$$" '.hooks = {prestart: [{path: "/no-such-hook-'$$'"}]}'
C "createRuntime hook that does not exist" "/no-such-hook-$$" '.hooks = {createRuntime: [{path: "/no-such-hook-'$$'"}]}'

t_hook_not_exec() {
	new_container
	echo 'not a program' >"$BUNDLE/keep-hook"
	chmod 644 "$BUNDLE/keep-hook"
	cfg '.hooks = {prestart: [{path: $p}]}' --arg p "$BUNDLE/keep-hook"
	create_fails "keep-hook"
}
t "hook that is not executable" t_hook_not_exec

# create_or_start_fails SUBSTRING...: a workload error may surface at create
# (sprout checks before start) or at start; either way named, nothing left.
create_or_start_fails() {
	rt create -b "$BUNDLE" "$CID"
	if [ "$RC" = 0 ]; then
		rt start "$CID"
		if [ "$RC" = 0 ]; then
			fail "create and start both succeeded"
			force_delete "$CID"
			return
		fi
		local err=$ERR rc=$RC
		force_delete "$CID"
		ERR=$err RC=$rc
	fi
	must_fail "create/start" "$@"
	nothing_left "$CID"
}
t_args0_noexec() {
	new_container
	set_args /etc/passwd
	create_or_start_fails /etc/passwd "ermission denied"
}
t "workload: args[0] a file without the x bit" t_args0_noexec
t_args0_dir() {
	new_container
	set_args /tmp
	create_or_start_fails /tmp
}
t "workload: args[0] a directory" t_args0_dir
t_args0_missing() {
	new_container
	set_args no-such-command-$$
	create_or_start_fails "no-such-command-$$" "not found"
}
t "workload: args[0] not in PATH" t_args0_missing
t_cwd_file() {
	new_container
	cfg '.process.cwd = "/etc/passwd"'
	create_or_start_fails /etc/passwd
}
t "workload: cwd a file" t_cwd_file

# ----------------------------------------------------------------- ids ---

long_id=$(head -c 1100 /dev/zero | tr '\0' a)
for cmd in create start state kill delete; do
	for id in "a/b" "../x" "/abs" "." ".." "a b" "a
b" "$long_id" ""; do
		case $id in
		"$long_id") shown="1100 bytes" want="too long (1100 bytes, at most 1024)" ;;
		"") shown="" want="container id is empty" ;;
		. | ..) shown=$id want="invalid container id \"$id\": reserved name" ;;
		*$'\n'*) shown='a\nb' want='invalid container id "a\x0ab"' ;;
		*) shown=$id want="invalid container id \"$id\"" ;;
		esac
		case $cmd in
		create) L "$cmd id '$shown'" "$want" create -b "$TMPDIR_IT/bundles" "$id" ;;
		*) L "$cmd id '$shown'" "$want" "$cmd" "$id" ;;
		esac
	done
done

# --------------------------------------------------------- command lines ---

t_no_command() {
	rt
	expect_rc 1 "sprout with no command"
	expect_contains "$ERR" "Usage: sprout" "the usage on stderr"
	[ -z "$OUT" ] || fail "stdout not empty: $OUT"
}
t "command line: no command prints the usage on stderr, exit 1" t_no_command
L "unknown command" 'unknown command "frobnicate"' frobnicate
L "unknown global option" '"--frobnicate"' --frobnicate list
L "unknown create option" '"--frobnicate"' create --frobnicate x
L "create without an id" "a container id is required" create
L "create --bundle without a value" "needs a value" create --bundle
L "create --preserve-fds -1" '"-1"' create --preserve-fds -1 x
L "create --preserve-fds abc" '"abc"' create --preserve-fds abc x
L "create --preserve-fds 2^40" '"1099511627776"' create --preserve-fds 1099511627776 x
L "create with two ids" 'unexpected argument "y"' create -b "$TMPDIR_IT" x y
L "create --detach (a run option)" "--detach" create --detach x
L "state with two ids" 'unexpected argument "y"' state x y
L "kill with signal 0x10" '0x10' kill x 0x10
L "kill with signal 65" '"65"' kill x 65
L "kill with signal SIGRTMAX+1" 'SIGRTMAX+1' kill x SIGRTMAX+1
L "kill with signal -9" '"-9"' kill x -9
L "kill with three arguments" 'unexpected argument' kill x TERM more
L "list --format yaml" '"yaml"' list --format yaml
L "--log-format yaml" '"yaml"' --log-format yaml list
L "--log in a missing directory" "/no-such-dir-$$/log" --log "/no-such-dir-$$/log" list
L "--rootless maybe" '"maybe"' --rootless maybe list
L "--cgroup-manager systemd-ish" 'unknown manager "systemd-ish"' --cgroup-manager systemd-ish state x
L "start of an unknown id" 'does not exist' start "no-such-$$"
L "kill of an unknown id" 'does not exist' kill "no-such-$$"
L "delete of an unknown id" 'does not exist' delete "no-such-$$"

t_pid_file_missing_dir() {
	new_container
	sleeper_args
	rt create -b "$BUNDLE" --pid-file "$TMPDIR_IT/no-such-dir/pid" "$CID"
	must_fail create "$TMPDIR_IT/no-such-dir/pid"
	nothing_left "$CID"
}
t "create --pid-file in a missing directory: fails, container removed" t_pid_file_missing_dir

t_console_missing() {
	new_container
	cfg '.process.terminal = true'
	rt create -b "$BUNDLE" --console-socket "$TMPDIR_IT/no-such-socket" "$CID"
	must_fail create "$TMPDIR_IT/no-such-socket"
	nothing_left "$CID"
}
t "create --console-socket that does not exist" t_console_missing

t_terminal_no_socket() {
	new_container
	cfg '.process.terminal = true'
	create_fails "terminal" "console-socket"
}
t "process.terminal without --console-socket" t_terminal_no_socket

# ------------------------------------------------------- --root faults ---

# with_root DIR FUNCTION: run FUNCTION with --root DIR.
with_root() {
	local saved=$ROOT
	ROOT=$1
	"$2"
	ROOT=$saved
}

t_root_readonly() {
	local ro=$TMPDIR_IT/ro-root
	mkdir -p "$ro"
	new_container
	sleeper_args
	host_mount -t tmpfs -o ro,size=1m tmpfs "$ro" || { fail "mount a read-only tmpfs"; return; }
	_ro() {
		rt create -b "$BUNDLE" "$CID"
		must_fail create "$ro" "Read-only file system"
		[ -z "$(ls -A "$ro")" ] || fail "left in the read-only root: $(ls -A "$ro")"
	}
	with_root "$ro/state" _ro
	host_umount "$ro"
	nothing_left "$CID"
}
t "--root on a read-only file system: fails, names it" t_root_readonly

t_root_file() {
	new_container
	_f() {
		rt create -b "$BUNDLE" "$CID"
		must_fail create "$BUNDLE/config.json"
	}
	with_root "$BUNDLE/config.json/state" _f
	nothing_left "$CID"
}
t "--root below a regular file: fails, names it" t_root_file

# A full disk: a tmpfs whose every block is taken.  The state dir (an
# inode) can be made, state.json cannot: create fails after the init was
# cloned and the cgroup made, and must undo all of it.
t_root_full() {
	local full=$TMPDIR_IT/full-root
	mkdir -p "$full"
	new_container
	sleeper_args
	host_mount -t tmpfs -o size=64k tmpfs "$full" || { fail "mount a small tmpfs"; return; }
	dd if=/dev/zero of="$full/filler" bs=4k count=100 2>/dev/null
	_full() {
		rt create -b "$BUNDLE" "$CID"
		must_fail create "No space left on device"
		local left
		left=$(cd "$full" && find . -mindepth 1 ! -name filler)
		[ -z "$left" ] || fail "left on the full file system: $left"
	}
	with_root "$full" _full
	host_umount "$full"
	nothing_left "$CID"
}
t "--root on a full file system (no blocks): fails, undoes everything" t_root_full

t_root_no_inodes() {
	local full=$TMPDIR_IT/noinode-root
	mkdir -p "$full"
	new_container
	sleeper_args
	host_mount -t tmpfs -o size=1m,nr_inodes=3 tmpfs "$full" || { fail "mount a small tmpfs"; return; }
	touch "$full/a" "$full/b" 2>/dev/null
	_noinode() {
		rt create -b "$BUNDLE" "$CID"
		must_fail create "No space left on device"
		local left
		left=$(cd "$full" && find . -mindepth 1 ! -name a ! -name b)
		[ -z "$left" ] || fail "left on the full file system: $left"
	}
	with_root "$full" _noinode
	host_umount "$full"
	nothing_left "$CID"
}
t "--root on a file system without free inodes: fails, names the cause" t_root_no_inodes

done_testing
