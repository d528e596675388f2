#!/bin/bash
# The container-runtime CVEs of runc and crun, replayed against sprout.
# Each test builds the hostile rootfs or config of the attack and shows
# sprout refusing it or staying unaffected: nothing on the host changes.
. "$(dirname "$0")/lib.sh"

CVE_HELPER=sprout-cve
[ -x "$SPROUT_FIXTURE/usr/bin/$CVE_HELPER" ] || bail "fixture has no $CVE_HELPER (build tests/helpers)"
[ -f "$HELPERS_DIR/libsprout-cve5736.so" ] || bail "libsprout-cve5736.so not built"

hex() { printf '0x%x' "$((16#${1:-0}))"; }

# host_dir NAME: an empty directory on the host, outside every rootfs, that
# an escaping mount or mkdir would touch; its listing is checked later.
host_dir() {
	HOST=$TMPDIR_IT/host-$1-$_ID_COUNTER
	rm -rf "$HOST"
	mkdir -p "$HOST"
}

# expect_host_untouched: HOST is still empty and nothing is mounted on it.
expect_host_untouched() {
	local what=${1:-host directory}
	local found
	found=$(find "$HOST" -mindepth 1 2>/dev/null | head -n 5)
	[ -z "$found" ] || fail "$what $HOST was written to: $found"
	grep -qF " $HOST" /proc/self/mountinfo && fail "something is mounted on $what $HOST"
	return 0
}

# ------------------------------------------------------ CVE-2019-5736 ---

# private_runtime NAME [ro]: a copy of the runtime in a directory of its
# own (a write into it harms nothing else), on a read-only bind mount with
# "ro".  Sets BIN, BIN_DIR and BIN_SUM (its sha256).
private_runtime() {
	BIN_DIR=$TMPDIR_IT/bin-$1
	mkdir -p "$BIN_DIR"
	BIN=$BIN_DIR/sprout
	cp "$SPROUT" "$BIN"
	if [ "${2:-}" = ro ]; then
		host_mount --bind "$BIN_DIR" "$BIN_DIR" && mount -o remount,bind,ro "$BIN_DIR" ||
			{ fail "cannot make $BIN_DIR read-only"; return 1; }
	fi
	BIN_SUM=$(sha256sum <"$BIN")
}

private_runtime_done() {
	grep -qF " $BIN_DIR " /proc/self/mountinfo && host_umount "$BIN_DIR"
	rm -rf "$BIN_DIR"
}

# attack_rootfs: the attacker's half of CVE-2019-5736 in ROOTFS (a copy):
# the runtime's libraries, the preload library, and /entry, a script whose
# interpreter is "/proc/self/exe".  ATTACK_ENV: the environment that arms it.
attack_rootfs() {
	local lib
	for lib in $(ldd "$BIN" | grep -o '/[^ ]*'); do
		mkdir -p "$ROOTFS$(dirname "$lib")"
		cp -L "$lib" "$ROOTFS$lib"
	done
	cp "$HELPERS_DIR/libsprout-cve5736.so" "$ROOTFS/evil.so"
	printf '#!/proc/self/exe\n' >"$ROOTFS/entry"
	chmod 755 "$ROOTFS/entry"
	# ASAN_OPTIONS: for a sanitizer build of sprout
	ATTACK_ENV=(LD_PRELOAD=/evil.so CVE_RESULT=/cve-result "CVE_WRITER=/usr/bin/$CVE_HELPER"
		ASAN_OPTIONS=verify_asan_link_order=0)
}

# attack_result: wait for the preloaded code's report in ROOTFS/cve-result
# and check the runtime binary was not written.  Sets RESULT.
attack_result() {
	wait_file "$ROOTFS/cve-result" 10 '^\(open\|write\)=' ||
		fail "the attack did not run (no result from the preloaded code): $(cat "$ROOTFS/cve-result" 2>&1)"
	RESULT=$(cat "$ROOTFS/cve-result" 2>/dev/null)
	diag "attack: $(paste -sd' ' <<<"$RESULT")"
	expect_match "$RESULT" '^exe=' "the runtime binary ran inside the container"
	expect_eq "$(sha256sum <"$BIN")" "$BIN_SUM" "sha256 of the runtime binary after the attack"
	expect_no_match "$RESULT" '^write=[0-9]' "a write into the binary the container saw"
}

t_cve_2019_5736() {
	# The workload overwrites the runtime binary through /proc/self/exe: an
	# entrypoint "#!/proc/self/exe" makes the kernel run the runtime inside
	# the container; the container's own ld.so, libraries and LD_PRELOAD
	# run attacker code in it, which keeps an fd on /proc/self/exe and
	# reopens it for writing once the binary is no longer busy.
	# With "rw", sprout moves its running image onto a detached read-only
	# bind mount of its binary (no exec); with "reexec" it re-executes
	# itself from that mount (the fallback, forced by
	# SPROUT_SELFEXE_REEXEC=1); with "ro", the binary sits on a read-only
	# mount: sprout does neither, and the attack must fail all the same.
	local mode=$1 log=$TMPDIR_IT/5736-$1.log
	local -x SPROUT_SELFEXE_REEXEC
	[ "$mode" = reexec ] && SPROUT_SELFEXE_REEXEC=1
	[ "$mode" = reexec ] || unset SPROUT_SELFEXE_REEXEC
	private_runtime "5736-$mode" "${mode/reexec/rw}" || return
	new_container --copy
	attack_rootfs
	cfg '.root.readonly = false | .process.args = ["/entry"] | .process.env += $e' \
		--argjson e "$(json_array "${ATTACK_ENV[@]}")"
	local SPROUT=$BIN
	rt --debug --log "$log" create -b "$BUNDLE" "$CID"
	expect_ok create || return
	rt start "$CID"
	expect_ok start || return
	attack_result
	wait_status "$CID" stopped 10
	if [ "$mode" = ro ]; then
		expect_contains "$(cat "$log")" "the binary is on a read-only mount" "read-only binary (debug log)"
		expect_no_match "$(cat "$log")" "re-executing" "no re-exec for a read-only binary"
		expect_match "$RESULT" '^exe=/' "the container saw the read-only binary itself"
	elif [ "$mode" = reexec ]; then
		expect_contains "$(cat "$log")" "re-executing from a detached read-only mount" \
			"re-executed from a read-only view of the binary (debug log)"
		expect_match "$RESULT" '^open=Read-only file system' \
			"reopening the binary the container saw for writing: EROFS"
	else
		expect_contains "$(cat "$log")" "now running from a detached read-only mount" \
			"moved onto a read-only view of the binary (debug log)"
		expect_no_match "$(cat "$log")" "re-executing" "no re-exec"
		expect_match "$RESULT" '^open=Read-only file system' \
			"reopening the binary the container saw for writing: EROFS"
	fi
	rt delete --force "$CID"
	forget "$CID"
	leftovers_after "$CID"
	private_runtime_done
}
t "CVE-2019-5736: '#!/proc/self/exe' entrypoint cannot overwrite the runtime binary" t_cve_2019_5736 rw
t "CVE-2019-5736: the same with the re-exec fallback (SPROUT_SELFEXE_REEXEC=1)" t_cve_2019_5736 reexec
t "CVE-2019-5736: a runtime binary on a read-only mount (no re-exec) is safe too" t_cve_2019_5736 ro

# ----------------------------------- CVE-2019-16884, 2023-27561/28642 ---

t_cve_2019_16884() {
	# a volume mounted over /proc: the runtime's procfs writes (LSM label,
	# oom_score_adj, sysctl) must not land in its plain files
	local fake=$TMPDIR_IT/fakeproc-$_ID_COUNTER
	mkdir -p "$fake/self/attr" "$fake/sys/kernel"
	echo canary >"$fake/self/oom_score_adj"
	echo canary >"$fake/self/attr/exec"
	new_container
	cfg '.process.oomScoreAdj = 77 | .mounts += [{destination: "/proc", type: "bind", source: $f, options: ["rbind"]}]' --arg f "$fake"
	rt run -b "$BUNDLE" "$CID"
	expect_failure "run with a fake /proc" || return
	expect_sprout_error
	expect_match "$ERR" 'procfs|/proc' "error says /proc is not procfs"
	expect_eq "$(cat "$fake/self/oom_score_adj")" canary "the fake oom_score_adj"
	expect_eq "$(cat "$fake/self/attr/exec")" canary "the fake attr/exec"
	leftovers_after "$CID"
}
t "CVE-2019-16884: a directory mounted over /proc gets no procfs write" t_cve_2019_16884

t_cve_2023_27561() {
	# the same class, re-introduced in runc 1.1: a mount on the very file
	# the runtime writes (/proc/self/oom_score_adj resolves to the init's)
	local file=$TMPDIR_IT/oom-canary-$_ID_COUNTER
	echo canary >"$file"
	new_container
	cfg '.process.oomScoreAdj = 77 | .mounts += [{destination: "/proc/self/oom_score_adj", type: "bind", source: $f, options: ["bind"]}]' --arg f "$file"
	rt run -b "$BUNDLE" "$CID"
	if [ "$RC" = 0 ]; then
		fail "run succeeded: the write went somewhere ($(cat "$file"))"
	else
		expect_sprout_error
		expect_match "$ERR" 'oom_score_adj' "error names the write"
	fi
	expect_eq "$(cat "$file")" canary "the file mounted over oom_score_adj"
	leftovers_after "$CID"
}
t "CVE-2023-27561: a file mounted over a procfs target is not written" t_cve_2023_27561

t_cve_2023_28642() {
	# /proc in the rootfs is a symlink to a directory of fake files
	new_container --copy
	rmdir "${ROOTFS:?}/proc" 2>/dev/null || rm -rf "${ROOTFS:?}/proc"
	mkdir -p "$ROOTFS/fakeproc/self"
	echo canary >"$ROOTFS/fakeproc/self/oom_score_adj"
	ln -s /fakeproc "$ROOTFS/proc"
	cfg '.root.readonly = false | .process.oomScoreAdj = 77'
	set_args sh -c 'cat /proc/self/oom_score_adj'
	rt run -b "$BUNDLE" "$CID"
	if [ "$RC" = 0 ]; then
		# allowed only if the write went to the real procfs
		expect_eq "$OUT" 77 "oom_score_adj read inside"
	else
		expect_sprout_error
	fi
	expect_eq "$(cat "$ROOTFS/fakeproc/self/oom_score_adj")" canary "the fake oom_score_adj"
	expect_eq "$(readlink "$ROOTFS/proc")" /fakeproc "the rootfs's /proc link"
	leftovers_after "$CID"
}
t "CVE-2023-28642: /proc as a symlink in the rootfs does not redirect procfs writes" t_cve_2023_28642

t_sys_symlink() {
	host_dir sys
	new_container --copy
	rm -rf "${ROOTFS:?}/sys"
	ln -s "$HOST" "$ROOTFS/sys"
	cfg '.root.readonly = false'
	rt run -b "$BUNDLE" "$CID"
	expect_host_untouched "the host directory /sys pointed to"
	leftovers_after "$CID"
}
t "CVE-2019-16884 (sysfs): /sys as a symlink to a host path mounts inside the root only" t_sys_symlink

# --------------------------------------- CVE-2019-19921, 2021-30465 ---

t_cve_2019_19921() {
	local kind=$1 target
	host_dir 19921
	new_container --copy
	if [ "$kind" = absolute ]; then
		target=$HOST
	else
		target=../../../../../../../../../..$HOST
	fi
	ln -s "$target" "$ROOTFS/data"
	cfg '.root.readonly = false | .mounts += [{destination: "/data/x", type: "tmpfs", source: "tmpfs"}]'
	set_args sh -c 'touch /data/x/written; echo ok'
	rt run -b "$BUNDLE" "$CID"
	expect_ok "run (the target resolves inside the root)" || return
	expect_host_untouched "the host directory the mount target pointed to"
	leftovers_after "$CID"
}
t "CVE-2019-19921: mount target through an absolute symlink stays in the root" t_cve_2019_19921 absolute
t "CVE-2019-19921: mount target through a ../ symlink stays in the root" t_cve_2019_19921 relative

# The mount's flags are set after the mount, on the target opened again by
# its name: that open must resolve inside the root as the mount did, not
# through the symlink to a host mount (here a tmpfs of the test's own),
# which would then be remounted read-only.
t_symlink_remount() {
	local vol opts
	new_container --copy
	host_dir remount
	vol=$TMPDIR_IT/vol-remount-$_ID_COUNTER
	mkdir -p "$HOST/m" "$vol"
	# after new_container: the host's mount table it records lacks it
	mount -t tmpfs -o size=1m sprout-test "$HOST/m" || {
		fail "cannot mount a tmpfs on $HOST/m"
		return
	}
	ln -s "$HOST" "$ROOTFS/data"
	cfg '.root.readonly = false | .mounts += [{destination: "/data/m", type: "bind", source: $v, options: ["bind", "ro"]}]' \
		--arg v "$vol"
	set_args sh -c 'touch /data/m/x 2>/dev/null && echo rw || echo ro'
	rt run -b "$BUNDLE" "$CID"
	opts=$(findmnt -n -o OPTIONS --mountpoint "$HOST/m")
	umount "$HOST/m"
	expect_match ",$opts," ",rw," "the host's tmpfs behind the symlink keeps its flags" || return
	expect_ok run || return
	expect_eq "$OUT" ro "the bind inside the root is read-only"
	leftovers_after "$CID"
}
t "a ro bind through a symlink to a host mount remounts the bind inside the root only" t_symlink_remount

t_cve_2021_30465() {
	# a volume the container controls holds a symlink; a later mount's
	# target goes through it (the race swapped a directory for it)
	host_dir 30465
	local vol=$TMPDIR_IT/vol-30465-$_ID_COUNTER
	mkdir -p "$vol"
	ln -sfn "$HOST" "$vol/link"
	new_container --copy
	cfg '.root.readonly = false | .mounts += [{destination: "/vol", type: "bind", source: $v, options: ["rbind"]},
	     {destination: "/vol/link/escape", type: "tmpfs", source: "tmpfs"}]' --arg v "$vol"
	set_args sh -c 'touch /vol/link/escape/written 2>/dev/null; echo ok'
	rt run -b "$BUNDLE" "$CID"
	expect_host_untouched "the host directory the volume's symlink pointed to"
	expect_eq "$(find "$vol" -mindepth 1 | sort | paste -sd' ')" "$vol/link" "the volume"
	leftovers_after "$CID"
}
t "CVE-2021-30465: a symlink in a volume cannot redirect a later mount" t_cve_2021_30465

# -------------------------------------------------------- CVE-2025-52881 ---

t_cve_2025_52881() {
	# a procfs file of the host bound over the sysctl the runtime writes:
	# the target is on procfs too, so only "no mount crossing" catches it.
	# The redirect target is the oom_score_adj of a sleeper of ours.
	sleep 60 &
	local sl=$!
	HELPER_PIDS+=("$sl")
	local before
	before=$(cat "/proc/$sl/oom_score_adj")
	new_container
	cfg '.linux.sysctl = {"net.ipv4.ip_forward": "1"}
	   | .mounts += [{destination: "/proc/sys/net/ipv4/ip_forward", type: "bind", source: $s, options: ["bind"]}]' \
		--arg s "/proc/$sl/oom_score_adj"
	rt run -b "$BUNDLE" "$CID"
	if [ "$RC" = 0 ]; then
		fail "run succeeded although the sysctl target is covered by a mount"
	else
		expect_sprout_error
		expect_match "$ERR" 'net.ipv4.ip_forward|ip_forward' "error names the sysctl"
	fi
	expect_eq "$(cat "/proc/$sl/oom_score_adj")" "$before" "oom_score_adj of the process the mount pointed at"
	kill "$sl" 2>/dev/null
	leftovers_after "$CID"
}
t "CVE-2025-52881: a procfs write redirected by a mount (procfs to procfs) is refused" t_cve_2025_52881

# -------------------------------------------------------- CVE-2024-21626 ---

t_cve_2024_21626_fds() {
	new_container
	set_args sprout-probe fds
	# fds of the caller, open without close-on-exec: a host directory, a file
	exec 7<"$TMPDIR_IT" 8<"$BUNDLE/config.json"
	rt run -b "$BUNDLE" "$CID"
	exec 7<&- 8<&-
	expect_ok run || return
	expect_eq "$(grep -o '^fd=[0-9]*' <<<"$OUT" | paste -sd,)" "fd=0,fd=1,fd=2" "fds of the workload"
}
t "CVE-2024-21626: no fd of the runtime or its caller reaches the workload" t_cve_2024_21626_fds

t_cve_2024_21626_cwd() {
	# process.cwd /proc/self/fd/N: an fd of the runtime (or a leaked one of
	# its caller) naming a host directory would put the workload outside
	local n escaped=
	exec 7<"$TMPDIR_IT"
	for n in 3 4 5 6 7 8 9 10 11 12; do
		new_container
		cfg '.process.cwd = $c' --arg c "/proc/self/fd/$n"
		set_args $CVE_HELPER cwd
		rt run -b "$BUNDLE" "$CID"
		if [ "$RC" = 0 ]; then
			if ! grep -q '^cwd=/' <<<"$OUT" || grep -q '^reach=' <<<"$OUT"; then
				escaped="$escaped fd$n($(paste -sd' ' <<<"$OUT"))"
			fi
		else
			grep -q '^sprout: ' <<<"$ERR" || fail "fd $n: failure is not a sprout error: $ERR"
		fi
		leftovers_after "$CID"
	done
	exec 7<&-
	[ -z "$escaped" ] || fail "workload outside the container's root:$escaped"
}
t "CVE-2024-21626: cwd /proc/self/fd/N never leaves the container's root" t_cve_2024_21626_cwd

# -------------------------------------------------------- CVE-2024-45310 ---

t_cve_2024_45310() {
	host_dir 45310
	rmdir "$HOST"
	new_container --copy
	ln -s "$HOST/made/by/runtime" "$ROOTFS/a"
	cfg '.root.readonly = false | .mounts += [{destination: "/a/b/c", type: "tmpfs", source: "tmpfs"}]'
	rt run -b "$BUNDLE" "$CID"
	[ -e "$HOST" ] && fail "the runtime created $HOST on the host: $(find "$HOST" | head -5 | paste -sd' ')"
	[ -d "$ROOTFS$HOST/made/by/runtime/b/c" ] || diag "(not created inside the root either: run exit $RC)"
	leftovers_after "$CID"
}
t "CVE-2024-45310: mkdir of mount targets never follows a symlink out of the root" t_cve_2024_45310

# -------------------------------------------------------- CVE-2025-31133 ---

t_cve_2025_31133_symlink() {
	# /dev/null of the rootfs is a symlink to a host file: masking with it
	# would bind that file over the masked paths, writable
	local canary=$TMPDIR_IT/null-canary-$_ID_COUNTER
	echo canary >"$canary"
	new_container --copy
	rm -rf "${ROOTFS:?}/dev"
	mkdir -p "$ROOTFS/dev"
	ln -s "$canary" "$ROOTFS/dev/null"
	cfg '.root.readonly = false | .mounts = [.mounts[] | select(.destination != "/dev" and (.destination | startswith("/dev/") | not))]
	   | .linux.maskedPaths = ["/proc/keys", "/etc/hostname"]'
	set_args sh -c 'echo pwned > /etc/hostname; echo pwned > /proc/keys; echo done'
	rt run -b "$BUNDLE" "$CID"
	if [ "$RC" = 0 ]; then
		expect_eq "$(cat "$canary")" canary "the file /dev/null pointed to"
	else
		expect_sprout_error
		expect_contains "$ERR" /dev/null "error names /dev/null"
	fi
	expect_eq "$(cat "$canary")" canary "the file /dev/null pointed to"
	leftovers_after "$CID"
}
t "CVE-2025-31133: /dev/null as a symlink is never used to mask" t_cve_2025_31133_symlink

t_cve_2025_31133_fake() {
	# /dev from a bind mount whose "null" is a plain file
	local dev=$TMPDIR_IT/fakedev-$_ID_COUNTER
	mkdir -p "$dev"
	echo canary >"$dev/null"
	new_container
	cfg '.mounts = [.mounts[] | select(.destination != "/dev" and (.destination | startswith("/dev/") | not))]
	     + [{destination: "/dev", type: "bind", source: $d, options: ["rbind"]}]
	   | .linux.maskedPaths = ["/proc/keys"]' --arg d "$dev"
	set_args sh -c 'echo pwned > /proc/keys; echo done'
	rt run -b "$BUNDLE" "$CID"
	expect_failure "run with a /dev/null that is a plain file" || return
	expect_sprout_error
	expect_contains "$ERR" "/dev/null" "error names /dev/null"
	expect_eq "$(cat "$dev/null")" canary "the fake /dev/null"
	leftovers_after "$CID"
}
t "CVE-2025-31133: a /dev/null that is not the null device is refused" t_cve_2025_31133_fake

# -------------------------------------------------------- CVE-2025-52565 ---

t_cve_2025_52565_pts() {
	host_dir 52565
	new_container --copy
	rm -rf "${ROOTFS:?}/dev"
	mkdir -p "$ROOTFS/dev"
	ln -s "$HOST" "$ROOTFS/dev/pts"
	cfg '.root.readonly = false | .mounts = [.mounts[] | select(.destination != "/dev")]'
	set_args sh -c 'ls /dev/pts >/dev/null; echo ok'
	rt run -b "$BUNDLE" "$CID"
	expect_host_untouched "the host directory /dev/pts pointed to"
	leftovers_after "$CID"
}
t "CVE-2025-52565: /dev/pts as a symlink out of the root: devpts stays inside" t_cve_2025_52565_pts

t_cve_2025_52565_console() {
	local recv=$HELPERS_DIR/sprout-recvtty sock=$TMPDIR_IT/console-$_ID_COUNTER.sock canary=$TMPDIR_IT/console-canary
	[ -x "$recv" ] || { skip "sprout-recvtty not built"; return; }
	echo canary >"$canary"
	new_container --copy
	rm -rf "${ROOTFS:?}/dev"
	mkdir -p "$ROOTFS/dev"
	ln -s "$canary" "$ROOTFS/dev/console"
	cfg '.root.readonly = false | .process.terminal = true
	   | .mounts = [.mounts[] | select(.destination != "/dev")]'
	set_args sh -c 'echo pwned > /dev/console; echo done'
	"$recv" --timeout 10 "$sock" >"$TMPDIR_IT/recvtty.out" 2>&1 &
	HELPER_PIDS+=($!)
	wait_file "$sock.ready" 10 || { fail "recvtty did not start"; return; }
	rt run --console-socket "$sock" -b "$BUNDLE" "$CID"
	if [ "$RC" != 0 ]; then
		expect_sprout_error
		expect_contains "$ERR" /dev/console "error names /dev/console"
	fi
	expect_eq "$(cat "$canary")" canary "the file /dev/console pointed to"
	leftovers_after "$CID"
}
t "CVE-2025-52565: /dev/console as a symlink is not followed" t_cve_2025_52565_console

t_dev_symlink() {
	local with_mount=$1
	host_dir dev
	new_container --copy
	rm -rf "${ROOTFS:?}/dev"
	ln -s "$HOST" "$ROOTFS/dev"
	cfg '.root.readonly = false'
	[ "$with_mount" = yes ] || cfg '.mounts = [.mounts[] | select(.destination != "/dev")]'
	set_args sh -c 'echo x > /dev/null; ls /dev > /dev/null; echo ok'
	rt run -b "$BUNDLE" "$CID"
	expect_host_untouched "the host directory /dev pointed to"
	leftovers_after "$CID"
}
t "/dev as a symlink out of the root (tmpfs /dev): nothing on the host" t_dev_symlink yes
t "/dev as a symlink out of the root (no /dev mount): no device nodes on the host" t_dev_symlink no

# -------------------------------------------------------- CVE-2022-29162 ---

t_cve_2022_29162() {
	# the runtime's caller has inheritable and ambient capabilities; the
	# config asks for none: the workload gets none
	new_container
	cfg '.process.capabilities = {bounding: ["CAP_KILL", "CAP_NET_ADMIN"], effective: ["CAP_KILL"], permitted: ["CAP_KILL"]}'
	set_args sprout-probe cap_inh cap_amb cap_prm
	_IO_COUNTER=$((_IO_COUNTER + 1))
	local o=$TMPDIR_IT/io/$_IO_COUNTER.out e=$TMPDIR_IT/io/$_IO_COUNTER.err
	# shellcheck disable=SC2034 # last_call shows it
	CMD="setpriv --inh-caps +net_admin,+kill --ambient-caps +net_admin $SPROUT run $CID"
	timeout 30 setpriv --inh-caps +net_admin,+kill --ambient-caps +net_admin \
		"$SPROUT" --root "$ROOT" run -b "$BUNDLE" "$CID" </dev/null >"$o" 2>"$e"
	RC=$? OUT=$(cat "$o") ERR=$(cat "$e")
	expect_ok "run from a caller with inheritable/ambient caps" || return
	expect_eq "$(hex "$(pv cap_inh)")" 0x0 "CapInh of the workload"
	expect_eq "$(hex "$(pv cap_amb)")" 0x0 "CapAmb of the workload"
	# a binary with inheritable file capabilities, run as uid 1000: with no
	# inheritable process caps it gains nothing
	new_container --copy
	cp "$ROOTFS/usr/bin/sprout-probe" "$ROOTFS/usr/bin/probe-fcaps"
	setcap cap_net_admin,cap_kill+ei "$ROOTFS/usr/bin/probe-fcaps" || { skip "setcap failed"; return; }
	cfg '.root.readonly = false | .process.user = {uid: 1000, gid: 1000}
	   | .process.capabilities = {bounding: ["CAP_KILL", "CAP_NET_ADMIN"], effective: ["CAP_KILL"], permitted: ["CAP_KILL"]}'
	set_args probe-fcaps cap_prm cap_eff cap_inh
	rt run -b "$BUNDLE" "$CID"
	expect_ok "run of a binary with file capabilities" || return
	expect_eq "$(hex "$(pv cap_prm)")" 0x0 "CapPrm of a +ei binary (no process inheritable caps)"
	expect_eq "$(hex "$(pv cap_eff)")" 0x0 "CapEff of a +ei binary"
}
t "CVE-2022-29162: no inheritable capability the config did not ask for" t_cve_2022_29162

# ================================================ through `sprout exec` ===
# A process joining a running container is where several of these struck
# runc: the joining runtime is, until its execve, a privileged process of
# the host inside the container's namespaces.

# start_sleeper [--copy]: a running container (sleeper) in CID.
start_sleeper() {
	new_container "$@"
	[ "${1:-}" = --copy ] && cfg '.root.readonly = false'
	sleeper_args
	rt run -d -b "$BUNDLE" "$CID"
	expect_ok "run -d" || return 1
}

done_with() {
	rt delete --force "$CID"
	forget "$CID"
	leftovers_after "$CID"
}

# expect_unreachable OUTPUT WHAT: what `sprout-cve watch` reports: it saw
# the runtime's process and none of the attacks on it worked.
expect_unreachable() {
	local out=$1 what=$2 a
	diag "watch: $(paste -sd' ' <<<"$out")"
	[ "$(pv seen "$out")" -gt 0 ] 2>/dev/null || { fail "$what was never seen from inside the container"; return; }
	for a in environ mem vm attach fd cwd exe; do
		expect_ne "$(pv "$a" "$out")" OK "$what: $a (from a process of the container)"
	done
	expect_no_match "$out" '^exe_write=[0-9]' "$what: a write into the runtime binary"
}

t_cve_2016_9962_init() {
	# a process exec'd into a created container attacks the init waiting
	# for `start` (still sprout: its memory, fds, seccomp not yet loaded)
	new_container
	rt create -b "$BUNDLE" "$CID"
	expect_ok create || return
	rt exec "$CID" $CVE_HELPER watch "$MARKER" 300
	expect_ok "exec of the watcher" || { done_with; return; }
	expect_unreachable "$OUT" "the waiting init"
	done_with
}
t "CVE-2016-9962: an exec'd process cannot ptrace or read the init waiting for start" t_cve_2016_9962_init

t_cve_2016_9962_exec() {
	# the container's process watches for the `sprout exec` process and
	# tries to attach to it, read its environ and memory, open its fds
	# (among them a host directory its caller leaked), its cwd and its
	# binary.  strace holds that process for 1.5 s at its last system call
	# before execve (close_range), with its capabilities already dropped:
	# the window the attack needs, made wide.
	command -v strace >/dev/null || { skip "strace is not installed"; return; }
	host_dir 9962
	private_runtime 9962 || return
	new_container
	set_args $CVE_HELPER watch "$MARKER" 4000 2500
	rt run -d -b "$BUNDLE" "$CID"
	expect_ok "run -d (the watcher)" || return
	local watch_out=$OUT_FILE
	sleep 0.3
	_IO_COUNTER=$((_IO_COUNTER + 1))
	local o=$TMPDIR_IT/io/$_IO_COUNTER.out e=$TMPDIR_IT/io/$_IO_COUNTER.err
	exec 7<"$HOST"
	# shellcheck disable=SC2034 # last_call shows it
	CMD="strace ... $BIN exec -d $CID true"
	# (LeakSanitizer cannot work under ptrace: off for a sanitizer build)
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		timeout 30 strace -f -qq -o /dev/null -e trace=close_range -e inject=close_range:delay_enter=1500000 \
		"$BIN" --root "$ROOT" exec -d "$CID" true </dev/null >"$o" 2>"$e"
	RC=$? OUT=$(cat "$o") ERR=$(cat "$e")
	exec 7<&-
	expect_ok "exec under strace" || { done_with; return; }
	wait_file "$watch_out" 10 '^done' || fail "the watcher did not finish: $(cat "$watch_out")"
	local out
	out=$(cat "$watch_out")
	expect_unreachable "$out" "the exec process"
	[ "$(pv seen_ms "$out")" -ge 1000 ] 2>/dev/null || fail "the exec process was not watched while held (seen_ms=$(pv seen_ms "$out"))"
	expect_eq "$(sha256sum <"$BIN")" "$BIN_SUM" "sha256 of the runtime binary"
	expect_host_untouched
	done_with
	private_runtime_done
}
t "CVE-2016-9962/CVE-2019-5736: the exec process is not reachable from the container before its execve" t_cve_2016_9962_exec

t_cve_2019_5736_exec() {
	# the same attack as at create, through exec: the exec'd command is
	# "#!/proc/self/exe", so the kernel runs the exec'ing runtime's binary
	# in the container with the container's LD_PRELOAD
	private_runtime 5736-exec || return
	start_sleeper --copy || return
	attack_rootfs
	local a args=()
	for a in "${ATTACK_ENV[@]}"; do args+=(--env "$a"); done
	local SPROUT=$BIN
	rt exec -d "${args[@]}" "$CID" /entry
	expect_ok "exec -d /entry" || { done_with; return; }
	attack_result
	done_with
	private_runtime_done
}
t "CVE-2019-5736: an exec of '#!/proc/self/exe' cannot overwrite the runtime binary" t_cve_2019_5736_exec

t_cve_2024_21626_exec_cwd() {
	# --cwd /proc/self/fd/N, and a process.json with that cwd: a host
	# directory leaked by the caller (fd 7) or an fd of sprout's own
	local n escaped=
	start_sleeper || return
	exec 7<"$TMPDIR_IT"
	for n in 3 4 5 6 7 8 9 10 11 12; do
		rt exec --cwd "/proc/self/fd/$n" "$CID" $CVE_HELPER cwd
		if [ "$RC" = 0 ]; then
			if ! grep -q '^cwd=/' <<<"$OUT" || grep -q '^reach=' <<<"$OUT"; then
				escaped="$escaped --cwd fd$n($(paste -sd' ' <<<"$OUT"))"
			fi
		else
			grep -q '^sprout: ' <<<"$ERR" || fail "fd $n: failure is not a sprout error: $ERR"
		fi
	done
	jq '.process | .cwd = "/proc/self/fd/7" | .args = ["sprout-cve", "cwd"]' "$BUNDLE/config.json" >"$BUNDLE/process.json"
	rt exec --process "$BUNDLE/process.json" "$CID"
	exec 7<&-
	if [ "$RC" = 0 ]; then
		if ! grep -q '^cwd=/' <<<"$OUT" || grep -q '^reach=' <<<"$OUT"; then
			escaped="$escaped process.json($(paste -sd' ' <<<"$OUT"))"
		fi
	else
		expect_sprout_error
	fi
	[ -z "$escaped" ] || fail "exec'd process outside the container's root:$escaped"
	done_with
}
t "CVE-2024-21626: exec --cwd /proc/self/fd/N (or process.json's cwd) never leaves the root" t_cve_2024_21626_exec_cwd

t_cve_2024_21626_exec_fds() {
	# fds of the caller without close-on-exec: a host directory (7), a
	# file (8); fd 3 is passed on purpose (--preserve-fds 1)
	start_sleeper || return
	local passed=$TMPDIR_IT/passed-$_ID_COUNTER
	echo passed >"$passed"
	exec 3<"$passed" 7<"$TMPDIR_IT" 8<"$BUNDLE/config.json"
	rt exec "$CID" sh -c 'sprout-probe fds; sprout-probe cwd'
	exec 3<&- 7<&- 8<&-
	expect_ok "exec sprout-probe fds" || { done_with; return; }
	expect_eq "$(grep -o '^fd=[0-9]*' <<<"$OUT" | paste -sd,)" "fd=0,fd=1,fd=2" "fds of the exec'd process"
	expect_eq "$(pv cwd)" / "cwd of the exec'd process"
	exec 3<"$passed" 7<"$TMPDIR_IT" 8<"$BUNDLE/config.json"
	rt exec --preserve-fds 1 "$CID" sh -c 'sprout-probe fds; cat <&3'
	exec 3<&- 7<&- 8<&-
	expect_ok "exec --preserve-fds 1" || { done_with; return; }
	expect_eq "$(grep -o '^fd=[0-9]*' <<<"$OUT" | paste -sd,)" "fd=0,fd=1,fd=2,fd=3" "fds with --preserve-fds 1"
	expect_contains "$OUT" passed "the passed fd 3 is the caller's file"
	done_with
}
t "CVE-2024-21626: no fd of sprout exec or its caller reaches the exec'd process" t_cve_2024_21626_exec_fds

t_cve_2022_29162_exec() {
	# the caller of sprout exec has inheritable and ambient capabilities;
	# neither --cap nor a process.json without inheritable gives any
	start_sleeper --copy || return
	cfg '.process.capabilities = {bounding: ["CAP_KILL", "CAP_NET_ADMIN", "CAP_NET_RAW"], effective: ["CAP_KILL"], permitted: ["CAP_KILL"]}'
	jq '.process | .args = ["sprout-probe", "cap_inh", "cap_amb", "cap_prm"]' "$BUNDLE/config.json" >"$BUNDLE/process.json"
	cp "$ROOTFS/usr/bin/sprout-probe" "$ROOTFS/usr/bin/probe-fcaps"
	setcap cap_net_admin,cap_kill+ei "$ROOTFS/usr/bin/probe-fcaps" || { skip "setcap failed"; done_with; return; }
	local how
	for how in "--cap CAP_NET_RAW $CID sprout-probe cap_inh cap_amb cap_prm" \
		"--process $BUNDLE/process.json $CID" \
		"--user 1000:1000 --cap CAP_NET_ADMIN $CID probe-fcaps cap_inh cap_amb cap_prm"; do
		_IO_COUNTER=$((_IO_COUNTER + 1))
		local o=$TMPDIR_IT/io/$_IO_COUNTER.out e=$TMPDIR_IT/io/$_IO_COUNTER.err
		# shellcheck disable=SC2034 # last_call shows it
		CMD="setpriv --inh-caps +net_admin,+kill --ambient-caps +net_admin $SPROUT exec $how"
		# shellcheck disable=SC2086 # $how is split on purpose
		timeout 30 setpriv --inh-caps +net_admin,+kill --ambient-caps +net_admin \
			"$SPROUT" --root "$ROOT" exec $how </dev/null >"$o" 2>"$e"
		RC=$? OUT=$(cat "$o") ERR=$(cat "$e")
		expect_ok "exec $how" || continue
		expect_eq "$(hex "$(pv cap_inh)")" 0x0 "CapInh (exec $how)"
		expect_eq "$(hex "$(pv cap_amb)")" 0x0 "CapAmb (exec $how)"
	done
	# the +ei binary as uid 1000: nothing inheritable, so nothing gained
	expect_eq "$(hex "$(pv cap_prm)")" 0x0 "CapPrm of a +ei binary exec'd as uid 1000"
	done_with
}
t "CVE-2022-29162: exec --cap / --process never yield an inheritable capability unasked" t_cve_2022_29162_exec

t_exec_tampered_proc() {
	# a workload with CAP_SYS_ADMIN in its own user namespace replaces /proc
	# in its mount namespace (a tmpfs with a planted self/oom_score_adj);
	# a later exec writes the config's oomScoreAdj through the container's
	# /proc: it must refuse, not write the planted file
	new_container
	add_userns
	cfg '.process.capabilities.bounding += ["CAP_SYS_ADMIN"]
	   | .process.capabilities.effective += ["CAP_SYS_ADMIN"]
	   | .process.capabilities.permitted += ["CAP_SYS_ADMIN"]
	   | .process.oomScoreAdj = 77'
	set_args sh -c 'mount -t tmpfs tmpfs /proc && mkdir /proc/self && echo canary >/proc/self/oom_score_adj &&
		echo ready >/proc/ready; sleep 100' "$CID"
	rt run -d -b "$BUNDLE" "$CID"
	expect_ok "run -d" || return
	state "$CID"
	local init fake
	init=$(jq -r .pid <<<"$STATE")
	fake=/proc/$init/root/proc/self/oom_score_adj
	wait_file "/proc/$init/root/proc/ready" 10 || { fail "the workload did not replace /proc"; done_with; return; }
	rt exec "$CID" true
	if [ "$RC" = 0 ]; then
		fail "exec succeeded with a tmpfs on /proc (where did oom_score_adj go?)"
	else
		expect_sprout_error
		expect_contains "$ERR" /proc "error names /proc"
	fi
	expect_eq "$(cat "$fake")" canary "the planted oom_score_adj"
	done_with
}
t "exec into a container that replaced its /proc: no procfs write lands in the fake" t_exec_tampered_proc

# ----------------------------------------------------- without openat2 ---

# A kernel before 5.6 has no openat2: every open inside the container's
# root (mount targets, masks, /dev/pts, /dev/console) then takes sprout's
# own walk, one component at a time, every symlink resolved inside the
# root by hand, and the procfs writes refuse symlinks.  The symlink and
# procfs attacks again, with openat2 failing ENOSYS for sprout and
# everything it starts (no_openat2, lib.sh).
t "no openat2: CVE-2023-28642 (/proc as a symlink)" no_openat2 t_cve_2023_28642
t "no openat2: CVE-2025-52881 (procfs to procfs)" no_openat2 t_cve_2025_52881
t "no openat2: CVE-2019-16884 (a directory over /proc)" no_openat2 t_cve_2019_16884
t "no openat2: CVE-2023-27561 (a file over a procfs target)" no_openat2 t_cve_2023_27561
t "no openat2: CVE-2019-16884 (/sys as a symlink)" no_openat2 t_sys_symlink
t "no openat2: CVE-2019-19921, absolute symlink" no_openat2 t_cve_2019_19921 absolute
t "no openat2: CVE-2019-19921, ../ symlink" no_openat2 t_cve_2019_19921 relative
t "no openat2: CVE-2021-30465 (symlink in a volume)" no_openat2 t_cve_2021_30465
t "no openat2: a ro bind through a symlink to a host mount" no_openat2 t_symlink_remount
t "no openat2: CVE-2024-45310 (mkdir of mount targets)" no_openat2 t_cve_2024_45310
t "no openat2: CVE-2025-31133 (/dev/null as a symlink)" no_openat2 t_cve_2025_31133_symlink
t "no openat2: CVE-2025-52565 (/dev/pts as a symlink)" no_openat2 t_cve_2025_52565_pts
t "no openat2: CVE-2025-52565 (/dev/console as a symlink)" no_openat2 t_cve_2025_52565_console
t "no openat2: /dev as a symlink (tmpfs /dev)" no_openat2 t_dev_symlink yes
t "no openat2: /dev as a symlink (no /dev mount)" no_openat2 t_dev_symlink no

t_leftovers_all() {
	local id
	for id in "${ALL_IDS[@]}"; do
		leftovers "$id"
	done
}
t "no container of this file left anything behind" t_leftovers_all

done_testing
