/* Profiling marks.  In a build with -Dtimeline=true, SP_MARK("step")
 * appends "step SECONDS.NANOSECONDS\n" (CLOCK_MONOTONIC) to the file that
 * SPROUT_TIMELINE names, opened at the first mark and kept open: the
 * container's init, a clone of the command, marks into it too until its
 * execve.  Without the option the marks compile to nothing.
 * tests/bench/timeline.sh runs a command many times and prints the median
 * time of every step; tests/bench/PROFILE.md has what it found. */
#ifndef SPROUT_TIMELINE_H
#define SPROUT_TIMELINE_H

#ifdef SP_TIMELINE
void sp_timeline_mark(const char *step);
#define SP_MARK(step) sp_timeline_mark(step)
#else
#define SP_MARK(step) ((void)0)
#endif

#endif
