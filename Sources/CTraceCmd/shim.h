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

/* tep_print_event is variadic, which Swift cannot call: these fix its format.
 * Appends the event's payload as its print format renders it (what tracefs prints
 * after "name: ") to s. */
static inline void ctc_print_event_info(struct tep_handle *tep, struct trace_seq *s,
                                        struct tep_record *record) {
    tep_print_event(tep, s, record, "%s", TEP_PRINT_INFO);
}

/* Appends every field of the record as libtraceevent's "name=value" list to s. */
static inline void ctc_print_event_info_raw(struct tep_handle *tep, struct trace_seq *s,
                                            struct tep_record *record) {
    tep_print_event(tep, s, record, "%s", TEP_PRINT_INFO_RAW);
}
#endif
