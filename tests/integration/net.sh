#!/bin/bash
# Networking: lo is up in a new network namespace; linux.netDevices moves a
# host interface (a veth made here) into the container under its new name
# and back to the host, under its old name, when the container goes.
. "$(dirname "$0")/lib.sh"

command -v ip >/dev/null || bail "ip (iproute2) is not installed"

VETH=spv$$ # host-side names of this run's veth pairs: spv<pid>a, spv<pid>b...
net_cleanup() {
	local l
	for l in $(ip -o link show 2>/dev/null | awk -F': ' '{ print $2 }' | cut -d@ -f1 | grep "^$VETH"); do
		ip link del "$l" 2>/dev/null
	done
	cleanup
}
trap net_cleanup EXIT

new_veth() { # new_veth NAME: a veth pair NAME / NAME-p
	ip link add "$1" type veth peer name "$1-p" || bail "cannot create a veth pair"
}

host_has() { ip link show "$1" >/dev/null 2>&1; }

t_lo_up() {
	new_container
	set_args sh -c 'ip -o link show lo; readlink /proc/self/ns/net'
	rt run -b "$BUNDLE" "$CID"
	expect_ok || return
	# lo is brought up by the parent, in the container's netns, not ours
	expect_match "$OUT" '<[^>]*\bUP\b' "lo in a new network namespace"
	expect_contains "$OUT" "net:[" "the container's netns" || return
	[[ "$OUT" != *"$(readlink /proc/self/ns/net)"* ]] ||
		fail "the container is in the host's network namespace"
	forget "$CID"
	leftovers "$CID"
}
t "lo is UP in a new network namespace of the container's own" t_lo_up

t_netdev_run() {
	local dev=${VETH}a
	new_veth "$dev"
	new_container
	set_args sh -c 'ip -o link show eth7; [ -e /sys/class/net/'"$dev"' ] && echo HOST-NAME-SEEN; true'
	cfg '.linux.netDevices = {($d): {name: "eth7"}}' --arg d "$dev"
	rt run -b "$BUNDLE" "$CID"
	expect_ok "run with netDevices" || return
	expect_match "$OUT" '^[0-9]+: eth7' "the device inside under its new name"
	expect_no_match "$OUT" HOST-NAME-SEEN "the old name inside"
	host_has "$dev" || fail "$dev is not back on the host after run"
	forget "$CID"
	leftovers "$CID"
}
t "netDevices: a veth is visible inside under its new name, back after run" t_netdev_run

t_netdev_create_delete() {
	local dev=${VETH}b
	new_veth "$dev"
	new_container
	sleeper_args
	cfg '.linux.netDevices = {($d): {name: "inside0"}}' --arg d "$dev"
	rt create -b "$BUNDLE" "$CID"
	expect_ok "create" || return
	host_has "$dev" && fail "$dev is still on the host while the container has it"
	state "$CID"
	local pid
	pid=$(jq -r .pid <<<"$STATE")
	nsenter -t "$pid" -n ip link show inside0 >/dev/null 2>&1 ||
		fail "no inside0 in the container's network namespace"
	rt start "$CID"
	expect_ok "start" || return
	rt delete --force "$CID"
	expect_ok "delete --force" || return
	host_has "$dev" || fail "$dev is not back on the host after delete"
	forget "$CID"
	leftovers_after "$CID"
}
t "netDevices: create moves it in, delete moves it back" t_netdev_create_delete

t_netdev_same_name() {
	local dev=${VETH}c
	new_veth "$dev"
	new_container
	set_args ip -o link show "$dev"
	cfg '.linux.netDevices = {($d): {}}' --arg d "$dev"
	rt run -b "$BUNDLE" "$CID"
	expect_ok "run" || return
	expect_match "$OUT" "^[0-9]+: $dev" "without a name the device keeps its own"
	host_has "$dev" || fail "$dev is not back"
	forget "$CID"
	leftovers "$CID"
}
t "netDevices without a name keeps the host name" t_netdev_same_name

t_netdev_missing() {
	new_container
	cfg '.linux.netDevices = {"nosuchdev0": {name: "eth0"}}'
	rt run -b "$BUNDLE" "$CID"
	expect_failure || return
	expect_sprout_error
	expect_contains "$ERR" nosuchdev0 "the error names the interface"
	forget "$CID"
	leftovers "$CID"
}
t "netDevices naming a missing host interface: fails naming it, nothing left" t_netdev_missing

t_netdev_failure_returns() {
	local dev=${VETH}d
	new_veth "$dev"
	new_container
	set_args /nonexistent-binary
	cfg '.linux.netDevices = {($d): {name: "eth9"}}' --arg d "$dev"
	rt run -b "$BUNDLE" "$CID"
	expect_failure "run of a missing binary" || return
	host_has "$dev" || fail "$dev is not back on the host after the failed run"
	forget "$CID"
	leftovers "$CID"
}
t "netDevices: a failed create gives the device back" t_netdev_failure_returns

done_testing
