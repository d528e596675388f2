#!/bin/bash
# The overlay root (--overlay[=DIR], --lower, the org.sprout.overlay
# annotations): the image is never written, containers from one image do
# not see each other's writes, a kept upper dir holds them, root.readonly
# still holds, extra lower layers, errors naming the layer, and mounts of
# type "overlay" in config.json.
. "$(dirname "$0")/lib.sh"

# tree_sum DIR: one line per entry (path, type, mode, owner, size, mtime,
# link target) plus the content of every file: changes to anything show.
tree_sum() {
	(cd "$1" && find . -printf '%p %y %m %U:%G %s %T@ %l\n' | sort &&
		find . -type f -print0 | sort -z | xargs -0 cat) | sha256sum | cut -d' ' -f1
}

# A private image per test file (so that a broken overlay cannot spoil
# the shared fixture for other suites).
IMAGE=$TMPDIR_IT/image
cp -a "$SPROUT_FIXTURE" "$IMAGE"

# ov_container: a bundle on IMAGE with a writable root and args "$@".
ov_container() {
	new_container
	cfg '.root.path = $p | .root.readonly = false' --arg p "$IMAGE"
	set_args "$@"
}

WRITE_EVERYWHERE='set -e
echo new > /newfile
echo changed > /etc/passwd
rm /etc/group
mkdir -p /usr/local/newdir && echo x > /usr/local/newdir/f
chmod 700 /bin
touch /bin/busybox
ln -s /newfile /etc/newlink
rm -rf /home
echo wrote'

t_image_untouched() {
	local before after
	before=$(tree_sum "$IMAGE")
	ov_container sh -c "$WRITE_EVERYWHERE"
	rt run -b "$BUNDLE" --overlay "$CID"
	expect_ok "run --overlay" || return
	expect_contains "$OUT" wrote "the workload wrote everywhere"
	after=$(tree_sum "$IMAGE")
	expect_eq "$after" "$before" "image tree checksum after the container wrote"
	[ ! -e "$IMAGE/newfile" ] || fail "the image has /newfile"
	forget "$CID"
	leftovers "$CID"
}
t "--overlay: the image is byte-identical after the container wrote everywhere" t_image_untouched

t_writes_visible_inside() {
	ov_container sh -c 'echo hello > /etc/hello && cat /etc/hello && cat /etc/passwd | head -n1'
	rt run -b "$BUNDLE" --overlay "$CID"
	expect_ok || return
	expect_contains "$OUT" hello "the container reads its own write"
	expect_match "$OUT" '^root:' "the image's files are visible"
	forget "$CID"
}
t "--overlay: the container sees its own writes and the image's files" t_writes_visible_inside

t_two_containers() {
	local a b
	ov_container sh -c 'echo a > /mark-a; echo ready > /tmp/ready; trap "exit 0" TERM; sleep 100 & wait'
	a=$CID
	rt run -b "$BUNDLE" -d --overlay "$a"
	expect_ok "run -d container A" || return
	local i
	for ((i = 0; i < 50; i++)); do
		state "$a"
		[ "$STATUS" = running ] && break
		sleep 0.1
	done
	sleep 0.3
	ov_container sh -c 'if [ -e /mark-a ]; then echo SEES-A; else echo clean; fi; echo b > /mark-b'
	b=$CID
	rt run -b "$BUNDLE" --overlay "$b"
	expect_ok "run container B" || return
	expect_eq "$OUT" clean "container B's view of A's write"
	[ ! -e "$IMAGE/mark-a" ] && [ ! -e "$IMAGE/mark-b" ] || fail "a write reached the image"
	# A still has its own and does not see B's
	local pid
	pid=$(jq -r .pid <<<"$(timeout 10 "$SPROUT" --root "$ROOT" state "$a")")
	[ -e "/proc/$pid/root/mark-a" ] || fail "container A lost its own write"
	[ ! -e "/proc/$pid/root/mark-b" ] || fail "container A sees B's write"
	rt delete --force "$a"
	expect_ok "delete A"
	forget "$a"
	forget "$b"
	leftovers_after "$a"
	leftovers "$b"
}
t "two containers from one image do not see each other's writes" t_two_containers

t_kept_upper() {
	local dir=$TMPDIR_IT/kept-upper
	ov_container sh -c 'mkdir -p /data && echo kept > /data/file && rm /etc/group && echo done'
	rt run -b "$BUNDLE" "--overlay=$dir" "$CID"
	expect_ok "run --overlay=DIR" || return
	forget "$CID"
	[ -f "$dir/upper/data/file" ] || { fail "DIR/upper/data/file missing after the container"; return; }
	expect_eq "$(cat "$dir/upper/data/file")" kept "content of the write in DIR/upper"
	[ -d "$dir/work" ] || fail "DIR/work missing"
	[ ! -e "$IMAGE/data" ] || fail "the image has /data"
	[ -e "$IMAGE/etc/group" ] || fail "the image lost /etc/group"
	# the next container on the same DIR starts from those writes
	ov_container sh -c 'cat /data/file; [ -e /etc/group ] && echo HAS-GROUP || echo no-group'
	rt run -b "$BUNDLE" "--overlay=$dir" "$CID"
	expect_ok "second run on the same DIR" || return
	expect_eq "$OUT" "kept
no-group" "the second container's view"
	forget "$CID"
	leftovers "$CID"
}
t "--overlay=DIR: DIR/upper holds the writes, and a later container sees them" t_kept_upper

t_create_delete_tmpfs() {
	ov_container sh -c 'echo x > /scratch; trap "exit 0" TERM; sleep 100 & wait'
	rt create -b "$BUNDLE" --overlay "$CID"
	expect_ok "create --overlay" || return
	rt start "$CID"
	expect_ok "start" || return
	sleep 0.3
	rt delete --force "$CID"
	expect_ok "delete --force" || return
	forget "$CID"
	[ ! -e "$IMAGE/scratch" ] || fail "the tmpfs write reached the image"
	leftovers_after "$CID"
}
t "create/start/delete with a tmpfs upper: nothing of it is left" t_create_delete_tmpfs

t_annotations() {
	local dir=$TMPDIR_IT/annot-upper
	ov_container sh -c 'echo via-annotation > /annot && echo ok'
	cfg '.annotations["org.sprout.overlay"] = $d' --arg d "$dir"
	rt run -b "$BUNDLE" "$CID"
	expect_ok "run with annotation org.sprout.overlay=DIR" || return
	[ ! -e "$IMAGE/annot" ] || fail "annotation: the write reached the image"
	expect_eq "$(cat "$dir/upper/annot" 2>/dev/null)" via-annotation "write in the annotation's DIR"
	forget "$CID"
	ov_container sh -c 'echo x > /annot2 && echo ok'
	cfg '.annotations["org.sprout.overlay"] = "true"'
	rt run -b "$BUNDLE" "$CID"
	expect_ok "run with annotation org.sprout.overlay=true" || return
	[ ! -e "$IMAGE/annot2" ] || fail "annotation true: the write reached the image"
	forget "$CID"
}
t "annotations org.sprout.overlay=DIR and =true work like the flags" t_annotations

t_lower_layers() {
	local l1=$TMPDIR_IT/lower1 l2=$TMPDIR_IT/lower2
	mkdir -p "$l1/opt" "$l2/opt" "$l2/etc"
	echo one > "$l1/opt/a"
	echo two > "$l2/opt/a"
	echo two > "$l2/opt/b"
	echo lower > "$l2/etc/passwd" # the bundle's root is on top: not seen
	ov_container sh -c 'cat /opt/a /opt/b; head -c 5 /etc/passwd; echo; echo w > /opt/a; echo'
	rt run -b "$BUNDLE" --overlay --lower "$l1" --lower "$l2" "$CID"
	expect_ok "run --overlay --lower --lower" || return
	expect_eq "$(sed -n 1,3p <<<"$OUT")" "one
two
root:" "files through the layers (root.path, then --lower in order)"
	expect_eq "$(cat "$l1/opt/a")" one "the lower layer was not written"
	forget "$CID"
	ov_container sh -c 'cat /x'
	cfg '.annotations["org.sprout.overlay"] = "true" | .annotations["org.sprout.overlay.lower"] = $l' --arg l "$l1:$l2"
	echo annotated > "$l2/x"
	rt run -b "$BUNDLE" "$CID"
	expect_ok "annotation org.sprout.overlay.lower" || return
	expect_eq "$OUT" annotated "a file from the annotation's lower layer"
	forget "$CID"
}
t "--lower and org.sprout.overlay.lower add read-only layers below the root" t_lower_layers

t_readonly() {
	ov_container sh -c 'echo x > /ro-test && echo WROTE || echo refused'
	cfg '.root.readonly = true'
	rt run -b "$BUNDLE" --overlay "$CID"
	expect_ok || return
	expect_eq "$OUT" refused "a write to a read-only overlay root"
	[ ! -e "$IMAGE/ro-test" ] || fail "the image was written"
	forget "$CID"
}
t "root.readonly makes the overlay root read-only" t_readonly

t_missing_lower() {
	ov_container true
	rt run -b "$BUNDLE" --overlay --lower "$TMPDIR_IT/no-such-layer" "$CID"
	expect_failure || return
	expect_sprout_error
	expect_contains "$ERR" "$TMPDIR_IT/no-such-layer" "the error names the missing layer"
	forget "$CID"
	leftovers "$CID"
}
t "a missing --lower dir: fails naming it, nothing left" t_missing_lower

t_bad_lower_fs() {
	ov_container true
	rt run -b "$BUNDLE" --overlay --lower /proc "$CID"
	expect_failure || return
	expect_sprout_error
	expect_match "$ERR" 'lower layer /proc' "the error names the refused layer"
	forget "$CID"
	leftovers "$CID"
}
t "a lower layer on a filesystem overlay refuses (procfs): fails naming it" t_bad_lower_fs

t_lower_without_overlay() {
	ov_container true
	rt run -b "$BUNDLE" --lower "$TMPDIR_IT" "$CID"
	expect_failure || return
	expect_contains "$ERR" "--overlay" "the error says --lower needs --overlay"
	forget "$CID"
	leftovers "$CID"
}
t "--lower without --overlay is refused" t_lower_without_overlay

t_upper_not_dir() {
	ov_container true
	echo file > "$TMPDIR_IT/upper-file"
	rt run -b "$BUNDLE" "--overlay=$TMPDIR_IT/upper-file" "$CID"
	expect_failure || return
	expect_contains "$ERR" "$TMPDIR_IT/upper-file" "the error names the upper dir"
	forget "$CID"
	leftovers "$CID"
}
t "--overlay=FILE (not a directory): fails naming it" t_upper_not_dir

t_overlay_mount() {
	local d=$TMPDIR_IT/ovmount
	mkdir -p "$d/low" "$d/up" "$d/work"
	echo from-lower > "$d/low/f"
	ov_container sh -c 'cat /merged/f; echo new > /merged/g; echo done'
	cfg '.mounts += [{destination: "/merged", type: "overlay", source: "overlay",
		options: ["lowerdir=\($d)/low", "upperdir=\($d)/up", "workdir=\($d)/work"]}]' --arg d "$d"
	rt run -b "$BUNDLE" "$CID"
	expect_ok "run with a mount of type overlay" || return
	expect_contains "$OUT" from-lower "the lower file through the overlay mount"
	expect_eq "$(cat "$d/up/g" 2>/dev/null)" new "the write in the mount's upperdir"
	[ ! -e "$d/low/g" ] || fail "the mount's lowerdir was written"
	forget "$CID"
	leftovers "$CID"
}
t "a mount of type overlay in config.json works" t_overlay_mount

t_symlinked_root() {
	# root.path through symlinks: an absolute link to the image, and a
	# relative "rootfs" in the bundle that is a link (as runc, which
	# evaluates them); the overlay is mounted on the real directory
	ln -sfn "$IMAGE" "$TMPDIR_IT/image-link"
	ov_container sh -c 'echo via-link > /linked && cat /linked'
	cfg '.root.path = $p' --arg p "$TMPDIR_IT/image-link"
	rt run -b "$BUNDLE" --overlay "$CID"
	expect_ok "run --overlay with root.path a symlink" || return
	expect_contains "$OUT" via-link "the container wrote through the overlay"
	[ ! -e "$IMAGE/linked" ] || fail "the write reached the image through the link"
	forget "$CID"
	leftovers "$CID"
	ov_container sh -c 'cat /etc/hostname >/dev/null; echo plain-run'
	ln -sfn "$IMAGE" "$BUNDLE/rootfs-link"
	cfg '.root.path = "rootfs-link"'
	rt run -b "$BUNDLE" "$CID"
	expect_ok "run with a relative root.path that is a symlink" || return
	expect_contains "$OUT" plain-run "the workload ran"
	forget "$CID"
	leftovers "$CID"
}
t "root.path through a symlink (absolute, or relative in the bundle) works, with --overlay too" t_symlinked_root

t_image_final() {
	[ ! -e "$IMAGE/newfile" ] && [ -e "$IMAGE/etc/group" ] && [ -d "$IMAGE/home" ] ||
		fail "the image changed during the suite"
}
t "the image is intact at the end" t_image_final

done_testing
