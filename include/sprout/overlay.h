/* sprout — the overlay root and idmapped mounts (src/linux/overlay.c,
 * src/linux/idmap.c). */
#ifndef SPROUT_OVERLAY_H
#define SPROUT_OVERLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "sprout/error.h"
#include "sprout/spec.h"

/* Annotations for clients that cannot pass --overlay / --lower:
 *   org.sprout.overlay        "true" (a tmpfs upper layer), "false", or an
 *                             UPPERDIR (absolute, or relative to the bundle)
 *   org.sprout.overlay.lower  extra lower layers "DIR[:DIR...]", top first
 *                             (relative ones: to the bundle) */
#define SP_ANNOT_OVERLAY "org.sprout.overlay"
#define SP_ANNOT_OVERLAY_LOWER "org.sprout.overlay.lower"

struct sp_overlay {
  bool enabled;
  char *dir;     /* absolute UPPERDIR (kept: DIR/upper, DIR/work), NULL: tmpfs */
  char **lower;  /* extra lower layers below the bundle's root, top first */
  size_t lower_len;
  /* filled by sp_overlay_prepare, for the error path */
  bool made_dir, made_upper, made_work;
};

/* Work out the overlay from the flags (win) and the annotations, and check
 * every layer: directories that exist (UPPERDIR: or whose parent does).
 * FLAG_DIR: --overlay=DIR; FLAG: --overlay given.  No side effects. */
int sp_overlay_resolve(const struct sp_spec *spec, const char *bundle, bool flag,
                       const char *flag_dir, const char *const *flag_lower,
                       size_t flag_lower_len, struct sp_overlay *ov,
                       struct sp_error *err);
/* In the runtime, before the init runs: create UPPERDIR, DIR/upper and
 * DIR/work when missing, owned by UID:GID (the host ids of the container's
 * root).  sp_overlay_unprepare removes what this made. */
int sp_overlay_prepare(struct sp_overlay *ov, const char *rootfs, uid_t uid,
                       gid_t gid, struct sp_error *err);
void sp_overlay_unprepare(struct sp_overlay *ov);
/* The container exists: nothing sp_overlay_prepare made is removed now. */
void sp_overlay_keep(struct sp_overlay *ov);
/* In the init's mount namespace, after ROOTFS was bound onto itself:
 * mount the overlay (lower: ROOTFS, then the extra layers; upper and work:
 * a fresh tmpfs or DIR) on top of ROOTFS.  Errors name the layer. */
int sp_overlay_mount(const struct sp_overlay *ov, const char *rootfs,
                     bool in_userns, struct sp_error *err);
void sp_overlay_free(struct sp_overlay *ov);

/* ---- idmapped mounts (idmap.c) ----
 * For every mount of SPEC that is idmapped (uidMappings/gidMappings on the
 * mount, or "idmap"/"ridmap", which without mappings take the container's
 * user namespace mappings): a detached clone of its source with
 * MOUNT_ATTR_IDMAP set, made in the runtime's namespaces (only there is the
 * source's filesystem owned by a user namespace it is privileged in).
 * (*fds)[i] for mounts[i], -1 for the others; *fds NULL when none. */
int sp_idmap_mounts_prepare(const struct sp_spec *spec, const char *bundle,
                            int **fds, struct sp_error *err);
void sp_idmap_mounts_close(int *fds, size_t n);
/* A user namespace fd with these maps (a short-lived child's; root only). */
int sp_idmap_userns_fd(const struct sp_idmap *uids, size_t nu,
                       const struct sp_idmap *gids, size_t ng, struct sp_error *err);

#endif
