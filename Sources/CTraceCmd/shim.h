/* Shim for libtracecmd / libtraceevent (Debian libtracecmd-dev).
 * Do NOT define _GNU_SOURCE here: it breaks the module against SwiftGlibc. */
#ifndef CTRACECMD_SHIM_H
#define CTRACECMD_SHIM_H
#include <pthread.h>
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
 * libtraceevent 1.7.1 dereferences wild pointers on corrupt input: in its event-format
 * parser (tep_parse_event, under tracecmd_open_head) when a trace.dat holds damaged
 * format text, and in tep_print_event (a memcpy from a record whose field offsets are
 * damaged). Between ctc_guard_begin() and ctc_guard_end() SIGSEGV, SIGBUS, SIGFPE and
 * SIGILL are handled on an alternate stack (so deep recursion is caught too); a fault
 * inside one of the ctc_guarded_* calls jumps back to that call, which reports the signal
 * instead of the process dying. Only C frames of the libraries lie between the jump and
 * its target; what they had allocated is leaked. A fault anywhere else (not inside a
 * guarded call) restores the previous handler and recurs, so Swift's own crash reporting
 * is unchanged. Begin, the guarded calls and end must run on one thread, serialised
 * (TraceDatReader holds a lock); end restores the previous handlers and stack. */
#define CTC_GUARD_STACK_SIZE (1 << 18)
#define CTC_GUARD_SIGNAL_COUNT 4
#define CTC_GUARD_SIGNALS {SIGSEGV, SIGBUS, SIGFPE, SIGILL}

struct ctc_guard_state {
    sigjmp_buf jump;
    volatile sig_atomic_t caught;
    volatile sig_atomic_t armed;
    int installed;
    pthread_t owner;
    struct sigaction saved[CTC_GUARD_SIGNAL_COUNT];
    stack_t saved_stack;
    void *stack;
};

/* The guard's state. A function-local static, because Swift emits a header's static
 * inline functions into its own objects but not its global variables; and Swift emits
 * only the inline functions it references itself, so TraceDatReader calls this once. */
static inline void *ctc_guard_state(void) {
    static struct ctc_guard_state state;
    return &state;
}

static inline void ctc_guard_handler(int sig) {
    struct ctc_guard_state *state = (struct ctc_guard_state *)ctc_guard_state();
    if (!state->armed || !pthread_equal(pthread_self(), state->owner)) {
        /* Not inside a guarded call on the guarded thread: put the previous handler
         * back; the fault recurs and reaches it. */
        const int signals[CTC_GUARD_SIGNAL_COUNT] = CTC_GUARD_SIGNALS;
        for (int i = 0; i < CTC_GUARD_SIGNAL_COUNT; i++) {
            if (signals[i] == sig) sigaction(sig, &state->saved[i], NULL);
        }
        return;
    }
    state->armed = 0;
    state->caught = sig;
    siglongjmp(state->jump, 1);
}

/* Installs the handlers and the alternate stack; 0 on success (the guarded calls run
 * unguarded otherwise). */
static inline int ctc_guard_begin(void) {
    struct ctc_guard_state *state = (struct ctc_guard_state *)ctc_guard_state();
    const int signals[CTC_GUARD_SIGNAL_COUNT] = CTC_GUARD_SIGNALS;
    struct sigaction guard;
    stack_t alternate;
    state->installed = 0;
    state->armed = 0;
    state->owner = pthread_self();
    state->stack = malloc(CTC_GUARD_STACK_SIZE);
    if (state->stack == NULL) return -1;
    alternate.ss_sp = state->stack;
    alternate.ss_size = CTC_GUARD_STACK_SIZE;
    alternate.ss_flags = 0;
    if (sigaltstack(&alternate, &state->saved_stack) != 0) {
        free(state->stack);
        state->stack = NULL;
        return -1;
    }
    memset(&guard, 0, sizeof guard);
    guard.sa_handler = ctc_guard_handler;
    /* SA_NODEFER: the signal stays unblocked after the jump, so sigsetjmp need not save
     * the signal mask (a system call) before every guarded call. */
    guard.sa_flags = SA_ONSTACK | SA_NODEFER;
    sigemptyset(&guard.sa_mask);
    for (int i = 0; i < CTC_GUARD_SIGNAL_COUNT; i++) sigaction(signals[i], &guard, &state->saved[i]);
    state->installed = 1;
    return 0;
}

/* Restores the handlers and the alternate stack of before ctc_guard_begin. */
static inline void ctc_guard_end(void) {
    struct ctc_guard_state *state = (struct ctc_guard_state *)ctc_guard_state();
    const int signals[CTC_GUARD_SIGNAL_COUNT] = CTC_GUARD_SIGNALS;
    if (!state->installed) return;
    for (int i = 0; i < CTC_GUARD_SIGNAL_COUNT; i++) sigaction(signals[i], &state->saved[i], NULL);
    sigaltstack(&state->saved_stack, NULL);
    free(state->stack);
    state->stack = NULL;
    state->installed = 0;
}

/* Runs `call`; on a fault inside it sets `result` to `failure` and *crash_signal to the
 * signal (0 otherwise). `result` must be a volatile lvalue. */
#define CTC_GUARDED(result, call, failure, crash_signal)                          \
    do {                                                                          \
        struct ctc_guard_state *guarded_state = (struct ctc_guard_state *)ctc_guard_state(); \
        *(crash_signal) = 0;                                                      \
        if (sigsetjmp(guarded_state->jump, 0) == 0) {                             \
            guarded_state->armed = guarded_state->installed;                      \
            result = (call);                                                      \
            guarded_state->armed = 0;                                             \
        } else {                                                                  \
            result = (failure);                                                   \
            *(crash_signal) = guarded_state->caught;                              \
        }                                                                         \
    } while (0)

/* tracecmd_open_head, guarded: NULL and *crash_signal != 0 if it crashed. */
static inline struct tracecmd_input *ctc_guarded_open_head(const char *file, int flags, int *crash_signal) {
    struct tracecmd_input *volatile handle = NULL;
    CTC_GUARDED(handle, tracecmd_open_head(file, flags), NULL, crash_signal);
    return handle;
}

/* tracecmd_init_data, guarded: -1 and *crash_signal != 0 if it crashed. */
static inline int ctc_guarded_init_data(struct tracecmd_input *handle, int *crash_signal) {
    volatile int status = -1;
    CTC_GUARDED(status, tracecmd_init_data(handle), -1, crash_signal);
    return status;
}

/* ctc_print_event_info (raw == 0) or ctc_print_event_info_raw (raw != 0), guarded:
 * *crash_signal != 0 if it crashed (s then holds whatever was printed before). */
static inline void ctc_guarded_print_event(struct tep_handle *tep, struct trace_seq *s,
                                           struct tep_record *record, int raw, int *crash_signal) {
    volatile int done = 0;
    CTC_GUARDED(done, (tep_print_event(tep, s, record, "%s", raw ? TEP_PRINT_INFO_RAW : TEP_PRINT_INFO), 1),
                0, crash_signal);
    (void)done;
}
#endif
