#!/bin/bash
# How the init gets into its cgroups: born in its cgroup2 (CLONE_INTO_CGROUP)
# and moving itself into every v1 hierarchy (src/cgroup/join.c), never by a
# migration by pid.  What a user sees: the init of a created container is
# in the container's cgroup in every hierarchy the host has, and with a
# cgroup namespace the workload sees the root of each.  On v1 and hybrid
# hosts the v1 directories and limits are made while the init mounts
# (after clone3) unless a user namespace or createContainer/startContainer
# hooks need them before: both ways end in the same place.
. "$(dirname "$0")/lib.sh"

# The default cgroupsPath: "<id>" below the runtime's own cgroup in
# each hierarchy; the host's hierarchies: one /proc/self/cgroup line each.
HOST_CG_LINES=$(grep -c '' /proc/self/cgroup)

# every line of /proc/PID/cgroup names ID; as many lines as the host
expect_in_cgroups() { # PID ID WHAT
	local text n bad
	text=$(cat "/proc/$1/cgroup" 2>/dev/null)
	n=$(grep -c '' <<<"$text")
	expect_eq "$n" "$HOST_CG_LINES" "$3: hierarchies in /proc/$1/cgroup" || return 1
	bad=$(grep -v -E ":(.*/)?$2\$" <<<"$text")
	[ -z "$bad" ] || fail "$3: not in its cgroup in: $(tr '\n' ' ' <<<"$bad")"
}

t_created() {
	local pid
	new_container
	sleeper_args
	rt create -b "$BUNDLE" "$CID"
	expect_ok create || return
	state "$CID"
	pid=$(jq -r .pid <<<"$STATE")
	expect_match "$pid" '^[1-9][0-9]*$' "pid of the init" || return
	expect_in_cgroups "$pid" "$CID" "created container's init"
	rt start "$CID"
	expect_ok start
	expect_in_cgroups "$pid" "$CID" "started workload"
	force_delete "$CID"
	leftovers_after "$CID"
}
t "create: the init is in the container's cgroup in every hierarchy" t_created

# A createContainer hook needs its state in the init first: the v1
# directories are then made before clone3, and the init lands in the same
# place; the hook itself runs in the container's cgroups.
t_created_with_hook() {
	local pid hook_cg
	new_container
	sleeper_args
	del_ns cgroup # the hook sees the full paths
	# before pivot_root: the host's files are still where they were
	cfg '.hooks = {createContainer: [{path: "/bin/sh", args: ["sh", "-c", "cat /proc/self/cgroup > \($f)"]}]}' \
		--arg f "$BUNDLE/hook-cgroup"
	rt create -b "$BUNDLE" "$CID"
	expect_ok "create with a createContainer hook" || return
	state "$CID"
	pid=$(jq -r .pid <<<"$STATE")
	expect_in_cgroups "$pid" "$CID" "init of a container with a createContainer hook"
	hook_cg=$(cat "$BUNDLE/hook-cgroup" 2>/dev/null)
	expect_eq "$(grep -c -E ":(.*/)?$CID\$" <<<"$hook_cg")" "$HOST_CG_LINES" \
		"hierarchies in which the hook ran in the container's cgroup"
	force_delete "$CID"
	leftovers_after "$CID"
}
t "create with a createContainer hook: the init is in its cgroup everywhere" t_created_with_hook

# A limit the kernel refuses (no such CPU) fails while the init is already
# mounting: the create names the field, the init is killed, nothing stays.
t_refused_after_clone() {
	new_container
	sleeper_args
	cfg '.linux.resources = {cpu: {cpus: "4095"}}'
	rt create -b "$BUNDLE" "$CID"
	expect_failure || return
	expect_sprout_error
	expect_contains "$ERR" ".linux.resources.cpu.cpus" "error names the field"
	forget "$CID"
	leftovers_after "$CID"
}
t "a limit the kernel refuses fails the create and leaves nothing" t_refused_after_clone

t_cgroupns_view() {
	local bad
	new_container
	add_ns cgroup
	set_args cat /proc/self/cgroup
	rt run -b "$BUNDLE" "$CID"
	expect_ok run || return
	expect_eq "$(grep -c '' <<<"$OUT")" "$HOST_CG_LINES" "hierarchies seen inside"
	# joined before the cgroup namespace was made: its root everywhere
	bad=$(grep -v -E ':/$' <<<"$OUT")
	[ -z "$bad" ] || fail "cgroups seen inside are not the namespace root: $(tr '\n' ' ' <<<"$bad")"
	forget "$CID"
	leftovers_after "$CID"
}
t "run with a cgroup namespace: the workload sees / in every hierarchy" t_cgroupns_view

t_no_cgroupns_view() {
	new_container
	del_ns cgroup
	set_args cat /proc/self/cgroup
	rt run -b "$BUNDLE" "$CID"
	expect_ok run || return
	expect_eq "$(grep -c '' <<<"$OUT")" "$HOST_CG_LINES" "hierarchies seen inside"
	bad=$(grep -v -E ":(.*/)?$CID\$" <<<"$OUT")
	[ -z "$bad" ] || fail "workload not in its cgroup in: $(tr '\n' ' ' <<<"$bad")"
	forget "$CID"
	leftovers_after "$CID"
}
t "run without a cgroup namespace: the workload's cgroup is ID everywhere" t_no_cgroupns_view

done_testing
