/* Namespaces: clone flags, joining by path, id maps, time offsets. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/nsfs.h>

#include "sprout/linux.h"
#include "sprout/util.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const int clone_flags[SP_NS_COUNT] = {
    [SP_NS_PID] = CLONE_NEWPID,   [SP_NS_NETWORK] = CLONE_NEWNET,
    [SP_NS_MOUNT] = CLONE_NEWNS,  [SP_NS_IPC] = CLONE_NEWIPC,
    [SP_NS_UTS] = CLONE_NEWUTS,   [SP_NS_USER] = CLONE_NEWUSER,
    [SP_NS_CGROUP] = CLONE_NEWCGROUP, [SP_NS_TIME] = CLONE_NEWTIME,
};

int sp_ns_clone_flag(enum sp_ns_type type) { return clone_flags[type]; }

unsigned long sp_ns_new_flags(const struct sp_spec *spec) {
  unsigned long flags = 0;
  for (size_t i = 0; i < spec->linux_.namespaces_len; i++)
    if (!spec->linux_.namespaces[i].path)
      flags |= (unsigned long)clone_flags[spec->linux_.namespaces[i].type];
  return flags;
}

void sp_ns_close_fds(int fds[SP_NS_COUNT]) {
  for (int i = 0; i < SP_NS_COUNT; i++) {
    if (fds[i] >= 0)
      close(fds[i]);
    fds[i] = -1;
  }
}

int sp_ns_open_paths(const struct sp_spec *spec, int fds[SP_NS_COUNT],
                     struct sp_error *err) {
  for (int i = 0; i < SP_NS_COUNT; i++)
    fds[i] = -1;
  for (size_t i = 0; i < spec->linux_.namespaces_len; i++) {
    const struct sp_namespace *ns = &spec->linux_.namespaces[i];
    if (!ns->path)
      continue;
    int fd = open(ns->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      sp_error_sys(err, ".linux.namespaces[%zu].path: open %s", i, ns->path);
      sp_ns_close_fds(fds);
      return -1;
    }
    /* NS_GET_NSTYPE tells what the file really is */
    int type = ioctl(fd, NS_GET_NSTYPE);
    if (type < 0 || type != clone_flags[ns->type]) {
      close(fd);
      sp_error_set(err, EINVAL,
                   ".linux.namespaces[%zu].path: %s is not a %s namespace", i,
                   ns->path, sp_ns_type_name(ns->type));
      sp_ns_close_fds(fds);
      return -1;
    }
    fds[ns->type] = fd;
  }
  return 0;
}

int sp_ns_join(int fds[SP_NS_COUNT], bool skip_pid_time, struct sp_error *err) {
  /* the user namespace first: it grants the rights to join the others */
  static const enum sp_ns_type order[] = {SP_NS_USER, SP_NS_IPC, SP_NS_UTS,
                                          SP_NS_NETWORK, SP_NS_PID, SP_NS_TIME,
                                          SP_NS_CGROUP, SP_NS_MOUNT};
  for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
    enum sp_ns_type t = order[i];
    if (fds[t] < 0)
      continue;
    if (skip_pid_time && (t == SP_NS_PID || t == SP_NS_TIME))
      continue;
    if (setns(fds[t], clone_flags[t]) < 0)
      return sp_error_sys(err, "join %s namespace", sp_ns_type_name(t));
    close(fds[t]);
    fds[t] = -1;
  }
  return 0;
}

static int write_map(pid_t pid, const char *file, const struct sp_idmap *m,
                     size_t n, struct sp_error *err) {
  if (n == 0)
    return 0;
  struct sp_buf b = {0};
  for (size_t i = 0; i < n; i++)
    sp_buf_printf(&b, "%u %u %u\n", m[i].container_id, m[i].host_id, m[i].size);
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  int r = 0;
  if (fd < 0 || write(fd, b.data, b.len) != (ssize_t)b.len)
    r = sp_error_sys(err, "write %s (%s)", file, b.data ? strtok(b.data, "\n") : "");
  if (fd >= 0)
    close(fd);
  sp_buf_free(&b);
  return r;
}

int sp_idmap_write(pid_t pid, const struct sp_spec *spec, struct sp_error *err) {
  const struct sp_linux *l = &spec->linux_;
  if (write_map(pid, "uid_map", l->uid_mappings, l->uid_mappings_len, err) < 0)
    return -1;
  return write_map(pid, "gid_map", l->gid_mappings, l->gid_mappings_len, err);
}

int sp_timens_prepare(const struct sp_spec *spec, struct sp_error *err) {
  if (unshare(CLONE_NEWTIME) < 0)
    return sp_error_sys(err, "create time namespace");
  const struct sp_linux *l = &spec->linux_;
  struct sp_buf b = {0};
  if (l->time_monotonic.set)
    sp_buf_printf(&b, "monotonic %lld %u\n", (long long)l->time_monotonic.secs,
                  l->time_monotonic.nanosecs);
  if (l->time_boottime.set)
    sp_buf_printf(&b, "boottime %lld %u\n", (long long)l->time_boottime.secs,
                  l->time_boottime.nanosecs);
  int r = 0;
  if (b.len) {
    /* one write per line: the kernel parses a line at a time */
    char *save = NULL;
    for (char *line = strtok_r(b.data, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
      int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
      if (fd < 0 || write(fd, line, strlen(line)) < 0) {
        r = sp_error_sys(err, ".linux.timeOffsets: write \"%s\"", line);
        if (fd >= 0)
          close(fd);
        break;
      }
      close(fd);
    }
  }
  sp_buf_free(&b);
  return r;
}
