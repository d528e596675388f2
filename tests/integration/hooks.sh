#!/bin/bash
# OCI hooks: every kind runs once, at its moment (create, start, delete),
# in its namespace (the runtime's, or the container's for createContainer
# and startContainer), with args, env and the state JSON on stdin; failing
# hooks fail create/start (and the container is cleaned up) while poststart
# and poststop failures are only warnings; timeouts kill the hook.
. "$(dirname "$0")/lib.sh"

HOOKS=$TMPDIR_IT/hooks
mkdir -p "$HOOKS"
# hook.sh KIND: records where and with what it ran, in $OUT_DIR/KIND.PID;
# HOOK_EXIT sets its exit status, HOOK_SLEEP makes it slow.
cat >"$HOOKS/hook.sh" <<'EOF'
#!/bin/sh
kind=$1
{
	echo "kind=$kind"
	echo "argc=$#"
	echo "mnt=$(readlink /proc/self/ns/mnt)"
	echo "env=$HOOK_ENV"
	echo "state=$(cat)"
} >"$OUT_DIR/$kind.$$"
[ -n "$HOOK_SLEEP" ] && sleep "$HOOK_SLEEP"
[ -n "$HOOK_SAY" ] && echo "$HOOK_SAY" >&2
exit "${HOOK_EXIT:-0}"
EOF
chmod 755 "$HOOKS/hook.sh"
KINDS="prestart createRuntime createContainer startContainer poststart poststop"

# hook_container: a bundle whose hooks are all hook.sh, the hooks dir bound
# into the container at the same path (startContainer runs inside).
hook_container() {
	new_container
	OUT_DIR=$TMPDIR_IT/out-$CID
	mkdir -p "$OUT_DIR"
	sleeper_args
	add_mount "$HOOKS" bind "$HOOKS" rbind
	add_mount "$OUT_DIR" bind "$OUT_DIR" rbind
	local k
	for k in $KINDS; do
		cfg '.hooks[$k] = [{path: $h, args: [$h, $k, "extra"], env: ["OUT_DIR=\($o)", "HOOK_ENV=hello-\($k)"], timeout: 10}]' \
			--arg k "$k" --arg h "$HOOKS/hook.sh" --arg o "$OUT_DIR"
	done
}

# set_hook KIND JQ: change the hook of KIND (e.g. '.env += ["HOOK_EXIT=3"]').
set_hook() {
	cfg ".hooks[\$k][0] |= ($2)" --arg k "$1"
}

ran() { # ran KIND: how many times KIND ran
	find "$OUT_DIR" -name "$1.*" 2>/dev/null | wc -l
}

hook_field() { # hook_field KIND FIELD
	sed -n "s/^$2=//p" "$OUT_DIR/$1".* 2>/dev/null | head -n1
}

HOST_MNT=$(readlink /proc/self/ns/mnt)

t_lifecycle() {
	hook_container
	rt create -b "$BUNDLE" "$CID"
	expect_ok "create" || return
	local k pid init_mnt
	state "$CID"
	pid=$(jq -r .pid <<<"$STATE")
	init_mnt=$(readlink "/proc/$pid/ns/mnt")
	for k in prestart createRuntime createContainer; do
		expect_eq "$(ran $k)" 1 "$k runs during create"
	done
	for k in startContainer poststart poststop; do
		expect_eq "$(ran $k)" 0 "$k has not run after create"
	done
	rt start "$CID"
	expect_ok "start" || return
	expect_eq "$(ran startContainer)" 1 "startContainer runs during start"
	expect_eq "$(ran poststart)" 1 "poststart runs during start"
	expect_eq "$(ran poststop)" 0 "poststop has not run before delete"
	rt kill "$CID" KILL
	wait_status "$CID" stopped
	rt delete "$CID"
	expect_ok "delete" || return
	forget "$CID"
	expect_eq "$(ran poststop)" 1 "poststop runs during delete"
	for k in $KINDS; do
		expect_eq "$(ran $k)" 1 "$k ran exactly once"
		expect_eq "$(hook_field $k argc)" 2 "$k got its args (args[0] is argv[0])"
		expect_eq "$(hook_field $k env)" "hello-$k" "$k got its env"
	done
	# where: the runtime's mount namespace, or the container's
	for k in prestart createRuntime poststart poststop; do
		expect_eq "$(hook_field $k mnt)" "$HOST_MNT" "$k runs in the runtime's mount namespace"
	done
	for k in createContainer startContainer; do
		expect_eq "$(hook_field $k mnt)" "$init_mnt" "$k runs in the container's mount namespace"
	done
	# the state on stdin
	local st
	for k in $KINDS; do
		st=$(hook_field $k state)
		expect_eq "$(jq -r .id <<<"$st" 2>/dev/null)" "$CID" "$k: state.id"
		expect_eq "$(jq -r .bundle <<<"$st" 2>/dev/null)" "$BUNDLE" "$k: state.bundle"
	done
	for k in prestart createRuntime createContainer startContainer poststart; do
		expect_eq "$(jq -r .pid <<<"$(hook_field $k state)")" "$pid" "$k: state.pid is the init's host pid"
	done
	expect_eq "$(jq -r .status <<<"$(hook_field createRuntime state)")" creating "createRuntime: status"
	expect_eq "$(jq -r .status <<<"$(hook_field startContainer state)")" created "startContainer: status"
	expect_eq "$(jq -r .status <<<"$(hook_field poststart state)")" running "poststart: status"
	expect_eq "$(jq -r .status <<<"$(hook_field poststop state)")" stopped "poststop: status"
	leftovers_after "$CID"
}
t "every hook kind runs once, at its moment, in its namespace, with args, env and state" t_lifecycle

t_run() {
	hook_container
	set_args true
	rt run -b "$BUNDLE" "$CID"
	expect_ok "run" || return
	forget "$CID"
	local k
	for k in $KINDS; do
		expect_eq "$(ran $k)" 1 "run: $k ran once"
	done
	leftovers "$CID"
}
t "run: every hook kind runs once" t_run

# A failing hook of KIND fails create and leaves nothing (poststop runs).
t_create_hook_fails() {
	local kind=$1
	hook_container
	set_hook "$kind" '.env += ["HOOK_EXIT=3", "HOOK_SAY=the-hook-said-no"]'
	rt create -b "$BUNDLE" "$CID"
	expect_failure "create with a failing $kind hook" || return
	expect_sprout_error
	expect_contains "$ERR" "hook $kind[0]" "the error names the hook"
	expect_contains "$ERR" "status 3" "the error gives the exit status"
	expect_contains "$ERR" "the-hook-said-no" "the error carries the hook's output"
	expect_eq "$(ran startContainer)" 0 "startContainer did not run"
	expect_eq "$(ran poststop)" 1 "poststop ran after the failed create"
	forget "$CID"
	leftovers_after "$CID"
}
t "failing prestart hook: create fails, names it, nothing left" t_create_hook_fails prestart
t "failing createRuntime hook: create fails, names it, nothing left" t_create_hook_fails createRuntime
t "failing createContainer hook: create fails, names it, nothing left" t_create_hook_fails createContainer

t_start_hook_fails() {
	hook_container
	set_hook startContainer '.env += ["HOOK_EXIT=4", "HOOK_SAY=not-today"]'
	rt create -b "$BUNDLE" "$CID"
	expect_ok "create" || return
	rt start "$CID"
	expect_failure "start with a failing startContainer hook" || return
	expect_sprout_error
	expect_contains "$ERR" "hook startContainer[0]" "the error names the hook"
	expect_contains "$ERR" "not-today" "the error carries the hook's output"
	expect_eq "$(ran poststart)" 0 "poststart did not run"
	wait_status "$CID" stopped || fail "the container is $STATUS after the failed start"
	rt delete "$CID"
	expect_ok "delete after the failed start"
	forget "$CID"
	leftovers_after "$CID"
}
t "failing startContainer hook: start fails with its message, the workload never runs" t_start_hook_fails

t_post_hooks_warn() {
	hook_container
	set_hook poststart '.env += ["HOOK_EXIT=5"]'
	set_hook poststop '.env += ["HOOK_EXIT=6"]'
	rt create -b "$BUNDLE" "$CID"
	expect_ok "create" || return
	rt start "$CID"
	expect_ok "start with a failing poststart hook succeeds"
	expect_contains "$ERR" "poststart[0]" "a warning names the poststart hook"
	state "$CID"
	expect_eq "$STATUS" running "status after start"
	rt delete --force "$CID"
	expect_ok "delete with a failing poststop hook succeeds"
	expect_contains "$ERR" "poststop[0]" "a warning names the poststop hook"
	forget "$CID"
	leftovers_after "$CID"
}
t "failing poststart/poststop hooks only warn" t_post_hooks_warn

t_timeout() {
	hook_container
	set_hook createRuntime '.env += ["HOOK_SLEEP=30"] | .timeout = 1'
	local t0=$SECONDS
	rt create -b "$BUNDLE" "$CID"
	expect_failure "create with a hanging createRuntime hook" || return
	expect_contains "$ERR" "timed out after 1 s" "the error says the hook timed out"
	[ $((SECONDS - t0)) -le 10 ] || fail "create took $((SECONDS - t0)) s"
	forget "$CID"
	leftovers_after "$CID"
	pgrep -f "$HOOKS/hook.sh createRuntime" >/dev/null && fail "the timed-out hook still runs"
}
t "a hook past its timeout is killed and fails create" t_timeout

t_missing_hook() {
	hook_container
	set_hook prestart ".path = \"$TMPDIR_IT/no-such-hook\""
	rt create -b "$BUNDLE" "$CID"
	expect_failure || return
	expect_contains "$ERR" "no-such-hook" "the error names the hook path"
	forget "$CID"
	leftovers_after "$CID"
}
t "a hook that does not exist fails create naming it" t_missing_hook

done_testing
