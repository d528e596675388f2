#!/bin/bash
# The process: user, groups, umask, cwd, env, args, no_new_privs,
# capabilities, rlimits, oom_score_adj.
. "$(dirname "$0")/lib.sh"

# capability bits: CAP_KILL 5, CAP_NET_BIND_SERVICE 10, CAP_AUDIT_WRITE 29
DEFAULT_CAPS_MASK=$(((1 << 5) | (1 << 10) | (1 << 29)))
THREE_CAPS='["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]'

hex() { printf '0x%x' "$((16#${1:-0}))"; }

t_user() {
	new_container
	cfg '.process.user = {uid: 1000, gid: 1000, additionalGids: [3000, 2000]}'
	set_args sprout-probe
	rt run -b "$BUNDLE" "$CID"
	expect_ok run || return
	expect_eq "$(pv uid)" 1000 uid
	expect_eq "$(pv euid)" 1000 euid
	expect_eq "$(pv gid)" 1000 gid
	expect_eq "$(pv egid)" 1000 egid
	expect_eq "$(pv groups | tr , '\n' | sort -n | paste -sd,)" 2000,3000 "supplementary groups"
	leftovers_after "$CID"
}
t "user: uid 1000, gid 1000, additionalGids 2000,3000" t_user

t_user_nogroups() {
	new_container
	cfg '.process.user = {uid: 1000, gid: 1000}'
	set_args sprout-probe
	rt run -b "$BUNDLE" "$CID"
	expect_ok run || return
	expect_eq "$(pv uid)" 1000 uid
	expect_eq "$(pv groups)" "" "supplementary groups (none asked; root's 0 must be dropped)"
	leftovers_after "$CID"
}
t "user without additionalGids has no supplementary groups" t_user_nogroups

t_umask() {
	new_container --copy
	cfg '.root.readonly = false | .process.user = {uid: 1000, gid: 1000, umask: 23}' # 23 = 0027
	set_args sh -c 'sprout-probe umask; touch /tmp/created' "$CID"
	rt run -b "$BUNDLE" "$CID"
	expect_ok run || return
	expect_eq "$(pv umask)" 0027 umask
	expect_eq "$(stat -c '%a %u %g' "$ROOTFS/tmp/created" 2>&1)" "640 1000 1000" "mode and owner of a file created inside"
	leftovers_after "$CID"
}
t "umask 0027 applied; files are created 0640 by 1000:1000" t_umask

t_umask_default() {
	new_container
	cfg 'del(.process.user.umask)'
	set_args sprout-probe umask
	rt run -b "$BUNDLE" "$CID"
	expect_ok run || return
	expect_eq "$(pv umask)" 0022 "umask when the config sets none"
}
t "umask defaults to 0022" t_umask_default

t_cwd() {
	local dir=$1
	new_container
	cfg '.process.cwd = $d' --arg d "$dir"
	set_args sprout-probe cwd
	rt run -b "$BUNDLE" "$CID"
	expect_ok run || return
	expect_eq "$(pv cwd)" "$dir" cwd
}
t "cwd /tmp" t_cwd /tmp
t "cwd /home/test" t_cwd /home/test

t_env() {
	new_container
	cfg '.process.env = ["PATH=/usr/bin:/bin", "FOO=bar", "WITH_EQ=a=b=c", "EMPTY=", "SPACES=a b  c"]'
	set_args sprout-probe env
	export SPROUT_IT_LEAK=leaked
	rt run -b "$BUNDLE" "$CID"
	unset SPROUT_IT_LEAK
	expect_ok run || return
	local v
	for v in "PATH=/usr/bin:/bin" "FOO=bar" "WITH_EQ=a=b=c" "EMPTY=" "SPACES=a b  c"; do
		grep -qxF -- "$v" <<<"$OUT" || fail "'$v' missing from the environment: $(paste -sd' ' <<<"$OUT")"
	done
	expect_no_match "$OUT" '^SPROUT_IT_LEAK=' "runtime's environment leaking in"
	expect_eq "$(grep -c '^FOO=' <<<"$OUT")" 1 "FOO appears once"
}
t "env is exactly as given (no leak of the runtime's environment)" t_env

t_args() {
	new_container
	set_args sh -c 'for a in "$@"; do echo "arg=[$a]"; done' sh "a b" "" "c" 'd"e' '$HOME' "--flag"
	rt run -b "$BUNDLE" "$CID"
	expect_ok run || return
	expect_eq "$OUT" "$(printf '%s\n' 'arg=[a b]' 'arg=[]' 'arg=[c]' 'arg=[d"e]' 'arg=[$HOME]' 'arg=[--flag]')" "arguments as received"
}
t "args: spaces, empty strings, quotes and dashes arrive intact" t_args

t_args_path() {
	new_container
	cfg '.process.env = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]'
	set_args sprout-probe pid
	rt run -b "$BUNDLE" "$CID"
	expect_ok "run of 'sprout-probe' (found through PATH)" || return
	expect_eq "$(pv pid)" 1 "pid of the probe"
}
t "args[0] without a slash is looked up in the config's PATH" t_args_path

t_nnp() {
	local want=$1
	new_container
	cfg '.process.noNewPrivileges = $v' --argjson v "$( [ "$want" = 1 ] && echo true || echo false)"
	set_args sprout-probe no_new_privs
	rt run -b "$BUNDLE" "$CID"
	expect_ok run || return
	expect_eq "$(pv no_new_privs)" "$want" "no_new_privs"
}
t "noNewPrivileges true -> no_new_privs=1" t_nnp 1
t "noNewPrivileges false -> no_new_privs=0" t_nnp 0

t_caps_explicit() {
	new_container
	cfg '.process.capabilities = {bounding: $c, effective: $c, permitted: $c}' --argjson c "$THREE_CAPS"
	set_args sprout-probe
	rt run -b "$BUNDLE" "$CID"
	expect_ok run || return
	expect_eq "$(hex "$(pv cap_eff)")" "$(hex "$(printf %x $DEFAULT_CAPS_MASK)")" "cap_eff"
	expect_eq "$(hex "$(pv cap_prm)")" "$(hex "$(printf %x $DEFAULT_CAPS_MASK)")" "cap_prm"
	expect_eq "$(hex "$(pv cap_bnd)")" "$(hex "$(printf %x $DEFAULT_CAPS_MASK)")" "cap_bnd"
	expect_eq "$(hex "$(pv cap_inh)")" 0x0 "cap_inh"
	expect_eq "$(hex "$(pv cap_amb)")" 0x0 "cap_amb"
}
t "capabilities AUDIT_WRITE, KILL, NET_BIND_SERVICE: exact eff/prm/bnd, no inh/amb" t_caps_explicit

t_caps_default_spec() {
	new_container
	set_args sprout-probe
	rt run -b "$BUNDLE" "$CID"
	expect_ok run || return
	expect_eq "$(hex "$(pv cap_eff)")" "$(hex "$(printf %x $DEFAULT_CAPS_MASK)")" "cap_eff of the default spec"
	expect_eq "$(hex "$(pv cap_bnd)")" "$(hex "$(printf %x $DEFAULT_CAPS_MASK)")" "cap_bnd of the default spec"
}
t "the default spec's 3 capabilities are the effective and bounding sets" t_caps_default_spec

t_caps_more() {
	# CAP_SYS_ADMIN (21) and CAP_NET_RAW (13) added to every set but ambient
	local want
	want=$(hex "$(printf %x $((DEFAULT_CAPS_MASK | (1 << 21) | (1 << 13))))")
	new_container
	cfg '.process.capabilities = {bounding: $c, effective: $c, permitted: $c}' \
		--argjson c '["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SYS_ADMIN", "CAP_NET_RAW"]'
	set_args sprout-probe cap_eff cap_bnd
	rt run -b "$BUNDLE" "$CID"
	expect_ok run || return
	expect_eq "$(hex "$(pv cap_eff)")" "$want" "cap_eff"
	expect_eq "$(hex "$(pv cap_bnd)")" "$want" "cap_bnd"
}
t "capabilities: adding CAP_SYS_ADMIN and CAP_NET_RAW sets bits 21 and 13" t_caps_more

t_caps_user() {
	# execve as a non-root user drops permitted/effective capabilities unless
	# they are ambient (kernel rule): without ambient 0, with ambient kept.
	local amb=$1 want=$2
	new_container
	cfg '.process.user = {uid: 1000, gid: 1000} | .process.capabilities = {bounding: $c, effective: $c, permitted: $c, inheritable: $a, ambient: $a}' \
		--argjson c "$THREE_CAPS" --argjson a "$amb"
	set_args sprout-probe uid cap_eff cap_prm cap_amb
	rt run -b "$BUNDLE" "$CID"
	expect_ok run || return
	expect_eq "$(pv uid)" 1000 uid
	expect_eq "$(hex "$(pv cap_eff)")" "$want" "cap_eff of uid 1000"
	expect_eq "$(hex "$(pv cap_prm)")" "$want" "cap_prm of uid 1000"
	expect_eq "$(hex "$(pv cap_amb)")" "$want" "cap_amb of uid 1000"
}
t "non-root user without ambient capabilities has none after exec" t_caps_user '[]' 0x0
t "non-root user keeps the capabilities that are ambient" t_caps_user "$THREE_CAPS" "$(hex "$(printf %x $DEFAULT_CAPS_MASK)")"

t_rlimits() {
	new_container
	cfg '.process.rlimits = [{type: "RLIMIT_NOFILE", soft: 500, hard: 2000}, {type: "RLIMIT_CORE", soft: 1234, hard: 5678}]'
	set_args sprout-probe rlimit_nofile rlimit_core
	rt run -b "$BUNDLE" "$CID"
	expect_ok run || return
	expect_eq "$(pv rlimit_nofile_soft)" 500 "nofile soft"
	expect_eq "$(pv rlimit_nofile_hard)" 2000 "nofile hard"
	expect_eq "$(pv rlimit_core_soft)" 1234 "core soft"
	expect_eq "$(pv rlimit_core_hard)" 5678 "core hard"
}
t "rlimits: RLIMIT_NOFILE 500/2000, RLIMIT_CORE 1234/5678" t_rlimits

t_rlimit_default_spec() {
	new_container
	set_args sprout-probe rlimit_nofile
	rt run -b "$BUNDLE" "$CID"
	expect_ok run || return
	local want
	want=$(jq -r '.process.rlimits[]? | select(.type == "RLIMIT_NOFILE") | "\(.soft) \(.hard)"' "$BUNDLE/config.json")
	[ -n "$want" ] || { skip "the default spec sets no RLIMIT_NOFILE"; return; }
	expect_eq "$(pv rlimit_nofile_soft) $(pv rlimit_nofile_hard)" "$want" "nofile of the default spec"
}
t "the default spec's RLIMIT_NOFILE is applied" t_rlimit_default_spec

t_rlimit_too_high() {
	local caps
	caps=$(awk '/^CapEff:/ { print $2 }' /proc/self/status)
	if (((16#$caps >> 24) & 1)); then
		skip "this host has CAP_SYS_RESOURCE: hard limits can be raised"
		return
	fi
	local hard
	hard=$(ulimit -Hn)
	new_container
	cfg '.process.rlimits = [{type: "RLIMIT_NOFILE", soft: $n, hard: $n}]' --argjson n $((hard + 1000))
	rt run -b "$BUNDLE" "$CID"
	expect_failure "run with RLIMIT_NOFILE above the host's hard limit" || return
	expect_sprout_error
	expect_contains "$ERR" RLIMIT_NOFILE "error names the limit"
	expect_contains "$ERR" "hard limit is $hard" "error says the host's hard limit"
	leftovers_after "$CID"
}
t "an rlimit above the hard limit (no CAP_SYS_RESOURCE) fails cleanly" t_rlimit_too_high

t_oom() {
	new_container
	cfg '.process.oomScoreAdj = 123'
	set_args sprout-probe oom_score_adj
	rt run -b "$BUNDLE" "$CID"
	expect_ok run || return
	expect_eq "$(pv oom_score_adj)" 123 oom_score_adj
}
t "oomScoreAdj 123" t_oom

t_leftovers_all() {
	local id
	for id in "${ALL_IDS[@]}"; do
		leftovers "$id"
	done
}
t "no container of this file left anything behind" t_leftovers_all

done_testing
