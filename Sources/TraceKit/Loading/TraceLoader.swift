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
    ///   a directory, unreadable, corrupt compression, corrupt trace.dat). Bad
    ///   lines never throw: they become ``Diagnostic``s.
    public static func load(path: String, format: TraceFormat? = nil,
                            progress: (@Sendable (IndexProgress) -> Void)? = nil) throws -> LoadedTrace {
        if path != "-", let mapped = try mapPlainFile(path: path, limit: nil) {
            return try load(text: mapped, source: path, filePath: path, format: format, progress: progress)
        }
        let bytes = try readAll(path: path)
        return try load(bytes: bytes, source: path, filePath: path == "-" ? nil : path, format: format, progress: progress)
    }

    /// Loads and indexes only the first complete lines of the file at `path`, up to
    /// `maxBytes`: enough for a first screen while the whole file is still being indexed.
    ///
    /// The result is a ``LoadedTrace`` of that head (its ``LoadedTrace/count`` counts the
    /// head's events only); a file smaller than `maxBytes` loads whole. Compressed files,
    /// trace.dat files and stdin load whole (they cannot be cut without decoding).
    public static func loadHead(path: String, maxBytes: Int, format: TraceFormat? = nil) throws -> LoadedTrace {
        if path != "-", let mapped = try mapPlainFile(path: path, limit: maxBytes) {
            return try load(text: mapped, source: path, filePath: path, format: format, progress: nil)
        }
        return try load(path: path, format: format)
    }

    /// Loads and indexes a trace already in memory (possibly compressed).
    ///
    /// - Parameter source: the name used in diagnostics and errors.
    public static func load(bytes: [UInt8], source: String, format: TraceFormat? = nil,
                            progress: (@Sendable (IndexProgress) -> Void)? = nil) throws -> LoadedTrace {
        try load(bytes: bytes, source: source, filePath: nil, format: format, progress: progress)
    }

    /// Loads `bytes`; `filePath` is the file they were read from, if any (lets the
    /// trace.dat reader open it directly instead of through a temporary copy).
    static func load(bytes: [UInt8], source: String, filePath: String?, format: TraceFormat?,
                     progress: (@Sendable (IndexProgress) -> Void)?) throws -> LoadedTrace {
        try load(text: TraceText(bytes: bytes), source: source, filePath: filePath, format: format, progress: progress)
    }

    /// Loads `text` (mapped or in memory, possibly compressed or a trace.dat).
    static func load(text input: TraceText, source: String, filePath: String?, format: TraceFormat?,
                     progress: (@Sendable (IndexProgress) -> Void)?) throws -> LoadedTrace {
        let head = input.prefix(traceDatMagic.count)
        let compression = Decompression.detect(head)
        var text = input
        do {
            switch compression {
            case .none: break
            case .gzip: text = TraceText(bytes: try Decompression.gunzip(input.prefix(input.count)))
            case .xz: text = TraceText(bytes: try Decompression.unxz(input.prefix(input.count)))
            }
        } catch let failure as Decompression.Failure {
            throw TraceLoadError(file: source, problem: failure.reason)
        }
        if text.prefix(PerfDataInput.magic.count).starts(with: PerfDataInput.magic) {
            guard format == nil || format == .perfScript else {
                throw TraceLoadError(file: source, problem: "is a perf.data file, not --format \(format?.rawValue ?? "")")
            }
            let rendered = try PerfDataInput.text(path: compression == .none ? filePath : nil,
                                                  bytes: compression == .none && filePath != nil ? [] : text.prefix(text.count),
                                                  source: source)
            return Indexer.index(text: TraceText(bytes: rendered), source: source, format: .perfScript,
                                 compression: compression, progress: progress)
        }
        let isDat = text.prefix(traceDatMagic.count).starts(with: traceDatMagic)
        var resolved = format
        var datDiagnostics: [TraceDatDiagnostic] = []
        if isDat {
            guard format == nil || format == .traceDat else {
                throw TraceLoadError(file: source, problem: "is a trace.dat file, not --format \(format?.rawValue ?? "")")
            }
            let rendered = try traceDatText(
                compression == .none && filePath != nil ? [] : text.prefix(text.count), source: source,
                filePath: compression == .none ? filePath : nil)
            text = TraceText(bytes: rendered.bytes)
            datDiagnostics = rendered.diagnostics
            resolved = .traceDat
        } else if format == .traceDat {
            throw TraceLoadError(file: source, problem: "not a trace.dat file (no trace-cmd magic)")
        }
        return Indexer.index(text: text, source: source, format: resolved, compression: compression,
                             datDiagnostics: datDiagnostics, progress: progress)
    }

    /// Maps a plain, non-empty regular file read-only, cut after the last newline within
    /// `limit` bytes when a limit is given; nil when the file is not one to map (then it
    /// is read instead). Throws for a missing file or a directory.
    static func mapPlainFile(path: String, limit: Int?) throws -> TraceText? {
        var info = stat()
        guard stat(path, &info) == 0 else { throw TraceLoadError(file: path, problem: errnoText(errno)) }
        if (info.st_mode & S_IFMT) == S_IFDIR { throw TraceLoadError(file: path, problem: "is a directory") }
        guard (info.st_mode & S_IFMT) == S_IFREG, info.st_size > 0 else { return nil }
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw TraceLoadError(file: path, problem: errnoText(errno)) }
        defer { close(descriptor) }
        guard let whole = TraceText(mapping: descriptor, length: Int(info.st_size)) else { return nil }
        guard let limit, limit < whole.count else { return whole }
        // Only plain text can be cut; compressed and binary files load whole.
        let head = whole.prefix(traceDatMagic.count)
        guard Decompression.detect(head) == .none, !head.starts(with: traceDatMagic) else { return whole }
        var end = limit
        while end > 0, whole[end - 1] != ASCII.newline { end -= 1 }
        guard end > 0, let cut = TraceText(mapping: descriptor, length: end) else { return whole }
        return cut
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
    /// kernel's wording, one line per record (``TraceDatReader``), which the text indexer
    /// then reads like any tracefs file.
    ///
    /// The reader opens files by path; input that is not a plain file on disk (stdin, a
    /// compressed `.dat.xz`) goes through the reader's own temporary copy.
    static func traceDatText(_ bytes: [UInt8], source: String, filePath: String?) throws -> TraceDatText {
        do {
            if let filePath { return try TraceDatReader.renderText(path: filePath) }
            return try TraceDatReader.renderText(bytes: bytes, source: source)
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
        // A regular file is read up to the size it had when opened: a file another process
        // keeps appending to (a capture still running) loads what was there, and loading ends.
        // Files that report no size (procfs, tracefs) and pipes are read to their end.
        guard fstat(descriptor, &info) == 0 else { throw TraceLoadError(file: path, problem: errnoText(errno)) }
        let size = Int(info.st_size)
        let isSizedFile = (info.st_mode & S_IFMT) == S_IFREG && size > 0
        return try readAll(descriptor: descriptor, name: path, sizeHint: size, limit: isSizedFile ? size : nil)
    }

    private static func readAll(descriptor: Int32, name: String, sizeHint: Int = 0, limit: Int? = nil) throws -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(max(sizeHint, 1 << 16))
        let chunkSize = 1 << 20
        let chunk = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: chunkSize)
        defer { chunk.deallocate() }
        guard let base = chunk.baseAddress else { return bytes }
        while true {
            let wanted = limit.map { min(chunkSize, $0 - bytes.count) } ?? chunkSize
            if wanted <= 0 { return bytes }
            var readCount: Int
            repeat {
                readCount = read(descriptor, base, wanted)
            } while readCount < 0 && errno == EINTR
            if readCount < 0 { throw TraceLoadError(file: name, problem: errnoText(errno)) }
            if readCount == 0 { return bytes }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: chunk[0..<readCount]))
        }
    }

    /// Lowercase `strerror` text (`no such file or directory`).
    static func errnoText(_ code: Int32) -> String {
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
