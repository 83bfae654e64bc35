import Foundation
import NestedSVM
import Replay
import TestSupport
import TraceKit
import Testing

/// The bad-RAX scenarios captured in the lab on real KVM 6.12 by `svmdbg capture`, each run
/// twice in the same boot: `NAME.noprobe.trace` (`--no-probes`) and `NAME.probe.trace`
/// (`traces/capture/README.md`).
@Suite struct ProbeCaptureTests {
    /// A lab capture folder and the shipped folder whose host facts it shares.
    struct Variant: Sendable, CustomTestStringConvertible {
        var name: String
        var hosts: String
        var testDescription: String { name }
        var folder: String { "capture/\(name)" }

        /// Scenario names with both traces present.
        var scenarios: [String] {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: RepositoryPaths.trace(folder).path)) ?? []
            return names.filter { $0.hasSuffix(".probe.trace") }.map { String($0.dropLast(".probe.trace".count)) }
                .filter { names.contains("\($0).noprobe.trace") }.sorted()
        }
    }

    static let variants = [
        Variant(name: "6.12-naples", hosts: "6.12-naples"), Variant(name: "6.12-zen3", hosts: "6.12"),
        Variant(name: "6.1-zen3", hosts: "6.1"),
    ]
        .filter { !$0.scenarios.isEmpty }

    static func load(_ variant: Variant, _ scenario: String, _ kind: String) throws -> ReplayResult {
        let folder = try #require(CaptureHosts.folder(variant.hosts))
        return try replay(path: RepositoryPaths.trace("\(variant.folder)/\(scenario).\(kind).trace").path, folder: folder)
    }

    @Test("every exit_regs line of a lab capture is attached to its exit", arguments: variants)
    func attached(variant: Variant) throws {
        #expect(variant.scenarios.count == 13)
        for scenario in variant.scenarios {
            let result = try Self.load(variant, scenario, "probe")
            let probes = result.trace.eventNameCounts[ProbeSchema.exitRegsEvent] ?? 0
            let attached = result.exits.filter { !result.probeRegisters(of: $0).isEmpty }.count
            #expect(probes > 0, "\(scenario): no probe lines")
            #expect(attached == probes, "\(scenario): \(attached) of \(probes) probe lines attached")
            if scenario.hasSuffix("-unbacked"), (result.trace.eventNameCounts[ProbeSchema.vcpuMapEvent] ?? 0) > 0 {
                // kvm_vcpu_map of RAX's frame failed on real KVM: the vcpu_map probe says so.
                let settled = result.exits.compactMap { result.decidedState(of: $0).assumptions[FactID.raxBacked] }
                    .filter { $0.source.hasPrefix("probe svmdbg/vcpu_map") }
                #expect(settled.contains { !$0.value }, "\(scenario): no unbacked RAX from vcpu_map")
            }
        }
    }

    @Test("with the probe fewer exits are undetermined for the model, and none mismatches", arguments: variants)
    func fewerUndetermined(variant: Variant) throws {
        var totals = (without: 0, with: 0)
        for scenario in variant.scenarios {
            let without = try Self.load(variant, scenario, "noprobe")
            let with = try Self.load(variant, scenario, "probe")
            let undeterminedWithout = without.exits.filter { $0.model.kind == .undetermined }.count
            let undeterminedWith = with.exits.filter { $0.model.kind == .undetermined }.count
            #expect(undeterminedWith <= undeterminedWithout, "\(scenario): \(undeterminedWith) > \(undeterminedWithout)")
            #expect(with.mismatches.isEmpty, "\(scenario): \(with.mismatches.count) mismatches with the probe")
            #expect(without.mismatches.isEmpty, "\(scenario): \(without.mismatches.count) mismatches without the probe")
            totals.without += undeterminedWithout
            totals.with += undeterminedWith
        }
        #expect(totals.with < totals.without)
        // With every probe (exit_regs, vcpu_map, the VMRUN check returns) nothing is left.
        #expect(totals.with == 0, "\(totals.with) undetermined with probes")
    }
}
