/* File, path, time, string and process helpers shared by every layer. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sprout/util.h"

int sp_write_all(int fd, const void *buf, size_t len) {
  const char *p = buf;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

int sp_mkdir_p(const char *path, mode_t mode, struct sp_error *err) {
  char *p = strdup(path);
  if (!p)
    return sp_error_sys(err, "mkdir %s", path);
  for (char *s = p + 1;; s++) {
    if (*s == '/' || *s == '\0') {
      char c = *s;
      *s = '\0';
      if (mkdir(p, mode) < 0 && errno != EEXIST) {
        sp_error_sys(err, "mkdir %s", p);
        free(p);
        return -1;
      }
      *s = c;
      if (!c)
        break;
    }
  }
  free(p);
  return 0;
}

int sp_write_file_atomic(const char *path, const void *data, size_t len,
                         mode_t mode, struct sp_error *err) {
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp-%d", path, (int)getpid());
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0)
    return sp_error_sys(err, "create %s", tmp);
  if (sp_write_all(fd, data, len) < 0) {
    sp_error_sys(err, "write %s", tmp);
    close(fd);
    unlink(tmp);
    return -1;
  }
  if (close(fd) < 0 || rename(tmp, path) < 0) {
    sp_error_sys(err, "write %s", path);
    unlink(tmp);
    return -1;
  }
  return 0;
}

int sp_write_pid_file(const char *file, pid_t pid, struct sp_error *err) {
  char *abs = sp_abspath(file);
  char buf[32];
  int n = snprintf(buf, sizeof buf, "%d", (int)pid);
  int r = abs ? sp_write_file_atomic(abs, buf, (size_t)n, 0644, err)
              : sp_error_sys(err, "pid file %s", file);
  free(abs);
  return r;
}

int sp_write_fileat(int dirfd, const char *path, const char *data,
                    struct sp_error *err) {
  int fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return sp_error_sys(err, "open %s", path);
  ssize_t n = write(fd, data, strlen(data));
  if (n < 0 || (size_t)n != strlen(data)) {
    if (n >= 0)
      errno = EIO;
    sp_error_sys(err, "write \"%s\" to %s", data, path);
    close(fd);
    return -1;
  }
  close(fd);
  return 0;
}

int sp_write_file(const char *path, const char *data, struct sp_error *err) {
  return sp_write_fileat(AT_FDCWD, path, data, err);
}

int sp_read_fileat(int dirfd, const char *path, size_t max, char **out,
                   size_t *len, struct sp_error *err) {
  int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return sp_error_sys(err, "open %s", path);
  struct sp_buf b = {0};
  char chunk[8192];
  for (;;) {
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      sp_error_sys(err, "read %s", path);
      goto fail;
    }
    if (n == 0)
      break;
    if (b.len + (size_t)n > max) {
      sp_error_errno(err, EFBIG, "read %s: larger than %zu bytes", path, max);
      goto fail;
    }
    if (sp_buf_append(&b, chunk, (size_t)n) < 0) {
      sp_error_sys(err, "read %s", path);
      goto fail;
    }
  }
  close(fd);
  if (sp_buf_append(&b, "", 1) < 0) {
    sp_buf_free(&b);
    return sp_error_sys(err, "read %s", path);
  }
  *out = b.data;
  if (len)
    *len = b.len - 1;
  return 0;
fail:
  close(fd);
  sp_buf_free(&b);
  return -1;
}

int sp_read_file(const char *path, size_t max, char **out, size_t *len,
                 struct sp_error *err) {
  return sp_read_fileat(AT_FDCWD, path, max, out, len, err);
}

static int rm_rf_at(int parent, const char *name) {
  if (unlinkat(parent, name, 0) == 0 || errno == ENOENT)
    return 0;
  if (errno != EISDIR && errno != EPERM)
    return -1;
  int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return errno == ENOENT ? 0 : -1;
  DIR *d = fdopendir(fd);
  if (!d) {
    close(fd);
    return -1;
  }
  struct dirent *e;
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
      continue;
    rm_rf_at(dirfd(d), e->d_name);
  }
  closedir(d);
  if (unlinkat(parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
    return -1;
  return 0;
}

int sp_rm_rf(const char *path) { return rm_rf_at(AT_FDCWD, path); }

char *sp_path_join(const char *a, const char *b) {
  size_t la = strlen(a);
  while (la > 1 && a[la - 1] == '/')
    la--;
  while (*b == '/')
    b++;
  char *out;
  if (asprintf(&out, "%.*s%s%s", (int)la, a,
               (la == 1 && a[0] == '/') ? "" : "/", b) < 0)
    return NULL;
  return out;
}

int sp_path_clean(const char *in, char *out, size_t size) {
  /* writes never run ahead of reads when IN is absolute, so OUT may be IN */
  size_t o = 0;
  const char *s = in;
  if (size < 2)
    return -1;
  while (*s) {
    while (*s == '/')
      s++;
    if (!*s)
      break;
    const char *e = s;
    while (*e && *e != '/')
      e++;
    size_t l = (size_t)(e - s);
    if (l == 1 && s[0] == '.') {
      /* nothing */
    } else if (l == 2 && s[0] == '.' && s[1] == '.') {
      while (o > 0 && out[o - 1] != '/')
        o--;
      if (o > 0)
        o--;
    } else {
      if (o + l + 2 > size) {
        out[0] = '\0';
        return -1;
      }
      out[o++] = '/';
      memmove(out + o, s, l);
      o += l;
    }
    s = e;
  }
  if (o == 0)
    out[o++] = '/';
  out[o] = '\0';
  return 0;
}

char *sp_abspath(const char *path) {
  char *joined;
  if (path[0] == '/') {
    joined = strdup(path);
  } else {
    char *cwd = getcwd(NULL, 0);
    if (!cwd)
      return NULL;
    joined = sp_path_join(cwd, path);
    free(cwd);
  }
  if (joined)
    sp_path_clean(joined, joined, strlen(joined) + 1);
  return joined;
}

void sp_time_rfc3339(char *buf, size_t size, const struct timespec *ts) {
  struct tm tm;
  gmtime_r(&ts->tv_sec, &tm);
  char base[32];
  strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf, size, "%s.%09ldZ", base, ts->tv_nsec);
}

uint64_t sp_proc_start_time(pid_t pid) {
  char path[64], *data = NULL;
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  if (sp_read_file(path, 4096, &data, NULL, NULL) < 0)
    return 0;
  /* the command name may hold spaces and ')': skip past the last ')' */
  char *p = strrchr(data, ')');
  uint64_t start = 0;
  if (p) {
    /* fields after ')' start at field 3 (state); starttime is field 22 */
    int field = 2;
    for (char *s = p + 1; *s; s++) {
      if (*s == ' ') {
        field++;
        if (field == 22) {
          start = strtoull(s + 1, NULL, 10);
          break;
        }
      }
    }
  }
  free(data);
  return start;
}

void sp_strv_free(char **v, size_t n) {
  if (!v)
    return;
  for (size_t i = 0; i < n; i++)
    free(v[i]);
  free(v);
}

int sp_buf_append(struct sp_buf *b, const void *data, size_t len) {
  if (b->len + len + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + len + 1)
      cap *= 2;
    char *n = realloc(b->data, cap);
    if (!n)
      return -1;
    b->data = n;
    b->cap = cap;
  }
  memcpy(b->data + b->len, data, len);
  b->len += len;
  b->data[b->len] = '\0';
  return 0;
}

int sp_buf_printf(struct sp_buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *s = NULL;
  int n = vasprintf(&s, fmt, ap);
  va_end(ap);
  if (n < 0)
    return -1;
  int r = sp_buf_append(b, s, (size_t)n);
  free(s);
  return r;
}

void sp_buf_free(struct sp_buf *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

int sp_send_fd(int sock, const void *data, size_t len, int fd) {
  struct iovec iov = {.iov_base = (void *)data, .iov_len = len};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } u;
  memset(&u, 0, sizeof u);
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1,
                      .msg_control = u.buf, .msg_controllen = sizeof u.buf};
  struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof(int));
  ssize_t r;
  do
    r = sendmsg(sock, &mh, MSG_NOSIGNAL);
  while (r < 0 && errno == EINTR);
  return r < 0 ? -1 : 0;
}
