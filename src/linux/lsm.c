/* AppArmor and SELinux labels of the workload.
 *
 * process.apparmorProfile: "exec PROFILE" written to the AppArmor exec
 * attribute (/proc/self/attr/apparmor/exec, or the older shared
 * /proc/self/attr/exec) right before execve: the profile applies from the
 * workload's first instruction.  process.selinuxLabel: the label written to
 * /proc/self/attr/exec.  linux.mountLabel: a context="LABEL" option on the
 * container's filesystem mounts.  Every write goes through
 * sp_procfs_write(), which refuses anything but the real procfs
 * (CVE-2019-16884: a fake /proc made runc's label write land in a plain
 * file and the container run unconfined).
 *
 * Asking for a label the host cannot apply is an error before any side
 * effect (runc fails late for AppArmor, and tries mountLabel anyway): with
 * AppArmor off, and for a profile that is not loaded when the kernel's
 * list (securityfs) can tell.  A name the list cannot show (a stack, a
 * policy namespace) is left to the kernel: the write before execve then
 * fails, and the error still names the field and the profile. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sprout/linux.h"
#include "sprout/security.h"
#include "sprout/util.h"

static bool file_starts_with(const char *path, const char *prefix) {
  char buf[64] = {0};
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  return n > 0 && strncmp(buf, prefix, strlen(prefix)) == 0;
}

/* Whether NAME is in the comma-separated list of /sys/kernel/security/lsm;
 * -1 when securityfs is not there to tell. */
static int lsm_listed(const char *name) {
  char *list = NULL;
  size_t len = 0;
  struct sp_error e;
  if (sp_read_file("/sys/kernel/security/lsm", 4096, &list, &len, &e) < 0)
    return -1;
  int found = 0;
  char *save = NULL;
  for (char *t = strtok_r(list, ",\n", &save); t; t = strtok_r(NULL, ",\n", &save))
    if (!strcmp(t, name))
      found = 1;
  free(list);
  return found;
}

#define AA_PROFILES "/sys/kernel/security/apparmor/profiles"

/* Whether AppArmor profile NAME is loaded: 1 or 0 from the kernel's list
 * (lines "NAME (MODE)"), -1 when it cannot tell: securityfs not mounted or
 * not readable, or a name the list does not show ("unconfined", a stack
 * "a//&b", a namespaced ":ns:name"). */
static int aa_profile_loaded(const char *name) {
  if (!strcmp(name, "unconfined") || name[0] == ':' || strchr(name, '&'))
    return -1;
  FILE *f = fopen(AA_PROFILES, "re");
  if (!f)
    return -1;
  int found = 0;
  char *line = NULL;
  size_t cap = 0, want = strlen(name);
  ssize_t n;
  while (!found && (n = getline(&line, &cap, f)) > 0) {
    char *mode = NULL; /* the last " (": a name may hold one */
    for (char *m = strstr(line, " ("); m; m = strstr(m + 1, " ("))
      mode = m;
    found = mode && (size_t)(mode - line) == want && !strncmp(line, name, want);
  }
  bool bad = ferror(f);
  free(line);
  fclose(f);
  return bad ? -1 : found;
}

unsigned sp_lsm_enabled(void) {
  unsigned m = 0;
  int aa = lsm_listed("apparmor");
  if (aa < 0)
    aa = file_starts_with("/sys/module/apparmor/parameters/enabled", "Y");
  if (aa > 0)
    m |= SP_LSM_APPARMOR;
  int se = lsm_listed("selinux");
  struct stat st;
  if (se > 0 || (se < 0 && stat("/sys/fs/selinux/enforce", &st) == 0))
    m |= SP_LSM_SELINUX;
  return m;
}

int sp_lsm_check(const struct sp_spec *spec, const struct sp_process *proc,
                 struct sp_error *err) {
  unsigned on = 0;
  bool probed = false;
  if (proc->apparmor_profile && *proc->apparmor_profile) {
    on = sp_lsm_enabled();
    probed = true;
    if (!(on & SP_LSM_APPARMOR))
      return sp_error_set(err, EOPNOTSUPP, ".process.apparmorProfile \"%s\": AppArmor is not "
                          "enabled on this host", proc->apparmor_profile);
    if (strchr(proc->apparmor_profile, '\n'))
      return sp_error_set(err, 0, ".process.apparmorProfile: a profile name is one line");
    if (aa_profile_loaded(proc->apparmor_profile) == 0)
      return sp_error_set(err, ENOENT, ".process.apparmorProfile \"%s\": no such AppArmor "
                          "profile is loaded (see " AA_PROFILES ")", proc->apparmor_profile);
  }
  const char *labels[2] = {proc->selinux_label, spec ? spec->linux_.mount_label : NULL};
  const char *what[2] = {".process.selinuxLabel", ".linux.mountLabel"};
  for (int i = 0; i < 2; i++) {
    if (!labels[i] || !*labels[i])
      continue;
    if (!probed) {
      on = sp_lsm_enabled();
      probed = true;
    }
    if (!(on & SP_LSM_SELINUX))
      return sp_error_set(err, EOPNOTSUPP, "%s \"%s\": SELinux is not enabled on this host",
                          what[i], labels[i]);
    if (strpbrk(labels[i], "\n\","))
      return sp_error_set(err, 0, "%s \"%s\": not a valid SELinux context", what[i],
                          labels[i]);
  }
  return 0;
}

int sp_lsm_exec_attrs(const struct sp_process *proc, struct sp_error *err) {
  if (proc->apparmor_profile && *proc->apparmor_profile) {
    char *cmd = NULL;
    if (asprintf(&cmd, "exec %s", proc->apparmor_profile) < 0)
      return sp_error_errno(err, ENOMEM, "apparmor profile");
    /* the LSM-specific attribute first (kernels with stacking) */
    const char *path = access("/proc/self/attr/apparmor/exec", F_OK) == 0
                           ? "/proc/self/attr/apparmor/exec"
                           : "/proc/self/attr/exec";
    int r = sp_procfs_write(path, cmd, err);
    free(cmd);
    /* ENOENT: not loaded (or unloaded since sp_lsm_check looked) */
    if (r < 0 && err->code == ENOENT)
      return sp_error_prefix(err, ".process.apparmorProfile \"%s\": no such AppArmor "
                             "profile is loaded", proc->apparmor_profile);
    if (r < 0)
      return sp_error_prefix(err, ".process.apparmorProfile \"%s\": cannot apply the "
                             "AppArmor profile", proc->apparmor_profile);
  }
  if (proc->selinux_label && *proc->selinux_label &&
      sp_procfs_write("/proc/self/attr/exec", proc->selinux_label, err) < 0)
    return sp_error_prefix(err, "set SELinux label \"%s\"", proc->selinux_label);
  return 0;
}

char *sp_lsm_mount_data(const char *data, const char *mount_label, const char *fstype) {
  if (!mount_label || !*mount_label || !fstype)
    return NULL;
  /* filesystems whose inodes take their label from the mount; proc, sysfs,
   * cgroup and binds keep their own */
  static const char *const labelled[] = {"tmpfs", "devpts", "mqueue", "shm", "ramfs"};
  bool ok = false;
  for (size_t i = 0; i < sizeof labelled / sizeof labelled[0]; i++)
    ok |= !strcmp(fstype, labelled[i]);
  if (!ok || !(sp_lsm_enabled() & SP_LSM_SELINUX))
    return NULL;
  if (data && strstr(data, "context="))
    return NULL; /* the config set one itself */
  char *out = NULL;
  if (asprintf(&out, "%s%scontext=\"%s\"", data && *data ? data : "",
               data && *data ? "," : "", mount_label) < 0)
    return NULL;
  return out;
}
