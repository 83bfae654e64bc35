import CTraceCmd
import Foundation

/// An open libtracecmd input handle for one trace.dat file.
///
/// A class so that `deinit` closes the handle exactly once, however rendering ends.
final class TraceCmdInput {
    /// The libtracecmd handle (`struct tracecmd_input *`).
    let handle: OpaquePointer
    /// The event parser holding the file's formats (`struct tep_handle *`), owned by `handle`.
    let tep: OpaquePointer

    /// Opens `path` with plugins disabled, so payloads come out in the kernel's wording.
    ///
    /// Opens in two steps, as `trace-cmd report` does (`tracecmd_open_head`, then
    /// `tracecmd_init_data`), rather than with `tracecmd_open`: libtracecmd 3.1.6 crashes in
    /// `tracecmd_close` when called on a handle whose data failed to initialise (seen with a
    /// truncated v6 file, inside `tracecmd_open` itself). Such a handle is therefore
    /// abandoned, not closed: a corrupt file leaks one handle and its file descriptor
    /// instead of crashing the process.
    ///
    /// Both steps run under the shim's crash guard (`ctc_guarded_open_head`,
    /// `ctc_guarded_init_data`; the caller has called `ctc_guard_begin`): libtraceevent 1.7.1
    /// crashes with SIGSEGV parsing corrupt event-format text (found by mutating
    /// `traces/6.12/minimal.dat`; kept in `Tests/Fixtures/fuzz/dat-*`). A crash inside the
    /// library becomes this error and the handle is abandoned.
    ///
    /// - Throws: `TraceDatError.corrupt` if libtracecmd rejects (or crashes on) the header or the data.
    init(path: String) throws(TraceDatError) {
        let flags = Int32(bitPattern: TRACECMD_FL_LOAD_NO_PLUGINS.rawValue)
        let (opened, openSignal) = LibraryGuard.openHead(path, flags: flags)
        if openSignal != 0 {
            throw .corrupt(path: path, reason: "libtraceevent crashed (signal \(openSignal)) reading the file's event formats")
        }
        guard let handle = opened else {
            throw .corrupt(path: path, reason: "libtracecmd could not read the file's header sections")
        }
        let (status, initSignal) = LibraryGuard.initData(handle)
        if initSignal != 0 {
            throw .corrupt(path: path, reason: "libtracecmd crashed (signal \(initSignal)) reading the trace data section")
        }
        guard status >= 0 else {
            throw .corrupt(path: path, reason: "libtracecmd could not read the trace data section")
        }
        guard let tep = tracecmd_get_tep(handle) else {
            tracecmd_close(handle)
            throw .corrupt(path: path, reason: "libtracecmd returned no event parser")
        }
        self.handle = handle
        self.tep = tep
    }

    /// Set when libtraceevent crashed while using the handle: its state is then not
    /// trusted, and the handle is abandoned instead of closed.
    var isAbandoned = false

    deinit { if !isAbandoned { tracecmd_close(handle) } }
}
