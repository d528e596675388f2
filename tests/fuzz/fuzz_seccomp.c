/* libFuzzer target: the linux.seccomp object (actions, errnoRet,
 * architectures, flags, listener, syscalls[] with args and operators), read
 * on its own through the parser's document loader, as sp_spec_parse_buf
 * does for .linux.seccomp, then translated for libseccomp and exported as a
 * BPF program (sp_seccomp_compile, src/linux/seccomp.c). */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_common.h"
#include "sprout/security.h"
#include "src/spec/parse_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct sp_seccomp s = {0};
  struct sp_error err = {0};
  yajl_val doc = NULL;
  int r = sp_json_load((const char *)data, size, &doc, &err);
  if (r == 0) {
    r = sp_parse_seccomp(doc, ".linux.seccomp", &s, &err);
    sp_json_free(doc);
  }
  fuzz_check_error(r, &err, "sp_parse_seccomp");
  if (r == 0) {
    for (size_t i = 0; i < s.syscalls_len; i++) {
      FUZZ_ASSERT(s.syscalls[i].names_len > 0, "syscalls[%zu] without names", i);
      for (size_t j = 0; j < s.syscalls[i].args_len; j++)
        FUZZ_ASSERT(s.syscalls[i].args[j].index < 6, "argument index %u",
                    s.syscalls[i].args[j].index);
    }
    struct sp_seccomp_prog prog = {0};
    sp_error_clear(&err);
    r = sp_seccomp_compile(&s, &prog, &err);
    fuzz_check_error(r, &err, "sp_seccomp_compile");
    if (r == 0)
      FUZZ_ASSERT(prog.len > 0 && prog.insns, "empty program");
    sp_seccomp_prog_free(&prog);
  }
  sp_seccomp_free(&s);
  return 0;
}
