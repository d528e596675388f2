/* Unit tests for src/spec/generate.c: the config `sprout spec` writes is
 * valid JSON in runc's key order, and parses back with sprout's own parser
 * into the namespaces, mounts, capabilities and id mappings it promises. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "sprout/spec.h"

static char *generate(bool rootless) {
  struct sp_error err = {0};
  char *json = sp_spec_generate(rootless, &err);

  ck_assert_msg(json != NULL, "sp_spec_generate: %s", err.msg);
  ck_assert_str_eq(err.msg, "");
  return json;
}

static void parse(const char *json, struct sp_spec *spec) {
  struct sp_error err = {0};

  memset(spec, 0, sizeof(*spec));
  ck_assert_msg(
      sp_spec_parse_buf(json, strlen(json), "config.json", spec, &err) == 0,
      "generated config does not parse back: %s", err.msg);
}

static bool has_str(char **list, size_t n, const char *s) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(list[i], s) == 0)
      return true;
  return false;
}

static const struct sp_mount *find_mount(const struct sp_spec *spec,
                                         const char *dest) {
  for (size_t i = 0; i < spec->mounts_len; i++)
    if (strcmp(spec->mounts[i].destination, dest) == 0)
      return &spec->mounts[i];
  return NULL;
}

static const char *const mount_order[] = {
    "/proc",       "/dev", "/dev/pts",       "/dev/shm",
    "/dev/mqueue", "/sys", "/sys/fs/cgroup",
};
#define N_MOUNTS (sizeof(mount_order) / sizeof(mount_order[0]))

static void check_caps(char **caps, size_t n) {
  ck_assert_uint_eq(n, 3);
  ck_assert_str_eq(caps[0], "CAP_AUDIT_WRITE");
  ck_assert_str_eq(caps[1], "CAP_KILL");
  ck_assert_str_eq(caps[2], "CAP_NET_BIND_SERVICE");
}

/* What the default and the rootless configs have in common. */
static void check_common(const struct sp_spec *spec) {
  const struct sp_process *p = &spec->process;

  ck_assert_str_eq(spec->oci_version, SP_SPEC_VERSION);
  ck_assert_str_eq(spec->root_path, "rootfs");
  ck_assert(spec->root_readonly);
  ck_assert_str_eq(spec->hostname, "sprout");

  ck_assert(spec->has_process);
  ck_assert(!p->terminal);
  ck_assert_uint_eq(p->user.uid, 0);
  ck_assert_uint_eq(p->user.gid, 0);
  ck_assert_uint_eq(p->args_len, 1);
  ck_assert_str_eq(p->args[0], "sh");
  ck_assert_str_eq(p->cwd, "/");
  ck_assert_uint_eq(p->env_len, 2);
  ck_assert_str_eq(p->env[0], "PATH=/usr/local/sbin:/usr/local/bin:"
                              "/usr/sbin:/usr/bin:/sbin:/bin");
  ck_assert_str_eq(p->env[1], "TERM=xterm");
  ck_assert(p->no_new_privileges);

  ck_assert(p->has_capabilities);
  ck_assert(p->capabilities.has_bounding);
  check_caps(p->capabilities.bounding, p->capabilities.bounding_len);
  ck_assert(p->capabilities.has_effective);
  check_caps(p->capabilities.effective, p->capabilities.effective_len);
  ck_assert(p->capabilities.has_permitted);
  check_caps(p->capabilities.permitted, p->capabilities.permitted_len);
  ck_assert(!p->capabilities.has_inheritable);
  ck_assert_uint_eq(p->capabilities.inheritable_len, 0);
  ck_assert(!p->capabilities.has_ambient);
  ck_assert_uint_eq(p->capabilities.ambient_len, 0);

  ck_assert_uint_eq(p->rlimits_len, 1);
  ck_assert_str_eq(p->rlimits[0].type, "RLIMIT_NOFILE");
  ck_assert_int_eq(p->rlimits[0].resource, RLIMIT_NOFILE);
  ck_assert_uint_eq(p->rlimits[0].soft, 1024);
  ck_assert_uint_eq(p->rlimits[0].hard, 1024);

  ck_assert_uint_eq(spec->mounts_len, N_MOUNTS);
  for (size_t i = 0; i < N_MOUNTS; i++)
    ck_assert_str_eq(spec->mounts[i].destination, mount_order[i]);

  const struct sp_mount *m = find_mount(spec, "/proc");
  ck_assert_str_eq(m->type, "proc");
  ck_assert_uint_eq(m->options_len, 0);
  m = find_mount(spec, "/dev");
  ck_assert_str_eq(m->type, "tmpfs");
  ck_assert(m->flags & MS_NOSUID);
  ck_assert(m->flags & MS_STRICTATIME);
  ck_assert(!(m->flags & MS_NOEXEC)); /* /dev/... may hold executables */
  m = find_mount(spec, "/dev/shm");
  ck_assert_str_eq(m->type, "tmpfs");
  ck_assert_str_eq(m->source, "shm");
  ck_assert(has_str(m->options, m->options_len, "mode=1777"));
  ck_assert(m->flags & MS_NODEV);
  m = find_mount(spec, "/dev/mqueue");
  ck_assert_str_eq(m->type, "mqueue");
  ck_assert_uint_eq(m->flags & (MS_NOSUID | MS_NOEXEC | MS_NODEV),
                    MS_NOSUID | MS_NOEXEC | MS_NODEV);
  m = find_mount(spec, "/sys");
  ck_assert(m->flags & MS_RDONLY);
  ck_assert(m->flags & MS_NOSUID);
  m = find_mount(spec, "/sys/fs/cgroup");
  ck_assert_str_eq(m->type, "cgroup");
  ck_assert(m->flags & MS_RDONLY);
  ck_assert(m->flags & MS_RELATIME);

  ck_assert(spec->has_linux);
  ck_assert_uint_eq(spec->linux_.masked_paths_len, 10);
  ck_assert_str_eq(spec->linux_.masked_paths[0], "/proc/acpi");
  ck_assert(has_str(spec->linux_.masked_paths, 10, "/proc/kcore"));
  ck_assert(has_str(spec->linux_.masked_paths, 10, "/sys/firmware"));
  ck_assert_str_eq(spec->linux_.masked_paths[9], "/proc/scsi");
  ck_assert_uint_eq(spec->linux_.readonly_paths_len, 5);
  ck_assert_str_eq(spec->linux_.readonly_paths[0], "/proc/bus");
  ck_assert_str_eq(spec->linux_.readonly_paths[4], "/proc/sysrq-trigger");

  for (int t = SP_NS_PID; t < SP_NS_COUNT; t++) {
    const struct sp_namespace *ns = sp_spec_namespace(spec, t);
    if (ns)
      ck_assert_ptr_null(ns->path); /* always new namespaces */
  }
  ck_assert_ptr_nonnull(sp_spec_namespace(spec, SP_NS_PID));
  ck_assert_ptr_nonnull(sp_spec_namespace(spec, SP_NS_IPC));
  ck_assert_ptr_nonnull(sp_spec_namespace(spec, SP_NS_UTS));
  ck_assert_ptr_nonnull(sp_spec_namespace(spec, SP_NS_MOUNT));
  ck_assert_ptr_nonnull(sp_spec_namespace(spec, SP_NS_CGROUP));
  ck_assert_ptr_null(sp_spec_namespace(spec, SP_NS_TIME));
  ck_assert(!spec->has_hooks);
  ck_assert_uint_eq(spec->annotations_len, 0);
}

START_TEST(test_default_parses) {
  static const enum sp_ns_type order[] = {
      SP_NS_PID, SP_NS_NETWORK, SP_NS_IPC, SP_NS_UTS, SP_NS_MOUNT, SP_NS_CGROUP,
  };
  char *json = generate(false);
  struct sp_spec spec;

  parse(json, &spec);
  check_common(&spec);

  ck_assert_uint_eq(spec.linux_.namespaces_len, 6);
  for (size_t i = 0; i < 6; i++)
    ck_assert_int_eq(spec.linux_.namespaces[i].type, order[i]);
  ck_assert_ptr_null(sp_spec_namespace(&spec, SP_NS_USER));
  ck_assert_uint_eq(spec.linux_.uid_mappings_len, 0);
  ck_assert_uint_eq(spec.linux_.gid_mappings_len, 0);

  const struct sp_mount *m = find_mount(&spec, "/dev/pts");
  ck_assert_str_eq(m->type, "devpts");
  ck_assert(has_str(m->options, m->options_len, "gid=5"));
  ck_assert(has_str(m->options, m->options_len, "newinstance"));
  ck_assert(has_str(m->options, m->options_len, "ptmxmode=0666"));
  m = find_mount(&spec, "/sys");
  ck_assert_str_eq(m->type, "sysfs");
  ck_assert(!m->bind);

  /* the device cgroup denies everything; devices come from the runtime */
  ck_assert(spec.linux_.has_resources);
  ck_assert_uint_eq(spec.linux_.resources.devices_len, 1);
  ck_assert(!spec.linux_.resources.devices[0].allow);
  ck_assert_str_eq(spec.linux_.resources.devices[0].access, "rwm");
  ck_assert_uint_eq(spec.linux_.devices_len, 0);

  sp_spec_free(&spec);
  free(json);
}
END_TEST

START_TEST(test_rootless_parses) {
  char *json = generate(true);
  struct sp_spec spec;

  parse(json, &spec);
  check_common(&spec);

  ck_assert_ptr_nonnull(sp_spec_namespace(&spec, SP_NS_USER));
  ck_assert_ptr_null(sp_spec_namespace(&spec, SP_NS_NETWORK));
  ck_assert_uint_eq(spec.linux_.namespaces_len, 6);
  ck_assert_int_eq(spec.linux_.namespaces[5].type, SP_NS_USER);

  ck_assert_uint_eq(spec.linux_.uid_mappings_len, 1);
  ck_assert_uint_eq(spec.linux_.uid_mappings[0].container_id, 0);
  ck_assert_uint_eq(spec.linux_.uid_mappings[0].host_id, getuid());
  ck_assert_uint_eq(spec.linux_.uid_mappings[0].size, 1);
  ck_assert_uint_eq(spec.linux_.gid_mappings_len, 1);
  ck_assert_uint_eq(spec.linux_.gid_mappings[0].container_id, 0);
  ck_assert_uint_eq(spec.linux_.gid_mappings[0].host_id, getgid());
  ck_assert_uint_eq(spec.linux_.gid_mappings[0].size, 1);

  const struct sp_mount *m = find_mount(&spec, "/dev/pts");
  ck_assert(!has_str(m->options, m->options_len, "gid=5"));
  ck_assert(has_str(m->options, m->options_len, "newinstance"));
  m = find_mount(&spec, "/sys");
  ck_assert_str_eq(m->source, "/sys");
  ck_assert(m->bind);
  ck_assert(m->flags & MS_BIND);
  ck_assert(m->flags & MS_REC);
  ck_assert(has_str(m->options, m->options_len, "rbind"));
  ck_assert(has_str(m->options, m->options_len, "ro"));

  ck_assert(!spec.linux_.has_resources);

  sp_spec_free(&spec);
  free(json);
}
END_TEST

/* ---- the JSON text itself ---------------------------------------------- */

static yajl_val tree(const char *json) {
  char errbuf[256] = "";
  yajl_val v = yajl_tree_parse(json, errbuf, sizeof(errbuf));

  ck_assert_msg(v != NULL, "not JSON: %s", errbuf);
  ck_assert(YAJL_IS_OBJECT(v));
  return v;
}

static void check_keys(yajl_val obj, const char *const *keys, size_t n) {
  ck_assert(YAJL_IS_OBJECT(obj));
  ck_assert_uint_eq(YAJL_GET_OBJECT(obj)->len, n);
  for (size_t i = 0; i < n; i++)
    ck_assert_str_eq(YAJL_GET_OBJECT(obj)->keys[i], keys[i]);
}

static yajl_val get(yajl_val v, const char *a, const char *b, const char *c) {
  const char *path[] = {a, b, c, NULL};
  return yajl_tree_get(v, path, yajl_t_any);
}

START_TEST(test_key_order) {
  static const char *const top[] = {
      "ociVersion", "process", "root", "hostname", "mounts", "linux",
  };
  static const char *const process[] = {
      "terminal", "user",         "args",    "env",
      "cwd",      "capabilities", "rlimits", "noNewPrivileges",
  };
  static const char *const caps[] = {"bounding", "effective", "permitted"};
  static const char *const linux_root[] = {
      "resources",
      "namespaces",
      "maskedPaths",
      "readonlyPaths",
  };
  static const char *const linux_rootless[] = {
      "uidMappings", "gidMappings",   "namespaces",
      "maskedPaths", "readonlyPaths",
  };
  static const char *const rlimit[] = {"type", "hard", "soft"};
  static const char *const mount[] = {
      "destination",
      "type",
      "source",
      "options",
  };

  for (int rootless = 0; rootless <= 1; rootless++) {
    char *json = generate(rootless);
    yajl_val v = tree(json);

    check_keys(v, top, 6);
    check_keys(get(v, "process", NULL, NULL), process, 8);
    check_keys(get(v, "process", "capabilities", NULL), caps, 3);
    yajl_val rl = get(v, "process", "rlimits", NULL);
    ck_assert(YAJL_IS_ARRAY(rl));
    check_keys(YAJL_GET_ARRAY(rl)->values[0], rlimit, 3);
    yajl_val mounts = get(v, "mounts", NULL, NULL);
    ck_assert(YAJL_IS_ARRAY(mounts));
    ck_assert_uint_eq(YAJL_GET_ARRAY(mounts)->len, N_MOUNTS);
    check_keys(YAJL_GET_ARRAY(mounts)->values[0], mount, 3); /* /proc */
    check_keys(YAJL_GET_ARRAY(mounts)->values[1], mount, 4);
    if (rootless)
      check_keys(get(v, "linux", NULL, NULL), linux_rootless, 5);
    else
      check_keys(get(v, "linux", NULL, NULL), linux_root, 4);
    ck_assert(YAJL_IS_FALSE(get(v, "process", "terminal", NULL)));
    ck_assert(YAJL_IS_TRUE(get(v, "root", "readonly", NULL)));
    ck_assert_str_eq(YAJL_GET_STRING(get(v, "ociVersion", NULL, NULL)),
                     "1.2.0");
    yajl_tree_free(v);
    free(json);
  }
}
END_TEST

START_TEST(test_pretty) {
  char *json = generate(false);
  size_t len = strlen(json);

  /* indented with tabs like runc's, one value a line, ends with a newline */
  ck_assert_uint_gt(len, 0);
  ck_assert_int_eq(json[0], '{');
  ck_assert_int_eq(json[len - 1], '\n');
  ck_assert_ptr_nonnull(strstr(json, "{\n\t\"ociVersion\": \"1.2.0\",\n"));
  ck_assert_ptr_nonnull(strstr(json, "\n\t\t\"terminal\": false,\n"));
  free(json);
}
END_TEST

START_TEST(test_rootless_differs) {
  char *a = generate(false), *b = generate(true);

  ck_assert_str_ne(a, b);
  ck_assert_ptr_null(strstr(b, "\"network\""));
  ck_assert_ptr_nonnull(strstr(a, "\"network\""));
  ck_assert_ptr_null(strstr(b, "gid=5"));
  ck_assert_ptr_null(strstr(b, "\"resources\""));
  ck_assert_ptr_null(strstr(a, "uidMappings"));
  free(a);
  free(b);
}
END_TEST

static Suite *generate_suite(void) {
  Suite *s = suite_create("generate");
  TCase *tc;

  tc = tcase_create("json");
  tcase_add_test(tc, test_key_order);
  tcase_add_test(tc, test_pretty);
  tcase_add_test(tc, test_rootless_differs);
  suite_add_tcase(s, tc);

  tc = tcase_create("parse-back");
  tcase_add_test(tc, test_default_parses);
  tcase_add_test(tc, test_rootless_parses);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(generate_suite());
  int failures;

  srunner_run_all(sr, CK_NORMAL);
  failures = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failures ? 1 : 0;
}
