import Foundation
#if canImport(Glibc)
import Glibc
#endif
import TestSupport
import Testing

/// `svmdbg --follow FILE` and `svmdbg --pipe FIFO` in a real terminal (tmux): this test is
/// the process that writes the trace, a few lines at a time with pauses, and each new exit
/// must be on screen, with its verdict, within a second of the write.
@Suite(.serialized) struct LiveEndToEndTests {
    /// msr-prot with one recorded outcome flipped (as in `TUIEndToEndTests`): the live replay
    /// must find that mismatch as it arrives.
    static func mutatedLines() throws -> [String] {
        let text = try String(contentsOf: RepositoryPaths.trace("6.12/msr-prot.trace"), encoding: .utf8)
            .replacingOccurrences(
                of: "22.046753: kvm_nested_vmexit_inject: reason: msr", with: "22.046753: kvm_nested_vmexit_inject: reason: hlt")
        return text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map { $0 + "\n" }
    }

    /// The lines cut after each `kvm_entry` that follows a `kvm_exit` (one exit closes per
    /// piece on this one-vCPU trace).
    static func pieces(_ lines: [String]) -> [String] {
        var pieces: [String] = []
        var current = ""
        for line in lines {
            current += line
            if line.contains(" kvm_entry:"), current.contains(" kvm_exit:") {
                pieces.append(current)
                current = ""
            }
        }
        if !current.isEmpty { pieces.append(current) }
        return pieces
    }

    static func write(_ descriptor: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        var done = 0
        while done < bytes.count {
            let n = bytes[done...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if n <= 0 { if errno == EINTR { continue }; return }
            done += n
        }
    }

    /// Appends the pieces one by one (every third split mid-line with a pause in between)
    /// and checks that the exit each one closes is listed with a verdict within a second.
    static func feed(_ pieces: [String], to descriptor: Int32, tmux: TmuxSession, name: String) throws -> [Duration] {
        var latencies: [Duration] = []
        let clock = ContinuousClock()
        for (k, piece) in pieces.enumerated() {
            let exits = k + 1
            if k % 3 == 2, let middle = piece.index(piece.startIndex, offsetBy: piece.count / 2, limitedBy: piece.endIndex) {
                // Half a line: nothing new may show until the rest arrives.
                write(descriptor, String(piece[..<middle]))
                Thread.sleep(forTimeInterval: 0.25)
                let screen = try tmux.screen()
                #expect(!screen.contains("/\(exits)  profile"), "exit \(exits) shown from half a piece:\n\(screen)")
                write(descriptor, String(piece[middle...]))
            } else {
                write(descriptor, piece)
            }
            let written = clock.now
            let row = String(format: "#%d ", exits - 1)
            try tmux.waitFor("exit #\(exits - 1) listed with a verdict", timeout: .seconds(5)) { screen in
                screen.contains("\(name)  #\(exits - 1)/\(exits)  profile 6.12  following")
                    && screen.split(separator: "\n").contains { line in
                        line.contains(row) && ["✔", "≈", "✘", "?"].contains { line.hasPrefix($0) }
                    }
            }
            latencies.append(clock.now - written)
            Thread.sleep(forTimeInterval: 0.1)
        }
        return latencies
    }

    @Test("--follow: each exit appended to the file is listed with its verdict within 1 s; the selection follows; truncation starts over",
          .enabled(if: TmuxSession.isInstalled, "tmux is not installed"))
    func follow() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("svmdbg-live-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("growing.trace").path
        let lines = try Self.mutatedLines()
        let pieces = Self.pieces(lines)
        // The file starts with the header only.
        let header = lines.prefix { $0.hasPrefix("#") }.joined()
        try header.write(toFile: path, atomically: false, encoding: .utf8)
        let body = Self.pieces(Array(lines.drop { $0.hasPrefix("#") }))

        let tmux = try TmuxSession(environment: ["LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"])
        defer { tmux.kill() }
        try tmux.waitFor("the shell prompt") { $0.hasPrefix("$") }
        try tmux.type("'\(RepositoryPaths.svmdbgExecutable.path)' --follow '\(path)'; echo \"svmdbg-status=$?\"")
        try tmux.press("Enter")
        try tmux.waitFor(all: ["following: no exit yet", "growing.trace  -/0  profile 6.12  following"])

        let descriptor = open(path, O_WRONLY | O_APPEND)
        #expect(descriptor >= 0)
        defer { close(descriptor) }
        let latencies = try Self.feed(Array(body.prefix(30)), to: descriptor, tmux: tmux, name: "growing.trace")
        // The last exit (an I/O exit to userspace as the VM stops) has no kvm_entry after it:
        // it stays open, so it is not listed while the file may still grow.
        Self.write(descriptor, body.dropFirst(30).joined())
        #expect(body.count >= 31)
        #expect(latencies.allSatisfy { $0 < .seconds(1) }, "latencies: \(latencies)")
        // The flipped outcome is the one mismatch, as for the file read once.
        try tmux.waitFor(all: ["✘1 ?0 ·0 ✔19 ≈10", "growing.trace  #29/30  profile 6.12  following"])

        // The selection stays put when it is not on the last exit.
        try tmux.type("g")
        try tmux.waitFor("#0/30")
        // Truncate and write the first pieces again: the list starts over, with a message.
        #expect(ftruncate(descriptor, 0) == 0)
        Thread.sleep(forTimeInterval: 0.3)
        Self.write(descriptor, header + body.prefix(3).joined())
        try tmux.waitFor(all: ["growing.trace was truncated: reading it again from the start", "#2/3  profile 6.12  following"],
                         timeout: .seconds(5))
        // Selection at the end again: a new exit moves it along.
        Self.write(descriptor, body[3])
        try tmux.waitFor("#3/4  profile 6.12  following", timeout: .seconds(2))
        try tmux.type("g")
        try tmux.waitFor("#0/4")
        Self.write(descriptor, body[4])
        try tmux.waitFor("#0/5  profile", timeout: .seconds(2))
        try tmux.type("q")
        try tmux.waitFor("svmdbg-status=0")
        print("--follow latencies (write to screen, \(latencies.count) exits): max \(latencies.max()!), mean \(latencies.reduce(.zero, +) / latencies.count)")
    }

    @Test("--pipe: a FIFO's exits are listed within 1 s each; when the writer closes, the last exit closes and the bar says ended",
          .enabled(if: TmuxSession.isInstalled, "tmux is not installed"))
    func pipe() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("svmdbg-live-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("trace.fifo").path
        #expect(mkfifo(path, 0o600) == 0)
        let lines = try Self.mutatedLines()
        let pieces = Self.pieces(lines)

        let tmux = try TmuxSession(environment: ["LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"])
        defer { tmux.kill() }
        try tmux.waitFor("the shell prompt") { $0.hasPrefix("$") }
        try tmux.type("'\(RepositoryPaths.svmdbgExecutable.path)' --pipe '\(path)'; echo \"svmdbg-status=$?\"")
        try tmux.press("Enter")
        try tmux.waitFor(all: ["following: no exit yet", "trace.fifo  -/0  profile 6.12  following"])
        // svmdbg holds the read end: this open does not block.
        let descriptor = open(path, O_WRONLY)
        #expect(descriptor >= 0)
        // The rest is written just before the writer closes the FIFO.
        let latencies = try Self.feed(Array(pieces.prefix(30)), to: descriptor, tmux: tmux, name: "trace.fifo")
        #expect(latencies.allSatisfy { $0 < .seconds(1) }, "latencies: \(latencies)")
        Self.write(descriptor, pieces.dropFirst(30).joined())
        close(descriptor)
        try tmux.waitFor(all: ["trace.fifo  #30/31  profile 6.12  ended", "the writer closed it", "✘1 ?0 ·0 ✔20 ≈10"],
                         timeout: .seconds(5))
        try tmux.type("q")
        try tmux.waitFor("svmdbg-status=0")
        print("--pipe latencies (write to screen, \(latencies.count) exits): max \(latencies.max()!)")
    }
}

/// The command-line contract of the live options (no terminal needed: refused before it).
@Suite struct LiveOptionTests {
    @Test("--follow and --pipe exclude each other; capture --open refuses --duration, COMMAND and .dat; '-' is refused for --pipe")
    func refusals() throws {
        let trace = RepositoryPaths.trace("6.12/msr-prot.trace").path
        let both = try runSVMDebug(["--follow", "--pipe", trace])
        #expect(both.status != 0 && both.stderr.contains("--follow and --pipe exclude each other"))
        let timed = try runSVMDebug(["capture", "--open", "--duration", "3"])
        #expect(timed.status != 0)
        #expect(timed.stderr.contains("--open records until you quit the debugger"))
        let dat = try runSVMDebug(["capture", "--open", "-o", "x.dat"])
        #expect(dat.stderr.contains("a .dat file is only extracted at the end"))
        let stdin = try runSVMDebug(["--pipe", "-"])
        #expect(stdin.status == 2 && stdin.stderr.contains("give the pipe's path"))
        let missing = try runSVMDebug(["--follow", "/nonexistent/growing.trace"])
        #expect(missing.status == 2 && missing.stderr.contains("no such file"))
    }
}
