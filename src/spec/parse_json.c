/* sprout — JSON reading helpers for the config.json parser: loading a
 * document safely, JSON paths in messages and typed readers that check
 * ranges on the number's original text (uint64 values above INT64_MAX come
 * through exactly, floats are refused where integers are expected). */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "parse_internal.h"

/* ---- paths and messages ---------------------------------------------- */

static bool is_ident(const char *s) {
  if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
    return false;
  for (s++; *s; s++)
    if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
          (*s >= '0' && *s <= '9') || *s == '_'))
      return false;
  return true;
}

/* Paths are made for every field the parser visits (and printed only in
 * the rare error), so they are put together by hand, not by snprintf: the
 * same text, truncated the same way, at a fraction of the cost. */
struct jp {
  char *out;
  size_t size, len;
};

static void jp_put(struct jp *j, const char *s, size_t n) {
  if (j->len + 1 >= j->size)
    return;
  size_t room = j->size - 1 - j->len;
  if (n > room)
    n = room;
  memcpy(j->out + j->len, s, n);
  j->len += n;
  j->out[j->len] = '\0';
}

static void jp_start(struct jp *j, char *out, size_t size, const char *parent) {
  *j = (struct jp){out, size, 0};
  if (size == 0)
    return;
  out[0] = '\0';
  jp_put(j, parent, strlen(parent));
}

void sp_jpath_key(char *out, size_t size, const char *parent, const char *key) {
  struct jp j;
  jp_start(&j, out, size, parent);
  if (is_ident(key)) {
    jp_put(&j, ".", 1);
    jp_put(&j, key, strlen(key));
  } else {
    char show[SP_JSHOW_MAX];
    const char *k = sp_jshow(key, show);
    jp_put(&j, "[\"", 2);
    jp_put(&j, k, strlen(k));
    jp_put(&j, "\"]", 2);
  }
}

void sp_jpath_index(char *out, size_t size, const char *parent, size_t i) {
  char num[24], *e = num + sizeof num, *d = e;
  do
    *--d = (char)('0' + i % 10);
  while ((i /= 10) > 0);
  struct jp j;
  jp_start(&j, out, size, parent);
  jp_put(&j, "[", 1);
  jp_put(&j, d, (size_t)(e - d));
  jp_put(&j, "]", 1);
}

int sp_jerr(struct sp_error *err, const char *path, const char *fmt, ...) {
  char msg[SP_ERROR_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return sp_error_set(err, 0, "%s: %s", path && *path ? path : ".", msg);
}

int sp_jerr_nomem(struct sp_error *err, const char *path) {
  return sp_error_set(err, ENOMEM, "%s: out of memory", path && *path ? path : ".");
}

const char *sp_jshow_n(const char *s, char *buf, size_t size) {
  const size_t keep = size - 4; /* room for "..." and the NUL */
  size_t i;
  for (i = 0; s[i] && i < keep; i++) {
    unsigned char c = (unsigned char)s[i];
    buf[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
  }
  if (s[i]) {
    /* cut before a UTF-8 sequence, not inside it */
    while (i > 0 && ((unsigned char)s[i] & 0xc0) == 0x80)
      i--;
    memcpy(buf + i, "...", 4);
  } else {
    buf[i] = '\0';
  }
  return buf;
}

const char *sp_jshow(const char *s, char buf[SP_JSHOW_MAX]) {
  return sp_jshow_n(s, buf, SP_JSHOW_MAX);
}

const char *sp_jdescribe(yajl_val v, char buf[SP_JSHOW_MAX]) {
  if (v == NULL || YAJL_IS_NULL(v))
    return "null";
  switch (v->type) {
  case yajl_t_string: return "a string";
  case yajl_t_object: return "an object";
  case yajl_t_array: return "an array";
  case yajl_t_true:
  case yajl_t_false: return "a boolean";
  case yajl_t_number: return sp_jshow(v->u.number.r ? v->u.number.r : "?", buf);
  default: return "an unknown value";
  }
}

static int type_err(struct sp_error *err, const char *path, const char *what, yajl_val v) {
  char b[SP_JSHOW_MAX];
  return sp_jerr(err, path, "expected %s, got %s", what, sp_jdescribe(v, b));
}

/* ---- allocation ------------------------------------------------------ */

void *sp_jcalloc(size_t n, size_t size, const char *path, struct sp_error *err) {
  void *p = calloc(n ? n : 1, size ? size : 1);
  if (p == NULL)
    sp_jerr_nomem(err, path);
  return p;
}

char *sp_jstrdup(const char *s, const char *path, struct sp_error *err) {
  char *p = strdup(s);
  if (p == NULL)
    sp_jerr_nomem(err, path);
  return p;
}

void sp_jstrv_free(char **v, size_t len) {
  if (v == NULL)
    return;
  for (size_t i = 0; i < len; i++)
    free(v[i]);
  free(v);
}

void sp_jkv_free(struct sp_kv *kv, size_t len) {
  if (kv == NULL)
    return;
  for (size_t i = 0; i < len; i++) {
    free(kv[i].key);
    free(kv[i].value);
  }
  free(kv);
}

/* ---- loading --------------------------------------------------------- */

/* Re-parse a document that sp_json_tree refused to get a one-line message and
 * the position of the error. */
static int syntax_error(const char *s, size_t len, struct sp_error *err) {
  yajl_handle h = yajl_alloc(NULL, NULL, NULL);
  if (h == NULL)
    return sp_error_set(err, ENOMEM, "invalid JSON: out of memory");
  yajl_config(h, yajl_allow_comments, 1);
  bool at_eof = false;
  yajl_status st = yajl_parse(h, (const unsigned char *)s, len);
  if (st == yajl_status_ok) {
    at_eof = true;
    st = yajl_complete_parse(h);
  }
  if (st == yajl_status_ok) {
    yajl_free(h);
    return sp_error_set(err, 0, "invalid JSON");
  }
  unsigned char *e = yajl_get_error(h, 0, (const unsigned char *)s, len);
  char what[256];
  snprintf(what, sizeof what, "%s", e ? (const char *)e : "parse error");
  if (e)
    yajl_free_error(h, e);
  size_t consumed = yajl_get_bytes_consumed(h);
  yajl_free(h);

  /* one line, no trailing period */
  what[strcspn(what, "\r\n")] = '\0';
  size_t n = strlen(what);
  while (n > 0 && (what[n - 1] == '.' || what[n - 1] == ' '))
    what[--n] = '\0';
  char show[SP_JSHOW_MAX];
  if (at_eof || consumed == 0 || consumed > len)
    return sp_error_set(err, 0, "invalid JSON: %s", sp_jshow(what, show));
  size_t pos = consumed - 1, line = 1, col = 1;
  for (size_t i = 0; i < pos; i++) {
    if (s[i] == '\n') {
      line++;
      col = 1;
    } else {
      col++;
    }
  }
  return sp_error_set(err, 0, "invalid JSON: %s (line %zu, column %zu)",
                      sp_jshow(what, show), line, col);
}

static bool blank(const char *s, size_t len) {
  for (size_t i = 0; i < len; i++)
    if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
      return false;
  return true;
}

int sp_json_load(const char *buf, size_t len, yajl_val *out, struct sp_error *err) {
  *out = NULL;
  if (buf == NULL)
    len = 0;
  if (len > 0 && memchr(buf, '\0', len) != NULL)
    return sp_error_set(err, 0, "invalid JSON: contains a NUL byte");
  enum sp_json_fail why;
  yajl_val tree = sp_json_tree(buf ? buf : "", len, &why);
  switch (why) {
  case SP_JSON_OK:
    *out = tree;
    return 0;
  case SP_JSON_NUL:
    return sp_error_set(err, 0, "invalid JSON: strings must not contain NUL (\\u0000)");
  case SP_JSON_DEEP:
    return sp_error_set(err, 0, "invalid JSON: nested deeper than %d levels",
                        SP_JSON_MAX_DEPTH);
  case SP_JSON_NOMEM:
    return sp_error_set(err, ENOMEM, "out of memory reading %zu bytes of JSON", len);
  case SP_JSON_SYNTAX:
    break;
  }
  if (blank(buf, len))
    return sp_error_set(err, 0, "invalid JSON: empty document");
  return syntax_error(buf, len, err);
}

int sp_json_prefix_name(struct sp_error *err, const char *name) {
  char show[SP_JNAME_MAX];
  if (name == NULL || *name == '\0')
    return -1;
  return sp_error_prefix(err, "%s", sp_jshow_n(name, show, sizeof show));
}

/* ---- lookup ---------------------------------------------------------- */

yajl_val sp_jget(yajl_val obj, const char *key) {
  if (!YAJL_IS_OBJECT(obj))
    return NULL;
  for (size_t i = 0; i < obj->u.object.len; i++)
    if (strcmp(obj->u.object.keys[i], key) == 0)
      return YAJL_IS_NULL(obj->u.object.values[i]) ? NULL : obj->u.object.values[i];
  return NULL;
}

/* ---- integers -------------------------------------------------------- */

/* The number's original text as an integer: sign and magnitude.  Returns
 * -1 for fractions, exponents and magnitudes above UINT64_MAX. */
static int integer_text(yajl_val v, bool *neg, uint64_t *mag) {
  if (!YAJL_IS_NUMBER(v) || v->u.number.r == NULL)
    return -1;
  const char *p = v->u.number.r;
  *neg = false;
  if (*p == '-') {
    *neg = true;
    p++;
  }
  if (*p < '0' || *p > '9')
    return -1;
  uint64_t m = 0;
  for (; *p >= '0' && *p <= '9'; p++) {
    unsigned d = (unsigned)(*p - '0');
    if (m > (UINT64_MAX - d) / 10)
      return -1;
    m = m * 10 + d;
  }
  if (*p != '\0')
    return -1;
  *mag = m;
  return 0;
}

/* Read an integer whose value must be in [-neg_max, pos_max]. */
static int read_int(yajl_val v, const char *path, const char *what,
                    uint64_t neg_max, uint64_t pos_max, bool *neg, uint64_t *mag,
                    struct sp_error *err) {
  if (integer_text(v, neg, mag) < 0 || (*neg && *mag > neg_max) ||
      (!*neg && *mag > pos_max))
    return type_err(err, path, what, v);
  if (*mag == 0)
    *neg = false;
  return 0;
}

static int64_t to_i64(bool neg, uint64_t mag) {
  if (!neg)
    return (int64_t)mag;
  return mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
}

int sp_jv_u64(yajl_val v, const char *path, uint64_t *out, struct sp_error *err) {
  bool neg;
  uint64_t m;
  if (read_int(v, path, "an unsigned 64-bit integer", 0, UINT64_MAX, &neg, &m, err) < 0)
    return -1;
  *out = m;
  return 0;
}

int sp_jv_i64(yajl_val v, const char *path, int64_t *out, struct sp_error *err) {
  bool neg;
  uint64_t m;
  if (read_int(v, path, "a signed 64-bit integer", (uint64_t)INT64_MAX + 1,
               INT64_MAX, &neg, &m, err) < 0)
    return -1;
  *out = to_i64(neg, m);
  return 0;
}

int sp_jv_u32(yajl_val v, const char *path, uint32_t *out, struct sp_error *err) {
  bool neg;
  uint64_t m;
  if (read_int(v, path, "an unsigned 32-bit integer", 0, UINT32_MAX, &neg, &m, err) < 0)
    return -1;
  *out = (uint32_t)m;
  return 0;
}

int sp_jv_i32(yajl_val v, const char *path, int32_t *out, struct sp_error *err) {
  bool neg;
  uint64_t m;
  if (read_int(v, path, "a signed 32-bit integer", (uint64_t)INT32_MAX + 1,
               INT32_MAX, &neg, &m, err) < 0)
    return -1;
  *out = (int32_t)to_i64(neg, m);
  return 0;
}

int sp_jv_u16(yajl_val v, const char *path, uint16_t *out, struct sp_error *err) {
  bool neg;
  uint64_t m;
  if (read_int(v, path, "an unsigned 16-bit integer", 0, UINT16_MAX, &neg, &m, err) < 0)
    return -1;
  *out = (uint16_t)m;
  return 0;
}

int sp_jv_urange(yajl_val v, const char *path, uint64_t min, uint64_t max,
                 uint64_t *out, struct sp_error *err) {
  char what[96];
  bool neg;
  uint64_t m;
  snprintf(what, sizeof what, "an integer between %" PRIu64 " and %" PRIu64, min, max);
  if (read_int(v, path, what, 0, max, &neg, &m, err) < 0)
    return -1;
  if (m < min)
    return type_err(err, path, what, v);
  *out = m;
  return 0;
}

int sp_jv_irange(yajl_val v, const char *path, int64_t min, int64_t max,
                 int64_t *out, struct sp_error *err) {
  char what[96];
  bool neg;
  uint64_t m;
  snprintf(what, sizeof what, "an integer between %" PRId64 " and %" PRId64, min, max);
  uint64_t neg_max = min < 0 ? (uint64_t)(-(min + 1)) + 1 : 0;
  uint64_t pos_max = max < 0 ? 0 : (uint64_t)max;
  if (read_int(v, path, what, neg_max, pos_max, &neg, &m, err) < 0)
    return -1;
  int64_t x = to_i64(neg, m);
  if (x < min || x > max)
    return type_err(err, path, what, v);
  *out = x;
  return 0;
}

/* ---- other values ---------------------------------------------------- */

int sp_jv_object(yajl_val v, const char *path, struct sp_error *err) {
  return YAJL_IS_OBJECT(v) ? 0 : type_err(err, path, "an object", v);
}

int sp_jv_array(yajl_val v, const char *path, struct sp_error *err) {
  return YAJL_IS_ARRAY(v) ? 0 : type_err(err, path, "an array", v);
}

int sp_jv_string(yajl_val v, const char *path, char **out, struct sp_error *err) {
  if (!YAJL_IS_STRING(v))
    return type_err(err, path, "a string", v);
  char *s = sp_jstrdup(v->u.string, path, err);
  if (s == NULL)
    return -1;
  free(*out);
  *out = s;
  return 0;
}

int sp_jv_bool(yajl_val v, const char *path, bool *out, struct sp_error *err) {
  if (YAJL_IS_TRUE(v))
    *out = true;
  else if (YAJL_IS_FALSE(v))
    *out = false;
  else
    return type_err(err, path, "a boolean", v);
  return 0;
}

/* ---- fields ---------------------------------------------------------- */

/* Common prologue: -1 error (missing required), 0 absent, 1 present. */
static int field(yajl_val obj, const char *path, const char *key, bool required,
                 yajl_val *v, char *fpath, size_t fsize, struct sp_error *err) {
  sp_jpath_key(fpath, fsize, path, key);
  *v = sp_jget(obj, key);
  if (*v == NULL)
    return required ? sp_jerr(err, fpath, "required") : 0;
  return 1;
}

#define FIELD_READER(fn, type, reader)                                           \
  int fn(yajl_val obj, const char *path, const char *key, bool required,        \
         type *out, struct sp_error *err) {                                      \
    char p[SP_JPATH_MAX];                                                        \
    yajl_val v;                                                                  \
    int r = field(obj, path, key, required, &v, p, sizeof p, err);               \
    if (r <= 0)                                                                  \
      return r;                                                                  \
    return reader(v, p, out, err) < 0 ? -1 : 1;                                  \
  }

FIELD_READER(sp_jf_string, char *, sp_jv_string)
FIELD_READER(sp_jf_bool, bool, sp_jv_bool)
FIELD_READER(sp_jf_u64, uint64_t, sp_jv_u64)
FIELD_READER(sp_jf_i64, int64_t, sp_jv_i64)
FIELD_READER(sp_jf_u32, uint32_t, sp_jv_u32)
FIELD_READER(sp_jf_i32, int32_t, sp_jv_i32)
FIELD_READER(sp_jf_u16, uint16_t, sp_jv_u16)

int sp_jf_urange(yajl_val obj, const char *path, const char *key, bool required,
                 uint64_t min, uint64_t max, uint64_t *out, struct sp_error *err) {
  char p[SP_JPATH_MAX];
  yajl_val v;
  int r = field(obj, path, key, required, &v, p, sizeof p, err);
  if (r <= 0)
    return r;
  return sp_jv_urange(v, p, min, max, out, err) < 0 ? -1 : 1;
}

int sp_jf_irange(yajl_val obj, const char *path, const char *key, bool required,
                 int64_t min, int64_t max, int64_t *out, struct sp_error *err) {
  char p[SP_JPATH_MAX];
  yajl_val v;
  int r = field(obj, path, key, required, &v, p, sizeof p, err);
  if (r <= 0)
    return r;
  return sp_jv_irange(v, p, min, max, out, err) < 0 ? -1 : 1;
}

int sp_jf_object(yajl_val obj, const char *path, const char *key, bool required,
                 yajl_val *out, struct sp_error *err) {
  char p[SP_JPATH_MAX];
  int r = field(obj, path, key, required, out, p, sizeof p, err);
  if (r <= 0)
    return r;
  return sp_jv_object(*out, p, err) < 0 ? -1 : 1;
}

int sp_jf_array(yajl_val obj, const char *path, const char *key, bool required,
                yajl_val *out, struct sp_error *err) {
  char p[SP_JPATH_MAX];
  int r = field(obj, path, key, required, out, p, sizeof p, err);
  if (r <= 0)
    return r;
  return sp_jv_array(*out, p, err) < 0 ? -1 : 1;
}

int sp_jf_strings(yajl_val obj, const char *path, const char *key, bool required,
                  char ***out, size_t *len, struct sp_error *err) {
  char p[SP_JPATH_MAX], ep[SP_JPATH_MAX];
  yajl_val v;
  int r = field(obj, path, key, required, &v, p, sizeof p, err);
  if (r <= 0)
    return r;
  if (sp_jv_array(v, p, err) < 0)
    return -1;
  size_t n = v->u.array.len;
  char **arr = sp_jcalloc(n, sizeof *arr, p, err);
  if (arr == NULL)
    return -1;
  sp_jstrv_free(*out, *len);
  *out = arr;
  *len = n;
  for (size_t i = 0; i < n; i++) {
    yajl_val e = v->u.array.values[i];
    /* the element's path is made only for a message (a seccomp profile
     * has some 370 names) */
    if (YAJL_IS_STRING(e) && (arr[i] = strdup(e->u.string)) != NULL)
      continue;
    sp_jpath_index(ep, sizeof ep, p, i);
    if (sp_jv_string(e, ep, &arr[i], err) < 0)
      return -1;
  }
  return 1;
}

static int cmp_key_index(const void *a, const void *b, void *keys) {
  const char **k = keys;
  size_t ia = *(const size_t *)a, ib = *(const size_t *)b;
  int c = strcmp(k[ia], k[ib]);
  return c ? c : (ia > ib) - (ia < ib);
}

int sp_jcheck_unique_keys(yajl_val obj, const char *path, struct sp_error *err) {
  size_t n = obj->u.object.len;
  if (n < 2)
    return 0;
  size_t *idx = sp_jcalloc(n, sizeof *idx, path, err);
  if (idx == NULL)
    return -1;
  for (size_t i = 0; i < n; i++)
    idx[i] = i;
  qsort_r(idx, n, sizeof *idx, cmp_key_index, obj->u.object.keys);
  for (size_t i = 1; i < n; i++) {
    const char *k = obj->u.object.keys[idx[i]];
    if (strcmp(obj->u.object.keys[idx[i - 1]], k) == 0) {
      char p[SP_JPATH_MAX];
      sp_jpath_key(p, sizeof p, path, k);
      free(idx);
      return sp_jerr(err, p, "duplicate key");
    }
  }
  free(idx);
  return 0;
}

int sp_jf_map(yajl_val obj, const char *path, const char *key, bool required,
              struct sp_kv **out, size_t *len, struct sp_error *err) {
  char p[SP_JPATH_MAX], ep[SP_JPATH_MAX];
  yajl_val v;
  int r = field(obj, path, key, required, &v, p, sizeof p, err);
  if (r <= 0)
    return r;
  if (sp_jv_object(v, p, err) < 0 || sp_jcheck_unique_keys(v, p, err) < 0)
    return -1;
  size_t n = v->u.object.len;
  struct sp_kv *kv = sp_jcalloc(n, sizeof *kv, p, err);
  if (kv == NULL)
    return -1;
  sp_jkv_free(*out, *len);
  *out = kv;
  *len = n;
  for (size_t i = 0; i < n; i++) {
    const char *k = v->u.object.keys[i];
    sp_jpath_key(ep, sizeof ep, p, k);
    if (*k == '\0')
      return sp_jerr(err, ep, "keys must not be empty");
    if ((kv[i].key = sp_jstrdup(k, ep, err)) == NULL)
      return -1;
    if (sp_jv_string(v->u.object.values[i], ep, &kv[i].value, err) < 0)
      return -1;
  }
  return 1;
}

/* ---- shared validators ----------------------------------------------- */

int sp_jcheck_abs(const char *s, const char *path, struct sp_error *err) {
  char show[SP_JSHOW_MAX];
  if (s == NULL || s[0] != '/')
    return sp_jerr(err, path, "must be an absolute path, got \"%s\"", sp_jshow(s ? s : "", show));
  return 0;
}

int sp_jcheck_env(char **env, size_t len, const char *path, struct sp_error *err) {
  char p[SP_JPATH_MAX], show[SP_JSHOW_MAX];
  for (size_t i = 0; i < len; i++) {
    if (strchr(env[i], '=') == NULL) {
      sp_jpath_index(p, sizeof p, path, i);
      return sp_jerr(err, p, "expected \"KEY=value\", got \"%s\"", sp_jshow(env[i], show));
    }
  }
  return 0;
}
