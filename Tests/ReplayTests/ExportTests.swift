import Foundation
import Replay
import TestSupport
import Testing
import TraceKit

/// Issue 4: exported files re-load — the trace excerpt opens and checks to the same
/// mismatches; jsonl parses line by line with the contract's fields.
@Suite struct ExportTests {
    static let host612 = CaptureHosts.folder("6.12")!

    /// msr-prot with one inject changed, so that it has one mismatch.
    func mutatedMSRProt() throws -> ReplayResult {
        let text = try readText("6.12/msr-prot.trace").replacingOccurrences(
            of: "kvm_nested_vmexit_inject: reason: msr ext_inf1: 0x0000000000000001",
            with: "kvm_nested_vmexit_inject: reason: hlt ext_inf1: 0x0000000000000001")
        return try replay(text: text, source: "msr-prot-mutated.trace", folder: Self.host612)
    }

    @Test("the trace excerpt of the mismatches opens and checks to the same mismatches")
    func traceExcerptReloads() throws {
        let result = try mutatedMSRProt()
        try #require(result.mismatches.count == 1)
        let excerpt = ExportRenderer.render(result.mismatches, of: result, as: .trace)
        let again = try replay(text: excerpt, source: "excerpt.trace", folder: Self.host612)
        #expect(again.trace.lineAccounting.unreadable == 0)
        let key = { (exit: ExitRecord, trace: LoadedTrace) in
            "\(exit.exitCode) \(exit.rip ?? 0) \(exit.recorded.exitCode ?? 0) \(trace.rawLine(exit.lines.lowerBound) ?? "")"
        }
        #expect(again.mismatches.map { key($0, again.trace) } == result.mismatches.map { key($0, result.trace) })
        #expect(again.exits.count < result.exits.count)
    }

    @Test("jsonl export parses line by line and carries model and recorded outcomes")
    func jsonLines() throws {
        let result = try mutatedMSRProt()
        let text = ExportRenderer.render(result.exits, of: result, as: .jsonl)
        let lines = text.split(separator: "\n")
        #expect(lines.count == result.exits.count)
        let allowed: Set<String> = [
            "reflect_to_l1", "l0_handles", "inject_exception", "emulate", "vmrun_fails", "vmrun_succeeds",
            "userspace_exit", "undetermined",
        ]
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let model = try #require(object["model"] as? [String: Any])
            let recorded = try #require(object["recorded"] as? [String: Any])
            let modelOutcome = try #require(model["outcome"] as? String)
            let recordedOutcome = try #require(recorded["outcome"] as? String)
            #expect(allowed.contains(modelOutcome))
            #expect(allowed.contains(recordedOutcome))
            if recordedOutcome == "reflect_to_l1" || recordedOutcome == "vmrun_fails" { #expect(recorded["exit_code"] != nil) }
            if modelOutcome == "reflect_to_l1" || modelOutcome == "vmrun_fails" { #expect(model["exit_code"] != nil) }
            #expect(object["verdict"] as? String != nil)
            #expect(object["path"] as? [Any] != nil)
        }
    }

    @Test("csv and markdown exports have one row per exit")
    func csvAndMarkdown() throws {
        let result = try mutatedMSRProt()
        let csv = ExportRenderer.render(result.exits, of: result, as: .csv)
        #expect(csv.split(separator: "\n").count == result.exits.count + 1)
        let markdown = ExportRenderer.render(result.mismatches, of: result, as: .md)
        #expect(markdown.contains("| #\(result.mismatches[0].index) |"))
        #expect(markdown.contains("✘ mismatch"))
    }
}
