/* sprout — config.json `linux`: namespaces, uid/gidMappings, timeOffsets,
 * devices, netDevices, cgroupsPath, resources (parse_resources.c),
 * rootfsPropagation, seccomp (parse_seccomp.c), sysctl, maskedPaths,
 * readonlyPaths, mountLabel, intelRdt, personality; and the checks between
 * them (mappings need a user namespace, sysctls a namespace that owns them). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>

#include "parse_internal.h"
#include "sprout/mountopt.h"

static const struct sp_namespace *find_ns(const struct sp_linux *l, enum sp_ns_type t) {
  for (size_t i = 0; i < l->namespaces_len; i++)
    if (l->namespaces[i].type == t)
      return &l->namespaces[i];
  return NULL;
}

static int need_ns(const struct sp_linux *l, enum sp_ns_type t, const char *path,
                   struct sp_error *err) {
  if (find_ns(l, t) != NULL)
    return 0;
  static const char *const what[SP_NS_COUNT] = {
      [SP_NS_PID] = "a PID",    [SP_NS_NETWORK] = "a network", [SP_NS_MOUNT] = "a mount",
      [SP_NS_IPC] = "an IPC",   [SP_NS_UTS] = "a UTS",         [SP_NS_USER] = "a user",
      [SP_NS_CGROUP] = "a cgroup", [SP_NS_TIME] = "a time"};
  return sp_jerr(err, path, "requires %s namespace (no \"%s\" entry in .linux.namespaces)",
                 what[t], sp_ns_type_name(t));
}

/* ---- namespaces -------------------------------------------------------- */

static int parse_namespaces(yajl_val lin, const char *path, struct sp_linux *l,
                            struct sp_error *err) {
  char ap[SP_JPATH_MAX], ep[SP_JPATH_MAX], fp[SP_JPATH_MAX], show[SP_JSHOW_MAX];
  yajl_val arr;
  int r = sp_jf_array(lin, path, "namespaces", SP_OPTIONAL, &arr, err);
  if (r <= 0)
    return r;
  sp_jpath_key(ap, sizeof ap, path, "namespaces");
  size_t n = arr->u.array.len;
  if ((l->namespaces = sp_jcalloc(n, sizeof *l->namespaces, ap, err)) == NULL)
    return -1;
  l->namespaces_len = n;
  for (size_t i = 0; i < n; i++) {
    yajl_val v = arr->u.array.values[i];
    struct sp_namespace *ns = &l->namespaces[i];
    char *type = NULL;
    sp_jpath_index(ep, sizeof ep, ap, i);
    if (sp_jv_object(v, ep, err) < 0 ||
        sp_jf_string(v, ep, "type", SP_REQUIRED, &type, err) < 0)
      return -1;
    int t = sp_ns_type_from_name(type);
    if (t < 0) {
      sp_jpath_key(fp, sizeof fp, ep, "type");
      sp_jerr(err, fp, "unknown namespace \"%s\"", sp_jshow(type, show));
      free(type);
      return -1;
    }
    free(type);
    ns->type = (enum sp_ns_type)t;
    for (size_t j = 0; j < i; j++)
      if (l->namespaces[j].type == ns->type)
        return sp_jerr(err, ep, "duplicate namespace \"%s\"", sp_ns_type_name(ns->type));
    if (sp_jf_string(v, ep, "path", SP_OPTIONAL, &ns->path, err) < 0)
      return -1;
    if (ns->path != NULL && ns->path[0] == '\0') { /* "" means: create one */
      free(ns->path);
      ns->path = NULL;
    }
    sp_jpath_key(fp, sizeof fp, ep, "path");
    if (ns->path != NULL && sp_jcheck_abs(ns->path, fp, err) < 0)
      return -1;
  }
  return 0;
}

/* ---- timeOffsets ------------------------------------------------------- */

static int parse_time_offsets(yajl_val lin, const char *path, struct sp_linux *l,
                              struct sp_error *err) {
  char tp[SP_JPATH_MAX], cp[SP_JPATH_MAX];
  yajl_val obj;
  int r = sp_jf_object(lin, path, "timeOffsets", SP_OPTIONAL, &obj, err);
  if (r <= 0)
    return r;
  sp_jpath_key(tp, sizeof tp, path, "timeOffsets");
  if (sp_jcheck_unique_keys(obj, tp, err) < 0)
    return -1;
  for (size_t i = 0; i < obj->u.object.len; i++) {
    const char *clock = obj->u.object.keys[i];
    yajl_val v = obj->u.object.values[i];
    struct sp_time_offset *off;
    uint64_t ns = 0;
    sp_jpath_key(cp, sizeof cp, tp, clock);
    if (strcmp(clock, "monotonic") == 0)
      off = &l->time_monotonic;
    else if (strcmp(clock, "boottime") == 0)
      off = &l->time_boottime;
    else
      return sp_jerr(err, cp, "unknown clock (expected \"monotonic\" or \"boottime\")");
    if (YAJL_IS_NULL(v))
      continue;
    if (sp_jv_object(v, cp, err) < 0 ||
        sp_jf_i64(v, cp, "secs", SP_OPTIONAL, &off->secs, err) < 0 ||
        sp_jf_urange(v, cp, "nanosecs", SP_OPTIONAL, 0, 999999999, &ns, err) < 0)
      return -1;
    off->nanosecs = (uint32_t)ns;
    off->set = true;
  }
  return 0;
}

/* ---- devices ----------------------------------------------------------- */

static int parse_device(yajl_val v, const char *path, struct sp_device *d,
                        struct sp_error *err) {
  char fp[SP_JPATH_MAX], show[SP_JSHOW_MAX];
  char *type = NULL;
  uint64_t mode;
  int r;
  if (sp_jv_object(v, path, err) < 0 ||
      sp_jf_string(v, path, "path", SP_REQUIRED, &d->path, err) < 0)
    return -1;
  sp_jpath_key(fp, sizeof fp, path, "path");
  if (sp_jcheck_abs(d->path, fp, err) < 0 ||
      sp_jf_string(v, path, "type", SP_REQUIRED, &type, err) < 0)
    return -1;
  if (strlen(type) != 1 || strchr("cbup", type[0]) == NULL) {
    sp_jpath_key(fp, sizeof fp, path, "type");
    sp_jerr(err, fp, "unknown device type \"%s\" (expected c, b, u or p)", sp_jshow(type, show));
    free(type);
    return -1;
  }
  d->type = type[0];
  free(type);
  bool need = d->type != 'p';
  if (sp_jf_i64(v, path, "major", need, &d->major, err) < 0 ||
      sp_jf_i64(v, path, "minor", need, &d->minor, err) < 0)
    return -1;
  if ((r = sp_jf_urange(v, path, "fileMode", SP_OPTIONAL, 0, 07777, &mode, err)) < 0)
    return -1;
  d->has_file_mode = r > 0;
  d->file_mode = (uint32_t)mode;
  if ((r = sp_jf_u32(v, path, "uid", SP_OPTIONAL, &d->uid, err)) < 0)
    return -1;
  d->has_uid = r > 0;
  if ((r = sp_jf_u32(v, path, "gid", SP_OPTIONAL, &d->gid, err)) < 0)
    return -1;
  d->has_gid = r > 0;
  return 0;
}

static int parse_devices(yajl_val lin, const char *path, struct sp_linux *l,
                         struct sp_error *err) {
  char ap[SP_JPATH_MAX], ep[SP_JPATH_MAX];
  yajl_val arr;
  int r = sp_jf_array(lin, path, "devices", SP_OPTIONAL, &arr, err);
  if (r <= 0)
    return r;
  sp_jpath_key(ap, sizeof ap, path, "devices");
  size_t n = arr->u.array.len;
  if ((l->devices = sp_jcalloc(n, sizeof *l->devices, ap, err)) == NULL)
    return -1;
  l->devices_len = n;
  for (size_t i = 0; i < n; i++) {
    sp_jpath_index(ep, sizeof ep, ap, i);
    if (parse_device(arr->u.array.values[i], ep, &l->devices[i], err) < 0)
      return -1;
  }
  return 0;
}

/* ---- netDevices -------------------------------------------------------- */

/* Linux interface names: 1..15 bytes, no '/', ':' or white space. */
static bool valid_ifname(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > 15 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
    return false;
  for (; *s; s++)
    if (*s == '/' || *s == ':' || (unsigned char)*s <= ' ' || *s == 0x7f)
      return false;
  return true;
}

static int parse_net_devices(yajl_val lin, const char *path, struct sp_linux *l,
                             struct sp_error *err) {
  char np[SP_JPATH_MAX], kp[SP_JPATH_MAX], fp[SP_JPATH_MAX], show[SP_JSHOW_MAX];
  yajl_val obj;
  int r = sp_jf_object(lin, path, "netDevices", SP_OPTIONAL, &obj, err);
  if (r <= 0)
    return r;
  sp_jpath_key(np, sizeof np, path, "netDevices");
  if (sp_jcheck_unique_keys(obj, np, err) < 0)
    return -1;
  size_t n = obj->u.object.len;
  if ((l->net_devices = sp_jcalloc(n, sizeof *l->net_devices, np, err)) == NULL)
    return -1;
  l->net_devices_len = n;
  for (size_t i = 0; i < n; i++) {
    struct sp_net_device *d = &l->net_devices[i];
    const char *key = obj->u.object.keys[i];
    yajl_val v = obj->u.object.values[i];
    sp_jpath_key(kp, sizeof kp, np, key);
    if (!valid_ifname(key))
      return sp_jerr(err, kp, "invalid interface name \"%s\"", sp_jshow(key, show));
    if ((d->host_name = sp_jstrdup(key, kp, err)) == NULL)
      return -1;
    if (!YAJL_IS_NULL(v) &&
        (sp_jv_object(v, kp, err) < 0 ||
         sp_jf_string(v, kp, "name", SP_OPTIONAL, &d->name, err) < 0))
      return -1;
    sp_jpath_key(fp, sizeof fp, kp, "name");
    if (d->name != NULL && d->name[0] == '\0') {
      free(d->name);
      d->name = NULL;
    }
    if (d->name == NULL && (d->name = sp_jstrdup(key, kp, err)) == NULL)
      return -1;
    if (!valid_ifname(d->name))
      return sp_jerr(err, fp, "invalid interface name \"%s\"", sp_jshow(d->name, show));
    for (size_t j = 0; j < i; j++)
      if (strcmp(l->net_devices[j].name, d->name) == 0)
        return sp_jerr(err, fp, "duplicate interface name \"%s\" in the container",
                       sp_jshow(d->name, show));
  }
  return 0;
}

/* ---- sysctl ------------------------------------------------------------ */

static bool valid_sysctl_name(const char *k) {
  char sep = strchr(k, '/') ? '/' : '.';
  if (*k == '\0')
    return false;
  for (const char *c = k;;) {
    const char *e = strchr(c, sep);
    size_t n = e ? (size_t)(e - c) : strlen(c);
    if (n == 0 || (n == 2 && c[0] == '.' && c[1] == '.') || (n == 1 && c[0] == '.'))
      return false;
    if (e == NULL)
      return true;
    c = e + 1;
  }
}

int sp_sysctl_namespace(const char *key) {
  static const char *const ipc[] = {
      "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
      "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
      "kernel.msg_next_id", "kernel.sem_next_id", "kernel.shm_next_id"};
  char k[256];
  snprintf(k, sizeof k, "%s", key);
  if (strchr(k, '/'))
    for (char *c = k; *c; c++)
      if (*c == '/')
        *c = '.';
  for (size_t i = 0; i < sizeof ipc / sizeof ipc[0]; i++)
    if (strcmp(k, ipc[i]) == 0)
      return SP_NS_IPC;
  if (strncmp(k, "fs.mqueue.", 10) == 0)
    return SP_NS_IPC;
  if (strncmp(k, "net.", 4) == 0)
    return SP_NS_NETWORK;
  if (strcmp(k, "kernel.hostname") == 0 || strcmp(k, "kernel.domainname") == 0)
    return SP_NS_UTS;
  return -1;
}

static int check_sysctls(const struct sp_linux *l, const char *path, struct sp_error *err) {
  char sp[SP_JPATH_MAX], kp[SP_JPATH_MAX];
  sp_jpath_key(sp, sizeof sp, path, "sysctl");
  for (size_t i = 0; i < l->sysctl_len; i++) {
    const char *k = l->sysctl[i].key;
    sp_jpath_key(kp, sizeof kp, sp, k);
    if (!valid_sysctl_name(k) || strlen(k) >= 256)
      return sp_jerr(err, kp, "invalid sysctl name");
    int ns = sp_sysctl_namespace(k);
    if (ns < 0)
      return sp_jerr(err, kp, "not namespaced: setting it would change the host");
    if (need_ns(l, (enum sp_ns_type)ns, kp, err) < 0)
      return -1;
  }
  return 0;
}

/* ---- path lists, cgroupsPath, rootfsPropagation ------------------------ */

static int parse_paths(yajl_val lin, const char *path, const char *key, char ***out,
                       size_t *len, struct sp_error *err) {
  char ap[SP_JPATH_MAX], ep[SP_JPATH_MAX];
  int r = sp_jf_strings(lin, path, key, SP_OPTIONAL, out, len, err);
  if (r <= 0)
    return r;
  sp_jpath_key(ap, sizeof ap, path, key);
  for (size_t i = 0; i < *len; i++) {
    sp_jpath_index(ep, sizeof ep, ap, i);
    if (sp_jcheck_abs((*out)[i], ep, err) < 0)
      return -1;
  }
  return 0;
}

static int parse_cgroups_path(yajl_val lin, const char *path, struct sp_linux *l,
                              struct sp_error *err) {
  char cp[SP_JPATH_MAX];
  int r = sp_jf_string(lin, path, "cgroupsPath", SP_OPTIONAL, &l->cgroups_path, err);
  if (r <= 0)
    return r;
  sp_jpath_key(cp, sizeof cp, path, "cgroupsPath");
  /* no way out of the cgroup hierarchy: no ".." component (the systemd
   * form "slice:prefix:name" has none either) */
  for (const char *c = l->cgroups_path;;) {
    if (strncmp(c, "..", 2) == 0 && (c[2] == '/' || c[2] == '\0'))
      return sp_jerr(err, cp, "must not contain \"..\" components");
    if ((c = strchr(c, '/')) == NULL)
      return 0;
    c++;
  }
}

static int parse_propagation(yajl_val lin, const char *path, struct sp_linux *l,
                             struct sp_error *err) {
  char pp[SP_JPATH_MAX], show[SP_JSHOW_MAX];
  int r = sp_jf_string(lin, path, "rootfsPropagation", SP_OPTIONAL,
                       &l->rootfs_propagation, err);
  if (r <= 0)
    return r;
  if (l->rootfs_propagation[0] == '\0') {
    free(l->rootfs_propagation);
    l->rootfs_propagation = NULL;
    return 0;
  }
  sp_jpath_key(pp, sizeof pp, path, "rootfsPropagation");
  if (sp_propagation_parse(l->rootfs_propagation, &l->rootfs_propagation_flags) < 0)
    return sp_jerr(err, pp, "unknown propagation \"%s\" (expected shared, slave, private or "
                   "unbindable, or one of these with an r prefix)",
                   sp_jshow(l->rootfs_propagation, show));
  return 0;
}

/* ---- intelRdt, personality --------------------------------------------- */

static int parse_intel_rdt(yajl_val lin, const char *path, struct sp_linux *l,
                           struct sp_error *err) {
  char ip[SP_JPATH_MAX], fp[SP_JPATH_MAX], show[SP_JSHOW_MAX];
  yajl_val v;
  int r = sp_jf_object(lin, path, "intelRdt", SP_OPTIONAL, &v, err);
  if (r <= 0)
    return r;
  l->has_intel_rdt = true;
  struct sp_intel_rdt *rdt = &l->intel_rdt;
  sp_jpath_key(ip, sizeof ip, path, "intelRdt");
  if (sp_jf_string(v, ip, "closID", SP_OPTIONAL, &rdt->clos_id, err) < 0 ||
      sp_jf_string(v, ip, "l3CacheSchema", SP_OPTIONAL, &rdt->l3_cache_schema, err) < 0 ||
      sp_jf_string(v, ip, "memBwSchema", SP_OPTIONAL, &rdt->mem_bw_schema, err) < 0 ||
      sp_jf_string(v, ip, "schemata", SP_OPTIONAL, &rdt->schemata, err) < 0)
    return -1;
  if ((r = sp_jf_bool(v, ip, "enableCMT", SP_OPTIONAL, &rdt->enable_cmt, err)) < 0)
    return -1;
  rdt->has_enable_cmt = r > 0;
  if ((r = sp_jf_bool(v, ip, "enableMBM", SP_OPTIONAL, &rdt->enable_mbm, err)) < 0)
    return -1;
  rdt->has_enable_mbm = r > 0;
  /* closID names a directory under the resctrl mount */
  const char *c = rdt->clos_id;
  sp_jpath_key(fp, sizeof fp, ip, "closID");
  if (c != NULL && (strchr(c, '/') || strcmp(c, ".") == 0 || strcmp(c, "..") == 0 ||
                    strchr(c, '\n')))
    return sp_jerr(err, fp, "invalid CLOS name \"%s\"", sp_jshow(c, show));
  const char *mb = rdt->mem_bw_schema;
  sp_jpath_key(fp, sizeof fp, ip, "memBwSchema");
  if (mb != NULL && mb[0] != '\0' && (strncmp(mb, "MB:", 3) != 0 || strchr(mb, '\n')))
    return sp_jerr(err, fp, "must be one line starting with \"MB:\"");
  return 0;
}

static int parse_personality(yajl_val lin, const char *path, struct sp_linux *l,
                             struct sp_error *err) {
  char pp[SP_JPATH_MAX], fp[SP_JPATH_MAX], show[SP_JSHOW_MAX];
  yajl_val v;
  int r = sp_jf_object(lin, path, "personality", SP_OPTIONAL, &v, err);
  if (r <= 0)
    return r;
  l->has_personality = true;
  struct sp_personality *p = &l->personality;
  sp_jpath_key(pp, sizeof pp, path, "personality");
  if (sp_jf_string(v, pp, "domain", SP_REQUIRED, &p->domain, err) < 0 ||
      sp_jf_strings(v, pp, "flags", SP_OPTIONAL, &p->flags, &p->flags_len, err) < 0)
    return -1;
  if (strcmp(p->domain, "LINUX") == 0) {
    p->domain_value = PER_LINUX;
  } else if (strcmp(p->domain, "LINUX32") == 0) {
    p->domain_value = PER_LINUX32;
  } else {
    sp_jpath_key(fp, sizeof fp, pp, "domain");
    return sp_jerr(err, fp, "unknown personality domain \"%s\" (expected LINUX or LINUX32)",
                   sp_jshow(p->domain, show));
  }
  if (p->flags_len > 0) { /* runtime-spec 1.2 defines no flags */
    char ap[SP_JPATH_MAX];
    sp_jpath_key(ap, sizeof ap, pp, "flags");
    sp_jpath_index(fp, sizeof fp, ap, 0);
    return sp_jerr(err, fp, "unknown personality flag \"%s\"", sp_jshow(p->flags[0], show));
  }
  return 0;
}

/* ---- linux ------------------------------------------------------------- */

int sp_parse_linux(yajl_val v, const char *path, struct sp_linux *l,
                   struct sp_error *err) {
  char fp[SP_JPATH_MAX];
  yajl_val obj;
  int r;
  if (sp_jv_object(v, path, err) < 0 || parse_namespaces(v, path, l, err) < 0 ||
      sp_parse_idmaps(v, path, "uidMappings", &l->uid_mappings, &l->uid_mappings_len, err) < 0 ||
      sp_parse_idmaps(v, path, "gidMappings", &l->gid_mappings, &l->gid_mappings_len, err) < 0 ||
      parse_time_offsets(v, path, l, err) < 0 || parse_devices(v, path, l, err) < 0 ||
      parse_net_devices(v, path, l, err) < 0 || parse_cgroups_path(v, path, l, err) < 0)
    return -1;
  if ((r = sp_jf_object(v, path, "resources", SP_OPTIONAL, &obj, err)) < 0)
    return -1;
  if (r > 0) {
    l->has_resources = true;
    sp_jpath_key(fp, sizeof fp, path, "resources");
    if (sp_parse_resources(obj, fp, &l->resources, err) < 0)
      return -1;
  }
  if (parse_propagation(v, path, l, err) < 0)
    return -1;
  if ((r = sp_jf_object(v, path, "seccomp", SP_OPTIONAL, &obj, err)) < 0)
    return -1;
  if (r > 0) {
    l->has_seccomp = true;
    sp_jpath_key(fp, sizeof fp, path, "seccomp");
    if (sp_parse_seccomp(obj, fp, &l->seccomp, err) < 0)
      return -1;
  }
  if (sp_jf_map(v, path, "sysctl", SP_OPTIONAL, &l->sysctl, &l->sysctl_len, err) < 0 ||
      parse_paths(v, path, "maskedPaths", &l->masked_paths, &l->masked_paths_len, err) < 0 ||
      parse_paths(v, path, "readonlyPaths", &l->readonly_paths, &l->readonly_paths_len, err) < 0 ||
      sp_jf_string(v, path, "mountLabel", SP_OPTIONAL, &l->mount_label, err) < 0 ||
      parse_intel_rdt(v, path, l, err) < 0 || parse_personality(v, path, l, err) < 0)
    return -1;

  /* checks between fields */
  sp_jpath_key(fp, sizeof fp, path, "uidMappings");
  if (l->uid_mappings_len > 0 && need_ns(l, SP_NS_USER, fp, err) < 0)
    return -1;
  sp_jpath_key(fp, sizeof fp, path, "gidMappings");
  if (l->gid_mappings_len > 0 && need_ns(l, SP_NS_USER, fp, err) < 0)
    return -1;
  sp_jpath_key(fp, sizeof fp, path, "timeOffsets");
  if (l->time_monotonic.set || l->time_boottime.set) {
    const struct sp_namespace *t = find_ns(l, SP_NS_TIME);
    if (t == NULL || t->path != NULL)
      return sp_jerr(err, fp, "requires a new time namespace (a \"time\" entry without a "
                              "path in .linux.namespaces)");
  }
  sp_jpath_key(fp, sizeof fp, path, "netDevices");
  if (l->net_devices_len > 0 && need_ns(l, SP_NS_NETWORK, fp, err) < 0)
    return -1;
  return check_sysctls(l, path, err);
}

void sp_linux_free(struct sp_linux *l) {
  if (l == NULL)
    return;
  if (l->namespaces) {
    for (size_t i = 0; i < l->namespaces_len; i++)
      free(l->namespaces[i].path);
    free(l->namespaces);
  }
  free(l->uid_mappings);
  free(l->gid_mappings);
  if (l->devices) {
    for (size_t i = 0; i < l->devices_len; i++)
      free(l->devices[i].path);
    free(l->devices);
  }
  if (l->net_devices) {
    for (size_t i = 0; i < l->net_devices_len; i++) {
      free(l->net_devices[i].host_name);
      free(l->net_devices[i].name);
    }
    free(l->net_devices);
  }
  free(l->cgroups_path);
  sp_resources_free(&l->resources);
  free(l->rootfs_propagation);
  sp_seccomp_free(&l->seccomp);
  sp_jkv_free(l->sysctl, l->sysctl_len);
  sp_jstrv_free(l->masked_paths, l->masked_paths_len);
  sp_jstrv_free(l->readonly_paths, l->readonly_paths_len);
  free(l->mount_label);
  free(l->intel_rdt.clos_id);
  free(l->intel_rdt.l3_cache_schema);
  free(l->intel_rdt.mem_bw_schema);
  free(l->intel_rdt.schemata);
  free(l->personality.domain);
  sp_jstrv_free(l->personality.flags, l->personality.flags_len);
  memset(l, 0, sizeof *l);
}
