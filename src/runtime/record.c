/* The state dir's runtime.json: what `start` and `delete` need from the
 * config as it was at create time — the poststart and poststop hooks and
 * linux.netDevices — kept as a partial config.json so that the spec parser
 * reads it back (and checks it) like any config. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "sprout/hooks.h"
#include "sprout/netdev.h"
#include "sprout/util.h"

static void put_hooks(sp_json g, const char *key, const struct sp_hook *h, size_t n) {
  if (n == 0)
    return;
  sp_json_key(g, key);
  sp_json_array_open(g);
  for (size_t i = 0; i < n; i++) {
    sp_json_map_open(g);
    sp_json_kstr(g, "path", h[i].path);
    if (h[i].args_len) {
      sp_json_key(g, "args");
      sp_json_array_open(g);
      for (size_t j = 0; j < h[i].args_len; j++)
        sp_json_str(g, h[i].args[j]);
      sp_json_array_close(g);
    }
    if (h[i].env_len) {
      sp_json_key(g, "env");
      sp_json_array_open(g);
      for (size_t j = 0; j < h[i].env_len; j++)
        sp_json_str(g, h[i].env[j]);
      sp_json_array_close(g);
    }
    if (h[i].has_timeout)
      sp_json_kint(g, "timeout", h[i].timeout);
    sp_json_map_close(g);
  }
  sp_json_array_close(g);
}

int sp_record_save(int statefd, const struct sp_spec *spec, struct sp_error *err) {
  const struct sp_hooks *h = &spec->hooks;
  const struct sp_linux *l = &spec->linux_;
  bool hooks = spec->has_hooks && (h->poststart_len || h->poststop_len);
  if (!hooks && l->net_devices_len == 0)
    return 0;
  sp_json g = sp_json_new(false);
  sp_json_map_open(g);
  sp_json_kstr(g, "ociVersion", spec->oci_version);
  sp_json_key(g, "root"); /* the parser wants one */
  sp_json_map_open(g);
  sp_json_kstr(g, "path", spec->root_path ? spec->root_path : "rootfs");
  sp_json_map_close(g);
  if (hooks) {
    sp_json_key(g, "hooks");
    sp_json_map_open(g);
    put_hooks(g, "poststart", h->poststart, h->poststart_len);
    put_hooks(g, "poststop", h->poststop, h->poststop_len);
    sp_json_map_close(g);
  }
  if (l->net_devices_len) {
    sp_json_key(g, "linux");
    sp_json_map_open(g);
    /* netDevices needs a network namespace entry to be valid */
    sp_json_key(g, "namespaces");
    sp_json_array_open(g);
    sp_json_map_open(g);
    sp_json_kstr(g, "type", "network");
    sp_json_map_close(g);
    sp_json_array_close(g);
    sp_json_key(g, "netDevices");
    sp_json_map_open(g);
    for (size_t i = 0; i < l->net_devices_len; i++) {
      sp_json_key(g, l->net_devices[i].host_name);
      sp_json_map_open(g);
      sp_json_kstr(g, "name", l->net_devices[i].name);
      sp_json_map_close(g);
    }
    sp_json_map_close(g);
    sp_json_map_close(g);
  }
  sp_json_map_close(g);
  size_t len;
  char *buf = sp_json_finish(g, &len);
  if (!buf)
    return sp_error_errno(err, ENOMEM, "encode %s", SP_RECORD_FILE);
  int fd = openat(statefd, SP_RECORD_FILE, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                  0600);
  int r = 0;
  if (fd < 0 || sp_write_all(fd, buf, len) < 0)
    r = sp_error_sys(err, "write %s in the state dir", SP_RECORD_FILE);
  if (fd >= 0 && close(fd) < 0 && r == 0)
    r = sp_error_sys(err, "write %s in the state dir", SP_RECORD_FILE);
  free(buf);
  return r;
}

int sp_record_load(int statefd, struct sp_spec *out, struct sp_error *err) {
  memset(out, 0, sizeof *out);
  char *buf = NULL;
  size_t len = 0;
  if (sp_read_fileat(statefd, SP_RECORD_FILE, SP_SPEC_MAX_SIZE, &buf, &len, err) < 0) {
    if (err->code == ENOENT) {
      sp_error_clear(err);
      return 0;
    }
    return -1;
  }
  int r = sp_spec_parse_buf(buf, len, SP_RECORD_FILE, out, err);
  free(buf);
  return r;
}

char *sp_hooks_state_json(int statefd, const char *id, enum sp_status status) {
  struct sp_state st;
  struct sp_error e = {0};
  if (statefd < 0 || sp_state_load(statefd, id, &st, &e) < 0)
    return NULL;
  /* sp_state_to_json shows "creating" as "stopped" (for `state`); the
   * hooks of a container being created are told "creating", as the spec
   * and runc do */
  char *json = sp_state_to_json(&st, status == SP_STATUS_CREATING ? SP_STATUS_CREATED : status,
                                false);
  sp_state_free(&st);
  if (json && status == SP_STATUS_CREATING) {
    char *p = strstr(json, "\"status\":\"created\"");
    if (p) {
      /* same length + 1: "creating" */
      size_t head = (size_t)(p - json), len = strlen(json);
      char *out = malloc(len + 2);
      if (out) {
        memcpy(out, json, head);
        memcpy(out + head, "\"status\":\"creating\"", 19);
        memcpy(out + head + 19, p + 18, len - head - 18 + 1);
      }
      free(json);
      json = out;
    }
  }
  return json;
}

void sp_hooks_after_start(int statefd, const struct sp_state *st) {
  struct sp_spec rec;
  struct sp_error e = {0};
  if (sp_record_load(statefd, &rec, &e) < 0) {
    sp_log(SP_LOG_WARN, "container %s: poststart hooks: %s", st->id, e.msg);
    return;
  }
  if (sp_hooks_of(&rec, SP_HOOK_POSTSTART, &(const struct sp_hook *){NULL})) {
    /* the container runs: a hook may use `sprout kill` or `delete` on it */
    flock(statefd, LOCK_UN);
    char *json = sp_state_to_json(st, SP_STATUS_RUNNING, false);
    sp_hooks_run_warn(&rec, SP_HOOK_POSTSTART, json, st->id);
    free(json);
  }
  sp_spec_free(&rec);
}

void sp_teardown_begin(int statefd, const struct sp_state *st, bool alive,
                       struct sp_teardown *td) {
  struct sp_error e = {0};
  td->netns_fd = -1;
  td->stopped = NULL;
  if (sp_record_load(statefd, &td->rec, &e) < 0) {
    sp_log(SP_LOG_WARN, "container %s: %s", st->id, e.msg);
    memset(&td->rec, 0, sizeof td->rec);
    return;
  }
  if (td->rec.linux_.net_devices_len && alive) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/net", (int)st->pid);
    td->netns_fd = open(path, O_RDONLY | O_CLOEXEC);
    /* the pid was checked by the caller (pidfd with its start time) */
    if (td->netns_fd < 0)
      sp_log(SP_LOG_WARN, "container %s: netDevices: open %s: %s", st->id, path,
             strerror(errno));
  }
  if (sp_hooks_of(&td->rec, SP_HOOK_POSTSTOP, &(const struct sp_hook *){NULL}))
    td->stopped = sp_state_to_json(st, SP_STATUS_STOPPED, false);
}

void sp_teardown_devices(struct sp_teardown *td) {
  if (td->netns_fd < 0)
    return;
  sp_netdevs_leave(&td->rec, td->netns_fd, td->rec.linux_.net_devices_len);
  close(td->netns_fd);
  td->netns_fd = -1;
}

void sp_teardown_end(struct sp_teardown *td, const struct sp_state *st) {
  if (td->netns_fd >= 0)
    close(td->netns_fd);
  if (td->stopped)
    sp_hooks_run_warn(&td->rec, SP_HOOK_POSTSTOP, td->stopped, st->id);
  free(td->stopped);
  sp_spec_free(&td->rec);
  memset(td, 0, sizeof *td);
  td->netns_fd = -1;
}
