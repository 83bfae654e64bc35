import Foundation
import Replay
import TestSupport
import Testing
import TraceKit

/// Issue 4: change one recorded outcome of a real trace and `check` reports exactly that
/// exit as a mismatch, naming the rule.
@Suite struct MutationTests {
    static let host612 = CaptureHosts.folder("6.12")!

    @Test("changing the exit code of one kvm_nested_vmexit_inject makes exactly that exit a mismatch")
    func changedInjectReason() throws {
        let original = try readText("6.12/msr-prot.trace")
        var lines = original.components(separatedBy: "\n")
        let index = try #require(lines.firstIndex { $0.contains("kvm_nested_vmexit_inject: reason: msr") })
        lines[index] = lines[index].replacingOccurrences(of: "reason: msr", with: "reason: hlt")
        let result = try replay(text: lines.joined(separator: "\n"), source: "msr-prot-mutated.trace", folder: Self.host612)

        let mismatches = result.mismatches
        try #require(mismatches.count == 1)
        let exit = mismatches[0]
        #expect(exit.lines.contains(index + 1))
        #expect(exit.recorded.exitCode == 0x78)
        #expect(exit.verdict.differences.contains { $0.field == "exit_code" || $0.field == "outcome" })
        #expect(exit.decidingRule != nil)
        // The untouched trace has none.
        let clean = try replay(text: original, source: "msr-prot.trace", folder: Self.host612)
        #expect(clean.mismatches.isEmpty)
    }

    @Test("dropping one kvm_inj_exception makes exactly that exit a mismatch")
    func droppedInjection() throws {
        let original = try readText("6.12/exceptions.trace")
        var lines = original.components(separatedBy: "\n")
        let index = try #require(lines.firstIndex { $0.hasSuffix("kvm_inj_exception: #UD") })
        let exitLine = try #require(lines[..<index].lastIndex { $0.contains(" kvm_exit: ") })
        lines.remove(at: index)
        let result = try replay(text: lines.joined(separator: "\n"), source: "exceptions-mutated.trace", folder: Self.host612)

        let mismatches = result.mismatches
        try #require(mismatches.count == 1)
        #expect(mismatches[0].lines.lowerBound == exitLine + 1)
        #expect(mismatches[0].model.kind == .injectException)
        #expect(mismatches[0].recorded.kind != .injectException)
        #expect(mismatches[0].decidingRule != nil)
    }
}
