/* Which cgroup hierarchies are mounted (/proc/self/mountinfo) and where the
 * runtime itself sits in each of them (/proc/self/cgroup). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup_internal.h"
#include "sprout/util.h"

bool sp_cg_list_has(const char *list, const char *word) {
  size_t wl = strlen(word);
  for (const char *p = list; *p;) {
    const char *e = strchr(p, ',');
    size_t l = e ? (size_t)(e - p) : strlen(p);
    if (l == wl && strncmp(p, word, l) == 0)
      return true;
    if (!e)
      break;
    p = e + 1;
  }
  return false;
}

static size_t list_count(const char *list) {
  size_t n = 0;
  for (const char *p = list; *p; p++)
    if (*p == ',')
      n++;
  return *list ? n + 1 : 0;
}

bool sp_cg_same_set(const char *a, const char *b) {
  if (list_count(a) != list_count(b))
    return false;
  char *copy = strdup(a), *save = NULL;
  bool same = copy != NULL;
  for (char *w = copy ? strtok_r(copy, ",", &save) : NULL; w && same;
       w = strtok_r(NULL, ",", &save))
    same = sp_cg_list_has(b, w);
  free(copy);
  return same;
}

void sp_cg_hier_free(struct sp_cg_hier *h, size_t n) {
  for (size_t i = 0; h && i < n; i++) {
    free(h[i].mount);
    free(h[i].controllers);
    free(h[i].root);
    free(h[i].own);
  }
  free(h);
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape_octal(char *s) {
  char *w = s;
  for (char *r = s; *r;) {
    if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' &&
        r[2] <= '7' && r[3] >= '0' && r[3] <= '7') {
      *w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
      r += 4;
    } else {
      *w++ = *r++;
    }
  }
  *w = '\0';
}

/* The controllers of a v1 mount from its super options ("rw,cpu,cpuacct",
 * "rw,name=systemd,xattr"): everything that is not a mount flag. */
static char *v1_controllers(const char *superopts) {
  static const char *const flags[] = {"rw",    "ro",           "noprefix",
                                      "xattr", "clone_children", "cpuset_v2_mode",
                                      "none",  "favordynmods",   NULL};
  struct sp_buf b = {0};
  char *copy = strdup(superopts), *save = NULL;
  if (!copy)
    return NULL;
  for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
    bool flag = false;
    for (size_t i = 0; flags[i] && !flag; i++)
      flag = strcmp(w, flags[i]) == 0;
    if (flag || (strchr(w, '=') && strncmp(w, "name=", 5) != 0))
      continue;
    if ((b.len && sp_buf_append(&b, ",", 1) < 0) ||
        sp_buf_append(&b, w, strlen(w)) < 0)
      goto oom;
  }
  free(copy);
  if (sp_buf_append(&b, "", 1) < 0) {
    sp_buf_free(&b);
    return NULL;
  }
  return b.data;
oom:
  free(copy);
  sp_buf_free(&b);
  return NULL;
}

static int rank(const struct sp_cg_hier *h) {
  if (h->v2)
    return 4;
  if (sp_cg_list_has(h->controllers, "pids"))
    return 0;
  if (sp_cg_list_has(h->controllers, "memory"))
    return 1;
  if (strncmp(h->controllers, "name=", 5) == 0 && !strchr(h->controllers, ','))
    return 3;
  return 2;
}

static int add(struct sp_cg_hier **v, size_t *n, const char *mount,
               const char *controllers, const char *root, bool v2) {
  struct sp_cg_hier *nv = realloc(*v, (*n + 1) * sizeof **v);
  if (!nv)
    return -1;
  *v = nv;
  struct sp_cg_hier *h = &nv[*n];
  memset(h, 0, sizeof *h);
  h->mount = strdup(mount);
  h->controllers = strdup(controllers);
  h->root = strdup(root);
  h->own = strdup("/");
  h->v2 = v2;
  (*n)++;
  if (!h->mount || !h->controllers || !h->root || !h->own)
    return -1;
  /* keep the list sorted by rank, stable */
  for (size_t i = *n - 1; i > 0 && rank(&nv[i - 1]) > rank(&nv[i]); i--) {
    struct sp_cg_hier t = nv[i];
    nv[i] = nv[i - 1];
    nv[i - 1] = t;
  }
  return 0;
}

/* Split one mountinfo line into the fields we use; false when malformed. */
static bool mountinfo_fields(char *line, char **devno, char **root,
                             char **mnt, char **fstype, char **superopts) {
  char *f[6], *save = NULL, *w = strtok_r(line, " ", &save);
  size_t i = 0;
  for (; w && i < 6; w = strtok_r(NULL, " ", &save))
    f[i++] = w;
  if (i < 6)
    return false;
  /* optional fields up to the "-" separator */
  while (w && strcmp(w, "-") != 0)
    w = strtok_r(NULL, " ", &save);
  if (!w || !(*fstype = strtok_r(NULL, " ", &save)) ||
      !strtok_r(NULL, " ", &save) ||
      !(*superopts = strtok_r(NULL, " ", &save)))
    return false;
  *devno = f[2];
  *root = f[3];
  *mnt = f[4];
  unescape_octal(*root);
  unescape_octal(*mnt);
  return true;
}

int sp_cg_parse_mountinfo(const char *text, enum sp_cgroup_mode mode,
                          struct sp_cg_hier **out, size_t *n,
                          struct sp_error *err) {
  struct sp_cg_hier *v = NULL;
  size_t len = 0;
  char *copy = strdup(text), *save = NULL;
  /* one entry per superblock: a hierarchy mounted twice counts once */
  char **seen = NULL;
  size_t seen_len = 0;
  const char *v2_mount = mode == SP_CGROUP_V2       ? SP_CGROUP_ROOT
                         : mode == SP_CGROUP_HYBRID ? SP_CGROUP_UNIFIED
                                                    : NULL;
  bool v2_found = false;

  *out = NULL;
  *n = 0;
  if (mode == SP_CGROUP_DISABLED) {
    free(copy);
    return 0;
  }
  if (!copy)
    return sp_error_sys(err, "cgroup: read /proc/self/mountinfo");
  for (char *line = strtok_r(copy, "\n", &save); line;
       line = strtok_r(NULL, "\n", &save)) {
    char *devno, *root, *mnt, *fstype, *superopts;
    if (!mountinfo_fields(line, &devno, &root, &mnt, &fstype, &superopts))
      continue;
    if (strcmp(fstype, "cgroup2") == 0 && v2_mount && !v2_found &&
        strcmp(mnt, v2_mount) == 0) {
      if (add(&v, &len, mnt, "", root, true) < 0)
        goto oom;
      v2_found = true;
      continue;
    }
    if (strcmp(fstype, "cgroup") != 0 || mode == SP_CGROUP_V2 ||
        strncmp(mnt, SP_CGROUP_ROOT "/", sizeof SP_CGROUP_ROOT) != 0 ||
        strchr(mnt + sizeof SP_CGROUP_ROOT, '/'))
      continue;
    bool dup = false;
    for (size_t i = 0; i < seen_len && !dup; i++)
      dup = strcmp(seen[i], devno) == 0;
    if (dup)
      continue;
    char **ns = realloc(seen, (seen_len + 1) * sizeof *seen);
    if (!ns)
      goto oom;
    seen = ns;
    if (!(seen[seen_len] = strdup(devno)))
      goto oom;
    seen_len++;
    char *ctl = v1_controllers(superopts);
    if (!ctl)
      goto oom;
    int r = *ctl ? add(&v, &len, mnt, ctl, root, false) : 0;
    free(ctl);
    if (r < 0)
      goto oom;
  }
  /* v2: the mount may not be visible (a test of v2 paths on a v1 host);
   * the path is still well defined */
  if (v2_mount && !v2_found && add(&v, &len, v2_mount, "", "/", true) < 0)
    goto oom;
  sp_strv_free(seen, seen_len);
  free(copy);
  if ((mode == SP_CGROUP_V1 || mode == SP_CGROUP_HYBRID) &&
      (len == 0 || (len == 1 && v[0].v2))) {
    sp_cg_hier_free(v, len);
    return sp_error_set(err, ENOENT,
                        "cgroup: no cgroup v1 hierarchy mounted under "
                        SP_CGROUP_ROOT);
  }
  *out = v;
  *n = len;
  return 0;
oom:
  sp_strv_free(seen, seen_len);
  free(copy);
  sp_cg_hier_free(v, len);
  return sp_error_errno(err, ENOMEM, "cgroup: read /proc/self/mountinfo");
}

int sp_cg_fill_own(struct sp_cg_hier *h, size_t n, const char *text) {
  char *copy = strdup(text), *save = NULL;
  if (!copy)
    return -1;
  for (char *line = strtok_r(copy, "\n", &save); line;
       line = strtok_r(NULL, "\n", &save)) {
    /* "ID:CONTROLLERS:PATH"; PATH may contain ':' */
    char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c2 || c2[1] != '/')
      continue;
    *c1 = *c2 = '\0';
    const char *ctl = c1 + 1, *path = c2 + 1;
    bool v2 = strcmp(line, "0") == 0 && *ctl == '\0';
    for (size_t i = 0; i < n; i++) {
      if (h[i].v2 != v2 || (!v2 && !sp_cg_same_set(ctl, h[i].controllers)))
        continue;
      /* less the mount's root: "/a/b" inside a mount of "/a" is "/b" */
      const char *rest = path;
      size_t rl = strlen(h[i].root);
      if (strcmp(h[i].root, "/") != 0) {
        if (strncmp(path, h[i].root, rl) == 0 &&
            (path[rl] == '/' || path[rl] == '\0'))
          rest = path[rl] ? path + rl : "/";
        else
          rest = "/";
      }
      char *own = strdup(rest);
      if (!own) {
        free(copy);
        return -1;
      }
      /* no trailing '/' except for the root itself */
      for (size_t l = strlen(own); l > 1 && own[l - 1] == '/'; l--)
        own[l - 1] = '\0';
      free(h[i].own);
      h[i].own = own;
    }
  }
  free(copy);
  return 0;
}

int sp_cg_hierarchies(enum sp_cgroup_mode mode, struct sp_cg_hier **out,
                      size_t *n, struct sp_error *err) {
  char *mi = NULL, *cg = NULL;
  *out = NULL;
  *n = 0;
  if (mode == SP_CGROUP_DISABLED)
    return 0;
  if (sp_read_file("/proc/self/mountinfo", 16 << 20, &mi, NULL, err) < 0)
    return sp_error_prefix(err, "cgroup");
  int r = sp_cg_parse_mountinfo(mi, mode, out, n, err);
  free(mi);
  if (r < 0)
    return -1;
  if (sp_read_file("/proc/self/cgroup", 1 << 20, &cg, NULL, err) < 0) {
    sp_cg_hier_free(*out, *n);
    *out = NULL;
    *n = 0;
    return sp_error_prefix(err, "cgroup");
  }
  r = sp_cg_fill_own(*out, *n, cg);
  free(cg);
  if (r < 0) {
    sp_cg_hier_free(*out, *n);
    *out = NULL;
    *n = 0;
    return sp_error_errno(err, ENOMEM, "cgroup: read /proc/self/cgroup");
  }
  return 0;
}
