#!/bin/bash
# tests/sanitize/run.sh — the sanitizer step as one suite of tests/run-all.sh:
# build every object with AddressSanitizer + UndefinedBehaviorSanitizer in
# build-asan, run the Check unit suites and the integration suites against
# that build (LeakSanitizer on in both: a process about to setns into a
# container's pid namespace, where LSan's exit-time check could not run,
# checks before, see sp_leak_check_now), and print one TAP test per inner
# suite.  Any sanitizer report fails the test that hit it, so it fails its
# suite here.
#
# Not run here, and why:
#   integration/cgroups   ASan's shadow memory reservations skew the OOM test
#   integration/faults    kills sprout under strace at random syscalls, with
#                         LeakSanitizer off (it cannot work under ptrace):
#                         a minute for little that ASan could add
#   integration/load      concurrency of whole commands, half a minute; the
#                         paths it takes are the lifecycle suite's
#   integration/{cgroup_join,namespaces,net,rootless,security,terminal}
#                         since the integration suites really run the ASan
#                         build (~9 min for all of them on a busy machine),
#                         the ones whose code the others' paths already take
#                         or that spend their time waiting (terminal), to
#                         keep the whole test command under 25 minutes
# (the whole suite must stay within run-all.sh's SANITIZE_TIMEOUT)
# Environment: SANITIZE_BUILD (default <repo>/build-asan).
set -u
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
B=${SANITIZE_BUILD:-$REPO/build-asan}
WORK=$(mktemp -d /tmp/sprout-sanitize.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

if [ -f "$B/build.ninja" ]; then
	setup=(meson setup --reconfigure "$B" "$REPO")
else
	setup=(meson setup "$B" "$REPO")
fi
if ! "${setup[@]}" -Dwerror_ci=true -Db_sanitize=address,undefined >"$WORK/setup.log" 2>&1 ||
	! ninja -C "$B" >"$WORK/build.log" 2>&1; then
	echo "Bail out! the sanitizer build failed"
	tail -n 20 "$WORK/setup.log" "$WORK/build.log" | sed 's/^/# /'
	exit 1
fi

suites=(badinput cve errors exec hooks lifecycle mounts overlay process
	userns)
export SPROUT_FIXTURE=${SPROUT_FIXTURE_ASAN:-/var/tmp/sprout-fixture-asan}
# run-all.sh keeps a SPROUT or HELPERS_DIR it inherits (the outer run-all
# exports the plain build's): name the sanitizer build's explicitly
export SPROUT=$B/src/cli/sprout HELPERS_DIR=$B/tests/helpers
BUILD_DIR=$B bash "$REPO/tests/run-all.sh" --no-build unit >"$WORK/unit.log" 2>&1
BUILD_DIR=$B bash "$REPO/tests/run-all.sh" --no-build \
	"${suites[@]/#/integration/}" >"$WORK/int.log" 2>&1

# Every "  NAME  N passed, M failed" line of the two summaries is one test.
n=0
failed=0
for log in "$WORK/unit.log" "$WORK/int.log"; do
	sed -n '/^== summary/,$p' "$log" | grep -E '^  [a-z]' >"$WORK/lines" || true
	if [ ! -s "$WORK/lines" ]; then
		n=$((n + 1))
		failed=$((failed + 1))
		echo "not ok $n - $(basename "$log" .log): no summary"
		tail -n 20 "$log" | sed 's/^/#   /'
		continue
	fi
	while read -r name rest; do
		case $rest in
		ok | skipped*) continue ;;             # build, fixture
		"0 passed, 0 failed"*) continue ;;     # a part not run in that pass
		esac
		n=$((n + 1))
		if [[ $rest =~ ([0-9]+)\ failed ]] && [ "${BASH_REMATCH[1]}" = 0 ]; then
			echo "ok $n - asan+ubsan: $name: $rest"
		else
			failed=$((failed + 1))
			echo "not ok $n - asan+ubsan: $name: $rest"
			# the failing tests of that suite, with their diagnostics
			awk -v s="== $name" '$0 == s {on=1; next} /^== / {on=0} on && /^not ok/ {p=8} on && p > 0 {print "#   " $0; p--}' "$log"
		fi
	done <"$WORK/lines"
done
echo "1..$n"
[ "$failed" = 0 ]
