/* sprout — the state directory: <root>/<id>/{state.json,exec.fifo}. */
#ifndef SPROUT_STATE_H
#define SPROUT_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "sprout/error.h"
#include "sprout/spec.h"

#define SP_DEFAULT_ROOT "/run/sprout"
#define SP_STATE_FILE "state.json"
#define SP_EXEC_FIFO "exec.fifo"
/* present when the container was created with --no-new-keyring: its
 * exec'd processes keep the caller's session keyring too (as runc) */
#define SP_NO_NEW_KEYRING "no-new-keyring"

enum sp_status { SP_STATUS_CREATING, SP_STATUS_CREATED, SP_STATUS_RUNNING,
                 SP_STATUS_PAUSED, SP_STATUS_STOPPED };

struct sp_state {
  char *id;
  pid_t pid;
  uint64_t pid_start;   /* /proc/PID/stat starttime: a reused pid reads stopped */
  char *bundle;
  char *rootfs;
  char *created;        /* RFC 3339 with nanoseconds */
  char *owner;          /* user name of the creator, "" when unknown */
  char *cgroup_mode;    /* "v2", "hybrid", "v1", "disabled" */
  char *cgroup_path;
  bool pidns;           /* init has its own pid namespace */
  struct sp_kv *annotations;
  size_t annotations_len;
};

const char *sp_status_name(enum sp_status st);

/* Create <root> (0700) if missing and claim <root>/<id> with mkdir: exactly
 * one of several concurrent claims wins; the others fail "already exists".
 * Returns the state dir fd (O_DIRECTORY|O_CLOEXEC), locked (flock EX). */
int sp_state_claim(const char *root, const char *id, struct sp_error *err);
/* Open an existing state dir; with lock, flock it (shared when !excl). */
int sp_state_open(const char *root, const char *id, int lock,
                  struct sp_error *err);
#define SP_LOCK_NONE 0
#define SP_LOCK_SH 1
#define SP_LOCK_EX 2

int sp_state_save(int dirfd, const struct sp_state *st, struct sp_error *err);
/* Missing state.json (a create in progress or killed midway) reads as
 * status "creating" with pid 0. */
int sp_state_load(int dirfd, const char *id, struct sp_state *st,
                  struct sp_error *err);
void sp_state_free(struct sp_state *st);
enum sp_status sp_state_status(int dirfd, const struct sp_state *st);
/* Remove the state dir of ID (under ROOT). */
int sp_state_remove(const char *root, const char *id, struct sp_error *err);
/* The runtime-spec state JSON (as `state` prints it). */
char *sp_state_to_json(const struct sp_state *st, enum sp_status status,
                       bool pretty);
/* Ids of the containers under ROOT, sorted (malloc'd array of strings). */
int sp_state_list(const char *root, char ***ids, size_t *n, struct sp_error *err);

#endif
