#!/bin/bash
# Namespaces: new ones are new, joined ones are joined, absent ones are the
# host's; pid 1 is the workload; hostname and domainname.
. "$(dirname "$0")/lib.sh"

# One container with every namespace but user and time.
new_container
for ns in pid network ipc uts mount cgroup; do add_ns "$ns"; done
cfg '.hostname = "sprout-ns-test" | .domainname = "ns.example.test"'
set_args sprout-probe
rt run -b "$BUNDLE" "$CID"
ALL_RC=$RC ALL_OUT=$OUT ALL_CALL=$(last_call) ALL_ID=$CID

t_new_ns() {
	local ns=$1 inside
	if [ "$ALL_RC" != 0 ]; then
		fail "run of the probe failed"
		diag "$ALL_CALL"
		return
	fi
	inside=$(pv "ns_$ns" "$ALL_OUT")
	expect_match "$inside" '^[0-9]+$' "ns_$ns inode inside" || return
	expect_ne "$inside" "$(host_ns "$ns")" "ns_$ns inode inside vs host"
}
for ns in pid net ipc uts mnt cgroup; do
	t "new $ns namespace: inode differs from the host's" t_new_ns "$ns"
done

t_pid1() {
	[ "$ALL_RC" = 0 ] || { fail "run failed"; diag "$ALL_CALL"; return; }
	expect_eq "$(pv pid "$ALL_OUT")" 1 "pid of the workload"
	expect_eq "$(pv ppid "$ALL_OUT")" 0 "ppid of the workload"
}
t "pid 1 inside is the workload (pid=1, ppid=0)" t_pid1

t_hostname() {
	[ "$ALL_RC" = 0 ] || { fail "run failed"; diag "$ALL_CALL"; return; }
	expect_eq "$(pv hostname "$ALL_OUT")" sprout-ns-test "hostname"
	expect_eq "$(pv domainname "$ALL_OUT")" ns.example.test "domainname"
	expect_ne "$(hostname)" sprout-ns-test "host hostname after the run"
}
t "hostname and domainname are set (and the host's are not)" t_hostname

t_leftovers_all() {
	leftovers_after "$ALL_ID"
}
t "run with all namespaces leaves nothing behind" t_leftovers_all

t_shared_ns() {
	local out
	new_container
	del_ns network
	del_ns ipc
	del_ns user
	set_args sprout-probe
	rt run -b "$BUNDLE" "$CID"
	expect_ok run || return
	expect_eq "$(pv ns_net)" "$(host_ns net)" "ns_net (not in the config)"
	expect_eq "$(pv ns_ipc)" "$(host_ns ipc)" "ns_ipc (not in the config)"
	expect_eq "$(pv ns_user)" "$(host_ns user)" "ns_user (not in the config)"
	expect_ne "$(pv ns_pid)" "$(host_ns pid)" "ns_pid (in the config)"
	leftovers_after "$CID"
}
t "namespaces absent from the config are the host's" t_shared_ns

t_user_ns() {
	new_container
	add_ns user
	cfg '.linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
	   | .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]'
	set_args sh -c 'sprout-probe; echo "uid_map=$(cat /proc/self/uid_map)"; echo "gid_map=$(cat /proc/self/gid_map)"' "$CID"
	rt run -b "$BUNDLE" "$CID"
	expect_ok "run with a user namespace" || return
	expect_ne "$(pv ns_user)" "$(host_ns user)" "ns_user inode"
	expect_eq "$(pv uid)" 0 "uid inside"
	expect_eq "$(pv gid)" 0 "gid inside"
	expect_match "$(pv uid_map)" '^ *0 +100000 +65536$' "uid_map"
	expect_match "$(pv gid_map)" '^ *0 +100000 +65536$' "gid_map"
	leftovers_after "$CID"
}
t "new user namespace with uid/gid mappings 0 -> 100000 x 65536" t_user_ns

t_user_ns_host_view() {
	# Seen from the host, the container's processes run as 100000.
	local pid huid
	new_container
	add_ns user
	cfg '.linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
	   | .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]'
	sleeper_args
	rt run -d -b "$BUNDLE" "$CID"
	expect_ok "run -d with a user namespace" || return
	state "$CID"
	pid=$(jq -r .pid <<<"$STATE")
	huid=$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
	expect_eq "$huid" 100000 "uid of the container's init seen from the host"
	force_delete "$CID"
	leftovers_after "$CID"
}
t "user namespace: the host sees the workload as uid 100000" t_user_ns_host_view

t_time_ns() {
	new_container
	add_ns time
	set_args sprout-probe
	rt run -b "$BUNDLE" "$CID"
	expect_ok "run with a time namespace" || return
	expect_match "$(pv ns_time)" '^[0-9]+$' "ns_time inode" || return
	expect_ne "$(pv ns_time)" "$(host_ns time)" "ns_time inode inside vs host"
	leftovers_after "$CID"
}
t "new time namespace" t_time_ns

t_join_ns() {
	local hpid i
	unshare --net --uts sleep 100 </dev/null >/dev/null 2>&1 &
	hpid=$!
	HELPER_PIDS+=("$hpid")
	for ((i = 0; i < 50; i++)); do
		[ "$(stat -L -c %i "/proc/$hpid/ns/net" 2>/dev/null)" != "$(host_ns net)" ] && break
		sleep 0.1
	done
	new_container
	add_ns network "/proc/$hpid/ns/net"
	add_ns uts "/proc/$hpid/ns/uts"
	cfg 'del(.hostname)'
	set_args sprout-probe
	rt run -b "$BUNDLE" "$CID"
	expect_ok "run joining /proc/$hpid/ns/{net,uts}" || return
	expect_eq "$(pv ns_net)" "$(stat -L -c %i "/proc/$hpid/ns/net")" "ns_net inode vs the helper's"
	expect_eq "$(pv ns_uts)" "$(stat -L -c %i "/proc/$hpid/ns/uts")" "ns_uts inode vs the helper's"
	expect_ne "$(pv ns_ipc)" "$(host_ns ipc)" "ns_ipc (still new)"
	kill -KILL "$hpid" 2>/dev/null
	wait "$hpid" 2>/dev/null
	leftovers_after "$CID"
}
t "namespaces given by path are joined (net, uts of an unshare'd process)" t_join_ns

t_bad_ns_path() {
	local p=/nonexistent-ns-$$/net
	new_container
	add_ns network "$p"
	rt create -b "$BUNDLE" "$CID"
	expect_failure "create with a nonexistent namespace path" || { force_delete "$CID"; return; }
	expect_contains "$ERR" "$p" "error names the path"
	leftovers "$CID"
}
t "a nonexistent namespace path fails, names the path, leaves nothing" t_bad_ns_path

t_wrong_ns_kind() {
	# a path to a namespace of another type than the entry says
	new_container
	add_ns network /proc/self/ns/uts
	rt create -b "$BUNDLE" "$CID"
	expect_failure "create with .type network and a uts namespace path" || { force_delete "$CID"; return; }
	leftovers "$CID"
}
t "a namespace path of the wrong type fails and leaves nothing" t_wrong_ns_kind

done_testing
