import Foundation
import NestedSVM
import TestSupport
import Testing

/// The `apm` profile (issue 19): the architecture's answer, with a cited source per rule.
@Suite struct ArchitecturalProfileTests {
    /// Every scenario under `traces/scenarios/`, subfolders (the KVM-tests suite) included.
    static let allScenarios: [String] = {
        let root = RepositoryPaths.traces.appendingPathComponent("scenarios")
        guard let walker = FileManager.default.enumerator(atPath: root.path) else { return [] }
        return walker.compactMap { $0 as? String }.filter { $0.hasSuffix(".json") }.sorted()
    }()

    static func scenario(_ name: String) throws -> Scenario {
        try Scenario(json: Data(contentsOf: RepositoryPaths.trace("scenarios/\(name)")))
    }

    static func decide(_ scenario: Scenario, _ profile: KernelProfile = .apm) -> Decision {
        DecisionModel(profile: profile, host: scenario.host).decision(for: scenario.event, state: scenario.state)
    }

    @Test("apm is selectable, architectural, and not one of the kernel profiles")
    func profile() {
        #expect(KernelProfile(named: "apm")?.kind == .architectural)
        #expect(KernelProfile.all.allSatisfy { $0.kind == .kernel })
        #expect(!KernelProfile.all.contains { $0.name == "apm" })
        #expect(KernelProfile.selectable.map(\.name) == ["6.1", "6.12", "upstream", "apm"])
    }

    @Test("apm rule ids are unique, apm.-prefixed, and each names its source kind")
    func catalogue() {
        let rules = Rule.architecturalCatalogue.filter { $0 != .factKnown }
        let ids = rules.map(\.id.rawValue)
        #expect(Set(ids).count == ids.count)
        for rule in rules {
            #expect(rule.id.rawValue.hasPrefix("apm."), "\(rule.id)")
            let source = rule.kernel
            let cited = source.contains("APM vol.") || source.contains("(independent implementation") || source.contains("independent implementations")
                || source.hasPrefix("trace evidence") || source.hasPrefix("no source at hand")
            #expect(cited, "\(rule.id): \(source)")
            // An APM citation says whether its text was at hand.
            if source.hasPrefix("APM vol.") { #expect(source.contains("text at hand") || source.contains("text not at hand"), "\(rule.id)") }
        }
    }

    @Test("decide --profile apm answers every scenario, each step from a catalogued apm rule with its source", arguments: allScenarios)
    func answersEveryScenario(name: String) throws {
        let scenario = try Self.scenario(name)
        let decision = Self.decide(scenario)
        #expect(decision.profile == "apm")
        #expect(!decision.path.isEmpty, "\(name): no rule was asked")
        let known = Dictionary(Rule.architecturalCatalogue.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        for step in decision.path {
            let rule = try #require(known[step.rule], "\(name): \(step.rule) is not an apm rule")
            #expect(rule.kernel == step.kernel && rule.question == step.question, "\(step.rule)")
        }
        for alternative in decision.outcome.alternatives ?? [] {
            for rule in alternative.rules { #expect(known[rule] != nil, "\(name): \(rule)") }
        }
    }

    @Test("L2 VMMCALL L1 does not intercept: #UD into L2 (6.1 loops); with the intercept: #VMEXIT")
    func vmmcall() throws {
        for name in ["vmmcall-l2-not-intercepted.json", "vmmcall-l2-livelock-6.1.json"] {
            var scenario = try Self.scenario(name)
            let apm = Self.decide(scenario).outcome
            #expect(apm.kind == .injectException && apm.vector == ExceptionVector.invalidOpcode && apm.level == .l2, "\(name)")
            #expect(Self.decide(scenario, .v6_1).outcome.kind != .injectException, "6.1 must differ from the architecture")
            // Negative: vmcb12 intercepting VMMCALL (word 4 bit 1) → the #VMEXIT.
            scenario.state.vmcb12.intercepts.word4 = Known(0x3, source: "test")
            let flipped = Self.decide(scenario).outcome
            #expect(flipped.kind == .reflectToL1 && flipped.exitCode == .vmmcall, "\(name)")
        }
    }

    @Test("L2 VMLOAD whose #GP the CPU raised: #GP into L2, where 6.12 synthesizes a VMLOAD #VMEXIT")
    func vmloadBadRAX() throws {
        var scenario = try Self.scenario("l2-vmload-rax-2pow40-naples.json")
        let apm = Self.decide(scenario).outcome
        #expect(apm.kind == .injectException && apm.vector == ExceptionVector.generalProtection && apm.level == .l2)
        #expect(Self.decide(scenario, .v6_12).outcome.exitCode == .vmload)
        // L1 intercepting #GP: the #GP #VMEXIT, never VMLOAD's.
        scenario.state.vmcb12.intercepts.exceptions = Known(1 << 13, source: "test")
        let reflected = Self.decide(scenario).outcome
        #expect(reflected.kind == .reflectToL1 && reflected.exitCode == .exception(ExceptionVector.generalProtection))
    }

    @Test("an intercepted VMLOAD with an illegal RAX forks: QEMU raises #GP first, the APM (as quoted) and Xen reflect")
    func raxOrderForks() throws {
        var scenario = try Self.scenario("l2-vmload-rax-2pow40-naples.json")
        scenario.event = .hardwareExit(HardwareExit(exitCode: .vmload, rax: Known(1 << 40, source: "test")))
        scenario.state.vmcb12.intercepts.word4 = Known(0x1 | 0x4, source: "test")
        let outcome = Self.decide(scenario).outcome
        #expect(outcome.kind == .undetermined)
        let kinds = Set((outcome.alternatives ?? []).map { "\($0.outcome.kind.rawValue) \($0.outcome.exitCode?.rawValue ?? 0) \($0.outcome.vector ?? 0xff)" })
        #expect(kinds == ["inject_exception 0 13", "reflect_to_l1 130 255"])
        // A legal RAX: determined, the #VMEXIT.
        scenario.event = .hardwareExit(HardwareExit(exitCode: .vmload, rax: Known(0x5000, source: "test")))
        #expect(Self.decide(scenario).outcome.exitCode == .vmload)
    }

    @Test("load_pdptrs is no architectural VMRUN check: KVM fails the real-mode VMRUN, the architecture enters L2")
    func loadPDPTRs() throws {
        var scenario = try Self.scenario("vmrun-load-pdptrs-real-mode.json")
        #expect(Self.decide(scenario, .v6_12).outcome.kind == .vmrunFails)
        let apm = Self.decide(scenario)
        #expect(apm.outcome.kind == .vmrunSucceeds)
        #expect(apm.path.contains { $0.rule == Rule.apmFailureMessage.id && $0.answer.rawValue.hasPrefix("no") })
        // Negative: an APM check that fails (ASID 0) still fails VMRUN.
        scenario.state.vmcb12.asid = Known(0, source: "test")
        #expect(Self.decide(scenario).outcome.kind == .vmrunFails)
        // A check the APM has: the message alone fails VMRUN.
        scenario.event = .vmrunConsistencyFailure(message: "control->asid == 0")
        #expect(Self.decide(scenario).outcome.check == "asid")
    }

    @Test("EVENTINJ: reserved types and exception vector 2 fail VMRUN, vector 31 forks (QEMU rejects, APM text not at hand)")
    func eventInjection() {
        #expect(APMConsistencyCheck.eventInjectionVerdict(0x8000_0106).legal == false)  // type 1
        #expect(APMConsistencyCheck.eventInjectionVerdict(0x8000_0302).legal == false)  // exception, vector 2
        #expect(APMConsistencyCheck.eventInjectionVerdict(0x8000_031f).legal == nil)  // exception, vector 31
        #expect(APMConsistencyCheck.eventInjectionVerdict(0x8000_030d).legal == true)  // #GP
        #expect(APMConsistencyCheck.eventInjectionVerdict(0x0000_0106).legal == true)  // not valid: nothing injected
    }

    @Test("an instruction the CPU L1 sees lacks raises #UD before its intercept (6.x reflect the instruction's #VMEXIT)",
          arguments: ["unsupported-rdpru-ud", "unsupported-rdtscp-ud", "unsupported-invpcid-ud", "unsupported-skinit-ud"])
    func missingFeature(name: String) throws {
        var scenario = try Self.scenario("kvm-tests/\(name).json")
        let apm = Self.decide(scenario).outcome
        #expect(apm.kind == .reflectToL1 && apm.exitCode == .exception(ExceptionVector.invalidOpcode), "\(name)")
        #expect(Self.decide(scenario, .v6_12).outcome.exitCode != .exception(ExceptionVector.invalidOpcode))
        // Negative: with the feature the intercept decides.
        for feature in [GuestFeature.rdpru, .rdtscp, .invpcid, .skinit] { scenario.state.guest.features[feature] = Known(true, source: "test") }
        #expect(Self.decide(scenario).outcome.exitCode != .exception(ExceptionVector.invalidOpcode), "\(name)")
    }

    @Test("plain MSR and IOIO exits route by vmcb12 alone: the bit set reflects, clear completes in L2")
    func plainRouting() throws {
        let set = Self.decide(try Self.scenario("msr-in-range-bit-set.json")).outcome
        #expect(set.kind == .reflectToL1 && set.exitCode == .msr)
        let clear = Self.decide(try Self.scenario("msr-in-range-bit-clear.json")).outcome
        #expect(clear.kind == .undetermined)
        #expect((clear.alternatives ?? []).contains { $0.outcome.kind == .l0Handles && $0.outcome.level == .l2 })
        #expect(!(clear.alternatives ?? []).contains { $0.outcome.kind == .reflectToL1 && $0.outcome.exitCode == .msr })
        let io = Self.decide(try Self.scenario("ioio-byte-crossing.json")).outcome
        #expect(io.kind == .reflectToL1 && io.exitCode == .ioio)
    }
}

@Suite struct ArchitecturalDocsTests {
    @Test("docs/decide.md lists exactly the apm rules; docs/kvm-vs-apm.md cites each apm rule it names")
    func documented() throws {
        let docs = try String(contentsOf: RepositoryPaths.root.appendingPathComponent("docs/decide.md"), encoding: .utf8)
        let listed = Set(docs.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("| `apm.") else { return nil }
            return line.dropFirst(3).split(separator: "`").first.map(String.init)
        })
        let catalogue = Set(Rule.architecturalCatalogue.map(\.id.rawValue).filter { $0.hasPrefix("apm.") })
        #expect(listed == catalogue)
        let table = try String(contentsOf: RepositoryPaths.root.appendingPathComponent("docs/kvm-vs-apm.md"), encoding: .utf8)
        let ids = table.matches(of: /`(apm\.[a-z0-9.\-]+)`/).map { String($0.1) }
        #expect(!ids.isEmpty)
        for id in ids { #expect(catalogue.contains(id), "\(id)") }
        for scenario in table.matches(of: /scenario `([a-z0-9.\-]+\.json)`/).map({ String($0.1) }) {
            #expect(FileManager.default.fileExists(atPath: RepositoryPaths.trace("scenarios/\(scenario)").path), "\(scenario)")
        }
    }
}
