#!/bin/bash
# Bad input: every case fails with a non-zero exit and an error that names
# the cause, and leaves nothing behind.  A second test per case checks the
# error's form: one line on stderr starting with "sprout: ".
. "$(dirname "$0")/lib.sh"

# err_case SETUP SUBSTRING...: new container, SETUP edits it, `create` must
# fail with every SUBSTRING in its error, and leave nothing behind.
# ERR/RC/CMD of the failing call stay for err_form.
err_case() {
	local setup=$1 s
	shift
	new_container
	$setup
	rt create -b "$BUNDLE" "$CID"
	if ! expect_failure "create"; then
		force_delete "$CID"
		return
	fi
	for s in "$@"; do
		expect_contains "$ERR" "$s" "error names '$s'"
	done
	leftovers "$CID"
}

# err_form: the error of the last failing call is one line, "sprout: ...".
err_form() {
	expect_sprout_error
}

# err_create_or_start SUBSTRING...: create, and if that succeeds start, must
# fail naming SUBSTRING; afterwards (delete --force if create succeeded)
# nothing is left behind.
err_create_or_start() {
	local s
	rt create -b "$BUNDLE" "$CID"
	if [ "$RC" = 0 ]; then
		rt start "$CID"
		if [ "$RC" = 0 ]; then
			fail "both create and start succeeded"
			diag "$(last_call)"
			force_delete "$CID"
			return
		fi
		local err=$ERR rc=$RC cmd=$CMD out=$OUT
		force_delete "$CID"
		ERR=$err RC=$rc CMD=$cmd OUT=$out
	fi
	expect_failure "create/start" || return
	for s in "$@"; do
		expect_contains "$ERR" "$s" "error names '$s'"
	done
	leftovers_after "$CID"
}

# ------------------------------------------------------------- config ---

setup_malformed() {
	printf '{"ociVersion": "1.0.2", "process": {"args": ["true"' >"$BUNDLE/config.json"
}
t "malformed JSON: fails, names config.json, nothing left" err_case setup_malformed config.json
t "malformed JSON: one-line 'sprout: ' error" err_form

setup_args_string() { cfg '.process.args = "true"'; }
t "wrong type (.process.args a string): fails, names .process.args" err_case setup_args_string .process.args
t "wrong type: one-line 'sprout: ' error" err_form

setup_args_empty() { cfg '.process.args = []'; }
t "empty .process.args: fails, names .process.args" err_case setup_args_empty .process.args
t "empty .process.args: one-line 'sprout: ' error" err_form

setup_pidd() { cfg '.linux.namespaces += [{type: "pidd"}]'; }
t "unknown namespace pidd: fails, names pidd and .linux.namespaces" err_case setup_pidd pidd .linux.namespaces
t "unknown namespace: one-line 'sprout: ' error" err_form

MISSING_ROOTFS=$TMPDIR_IT/no-such-rootfs
setup_missing_rootfs() { cfg '.root.path = $p' --arg p "$MISSING_ROOTFS"; }
t "missing rootfs: fails, names the rootfs path" err_case setup_missing_rootfs "$MISSING_ROOTFS"
t "missing rootfs: one-line 'sprout: ' error" err_form

setup_no_config() { rm -f "$BUNDLE/config.json"; }
t "missing config.json: fails, names config.json" err_case setup_no_config config.json
t "missing config.json: one-line 'sprout: ' error" err_form

setup_version() { cfg '.ociVersion = "2.0.0"'; }
t "ociVersion 2.0.0: fails, names ociVersion" err_case setup_version ociVersion
t "ociVersion 2.0.0: one-line 'sprout: ' error" err_form

setup_huge() {
	head -c $((17 * 1024 * 1024)) /dev/zero | tr '\0' a >"$TMPDIR_IT/huge-annotation"
	cfg '.annotations.huge = $h' --rawfile h "$TMPDIR_IT/huge-annotation"
	rm -f "$TMPDIR_IT/huge-annotation"
}
t "config.json over 16 MiB: fails, names config.json" err_case setup_huge config.json
t "config.json over 16 MiB: one-line 'sprout: ' error" err_form

setup_bad_mountopt() {
	mkdir -p "$TMPDIR_IT/mnt-src-$CID"
	add_mount /mnt/x bind "$TMPDIR_IT/mnt-src-$CID" bind frobnicate
}
t_bad_mountopt() {
	# a private copy: a runtime that accepts the option would create /mnt/x
	new_container --copy
	setup_bad_mountopt
	rt create -b "$BUNDLE" "$CID"
	if ! expect_failure create; then
		force_delete "$CID"
		return
	fi
	expect_contains "$ERR" frobnicate "error names the option"
	leftovers "$CID"
}
t "unknown mount option on a bind mount: fails, names the option" t_bad_mountopt
t "unknown mount option: one-line 'sprout: ' error" err_form

BAD_NS_PATH=/nonexistent-ns-path/net
setup_bad_ns_path() { add_ns network "$BAD_NS_PATH"; }
t "nonexistent namespace path: fails, names the path" err_case setup_bad_ns_path "$BAD_NS_PATH"
t "nonexistent namespace path: one-line 'sprout: ' error" err_form

# ---------------------------------------------------------------- ids ---

t_duplicate() {
	local pid
	new_container
	sleeper_args
	rt create -b "$BUNDLE" "$CID"
	expect_ok "first create" || return
	state "$CID"
	pid=$(jq -r .pid <<<"$STATE")
	rt create -b "$BUNDLE" "$CID"
	local err=$ERR rc=$RC cmd=$CMD out=$OUT
	expect_failure "second create of the same id"
	expect_contains "$ERR" "already exists" "error"
	state "$CID"
	expect_eq "$STATUS" created "state of the first container afterwards"
	pid_alive "$pid" || fail "the first container's init $pid died"
	rt delete --force "$CID"
	expect_ok "delete --force"
	forget "$CID"
	leftovers_after "$CID"
	ERR=$err RC=$rc CMD=$cmd OUT=$out
}
t "duplicate id: second create fails with 'already exists', first intact" t_duplicate
t "duplicate id: one-line 'sprout: ' error" err_form

t_bad_id() {
	local id=$1 before after
	new_container
	before=$( (ls -A "$TMPDIR_IT"; find "$ROOT") | sort)
	rt create -b "$BUNDLE" "$id"
	local err=$ERR rc=$RC cmd=$CMD out=$OUT
	if ! expect_failure "create with id '$id'"; then
		timeout 30 "$SPROUT" --root "$ROOT" delete --force "$id" </dev/null >/dev/null 2>&1
		return
	fi
	expect_contains "$ERR" "$id" "error names the id"
	after=$( (ls -A "$TMPDIR_IT"; find "$ROOT") | sort)
	expect_eq "$after" "$before" "files under the test dir and --root"
	local found
	found=$(find /sys/fs/cgroup/* -maxdepth 4 -path "*/$id" -newer "$BUNDLE/config.json" 2>/dev/null)
	[ "$id" = .. ] || [ -z "$found" ] || fail "cgroup created: $found"
	ERR=$err RC=$rc CMD=$cmd OUT=$out
}
t "invalid id 'a/b': fails, names it, creates nothing" t_bad_id a/b
t "invalid id 'a/b': one-line 'sprout: ' error" err_form
t "invalid id '..': fails, names it, creates nothing" t_bad_id ..
t "invalid id '..': one-line 'sprout: ' error" err_form

# ----------------------------------------------------------- workload ---

t_nonexistent_workload() {
	new_container
	set_args /nonexistent
	err_create_or_start /nonexistent
}
t "workload /nonexistent: create or start fails naming it; nothing left" t_nonexistent_workload
t "workload /nonexistent: one-line 'sprout: ' error" err_form

t_bad_cwd() {
	new_container --copy
	cfg '.process.cwd = "/nonexistent-cwd"'
	err_create_or_start /nonexistent-cwd
	[ ! -e "$ROOTFS/nonexistent-cwd" ] || fail "the runtime created the cwd in the rootfs"
}
t "cwd that does not exist: fails naming it; nothing left" t_bad_cwd
t "cwd that does not exist: one-line 'sprout: ' error" err_form

# ------------------------------------------------------------ commands ---

t_bad_signal() {
	new_container
	sleeper_args
	rt run -d -b "$BUNDLE" "$CID"
	expect_ok "run -d" || return
	rt kill "$CID" SIGFOO
	local err=$ERR rc=$RC cmd=$CMD out=$OUT
	expect_failure "kill with SIGFOO"
	expect_contains "$ERR" FOO "error names the signal"
	state "$CID"
	expect_eq "$STATUS" running "state after the refused kill"
	force_delete "$CID"
	ERR=$err RC=$rc CMD=$cmd OUT=$out
}
t "kill with an unknown signal fails, names it, container untouched" t_bad_signal
t "unknown signal: one-line 'sprout: ' error" err_form

t_start_missing() {
	rt start "it-never-created-$$"
	expect_failure "start of an unknown container"
	expect_contains "$ERR" "does not exist" "error"
}
t "start of an unknown id fails with 'does not exist'" t_start_missing
t "start of an unknown id: one-line 'sprout: ' error" err_form

t_unknown_command() {
	rt frobnicate
	expect_failure "unknown command"
	expect_contains "$ERR" frobnicate "error names the command"
}
t "unknown command fails and names it" t_unknown_command

t_leftovers_all() {
	local id
	for id in "${ALL_IDS[@]}"; do
		leftovers "$id"
	done
	local found
	# (a runtime may keep a lock file at the top; state lives in directories)
	found=$(find "$ROOT" -mindepth 1 -maxdepth 1 -type d 2>/dev/null)
	[ -z "$found" ] || fail "state directories left under --root: $found"
}
t "nothing of any container of this file is left" t_leftovers_all

done_testing
