import Foundation
import TestSupport
import Testing
@testable import TraceKit

/// The shipped 6.12 `minimal` capture (93 lines: 12 header lines, 81 events), as text.
private let minimalText: String = {
    (try? String(contentsOf: RepositoryPaths.trace("6.12/minimal.trace"), encoding: .utf8)) ?? ""
}()

/// The lines of `minimalText`, without their `\n`.
private var minimalLines: [String] { minimalText.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init) }

/// A real kvm_exit line of the capture (minimal.trace line 77).
private let realExitLine =
    "          svmlab-401     [000] d..1.     6.295825: kvm_exit: vcpu 0 reason io rip 0x10902 info1 0x0000000005100040 info2 0x0000000000010903 intr_info 0x00000000 error_code 0x00000000"

/// Loads `bytes` as an in-memory trace.
private func load(_ bytes: [UInt8], format: TraceFormat? = nil) throws -> LoadedTrace {
    try TraceLoader.load(bytes: bytes, source: "hostile.trace", format: format)
}

/// Every line is counted once: `read == understood + raw + unreadable + metadata`.
private func expectAccountingAddsUp(_ trace: LoadedTrace, _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
    let lines = trace.lineAccounting
    #expect(lines.read == lines.understood + lines.raw + lines.unreadable + lines.metadata, comment, sourceLocation: sourceLocation)
    #expect(lines.events == trace.count, comment, sourceLocation: sourceLocation)
}

@Suite struct HostileInputTests {
    @Test("the minimal capture loads as the baseline the other tests change")
    func baseline() throws {
        let trace = try load(Array(minimalText.utf8))
        #expect(trace.count == 81)
        #expect(trace.lineAccounting.read == 93)
        #expect(trace.diagnosticCount == 0)
        #expect(trace.unusableReason == nil)
    }

    @Test("an empty file loads with no lines, and is reported as unusable")
    func emptyFile() throws {
        let trace = try load([])
        #expect(trace.count == 0)
        #expect(trace.lineAccounting == LineAccounting())
        #expect(trace.unusableReason == "is empty (no lines)")
    }

    @Test("binary junk yields no events, a binary-data diagnostic per line with NUL, and is unusable")
    func binaryFile() throws {
        // A deterministic byte soup over all 256 values (NUL included), 64 KiB.
        var generator = SplitMix64(seed: 0x5eed)
        let bytes = (0..<65_536).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        let trace = try load(bytes)
        expectAccountingAddsUp(trace)
        #expect(trace.count == 0)
        #expect(trace.lineAccounting.unreadable == trace.lineAccounting.read - trace.lineAccounting.metadata)
        #expect(trace.diagnosticCountsByKind[.binaryData, default: 0] > 0)
        let reason = try #require(trace.unusableReason)
        #expect(reason.hasPrefix("is not a tracefs trace: no event line"))
        #expect(!reason.unicodeScalars.contains { $0.value < 0x20 || (0x7f...0x9f).contains($0.value) })
    }

    @Test("a NUL byte inside one real line makes that line binary data and leaves every other line")
    func nulInsideALine() throws {
        var lines = minimalLines
        lines[76] = String(lines[76].prefix(40)) + "\u{0}\u{0}" + String(lines[76].dropFirst(40))  // line 77
        let trace = try load(Array((lines.joined(separator: "\n") + "\n").utf8))
        expectAccountingAddsUp(trace)
        #expect(trace.count == 80)
        #expect(trace.lineAccounting.unreadable == 1)
        #expect(trace.diagnostics.map(\.kind) == [.binaryData])
        #expect(trace.diagnostics.first?.line == 77)
    }

    @Test("a 10 MB line between real lines is one unreadable line with a short quote, quickly")
    func tenMegabyteLine() throws {
        var lines = minimalLines
        lines.insert(String(repeating: "A", count: 10 << 20), at: 50)
        let bytes = Array((lines.joined(separator: "\n") + "\n").utf8)
        let clock = ContinuousClock()
        var trace: LoadedTrace?
        let elapsed = try clock.measure { trace = try load(bytes) }
        let loaded = try #require(trace)
        expectAccountingAddsUp(loaded)
        #expect(loaded.count == 81)
        #expect(loaded.lineAccounting.unreadable == 1)
        let diagnostic = try #require(loaded.diagnostics.first)
        #expect(diagnostic.line == 51)
        // Right after an event line, a line with no prefix reads as a wrapped continuation.
        #expect(diagnostic.kind == .continuationLine)
        #expect(diagnostic.message.utf8.count < 200, "the diagnostic quotes a snippet, not 10 MB")
        #expect(elapsed < .seconds(10))
        // The events after the long line keep their line numbers.
        #expect(loaded.event(at: EventNumber(80)).lineNumber == 94)
    }

    @Test("CRLF line ends read exactly like LF line ends")
    func crlf() throws {
        let lf = try load(Array(minimalText.utf8))
        let crlf = try load(Array(minimalText.replacingOccurrences(of: "\n", with: "\r\n").utf8))
        #expect(crlf.count == lf.count)
        #expect(crlf.lineAccounting == lf.lineAccounting)
        #expect(crlf.diagnosticCount == 0)
        for number in 0..<lf.count {
            let event = EventNumber(number)
            #expect(crlf.payload(of: event) == lf.payload(of: event))
            #expect(crlf.rawText(of: event) == lf.rawText(of: event))
        }
    }

    @Test("a last line cut in its payload is kept raw with a truncated-line diagnostic")
    func truncatedLastLine() throws {
        let cut = minimalLines.prefix(77).joined(separator: "\n") + "\n" + String(realExitLine.prefix(120))
        let trace = try load(Array(cut.utf8))
        expectAccountingAddsUp(trace)
        #expect(trace.lineAccounting.read == 78)
        let last = try #require(trace.diagnostics.last)
        #expect(last.kind == .truncatedLine)
        #expect(last.line == 78)
        #expect(trace.name(of: EventNumber(trace.count - 1)) == "kvm_exit")
    }

    @Test("a last line cut inside its prefix is unreadable with a truncated-line diagnostic")
    func truncatedInsidePrefix() throws {
        let cut = minimalLines.prefix(77).joined(separator: "\n") + "\n" + String(realExitLine.prefix(25))
        let trace = try load(Array(cut.utf8))
        expectAccountingAddsUp(trace)
        #expect(trace.lineAccounting.unreadable == 1)
        #expect(trace.diagnostics.last?.kind == .truncatedLine)
        #expect(trace.diagnostics.last?.line == 78)
    }

    @Test("events out of time order across CPUs are kept in file order with their own timestamps")
    func outOfOrderAcrossCPUs() throws {
        let header = minimalLines.prefix(12).joined(separator: "\n")
        let lines = [
            "          svmlab-401     [001] d..1.     6.300000: kvm_exit: vcpu 1 reason hlt rip 0x10000 info1 0x0000000000000000 info2 0x0000000000000000 intr_info 0x00000000 error_code 0x00000000",
            "          svmlab-400     [000] d..1.     6.200000: kvm_entry: vcpu 0, rip 0x10000",
            "          svmlab-401     [001] d..1.     6.250000: kvm_entry: vcpu 1, rip 0x10001",
        ]
        let trace = try load(Array((header + "\n" + lines.joined(separator: "\n") + "\n").utf8))
        expectAccountingAddsUp(trace)
        #expect(trace.count == 3)
        #expect(trace.diagnosticCount == 0)
        #expect((0..<3).map { trace.event(at: EventNumber($0)).cpu } == [1, 0, 1])
        #expect(trace.timestamp(of: EventNumber(0)) > trace.timestamp(of: EventNumber(1)))
        #expect((0..<3).map { trace.pid(of: EventNumber($0)) } == [401, 400, 401])
    }

    @Test("an unknown event name is kept as a raw event under its own name")
    func unknownEventName() throws {
        let text = tracefsPrefix + "kvm_frobnicate: vcpu 0 widget 0x42\n"
        let trace = try loadText(text)
        #expect(trace.count == 1)
        #expect(trace.lineAccounting.raw == 1)
        #expect(trace.name(of: EventNumber(0)) == "kvm_frobnicate")
        #expect(trace.payload(of: EventNumber(0)) == .raw)
        #expect(trace.event(at: EventNumber(0)).payloadText == "vcpu 0 widget 0x42")
    }

    @Test("an exit code no table knows is kept as its number and printed as hex", arguments: [
        ("reason 0x1234", UInt32(0x1234)), ("reason 0x7fffffff", UInt32(0x7fff_ffff)), ("reason 0xf00d", UInt32(0xf00d)),
    ])
    func unknownExitCode(reason: String, code: UInt32) throws {
        let payload = try decode("kvm_exit", "vcpu 0 \(reason) rip 0x10000 info1 0x0000000000000000 info2 0x0000000000000000 intr_info 0x00000000 error_code 0x00000000")
        guard case .exit(let exit) = payload else {
            Issue.record("not decoded as an exit: \(payload)")
            return
        }
        #expect(exit.exitReason.rawValue == code)
        #expect(exit.exitReason.description == "0x" + String(code, radix: 16))
    }

    @Test("a header block repeated in the middle is metadata and loses no event")
    func duplicatedHeaders() throws {
        var lines = minimalLines
        lines.insert(contentsOf: minimalLines.prefix(12), at: 40)
        let trace = try load(Array((lines.joined(separator: "\n") + "\n").utf8))
        expectAccountingAddsUp(trace)
        #expect(trace.count == 81)
        #expect(trace.lineAccounting.metadata == 24)
        #expect(trace.diagnosticCount == 0)
    }

    @Test("two traces concatenated load as one with every event of both")
    func concatenated() throws {
        let trace = try load(Array((minimalText + minimalText).utf8))
        expectAccountingAddsUp(trace)
        #expect(trace.count == 162)
        #expect(trace.lineAccounting.read == 186)
        #expect(trace.diagnosticCount == 0)
        #expect(trace.rawText(of: EventNumber(81)) == trace.rawText(of: EventNumber(0)))
    }

    @Test("mail-quoted lines ('> ' before every line) lose no line: each is an event or has a diagnostic")
    func mailQuoted() throws {
        let quoted = minimalLines.map { "> " + $0 }.joined(separator: "\n") + "\n"
        let trace = try load(Array(quoted.utf8))
        expectAccountingAddsUp(trace)
        #expect(trace.lineAccounting.read == 93)
        // Whatever is not read as an event is accounted for as unreadable, with a diagnostic.
        #expect(trace.lineAccounting.unreadable == trace.diagnosticCountsByKind.values.reduce(0, +)
            - trace.diagnosticCountsByKind[.unrecognizedPayload, default: 0] - trace.diagnosticCountsByKind[.truncatedLine, default: 0]
            - trace.diagnosticCountsByKind[.missingField, default: 0] - trace.diagnosticCountsByKind[.failedToParse, default: 0]
            - trace.diagnosticCountsByKind[.joinedLine, default: 0])
        #expect(trace.lineAccounting.events + trace.lineAccounting.unreadable + trace.lineAccounting.metadata == 93)
    }

    @Test("lines wrapped at 72 columns: heads stay events, continuations get a continuation-line diagnostic")
    func wrappedAt72Columns() throws {
        var wrapped: [String] = []
        var continuations = 0
        for line in minimalLines.dropFirst(12) {
            var rest = Substring(line)
            wrapped.append(String(rest.prefix(72)))
            rest = rest.dropFirst(72)
            while !rest.isEmpty {
                wrapped.append(String(rest.prefix(72)))
                rest = rest.dropFirst(72)
                continuations += 1
            }
        }
        // A head keeps its event when the cut falls after `name: ` (two ": " in 72 columns);
        // a head cut inside its event name is unreadable, like its continuations.
        let eventHeads = minimalLines.dropFirst(12).filter { (String($0.prefix(72)) + " ").components(separatedBy: ": ").count >= 3 }.count
        let trace = try load(Array((wrapped.joined(separator: "\n") + "\n").utf8))
        expectAccountingAddsUp(trace)
        #expect(trace.lineAccounting.read == wrapped.count)
        #expect(eventHeads > 60)
        #expect(trace.count == eventHeads)
        // Continuations that make their event read as one are joined back (and reported);
        // the others stay unreadable.
        let joined = trace.diagnosticCountsByKind[.joinedLine, default: 0]
        #expect(joined > 0)
        #expect(trace.lineAccounting.unreadable + joined == continuations + (81 - eventHeads))
        #expect(trace.diagnosticCountsByKind[.continuationLine, default: 0]
            + trace.diagnosticCountsByKind[.unrecognizedLine, default: 0] == trace.lineAccounting.unreadable)
    }

    @Test("a task name with ESC, BEL, C1, DEL, BS and CR is still an event, its comm kept as the kernel printed it")
    func controlCharactersInComm() throws {
        let comm = "sv\u{1b}[2J\u{07}m\u{9b}31m\u{7f}\u{08}l\rab"
        let line = realExitLine.replacingOccurrences(of: "svmlab", with: comm)
        let trace = try load(Array((line + "\n").utf8))
        #expect(trace.count == 1)
        #expect(trace.diagnosticCount == 0)
        #expect(trace.event(at: EventNumber(0)).comm == comm)
        #expect(trace.threads[401]?.comm == comm)
    }

    @Test("a diagnostic quoting a line stores its control characters escaped")
    func diagnosticsAreEscaped() throws {
        let trace = try load(Array("\nthis is \u{9b}2J junk \u{85} with C1 controls\n".utf8))
        let diagnostic = try #require(trace.diagnostics.first)
        #expect(diagnostic.kind == .unrecognizedLine)
        #expect(diagnostic.message.contains("this is \\x9b2J junk \\x85 with C1 controls"))
        #expect(!diagnostic.description.unicodeScalars.contains { $0.value < 0x20 || (0x7f...0x9f).contains($0.value) })
    }

    @Test("RawLineReader returns what rawLine returns, for every line, forwards and after jumps back")
    func rawLineReaderAgrees() throws {
        var lines = minimalLines
        lines.insert(contentsOf: (0..<50).map { "junk line \($0)" }, at: 40)
        let trace = try load(Array((lines.joined(separator: "\r\n") + "\r\n").utf8))
        var reader = RawLineReader(trace)
        for number in 0...(lines.count + 2) {
            #expect(reader.line(number) == trace.rawLine(number), "line \(number)")
        }
        for number in [90, 3, 60, 41, 140, 1, 143, 144] {
            #expect(reader.line(number) == trace.rawLine(number), "line \(number) after a jump")
        }
        #expect(reader.line(41) == "junk line 0")
    }

    @Test("reading every line of 30,000 junk lines inside one exit stays linear")
    func rawLineReaderIsLinear() throws {
        var lines = minimalLines
        lines.insert(contentsOf: (0..<30_000).map { "junk line \($0)" }, at: 77)
        let trace = try load(Array((lines.joined(separator: "\n") + "\n").utf8))
        let clock = ContinuousClock()
        var reader = RawLineReader(trace)
        var count = 0
        let elapsed = clock.measure {
            for number in 1...lines.count where reader.line(number) != nil { count += 1 }
        }
        #expect(count == lines.count)
        #expect(elapsed < .seconds(3), "one walk, not one walk per line")
    }

    @Test("a directory given as the trace is refused with 'is a directory'")
    func directory() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("svmdbg-hostile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(throws: TraceLoadError(file: folder.path, problem: "is a directory")) {
            try TraceLoader.load(path: folder.path)
        }
    }

    @Test("an unreadable file is refused with 'permission denied' (needs a non-root user: root reads mode 000 files)",
          .enabled(if: getuid() != 0, "running as root: root can read a mode-000 file, so there is nothing to refuse"))
    func unreadableFile() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("svmdbg-hostile-\(UUID().uuidString).trace")
        try Data(minimalText.utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        chmod(url.path, 0)
        #expect(throws: TraceLoadError(file: url.path, problem: "permission denied")) {
            try TraceLoader.load(path: url.path)
        }
    }

    @Test("a missing file is refused with 'no such file or directory'")
    func missingFile() {
        #expect(throws: TraceLoadError(file: "/nonexistent/svmdbg/run.trace", problem: "no such file or directory")) {
            try TraceLoader.load(path: "/nonexistent/svmdbg/run.trace")
        }
    }

    @Test("a file that grows while it is read: loading ends with what was there when it started")
    func growingFile() async throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("svmdbg-growing-\(UUID().uuidString).trace")
        let initial = Array(minimalText.utf8)
        try Data(initial).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let writer = GrowingFileWriter(path: url.path, chunk: Array(minimalLines.dropFirst(12).joined(separator: "\n").utf8) + [0x0a])
        writer.start()
        defer { writer.stop() }
        let clock = ContinuousClock()
        let started = clock.now
        let trace = try TraceLoader.load(path: url.path)
        #expect(clock.now - started < .seconds(10))
        expectAccountingAddsUp(trace)
        #expect(trace.count >= 81)
        // Only the last line may be cut (where the size was taken while a write was under way).
        #expect(trace.diagnosticCount == 0 || (trace.diagnosticCount == 1 && trace.diagnostics.last?.kind == .truncatedLine),
                "\(trace.diagnostics)")
        writer.stop()
        #expect(writer.appendedBytes > 0, "the writer ran while the file was loaded")
    }
}

/// Appends `chunk` to a file from a background thread until stopped.
private final class GrowingFileWriter: @unchecked Sendable {
    private let path: String
    private let chunk: [UInt8]
    private let lock = NSLock()
    private var running = true
    private var appended = 0
    private var thread: Thread?
    private let finished = DispatchSemaphore(value: 0)

    init(path: String, chunk: [UInt8]) {
        self.path = path
        self.chunk = chunk
    }

    /// Bytes appended so far.
    var appendedBytes: Int { lock.withLock { appended } }

    func start() {
        let thread = Thread { [self] in
            let descriptor = open(path, O_WRONLY | O_APPEND)
            defer {
                close(descriptor)
                finished.signal()
            }
            while lock.withLock({ running }) {
                let count = chunk.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
                if count > 0 { lock.withLock { appended += count } }
            }
        }
        self.thread = thread
        thread.start()
        // Let the file grow before loading starts.
        while appendedBytes < 1 << 20 { usleep(1000) }
    }

    func stop() {
        let wasRunning = lock.withLock {
            defer { running = false }
            return running
        }
        if wasRunning { finished.wait() }
    }
}

/// A small deterministic generator for junk bytes.
private struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
