/* exec: run a new process in a container. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "sprout/exec.h"
#include "sprout/parse.h"

enum {
  O_CONSOLE = 256, O_PIDFILE, O_CWD, O_NNP, O_LABEL, O_APPARMOR, O_PRESERVE,
  O_CGROUP, O_IGNPAUSED,
};

static const struct option exec_opts[] = {
    {"process", required_argument, NULL, 'p'},
    {"tty", no_argument, NULL, 't'},
    {"detach", no_argument, NULL, 'd'},
    {"pid-file", required_argument, NULL, O_PIDFILE},
    {"console-socket", required_argument, NULL, O_CONSOLE},
    {"cwd", required_argument, NULL, O_CWD},
    {"env", required_argument, NULL, 'e'},
    {"user", required_argument, NULL, 'u'},
    {"additional-gids", required_argument, NULL, 'g'},
    {"cap", required_argument, NULL, 'c'},
    {"no-new-privs", no_argument, NULL, O_NNP},
    {"process-label", required_argument, NULL, O_LABEL},
    {"apparmor", required_argument, NULL, O_APPARMOR},
    {"preserve-fds", required_argument, NULL, O_PRESERVE},
    {"cgroup", required_argument, NULL, O_CGROUP},
    {"ignore-paused", no_argument, NULL, O_IGNPAUSED},
    {0}};

struct exec_cli {
  struct sp_exec_opts o;
  char *caps_store[64]; /* normalised "CAP_X" names */
  size_t caps_store_len;
};

static int push(char ***v, size_t *n, const char *s) {
  char **nv = realloc(*v, (*n + 1) * sizeof *nv);
  if (!nv)
    return -1;
  nv[(*n)++] = (char *)s;
  *v = nv;
  return 0;
}

static int parse_id(const char *s, uint32_t *out) {
  uint64_t v;
  if (sp_parse_u64(s, &v) < 0 || v > UINT32_MAX - 1)
    return -1;
  *out = (uint32_t)v;
  return 0;
}

static int exec_flag(int opt, const char *arg, void *data, struct sp_error *err) {
  struct exec_cli *c = data;
  struct sp_exec_opts *o = &c->o;
  switch (opt) {
  case 'p': o->process_file = arg; break;
  case 't': o->tty = o->tty_set = true; break;
  case 'd': o->detach = true; break;
  case O_PIDFILE: o->pid_file = arg; break;
  case O_CONSOLE: o->console_socket = arg; break;
  case O_CWD: o->cwd = arg; break;
  case 'e':
    if (push(&o->env, &o->env_len, arg) < 0)
      return sp_error_errno(err, ENOMEM, "--env");
    break;
  case 'u': {
    char uid[32];
    const char *colon = strchr(arg, ':');
    size_t ul = colon ? (size_t)(colon - arg) : strlen(arg);
    if (ul >= sizeof uid)
      ul = sizeof uid - 1;
    memcpy(uid, arg, ul);
    uid[ul] = '\0';
    if (parse_id(uid, &o->uid) < 0 || (colon && parse_id(colon + 1, &o->gid) < 0))
      return sp_error_set(err, 0, "--user \"%s\": expected UID[:GID] (numbers)", arg);
    o->has_user = true;
    o->has_gid = colon != NULL;
    break;
  }
  case 'g': {
    /* repeatable, and comma-separated lists too */
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", arg);
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
      uint32_t gid;
      if (parse_id(t, &gid) < 0)
        return sp_error_set(err, 0, "--additional-gids \"%s\": expected a gid", t);
      uint32_t *nv = realloc(o->additional_gids, (o->additional_gids_len + 1) * sizeof *nv);
      if (!nv)
        return sp_error_errno(err, ENOMEM, "--additional-gids");
      nv[o->additional_gids_len++] = gid;
      o->additional_gids = nv;
    }
    if (!o->additional_gids_len)
      return sp_error_set(err, 0, "--additional-gids \"%s\": expected a gid", arg);
    break;
  }
  case 'c': {
    /* "CAP_NET_ADMIN", "cap_net_admin" and "NET_ADMIN" all name it */
    if (c->caps_store_len >= sizeof c->caps_store / sizeof c->caps_store[0])
      return sp_error_set(err, 0, "--cap: too many capabilities");
    bool prefixed = !strncasecmp(arg, "CAP_", 4);
    char *name = malloc(strlen(arg) + 5);
    if (!name)
      return sp_error_errno(err, ENOMEM, "--cap");
    sprintf(name, "%s%s", prefixed ? "" : "CAP_", arg);
    for (char *p = name; *p; p++)
      *p = (char)toupper((unsigned char)*p);
    c->caps_store[c->caps_store_len++] = name;
    if (push(&o->caps, &o->caps_len, name) < 0)
      return sp_error_errno(err, ENOMEM, "--cap");
    break;
  }
  case O_NNP: o->no_new_privs = true; break;
  case O_LABEL: o->process_label = arg; break;
  case O_APPARMOR: o->apparmor = arg; break;
  case O_PRESERVE:
    if (sp_parse_int(arg, &o->preserve_fds) < 0 || o->preserve_fds < 0)
      return sp_error_set(err, 0, "--preserve-fds: expected a number >= 0, got \"%s\"", arg);
    break;
  case O_CGROUP:
    if (push(&o->cgroups, &o->cgroups_len, arg) < 0)
      return sp_error_errno(err, ENOMEM, "--cgroup");
    break;
  case O_IGNPAUSED: o->ignore_paused = true; break;
  }
  return 0;
}

static void exec_cli_free(struct exec_cli *c) {
  free(c->o.env);
  free(c->o.caps);
  free(c->o.cgroups);
  free(c->o.additional_gids);
  for (size_t i = 0; i < c->caps_store_len; i++)
    free(c->caps_store[i]);
}

int cmd_exec(const struct sp_global *g, int argc, char **argv, const char **id,
             struct sp_error *err) {
  struct exec_cli c = {0};
  int first, r;
  r = cli_parse("exec", argc, argv, "p:tde:u:g:c:", exec_opts, exec_flag, &c, &first, err);
  if (r != 0) {
    r = r < 0 ? -1 : 0; /* 1: --help was printed */
    goto out;
  }
  if (first >= argc) {
    r = sp_error_set(err, 0, "a container id is required (see 'sprout exec --help')");
    goto out;
  }
  *id = argv[first];
  if (sp_id_validate(*id, err) < 0) {
    r = -1;
    goto out;
  }
  c.o.id = *id;
  c.o.args = argv + first + 1;
  c.o.args_len = (size_t)(argc - first - 1);
  if (c.o.process_file && c.o.args_len) {
    r = sp_error_set(err, 0, "give either --process FILE or a command, not both");
    goto out;
  }
  if (!c.o.process_file && !c.o.args_len) {
    r = sp_error_set(err, 0, "a command is required: ARGS... or --process FILE "
                             "(see 'sprout exec --help')");
    goto out;
  }
  r = sp_container_exec(g, &c.o, err);
out:
  exec_cli_free(&c);
  return r < 0 ? -1 : r;
}
