/* Thin helpers over yajl_gen for the JSON that sprout prints and stores. */
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

#include "sprout/util.h"

sp_json sp_json_new(bool pretty) {
  yajl_gen g = yajl_gen_alloc(NULL);
  if (!g)
    abort();
  if (pretty) {
    yajl_gen_config(g, yajl_gen_beautify, 1);
    yajl_gen_config(g, yajl_gen_indent_string, "  ");
  }
  return g;
}

void sp_json_str(sp_json g, const char *s) {
  if (s)
    yajl_gen_string(g, (const unsigned char *)s, strlen(s));
  else
    yajl_gen_null(g);
}
void sp_json_key(sp_json g, const char *k) { sp_json_str(g, k); }
void sp_json_kstr(sp_json g, const char *k, const char *v) {
  sp_json_key(g, k);
  sp_json_str(g, v);
}
void sp_json_kint(sp_json g, const char *k, long long v) {
  sp_json_key(g, k);
  yajl_gen_integer(g, v);
}
void sp_json_kbool(sp_json g, const char *k, bool v) {
  sp_json_key(g, k);
  yajl_gen_bool(g, v);
}
void sp_json_int(sp_json g, long long v) { yajl_gen_integer(g, v); }
void sp_json_map_open(sp_json g) { yajl_gen_map_open(g); }
void sp_json_map_close(sp_json g) { yajl_gen_map_close(g); }
void sp_json_array_open(sp_json g) { yajl_gen_array_open(g); }
void sp_json_array_close(sp_json g) { yajl_gen_array_close(g); }

char *sp_json_finish(sp_json g, size_t *len) {
  const unsigned char *buf;
  size_t n;
  char *out = NULL;
  if (yajl_gen_get_buf(g, &buf, &n) == yajl_gen_status_ok) {
    /* yajl's beautifier ends a document with a newline: every document
     * ends without one, the printer adds its own */
    if (n > 0 && buf[n - 1] == '\n')
      n--;
    out = malloc(n + 1);
    if (out) {
      memcpy(out, buf, n);
      out[n] = '\0';
    }
  }
  if (len)
    *len = out ? n : 0;
  yajl_gen_free(g);
  return out;
}
