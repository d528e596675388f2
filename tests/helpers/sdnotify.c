/* sprout-sdnotify: sd_notify(3) from inside a container, for the tests.
 *
 *   sprout-sdnotify [--pid] ASSIGNMENT...    e.g. sprout-sdnotify READY=1
 *
 * Sends the assignments as one datagram (lines joined by '\n') to the unix
 * socket named by $NOTIFY_SOCKET ('@' starts an abstract name); with --pid
 * a MAINPID=<own pid> line is added first.  Exit status: 0 sent, 1 failed,
 * 2 usage / no NOTIFY_SOCKET.  Linked statically to run in any root. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    const char *path = getenv("NOTIFY_SOCKET");
    char msg[4096];
    size_t len = 0;
    int i = 1;

    if (!path || !*path) {
        fprintf(stderr, "sprout-sdnotify: NOTIFY_SOCKET is not set\n");
        return 2;
    }
    if (argc > 1 && !strcmp(argv[1], "--pid")) {
        len += (size_t)snprintf(msg, sizeof msg, "MAINPID=%d\n", (int)getpid());
        i++;
    }
    if (i >= argc) {
        fprintf(stderr, "usage: sprout-sdnotify [--pid] ASSIGNMENT...\n");
        return 2;
    }
    for (; i < argc && len < sizeof msg; i++)
        len += (size_t)snprintf(msg + len, sizeof msg - len, "%s\n", argv[i]);
    if (len > sizeof msg)
        len = sizeof msg;

    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t pl = strlen(path);
    if (pl >= sizeof sa.sun_path) {
        fprintf(stderr, "sprout-sdnotify: NOTIFY_SOCKET too long\n");
        return 2;
    }
    memcpy(sa.sun_path, path, pl);
    socklen_t sl = sizeof sa;
    if (path[0] == '@') {
        sa.sun_path[0] = '\0';
        sl = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + pl);
    }
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || sendto(fd, msg, len, 0, (struct sockaddr *)&sa, sl) < 0) {
        perror("sprout-sdnotify: send");
        return 1;
    }
    close(fd);
    return 0;
}
