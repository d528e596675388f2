/* sprout — confining the workload: seccomp (compiled, cached, loaded last,
 * notify listener), LSM labels (AppArmor, SELinux), scheduling attributes,
 * and the CVE-2019-5736 protection of the runtime binary.
 *
 * The flow, for the container's init (and any process started in it):
 *
 *   parent, right after the parse:   sp_selfexe_protect()    the runtime
 *                                    binary protection (moves the image
 *                                    onto a read-only view, or re-executes
 *                                    the command from one)
 *   parent, before any side effect:  sp_security_prepare()   compile
 *                                    the seccomp profile (cache), check
 *                                    LSMs, kernel flags; keeps the result
 *   parent, right before clone:      sp_security_connect()   connect the
 *                                    seccomp listener socket, if any
 *   parent, right after clone:       sp_security_parent_done()
 *   child, before pivot_root:        sp_security_child_early()
 *   child, in process setup:         sp_sched_apply(), then caps (which
 *                                    ask sp_security_keep_sysadmin())
 *   child, right before execve:      sp_security_exec_last()  affinity,
 *                                    LSM exec labels, seccomp filter,
 *                                    notify fd to the listener
 *
 * The prepared state lives in this process (src/linux/security.c) and
 * reaches the child through clone's copy of memory: nothing is re-read in
 * the child, where the container's root is already in place.
 */
#ifndef SPROUT_SECURITY_H
#define SPROUT_SECURITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sprout/error.h"
#include "sprout/spec.h"

/* ---- seccomp (seccomp.c, seccomp_cache.c, seccomp_notify.c) ---- */

struct sp_bpf_insn { /* = struct sock_filter */
  uint16_t code;
  uint8_t jt, jf;
  uint32_t k;
};

struct sp_seccomp_prog {
  struct sp_bpf_insn *insns;
  size_t len;
  unsigned int flags; /* SECCOMP_FILTER_FLAG_* for seccomp(2) */
  bool notify;        /* a rule uses SCMP_ACT_NOTIFY: NEW_LISTENER */
  bool cache_hit;     /* loaded from the cache, not compiled */
  char digest[65];    /* sha256 of the canonical profile, hex */
};

/* libseccomp action value of an OCI action (errno defaults to EPERM for
 * SCMP_ACT_ERRNO and SCMP_ACT_TRACE).  -1 when the errno does not fit. */
int sp_seccomp_action(enum sp_seccomp_action a, bool has_errno, uint32_t errno_ret,
                      uint32_t *out);
/* libseccomp comparison operator of an OCI operator. */
int sp_seccomp_op(enum sp_seccomp_op op);
/* SCMP_ARCH_* token of an OCI architecture name, 0 when libseccomp does not
 * know it. */
uint32_t sp_seccomp_arch(const char *name);
/* seccomp(2) flags of linux.seccomp.flags; WAIT_KILLABLE_RECV only with a
 * listener, NEW_LISTENER added when NOTIFY. */
int sp_seccomp_flags(const struct sp_seccomp *s, bool notify, unsigned int *out,
                     struct sp_error *err);
/* Whether the running kernel accepts a seccomp(2) filter flag. */
bool sp_seccomp_flag_supported(unsigned int flag);

/* Translate the profile with libseccomp and export the BPF program.
 * Unknown syscall names are skipped (debug log).  Errors name the JSON
 * path (linux.seccomp.syscalls[i]). */
int sp_seccomp_compile(const struct sp_seccomp *s, struct sp_seccomp_prog *out,
                       struct sp_error *err);
/* Put in front of P (libseccomp's program for S) the stub that returns
 * -ENOSYS for syscalls above the largest one S names, per architecture
 * (and for an unnamed clone3); nothing when S's default action allows,
 * logs or traces.  -1 only when out of memory. */
int sp_seccomp_enosys_stub(const struct sp_seccomp *s, struct sp_seccomp_prog *p,
                           struct sp_error *err);
/* sp_seccomp_compile through the cache in CACHE_DIR (NULL: no cache):
 * <dir>/<sha256 of the canonical profile>.bpf, written atomically. */
int sp_seccomp_prepare(const struct sp_seccomp *s, const char *cache_dir,
                       struct sp_seccomp_prog *out, struct sp_error *err);
/* Bounds of the cache directory (seccomp_cache.c): a Docker-sized program
 * is ~10 KiB. */
#define SP_SECCOMP_CACHE_MAX_ENTRIES 64
#define SP_SECCOMP_CACHE_MAX_BYTES (4U << 20)
/* Remove the least recently used (oldest mtime) <digest>.bpf files of DIR
 * until at most MAX_ENTRIES files of at most MAX_BYTES remain, never KEEP
 * (a file name, or NULL); also temporary files left by a writer that died.
 * Returns how many files it removed. */
size_t sp_seccomp_cache_trim(const char *dir, size_t max_entries, size_t max_bytes,
                             const char *keep);
/* Install the filter in the calling process with seccomp(2).  With a
 * listener, *notify_fd receives it (else -1). */
int sp_seccomp_load(const struct sp_seccomp_prog *p, int *notify_fd, struct sp_error *err);
void sp_seccomp_prog_free(struct sp_seccomp_prog *p);

/* The canonical text of everything in S that shapes the BPF program, with
 * the libseccomp version and native architecture (malloc'd). */
char *sp_seccomp_canonical(const struct sp_seccomp *s);
void sp_sha256(const void *data, size_t len, uint8_t out[32]);
void sp_sha256_hex(const void *data, size_t len, char out[65]);
/* Whether sp_sha256 uses the CPU's SHA extensions; tests turn them off
 * to compare with the portable code. */
bool sp_sha256_accelerated(void);
void sp_sha256_set_accel(bool on);

/* Connect to listenerPath (AF_UNIX, SOCK_STREAM). */
int sp_seccomp_listener_connect(const char *path, struct sp_error *err);
/* The container process state JSON sent with the notify fd (malloc'd). */
char *sp_seccomp_process_state(const char *id, pid_t pid, const char *bundle,
                               const char *status, const struct sp_spec *spec);
/* Send JSON with NOTIFY_FD (SCM_RIGHTS, first sendmsg) over SOCK. */
int sp_seccomp_listener_send(int sock, int notify_fd, const char *json,
                             struct sp_error *err);

/* ---- LSMs (lsm.c) ---- */
enum { SP_LSM_APPARMOR = 1, SP_LSM_SELINUX = 2 };
/* The LSMs enabled on this host (SP_LSM_* bits). */
unsigned sp_lsm_enabled(void);
/* apparmorProfile, selinuxLabel, mountLabel asked for but impossible. */
int sp_lsm_check(const struct sp_spec *spec, const struct sp_process *proc,
                 struct sp_error *err);
/* In the child before execve: "exec PROFILE" to the AppArmor exec attr,
 * the SELinux label to /proc/self/attr/exec (verified procfs writes). */
int sp_lsm_exec_attrs(const struct sp_process *proc, struct sp_error *err);
/* DATA plus context="LABEL" for a mount of FSTYPE when a mount label is
 * set and SELinux is on (malloc'd; NULL when nothing to add). */
char *sp_lsm_mount_data(const char *data, const char *mount_label, const char *fstype);

/* ---- scheduling (sched.c) ---- */
/* process.scheduler and process.ioPriority (before capabilities drop). */
int sp_sched_apply(const struct sp_process *proc, struct sp_error *err);
/* sched_setaffinity(0) to a CPU list "0-3,7"; NULL: every CPU. */
int sp_affinity_apply(const char *cpus, struct sp_error *err);

/* ---- the runtime binary (selfexe.c) ---- */
/* CVE-2019-5736: make sure the container cannot reach a writable runtime
 * binary through /proc/self/exe.  Unless the binary already is on a
 * read-only mount (or a sealed copy), or SPEC's user namespace cannot
 * write it, this moves the running image onto a detached read-only bind
 * mount of the binary and returns 0; where it cannot, it re-executes the
 * current command from that mount (from a sealed memfd copy without
 * CAP_SYS_ADMIN) and does not return.  Call before any side effect. */
int sp_selfexe_protect(const struct sp_spec *spec, struct sp_error *err);
/* After the move, the fd of the detached read-only mount stays open (-1:
 * none): the last close of that fd dissolves the mount, and the kernel
 * then waits for an expedited RCU grace period (milliseconds on a busy
 * 2-CPU VM).  A clone (the init, an exec'd process) closes its copy at
 * once; the parent calls sp_selfexe_release where it would wait anyway
 * (while the child sets up), so the wait is off the critical path. */
int sp_selfexe_view_fd(void);
void sp_selfexe_release(void);
/* Why protection is or is not needed, for logs and tests. */
const char *sp_selfexe_status(const struct sp_spec *spec);
bool sp_selfexe_sealed(void);

/* ---- the prepared state (security.c) ---- */
/* Before any side effect, after sp_selfexe_protect(). */
int sp_security_prepare(const struct sp_spec *spec, const struct sp_process *proc,
                        const char *state_root, struct sp_error *err);
int sp_security_connect(const char *id, const char *bundle, struct sp_error *err);
void sp_security_parent_done(void);
/* In the child once it may run (before pivot_root): note its host pid,
 * apply execCPUAffinity.initial. */
int sp_security_child_early(const struct sp_process *proc, struct sp_error *err);
/* caps.c: keep CAP_SYS_ADMIN until the filter is loaded (no
 * noNewPrivileges: loading seccomp needs the capability). */
bool sp_security_keep_sysadmin(void);
int sp_security_exec_last(const struct sp_process *proc, struct sp_error *err);
/* Forget the prepared state (tests, long-lived callers). */
void sp_security_reset(void);

#endif
