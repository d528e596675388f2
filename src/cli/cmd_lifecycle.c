/* create, run, start, kill, delete. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "sprout/parse.h"

enum { O_PIDFILE = 256, O_CONSOLE, O_NOPIVOT, O_NOKEYRING, O_PRESERVE, O_OVERLAY,
       O_LOWER };

static const struct option create_opts[] = {
    {"bundle", required_argument, NULL, 'b'},
    {"pid-file", required_argument, NULL, O_PIDFILE},
    {"console-socket", required_argument, NULL, O_CONSOLE},
    {"no-pivot", no_argument, NULL, O_NOPIVOT},
    {"no-new-keyring", no_argument, NULL, O_NOKEYRING},
    {"preserve-fds", required_argument, NULL, O_PRESERVE},
    {"detach", no_argument, NULL, 'd'},
    {"overlay", optional_argument, NULL, O_OVERLAY},
    {"lower", required_argument, NULL, O_LOWER},
    {0}};

static int create_flag(int opt, const char *arg, void *data, struct sp_error *err) {
  struct sp_create_opts *o = data;
  switch (opt) {
  case 'b': o->bundle = arg; break;
  case O_PIDFILE: o->pid_file = arg; break;
  case O_CONSOLE: o->console_socket = arg; break;
  case O_NOPIVOT: o->no_pivot = true; break;
  case O_NOKEYRING: o->no_new_keyring = true; break;
  case O_PRESERVE:
    if (sp_parse_int(arg, &o->preserve_fds) < 0 || o->preserve_fds < 0)
      return sp_error_set(err, 0, "--preserve-fds: expected a number >= 0, got \"%s\"", arg);
    break;
  case 'd': o->detach = true; break;
  case O_OVERLAY:
    o->overlay = true;
    o->overlay_dir = arg; /* --overlay=DIR; plain --overlay: a tmpfs */
    break;
  case O_LOWER: {
    if (!*arg)
      return sp_error_set(err, 0, "--lower: needs a directory");
    const char **l = realloc(o->lower, (o->lower_len + 1) * sizeof *l);
    if (!l)
      return sp_error_set(err, 0, "--lower: out of memory");
    o->lower = l;
    o->lower[o->lower_len++] = arg;
    break;
  }
  }
  return 0;
}

static int parse_create(const char *cmd, int argc, char **argv,
                        struct sp_create_opts *o, const char **id,
                        struct sp_error *err) {
  int first;
  /* run has -d/--detach; create does not */
  const char *so = strcmp(cmd, "run") ? "b:" : "b:d";
  int r = cli_parse(cmd, argc, argv, so, create_opts, create_flag, o, &first, err);
  if (r != 0)
    return r;
  if (o->detach && strcmp(cmd, "run"))
    return sp_error_set(err, 0, "unknown option \"--detach\"");
  if (cli_want_id(cmd, argc, argv, first, id, err) < 0)
    return -1;
  o->id = *id;
  return 0;
}

int cmd_create(const struct sp_global *g, int argc, char **argv,
               const char **id, struct sp_error *err) {
  struct sp_create_opts o = {0};
  int r = parse_create("create", argc, argv, &o, id, err);
  if (r == 0)
    r = sp_container_create(g, &o, err);
  else
    r = r < 0 ? -1 : 0;
  free(o.lower);
  return r;
}

int cmd_run(const struct sp_global *g, int argc, char **argv, const char **id,
            struct sp_error *err) {
  struct sp_create_opts o = {0};
  int r = parse_create("run", argc, argv, &o, id, err);
  if (r == 0)
    r = sp_container_run(g, &o, err);
  else
    r = r < 0 ? -1 : 0;
  free(o.lower);
  return r;
}

static int no_flag(int opt, const char *arg, void *data, struct sp_error *err) {
  return 0;
}

int cmd_start(const struct sp_global *g, int argc, char **argv, const char **id,
              struct sp_error *err) {
  int first;
  int r = cli_parse("start", argc, argv, "", NULL, no_flag, NULL, &first, err);
  if (r != 0)
    return r < 0 ? -1 : 0;
  if (cli_want_id("start", argc, argv, first, id, err) < 0)
    return -1;
  return sp_container_start(g, *id, err);
}

static int bool_flag(int opt, const char *arg, void *data, struct sp_error *err) {
  *(bool *)data = true;
  return 0;
}

int cmd_kill(const struct sp_global *g, int argc, char **argv, const char **id,
             struct sp_error *err) {
  static const struct option lo[] = {{"all", no_argument, NULL, 'a'}, {0}};
  bool all = false;
  int first;
  int r = cli_parse("kill", argc, argv, "a", lo, bool_flag, &all, &first, err);
  if (r != 0)
    return r < 0 ? -1 : 0;
  if (first >= argc)
    return sp_error_set(err, 0, "a container id is required (see 'sprout kill --help')");
  *id = argv[first];
  if (sp_id_validate(*id, err) < 0)
    return -1;
  int sig = SIGTERM;
  if (argc - first > 2)
    return sp_error_set(err, 0, "unexpected argument \"%s\"", argv[first + 2]);
  if (argc - first == 2 && sp_signal_parse(argv[first + 1], &sig, err) < 0)
    return -1;
  return sp_container_kill(g, *id, sig, all, err);
}

int cmd_delete(const struct sp_global *g, int argc, char **argv,
               const char **id, struct sp_error *err) {
  static const struct option lo[] = {{"force", no_argument, NULL, 'f'}, {0}};
  bool force = false;
  int first;
  int r = cli_parse("delete", argc, argv, "f", lo, bool_flag, &force, &first, err);
  if (r != 0)
    return r < 0 ? -1 : 0;
  if (cli_want_id("delete", argc, argv, first, id, err) < 0)
    return -1;
  return sp_container_delete(g, *id, force, err);
}
