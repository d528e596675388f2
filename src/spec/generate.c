/* sprout — the default config.json that `sprout spec` writes.
 *
 * The config runs `sh` out of the box in a busybox root file system at
 * bundle/rootfs.  Keys come in the order runc's `runc spec` writes them, so
 * the two outputs diff cleanly; the differences are deliberate:
 *   - ociVersion is the version sprout implements (SP_SPEC_VERSION);
 *   - process.terminal is false, so `sprout run` works without a tty or a
 *     console socket (runc defaults to true);
 *   - no ambient capabilities: an ambient capability also needs to be in the
 *     inheritable set, and the default has none (newer runc dropped them too);
 *   - hostname is "sprout";
 *   - the cgroup namespace is always in the list (runc adds it only on a
 *     cgroup v2 host).
 * With `rootless`, the config is adjusted the way `runc spec --rootless`
 * does it: a user namespace mapping container root to the calling user, no
 * network namespace (creating one is of little use without a way to
 * connect it), /sys bind-mounted from the host (mounting a new sysfs needs
 * a network namespace owned by the new user namespace, and the host's one
 * is kept), no gid=5 on devpts (that group is not mapped) and no cgroup
 * device rules (an unprivileged user cannot apply them).
 */
#include "sprout/spec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

struct gen {
  yajl_gen g;
  yajl_gen_status st; /* first failure, sticky */
};

static void check(struct gen *w, yajl_gen_status st) {
  if (w->st == yajl_gen_status_ok)
    w->st = st;
}

static void str(struct gen *w, const char *s) {
  check(w, yajl_gen_string(w->g, (const unsigned char *)s, strlen(s)));
}

static void num(struct gen *w, long long n) {
  check(w, yajl_gen_integer(w->g, n));
}

static void boolean(struct gen *w, bool b) { check(w, yajl_gen_bool(w->g, b)); }

static void map_open(struct gen *w) { check(w, yajl_gen_map_open(w->g)); }
static void map_close(struct gen *w) { check(w, yajl_gen_map_close(w->g)); }
static void arr_open(struct gen *w) { check(w, yajl_gen_array_open(w->g)); }
static void arr_close(struct gen *w) { check(w, yajl_gen_array_close(w->g)); }

static void kv_str(struct gen *w, const char *key, const char *value) {
  str(w, key);
  str(w, value);
}

static void kv_num(struct gen *w, const char *key, long long value) {
  str(w, key);
  num(w, value);
}

static void kv_bool(struct gen *w, const char *key, bool value) {
  str(w, key);
  boolean(w, value);
}

/* "key": ["a", "b", ...] from a NULL-terminated list. */
static void kv_strs(struct gen *w, const char *key, const char *const *list) {
  str(w, key);
  arr_open(w);
  for (; *list; list++)
    str(w, *list);
  arr_close(w);
}

/* ---- the defaults ------------------------------------------------------ */

static const char *const default_args[] = {"sh", NULL};

static const char *const default_env[] = {
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "TERM=xterm",
    NULL,
};

static const char *const default_caps[] = {
    "CAP_AUDIT_WRITE",
    "CAP_KILL",
    "CAP_NET_BIND_SERVICE",
    NULL,
};

static const char *const masked_paths[] = {
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/sys/firmware",
    "/proc/scsi",
    NULL,
};

static const char *const readonly_paths[] = {
    "/proc/bus",           "/proc/fs", "/proc/irq", "/proc/sys",
    "/proc/sysrq-trigger", NULL,
};

struct default_mount {
  const char *destination;
  const char *type;
  const char *source;
  const char *const *options; /* NULL: no "options" key */
};

#define OPTS(...) ((const char *const[]){__VA_ARGS__, NULL})

static const struct default_mount mounts_head[] = {
    {"/proc", "proc", "proc", NULL},
    {"/dev", "tmpfs", "tmpfs",
     OPTS("nosuid", "strictatime", "mode=755", "size=65536k")},
};

static const struct default_mount devpts_mount = {
    "/dev/pts",
    "devpts",
    "devpts",
    OPTS("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620",
         "gid=5"),
};

static const struct default_mount devpts_mount_rootless = {
    "/dev/pts",
    "devpts",
    "devpts",
    OPTS("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"),
};

static const struct default_mount mounts_mid[] = {
    {"/dev/shm", "tmpfs", "shm",
     OPTS("nosuid", "noexec", "nodev", "mode=1777", "size=65536k")},
    {"/dev/mqueue", "mqueue", "mqueue", OPTS("nosuid", "noexec", "nodev")},
};

static const struct default_mount sys_mount = {
    "/sys",
    "sysfs",
    "sysfs",
    OPTS("nosuid", "noexec", "nodev", "ro"),
};

static const struct default_mount sys_mount_rootless = {
    "/sys",
    "none",
    "/sys",
    OPTS("rbind", "nosuid", "noexec", "nodev", "ro"),
};

static const struct default_mount cgroup_mount = {
    "/sys/fs/cgroup",
    "cgroup",
    "cgroup",
    OPTS("nosuid", "noexec", "nodev", "relatime", "ro"),
};

static void gen_mount(struct gen *w, const struct default_mount *m) {
  map_open(w);
  kv_str(w, "destination", m->destination);
  kv_str(w, "type", m->type);
  kv_str(w, "source", m->source);
  if (m->options)
    kv_strs(w, "options", m->options);
  map_close(w);
}

/* ---- sections ---------------------------------------------------------- */

static void gen_process(struct gen *w) {
  str(w, "process");
  map_open(w);
  kv_bool(w, "terminal", false);
  str(w, "user");
  map_open(w);
  kv_num(w, "uid", 0);
  kv_num(w, "gid", 0);
  map_close(w);
  kv_strs(w, "args", default_args);
  kv_strs(w, "env", default_env);
  kv_str(w, "cwd", "/");

  str(w, "capabilities");
  map_open(w);
  kv_strs(w, "bounding", default_caps);
  kv_strs(w, "effective", default_caps);
  kv_strs(w, "permitted", default_caps);
  map_close(w);

  str(w, "rlimits");
  arr_open(w);
  map_open(w);
  kv_str(w, "type", "RLIMIT_NOFILE");
  kv_num(w, "hard", 1024);
  kv_num(w, "soft", 1024);
  map_close(w);
  arr_close(w);

  kv_bool(w, "noNewPrivileges", true);
  map_close(w);
}

static void gen_mounts(struct gen *w, bool rootless) {
  str(w, "mounts");
  arr_open(w);
  for (size_t i = 0; i < sizeof(mounts_head) / sizeof(mounts_head[0]); i++)
    gen_mount(w, &mounts_head[i]);
  gen_mount(w, rootless ? &devpts_mount_rootless : &devpts_mount);
  for (size_t i = 0; i < sizeof(mounts_mid) / sizeof(mounts_mid[0]); i++)
    gen_mount(w, &mounts_mid[i]);
  gen_mount(w, rootless ? &sys_mount_rootless : &sys_mount);
  gen_mount(w, &cgroup_mount);
  arr_close(w);
}

static void gen_idmap(struct gen *w, const char *key, unsigned long host_id) {
  str(w, key);
  arr_open(w);
  map_open(w);
  kv_num(w, "containerID", 0);
  kv_num(w, "hostID", (long long)host_id);
  kv_num(w, "size", 1);
  map_close(w);
  arr_close(w);
}

static void gen_linux(struct gen *w, bool rootless) {
  static const char *const ns_root[] = {
      "pid", "network", "ipc", "uts", "mount", "cgroup", NULL,
  };
  /* as runc: the network namespace goes, the user namespace comes last */
  static const char *const ns_rootless[] = {
      "pid", "ipc", "uts", "mount", "cgroup", "user", NULL,
  };

  str(w, "linux");
  map_open(w);
  if (rootless) {
    gen_idmap(w, "uidMappings", (unsigned long)getuid());
    gen_idmap(w, "gidMappings", (unsigned long)getgid());
  } else {
    str(w, "resources");
    map_open(w);
    str(w, "devices");
    arr_open(w);
    map_open(w);
    kv_bool(w, "allow", false);
    kv_str(w, "access", "rwm");
    map_close(w);
    arr_close(w);
    map_close(w);
  }

  str(w, "namespaces");
  arr_open(w);
  for (const char *const *ns = rootless ? ns_rootless : ns_root; *ns; ns++) {
    map_open(w);
    kv_str(w, "type", *ns);
    map_close(w);
  }
  arr_close(w);

  kv_strs(w, "maskedPaths", masked_paths);
  kv_strs(w, "readonlyPaths", readonly_paths);
  map_close(w);
}

char *sp_spec_generate(bool rootless, struct sp_error *err) {
  struct gen w = {.st = yajl_gen_status_ok};
  const unsigned char *buf;
  size_t len;
  char *out = NULL;

  w.g = yajl_gen_alloc(NULL);
  if (w.g == NULL) {
    sp_error_errno(err, ENOMEM, "generating the default config");
    return NULL;
  }
  yajl_gen_config(w.g, yajl_gen_beautify, 1);
  yajl_gen_config(w.g, yajl_gen_indent_string, "\t");

  map_open(&w);
  kv_str(&w, "ociVersion", SP_SPEC_VERSION);
  gen_process(&w);
  str(&w, "root");
  map_open(&w);
  kv_str(&w, "path", "rootfs");
  kv_bool(&w, "readonly", true);
  map_close(&w);
  kv_str(&w, "hostname", "sprout");
  gen_mounts(&w, rootless);
  gen_linux(&w, rootless);
  map_close(&w);

  if (w.st != yajl_gen_status_ok) {
    sp_error_set(err, 0,
                 "generating the default config: JSON generator "
                 "error %d",
                 (int)w.st);
    goto out;
  }
  if (yajl_gen_get_buf(w.g, &buf, &len) != yajl_gen_status_ok) {
    sp_error_set(err, 0, "generating the default config: no output");
    goto out;
  }
  /* yajl ends a beautified document with a newline; make sure of it */
  out = malloc(len + 2);
  if (out == NULL) {
    sp_error_errno(err, ENOMEM, "generating the default config");
    goto out;
  }
  memcpy(out, buf, len);
  if (len == 0 || out[len - 1] != '\n')
    out[len++] = '\n';
  out[len] = '\0';
out:
  yajl_gen_free(w.g);
  return out;
}
