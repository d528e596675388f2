/* sprout: global flags, dispatch, help and version.  Only this file prints
 * errors: one line "sprout: CMD ID: what went wrong". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "sprout/parse.h"
#include "sprout/spec.h"
#include "sprout/timeline.h"
#include "sprout/userns.h"
#include "sprout/util.h"

#define GLOBAL_USAGE                                                          \
  "Usage: sprout [GLOBAL OPTIONS] COMMAND [OPTIONS] [ARGS]\n"                 \
  "\n"                                                                        \
  "sprout is a lightweight OCI container runtime with runc's command line.\n" \
  "\n"                                                                        \
  "Global options:\n"                                                         \
  "  --root DIR             state directory (default /run/sprout)\n"          \
  "  --log FILE             write log records to FILE\n"                      \
  "  --log-format FORMAT    text (default) or json\n"                         \
  "  --debug                log debug records\n"                              \
  "  --systemd-cgroup       accepted for compatibility; the systemd driver\n" \
  "                         is not supported\n"                               \
  "  --rootless VALUE       true, false or auto (default: rootless when not\n" \
  "                         root): skip cgroups not delegated to the user\n" \
  "  --cgroup-manager NAME  cgroupfs (default) or disabled\n"                 \
  "  -v, --version          print the version\n"                              \
  "  -h, --help             print this help\n"                                \
  "\n"                                                                        \
  "Commands:\n"

const struct cli_command cli_commands[] = {
    {"create", "create a container, leaving its init waiting for start",
     "sprout create [--bundle DIR] [--pid-file FILE] [--console-socket PATH]\n"
     "              [--no-pivot] [--no-new-keyring] [--preserve-fds N]\n"
     "              [--overlay[=DIR] [--lower DIR]...] ID\n\n"
     "  -b, --bundle DIR        the bundle holding config.json (default: .)\n"
     "      --pid-file FILE     write the init's host pid to FILE\n"
     "      --console-socket P  send the pty master to the unix socket P\n"
     "      --no-pivot          MS_MOVE + chroot instead of pivot_root\n"
     "      --no-new-keyring    keep the caller's session keyring\n"
     "      --preserve-fds N    pass fds 3..3+N-1 to the container\n"
     "      --overlay[=DIR]     root = an overlay over root.path; writes go to a\n"
     "                          tmpfs (gone on delete) or to DIR/upper (kept)\n"
     "      --lower DIR         an extra read-only layer below root.path\n"
     "                          (repeatable, top first)\n",
     cmd_create},
    {"start", "start the workload of a created container",
     "sprout start ID\n", cmd_start},
    {"run", "create and start a container, wait for it and remove it",
     "sprout run [--bundle DIR] [--pid-file FILE] [--console-socket PATH]\n"
     "           [--detach] [--no-pivot] [--no-new-keyring] [--preserve-fds N]\n"
     "           [--overlay[=DIR] [--lower DIR]...] ID\n\n"
     "  -b, --bundle DIR        the bundle holding config.json (default: .)\n"
     "  -d, --detach            return once the container runs\n"
     "      --pid-file FILE     write the init's host pid to FILE\n"
     "      --console-socket P  send the pty master to the unix socket P\n"
     "      --no-pivot          MS_MOVE + chroot instead of pivot_root\n"
     "      --no-new-keyring    keep the caller's session keyring\n"
     "      --preserve-fds N    pass fds 3..3+N-1 to the container\n"
     "      --overlay[=DIR]     root = an overlay over root.path; writes go to a\n"
     "                          tmpfs (gone on delete) or to DIR/upper (kept)\n"
     "      --lower DIR         an extra read-only layer below root.path\n"
     "                          (repeatable, top first)\n\n"
     "In the foreground, signals are forwarded to the container and sprout\n"
     "exits with its status (128+N when it was killed by signal N).\n",
     cmd_run},
    {"exec", "run a new process in a running container",
     "sprout exec [OPTIONS] ID ARGS...\n"
     "       sprout exec [OPTIONS] --process FILE ID\n\n"
     "  -p, --process FILE        the process as runtime-spec JSON (config.json's\n"
     "                            .process); fields it leaves out of capabilities,\n"
     "                            rlimits, labels come from the container\n"
     "  -t, --tty                 allocate a pseudo-terminal\n"
     "  -d, --detach              return once the process runs\n"
     "      --pid-file FILE       write the process's host pid to FILE\n"
     "      --console-socket P    send the pty master to the unix socket P\n"
     "      --cwd DIR             working directory inside the container\n"
     "  -e, --env KEY=VALUE       set an environment variable (repeatable)\n"
     "  -u, --user UID[:GID]      run as this user\n"
     "  -g, --additional-gids G   supplementary groups (repeatable)\n"
     "  -c, --cap CAP             add a capability (repeatable)\n"
     "      --no-new-privs        set no_new_privs\n"
     "      --process-label L     SELinux label of the process\n"
     "      --apparmor PROFILE    AppArmor profile of the process\n"
     "      --preserve-fds N      pass fds 3..3+N-1 to the process\n"
     "      --cgroup [CTRL:]PATH  an existing sub-cgroup of the container's\n"
     "      --ignore-paused       exec even if the container is paused\n\n"
     "In the foreground, signals are forwarded to the process and sprout exits\n"
     "with its status (128+N when it was killed by signal N).\n",
     cmd_exec},
    {"state", "print the state of a container as JSON", "sprout state ID\n",
     cmd_state},
    {"list", "list containers",
     "sprout list [--format table|json] [--quiet]\n\n"
     "  -f, --format FORMAT  table (default) or json\n"
     "  -q, --quiet          print the ids only\n",
     cmd_list},
    {"kill", "send a signal to a container's init",
     "sprout kill [--all] ID [SIGNAL]\n\n"
     "SIGNAL is a name (TERM, SIGTERM) or a number (15); default SIGTERM.\n"
     "  -a, --all  signal every process of the container\n",
     cmd_kill},
    {"delete", "remove a container",
     "sprout delete [--force] ID\n\n"
     "  -f, --force  kill a running container first\n",
     cmd_delete},
    {"spec", "write a default config.json",
     "sprout spec [--bundle DIR] [--rootless]\n\n"
     "  -b, --bundle DIR  where to write config.json (default: .)\n"
     "      --rootless    a config for an unprivileged user\n",
     cmd_spec},
    {"features", "print the features this runtime implements, as JSON",
     "sprout features\n\n"
     "Prints runtime-spec's features document: the spec versions, hooks,\n"
     "mount options, namespaces, capabilities, cgroup drivers, seccomp actions,\n"
     "operators, architectures and flags (supportedFlags: accepted by the\n"
     "running kernel), AppArmor, SELinux and idmapped mounts.\n",
     cmd_features},
    {"update", "change the resource limits of a running container",
     "sprout update [--resources FILE|-] [OPTIONS] ID\n\n"
     "  -r, --resources FILE        a linux.resources JSON object (- for stdin);\n"
     "                              not combined with the options below\n"
     "      --memory SIZE           memory limit (512m, 1g; -1 for none)\n"
     "      --memory-reservation SIZE  soft limit (memory.low on cgroup v2)\n"
     "      --memory-swap SIZE      memory + swap limit (-1 for unlimited swap)\n"
     "      --kernel-memory SIZE    deprecated, ignored\n"
     "      --kernel-memory-tcp SIZE  kernel TCP buffer limit (cgroup v1)\n"
     "      --cpu-share N           CPU shares (cpu.weight on cgroup v2)\n"
     "      --cpu-quota US          CFS quota per period (-1 for none)\n"
     "      --cpu-period US         CFS period\n"
     "      --cpu-rt-runtime US     realtime runtime (cgroup v1)\n"
     "      --cpu-rt-period US      realtime period (cgroup v1)\n"
     "      --cpuset-cpus LIST      CPUs to use (0-3,7)\n"
     "      --cpuset-mems LIST      memory nodes to use\n"
     "      --pids-limit N          maximum number of tasks (-1 for none)\n"
     "      --blkio-weight N        block I/O weight, 10 to 1000\n"
     "      --l3-cache-schema S, --mem-bw-schema S  Intel RDT: refused\n",
     cmd_update},
    {"pause", "suspend every process of a container",
     "sprout pause ID\n\n"
     "Freezes the container's cgroup (cgroup.freeze on v2, the v1 freezer);\n"
     "state reports \"paused\" until resume.\n",
     cmd_pause},
    {"resume", "resume the processes of a paused container",
     "sprout resume ID\n", cmd_resume},
    {"ps", "list the processes of a container",
     "sprout ps [--format table|json] ID\n\n"
     "  -f, --format FORMAT  table (default: like ps -ef) or json (an array of\n"
     "                       the host pids in the container's cgroup)\n",
     cmd_ps},
    {"events", "print a container's statistics and OOM events as JSON",
     "sprout events [--stats] [--interval DURATION] ID\n\n"
     "      --stats          print the statistics once and exit\n"
     "      --interval D     how often to print statistics (default 5s)\n\n"
     "Without --stats, prints a stats event every interval and an oom event\n"
     "when the kernel kills a process of the container for lack of memory,\n"
     "until the container stops.\n",
     cmd_events},
    {NULL, NULL, NULL, NULL},
};

static const struct cli_command *find_command(const char *name) {
  for (const struct cli_command *c = cli_commands; c->name; c++)
    if (!strcmp(c->name, name))
      return c;
  return NULL;
}

int cli_help(const char *name) {
  const struct cli_command *c = find_command(name);
  if (!c)
    return -1;
  printf("Usage: %s\n%s.\n", c->usage, c->summary);
  return 0;
}

static void usage(FILE *f) {
  fputs(GLOBAL_USAGE, f);
  for (const struct cli_command *c = cli_commands; c->name; c++)
    fprintf(f, "  %-8s %s\n", c->name, c->summary);
  fputs("  help     show the help of a command\n"
        "\nRun 'sprout help COMMAND' for a command's options.\n", f);
}

static void version(void) {
  printf("sprout version %s\n"
         "commit: %s\n"
         "spec: %s\n"
         "libseccomp: %s\n"
         "+SECCOMP +CAP +CGROUP_V1 +CGROUP_V2 +OPENAT2 +CLONE3 +PIDFD\n",
         SPROUT_VERSION, SPROUT_COMMIT, SP_SPEC_VERSION, SPROUT_LIBSECCOMP_VERSION);
}

int cli_parse(const char *cmd, int argc, char **argv, const char *shortopts,
              const struct option *longopts, cli_flag_fn fn, void *data,
              int *first_operand, struct sp_error *err) {
  optind = 0; /* full reinitialisation */
  opterr = 0;
  char so[64];
  snprintf(so, sizeof so, "+:h%s", shortopts);
  struct option lo[32];
  size_t n = 0;
  for (; longopts && longopts[n].name && n < 30; n++)
    lo[n] = longopts[n];
  lo[n++] = (struct option){"help", no_argument, NULL, 'h'};
  lo[n] = (struct option){0};
  int opt;
  while ((opt = getopt_long(argc, argv, so, lo, NULL)) != -1) {
    if (opt == 'h') {
      cli_help(cmd);
      return 1;
    }
    if (opt == '?')
      return sp_error_set(err, 0, "unknown option \"%s\" (see 'sprout %s --help')",
                          argv[optind - 1], cmd);
    if (opt == ':')
      return sp_error_set(err, 0, "option \"%s\" needs a value", argv[optind - 1]);
    if (fn(opt, optarg, data, err) < 0)
      return -1;
  }
  *first_operand = optind;
  return 0;
}

int cli_want_id(const char *cmd, int argc, char **argv, int first,
                const char **id, struct sp_error *err) {
  if (first >= argc)
    return sp_error_set(err, 0, "a container id is required (see 'sprout %s --help')", cmd);
  *id = argv[first];
  if (argc - first > 1)
    return sp_error_set(err, 0, "unexpected argument \"%s\"", argv[first + 1]);
  return sp_id_validate(*id, err);
}

#ifdef SP_TIMELINE
static void mark_end(void) { SP_MARK("end"); }
#endif

int main(int argc, char **argv) {
  SP_MARK("main");
#ifdef SP_TIMELINE
  atexit(mark_end);
#endif
  struct sp_global g = {.root = NULL};
  const char *log_file = NULL, *log_format = "text";
  struct sp_error err = {0};
  enum { O_ROOT = 256, O_LOG, O_LOGFMT, O_DEBUG, O_SYSTEMD, O_ROOTLESS, O_CGMGR };
  static const struct option lo[] = {
      {"root", required_argument, NULL, O_ROOT},
      {"log", required_argument, NULL, O_LOG},
      {"log-format", required_argument, NULL, O_LOGFMT},
      {"debug", no_argument, NULL, O_DEBUG},
      {"systemd-cgroup", no_argument, NULL, O_SYSTEMD},
      {"rootless", required_argument, NULL, O_ROOTLESS},
      {"cgroup-manager", required_argument, NULL, O_CGMGR},
      {"version", no_argument, NULL, 'v'},
      {"help", no_argument, NULL, 'h'},
      {0}};
  opterr = 0;
  int opt;
  while ((opt = getopt_long(argc, argv, "+:vh", lo, NULL)) != -1) {
    switch (opt) {
    case O_ROOT: g.root = optarg; break;
    case O_LOG: log_file = optarg; break;
    case O_LOGFMT: log_format = optarg; break;
    case O_DEBUG: g.debug = true; break;
    case O_SYSTEMD: g.systemd_cgroup = true; break;
    case O_ROOTLESS:
      if (strcmp(optarg, "true") && strcmp(optarg, "false") && strcmp(optarg, "auto")) {
        sp_error_set(&err, 0, "--rootless: expected true, false or auto, got \"%s\"", optarg);
        goto fail;
      }
      g.rootless = !strcmp(optarg, "true")    ? SP_ROOTLESS_TRUE
                   : !strcmp(optarg, "false") ? SP_ROOTLESS_FALSE
                                              : SP_ROOTLESS_AUTO;
      break;
    case O_CGMGR:
      /* checked here, not only by create: a typo must not pass silently */
      if (strcmp(optarg, "cgroupfs") && strcmp(optarg, "disabled") && strcmp(optarg, "systemd")) {
        sp_error_set(&err, 0, "--cgroup-manager: unknown manager \"%s\" (cgroupfs or disabled)",
                     optarg);
        goto fail;
      }
      g.cgroup_manager = optarg;
      break;
    case 'v': version(); return 0;
    case 'h': usage(stdout); return 0;
    case ':':
      sp_error_set(&err, 0, "option \"%s\" needs a value", argv[optind - 1]);
      goto fail;
    default:
      sp_error_set(&err, 0, "unknown global option \"%s\" (see 'sprout --help')",
                   argv[optind - 1]);
      goto fail;
    }
  }
  if (sp_log_open(log_file, log_format, g.debug, &err) < 0)
    goto fail;
  if (optind >= argc) {
    usage(stderr);
    return 1;
  }
  const char *name = argv[optind];
  if (!strcmp(name, "help")) {
    if (optind + 1 >= argc) {
      usage(stdout);
      return 0;
    }
    if (cli_help(argv[optind + 1]) < 0) {
      sp_error_set(&err, 0, "unknown command \"%s\"", argv[optind + 1]);
      goto fail;
    }
    return 0;
  }
  const struct cli_command *cmd = find_command(name);
  if (!cmd) {
    sp_error_set(&err, 0, "unknown command \"%s\" (see 'sprout --help')", name);
    goto fail;
  }
  /* the state root: /run/sprout, or $XDG_RUNTIME_DIR/sprout for a user */
  static char *default_root;
  if (!g.root) {
    if (sp_state_root_default(&default_root, &err) == 0)
      g.root = default_root;
    else if (strcmp(name, "spec") && strcmp(name, "features")) {
      sp_error_prefix(&err, "%s", name);
      goto fail;
    } else
      sp_error_clear(&err);
  }
  const char *id = NULL;
  int r = cmd->run(&g, argc - optind, argv + optind, &id, &err);
  if (r >= 0)
    return r;
  if (id)
    sp_error_prefix(&err, "%s %s", name, id);
  else
    sp_error_prefix(&err, "%s", name);
fail:
  if (sp_log_fd() < 0 && log_file) {
    /* a bad global flag after --log: the client reads its error there */
    struct sp_error ignored = {0};
    (void)sp_log_open(log_file, log_format, g.debug, &ignored);
  }
  sp_log_fatal(err.msg);
  return 1;
}
