# shellcheck shell=bash
# Helpers shared by the robustness suites (badinput.sh, faults.sh, load.sh),
# sourced after lib.sh.  (Not named *.sh: run-all.sh runs those.)
#
# The host checks here are lib.sh's leftovers check made tolerant of *other*
# test runs working at the same time on this machine (a developer running
# suites in parallel): mounts under another run's /tmp/sprout-* directory
# and another run's /run/netns/sprout-it-* are not this run's business.  In
# CI, where suites run one after another, that filter removes nothing.

# rb_mounts: the host mount table, less other runs' mounts.
rb_mounts() {
	mount_snapshot | awk -v mine="$TMPDIR_IT/" -v pid="$$" '
		index($5, "/tmp/sprout-") == 1 && index($5, mine) != 1 { next }
		index($5, "/run/netns/sprout-") == 1 && index($5, pid) == 0 { next }
		{ print }'
}

# rb_mark: remember the host mount table (before a case).
rb_mark() {
	RB_MOUNTS_BEFORE=$(rb_mounts)
}

# rb_nothing_left ID: no state dir or file of ID under --root, no cgroup of
# ID in any hierarchy, no host mount made or removed since rb_mark, no
# process mentioning ID or living in a cgroup of ID.
rb_nothing_left() {
	local id=$1 found now i procs cgprocs
	# processes of a killed container may take a moment to be reaped
	for ((i = 0; i < 50; i++)); do
		procs=$(pgrep -a -f -- "$id")
		cgprocs=$(procs_in_cgroup "$id")
		[ -n "$procs$cgprocs" ] || break
		sleep 0.1
	done
	[ -z "$procs" ] || fail "leftover processes: $procs"
	[ -z "$cgprocs" ] || fail "leftover processes in a cgroup of $id: $cgprocs"
	found=$(find "$ROOT" -mindepth 1 -maxdepth 2 -name "*$id*" 2>/dev/null)
	[ -z "$found" ] || fail "leftover state under --root: $found"
	found=$(find /sys/fs/cgroup/*/ -maxdepth 5 -type d -name "*$id*" 2>/dev/null)
	[ -z "$found" ] || fail "leftover cgroup: $found"
	now=$(rb_mounts)
	found=$(comm -13 <(echo "$RB_MOUNTS_BEFORE") <(echo "$now"))
	[ -z "$found" ] || fail "new host mounts: $found"
	found=$(comm -23 <(echo "$RB_MOUNTS_BEFORE") <(echo "$now"))
	[ -z "$found" ] || fail "host mounts gone: $found"
}

# rb_host_snapshot: what of this run's kind the host holds — entries under
# --root, sprout's cgroup directories in every hierarchy, host mounts,
# processes with this run's marker in their command line — one per line.
rb_host_snapshot() {
	find "$ROOT" -mindepth 1 2>/dev/null | sed 's/^/root: /' | sort
	find /sys/fs/cgroup/*/ -maxdepth 5 -type d -name "*-$SUITE-$$-*" 2>/dev/null |
		sed 's/^/cgroup: /' | sort
	rb_mounts | sed 's/^/mount: /'
	pgrep -a -f -- "$MARKER" | grep -v "^$$ " | sed 's/^/process: /' | sort
}
