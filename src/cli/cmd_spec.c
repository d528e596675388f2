/* spec: write the default config.json, never over an existing one. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "sprout/spec.h"
#include "sprout/util.h"

struct spec_opts {
  const char *bundle;
  bool rootless;
};

static int spec_flag(int opt, const char *arg, void *data, struct sp_error *err) {
  struct spec_opts *o = data;
  if (opt == 'b')
    o->bundle = arg;
  else if (opt == 'r')
    o->rootless = true;
  return 0;
}

int cmd_spec(const struct sp_global *g, int argc, char **argv, const char **id,
             struct sp_error *err) {
  static const struct option lo[] = {{"bundle", required_argument, NULL, 'b'},
                                     {"rootless", no_argument, NULL, 'r'},
                                     {0}};
  struct spec_opts o = {.bundle = "."};
  int first;
  int r = cli_parse("spec", argc, argv, "b:", lo, spec_flag, &o, &first, err);
  if (r != 0)
    return r < 0 ? -1 : 0;
  if (first < argc)
    return sp_error_set(err, 0, "unexpected argument \"%s\"", argv[first]);
  char *json = sp_spec_generate(o.rootless, err);
  if (!json)
    return -1;
  char *path = sp_path_join(o.bundle, "config.json");
  /* O_EXCL: refuse to overwrite, atomically */
  int fd = path ? open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644) : -1;
  if (fd < 0) {
    if (errno == EEXIST)
      sp_error_set(err, EEXIST, "%s already exists: remove it first", path);
    else
      sp_error_sys(err, "create %s", path ? path : "config.json");
    free(json);
    free(path);
    return -1;
  }
  size_t len = strlen(json);
  r = sp_write_all(fd, json, len) < 0 ? -1 : 0;
  if (r < 0) {
    sp_error_sys(err, "write %s", path);
    unlink(path);
  }
  close(fd);
  free(json);
  free(path);
  return r;
}
