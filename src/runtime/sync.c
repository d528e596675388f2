/* The parent <-> init protocol: one SEQPACKET message per step. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sprout/sync.h"

struct msg {
  uint32_t type;
  char text[SP_ERROR_MAX];
};

int sp_sync_send(int fd, enum sp_sync_type type, const char *text) {
  struct msg m = {.type = type};
  size_t n = 0;
  if (text) {
    n = strnlen(text, sizeof m.text - 1);
    memcpy(m.text, text, n);
  }
  m.text[n] = '\0';
  ssize_t r;
  do
    r = send(fd, &m, sizeof m.type + n + 1, MSG_NOSIGNAL);
  while (r < 0 && errno == EINTR);
  return r < 0 ? -1 : 0;
}

int sp_sync_recv(int fd, enum sp_sync_type *type, char **text,
                 struct sp_error *err) {
  struct msg m;
  ssize_t r;
  if (text)
    *text = NULL;
  do
    r = recv(fd, &m, sizeof m, 0);
  while (r < 0 && errno == EINTR);
  if (r < 0)
    return sp_error_sys(err, "read from container init");
  if (r < (ssize_t)sizeof m.type)
    return sp_error_set(err, EPIPE, "container init exited during setup");
  m.text[sizeof m.text - 1] = '\0';
  if ((size_t)r < sizeof m)
    ((char *)&m)[r < (ssize_t)sizeof m ? r : (ssize_t)sizeof m - 1] = '\0';
  *type = m.type;
  if (text && r > (ssize_t)sizeof m.type)
    *text = strdup(m.text);
  return 0;
}
