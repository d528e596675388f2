/* The state directory: claimed with mkdir, locked with flock, state.json
 * written atomically (tmp + rename). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <linux/fs.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "sprout/cgroup.h"
#include "sprout/parse.h"
#include "sprout/state.h"
#include "sprout/util.h"

static const char *status_names[] = {"creating", "created", "running", "paused",
                                     "stopped"};

const char *sp_status_name(enum sp_status st) { return status_names[st]; }

static int lock_fd(int fd, int lock, const char *id, struct sp_error *err) {
  if (lock == SP_LOCK_NONE)
    return 0;
  while (flock(fd, lock == SP_LOCK_EX ? LOCK_EX : LOCK_SH) < 0) {
    if (errno != EINTR)
      return sp_error_sys(err, "lock container %s", id);
  }
  return 0;
}

int sp_state_claim(const char *root, const char *id, struct sp_error *err) {
  if (sp_mkdir_p(root, 0700, err) < 0)
    return sp_error_prefix(err, "state root");
  int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    return sp_error_sys(err, "open state root %s", root);
  if (mkdirat(rootfd, id, 0711) < 0) {
    int e = errno;
    close(rootfd);
    if (e == EEXIST)
      return sp_error_set(err, EEXIST, "container \"%s\" already exists", id);
    return sp_error_errno(err, e, "create state dir %s/%s", root, id);
  }
  int fd = openat(rootfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  close(rootfd);
  if (fd < 0)
    return sp_error_sys(err, "open state dir %s/%s", root, id);
  if (lock_fd(fd, SP_LOCK_EX, id, err) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

int sp_state_open(const char *root, const char *id, int lock,
                  struct sp_error *err) {
  if (sp_id_validate(id, err) < 0)
    return -1;
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", root, id);
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR)
      return sp_error_set(err, ENOENT, "container \"%s\" does not exist", id);
    return sp_error_sys(err, "open state dir %s", path);
  }
  if (lock_fd(fd, lock, id, err) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

int sp_state_save(int dirfd, const struct sp_state *st, struct sp_error *err) {
  sp_json g = sp_json_new(false);
  sp_json_map_open(g);
  sp_json_kstr(g, "id", st->id);
  sp_json_kint(g, "pid", st->pid);
  sp_json_kint(g, "pid_start", (long long)st->pid_start);
  sp_json_kstr(g, "bundle", st->bundle);
  sp_json_kstr(g, "rootfs", st->rootfs);
  sp_json_kstr(g, "created", st->created);
  sp_json_kstr(g, "owner", st->owner ? st->owner : "");
  sp_json_kstr(g, "cgroup_mode", st->cgroup_mode);
  sp_json_kstr(g, "cgroup_path", st->cgroup_path);
  sp_json_kbool(g, "pidns", st->pidns);
  sp_json_key(g, "annotations");
  sp_json_map_open(g);
  for (size_t i = 0; i < st->annotations_len; i++)
    sp_json_kstr(g, st->annotations[i].key, st->annotations[i].value);
  sp_json_map_close(g);
  sp_json_map_close(g);
  size_t len;
  char *buf = sp_json_finish(g, &len);
  if (!buf)
    return sp_error_errno(err, ENOMEM, "encode state");
  /* atomic: a new file in the state dir, then swapped in (see below) */
  char tmp[64];
  snprintf(tmp, sizeof tmp, "%s.tmp-%d", SP_STATE_FILE, (int)getpid());
  int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    free(buf);
    return sp_error_sys(err, "write state.json");
  }
  int r = sp_write_all(fd, buf, len);
  free(buf);
  if (r < 0 || close(fd) < 0)
    goto fail;
  /* Over an existing state.json: exchanged (RENAME_EXCHANGE), then the old
   * one unlinked.  Readers see the old or the new file whole, as with a
   * rename over it; but ext4 writes out a file renamed over another
   * (auto_da_alloc), so every replaced state.json used to reach the disk,
   * and on a file system mounted with discard and no journal (the root of
   * these VMs) its deletion then waited for a synchronous discard: 5% of
   * the time of 100 containers made by 2 workers (bench case 5).  Files
   * that live milliseconds now never leave the page cache.  The first save
   * (nothing to exchange with) and file systems without RENAME_EXCHANGE
   * take the plain rename (so does any other failure of the exchange). */
  if (syscall(SYS_renameat2, dirfd, tmp, dirfd, SP_STATE_FILE, RENAME_EXCHANGE) == 0) {
    unlinkat(dirfd, tmp, 0);
    return 0;
  }
  if (renameat(dirfd, tmp, dirfd, SP_STATE_FILE) == 0)
    return 0;
fail:
  sp_error_sys(err, "write state.json");
  unlinkat(dirfd, tmp, 0);
  return -1;
}

static char *dup_str(yajl_val root, const char *key) {
  const char *path[] = {key, NULL};
  yajl_val v = yajl_tree_get(root, path, yajl_t_string);
  const char *s = v ? YAJL_GET_STRING(v) : NULL;
  return strdup(s ? s : "");
}

static long long get_int(yajl_val root, const char *key) {
  const char *path[] = {key, NULL};
  yajl_val v = yajl_tree_get(root, path, yajl_t_number);
  return v && YAJL_IS_INTEGER(v) ? YAJL_GET_INTEGER(v) : 0;
}

int sp_state_load(int dirfd, const char *id, struct sp_state *st,
                  struct sp_error *err) {
  memset(st, 0, sizeof *st);
  char *buf = NULL;
  struct sp_error e2;
  if (sp_read_fileat(dirfd, SP_STATE_FILE, 1 << 20, &buf, NULL, &e2) < 0) {
    if (e2.code != ENOENT) {
      *err = e2;
      return sp_error_prefix(err, "container \"%s\"", id);
    }
    st->id = strdup(id);
    st->bundle = strdup("");
    st->rootfs = strdup("");
    st->created = strdup("");
    st->owner = strdup("");
    st->cgroup_mode = strdup("disabled");
    st->cgroup_path = strdup("");
    return 0;
  }
  char ebuf[256];
  yajl_val root = yajl_tree_parse(buf, ebuf, sizeof ebuf);
  free(buf);
  if (!root || !YAJL_IS_OBJECT(root)) {
    yajl_tree_free(root);
    return sp_error_set(err, 0, "container \"%s\": state.json is corrupt", id);
  }
  st->id = dup_str(root, "id");
  st->pid = (pid_t)get_int(root, "pid");
  st->pid_start = (uint64_t)get_int(root, "pid_start");
  st->bundle = dup_str(root, "bundle");
  st->rootfs = dup_str(root, "rootfs");
  st->created = dup_str(root, "created");
  st->owner = dup_str(root, "owner");
  st->cgroup_mode = dup_str(root, "cgroup_mode");
  st->cgroup_path = dup_str(root, "cgroup_path");
  const char *pp[] = {"pidns", NULL};
  st->pidns = YAJL_IS_TRUE(yajl_tree_get(root, pp, yajl_t_true));
  const char *ap[] = {"annotations", NULL};
  yajl_val ann = yajl_tree_get(root, ap, yajl_t_object);
  if (ann && YAJL_GET_OBJECT(ann)->len) {
    size_t n = YAJL_GET_OBJECT(ann)->len;
    st->annotations = calloc(n, sizeof *st->annotations);
    for (size_t i = 0; st->annotations && i < n; i++) {
      yajl_val v = YAJL_GET_OBJECT(ann)->values[i];
      st->annotations[i].key = strdup(YAJL_GET_OBJECT(ann)->keys[i]);
      st->annotations[i].value = strdup(YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : "");
      st->annotations_len++;
    }
  }
  yajl_tree_free(root);
  return 0;
}

void sp_state_free(struct sp_state *st) {
  free(st->id);
  free(st->bundle);
  free(st->rootfs);
  free(st->created);
  free(st->owner);
  free(st->cgroup_mode);
  free(st->cgroup_path);
  for (size_t i = 0; i < st->annotations_len; i++) {
    free(st->annotations[i].key);
    free(st->annotations[i].value);
  }
  free(st->annotations);
  memset(st, 0, sizeof *st);
}

/* Is the init alive (not a zombie) and the same process we started? */
static bool init_alive(const struct sp_state *st) {
  if (st->pid <= 0)
    return false;
  char path[64], *data = NULL;
  snprintf(path, sizeof path, "/proc/%d/stat", (int)st->pid);
  if (sp_read_file(path, 4096, &data, NULL, NULL) < 0)
    return false;
  char *p = strrchr(data, ')');
  bool zombie = p && (p[2] == 'Z' || p[2] == 'X');
  free(data);
  if (zombie)
    return false;
  return sp_proc_start_time(st->pid) == st->pid_start;
}

static bool frozen(const struct sp_state *st) {
  enum sp_cgroup_mode mode;
  if (sp_cgroup_mode_from_name(st->cgroup_mode, &mode) < 0 || mode == SP_CGROUP_DISABLED)
    return false;
  struct sp_cgroup cg = {0};
  if (sp_cgroup_from_string(mode, st->cgroup_path, &cg, NULL) < 0)
    return false;
  bool r = false;
  char path[4096], *data = NULL;
  const char *dir = sp_cgroup_dir(&cg, mode == SP_CGROUP_V2 ? NULL : "freezer");
  if (dir) {
    snprintf(path, sizeof path, "%s/%s", dir,
             mode == SP_CGROUP_V2 ? "cgroup.freeze" : "freezer.state");
    if (sp_read_file(path, 64, &data, NULL, NULL) == 0)
      r = mode == SP_CGROUP_V2 ? data[0] == '1'
                               : strncmp(data, "FROZEN", 6) == 0 ||
                                     strncmp(data, "FREEZING", 8) == 0;
  }
  free(data);
  sp_cgroup_free(&cg);
  return r;
}

/* exec.fifo exists: is the init still waiting on it?  It holds the fifo
 * (an O_PATH fd) until `start` releases it and closes it before execve, so
 * a fifo left by a `start` killed between releasing the init and removing
 * the fifo does not make a running workload read "created" (and a second
 * start wait forever).  When /proc/PID/fd cannot be read, the fifo decides. */
static bool init_waits(int statefd, pid_t pid) {
  struct stat fifo, st;
  if (fstatat(statefd, SP_EXEC_FIFO, &fifo, AT_SYMLINK_NOFOLLOW) < 0)
    return false;
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
  DIR *d = opendir(path);
  if (!d)
    return true;
  bool found = false, any = false;
  struct dirent *e;
  while (!found && (e = readdir(d))) {
    if (e->d_name[0] == '.')
      continue;
    any = true;
    found = fstatat(dirfd(d), e->d_name, &st, 0) == 0 && st.st_dev == fifo.st_dev &&
            st.st_ino == fifo.st_ino;
  }
  closedir(d);
  return found || !any;
}

enum sp_status sp_state_status(int dirfd, const struct sp_state *st) {
  /* no "created" time yet: the create has not completed (its init has not
   * reported READY, or the create was killed before recording it) */
  if (!*st->created)
    return init_alive(st) ? SP_STATUS_CREATING : SP_STATUS_STOPPED;
  if (!init_alive(st))
    return SP_STATUS_STOPPED;
  if (init_waits(dirfd, st->pid))
    return SP_STATUS_CREATED;
  if (frozen(st))
    return SP_STATUS_PAUSED;
  return SP_STATUS_RUNNING;
}

int sp_state_remove(const char *root, const char *id, struct sp_error *err) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", root, id);
  if (sp_rm_rf(path) < 0)
    return sp_error_sys(err, "remove state dir %s", path);
  return 0;
}

char *sp_state_to_json(const struct sp_state *st, enum sp_status status,
                       bool pretty) {
  sp_json g = sp_json_new(pretty);
  sp_json_map_open(g);
  sp_json_kstr(g, "ociVersion", SP_SPEC_VERSION);
  sp_json_kstr(g, "id", st->id);
  sp_json_kint(g, "pid", status == SP_STATUS_STOPPED ? 0 : st->pid);
  /* "creating" (a spec state): a create still running, or one killed before
   * it completed, whose init lives on; `delete --force` removes it */
  sp_json_kstr(g, "status", sp_status_name(status));
  sp_json_kstr(g, "bundle", st->bundle);
  sp_json_kstr(g, "rootfs", st->rootfs);
  sp_json_kstr(g, "created", st->created);
  if (st->annotations_len > 0) { /* OPTIONAL in the spec; runc omits an empty map */
    sp_json_key(g, "annotations");
    sp_json_map_open(g);
    for (size_t i = 0; i < st->annotations_len; i++)
      sp_json_kstr(g, st->annotations[i].key, st->annotations[i].value);
    sp_json_map_close(g);
  }
  sp_json_kstr(g, "owner", st->owner);
  sp_json_map_close(g);
  return sp_json_finish(g, NULL);
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int sp_state_list(const char *root, char ***ids, size_t *n, struct sp_error *err) {
  *ids = NULL;
  *n = 0;
  DIR *d = opendir(root);
  if (!d) {
    if (errno == ENOENT)
      return 0;
    return sp_error_sys(err, "open state root %s", root);
  }
  size_t cap = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
        (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN))
      continue;
    struct sp_error ignored;
    if (sp_id_validate(e->d_name, &ignored) < 0)
      continue; /* not a container: e.g. "@cache" (seccomp programs) */
    if (*n == cap) {
      cap = cap ? cap * 2 : 16;
      char **v = realloc(*ids, cap * sizeof *v);
      if (!v)
        break;
      *ids = v;
    }
    (*ids)[(*n)++] = strdup(e->d_name);
  }
  closedir(d);
  if (*n)
    qsort(*ids, *n, sizeof **ids, cmp_str);
  return 0;
}
