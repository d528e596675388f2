/* Unit tests for the config.json parser and validator (src/spec/parse*.c). */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <unistd.h>

#include "sprout/spec.h"

#ifndef SRCDIR
#define SRCDIR "."
#endif
#define FULL_CONFIG SRCDIR "/tests/unit/data/full-config.json"

#include "spec_bad_cases.h"
#include "src/spec/parse_internal.h"

/* JSON written with single quotes -> double quotes (malloc'd). */
static char *dq(const char *s) {
  char *r = strdup(s);
  ck_assert_ptr_nonnull(r);
  for (char *p = r; *p; p++)
    if (*p == '\'')
      *p = '"';
  return r;
}

static int parse_str(const char *sq_json, struct sp_spec *s, struct sp_error *e) {
  char *j = dq(sq_json);
  memset(e, 0, sizeof *e);
  int r = sp_spec_parse_buf(j, strlen(j), "config.json", s, e);
  free(j);
  return r;
}

static bool is_zero(const void *p, size_t n) {
  const unsigned char *c = p;
  for (size_t i = 0; i < n; i++)
    if (c[i])
      return false;
  return true;
}

/* The error must be exactly "config.json: " + want (want may be a prefix). */
static void expect_error(const char *sq_json, const char *want) {
  struct sp_spec s;
  struct sp_error e;
  char full[1024];
  memset(&s, 0x5a, sizeof s);
  int r = parse_str(sq_json, &s, &e);
  snprintf(full, sizeof full, "config.json: %s", want);
  ck_assert_msg(r == -1, "accepted: %s", sq_json);
  ck_assert_msg(strncmp(e.msg, full, strlen(full)) == 0, "\n got: %s\nwant: %s\n json: %s", e.msg,
                full, sq_json);
  ck_assert_msg(strchr(e.msg, '\n') == NULL, "newline in %s", e.msg);
  ck_assert_int_eq(e.code, 0);
  ck_assert_msg(is_zero(&s, sizeof s), "spec not zeroed after error");
}

/* ---- valid documents ------------------------------------------------- */

START_TEST(test_minimal) {
  struct sp_spec s;
  struct sp_error e;
  ck_assert_int_eq(parse_str("{'ociVersion':'1.0.2','root':{'path':'rootfs'}}", &s, &e), 0);
  ck_assert_str_eq(s.oci_version, "1.0.2");
  ck_assert_str_eq(s.root_path, "rootfs");
  ck_assert(!s.root_readonly && !s.has_process && !s.has_linux && !s.has_hooks);
  ck_assert_uint_eq(s.mounts_len, 0);
  ck_assert_ptr_null(s.hostname);
  ck_assert_ptr_null(sp_spec_namespace(&s, SP_NS_PID));
  ck_assert_ptr_null(sp_spec_annotation(&s, "x"));
  sp_spec_free(&s);
  ck_assert(is_zero(&s, sizeof s));
  sp_spec_free(&s); /* twice is harmless */
}
END_TEST

START_TEST(test_minimal_process) {
  struct sp_spec s;
  struct sp_error e;
  ck_assert_int_eq(parse_str(PROC(""), &s, &e), 0);
  ck_assert(s.has_process);
  ck_assert_str_eq(s.process.cwd, "/");
  ck_assert_uint_eq(s.process.args_len, 1);
  ck_assert_str_eq(s.process.args[0], "sh");
  ck_assert(!s.process.terminal && !s.process.has_capabilities && !s.process.has_scheduler);
  ck_assert_uint_eq(s.process.user.uid, 0);
  sp_spec_free(&s);
}
END_TEST

static struct sp_spec full;

static void load_full(void) {
  struct sp_error e = {0};
  int r = sp_spec_parse_file(FULL_CONFIG, &full, &e);
  ck_assert_msg(r == 0, "full config: %s", e.msg);
}

static void free_full(void) { sp_spec_free(&full); }

START_TEST(test_full_top) {
  load_full();
  struct sp_spec *s = &full;
  ck_assert_str_eq(s->oci_version, "1.2.0");
  ck_assert_str_eq(s->root_path, "rootfs");
  ck_assert(s->root_readonly);
  ck_assert_str_eq(s->hostname, "slartibartfast");
  ck_assert_str_eq(s->domainname, "magrathea.example");
  ck_assert_uint_eq(s->mounts_len, 5);
  ck_assert_str_eq(s->mounts[0].destination, "/proc");
  ck_assert_str_eq(s->mounts[0].type, "proc");
  ck_assert_ptr_null(s->mounts[0].data);
  ck_assert_uint_eq(s->mounts[1].flags, MS_NOSUID | MS_STRICTATIME);
  ck_assert_str_eq(s->mounts[1].data, "mode=755,size=65536k");
  const struct sp_mount *b = &s->mounts[2];
  ck_assert(b->bind);
  ck_assert_uint_eq(b->flags, MS_BIND | MS_REC | MS_NOSYMFOLLOW);
  ck_assert_uint_eq(b->clear_flags, MS_RDONLY);
  ck_assert_uint_eq(b->propagation, MS_PRIVATE | MS_REC);
  ck_assert_uint_eq(b->rec_attr_set, MOUNT_ATTR_RDONLY);
  const struct sp_mount *im = &s->mounts[3];
  ck_assert(im->idmap && im->idmap_recursive);
  ck_assert_uint_eq(im->uid_mappings_len, 1);
  ck_assert_uint_eq(im->uid_mappings[0].host_id, 100000);
  ck_assert_uint_eq(im->gid_mappings[0].host_id, 200000);
  ck_assert_uint_eq(im->gid_mappings[0].size, 65536);
  ck_assert_str_eq(s->mounts[4].destination, "/relative/dir");
  ck_assert(s->mounts[4].tmpcopyup);

  ck_assert(s->has_hooks);
  ck_assert_uint_eq(s->hooks.prestart_len, 1);
  ck_assert_str_eq(s->hooks.prestart[0].path, "/usr/bin/fix-mounts");
  ck_assert_uint_eq(s->hooks.prestart[0].args_len, 2);
  ck_assert_str_eq(s->hooks.prestart[0].env[0], "key1=value1");
  ck_assert(!s->hooks.prestart[0].has_timeout);
  ck_assert(s->hooks.create_runtime[0].has_timeout);
  ck_assert_int_eq(s->hooks.create_runtime[0].timeout, 5);
  ck_assert_str_eq(s->hooks.create_container[0].path, "/usr/bin/cc");
  ck_assert_str_eq(s->hooks.start_container[0].path, "/usr/bin/refresh-ldcache");
  ck_assert_int_eq(s->hooks.poststart[0].timeout, INT32_MAX);
  ck_assert_uint_eq(s->hooks.poststop_len, 2);
  ck_assert_str_eq(s->hooks.poststop[1].path, "/usr/bin/second");

  ck_assert_uint_eq(s->annotations_len, 2);
  ck_assert_str_eq(sp_spec_annotation(s, "com.example.key1"), "value1");
  ck_assert_str_eq(sp_spec_annotation(s, "com.example.key2"), "");
  ck_assert_ptr_null(sp_spec_annotation(s, "com.example.key3"));
  free_full();
}
END_TEST

START_TEST(test_full_process) {
  load_full();
  const struct sp_process *p = &full.process;
  ck_assert(full.has_process && p->terminal && p->has_console_size);
  ck_assert_uint_eq(p->console_height, 25);
  ck_assert_uint_eq(p->console_width, 80);
  ck_assert_uint_eq(p->user.uid, 1);
  ck_assert_uint_eq(p->user.gid, 2);
  ck_assert(p->user.has_umask);
  ck_assert_uint_eq(p->user.umask, 022);
  ck_assert_uint_eq(p->user.additional_gids_len, 2);
  ck_assert_uint_eq(p->user.additional_gids[1], UINT32_MAX);
  ck_assert_str_eq(p->user.username, "ignored-on-linux");
  ck_assert_uint_eq(p->args_len, 3);
  ck_assert_str_eq(p->args[2], "echo hi");
  ck_assert_str_eq(p->command_line, "cmd.exe /c echo hi");
  ck_assert_uint_eq(p->env_len, 3);
  ck_assert_str_eq(p->env[2], "EMPTY=");
  ck_assert_str_eq(p->cwd, "/home/user");
  ck_assert(p->has_capabilities);
  const struct sp_capabilities *c = &p->capabilities;
  ck_assert(c->has_bounding && c->has_effective && c->has_inheritable && c->has_permitted &&
            c->has_ambient);
  ck_assert_uint_eq(c->bounding_len, 3);
  ck_assert_str_eq(c->bounding[2], "CAP_NET_BIND_SERVICE");
  ck_assert_uint_eq(c->inheritable_len, 0);
  ck_assert_str_eq(c->permitted[1], "CAP_SYS_ADMIN");
  ck_assert_uint_eq(p->rlimits_len, 3);
  ck_assert_int_eq(p->rlimits[0].resource, RLIMIT_NOFILE);
  ck_assert_uint_eq(p->rlimits[0].soft, 1024);
  ck_assert_uint_eq(p->rlimits[0].hard, 20000);
  ck_assert_int_eq(p->rlimits[1].resource, RLIMIT_CORE);
  ck_assert_uint_eq(p->rlimits[1].soft, UINT64_MAX);
  ck_assert_uint_eq(p->rlimits[1].hard, (uint64_t)RLIM_INFINITY);
  ck_assert_int_eq(p->rlimits[2].resource, RLIMIT_RTTIME);
  ck_assert_uint_eq(p->rlimits[2].soft, (uint64_t)INT64_MAX + 1);
  ck_assert_uint_eq(p->rlimits[2].hard, (uint64_t)INT64_MAX + 2);
  ck_assert_str_eq(p->apparmor_profile, "acme_secure_profile");
  ck_assert_str_eq(p->selinux_label, "system_u:system_r:svirt_lxc_net_t:s0:c124,c675");
  ck_assert(p->no_new_privileges);
  ck_assert(p->has_oom_score_adj);
  ck_assert_int_eq(p->oom_score_adj, -1000);
  ck_assert(p->has_scheduler);
  ck_assert_str_eq(p->scheduler.policy, "SCHED_DEADLINE");
  ck_assert_int_eq(p->scheduler.policy_value, 6);
  ck_assert(p->scheduler.has_nice && !p->scheduler.has_priority);
  ck_assert_int_eq(p->scheduler.nice, -20);
  ck_assert_uint_eq(p->scheduler.flags_len, 2);
  ck_assert_uint_eq(p->scheduler.flags_value, 0x01 | 0x04);
  ck_assert_uint_eq(p->scheduler.runtime, 10000000);
  ck_assert_uint_eq(p->scheduler.deadline, 20000000);
  ck_assert_uint_eq(p->scheduler.period, 30000000);
  ck_assert(p->has_io_priority);
  ck_assert_str_eq(p->io_priority.class_name, "IOPRIO_CLASS_IDLE");
  ck_assert_int_eq(p->io_priority.class_value, 3);
  ck_assert_int_eq(p->io_priority.priority, 7);
  ck_assert_str_eq(p->exec_cpu_affinity_initial, "0-3, 7");
  ck_assert_str_eq(p->exec_cpu_affinity_final, "5");
  free_full();
}
END_TEST

START_TEST(test_full_linux) {
  load_full();
  const struct sp_linux *l = &full.linux_;
  ck_assert(full.has_linux);
  ck_assert_uint_eq(l->namespaces_len, 8);
  for (int t = 0; t < SP_NS_COUNT; t++)
    ck_assert_ptr_nonnull(sp_spec_namespace(&full, (enum sp_ns_type)t));
  ck_assert_str_eq(sp_spec_namespace(&full, SP_NS_NETWORK)->path, "/var/run/netns/neta");
  ck_assert_ptr_null(sp_spec_namespace(&full, SP_NS_CGROUP)->path); /* "" = new */
  ck_assert_ptr_null(sp_spec_namespace(&full, SP_NS_PID)->path);
  ck_assert_uint_eq(l->uid_mappings_len, 1);
  ck_assert_uint_eq(l->uid_mappings[0].size, 32000);
  ck_assert_uint_eq(l->gid_mappings_len, 2);
  ck_assert_uint_eq(l->gid_mappings[1].container_id, 32000);
  ck_assert_uint_eq(l->gid_mappings[1].host_id, UINT32_MAX);
  ck_assert(l->time_monotonic.set && l->time_boottime.set);
  ck_assert_int_eq(l->time_monotonic.secs, -172800);
  ck_assert_uint_eq(l->time_monotonic.nanosecs, 999999999);
  ck_assert_int_eq(l->time_boottime.secs, 604800);
  ck_assert_uint_eq(l->time_boottime.nanosecs, 0);
  ck_assert_uint_eq(l->devices_len, 3);
  ck_assert_str_eq(l->devices[0].path, "/dev/fuse");
  ck_assert_int_eq(l->devices[0].type, 'c');
  ck_assert_int_eq(l->devices[0].major, 10);
  ck_assert_int_eq(l->devices[0].minor, 229);
  ck_assert(l->devices[0].has_file_mode && l->devices[0].has_uid && l->devices[0].has_gid);
  ck_assert_uint_eq(l->devices[0].file_mode, 0666);
  ck_assert_uint_eq(l->devices[1].file_mode, 07777);
  ck_assert(!l->devices[1].has_uid);
  ck_assert_int_eq(l->devices[2].type, 'p');
  ck_assert_uint_eq(l->net_devices_len, 2);
  ck_assert_str_eq(l->net_devices[0].host_name, "eth0");
  ck_assert_str_eq(l->net_devices[0].name, "container_eth0");
  ck_assert_str_eq(l->net_devices[1].host_name, "ens4");
  ck_assert_str_eq(l->net_devices[1].name, "ens4");
  ck_assert_uint_eq(l->sysctl_len, 3);
  ck_assert_str_eq(l->sysctl[0].key, "net.ipv4.ip_forward");
  ck_assert_str_eq(l->sysctl[0].value, "1");
  ck_assert_str_eq(l->cgroups_path, "/myRuntime/myContainer");
  ck_assert_str_eq(l->rootfs_propagation, "rslave");
  ck_assert_uint_eq(l->rootfs_propagation_flags, MS_SLAVE | MS_REC);
  ck_assert_uint_eq(l->masked_paths_len, 2);
  ck_assert_str_eq(l->masked_paths[1], "/proc/sched_debug");
  ck_assert_str_eq(l->readonly_paths[0], "/proc/sys");
  ck_assert_str_eq(l->mount_label, "system_u:object_r:svirt_sandbox_file_t:s0:c715,c811");
  ck_assert(l->has_intel_rdt);
  ck_assert_str_eq(l->intel_rdt.clos_id, "guaranteed_group");
  ck_assert_str_eq(l->intel_rdt.l3_cache_schema, "L3:0=7f0;1=1f");
  ck_assert_str_eq(l->intel_rdt.mem_bw_schema, "MB:0=20;1=70");
  ck_assert_str_eq(l->intel_rdt.schemata, "L2:0=f");
  ck_assert(l->intel_rdt.has_enable_cmt && l->intel_rdt.enable_cmt);
  ck_assert(l->intel_rdt.has_enable_mbm && !l->intel_rdt.enable_mbm);
  ck_assert(l->has_personality);
  ck_assert_str_eq(l->personality.domain, "LINUX32");
  ck_assert_uint_eq(l->personality.domain_value, PER_LINUX32);
  free_full();
}
END_TEST

START_TEST(test_full_resources) {
  load_full();
  const struct sp_resources *r = &full.linux_.resources;
  ck_assert(full.linux_.has_resources);
  ck_assert(r->has_network && r->has_class_id);
  ck_assert_uint_eq(r->class_id, 1048577);
  ck_assert_uint_eq(r->net_priorities_len, 2);
  ck_assert_str_eq(r->net_priorities[1].name, "eth1");
  ck_assert_uint_eq(r->net_priorities[1].priority, 1000);
  ck_assert(r->has_pids && r->has_pids_limit);
  ck_assert_int_eq(r->pids_limit, 32771);
  ck_assert_uint_eq(r->hugepage_limits_len, 2);
  ck_assert_str_eq(r->hugepage_limits[0].page_size, "2MB");
  ck_assert_uint_eq(r->hugepage_limits[0].limit, 9223372036854772000ULL);
  ck_assert_uint_eq(r->hugepage_limits[1].limit, UINT64_MAX);
  const struct sp_memory *m = &r->memory;
  ck_assert(r->has_memory && m->has_limit && m->has_swap && m->has_kernel_tcp);
  ck_assert_int_eq(m->limit, -1);
  ck_assert_int_eq(m->reservation, 536870912);
  ck_assert_int_eq(m->swap, -1);
  ck_assert_int_eq(m->kernel, -1);
  ck_assert_int_eq(m->kernel_tcp, 0);
  ck_assert(m->has_swappiness);
  ck_assert_uint_eq(m->swappiness, 60);
  ck_assert(m->has_disable_oom_killer && !m->disable_oom_killer);
  ck_assert(m->has_use_hierarchy && m->use_hierarchy);
  ck_assert(m->has_check_before_update && m->check_before_update);
  const struct sp_cpu *c = &r->cpu;
  ck_assert(r->has_cpu && c->has_shares && c->has_burst && c->has_idle);
  ck_assert_uint_eq(c->shares, 1024);
  ck_assert_int_eq(c->quota, 1000000);
  ck_assert_uint_eq(c->burst, 500000);
  ck_assert_uint_eq(c->period, 500000);
  ck_assert_int_eq(c->realtime_runtime, -1);
  ck_assert_uint_eq(c->realtime_period, 1000000);
  ck_assert_str_eq(c->cpus, "2-3");
  ck_assert_str_eq(c->mems, "0-7");
  ck_assert_int_eq(c->idle, 1);
  const struct sp_block_io *b = &r->block_io;
  ck_assert(r->has_block_io && b->has_weight && b->has_leaf_weight);
  ck_assert_uint_eq(b->weight, 10);
  ck_assert_uint_eq(b->leaf_weight, 1000);
  ck_assert_uint_eq(b->weight_device_len, 2);
  ck_assert(b->weight_device[0].has_leaf_weight && !b->weight_device[1].has_leaf_weight);
  ck_assert_uint_eq(b->weight_device[0].leaf_weight, 300);
  ck_assert_int_eq(b->weight_device[1].minor, 16);
  ck_assert_uint_eq(b->throttle_read_bps[0].rate, 600);
  ck_assert_uint_eq(b->throttle_write_bps[0].rate, UINT64_MAX);
  ck_assert_int_eq(b->throttle_write_bps[0].minor, 1);
  ck_assert_uint_eq(b->throttle_read_iops[0].rate, 700);
  ck_assert_uint_eq(b->throttle_write_iops[0].rate, 300);
  ck_assert_uint_eq(r->devices_len, 3);
  ck_assert(!r->devices[0].allow && !r->devices[0].has_major);
  ck_assert_int_eq(r->devices[0].type, 'a');
  ck_assert_str_eq(r->devices[0].access, "rwm");
  ck_assert(r->devices[1].allow && r->devices[1].has_major && r->devices[1].has_minor);
  ck_assert_int_eq(r->devices[1].type, 'c');
  ck_assert_int_eq(r->devices[1].minor, 229);
  ck_assert_str_eq(r->devices[2].access, "r");
  ck_assert_uint_eq(r->rdma_len, 2);
  ck_assert_str_eq(r->rdma[0].device, "mlx5_1");
  ck_assert(r->rdma[0].has_hca_handles && r->rdma[0].has_hca_objects);
  ck_assert_uint_eq(r->rdma[0].hca_objects, 10000);
  ck_assert(!r->rdma[1].has_hca_handles);
  ck_assert_uint_eq(r->unified_len, 2);
  ck_assert_str_eq(r->unified[0].key, "io.max");
  ck_assert_str_eq(r->unified[0].value, "259:0 rbps=2097152 wiops=120\n253:0 rbps=2097152 wiops=120");
  free_full();
}
END_TEST

START_TEST(test_full_seccomp) {
  load_full();
  const struct sp_seccomp *sc = &full.linux_.seccomp;
  ck_assert(full.linux_.has_seccomp);
  ck_assert_int_eq(sc->default_action, SP_SCMP_ERRNO);
  ck_assert(sc->has_default_errno_ret);
  ck_assert_uint_eq(sc->default_errno_ret, 38);
  ck_assert_uint_eq(sc->architectures_len, 3);
  ck_assert_str_eq(sc->architectures[2], "SCMP_ARCH_X32");
  ck_assert_uint_eq(sc->flags_len, 2);
  ck_assert_str_eq(sc->listener_path, "/run/seccomp-agent.socket");
  ck_assert_str_eq(sc->listener_metadata, "MKNOD=/dev/null");
  ck_assert_uint_eq(sc->syscalls_len, 5);
  ck_assert_uint_eq(sc->syscalls[0].names_len, 2);
  ck_assert_str_eq(sc->syscalls[0].names[1], "chmod");
  ck_assert_int_eq(sc->syscalls[0].action, SP_SCMP_ALLOW);
  ck_assert(!sc->syscalls[0].has_errno_ret);
  ck_assert_uint_eq(sc->syscalls[1].args_len, 1);
  ck_assert_uint_eq(sc->syscalls[1].args[0].value, 4294967295u);
  ck_assert_int_eq(sc->syscalls[1].args[0].op, SP_SCMP_CMP_EQ);
  ck_assert(!sc->syscalls[1].args[0].has_value_two);
  const struct sp_seccomp_syscall *cl = &sc->syscalls[2];
  ck_assert_int_eq(cl->action, SP_SCMP_ERRNO);
  ck_assert(cl->has_errno_ret);
  ck_assert_uint_eq(cl->errno_ret, 1);
  ck_assert_uint_eq(cl->args[0].index, 5);
  ck_assert_uint_eq(cl->args[0].value, UINT64_MAX);
  ck_assert(cl->args[0].has_value_two);
  ck_assert_uint_eq(cl->args[0].value_two, 2114060288);
  ck_assert_int_eq(cl->args[0].op, SP_SCMP_CMP_MASKED_EQ);
  ck_assert_int_eq(sc->syscalls[3].action, SP_SCMP_NOTIFY);
  ck_assert_int_eq(sc->syscalls[4].action, SP_SCMP_KILL_PROCESS);
  free_full();
}
END_TEST

static size_t read_full(char *buf, size_t size) {
  FILE *f = fopen(FULL_CONFIG, "r");
  ck_assert_ptr_nonnull(f);
  size_t n = fread(buf, 1, size - 1, f);
  fclose(f);
  ck_assert_uint_gt(n, 1000);
  buf[n] = '\0';
  return n;
}

/* Prefixes of the full config are refused as malformed, in one line. */
START_TEST(test_truncated) {
  char buf[16384];
  size_t n = read_full(buf, sizeof buf);
  for (size_t len = 0; len < n - 2; len += 11) {
    struct sp_spec s;
    struct sp_error e;
    ck_assert_int_eq(sp_spec_parse_buf(buf, len, "x.json", &s, &e), -1);
    ck_assert_msg(strncmp(e.msg, "x.json: invalid JSON: ", 22) == 0, "%zu: %s", len, e.msg);
    ck_assert(strchr(e.msg, '\n') == NULL);
  }
}
END_TEST

/* Replace, one at a time, every number of the full config by -1.5 and
 * every string value by 7: each must be refused with the path of that
 * value, after everything before it was parsed (and must be freed: run
 * under valgrind), except inside the sections sprout ignores. */
START_TEST(test_mutations) {
  char buf[16384], doc[16400];
  size_t n = read_full(buf, sizeof buf), refused = 0;
  const char *ignored = strstr(buf, "\"windows\"");
  ck_assert_ptr_nonnull(ignored);
  for (size_t i = 0; i < n; i++) {
    size_t end;
    const char *repl;
    if (buf[i] == '"') {
      end = i + 1;
      while (buf[end] != '"')
        end += buf[end] == '\\' ? 2 : 1;
      end++;
      size_t k = end;
      while (buf[k] == ' ' || buf[k] == '\n')
        k++;
      if (buf[k] == ':') { /* a key */
        i = end - 1;
        continue;
      }
      repl = "7";
    } else if (buf[i] == '-' || (buf[i] >= '0' && buf[i] <= '9')) {
      end = i + strspn(buf + i, "-+.eE0123456789");
      repl = "-1.5";
    } else {
      continue;
    }
    snprintf(doc, sizeof doc, "%.*s%s%s", (int)i, buf, repl, buf + end);
    struct sp_spec s;
    struct sp_error e;
    char got[16];
    int r = sp_spec_parse_buf(doc, strlen(doc), "m.json", &s, &e);
    if (buf + i > ignored) {
      ck_assert_msg(r == 0, "ignored section, offset %zu: %s", i, e.msg);
      sp_spec_free(&s);
    } else {
      snprintf(got, sizeof got, "got %s", repl);
      ck_assert_msg(r == -1, "accepted %s at offset %zu", repl, i);
      ck_assert_msg(strncmp(e.msg, "m.json: .", 9) == 0 && strstr(e.msg, got) != NULL,
                    "offset %zu: %s", i, e.msg);
      refused++;
    }
    i = end - 1;
  }
  ck_assert_uint_gt(refused, 200);
}
END_TEST

/* ---- invalid documents ----------------------------------------------- */

START_TEST(test_bad_case) {
  expect_error(bad_cases[_i].json, bad_cases[_i].want);
}
END_TEST

/* ---- rules ------------------------------------------------------------- */

START_TEST(test_oci_version) {
  static const char *const good[] = {"1.0.2", "1.2.0", "1.3.0", "1.0.0-rc5", "1.1.0+dev"};
  static const char *const bad[] = {"2.0.0", "", "abc", "0.5.0", "10.0.0", "1", "1.x", "v1.0.0"};
  char doc[256], want[256];
  struct sp_spec s;
  struct sp_error e;
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    snprintf(doc, sizeof doc, "{'ociVersion':'%s','root':{'path':'r'}}", good[i]);
    ck_assert_msg(parse_str(doc, &s, &e) == 0, "%s: %s", good[i], e.msg);
    ck_assert_str_eq(s.oci_version, good[i]);
    sp_spec_free(&s);
  }
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    snprintf(doc, sizeof doc, "{'ociVersion':'%s','root':{'path':'r'}}", bad[i]);
    snprintf(want, sizeof want,
             ".ociVersion: unsupported version \"%s\" (sprout implements 1.x)", bad[i]);
    expect_error(doc, want);
  }
}
END_TEST

START_TEST(test_unknown_keys_and_nulls) {
  struct sp_spec s;
  struct sp_error e;
  const char *doc =
      "{'ociVersion':'1.2.0','root':{'path':'r','zzz':1},'solaris':{},'foo':[1,{'a':null}],"
      "'annotations':null,'hostname':null,"
      "'process':{'cwd':'/','args':['a'],'bogus':true,'capabilities':null,'user':{'x':1}},"
      "'linux':{'unknown':{},'resources':{'oomScoreAdj':5,'disableOOMKiller':true,"
      "'memory':{'swappiness':18446744073709551615}},'seccomp':null,"
      "'namespaces':[{'type':'pid','extra':1}]},"
      "'mounts':[{'destination':'/x','type':'tmpfs','whatever':'y'}]}";
  ck_assert_msg(parse_str(doc, &s, &e) == 0, "%s", e.msg);
  ck_assert_ptr_null(s.annotations);
  ck_assert_ptr_null(s.hostname);
  ck_assert(!s.process.has_capabilities && !s.linux_.has_seccomp);
  ck_assert(s.linux_.resources.has_memory);
  ck_assert(!s.linux_.resources.memory.has_swappiness); /* (uint64)-1: unset */
  ck_assert_uint_eq(s.linux_.namespaces_len, 1);
  sp_spec_free(&s);
}
END_TEST

START_TEST(test_malformed_json) {
  static const struct {
    const char *json;
    const char *want;
  } cases[] = {
      {"{\"ociVersion\": \"1.2.0\"", "config.json: invalid JSON: parse error: premature EOF"},
      {"{\"a\": x}", "config.json: invalid JSON: lexical error: invalid char in json text (line 1, column 7)"},
      {"{\n  \"a\": 1,\n  \"b\" 2\n}", "config.json: invalid JSON: parse error: object key and value "
                                   "must be separated by a colon (':') (line 3, column 7)"},
      {"{} x", "config.json: invalid JSON: parse error: trailing garbage (line 1, column 4)"},
      {"", "config.json: invalid JSON: empty document"},
      {"  \n ", "config.json: invalid JSON: empty document"},
      {"{\"a\":\"\xff\"}", "config.json: invalid JSON: lexical error: invalid bytes in UTF8 string"},
      {"{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"r\\u0000x\"}}",
       "config.json: invalid JSON: strings must not contain NUL (\\u0000)"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct sp_spec s;
    struct sp_error e;
    ck_assert_int_eq(sp_spec_parse_buf(cases[i].json, strlen(cases[i].json), "config.json", &s, &e), -1);
    ck_assert_msg(strncmp(e.msg, cases[i].want, strlen(cases[i].want)) == 0, "got %s\nwant %s",
                  e.msg, cases[i].want);
    ck_assert(strchr(e.msg, '\n') == NULL);
  }
  /* an escaped backslash before u0000 is text, not a NUL */
  struct sp_spec s;
  struct sp_error e;
  const char *ok = "{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"a\\\\u0000\"}}";
  ck_assert_msg(sp_spec_parse_buf(ok, strlen(ok), "c", &s, &e) == 0, "%s", e.msg);
  ck_assert_str_eq(s.root_path, "a\\u0000");
  sp_spec_free(&s);
  /* a NUL byte inside the buffer */
  const char nul[] = "{\"ociVersion\":\"1.2.0\"}\0garbage";
  ck_assert_int_eq(sp_spec_parse_buf(nul, sizeof nul - 1, "config.json", &s, &e), -1);
  ck_assert_str_eq(e.msg, "config.json: invalid JSON: contains a NUL byte");
  /* nesting deep enough to blow the stack of a recursive free */
  size_t depth = 200000;
  char *deep = malloc(2 * depth + 1);
  memset(deep, '[', depth);
  memset(deep + depth, ']', depth);
  deep[2 * depth] = '\0';
  ck_assert_int_eq(sp_spec_parse_buf(deep, 2 * depth, "config.json", &s, &e), -1);
  ck_assert_str_eq(e.msg, "config.json: invalid JSON: nested deeper than 64 levels");
  free(deep);
  /* not NUL-terminated: only len bytes are read */
  const char *doc = "{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"r\"}}GARBAGE";
  ck_assert_int_eq(sp_spec_parse_buf(doc, strlen(doc) - 7, "c", &s, &e), 0);
  sp_spec_free(&s);
}
END_TEST

static char *write_temp(const char *content, size_t len, size_t pad) {
  char *path = strdup("/tmp/sprout-test-spec-XXXXXX");
  int fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(write(fd, content, len), (ssize_t)len);
  if (pad > 0) {
    char *sp = malloc(pad);
    memset(sp, ' ', pad);
    ck_assert_int_eq(write(fd, sp, pad), (ssize_t)pad);
    free(sp);
  }
  close(fd);
  return path;
}

START_TEST(test_file_limits) {
  struct sp_spec s;
  struct sp_error e;
  const char *doc = "{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"r\"}}";
  size_t len = strlen(doc);
  char want[512];

  /* 17000000 bytes: refused before being read */
  char *big = write_temp(doc, len, 17000000 - len);
  ck_assert_int_eq(sp_spec_parse_file(big, &s, &e), -1);
  snprintf(want, sizeof want, "%s: file is 17000000 bytes, more than the 16 MiB limit", big);
  ck_assert_str_eq(e.msg, want);
  ck_assert(is_zero(&s, sizeof s));
  unlink(big);
  free(big);

  /* exactly 16 MiB: accepted */
  char *edge = write_temp(doc, len, SP_SPEC_MAX_SIZE - len);
  ck_assert_msg(sp_spec_parse_file(edge, &s, &e) == 0, "%s", e.msg);
  ck_assert_str_eq(s.root_path, "r");
  sp_spec_free(&s);
  unlink(edge);
  free(edge);

  /* errors name the path as given */
  char *bad = write_temp("{\"ociVersion\":\"9\"}", 18, 0);
  ck_assert_int_eq(sp_spec_parse_file(bad, &s, &e), -1);
  snprintf(want, sizeof want, "%s: .ociVersion: unsupported version \"9\"", bad);
  ck_assert_msg(strncmp(e.msg, want, strlen(want)) == 0, "%s", e.msg);
  unlink(bad);
  free(bad);

  errno = 0;
  ck_assert_int_eq(sp_spec_parse_file("/nonexistent/config.json", &s, &e), -1);
  ck_assert_str_eq(e.msg, "open /nonexistent/config.json: No such file or directory");
  ck_assert_int_eq(e.code, ENOENT);
  ck_assert_int_eq(sp_spec_parse_file("/", &s, &e), -1);
  ck_assert_int_eq(e.code, EISDIR);
}
END_TEST

START_TEST(test_process_buf) {
  struct sp_process p;
  struct sp_error e;
  const char *ok = "{\"cwd\":\"/w\",\"args\":[\"ls\",\"-l\"],\"env\":[\"A=b\"],"
                   "\"capabilities\":{\"bounding\":[\"CAP_CHOWN\"]},\"user\":{\"uid\":7},"
                   "\"rlimits\":[{\"type\":\"RLIMIT_NPROC\",\"soft\":10,\"hard\":20}]}";
  ck_assert_msg(sp_process_parse_buf(ok, strlen(ok), "process.json", &p, &e) == 0, "%s", e.msg);
  ck_assert_str_eq(p.cwd, "/w");
  ck_assert_uint_eq(p.args_len, 2);
  ck_assert_uint_eq(p.user.uid, 7);
  ck_assert_int_eq(p.rlimits[0].resource, RLIMIT_NPROC);
  ck_assert_str_eq(p.capabilities.bounding[0], "CAP_CHOWN");
  sp_process_free(&p);
  ck_assert(is_zero(&p, sizeof p));

  static const struct {
    const char *json, *want;
  } bad[] = {
      {"{\"args\":[\"ls\"]}", "process.json: .cwd: required"},
      {"{\"cwd\":\"/\",\"args\":[\"ls\"],\"user\":{\"uid\":-1}}",
       "process.json: .user.uid: expected an unsigned 32-bit integer, got -1"},
      {"{\"cwd\":\"/\",\"args\":[\"ls\"],\"capabilities\":{\"effective\":[\"CAP_X\"]}}",
       "process.json: .capabilities.effective[0]: unknown capability \"CAP_X\""},
      {"[1]", "process.json: .: expected an object, got an array"},
      {"{", "process.json: invalid JSON: parse error: premature EOF"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    memset(&p, 0x11, sizeof p);
    ck_assert_int_eq(sp_process_parse_buf(bad[i].json, strlen(bad[i].json), "process.json", &p, &e), -1);
    ck_assert_str_eq(e.msg, bad[i].want);
    ck_assert(is_zero(&p, sizeof p));
  }
}
END_TEST

START_TEST(test_resources_buf) {
  struct sp_resources r;
  struct sp_error e;
  const char *ok = "{\"memory\":{\"limit\":-1,\"swap\":9223372036854775807},\"pids\":{},"
                   "\"cpu\":{\"quota\":-1,\"burst\":5},\"unified\":{\"pids.max\":\"10\"}}";
  ck_assert_msg(sp_resources_parse_buf(ok, strlen(ok), "res.json", &r, &e) == 0, "%s", e.msg);
  ck_assert_int_eq(r.memory.limit, -1);
  ck_assert_int_eq(r.memory.swap, INT64_MAX);
  ck_assert(r.has_pids && !r.has_pids_limit);
  ck_assert_int_eq(r.cpu.quota, -1);
  ck_assert_str_eq(r.unified[0].value, "10");
  sp_resources_free(&r);
  ck_assert(is_zero(&r, sizeof r));

  const char *bad = "{\"memory\":{\"limit\":\"1G\"}}";
  ck_assert_int_eq(sp_resources_parse_buf(bad, strlen(bad), "res.json", &r, &e), -1);
  ck_assert_str_eq(e.msg, "res.json: .memory.limit: expected an integer between -1 and "
                          "9223372036854775807, got a string");
  const char *bad2 = "{\"blockIO\":{\"weightDevice\":[{\"major\":8,\"minor\":0,\"weight\":9}]}}";
  ck_assert_int_eq(sp_resources_parse_buf(bad2, strlen(bad2), NULL, &r, &e), -1);
  ck_assert_str_eq(e.msg, ".blockIO.weightDevice[0].weight: expected an integer between 10 "
                          "and 1000, got 9");
}
END_TEST

START_TEST(test_ns_names) {
  static const char *const names[] = {"pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time"};
  ck_assert_int_eq(SP_NS_COUNT, 8);
  for (int t = 0; t < SP_NS_COUNT; t++) {
    const char *n = sp_ns_type_name((enum sp_ns_type)t);
    ck_assert_ptr_nonnull(n);
    ck_assert_int_eq(sp_ns_type_from_name(n), t);
  }
  for (size_t i = 0; i < 8; i++)
    ck_assert_str_eq(sp_ns_type_name((enum sp_ns_type)sp_ns_type_from_name(names[i])), names[i]);
  ck_assert_int_eq(sp_ns_type_from_name("net"), -1);
  ck_assert_int_eq(sp_ns_type_from_name("PID"), -1);
  ck_assert_int_eq(sp_ns_type_from_name(""), -1);
  ck_assert_int_eq(sp_ns_type_from_name(NULL), -1);
  ck_assert_ptr_null(sp_ns_type_name(SP_NS_COUNT));
}
END_TEST

START_TEST(test_messages_are_one_line) {
  /* user input with control characters is shown without them */
  expect_error("{'ociVersion':'1.2.0','root':{'path':'r'},'linux':{'namespaces':[{'type':'p\\nid'}]}}",
               ".linux.namespaces[0].type: unknown namespace \"p?id\"");
  expect_error("{'ociVersion':'1.2.0','root':{'path':'r'},'annotations':{'a\\tb':1}}",
               ".annotations[\"a?b\"]: expected a string, got 1");

  /* long values are cut, between UTF-8 sequences, not inside one */
  char doc[1024], want[512], e_acute[256] = "a";
  for (int i = 0; i < 100; i++)
    strcat(e_acute, "\xc3\xa9");
  snprintf(doc, sizeof doc, "{'ociVersion':'1.2.0','root':{'path':'r'},'linux':{'namespaces':"
           "[{'type':'%s'}]}}", e_acute);
  e_acute[1 + 2 * 45] = '\0';
  snprintf(want, sizeof want, ".linux.namespaces[0].type: unknown namespace \"%s...\"", e_acute);
  expect_error(doc, want);
  /* file names are not cut that short: bundle paths are long */
  char path[300] = "/nonexistent/";
  for (int i = 0; i < 200; i++)
    strcat(path, "d");
  strcat(path, "/config.json");
  struct sp_spec s;
  struct sp_error e;
  ck_assert_int_eq(sp_spec_parse_file(path, &s, &e), -1);
  snprintf(want, sizeof want, "open %s: No such file or directory", path);
  ck_assert_str_eq(e.msg, want);
}
END_TEST

/* The JSON paths of error messages: keys, quoted keys, indexes, and
 * truncation to the buffer (always NUL-terminated). */
START_TEST(test_jpath) {
  char p[SP_JPATH_MAX];
  sp_jpath_key(p, sizeof p, "", "linux");
  ck_assert_str_eq(p, ".linux");
  sp_jpath_key(p, sizeof p, ".linux", "namespaces");
  ck_assert_str_eq(p, ".linux.namespaces");
  sp_jpath_index(p, sizeof p, ".linux.namespaces", 0);
  ck_assert_str_eq(p, ".linux.namespaces[0]");
  sp_jpath_index(p, sizeof p, ".mounts", 1234567890123ULL);
  ck_assert_str_eq(p, ".mounts[1234567890123]");
  sp_jpath_key(p, sizeof p, ".annotations", "org.opencontainers.image");
  ck_assert_str_eq(p, ".annotations[\"org.opencontainers.image\"]");
  sp_jpath_key(p, sizeof p, ".a", "9lives");
  ck_assert_str_eq(p, ".a[\"9lives\"]");
  char small[8];
  sp_jpath_key(small, sizeof small, ".process", "args");
  ck_assert_str_eq(small, ".proces");
  sp_jpath_index(small, sizeof small, ".abc", 12345);
  ck_assert_str_eq(small, ".abc[12");
  sp_jpath_key(small, 1, ".x", "y");
  ck_assert_str_eq(small, "");
  sp_jpath_key(small, 0, ".x", "y"); /* writes nothing */
  ck_assert_str_eq(small, "");
}
END_TEST


/* sp_json_tree (arena) builds the same tree as yajl_tree_parse. */
static void same_tree(yajl_val a, yajl_val b, const char *where) {
  ck_assert_msg(a != NULL && b != NULL, "%s: missing node", where);
  ck_assert_msg(a->type == b->type, "%s: type %d vs %d", where, a->type, b->type);
  switch (a->type) {
  case yajl_t_string:
    ck_assert_str_eq(a->u.string, b->u.string);
    break;
  case yajl_t_number:
    ck_assert_str_eq(a->u.number.r, b->u.number.r);
    if (strpbrk(a->u.number.r, ".eE") == NULL && (b->u.number.flags & YAJL_NUMBER_INT_VALID)) {
      ck_assert_msg(a->u.number.flags & YAJL_NUMBER_INT_VALID, "%s: %s", where, a->u.number.r);
      ck_assert(a->u.number.i == b->u.number.i);
    }
    ck_assert_int_eq(a->u.number.flags & YAJL_NUMBER_DOUBLE_VALID,
                     b->u.number.flags & YAJL_NUMBER_DOUBLE_VALID);
    break;
  case yajl_t_object:
    ck_assert_uint_eq(a->u.object.len, b->u.object.len);
    for (size_t i = 0; i < a->u.object.len; i++) {
      ck_assert_str_eq(a->u.object.keys[i], b->u.object.keys[i]);
      same_tree(a->u.object.values[i], b->u.object.values[i], a->u.object.keys[i]);
    }
    break;
  case yajl_t_array:
    ck_assert_uint_eq(a->u.array.len, b->u.array.len);
    for (size_t i = 0; i < a->u.array.len; i++)
      same_tree(a->u.array.values[i], b->u.array.values[i], where);
    break;
  default:
    break;
  }
}

static void check_tree(const char *doc, size_t len) {
  char *z = strndup(doc, len), eb[128];
  yajl_val want = yajl_tree_parse(z, eb, sizeof eb);
  ck_assert_msg(want != NULL, "yajl refused %.60s: %s", doc, eb);
  enum sp_json_fail why;
  yajl_val got = sp_json_tree(doc, len, &why);
  ck_assert_msg(got != NULL && why == SP_JSON_OK, "refused %.60s (%d)", doc, why);
  same_tree(got, want, "$");
  sp_json_free(got);
  yajl_tree_free(want);
  free(z);
}

START_TEST(test_json_tree) {
  static const char *docs[] = {
      "{}", "[]", "0", "\"s\"", "null", "true", "false", "-12",
      "{\"a\":1,\"a\":2,\"b\":[1,2.5,-3e2,18446744073709551615,9223372036854775807,"
      "-9223372036854775808,1e999],\"c\":{\"d\":{}},\"e\":[[],[{}]]}",
      "/* comment */ {\"k\" : \"v\\n\\u00e9\\\"\" // trailing\n}",
      "{\"\":\"\",\"x\":[null,true,false,\"\"]}",
  };
  for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++)
    check_tree(docs[i], strlen(docs[i]));

  /* the default config, and documents that outgrow the first block:
   * thousands of empty containers, one object of many keys */
  struct sp_error e = {0};
  char *spec = sp_spec_generate(false, &e);
  ck_assert_ptr_nonnull(spec);
  check_tree(spec, strlen(spec));
  free(spec);
  size_t n = 20000, len = 0;
  char *big = malloc(n * 16 + 16);
  big[len++] = '[';
  for (size_t i = 0; i < n; i++)
    len += (size_t)sprintf(big + len, "%s[{}]", i ? "," : "");
  big[len++] = ']';
  check_tree(big, len);
  len = 0;
  big[len++] = '{';
  for (size_t i = 0; i < n / 2; i++)
    len += (size_t)sprintf(big + len, "%s\"k%zu\":%zu", i ? "," : "", i, i);
  big[len++] = '}';
  check_tree(big, len);
  free(big);

  /* refusals: syntax first, then "\u0000", depth while parsing */
  enum sp_json_fail why;
  ck_assert_ptr_null(sp_json_tree("{\"a\":", 5, &why));
  ck_assert_int_eq(why, SP_JSON_SYNTAX);
  ck_assert_ptr_null(sp_json_tree("[1] [2]", 7, &why));
  ck_assert_int_eq(why, SP_JSON_SYNTAX);
  ck_assert_ptr_null(sp_json_tree("", 0, &why));
  ck_assert_int_eq(why, SP_JSON_SYNTAX);
  const char *nul = "{\"a\\u0000b\":1}";
  ck_assert_ptr_null(sp_json_tree(nul, strlen(nul), &why));
  ck_assert_int_eq(why, SP_JSON_NUL);
  nul = "[\"\\u0000\", ]";
  ck_assert_ptr_null(sp_json_tree(nul, strlen(nul), &why));
  ck_assert_int_eq(why, SP_JSON_SYNTAX);
  char deep[2 * (SP_JSON_MAX_DEPTH + 1)];
  memset(deep, '[', SP_JSON_MAX_DEPTH);
  memset(deep + SP_JSON_MAX_DEPTH, ']', SP_JSON_MAX_DEPTH);
  yajl_val v = sp_json_tree(deep, 2 * SP_JSON_MAX_DEPTH, &why);
  ck_assert_ptr_nonnull(v); /* exactly the limit */
  sp_json_free(v);
  memset(deep, '[', SP_JSON_MAX_DEPTH + 1);
  memset(deep + SP_JSON_MAX_DEPTH + 1, ']', SP_JSON_MAX_DEPTH + 1);
  ck_assert_ptr_null(sp_json_tree(deep, sizeof deep, &why));
  ck_assert_int_eq(why, SP_JSON_DEEP);
  sp_json_free(NULL);
}
END_TEST

static Suite *spec_suite(void) {
  Suite *s = suite_create("spec");
  TCase *tc = tcase_create("valid");
  tcase_add_test(tc, test_minimal);
  tcase_add_test(tc, test_minimal_process);
  tcase_add_test(tc, test_full_top);
  tcase_add_test(tc, test_full_process);
  tcase_add_test(tc, test_full_linux);
  tcase_add_test(tc, test_full_resources);
  tcase_add_test(tc, test_full_seccomp);
  tcase_add_test(tc, test_unknown_keys_and_nulls);
  suite_add_tcase(s, tc);

  tc = tcase_create("invalid");
  tcase_set_timeout(tc, 60); /* valgrind */
  tcase_add_loop_test(tc, test_bad_case, 0, (int)(sizeof bad_cases / sizeof bad_cases[0]));
  tcase_add_test(tc, test_oci_version);
  tcase_add_test(tc, test_malformed_json);
  tcase_add_test(tc, test_truncated);
  tcase_add_test(tc, test_mutations);
  tcase_add_test(tc, test_messages_are_one_line);
  suite_add_tcase(s, tc);

  tc = tcase_create("api");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_file_limits);
  tcase_add_test(tc, test_process_buf);
  tcase_add_test(tc, test_resources_buf);
  tcase_add_test(tc, test_ns_names);
  tcase_add_test(tc, test_jpath);
  tcase_add_test(tc, test_json_tree);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(spec_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failures = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failures ? 1 : 0;
}
