/* features: runtime-spec's features document (features.md,
 * features-linux.md), as pretty JSON on stdout.
 *
 * Every list is what this build really accepts: mount options are the
 * candidates the option parser takes on a bind mount, capabilities the
 * names libcap knows, architectures those libseccomp resolves, and
 * supportedFlags the seccomp flags the running kernel accepts. */
#include <ctype.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>

#include "cli.h"
#include "config.h"
#include "sprout/mountopt.h"
#include "sprout/security.h"
#include "sprout/spec.h"
#include "sprout/util.h"

#ifndef SECCOMP_FILTER_FLAG_TSYNC
#define SECCOMP_FILTER_FLAG_TSYNC 1U
#endif

/* runtime-spec's table of mount options and the idmap extensions; tmpcopyup,
 * copy-symlink and src-nofollow are parsed but not acted on yet, so they
 * are not claimed */
static const char *const mount_candidates[] = {
    "acl", "async", "atime", "bind", "defaults", "dev", "diratime", "dirsync", "exec",
    "iversion", "lazytime", "loud", "mand", "noacl", "noatime", "nodev", "nodiratime",
    "noexec", "noiversion", "nolazytime", "nomand", "norelatime", "nostrictatime", "nosuid",
    "nosymfollow", "private", "ratime", "rbind", "rdev", "rdiratime", "relatime", "remount",
    "rexec", "rnoatime", "rnodev", "rnodiratime", "rnoexec", "rnorelatime",
    "rnostrictatime", "rnosuid", "rnosymfollow", "ro", "rprivate", "rrelatime", "rro", "rrw",
    "rshared", "rslave", "rstrictatime", "rsuid", "rsymfollow", "runbindable", "rw", "shared",
    "silent", "slave", "strictatime", "suid", "symfollow", "sync", "unbindable", "idmap",
    "ridmap"};

static const char *const hooks[] = {"prestart",       "createRuntime", "createContainer",
                                    "startContainer", "poststart",     "poststop"};

static const char *const actions[] = {
    "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL",   "SCMP_ACT_KILL_PROCESS",
    "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY", "SCMP_ACT_TRACE",
    "SCMP_ACT_TRAP"};

static const char *const operators[] = {"SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT",
                                        "SCMP_CMP_LE", "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ",
                                        "SCMP_CMP_NE"};

static const char *const archs[] = {
    "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM", "SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K",
    "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL",
    "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PARISC", "SCMP_ARCH_PARISC64",
    "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64", "SCMP_ARCH_PPC64LE", "SCMP_ARCH_RISCV64",
    "SCMP_ARCH_S390", "SCMP_ARCH_S390X", "SCMP_ARCH_SH", "SCMP_ARCH_SHEB", "SCMP_ARCH_X32",
    "SCMP_ARCH_X86", "SCMP_ARCH_X86_64"};

static const struct {
  const char *name;
  unsigned int flag;
} seccomp_flags[] = {
    {"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC},
    {"SECCOMP_FILTER_FLAG_LOG", 1U << 1},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", 1U << 2},
    {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", 1U << 5},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void str_array(sp_json g, const char *key, const char *const *v, size_t n) {
  sp_json_key(g, key);
  sp_json_array_open(g);
  for (size_t i = 0; i < n; i++)
    sp_json_str(g, v[i]);
  sp_json_array_close(g);
}

static bool mount_option_known(const char *name) {
  char *opts[] = {(char *)name};
  struct sp_mount m = {.destination = "/x", .type = "bind", .source = "/x",
                       .options = opts, .options_len = 1};
  struct sp_error e;
  bool ok = sp_mountopt_parse(&m, &e) == 0;
  free(m.data);
  return ok;
}

static void mount_options(sp_json g) {
  sp_json_key(g, "mountOptions");
  sp_json_array_open(g);
  for (size_t i = 0; i < COUNT(mount_candidates); i++)
    if (mount_option_known(mount_candidates[i]))
      sp_json_str(g, mount_candidates[i]);
  sp_json_array_close(g);
}

static void capabilities(sp_json g) {
  sp_json_key(g, "capabilities");
  sp_json_array_open(g);
  for (int i = 0; i <= CAP_LAST_CAP; i++) {
    char *n = cap_to_name((cap_value_t)i);
    if (n && !strncmp(n, "cap_", 4)) {
      char up[64];
      size_t k = 0;
      for (; n[k] && k + 1 < sizeof up; k++)
        up[k] = (char)toupper((unsigned char)n[k]);
      up[k] = '\0';
      sp_json_str(g, up);
    }
    cap_free(n);
  }
  sp_json_array_close(g);
}

static void seccomp(sp_json g) {
  sp_json_key(g, "seccomp");
  sp_json_map_open(g);
  sp_json_kbool(g, "enabled", true);
  str_array(g, "actions", actions, COUNT(actions));
  str_array(g, "operators", operators, COUNT(operators));
  sp_json_key(g, "archs");
  sp_json_array_open(g);
  for (size_t i = 0; i < COUNT(archs); i++)
    if (sp_seccomp_arch(archs[i]))
      sp_json_str(g, archs[i]);
  sp_json_array_close(g);
  sp_json_key(g, "knownFlags");
  sp_json_array_open(g);
  for (size_t i = 0; i < COUNT(seccomp_flags); i++)
    sp_json_str(g, seccomp_flags[i].name);
  sp_json_array_close(g);
  sp_json_key(g, "supportedFlags");
  sp_json_array_open(g);
  for (size_t i = 0; i < COUNT(seccomp_flags); i++)
    if (sp_seccomp_flag_supported(seccomp_flags[i].flag))
      sp_json_str(g, seccomp_flags[i].name);
  sp_json_array_close(g);
  sp_json_map_close(g);
}

static void enabled(sp_json g, const char *key, bool on) {
  sp_json_key(g, key);
  sp_json_map_open(g);
  sp_json_kbool(g, "enabled", on);
  sp_json_map_close(g);
}

static void linux_features(sp_json g) {
  sp_json_key(g, "linux");
  sp_json_map_open(g);
  sp_json_key(g, "namespaces");
  sp_json_array_open(g);
  for (int t = 0; t < SP_NS_COUNT; t++)
    sp_json_str(g, sp_ns_type_name((enum sp_ns_type)t));
  sp_json_array_close(g);
  capabilities(g);
  sp_json_key(g, "cgroup");
  sp_json_map_open(g);
  sp_json_kbool(g, "v1", true);
  sp_json_kbool(g, "v2", true);
  sp_json_kbool(g, "systemd", false);
  sp_json_kbool(g, "systemdUser", false);
  sp_json_kbool(g, "rdma", true); /* rdma.max, src/cgroup/v1.c and v2.c */
  sp_json_map_close(g);
  seccomp(g);
  enabled(g, "apparmor", true);
  enabled(g, "selinux", true);
  enabled(g, "intelRdt", false);
  sp_json_key(g, "mountExtensions");
  sp_json_map_open(g);
  enabled(g, "idmap", true);
  sp_json_map_close(g);
  sp_json_map_close(g);
}

int cmd_features(const struct sp_global *g, int argc, char **argv, const char **id,
                 struct sp_error *err) {
  (void)g;
  (void)id;
  int first;
  int r = cli_parse("features", argc, argv, "", NULL, NULL, NULL, &first, err);
  if (r != 0)
    return r < 0 ? -1 : 0;
  if (first < argc)
    return sp_error_set(err, 0, "unexpected argument \"%s\"", argv[first]);
  sp_json j = sp_json_new(true);
  sp_json_map_open(j);
  sp_json_kstr(j, "ociVersionMin", "1.0.0");
  sp_json_kstr(j, "ociVersionMax", SP_SPEC_VERSION);
  str_array(j, "hooks", hooks, COUNT(hooks));
  mount_options(j);
  linux_features(j);
  sp_json_key(j, "annotations");
  sp_json_map_open(j);
  char lib[32];
  const struct scmp_version *v = seccomp_version();
  snprintf(lib, sizeof lib, "%u.%u.%u", v->major, v->minor, v->micro);
  sp_json_kstr(j, "io.github.seccomp.libseccomp.version", lib);
  sp_json_kstr(j, "org.opencontainers.sprout.commit", SPROUT_COMMIT);
  sp_json_kstr(j, "org.opencontainers.sprout.version", SPROUT_VERSION);
  sp_json_map_close(j);
  sp_json_map_close(j);
  char *out = sp_json_finish(j, NULL);
  if (!out)
    return sp_error_set(err, 12, "encode the features document");
  printf("%s\n", out);
  free(out);
  return 0;
}
