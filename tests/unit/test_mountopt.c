/* Unit tests for mount options -> flags (src/spec/mountopt.c). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "sprout/mountopt.h"
#include "sprout/spec.h"

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif
#ifndef MOUNT_ATTR_NOSYMFOLLOW
#define MOUNT_ATTR_NOSYMFOLLOW 0x00200000
#endif

/* A mount with the given type and options (NULL-terminated list). */
static struct sp_mount make(const char *type, const char *const *opts) {
  struct sp_mount m;
  memset(&m, 0, sizeof m);
  m.destination = strdup("/mnt");
  m.type = type ? strdup(type) : NULL;
  size_t n = 0;
  while (opts && opts[n])
    n++;
  m.options = calloc(n + 1, sizeof *m.options);
  for (size_t i = 0; i < n; i++)
    m.options[i] = strdup(opts[i]);
  m.options_len = n;
  return m;
}

static void drop(struct sp_mount *m) {
  free(m->destination);
  free(m->type);
  for (size_t i = 0; i < m->options_len; i++)
    free(m->options[i]);
  free(m->options);
  free(m->uid_mappings);
  free(m->gid_mappings);
  free(m->data);
  memset(m, 0, sizeof *m);
}

/* Parse type + options, which must succeed. */
static struct sp_mount parsed(const char *type, const char *const *opts) {
  struct sp_mount m = make(type, opts);
  struct sp_error e = {0};
  ck_assert_msg(sp_mountopt_parse(&m, &e) == 0, "%s", e.msg);
  return m;
}

#define OPTS(...) ((const char *const[]){__VA_ARGS__, NULL})

static const struct {
  const char *opt;
  unsigned long set, clear;
} flag_table[] = {
    {"defaults", 0, 0},
    {"ro", MS_RDONLY, 0},           {"rw", 0, MS_RDONLY},
    {"nosuid", MS_NOSUID, 0},       {"suid", 0, MS_NOSUID},
    {"nodev", MS_NODEV, 0},         {"dev", 0, MS_NODEV},
    {"noexec", MS_NOEXEC, 0},       {"exec", 0, MS_NOEXEC},
    {"sync", MS_SYNCHRONOUS, 0},    {"async", 0, MS_SYNCHRONOUS},
    {"dirsync", MS_DIRSYNC, 0},     {"remount", MS_REMOUNT, 0},
    {"mand", MS_MANDLOCK, 0},       {"nomand", 0, MS_MANDLOCK},
    {"noatime", MS_NOATIME, 0},     {"atime", 0, MS_NOATIME},
    {"nodiratime", MS_NODIRATIME, 0}, {"diratime", 0, MS_NODIRATIME},
    {"relatime", MS_RELATIME, 0},   {"norelatime", 0, MS_RELATIME},
    {"strictatime", MS_STRICTATIME, 0}, {"nostrictatime", 0, MS_STRICTATIME},
    {"lazytime", MS_LAZYTIME, 0},   {"nolazytime", 0, MS_LAZYTIME},
    {"iversion", MS_I_VERSION, 0},  {"noiversion", 0, MS_I_VERSION},
    {"silent", MS_SILENT, 0},       {"loud", 0, MS_SILENT},
    {"nosymfollow", MS_NOSYMFOLLOW, 0}, {"symfollow", 0, MS_NOSYMFOLLOW},
};

START_TEST(test_flag_option) {
  struct sp_mount m = parsed("tmpfs", OPTS(flag_table[_i].opt));
  ck_assert_msg(m.flags == flag_table[_i].set, "%s: flags %#lx", flag_table[_i].opt, m.flags);
  ck_assert_msg(m.clear_flags == flag_table[_i].clear, "%s: clear %#lx", flag_table[_i].opt,
                m.clear_flags);
  ck_assert_ptr_null(m.data);
  ck_assert(!m.bind && m.propagation == 0 && m.rec_attr_set == 0 && m.rec_attr_clr == 0);
  drop(&m);
}
END_TEST

START_TEST(test_last_wins) {
  struct sp_mount m = parsed("tmpfs", OPTS("ro", "nosuid", "rw"));
  ck_assert_uint_eq(m.flags, MS_NOSUID);
  ck_assert_uint_eq(m.clear_flags, MS_RDONLY);
  drop(&m);
  m = parsed("tmpfs", OPTS("rw", "ro", "suid", "nosuid", "exec"));
  ck_assert_uint_eq(m.flags, MS_RDONLY | MS_NOSUID);
  ck_assert_uint_eq(m.clear_flags, MS_NOEXEC);
  drop(&m);
}
END_TEST

START_TEST(test_bind) {
  struct sp_mount m = parsed("bind", OPTS("ro"));
  ck_assert(m.bind);
  ck_assert_uint_eq(m.flags, MS_BIND | MS_RDONLY); /* type bind implies bind */
  drop(&m);
  m = parsed(NULL, OPTS("rbind", "nodev"));
  ck_assert(m.bind);
  ck_assert_uint_eq(m.flags, MS_BIND | MS_REC | MS_NODEV);
  drop(&m);
  m = parsed("none", OPTS("bind"));
  ck_assert(m.bind);
  ck_assert_uint_eq(m.flags, MS_BIND);
  drop(&m);
  m = parsed("tmpfs", NULL);
  ck_assert(!m.bind);
  ck_assert_uint_eq(m.flags, 0);
  ck_assert_ptr_null(m.data);
  drop(&m);
}
END_TEST

START_TEST(test_propagation) {
  static const struct {
    const char *name;
    unsigned long flags;
  } props[] = {
      {"shared", MS_SHARED},   {"rshared", MS_SHARED | MS_REC},
      {"slave", MS_SLAVE},     {"rslave", MS_SLAVE | MS_REC},
      {"private", MS_PRIVATE}, {"rprivate", MS_PRIVATE | MS_REC},
      {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
  };
  for (size_t i = 0; i < sizeof props / sizeof props[0]; i++) {
    unsigned long f = 12345;
    ck_assert_int_eq(sp_propagation_parse(props[i].name, &f), 0);
    ck_assert_uint_eq(f, props[i].flags);
    struct sp_mount m = parsed("bind", OPTS("rbind", props[i].name));
    ck_assert_uint_eq(m.propagation, props[i].flags);
    ck_assert_uint_eq(m.flags, MS_BIND | MS_REC); /* propagation stays out of flags */
    drop(&m);
  }
  unsigned long f = 7;
  ck_assert_int_eq(sp_propagation_parse("rshare", &f), -1);
  ck_assert_int_eq(sp_propagation_parse("", &f), -1);
  ck_assert_int_eq(sp_propagation_parse("Shared", &f), -1);
  ck_assert_int_eq(sp_propagation_parse(NULL, &f), -1);
  ck_assert_uint_eq(f, 7);
  struct sp_mount m = parsed(NULL, OPTS("rshared", "rslave")); /* last wins */
  ck_assert_uint_eq(m.propagation, MS_SLAVE | MS_REC);
  drop(&m);
}
END_TEST

START_TEST(test_recursive_attrs) {
  static const struct {
    const char *opt;
    uint64_t set, clr;
  } rec[] = {
      {"rro", MOUNT_ATTR_RDONLY, 0},         {"rrw", 0, MOUNT_ATTR_RDONLY},
      {"rnosuid", MOUNT_ATTR_NOSUID, 0},     {"rsuid", 0, MOUNT_ATTR_NOSUID},
      {"rnodev", MOUNT_ATTR_NODEV, 0},       {"rdev", 0, MOUNT_ATTR_NODEV},
      {"rnoexec", MOUNT_ATTR_NOEXEC, 0},     {"rexec", 0, MOUNT_ATTR_NOEXEC},
      {"rnodiratime", MOUNT_ATTR_NODIRATIME, 0}, {"rdiratime", 0, MOUNT_ATTR_NODIRATIME},
      {"rnosymfollow", MOUNT_ATTR_NOSYMFOLLOW, 0}, {"rsymfollow", 0, MOUNT_ATTR_NOSYMFOLLOW},
      {"rrelatime", MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME},
      {"rnoatime", MOUNT_ATTR_NOATIME, MOUNT_ATTR__ATIME},
      {"rstrictatime", MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME},
      {"ratime", MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME},
      {"rnorelatime", MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME},
      {"rnostrictatime", MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME},
  };
  for (size_t i = 0; i < sizeof rec / sizeof rec[0]; i++) {
    struct sp_mount m = parsed("bind", OPTS("rbind", rec[i].opt));
    ck_assert_msg(m.rec_attr_set == rec[i].set && m.rec_attr_clr == rec[i].clr,
                  "%s: set %#llx clr %#llx", rec[i].opt, (unsigned long long)m.rec_attr_set,
                  (unsigned long long)m.rec_attr_clr);
    ck_assert_uint_eq(m.flags, MS_BIND | MS_REC); /* not mount(2) flags */
    drop(&m);
  }
  struct sp_mount m = parsed("bind", OPTS("rro", "rnoatime", "rnosuid", "rrw", "rstrictatime"));
  ck_assert_uint_eq(m.rec_attr_set, MOUNT_ATTR_NOSUID | MOUNT_ATTR_STRICTATIME);
  ck_assert_uint_eq(m.rec_attr_clr, MOUNT_ATTR_RDONLY | MOUNT_ATTR__ATIME);
  drop(&m);
}
END_TEST

START_TEST(test_runtime_options) {
  struct sp_mount m = parsed("tmpfs", OPTS("tmpcopyup"));
  ck_assert(m.tmpcopyup && !m.idmap);
  ck_assert_ptr_null(m.data);
  drop(&m);
  m = parsed("bind", OPTS("rbind", "idmap"));
  ck_assert(m.idmap && !m.idmap_recursive);
  drop(&m);
  m = parsed("bind", OPTS("rbind", "ridmap"));
  ck_assert(m.idmap && m.idmap_recursive);
  drop(&m);
  m = parsed("bind", OPTS("bind", "copy-symlink", "src-nofollow"));
  ck_assert(m.copy_symlink && m.src_nofollow);
  drop(&m);
  /* mappings without the option still make an idmapped mount */
  m = make("bind", OPTS("rbind"));
  m.uid_mappings = calloc(1, sizeof *m.uid_mappings);
  m.uid_mappings_len = 1;
  m.gid_mappings = calloc(1, sizeof *m.gid_mappings);
  m.gid_mappings_len = 1;
  struct sp_error e;
  ck_assert_int_eq(sp_mountopt_parse(&m, &e), 0);
  ck_assert(m.idmap && !m.idmap_recursive);
  drop(&m);
}
END_TEST

START_TEST(test_data_passthrough) {
  struct sp_mount m = parsed("tmpfs", OPTS("nosuid", "mode=755", "strictatime", "size=65536k",
                                           "huge", "ro", "nr_inodes=0"));
  ck_assert_uint_eq(m.flags, MS_NOSUID | MS_STRICTATIME | MS_RDONLY);
  ck_assert_str_eq(m.data, "mode=755,size=65536k,huge,nr_inodes=0");
  drop(&m);
  m = parsed("overlay", OPTS("lowerdir=/a:/b", "upperdir=/u", "workdir=/w", "userxattr"));
  ck_assert_str_eq(m.data, "lowerdir=/a:/b,upperdir=/u,workdir=/w,userxattr");
  ck_assert_uint_eq(m.flags, 0);
  drop(&m);
  m = parsed("devpts", OPTS("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"));
  ck_assert_str_eq(m.data, "newinstance,ptmxmode=0666,mode=0620,gid=5");
  drop(&m);
  /* no type and no bind: a remount, data still allowed */
  m = parsed(NULL, OPTS("remount", "ro", "size=1m"));
  ck_assert_uint_eq(m.flags, MS_REMOUNT | MS_RDONLY);
  ck_assert_str_eq(m.data, "size=1m");
  drop(&m);
  /* parsing again resets the derived fields (and does not leak data) */
  m = parsed("tmpfs", OPTS("mode=1777", "nodev"));
  struct sp_error e;
  ck_assert_int_eq(sp_mountopt_parse(&m, &e), 0);
  ck_assert_str_eq(m.data, "mode=1777");
  ck_assert_uint_eq(m.flags, MS_NODEV);
  drop(&m);
}
END_TEST

START_TEST(test_bind_unknown_option) {
  const struct {
    const char *type;
    const char *const *opts;
    const char *bad;
  } cases[] = {
      {"bind", OPTS("rbind", "foo"), "foo"},
      {"bind", OPTS("mode=755"), "mode=755"},
      {NULL, OPTS("bind", "ro", "size=1m"), "size=1m"},
      {"none", OPTS("rbind", "nosuid", "x-custom"), "x-custom"},
      {"tmpfs", OPTS("bind", "mode=755"), "mode=755"}, /* MS_BIND ignores data */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct sp_mount m = make(cases[i].type, cases[i].opts);
    struct sp_error e = {0};
    char want[128];
    snprintf(want, sizeof want, "unknown mount option \"%s\"", cases[i].bad);
    ck_assert_int_eq(sp_mountopt_parse(&m, &e), -1);
    ck_assert_msg(strncmp(e.msg, want, strlen(want)) == 0, "got %s", e.msg);
    ck_assert_int_eq(e.code, 0);
    ck_assert_ptr_null(m.data);
    drop(&m);
  }
}
END_TEST

START_TEST(test_via_spec_path) {
  /* through the spec parser the message names the option's JSON path */
  const char *doc = "{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"r\"},\"mounts\":["
                    "{\"destination\":\"/a\",\"type\":\"tmpfs\",\"options\":[\"foo\"]},"
                    "{\"destination\":\"/b\",\"type\":\"bind\",\"source\":\"/s\","
                    "\"options\":[\"rbind\",\"rro\",\"bar\"]}]}";
  struct sp_spec s;
  struct sp_error e;
  ck_assert_int_eq(sp_spec_parse_buf(doc, strlen(doc), "config.json", &s, &e), -1);
  ck_assert_str_eq(e.msg, "config.json: .mounts[1].options[2]: unknown mount option \"bar\" "
                          "(a bind mount takes no filesystem options)");
}
END_TEST

static Suite *mountopt_suite(void) {
  Suite *s = suite_create("mountopt");
  TCase *tc = tcase_create("flags");
  tcase_add_loop_test(tc, test_flag_option, 0, (int)(sizeof flag_table / sizeof flag_table[0]));
  tcase_add_test(tc, test_last_wins);
  tcase_add_test(tc, test_bind);
  tcase_add_test(tc, test_propagation);
  tcase_add_test(tc, test_recursive_attrs);
  tcase_add_test(tc, test_runtime_options);
  suite_add_tcase(s, tc);
  tc = tcase_create("data");
  tcase_add_test(tc, test_data_passthrough);
  tcase_add_test(tc, test_bind_unknown_option);
  tcase_add_test(tc, test_via_spec_path);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(mountopt_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failures = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failures ? 1 : 0;
}
