import Foundation
import NestedSVM
import Replay
import TestSupport
import Testing
import TraceKit

/// Issue 16: a VMRUN verdict compares which check failed, not only "fails". The lab's
/// vmrun-check-asid0 trace names `control->asid == 0` in `kvm_nested_vmenter_failed`; its facts
/// file gives vmcb12, so the model knows every check. A trace naming a check the model knows
/// passes, or one KVM runs after the failing ASID check, is a mismatch; without facts the
/// named check only settles the unknown inputs (`svm/nested.c:nested_svm_vmrun` runs
/// `__nested_vmcb_check_save`, then `__nested_vmcb_check_controls`, each stopping at its first
/// failing `CC()`).
@Suite struct VMRUNFailedCheckTests {
    static let folder = RepositoryPaths.root.appendingPathComponent("traces/lab/6.12-zen3")

    static func replay(replacing message: String?, facts: Bool) throws -> ReplayResult {
        var text = try String(contentsOf: folder.appendingPathComponent("vmrun-check-asid0.trace"), encoding: .utf8)
        let original = "control->asid == 0"
        #expect(text.contains("kvm_nested_vmenter_failed: " + original))
        if let message { text = text.replacingOccurrences(of: "kvm_nested_vmenter_failed: " + original, with: "kvm_nested_vmenter_failed: " + message) }
        let trace = try TraceLoader.load(bytes: Array(text.utf8), source: "vmrun-check-asid0.trace")
        let file = folder.appendingPathComponent("vmrun-check-asid0.facts.json")
        let options = try ScopedLabFactsTests.options(
            npt: true, facts: facts ? [try FactsFile(json: Data(contentsOf: file), path: file.path)] : [])
        return Replayer(trace: trace, options: options).run()
    }

    static func failed(_ result: ReplayResult) -> [ExitRecord] {
        result.exits.filter { $0.recorded.kind == .vmrunFails && $0.recorded.failedCheck != nil }
    }

    @Test("the check the trace names agrees with the facts: decided, no mismatch")
    func named() throws {
        let result = try Self.replay(replacing: nil, facts: true)
        let failed = Self.failed(result)
        #expect(failed.count == 1)
        #expect(failed.allSatisfy { $0.verdict.kind == .match && $0.verdict.proof == .decided })
        #expect(result.summary.mismatch == 0)
    }

    @Test("a check the model knows passes (EFER.SVME, set in vmcb12) is a mismatch naming it")
    func knownPassing() throws {
        let result = try Self.replay(replacing: "!(save->efer & EFER_SVME)", facts: true)
        let failed = Self.failed(result)
        #expect(failed.count == 1)
        let verdict = try #require(failed.first?.verdict)
        #expect(verdict.kind == .mismatch)
        #expect(verdict.differences.map(\.field) == ["check"])
        #expect(verdict.differences.first?.model == "efer-svme passes")
    }

    @Test("a check KVM runs after the failing ASID check (the MSRPM base) is a mismatch naming asid")
    func unreachable() throws {
        let result = try Self.replay(
            replacing: "!nested_svm_check_bitmap_pa(vcpu, control->msrpm_base_pa, MSRPM_SIZE)", facts: true)
        let verdict = try #require(Self.failed(result).first?.verdict)
        #expect(verdict.kind == .mismatch)
        #expect(verdict.differences.first?.model == "asid")
    }

    @Test("without the facts file the named check settles the unknown inputs: consistent, not a mismatch")
    func withoutFacts() throws {
        for message in [nil, "!(save->efer & EFER_SVME)"] {
            let result = try Self.replay(replacing: message, facts: false)
            let verdict = try #require(Self.failed(result).first?.verdict)
            #expect(verdict.kind == .match)
            #expect(verdict.isConsistent)
        }
    }
}
