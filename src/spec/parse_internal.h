/* sprout — helpers shared by the config.json parser (src/spec/parse*.c).
 *
 * Conventions:
 *  - every reader takes the JSON path of the node it reads (".linux.devices[2]";
 *    "" is the document itself) and puts "PATH: PROBLEM" into err on failure;
 *  - field readers (sp_jf_*) take an object, its path and a key; they return
 *    -1 on error, 0 when the key is absent (or null) and 1 when it was read.
 *    With SP_REQUIRED an absent key is the error "PATH.key: required";
 *  - value readers (sp_jv_*) read one value and return 0 or -1;
 *  - output pointers are set as soon as memory is allocated (arrays with their
 *    length, elements zeroed), so a partly filled struct is always safe to
 *    free after an error.
 */
#ifndef SPROUT_SPEC_PARSE_INTERNAL_H
#define SPROUT_SPEC_PARSE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yajl/yajl_tree.h>

#include "sprout/error.h"
#include "sprout/spec.h"

#define SP_JPATH_MAX 512     /* longer paths are truncated in messages */
#define SP_JSON_MAX_DEPTH 64 /* deeper nesting is refused while parsing */

#define SP_OPTIONAL false
#define SP_REQUIRED true

/* ---- document -------------------------------------------------------- */

/* Parse buf[0..len) (need not be NUL-terminated) into a yajl tree.  Refuses
 * NUL bytes, "\u0000" in strings and nesting deeper than SP_JSON_MAX_DEPTH;
 * malformed JSON gives a one-line "invalid JSON: ..." message. */
int sp_json_load(const char *buf, size_t len, yajl_val *out, struct sp_error *err);
/* Release a tree of sp_json_load / sp_json_tree (not yajl_tree_free). */
void sp_json_free(yajl_val root);

/* The tree alone (json_tree.c): NULL with *why set on failure. */
enum sp_json_fail { SP_JSON_OK, SP_JSON_SYNTAX, SP_JSON_NUL, SP_JSON_DEEP, SP_JSON_NOMEM };
yajl_val sp_json_tree(const char *buf, size_t len, enum sp_json_fail *why);

/* Prefix err with the (sanitized) document name, if any.  Returns -1. */
int sp_json_prefix_name(struct sp_error *err, const char *name);

/* ---- paths and messages ---------------------------------------------- */

/* parent + ".key" (or ["key"] when key is not a plain identifier). */
void sp_jpath_key(char *out, size_t size, const char *parent, const char *key);
/* parent + "[i]" */
void sp_jpath_index(char *out, size_t size, const char *parent, size_t i);

/* "PATH: message"; "" prints as ".".  code 0 (input error).  Returns -1. */
int sp_jerr(struct sp_error *err, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int sp_jerr_nomem(struct sp_error *err, const char *path);

/* A user-supplied string made safe to quote in a message: control
 * characters become '?', long strings are cut with "...". */
#define SP_JSHOW_MAX 96
const char *sp_jshow(const char *s, char buf[SP_JSHOW_MAX]);
/* The same with a buffer of any size (>= 4); file names use SP_JNAME_MAX. */
#define SP_JNAME_MAX 400
const char *sp_jshow_n(const char *s, char *buf, size_t size);

/* "a string", "an object", "an array", "a boolean", "null" or the number. */
const char *sp_jdescribe(yajl_val v, char buf[SP_JSHOW_MAX]);

/* ---- allocation ------------------------------------------------------ */

void *sp_jcalloc(size_t n, size_t size, const char *path, struct sp_error *err);
char *sp_jstrdup(const char *s, const char *path, struct sp_error *err);

/* ---- lookup ---------------------------------------------------------- */

/* obj[key] or NULL when absent or null (obj must be an object). */
yajl_val sp_jget(yajl_val obj, const char *key);

/* ---- value readers --------------------------------------------------- */

int sp_jv_object(yajl_val v, const char *path, struct sp_error *err);
int sp_jv_array(yajl_val v, const char *path, struct sp_error *err);
int sp_jv_string(yajl_val v, const char *path, char **out, struct sp_error *err);
int sp_jv_bool(yajl_val v, const char *path, bool *out, struct sp_error *err);
int sp_jv_u64(yajl_val v, const char *path, uint64_t *out, struct sp_error *err);
int sp_jv_i64(yajl_val v, const char *path, int64_t *out, struct sp_error *err);
int sp_jv_u32(yajl_val v, const char *path, uint32_t *out, struct sp_error *err);
int sp_jv_i32(yajl_val v, const char *path, int32_t *out, struct sp_error *err);
int sp_jv_u16(yajl_val v, const char *path, uint16_t *out, struct sp_error *err);
/* Integers in [min, max]: "expected an integer between MIN and MAX". */
int sp_jv_urange(yajl_val v, const char *path, uint64_t min, uint64_t max,
                 uint64_t *out, struct sp_error *err);
int sp_jv_irange(yajl_val v, const char *path, int64_t min, int64_t max,
                 int64_t *out, struct sp_error *err);

/* ---- field readers (-1 error, 0 absent, 1 read) ---------------------- */

/* The child object/array itself (type-checked); *out NULL when absent. */
int sp_jf_object(yajl_val obj, const char *path, const char *key, bool required,
                 yajl_val *out, struct sp_error *err);
int sp_jf_array(yajl_val obj, const char *path, const char *key, bool required,
                yajl_val *out, struct sp_error *err);
int sp_jf_string(yajl_val obj, const char *path, const char *key, bool required,
                 char **out, struct sp_error *err);
int sp_jf_bool(yajl_val obj, const char *path, const char *key, bool required,
               bool *out, struct sp_error *err);
int sp_jf_u64(yajl_val obj, const char *path, const char *key, bool required,
              uint64_t *out, struct sp_error *err);
int sp_jf_i64(yajl_val obj, const char *path, const char *key, bool required,
              int64_t *out, struct sp_error *err);
int sp_jf_u32(yajl_val obj, const char *path, const char *key, bool required,
              uint32_t *out, struct sp_error *err);
int sp_jf_i32(yajl_val obj, const char *path, const char *key, bool required,
              int32_t *out, struct sp_error *err);
int sp_jf_u16(yajl_val obj, const char *path, const char *key, bool required,
              uint16_t *out, struct sp_error *err);
int sp_jf_urange(yajl_val obj, const char *path, const char *key, bool required,
                 uint64_t min, uint64_t max, uint64_t *out, struct sp_error *err);
int sp_jf_irange(yajl_val obj, const char *path, const char *key, bool required,
                 int64_t min, int64_t max, int64_t *out, struct sp_error *err);
/* Array of strings; the array and its length are set (maybe empty). */
int sp_jf_strings(yajl_val obj, const char *path, const char *key, bool required,
                  char ***out, size_t *len, struct sp_error *err);
/* Object of string values; keys must be non-empty and unique. */
int sp_jf_map(yajl_val obj, const char *path, const char *key, bool required,
              struct sp_kv **out, size_t *len, struct sp_error *err);

/* An object's keys must be unique (PATH["key"]: duplicate key). */
int sp_jcheck_unique_keys(yajl_val obj, const char *path, struct sp_error *err);

/* ---- shared validators ----------------------------------------------- */

/* path must be absolute ("PATH: must be an absolute path, got \"x\""). */
int sp_jcheck_abs(const char *s, const char *path, struct sp_error *err);
/* "0-3,7": comma-separated numbers and ranges (cpus, mems, affinity). */
bool sp_valid_cpu_list(const char *s);
/* Every "KEY=value" entry must contain '='. */
int sp_jcheck_env(char **env, size_t len, const char *path, struct sp_error *err);

/* ---- per-section parsers and their free functions --------------------- */

int sp_parse_idmaps(yajl_val obj, const char *path, const char *key,
                    struct sp_idmap **out, size_t *len, struct sp_error *err);

int sp_parse_process(yajl_val v, const char *path, struct sp_process *p,
                     struct sp_error *err);
int sp_parse_linux(yajl_val v, const char *path, struct sp_linux *l,
                   struct sp_error *err);
void sp_linux_free(struct sp_linux *l);
int sp_parse_resources(yajl_val v, const char *path, struct sp_resources *r,
                       struct sp_error *err);
int sp_parse_seccomp(yajl_val v, const char *path, struct sp_seccomp *s,
                     struct sp_error *err);
void sp_seccomp_free(struct sp_seccomp *s);

/* sp_mountopt_parse() with error messages naming PATH.options[i]. */
int sp_mountopt_parse_at(struct sp_mount *m, const char *path, struct sp_error *err);

void sp_jstrv_free(char **v, size_t len);
void sp_jkv_free(struct sp_kv *kv, size_t len);

#endif
