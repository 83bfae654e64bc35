import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Opens trace files of every supported layout and indexes them into a ``LoadedTrace``.
///
/// ```swift
/// let trace = try TraceLoader.load(path: "run.trace.xz")
/// for event in trace.events where event.name == "kvm_exit" { … }
/// ```
public enum TraceLoader {
    /// trace-cmd `trace.dat` magic: `\x17\x08\x44` then `tracing` (trace-cmd `trace-cmd.dat(5)`).
    static let traceDatMagic: [UInt8] = [0x17, 0x08, 0x44] + Array("tracing".utf8)

    /// Loads and indexes the trace at `path` (`-` reads standard input).
    ///
    /// - Parameters:
    ///   - path: a file path, or `-` for stdin. gzip and xz files are decompressed
    ///     (detected by magic bytes, not by name).
    ///   - format: the layout to read, or `nil` to detect it from the content.
    ///   - progress: called from the loading thread as indexing advances.
    /// - Throws: ``TraceLoadError`` only when the input is unusable as a whole (missing,
    ///   a directory, unreadable, corrupt compression, trace.dat without a reader). Bad
    ///   lines never throw: they become ``Diagnostic``s.
    public static func load(path: String, format: TraceFormat? = nil,
                            progress: (@Sendable (IndexProgress) -> Void)? = nil) throws -> LoadedTrace {
        let bytes = try readAll(path: path)
        return try load(bytes: bytes, source: path, format: format, progress: progress)
    }

    /// Loads and indexes a trace already in memory (possibly compressed).
    ///
    /// - Parameter source: the name used in diagnostics and errors.
    public static func load(bytes: [UInt8], source: String, format: TraceFormat? = nil,
                            progress: (@Sendable (IndexProgress) -> Void)? = nil) throws -> LoadedTrace {
        let compression = Decompression.detect(bytes)
        var text: [UInt8]
        do {
            switch compression {
            case .none: text = bytes
            case .gzip: text = try Decompression.gunzip(bytes)
            case .xz: text = try Decompression.unxz(bytes)
            }
        } catch let failure as Decompression.Failure {
            throw TraceLoadError(file: source, problem: failure.reason)
        }
        let isDat = text.starts(with: traceDatMagic)
        var resolved = format
        if isDat {
            guard format == nil || format == .traceDat else {
                throw TraceLoadError(file: source, problem: "is a trace.dat file, not --format \(format?.rawValue ?? "")")
            }
            text = try traceDatText(text, source: source)
            resolved = .traceDat
        } else if format == .traceDat {
            throw TraceLoadError(file: source, problem: "not a trace.dat file (no trace-cmd magic)")
        }
        return Indexer.index(text: text, source: source, format: resolved, compression: compression, progress: progress)
    }

    /// Loads in a background task and streams progress, ending with the loaded trace.
    public static func indexing(path: String, format: TraceFormat? = nil) -> AsyncThrowingStream<IndexingUpdate, Error> {
        AsyncThrowingStream { continuation in
            let task = Task.detached {
                do {
                    let trace = try load(path: path, format: format) { continuation.yield(.progress($0)) }
                    continuation.yield(.finished(trace))
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// The one seam for `trace.dat`: turns the binary file into tracefs-layout text in the
    /// kernel's wording, one line per record, which the text indexer then reads.
    ///
    /// ``TraceDatReader`` renders the records in the kernel's own wording (libtracecmd,
    /// no plugins; it copies bytes from stdin or a decompressed file to a private temporary
    /// file because libtracecmd reads files only).
    static func traceDatText(_ bytes: [UInt8], source: String) throws -> [UInt8] {
        do {
            return try TraceDatReader.renderText(bytes: bytes, source: source).bytes
        } catch {
            throw TraceLoadError(file: source, problem: error.problem)
        }
    }

    /// Reads a whole file (or stdin for `-`) into memory.
    static func readAll(path: String) throws -> [UInt8] {
        if path == "-" { return try readAll(descriptor: STDIN_FILENO, name: path) }
        var info = stat()
        guard stat(path, &info) == 0 else { throw TraceLoadError(file: path, problem: errnoText(errno)) }
        if (info.st_mode & S_IFMT) == S_IFDIR { throw TraceLoadError(file: path, problem: "is a directory") }
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw TraceLoadError(file: path, problem: errnoText(errno)) }
        defer { close(descriptor) }
        return try readAll(descriptor: descriptor, name: path, sizeHint: Int(info.st_size))
    }

    private static func readAll(descriptor: Int32, name: String, sizeHint: Int = 0) throws -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(max(sizeHint, 1 << 16))
        let chunk = 1 << 20
        while true {
            let oldCount = bytes.count
            var readCount = 0
            var failure: Int32 = 0
            bytes.append(contentsOf: repeatElement(0, count: chunk))
            bytes.withUnsafeMutableBufferPointer { buffer in
                guard let base = buffer.baseAddress else { return }
                repeat {
                    readCount = read(descriptor, base + oldCount, chunk)
                } while readCount < 0 && errno == EINTR
                if readCount < 0 { failure = errno }
            }
            bytes.removeLast(chunk - max(readCount, 0))
            if readCount < 0 { throw TraceLoadError(file: name, problem: errnoText(failure)) }
            if readCount == 0 { return bytes }
        }
    }

    /// Lowercase `strerror` text (`no such file or directory`).
    private static func errnoText(_ code: Int32) -> String {
        guard let message = strerror(code) else { return "error \(code)" }
        let text = String(cString: message)
        return text.prefix(1).lowercased() + text.dropFirst()
    }
}

/// A step of ``TraceLoader/indexing(path:format:)``.
public enum IndexingUpdate: Sendable {
    /// Indexing advanced.
    case progress(IndexProgress)
    /// Indexing finished.
    case finished(LoadedTrace)
}
