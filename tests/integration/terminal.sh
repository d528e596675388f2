#!/bin/bash
# Terminals and file descriptors: a pty over a console socket (create and
# exec), consoleSize, /dev/console, interactive `run` and `exec -t` driven
# through a real terminal (script(1)), the caller's terminal restored,
# NOTIFY_SOCKET, LISTEN_FDS and --preserve-fds, stdio passed as given.
. "$(dirname "$0")/lib.sh"

RECVTTY=$HELPERS_DIR/sprout-recvtty
[ -x "$RECVTTY" ] || bail "$RECVTTY not built"
command -v script >/dev/null || bail "script(1) is not installed (util-linux / bsdutils)"

# recv_start SOCKET ARGS...: sprout-recvtty in the background, its output in
# RECV_OUT; waits until it listens.
recv_start() {
	local sock=$1
	shift
	RECV_OUT=$sock.out
	"$RECVTTY" --timeout 20 "$@" "$sock" >"$RECV_OUT" 2>&1 &
	RECV_PID=$!
	HELPER_PIDS+=("$RECV_PID")
	wait_file "$sock.ready" 5 || fail "sprout-recvtty did not start listening"
}

recv_wait() {
	wait "$RECV_PID"
	RECV_RC=$?
	RECV=$(tr -d '\r' <"$RECV_OUT")
}

tty_container() { # a container with a terminal running ARGS
	new_container
	cfg '.process.terminal = true'
	set_args "$@"
}

t_console_socket() {
	tty_container sh
	local sock=$TMPDIR_IT/$CID.sock
	recv_start "$sock" --expect '# ' --write 'echo hi-$((6*7))\n' --expect 'hi-42' \
		--write 'tty; exit 3\n'
	rt create -b "$BUNDLE" --console-socket "$sock" "$CID"
	expect_ok "create --console-socket" || return
	expect_eq "$OUT$ERR" "" "output of create"
	rt start "$CID"
	expect_ok start
	recv_wait
	expect_eq "$RECV_RC" 0 "sprout-recvtty's steps (write a command, read its echo and output)"
	expect_eq "$(pv fds "$RECV")" 1 "fds received"
	expect_eq "$(pv messages "$RECV")" 1 "messages on the console socket"
	expect_match "$(pv pty "$RECV")" '^[0-9]+$' "the fd is a pty master"
	expect_contains "$RECV" 'echo hi-$((6*7))' "the terminal echoes the command"
	expect_match "$RECV" '^hi-42$' "the command's output"
	expect_match "$RECV" '^/dev/pts/[0-9]+$' "tty(1) inside: a pty of the container's devpts"
	wait_status "$CID" stopped || fail "the shell did not exit"
	rt delete "$CID"
	forget "$CID"
	leftovers_after "$CID"
}
t "create --console-socket: one SCM_RIGHTS message, an interactive pty" t_console_socket
t "no openat2: create --console-socket (/dev/pts/ptmx and /dev/console found by sprout's own walk)" no_openat2 t_console_socket

t_console_size() {
	tty_container sh -c 'stty size; stat -c "console=%t:%T" /dev/console; stat -c "tty=%t:%T" "$(tty)"; grep -c " /dev/console " /proc/self/mountinfo'
	cfg '.process.consoleSize = {height: 33, width: 77}'
	local sock=$TMPDIR_IT/$CID.sock
	recv_start "$sock"
	rt run -d -b "$BUNDLE" --console-socket "$sock" "$CID"
	expect_ok "run -d --console-socket" || return
	recv_wait
	expect_eq "$(pv winsize "$RECV")" 33x77 "the pty's size seen from the master"
	expect_match "$RECV" '^33 77$' "stty size inside"
	expect_eq "$(pv console "$RECV")" "$(pv tty "$RECV")" "/dev/console is the process's pty"
	expect_match "$(pv console "$RECV")" '^88:' "/dev/console: a pty slave (major 136 = 0x88)"
	expect_match "$RECV" '^1$' "one mount on /dev/console"
	wait_status "$CID" stopped
	force_delete "$CID"
	leftovers_after "$CID"
}
t "consoleSize applied (stty size); /dev/console bound to the pty" t_console_size

t_no_console_socket() {
	tty_container sh
	rt create -b "$BUNDLE" "$CID"
	expect_failure "create with terminal: true and no --console-socket"
	expect_sprout_error
	expect_contains "$ERR" "console-socket" "the error names the option"
	rt run -d -b "$BUNDLE" "$CID"
	expect_failure "run -d with terminal: true and no --console-socket"
	rt create -b "$BUNDLE" --console-socket "$TMPDIR_IT/nobody-listens.sock" "$CID"
	expect_failure "create with a console socket nobody listens on"
	expect_contains "$ERR" "nobody-listens.sock" "the error names the socket"
	cfg '.process.terminal = false'
	rt create -b "$BUNDLE" --console-socket "$TMPDIR_IT/nobody-listens.sock" "$CID"
	expect_failure "create --console-socket with terminal: false (as runc)"
	expect_contains "$ERR" "terminal" "the error says why"
	leftovers "$CID"
}
t "terminal without a console socket (or the reverse): refused before anything happens" t_no_console_socket

t_pipe_not_held() {
	tty_container sh -c 'sleep 30'
	local sock=$TMPDIR_IT/$CID.sock start end
	recv_start "$sock"
	start=$(date +%s)
	# the caller's stdout is a pipe: create must not leave it to the init
	timeout 20 bash -c "\"$SPROUT\" --root \"$ROOT\" create -b \"$BUNDLE\" --console-socket \"$sock\" \"$CID\" 2>&1 | cat" </dev/null
	RC=$?
	end=$(date +%s)
	expect_ok "create | cat"
	[ $((end - start)) -lt 10 ] || fail "the pipe stayed open $((end - start)) s after create returned"
	force_delete "$CID"
	recv_wait
	leftovers_after "$CID"
}
t "create --console-socket: no process keeps the caller's stdout pipe" t_pipe_not_held

t_exec_console_socket() {
	new_container
	sleeper_args
	rt run -d -b "$BUNDLE" "$CID"
	expect_ok "run -d" || return
	local sock=$TMPDIR_IT/$CID.exec.sock pf=$TMPDIR_IT/$CID.exec.pid
	jq -n '{terminal: true, consoleSize: {height: 20, width: 60}, cwd: "/", args: ["sh"],
	        env: ["PATH=/usr/bin:/bin"]}' >"$TMPDIR_IT/$CID.process.json"
	recv_start "$sock" --expect '# ' --write 'stty size; echo hi-$((6*7)); exit\n'
	rt exec --process "$TMPDIR_IT/$CID.process.json" --console-socket "$sock" --detach --pid-file "$pf" "$CID"
	expect_ok "exec --process --console-socket --detach --pid-file" || { force_delete "$CID"; return; }
	expect_match "$(cat "$pf")" '^[0-9]+$' "pid file"
	recv_wait
	expect_eq "$(pv messages "$RECV")" 1 "messages on the console socket"
	expect_eq "$(pv fds "$RECV")" 1 "fds received"
	expect_match "$RECV" '^20 60$' "consoleSize of the process file"
	expect_match "$RECV" '^hi-42$' "output of the exec'd shell"
	force_delete "$CID"
	leftovers_after "$CID"
}
t "exec --tty over --console-socket, detached (containerd's form)" t_exec_console_socket

# in_script FEEDER_SCRIPT COMMAND: run COMMAND under script(1) (a real
# terminal) with stdin fed by the bash snippet FEEDER; output in SCRIPT_OUT.
in_script() {
	local feeder=$1 cmd=$2
	_IO_COUNTER=$((_IO_COUNTER + 1))
	SCRIPT_FILE=$TMPDIR_IT/io/$_IO_COUNTER.script
	bash -c "$feeder" | timeout -k 5 30 script -qec "$cmd" /dev/null >"$SCRIPT_FILE" 2>&1
	SCRIPT_RC=$?
	SCRIPT_OUT=$(tr -d '\r' <"$SCRIPT_FILE")
}

t_interactive_run() {
	tty_container sh
	local T=$TMPDIR_IT/$CID
	in_script "sleep 1.5; printf 'stty size; tty; echo hi-\$((6*7))\\n'; sleep 1; printf 'exit 5\\n'; sleep 1" \
		"stty rows 40 cols 100; stty -g > $T.before; $SPROUT --root $ROOT run -b $BUNDLE $CID; echo RC=\$?; stty -g > $T.after"
	expect_match "$SCRIPT_OUT" '^40 100$' "stty size inside: the caller's terminal size"
	expect_match "$SCRIPT_OUT" '^/dev/pts/[0-9]+$' "tty inside"
	expect_match "$SCRIPT_OUT" '^hi-42$' "output of the interactive shell"
	expect_match "$SCRIPT_OUT" '^RC=5$' "exit status of run"
	if [ ! -s "$T.before" ] || ! cmp -s "$T.before" "$T.after"; then
		fail "the caller's terminal was not restored: $(cat "$T.before" 2>&1) -> $(cat "$T.after" 2>&1)"
	fi
	[ "$_FAIL" = 0 ] || diag "script output: $(head -c 2000 <<<"$SCRIPT_OUT")"
	forget "$CID"
	leftovers_after "$CID"
}
t "interactive run through a real terminal (script(1)); terminal restored" t_interactive_run

t_interactive_killed() {
	tty_container sh
	local T=$TMPDIR_IT/$CID
	local out=$TMPDIR_IT/$CID.script
	sleep 4 | timeout -k 5 30 script -qec \
		"stty -g > $T.before; $SPROUT --root $ROOT run -b $BUNDLE $CID; echo RC=\$?; stty -g > $T.after" \
		/dev/null >"$out" 2>&1 &
	local spid=$!
	wait_status "$CID" running 10 || fail "the interactive container did not start"
	sleep 0.5
	rt kill "$CID" KILL
	expect_ok "kill KILL"
	wait "$spid"
	SCRIPT_OUT=$(tr -d '\r' <"$out")
	expect_match "$SCRIPT_OUT" 'RC=137$' "exit status of the killed run"
	if [ ! -s "$T.before" ] || ! cmp -s "$T.before" "$T.after"; then
		fail "the caller's terminal was not restored after the kill"
	fi
	forget "$CID"
	leftovers_after "$CID"
}
t "interactive run killed: the caller's terminal is restored" t_interactive_killed

t_winch() {
	tty_container sh
	in_script "sleep 1.5; printf 'stty size\\n'; sleep 2; printf 'stty size; exit\\n'; sleep 1" \
		"stty rows 30 cols 80; $SPROUT --root $ROOT run -b $BUNDLE $CID </dev/tty & sleep 2.5; stty rows 50 cols 120; wait"
	expect_match "$SCRIPT_OUT" '^30 80$' "size at the start"
	expect_match "$SCRIPT_OUT" '^50 120$' "size after the caller's terminal was resized (SIGWINCH)"
	[ "$_FAIL" = 0 ] || diag "script output: $(head -c 2000 <<<"$SCRIPT_OUT")"
	forget "$CID"
	leftovers_after "$CID"
}
t "interactive run follows window size changes" t_winch

t_exec_tty() {
	new_container
	sleeper_args
	rt run -d -b "$BUNDLE" "$CID"
	expect_ok "run -d" || return
	local T=$TMPDIR_IT/$CID
	in_script "sleep 1; printf 'stty size; tty; echo hi-\$((6*7))\\n'; sleep 1; printf 'exit 4\\n'; sleep 1" \
		"stty rows 25 cols 90; stty -g > $T.before; $SPROUT --root $ROOT exec -t $CID sh; echo RC=\$?; stty -g > $T.after"
	expect_match "$SCRIPT_OUT" '^25 90$' "stty size in the exec'd shell"
	expect_match "$SCRIPT_OUT" '^/dev/pts/[0-9]+$' "tty of the exec'd shell"
	expect_match "$SCRIPT_OUT" '^hi-42$' "output of the exec'd shell"
	expect_match "$SCRIPT_OUT" '^RC=4$' "exit status of exec -t"
	cmp -s "$T.before" "$T.after" || fail "the caller's terminal was not restored"
	[ "$_FAIL" = 0 ] || diag "script output: $(head -c 2000 <<<"$SCRIPT_OUT")"
	force_delete "$CID"
	leftovers_after "$CID"
}
t "exec -t in the foreground attaches to the caller's terminal" t_exec_tty

t_notify() {
	new_container --copy
	cfg '.root.readonly = false'
	set_args sh -c 'sleep 1; sprout-sdnotify STATUS=starting; sprout-sdnotify READY=1; sleep 100' "$CID"
	local sock=$TMPDIR_IT/$CID.notify start end
	recv_start "$sock" --notify
	start=$(date +%s%N)
	NOTIFY_SOCKET=$sock rt run -d -b "$BUNDLE" "$CID"
	end=$(date +%s%N)
	expect_ok "run -d with NOTIFY_SOCKET" || return
	[ $(((end - start) / 1000000)) -ge 900 ] || fail "run -d returned before READY=1 ($(((end - start) / 1000000)) ms)"
	recv_wait
	state "$CID"
	expect_eq "$RECV_RC" 0 "READY=1 arrived on the caller's socket"
	expect_match "$RECV" '^STATUS=starting$' "messages before READY are passed on"
	expect_match "$RECV" '^READY=1$' "READY=1"
	expect_eq "$(pv MAINPID "$RECV")" "$(jq -r .pid <<<"$STATE")" "MAINPID: the init's host pid"
	expect_match "$(tr '\0' '\n' <"/proc/$(jq -r .pid <<<"$STATE")/environ")" \
		'^NOTIFY_SOCKET=/run/notify/notify.sock$' "NOTIFY_SOCKET in the workload's environment"
	rt exec "$CID" stat -c %F /run/notify/notify.sock
	expect_eq "$OUT" socket "/run/notify/notify.sock inside"
	force_delete "$CID"
	leftovers_after "$CID"
}
t "NOTIFY_SOCKET: READY=1 reaches the caller with MAINPID; run -d waits for it" t_notify

t_notify_start() {
	new_container --copy
	cfg '.root.readonly = false'
	set_args sh -c 'sleep 0.5; sprout-sdnotify READY=1; sleep 100' "$CID"
	local sock=$TMPDIR_IT/$CID.notify
	recv_start "$sock" --notify
	NOTIFY_SOCKET=$sock rt create -b "$BUNDLE" "$CID"
	expect_ok "create with NOTIFY_SOCKET" || return
	NOTIFY_SOCKET=$sock rt start "$CID"
	expect_ok "start with NOTIFY_SOCKET"
	# start returned after READY: the receiver has it already
	grep -qx 'READY=1' "$sock.out" || fail "start returned before READY=1 was passed on"
	recv_wait
	expect_eq "$RECV_RC" 0 "READY=1 arrived"
	force_delete "$CID"
	leftovers_after "$CID"
}
t "NOTIFY_SOCKET with create + start: start returns once READY=1 is passed on" t_notify_start

t_listen_fds() {
	new_container
	set_args sh -c 'sprout-probe fds; sprout-probe env | grep ^LISTEN_; cat <&3 <&4; cat <&5'
	local f=$TMPDIR_IT/$CID.fd
	echo data >"$f"
	_IO_COUNTER=$((_IO_COUNTER + 1))
	local o=$TMPDIR_IT/io/$_IO_COUNTER.out
	timeout 30 sh -c 'LISTEN_PID=$$ LISTEN_FDS=2 LISTEN_FDNAMES=a:b exec "$@"' sh \
		"$SPROUT" --root "$ROOT" run -b "$BUNDLE" --preserve-fds 1 "$CID" \
		3<"$f" 4<"$f" 5<"$f" 6<"$f" </dev/null >"$o" 2>&1
	RC=$? OUT=$(cat "$o") ERR=
	expect_ok "run with LISTEN_FDS=2 and --preserve-fds 1"
	expect_match "$OUT" "^fd=3 $f\$" "fd 3 (LISTEN_FDS)"
	expect_match "$OUT" "^fd=4 $f\$" "fd 4 (LISTEN_FDS)"
	expect_match "$OUT" "^fd=5 $f\$" "fd 5 (--preserve-fds after the listen fds)"
	expect_no_match "$OUT" "^fd=6 " "fd 6 closed"
	expect_eq "$(pv LISTEN_FDS)" 2 "LISTEN_FDS inside"
	expect_eq "$(pv LISTEN_PID)" 1 "LISTEN_PID: the workload's own pid (1)"
	expect_eq "$(pv LISTEN_FDNAMES)" a:b "LISTEN_FDNAMES passed through"
	expect_match "$OUT" '^data$' "the fds are readable"
	# LISTEN_PID of another process: not for us, nothing passed
	timeout 30 sh -c 'LISTEN_PID=1 LISTEN_FDS=2 exec "$@"' sh \
		"$SPROUT" --root "$ROOT" run -b "$BUNDLE" "$CID" 3<"$f" 4<"$f" </dev/null >"$o" 2>&1
	OUT=$(cat "$o")
	expect_no_match "$OUT" "^fd=3 " "fd 3 with LISTEN_PID not ours"
	expect_no_match "$OUT" "^LISTEN_" "LISTEN_* with LISTEN_PID not ours"
	leftovers_after "$CID"
}
t "LISTEN_FDS/LISTEN_PID for socket activation, with --preserve-fds" t_listen_fds

t_stdio_as_given() {
	new_container
	set_args sprout-probe fds
	rt run -b "$BUNDLE" "$CID"
	expect_ok run
	expect_match "$OUT" "^fd=1 $OUT_FILE\$" "the workload's stdout is run's stdout"
	expect_match "$OUT" "^fd=2 $ERR_FILE\$" "the workload's stderr is run's stderr"
	expect_match "$OUT" "^fd=0 /dev/null\$" "the workload's stdin is run's stdin"
	expect_eq "$(grep -c '^fd=' <<<"$OUT")" 3 "no other fd"
	leftovers_after "$CID"
}
t "stdio of the workload: exactly what run was given" t_stdio_as_given

t "no container of this file left anything behind" true
done_testing
