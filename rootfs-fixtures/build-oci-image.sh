#!/bin/bash
# build-oci-image.sh [--name REF] [--cmd JSON] ROOTFS ARCHIVE
#
# Packs the directory ROOTFS (e.g. the busybox fixture made by
# build-busybox.sh) into ARCHIVE, an OCI image layout in a tar file
# ("oci-archive"), offline: one uncompressed layer, an image config, a
# manifest, index.json and oci-layout.  Both `ctr images import ARCHIVE` and
# `podman load -i ARCHIVE` read it; the image is named REF (default
# localhost/sprout-busybox:latest) through the index's
# io.containerd.image.name and org.opencontainers.image.ref.name annotations.
# --cmd sets the image's default command (a JSON array; default ["sh"]).
#
# The result is reproducible: files are sorted, owned by their numeric ids,
# with mtimes kept as they are in ROOTFS; the image's created time is fixed.
# ROOTFS/.fixture-hash (the fixture's cache key) is left out of the layer.
set -euo pipefail

usage() { echo "usage: $0 [--name REF] [--cmd JSON] ROOTFS ARCHIVE" >&2; exit 2; }
die() { echo "build-oci-image.sh: $*" >&2; exit 1; }

name=localhost/sprout-busybox:latest
cmd='["sh"]'
args=()
while [ $# -gt 0 ]; do
	case $1 in
	--name) name=${2:?}; shift 2 ;;
	--name=*) name=${1#*=}; shift ;;
	--cmd) cmd=${2:?}; shift 2 ;;
	--cmd=*) cmd=${1#*=}; shift ;;
	-h|--help) usage ;;
	-*) echo "build-oci-image.sh: unknown option $1" >&2; usage ;;
	*) args+=("$1"); shift ;;
	esac
done
[ ${#args[@]} = 2 ] || usage
rootfs=${args[0]}
archive=$(realpath -m "${args[1]}")

[ -d "$rootfs" ] || die "$rootfs is not a directory"
[ -e "$rootfs/bin/sh" ] || [ -L "$rootfs/bin/sh" ] || die "$rootfs has no /bin/sh"
for tool in jq tar sha256sum; do
	command -v $tool >/dev/null || die "$tool is not installed"
done
jq -e 'type == "array" and all(type == "string")' <<<"$cmd" >/dev/null 2>&1 ||
	die "--cmd: expected a JSON array of strings, got $cmd"

work=$(mktemp -d "${archive}.work.XXXXXX")
trap 'rm -rf "$work"' EXIT
blobs=$work/layout/blobs/sha256
mkdir -p "$blobs"

# add_blob FILE: move FILE into blobs/ under its digest; prints the digest.
add_blob() {
	local d
	d=$(sha256sum "$1" | cut -d' ' -f1)
	mv "$1" "$blobs/$d"
	echo "$d"
}
size() { stat -c %s "$blobs/$1"; }

# The layer: the root filesystem as an uncompressed tar, so its digest is
# also its diff id.
tar --sort=name --numeric-owner --format=posix \
	--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
	--exclude=./.fixture-hash -C "$rootfs" -cf "$work/layer.tar" .
layer=$(add_blob "$work/layer.tar")

jq -n --arg layer "sha256:$layer" --argjson cmd "$cmd" '{
	created: "1970-01-01T00:00:00Z",
	architecture: "amd64",
	os: "linux",
	config: {
		Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
		Cmd: $cmd,
		WorkingDir: "/"
	},
	rootfs: {type: "layers", diff_ids: [$layer]},
	history: [{created: "1970-01-01T00:00:00Z", created_by: "build-oci-image.sh"}]
}' >"$work/config.json"
config=$(add_blob "$work/config.json")

jq -n --arg c "sha256:$config" --argjson cs "$(size "$config")" \
	--arg l "sha256:$layer" --argjson ls "$(size "$layer")" '{
	schemaVersion: 2,
	mediaType: "application/vnd.oci.image.manifest.v1+json",
	config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $c, size: $cs},
	layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar", digest: $l, size: $ls}]
}' >"$work/manifest.json"
manifest=$(add_blob "$work/manifest.json")

jq -n --arg m "sha256:$manifest" --argjson ms "$(size "$manifest")" --arg name "$name" '{
	schemaVersion: 2,
	mediaType: "application/vnd.oci.image.index.v1+json",
	manifests: [{
		mediaType: "application/vnd.oci.image.manifest.v1+json",
		digest: $m, size: $ms,
		platform: {architecture: "amd64", os: "linux"},
		annotations: {
			"io.containerd.image.name": $name,
			"org.opencontainers.image.ref.name": $name
		}
	}]
}' >"$work/layout/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' >"$work/layout/oci-layout"

tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
	-C "$work/layout" -cf "$work/archive.tar" oci-layout index.json blobs
mv "$work/archive.tar" "$archive"
