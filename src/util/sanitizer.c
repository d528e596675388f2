/* Hooks for sanitizer builds (-Db_sanitize=address,...); no-ops otherwise. */
#include "sprout/util.h"

#if defined(__SANITIZE_ADDRESS__)
#define SP_HAVE_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SP_HAVE_LSAN 1
#endif
#endif

#ifdef SP_HAVE_LSAN
#include <sanitizer/lsan_interface.h>
#endif

void sp_leak_check_now(void) {
#ifdef SP_HAVE_LSAN
  /* LeakSanitizer's exit-time check stops the world with a tracer it
   * clones; after setns(CLONE_NEWPID) that tracer is born in the
   * container's pid namespace, cannot attach to us and the check spins
   * forever.  Check now instead: this also turns the exit-time check off. */
  __lsan_do_leak_check();
#endif
}
