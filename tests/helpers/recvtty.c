/* sprout-recvtty: the other end of --console-socket and NOTIFY_SOCKET, for
 * the tests (runs on the host).
 *
 *   sprout-recvtty [--timeout S] [STEP...] SOCKET
 *       Listen on the unix stream socket SOCKET, accept one connection and
 *       receive the pty master.  Report, one `key=value` a line:
 *         fds=N        fds that came (in all messages)
 *         messages=N   messages on the connection until EOF (1 s at most)
 *         name=TEXT    the payload of the first message
 *         pty=N        the pty number (TIOCGPTN on the master), or !error
 *         winsize=RxC  the size of the terminal
 *       then "--" and what the terminal prints, raw, while running the
 *       steps in order:
 *         --write TEXT   write TEXT to the master (\n \r \t \\ \xHH escapes)
 *         --expect STR   wait until STR has been printed (count from start)
 *         --winsize RxC  set the terminal's size (TIOCSWINSZ)
 *       and after them, until every slave is closed (EIO) or the timeout.
 *       Exit status 0, 1 when a step failed or timed out, 2 on usage.
 *
 *   sprout-recvtty --notify [--timeout S] SOCKET
 *       Bind the datagram socket SOCKET and print each message received,
 *       until one has a READY=1 line or the timeout.
 *
 * SOCKET is created (an existing file is replaced); the ready file
 * SOCKET.ready is made once it listens, for the test to wait on. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_STEPS 64

struct step {
    char kind; /* 'w' write, 'e' expect, 's' winsize */
    const char *arg;
};

static int timeout_s = 10;
static struct timespec t0;

static int usage(void)
{
    fprintf(stderr, "usage: sprout-recvtty [--timeout S] [--write T|--expect S|--winsize RxC]... SOCKET\n"
                    "       sprout-recvtty --notify [--timeout S] SOCKET\n");
    return 2;
}

static int remaining_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long ms = (now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000;
    long left = (long)timeout_s * 1000 - ms;
    return left > 0 ? (int)left : 0;
}

static size_t unescape(const char *in, char *out, size_t size)
{
    size_t n = 0;
    for (; *in && n < size; in++) {
        if (*in != '\\' || !in[1]) {
            out[n++] = *in;
            continue;
        }
        in++;
        switch (*in) {
        case 'n': out[n++] = '\n'; break;
        case 'r': out[n++] = '\r'; break;
        case 't': out[n++] = '\t'; break;
        case 'x': {
            unsigned v = 0;
            int k = 0;
            while (k < 2 && in[1] && strchr("0123456789abcdefABCDEF", in[1])) {
                char c = *++in;
                v = v * 16 + (unsigned)(c <= '9' ? c - '0' : (c | 32) - 'a' + 10);
                k++;
            }
            out[n++] = (char)v;
            break;
        }
        default: out[n++] = *in;
        }
    }
    return n;
}

static int listen_on(const char *path, int type)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path) {
        fprintf(stderr, "sprout-recvtty: %s: path too long\n", path);
        return -1;
    }
    strcpy(sa.sun_path, path);
    unlink(path);
    int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
        (type == SOCK_STREAM && listen(fd, 4) < 0)) {
        perror("sprout-recvtty: listen");
        return -1;
    }
    char ready[200];
    snprintf(ready, sizeof ready, "%s.ready", path);
    int r = open(ready, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (r >= 0)
        close(r);
    return fd;
}

static int wait_readable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int r;
    do
        r = poll(&p, 1, remaining_ms());
    while (r < 0 && errno == EINTR);
    return r;
}

static int notify_mode(const char *path)
{
    int fd = listen_on(path, SOCK_DGRAM);
    if (fd < 0)
        return 1;
    for (;;) {
        if (wait_readable(fd) <= 0) {
            printf("timeout\n");
            return 1;
        }
        char buf[4097];
        ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
        if (n < 0)
            return 1;
        buf[n] = '\0';
        printf("%s%s", buf, n && buf[n - 1] == '\n' ? "" : "\n");
        fflush(stdout);
        if (strstr(buf, "READY=1\n") == buf || strstr(buf, "\nREADY=1"))
            return 0;
    }
}

/* Read what is there from the master; false at EIO (no slave left). */
static int pump(int master, char *seen, size_t *seen_len, size_t cap)
{
    char buf[4096];
    ssize_t n = read(master, buf, sizeof buf);
    if (n <= 0)
        return 0;
    fwrite(buf, 1, (size_t)n, stdout);
    fflush(stdout);
    size_t take = (size_t)n < cap - 1 - *seen_len ? (size_t)n : cap - 1 - *seen_len;
    memcpy(seen + *seen_len, buf, take);
    *seen_len += take;
    seen[*seen_len] = '\0';
    return 1;
}

int main(int argc, char **argv)
{
    struct step steps[MAX_STEPS];
    int nsteps = 0, notify = 0;
    const char *path = NULL;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--notify"))
            notify = 1;
        else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
            timeout_s = atoi(argv[++i]);
        else if ((!strcmp(argv[i], "--write") || !strcmp(argv[i], "--expect") ||
                  !strcmp(argv[i], "--winsize")) && i + 1 < argc && nsteps < MAX_STEPS) {
            steps[nsteps].kind = argv[i][2] == 'w' && argv[i][3] == 'r' ? 'w'
                               : argv[i][2] == 'e' ? 'e' : 's';
            steps[nsteps++].arg = argv[++i];
        } else if (argv[i][0] == '-' || path)
            return usage();
        else
            path = argv[i];
    }
    if (!path)
        return usage();
    if (notify)
        return notify_mode(path);

    int lfd = listen_on(path, SOCK_STREAM);
    if (lfd < 0 || wait_readable(lfd) <= 0) {
        printf("timeout waiting for a connection\n");
        return 1;
    }
    int conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (conn < 0) {
        perror("sprout-recvtty: accept");
        return 1;
    }
    int master = -1, fds = 0, messages = 0;
    char name[256] = "";
    for (;;) {
        char data[256];
        union {
            char buf[CMSG_SPACE(sizeof(int) * 8)];
            struct cmsghdr align;
        } u;
        struct iovec iov = {.iov_base = data, .iov_len = sizeof data - 1};
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                            .msg_controllen = sizeof u.buf};
        struct pollfd p = {.fd = conn, .events = POLLIN};
        /* the sender closes its end once it has sent: EOF within a second */
        if (poll(&p, 1, messages ? 1000 : remaining_ms()) <= 0)
            break;
        ssize_t n = recvmsg(conn, &mh, MSG_CMSG_CLOEXEC);
        if (n <= 0)
            break;
        if (!messages) {
            data[n] = '\0';
            snprintf(name, sizeof name, "%s", data);
        }
        messages++;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                continue;
            int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
            for (int j = 0; j < k; j++) {
                int fd;
                memcpy(&fd, CMSG_DATA(c) + (size_t)j * sizeof(int), sizeof fd);
                fds++;
                if (master < 0)
                    master = fd;
                else
                    close(fd);
            }
        }
    }
    printf("fds=%d\nmessages=%d\nname=%s\n", fds, messages, name);
    if (master < 0) {
        printf("--\n");
        return 1;
    }
    int ptn;
    if (ioctl(master, TIOCGPTN, &ptn) == 0)
        printf("pty=%d\n", ptn);
    else
        printf("pty=!%s\n", strerror(errno));
    struct winsize ws;
    if (ioctl(master, TIOCGWINSZ, &ws) == 0)
        printf("winsize=%ux%u\n", ws.ws_row, ws.ws_col);
    printf("--\n");
    fflush(stdout);

    static char seen[1 << 20];
    size_t seen_len = 0;
    int open_ = 1;
    for (int s = 0; s < nsteps; s++) {
        if (steps[s].kind == 'w') {
            char buf[4096];
            size_t n = unescape(steps[s].arg, buf, sizeof buf);
            if (write(master, buf, n) != (ssize_t)n)
                return 1;
        } else if (steps[s].kind == 's') {
            unsigned r = 0, c = 0;
            if (sscanf(steps[s].arg, "%ux%u", &r, &c) != 2)
                return usage();
            struct winsize w = {.ws_row = (unsigned short)r, .ws_col = (unsigned short)c};
            ioctl(master, TIOCSWINSZ, &w);
        } else {
            while (!strstr(seen, steps[s].arg)) {
                if (!open_ || wait_readable(master) <= 0) {
                    fprintf(stderr, "sprout-recvtty: \"%s\" never came\n", steps[s].arg);
                    return 1;
                }
                open_ = pump(master, seen, &seen_len, sizeof seen);
            }
        }
    }
    while (open_ && wait_readable(master) > 0)
        open_ = pump(master, seen, &seen_len, sizeof seen);
    return open_ ? 1 : 0; /* still open: the timeout */
}
