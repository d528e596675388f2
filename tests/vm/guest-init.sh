#!/bin/sh
# tests/vm/guest-init.sh — /init of the QEMU guest that tests/vm/run.sh boots.
#
# Stage 1 (in the initramfs): copy everything into a tmpfs and switch_root
# there, because pivot_root (which containers need) cannot leave an
# initramfs.  Stage 2 (pid 1 in the tmpfs): mount proc, sys, dev, cgroup2 on
# /sys/fs/cgroup with every available controller enabled for the children,
# securityfs on /sys/kernel/security (the LSM list and AppArmor's policy
# interface: sprout reads them, the AppArmor tests load profiles there),
# load overlay.ko, run /repo/guest-script.sh with its output framed by
# markers on the serial console, and power off.
export PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin

if [ "${1:-}" != stage2 ]; then
	/bin/busybox mount -t proc proc /proc
	/bin/busybox mount -t tmpfs -o mode=755 tmpfs /newroot
	for f in /*; do
		case $f in /newroot | /proc | /sys | /dev) continue ;; esac
		/bin/busybox cp -a "$f" /newroot/
	done
	/bin/busybox mkdir -p /newroot/proc /newroot/sys /newroot/dev
	/bin/busybox umount /proc
	exec /bin/busybox switch_root /newroot /init stage2
fi

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm /dev/mqueue /run
mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /run
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t securityfs securityfs /sys/kernel/security
echo 1 >/proc/sys/kernel/printk 2>/dev/null
for c in $(cat /sys/fs/cgroup/cgroup.controllers); do
	echo "+$c" >/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null
done
for m in /lib/modules/*.ko; do
	[ -e "$m" ] && insmod "$m" 2>/dev/null
done
ip link set lo up 2>/dev/null
hostname sprout-vm
ulimit -n 20000 2>/dev/null

export HOME=/root TERM=dumb
export SPROUT=/usr/local/bin/sprout HELPERS_DIR=/opt/helpers
export SPROUT_FIXTURE=/var/tmp/sprout-fixture SPROUT_VM_GUEST=1
mkdir -p /root
echo "@@SPROUT-VM-BEGIN@@"
cd /repo && bash /repo/guest-script.sh </dev/null 2>&1
rc=$?
echo "@@SPROUT-VM-END rc=$rc@@"
sync
poweroff -f
