import Foundation
import TestSupport
import Testing
@testable import TraceKit

/// The incremental reader of `--follow`/`--pipe`: lines cut by the writer at any byte, CRLF,
/// and a trace grown batch by batch that must equal the trace loaded whole.
@Suite struct LiveAppendTests {
    @Test("a line written in two pieces is handed over once, whole; the rest waits")
    func splitMidLine() {
        var splitter = LineSplitter()
        #expect(splitter.feed(Array("abc".utf8)).isEmpty)
        #expect(splitter.feed(Array("def\ngh".utf8)) == Array("abcdef\n".utf8))
        #expect(splitter.pending == Array("gh".utf8))
        #expect(splitter.feed(Array("i\n\nj".utf8)) == Array("ghi\n\n".utf8))
        #expect(splitter.finish() == Array("j\n".utf8))
        #expect(splitter.finish().isEmpty)
        #expect(splitter.bytesEmitted == 14)
        splitter.reset()
        #expect(splitter.pending.isEmpty && splitter.bytesEmitted == 0)
    }

    /// Loads `text` by feeding it in pieces cut at `cuts` through a splitter and appending.
    static func grown(_ bytes: [UInt8], cuts: [Int], source: String = "live") -> LoadedTrace {
        var splitter = LineSplitter()
        var trace = LoadedTrace.empty(source: source)
        var start = 0
        for cut in cuts + [bytes.count] where cut > start {
            trace = trace.appending(lines: splitter.feed(bytes[start..<cut]))
            start = cut
        }
        return trace.appending(lines: splitter.finish())
    }

    static func expectSame(_ grown: LoadedTrace, _ whole: LoadedTrace) {
        #expect(grown.count == whole.count)
        #expect(grown.lineAccounting == whole.lineAccounting)
        #expect(grown.gaps == whole.gaps)
        #expect(grown.format == whole.format)
        #expect(grown.diagnosticCount == whole.diagnosticCount)
        #expect(grown.diagnostics.map(\.line) == whole.diagnostics.map(\.line))
        #expect(Set(grown.threads.keys) == Set(whole.threads.keys))
        for (pid, summary) in whole.threads { #expect(grown.threads[pid]?.eventCount == summary.eventCount) }
        for i in 0..<min(grown.count, whole.count) {
            let n = EventNumber(i)
            #expect(grown.name(of: n) == whole.name(of: n))
            #expect(grown.pid(of: n) == whole.pid(of: n))
            #expect(grown.timestamp(of: n) == whole.timestamp(of: n))
            #expect(grown.lineNumber(of: n) == whole.lineNumber(of: n))
            #expect(grown.rawText(of: n) == whole.rawText(of: n))
            #expect(grown.payload(of: n) == whole.payload(of: n))
        }
    }

    @Test("a shipped trace grown in random pieces (cut mid-line) equals the trace loaded whole",
          arguments: ["6.12/msr-prot.trace", "6.12/cr-access.trace", "6.1/cr-access.trace", "6.12/cpuid-toggle.report"])
    func grownEqualsWhole(_ name: String) throws {
        let url = RepositoryPaths.trace(name)
        guard FileManager.default.fileExists(atPath: url.path) else { return }
        let bytes = Array(try Data(contentsOf: url))
        let whole = try TraceLoader.load(bytes: bytes, source: "live")
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<3 {
            let cuts = (0..<25).map { _ in Int.random(in: 0..<bytes.count, using: &generator) }.sorted()
            Self.expectSame(Self.grown(bytes, cuts: cuts), whole)
        }
        // One byte at a time.
        Self.expectSame(Self.grown(bytes, cuts: Array(stride(from: 1, to: min(bytes.count, 6000), by: 1))), whole)
    }

    @Test("CRLF lines read as the same events, whether loaded whole or grown")
    func crlf() throws {
        let text = try String(contentsOf: RepositoryPaths.trace("6.12/msr-prot.trace"), encoding: .utf8)
        let lf = try TraceLoader.load(bytes: Array(text.utf8), source: "live")
        let crlf = Array(text.replacingOccurrences(of: "\n", with: "\r\n").utf8)
        let grown = Self.grown(crlf, cuts: [100, 101, 5000, 5001, 9000])
        #expect(grown.count == lf.count)
        #expect(grown.count > 0)
        for i in 0..<grown.count {
            let n = EventNumber(i)
            #expect(grown.name(of: n) == lf.name(of: n))
            #expect(grown.payload(of: n) == lf.payload(of: n))
        }
        #expect(grown.lineAccounting.unreadable == lf.lineAccounting.unreadable)
    }
}
