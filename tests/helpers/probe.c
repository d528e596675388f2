/* sprout-probe: reports facts about the process it runs as, from inside a
 * container, one `key=value` per line.  Linked statically (libc only) so it
 * runs in any root filesystem.
 *
 *   sprout-probe [all]     the scalar facts (default)
 *   sprout-probe mounts    /proc/self/mountinfo, verbatim
 *   sprout-probe env       the environment, one VAR=value per line
 *   sprout-probe fds       open fds: fd=N target
 *   sprout-probe KEY...    only the named scalar facts, e.g. `sprout-probe uid cap_eff`
 *
 * Exit status: 0, or 2 on a usage error / unknown key.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/utsname.h>

extern char **environ;

static void put(const char *key, const char *value)
{
    printf("%s=%s\n", key, value);
}

static void putl(const char *key, long long value)
{
    printf("%s=%lld\n", key, value);
}

/* Value of a "Key:\tvalue" line of /proc/self/status, or "" when absent. */
static void status_field(const char *field, char *out, size_t outlen)
{
    char line[512];
    size_t flen = strlen(field);
    FILE *f = fopen("/proc/self/status", "re");

    out[0] = '\0';
    if (!f)
        return;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, field, flen) == 0 && line[flen] == ':') {
            char *v = line + flen + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            v[strcspn(v, "\n")] = '\0';
            snprintf(out, outlen, "%s", v);
            break;
        }
    }
    fclose(f);
}

static void fact_ids(const char *key)
{
    if (!strcmp(key, "uid"))
        putl(key, getuid());
    else if (!strcmp(key, "gid"))
        putl(key, getgid());
    else if (!strcmp(key, "euid"))
        putl(key, geteuid());
    else if (!strcmp(key, "egid"))
        putl(key, getegid());
}

static void fact_groups(void)
{
    gid_t groups[NGROUPS_MAX];
    int n = getgroups(NGROUPS_MAX, groups);
    printf("groups=");
    for (int i = 0; i < n; i++)
        printf("%s%u", i ? "," : "", (unsigned)groups[i]);
    printf("\n");
}

static void fact_umask(void)
{
    mode_t m = umask(0);
    umask(m);
    printf("umask=%04o\n", (unsigned)m);
}

static void fact_cwd(void)
{
    char buf[PATH_MAX];
    if (getcwd(buf, sizeof buf))
        put("cwd", buf);
    else
        printf("cwd=!%s\n", strerror(errno));
}

static void fact_uts(const char *key)
{
    struct utsname u;
    if (uname(&u) < 0) {
        printf("%s=!%s\n", key, strerror(errno));
        return;
    }
    if (!strcmp(key, "hostname"))
        put(key, u.nodename);
    else
        put(key, u.domainname);
}

static void fact_status(const char *key, const char *field)
{
    char v[256];
    status_field(field, v, sizeof v);
    put(key, v);
}

static const struct {
    const char *name;
    int resource;
} rlimits[] = {
    {"as", RLIMIT_AS},           {"core", RLIMIT_CORE},
    {"cpu", RLIMIT_CPU},         {"data", RLIMIT_DATA},
    {"fsize", RLIMIT_FSIZE},     {"locks", RLIMIT_LOCKS},
    {"memlock", RLIMIT_MEMLOCK}, {"msgqueue", RLIMIT_MSGQUEUE},
    {"nice", RLIMIT_NICE},       {"nofile", RLIMIT_NOFILE},
    {"nproc", RLIMIT_NPROC},     {"rss", RLIMIT_RSS},
    {"rtprio", RLIMIT_RTPRIO},   {"rttime", RLIMIT_RTTIME},
    {"sigpending", RLIMIT_SIGPENDING}, {"stack", RLIMIT_STACK},
};

static void print_rlim(const char *key, rlim_t v)
{
    if (v == RLIM_INFINITY)
        printf("%s=unlimited\n", key);
    else
        printf("%s=%llu\n", key, (unsigned long long)v);
}

/* rlimit_nofile_soft=1024 / rlimit_nofile_hard=4096 */
static int fact_rlimit(const char *name)
{
    char key[64];
    for (size_t i = 0; i < sizeof rlimits / sizeof rlimits[0]; i++) {
        struct rlimit rl;
        if (name && strcmp(name, rlimits[i].name))
            continue;
        if (getrlimit(rlimits[i].resource, &rl) < 0)
            continue;
        snprintf(key, sizeof key, "rlimit_%s_soft", rlimits[i].name);
        print_rlim(key, rl.rlim_cur);
        snprintf(key, sizeof key, "rlimit_%s_hard", rlimits[i].name);
        print_rlim(key, rl.rlim_max);
        if (name)
            return 0;
    }
    return name ? -1 : 0;
}

static void fact_oom(void)
{
    char buf[64] = "";
    FILE *f = fopen("/proc/self/oom_score_adj", "re");
    if (f) {
        if (fgets(buf, sizeof buf, f))
            buf[strcspn(buf, "\n")] = '\0';
        fclose(f);
        put("oom_score_adj", buf);
    } else {
        printf("oom_score_adj=!%s\n", strerror(errno));
    }
}

static const char *const namespaces[] = {"pid", "net", "ipc", "uts", "mnt",
                                         "user", "cgroup", "time"};

static void fact_ns(const char *ns)
{
    char path[64], key[32];
    struct stat st;
    snprintf(path, sizeof path, "/proc/self/ns/%s", ns);
    snprintf(key, sizeof key, "ns_%s", ns);
    if (stat(path, &st) < 0)
        printf("%s=!%s\n", key, strerror(errno));
    else
        printf("%s=%llu\n", key, (unsigned long long)st.st_ino);
}

static void fact_personality(void)
{
    int p = personality(0xffffffff);
    printf("personality=0x%x\n", (unsigned)p);
}

/* One scalar fact by name; -1 when the name is unknown. */
static int fact(const char *key)
{
    if (!strcmp(key, "uid") || !strcmp(key, "gid") || !strcmp(key, "euid") ||
        !strcmp(key, "egid"))
        fact_ids(key);
    else if (!strcmp(key, "groups"))
        fact_groups();
    else if (!strcmp(key, "umask"))
        fact_umask();
    else if (!strcmp(key, "cwd"))
        fact_cwd();
    else if (!strcmp(key, "hostname") || !strcmp(key, "domainname"))
        fact_uts(key);
    else if (!strcmp(key, "pid"))
        putl(key, getpid());
    else if (!strcmp(key, "ppid"))
        putl(key, getppid());
    else if (!strcmp(key, "no_new_privs"))
        putl(key, prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
    else if (!strcmp(key, "seccomp"))
        fact_status(key, "Seccomp");
    else if (!strcmp(key, "cap_inh"))
        fact_status(key, "CapInh");
    else if (!strcmp(key, "cap_prm"))
        fact_status(key, "CapPrm");
    else if (!strcmp(key, "cap_eff"))
        fact_status(key, "CapEff");
    else if (!strcmp(key, "cap_bnd"))
        fact_status(key, "CapBnd");
    else if (!strcmp(key, "cap_amb"))
        fact_status(key, "CapAmb");
    else if (!strcmp(key, "rlimits"))
        fact_rlimit(NULL);
    else if (!strncmp(key, "rlimit_", 7))
        return fact_rlimit(key + 7);
    else if (!strcmp(key, "oom_score_adj"))
        fact_oom();
    else if (!strncmp(key, "ns_", 3)) {
        for (size_t i = 0; i < sizeof namespaces / sizeof namespaces[0]; i++)
            if (!strcmp(key + 3, namespaces[i])) {
                fact_ns(namespaces[i]);
                return 0;
            }
        return -1;
    } else if (!strcmp(key, "personality"))
        fact_personality();
    else
        return -1;
    return 0;
}

static void all_facts(void)
{
    static const char *const keys[] = {
        "uid", "gid", "euid", "egid", "groups", "umask", "cwd", "hostname",
        "domainname", "pid", "ppid", "no_new_privs", "seccomp", "cap_inh",
        "cap_prm", "cap_eff", "cap_bnd", "cap_amb", "rlimits",
        "oom_score_adj", "personality"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        fact(keys[i]);
    for (size_t i = 0; i < sizeof namespaces / sizeof namespaces[0]; i++)
        fact_ns(namespaces[i]);
}

static int cat(const char *path)
{
    char buf[8192];
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "sprout-probe: %s: %s\n", path, strerror(errno));
        return 1;
    }
    fflush(stdout);
    while ((n = read(fd, buf, sizeof buf)) > 0)
        if (write(STDOUT_FILENO, buf, (size_t)n) != n)
            break;
    close(fd);
    return n < 0;
}

static int list_fds(void)
{
    /* Collect the numbers first: the directory's own fd shows up too, and
     * is left out of the report. */
    int fds[4096], n = 0;
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    if (!d) {
        fprintf(stderr, "sprout-probe: /proc/self/fd: %s\n", strerror(errno));
        return 1;
    }
    while ((e = readdir(d)) && n < 4096) {
        if (e->d_name[0] == '.')
            continue;
        int fd = atoi(e->d_name);
        if (fd != dirfd(d))
            fds[n++] = fd;
    }
    closedir(d);
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (fds[j] < fds[i]) {
                int t = fds[i];
                fds[i] = fds[j];
                fds[j] = t;
            }
    for (int i = 0; i < n; i++) {
        char path[64], target[PATH_MAX];
        ssize_t len;
        snprintf(path, sizeof path, "/proc/self/fd/%d", fds[i]);
        len = readlink(path, target, sizeof target - 1);
        if (len < 0)
            continue; /* closed in the meantime */
        target[len] = '\0';
        printf("fd=%d %s\n", fds[i], target);
    }
    return 0;
}

int main(int argc, char **argv)
{
    int rc = 0;

    if (argc < 2 || !strcmp(argv[1], "all")) {
        all_facts();
    } else if (!strcmp(argv[1], "mounts")) {
        rc = cat("/proc/self/mountinfo");
    } else if (!strcmp(argv[1], "env")) {
        for (char **e = environ; e && *e; e++)
            printf("%s\n", *e);
    } else if (!strcmp(argv[1], "fds")) {
        rc = list_fds();
    } else if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        printf("usage: sprout-probe [all|mounts|env|fds|KEY...]\n");
    } else {
        for (int i = 1; i < argc; i++)
            if (fact(argv[i]) < 0) {
                fprintf(stderr, "sprout-probe: unknown fact \"%s\"\n", argv[i]);
                rc = 2;
            }
    }
    if (fflush(stdout) != 0)
        rc = 1;
    return rc;
}
