/* sprout — mount option strings ("options" of a config.json mount) ->
 * mount(2) flags, propagation, mount_setattr(2) recursive attributes and
 * filesystem data.  The option set is runc's (and runtime-spec 1.2's
 * table); a later option overrides an earlier one ("ro" then "rw": rw). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "parse_internal.h"
#include "sprout/mountopt.h"

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif
#ifndef MOUNT_ATTR_NOSYMFOLLOW
#define MOUNT_ATTR_NOSYMFOLLOW 0x00200000
#endif

/* mount(2) flags; clear: the option removes the flag ("rw" clears MS_RDONLY) */
static const struct {
  const char *name;
  bool clear;
  unsigned long flag;
} flag_opts[] = {
    {"defaults", false, 0},
    {"ro", false, MS_RDONLY},           {"rw", true, MS_RDONLY},
    {"nosuid", false, MS_NOSUID},       {"suid", true, MS_NOSUID},
    {"nodev", false, MS_NODEV},         {"dev", true, MS_NODEV},
    {"noexec", false, MS_NOEXEC},       {"exec", true, MS_NOEXEC},
    {"sync", false, MS_SYNCHRONOUS},    {"async", true, MS_SYNCHRONOUS},
    {"dirsync", false, MS_DIRSYNC},     {"remount", false, MS_REMOUNT},
    {"mand", false, MS_MANDLOCK},       {"nomand", true, MS_MANDLOCK},
    {"noatime", false, MS_NOATIME},     {"atime", true, MS_NOATIME},
    {"nodiratime", false, MS_NODIRATIME}, {"diratime", true, MS_NODIRATIME},
    {"relatime", false, MS_RELATIME},   {"norelatime", true, MS_RELATIME},
    {"strictatime", false, MS_STRICTATIME}, {"nostrictatime", true, MS_STRICTATIME},
    {"lazytime", false, MS_LAZYTIME},   {"nolazytime", true, MS_LAZYTIME},
    {"iversion", false, MS_I_VERSION},  {"noiversion", true, MS_I_VERSION},
    {"silent", false, MS_SILENT},       {"loud", true, MS_SILENT},
    {"nosymfollow", false, MS_NOSYMFOLLOW}, {"symfollow", true, MS_NOSYMFOLLOW},
    {"bind", false, MS_BIND},           {"rbind", false, MS_BIND | MS_REC},
};

/* mount_setattr(2) attributes applied recursively (AT_RECURSIVE) */
static const struct {
  const char *name;
  bool clear;
  uint64_t attr;
} rec_opts[] = {
    {"rro", false, MOUNT_ATTR_RDONLY},        {"rrw", true, MOUNT_ATTR_RDONLY},
    {"rnosuid", false, MOUNT_ATTR_NOSUID},    {"rsuid", true, MOUNT_ATTR_NOSUID},
    {"rnodev", false, MOUNT_ATTR_NODEV},      {"rdev", true, MOUNT_ATTR_NODEV},
    {"rnoexec", false, MOUNT_ATTR_NOEXEC},    {"rexec", true, MOUNT_ATTR_NOEXEC},
    {"rnodiratime", false, MOUNT_ATTR_NODIRATIME}, {"rdiratime", true, MOUNT_ATTR_NODIRATIME},
    {"rnosymfollow", false, MOUNT_ATTR_NOSYMFOLLOW}, {"rsymfollow", true, MOUNT_ATTR_NOSYMFOLLOW},
};

/* The access-time mode is one value inside MOUNT_ATTR__ATIME: setting it
 * means attr_clr |= MOUNT_ATTR__ATIME and attr_set |= the mode. */
static const struct {
  const char *name;
  uint64_t mode;
} rec_atime_opts[] = {
    {"rrelatime", MOUNT_ATTR_RELATIME},    {"rnoatime", MOUNT_ATTR_NOATIME},
    {"rstrictatime", MOUNT_ATTR_STRICTATIME},
    {"ratime", MOUNT_ATTR_RELATIME},       /* not noatime: the default, relatime */
    {"rnorelatime", MOUNT_ATTR_STRICTATIME}, /* not relatime: always update */
    {"rnostrictatime", MOUNT_ATTR_RELATIME},
};

static const struct {
  const char *name;
  unsigned long flags;
} propagations[] = {
    {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
    {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

int sp_propagation_parse(const char *name, unsigned long *flags) {
  if (name == NULL)
    return -1;
  for (size_t i = 0; i < COUNT(propagations); i++) {
    if (strcmp(propagations[i].name, name) == 0) {
      *flags = propagations[i].flags;
      return 0;
    }
  }
  return -1;
}

/* The options the runtime itself interprets (never passed as data). */
static bool apply_option(struct sp_mount *m, const char *o) {
  for (size_t i = 0; i < COUNT(flag_opts); i++) {
    if (strcmp(flag_opts[i].name, o) == 0) {
      if (flag_opts[i].clear) {
        m->flags &= ~flag_opts[i].flag;
        m->clear_flags |= flag_opts[i].flag;
      } else {
        m->flags |= flag_opts[i].flag;
        m->clear_flags &= ~flag_opts[i].flag;
      }
      return true;
    }
  }
  for (size_t i = 0; i < COUNT(rec_opts); i++) {
    if (strcmp(rec_opts[i].name, o) == 0) {
      if (rec_opts[i].clear) {
        m->rec_attr_set &= ~rec_opts[i].attr;
        m->rec_attr_clr |= rec_opts[i].attr;
      } else {
        m->rec_attr_set |= rec_opts[i].attr;
        m->rec_attr_clr &= ~rec_opts[i].attr;
      }
      return true;
    }
  }
  for (size_t i = 0; i < COUNT(rec_atime_opts); i++) {
    if (strcmp(rec_atime_opts[i].name, o) == 0) {
      m->rec_attr_set = (m->rec_attr_set & ~(uint64_t)MOUNT_ATTR__ATIME) | rec_atime_opts[i].mode;
      m->rec_attr_clr |= MOUNT_ATTR__ATIME;
      return true;
    }
  }
  unsigned long prop;
  if (sp_propagation_parse(o, &prop) == 0) {
    m->propagation = prop;
    return true;
  }
  if (strcmp(o, "tmpcopyup") == 0)
    m->tmpcopyup = true;
  else if (strcmp(o, "idmap") == 0)
    m->idmap = true;
  else if (strcmp(o, "ridmap") == 0)
    m->idmap = m->idmap_recursive = true;
  else if (strcmp(o, "copy-symlink") == 0)
    m->copy_symlink = true;
  else if (strcmp(o, "src-nofollow") == 0)
    m->src_nofollow = true;
  else
    return false;
  return true;
}

static void reset_derived(struct sp_mount *m) {
  free(m->data);
  m->data = NULL;
  m->flags = m->clear_flags = m->propagation = 0;
  m->rec_attr_set = m->rec_attr_clr = 0;
  m->bind = m->idmap = m->idmap_recursive = false;
  m->tmpcopyup = m->copy_symlink = m->src_nofollow = false;
}

int sp_mountopt_parse_at(struct sp_mount *m, const char *path, struct sp_error *err) {
  char op[SP_JPATH_MAX], ep[SP_JPATH_MAX], show[SP_JSHOW_MAX];
  reset_derived(m);

  /* bind first: it decides what an unknown option is */
  m->bind = m->type != NULL && strcmp(m->type, "bind") == 0;
  for (size_t i = 0; i < m->options_len; i++)
    if (strcmp(m->options[i], "bind") == 0 || strcmp(m->options[i], "rbind") == 0)
      m->bind = true;
  if (m->bind)
    m->flags |= MS_BIND;

  size_t data_len = 0, data_n = 0;
  bool *is_data = NULL;
  if (m->options_len > 0 && (is_data = calloc(m->options_len, sizeof *is_data)) == NULL)
    return sp_error_set(err, ENOMEM, "out of memory");
  if (path != NULL)
    sp_jpath_key(op, sizeof op, path, "options");
  for (size_t i = 0; i < m->options_len; i++) {
    const char *o = m->options[i];
    if (o[0] == '\0' || apply_option(m, o))
      continue;
    if (m->bind) {
      free(is_data);
      if (path == NULL)
        return sp_error_set(err, 0, "unknown mount option \"%s\" (a bind mount takes no "
                            "filesystem options)", sp_jshow(o, show));
      sp_jpath_index(ep, sizeof ep, op, i);
      return sp_jerr(err, ep, "unknown mount option \"%s\" (a bind mount takes no "
                     "filesystem options)", sp_jshow(o, show));
    }
    is_data[i] = true;
    data_len += strlen(o) + 1;
    data_n++;
  }
  if (data_n > 0) {
    char *d = malloc(data_len), *p = d;
    if (d == NULL) {
      free(is_data);
      return sp_error_set(err, ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < m->options_len; i++) {
      if (!is_data[i])
        continue;
      if (p != d)
        *p++ = ',';
      size_t n = strlen(m->options[i]);
      memcpy(p, m->options[i], n);
      p += n;
    }
    *p = '\0';
    m->data = d;
  }
  free(is_data);
  if (m->uid_mappings_len > 0 || m->gid_mappings_len > 0)
    m->idmap = true;
  return 0;
}

int sp_mountopt_parse(struct sp_mount *m, struct sp_error *err) {
  return sp_mountopt_parse_at(m, NULL, err);
}
