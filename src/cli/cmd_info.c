/* state and list. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "sprout/state.h"
#include "sprout/util.h"

int cmd_state(const struct sp_global *g, int argc, char **argv, const char **id,
              struct sp_error *err) {
  int first;
  int r = cli_parse("state", argc, argv, "", NULL, NULL, NULL, &first, err);
  if (r != 0)
    return r < 0 ? -1 : 0;
  if (cli_want_id("state", argc, argv, first, id, err) < 0)
    return -1;
  char *json = NULL;
  if (sp_container_state(g, *id, &json, err) < 0)
    return -1;
  printf("%s\n", json);
  free(json);
  return 0;
}

struct list_opts {
  bool quiet;
  bool json;
};

static int list_flag(int opt, const char *arg, void *data, struct sp_error *err) {
  struct list_opts *o = data;
  if (opt == 'q')
    o->quiet = true;
  else if (opt == 'f') {
    if (!strcmp(arg, "json"))
      o->json = true;
    else if (!strcmp(arg, "table"))
      o->json = false;
    else
      return sp_error_set(err, 0, "--format: expected table or json, got \"%s\"", arg);
  }
  return 0;
}

struct row {
  struct sp_state st;
  enum sp_status status;
};

int cmd_list(const struct sp_global *g, int argc, char **argv, const char **id,
             struct sp_error *err) {
  static const struct option lo[] = {{"quiet", no_argument, NULL, 'q'},
                                     {"format", required_argument, NULL, 'f'},
                                     {0}};
  struct list_opts o = {0};
  int first;
  int r = cli_parse("list", argc, argv, "qf:", lo, list_flag, &o, &first, err);
  if (r != 0)
    return r < 0 ? -1 : 0;
  if (first < argc)
    return sp_error_set(err, 0, "unexpected argument \"%s\"", argv[first]);
  const char *root = g->root ? g->root : SP_DEFAULT_ROOT;
  char **ids = NULL;
  size_t n = 0;
  if (sp_state_list(root, &ids, &n, err) < 0)
    return -1;
  if (o.quiet) {
    for (size_t i = 0; i < n; i++)
      printf("%s\n", ids[i]);
    sp_strv_free(ids, n);
    return 0;
  }
  struct row *rows = calloc(n ? n : 1, sizeof *rows);
  size_t m = 0;
  for (size_t i = 0; rows && i < n; i++) {
    struct sp_error e;
    int fd = sp_state_open(root, ids[i], SP_LOCK_NONE, &e);
    if (fd < 0)
      continue; /* removed meanwhile */
    if (sp_state_load(fd, ids[i], &rows[m].st, &e) == 0) {
      rows[m].status = sp_state_status(fd, &rows[m].st);
      m++;
    }
    close(fd);
  }
  if (o.json) {
    fputs("[", stdout);
    for (size_t i = 0; i < m; i++) {
      char *j = sp_state_to_json(&rows[i].st, rows[i].status, false);
      printf("%s%s", i ? "," : "", j ? j : "{}");
      free(j);
    }
    fputs("]\n", stdout);
  } else {
    int w[4] = {2, 3, 6, 6}; /* ID PID STATUS BUNDLE */
    char pid[16];
    for (size_t i = 0; i < m; i++) {
      int l = (int)strlen(rows[i].st.id);
      w[0] = l > w[0] ? l : w[0];
      l = snprintf(pid, sizeof pid, "%d", rows[i].status == SP_STATUS_STOPPED ? 0 : rows[i].st.pid);
      w[1] = l > w[1] ? l : w[1];
      l = (int)strlen(rows[i].st.bundle);
      w[3] = l > w[3] ? l : w[3];
    }
    w[2] = 7;
    printf("%-*s   %-*s   %-*s   %-*s   %-30s   %s\n", w[0], "ID", w[1], "PID", w[2],
           "STATUS", w[3], "BUNDLE", "CREATED", "OWNER");
    for (size_t i = 0; i < m; i++) {
      snprintf(pid, sizeof pid, "%d", rows[i].status == SP_STATUS_STOPPED ? 0 : rows[i].st.pid);
      printf("%-*s   %-*s   %-*s   %-*s   %-30s   %s\n", w[0], rows[i].st.id, w[1], pid,
             w[2], sp_status_name(rows[i].status), w[3], rows[i].st.bundle,
             rows[i].st.created, rows[i].st.owner);
    }
  }
  for (size_t i = 0; i < m; i++)
    sp_state_free(&rows[i].st);
  free(rows);
  sp_strv_free(ids, n);
  return 0;
}
