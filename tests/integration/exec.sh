#!/bin/bash
# exec: a new process in a running container — output and exit status,
# namespaces, cgroup, user/cwd/env/caps, detached with a pid file, the
# process file containerd uses, preserved fds, sub-cgroups, refusals.
. "$(dirname "$0")/lib.sh"

NS_LIST="pid net ipc uts mnt user cgroup time"

# A running container: sleeper workload, run detached; INIT = its host pid.
start_sleeper() {
	new_container "${1:-}"
	sleeper_args
	rt run -d -b "$BUNDLE" "$CID"
	expect_ok "run -d" || return 1
	state "$CID"
	INIT=$(jq -r .pid <<<"$STATE")
	[ -n "$INIT" ] && [ "$INIT" != 0 ] || { fail "no init pid in state: $STATE"; return 1; }
}

# The host pid of the process of container CID whose cmdline contains $1.
pid_in_container() {
	local p
	for p in $(procs_in_cgroup "$CID" | cut -d' ' -f1); do
		tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -qF -- "$1" && { echo "$p"; return 0; }
	done
	return 1
}

done_with() { # delete the container and check nothing is left
	rt delete --force "$CID"
	expect_ok "delete --force"
	forget "$CID"
	leftovers_after "$CID"
}

t_output_status() {
	start_sleeper || return
	rt exec "$CID" sh -c 'echo to-stdout; echo to-stderr >&2; exit 7'
	expect_rc 7 "exec of a command exiting 7"
	expect_eq "$OUT" "to-stdout" "stdout of the exec'd command (and nothing else)"
	expect_eq "$ERR" "to-stderr" "stderr of the exec'd command (and nothing else)"
	rt exec "$CID" true
	expect_rc 0 "exec true"
	expect_eq "$OUT$ERR" "" "output of a silent command"
	done_with
}
t "exec: the command's stdout, stderr and exit status, nothing else" t_output_status

t_signal_status() {
	start_sleeper || return
	rt exec "$CID" sh -c 'kill -KILL $$'
	expect_rc 137 "exec of a command killed by SIGKILL"
	done_with
}
t "exec: killed by SIGKILL -> exit status 137" t_signal_status

t_namespaces() {
	local userns=$1 ns want got
	new_container
	if [ "$userns" = 1 ]; then
		add_ns user
		add_ns time
		cfg '.linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}] |
		     .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]'
	fi
	sleeper_args
	rt run -d -b "$BUNDLE" "$CID"
	expect_ok "run -d" || return
	state "$CID"
	INIT=$(jq -r .pid <<<"$STATE")
	rt exec "$CID" sprout-probe $(for ns in $NS_LIST; do printf 'ns_%s ' "$ns"; done) pid
	expect_ok "exec sprout-probe" || { done_with; return; }
	for ns in $NS_LIST; do
		want=$(stat -L -c %i "/proc/$INIT/ns/$ns" 2>/dev/null)
		got=$(pv "ns_$ns")
		expect_eq "$got" "$want" "$ns namespace of the exec'd process (the init's)"
	done
	if [ "$userns" = 1 ]; then
		expect_ne "$(pv ns_user)" "$(host_ns user)" "user namespace is the container's, not the host's"
	fi
	expect_ne "$(pv pid)" 1 "pid of the exec'd process (not the init's)"
	done_with
}
t "exec: joins every namespace of the init (inode comparison)" t_namespaces 0
t "exec: joins the user and time namespaces too" t_namespaces 1

t_cgroup_parent() {
	start_sleeper || return
	rt_bg exec "$CID" sleep 3
	local p i
	for ((i = 0; i < 50; i++)); do
		p=$(pid_in_container "sleep 3") && break
		sleep 0.1
	done
	if [ -z "$p" ]; then
		fail "the exec'd sleep is not in the container's cgroup"
		rt_wait
		done_with
		return
	fi
	expect_eq "$(cat "/proc/$p/cgroup")" "$(cat "/proc/$INIT/cgroup")" "cgroups of the exec'd process (the init's)"
	local ppid
	ppid=$(awk '/^PPid:/ {print $2}' "/proc/$p/status")
	expect_eq "$ppid" "$(bg_runtime_pid)" "parent of the exec'd process (sprout exec itself)"
	rt_wait
	expect_ok "foreground exec of sleep 3"
	done_with
}
t "exec: in the container's cgroup, a child of sprout exec" t_cgroup_parent

t_user_cwd_env() {
	start_sleeper || return
	rt exec --user 1000:1000 --additional-gids 2000 -g 3000 --cwd /tmp \
		--env FOO=bar -e 'SPACES=a b' "$CID" \
		sh -c 'sprout-probe uid gid groups cwd; sprout-probe env'
	expect_ok "exec with --user/--cwd/--env" || { done_with; return; }
	expect_eq "$(pv uid)" 1000 uid
	expect_eq "$(pv gid)" 1000 gid
	expect_eq "$(pv groups | tr , '\n' | sort -n | paste -sd,)" 2000,3000 "supplementary groups"
	expect_eq "$(pv cwd)" /tmp cwd
	expect_eq "$(pv FOO)" bar "FOO from --env"
	expect_eq "$(pv SPACES)" "a b" "SPACES from -e"
	expect_eq "$(pv PATH)" "$(jq -r '.process.env[] | select(startswith("PATH=")) | ltrimstr("PATH=")' "$BUNDLE/config.json")" \
		"PATH from the config"
	done_with
}
t "exec --user/--additional-gids/--cwd/--env" t_user_cwd_env

t_cap() {
	start_sleeper || return
	rt exec --cap CAP_SYS_ADMIN -c net_raw "$CID" sprout-probe cap_eff cap_prm cap_bnd cap_inh cap_amb
	expect_ok "exec with --cap" || { done_with; return; }
	local eff=$((16#$(pv cap_eff))) bnd=$((16#$(pv cap_bnd)))
	# CAP_SYS_ADMIN 21, CAP_NET_RAW 13, CAP_KILL 5 (the config's)
	[ $((eff >> 21 & 1)) = 1 ] || fail "CAP_SYS_ADMIN not in the effective set: $(pv cap_eff)"
	[ $((eff >> 13 & 1)) = 1 ] || fail "CAP_NET_RAW (-c net_raw) not in the effective set: $(pv cap_eff)"
	[ $((eff >> 5 & 1)) = 1 ] || fail "the config's CAP_KILL lost: $(pv cap_eff)"
	[ $((bnd >> 21 & 1)) = 1 ] || fail "CAP_SYS_ADMIN not in the bounding set: $(pv cap_bnd)"
	expect_eq "$((16#$(pv cap_inh)))" 0 "inheritable set (--cap never adds one)"
	expect_eq "$((16#$(pv cap_amb)))" 0 "ambient set"
	rt exec "$CID" sprout-probe cap_eff
	expect_eq "$(pv cap_eff)" 0000000020000420 "without --cap: the config's three"
	done_with
}
t "exec --cap: added to bounding/effective/permitted, never inheritable" t_cap

t_equals_forms() {
	start_sleeper || return
	rt exec --user=1000 --cwd=/home/test --env=FOO=x=y --preserve-fds=0 "$CID" \
		sh -c 'sprout-probe uid gid cwd; sprout-probe env'
	expect_ok "exec with --opt=value forms" || { done_with; return; }
	expect_eq "$(pv uid)" 1000 "uid (--user=1000)"
	expect_eq "$(pv gid)" "$(jq -r .process.user.gid "$BUNDLE/config.json")" "gid without :GID (the config's)"
	expect_eq "$(pv cwd)" /home/test "cwd (--cwd=)"
	expect_eq "$(pv FOO)" x=y "FOO (--env=FOO=x=y)"
	done_with
}
t "exec: --opt=value forms accepted" t_equals_forms

t_env_override() {
	new_container
	cfg '.process.env += ["FOO=config"]'
	sleeper_args
	rt run -d -b "$BUNDLE" "$CID"
	expect_ok "run -d" || return
	rt exec -e FOO=one -e FOO=two "$CID" sprout-probe env
	expect_ok "exec -e FOO twice" || { done_with; return; }
	expect_eq "$(grep -c '^FOO=' <<<"$OUT")" 1 "FOO appears once"
	expect_eq "$(pv FOO)" two "the last --env wins"
	done_with
}
t "exec: a later --env replaces an earlier value" t_env_override

t_nnp_rlimit() {
	new_container
	cfg '.process.noNewPrivileges = false | .process.rlimits = [{type: "RLIMIT_NOFILE", soft: 1000, hard: 1000}]'
	sleeper_args
	rt run -d -b "$BUNDLE" "$CID"
	expect_ok "run -d" || return
	rt exec "$CID" sprout-probe no_new_privs rlimit_nofile
	expect_ok "exec" || { done_with; return; }
	expect_eq "$(pv no_new_privs)" 0 "no_new_privs without --no-new-privs (config false)"
	expect_eq "$(pv rlimit_nofile_soft)" 1000 "the container's RLIMIT_NOFILE"
	rt exec --no-new-privs "$CID" sprout-probe no_new_privs
	expect_eq "$(pv no_new_privs)" 1 "no_new_privs with --no-new-privs"
	done_with
}
t "exec: the container's rlimits; --no-new-privs" t_nnp_rlimit

t_seccomp() {
	new_container
	cfg '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW",
	     syscalls: [{names: ["sethostname"], action: "SCMP_ACT_ERRNO", errnoRet: 1}]}'
	sleeper_args
	rt run -d -b "$BUNDLE" "$CID"
	expect_ok "run -d with a seccomp profile" || return
	rt exec "$CID" sprout-probe seccomp
	expect_eq "$(pv seccomp)" 2 "seccomp mode of the exec'd process (filter)"
	rt exec "$CID" hostname newname
	expect_failure "sethostname refused by the container's filter"
	done_with
}
t "exec: the container's seccomp filter applies" t_seccomp

t_detached() {
	start_sleeper || return
	local pf=$TMPDIR_IT/$CID.exec.pid
	rt exec --detach --pid-file "$pf" "$CID" sleep 100
	expect_ok "exec --detach" || { done_with; return; }
	expect_eq "$OUT$ERR" "" "output of exec --detach"
	local pid
	pid=$(cat "$pf" 2>/dev/null)
	expect_match "$(od -An -c "$pf" | tr -d ' \n')" '^[0-9]+$' "pid file: digits only" || { done_with; return; }
	pid_alive "$pid" || fail "pid $pid from the pid file is not running"
	tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q '^sleep 100' || fail "pid $pid is not the sleep: $(tr '\0' ' ' <"/proc/$pid/cmdline")"
	expect_eq "$(cat "/proc/$pid/cgroup")" "$(cat "/proc/$INIT/cgroup")" "cgroups of the detached process"
	expect_eq "$(stat -L -c %i "/proc/$pid/ns/pid")" "$(stat -L -c %i "/proc/$INIT/ns/pid")" "pid namespace of the detached process"
	done_with
	pid_alive "$pid" && fail "the detached process survived delete --force"
}
t "exec --detach --pid-file: digits only, written before exec returns" t_detached

t_process_file() {
	new_container --copy
	cfg '.root.readonly = false'
	sleeper_args
	rt run -d -b "$BUNDLE" "$CID"
	expect_ok "run -d" || return
	local pf=$TMPDIR_IT/$CID.process.json pidf=$TMPDIR_IT/$CID.p.pid
	jq -n '{terminal: false, user: {uid: 1000, gid: 1000}, cwd: "/tmp",
	        args: ["sh", "-c", "sprout-probe uid cwd cap_eff > /tmp/out-$0; sprout-probe env >> /tmp/out-$0", "x"],
	        env: ["PATH=/usr/bin:/bin", "FROM_FILE=yes"]}' >"$pf"
	# containerd's call
	rt exec --process "$pf" --detach --pid-file "$pidf" "$CID"
	expect_ok "exec --process FILE --detach --pid-file" || { done_with; return; }
	expect_match "$(cat "$pidf")" '^[0-9]+$' "pid file"
	wait_dead "$(cat "$pidf")" 5
	rt exec "$CID" cat /tmp/out-x
	expect_ok "read the output"
	expect_eq "$(pv uid)" 1000 "uid from the process file"
	expect_eq "$(pv cwd)" /tmp "cwd from the process file"
	expect_eq "$(pv FROM_FILE)" yes "env from the process file"
	expect_eq "$(pv cap_eff)" 0000000000000000 "caps of uid 1000 (the container's sets, no ambient)"
	rt exec --process "$pf" "$CID" extra
	expect_failure "both --process and a command"
	expect_sprout_error
	done_with
}
t "exec --process FILE (containerd's form)" t_process_file

t_preserve_fds() {
	start_sleeper || return
	local f=$TMPDIR_IT/$CID.fd
	echo data >"$f"
	_IO_COUNTER=$((_IO_COUNTER + 1))
	timeout 30 "$SPROUT" --root "$ROOT" exec --preserve-fds 2 "$CID" sprout-probe fds \
		3<"$f" 4<"$f" 5<"$f" </dev/null >"$TMPDIR_IT/io/$_IO_COUNTER.out" 2>&1
	RC=$? OUT=$(cat "$TMPDIR_IT/io/$_IO_COUNTER.out") ERR=
	expect_ok "exec --preserve-fds 2" || { done_with; return; }
	expect_match "$OUT" "^fd=3 $f\$" "fd 3 passed"
	expect_match "$OUT" "^fd=4 $f\$" "fd 4 passed"
	expect_no_match "$OUT" "^fd=5 " "fd 5 (not preserved) closed"
	expect_no_match "$OUT" "^fd=(6|7|8|9|[1-9][0-9])" "no other fd of sprout's"
	done_with
}
t "exec --preserve-fds 2: fds 3 and 4 inside, 5 closed" t_preserve_fds

t_sub_cgroup() {
	start_sleeper || return
	local dir sub
	dir=$(find /sys/fs/cgroup/pids -maxdepth 4 -type d -name "$CID" | head -n1)
	[ -n "$dir" ] || { fail "no pids cgroup of the container"; done_with; return; }
	sub=$dir/sub
	mkdir "$sub" || { fail "mkdir $sub"; done_with; return; }
	rt exec --cgroup pids:sub "$CID" cat /proc/self/cgroup
	expect_ok "exec --cgroup pids:sub"
	expect_match "$OUT" '^[0-9]+:pids:/sub$' "the pids cgroup of the process (seen from its cgroup namespace)"
	expect_match "$OUT" '^[0-9]+:memory:/$' "other controllers: the container's own"
	rt exec --cgroup missing "$CID" true
	expect_failure "exec --cgroup with a missing sub-cgroup"
	expect_contains "$ERR" "missing" "the error names the sub-cgroup"
	rt exec --cgroup ../escape "$CID" true
	expect_failure "exec --cgroup ../escape"
	rmdir "$sub"
	done_with
}
t "exec --cgroup CTRL:PATH: an existing sub-cgroup" t_sub_cgroup

t_stopped() {
	new_container
	set_args true
	rt create -b "$BUNDLE" "$CID"
	expect_ok create || return
	rt start "$CID"
	wait_status "$CID" stopped || fail "container did not stop"
	rt exec "$CID" true
	expect_failure "exec into a stopped container"
	expect_sprout_error
	expect_contains "$ERR" "stopped" "the error says why"
	rt exec nonexistent-"$CID" true
	expect_failure "exec into a container that does not exist"
	expect_contains "$ERR" "does not exist" "the error says why"
	done_with
}
t "exec into a stopped or missing container fails clearly" t_stopped

t_paused() {
	start_sleeper || return
	local fz
	fz=$(find /sys/fs/cgroup/freezer -maxdepth 4 -type d -name "$CID" | head -n1)
	# `sprout pause`/`resume` where they exist, else the freezer directly
	rt_noroot help pause
	local have_pause=$RC
	freeze() {
		if [ "$have_pause" = 0 ]; then
			rt "$1" "$CID"
			expect_ok "$1"
		else
			echo "$2" >"$fz/freezer.state"
		fi
	}
	[ "$have_pause" = 0 ] || [ -n "$fz" ] || { skip "no pause command and no freezer cgroup"; done_with; return; }
	freeze pause FROZEN
	rt exec "$CID" true
	expect_failure "exec into a paused container"
	expect_sprout_error
	expect_contains "$ERR" "paused" "the error says why"
	# --ignore-paused goes ahead: the process waits for the resume, which
	# must not wait for the exec in turn
	rt_bg exec --ignore-paused "$CID" echo ran
	sleep 1
	freeze resume THAWED
	rt_wait
	expect_ok "exec --ignore-paused"
	expect_eq "$OUT" ran "output once resumed"
	done_with
}
t "exec into a paused container fails unless --ignore-paused" t_paused

t_bad_input() {
	start_sleeper || return
	local before
	before=$(procs_in_cgroup "$CID" | wc -l)
	rt exec -t -d "$CID" sh
	expect_failure "exec --tty --detach without --console-socket"
	expect_sprout_error
	expect_contains "$ERR" "console-socket" "the error names the option"
	rt exec --user abc "$CID" true
	expect_failure "exec --user abc"
	expect_contains "$ERR" "--user" "the error names the option"
	rt exec --cap CAP_NOPE "$CID" true
	expect_failure "exec --cap CAP_NOPE"
	expect_contains "$ERR" "CAP_NOPE" "the error names the capability"
	rt exec "$CID"
	expect_failure "exec with no command"
	rt exec "$CID" /does/not/exist
	expect_failure "exec of a missing executable"
	expect_sprout_error
	expect_contains "$ERR" "/does/not/exist" "the error names the executable"
	rt exec --cwd relative "$CID" true
	expect_failure "exec --cwd relative"
	expect_eq "$(procs_in_cgroup "$CID" | wc -l)" "$before" "processes in the container after the failures"
	done_with
}
t "exec: bad input fails with one line, leaves no process" t_bad_input

t_forward_signal() {
	start_sleeper || return
	rt_bg exec "$CID" sh -c 'trap "exit 42" TERM; while :; do sleep 0.1; done'
	local rtpid
	rtpid=$(bg_runtime_pid)
	sleep 0.5
	kill -TERM "$rtpid"
	rt_wait
	expect_rc 42 "exec'd shell exiting 42 on the forwarded SIGTERM"
	done_with
}
t "exec: signals to sprout exec reach the process" t_forward_signal

t_documented() {
	rt_noroot exec --help
	expect_ok "exec --help" || return
	local opts o
	opts=$(grep -oE -- '--[a-z][a-z-]+' <<<"$OUT" | sort -u)
	[ "$(wc -l <<<"$opts")" -ge 16 ] || fail "exec --help lists only: $opts"
	local comp
	comp=$(bash -c '. "$1"; _sprout_cmd_opts exec' sh "$REPO/contrib/completion/sprout.bash")
	for o in $opts; do
		grep -qF -- "${o//-/\\-}" "$REPO/man/sprout-exec.8" || fail "$o missing from man/sprout-exec.8"
		grep -qw -- "$o" <<<"$comp" || fail "$o missing from the bash completion"
	done
	grep -q "sprout-exec.8" "$REPO/man/meson.build" || fail "sprout-exec.8 not installed (man/meson.build)"
}
t "exec: every option in --help, the man page and the completion" t_documented

t "no container of this file left anything behind" true
done_testing
