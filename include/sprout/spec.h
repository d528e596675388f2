/* sprout — the OCI runtime-spec 1.2 config.json as C structs.
 *
 * sp_spec_parse_* fills a struct sp_spec from JSON and validates it: every
 * error names the JSON path (".linux.namespaces[2].type") and what was
 * expected.  Unknown keys are ignored, as the spec requires.  Strings are
 * NUL-terminated heap copies; arrays are (pointer, length) pairs; optional
 * scalars have a has_* flag.  sp_spec_free releases everything.
 */
#ifndef SPROUT_SPEC_H
#define SPROUT_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sprout/error.h"

#define SP_SPEC_MAX_SIZE (16u * 1024u * 1024u) /* config.json larger: refused */
#define SP_SPEC_VERSION "1.2.0"                 /* what sprout implements */

/* A string -> string map (annotations, sysctl, unified). Order preserved. */
struct sp_kv {
  char *key;
  char *value;
};

struct sp_idmap {
  uint32_t container_id;
  uint32_t host_id;
  uint32_t size;
};

/* ---- mounts ---------------------------------------------------------- */

/* propagation / recursive attribute results of parsing `options` */
struct sp_mount {
  char *destination; /* required, absolute */
  char *type;        /* may be NULL (bind mounts) */
  char *source;      /* may be NULL */
  char **options;
  size_t options_len;
  struct sp_idmap *uid_mappings;
  size_t uid_mappings_len;
  struct sp_idmap *gid_mappings;
  size_t gid_mappings_len;

  /* derived by sp_mountopt_parse() during validation */
  unsigned long flags;       /* MS_* for mount(2) (MS_BIND/MS_REC included) */
  unsigned long clear_flags; /* MS_* explicitly cleared ("rw", "suid", ...) */
  unsigned long propagation; /* MS_SHARED|MS_SLAVE|MS_PRIVATE|MS_UNBINDABLE (+MS_REC) */
  uint64_t rec_attr_set;     /* MOUNT_ATTR_* from "rro", "rnosuid", ... */
  uint64_t rec_attr_clr;
  char *data;                /* fs-specific options joined with ',' or NULL */
  bool bind;                 /* "bind" or "rbind" or type "bind" */
  bool idmap;                /* "idmap" / "ridmap" or mappings given */
  bool idmap_recursive;
  bool tmpcopyup;
  bool copy_symlink;         /* "copy-symlink" */
  bool src_nofollow;         /* "src-nofollow" */
};

/* ---- process --------------------------------------------------------- */

struct sp_rlimit {
  char *type; /* "RLIMIT_NOFILE" ... */
  int resource; /* RLIMIT_* value, derived */
  uint64_t soft;
  uint64_t hard;
};

struct sp_capabilities {
  char **bounding;    size_t bounding_len;    bool has_bounding;
  char **effective;   size_t effective_len;   bool has_effective;
  char **inheritable; size_t inheritable_len; bool has_inheritable;
  char **permitted;   size_t permitted_len;   bool has_permitted;
  char **ambient;     size_t ambient_len;     bool has_ambient;
};

struct sp_scheduler {
  char *policy; /* SCHED_OTHER ... (required when scheduler present) */
  int policy_value; /* derived */
  bool has_nice;     int32_t nice;
  bool has_priority; int32_t priority;
  char **flags; size_t flags_len; /* SCHED_FLAG_* */
  uint64_t flags_value; /* derived */
  bool has_runtime;  uint64_t runtime;
  bool has_deadline; uint64_t deadline;
  bool has_period;   uint64_t period;
};

struct sp_io_priority {
  char *class_name; /* IOPRIO_CLASS_RT|BE|IDLE */
  int class_value;  /* derived: 1, 2, 3 */
  int32_t priority; /* 0..7 */
};

struct sp_user {
  uint32_t uid;
  uint32_t gid;
  bool has_umask; uint32_t umask;
  uint32_t *additional_gids; size_t additional_gids_len;
  char *username; /* windows only; kept */
};

struct sp_process {
  bool terminal;
  bool has_console_size; uint32_t console_height, console_width;
  char *cwd; /* required, absolute */
  char **env; size_t env_len;
  char **args; size_t args_len; /* required (non-empty) on Linux */
  char *command_line; /* windows; kept */
  struct sp_rlimit *rlimits; size_t rlimits_len;
  char *apparmor_profile;
  bool has_capabilities; struct sp_capabilities capabilities;
  bool no_new_privileges;
  bool has_oom_score_adj; int32_t oom_score_adj;
  bool has_scheduler; struct sp_scheduler scheduler;
  char *selinux_label;
  bool has_io_priority; struct sp_io_priority io_priority;
  char *exec_cpu_affinity_initial; /* cpu list "0-3,7" */
  char *exec_cpu_affinity_final;
  struct sp_user user;
};

/* ---- hooks ----------------------------------------------------------- */

struct sp_hook {
  char *path; /* required, absolute */
  char **args; size_t args_len;
  char **env; size_t env_len;
  bool has_timeout; int32_t timeout; /* seconds, > 0 */
};

struct sp_hooks {
  struct sp_hook *prestart; size_t prestart_len;
  struct sp_hook *create_runtime; size_t create_runtime_len;
  struct sp_hook *create_container; size_t create_container_len;
  struct sp_hook *start_container; size_t start_container_len;
  struct sp_hook *poststart; size_t poststart_len;
  struct sp_hook *poststop; size_t poststop_len;
};

/* ---- linux ----------------------------------------------------------- */

enum sp_ns_type {
  SP_NS_PID,
  SP_NS_NETWORK,
  SP_NS_MOUNT,
  SP_NS_IPC,
  SP_NS_UTS,
  SP_NS_USER,
  SP_NS_CGROUP,
  SP_NS_TIME,
  SP_NS_COUNT
};

struct sp_namespace {
  enum sp_ns_type type;
  char *path; /* NULL: create a new one */
};

struct sp_device {
  char *path; /* required, absolute */
  char type;  /* 'c', 'b', 'u' or 'p' */
  int64_t major, minor; /* required for c, b, u */
  bool has_file_mode; uint32_t file_mode;
  bool has_uid; uint32_t uid;
  bool has_gid; uint32_t gid;
};

struct sp_net_device {
  char *host_name;   /* the map key */
  char *name;        /* name inside the container (defaults to the key) */
};

struct sp_time_offset {
  bool set;
  int64_t secs;
  uint32_t nanosecs;
};

struct sp_device_cgroup {
  bool allow;
  char type; /* 'a' (default), 'c', 'b' */
  bool has_major; int64_t major;
  bool has_minor; int64_t minor;
  char *access; /* subset of "rwm", NULL means "rwm" */
};

struct sp_memory {
  bool has_limit; int64_t limit;
  bool has_reservation; int64_t reservation;
  bool has_swap; int64_t swap;
  bool has_kernel; int64_t kernel;
  bool has_kernel_tcp; int64_t kernel_tcp;
  bool has_swappiness; uint64_t swappiness;
  bool has_disable_oom_killer; bool disable_oom_killer;
  bool has_use_hierarchy; bool use_hierarchy;
  bool has_check_before_update; bool check_before_update;
};

struct sp_cpu {
  bool has_shares; uint64_t shares;
  bool has_quota; int64_t quota;
  bool has_burst; uint64_t burst;
  bool has_period; uint64_t period;
  bool has_realtime_runtime; int64_t realtime_runtime;
  bool has_realtime_period; uint64_t realtime_period;
  char *cpus;
  char *mems;
  bool has_idle; int64_t idle;
};

struct sp_weight_device {
  int64_t major, minor;
  bool has_weight; uint16_t weight;
  bool has_leaf_weight; uint16_t leaf_weight;
};

struct sp_throttle_device {
  int64_t major, minor;
  uint64_t rate;
};

struct sp_block_io {
  bool has_weight; uint16_t weight;
  bool has_leaf_weight; uint16_t leaf_weight;
  struct sp_weight_device *weight_device; size_t weight_device_len;
  struct sp_throttle_device *throttle_read_bps; size_t throttle_read_bps_len;
  struct sp_throttle_device *throttle_write_bps; size_t throttle_write_bps_len;
  struct sp_throttle_device *throttle_read_iops; size_t throttle_read_iops_len;
  struct sp_throttle_device *throttle_write_iops; size_t throttle_write_iops_len;
};

struct sp_hugepage_limit {
  char *page_size; /* "2MB", "1GB" ... */
  uint64_t limit;
};

struct sp_net_priority {
  char *name;
  uint32_t priority;
};

struct sp_rdma {
  char *device; /* map key */
  bool has_hca_handles; uint32_t hca_handles;
  bool has_hca_objects; uint32_t hca_objects;
};

struct sp_resources {
  struct sp_device_cgroup *devices; size_t devices_len;
  bool has_memory; struct sp_memory memory;
  bool has_cpu; struct sp_cpu cpu;
  bool has_block_io; struct sp_block_io block_io;
  struct sp_hugepage_limit *hugepage_limits; size_t hugepage_limits_len;
  bool has_network;
  bool has_class_id; uint32_t class_id;
  struct sp_net_priority *net_priorities; size_t net_priorities_len;
  bool has_pids; bool has_pids_limit; int64_t pids_limit;
  struct sp_rdma *rdma; size_t rdma_len;
  struct sp_kv *unified; size_t unified_len;
};

/* seccomp */
enum sp_seccomp_action {
  SP_SCMP_KILL,          /* SCMP_ACT_KILL (kill thread) */
  SP_SCMP_KILL_PROCESS,
  SP_SCMP_KILL_THREAD,
  SP_SCMP_TRAP,
  SP_SCMP_ERRNO,
  SP_SCMP_TRACE,
  SP_SCMP_ALLOW,
  SP_SCMP_LOG,
  SP_SCMP_NOTIFY,
};

enum sp_seccomp_op {
  SP_SCMP_CMP_NE,
  SP_SCMP_CMP_LT,
  SP_SCMP_CMP_LE,
  SP_SCMP_CMP_EQ,
  SP_SCMP_CMP_GE,
  SP_SCMP_CMP_GT,
  SP_SCMP_CMP_MASKED_EQ,
};

struct sp_seccomp_arg {
  uint32_t index;
  uint64_t value;
  bool has_value_two; uint64_t value_two;
  enum sp_seccomp_op op;
};

struct sp_seccomp_syscall {
  char **names; size_t names_len; /* required, non-empty */
  enum sp_seccomp_action action;
  bool has_errno_ret; uint32_t errno_ret;
  struct sp_seccomp_arg *args; size_t args_len;
};

struct sp_seccomp {
  enum sp_seccomp_action default_action;
  bool has_default_errno_ret; uint32_t default_errno_ret;
  char **architectures; size_t architectures_len; /* "SCMP_ARCH_X86_64" */
  char **flags; size_t flags_len; /* SECCOMP_FILTER_FLAG_* */
  char *listener_path;
  char *listener_metadata;
  struct sp_seccomp_syscall *syscalls; size_t syscalls_len;
};

struct sp_intel_rdt {
  char *clos_id;
  char *l3_cache_schema;
  char *mem_bw_schema;
  bool has_enable_cmt; bool enable_cmt;
  bool has_enable_mbm; bool enable_mbm;
  char *schemata; /* runtime-spec 1.3: written to resctrl "schemata" last */
};

struct sp_personality {
  char *domain; /* LINUX or LINUX32 */
  unsigned long domain_value; /* derived PER_LINUX / PER_LINUX32 */
  char **flags; size_t flags_len;
};

struct sp_linux {
  struct sp_namespace *namespaces; size_t namespaces_len;
  struct sp_idmap *uid_mappings; size_t uid_mappings_len;
  struct sp_idmap *gid_mappings; size_t gid_mappings_len;
  struct sp_time_offset time_monotonic;
  struct sp_time_offset time_boottime;
  struct sp_device *devices; size_t devices_len;
  struct sp_net_device *net_devices; size_t net_devices_len;
  char *cgroups_path;
  bool has_resources; struct sp_resources resources;
  char *rootfs_propagation; /* "shared", "slave", "private", "unbindable", r* */
  unsigned long rootfs_propagation_flags; /* derived MS_* */
  bool has_seccomp; struct sp_seccomp seccomp;
  struct sp_kv *sysctl; size_t sysctl_len;
  char **masked_paths; size_t masked_paths_len;
  char **readonly_paths; size_t readonly_paths_len;
  char *mount_label;
  bool has_intel_rdt; struct sp_intel_rdt intel_rdt;
  bool has_personality; struct sp_personality personality;
};

struct sp_spec {
  char *oci_version; /* required, major 1 */
  char *root_path;   /* required on Linux */
  bool root_readonly;
  struct sp_mount *mounts; size_t mounts_len;
  bool has_process; struct sp_process process;
  char *hostname;
  char *domainname;
  bool has_hooks; struct sp_hooks hooks;
  struct sp_kv *annotations; size_t annotations_len;
  bool has_linux; struct sp_linux linux_;
};

/* Parse and validate.  `name` is used in error messages (e.g. "config.json");
 * on error *spec is left zeroed/freed and err names the JSON path. */
int sp_spec_parse_buf(const char *buf, size_t len, const char *name,
                      struct sp_spec *spec, struct sp_error *err);
int sp_spec_parse_file(const char *path, struct sp_spec *spec,
                       struct sp_error *err);

/* Parse a standalone `process` object (exec --process FILE). */
int sp_process_parse_buf(const char *buf, size_t len, const char *name,
                         struct sp_process *proc, struct sp_error *err);
void sp_process_free(struct sp_process *proc);

/* Parse a standalone LinuxResources object (update --resources FILE). */
int sp_resources_parse_buf(const char *buf, size_t len, const char *name,
                           struct sp_resources *res, struct sp_error *err);
void sp_resources_free(struct sp_resources *res);

void sp_spec_free(struct sp_spec *spec);

/* Lookups. */
const struct sp_namespace *sp_spec_namespace(const struct sp_spec *spec,
                                             enum sp_ns_type type);
const char *sp_spec_annotation(const struct sp_spec *spec, const char *key);
const char *sp_ns_type_name(enum sp_ns_type type); /* "pid", "network", ... */
int sp_ns_type_from_name(const char *name);        /* -1 when unknown */
/* The namespace that owns a sysctl KEY (runc's rules); -1: none, it is global. */
int sp_sysctl_namespace(const char *key);

/* `sprout spec`: the default config as pretty JSON (malloc'd). */
char *sp_spec_generate(bool rootless, struct sp_error *err);

#endif
