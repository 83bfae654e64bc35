import CTraceCmd

/// Swift's doors to the CTraceCmd crash guard (`shim.h`: `ctc_guard_begin`, the
/// `ctc_guarded_*` calls, `ctc_guard_end`).
///
/// The guard keeps its state in a function-local static of a `static inline` C function.
/// Swift emits such a function into the object of every Swift file that calls it, each
/// with its own copy of the static, so all calls go through this one file: the handler
/// installed by ``begin()`` and the guarded calls then share one state.
enum LibraryGuard {
    /// Installs the signal handlers and alternate stack (until ``end()``).
    static func begin() {
        _ = ctc_guard_state()
        _ = ctc_guard_begin()
    }

    /// Restores the handlers and stack of before ``begin()``.
    static func end() { ctc_guard_end() }

    /// `tracecmd_open_head`; the signal is non-zero if libtraceevent crashed.
    static func openHead(_ path: String, flags: Int32) -> (handle: OpaquePointer?, crashSignal: Int32) {
        var signal: Int32 = 0
        let handle = ctc_guarded_open_head(path, flags, &signal)
        return (handle, signal)
    }

    /// `tracecmd_init_data`; the signal is non-zero if libtracecmd crashed.
    static func initData(_ handle: OpaquePointer) -> (status: Int32, crashSignal: Int32) {
        var signal: Int32 = 0
        let status = ctc_guarded_init_data(handle, &signal)
        return (status, signal)
    }

    /// `tep_print_event` of the record's info (`raw`: its `name=value` fields) into `seq`;
    /// returns the signal if libtraceevent crashed, else 0.
    static func printEvent(_ tep: OpaquePointer, _ seq: inout trace_seq, _ record: UnsafeMutablePointer<tep_record>,
                           raw: Bool) -> Int32 {
        var signal: Int32 = 0
        ctc_guarded_print_event(tep, &seq, record, raw ? 1 : 0, &signal)
        return signal
    }
}
