/* Shim for libtracecmd / libtraceevent (Debian libtracecmd-dev).
 * Do NOT define _GNU_SOURCE here: it breaks the module against SwiftGlibc. */
#ifndef CTRACECMD_SHIM_H
#define CTRACECMD_SHIM_H
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
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

/* Crash guard for libtracecmd/libtraceevent on corrupt trace.dat files.
 *
 * libtraceevent 1.7.1 dereferences wild pointers in its event-format parser
 * (tep_parse_event, called from tracecmd_open_head) when a trace.dat holds corrupt
 * format text, e.g. a damaged compressed section that still decompresses. The guarded
 * calls below catch SIGSEGV, SIGBUS, SIGFPE and SIGILL raised inside the one library
 * call (on an alternate stack, so deep recursion is caught too), jump back here, and
 * report the signal instead of killing the process. Only C frames of the libraries lie
 * between the jump and its target; whatever the library had allocated is leaked, and the
 * handle is abandoned. The caller must serialise all use (TraceDatReader holds a lock);
 * the previous handlers and alternate stack are restored before returning. */
/* The jump target and the signal caught. Function-local statics, because Swift emits a
 * header's static inline functions into its own objects but not its global variables.
 * Swift also emits only the inline functions it references itself, so TraceCmdInput
 * calls both accessors once (they return void * so that Swift need not import
 * sigjmp_buf). */
static inline void *ctc_guard_jump(void) {
    static sigjmp_buf jump;
    return &jump;
}

static inline void *ctc_guard_signal(void) {
    static volatile sig_atomic_t caught;
    return (void *)&caught;
}

static inline void ctc_guard_handler(int sig) {
    *(volatile sig_atomic_t *)ctc_guard_signal() = sig;
    siglongjmp(*(sigjmp_buf *)ctc_guard_jump(), 1);
}

#define CTC_GUARD_STACK_SIZE (1 << 18)
#define CTC_GUARD_SIGNAL_COUNT 4

/* Runs `call` with the guard installed; sets *crash_signal to the signal that stopped it
 * (0 when it returned normally). `result` must be a volatile lvalue. */
#define CTC_GUARDED(result, call, failure, crash_signal)                                   \
    do {                                                                                   \
        static const int signals[CTC_GUARD_SIGNAL_COUNT] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL}; \
        struct sigaction guard, saved[CTC_GUARD_SIGNAL_COUNT];                             \
        stack_t alternate, saved_alternate;                                                \
        *(crash_signal) = 0;                                                               \
        alternate.ss_sp = malloc(CTC_GUARD_STACK_SIZE);                                    \
        alternate.ss_size = CTC_GUARD_STACK_SIZE;                                          \
        alternate.ss_flags = 0;                                                            \
        if (alternate.ss_sp == NULL) { result = (call); break; }                           \
        sigaltstack(&alternate, &saved_alternate);                                         \
        memset(&guard, 0, sizeof guard);                                                   \
        guard.sa_handler = ctc_guard_handler;                                              \
        guard.sa_flags = SA_ONSTACK;                                                       \
        sigemptyset(&guard.sa_mask);                                                       \
        for (int i = 0; i < CTC_GUARD_SIGNAL_COUNT; i++) sigaction(signals[i], &guard, &saved[i]); \
        if (sigsetjmp(*(sigjmp_buf *)ctc_guard_jump(), 1) == 0) {                                           \
            result = (call);                                                               \
        } else {                                                                           \
            result = (failure);                                                            \
            *(crash_signal) = *(volatile sig_atomic_t *)ctc_guard_signal();                                         \
        }                                                                                  \
        for (int i = 0; i < CTC_GUARD_SIGNAL_COUNT; i++) sigaction(signals[i], &saved[i], NULL); \
        sigaltstack(&saved_alternate, NULL);                                               \
        free(alternate.ss_sp);                                                             \
    } while (0)

/* tracecmd_open_head under the crash guard: NULL and *crash_signal != 0 if it crashed. */
static inline struct tracecmd_input *ctc_guarded_open_head(const char *file, int flags, int *crash_signal) {
    struct tracecmd_input *volatile handle = NULL;
    CTC_GUARDED(handle, tracecmd_open_head(file, flags), NULL, crash_signal);
    return handle;
}

/* tracecmd_init_data under the crash guard: -1 and *crash_signal != 0 if it crashed. */
static inline int ctc_guarded_init_data(struct tracecmd_input *handle, int *crash_signal) {
    volatile int status = -1;
    CTC_GUARDED(status, tracecmd_init_data(handle), -1, crash_signal);
    return status;
}
#endif
