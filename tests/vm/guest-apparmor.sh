# shellcheck shell=bash
# tests/vm/guest-apparmor.sh — AppArmor's positive path, sourced by
# tests/vm/guest-tests.sh (same TAP stream, its helpers: bundle,
# start_detached, timed) inside the QEMU guest, whose Debian kernel has
# AppArmor and whose init mounts securityfs.  The profiles of
# tests/vm/sprout-test.apparmor are loaded with the host's apparmor_parser,
# which tests/vm/run.sh copies into the guest.
#
# What a user sees: the workload and exec'd processes run under the profile
# asked for (their attr/current names it, in enforce mode) and cannot do
# what it denies; exec inherits the container's profile unless --apparmor
# or the process.json says otherwise; a profile that is not loaded fails
# create (or exec) with one line naming it and leaves nothing; one removed
# after create never lets the workload run unconfined.  The host has no
# AppArmor: tests/integration/security.sh covers the "not enabled" error.
#
# These tests fail (never skip) when AppArmor is not active in the guest.

AA_FS=/sys/kernel/security/apparmor
AA_PROFILES=$HERE_VM/sprout-test.apparmor

# Run by a container's processes: the label and what the profile lets it
# do.  One line without double quotes: it goes into a process.json as is.
AA_PROBE='a=/proc/self/attr/apparmor/current; [ -e $a ] || a=/proc/self/attr/current; echo current=$(cat $a); for f in denied-a denied-b allowed; do if echo x >/tmp/$f; then echo $f=written; rm -f /tmp/$f; else echo $f=refused; fi; done; if cat /etc/hostname >/dev/null; then echo hostname=read; else echo hostname=refused; fi'

# aa_expect WHAT PROFILE: OUT is AA_PROBE's output under PROFILE.
aa_expect() {
	local what=$1 p=$2 a=written b=written h=read
	case $p in
	sprout-test-a) a=refused h=refused ;;
	sprout-test-b | sprout-test-gone) b=refused ;;
	esac
	expect_eq "$(pv current)" "$p (enforce)" "$what: the profile in attr/current"
	expect_eq "$(pv denied-a)/$(pv denied-b)/$(pv allowed)/$(pv hostname)" "$a/$b/written/$h" \
		"$what: writes of /tmp/denied-a, /tmp/denied-b, /tmp/allowed; read of /etc/hostname"
}

AA_READY=
t_aa_active() {
	local lsm
	lsm=$(cat /sys/kernel/security/lsm 2>/dev/null)
	expect_match "$lsm" '(^|,)apparmor(,|$)' "AppArmor in /sys/kernel/security/lsm (tests/vm/run.sh boots with apparmor=1)" ||
		return
	expect_eq "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" Y "apparmor.enabled" || return
	if ! command -v apparmor_parser >/dev/null; then
		fail "apparmor_parser is not in the guest (apt-get install apparmor on the host: tests/vm/run.sh copies it)"
		return
	fi
	local out
	out=$(apparmor_parser --config-file=/dev/null -r -K -q "$AA_PROFILES" 2>&1) ||
		{ fail "apparmor_parser -r $AA_PROFILES: $out"; return; }
	expect_eq "$(grep -c '^sprout-test-[a-z]* (enforce)$' $AA_FS/profiles)" 3 \
		"profiles loaded in enforce mode ($AA_FS/profiles)" || return
	rt_noroot features
	expect_ok features || return
	expect_eq "$(jq -r .linux.apparmor.enabled <<<"$OUT")" true "features: .linux.apparmor.enabled"
	AA_READY=1
}
t "AppArmor is active in the guest, the test profiles load, features reports it" timed t_aa_active

# Every later test needs the profiles: without them it fails, naming why.
aa_ready() {
	[ -n "$AA_READY" ] || fail "AppArmor or the test profiles are not there (see the first AppArmor test)"
	[ -n "$AA_READY" ]
}

t_aa_process() {
	aa_ready || return
	bundle "$TMP_MOUNT | .process.apparmorProfile = \"sprout-test-a\"" sh -c "$AA_PROBE"
	rt run -b "$BUNDLE" "$CID"
	expect_ok "run with apparmorProfile sprout-test-a" || return
	aa_expect "the workload" sprout-test-a
	expect_contains "$ERR" "can't create /tmp/denied-a: Permission denied" "the shell's error"
	forget "$CID" # (what run leaves: t_nothing_left; a leftovers check costs a second)
}
t "process.apparmorProfile: the workload runs confined by it (enforce): denied writes and reads fail" \
	timed t_aa_process

t_aa_exec() {
	aa_ready || return
	local pf procs
	bundle "$TMP_MOUNT | .process.apparmorProfile = \"sprout-test-a\""
	start_detached || return
	expect_eq "$(cat "/proc/$PID/attr/apparmor/current")" "sprout-test-a (enforce)" \
		"the init's profile, seen from the host"
	rt exec "$CID" sh -c "$AA_PROBE"
	expect_ok "exec without --apparmor" && aa_expect "exec (inherits)" sprout-test-a
	rt exec --apparmor sprout-test-b "$CID" sh -c "$AA_PROBE"
	expect_ok "exec --apparmor sprout-test-b" && aa_expect "exec --apparmor" sprout-test-b
	# containerd's form: a process.json, with and without apparmorProfile
	pf=$BUNDLE/process.json
	printf '{"args": ["sh", "-c", "%s"], "cwd": "/", "user": {"uid": 0, "gid": 0}, "env": ["PATH=/usr/bin:/bin"]%s}\n' \
		"$AA_PROBE" ', "apparmorProfile": "sprout-test-b"' >"$pf"
	rt exec --process "$pf" "$CID"
	expect_ok "exec --process with apparmorProfile" && aa_expect "process.json apparmorProfile" sprout-test-b
	sed -i 's/, "apparmorProfile": "sprout-test-b"//' "$pf"
	rt exec --process "$pf" "$CID"
	expect_ok "exec --process without apparmorProfile" && aa_expect "process.json (inherits)" sprout-test-a
	procs=$(<"$CGDIR/cgroup.procs")
	rt exec --apparmor sprout-no-such-profile "$CID" sh -c 'echo ran'
	expect_failure "exec --apparmor with a profile not loaded"
	expect_sprout_error
	expect_contains "$ERR" '"sprout-no-such-profile": no such AppArmor profile is loaded' "exec's error"
	expect_no_match "$OUT" ran "the process did not run"
	expect_eq "$(<"$CGDIR/cgroup.procs")" "$procs" "the container's processes after the failed exec"
	rt delete --force "$CID"
	leftovers_after "$CID"
}
t "exec inherits the container's profile; --apparmor and process.json's apparmorProfile replace it" \
	timed t_aa_exec

t_aa_missing() {
	aa_ready || return
	local cmd
	bundle '.process.apparmorProfile = "sprout-no-such-profile"' sh -c 'echo ran'
	# one leftovers check at the end: anything create left would make run
	# fail with "already exists" instead
	for cmd in create run; do
		rt "$cmd" -b "$BUNDLE" "$CID"
		expect_failure "$cmd with a profile that is not loaded" || continue
		expect_sprout_error
		expect_contains "$ERR" \
			'.process.apparmorProfile "sprout-no-such-profile": no such AppArmor profile is loaded' \
			"$cmd's error names the field and the profile"
		expect_no_match "$OUT" ran "the workload did not run"
	done
	forget "$CID"
	leftovers "$CID"
}
t "a profile that is not loaded: create and run fail, one line naming it, nothing left" \
	timed t_aa_missing

t_aa_gone() {
	aa_ready || return
	local create_out create_err i
	bundle '.process.apparmorProfile = "sprout-test-gone"' sh -c 'echo ran'
	rt create -b "$BUNDLE" "$CID"
	expect_ok "create with sprout-test-gone loaded" || return
	create_out=$OUT_FILE create_err=$ERR_FILE
	echo -n sprout-test-gone >$AA_FS/.remove || { fail "cannot remove sprout-test-gone"; return; }
	rt start "$CID"
	diag "start: exit $RC" # the init fails after start has let it go on
	for ((i = 0; i < 50; i++)); do
		status "$CID"
		[ "$STATUS" = stopped ] && break
		sleep 0.1
	done
	expect_eq "$STATUS" stopped "state after start"
	expect_no_match "$(cat "$create_out")" ran "the workload did not run unconfined"
	expect_eq "$(cat "$create_err")" \
		'sprout: .process.apparmorProfile "sprout-test-gone": no such AppArmor profile is loaded: write /proc/self/attr/apparmor/exec: No such file or directory' \
		"the init's error on the container's stderr"
	rt delete "$CID"
	expect_ok delete
	forget "$CID"
	leftovers_after "$CID"
}
t "a profile removed between create and start: the workload never runs, the error names it" \
	timed t_aa_gone
