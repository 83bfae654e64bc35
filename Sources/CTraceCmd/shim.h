/* Shim for libtracecmd / libtraceevent (Debian libtracecmd-dev).
 * Do NOT define _GNU_SOURCE here: it breaks the module against SwiftGlibc. */
#ifndef CTRACECMD_SHIM_H
#define CTRACECMD_SHIM_H
#include <sched.h>
#include <trace-cmd/trace-cmd.h>
#include <traceevent/trace-seq.h>
#include <traceevent/event-parse.h>

/* Exported by libtracecmd.so.1 but missing from the 3.1.x header. */
struct tep_record *tracecmd_read_next_data(struct tracecmd_input *handle, int *rec_cpu);
struct tep_record *tracecmd_peek_next_data(struct tracecmd_input *handle, int *rec_cpu);
#endif
