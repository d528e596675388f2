/* sprout — mount option strings (config.json "options") -> mount(2) flags. */
#ifndef SPROUT_MOUNTOPT_H
#define SPROUT_MOUNTOPT_H

#include <stdbool.h>

#include "sprout/error.h"
#include "sprout/spec.h"

/* Fill the derived fields of *m (flags, clear_flags, propagation,
 * rec_attr_set/clr, data, bind, idmap...) from m->type and m->options.
 * An unknown option is not an error when the mount has a filesystem type
 * (it is passed to the filesystem as data), but it is for a bind mount,
 * where nothing could interpret it.  Errors name the option. */
int sp_mountopt_parse(struct sp_mount *m, struct sp_error *err);

/* "shared", "rshared", "slave", "rslave", "private", "rprivate",
 * "unbindable", "runbindable" -> MS_* flags (with MS_REC for r*).
 * Returns -1 for an unknown name. */
int sp_propagation_parse(const char *name, unsigned long *flags);

#endif
