/* process.scheduler (sched_setattr), process.ioPriority (ioprio_set) and
 * process.execCPUAffinity (sched_setaffinity).
 *
 * Scheduler and I/O priority are set during process setup, while the
 * runtime still holds CAP_SYS_NICE (real-time policies and raising
 * priorities need it; the workload usually does not get it).  The CPU
 * affinity has two moments: `initial` for the runtime's own process before
 * it joins the container's cgroup, `final` right before execve; with only
 * `initial`, the final affinity is every CPU the cgroup allows. */
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sprout/security.h"
#include "sprout/util.h"

struct sp_sched_attr { /* struct sched_attr, SCHED_ATTR_SIZE_VER1 */
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;
  uint64_t sched_deadline;
  uint64_t sched_period;
  uint32_t sched_util_min;
  uint32_t sched_util_max;
};

#define IOPRIO_WHO_PROCESS 1
#define IOPRIO_CLASS_SHIFT 13

static int apply_scheduler(const struct sp_scheduler *s, struct sp_error *err) {
  struct sp_sched_attr a = {
      .size = sizeof a,
      .sched_policy = (uint32_t)s->policy_value,
      .sched_flags = s->flags_value,
      .sched_nice = s->has_nice ? s->nice : 0,
      .sched_priority = s->has_priority ? (uint32_t)s->priority : 0,
      .sched_runtime = s->runtime,
      .sched_deadline = s->deadline,
      .sched_period = s->period,
  };
  if (syscall(SYS_sched_setattr, 0, &a, 0) < 0)
    return sp_error_sys(err, "process.scheduler: sched_setattr (policy %s, priority %d, "
                        "nice %d)", s->policy, (int)a.sched_priority, (int)a.sched_nice);
  return 0;
}

static int apply_io_priority(const struct sp_io_priority *io, struct sp_error *err) {
  int value = io->class_value << IOPRIO_CLASS_SHIFT | io->priority;
  if (syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, value) < 0)
    return sp_error_sys(err, "process.ioPriority: ioprio_set (class %s, priority %d)",
                        io->class_name, (int)io->priority);
  return 0;
}

int sp_sched_apply(const struct sp_process *proc, struct sp_error *err) {
  if (proc->has_scheduler && apply_scheduler(&proc->scheduler, err) < 0)
    return -1;
  if (proc->has_io_priority && apply_io_priority(&proc->io_priority, err) < 0)
    return -1;
  return 0;
}

#define MAX_CPUS 65536

/* "0-3,7" (already validated by the spec layer) into SET. */
static int parse_cpus(const char *s, cpu_set_t *set, size_t size) {
  CPU_ZERO_S(size, set);
  while (*s) {
    while (*s == ' ' || *s == ',')
      s++;
    if (!*s)
      break;
    char *end;
    unsigned long a = strtoul(s, &end, 10), b = a;
    if (end == s)
      return -1;
    s = end;
    while (*s == ' ')
      s++;
    if (*s == '-') {
      b = strtoul(s + 1, &end, 10);
      s = end;
    }
    if (a > b || b >= MAX_CPUS)
      return -1;
    for (unsigned long c = a; c <= b; c++)
      CPU_SET_S(c, size, set);
  }
  return 0;
}

int sp_affinity_apply(const char *cpus, struct sp_error *err) {
  cpu_set_t *set = CPU_ALLOC(MAX_CPUS);
  if (!set)
    return sp_error_errno(err, ENOMEM, "CPU affinity");
  size_t size = CPU_ALLOC_SIZE(MAX_CPUS);
  int r = 0;
  if (cpus) {
    if (parse_cpus(cpus, set, size) < 0)
      r = sp_error_set(err, 0, "invalid CPU list \"%s\"", cpus);
  } else {
    memset(set, 0xff, size); /* the kernel keeps what the cpuset allows */
  }
  if (r == 0 && sched_setaffinity(0, size, set) < 0)
    r = sp_error_sys(err, "set the CPU affinity to %s", cpus ? cpus : "every CPU");
  CPU_FREE(set);
  return r;
}
