import Foundation
import NestedSVM
import Replay
import TestSupport
import TraceKit
import Testing

/// Replaying traces that end in the middle of an exit: the exit becomes undetermined with
/// an explanation, nothing crashes, and every exit before it keeps its verdict.
@Suite struct HostileTraceReplayTests {
    /// minimal.trace line 89 is its last kvm_exit (io); line 90 onwards is its handling.
    static let lastExitLine = 89

    @Test("a trace cut right after its last kvm_exit: that exit is undetermined, with what is missing")
    func cutAfterExit() throws {
        let folder = try #require(CaptureHosts.folders.first { $0.name == "6.12" })
        let full = try replay(text: try readText("6.12/minimal.trace"), source: "full.trace", folder: folder)
        let lines = try readText("6.12/minimal.trace").split(separator: "\n", omittingEmptySubsequences: false)
        let cutText = lines.prefix(Self.lastExitLine).joined(separator: "\n") + "\n"
        let cut = try replay(text: cutText, source: "cut.trace", folder: folder)

        #expect(cut.exits.count == full.exits.count)
        let last = try #require(cut.exits.last)
        #expect(last.lines.lowerBound == Self.lastExitLine)
        #expect(last.verdict.kind == .undetermined)
        #expect(last.verdict.missing == ["recorded outcome"])
        #expect(last.verdict.explanation.contains("events are missing"))
        // Exits before the cut are judged as in the full trace.
        for (before, after) in zip(full.exits.dropLast(), cut.exits.dropLast()) {
            #expect(before.verdict.kind == after.verdict.kind, "exit \(before.index)")
        }
    }

    @Test("a trace cut inside its last kvm_exit line: no crash, the cut line is reported, no exit is invented")
    func cutInsideExitLine() throws {
        let folder = try #require(CaptureHosts.folders.first { $0.name == "6.12" })
        let lines = try readText("6.12/minimal.trace").split(separator: "\n", omittingEmptySubsequences: false)
        for keep in [20, 60, 100, 150] {
            let cutText = lines.prefix(Self.lastExitLine - 1).joined(separator: "\n") + "\n" + lines[Self.lastExitLine - 1].prefix(keep)
            let result = try replay(text: cutText, source: "cut.trace", folder: folder)
            #expect(result.trace.diagnostics.last?.kind == .truncatedLine, "cut at \(keep)")
            #expect(result.trace.diagnostics.last?.line == Self.lastExitLine)
            for exit in result.exits where exit.lines.lowerBound == Self.lastExitLine {
                #expect(exit.verdict.kind == .undetermined, "cut at \(keep): a cut exit cannot match or mismatch")
            }
        }
    }

    @Test("exporting an exit whose lines hold 30,000 junk lines finishes quickly with every line", arguments: [ExportFormat.md, .trace])
    func exportAcrossAJunkBlock(format: ExportFormat) throws {
        let folder = try #require(CaptureHosts.folders.first { $0.name == "6.12" })
        var lines = try readText("6.12/minimal.trace").split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines.insert(contentsOf: (0..<30_000).map { "junk line \($0)" }, at: Self.lastExitLine)
        let result = try replay(text: lines.joined(separator: "\n"), source: "junk.trace", folder: folder)
        let clock = ContinuousClock()
        var text = ""
        let elapsed = clock.measure { text = ExportRenderer.render(result.exits, of: result, as: format) }
        #expect(elapsed < .seconds(10))
        #expect(text.contains("junk line 0\n"))
        #expect(text.contains("junk line 29999\n"))
    }
}
