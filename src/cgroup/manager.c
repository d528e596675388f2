/* The cgroup manager: which driver (v2, v1/hybrid, disabled), and where the
 * container's cgroup lies in every hierarchy.  No side effects here: the
 * directories are made and removed in lifecycle.c, limits are written by the
 * per-version drivers. */
#include <errno.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>

#include "cgroup_internal.h"
#include "sprout/util.h"

#define CG_PATH_KEY ".linux.cgroupsPath"

/* ---- modes ---------------------------------------------------------------- */

static const char *const mode_names[] = {
    [SP_CGROUP_DISABLED] = "disabled",
    [SP_CGROUP_V2] = "v2",
    [SP_CGROUP_HYBRID] = "hybrid",
    [SP_CGROUP_V1] = "v1",
};

const char *sp_cgroup_mode_name(enum sp_cgroup_mode mode) {
  if ((size_t)mode < sizeof mode_names / sizeof mode_names[0])
    return mode_names[mode];
  return "unknown";
}

int sp_cgroup_mode_from_name(const char *name, enum sp_cgroup_mode *mode) {
  for (size_t i = 0; name && i < sizeof mode_names / sizeof mode_names[0]; i++)
    if (strcmp(name, mode_names[i]) == 0) {
      *mode = (enum sp_cgroup_mode)i;
      return 0;
    }
  errno = EINVAL;
  return -1;
}

static bool is_cgroup2(const char *path) {
  struct statfs sfs;
  return statfs(path, &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC;
}

int sp_cgroup_detect(const char *manager, enum sp_cgroup_mode *mode,
                     struct sp_error *err) {
  if (manager && strcmp(manager, "disabled") == 0) {
    *mode = SP_CGROUP_DISABLED;
    return 0;
  }
  if (manager && strcmp(manager, "systemd") == 0)
    return sp_error_set(err, 0,
                        "--cgroup-manager: the systemd driver is not supported "
                        "(use cgroupfs or disabled)");
  if (manager && strcmp(manager, "cgroupfs") != 0)
    return sp_error_set(err, 0,
                        "--cgroup-manager: unknown manager \"%s\" (cgroupfs or "
                        "disabled)",
                        manager);
  struct statfs sfs;
  if (statfs(SP_CGROUP_ROOT, &sfs) < 0)
    return sp_error_sys(err, "cgroup: statfs " SP_CGROUP_ROOT);
  if (sfs.f_type == CGROUP2_SUPER_MAGIC)
    *mode = SP_CGROUP_V2;
  else if (is_cgroup2(SP_CGROUP_UNIFIED))
    *mode = SP_CGROUP_HYBRID;
  else
    *mode = SP_CGROUP_V1;
  return 0;
}

/* ---- the result ------------------------------------------------------------ */

void sp_cgroup_free(struct sp_cgroup *cg) {
  if (!cg)
    return;
  free(cg->path);
  sp_strv_free(cg->dirs, cg->dirs_len);
  sp_strv_free(cg->controllers, cg->dirs_len);
  free(cg->keep);
  cg->path = NULL;
  cg->dirs = cg->controllers = NULL;
  cg->keep = NULL;
  cg->dirs_len = 0;
}

const char *sp_cgroup_dir(const struct sp_cgroup *cg, const char *controller) {
  const char *v2 = NULL;
  for (size_t i = 0; i < cg->dirs_len; i++) {
    const char *ctl = cg->controllers ? cg->controllers[i] : "";
    if (*ctl == '\0')
      v2 = v2 ? v2 : cg->dirs[i];
    else if (controller && sp_cg_list_has(ctl, controller))
      return cg->dirs[i];
  }
  if (controller && strncmp(controller, "name=", 5) == 0)
    return NULL;
  return v2;
}

/* Append directory DIR with KEEP to CG. */
static int cg_add(struct sp_cgroup *cg, char *dir, const char *controllers,
                  size_t keep) {
  char **d = realloc(cg->dirs, (cg->dirs_len + 1) * sizeof *d);
  if (d)
    cg->dirs = d;
  char **c = realloc(cg->controllers, (cg->dirs_len + 1) * sizeof *c);
  if (c)
    cg->controllers = c;
  size_t *k = realloc(cg->keep, (cg->dirs_len + 1) * sizeof *k);
  if (k)
    cg->keep = k;
  char *ctl = strdup(controllers);
  if (!d || !c || !k || !ctl) {
    free(ctl);
    free(dir);
    return -1;
  }
  cg->dirs[cg->dirs_len] = dir;
  cg->controllers[cg->dirs_len] = ctl;
  cg->keep[cg->dirs_len] = keep;
  cg->dirs_len++;
  return 0;
}

/* ---- path forms ------------------------------------------------------------ */

/* "a-b.slice" -> "/a.slice/a-b.slice" (systemd's slice nesting); "-.slice"
 * and "-" are the root slice.  Appends to B. */
static int expand_slice(struct sp_buf *b, const char *slice, const char *shown,
                        struct sp_error *err) {
  size_t l = strlen(slice);
  if (strcmp(slice, "-") == 0 || strcmp(slice, "-.slice") == 0)
    return 0;
  if (l <= 6 || strcmp(slice + l - 6, ".slice") != 0 || strchr(slice, '/'))
    return sp_error_set(err, 0,
                        CG_PATH_KEY ": \"%s\": slice \"%s\" is not a systemd "
                        "slice name (NAME.slice, no '/')",
                        shown, slice);
  size_t base = l - 6;
  for (size_t i = 0; i <= base; i++) {
    if (i < base && slice[i] != '-')
      continue;
    /* every '-'-separated part must be non-empty: no "a--b", "-a", "a-" */
    if (i == 0 || slice[i - 1] == '-' || (i < base && i + 1 == base))
      return sp_error_set(err, 0,
                          CG_PATH_KEY ": \"%s\": slice \"%s\" has an empty "
                          "'-'-separated part",
                          shown, slice);
    if (sp_buf_printf(b, "/%.*s.slice", (int)i, slice) < 0)
      return sp_error_errno(err, ENOMEM, "cgroup: %s", shown);
  }
  return 0;
}

/* "slice:prefix:name" -> "/<slice path>/<prefix>-<name>.scope" (a name that
 * is itself a slice stays as it is); "" slice is system.slice. */
static int expand_systemd_form(const char *path, char **out,
                               struct sp_error *err) {
  const char *c1 = strchr(path, ':'), *c2 = strchr(c1 + 1, ':');
  char *slice = strndup(path, (size_t)(c1 - path));
  char *prefix = strndup(c1 + 1, (size_t)(c2 - c1 - 1));
  const char *name = c2 + 1;
  struct sp_buf b = {0};
  int r = -1;
  size_t nl = strlen(name);

  if (!slice || !prefix) {
    sp_error_errno(err, ENOMEM, "cgroup: %s", path);
    goto out;
  }
  if (*name == '\0' || strchr(name, '/') || strchr(prefix, '/')) {
    sp_error_set(err, 0,
                 CG_PATH_KEY ": \"%s\": expected \"slice:prefix:name\" with a "
                 "non-empty name and no '/' in prefix or name",
                 path);
    goto out;
  }
  if (expand_slice(&b, *slice ? slice : "system.slice", path, err) < 0)
    goto out;
  if (nl > 6 && strcmp(name + nl - 6, ".slice") == 0)
    r = sp_buf_printf(&b, "/%s", name);
  else if (*prefix)
    r = sp_buf_printf(&b, "/%s-%s.scope", prefix, name);
  else
    r = sp_buf_printf(&b, "/%s.scope", name);
  if (r < 0 || sp_buf_append(&b, "", 1) < 0) {
    r = sp_error_errno(err, ENOMEM, "cgroup: %s", path);
    goto out;
  }
  *out = b.data;
  b.data = NULL;
  r = 0;
out:
  free(slice);
  free(prefix);
  sp_buf_free(&b);
  return r;
}

static bool is_systemd_form(const char *path) {
  const char *c1 = strchr(path, ':');
  const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
  return path[0] != '/' && c2 && !strchr(c2 + 1, ':');
}

/* PATH without empty and "." components, joined by '/' with no leading or
 * trailing one ("a/b"); ".." refused (SHOWN is the path as configured). */
static int clean_path(const char *path, const char *shown, char **out,
                      size_t *ncomp, struct sp_error *err) {
  struct sp_buf b = {0};
  *ncomp = 0;
  for (const char *p = path; *p;) {
    const char *e = strchr(p, '/');
    size_t l = e ? (size_t)(e - p) : strlen(p);
    if (l == 2 && p[0] == '.' && p[1] == '.') {
      sp_buf_free(&b);
      return sp_error_set(err, 0, CG_PATH_KEY ": \"..\" is not allowed in \"%s\"",
                          shown);
    }
    if (l > 0 && !(l == 1 && p[0] == '.')) {
      if ((b.len && sp_buf_append(&b, "/", 1) < 0) || sp_buf_append(&b, p, l) < 0)
        goto oom;
      (*ncomp)++;
    }
    p += l;
    if (*p == '/')
      p++;
  }
  if (*ncomp == 0) {
    sp_buf_free(&b);
    return sp_error_set(err, 0,
                        CG_PATH_KEY ": \"%s\" names the root cgroup, not a "
                        "cgroup of its own",
                        shown);
  }
  if (sp_buf_append(&b, "", 1) < 0)
    goto oom;
  *out = b.data;
  return 0;
oom:
  sp_buf_free(&b);
  return sp_error_errno(err, ENOMEM, "cgroup: %s", shown);
}

/* Offset, in "/" + P, of the '/' after the first K components of the clean
 * path P ("a/b/c", 1 -> 2): the part of a directory that stays. */
static size_t comp_offset(const char *p, size_t k) {
  size_t off = 0;
  for (size_t i = 0; i < k && *p; i++) {
    size_t l = strcspn(p, "/");
    off += 1 + l;
    p += l + (p[l] == '/');
  }
  return off;
}

int sp_cgroup_resolve(enum sp_cgroup_mode mode, const char *cgroups_path,
                      const char *id, struct sp_cgroup *cg,
                      struct sp_error *err) {
  struct sp_cg_hier *h = NULL;
  size_t nh = 0, ncomp = 0, keep_comps;
  char *clean = NULL, *expanded = NULL, *deflt = NULL;
  bool relative;
  int r = -1;

  memset(cg, 0, sizeof *cg);
  cg->mode = mode;
  if (mode == SP_CGROUP_DISABLED)
    return 0;
  if (!cgroups_path || !*cgroups_path) {
    if (!id || !*id || strchr(id, '/') || strcmp(id, ".") == 0 ||
        strcmp(id, "..") == 0)
      return sp_error_set(err, 0, "cgroup: container id \"%s\" cannot name a "
                          "cgroup", id ? id : "");
    /* <own cgroup>/<id>, as runc: no parent of sprout's own, whose mkdir
     * and rmdir in every hierarchy would cost each isolated run ~1.7 ms */
    if (!(deflt = strdup(id)))
      return sp_error_errno(err, ENOMEM, "cgroup: default path");
    relative = true;
    keep_comps = 0;
    cg->by_id = true;
    r = clean_path(deflt, deflt, &clean, &ncomp, err);
  } else if (is_systemd_form(cgroups_path)) {
    relative = false;
    r = expand_systemd_form(cgroups_path, &expanded, err);
    if (r == 0)
      r = clean_path(expanded, cgroups_path, &clean, &ncomp, err);
    keep_comps = ncomp ? ncomp - 1 : 0;
  } else {
    relative = cgroups_path[0] != '/';
    r = clean_path(cgroups_path, cgroups_path, &clean, &ncomp, err);
    /* only the leaf is surely sprout's; create() records the parents it made */
    keep_comps = ncomp ? ncomp - 1 : 0;
  }
  free(deflt);
  free(expanded);
  if (r < 0)
    return -1;
  r = -1;
  if (sp_cg_hierarchies(mode, &h, &nh, err) < 0)
    goto out;
  size_t keep_off = comp_offset(clean, keep_comps);
  for (size_t i = 0; i < nh; i++) {
    const char *own = relative && strcmp(h[i].own, "/") != 0 ? h[i].own : "";
    char *dir;
    if (asprintf(&dir, "%s%s/%s", h[i].mount, own, clean) < 0)
      goto oom;
    size_t base = strlen(h[i].mount) + strlen(own);
    if (cg_add(cg, dir, h[i].controllers, base + keep_off) < 0)
      goto oom;
    if (i == 0 && asprintf(&cg->path, "%s/%s", own, clean) < 0) {
      cg->path = NULL;
      goto oom;
    }
  }
  r = 0;
  goto out;
oom:
  sp_error_errno(err, ENOMEM, "cgroup: resolve %s", clean);
out:
  if (r < 0)
    sp_cgroup_free(cg);
  sp_cg_hier_free(h, nh);
  free(clean);
  return r;
}

/* ---- state.json form ------------------------------------------------------- */

static int put_escaped(struct sp_buf *b, const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if ((s[i] == ':' || s[i] == '\\') && sp_buf_append(b, "\\", 1) < 0)
      return -1;
    if (sp_buf_append(b, &s[i], 1) < 0)
      return -1;
  }
  return 0;
}

int sp_cgroup_to_string(const struct sp_cgroup *cg, char **out) {
  struct sp_buf b = {0};
  for (size_t i = 0; i < cg->dirs_len; i++) {
    const char *d = cg->dirs[i];
    size_t k = cg->keep ? cg->keep[i] : (size_t)(strrchr(d, '/') - d);
    if ((i && sp_buf_append(&b, ":", 1) < 0) || put_escaped(&b, d, k) < 0 ||
        sp_buf_append(&b, "/", 1) < 0 || put_escaped(&b, d + k, strlen(d + k)) < 0)
      goto oom;
  }
  if (sp_buf_append(&b, "", 1) < 0)
    goto oom;
  *out = b.data;
  return 0;
oom:
  sp_buf_free(&b);
  errno = ENOMEM;
  return -1;
}

/* Check one directory of a stored state against the mounted hierarchies;
 * the index of its hierarchy, or -1. */
static int check_stored_dir(const char *dir, size_t keep,
                            const struct sp_cg_hier *h, size_t nh) {
  int found = -1;
  for (size_t i = 0; i < nh && found < 0; i++) {
    size_t ml = strlen(h[i].mount);
    if (strncmp(dir, h[i].mount, ml) == 0 && dir[ml] == '/' && keep >= ml)
      found = (int)i;
  }
  if (found < 0 || dir[keep] != '/' || dir[keep + 1] == '\0')
    return -1;
  for (const char *p = dir + strlen(h[found].mount); *p;) {
    const char *c = p + 1, *e = strchr(c, '/');
    size_t l = e ? (size_t)(e - c) : strlen(c);
    if (l == 0 || (l == 1 && c[0] == '.') || (l == 2 && c[0] == '.' && c[1] == '.'))
      return -1;
    p = c + l;
  }
  return found;
}

int sp_cgroup_from_string(enum sp_cgroup_mode mode, const char *s,
                          struct sp_cgroup *cg, struct sp_error *err) {
  struct sp_cg_hier *h = NULL;
  size_t nh = 0;
  struct sp_buf b = {0};
  int r = -1;

  memset(cg, 0, sizeof *cg);
  cg->mode = mode;
  if (mode == SP_CGROUP_DISABLED || !s || !*s)
    return 0;
  if (sp_cg_hierarchies(mode, &h, &nh, err) < 0)
    return -1;
  for (const char *p = s;; p++) {
    size_t keep = (size_t)-1;
    b.len = 0;
    for (; *p && *p != ':'; p++) {
      if (*p == '\\' && p[1])
        p++;
      else if (p[0] == '/' && p[1] == '/' && keep == (size_t)-1) {
        keep = b.len;
        p++;
      }
      if (sp_buf_append(&b, p, 1) < 0)
        goto oom;
    }
    if (sp_buf_append(&b, "", 1) < 0)
      goto oom;
    if (keep == (size_t)-1) /* no marker: only the leaf is sprout's */
      keep = strrchr(b.data, '/') ? (size_t)(strrchr(b.data, '/') - b.data) : 0;
    int hi = check_stored_dir(b.data, keep, h, nh);
    if (hi < 0) {
      sp_error_set(err, 0,
                   "cgroup: stored directory \"%s\" is not a cgroup below a "
                   "hierarchy mounted under " SP_CGROUP_ROOT,
                   b.data);
      goto out;
    }
    char *dir = strdup(b.data);
    if (!dir || cg_add(cg, dir, h[hi].controllers, keep) < 0)
      goto oom;
    if (cg->dirs_len == 1 &&
        !(cg->path = strdup(b.data + strlen(h[hi].mount))))
      goto oom;
    if (!*p)
      break;
  }
  r = 0;
  goto out;
oom:
  sp_error_errno(err, ENOMEM, "cgroup: read stored cgroup");
out:
  if (r < 0)
    sp_cgroup_free(cg);
  sp_buf_free(&b);
  sp_cg_hier_free(h, nh);
  return r;
}
