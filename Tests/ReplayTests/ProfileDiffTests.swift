import Foundation
import NestedSVM
import Replay
import TestSupport
import Testing

/// `svmdbg diff --profile 6.12 --profile upstream` on the shipped captures: which exits the
/// 2026 RAX series changes (issue 4). The manifests say which exits L1 saw (ground truth
/// for the test only; the diff itself reads the trace alone).
@Suite struct ProfileDiffTests {
    static let naples = CaptureHosts.folders.first { $0.name == "6.12-naples" }
    static let zen3 = CaptureHosts.folders.first { $0.name == "6.12" }
    /// VMRUN, VMLOAD, VMSAVE exit codes (APM vol. 2 table C-1).
    static let svmInstructionCodes: Set<UInt32> = [0x80, 0x82, 0x83]
    /// `GP excp` (0x40 + 13).
    static let gpExit: UInt32 = 0x4d

    static func names(in folder: String, prefix: String = "") -> [String] {
        let directory = RepositoryPaths.trace(folder).path
        return ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasSuffix(".trace") && $0.hasPrefix(prefix) }.map { String($0.dropLast(6)) }.sorted()
    }

    /// The L2 RIPs at which L1 logged a VMRUN/VMLOAD/VMSAVE #VMEXIT (manifest `observed`).
    static func svmExitRIPs(_ folder: String, _ name: String) throws -> Set<UInt64> {
        let data = try Data(contentsOf: RepositoryPaths.trace("\(folder)/\(name).json"))
        let manifest = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let observed = try #require(manifest["observed"] as? [String: Any])
        let events = try #require(observed["events"] as? [[String: Any]])
        var rips: Set<UInt64> = []
        for event in events where event["kind"] as? String == "l1_saw_vmexit" {
            guard let code = (event["exit_code"] as? String).flatMap({ UInt32($0.dropFirst(2), radix: 16) }),
                svmInstructionCodes.contains(code), let rip = (event["l2_rip"] as? String).flatMap({ UInt64($0.dropFirst(2), radix: 16) })
            else { continue }
            rips.insert(rip)
        }
        return rips
    }

    @Test("naples: the synthesized #VMEXITs of the #GP path change, misaligned #GPs and ordinary exits do not",
          arguments: names(in: "6.12-naples", prefix: "l2-badrax-"))
    func naplesBadRAX(name: String) throws {
        let folder = try #require(Self.naples)
        let result = try replay(path: RepositoryPaths.trace("6.12-naples/\(name).trace").path, folder: folder)
        let rips = try Self.svmExitRIPs("6.12-naples", name)
        let gpExits = result.exits.filter { $0.level == .l2 && $0.exitCode == Self.gpExit }
        let synthesized = gpExits.filter { exit in exit.rip.map(rips.contains) == true }
        #expect(!synthesized.isEmpty)
        for exit in synthesized {
            #expect(exit.recorded.kind == .reflectToL1 && exit.recorded.exitCode.map(Self.svmInstructionCodes.contains) == true)
            #expect(exit.verdict.settled[FactID.raxPageAligned] == true, "line \(exit.lines.lowerBound)")
        }
        let misaligned = gpExits.filter { exit in !synthesized.contains { $0.index == exit.index } }
        #expect(!misaligned.isEmpty)
        for exit in misaligned { #expect(exit.verdict.settled[FactID.raxPageAligned] == false, "line \(exit.lines.lowerBound)") }

        let diff = ProfileDiff(result, against: .upstream)
        let changed = Dictionary(uniqueKeysWithValues: diff.changes.map { ($0.exit, $0) })
        for exit in synthesized {
            let change = try #require(changed[exit.index], "line \(exit.lines.lowerBound) is not listed")
            #expect(change.hingedOn.contains(FactID.raxLegalPage.description))
            #expect(change.decidingRules.contains("svm.gp.rax-check"))
            #expect(change.settled[FactID.raxPageAligned] == true)
        }
        for exit in misaligned { #expect(changed[exit.index] == nil, "misaligned #GP at line \(exit.lines.lowerBound) is listed") }
        let svmExits: Set<UInt32> = Self.svmInstructionCodes.union([Self.gpExit])
        for exit in result.exits where !svmExits.contains(exit.exitCode) {
            #expect(changed[exit.index] == nil, "\(exit.reasonName) at line \(exit.lines.lowerBound) is listed")
        }

        let gpPath = ProfileDiff(result, against: .upstream, rulePrefixes: ["svm.gp.rax-check"])
        #expect(Set(gpPath.changes.map(\.exit)) == Set(synthesized.map(\.index)))
    }

    /// Changes per 6.12 capture: only a legal RAX without memslot (RAX = 4 GiB) changes, from
    /// #GP to the memory-failure exit (`svm.insn.map-rax`).
    static let zen3Expected: [String: Int] = [
        "l1-vmload-unbacked": 1, "l1-vmrun-unbacked": 1, "l1-vmsave-unbacked": 1,
        "l2-badrax-vmload-vmsave-gp-only": 2, "l2-badrax-vmload-vmsave-nointercept": 2,
    ]

    @Test("Zen3-like 6.12 captures: no exit changes because of the RAX legality checks", arguments: names(in: "6.12"))
    func zen3(name: String) throws {
        let folder = try #require(Self.zen3)
        let result = try replay(path: RepositoryPaths.trace("6.12/\(name).trace").path, folder: folder)
        let raxChecks = ProfileDiff(result, against: .upstream, rulePrefixes: ["svm.gp.rax-check", "svm.insn.rax-check"])
        #expect(raxChecks.changes.isEmpty, "\(raxChecks.changes.map { "line \($0.line): \($0.reason)" })")
        let all = ProfileDiff(result, against: .upstream)
        #expect(all.changes.count == Self.zen3Expected[name, default: 0])
        for change in all.changes {
            #expect(change.decidingRules == ["svm.insn.map-rax"])
            #expect(change.second.outcome == "userspace_exit")
            // 6.12 (as recorded): #GP into the level that ran, or GP excp reflected to L1.
            #expect(change.reason.hasPrefix("inject #GP") || change.reason.hasPrefix("reflect to L1: GP excp"), "\(change.reason)")
        }
    }

    @Test("--rule keeps only changes whose deciding rules match a prefix")
    func ruleFilter() throws {
        let folder = try #require(Self.zen3)
        let result = try replay(path: RepositoryPaths.trace("6.12/l1-vmload-unbacked.trace").path, folder: folder)
        #expect(ProfileDiff(result, against: .upstream, rulePrefixes: ["svm.insn."]).changes.count == 1)
        #expect(ProfileDiff(result, against: .upstream, rulePrefixes: ["svm.insn.map-rax"]).changes.count == 1)
        #expect(ProfileDiff(result, against: .upstream, rulePrefixes: ["svm.gp."]).changes.isEmpty)
    }

    @Test("a profile compared with itself changes nothing", arguments: ["6.12-naples", "6.12"])
    func sameProfile(folderName: String) throws {
        let folder = try #require(CaptureHosts.folders.first { $0.name == folderName })
        for name in Self.names(in: folderName, prefix: "l2-badrax-") {
            let result = try replay(path: RepositoryPaths.trace("\(folderName)/\(name).trace").path, folder: folder)
            #expect(ProfileDiff(result, against: .v6_12).changes.isEmpty, "\(name)")
        }
    }
}

/// Facts the recorded outcome settles during replay (`Verdict.settled`) and how the ledger
/// carries permission bits by fact id.
@Suite struct SettledFactsTests {
    @Test("MSRPM bits settled by a recorded outcome are facts, carried to later exits of the configuration")
    func msrpmBitsCarried() throws {
        let folder = try #require(CaptureHosts.folders.first { $0.name == "6.12" })
        let result = try replay(path: RepositoryPaths.trace("6.12/msr-prot.trace").path, folder: folder)
        let settling = result.exits.filter { exit in exit.verdict.settled.keys.contains { if case .msrpm(.some, _) = $0 { true } else { false } } }
        #expect(!settling.isEmpty)
        for exit in settling {
            #expect(!exit.verdict.inferred.isEmpty, "line \(exit.lines.lowerBound): settled facts come with their display text")
        }
        // A later state of the same vCPU holds a settled bit as an inferred MSRPM entry.
        let inferred = result.exits.map { result.state(of: $0) }.flatMap { $0.vcpu.vmcb12.msrpm.entries.values }
            .flatMap { [$0.read, $0.write].compactMap { $0 } }
            .filter { $0.source.hasPrefix("inferred: recorded outcome of the exit at line") }
        #expect(!inferred.isEmpty)
    }

    @Test("a failed VMRUN settles the check its kvm_nested_vmenter_failed names")
    func failedCheckSettled() throws {
        let folder = try #require(CaptureHosts.folders.first { $0.name == "6.12" })
        let result = try replay(path: RepositoryPaths.trace("6.12/vmcb12-invalid.trace").path, folder: folder)
        let failed = result.exits.filter { $0.recorded.kind == .vmrunFails }
        #expect(failed.count == 4)
        for exit in failed {
            #expect(exit.verdict.settled.contains { if case .vmrunCheck = $0.key { !$0.value } else { false } }, "line \(exit.lines.lowerBound)")
        }
    }
}
