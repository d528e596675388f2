/* sprout — cgroup module internals shared by manager.c, hierarchy.c and
 * lifecycle.c (and the limit writers to come: v1.c, v2.c). */
#ifndef SPROUT_CGROUP_INTERNAL_H
#define SPROUT_CGROUP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sprout/cgroup.h"
#include "sprout/error.h"

#define SP_CGROUP_ROOT "/sys/fs/cgroup"
#define SP_CGROUP_UNIFIED SP_CGROUP_ROOT "/unified"

/* One mounted hierarchy. */
struct sp_cg_hier {
  char *mount;       /* "/sys/fs/cgroup/memory" */
  char *controllers; /* "memory", "cpu,cpuacct", "name=systemd"; "" for cgroup2 */
  char *root;        /* the mount's root inside the hierarchy (mountinfo field 4) */
  char *own;         /* the runtime's own cgroup, relative to mount: "/" or "/a/b" */
  bool v2;
};

/* The hierarchies that MODE uses, primary first (pids, memory, the other v1
 * controllers, named v1 hierarchies, cgroup2 last).  Reads
 * /proc/self/mountinfo and /proc/self/cgroup.  DISABLED: none. */
int sp_cg_hierarchies(enum sp_cgroup_mode mode, struct sp_cg_hier **out,
                      size_t *n, struct sp_error *err);
void sp_cg_hier_free(struct sp_cg_hier *h, size_t n);

/* Parsers behind sp_cg_hierarchies, on text (for tests). */
int sp_cg_parse_mountinfo(const char *text, enum sp_cgroup_mode mode,
                          struct sp_cg_hier **out, size_t *n,
                          struct sp_error *err);
/* Set h->own of every hierarchy from /proc/self/cgroup TEXT: the line with
 * the same controller set ("0::" for cgroup2), less the mount's root; "/"
 * when no line matches or the cgroup lies outside the mount. */
int sp_cg_fill_own(struct sp_cg_hier *h, size_t n, const char *text);

/* Is WORD one of the comma-separated items of LIST? */
bool sp_cg_list_has(const char *list, const char *word);
/* The same set of comma-separated items (order ignored)? */
bool sp_cg_same_set(const char *a, const char *b);

/* ---- convert.c: pure conversions (tests/unit/test_cgroup_convert.c) ---- */

/* cpu.shares -> cpu.weight (runc's mapping; 0 stays 0 = unset). */
uint64_t sp_cg_shares_to_weight(uint64_t shares);
/* blkio weight 10..1000 -> io.weight 1..10000 (0 stays 0). */
uint64_t sp_cg_blkio_to_io_weight(uint64_t weight);
/* memory.swap.max from the spec's memory+swap SWAP and memory LIMIT (as
 * runc converts): 0 with *OUT (-1: "max"), 1 when there is nothing to
 * write, -1 with *WHY when the pair is impossible. */
int sp_cg_swap_v2(int64_t swap, int64_t limit, int64_t *out, const char **why);
/* "max" for a negative V, else V in decimal. */
void sp_cg_limit_str(int64_t v, char *buf, size_t n);
/* One io.max line: "MAJ:MIN KEY=RATE", rate 0 -> "max" (no limit). */
void sp_cg_io_max_line(char *buf, size_t n, int64_t major, int64_t minor,
                       const char *key, uint64_t rate);
/* The cpu.max value for quota/period (quota 0 and period 0 are unset, a
 * negative quota is "max"); with only a period, the quota of CURRENT (the
 * file's content, may be NULL) stays.  1 when there is nothing to write. */
int sp_cg_cpu_max(char *buf, size_t n, bool has_quota, int64_t quota,
                  bool has_period, uint64_t period, const char *current);
/* A v1 devices.allow/deny line: "c 1:3 rwm", "b *:* m", "a *:* rwm"
 * (major/minor < 0: wildcard). */
void sp_cg_device_rule_str(char type, int64_t major, int64_t minor,
                           const char *access, char *buf, size_t n);
/* The controller an interface file belongs to: "memory.max" -> "memory";
 * NULL without a '.'. */
const char *sp_cg_file_controller(const char *file, char *buf, size_t n);

/* ---- devices_bpf.c ---- */

#define SP_CG_ACC_MKNOD 1u /* BPF_DEVCG_ACC_* */
#define SP_CG_ACC_READ 2u
#define SP_CG_ACC_WRITE 4u
#define SP_CG_ACC_ALL 7u

struct sp_cg_dev_rule {
  bool allow;
  char type;            /* 'a', 'c', 'b' */
  int64_t major, minor; /* -1: any */
  unsigned access;      /* SP_CG_ACC_* bits */
};
struct bpf_insn;

unsigned sp_cg_access_bits(const char *access); /* "rw" -> bits; NULL: all */
/* The container's list: deny all, the config's rules, then the devices every
 * container gets (null, zero, full, random, urandom, tty, ptmx, pts; mknod
 * of any device).  -1 with errno. */
int sp_cg_device_rules(const struct sp_device_cgroup *cfg, size_t ncfg,
                       struct sp_cg_dev_rule **out, size_t *n);
/* What the list says about one request (the reference semantics: per kind
 * of access, the last matching rule that names it decides). */
bool sp_cg_device_allowed(const struct sp_cg_dev_rule *rules, size_t n,
                          char type, int64_t major, int64_t minor,
                          unsigned access);
/* The BPF_PROG_TYPE_CGROUP_DEVICE program for the list. */
int sp_cg_devices_prog(const struct sp_cg_dev_rule *rules, size_t n,
                       struct bpf_insn **out, size_t *len);
/* BPF_PROG_LOAD it; the fd or -1 (errno, verifier log in LOG). */
int sp_cg_devices_load(const struct bpf_insn *prog, size_t len, char *log,
                       size_t logsz);
/* Build, load and attach the program to the cgroup2 directory DIR,
 * replacing the device programs attached there before. */
int sp_cg_devices_attach(const char *dir, const struct sp_cg_dev_rule *rules,
                         size_t n, struct sp_error *err);
/* How many device programs are attached to DIR (-1: cannot tell). */
int sp_cg_devices_count(const char *dir);

/* ---- v2.c, v1.c: the drivers ---- */

/* Groups of linux.resources, by the controller that takes them. */
#define SP_CG_G_MEMORY 0x001u
#define SP_CG_G_CPU 0x002u     /* shares, quota, period, burst, idle, realtime, cpus, mems */
#define SP_CG_G_PIDS 0x004u
#define SP_CG_G_IO 0x008u
#define SP_CG_G_HUGETLB 0x010u
#define SP_CG_G_RDMA 0x020u
#define SP_CG_G_NETWORK 0x040u
#define SP_CG_G_DEVICES 0x080u
#define SP_CG_G_UNIFIED 0x100u
#define SP_CG_G_ALL 0x1ffu

/* What apply does for one call (create or update). */
struct sp_cg_apply {
  const struct sp_resources *res;
  const char *prefix; /* JSON path of res in messages: ".linux.resources" */
  bool update;        /* update: checkBeforeUpdate, devices replaced */
  unsigned groups;    /* SP_CG_G_* this driver writes */
};

/* "mlx5_0 hca_handle=2 hca_object=2000" */
int sp_cg_rdma_line(const struct sp_rdma *d, char *buf, size_t n);

/* Write RES into the cgroup2 directory DIR (MOUNT: its hierarchy's mount,
 * for enabling controllers in the parents); FULL: all of linux.resources
 * (v2 host), else only what v1 has no controller for (hybrid). */
int sp_cg_v2_apply(const char *mount, const char *dir, bool full,
                   const struct sp_cg_apply *a, struct sp_error *err);
/* Enable CONTROLLERS (comma list) in the subtree_control of every directory
 * from MOUNT down to DIR's parent; REQUIRED: a failure is an error,
 * otherwise it is skipped. */
int sp_cg_v2_enable(const char *mount, const char *dir, const char *controllers,
                    bool required, struct sp_error *err);
/* The v1 hierarchies: the groups of a->groups whose controller is mounted;
 * *LEFT gets the groups that have none (for cgroup2 on a hybrid host). */
int sp_cg_v1_apply(const struct sp_cgroup *cg, const struct sp_cg_apply *a,
                   unsigned *left, struct sp_error *err);
/* The v1 hierarchy directory with CONTROLLER (no cgroup2 fallback). */
const char *sp_cg_v1_dir(const struct sp_cgroup *cg, const char *controller);

/* Write VALUE to DIR/FILE; errors read "<FIELD>: write \"V\" to DIR/FILE: E". */
int sp_cg_write(const char *dir, const char *file, const char *value,
                const char *field, struct sp_error *err);
bool sp_cg_has_file(const char *dir, const char *file);
/* Read DIR/FILE (small) into *OUT; -1 with errno. */
int sp_cg_read(const char *dir, const char *file, char **out);
/* Read a single number ("max" -> UINT64_MAX); -1 when missing/unparsable. */
int sp_cg_read_u64(const char *dir, const char *file, uint64_t *v);
/* The value of KEY in a "key value" per line file (memory.stat, *.events). */
int sp_cg_read_keyed(const char *dir, const char *file, const char *key,
                     uint64_t *v);

#endif
