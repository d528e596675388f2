# bash completion for sprout(8)                              -*- shell-script -*-
#
# Completes global options, commands (and `help COMMAND`), each command's
# options and their values; container ids (from `sprout list -q`, with any --root given earlier
# on the line) for start, state, kill, delete, exec, update, pause, resume, ps
# and events; signal names for kill;
# capability names for exec --cap;
# directories for --root and --bundle; files for --log and --pid-file.
# Self-contained: it does not need the bash-completion package's helpers.

_sprout_global_opts='--root --log --log-format --debug --systemd-cgroup
  --rootless --cgroup-manager --version -v --help -h'
_sprout_commands='create start run exec state list kill delete spec features
  update pause resume ps events help'

# Options of each command; those taking a value are listed again below.
_sprout_cmd_opts() {
  case $1 in
    create) echo '--bundle -b --pid-file --console-socket --no-pivot
                  --no-new-keyring --preserve-fds --overlay --overlay= --lower --help' ;;
    run) echo '--bundle -b --pid-file --console-socket --no-pivot
               --no-new-keyring --preserve-fds --overlay --overlay= --lower
               --detach -d --help' ;;
    exec) echo '--process -p --tty -t --detach -d --pid-file --console-socket
                --cwd --env -e --user -u --additional-gids -g --cap -c
                --no-new-privs --process-label --apparmor --preserve-fds
                --cgroup --ignore-paused --help' ;;
    list) echo '--format -f --quiet -q --help' ;;
    kill) echo '--all -a --help' ;;
    delete) echo '--force -f --help' ;;
    spec) echo '--bundle -b --rootless --help' ;;
    update) echo '--resources -r --memory --memory-reservation --memory-swap
                  --kernel-memory --kernel-memory-tcp --cpu-share --cpu-quota
                  --cpu-period --cpu-rt-runtime --cpu-rt-period --cpuset-cpus
                  --cpuset-mems --pids-limit --blkio-weight --l3-cache-schema
                  --mem-bw-schema --help' ;;
    ps) echo '--format -f --help' ;;
    events) echo '--stats --interval --help' ;;
    *) echo '--help' ;;
  esac
}

# Does option $2 of command $1 ("" for the global options) take a value?
_sprout_takes_value() {
  case $1:$2 in
    :--root | :--log | :--log-format | :--rootless | :--cgroup-manager) return 0 ;;
    create:--bundle | create:-b | create:--pid-file | create:--console-socket | \
      create:--preserve-fds | create:--lower) return 0 ;;
    run:--bundle | run:-b | run:--pid-file | run:--console-socket | \
      run:--preserve-fds | run:--lower) return 0 ;;
    exec:--process | exec:-p | exec:--pid-file | exec:--console-socket | \
      exec:--cwd | exec:--env | exec:-e | exec:--user | exec:-u | \
      exec:--additional-gids | exec:-g | exec:--cap | exec:-c | \
      exec:--process-label | exec:--apparmor | exec:--preserve-fds | \
      exec:--cgroup) return 0 ;;
    spec:--bundle | spec:-b) return 0 ;;
    list:--format | list:-f) return 0 ;;
    ps:--format | ps:-f) return 0 ;;
    events:--interval) return 0 ;;
    update:--resources | update:-r | update:--memory | update:--memory-reservation | \
      update:--memory-swap | update:--kernel-memory | update:--kernel-memory-tcp | \
      update:--cpu-share | update:--cpu-quota | update:--cpu-period | \
      update:--cpu-rt-runtime | update:--cpu-rt-period | update:--cpuset-cpus | \
      update:--cpuset-mems | update:--pids-limit | update:--blkio-weight | \
      update:--l3-cache-schema | update:--mem-bw-schema) return 0 ;;
  esac
  return 1
}

# shellcheck disable=SC2086 # the list is split on purpose
_sprout_signals() {
  local s names='HUP INT QUIT ILL TRAP ABRT IOT BUS FPE KILL USR1 SEGV USR2
    PIPE ALRM TERM STKFLT CHLD CLD CONT STOP TSTP TTIN TTOU URG XCPU XFSZ
    VTALRM PROF WINCH IO POLL PWR SYS RTMIN RTMAX'
  if [[ ${1^^} == SIG* ]]; then
    for s in $names; do printf 'SIG%s\n' "$s"; done
  else
    printf '%s\n' $names
  fi
}

# Capability names for exec --cap.
_sprout_caps() {
  local c
  for c in CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID \
    SETPCAP LINUX_IMMUTABLE NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW \
    IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO SYS_CHROOT SYS_PTRACE SYS_PACCT \
    SYS_ADMIN SYS_BOOT SYS_NICE SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG MKNOD \
    LEASE AUDIT_WRITE AUDIT_CONTROL SETFCAP MAC_OVERRIDE MAC_ADMIN SYSLOG \
    WAKE_ALARM BLOCK_SUSPEND AUDIT_READ PERFMON BPF CHECKPOINT_RESTORE; do
    printf 'CAP_%s\n' "$c"
  done
}

# COMPREPLY = the words of list $2 (one per line) that start with $1.
_sprout_reply() {
  local IFS=$'\n'
  mapfile -t COMPREPLY < <(compgen -W "$2" -- "$1")
}

_sprout_files() {
  local IFS=$'\n'
  compopt -o filenames 2>/dev/null
  if [[ $1 == dirs ]]; then
    mapfile -t COMPREPLY < <(compgen -d -- "$2")
  else
    mapfile -t COMPREPLY < <(compgen -f -- "$2")
  fi
}

_sprout_unquote() {
  local v=$1
  v=${v#\"}; v=${v%\"}; v=${v#\'}; v=${v%\'}
  [[ $v == \~* ]] && v=$HOME${v#\~}
  printf '%s' "$v"
}

# shellcheck disable=SC2086,SC2046 # word lists are split on purpose
_sprout() {
  local -a words=("${COMP_WORDS[@]}")
  local cword=$COMP_CWORD
  local cur=${words[cword]} prev=${words[cword - 1]}
  local cmd='' root='' pfx='' w opt i=1 npos=0

  # "--opt=value" may arrive as three words when '=' breaks words.
  if [[ $cur == = ]]; then
    prev=${words[cword - 1]}
    cur=''
  elif [[ $prev == = ]]; then
    prev=${words[cword - 2]}
  elif [[ $cur == --*=* ]]; then
    # '=' is not a word break here: the word is replaced whole, so the
    # matches must carry the "--opt=" part again.
    prev=${cur%%=*}
    pfx=$prev=
    cur=${cur#*=}
  fi

  # --overlay takes its DIR only in the form --overlay=DIR.
  if [[ $prev == --overlay ]] &&
    [[ -n $pfx || ${words[cword]} == = || ${words[cword - 1]} == = ]]; then
    _sprout_files dirs "$cur"
    [[ -n $pfx ]] && COMPREPLY=("${COMPREPLY[@]/#/$pfx}")
    return 0
  fi

  # Walk the words before the cursor: global options, the command, and the
  # number of arguments given to the command so far.
  while ((i < cword)); do
    w=${words[i]}
    if [[ $w == --*=* ]]; then
      opt=${w%%=*}
      [[ -z $cmd && $opt == --root ]] && root=$(_sprout_unquote "${w#*=}")
      ((i++))
      continue
    fi
    if [[ $w == -* ]]; then
      if _sprout_takes_value "$cmd" "$w"; then
        ((i++))
        [[ ${words[i]} == = ]] && ((i++))
        if ((i < cword)) && [[ -z $cmd && $w == --root ]]; then
          root=$(_sprout_unquote "${words[i]}")
        fi
      fi
      ((i++))
      continue
    fi
    if [[ -z $cmd ]]; then
      cmd=$w
    else
      ((npos++))
    fi
    ((i++))
  done

  # The value of an option.
  if [[ $prev == -* ]] && _sprout_takes_value "$cmd" "$prev"; then
    case $prev in
      --root | --bundle | -b | --lower) _sprout_files dirs "$cur" ;;
      --log | --pid-file | --console-socket | --process | -p | --resources | -r)
        _sprout_files files "$cur" ;;
      --interval) _sprout_reply "$cur" "$(printf '%s\n' 1s 5s 30s 1m)" ;;
      --cap | -c) # CAP_NET_RAW or NET_RAW
        _sprout_reply "${cur^^}" "$(_sprout_caps; _sprout_caps | sed 's/^CAP_//')" ;;
      --log-format) _sprout_reply "$cur" "$(printf '%s\n' text json)" ;;
      --rootless) _sprout_reply "$cur" "$(printf '%s\n' true false auto)" ;;
      --cgroup-manager) _sprout_reply "$cur" "$(printf '%s\n' cgroupfs disabled)" ;;
      --format | -f) _sprout_reply "$cur" "$(printf '%s\n' table json)" ;;
      *) COMPREPLY=() ;;
    esac
    [[ -n $pfx ]] && COMPREPLY=("${COMPREPLY[@]/#/$pfx}")
    return 0
  fi

  if [[ -z $cmd ]]; then
    if [[ $cur == -* ]]; then
      _sprout_reply "$cur" "$(printf '%s\n' $_sprout_global_opts)"
    else
      _sprout_reply "$cur" "$(printf '%s\n' $_sprout_commands)"
    fi
    return 0
  fi

  if [[ $cur == -* ]]; then
    _sprout_reply "$cur" "$(printf '%s\n' $(_sprout_cmd_opts "$cmd"))"
    return 0
  fi

  case $cmd:$npos in
    start:0 | state:0 | kill:0 | delete:0 | exec:0 | update:0 | pause:0 | \
      resume:0 | ps:0 | events:0)
      _sprout_reply "$cur" "$("$(_sprout_unquote "${words[0]}")" \
        ${root:+--root "$root"} list -q 2>/dev/null)"
      ;;
    help:0)
      _sprout_reply "$cur" "$(printf '%s\n' $_sprout_commands)"
      ;;
    kill:1)
      _sprout_reply "${cur^^}" "$(_sprout_signals "$cur")"
      ;;
    *) COMPREPLY=() ;;
  esac
  return 0
}

complete -F _sprout sprout
