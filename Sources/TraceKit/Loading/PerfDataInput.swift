import Foundation

/// `perf.data` given directly: read through `perf script`, perf's own reader (the
/// tracepoint formats live inside the file; only perf/libtraceevent decode them).
enum PerfDataInput {
    /// `perf.data` magic (`PERFILE2`, perf's `tools/perf/util/header.c`).
    static let magic: [UInt8] = Array("PERFILE2".utf8)

    /// The `perf script` fields svmdbg reads: `comm pid/tid [cpu] sec.nsec: system:event: payload`.
    static let fields = "comm,pid,tid,cpu,time,event,trace"

    /// The command a user runs by hand to get the same text.
    static func command(for path: String) -> String {
        "perf script -i \(path) --ns -F \(fields) > \(path).perf"
    }

    /// The path of `perf` on `PATH`, if any.
    static func perfExecutable() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/perf"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Runs `perf script` on the file at `path` (or on `bytes` written to a temporary
    /// file) and returns its text. Throws ``TraceLoadError`` with the command to run when
    /// perf is missing or fails.
    static func text(path: String?, bytes: [UInt8], source: String) throws -> [UInt8] {
        guard let perf = perfExecutable() else {
            throw TraceLoadError(file: source, problem:
                "is a perf.data file and perf is not installed: run `\(command(for: source))` where perf is (Debian: apt install linux-perf) and open the .perf text")
        }
        var input = path
        var temporary: String?
        if input == nil {
            let name = NSTemporaryDirectory() + "svmdbg-perf-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).data"
            guard FileManager.default.createFile(atPath: name, contents: Data(bytes)) else {
                throw TraceLoadError(file: source, problem: "is a perf.data file; cannot write a temporary copy for perf script")
            }
            input = name
            temporary = name
        }
        defer { if let temporary { try? FileManager.default.removeItem(atPath: temporary) } }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: perf)
        // --ns: exact times; -F: comm, pid/tid, cpu, time, event, payload (no ip/sym).
        process.arguments = ["script", "-i", input ?? "", "--ns", "-F", fields]
        let output = Pipe()
        // perf's messages go to an unlinked temporary file, not a pipe: a chatty perf can
        // never block on a full stderr pipe, and nothing has to drain it alongside stdout
        // (no second thread, no waiting loop).
        var errorTemplate = Array((NSTemporaryDirectory() + "svmdbg-perf-errors-XXXXXX").utf8CString)
        let errorDescriptor = errorTemplate.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard errorDescriptor >= 0 else {
            throw TraceLoadError(file: source, problem: "is a perf.data file; cannot create a temporary file for perf's messages")
        }
        errorTemplate.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        let errors = FileHandle(fileDescriptor: errorDescriptor, closeOnDealloc: true)
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch {
            throw TraceLoadError(file: source, problem: "is a perf.data file; running \(perf) failed: \(error)")
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            _ = lseek(errorDescriptor, 0, SEEK_SET)
            let message = String(decoding: (try? errors.readToEnd())?.prefix(300) ?? Data(), as: UTF8.self)
                .split(separator: "\n").last.map(String.init) ?? ""
            throw TraceLoadError(file: source, problem:
                "is a perf.data file; `perf script` failed (exit \(process.terminationStatus)): \(message). Try `\(command(for: source))` by hand")
        }
        return [UInt8](data)
    }
}
