/* The process an `exec` runs, worked out before anything happens: the
 * container's process with the command line's options on top, or the
 * --process JSON (what it leaves out that is the container's confinement
 * — capabilities, rlimits, LSM labels, oomScoreAdj — comes from the
 * container's config, so an exec'd process is never less confined by
 * omission).  Errors name the option. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sprout/exec.h"
#include "sprout/linux.h"
#include "sprout/process.h"

void sp_exec_process_free(struct sp_exec_owned *ow) {
  sp_env_free(ow->env);
  for (int i = 0; i < 4; i++)
    free(ow->caps[i]); /* the strings are borrowed */
  free(ow->gids);
  memset(ow, 0, sizeof *ow);
}

static bool has_name(char **v, size_t n, const char *name) {
  for (size_t i = 0; i < n; i++)
    if (!strcasecmp(v[i], name))
      return true;
  return false;
}

/* OLD[0..*n) + the --cap names not in it, into a new (borrowing) array. */
static char **add_caps(char **old, size_t *n, const struct sp_exec_opts *o) {
  char **v = calloc(*n + o->caps_len + 1, sizeof *v);
  if (!v)
    return NULL;
  size_t len = 0;
  for (size_t i = 0; i < *n; i++)
    v[len++] = old[i];
  for (size_t i = 0; i < o->caps_len; i++)
    if (!has_name(v, len, o->caps[i]))
      v[len++] = o->caps[i];
  *n = len;
  return v;
}

static int apply_caps(struct sp_process *p, const struct sp_exec_opts *o,
                      struct sp_exec_owned *ow, struct sp_error *err) {
  for (size_t i = 0; i < o->caps_len; i++)
    if (sp_cap_from_name(o->caps[i]) < 0)
      return sp_error_set(err, 0, "--cap %s: unknown capability", o->caps[i]);
  struct sp_capabilities *c = &p->capabilities;
  if (!p->has_capabilities)
    memset(c, 0, sizeof *c);
  p->has_capabilities = true;
  char ***sets[3] = {&c->bounding, &c->effective, &c->permitted};
  size_t *lens[3] = {&c->bounding_len, &c->effective_len, &c->permitted_len};
  bool *has[3] = {&c->has_bounding, &c->has_effective, &c->has_permitted};
  for (int s = 0; s < 3; s++) {
    ow->caps[s] = add_caps(*sets[s], lens[s], o);
    if (!ow->caps[s])
      return sp_error_errno(err, ENOMEM, "--cap");
    *sets[s] = ow->caps[s];
    *has[s] = true;
  }
  /* ambient only for what the config already made inheritable: a --cap
   * never adds an inheritable capability (CVE-2022-29162) */
  char **amb = calloc(c->ambient_len + o->caps_len + 1, sizeof *amb);
  if (!amb)
    return sp_error_errno(err, ENOMEM, "--cap");
  size_t alen = 0;
  for (size_t i = 0; i < c->ambient_len; i++)
    amb[alen++] = c->ambient[i];
  for (size_t i = 0; i < o->caps_len; i++)
    if (has_name(c->inheritable, c->inheritable_len, o->caps[i]) &&
        !has_name(amb, alen, o->caps[i]))
      amb[alen++] = o->caps[i];
  ow->caps[3] = amb;
  if (alen != c->ambient_len) {
    c->ambient = amb;
    c->ambient_len = alen;
    c->has_ambient = true;
  }
  return 0;
}

int sp_exec_process(const struct sp_spec *spec, const struct sp_process *fileproc,
                    const struct sp_exec_opts *o, struct sp_process *out,
                    struct sp_exec_owned *ow, struct sp_error *err) {
  memset(ow, 0, sizeof *ow);
  const struct sp_process *c = &spec->process;
  if (fileproc) {
    *out = *fileproc;
    if (!fileproc->has_capabilities) {
      out->has_capabilities = c->has_capabilities;
      out->capabilities = c->capabilities;
    }
    if (!fileproc->rlimits_len) {
      out->rlimits = c->rlimits;
      out->rlimits_len = c->rlimits_len;
    }
    if (!fileproc->apparmor_profile)
      out->apparmor_profile = c->apparmor_profile;
    if (!fileproc->selinux_label)
      out->selinux_label = c->selinux_label;
    if (!fileproc->has_oom_score_adj) {
      out->has_oom_score_adj = c->has_oom_score_adj;
      out->oom_score_adj = c->oom_score_adj;
    }
  } else {
    if (!spec->has_process)
      return sp_error_set(err, 0, "the container's config.json has no process");
    *out = *c;
    out->args = o->args;
    out->args_len = o->args_len;
    out->terminal = false; /* a terminal only when asked for (--tty) */
  }
  if (!out->args_len || !out->args[0][0])
    return sp_error_set(err, 0, "no command to run (give ARGS or --process FILE)");
  if (o->tty_set)
    out->terminal = o->tty;
  if (o->cwd) {
    if (o->cwd[0] != '/')
      return sp_error_set(err, 0, "--cwd %s: must be an absolute path", o->cwd);
    out->cwd = (char *)o->cwd;
  }
  /* env: the process's, then --env; a later value of a key wins */
  size_t n = out->env_len + o->env_len;
  char **all = calloc(n + 1, sizeof *all);
  if (!all)
    return sp_error_errno(err, ENOMEM, "env");
  if (out->env_len)
    memcpy(all, out->env, out->env_len * sizeof *all);
  for (size_t i = 0; i < o->env_len; i++) {
    const char *eq = strchr(o->env[i], '=');
    if (!eq || eq == o->env[i]) {
      free(all);
      return sp_error_set(err, 0, "--env \"%s\": expected KEY=VALUE", o->env[i]);
    }
    all[out->env_len + i] = o->env[i];
  }
  ow->env = sp_env_build(all, n);
  free(all);
  if (!ow->env)
    return sp_error_errno(err, ENOMEM, "env");
  for (ow->env_len = 0; ow->env[ow->env_len];)
    ow->env_len++;
  out->env = ow->env;
  out->env_len = ow->env_len;
  if (o->has_user) {
    out->user.uid = o->uid;
    if (o->has_gid)
      out->user.gid = o->gid;
  }
  if (o->additional_gids_len) {
    ow->gids = malloc(o->additional_gids_len * sizeof *ow->gids);
    if (!ow->gids)
      return sp_error_errno(err, ENOMEM, "--additional-gids");
    memcpy(ow->gids, o->additional_gids, o->additional_gids_len * sizeof *ow->gids);
    out->user.additional_gids = ow->gids;
    out->user.additional_gids_len = o->additional_gids_len;
  }
  if (o->caps_len && apply_caps(out, o, ow, err) < 0)
    return -1;
  if (o->no_new_privs)
    out->no_new_privileges = true;
  if (o->apparmor)
    out->apparmor_profile = (char *)o->apparmor;
  if (o->process_label)
    out->selinux_label = (char *)o->process_label;
  return 0;
}
