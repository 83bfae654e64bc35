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
    /// - Throws: `TraceDatError.corrupt` if libtracecmd rejects the header or the data.
    init(path: String) throws(TraceDatError) {
        let flags = Int32(bitPattern: TRACECMD_FL_LOAD_NO_PLUGINS.rawValue)
        guard let handle = tracecmd_open_head(path, flags) else {
            throw .corrupt(path: path, reason: "libtracecmd could not read the file's header sections")
        }
        guard tracecmd_init_data(handle) >= 0 else {
            throw .corrupt(path: path, reason: "libtracecmd could not read the trace data section")
        }
        guard let tep = tracecmd_get_tep(handle) else {
            tracecmd_close(handle)
            throw .corrupt(path: path, reason: "libtracecmd returned no event parser")
        }
        self.handle = handle
        self.tep = tep
    }

    deinit { tracecmd_close(handle) }
}
