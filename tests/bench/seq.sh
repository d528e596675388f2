#!/bin/bash
# tests/bench/seq.sh — command sequences for the benchmark (lib.sh runs them
# as hyperfine commands and --prepare steps; the same for every runtime).
#
#   seq.sh prep-create  BIN ROOT BUNDLE ID   nothing named ID exists
#   seq.sh prep-start   BIN ROOT BUNDLE ID   ID is created
#   seq.sh prep-delete  BIN ROOT BUNDLE ID   ID was started and has stopped
#   seq.sh prep-running BIN ROOT BUNDLE ID   ID was started (a long workload)
#   seq.sh remove       BIN ROOT BUNDLE ID   delete --force ID
#   seq.sh parallel N   BIN ROOT BUNDLE      N containers created, started and
#                                            deleted by 2 parallel workers
#   seq.sh fill N       BIN ROOT BUNDLE      N containers created (fill-*)
#   seq.sh empty        BIN ROOT             delete --force every container
#
# Exit status non-zero when a runtime command failed.
set -u
exec </dev/null

cmd=${1:?}
shift

q() { "$@" >/dev/null 2>&1; }

wait_stopped() { # BIN ROOT ID
	local i
	for ((i = 0; i < 500; i++)); do
		[ "$("$1" --root "$2" state "$3" 2>/dev/null | jq -r .status 2>/dev/null)" = stopped ] && return 0
		sleep 0.01
	done
	echo "seq.sh: $3 did not stop" >&2
	return 1
}

# worker BIN ROOT BUNDLE PREFIX COUNT
worker() {
	local i id
	for ((i = 0; i < $5; i++)); do
		id=$4-$i
		# shellcheck disable=SC2015 # any failure ends the worker
		"$1" --root "$2" create --bundle "$3" "$id" >/dev/null 2>&1 &&
			"$1" --root "$2" start "$id" >/dev/null 2>&1 &&
			"$1" --root "$2" delete --force "$id" >/dev/null 2>&1 || {
			echo "seq.sh: create/start/delete $id failed" >&2
			return 1
		}
	done
}

case $cmd in
prep-create | remove)
	q "$1" --root "$2" delete --force "$4"
	exit 0
	;;
prep-start)
	q "$1" --root "$2" delete --force "$4"
	q "$1" --root "$2" create --bundle "$3" "$4"
	;;
prep-delete)
	q "$1" --root "$2" delete --force "$4"
	q "$1" --root "$2" create --bundle "$3" "$4" &&
		q "$1" --root "$2" start "$4" &&
		wait_stopped "$1" "$2" "$4"
	;;
prep-running)
	q "$1" --root "$2" delete --force "$4"
	q "$1" --root "$2" create --bundle "$3" "$4" &&
		q "$1" --root "$2" start "$4"
	;;
parallel)
	n=$1
	bin=$2 root=$3 bundle=$4
	worker "$bin" "$root" "$bundle" "par-a-$$" $((n / 2)) &
	a=$!
	worker "$bin" "$root" "$bundle" "par-b-$$" $((n - n / 2)) &
	b=$!
	wait $a
	ra=$?
	wait $b
	rb=$?
	[ $ra = 0 ] && [ $rb = 0 ]
	;;
fill)
	n=$1
	bin=$2 root=$3 bundle=$4
	fill_part() { # FROM TO: create fill-FROM .. fill-(TO-1)
		local i
		for ((i = $1; i < $2; i++)); do
			"$bin" --root "$root" create --bundle "$bundle" "fill-$i" >/dev/null 2>&1 || {
				echo "seq.sh: create fill-$i failed" >&2
				return 1
			}
		done
	}
	fill_part 0 $((n / 2)) &
	a=$!
	fill_part $((n / 2)) "$n" &
	b=$!
	wait $a
	ra=$?
	wait $b
	rb=$?
	[ $ra = 0 ] && [ $rb = 0 ]
	;;
empty)
	bin=$1 root=$2
	# shellcheck disable=SC2016 # the inner script's own variables
	"$bin" --root "$root" list -q 2>/dev/null |
		xargs -r -n 20 -P 2 sh -c 'r=$1; shift; for id; do "$0" --root "$r" delete --force "$id" >/dev/null 2>&1; done' "$bin" "$root"
	;;
*)
	echo "seq.sh: unknown command $cmd" >&2
	exit 2
	;;
esac
