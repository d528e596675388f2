/* sprout CLI: shared declarations between main.c and the command files. */
#ifndef SPROUT_CLI_H
#define SPROUT_CLI_H

#include <getopt.h>
#include <stdbool.h>

#include "sprout/container.h"
#include "sprout/error.h"

struct cli_command {
  const char *name;
  const char *summary;
  const char *usage; /* full --help text after the "Usage:" line */
  /* Return the exit status; on failure fill err and return -1 (main prints
   * "sprout: NAME[ ID]: MSG" and exits 1).  *id is set for the prefix. */
  int (*run)(const struct sp_global *g, int argc, char **argv,
             const char **id, struct sp_error *err);
};

extern const struct cli_command cli_commands[];

/* getopt_long over a command's own arguments (argv[0] is the command);
 * handles --help.  Returns 1 when --help was printed, -1 on a bad flag
 * (err filled), 0 otherwise; *argi is the index of the first operand. */
int cli_help(const char *name);

int cmd_create(const struct sp_global *, int, char **, const char **, struct sp_error *);
int cmd_run(const struct sp_global *, int, char **, const char **, struct sp_error *);
int cmd_start(const struct sp_global *, int, char **, const char **, struct sp_error *);
int cmd_kill(const struct sp_global *, int, char **, const char **, struct sp_error *);
int cmd_delete(const struct sp_global *, int, char **, const char **, struct sp_error *);
int cmd_state(const struct sp_global *, int, char **, const char **, struct sp_error *);
int cmd_list(const struct sp_global *, int, char **, const char **, struct sp_error *);
int cmd_spec(const struct sp_global *, int, char **, const char **, struct sp_error *);
int cmd_features(const struct sp_global *, int, char **, const char **, struct sp_error *);
int cmd_exec(const struct sp_global *, int, char **, const char **, struct sp_error *);
int cmd_update(const struct sp_global *, int, char **, const char **, struct sp_error *);
int cmd_pause(const struct sp_global *, int, char **, const char **, struct sp_error *);
int cmd_resume(const struct sp_global *, int, char **, const char **, struct sp_error *);
int cmd_ps(const struct sp_global *, int, char **, const char **, struct sp_error *);
int cmd_events(const struct sp_global *, int, char **, const char **, struct sp_error *);

/* Parse the command's flags with getopt_long; unknown flag or missing
 * value -> err.  Returns the getopt result stream through the callback. */
typedef int (*cli_flag_fn)(int opt, const char *arg, void *data, struct sp_error *err);
int cli_parse(const char *cmd, int argc, char **argv, const char *shortopts,
              const struct option *longopts, cli_flag_fn fn, void *data,
              int *first_operand, struct sp_error *err);

/* Exactly N operands (the container id). */
int cli_want_id(const char *cmd, int argc, char **argv, int first,
                const char **id, struct sp_error *err);

#endif
