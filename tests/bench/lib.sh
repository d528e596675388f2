# shellcheck shell=bash
# tests/bench/lib.sh — the measuring part of the benchmark, shared by the
# host driver (run.sh) and the script run inside the cgroup-v2 guest
# (guest.sh).  Not a test: nothing here passes or fails on a number.
#
# A "tool" is a runtime (sprout, runc, crun) or "floor" (unshare + chroot,
# what the kernel itself costs).  Every measurement is one hyperfine run of
# one command; its summary is appended as a JSON line to $RESULTS:
#   {"case":"1","tool":"sprout","mean":ms,"stddev":ms,"median":ms,"min":ms,
#    "max":ms,"runs":N}
# and peak RSS lines as {"case":"rss","tool":...,"rss_kb":N,"samples":N}.
#
# Environment: SPROUT, RUNC, CRUN (binaries; a missing one is skipped),
# BENCH_FIXTURE (busybox rootfs), BENCH_RUNS, BENCH_WARMUP.

set -u
set -o pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH_RUNS=${BENCH_RUNS:-30}
BENCH_WARMUP=${BENCH_WARMUP:-3}
RSS_SAMPLES=${RSS_SAMPLES:-10}
# containerd's default capability set (oci.DefaultSpec): 14 capabilities
CONTAINERD_CAPS='["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FSETID","CAP_FOWNER","CAP_MKNOD","CAP_NET_RAW","CAP_SETGID","CAP_SETUID","CAP_SETFCAP","CAP_SETPCAP","CAP_NET_BIND_SERVICE","CAP_SYS_CHROOT","CAP_KILL","CAP_AUDIT_WRITE"]'
SECCOMP_PROFILE=$BENCH_DIR/seccomp-default.json

say() { echo "# bench: $*" >&2; }
die() {
	echo "bench: $*" >&2
	exit 1
}

# bench_setup WORKDIR: the bundles under WORKDIR, the per-tool state roots
# under $ROOTS (default WORKDIR).
#   $WORK/b-true      `sprout spec` config, root.path the fixture, /bin/true
#   $WORK/b-seccomp   the same with the default seccomp profile and the
#                     14 containerd capabilities
#   $WORK/b-sleep     a long sleep (the container that case 4 execs into)
# One config is used by every runtime: the same work for each.  Its
# ociVersion is 1.0.2: crun 1.8 refuses "unknown version" 1.2.0, and
# nothing in these configs needs more.
bench_setup() {
	WORK=$1
	ROOTS=${ROOTS:-$WORK} # the tools' --root directories
	RESULTS=$WORK/results.jsonl
	: >"$RESULTS"
	mkdir -p "$WORK/spec"
	(cd "$WORK/spec" && "$SPROUT" spec) || die "\`$SPROUT spec\` failed"
	local base=$WORK/spec/config.json
	# shellcheck disable=SC2016 # jq variables
	mkbundle b-true "$base" '.ociVersion = "1.0.2" | .root.path = $fx | .process.terminal = false | .process.args = ["/bin/true"]'
	# shellcheck disable=SC2016 # jq variables
	mkbundle b-seccomp "$WORK/b-true/config.json" \
		'.linux.seccomp = $sc[0] | .process.capabilities = {bounding: $caps, effective: $caps, permitted: $caps}'
	mkbundle b-sleep "$WORK/b-true/config.json" '.process.args = ["/bin/sleep", "100000"]'
	TOOLS=()
	[ -x "${SPROUT:-}" ] && TOOLS+=(sprout)
	[ -n "${RUNC:-}" ] && [ -x "$RUNC" ] && TOOLS+=(runc)
	[ -n "${CRUN:-}" ] && [ -x "$CRUN" ] && TOOLS+=(crun)
	local t
	for t in "${TOOLS[@]}"; do
		mkdir -p "$ROOTS/root-$t"
	done
}

mkbundle() { # mkbundle NAME FROM_CONFIG JQ_FILTER
	mkdir -p "$WORK/$1"
	jq --arg fx "$BENCH_FIXTURE" --slurpfile sc "$SECCOMP_PROFILE" \
		--argjson caps "$CONTAINERD_CAPS" "$3" "$2" >"$WORK/$1/config.json" ||
		die "cannot write the $1 bundle"
}

# bin TOOL: the binary; rt TOOL: the binary with its --root, as words.
bin() {
	case $1 in
	sprout) echo "$SPROUT" ;;
	runc) echo "$RUNC" ;;
	crun) echo "$CRUN" ;;
	esac
}
rt() { echo "$(bin "$1") --root $ROOTS/root-$1"; }

floor_cmd() {
	echo "unshare --mount --pid --net --ipc --uts --cgroup --fork chroot $BENCH_FIXTURE /bin/true"
}

# hf_run CASE TOOL OUT WARMUP RUNS COMMAND [HYPERFINE OPTIONS...]: one
# hyperfine run exported to OUT; says why when it failed (non-zero).
hf_run() {
	local case=$1 tool=$2 out=$3 warm=$4 runs=$5 cmd=$6 log=$WORK/hf-$1-$2.log
	shift 6
	hyperfine -N --style none --warmup "$warm" --runs "$runs" \
		--export-json "$out" "$@" -- "$cmd" >"$log" 2>&1 && return 0
	say "case $case, $tool: failed: $(grep -v '^ *$' "$log" | tail -n 3 | tr '\n' ' ')"
	return 1
}

# measure CASE TOOL COMMAND [HYPERFINE OPTIONS...]: time COMMAND (words,
# no shell) and record the summary.  Returns non-zero when the command
# failed (nothing is recorded then).
measure() {
	local case=$1 tool=$2 cmd=$3
	shift 3
	local out=$WORK/hf-$case-$tool.json
	say "case $case, $tool: $cmd"
	hf_run "$case" "$tool" "$out" "$BENCH_WARMUP" "$BENCH_RUNS" "$cmd" "$@" || return 1
	jq -c --arg c "$case" --arg t "$tool" '.results[0] | {case: $c, tool: $t,
		mean: (.mean * 1000), stddev: ((.stddev // 0) * 1000), median: (.median * 1000),
		min: (.min * 1000), max: (.max * 1000), runs: (.times | length)}' "$out" >>"$RESULTS"
}

# measure_rounds CASE TOOL CMD [TOOL CMD]...: the commands measured in
# turns, BENCH_ROUNDS rounds of BENCH_RUNS/BENCH_ROUNDS runs each (sprout,
# runc, floor, sprout, runc, floor, ...), every tool's runs then summarized
# together.  A machine whose speed drifts (other VMs, CPU frequency, page
# cache) then drifts under every tool alike: the ratios of one run are
# steadier than with each tool measured in one block.  A TOOL written
# C/TOOL is recorded under case C instead; ROUND_RESET[TOOL] (as written),
# when set, is hyperfine's --prepare and --cleanup for that command.  A
# command that fails is left out of the later rounds and of the results.
declare -A ROUND_RESET=()
measure_rounds() {
	local case=$1 r i n rounds=${BENCH_ROUNDS:-3} warm
	shift
	local -a tools=() cmds=() cases=() names=() opts
	while [ $# -ge 2 ]; do
		tools+=("$1")
		cmds+=("$2")
		if [[ $1 == */* ]]; then
			cases+=("${1%%/*}")
			names+=("${1#*/}")
		else
			cases+=("$case")
			names+=("$1")
		fi
		shift 2
	done
	n=$(((BENCH_RUNS + rounds - 1) / rounds))
	for ((r = 0; r < rounds; r++)); do
		warm=$BENCH_WARMUP
		[ "$r" -gt 0 ] && warm=1
		for i in "${!tools[@]}"; do
			[ "${tools[$i]}" = - ] && continue
			opts=()
			[ -n "${ROUND_RESET[${tools[$i]}]:-}" ] &&
				opts=(--prepare "${ROUND_RESET[${tools[$i]}]}" --cleanup "${ROUND_RESET[${tools[$i]}]}")
			say "case ${cases[$i]}, ${names[$i]}, round $((r + 1))/$rounds: ${cmds[$i]}"
			hf_run "${cases[$i]}" "${names[$i]}" "$WORK/hf-${cases[$i]}-${names[$i]}-$r.json" \
				"$warm" "$n" "${cmds[$i]}" "${opts[@]}" || tools[i]=-
		done
	done
	for i in "${!tools[@]}"; do
		[ "${tools[$i]}" = - ] && continue
		summarize_rounds "${cases[$i]}" "${names[$i]}"
	done
}

# summarize_rounds CASE TOOL: one record of the runs of every round of
# CASE and TOOL ($WORK/hf-CASE-TOOL-R.json) taken together.
summarize_rounds() {
	jq -s -c --arg c "$1" --arg t "$2" '
		[.[].results[0].times[]] as $x | ($x | length) as $n
		| ($x | add / $n) as $m | ($x | sort) as $o
		| {case: $c, tool: $t, mean: ($m * 1000),
		   stddev: (if $n > 1 then ([$x[] | (. - $m) * (. - $m)] | add / ($n - 1) | sqrt * 1000) else 0 end),
		   median: ((if $n % 2 == 1 then $o[($n - 1) / 2] else ($o[$n / 2 - 1] + $o[$n / 2]) / 2 end) * 1000),
		   min: ($o[0] * 1000), max: ($o[-1] * 1000), runs: $n, rounds: length}' \
		"$WORK/hf-$1-$2"-[0-9]*.json >>"$RESULTS"
}

# record CASE TOOL MEAN STDDEV: a derived result (e.g. a sum of measurements).
record() {
	jq -nc --arg c "$1" --arg t "$2" --argjson m "$3" --argjson s "$4" \
		'{case: $c, tool: $t, mean: $m, stddev: $s, derived: true}' >>"$RESULTS"
}

# result CASE TOOL FIELD: a recorded value (empty when missing).
result() {
	jq -r --arg c "$1" --arg t "$2" "select(.case == \$c and .tool == \$t) | .$3" "$RESULTS" | tail -n1
}

# sum_cases NEW TOOL CASE...: record NEW as the sum of the CASEs' means
# (standard deviations added in quadrature); nothing when one is missing.
sum_cases() {
	local new=$1 tool=$2 c m s sm=0 ss=0
	shift 2
	for c in "$@"; do
		m=$(result "$c" "$tool" mean)
		s=$(result "$c" "$tool" stddev)
		[ -n "$m" ] || return 1
		sm=$(jq -n "$sm + $m")
		ss=$(jq -n "$ss + $s * $s")
	done
	record "$new" "$tool" "$sm" "$(jq -n "$ss | sqrt")"
}

# peak_rss TOOL COMMAND: the largest maximum resident set size (GNU time's
# %M, the command and the children it waited for) over RSS_SAMPLES runs.
peak_rss() {
	local tool=$1 cmd=$2 i kb max=0 f=$WORK/rss.txt
	for ((i = 0; i < RSS_SAMPLES; i++)); do
		# shellcheck disable=SC2086
		/usr/bin/time -o "$f" -f %M $cmd </dev/null >/dev/null 2>&1 || {
			say "rss $tool: command failed"
			return 1
		}
		kb=$(tail -n1 "$f")
		[ "$kb" -gt "$max" ] && max=$kb
	done
	jq -nc --arg t "$tool" --argjson k "$max" --argjson n "$RSS_SAMPLES" \
		'{case: "rss", tool: $t, rss_kb: $k, samples: $n}' >>"$RESULTS"
}

# ---------------------------------------------------------------- cases ---

# 1: run /bin/true, default config, cgroups on.
case_run() {
	local t args=()
	for t in "${TOOLS[@]}"; do
		args+=("$t" "$(rt "$t") run --bundle $WORK/b-true bench-run")
	done
	measure_rounds 1 "${args[@]}" floor "$(floor_cmd)"
}

# 2: the same with the default seccomp profile and containerd's 14 caps;
# sprout-base: case 1's sprout again, in the same rounds, for the cost of
# the profile and the capabilities (case 2 minus case 1) measured in pairs.
case_seccomp() {
	local t args=()
	for t in "${TOOLS[@]}"; do
		args+=("$t" "$(rt "$t") run --bundle $WORK/b-seccomp bench-sc")
	done
	[ "${TOOLS[0]:-}" = sprout ] && args+=(sprout-base "$(rt sprout) run --bundle $WORK/b-true bench-sc")
	measure_rounds 2 "${args[@]}"
}

# 3: containerd's sequence, create + start + delete, each command timed on
# its own (the others run as hyperfine --prepare steps), summed.
case_sequence() {
	local t r seq="bash $BENCH_DIR/seq.sh"
	for t in "${TOOLS[@]}"; do
		r="$(bin "$t") $ROOTS/root-$t $WORK/b-true bench-seq"
		measure 3.create "$t" "$(rt "$t") create --bundle $WORK/b-true bench-seq" \
			--prepare "$seq prep-create $r" --cleanup "$seq remove $r" || continue
		measure 3.start "$t" "$(rt "$t") start bench-seq" \
			--prepare "$seq prep-start $r" --cleanup "$seq remove $r" || continue
		measure 3.delete "$t" "$(rt "$t") delete bench-seq" \
			--prepare "$seq prep-delete $r" --cleanup "$seq remove $r" || continue
		sum_cases 3 "$t" 3.create 3.start 3.delete
	done
}

# 4: exec /bin/true into a running container.
case_exec() {
	local t r
	for t in "${TOOLS[@]}"; do
		r="$(bin "$t") $ROOTS/root-$t $WORK/b-sleep bench-exec"
		# shellcheck disable=SC2086 # R is words
		bash "$BENCH_DIR/seq.sh" prep-running $r || {
			say "case 4, $t: cannot start the container to exec into"
			continue
		}
		measure 4 "$t" "$(rt "$t") exec bench-exec /bin/true"
		# shellcheck disable=SC2086
		bash "$BENCH_DIR/seq.sh" remove $r
	done
}

# 5: TOTAL containers created, started and deleted by 2 parallel workers.
case_parallel() {
	local t total=${BENCH_PARALLEL:-100}
	for t in "${TOOLS[@]}"; do
		BENCH_RUNS=${BENCH_PARALLEL_RUNS:-3} BENCH_WARMUP=0 \
			measure 5 "$t" "bash $BENCH_DIR/seq.sh parallel $total $(bin "$t") $ROOTS/root-$t $WORK/b-true"
	done
}

# 6: create and list with MANY containers present (created, waiting on
# exec.fifo) and with none.
case_many() {
	local t n=${BENCH_MANY:-1000} seq="bash $BENCH_DIR/seq.sh" r
	for t in "${TOOLS[@]}"; do
		r="$(bin "$t") $ROOTS/root-$t $WORK/b-true bench-many"
		measure 6.create.0 "$t" "$(rt "$t") create --bundle $WORK/b-true bench-many" \
			--prepare "$seq remove $r" --cleanup "$seq remove $r" || continue
		measure 6.list.0 "$t" "$(rt "$t") list"
		# the kernel's own cost of N live containers, once: the floor
		[ "$t" = "${TOOLS[0]}" ] && measure 6.create.0 floor "$(floor_cmd)"
		say "case 6, $t: creating $n containers"
		if ! $seq fill "$n" "$(bin "$t")" "$ROOTS/root-$t" "$WORK/b-true"; then
			say "case 6, $t: could not create $n containers"
			$seq empty "$(bin "$t")" "$ROOTS/root-$t"
			continue
		fi
		# and the same kernel state (N live containers) but an empty --root:
		# what is left of the difference is the kernel's, not a scan by the
		# runtime.  The two in turns, in rounds, as cases 1 and 2: measured
		# one after the other they differed by up to 1.4x either way.
		mkdir -p "$ROOTS/root-$t-other"
		many_rounds "$t" "$r" "$(bin "$t") $ROOTS/root-$t-other $WORK/b-true bench-many"
		measure 6.list.N "$t" "$(rt "$t") list"
		[ "$t" = "${TOOLS[0]}" ] && measure 6.create.N floor "$(floor_cmd)"
		say "case 6, $t: deleting $n containers"
		$seq empty "$(bin "$t")" "$ROOTS/root-$t"
	done
}

# many_rounds TOOL R RX: case 6's create with N present (seq.sh words R:
# BIN ROOT BUNDLE ID) and into the empty root beside them (RX), in turns,
# the container removed before and after every run.
many_rounds() {
	local t=$1 r=$2 rx=$3 seq="bash $BENCH_DIR/seq.sh" c w
	local -a args=()
	for c in N X; do
		w=$r
		[ $c = X ] && w=$rx
		ROUND_RESET["6.create.$c/$t"]="$seq remove $w"
		# shellcheck disable=SC2086 # w: BIN ROOT BUNDLE ID
		set -- $w
		args+=("6.create.$c/$t" "$1 --root $2 create --bundle $3 $4")
	done
	measure_rounds 6 "${args[@]}"
}

# 7: case 1 with sprout's overlay root (--overlay: a tmpfs upper layer);
# sprout-base: case 1's sprout again, in the same rounds (as in case 2): the
# issue's ratio (case 7 / case 1) measured in pairs, not against case 1's
# runs of many minutes before, on a machine that case 6 has since changed.
case_overlay() {
	if ! "$SPROUT" help run 2>/dev/null | grep -q -- --overlay; then
		say "case 7: this sprout has no --overlay"
		return 0
	fi
	measure_rounds 7 sprout "$(rt sprout) run --overlay --bundle $WORK/b-true bench-ovl" \
		sprout-base "$(rt sprout) run --bundle $WORK/b-true bench-ovl"
}

case_rss() {
	local t
	for t in "${TOOLS[@]}"; do
		peak_rss "$t" "$(rt "$t") run --bundle $WORK/b-true bench-rss"
	done
	peak_rss floor "$(floor_cmd)"
}

# bench_teardown: delete every container left under the tools' roots.
bench_teardown() {
	local t
	for t in "${TOOLS[@]}"; do
		[ -d "$ROOTS/root-$t" ] && bash "$BENCH_DIR/seq.sh" empty "$(bin "$t")" "$ROOTS/root-$t"
	done
}
