import Foundation
import NestedSVM
import Replay
import TestSupport
import Testing

/// Issue 4's acceptance on the real captures: with the matching kernel profile and host,
/// replay finds no mismatch, at most 2% undetermined exits, and the exits it reads as
/// reflected to L1 are, in order, the ones L1 itself logged in the manifest.
@Suite struct ShippedTracesReplayTests {
    static let captures = Capture.all(forms: ["trace", "pipe", "report", "report-noplugin", "perf", "dat"])

    @Test("every shipped capture replays with no mismatch and at most 2% undetermined exits", arguments: captures)
    func noMismatch(capture: Capture) throws {
        let result = try replay(path: capture.path, folder: capture.folder)
        let summary = result.summary
        #expect(summary.exits > 0)
        #expect(summary.mismatch == 0, "mismatches: \(result.mismatches.map { "line \($0.lines.lowerBound) \($0.reasonName): \($0.verdict.explanation)" })")
        #expect(summary.undetermined * 50 <= summary.exits, "undetermined: \(summary.undetermined) of \(summary.exits)")
        for exit in result.exits where exit.verdict.kind == .undetermined {
            #expect(!exit.verdict.explanation.isEmpty)
        }
    }

    @Test("the exits replay reads as reflected to L1 are, in order, the #VMEXITs L1 logged",
          arguments: Capture.all(forms: ["trace", "dat"]))
    func reflectionsMatchManifest(capture: Capture) throws {
        let result = try replay(path: capture.path, folder: capture.folder)
        let reflected = result.exits.compactMap { exit -> UInt32? in
            switch exit.recorded.kind {
            case .reflectToL1, .vmrunFails: return exit.recorded.exitCode
            default: return nil
            }
        }
        #expect(reflected == (try Self.loggedExitCodes(manifest: capture.manifestPath)))
    }

    /// The exit codes L1 logged, from the manifest (ground truth for tests only): every
    /// `l1_saw_vmexit`, and the `after valid vmrun` notes of the l1-vmrun scenarios, which
    /// log their single #VMEXIT that way.
    static func loggedExitCodes(manifest path: String) throws -> [UInt32] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        let observed = object?["observed"] as? [String: Any]
        let events = observed?["events"] as? [[String: Any]] ?? []
        func number(_ text: Any?) -> UInt32? {
            guard let text = text as? String, let value = UInt64(text.dropFirst(2), radix: 16) else { return nil }
            return UInt32(truncatingIfNeeded: value)
        }
        return events.compactMap { event in
            switch event["kind"] as? String {
            case "l1_saw_vmexit": return number(event["exit_code"])
            case "note" where event["what"] as? String == "after valid vmrun": return number(event["v0"])
            default: return nil
            }
        }
    }
}
