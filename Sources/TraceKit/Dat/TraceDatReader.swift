import CTraceCmd
import Foundation

/// Reads trace-cmd's binary `trace.dat` files (versions 6 and 7, compressed or not) through
/// libtracecmd and libtraceevent, and renders them as tracefs text.
///
/// The rendered text is what the kernel itself would have written to tracefs `trace` for
/// the same records (see `TraceDatText`), so the rest of TraceKit parses it like any
/// tracefs file. Plugins are never loaded: payloads are the kernel's print formats as
/// libtraceevent evaluates them, not `plugin_kvm`'s rewrites.
public enum TraceDatReader {
    /// The bytes every trace.dat file starts with: `\x17\x08\x44tracing`.
    public static let magic: [UInt8] = TraceDatHeader.magic

    /// Whether `firstBytes` (the first bytes of a file, at least 10) start with the
    /// trace.dat magic.
    public static func isTraceDat(_ firstBytes: some Collection<UInt8>) -> Bool {
        TraceDatHeader.hasMagic(firstBytes)
    }

    /// Renders every record of the trace.dat file at `path` as one line of tracefs text, in
    /// time order across CPUs.
    ///
    /// Where libtraceevent 1.7.1 cannot word an event like the kernel, the payload is built
    /// from the record's raw fields instead: `kvm_inj_exception` (its format does not parse),
    /// `kvm_nested_vmenter` (`guest_cr3`/`nested_cr3` swapped) and `kvm_userspace_exit` with a
    /// negative `errno` (`restart`). Any other event whose format does not parse is shown as
    /// `name=value` pairs of its fields and reported in `diagnostics`. Known remaining
    /// difference: symbol tables keyed by enum names the file does not define print the raw
    /// value (`kvm_update_master_clock`/`kvm_track_tsc`: `hostclock 0x1` for `hostclock tsc`).
    ///
    /// - Throws: `TraceDatError` naming the file if it cannot be read, is not a trace.dat
    ///   file, or libtracecmd rejects it (truncated or corrupt).
    public static func renderText(path: String) throws(TraceDatError) -> TraceDatText {
        try renderText(path: path, wordsFromRawFields: true)
    }

    /// Renders a trace.dat file already in memory (read from stdin, or decompressed from a
    /// `.dat.xz`), exactly like `renderText(path:)`.
    ///
    /// libtracecmd reads only from files, so the bytes go to a private temporary file
    /// (mode 0600, removed before returning).
    ///
    /// - Parameter source: the name errors give for the input (its path, or `-`).
    /// - Throws: `TraceDatError` naming `source`, as `renderText(path:)` does.
    public static func renderText(bytes: [UInt8], source: String) throws(TraceDatError) -> TraceDatText {
        guard TraceDatHeader.hasMagic(bytes) else { throw .notTraceDat(path: source) }
        let temporary = FileManager.default.temporaryDirectory
            .appendingPathComponent("svmdbg-\(UUID().uuidString).dat").path
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard descriptor >= 0 else {
            throw .unreadable(path: source, reason: "cannot create a temporary copy: \(String(cString: strerror(errno)))")
        }
        defer { unlink(temporary) }
        let written = bytes.withUnsafeBytes { buffer -> Bool in
            guard let base = buffer.baseAddress else { return true }
            var offset = 0
            while offset < buffer.count {
                let count = write(descriptor, base + offset, buffer.count - offset)
                if count < 0, errno == EINTR { continue }
                guard count > 0 else { return false }
                offset += count
            }
            return true
        }
        let writeError = errno
        close(descriptor)
        guard written else {
            throw .unreadable(path: source, reason: "cannot write a temporary copy: \(String(cString: strerror(writeError)))")
        }
        do {
            return try renderText(path: temporary, wordsFromRawFields: true)
        } catch {
            throw error.naming(source, insteadOf: temporary)
        }
    }

    /// `renderText(path:)`, optionally without the raw-field wordings of the events
    /// libtraceevent gets wrong (for tests of the `name=value` fallback).
    static func renderText(path: String, wordsFromRawFields: Bool) throws(TraceDatError) -> TraceDatText {
        let header = try TraceDatHeader.read(path: path)
        try TraceDatPreflight.check(path: path, header: header)
        return try libraryLock.withLock { () throws(TraceDatError) -> TraceDatText in
            silenceLibraryLogs()
            // Faults inside libtracecmd/libtraceevent become errors, not a dead process (shim.h).
            LibraryGuard.begin()
            defer { LibraryGuard.end() }
            let input = try TraceCmdInput(path: path)
            var renderer = TraceDatRenderer(tep: input.tep, wordsFromRawFields: wordsFromRawFields)
            renderer.renderAll(from: input.handle)
            if renderer.crashSignal != 0 { input.isAbandoned = true }
            renderInstances(of: input, into: &renderer)
            return TraceDatText(
                bytes: renderer.writer.bytes,
                recordCount: renderer.recordCount,
                cpus: Int(tep_get_cpus(input.tep)),
                fileVersion: header.version,
                diagnostics: renderer.diagnostics())
        }
    }

    /// Renders a named buffer instance when the top-level buffer holds no record.
    ///
    /// `trace-cmd extract -B NAME` and `trace-cmd record -B NAME` (what `svmdbg capture`
    /// writes from its own ftrace instance) store the events in a named buffer and leave the
    /// top-level buffer empty. The first instance holding records is then rendered, and a
    /// diagnostic names it; instances are separate buffers with their own clocks, so they are
    /// never interleaved, and further instances are only counted. When the top-level buffer
    /// has records, instances are counted and not rendered, as before.
    private static func renderInstances(of input: TraceCmdInput, into renderer: inout TraceDatRenderer) {
        let count = Int(tracecmd_buffer_instances(input.handle))
        guard count > 0, renderer.crashSignal == 0 else { return }
        guard renderer.recordCount == 0 else {
            renderer.noteExtraBuffers(count: count)
            return
        }
        for index in 0..<count {
            guard let instance = tracecmd_buffer_instance_handle(input.handle, Int32(index)) else { continue }
            let name = tracecmd_buffer_instance_name(input.handle, Int32(index)).map { String(cString: $0) } ?? "#\(index)"
            renderer.renderAll(from: instance)
            if renderer.crashSignal != 0 {
                // The library's state is not trusted any more: leave the handle open.
                input.isAbandoned = true
                return
            }
            tracecmd_close(instance)
            if renderer.recordCount > 0 {
                renderer.noteRenderedInstance(name: name, others: count - 1)
                return
            }
        }
    }

    /// Turns off the libraries' own messages on stderr ("Unsupported file version 99",
    /// "libtracecmd: No such file or directory", format parse warnings), which would land in
    /// the middle of a terminal UI. Every failure they report reaches the caller as a
    /// `TraceDatError` or a diagnostic instead. The log levels are process-wide settings of
    /// the two libraries, which nothing else in svmdbg uses.
    private static func silenceLibraryLogs() {
        tracecmd_set_loglevel(TEP_LOG_NONE)
        tep_set_loglevel(TEP_LOG_NONE)
    }

    /// Serialises all use of libtracecmd/libtraceevent in the process.
    ///
    /// The libraries keep process-wide state (log level, plugin and parser caches) and do
    /// not document thread safety; loads are rare and each is single-threaded anyway.
    private static let libraryLock = NSLock()
}

extension NSLock {
    /// Runs `body` while holding the lock, rethrowing its typed error.
    fileprivate func withLock<Result>(_ body: () throws(TraceDatError) -> Result) throws(TraceDatError) -> Result {
        lock()
        defer { unlock() }
        return try body()
    }
}
