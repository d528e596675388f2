/* sprout — OCI hooks (src/runtime/hooks.c) and the record of what `start`
 * and `delete` need from the config (src/runtime/record.c).
 *
 * When each kind runs, and where:
 *   prestart, createRuntime  the runtime (create's parent process), after the
 *                            namespaces exist, before pivot_root
 *   createContainer          the container's init, in the container's
 *                            namespaces, before pivot_root (host paths)
 *   startContainer           the container's init after `start`, inside the
 *                            container, before the workload is executed
 *   poststart                the runtime, after `start` released the init
 *   poststop                 the runtime, after `delete` removed the container
 * A failing prestart/createRuntime/createContainer/startContainer hook fails
 * the operation; poststart and poststop failures are warnings. */
#ifndef SPROUT_HOOKS_H
#define SPROUT_HOOKS_H

#include <stdbool.h>
#include <stddef.h>

#include "sprout/error.h"
#include "sprout/spec.h"
#include "sprout/state.h"

enum sp_hook_kind {
  SP_HOOK_PRESTART,
  SP_HOOK_CREATE_RUNTIME,
  SP_HOOK_CREATE_CONTAINER,
  SP_HOOK_START_CONTAINER,
  SP_HOOK_POSTSTART,
  SP_HOOK_POSTSTOP,
};

/* "prestart", "createRuntime", ... (the config.json key). */
const char *sp_hook_kind_name(enum sp_hook_kind kind);
/* The hooks of KIND in SPEC (count; *list may be NULL when 0). */
size_t sp_hooks_of(const struct sp_spec *spec, enum sp_hook_kind kind,
                   const struct sp_hook **list);

/* Run one hook: fork + execve(path, args, env) with STATE on stdin, its
 * stdout and stderr captured (put into the error when it fails), killed
 * after `timeout` seconds.  The error names the kind and index: "hook
 * createRuntime[1] /usr/bin/x: exited with status 3: <output>". */
int sp_hook_run(const struct sp_hook *h, const char *kind, size_t index,
                const char *state, struct sp_error *err);
/* The same for any program (newuidmap...): WHAT starts the error message. */
int sp_program_run(const struct sp_hook *h, const char *what, const char *state,
                   struct sp_error *err);
/* Run every hook of KIND in order; the first failure stops and is returned. */
int sp_hooks_run(const struct sp_spec *spec, enum sp_hook_kind kind,
                 const char *state, struct sp_error *err);
/* Run every hook of KIND; failures are logged as warnings (poststart,
 * poststop: the spec says they must not fail the operation). */
void sp_hooks_run_warn(const struct sp_spec *spec, enum sp_hook_kind kind,
                       const char *state, const char *id);

/* The parent's state JSON for the init's hooks (createContainer: status
 * "creating", startContainer: "created"), sent as one message of any size
 * over the init's sync socket.  Both sides call these only when
 * sp_hooks_init_needs_state() says so. */
bool sp_hooks_init_needs_state(const struct sp_spec *spec);
int sp_hooks_send_state(int fd, const char *creating, const char *created,
                        struct sp_error *err);
int sp_hooks_recv_state(int fd, char **creating, char **created,
                        struct sp_error *err);

/* ---- record.c: state-dir file "runtime.json" ---------------------------
 * What `start` and `delete` need from config.json as it was at create time
 * (config.json may change or vanish afterwards): the poststart and poststop
 * hooks and linux.netDevices, stored as a partial config. */
#define SP_RECORD_FILE "runtime.json"
/* Write the record when SPEC has anything to keep (else nothing). */
int sp_record_save(int statefd, const struct sp_spec *spec, struct sp_error *err);
/* Read it back into *out (zeroed when there is no record). */
int sp_record_load(int statefd, struct sp_spec *out, struct sp_error *err);

/* The state JSON of container ID (state dir STATEFD) with STATUS, for a
 * hook's stdin; NULL on error. */
char *sp_hooks_state_json(int statefd, const char *id, enum sp_status status);
/* `start` released the init: the recorded poststart hooks (warnings). */
void sp_hooks_after_start(int statefd, const struct sp_state *st);

/* `delete`: begin before the init is killed (opens its network namespace,
 * so that the moved netDevices outlive it), devices after the kill (they go
 * back to the host under their host names), end after the state dir is
 * gone (poststop hooks).  Failures are warnings. */
struct sp_teardown {
  struct sp_spec rec;
  int netns_fd;
  char *stopped; /* the state JSON for poststop */
};
void sp_teardown_begin(int statefd, const struct sp_state *st, bool alive,
                       struct sp_teardown *td);
void sp_teardown_devices(struct sp_teardown *td);
void sp_teardown_end(struct sp_teardown *td, const struct sp_state *st);

#endif
