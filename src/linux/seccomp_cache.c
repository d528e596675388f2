/* Compiled seccomp programs, cached by digest under the state root.
 *
 * Compiling Docker's default profile with libseccomp costs a few
 * milliseconds; the Nth container with the same profile loads the program
 * from <root>/@cache/seccomp/<sha256>.bpf instead.  The digest covers the
 * canonical text of everything that shapes the program (default action,
 * architectures, rules in order) plus the libseccomp version, its API
 * level and the native architecture, so a changed profile or library is a
 * different file.  The load-time flags and the listener are not part of it.
 * Its first line is a version, bumped whenever sprout compiles the same
 * profile into a different program, so that older files are never used
 * (2: the -ENOSYS stub of seccomp_enosys.c; 3: libseccomp's binary tree).
 *
 * File: "SPBPF" 0 1 0 | u32 instructions | u32 0 | sha256(instructions) |
 * instructions.  Written atomically (temporary file + rename); a file that
 * does not check out is ignored and replaced.
 *
 * The cache is bounded (SP_SECCOMP_CACHE_MAX_ENTRIES files and
 * SP_SECCOMP_CACHE_MAX_BYTES): a hit sets the file's mtime to now (one
 * futimens, no directory scan), and only writing a new file scans the
 * directory and removes the least recently used files beyond the bounds.
 * That is safe with concurrent sprout processes: files appear by rename
 * only, a reader reads a file whole before using it (an unlink after its
 * open changes nothing; before its open it is a miss), and two trimmers
 * removing the same file both succeed (ENOENT is "already done").  "@" cannot appear in a
 * container id, so the cache never collides with a container's state dir. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sprout/security.h"
#include "sprout/util.h"

/* ---- SHA-256 (FIPS 180-4) ------------------------------------------------ */

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha256_block(uint32_t h[8], const uint8_t *p) {
  uint32_t w[64];
  for (int i = 0; i < 16; i++)
    w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
           (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
  for (int i = 16; i < 64; i++) {
    uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
    uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
  for (int i = 0; i < 64; i++) {
    uint32_t t1 = hh + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
    uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    hh = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  h[0] += a; h[1] += b; h[2] += c; h[3] += d;
  h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
}

static void sha256_blocks_c(uint32_t h[8], const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    sha256_block(h, p + 64 * i);
}

#if defined(__x86_64__) && defined(__has_include)
#if __has_include(<sys/platform/x86.h>)
#define SHA256_NI 1
#include <immintrin.h>
#include <sys/platform/x86.h>

/* The same with the CPU's SHA extensions (Intel since Goldmont and Ice
 * Lake, AMD since Zen): ~10x, which is what hashing Docker's seccomp
 * profile and its cached program costs on every `run` (~0.1 ms in C).
 * The state lives in two registers as the instructions want it, ABEF and
 * CDGH; each SHA256RNDS2 does two rounds and swaps their roles. */
__attribute__((target("sha,sse4.1,ssse3"))) static void
sha256_blocks_ni(uint32_t h[8], const uint8_t *p, size_t n) {
  /* big-endian message words: reverse the bytes of each 32-bit lane */
  const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
  __m128i abcd = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[0]), 0xB1); /* B A D C */
  __m128i efgh = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[4]), 0x1B); /* H G F E */
  __m128i abef = _mm_alignr_epi8(abcd, efgh, 8);     /* lanes F E B A */
  __m128i cdgh = _mm_blend_epi16(efgh, abcd, 0xF0);  /* lanes H G D C */
  for (size_t b = 0; b < n; b++, p += 64) {
    __m128i abef0 = abef, cdgh0 = cdgh, m[4];
    for (int g = 0; g < 16; g++) { /* rounds 4g .. 4g+3 */
      __m128i w;
      if (g < 4) {
        w = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * g)), bswap);
      } else { /* W[t] = s1(W[t-2]) + W[t-7] + s0(W[t-15]) + W[t-16], t = 4g.. */
        w = _mm_sha256msg1_epu32(m[g & 3], m[(g + 1) & 3]);
        w = _mm_add_epi32(w, _mm_alignr_epi8(m[(g + 3) & 3], m[(g + 2) & 3], 4));
        w = _mm_sha256msg2_epu32(w, m[(g + 3) & 3]);
      }
      m[g & 3] = w;
      __m128i wk = _mm_add_epi32(w, _mm_loadu_si128((const __m128i *)&K[4 * g]));
      /* two rounds: the new ABEF, the old one is the new CDGH; twice */
      cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk);
      abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(wk, 0x0E));
    }
    abef = _mm_add_epi32(abef, abef0);
    cdgh = _mm_add_epi32(cdgh, cdgh0);
  }
  __m128i feba = _mm_shuffle_epi32(abef, 0x1B);     /* lanes A B E F */
  __m128i dchg = _mm_shuffle_epi32(cdgh, 0xB1);     /* lanes G H C D */
  _mm_storeu_si128((__m128i *)&h[0], _mm_blend_epi16(feba, dchg, 0xF0)); /* A B C D */
  _mm_storeu_si128((__m128i *)&h[4], _mm_alignr_epi8(dchg, feba, 8));    /* E F G H */
}
#endif
#endif

static bool sha256_accel = true;

void sp_sha256_set_accel(bool on) { sha256_accel = on; }

bool sp_sha256_accelerated(void) {
#ifdef SHA256_NI
  /* glibc's record of the CPU, read at start-up: no CPUID (a trap on VMs) */
  return sha256_accel && CPU_FEATURE_ACTIVE(SHA) && CPU_FEATURE_ACTIVE(SSE4_1) &&
         CPU_FEATURE_ACTIVE(SSSE3);
#else
  return false;
#endif
}

static void sha256_blocks(uint32_t h[8], const uint8_t *p, size_t n) {
#ifdef SHA256_NI
  if (sp_sha256_accelerated()) {
    sha256_blocks_ni(h, p, n);
    return;
  }
#endif
  sha256_blocks_c(h, p, n);
}

void sp_sha256(const void *data, size_t len, uint8_t out[32]) {
  uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  const uint8_t *p = data;
  size_t left = len % 64;
  sha256_blocks(h, p, len / 64);
  p += len - left;
  uint8_t tail[128] = {0};
  memcpy(tail, p, left);
  tail[left] = 0x80;
  size_t tl = left + 9 <= 64 ? 64 : 128;
  uint64_t bits = (uint64_t)len * 8;
  for (int i = 0; i < 8; i++)
    tail[tl - 1 - i] = (uint8_t)(bits >> (8 * i));
  sha256_blocks(h, tail, tl / 64);
  for (int i = 0; i < 8; i++) {
    out[4 * i] = (uint8_t)(h[i] >> 24);
    out[4 * i + 1] = (uint8_t)(h[i] >> 16);
    out[4 * i + 2] = (uint8_t)(h[i] >> 8);
    out[4 * i + 3] = (uint8_t)h[i];
  }
}

void sp_sha256_hex(const void *data, size_t len, char out[65]) {
  uint8_t d[32];
  sp_sha256(data, len, d);
  for (int i = 0; i < 32; i++)
    snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* ---- canonical profile --------------------------------------------------- */

/* " LEN:NAME" without printf: a profile has hundreds of names, and this
 * text is made on every create */
static int put_name(struct sp_buf *b, const char *name) {
  size_t len = strlen(name);
  char num[24];
  char *p = num + sizeof num;
  *--p = ':';
  size_t v = len;
  do {
    *--p = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  *--p = ' ';
  if (sp_buf_append(b, p, (size_t)(num + sizeof num - p)) < 0 ||
      sp_buf_append(b, name, len) < 0)
    return -1;
  return 0;
}

char *sp_seccomp_canonical(const struct sp_seccomp *s) {
  struct sp_buf b = {0};
  const struct scmp_version *v = seccomp_version();
  uint32_t def = 0;
  int bad = sp_seccomp_action(s->default_action, s->has_default_errno_ret,
                              s->default_errno_ret, &def);
  int r = sp_buf_printf(&b, "sprout-seccomp 3\nlibseccomp %u.%u.%u api %u native %u\n"
                        "default %d %u\n", v->major, v->minor, v->micro, seccomp_api_get(),
                        seccomp_arch_native(), bad, def);
  for (size_t i = 0; r == 0 && i < s->architectures_len; i++)
    r = sp_buf_printf(&b, "arch %s\n", s->architectures[i]);
  for (size_t i = 0; r == 0 && i < s->syscalls_len; i++) {
    const struct sp_seccomp_syscall *sc = &s->syscalls[i];
    uint32_t act = 0;
    bad = sp_seccomp_action(sc->action, sc->has_errno_ret, sc->errno_ret, &act);
    r = sp_buf_printf(&b, "rule %d %u", bad, act);
    /* length-prefixed: no name can fake a separator */
    for (size_t j = 0; r == 0 && j < sc->names_len; j++)
      r = put_name(&b, sc->names[j]);
    for (size_t j = 0; r == 0 && j < sc->args_len; j++) {
      const struct sp_seccomp_arg *a = &sc->args[j];
      r = sp_buf_printf(&b, " arg %u %d %llu %d %llu", a->index, (int)a->op,
                        (unsigned long long)a->value, a->has_value_two,
                        (unsigned long long)a->value_two);
    }
    if (r == 0)
      r = sp_buf_printf(&b, "\n");
  }
  if (r < 0 || sp_buf_append(&b, "", 1) < 0) {
    sp_buf_free(&b);
    return NULL;
  }
  return b.data;
}

/* ---- cache files ----------------------------------------------------------- */

static const uint8_t MAGIC[8] = {'S', 'P', 'B', 'P', 'F', 0, 1, 0};
#define HEADER_LEN (8 + 4 + 4 + 32)
#define MAX_FILE (HEADER_LEN + 65535 * sizeof(struct sp_bpf_insn))

static int cache_read(const char *path, struct sp_seccomp_prog *out) {
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return -1;
  struct stat st;
  uint8_t *buf = NULL;
  int r = -1;
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < (off_t)HEADER_LEN ||
      st.st_size > (off_t)MAX_FILE)
    goto out;
  size_t size = (size_t)st.st_size;
  buf = malloc(size);
  if (!buf || pread(fd, buf, size, 0) != (ssize_t)size)
    goto out;
  uint32_t n;
  memcpy(&n, buf + 8, 4);
  if (memcmp(buf, MAGIC, 8) != 0 || n == 0 ||
      size != HEADER_LEN + (size_t)n * sizeof(struct sp_bpf_insn))
    goto out;
  uint8_t d[32];
  sp_sha256(buf + HEADER_LEN, size - HEADER_LEN, d);
  if (memcmp(d, buf + 16, 32) != 0)
    goto out;
  out->insns = malloc(size - HEADER_LEN);
  if (!out->insns)
    goto out;
  memcpy(out->insns, buf + HEADER_LEN, size - HEADER_LEN);
  out->len = n;
  r = 0;
  /* recently used: the last to be evicted (best effort) */
  if (futimens(fd, NULL) < 0)
    sp_log(SP_LOG_DEBUG, "seccomp: cache file %s: touch: %s", path, strerror(errno));
out:
  if (r < 0)
    sp_log(SP_LOG_DEBUG, "seccomp: cache file %s is not usable: ignored", path);
  free(buf);
  close(fd);
  return r;
}

static void cache_write(const char *dir, const char *path, const struct sp_seccomp_prog *p) {
  struct sp_error e = {0};
  if (sp_mkdir_p(dir, 0700, &e) < 0) {
    sp_log(SP_LOG_DEBUG, "seccomp: cache not written: %s", e.msg);
    return;
  }
  size_t body = p->len * sizeof(struct sp_bpf_insn);
  uint8_t *buf = malloc(HEADER_LEN + body);
  if (!buf)
    return;
  uint32_t n = (uint32_t)p->len, zero = 0;
  memcpy(buf, MAGIC, 8);
  memcpy(buf + 8, &n, 4);
  memcpy(buf + 12, &zero, 4);
  sp_sha256(p->insns, body, buf + 16);
  memcpy(buf + HEADER_LEN, p->insns, body);
  if (sp_write_file_atomic(path, buf, HEADER_LEN + body, 0600, &e) < 0)
    sp_log(SP_LOG_DEBUG, "seccomp: cache not written: %s", e.msg);
  else
    sp_seccomp_cache_trim(dir, SP_SECCOMP_CACHE_MAX_ENTRIES, SP_SECCOMP_CACHE_MAX_BYTES,
                          strrchr(path, '/') + 1);
  free(buf);
}

/* ---- eviction ---------------------------------------------------------------- */

#define DIGEST_NAME_LEN (64 + 4) /* <sha256 hex>.bpf */
#define STALE_TMP_SEC 600        /* a temporary file this old lost its writer */

struct entry {
  char name[DIGEST_NAME_LEN + 1];
  struct timespec mtime;
  off_t size;
};

static int oldest_first(const void *a, const void *b) {
  const struct entry *x = a, *y = b;
  if (x->mtime.tv_sec != y->mtime.tv_sec)
    return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
  if (x->mtime.tv_nsec != y->mtime.tv_nsec)
    return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
  return strcmp(x->name, y->name);
}

static bool is_digest_name(const char *n) {
  if (strlen(n) != DIGEST_NAME_LEN || strcmp(n + 64, ".bpf") != 0)
    return false;
  for (int i = 0; i < 64; i++)
    if (!((n[i] >= '0' && n[i] <= '9') || (n[i] >= 'a' && n[i] <= 'f')))
      return false;
  return true;
}

/* gone already (another sprout trimmed it) counts as removed */
static bool remove_entry(int dfd, const char *name) {
  return unlinkat(dfd, name, 0) == 0 || errno == ENOENT;
}

size_t sp_seccomp_cache_trim(const char *dir, size_t max_entries, size_t max_bytes,
                             const char *keep) {
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return 0;
  DIR *d = fdopendir(dfd);
  if (!d) {
    close(dfd);
    return 0;
  }
  struct entry *v = NULL;
  size_t n = 0, cap = 0, removed = 0;
  unsigned long long bytes = 0;
  time_t now = time(NULL);
  struct dirent *e;
  while ((e = readdir(d))) {
    struct stat st;
    if (fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
      continue;
    if (strstr(e->d_name, ".bpf.tmp-")) {
      if (now - st.st_mtime > STALE_TMP_SEC && remove_entry(dfd, e->d_name))
        removed++;
      continue;
    }
    if (!is_digest_name(e->d_name))
      continue;
    if (n == cap) {
      size_t nc = cap ? 2 * cap : 64;
      struct entry *nv = realloc(v, nc * sizeof *nv);
      if (!nv)
        break;
      v = nv;
      cap = nc;
    }
    memcpy(v[n].name, e->d_name, DIGEST_NAME_LEN + 1);
    v[n].mtime = st.st_mtim;
    v[n].size = st.st_size;
    bytes += (unsigned long long)st.st_size;
    n++;
  }
  if (n > max_entries || bytes > max_bytes) {
    qsort(v, n, sizeof *v, oldest_first);
    size_t left = n;
    for (size_t i = 0; i < n && (left > max_entries || bytes > max_bytes); i++) {
      if (keep && strcmp(v[i].name, keep) == 0)
        continue;
      if (remove_entry(dfd, v[i].name)) {
        removed++;
        sp_log(SP_LOG_DEBUG, "seccomp: cache: evicted %s/%s", dir, v[i].name);
      }
      /* counted as gone either way: a file we cannot remove is not ours
       * to worry about, and the loop must end */
      left--;
      bytes -= (unsigned long long)v[i].size;
    }
  }
  free(v);
  closedir(d);
  return removed;
}

static long long usec_since(const struct timespec *t0) {
  struct timespec t1;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  return (t1.tv_sec - t0->tv_sec) * 1000000LL + (t1.tv_nsec - t0->tv_nsec) / 1000;
}

int sp_seccomp_prepare(const struct sp_seccomp *s, const char *cache_dir,
                       struct sp_seccomp_prog *out, struct sp_error *err) {
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  memset(out, 0, sizeof *out);
  char *canon = sp_seccomp_canonical(s);
  if (!canon)
    return sp_error_errno(err, ENOMEM, "seccomp: canonical profile");
  char digest[65];
  sp_sha256_hex(canon, strlen(canon), digest);
  free(canon);
  char *path = NULL;
  if (cache_dir && asprintf(&path, "%s/%s.bpf", cache_dir, digest) < 0)
    path = NULL;
  bool notify = false;
  for (size_t i = 0; i < s->syscalls_len; i++)
    notify |= s->syscalls[i].action == SP_SCMP_NOTIFY;
  if (path && cache_read(path, out) == 0) {
    out->cache_hit = true;
    out->notify = notify;
    sp_log(SP_LOG_DEBUG, "seccomp: cache hit %s (%zu instructions, %lld us)", path,
           out->len, usec_since(&t0));
  } else {
    if (sp_seccomp_compile(s, out, err) < 0) {
      free(path);
      return -1;
    }
    sp_log(SP_LOG_DEBUG, "seccomp: compiled %zu instructions in %lld us%s%s", out->len,
           usec_since(&t0), path ? ", cached as " : "", path ? path : "");
    if (path)
      cache_write(cache_dir, path, out);
  }
  free(path);
  memcpy(out->digest, digest, sizeof digest);
  if (sp_seccomp_flags(s, out->notify, &out->flags, err) < 0) {
    sp_seccomp_prog_free(out);
    return -1;
  }
  return 0;
}
