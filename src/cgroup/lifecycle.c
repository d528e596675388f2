/* The container's cgroup directories: make them (cpuset v1 inherits its cpus
 * and mems), move a process in, list the processes, and at the end kill what
 * is left and remove the directories with the parents sprout made. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "cgroup_internal.h"
#include "sprout/util.h"

#define KILL_TIMEOUT_MS 2000
#define RMDIR_TRIES 20
#define TREE_DEPTH_MAX 64
#define PROCS_MAX (16u << 20)

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
    ;
}

static long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static const char *ctl_of(const struct sp_cgroup *cg, size_t i) {
  return cg->controllers ? cg->controllers[i] : "";
}

/* The v1 hierarchy that has CONTROLLER (no cgroup2 fallback). */
static const char *v1_dir(const struct sp_cgroup *cg, const char *controller) {
  for (size_t i = 0; i < cg->dirs_len; i++)
    if (sp_cg_list_has(ctl_of(cg, i), controller))
      return cg->dirs[i];
  return NULL;
}

/* ---- create ------------------------------------------------------------ */

static bool blank(const char *s) { return s[strspn(s, " \t\n")] == '\0'; }

/* cpuset v1: a new cgroup has sched_load_balance on, and then writing its
 * cpus, and its removal (in a kworker), rebuild the scheduler domains: the
 * kernel walks every cpuset of the host under cpuset_mutex and the CPU
 * hotplug lock (0.35 ms per create here with 1000 containers alive, and
 * contention with the next).  Below a cpuset that balances (the hierarchy's
 * root by default), the flag of a cpuset changes nothing: the scheduler
 * balances over the topmost balancing cpusets and ignores what is under them
 * (cgroup-v1 cpusets.rst, 1.7).  So turn it off in DIR while its cpus are
 * still empty (no rebuild then), when the root of DIR's hierarchy balances:
 * where it does not, DIR keeps the kernel's default, as with runc.  NAME is
 * the file's name in DIR's hierarchy (with or without the prefix). */
static void cpuset_unbalanced(const char *dir, const char *name) {
  const char *h = dir + sizeof SP_CGROUP_ROOT;
  size_t hl = strcspn(h, "/");
  char path[4096], *root = NULL;
  struct sp_error ignored;
  snprintf(path, sizeof path, "%.*s/%s", (int)(h - dir + hl), dir, name);
  if (h[hl] == '/' && sp_read_file(path, 64, &root, NULL, &ignored) == 0 &&
      root[0] == '1') {
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (sp_write_file(path, "0", &ignored) < 0)
      sp_log(SP_LOG_DEBUG, "cgroup: %s: %s", path, ignored.msg);
  }
  free(root);
}

/* cpuset v1: a new cgroup has empty cpus and mems, and no task can join it
 * until they are set: copy the parent's values into DIR.  A parent that is
 * blank itself was just made by a concurrent create of a container whose
 * cgroupsPath shares a new parent, which has not filled it yet: fill it
 * first (the same values; two writers of them are harmless). */
static int cpuset_inherit(const char *dir, struct sp_error *err) {
  static const char *const files[][2] = {{"cpuset.cpus", "cpus"},
                                         {"cpuset.mems", "mems"}};
  char *parent = strndup(dir, (size_t)(strrchr(dir, '/') - dir));
  int r = 0;
  if (!parent)
    return sp_error_sys(err, "cgroup: %s", dir);
  for (size_t f = 0; f < 2 && r == 0; f++) {
    char path[4096], *mine = NULL, *theirs = NULL;
    const char *name = files[f][0];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (access(path, F_OK) < 0) /* mounted with noprefix */
      name = files[f][1];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    r = sp_read_file(path, 1 << 16, &mine, NULL, err);
    if (r == 0 && blank(mine)) {
      if (f == 0)
        cpuset_unbalanced(dir, name == files[f][0] ? "cpuset.sched_load_balance"
                                                   : "sched_load_balance");
      snprintf(path, sizeof path, "%s/%s", parent, name);
      r = sp_read_file(path, 1 << 16, &theirs, NULL, err);
      if (r == 0 && blank(theirs) && strlen(parent) > sizeof SP_CGROUP_ROOT &&
          strchr(parent + sizeof SP_CGROUP_ROOT, '/')) {
        free(theirs);
        theirs = NULL;
        r = cpuset_inherit(parent, err);
        if (r == 0)
          r = sp_read_file(path, 1 << 16, &theirs, NULL, err);
      }
      if (r == 0) {
        theirs[strcspn(theirs, "\n")] = '\0';
        snprintf(path, sizeof path, "%s/%s", dir, name);
        r = sp_write_file(path, theirs, err);
      }
    }
    free(mine);
    free(theirs);
  }
  free(parent);
  return r < 0 ? sp_error_prefix(err, "cgroup: cpuset of %s", dir) : 0;
}

/* rmdir DIR, then its parents while they are longer than STOP bytes (what
 * an undo or a destroy may remove); stops at the first that stays. */
static void rmdir_up(const char *dir, size_t stop) {
  char *cur = strdup(dir);
  if (!cur)
    return;
  size_t len = strlen(cur);
  while (len > stop) {
    cur[len] = '\0';
    if (rmdir(cur) < 0 && errno != ENOENT)
      break;
    char *slash = strrchr(cur, '/');
    if (!slash)
      break;
    len = (size_t)(slash - cur);
  }
  free(cur);
}

/* mkdir -p DIR below the cgroup root; *FROM is the offset of the '/' before
 * the first component made here (SIZE_MAX: DIR existed). */
static int create_one(const char *dir, bool cpuset, size_t *from,
                      struct sp_error *err) {
  if (strncmp(dir, SP_CGROUP_ROOT "/", sizeof SP_CGROUP_ROOT) != 0)
    return sp_error_set(err, EINVAL, "cgroup: %s is not below " SP_CGROUP_ROOT,
                        dir);
  /* the common case: the parents exist (or DIR itself does) */
  *from = SIZE_MAX;
  if (mkdir(dir, 0755) == 0) {
    *from = (size_t)(strrchr(dir, '/') - dir);
    if (cpuset && cpuset_inherit(dir, err) < 0) {
      rmdir(dir);
      return -1;
    }
    return 0;
  }
  if (errno == EEXIST)
    return 0;
  char *p = strdup(dir);
  if (!p)
    return sp_error_sys(err, "cgroup: mkdir %s", dir);
  for (int attempt = 0;; attempt++) {
    int e = 0;
    *from = SIZE_MAX;
    strcpy(p, dir);
    for (char *s = p + sizeof SP_CGROUP_ROOT;; s++) {
      if (*s != '/' && *s != '\0')
        continue;
      char c = *s;
      *s = '\0';
      if (mkdir(p, 0755) == 0) {
        if (*from == SIZE_MAX)
          *from = (size_t)(strrchr(p, '/') - p);
        if (cpuset && cpuset_inherit(p, err) < 0)
          e = -1;
      } else if (errno != EEXIST) {
        e = errno;
      }
      if (e || !c)
        break; /* P names the failing directory */
      *s = c;
    }
    if (!e)
      break;
    if (*from != SIZE_MAX)
      rmdir_up(dir, *from);
    /* ENOENT: a parent went away under us (another container's destroy
     * removing an empty parent both made): try again */
    if (e == ENOENT && attempt < 5)
      continue;
    if (e > 0)
      sp_error_errno(err, e, "cgroup: mkdir %s", p);
    free(p);
    return -1;
  }
  free(p);
  return 0;
}

/* An existing DIR that processes are in: not a leftover of an earlier
 * container of this id but someone else's cgroup (a host's "init.scope",
 * the same id under another --root).  runc 1.1 joins it with a warning
 * and its delete kills them all; sprout refuses. */
static bool populated(const char *dir, struct sp_error *err) {
  char path[4096], *procs = NULL;
  struct sp_error ignored;
  snprintf(path, sizeof path, "%s/cgroup.procs", dir);
  bool busy = sp_read_file(path, 4096, &procs, NULL, &ignored) == 0 &&
              !blank(procs);
  free(procs);
  if (busy)
    sp_error_set(err, EEXIST, "cgroup: %s exists and has processes in it: "
                 "it is not this container's (pick another id, or set "
                 "linux.cgroupsPath)", dir);
  return busy;
}

/* Forget hierarchy I's directory. */
static void drop_dir(struct sp_cgroup *cg, size_t i) {
  size_t n = cg->dirs_len - i - 1;
  free(cg->dirs[i]);
  memmove(cg->dirs + i, cg->dirs + i + 1, n * sizeof *cg->dirs);
  if (cg->controllers) {
    free(cg->controllers[i]);
    memmove(cg->controllers + i, cg->controllers + i + 1,
            n * sizeof *cg->controllers);
  }
  if (cg->keep)
    memmove(cg->keep + i, cg->keep + i + 1, n * sizeof *cg->keep);
  cg->dirs_len--;
}

bool sp_cgroup_has_legacy(const struct sp_cgroup *cg) {
  for (size_t i = 0; i < cg->dirs_len; i++)
    if (*ctl_of(cg, i))
      return true;
  return false;
}

/* Hierarchy I is one of WHICH (SP_CG_*). */
static bool covers(const struct sp_cgroup *cg, size_t i, unsigned which) {
  return (which & (*ctl_of(cg, i) ? SP_CG_LEGACY : SP_CG_UNIFIED)) != 0;
}

int sp_cgroup_create(struct sp_cgroup *cg, struct sp_error *err) {
  return sp_cgroup_create_in(cg, SP_CG_ALL, err);
}

int sp_cgroup_create_in(struct sp_cgroup *cg, unsigned which,
                        struct sp_error *err) {
  if (cg->dirs_len == 0)
    return 0;
  size_t *from = calloc(cg->dirs_len, sizeof *from);
  if (!from)
    return sp_error_sys(err, "cgroup: create");
  for (size_t i = 0; i < cg->dirs_len; i++) {
    from[i] = SIZE_MAX;
    if (!covers(cg, i, which))
      continue;
    bool theirs = false;
    if (create_one(cg->dirs[i], sp_cg_list_has(ctl_of(cg, i), "cpuset"),
                   &from[i], err) < 0 ||
        (theirs = from[i] == SIZE_MAX && cg->by_id &&
                  populated(cg->dirs[i], err))) {
      size_t bad = i;
      while (i-- > 0)
        if (from[i] != SIZE_MAX)
          rmdir_up(cg->dirs[i], from[i]);
      free(from);
      /* the destroy that follows (of what an earlier call made) must not
       * kill or remove anything in it */
      if (theirs)
        drop_dir(cg, bad);
      return -1;
    }
  }
  /* the parents made here are sprout's to remove as well */
  for (size_t i = 0; cg->keep && i < cg->dirs_len; i++)
    if (from[i] < cg->keep[i])
      cg->keep[i] = from[i];
  free(from);
  return 0;
}

/* ---- enter, pids --------------------------------------------------------- */

int sp_cgroup_enter(const struct sp_cgroup *cg, pid_t pid, struct sp_error *err) {
  char num[32], path[4096];
  snprintf(num, sizeof num, "%d", (int)pid);
  for (size_t i = 0; i < cg->dirs_len; i++) {
    snprintf(path, sizeof path, "%s/cgroup.procs", cg->dirs[i]);
    if (sp_write_file(path, num, err) < 0)
      return sp_error_prefix(err, "cgroup: add pid %d", (int)pid);
  }
  return 0;
}

/* Append the pids of TEXT (one a line) to *V. */
static int parse_pids(const char *text, pid_t **v, size_t *n) {
  for (const char *p = text; *p;) {
    char *end;
    long x = strtol(p, &end, 10);
    if (end == p)
      break;
    if (x > 0) {
      pid_t *nv = realloc(*v, (*n + 1) * sizeof **v);
      if (!nv)
        return -1;
      *v = nv;
      (*v)[(*n)++] = (pid_t)x;
    }
    p = end + strspn(end, "\n");
  }
  return 0;
}

int sp_cgroup_pids(const struct sp_cgroup *cg, pid_t **pids, size_t *n,
                   struct sp_error *err) {
  *pids = NULL;
  *n = 0;
  if (cg->dirs_len == 0)
    return 0;
  /* pids or memory, else any v1 controller, else cgroup2; a named
   * hierarchy (name=systemd) only as the last resort */
  const char *dir = v1_dir(cg, "pids");
  if (!dir)
    dir = v1_dir(cg, "memory");
  for (size_t i = 0; !dir && i < cg->dirs_len; i++) {
    const char *c = ctl_of(cg, i);
    if (*c && strncmp(c, "name=", 5) != 0)
      dir = cg->dirs[i];
  }
  if (!dir)
    dir = sp_cgroup_dir(cg, NULL);
  if (!dir)
    dir = cg->dirs[0];
  char path[4096], *text = NULL;
  snprintf(path, sizeof path, "%s/cgroup.procs", dir);
  if (sp_read_file(path, PROCS_MAX, &text, NULL, err) < 0)
    return sp_error_prefix(err, "cgroup: list pids");
  int r = parse_pids(text, pids, n);
  free(text);
  if (r < 0) {
    free(*pids);
    *pids = NULL;
    *n = 0;
    return sp_error_errno(err, ENOMEM, "cgroup: list pids of %s", dir);
  }
  return 0;
}

/* ---- destroy ------------------------------------------------------------- */

/* 0: DIR is a cgroup that is not a hierarchy's root; 1: missing; -1: not
 * something destroy may touch. */
static int check_dir(const char *dir) {
  struct statfs sfs;
  struct stat st, pst;
  if (statfs(dir, &sfs) < 0)
    return errno == ENOENT ? 1 : -1;
  if (sfs.f_type != CGROUP_SUPER_MAGIC && sfs.f_type != CGROUP2_SUPER_MAGIC)
    return -1;
  char *parent = strndup(dir, (size_t)(strrchr(dir, '/') - dir));
  int r = parent && stat(dir, &st) == 0 && stat(parent, &pst) == 0 &&
                  S_ISDIR(st.st_mode) && st.st_dev == pst.st_dev
              ? 0
              : -1;
  free(parent);
  return r;
}

/* The pids in the cgroup at DIRFD and every cgroup below it. */
static int collect_at(int dirfd, int depth, pid_t **v, size_t *n) {
  char *text = NULL;
  if (sp_read_fileat(dirfd, "cgroup.procs", PROCS_MAX, &text, NULL, NULL) == 0) {
    int r = parse_pids(text, v, n);
    free(text);
    if (r < 0)
      return -1;
  }
  if (depth >= TREE_DEPTH_MAX)
    return 0;
  int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = fd < 0 ? NULL : fdopendir(fd);
  if (!d) {
    if (fd >= 0)
      close(fd);
    return 0;
  }
  for (struct dirent *de; (de = readdir(d));) {
    if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 ||
        strcmp(de->d_name, "..") == 0)
      continue;
    int sub = openat(dirfd, de->d_name,
                     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sub < 0)
      continue;
    int r = collect_at(sub, depth + 1, v, n);
    close(sub);
    if (r < 0) {
      closedir(d);
      return -1;
    }
  }
  closedir(d);
  return 0;
}

static int collect(const struct sp_cgroup *cg, const bool *usable, pid_t **v,
                   size_t *n) {
  *v = NULL;
  *n = 0;
  for (size_t i = 0; i < cg->dirs_len; i++) {
    if (!usable[i])
      continue;
    int fd = open(cg->dirs[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
      continue;
    int r = collect_at(fd, 0, v, n);
    close(fd);
    if (r < 0)
      return -1;
  }
  return 0;
}

/* SIGKILL every process in the container's cgroups (and below), until none
 * is left or KILL_TIMEOUT_MS passed.  cgroup2's cgroup.kill first; with a v1
 * freezer the processes are frozen while signalled, so none forks away. */
static int kill_all(const struct sp_cgroup *cg, const bool *usable,
                    struct sp_error *err) {
  const char *freezer = NULL;
  char path[4096];
  long deadline = now_ms() + KILL_TIMEOUT_MS, wait = 1;
  for (size_t i = 0; i < cg->dirs_len; i++)
    if (usable[i] && sp_cg_list_has(ctl_of(cg, i), "freezer"))
      freezer = cg->dirs[i];
  for (bool first = true;; first = false) {
    pid_t *pids;
    size_t n;
    if (collect(cg, usable, &pids, &n) < 0)
      return sp_error_errno(err, ENOMEM, "cgroup: list processes");
    if (n == 0) {
      free(pids);
      return 0;
    }
    if (now_ms() > deadline) {
      sp_error_errno(err, EBUSY,
                     "cgroup: %zu process(es) (pid %d) still in %s after %d ms",
                     n, (int)pids[0], cg->dirs[0], KILL_TIMEOUT_MS);
      free(pids);
      return -1;
    }
    for (size_t i = 0; first && i < cg->dirs_len; i++) {
      if (!usable[i] || *ctl_of(cg, i))
        continue;
      snprintf(path, sizeof path, "%s/cgroup.kill", cg->dirs[i]);
      sp_write_file(path, "1", NULL); /* missing before Linux 5.14 */
    }
    if (freezer) {
      snprintf(path, sizeof path, "%s/freezer.state", freezer);
      if (sp_write_file(path, "FROZEN", NULL) == 0) {
        free(pids);
        if (collect(cg, usable, &pids, &n) < 0) {
          sp_write_file(path, "THAWED", NULL);
          return sp_error_errno(err, ENOMEM, "cgroup: list processes");
        }
      }
    }
    for (size_t i = 0; i < n; i++)
      kill(pids[i], SIGKILL);
    free(pids);
    if (freezer)
      sp_write_file(path, "THAWED", NULL);
    sleep_ms(wait);
    if (wait < 50)
      wait *= 2;
  }
}

/* Remove the cgroups below DIRFD, deepest first. */
static void rmdir_children_at(int dirfd, int depth) {
  if (depth >= TREE_DEPTH_MAX)
    return;
  int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = fd < 0 ? NULL : fdopendir(fd);
  if (!d) {
    if (fd >= 0)
      close(fd);
    return;
  }
  for (struct dirent *de; (de = readdir(d));) {
    if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 ||
        strcmp(de->d_name, "..") == 0)
      continue;
    int sub = openat(dirfd, de->d_name,
                     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sub < 0)
      continue;
    rmdir_children_at(sub, depth + 1);
    close(sub);
    unlinkat(dirfd, de->d_name, AT_REMOVEDIR);
  }
  closedir(d);
}

/* rmdir the container's cgroup DIR (and the cgroups below it); EBUSY, while
 * the last killed processes are being reaped, is retried. */
static int remove_dir(const char *dir, int tries_max, struct sp_error *err) {
  for (int tries = 0;; tries++) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
      rmdir_children_at(fd, 0);
      close(fd);
    }
    if (rmdir(dir) == 0 || errno == ENOENT)
      return 0;
    if ((errno != EBUSY && errno != ENOTEMPTY) || tries >= tries_max)
      return sp_error_sys(err, "cgroup: rmdir %s", dir);
    sleep_ms(10);
  }
}

int sp_cgroup_destroy(const struct sp_cgroup *cg, struct sp_error *err) {
  if (cg->dirs_len == 0)
    return 0;
  bool *usable = calloc(cg->dirs_len, sizeof *usable);
  struct sp_error first = {0};
  int r = 0;
  if (!usable)
    return sp_error_sys(err, "cgroup: destroy");
  bool *gone = calloc(cg->dirs_len, sizeof *gone);
  if (!gone) {
    free(usable);
    return sp_error_sys(err, "cgroup: destroy");
  }
  for (size_t i = 0; i < cg->dirs_len; i++) {
    int c = check_dir(cg->dirs[i]);
    usable[i] = c == 0;
    if (c < 0 && r == 0)
      r = sp_error_set(&first, EINVAL,
                       "cgroup: refusing to destroy %s: not a cgroup below a "
                       "hierarchy's root",
                       cg->dirs[i]);
    /* the common case after the workload exited: a cgroup with no process
     * and no child goes with one rmdir (the kernel refuses any other), no
     * need to list or kill anything in it */
    if (usable[i] && rmdir(cg->dirs[i]) == 0) {
      usable[i] = false;
      gone[i] = true;
    }
  }
  struct sp_error ke = {0};
  bool left = kill_all(cg, usable, &ke) < 0;
  if (left && r == 0) {
    first = ke;
    r = -1;
  }
  for (size_t i = 0; i < cg->dirs_len; i++) {
    if (!usable[i] && !gone[i])
      continue;
    struct sp_error e = {0};
    /* processes left: no point in waiting for them */
    if (!gone[i] && remove_dir(cg->dirs[i], left ? 0 : RMDIR_TRIES, &e) < 0) {
      if (r == 0)
        first = e;
      r = -1;
      continue;
    }
    /* the parents sprout made, while empty: another container may still
     * use them (ENOTEMPTY, EBUSY), which ends the walk quietly */
    if (cg->keep && cg->keep[i] < strlen(cg->dirs[i])) {
      char *slash = strrchr(cg->dirs[i], '/');
      size_t plen = (size_t)(slash - cg->dirs[i]);
      if (plen > cg->keep[i]) {
        char *parent = strndup(cg->dirs[i], plen);
        if (parent)
          rmdir_up(parent, cg->keep[i]);
        free(parent);
      }
    }
  }
  free(usable);
  free(gone);
  if (r < 0 && err)
    *err = first;
  return r;
}
