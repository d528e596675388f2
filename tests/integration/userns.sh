#!/bin/bash
# User namespaces (as root): uid 0 of the container is the configured host
# uid, maps of any size, mount targets and /dev owned by the container's
# root; idmapped mounts (mappings on the mount, and "idmap" with the
# container's own mappings); time namespace offsets; namespaces joined by
# path together with a new user namespace.
. "$(dirname "$0")/lib.sh"

HOST_BASE=200000 # host uids/gids 200000.. for the container

# userns_container: a bundle with a new user namespace mapping container
# 0..65535 to host 200000.., args "$@".
userns_container() {
	new_container "${COPY:-}"
	add_ns user
	cfg '.linux.uidMappings = [{containerID: 0, hostID: $b, size: 65536}] |
	     .linux.gidMappings = [{containerID: 0, hostID: $b, size: 65536}]' --argjson b "$HOST_BASE"
	set_args "$@"
}

host_uid_of() { # host_uid_of PID: the real uid in /proc/PID/status
	awk '/^Uid:/ { print $2 }' "/proc/$1/status"
}

t_uid_mapped() {
	userns_container sh -c 'cat /proc/self/uid_map; trap "exit 0" TERM; sleep 100 & wait'
	rt create -b "$BUNDLE" "$CID"
	expect_ok "create with a user namespace" || return
	state "$CID"
	local pid
	pid=$(jq -r .pid <<<"$STATE")
	expect_eq "$(host_uid_of "$pid")" "$HOST_BASE" "host uid of the container's root"
	expect_eq "$(awk '{ print $1, $2, $3 }' "/proc/$pid/uid_map")" "0 $HOST_BASE 65536" "the uid map"
	expect_eq "$(awk '{ print $1, $2, $3 }' "/proc/$pid/gid_map")" "0 $HOST_BASE 65536" "the gid map"
	rt delete --force "$CID"
	expect_ok "delete"
	forget "$CID"
	leftovers_after "$CID"
}
t "a container with a user namespace: its uid 0 is the configured host uid" t_uid_mapped

t_multi_range() {
	userns_container sh -c 'cat /proc/self/uid_map; trap "exit 0" TERM; sleep 100 & wait'
	cfg '.linux.uidMappings = [{containerID: 0, hostID: 200000, size: 1000},
	                           {containerID: 1000, hostID: 300000, size: 64536}] |
	     .process.user = {uid: 1500, gid: 10}'
	rt create -b "$BUNDLE" "$CID"
	expect_ok "create with two uid ranges" || return
	rt start "$CID"
	expect_ok "start" || return
	state "$CID"
	local pid
	pid=$(jq -r .pid <<<"$STATE")
	sleep 0.2
	expect_eq "$(host_uid_of "$pid")" 300500 "host uid of container uid 1500"
	expect_eq "$(wc -l <"/proc/$pid/uid_map")" 2 "lines in the uid map"
	rt delete --force "$CID"
	forget "$CID"
	leftovers_after "$CID"
}
t "maps of several ranges: container uid 1500 is host uid 300500" t_multi_range

t_owned_right() {
	COPY=--copy userns_container sh -c 'stat -c "%u:%g" /dev /dev/shm /newmnt; echo x > /newmnt/f && echo wrote'
	chown -R "$HOST_BASE:$HOST_BASE" "$ROOTFS"
	add_mount /newmnt tmpfs tmpfs
	rt run -b "$BUNDLE" "$CID"
	expect_ok "run" || return
	expect_eq "$OUT" "0:0
0:0
0:0
wrote" "owners of /dev, /dev/shm and a new mount target, inside"
	expect_eq "$(stat -c %u:%g "$ROOTFS/newmnt")" "$HOST_BASE:$HOST_BASE" "host owner of the mount target sprout created"
	forget "$CID"
	leftovers "$CID"
}
t "/dev and the mount targets sprout creates belong to the container's root" t_owned_right

t_overlay_userns() {
	userns_container sh -c 'echo x > /in-userns && stat -c %u /in-userns'
	cfg '.root.readonly = false'
	rt run -b "$BUNDLE" --overlay "$CID"
	expect_ok "run --overlay with a user namespace" || return
	expect_eq "$OUT" 0 "owner of a file the container's root wrote"
	[ ! -e "$ROOTFS/in-userns" ] || fail "the write reached the image"
	forget "$CID"
	leftovers "$CID"
}
t "an overlay root in a user namespace is writable by the container's root" t_overlay_userns

IDM_SRC=$TMPDIR_IT/idmap-src
mkdir -p "$IDM_SRC"
echo data >"$IDM_SRC/file"
chown 0:0 "$IDM_SRC/file"
chmod 755 "$IDM_SRC"

t_idmap_mappings() {
	new_container
	set_args stat -c %u:%g /idm/file
	cfg '.mounts += [{destination: "/tmp", type: "bind", source: $s, options: ["bind"],
	      uidMappings: [{containerID: 0, hostID: 1234, size: 1}],
	      gidMappings: [{containerID: 0, hostID: 4321, size: 1}]}] | .process.args = ["stat", "-c", "%u:%g", "/tmp/file"]' \
		--arg s "$IDM_SRC"
	rt run -b "$BUNDLE" "$CID"
	expect_ok "run with an idmapped bind mount" || return
	expect_eq "$OUT" "1234:4321" "owner of a root-owned file through the idmapped mount"
	expect_eq "$(stat -c %u:%g "$IDM_SRC/file")" "0:0" "the source is unchanged"
	forget "$CID"
	leftovers "$CID"
}
t "idmapped bind mount (uidMappings on the mount) shows the mapped owner" t_idmap_mappings

t_idmap_option() {
	userns_container stat -c %u:%g /tmp/file
	add_mount /tmp bind "$IDM_SRC" rbind idmap
	rt run -b "$BUNDLE" "$CID"
	expect_ok "run with an idmap mount in a user namespace" || return
	expect_eq "$OUT" "0:0" "a host-root file through idmap with the container's mappings"
	forget "$CID"
	# the same without idmap: the host's root is not mapped
	userns_container stat -c %u:%g /tmp/file
	add_mount /tmp bind "$IDM_SRC" rbind
	rt run -b "$BUNDLE" "$CID"
	expect_ok || return
	expect_eq "$OUT" "65534:65534" "the same file without idmap"
	forget "$CID"
	leftovers "$CID"
}
t "\"idmap\" without mappings uses the container's user namespace mappings" t_idmap_option

uptime_secs() { sed -n 's/^\([0-9]*\).*/\1/p' <<<"$1"; }

t_timens() {
	local userns=$1
	if [ "$userns" = yes ]; then
		userns_container cat /proc/uptime
	else
		new_container
		set_args cat /proc/uptime
	fi
	add_ns time
	cfg '.linux.timeOffsets = {boottime: {secs: 1000000000, nanosecs: 0}, monotonic: {secs: 5000, nanosecs: 0}}'
	rt run -b "$BUNDLE" "$CID"
	expect_ok "run with a time namespace" || return
	local inside host
	inside=$(uptime_secs "$OUT")
	host=$(uptime_secs "$(cat /proc/uptime)")
	[ -n "$inside" ] && [ "$inside" -ge 1000000000 ] && [ "$inside" -le $((1000000000 + host + 10)) ] ||
		fail "uptime inside: '$inside' (host: $host), expected 1000000000 + host"
	forget "$CID"
	leftovers "$CID"
}
t "time namespace: the boottime offset shows in /proc/uptime" t_timens no
t "time namespace with a user namespace: the offset shows in /proc/uptime" t_timens yes

t_join_with_userns() {
	local ns=sprout-it-$$
	ip netns add "$ns" || { fail "ip netns add"; return; }
	userns_container readlink /proc/self/ns/net
	add_ns network "/run/netns/$ns"
	rt run -b "$BUNDLE" "$CID"
	expect_ok "run: a new user namespace and a network namespace joined by path" || { ip netns del "$ns"; return; }
	expect_eq "$OUT" "net:[$(stat -L -c %i "/run/netns/$ns")]" "the container's network namespace"
	forget "$CID"
	leftovers "$CID"
	ip netns del "$ns"
}
t "a new user namespace with a network namespace joined by path" t_join_with_userns

t_unmapped_root() {
	userns_container true
	cfg '.linux.uidMappings = [{containerID: 1, hostID: 200000, size: 10}]'
	rt run -b "$BUNDLE" "$CID"
	expect_failure "run with container root unmapped" || return
	expect_sprout_error
	forget "$CID"
	leftovers "$CID"
}
t "a user namespace that does not map uid 0: fails cleanly" t_unmapped_root

done_testing
