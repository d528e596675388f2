#!/bin/bash
# The runtime called exactly as containerd's shim calls it (`--root R --log
# FILE --log-format json CMD`), for the parts of the contract that the
# clients only see when something goes wrong: the error texts the shim
# matches ("container not running", "does not exist"), `kill --all` on a
# stopped container (the shim's cleanup of a container that shares the
# host's pid namespace), and the --log file (one JSON object a line, an
# RFC 3339 time, the error last).
#
# Run alone: bash tests/clients/contract.sh (TAP); tests/clients/run.sh
# runs it with the client suites.

CN=
CN_N=0

cn_start() {
	prepare_image
	CN=$CT/contract
	mkdir -p "$CN/root" "$CN/bundles"
}

# rtc ARGS...: the runtime with the shim's global flags (RC/OUT/ERR).
rtc() {
	run "$RT_BIN" --root "$CN/root" --log "$CN/log-$RT.json" --log-format json "$@"
}

cn_new_id() {
	CN_N=$((CN_N + 1))
	CID=$(printf 'k%d-%s-%03d' $$ "$RT" "$CN_N")
}

# cn_bundle ARGS...: a bundle in BUNDLE from the runtime's own `spec`, the
# fixture as its root, running ARGS without a terminal.
cn_bundle() {
	BUNDLE=$CN/bundles/$CID
	mkdir -p "$BUNDLE"
	(cd "$BUNDLE" && timeout 20 "$RT_BIN" spec </dev/null >/dev/null 2>&1) || {
		fail "$RT spec failed"
		return 1
	}
	jq --arg root "$SPROUT_FIXTURE" --argjson args "$(printf '%s\n' "$@" | jq -R . | jq -s -c .)" \
		'.root = {path: $root, readonly: true} | .process.terminal = false | .process.args = $args' \
		"$BUNDLE/config.json" >"$BUNDLE/config.new" && mv "$BUNDLE/config.new" "$BUNDLE/config.json"
}

cn_status() {
	timeout 20 "$RT_BIN" --root "$CN/root" state "$1" 2>/dev/null </dev/null | jq -r .status 2>/dev/null
}
cn_status_is() { [ "$(cn_status "$1")" = "$2" ]; }

cn_delete() {
	rtc delete --force "$1"
	no_leftovers "$1" "$CN/root/$1"
}

# A container whose init has exited: kill says "container not running"
# (containerd's shim then reports "process already finished"); kill --all
# succeeds and reaches what is left in the container's cgroup.
cn_kill_stopped() {
	cn_new_id
	cn_bundle sh -c 'sleep 1000 & exit 0' || return
	# the host's pid namespace: the init's exit leaves the sleep running
	jq '.linux.namespaces = [.linux.namespaces[] | select(.type != "pid")]' "$BUNDLE/config.json" \
		>"$BUNDLE/config.new" && mv "$BUNDLE/config.new" "$BUNDLE/config.json"
	rtc create --bundle "$BUNDLE" --pid-file "$BUNDLE/init.pid" "$CID"
	expect_ok "create" || return
	rtc start "$CID"
	expect_ok "start"
	poll 10 cn_status_is "$CID" stopped || fail "not stopped after the init exited: $(cn_status "$CID")"
	rtc kill "$CID" 9
	expect_failure "kill of a stopped container"
	expect_match "$ERR" 'container not running' "kill's error (containerd matches this text)"
	expect_match "$(jq -r 'select(.level == "error") | .msg' "$CN/log-$RT.json" 2>/dev/null | tail -n1)" \
		'container not running' "kill's error in --log"
	local left
	left=$(procs_in_cgroup "$CID")
	[ -n "$left" ] || fail "no process left in the cgroup of $CID (the test needs the sleep there)"
	rtc kill --all "$CID" 9
	expect_ok "kill --all of a stopped container"
	poll 5 eval '[ -z "$(procs_in_cgroup "$CID")" ]' ||
		fail "processes left after kill --all: $(procs_in_cgroup "$CID")"
	cn_delete "$CID"
}

# An id that is not there: delete, kill and state say "does not exist"
# (containerd's delete ignores exactly that error).
cn_missing() {
	local cmd
	cn_new_id
	for cmd in "delete" "kill" "state"; do
		# shellcheck disable=SC2086
		rtc $cmd "$CID"
		expect_failure "$cmd of a missing container"
		expect_match "$ERR" 'does not exist' "$cmd's error"
	done
}

# The --log file: every line one JSON object with level, msg and an RFC
# 3339 time; the last error is the command's.
cn_log_lines() {
	cn_new_id
	rm -f "$CN/log-$RT.json"
	cn_bundle /nonexistent/binary || return
	rtc create --bundle "$BUNDLE" --pid-file "$BUNDLE/init.pid" "$CID"
	expect_failure "create of a missing executable"
	local log=$CN/log-$RT.json bad
	[ -s "$log" ] || { fail "nothing in --log $log"; return; }
	bad=$(jq -R -c 'fromjson? // "NOT JSON: \(.)" | select(type == "string" or (.level | type) != "string"
		or (.msg | type) != "string"
		or ((.time // "") | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$") | not))' "$log")
	[ -z "$bad" ] || fail "lines without level/msg/RFC 3339 time: $bad"
	expect_match "$(jq -r 'select(.level == "error") | .msg' "$log" 2>/dev/null | tail -n1)" \
		'/nonexistent/binary' "last error in --log"
	[ -e "$BUNDLE/init.pid" ] && fail "a pid file was left by a failed create"
	no_leftovers "$CID" "$CN/root/$CID"
}

# A bad global flag after --log still reaches the log (runc reports it on
# stderr only).
cn_bad_flag_logged() {
	[ "$RT" = runc ] && { skip "runc reports global flag errors on stderr only"; return; }
	rm -f "$CN/log-$RT.json"
	run "$RT_BIN" --log "$CN/log-$RT.json" --log-format=json --no-such-flag state x
	expect_failure "unknown global flag"
	expect_match "$(jq -r 'select(.level == "error") | .msg' "$CN/log-$RT.json" 2>/dev/null)" \
		'no-such-flag' "the error in --log"
}

contract_suite() {
	SUITE_SKIP='' SUITE_BROKEN=''
	cn_start
	scenario "contract: kill of a stopped container, kill --all" cn_kill_stopped
	scenario "contract: missing id: does not exist" cn_missing
	scenario "contract: --log JSON lines" cn_log_lines
	scenario "contract: bad global flag in --log" cn_bad_flag_logged
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	. "$(dirname "$0")/lib.sh"
	contract_suite
	done_testing
fi
