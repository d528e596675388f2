# bash completion for sprout(8)                              -*- shell-script -*-
#
# Completes global options, commands (and `help COMMAND`), each command's
# options and their values; container ids (from `sprout list -q`, with any --root given earlier
# on the line) for start, state, kill and delete; signal names for kill;
# directories for --root and --bundle; files for --log and --pid-file.
# Self-contained: it does not need the bash-completion package's helpers.

_sprout_global_opts='--root --log --log-format --debug --systemd-cgroup
  --rootless --cgroup-manager --version -v --help -h'
_sprout_commands='create start run state list kill delete spec help'

# Options of each command; those taking a value are listed again below.
_sprout_cmd_opts() {
  case $1 in
    create) echo '--bundle -b --pid-file --console-socket --no-pivot
                  --no-new-keyring --preserve-fds --help' ;;
    run) echo '--bundle -b --pid-file --console-socket --no-pivot
               --no-new-keyring --preserve-fds --detach -d --help' ;;
    list) echo '--format -f --quiet -q --help' ;;
    kill) echo '--all -a --help' ;;
    delete) echo '--force -f --help' ;;
    spec) echo '--bundle -b --rootless --help' ;;
    *) echo '--help' ;;
  esac
}

# Does option $2 of command $1 ("" for the global options) take a value?
_sprout_takes_value() {
  case $1:$2 in
    :--root | :--log | :--log-format | :--rootless | :--cgroup-manager) return 0 ;;
    create:--bundle | create:-b | create:--pid-file | create:--console-socket | \
      create:--preserve-fds) return 0 ;;
    run:--bundle | run:-b | run:--pid-file | run:--console-socket | \
      run:--preserve-fds) return 0 ;;
    spec:--bundle | spec:-b) return 0 ;;
    list:--format | list:-f) return 0 ;;
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
      --root | --bundle | -b) _sprout_files dirs "$cur" ;;
      --log | --pid-file | --console-socket) _sprout_files files "$cur" ;;
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
    start:0 | state:0 | kill:0 | delete:0)
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
