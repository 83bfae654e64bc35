import Foundation
import NestedSVM
import Replay
import TestSupport
import Testing
import TraceKit

/// Issue 16, scoped facts: L1's page tables and NPT as page maps, per-VMRUN entries (the
/// attempts a VMRUN-check scenario makes, RAX of each VMRUN), L1's NPF handler. With the lab's
/// facts files the exits that were settled by their recorded outcome (shadow-paging #PF,
/// L2 #NPF under L1's NPT, VMRUN attempts) are decided; a wrong fact makes a mismatch.
@Suite struct ScopedLabFactsTests {
    /// Replay options of a lab folder: host facts as its manifests state them.
    static func options(npt: Bool, facts: [FactsFile] = []) throws -> ReplayOptions {
        let host = try HostFacts(
            parsing: npt ? "svme_addr_chk=1,vgif=1,npt=1,nrips=0,decode_assists=0,vls=0" : "svme_addr_chk=0,vgif=0,npt=0,nrips=0,decode_assists=0,vls=0",
            source: "--host")
        var guest = GuestFacts()
        guest.maxPhysAddr = Known(40, source: "--guest")
        return ReplayOptions(profile: .v6_12, host: host, guest: guest, facts: facts)
    }

    static func replay(_ folder: String, _ name: String, npt: Bool, facts: [FactsFile]) throws -> ReplayResult {
        let path = RepositoryPaths.root.appendingPathComponent("traces/lab/\(folder)/\(name).trace").path
        let trace = try TraceLoader.load(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: path))), source: path)
        return Replayer(trace: trace, options: try options(npt: npt, facts: facts)).run()
    }

    /// The facts `svmdbg lab facts` writes for `scn` (a path or lab/scenarios/NAME.scn).
    static func labFacts(_ name: String, scn: String? = nil) throws -> FactsFile {
        let path = scn ?? RepositoryPaths.root.appendingPathComponent("lab/scenarios/\(name).scn").path
        return try FactsFile(json: Data(try LabScenarioFacts(path: path).json().utf8), path: "\(name).facts.json")
    }

    static func facts(_ json: String, _ path: String = "wrong.json") throws -> FactsFile {
        try FactsFile(json: Data(json.utf8), path: path)
    }

    @Test("shadow paging: with L1's page tables every #PF is decided; claiming the unmapped page present is a mismatch")
    func shadowPaging() throws {
        let without = try Self.replay("6.12-no-npt", "pf-intercept", npt: false, facts: [])
        let faults = without.exits.filter { $0.reasonName == "PF excp" }
        #expect(faults.count > 3)
        #expect(faults.allSatisfy { $0.verdict.isConsistent }, "without facts L0's shadow MMU is settled by the outcome")

        let with = try Self.replay("6.12-no-npt", "pf-intercept", npt: false, facts: [Self.labFacts("pf-intercept")])
        #expect(with.summary.consistent == 0)
        #expect(with.summary.mismatch == 0)
        let decided = with.exits.filter { $0.reasonName == "PF excp" }
        #expect(decided.allSatisfy { $0.verdict.proof == .decided })

        // Everything present: L2's read above 1 GiB would be a shadow fault L0 fixes — the trace disagrees.
        let wrong = try Self.facts(#"{"source": "all mapped", "state": {"l1": {"cr4": "0x620", "page_tables": [{"from": "0x0", "to": "0xffffffffffffffff", "present": 1, "writable": 1, "user": 1, "executable": 1}]}, "l2": {"cr4": "0x620", "page_tables": [{"from": "0x0", "to": "0xffffffffffffffff", "present": 1, "writable": 1, "user": 1, "executable": 1}]}}}"#)
        let flipped = try Self.replay("6.12-no-npt", "pf-intercept", npt: false, facts: [wrong])
        #expect(flipped.summary.mismatch > 0)
        #expect(flipped.mismatches.allSatisfy { $0.reasonName == "PF excp" })
        let first = try #require(flipped.mismatches.first)
        let sources = flipped.decision(for: first).path.flatMap(\.evidence).compactMap(\.source)
        #expect(sources.contains { $0.contains("facts wrong.json: all mapped") }, "the decision cites the facts file: \(sources)")
    }

    @Test("nested NPT: with L1's NPT and its NPF handler every L2 #NPF is decided; each fact is needed")
    func nestedNPT() throws {
        let facts = try Self.labFacts("nested-npt")
        let with = try Self.replay("6.12-zen3", "nested-npt", npt: true, facts: [facts])
        let npfs = with.exits.filter { $0.reasonName == "npf" && $0.level == .l2 }
        #expect(npfs.count > 2)
        #expect(npfs.allSatisfy { $0.verdict.proof == .decided })
        #expect(with.summary.consistent == 0 && with.summary.mismatch == 0)

        // Without the NPF handler L1's fix is unknown to the model: the hole stays not present,
        // and the re-executed access that L0 resolves becomes a mismatch.
        var json = try LabScenarioFacts(path: RepositoryPaths.root.appendingPathComponent("lab/scenarios/nested-npt.scn").path).document()
        var entries = json["entries"] as! [[String: Any]]
        for index in entries.indices { entries[index]["l1_npf_handler"] = nil }
        json["entries"] = entries
        let noHandler = try FactsFile(json: JSONSerialization.data(withJSONObject: json), path: "no-handler.json")
        let stale = try Self.replay("6.12-zen3", "nested-npt", npt: true, facts: [noHandler])
        #expect(stale.summary.mismatch > 0)
        #expect(stale.mismatches.allSatisfy { $0.reasonName == "npf" })

        // The hole stated present: the first #NPF at 0x70000 would be L0's own — the trace reflects it.
        let present = try Self.facts(#"{"source": "no hole", "scope": {"vmcb12": "0x31000"}, "state": {"vmcb12": {"npt": [{"from": "0x0", "to": "0x3fffffff", "present": 1, "writable": 1, "user": 1, "executable": 1}]}}}"#)
        let wrong = try Self.replay("6.12-zen3", "nested-npt", npt: true, facts: [present, facts])
        #expect(wrong.summary.mismatch > 0)
    }

    @Test("VMRUN attempts: each VMRUN's own vmcb12 decides its checks; attempts in the wrong order are mismatches")
    func vmrunAttempts() throws {
        let without = try Self.replay("6.12-zen3", "vmcb12-invalid", npt: true, facts: [])
        let vmruns = without.exits.filter { $0.reasonName == "vmrun" && $0.level == .l1 }
        #expect(vmruns.count >= 5)
        #expect(vmruns.prefix(4).allSatisfy { $0.verdict.isConsistent })

        let with = try Self.replay("6.12-zen3", "vmcb12-invalid", npt: true, facts: [Self.labFacts("vmcb12-invalid")])
        #expect(with.exits.filter { $0.reasonName == "vmrun" && $0.level == .l1 }.allSatisfy { $0.verdict.proof == .decided })
        #expect(with.summary.consistent == 0 && with.summary.mismatch == 0)

        // The same scenario without its last attempt: VMRUN 4 would be the valid one, the trace
        // fails it (CR0.NW without CD).
        let original = try String(contentsOfFile: RepositoryPaths.root.appendingPathComponent("lab/scenarios/vmcb12-invalid.scn").path, encoding: .utf8)
        var lines = original.components(separatedBy: "\n")
        let attempts = lines.indices.filter { lines[$0].hasPrefix("attempt") }
        lines.remove(at: attempts[3])
        let scn = FileManager.default.temporaryDirectory.appendingPathComponent("vmcb12-invalid-\(UUID().uuidString).scn")
        try lines.joined(separator: "\n").write(to: scn, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: scn) }
        let swapped = try Self.replay("6.12-zen3", "vmcb12-invalid", npt: true, facts: [Self.labFacts("swapped", scn: scn.path)])
        #expect(!swapped.mismatches.isEmpty)
        #expect(swapped.mismatches.contains { $0.reasonName == "vmrun" })
    }

    @Test("a VMRUN operand in the facts that differs from kvm_nested_vmenter's is a mismatch naming both")
    func vmrunRAXConflict() throws {
        let wrong = try Self.facts(#"{"source": "moved vmcb12", "scope": {"vmrun": "1-"}, "operands": {"rax": "0x32000"}}"#)
        let result = try Self.replay("6.12-zen3", "msr-prot", npt: true, facts: [wrong])
        let mismatch = try #require(result.mismatches.first)
        let difference = try #require(mismatch.verdict.differences.first { $0.field == "rax" })
        #expect(difference.model.contains("facts wrong.json: moved vmcb12"))
        #expect(difference.recorded.contains("kvm_nested_vmenter line"))
    }

    @Test("scopes, operands and page maps parse; bad ones are refused with their JSON path")
    func parsing() throws {
        let file = try Self.facts(#"{"entries": [{"scope": {"vmrun": 2}, "operands": {"rax": "0x31000"}}, {"scope": {"vmrun": "3-"}}, {"scope": {"vmrun": "4-6"}}, {"l1_npf_handler": {"maps_below": "0x200000"}}]}"#)
        #expect(file.entries.map(\.vmruns) == [2...2, 3...Int(Int32.max), 4...6, nil])
        #expect(file.entries[0].vmrunRAX?.value == 0x31000)
        #expect(file.entries[3].npfMapsBelow?.value == 0x20_0000)
        #expect(file.entries[0].applies(vmcb12Address: nil, vcpu: 0, vmrun: 2))
        #expect(!file.entries[0].applies(vmcb12Address: nil, vcpu: 0, vmrun: 3))
        #expect(!file.entries[0].applies(vmcb12Address: nil, vcpu: 0, vmrun: nil), "an unknown VMRUN count does not fit a VMRUN scope")

        let bad: [(String, String)] = [
            (#"{"scope": {"vmrun": 0}}"#, "$.scope.vmrun"),
            (#"{"scope": {"vmrun": "3-1"}}"#, "$.scope.vmrun"),
            (#"{"operands": {"rax": "0x1000"}}"#, "$.operands"),
            (#"{"scope": {"vmrun": 1}, "operands": {"rdx": "0x10"}}"#, "$.operands.rdx"),
            (#"{"state": {"l1": {"page_tables": [{"from": "0x2000", "to": "0x1000", "present": 0}]}}}"#, "$.state.l1.page_tables[0].from"),
            (#"{"state": {"l1": {"page_tables": [{"from": "0x0", "to": "0x1000", "present": 1}]}}}"#, "$.state.l1.page_tables[0]"),
            (#"{"state": {"vmcb12": {"npt": {"from": "0x0"}}}}"#, "$.state.vmcb12.npt"),
            (#"{"l1_npf_handler": {"below": "0x1"}}"#, "$.l1_npf_handler.below"),
        ]
        for (json, path) in bad {
            #expect(throws: ScenarioError.self, "\(json)") { try Self.facts(json) }
            do {
                _ = try Self.facts(json)
            } catch let error as ScenarioError {
                #expect(error.path == path, "\(json): \(error)")
            } catch {}
        }
    }

    @Test("a bad facts file read from disk names its line")
    func errorLine() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString).facts.json")
        try "{\n  \"entries\": [\n    {\"state\": {}},\n    {\"scope\": {\"vmrun\": \"2-1\"}}\n  ]\n}\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        do {
            _ = try FactsFile.read(path: file.path)
            Issue.record("a bad scope was accepted")
        } catch {
            #expect(error.line == 4)
            #expect(error.description.hasPrefix("line 4: $.entries[1].scope.vmrun: "), "\(error.description)")
        }
    }

    @Test("a page map's walk: present, R/W with CR0.WP, U/S, SMEP/SMAP and NX")
    func pageWalk() {
        let map = PageMap(ranges: [
            .init(first: 0x1000, last: 0x1fff, present: true, writable: false, user: false, executable: true, source: "ro"),
            .init(first: 0x2000, last: 0x2fff, present: true, writable: true, user: true, source: "user, NX unknown"),
            .init(first: 0x0, last: 0xffff, present: false, source: "rest"),
        ])
        #expect(map.walkFaults(at: 0x1234, .init(write: false, user: false))?.faults == false)
        #expect(map.walkFaults(at: 0x1234, .init(write: true, user: false, writeProtect: true))?.faults == true)
        #expect(map.walkFaults(at: 0x1234, .init(write: true, user: false, writeProtect: false))?.faults == false)
        #expect(map.walkFaults(at: 0x1234, .init(write: true, user: false)) == nil, "CR0.WP unknown decides")
        #expect(map.walkFaults(at: 0x1234, .init(write: false, user: true))?.faults == true)
        #expect(map.walkFaults(at: 0x2000, .init(write: true, user: true))?.faults == false)
        #expect(map.walkFaults(at: 0x2000, .init(write: false, user: false, smep: false, smap: false))?.faults == false)
        #expect(map.walkFaults(at: 0x2000, .init(write: false, user: false)) == nil, "SMAP unknown decides")
        #expect(map.walkFaults(at: 0x2000, .init(write: false, user: false, fetch: true, smep: true))?.faults == true)
        #expect(map.walkFaults(at: 0x2000, .init(write: false, user: true, fetch: true)) == nil, "NX not stated")
        #expect(map.walkFaults(at: 0x5000, .init(write: false, user: true))?.faults == true)
        #expect(map.walkFaults(at: 0x10000, .init(write: false, user: true)) == nil, "outside every range: unknown")
    }

    @Test("L2 instructions L1 intercepts, or that fault at CPL 3, write no register: l2-cpl3's VMLOAD has RAX 0")
    func skippedInstructions() throws {
        let source = try String(contentsOf: RepositoryPaths.root.appendingPathComponent("lab/src/l1.S"), encoding: .utf8)
        // Read as straight-line code, CPUID (step 1) and MOV from CR0 (step 3) write RAX.
        #expect(LabProgramOperands.steps(program: "cpl3", source: source)[8]?.rax == nil)
        // l2-cpl3: L1 intercepts CPUID (its exit loop only skips it) and L2 runs at CPL 3.
        let scenario = try LabScenarioFacts(path: RepositoryPaths.root.appendingPathComponent("lab/scenarios/l2-cpl3.scn").path)
        let steps = LabProgramOperands.steps(program: "cpl3", source: source, skipped: scenario.skippedInstructions)
        #expect(steps[8]?.rax == 0)
        #expect(steps[2]?.rcx == 0x10)
        // cpuid-toggle clears its CPUID intercept with an action: CPUID still counts as writing.
        let toggle = try LabScenarioFacts(path: RepositoryPaths.root.appendingPathComponent("lab/scenarios/cpuid-toggle.scn").path)
        #expect(!toggle.skippedInstructions("cpuid", []))
        #expect(scenario.skippedInstructions("mov", ["%cr0", "%rax"]) && !toggle.skippedInstructions("mov", ["%cr0", "%rax"]))
    }

    @Test("every committed lab trace with its facts file: no exit is left consistent")
    func labFoldersDecided() throws {
        let report = try LabCheck.run(directory: RepositoryPaths.root.appendingPathComponent("traces/lab").path,
                                      options: LabCheckOptions(forms: [.trace]))
        var still: [String] = []
        for scenario in report.scenarios {
            for form in scenario.forms {
                let facts = try #require(form.facts)
                #expect(facts.mismatch == 0, "\(scenario.folder)/\(scenario.scenario): \(facts.problems.prefix(3))")
                still += facts.stillConsistent.map { "\(scenario.folder)/\(scenario.scenario) \($0)" }
            }
        }
        #expect(still.isEmpty, "\(still.prefix(5))")
    }
}
