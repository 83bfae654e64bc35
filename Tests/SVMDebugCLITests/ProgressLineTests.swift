import Foundation
import Testing
import TestSupport

/// A tracefs text of about `megabytes` MB: a shipped capture's event lines repeated, so that
/// indexing and replaying it take long enough (over the progress line's first-draw delay).
private func largeTrace(megabytes: Int) throws -> String {
    let sample = try String(contentsOf: RepositoryPaths.trace("6.12/l2-svm-insns.trace"), encoding: .utf8)
    let body = sample.split(separator: "\n").filter { !$0.hasPrefix("#") }.joined(separator: "\n") + "\n"
    let path = NSTemporaryDirectory() + "svmdbg-progress-\(getpid())-\(megabytes).trace"
    if !FileManager.default.fileExists(atPath: path) {
        var text = "# tracer: nop\n"
        text.reserveCapacity(megabytes << 20)
        while text.utf8.count < megabytes << 20 { text += body }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }
    return path
}

/// Runs `svmdbg arguments` under `script`, so its standard error is a terminal; standard
/// output goes to /dev/null. Returns what the terminal received.
private func runOnTerminal(_ arguments: [String]) throws -> String {
    let command = ([RepositoryPaths.svmdbgExecutable.path] + arguments).map { "'\($0)'" }.joined(separator: " ")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
    process.arguments = ["-qfec", command + " >/dev/null", "/dev/null"]
    var environment = ProcessInfo.processInfo.environment
    environment["COLUMNS"] = "100"
    process.environment = environment
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
}

@Suite(.serialized) struct ProgressLineTests {
    @Test("check, stats, export and diff write nothing extra on stderr when it is not a terminal")
    func silentWhenPiped() throws {
        let path = try largeTrace(megabytes: 6)
        let output = NSTemporaryDirectory() + "svmdbg-progress-\(getpid()).jsonl"
        defer { try? FileManager.default.removeItem(atPath: output) }
        for arguments in [["check", "--json", path], ["stats", path], ["diff", path, "--profile", "6.1", "--profile", "6.12"],
                          ["export", path, "--all", "-o", output, "--force"]] {
            let run = try runSVMDebug(arguments)
            #expect(!run.stderrBytes.contains(0x0d), "\(arguments[0]): a carriage return on piped stderr")
            #expect(!run.stderrBytes.contains(0x1b), "\(arguments[0]): an escape sequence on piped stderr")
            #expect(!run.stdoutBytes.contains(0x1b), "\(arguments[0]): an escape sequence on stdout")
            #expect(!run.stderr.contains("svmdbg: indexing") && !run.stderr.contains("svmdbg: replaying"))
        }
        // A run that writes nothing to stderr still writes nothing.
        let clean = try runSVMDebug(["check", "--json", RepositoryPaths.trace("6.12/l2-svm-insns.trace").path])
        #expect(clean.status == 0)
        #expect(clean.stderrBytes.isEmpty)
    }

    @Test("on a terminal, check draws one progress line with \\r, percent and events/s, and erases it")
    func drawnOnTerminal() throws {
        let path = try largeTrace(megabytes: 24)
        let screen = try runOnTerminal(["check", path])
        #expect(screen.contains("\rsvmdbg: indexing") || screen.contains("\rsvmdbg: replaying"),
                "no progress line: \(screen.debugDescription.prefix(300))")
        #expect(screen.contains("% "))
        #expect(screen.contains("events/s"))
        #expect(!screen.contains("\n"), "the line must be redrawn in place, never scrolled")
        #expect(screen.hasSuffix("\r\u{1B}[K"), "the line is not erased at the end: \(screen.suffix(80).debugDescription)")
        // At most 10 redraws a second, plus the final erase.
        let draws = screen.components(separatedBy: "\rsvmdbg:").count - 1
        #expect(draws >= 1)
    }

    @Test("stats on a terminal draws and erases its line; a short run draws nothing")
    func statsOnTerminal() throws {
        let small = RepositoryPaths.trace("6.12/l2-svm-insns.trace").path
        #expect(try runOnTerminal(["stats", small]).isEmpty)
        let screen = try runOnTerminal(["stats", try largeTrace(megabytes: 24)])
        if screen.contains("svmdbg:") {
            #expect(screen.hasSuffix("\r\u{1B}[K"))
        }
    }
}
