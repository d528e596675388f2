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

t_cve_2019_5736() {
	# The workload overwrites the runtime binary through /proc/self/exe: an
	# entrypoint "#!/proc/self/exe" makes the kernel run the runtime inside
	# the container; the container's own ld.so, libraries and LD_PRELOAD
	# run attacker code in it, which keeps an fd on /proc/self/exe and
	# reopens it for writing once the binary is no longer busy.
	# With "rw", sprout re-executes itself from a detached read-only bind
	# mount of its binary; with "ro", the binary sits on a read-only mount:
	# sprout skips the re-exec there, and the attack must fail all the same.
	local mode=$1 dir=$TMPDIR_IT/bin-5736-$1 before after lib result log=$TMPDIR_IT/5736-$1.log
	mkdir -p "$dir"
	local bin=$dir/sprout
	cp "$SPROUT" "$bin"
	if [ "$mode" = ro ]; then
		host_mount --bind "$dir" "$dir" && mount -o remount,bind,ro "$dir" ||
			{ fail "cannot make $dir read-only"; return; }
	fi
	before=$(sha256sum <"$bin")
	new_container --copy
	for lib in $(ldd "$bin" | grep -o '/[^ ]*'); do
		mkdir -p "$ROOTFS$(dirname "$lib")"
		cp -L "$lib" "$ROOTFS$lib"
	done
	cp "$HELPERS_DIR/libsprout-cve5736.so" "$ROOTFS/evil.so"
	printf '#!/proc/self/exe\n' >"$ROOTFS/entry"
	chmod 755 "$ROOTFS/entry"
	cfg '.root.readonly = false | .process.args = ["/entry"]
	   | .process.env += ["LD_PRELOAD=/evil.so", "CVE_RESULT=/cve-result", "CVE_WRITER=/usr/bin/sprout-cve"]
	   | .process.env += ["ASAN_OPTIONS=verify_asan_link_order=0"]' # a sanitizer build of sprout
	local SPROUT=$bin
	rt --debug --log "$log" create -b "$BUNDLE" "$CID"
	expect_ok create || return
	rt start "$CID"
	expect_ok start || return
	wait_file "$ROOTFS/cve-result" 10 '^\(open\|write\)=' ||
		fail "the attack did not run (no result from the preloaded code): $(cat "$ROOTFS/cve-result" 2>&1)"
	wait_status "$CID" stopped 10
	result=$(cat "$ROOTFS/cve-result" 2>/dev/null)
	diag "attack: $(paste -sd' ' <<<"$result")"
	expect_match "$result" '^exe=' "the runtime binary ran inside the container"
	after=$(sha256sum <"$bin")
	expect_eq "$after" "$before" "sha256 of the runtime binary after the attack"
	expect_no_match "$result" '^write=[0-9]' "a write into the binary the container saw"
	if [ "$mode" = ro ]; then
		expect_contains "$(cat "$log")" "the binary is on a read-only mount" "read-only binary (debug log)"
		expect_no_match "$(cat "$log")" "re-executing" "no re-exec for a read-only binary"
		expect_match "$result" '^exe=/' "the container saw the read-only binary itself"
	else
		expect_contains "$(cat "$log")" "re-executing from a detached read-only mount" \
			"read-only view of the binary (debug log)"
		expect_match "$result" '^open=Read-only file system' \
			"reopening the binary the container saw for writing: EROFS"
	fi
	rt delete --force "$CID"
	forget "$CID"
	leftovers_after "$CID"
	[ "$mode" = ro ] && host_umount "$dir"
	rm -rf "$dir"
}
t "CVE-2019-5736: '#!/proc/self/exe' entrypoint cannot overwrite the runtime binary" t_cve_2019_5736 rw
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

t_leftovers_all() {
	local id
	for id in "${ALL_IDS[@]}"; do
		leftovers "$id"
	done
}
t "no container of this file left anything behind" t_leftovers_all

done_testing
