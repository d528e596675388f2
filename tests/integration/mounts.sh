#!/bin/bash
# The container's mount table: standard mounts and their flags, bind mounts,
# tmpfs options, rbind, propagation, read-only root, devices, masked and
# read-only paths, --no-pivot; and the host's mount table is left alone.
. "$(dirname "$0")/lib.sh"

RUN_MOUNTS_BEFORE=$(mount_snapshot)

# The mounts of runc's default spec, set explicitly so that the flags the
# tests expect do not depend on what `spec` generates.
STD_MOUNTS='[
 {"destination": "/proc", "type": "proc", "source": "proc"},
 {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
  "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
 {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
  "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
 {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
  "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
 {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
  "options": ["nosuid", "noexec", "nodev"]},
 {"destination": "/sys", "type": "sysfs", "source": "sysfs",
  "options": ["nosuid", "noexec", "nodev", "ro"]},
 {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
  "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}
]'

# mi MOUNTINFO MOUNTPOINT: "options fstype source superoptions" of the top
# mount at MOUNTPOINT (empty when nothing is mounted there).
mi() {
	awk -v mp="$2" '$5 == mp { for (i = 7; $i != "-"; i++); l = $6 " " $(i+1) " " $(i+2) " " $(i+3) } END { if (l != "") print l }' <<<"$1"
}

# expect_mount MOUNTINFO MOUNTPOINT FSTYPE OPTS SUPEROPTS: the mount exists
# with that type, and its per-mount / superblock options include the given
# comma-separated ones.
expect_mount() {
	local info=$1 mp=$2 type=$3 opts=$4 sopts=$5 line o
	line=$(mi "$info" "$mp")
	if [ -z "$line" ]; then
		fail "nothing mounted at $mp"
		return 1
	fi
	set -- $line
	[ -z "$type" ] || expect_eq "$2" "$type" "fstype of $mp"
	for o in ${opts//,/ }; do
		grep -qE "(^|,)$o(,|\$)" <<<"$1" || fail "$mp: mount option '$o' missing from '$1'"
	done
	for o in ${sopts//,/ }; do
		grep -qE "(^|,)$o(,|\$)" <<<"$4" || fail "$mp: superblock option '$o' missing from '$4'"
	done
}

# -------------------------------------------------------- the standard ---

new_container
cfg '.mounts = $m | .root.readonly = true' --argjson m "$STD_MOUNTS"
set_args sprout-probe mounts
rt run -b "$BUNDLE" "$CID"
STD_RC=$RC STD_OUT=$OUT STD_CALL=$(last_call) STD_ID=$CID

t_std() {
	if [ "$STD_RC" != 0 ]; then
		fail "run of the probe failed"
		diag "$STD_CALL"
		return
	fi
	expect_mount "$STD_OUT" "$@"
}
t "/ is the rootfs, read-only" t_std / "" ro ""
t "/proc is proc" t_std /proc proc "" ""
t "/dev is tmpfs, nosuid, mode=755, size=65536k" t_std /dev tmpfs nosuid mode=755,size=65536k
t "/dev/pts is devpts, nosuid,noexec, gid=5,mode=620,ptmxmode=666" t_std /dev/pts devpts nosuid,noexec gid=5,mode=620,ptmxmode=666
# (tmpfs shows mode= only when it is not the default 1777)
t "/dev/shm is tmpfs, nosuid,nodev,noexec, size=65536k" t_std /dev/shm tmpfs nosuid,nodev,noexec size=65536k
t "/dev/mqueue is mqueue, nosuid,nodev,noexec" t_std /dev/mqueue mqueue nosuid,nodev,noexec ""
t "/sys is sysfs, ro,nosuid,nodev,noexec" t_std /sys sysfs ro,nosuid,nodev,noexec ""
t "/sys/fs/cgroup is mounted read-only" t_std /sys/fs/cgroup "" ro ""

t_std_host() {
	[ "$STD_RC" = 0 ] || { fail "run failed"; diag "$STD_CALL"; return; }
	# nothing of the host's own mounts under /mnt/sandboxing etc. leaks in
	local n
	n=$(awk '$5 ~ "^/(mnt|tmp|var|run|home)(/|$)"' <<<"$STD_OUT" | wc -l)
	expect_eq "$n" 0 "mounts under /mnt, /tmp, /var, /run or /home inside" ||
		diag "$(awk '$5 ~ "^/(mnt|tmp|var|run|home)(/|$)"' <<<"$STD_OUT")"
	leftovers_after "$STD_ID"
}
t "no host mounts leak into the container; nothing left behind" t_std_host

# ------------------------------------------------------------ binds ---

t_bind_ro() {
	local src
	new_container --copy
	src=$TMPDIR_IT/bind-$CID
	mkdir -p "$src"
	echo hello-$CID >"$src/hello"
	add_mount /mnt/ro bind "$src" bind ro nosuid nodev noexec
	set_args sh -c 'sprout-probe mounts; echo "content=$(cat /mnt/ro/hello)"; touch /mnt/ro/new 2>&1; echo "touch=$?"' "$CID"
	rt run -b "$BUNDLE" "$CID"
	expect_ok run || return
	expect_mount "$OUT" /mnt/ro "" ro,nosuid,nodev,noexec ""
	expect_eq "$(pv content)" "hello-$CID" "file read through the bind mount"
	expect_eq "$(pv touch)" 1 "exit of touch on the read-only bind"
	expect_contains "$OUT" "Read-only file system" "touch error"
	[ ! -e "$src/new" ] || fail "file created through a read-only bind mount"
	leftovers_after "$CID"
}
t "bind mount with ro,nosuid,nodev,noexec has those flags" t_bind_ro

t_bind_rw() {
	local src
	new_container --copy
	src=$TMPDIR_IT/bind-$CID
	mkdir -p "$src"
	add_mount /mnt/rw bind "$src" bind
	set_args sh -c 'echo data >/mnt/rw/written' "$CID"
	rt run -b "$BUNDLE" "$CID"
	expect_ok run || return
	expect_eq "$(cat "$src/written" 2>/dev/null)" data "file written through the bind mount, seen on the host"
	leftovers_after "$CID"
}
t "bind mount without options is writable and shared with the host" t_bind_rw

t_bind_file() {
	local src
	new_container --copy
	src=$TMPDIR_IT/file-$CID
	echo file-content >"$src"
	add_mount /etc/bound-file bind "$src" bind ro
	set_args cat /etc/bound-file
	rt run -b "$BUNDLE" "$CID"
	expect_ok run || return
	expect_eq "$OUT" file-content "content of a bind-mounted file"
	leftovers_after "$CID"
}
t "bind mount of a single file" t_bind_file

t_tmpfs() {
	new_container --copy
	add_mount /mnt/tmp tmpfs tmpfs nosuid nodev size=1m mode=1750
	set_args sh -c 'sprout-probe mounts; echo x >/mnt/tmp/f && echo "write=ok"; echo "mode=$(stat -c %a /mnt/tmp)"' "$CID"
	rt run -b "$BUNDLE" "$CID"
	expect_ok run || return
	expect_mount "$OUT" /mnt/tmp tmpfs nosuid,nodev size=1024k,mode=1750
	expect_eq "$(pv write)" ok "write to the tmpfs"
	expect_eq "$(pv mode)" 1750 "mode of the tmpfs root"
	leftovers_after "$CID"
}
t "tmpfs with nosuid,nodev,size=1m,mode=1750" t_tmpfs

t_rbind() {
	local src
	new_container --copy
	src=$TMPDIR_IT/rbind-$CID
	mkdir -p "$src/sub"
	host_mount -t tmpfs -o size=1m tmpfs "$src/sub" || { fail "cannot mount a tmpfs on the host"; return; }
	echo inner >"$src/sub/inner"
	add_mount /mnt/r bind "$src" rbind
	add_mount /mnt/b bind "$src" bind
	set_args sh -c 'sprout-probe mounts; echo "r=$(cat /mnt/r/sub/inner 2>/dev/null)"; echo "b=$(cat /mnt/b/sub/inner 2>/dev/null)"' "$CID"
	rt run -b "$BUNDLE" "$CID"
	host_umount "$src/sub"
	expect_ok run || return
	expect_mount "$OUT" /mnt/r/sub tmpfs "" ""
	expect_eq "$(mi "$OUT" /mnt/b/sub)" "" "a plain bind must not carry the submount"
	expect_eq "$(pv r)" inner "file in the submount through rbind"
	expect_eq "$(pv b)" "" "file in the submount through bind"
	leftovers_after "$CID"
}
t "rbind carries submounts, bind does not" t_rbind

# propagation MODE BIND_OPTION EXPECT(yes|no): a mount made on the host under
# the source after the container started appears inside, or does not.
t_propagation() {
	local mode=$1 bindopt=$2 expect=$3 src late
	new_container --copy
	src=$TMPDIR_IT/prop-$CID
	mkdir -p "$src"
	host_mount -t tmpfs -o size=1m tmpfs "$src" || { fail "cannot mount a tmpfs on the host"; return; }
	mount --make-shared "$src"
	mkdir "$src/late"
	cfg '.linux.rootfsPropagation = $p' --arg p "$mode"
	add_mount /mnt/p bind "$src" rbind "$bindopt"
	set_args sh -c 'echo ready; i=0; while [ ! -e /mnt/p/go ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; sprout-probe mounts; echo "late=$(cat /mnt/p/late/file 2>/dev/null)"' "$CID"
	rt_bg run -b "$BUNDLE" "$CID"
	if wait_file "$BG_OUT" 10 ready; then
		late=$src/late
		host_mount -t tmpfs -o size=1m tmpfs "$late"
		echo in-late >"$late/file"
		touch "$src/go"
	else
		fail "workload did not start"
	fi
	rt_wait
	[ -n "${late:-}" ] && host_umount "$late"
	host_umount "$src"
	expect_ok run || return
	if [ "$expect" = yes ]; then
		expect_mount "$OUT" /mnt/p/late tmpfs "" ""
		expect_eq "$(pv late)" in-late "file in the late mount, read inside"
	else
		expect_eq "$(mi "$OUT" /mnt/p/late)" "" "late host mount inside a private container"
		expect_eq "$(pv late)" "" "file in the late mount, read inside"
	fi
	leftovers_after "$CID"
}
t "rootfsPropagation slave + rslave bind: host mount made after start appears inside" t_propagation slave rslave yes
t "rootfsPropagation private + rprivate bind: host mount made after start stays out" t_propagation private rprivate no

t_no_propagation_out() {
	# A mount made inside the container (rslave) does not reach the host.
	local src
	new_container --copy
	src=$TMPDIR_IT/out-$CID
	mkdir -p "$src/inside"
	cfg '.linux.rootfsPropagation = "slave" | .process.capabilities.bounding += ["CAP_SYS_ADMIN"] | .process.capabilities.effective += ["CAP_SYS_ADMIN"] | .process.capabilities.permitted += ["CAP_SYS_ADMIN"]'
	add_mount /mnt/o bind "$src" rbind
	set_args sh -c 'mount -t tmpfs tmpfs /mnt/o/inside && echo mounted' "$CID"
	MOUNTS_BEFORE=$(mount_snapshot)
	rt run -b "$BUNDLE" "$CID"
	expect_ok run || return
	expect_eq "$OUT" mounted "mount inside the container"
	grep -qF " $src/inside " /proc/self/mountinfo && fail "the container's mount appeared on the host at $src/inside"
	leftovers_after "$CID"
}
t "a mount made inside a slave container does not appear on the host" t_no_propagation_out

# --------------------------------------------------------------- root ---

t_readonly_root() {
	new_container
	cfg '.root.readonly = true'
	set_args sh -c 'touch /x-'"$CID"' 2>&1; echo "rc=$?"' "$CID"
	rt run -b "$BUNDLE" "$CID"
	expect_ok run || return
	expect_eq "$(pv rc)" 1 "exit of touch /x"
	expect_contains "$OUT" "Read-only" "touch error"
	[ ! -e "$ROOTFS/x-$CID" ] || { fail "file created in a read-only root"; rm -f "$ROOTFS/x-$CID"; }
	leftovers_after "$CID"
}
t "readonly root: touch /x fails with Read-only" t_readonly_root

t_writable_root() {
	new_container --copy
	cfg '.root.readonly = false'
	set_args touch /created-inside
	rt run -b "$BUNDLE" "$CID"
	expect_ok run || return
	[ -e "$ROOTFS/created-inside" ] || fail "file created inside is not in the bundle's rootfs"
	leftovers_after "$CID"
}
t "writable root: a file created inside lands in the rootfs" t_writable_root

# ------------------------------------------------------------ devices ---

t_default_devices() {
	local d
	new_container
	cfg '.mounts = $m' --argjson m "$STD_MOUNTS"
	set_args sh -c '
		for d in null zero full random urandom tty; do
			echo "$d=$(stat -c "%F %t:%T %a" /dev/$d)"
		done
		for l in ptmx fd stdin stdout stderr; do
			echo "link_$l=$(readlink /dev/$l)"
		done
		echo x >/dev/null && echo "write_null=ok"
		echo "read_zero=$(head -c 4 /dev/zero | wc -c)"
		echo "read_urandom=$(head -c 8 /dev/urandom | wc -c)"' "$CID"
	rt run -b "$BUNDLE" "$CID"
	expect_ok run || return
	expect_eq "$(pv null)" "character special file 1:3 666" /dev/null
	expect_eq "$(pv zero)" "character special file 1:5 666" /dev/zero
	expect_eq "$(pv full)" "character special file 1:7 666" /dev/full
	expect_eq "$(pv random)" "character special file 1:8 666" /dev/random
	expect_eq "$(pv urandom)" "character special file 1:9 666" /dev/urandom
	expect_eq "$(pv tty)" "character special file 5:0 666" /dev/tty
	expect_eq "$(pv link_ptmx)" pts/ptmx "/dev/ptmx link"
	expect_eq "$(pv link_fd)" /proc/self/fd "/dev/fd link"
	expect_eq "$(pv link_stdin)" /proc/self/fd/0 "/dev/stdin link"
	expect_eq "$(pv link_stdout)" /proc/self/fd/1 "/dev/stdout link"
	expect_eq "$(pv link_stderr)" /proc/self/fd/2 "/dev/stderr link"
	expect_eq "$(pv write_null)" ok "write to /dev/null"
	expect_eq "$(pv read_zero)" 4 "bytes read from /dev/zero"
	expect_eq "$(pv read_urandom)" 8 "bytes read from /dev/urandom"
	leftovers_after "$CID"
}
t "default devices: null zero full random urandom tty, ptmx and fd links" t_default_devices

t_linux_devices() {
	new_container
	cfg '.linux.devices = [{path: "/dev/fuse", type: "c", major: 10, minor: 229, fileMode: 438, uid: 1000, gid: 1000}]'
	set_args sh -c 'echo "fuse=$(stat -c "%F %t:%T %a %u %g" /dev/fuse)"' "$CID"
	rt run -b "$BUNDLE" "$CID"
	expect_ok run || return
	expect_eq "$(pv fuse)" "character special file a:e5 666 1000 1000" "/dev/fuse (c 10:229 0666 1000:1000)"
	leftovers_after "$CID"
}
t "linux.devices adds /dev/fuse c 10 229 0666 uid/gid 1000" t_linux_devices

# ------------------------------------------------- masked and readonly ---

t_masked() {
	new_container
	cfg '.linux.maskedPaths = ["/proc/interrupts", "/proc/timer_list", "/sys/firmware", "/etc/hosts", "/does/not/exist"]
	   | .linux.readonlyPaths = ["/proc/sys", "/proc/sysrq-trigger", "/does/not/exist/either"]'
	set_args sh -c '
		sprout-probe mounts
		echo "interrupts=$(wc -c </proc/interrupts)"
		echo "timer_list=$(wc -c </proc/timer_list)"
		echo "firmware=$(ls -A /sys/firmware | wc -l)"
		echo "hosts=$(wc -c </etc/hosts)"
		echo 0 >/proc/sys/net/ipv4/ip_forward 2>/dev/null; echo "sysctl_write=$?"
		echo "sysctl_read=$(cat /proc/sys/kernel/ostype)"' "$CID"
	rt run -b "$BUNDLE" "$CID"
	expect_ok run || return
	expect_eq "$(pv interrupts)" 0 "bytes in masked /proc/interrupts"
	expect_eq "$(pv timer_list)" 0 "bytes in masked /proc/timer_list"
	expect_eq "$(pv firmware)" 0 "entries in masked /sys/firmware"
	expect_eq "$(pv hosts)" 0 "bytes in masked /etc/hosts"
	expect_ne "$(pv sysctl_write)" 0 "exit of a write to read-only /proc/sys"
	expect_eq "$(pv sysctl_read)" Linux "read of /proc/sys/kernel/ostype"
	expect_mount "$OUT" /proc/sys "" ro ""
	[ -s "$ROOTFS/etc/hosts" ] || fail "the fixture's /etc/hosts was emptied"
	leftovers_after "$CID"
}
t "masked paths read empty, readonly paths are read-only, missing ones ignored" t_masked
# on a kernel without openat2 (before 5.6) they were silently skipped
t "no openat2: masked and readonly paths applied all the same" no_openat2 t_masked

# ---------------------------------------------------------- no-pivot ---

t_no_pivot() {
	new_container
	cfg '.mounts = $m' --argjson m "$STD_MOUNTS"
	set_args sh -c 'sprout-probe mounts; ls /; echo "hostname=$(hostname)"' "$CID"
	rt run --no-pivot -b "$BUNDLE" "$CID"
	expect_ok "run --no-pivot" || return
	expect_mount "$OUT" /proc proc "" ""
	expect_contains "$OUT" sbin "ls / lists the fixture"
	expect_eq "$(mi "$OUT" /mnt/sandboxing/model_tools_env/v1/python)" "" "host mount inside"
	leftovers_after "$CID"
}
t "--no-pivot runs the container" t_no_pivot

# ------------------------------------------------------------- host ---

t_host_table() {
	local now found
	now=$(mount_snapshot)
	found=$(comm -3 <(echo "$RUN_MOUNTS_BEFORE") <(echo "$now") | not_other_runs)
	[ -z "$found" ] || fail "host mount table changed during this file: $found"
	found=$(grep -F "$SPROUT_FIXTURE" /proc/self/mountinfo)
	[ -z "$found" ] || fail "mounts on the fixture on the host: $found"
}
t "host mount table is unchanged after all the containers ran" t_host_table

done_testing
