/* The workload's confinement, prepared by the runtime and applied by the
 * process that execs the workload (see include/sprout/security.h).
 *
 * The runtime process compiles the seccomp profile (or finds it in the
 * cache), checks that the LSM labels and seccomp flags can be applied, and
 * connects to the seccomp listener; the child it clones inherits this
 * state and, as its very last steps before execve, sets the final CPU
 * affinity, writes the LSM exec labels, loads the filter with one
 * seccomp(2) call and hands the listener its fd.
 *
 * Loading a filter needs no_new_privs or CAP_SYS_ADMIN.  Without
 * noNewPrivileges, runc loads the filter before dropping capabilities, so
 * that every later step of its init must pass the workload's filter.  Here
 * the capability step keeps CAP_SYS_ADMIN (permitted and effective) when
 * the workload would not have it and the filter is still loaded last: only
 * execve (and, with a listener, sendmsg and close) run under the filter.
 * The kept capability does not reach the workload: execve derives the new
 * permitted and effective sets from the bounding, inheritable and ambient
 * sets, which are exactly the config's. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <unistd.h>

#include "sprout/linux.h"
#include "sprout/security.h"
#include "sprout/util.h"

static struct {
  bool prepared;
  const struct sp_spec *spec;
  bool has_seccomp;
  struct sp_seccomp_prog prog;
  bool keep_sysadmin;
  int listener;     /* connected socket, -1 */
  char *id, *bundle;
  pid_t host_pid;   /* the child's pid on the host, read before pivot_root */
} S = {.listener = -1};

void sp_security_reset(void) {
  sp_seccomp_prog_free(&S.prog);
  if (S.listener >= 0)
    close(S.listener);
  free(S.id);
  free(S.bundle);
  memset(&S, 0, sizeof S);
  S.listener = -1;
}

/* Whether the workload's effective set holds CAP_SYS_ADMIN. */
static bool workload_has_sysadmin(const struct sp_process *proc) {
  if (!proc->has_capabilities)
    return false;
  const struct sp_capabilities *c = &proc->capabilities;
  for (size_t i = 0; i < c->effective_len; i++)
    if (sp_cap_from_name(c->effective[i]) == CAP_SYS_ADMIN)
      return true;
  return false;
}

int sp_security_prepare(const struct sp_spec *spec, const struct sp_process *proc,
                        const char *state_root, struct sp_error *err) {
  sp_security_reset();
  S.spec = spec;
  if (sp_lsm_check(spec, proc, err) < 0)
    return -1;
  if (spec && spec->has_linux && spec->linux_.has_seccomp) {
    char *dir = state_root ? sp_path_join(state_root, "@cache/seccomp") : NULL;
    int r = sp_seccomp_prepare(&spec->linux_.seccomp, dir, &S.prog, err);
    free(dir);
    if (r < 0)
      return -1;
    S.has_seccomp = true;
    S.keep_sysadmin = !proc->no_new_privileges && !workload_has_sysadmin(proc);
  }
  S.prepared = true;
  return 0;
}

int sp_security_connect(const char *id, const char *bundle, struct sp_error *err) {
  if (!S.prepared || !S.has_seccomp || !S.prog.notify)
    return 0;
  const char *path = S.spec->linux_.seccomp.listener_path;
  if (!path)
    return sp_error_set(err, 0, "config.json: .linux.seccomp: SCMP_ACT_NOTIFY needs a listenerPath");
  S.listener = sp_seccomp_listener_connect(path, err);
  if (S.listener < 0)
    return -1;
  S.id = strdup(id ? id : "");
  S.bundle = strdup(bundle ? bundle : "");
  if (!S.id || !S.bundle)
    return sp_error_errno(err, ENOMEM, "seccomp listener");
  return 0;
}

void sp_security_parent_done(void) {
  /* the child holds the connection now: it must be the only one, so the
   * listener sees it closed right after the fd arrives */
  if (S.listener >= 0) {
    close(S.listener);
    S.listener = -1;
  }
}

int sp_security_child_early(const struct sp_process *proc, struct sp_error *err) {
  /* the host's /proc is still in place: "self" there is our host pid */
  char buf[32] = {0};
  ssize_t n = readlink("/proc/self", buf, sizeof buf - 1);
  S.host_pid = n > 0 ? (pid_t)atoi(buf) : getpid();
  if (proc && proc->exec_cpu_affinity_initial &&
      sp_affinity_apply(proc->exec_cpu_affinity_initial, err) < 0)
    return sp_error_prefix(err, "process.execCPUAffinity.initial");
  return 0;
}

bool sp_security_keep_sysadmin(void) {
  return S.prepared && S.has_seccomp && S.keep_sysadmin;
}

int sp_security_exec_last(const struct sp_process *proc, struct sp_error *err) {
  if (proc->exec_cpu_affinity_final || proc->exec_cpu_affinity_initial) {
    if (sp_affinity_apply(proc->exec_cpu_affinity_final, err) < 0)
      return sp_error_prefix(err, "process.execCPUAffinity");
  }
  if (sp_lsm_exec_attrs(proc, err) < 0)
    return -1;
  if (!S.prepared || !S.has_seccomp)
    return 0;
  char *json = NULL;
  if (S.listener >= 0) {
    /* built before the filter: it may not allow what yajl needs */
    json = sp_seccomp_process_state(S.id, S.host_pid, S.bundle, "creating", S.spec);
    if (!json)
      return sp_error_errno(err, ENOMEM, "seccomp: container process state");
  }
  int nfd = -1;
  if (sp_seccomp_load(&S.prog, &nfd, err) < 0) {
    free(json);
    return -1;
  }
  int r = 0;
  if (nfd >= 0) {
    if (S.listener < 0)
      r = sp_error_set(err, 0, "seccomp: a listener fd but no listener connection");
    else
      r = sp_seccomp_listener_send(S.listener, nfd, json, err);
    close(nfd);
    if (S.listener >= 0)
      close(S.listener);
    S.listener = -1;
  }
  free(json);
  /* CAP_SYS_ADMIN kept for the load is not dropped here: execve computes
   * the workload's permitted and effective sets from its inheritable,
   * ambient and bounding sets (and the file), never from the permitted or
   * effective set before it, so it cannot survive into the workload; and
   * a capset under a filter that kills on capset would end the container */
  return r;
}
