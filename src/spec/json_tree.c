/* sprout — a JSON document as a yajl_val tree, built from yajl's event
 * parser into one arena.
 *
 * yajl_tree_parse gives every node, key and string its own malloc and
 * grows every array and object by one realloc per member: for the 16 KB
 * config that carries a seccomp profile that was 60% of the parse (about
 * 0.8 M instructions of malloc and free).  Here the open containers'
 * members wait on one stack; a container that closes gets arrays of
 * exactly its size, and everything lives in a few large blocks that one
 * sp_json_free releases.  The nodes have yajl's public layout, so the
 * readers (YAJL_IS_*, u.object.keys, ...) are unchanged.
 *
 * The root node is the first allocation of the first block: sp_json_free
 * finds the block list from the root pointer alone. */
#include <errno.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "parse_internal.h"

struct jblock {
  struct jblock *next; /* the first block links all the others */
  size_t used, cap;
  alignas(max_align_t) unsigned char data[];
};

struct jbuild {
  struct jblock *first, *cur;
  size_t block_size;
  /* members of the open containers, innermost last */
  yajl_val *vals;
  const char **keys;
  size_t n, cap;
  /* open containers: their node and where their members start */
  yajl_val open[SP_JSON_MAX_DEPTH + 1];
  size_t start[SP_JSON_MAX_DEPTH + 1];
  size_t depth;
  const char *key; /* the key of the next member of an object */
  bool root_set;
  bool nul; /* a string or key holds "\u0000" (it would cut the C string) */
  enum sp_json_fail fail;
};

static struct jblock *block_new(size_t cap) {
  struct jblock *b = malloc(sizeof *b + cap);
  if (b != NULL)
    *b = (struct jblock){NULL, 0, cap};
  return b;
}

/* Every allocation, the root's slot among them, keeps 8-byte alignment. */
static size_t round8(size_t n) { return (n + 7) & ~(size_t)7; }

static void *arena(struct jbuild *jb, size_t n) {
  n = round8(n);
  struct jblock *b = jb->cur;
  if (b->cap - b->used < n) {
    size_t cap = n > jb->block_size ? n : jb->block_size;
    if ((b = block_new(cap)) == NULL) {
      jb->fail = SP_JSON_NOMEM;
      return NULL;
    }
    b->next = jb->first->next;
    jb->first->next = b;
    jb->cur = b;
  }
  void *p = b->data + b->used;
  b->used += n;
  return p;
}

static char *arena_str(struct jbuild *jb, const unsigned char *s, size_t len) {
  if (memchr(s, '\0', len) != NULL)
    jb->nul = true;
  char *p = arena(jb, len + 1);
  if (p == NULL)
    return NULL;
  memcpy(p, s, len);
  p[len] = '\0';
  return p;
}

/* A new node, placed as the next member of the open container (or as the
 * root, in the slot reserved for it). */
static yajl_val add(struct jbuild *jb, yajl_type type) {
  if (jb->fail != SP_JSON_OK)
    return NULL;
  yajl_val v;
  if (jb->depth == 0) {
    if (jb->root_set)
      return NULL; /* yajl allows one top-level value */
    v = (yajl_val)(void *)jb->first->data;
    jb->root_set = true;
  } else {
    if ((v = arena(jb, sizeof *v)) == NULL)
      return NULL;
    if (jb->n == jb->cap) {
      size_t cap = jb->cap ? jb->cap * 2 : 64;
      yajl_val *vals = realloc(jb->vals, cap * sizeof *vals);
      if (vals != NULL)
        jb->vals = vals;
      const char **keys = realloc(jb->keys, cap * sizeof *keys);
      if (keys != NULL)
        jb->keys = keys;
      if (vals == NULL || keys == NULL) {
        jb->fail = SP_JSON_NOMEM;
        return NULL;
      }
      jb->cap = cap;
    }
    jb->vals[jb->n] = v;
    jb->keys[jb->n] = jb->key;
    jb->n++;
    jb->key = NULL;
  }
  memset(v, 0, sizeof *v);
  v->type = type;
  return v;
}

static int on_null(void *ctx) { return add(ctx, yajl_t_null) != NULL; }

static int on_boolean(void *ctx, int b) {
  return add(ctx, b ? yajl_t_true : yajl_t_false) != NULL;
}

static int on_number(void *ctx, const char *s, size_t len) {
  struct jbuild *jb = ctx;
  yajl_val v = add(jb, yajl_t_number);
  if (v == NULL || (v->u.number.r = arena_str(jb, (const unsigned char *)s, len)) == NULL)
    return 0;
  char *end;
  errno = 0;
  v->u.number.i = strtoll(v->u.number.r, &end, 10);
  if (errno == 0 && *end == '\0')
    v->u.number.flags |= YAJL_NUMBER_INT_VALID;
  errno = 0;
  v->u.number.d = strtod(v->u.number.r, &end);
  if (errno == 0 && *end == '\0')
    v->u.number.flags |= YAJL_NUMBER_DOUBLE_VALID;
  return 1;
}

static int on_string(void *ctx, const unsigned char *s, size_t len) {
  struct jbuild *jb = ctx;
  yajl_val v = add(jb, yajl_t_string);
  return v != NULL && (v->u.string = arena_str(jb, s, len)) != NULL;
}

static int on_key(void *ctx, const unsigned char *s, size_t len) {
  struct jbuild *jb = ctx;
  return (jb->key = arena_str(jb, s, len)) != NULL;
}

static int open_container(struct jbuild *jb, yajl_type type) {
  if (jb->depth >= SP_JSON_MAX_DEPTH) {
    jb->fail = SP_JSON_DEEP;
    return 0;
  }
  yajl_val v = add(jb, type);
  if (v == NULL)
    return 0;
  jb->open[jb->depth] = v;
  jb->start[jb->depth] = jb->n;
  jb->depth++;
  return 1;
}

static int on_start_map(void *ctx) { return open_container(ctx, yajl_t_object); }
static int on_start_array(void *ctx) { return open_container(ctx, yajl_t_array); }

/* The innermost container closes: its members move off the stack into
 * arrays of their own. */
static int on_end(void *ctx) {
  struct jbuild *jb = ctx;
  if (jb->depth == 0)
    return 0;
  jb->depth--;
  yajl_val v = jb->open[jb->depth];
  size_t from = jb->start[jb->depth], len = jb->n - from;
  yajl_val *vals = NULL;
  if (len > 0) {
    if ((vals = arena(jb, len * sizeof *vals)) == NULL)
      return 0;
    memcpy(vals, jb->vals + from, len * sizeof *vals);
  }
  if (v->type == yajl_t_object) {
    const char **keys = NULL;
    if (len > 0) {
      if ((keys = arena(jb, len * sizeof *keys)) == NULL)
        return 0;
      memcpy(keys, jb->keys + from, len * sizeof *keys);
    }
    v->u.object.keys = keys;
    v->u.object.values = vals;
    v->u.object.len = len;
  } else {
    v->u.array.values = vals;
    v->u.array.len = len;
  }
  jb->n = from;
  return 1;
}

static const yajl_callbacks tree_callbacks = {
    .yajl_null = on_null,
    .yajl_boolean = on_boolean,
    .yajl_number = on_number,
    .yajl_string = on_string,
    .yajl_start_map = on_start_map,
    .yajl_map_key = on_key,
    .yajl_end_map = on_end,
    .yajl_start_array = on_start_array,
    .yajl_end_array = on_end,
};

void sp_json_free(yajl_val root) {
  if (root == NULL)
    return;
  struct jblock *b =
      (struct jblock *)(void *)((unsigned char *)root - offsetof(struct jblock, data));
  while (b != NULL) {
    struct jblock *next = b->next;
    free(b);
    b = next;
  }
}

yajl_val sp_json_tree(const char *buf, size_t len, enum sp_json_fail *why) {
  struct jbuild jb = {0};
  *why = SP_JSON_NOMEM;
  /* a node costs 40 bytes and its slot in its parent 8-16: a config is
   * about 3x its text; the blocks after the first are as large again */
  jb.block_size = len * 3 + 1024;
  if ((jb.first = block_new(jb.block_size)) == NULL)
    return NULL;
  jb.first->used = round8(sizeof(struct yajl_val_s)); /* the root */
  jb.cur = jb.first;
  yajl_val root = (yajl_val)(void *)jb.first->data;

  yajl_handle h = yajl_alloc(&tree_callbacks, NULL, &jb);
  if (h == NULL) {
    sp_json_free(root);
    return NULL;
  }
  yajl_config(h, yajl_allow_comments, 1);
  yajl_status st = yajl_parse(h, (const unsigned char *)buf, len);
  if (st == yajl_status_ok)
    st = yajl_complete_parse(h);
  yajl_free(h);
  free(jb.vals);
  free(jb.keys);
  if (st != yajl_status_ok || !jb.root_set || jb.depth != 0) {
    *why = jb.fail != SP_JSON_OK ? jb.fail : SP_JSON_SYNTAX;
    sp_json_free(root);
    return NULL;
  }
  if (jb.nul) {
    *why = SP_JSON_NUL; /* after the syntax: a syntax error is named first */
    sp_json_free(root);
    return NULL;
  }
  *why = SP_JSON_OK;
  return root;
}
