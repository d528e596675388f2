#!/bin/bash
# make-corpus.sh — (re)generate the seed corpus tests/fuzz/corpus/<target>/
# and the dictionary tests/fuzz/sprout.dict from the test suite's inputs:
#   - valid configs of every shape: tests/unit/data/full-config.json, the
#     output of `sprout spec` and `sprout spec --rootless`, the shapes below;
#   - the bad inputs of tests/unit (spec_bad_cases.h, malformed JSON);
#   - for the other targets, the matching parts of all of those (.process,
#     .linux.resources, .linux.seccomp, mount types and options, cgroupsPath)
#     plus ids, signals and numbers from tests/unit/test_parse.c's tables.
# Files are named by their sha1 (libFuzzer's convention), so running this
# again only adds what is new.  Needs cc, jq and a built sprout
# (SPROUT=<build>/src/cli/sprout, default <repo>/build/src/cli/sprout).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SPROUT=${SPROUT:-$REPO/build/src/cli/sprout}
OUT=$REPO/tests/fuzz/corpus
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

add() { # add TARGET: stdin becomes one corpus file
	local f=$TMP/in
	cat >"$f"
	mkdir -p "$OUT/$1"
	cp "$f" "$OUT/$1/$(sha1sum "$f" | cut -c1-40)"
}

# ---- configs -------------------------------------------------------------

docs=$TMP/docs
mkdir -p "$docs"
cp "$REPO/tests/unit/data/full-config.json" "$docs/full.json"
(cd "$TMP" && "$SPROUT" spec && mv config.json "$docs/spec.json")
(cd "$TMP" && "$SPROUT" spec --rootless && mv config.json "$docs/rootless.json")

# shapes full-config.json does not have
cat >"$docs/min.json" <<'J'
{"ociVersion":"1.0.2","root":{"path":"rootfs"}}
J
cat >"$docs/joined.json" <<'J'
{"ociVersion":"1.2.0","root":{"path":"/var/lib/r","readonly":false},
 "process":{"cwd":"/","args":["/bin/true"],"user":{"uid":0,"gid":0}},
 "linux":{"namespaces":[{"type":"pid","path":"/proc/1/ns/pid"},{"type":"mount"},
  {"type":"network","path":"/var/run/netns/x"},{"type":"time"},{"type":"cgroup"}],
  "cgroupsPath":"system.slice:sprout:abc","timeOffsets":{"monotonic":{"secs":-5,"nanosecs":1},
  "boottime":{"secs":86400,"nanosecs":999999999}},
  "resources":{"pids":{"limit":-1},"memory":{"limit":-1,"swap":-1,"swappiness":100},
   "cpu":{"shares":0,"quota":-1,"period":100000,"cpus":"0-1,3","mems":"0"},
   "unified":{"memory.high":"max","io.weight":"default 100"}},
  "seccomp":{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":1,
   "architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86","SCMP_ARCH_X32"],
   "flags":["SECCOMP_FILTER_FLAG_LOG"],"listenerPath":"/run/l.sock","listenerMetadata":"m",
   "syscalls":[{"names":["personality"],"action":"SCMP_ACT_ALLOW",
     "args":[{"index":0,"value":0,"op":"SCMP_CMP_EQ"},{"index":0,"value":8,"valueTwo":8,"op":"SCMP_CMP_MASKED_EQ"}]},
    {"names":["mkdir","mkdirat"],"action":"SCMP_ACT_NOTIFY"},
    {"names":["ptrace"],"action":"SCMP_ACT_KILL_PROCESS"},
    {"names":["kexec_load"],"action":"SCMP_ACT_ERRNO","errnoRet":38}]},
  "devices":[{"path":"/dev/fuse","type":"c","major":10,"minor":229,"fileMode":438,"uid":0,"gid":0},
   {"path":"/dev/p","type":"p"}],
  "netDevices":{"eth1":{"name":"eth0"},"dummy0":{}},
  "personality":{"domain":"LINUX32","flags":[]},
  "intelRdt":{"closID":"g","l3CacheSchema":"L3:0=ff","memBwSchema":"MB:0=70","enableMonitoring":true},
  "rootfsPropagation":"rslave","maskedPaths":["/proc/kcore"],"readonlyPaths":["/proc/sys"],
  "sysctl":{"net.ipv4.ip_forward":"1","kernel.shm_rmid_forced":"1"}},
 "hooks":{"prestart":[{"path":"/usr/bin/h","args":["h","prestart"],"env":["A=1"],"timeout":5}],
  "createRuntime":[{"path":"/h"}],"createContainer":[{"path":"/h"}],"startContainer":[{"path":"/h"}],
  "poststart":[{"path":"/h"}],"poststop":[{"path":"/h","timeout":1}]},
 "annotations":{"org.opencontainers.image.os":"linux","":"x"}}
J
cat >"$docs/userns.json" <<'J'
{"ociVersion":"1.1.0","root":{"path":"r"},"process":{"cwd":"/","args":["sh"],"terminal":true,
 "consoleSize":{"height":0,"width":0},"user":{"uid":1000,"gid":1000,"additionalGids":[]},
 "capabilities":{"bounding":[],"effective":[],"permitted":[],"inheritable":[],"ambient":[]},
 "ioPriority":{"class":"IOPRIO_CLASS_IDLE","priority":0},
 "scheduler":{"policy":"SCHED_FIFO","priority":99},
 "execCPUAffinity":{"initial":"0","final":"0-3,5"}},
 "mounts":[{"destination":"/proc","type":"proc","source":"proc","options":["nosuid","noexec","nodev"]},
  {"destination":"/sys","type":"none","source":"/sys","options":["rbind","nosuid","noexec","nodev","ro"]},
  {"destination":"/m","type":"overlay","source":"overlay","options":["lowerdir=/a:/b","upperdir=/u","workdir=/w"]},
  {"destination":"/t","type":"tmpfs","options":["size=1m","mode=1777","rshared","rnoatime","ratime"]},
  {"destination":"/b","source":"/b","options":["bind","src-nofollow","copy-symlink","idmap"]}],
 "linux":{"namespaces":[{"type":"user"},{"type":"mount"},{"type":"uts"},{"type":"ipc"},{"type":"pid"}],
  "uidMappings":[{"containerID":0,"hostID":1000,"size":1},{"containerID":1,"hostID":100000,"size":65536}],
  "gidMappings":[{"containerID":0,"hostID":1000,"size":1}],
  "resources":{"devices":[{"allow":false,"access":"rwm"},{"allow":true,"type":"c","major":1,"minor":3,"access":"rw"},
   {"allow":true,"type":"b","major":-1,"minor":-1,"access":""}],
   "blockIO":{"weight":500,"leafWeight":10,"weightDevice":[{"major":8,"minor":0,"weight":100,"leafWeight":1000}],
    "throttleReadBpsDevice":[{"major":8,"minor":0,"rate":1048576}],"throttleWriteIOPSDevice":[{"major":8,"minor":16,"rate":0}]},
   "hugepageLimits":[{"pageSize":"2MB","limit":209715200},{"pageSize":"1GB","limit":0}],
   "network":{"classID":1048577,"priorities":[{"name":"eth0","priority":500}]},
   "rdma":{"mlx5_1":{"hcaHandles":3,"hcaObjects":10000}},
   "memory":{"limit":536870912,"reservation":0,"kernel":-1,"kernelTCP":-1,"disableOOMKiller":true,
    "useHierarchy":true,"checkBeforeUpdate":true},
   "cpu":{"burst":0,"realtimeRuntime":-1,"realtimePeriod":1000000,"idle":1}},
  "seccomp":{"defaultAction":"SCMP_ACT_KILL","syscalls":[{"names":["read","write"],"action":"SCMP_ACT_ALLOW"},
   {"names":["open"],"action":"SCMP_ACT_TRACE","errnoRet":0},{"names":["x"],"action":"SCMP_ACT_LOG"},
   {"names":["clone"],"action":"SCMP_ACT_ALLOW","args":[{"index":5,"value":18446744073709551615,"op":"SCMP_CMP_NE"}]}]}}}
J

# the bad configs of tests/unit/spec_bad_cases.h (single quotes -> double)
cat >"$TMP/dump.c" <<'C'
#include <stdio.h>
#include "spec_bad_cases.h"
int main(void) {
  for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
    for (const char *p = bad_cases[i].json; *p; p++)
      putchar(*p == '\'' ? '"' : *p);
    putchar('\0');
  }
  return 0;
}
C
cc -I"$REPO/tests/unit" -o "$TMP/dump" "$TMP/dump.c"
i=0
while IFS= read -r -d '' doc; do
	i=$((i + 1))
	printf '%s' "$doc" >"$docs/bad-$i.json"
done < <("$TMP/dump")

for f in "$docs"/*.json; do
	add fuzz_spec <"$f"
done
# malformed: truncated, a stray byte, NUL escapes, deep nesting, empty
full=$docs/full.json
for n in 1 40 400 2000 7000; do head -c "$n" "$full" | add fuzz_spec; done
printf '{"ociVersion": x}' | add fuzz_spec
printf '{"ociVersion":"1.2.0","root":{"path":"r\\u0000x"}}' | add fuzz_spec
printf '{"a":"\xff"}' | add fuzz_spec
printf '%0.s[' $(seq 70) | add fuzz_spec
printf '' | add fuzz_spec
printf '{"ociVersion":"1.2.0","root":{"path":"r"},"linux":{"namespaces":[{"type":"pid"},{"type":"pid"}]}}' | add fuzz_spec

# ---- parts -----------------------------------------------------------------

for f in "$docs"/*.json; do
	jq -e . "$f" >/dev/null 2>&1 || continue
	if jq -e 'type == "object" and has("process")' "$f" >/dev/null; then
		jq -c .process "$f" | add fuzz_process
	fi
	if jq -e 'type == "object" and (.linux | type == "object") and (.linux | has("resources"))' "$f" >/dev/null; then
		jq -c .linux.resources "$f" | add fuzz_resources
	fi
	if jq -e 'type == "object" and (.linux | type == "object") and (.linux | has("seccomp"))' "$f" >/dev/null; then
		jq -c .linux.seccomp "$f" | add fuzz_seccomp
	fi
	if jq -e 'type == "object" and (.mounts | type == "array")' "$f" >/dev/null; then
		jq -r '.mounts[] | select(type == "object") |
			[(.type // "" | tostring)] + [(.options // [])[] | tostring] | join("\n") | @base64' "$f" |
			while read -r m; do base64 -d <<<"$m" | add fuzz_mountopt; done
	fi
	if jq -e 'type == "object" and (.linux | type == "object") and (.linux.cgroupsPath | type == "string")' "$f" >/dev/null; then
		for mode in 0 1 2 3; do
			{ printf "\\x$(printf %02x $mode)"; jq -j .linux.cgroupsPath "$f"; } | add fuzz_cgroup
		done
	fi
done
printf '{"args":["ls"]}' | add fuzz_process
printf '[1]' | add fuzz_process
printf '{"memory":{"limit":"1G"}}' | add fuzz_resources
printf '{"blockIO":{"weightDevice":[{"major":8,"minor":0,"weight":9}]}}' | add fuzz_resources
printf '{"defaultAction":"SCMP_ACT_NOTIFY"}' | add fuzz_seccomp

# mount options: the tables of tests/unit/test_mountopt.c in a few lines
printf 'bind\nrbind\nro\nrw\nnosuid\nnodev\nnoexec\nrprivate' | add fuzz_mountopt
printf 'tmpfs\nmode=755\nsize=65536k\nstrictatime\nnoatime\nrelatime\nlazytime' | add fuzz_mountopt
printf '\nbind\nrro\nrnosuid\nrnodev\nrnoexec\nrnodiratime\nrnosymfollow\nrrelatime\nrstrictatime' | add fuzz_mountopt
printf 'proc\nshared\nslave\nunbindable\nrunbindable\nrshared\nrslave\nprivate' | add fuzz_mountopt
printf '\nbind\nfrobnicate' | add fuzz_mountopt
printf 'overlay\nlowerdir=/a\nupperdir=/u\nworkdir=/w\nremount\nsync\nasync\ndirsync\nmand\nnomand\nsilent\nloud' | add fuzz_mountopt
printf 'none\nrbind\ntmpcopyup\nidmap\nridmap\ncopy-symlink\nsrc-nofollow\ndefaults\niversion\nnoiversion' | add fuzz_mountopt

# ids, signals, numbers, capability and namespace names
printf 'abc\nABC-def_1.2+3\n...\n.a\na/b\n..\n.\n\na b\n\xc3\xa9' | add fuzz_parse
printf 'TERM\nSIGTERM\n15\nsigterm\nRTMIN+3\nSIGRTMAX-1\nSIGRTMIN\n0\n65\nKILL\nSIGFOO\nRTMAX+1' | add fuzz_parse
printf '18446744073709551615\n18446744073709551616\n-9223372036854775808\n9223372036854775807\n+1\n-0\n 1\n1 \n2147483648\n-2147483649\n007' | add fuzz_parse
printf 'CAP_SYS_ADMIN\ncap_chown\nCAP_\nCAP_LAST_CAP\nCAP_CHECKPOINT_RESTORE\npid\nnetwork\nmount\nipc\nuts\nuser\ncgroup\ntime\npidd' | add fuzz_parse

# cgroups: paths, a hybrid host's mountinfo and cgroup files (the test
# machine's), stored forms
HYBRID_MOUNTINFO='22 27 0:21 / /proc rw,relatime - proc proc rw
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw'
HYBRID_CGROUP='9:name=systemd:/
8:pids:/
4:memory:/process_api/e8d4d0249ef55f1e76e123d111908814
1:cpu:/
0::/'
for mode in 0 1 2 3; do
	for p in /a/b sprout/x "system.slice:sprout:abc" "user.slice:p:n" "a//./b/" "id-1
/c" "" "/a:b\\c"; do
		{ printf "\\x$(printf %02x $mode)"; printf '%s' "$p"; } | add fuzz_cgroup
	done
	{ printf "\\x$(printf %02x $((4 | mode)))"; printf '%s\n' "$HYBRID_MOUNTINFO"; printf '\0'; printf '%s\n' "$HYBRID_CGROUP"; } | add fuzz_cgroup
	{ printf "\\x$(printf %02x $((4 | mode)))"; printf '30 1 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n'; printf '\0'; printf '0::/user.slice/x\n'; } | add fuzz_cgroup
	{ printf "\\x$(printf %02x $((8 | mode)))"; printf '/sys/fs/cgroup/pids//sprout/x:/sys/fs/cgroup/memory//sprout/x:/sys/fs/cgroup/unified/a//b'; } | add fuzz_cgroup
	{ printf "\\x$(printf %02x $((8 | mode)))"; printf '/sys/fs/cgroup//a\\:b:/sys/fs/cgroup/cpu,cpuacct/x'; } | add fuzz_cgroup
done

# cgroup values: byte sizes (op 0), resources (op 1), numbers (op 2)
for v in 512 512k 1.5g 2MiB 1GB -1 0 1t 3P 9223372036854775807 1.5 "1 g" x ""; do
	{ printf '\x00'; printf '%s' "$v"; } | add fuzz_cgconvert
done
for f in "$OUT"/fuzz_resources/*; do
	{ printf '\x01'; cat "$f"; } | add fuzz_cgconvert
done
{ printf '\x02'; printf '\x00\x04\x00\x00\x00\x00\x00\x00'; printf '\x00\x10\x00\x00\x00\x00\x00\x00'; printf 'max 100000'; } | add fuzz_cgconvert
{ printf '\x02'; printf '\xff\xff\xff\xff\xff\xff\xff\xff'; printf '\x0a\x00\x00\x00\x00\x00\x00\x00'; printf 'memory.max'; } | add fuzz_cgconvert

# ---- dictionary: the words the parsers know --------------------------------

{
	echo '# generated by make-corpus.sh: JSON keys and enumeration values'
	printf '"%s"\n' '{' '}' '[' ']' ':' ',' 'true' 'false' 'null' '\\u0000' '\\"'
	grep -ho '"[A-Za-z_][A-Za-z0-9_.+-]*"' "$REPO"/src/spec/*.c "$REPO"/src/linux/caps.c \
		"$REPO"/src/util/parse.c | sort -u | sed 's/^"\(.*\)"$/"\\"\1\\""/'
	grep -ho '"[A-Za-z_][A-Za-z0-9_.+-]*"' "$REPO"/src/spec/*.c "$REPO"/src/util/parse.c | sort -u
	sed -n 's/^#define \(CAP_[A-Z_]*\)[[:space:]]*[0-9][0-9]*$/"\\"\1\\""/p' /usr/include/linux/capability.h
	# what strtod and friends would take
	printf '"%s"\n' nan inf 0x e+ KiB MiB GiB max '-1' 9223372036854775807 18446744073709551615
} >"$REPO/tests/fuzz/sprout.dict"

for d in "$OUT"/*/; do
	echo "$(basename "$d"): $(find "$d" -type f | wc -l) files"
done
