/* sprout — config.json: the top level (ociVersion, root, mounts, hostname,
 * domainname, hooks, annotations), the public entry points, sp_spec_free
 * and the lookups.  process and linux live in parse_process.c and
 * parse_linux.c; the JSON helpers in parse_json.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "parse_internal.h"
#include "sprout/mountopt.h"
#include "sprout/spec.h"

/* ---- namespaces names ------------------------------------------------ */

static const char *const ns_names[SP_NS_COUNT] = {
    [SP_NS_PID] = "pid",   [SP_NS_NETWORK] = "network", [SP_NS_MOUNT] = "mount",
    [SP_NS_IPC] = "ipc",   [SP_NS_UTS] = "uts",         [SP_NS_USER] = "user",
    [SP_NS_CGROUP] = "cgroup", [SP_NS_TIME] = "time",
};

const char *sp_ns_type_name(enum sp_ns_type type) {
  if ((unsigned)type >= SP_NS_COUNT)
    return NULL;
  return ns_names[type];
}

int sp_ns_type_from_name(const char *name) {
  if (name == NULL)
    return -1;
  for (int i = 0; i < SP_NS_COUNT; i++)
    if (strcmp(ns_names[i], name) == 0)
      return i;
  return -1;
}

const struct sp_namespace *sp_spec_namespace(const struct sp_spec *spec,
                                             enum sp_ns_type type) {
  if (spec == NULL || !spec->has_linux)
    return NULL;
  for (size_t i = 0; i < spec->linux_.namespaces_len; i++)
    if (spec->linux_.namespaces[i].type == type)
      return &spec->linux_.namespaces[i];
  return NULL;
}

const char *sp_spec_annotation(const struct sp_spec *spec, const char *key) {
  if (spec == NULL || key == NULL)
    return NULL;
  for (size_t i = 0; i < spec->annotations_len; i++)
    if (strcmp(spec->annotations[i].key, key) == 0)
      return spec->annotations[i].value;
  return NULL;
}

/* ---- id mappings (linux.uidMappings, mounts[].uidMappings) ------------ */

static int parse_idmap(yajl_val v, const char *path, struct sp_idmap *m,
                       struct sp_error *err) {
  if (sp_jv_object(v, path, err) < 0 ||
      sp_jf_u32(v, path, "containerID", SP_REQUIRED, &m->container_id, err) < 0 ||
      sp_jf_u32(v, path, "hostID", SP_REQUIRED, &m->host_id, err) < 0 ||
      sp_jf_u32(v, path, "size", SP_REQUIRED, &m->size, err) < 0)
    return -1;
  char p[SP_JPATH_MAX];
  if (m->size == 0) {
    sp_jpath_key(p, sizeof p, path, "size");
    return sp_jerr(err, p, "must be greater than 0");
  }
  if ((uint64_t)m->container_id + m->size - 1 > UINT32_MAX)
    return sp_jerr(err, path, "containerID + size is more than 2^32");
  if ((uint64_t)m->host_id + m->size - 1 > UINT32_MAX)
    return sp_jerr(err, path, "hostID + size is more than 2^32");
  return 0;
}

int sp_parse_idmaps(yajl_val obj, const char *path, const char *key,
                    struct sp_idmap **out, size_t *len, struct sp_error *err) {
  char p[SP_JPATH_MAX], ep[SP_JPATH_MAX];
  yajl_val arr;
  int r = sp_jf_array(obj, path, key, SP_OPTIONAL, &arr, err);
  if (r <= 0)
    return r;
  sp_jpath_key(p, sizeof p, path, key);
  size_t n = arr->u.array.len;
  struct sp_idmap *maps = sp_jcalloc(n, sizeof *maps, p, err);
  if (maps == NULL)
    return -1;
  free(*out);
  *out = maps;
  *len = n;
  for (size_t i = 0; i < n; i++) {
    sp_jpath_index(ep, sizeof ep, p, i);
    if (parse_idmap(arr->u.array.values[i], ep, &maps[i], err) < 0)
      return -1;
  }
  return 1;
}

/* ---- ociVersion, root -------------------------------------------------- */

static int parse_version(yajl_val doc, struct sp_spec *s, struct sp_error *err) {
  char show[SP_JSHOW_MAX];
  if (sp_jf_string(doc, "", "ociVersion", SP_REQUIRED, &s->oci_version, err) < 0)
    return -1;
  /* semver with major 1: "1.0.2", "1.2.0", "1.3.0-rc.1" */
  const char *v = s->oci_version;
  if (!(v[0] == '1' && v[1] == '.' && v[2] >= '0' && v[2] <= '9'))
    return sp_jerr(err, ".ociVersion", "unsupported version \"%s\" (sprout implements 1.x)",
                   sp_jshow(v, show));
  return 0;
}

static int parse_root(yajl_val doc, struct sp_spec *s, struct sp_error *err) {
  yajl_val root;
  if (sp_jf_object(doc, "", "root", SP_REQUIRED, &root, err) < 0 ||
      sp_jf_string(root, ".root", "path", SP_REQUIRED, &s->root_path, err) < 0 ||
      sp_jf_bool(root, ".root", "readonly", SP_OPTIONAL, &s->root_readonly, err) < 0)
    return -1;
  if (s->root_path[0] == '\0')
    return sp_jerr(err, ".root.path", "must not be empty");
  return 0;
}

/* ---- mounts ------------------------------------------------------------ */

static int parse_mount(yajl_val v, const char *path, struct sp_mount *m,
                       struct sp_error *err) {
  char p[SP_JPATH_MAX];
  if (sp_jv_object(v, path, err) < 0 ||
      sp_jf_string(v, path, "destination", SP_REQUIRED, &m->destination, err) < 0 ||
      sp_jf_string(v, path, "type", SP_OPTIONAL, &m->type, err) < 0 ||
      sp_jf_string(v, path, "source", SP_OPTIONAL, &m->source, err) < 0 ||
      sp_jf_strings(v, path, "options", SP_OPTIONAL, &m->options, &m->options_len, err) < 0 ||
      sp_parse_idmaps(v, path, "uidMappings", &m->uid_mappings, &m->uid_mappings_len, err) < 0 ||
      sp_parse_idmaps(v, path, "gidMappings", &m->gid_mappings, &m->gid_mappings_len, err) < 0)
    return -1;
  sp_jpath_key(p, sizeof p, path, "destination");
  if (m->destination[0] == '\0')
    return sp_jerr(err, p, "must not be empty");
  if (m->destination[0] != '/') {
    /* runtime-spec: a relative destination (deprecated) is relative to "/" */
    char *abs;
    if (asprintf(&abs, "/%s", m->destination) < 0)
      return sp_jerr_nomem(err, p);
    free(m->destination);
    m->destination = abs;
  }
  if ((m->uid_mappings_len > 0) != (m->gid_mappings_len > 0))
    return sp_jerr(err, path, "uidMappings and gidMappings must be given together");
  return sp_mountopt_parse_at(m, path, err);
}

static void mount_free(struct sp_mount *m) {
  free(m->destination);
  free(m->type);
  free(m->source);
  sp_jstrv_free(m->options, m->options_len);
  free(m->uid_mappings);
  free(m->gid_mappings);
  free(m->data);
}

static int parse_mounts(yajl_val doc, struct sp_spec *s, struct sp_error *err) {
  char p[SP_JPATH_MAX];
  yajl_val arr;
  int r = sp_jf_array(doc, "", "mounts", SP_OPTIONAL, &arr, err);
  if (r <= 0)
    return r;
  size_t n = arr->u.array.len;
  if ((s->mounts = sp_jcalloc(n, sizeof *s->mounts, ".mounts", err)) == NULL)
    return -1;
  s->mounts_len = n;
  for (size_t i = 0; i < n; i++) {
    sp_jpath_index(p, sizeof p, ".mounts", i);
    if (parse_mount(arr->u.array.values[i], p, &s->mounts[i], err) < 0)
      return -1;
  }
  return 0;
}

/* ---- hooks ------------------------------------------------------------- */

static int parse_hook(yajl_val v, const char *path, struct sp_hook *h,
                      struct sp_error *err) {
  char p[SP_JPATH_MAX];
  int64_t timeout;
  int r;
  if (sp_jv_object(v, path, err) < 0 ||
      sp_jf_string(v, path, "path", SP_REQUIRED, &h->path, err) < 0 ||
      sp_jf_strings(v, path, "args", SP_OPTIONAL, &h->args, &h->args_len, err) < 0 ||
      sp_jf_strings(v, path, "env", SP_OPTIONAL, &h->env, &h->env_len, err) < 0 ||
      (r = sp_jf_irange(v, path, "timeout", SP_OPTIONAL, 1, INT32_MAX, &timeout, err)) < 0)
    return -1;
  if (r > 0) {
    h->has_timeout = true;
    h->timeout = (int32_t)timeout;
  }
  sp_jpath_key(p, sizeof p, path, "path");
  if (sp_jcheck_abs(h->path, p, err) < 0)
    return -1;
  sp_jpath_key(p, sizeof p, path, "env");
  return sp_jcheck_env(h->env, h->env_len, p, err);
}

static void hooks_free(struct sp_hook *h, size_t len) {
  if (h == NULL)
    return;
  for (size_t i = 0; i < len; i++) {
    free(h[i].path);
    sp_jstrv_free(h[i].args, h[i].args_len);
    sp_jstrv_free(h[i].env, h[i].env_len);
  }
  free(h);
}

static int parse_hook_list(yajl_val hooks, const char *key, struct sp_hook **out,
                           size_t *len, struct sp_error *err) {
  char p[SP_JPATH_MAX], ep[SP_JPATH_MAX];
  yajl_val arr;
  int r = sp_jf_array(hooks, ".hooks", key, SP_OPTIONAL, &arr, err);
  if (r <= 0)
    return r;
  sp_jpath_key(p, sizeof p, ".hooks", key);
  size_t n = arr->u.array.len;
  if ((*out = sp_jcalloc(n, sizeof **out, p, err)) == NULL)
    return -1;
  *len = n;
  for (size_t i = 0; i < n; i++) {
    sp_jpath_index(ep, sizeof ep, p, i);
    if (parse_hook(arr->u.array.values[i], ep, &(*out)[i], err) < 0)
      return -1;
  }
  return 0;
}

static int parse_hooks(yajl_val doc, struct sp_spec *s, struct sp_error *err) {
  yajl_val hooks;
  int r = sp_jf_object(doc, "", "hooks", SP_OPTIONAL, &hooks, err);
  if (r <= 0)
    return r;
  s->has_hooks = true;
  struct sp_hooks *h = &s->hooks;
  if (parse_hook_list(hooks, "prestart", &h->prestart, &h->prestart_len, err) < 0 ||
      parse_hook_list(hooks, "createRuntime", &h->create_runtime,
                      &h->create_runtime_len, err) < 0 ||
      parse_hook_list(hooks, "createContainer", &h->create_container,
                      &h->create_container_len, err) < 0 ||
      parse_hook_list(hooks, "startContainer", &h->start_container,
                      &h->start_container_len, err) < 0 ||
      parse_hook_list(hooks, "poststart", &h->poststart, &h->poststart_len, err) < 0 ||
      parse_hook_list(hooks, "poststop", &h->poststop, &h->poststop_len, err) < 0)
    return -1;
  return 0;
}

/* ---- the document ------------------------------------------------------ */

static int check_uts(const struct sp_spec *s, const char *value, const char *path,
                     struct sp_error *err) {
  if (value == NULL || value[0] == '\0' || sp_spec_namespace(s, SP_NS_UTS) != NULL)
    return 0;
  return sp_jerr(err, path, "requires a new UTS namespace (no \"uts\" entry in .linux.namespaces)");
}

static int parse_spec(yajl_val doc, struct sp_spec *s, struct sp_error *err) {
  yajl_val v;
  int r;
  if (sp_jv_object(doc, "", err) < 0 || parse_version(doc, s, err) < 0 ||
      parse_root(doc, s, err) < 0 || parse_mounts(doc, s, err) < 0)
    return -1;
  if ((r = sp_jf_object(doc, "", "process", SP_OPTIONAL, &v, err)) < 0)
    return -1;
  if (r > 0) {
    s->has_process = true;
    if (sp_parse_process(v, ".process", &s->process, err) < 0)
      return -1;
  }
  if (sp_jf_string(doc, "", "hostname", SP_OPTIONAL, &s->hostname, err) < 0 ||
      sp_jf_string(doc, "", "domainname", SP_OPTIONAL, &s->domainname, err) < 0 ||
      parse_hooks(doc, s, err) < 0 ||
      sp_jf_map(doc, "", "annotations", SP_OPTIONAL, &s->annotations,
                &s->annotations_len, err) < 0)
    return -1;
  if ((r = sp_jf_object(doc, "", "linux", SP_OPTIONAL, &v, err)) < 0)
    return -1;
  if (r > 0) {
    s->has_linux = true;
    if (sp_parse_linux(v, ".linux", &s->linux_, err) < 0)
      return -1;
  }
  /* checks across sections */
  if (check_uts(s, s->hostname, ".hostname", err) < 0 ||
      check_uts(s, s->domainname, ".domainname", err) < 0)
    return -1;
  for (size_t i = 0; i < s->mounts_len; i++) {
    const struct sp_mount *m = &s->mounts[i];
    if (m->idmap && m->uid_mappings_len == 0 && sp_spec_namespace(s, SP_NS_USER) == NULL) {
      char p[SP_JPATH_MAX];
      sp_jpath_index(p, sizeof p, ".mounts", i);
      return sp_jerr(err, p, "idmap needs uidMappings and gidMappings or a user namespace");
    }
  }
  return 0;
}

/* ---- public entry points ----------------------------------------------- */

int sp_spec_parse_buf(const char *buf, size_t len, const char *name,
                      struct sp_spec *spec, struct sp_error *err) {
  yajl_val doc;
  memset(spec, 0, sizeof *spec);
  if (sp_json_load(buf, len, &doc, err) < 0)
    return sp_json_prefix_name(err, name);
  int r = parse_spec(doc, spec, err);
  sp_json_free(doc);
  if (r < 0) {
    sp_spec_free(spec);
    return sp_json_prefix_name(err, name);
  }
  return 0;
}

int sp_spec_parse_file(const char *path, struct sp_spec *spec,
                       struct sp_error *err) {
  char show[SP_JNAME_MAX];
  struct stat st;
  memset(spec, 0, sizeof *spec);
  /* O_NONBLOCK: a FIFO with no writer must not hang the runtime (it reads
   * as empty); reads themselves block again below, for a pipe that has one */
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0)
    return sp_error_sys(err, "open %s", sp_jshow_n(path, show, sizeof show));
  int fl = fcntl(fd, F_GETFL);
  if (fl >= 0)
    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
  if (fstat(fd, &st) < 0) {
    sp_error_sys(err, "stat %s", sp_jshow_n(path, show, sizeof show));
    close(fd);
    return -1;
  }
  if (S_ISDIR(st.st_mode)) {
    close(fd);
    return sp_error_errno(err, EISDIR, "read %s", sp_jshow_n(path, show, sizeof show));
  }
  if (st.st_size > (off_t)SP_SPEC_MAX_SIZE) {
    close(fd);
    return sp_error_set(err, 0, "%s: file is %lld bytes, more than the 16 MiB limit",
                        sp_jshow_n(path, show, sizeof show), (long long)st.st_size);
  }
  /* st_size is only a hint (pipes say 0, files can grow): read at most
   * one byte past the limit */
  const size_t limit = SP_SPEC_MAX_SIZE;
  size_t cap = S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : 65536, len = 0;
  char *buf = malloc(cap);
  for (;;) {
    if (buf == NULL) {
      close(fd);
      return sp_error_set(err, ENOMEM, "%s: out of memory", sp_jshow_n(path, show, sizeof show));
    }
    if (len == cap) {
      if (cap > limit) {
        free(buf);
        close(fd);
        return sp_error_set(err, 0, "%s: file is more than the 16 MiB limit",
                            sp_jshow_n(path, show, sizeof show));
      }
      size_t ncap = cap * 2 > limit + 1 ? limit + 1 : cap * 2;
      char *nb = realloc(buf, ncap);
      if (nb == NULL)
        free(buf);
      buf = nb;
      cap = ncap;
      continue;
    }
    ssize_t n = read(fd, buf + len, cap - len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      sp_error_sys(err, "read %s", sp_jshow_n(path, show, sizeof show));
      free(buf);
      close(fd);
      return -1;
    }
    if (n == 0)
      break;
    len += (size_t)n;
  }
  close(fd);
  int r = sp_spec_parse_buf(buf, len, path, spec, err);
  free(buf);
  return r;
}

int sp_process_parse_buf(const char *buf, size_t len, const char *name,
                         struct sp_process *proc, struct sp_error *err) {
  yajl_val doc;
  memset(proc, 0, sizeof *proc);
  if (sp_json_load(buf, len, &doc, err) < 0)
    return sp_json_prefix_name(err, name);
  int r = sp_jv_object(doc, "", err) < 0 ? -1 : sp_parse_process(doc, "", proc, err);
  sp_json_free(doc);
  if (r < 0) {
    sp_process_free(proc);
    return sp_json_prefix_name(err, name);
  }
  return 0;
}

int sp_resources_parse_buf(const char *buf, size_t len, const char *name,
                           struct sp_resources *res, struct sp_error *err) {
  yajl_val doc;
  memset(res, 0, sizeof *res);
  if (sp_json_load(buf, len, &doc, err) < 0)
    return sp_json_prefix_name(err, name);
  int r = sp_jv_object(doc, "", err) < 0 ? -1 : sp_parse_resources(doc, "", res, err);
  sp_json_free(doc);
  if (r < 0) {
    sp_resources_free(res);
    return sp_json_prefix_name(err, name);
  }
  return 0;
}

void sp_spec_free(struct sp_spec *spec) {
  if (spec == NULL)
    return;
  free(spec->oci_version);
  free(spec->root_path);
  if (spec->mounts) {
    for (size_t i = 0; i < spec->mounts_len; i++)
      mount_free(&spec->mounts[i]);
    free(spec->mounts);
  }
  sp_process_free(&spec->process);
  free(spec->hostname);
  free(spec->domainname);
  hooks_free(spec->hooks.prestart, spec->hooks.prestart_len);
  hooks_free(spec->hooks.create_runtime, spec->hooks.create_runtime_len);
  hooks_free(spec->hooks.create_container, spec->hooks.create_container_len);
  hooks_free(spec->hooks.start_container, spec->hooks.start_container_len);
  hooks_free(spec->hooks.poststart, spec->hooks.poststart_len);
  hooks_free(spec->hooks.poststop, spec->hooks.poststop_len);
  sp_jkv_free(spec->annotations, spec->annotations_len);
  sp_linux_free(&spec->linux_);
  memset(spec, 0, sizeof *spec);
}
