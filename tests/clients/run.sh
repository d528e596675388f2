#!/bin/bash
# The client suite: containerd (ctr) and podman driving the runtime exactly
# as they drive runc, each scenario once with runc and once with sprout
# (CLIENT_RUNTIMES), in one TAP stream ending with a scenario x runtime
# table; contract.sh first calls the runtime directly as the shim does, for
# the error paths.  tests/run-all.sh runs it; alone:
# bash tests/clients/run.sh [contract|containerd|podman].
. "$(dirname "$0")/lib.sh"
. "$CLIENTS_DIR/containerd.sh"
. "$CLIENTS_DIR/podman.sh"
. "$CLIENTS_DIR/contract.sh"

want=${1:-all}
case $want in
all | contract | containerd | podman) ;;
*) bail "usage: $0 [contract|containerd|podman]" ;;
esac
[ "$want" != all ] && [ "$want" != contract ] || contract_suite
[ "$want" != all ] && [ "$want" != containerd ] || containerd_suite
[ "$want" != all ] && [ "$want" != podman ] || podman_suite
done_testing
