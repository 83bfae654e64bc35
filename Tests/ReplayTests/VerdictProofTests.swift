import Foundation
import NestedSVM
import Replay
import TestSupport
import Testing
import TraceKit

/// Issue 16: a match says whether it was decided from facts or only consistent (an input
/// settled by reading the recorded outcome back); facts files make settled exits decided; a
/// flipped outcome at an exit settled today becomes a mismatch with facts; exported scenarios
/// reproduce replay's decisions.
@Suite struct VerdictProofTests {
    static let zen3 = "traces/lab/6.12-zen3"

    /// Host and guest facts of the 6.12 Zen3 lab folder (its manifests).
    static func options(facts: [FactsFile] = []) throws -> ReplayOptions {
        let host = try HostFacts(parsing: "svme_addr_chk=1,vgif=1,npt=1,nrips=0,decode_assists=0,vls=0", source: "--host")
        var guest = GuestFacts()
        guest.maxPhysAddr = Known(40, source: "--guest")
        return ReplayOptions(profile: .v6_12, host: host, guest: guest, facts: facts)
    }

    static func text(_ name: String) throws -> String {
        try String(contentsOfFile: RepositoryPaths.root.appendingPathComponent("\(zen3)/\(name).trace").path, encoding: .utf8)
    }

    static func facts(_ name: String) throws -> FactsFile {
        let scenario = try LabScenarioFacts(path: RepositoryPaths.root.appendingPathComponent("lab/scenarios/\(name).scn").path)
        return try FactsFile(json: Data(scenario.json().utf8), path: "\(name).facts.json")
    }

    static func replay(_ text: String, facts: [FactsFile] = []) throws -> ReplayResult {
        let trace = try TraceLoader.load(bytes: Array(text.utf8), source: "mutated.trace")
        return Replayer(trace: trace, options: try options(facts: facts)).run()
    }

    /// The exit that starts at 1-based `line`.
    static func exit(at line: Int, in result: ReplayResult) throws -> ExitRecord {
        try #require(result.exits.first { $0.lines.lowerBound == line })
    }

    @Test("decided + consistent = match; consistent matches are exactly those with inferred inputs")
    func proofCounts() throws {
        let result = try Self.replay(Self.text("msr-prot"))
        let summary = result.summary
        #expect(summary.consistent > 0)
        #expect(summary.decided + summary.consistent == summary.match)
        #expect(summary.consistent == summary.matchByInference)
        for exit in result.exits {
            #expect(exit.verdict.isConsistent == (exit.verdict.kind == .match && !exit.verdict.inferred.isEmpty))
        }
        // With the scenario's facts fewer exits are only consistent, none is a mismatch.
        let withFacts = try Self.replay(Self.text("msr-prot"), facts: [Self.facts("msr-prot")])
        #expect(withFacts.summary.mismatch == 0)
        #expect(withFacts.summary.consistent < summary.consistent)
    }

    @Test("a facts file with a level, an unknown key or a bad scope is refused with its JSON path")
    func badFactsFiles() {
        let cases: [(String, String)] = [
            (#"{"state": {"level": "L2"}}"#, "$.state.level"),
            (#"{"state": {"vmcb12": {"asd": 1}}}"#, "$.state.vmcb12.asd"),
            (#"{"scope": {"vmcb": "0x31000"}, "state": {}}"#, "$.scope.vmcb"),
            (#"{"entries": {}}"#, "$.entries"),
            (#"{}"#, "$"),
        ]
        for (text, path) in cases {
            #expect(throws: ScenarioError.self) { try FactsFile(json: Data(text.utf8), path: "f.json") }
            do {
                _ = try FactsFile(json: Data(text.utf8), path: "f.json")
            } catch {
                #expect(error.path == path, "\(text)")
            }
        }
    }

    @Test("a facts file that contradicts the trace makes a mismatch naming both sources")
    func contradictingFacts() throws {
        let wrong = try FactsFile(json: Data(#"{"source": "wrong", "scope": {"vmcb12": "0x31000"}, "state": {"vmcb12": {"intercepts": {"word4": "0x3"}}}}"#.utf8), path: "wrong.json")
        let result = try Self.replay(Self.text("msr-prot"), facts: [wrong])
        let mismatch = try #require(result.mismatches.first)
        let difference = try #require(mismatch.verdict.differences.first { $0.field == "vmcb12.intercepts.word4" })
        #expect(difference.model.contains("facts wrong.json: wrong"))
        #expect(difference.recorded.contains("kvm_nested_intercepts line"))
    }

    @Test("flipping an L2 MSR exit L0 handled to a #VMEXIT: consistent without facts, a mismatch naming the MSRPM bit with them")
    func flippedMSRExit() throws {
        let original = try Self.text("msr-prot")
        var lines = original.components(separatedBy: "\n")
        // An L2 RDMSR of MSR_VM_HSAVE_PA (not in L1's MSRPM): kvm_msr shows L0 emulated it.
        let msrLine = try #require(lines.lastIndex { $0.contains("kvm_msr: msr_read c0010117 ") })
        let exitLine = try #require(lines[..<msrLine].lastIndex { $0.contains(" kvm_exit: ") })
        try #require(lines[exitLine + 1].contains("kvm_nested_vmexit:"))
        let prefix = String(lines[msrLine].prefix { $0 != ":" })
        lines.insert(prefix + ": kvm_nested_vmexit_inject: reason: msr ext_inf1: 0x0000000000000000 ext_inf2: 0x0000000000000000 ext_int: 0x00000000 ext_int_err: 0x00000000", at: msrLine + 1)
        let mutated = lines.joined(separator: "\n")

        let clean = try Self.replay(original)
        #expect(try Self.exit(at: exitLine + 1, in: clean).verdict.isConsistent)
        let without = try Self.replay(mutated)
        let settled = try Self.exit(at: exitLine + 1, in: without)
        #expect(settled.verdict.isConsistent, "without facts the flipped exit can never disagree")
        #expect(settled.verdict.settled["msrpm[0xc0010117].read"] == true)

        let with = try Self.replay(mutated, facts: [Self.facts("msr-prot")])
        let flipped = try Self.exit(at: exitLine + 1, in: with)
        #expect(flipped.verdict.kind == .mismatch)
        let named = try #require(flipped.verdict.differences.first { $0.field == "msrpm[0xc0010117].read" })
        #expect(named.model.contains("msr-prot.facts.json"))
        #expect(named.recorded.contains("settled by the recorded outcome at line \(exitLine + 1)"))
    }

    @Test("dropping the #VMEXIT of an intercepted L2 OUT: consistent without facts, a mismatch with them")
    func flippedIOIOExit() throws {
        let original = try Self.text("ioio")
        var lines = original.components(separatedBy: "\n")
        // The first L2 IOIO exit L1 takes (port 0x80 is in L1's IOPM).
        let exitLine = try #require(lines.firstIndex { $0.contains(" kvm_nested_vmexit: ") && $0.contains("reason io") && $0.contains("info1 0x0000000000800") } ) - 1
        let inject = try #require(lines[exitLine...].firstIndex { $0.contains("kvm_nested_vmexit_inject: reason: io") })
        lines.remove(at: inject)
        let mutated = lines.joined(separator: "\n")

        #expect(try Self.exit(at: exitLine + 1, in: Self.replay(original)).verdict.isConsistent)
        let without = try Self.exit(at: exitLine + 1, in: Self.replay(mutated))
        #expect(without.verdict.isConsistent, "without facts the flipped exit can never disagree")
        let with = try Self.exit(at: exitLine + 1, in: Self.replay(mutated, facts: [Self.facts("ioio")]))
        #expect(with.verdict.kind == .mismatch)
        #expect(with.verdict.differences.contains { $0.field.hasPrefix("iopm[0x80") && $0.model.contains("ioio.facts.json") })
    }

    @Test("failing a valid L1 VMRUN on the ASID check: consistent without facts, a mismatch with them")
    func flippedVMRUN() throws {
        let original = try Self.text("msr-prot")
        var lines = original.components(separatedBy: "\n")
        // The second VMRUN (vmcb12 is then known to be at 0x31000).
        let vmruns = lines.indices.filter { lines[$0].contains(" kvm_exit: ") && lines[$0].contains("reason vmrun") }
        let exitLine = try #require(vmruns.dropFirst().first)
        let enter = try #require(lines[exitLine...].firstIndex { $0.contains("kvm_nested_vmenter:") })
        let intercepts = try #require(lines[exitLine...].firstIndex { $0.contains("kvm_nested_intercepts:") })
        let prefix = String(lines[enter].prefix { $0 != ":" })
        lines[enter] = prefix + ": kvm_nested_vmenter_failed: control->asid == 0"
        lines.remove(at: intercepts)
        // Back in L1 after the failed VMRUN: the entry goes to L1's next instruction.
        let entry = try #require(lines[enter...].firstIndex { $0.contains("kvm_entry:") })
        let rip = try #require(lines[exitLine].range(of: "rip 0x")).upperBound
        let next = UInt64(lines[exitLine][rip...].prefix { $0.isHexDigit }, radix: 16)! + 3
        lines[entry] = String(lines[entry].prefix { $0 != ":" }) + ": kvm_entry: vcpu 0, rip 0x" + String(next, radix: 16)
        let mutated = lines.joined(separator: "\n")

        #expect(try Self.exit(at: exitLine + 1, in: Self.replay(original)).verdict.isConsistent)
        let without = try Self.exit(at: exitLine + 1, in: Self.replay(mutated))
        #expect(without.verdict.kind == .match)
        #expect(without.verdict.isConsistent, "without facts the failed VMRUN settles the ASID check")
        let with = try Self.exit(at: exitLine + 1, in: Self.replay(mutated, facts: [Self.facts("msr-prot")]))
        #expect(with.verdict.kind == .mismatch)
    }

    @Test("every committed lab folder replays with its facts files: no mismatch, no settled fact differs")
    func labFactsAgree() throws {
        let report = try LabCheck.run(directory: RepositoryPaths.root.appendingPathComponent("traces/lab").path,
                                      options: LabCheckOptions(forms: [.trace]))
        var forms = 0
        for scenario in report.scenarios {
            for form in scenario.forms {
                let facts = try #require(form.facts, "\(scenario.folder)/\(scenario.scenario) has no facts file")
                forms += 1
                #expect(facts.mismatch == 0, "\(scenario.folder)/\(scenario.scenario): \(facts.problems.prefix(3))")
                #expect(facts.settledDiffer == 0 && facts.bitsDiffering == 0, "\(scenario.folder)/\(scenario.scenario)")
                #expect(facts.consistent <= form.consistent)
            }
        }
        #expect(forms == report.scenarios.count)
        #expect(report.summary.settledAgree > 0)
    }

    @Test("every exit of the shipped traces exported as a scenario gives, under decide, replay's outcome",
          arguments: ScenarioCapture.shipped() + Self.labCaptures())
    func scenariosReproduce(_ capture: ScenarioCapture) throws {
        let trace = try TraceLoader.load(path: capture.path)
        let result = Replayer(trace: trace, options: capture.options).run()
        var checked = 0
        var failures: [String] = []
        result.forEachModelInput { exit, input in
            guard let input else { return }
            guard let document = ScenarioExport.document(for: exit, in: result, input: input) else { return }
            let text = ScenarioExport.text(document, pretty: false)
            do {
                let scenario = try Scenario(json: Data(text.utf8))
                let profile = try #require(scenario.profile.flatMap(KernelProfile.init(named:)))
                let outcome = DecisionModel(profile: profile, host: scenario.host).decision(for: scenario.event, state: scenario.state).outcome
                if outcome != exit.model, failures.count < 3 { failures.append("line \(exit.lines.lowerBound): \(outcome) vs \(exit.model)") }
                #expect(scenario.expect?.kind.rawValue == exit.recorded.kind.rawValue)
                checked += 1
            } catch {
                failures.append("line \(exit.lines.lowerBound): \(error)")
            }
        }
        #expect(failures.isEmpty, "\(capture.name): \(failures)")
        #expect(checked > 0)
    }

    static func labCaptures() -> [ScenarioCapture] {
        let root = RepositoryPaths.root.appendingPathComponent("traces/lab")
        var out: [ScenarioCapture] = []
        for folder in ((try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []).sorted() {
            let directory = root.appendingPathComponent(folder)
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted()
            for name in names where name.hasSuffix(".trace") {
                let manifest = directory.appendingPathComponent(String(name.dropLast(6)) + ".json")
                guard let parsed = try? LabManifest.read(url: manifest),
                    let options = LabCheck.replayOptions(for: parsed, options: LabCheckOptions())
                else { continue }
                out.append(ScenarioCapture(name: "lab/\(folder)/\(name)", path: directory.appendingPathComponent(name).path, options: options))
            }
        }
        return out
    }
}

/// One trace to export as scenarios, with its replay options.
struct ScenarioCapture: Sendable, CustomTestStringConvertible {
    var name: String
    var path: String
    var options: ReplayOptions
    var testDescription: String { name }
}

extension ScenarioCapture {
    /// Shipped captures (trace form) under their folder's profile and host facts.
    static func shipped() -> [ScenarioCapture] {
        Capture.all(forms: ["trace"]).map { capture in
            let host = (try? HostFacts(parsing: capture.folder.host, source: "--host")) ?? HostFacts()
            return ScenarioCapture(name: capture.testDescription, path: capture.path, options: ReplayOptions(profile: capture.folder.profile, host: host))
        }
    }
}
