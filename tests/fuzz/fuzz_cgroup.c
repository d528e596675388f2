/* libFuzzer target: cgroup path resolution and the state.json form.
 * The first byte picks the mode (disabled, v2, hybrid, v1) and the
 * operation; the rest is the input:
 *   0: sp_cgroup_resolve(mode, cgroupsPath, id) ("ID\nPATH", or PATH with
 *      the default id), then sp_cgroup_to_string and back: the round trip
 *      gives the same directories;
 *   1: sp_cg_parse_mountinfo + sp_cg_fill_own on "MOUNTINFO\0CGROUP" text;
 *   2: sp_cgroup_from_string (a state.json written by someone else). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "sprout/cgroup.h"
#include "sprout/parse.h"
#include "src/cgroup/cgroup_internal.h"

static void check_cg(const struct sp_cgroup *cg) {
  for (size_t i = 0; i < cg->dirs_len; i++) {
    const char *d = cg->dirs[i];
    FUZZ_ASSERT(strncmp(d, "/sys/fs/cgroup/", 15) == 0, "directory %s", d);
    FUZZ_ASSERT(!strstr(d, "/../") && !strstr(d, "/./") && !strstr(d, "//"),
                "directory %s not clean", d);
    FUZZ_ASSERT(cg->keep[i] < strlen(d) && d[cg->keep[i]] == '/',
                "keep %zu of %s", cg->keep[i], d);
  }
}

static void op_resolve(enum sp_cgroup_mode mode, char *s) {
  const char *id = "fuzz", *path = s;
  char *nl = strchr(s, '\n');
  struct sp_error err = {0};
  if (nl) {
    *nl = '\0';
    if (sp_id_validate(s, &err) == 0)
      id = s;
    sp_error_clear(&err);
    path = nl + 1;
  }
  struct sp_cgroup cg;
  int r = sp_cgroup_resolve(mode, *path ? path : NULL, id, &cg, &err);
  fuzz_check_error(r, &err, "sp_cgroup_resolve");
  if (r < 0)
    return;
  check_cg(&cg);
  char *str = NULL;
  FUZZ_ASSERT(sp_cgroup_to_string(&cg, &str) == 0, "to_string");
  struct sp_cgroup back;
  r = sp_cgroup_from_string(mode, str, &back, &err);
  fuzz_check_error(r, &err, "sp_cgroup_from_string");
  FUZZ_ASSERT(r == 0, "round trip of \"%s\": %s", str, err.msg);
  FUZZ_ASSERT(back.dirs_len == cg.dirs_len, "round trip count");
  for (size_t i = 0; i < cg.dirs_len; i++) {
    FUZZ_ASSERT(!strcmp(back.dirs[i], cg.dirs[i]), "round trip %s != %s",
                back.dirs[i], cg.dirs[i]);
    FUZZ_ASSERT(back.keep[i] == cg.keep[i], "round trip keep of %s", cg.dirs[i]);
  }
  sp_cgroup_free(&back);
  free(str);
  sp_cgroup_free(&cg);
}

static void op_mountinfo(enum sp_cgroup_mode mode, const char *s, size_t len) {
  size_t l1 = strlen(s);
  const char *cgtext = l1 < len ? s + l1 + 1 : "";
  struct sp_cg_hier *h = NULL;
  size_t n = 0;
  struct sp_error err = {0};
  int r = sp_cg_parse_mountinfo(s, mode, &h, &n, &err);
  fuzz_check_error(r, &err, "sp_cg_parse_mountinfo");
  if (r < 0)
    return;
  FUZZ_ASSERT(sp_cg_fill_own(h, n, cgtext) == 0, "fill_own");
  for (size_t i = 0; i < n; i++)
    FUZZ_ASSERT(h[i].mount && h[i].controllers && h[i].root && h[i].own &&
                    h[i].own[0] == '/',
                "hierarchy %zu incomplete", i);
  sp_cg_hier_free(h, n);
}

static void op_from_string(enum sp_cgroup_mode mode, const char *s) {
  struct sp_cgroup cg;
  struct sp_error err = {0};
  int r = sp_cgroup_from_string(mode, s, &cg, &err);
  fuzz_check_error(r, &err, "sp_cgroup_from_string");
  if (r == 0) {
    check_cg(&cg);
    sp_cgroup_free(&cg);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  enum sp_cgroup_mode mode = (enum sp_cgroup_mode)(data[0] & 3);
  int op = (data[0] >> 2) % 3;
  char *s = fuzz_strndup(data + 1, size - 1);
  if (op == 0)
    op_resolve(mode, s);
  else if (op == 1)
    op_mountinfo(mode, s, size - 1);
  else
    op_from_string(mode, s);
  free(s);
  return 0;
}
