import Foundation
import NestedSVM
import Testing

/// Structured facts: every fork names its facts, the caller's facts decide forks, and the
/// hardware-proved facts (`svm.hw.*`) apply only where their host fact is known.
@Suite struct FactRulesTests {
    static let vmload: [UInt8] = [0x0f, 0x01, 0xda]

    /// L2 VMLOAD that L1 does not intercept (L0 forced the intercept), RAX unknown.
    static var forcedVMLoadState: VCPUState { Fixture.l2(VMCB12(intercepts: Fixture.intercepts(word4: 1))) }

    @Test("every alternative of an undetermined outcome names its facts")
    func alternativesCarryFacts() throws {
        let decision = Fixture.decide(Fixture.exit(.vmload), Self.forcedVMLoadState, profile: .upstream, host: Fixture.naplesHost)
        let alternatives = try #require(decision.outcome.alternatives)
        #expect(alternatives.count == 3)
        for alternative in alternatives { #expect(!alternative.assumptions.isEmpty, "\(alternative.condition)") }
        #expect(alternatives.contains { $0.assumptions == [FactID.raxLegalPage: false] })
        #expect(alternatives.contains { $0.assumptions == [FactID.raxLegalPage: true, FactID.raxBacked: true] })
        #expect(alternatives.contains { $0.assumptions == [FactID.raxLegalPage: true, FactID.raxBacked: false] })
        #expect(alternatives.allSatisfy { !$0.rules.isEmpty })
    }

    @Test("a known fact decides the fork and the step cites it", arguments: [
        ([FactID.raxLegalPage: false], Expect.inject(13, .l2)),
        ([FactID.raxLegalPage: true, FactID.raxBacked: true], Expect.l0("svm/svm.c:vmload_vmsave_interception")),
        ([FactID.raxLegalPage: true, FactID.raxBacked: false], Expect.userspace),
        ([FactID.raxPageAligned: false], Expect.inject(13, .l2)),
    ])
    func assumptionsDecide(facts: [Fact: Bool], expected: Expect) {
        var state = Self.forcedVMLoadState
        state.assumptions = facts.mapValues { Known($0, source: "gdb session") }
        let decision = Fixture.decide(Fixture.exit(.vmload), state, profile: .upstream, host: Fixture.naplesHost)
        #expect(Expect(decision.outcome) == expected)
        let steps = decision.path.filter { $0.rule == Rule.factKnown.id }
        #expect(!steps.isEmpty)
        #expect(steps.contains { step in step.evidence.contains { $0.field.hasPrefix("fact rax.") && $0.source?.contains("gdb session") == true } })
    }

    @Test("a fact that leaves several branches keeps the fork over those")
    func partialFacts() throws {
        var state = Self.forcedVMLoadState
        state.assumptions = [FactID.raxLegalPage: Known(true, source: "test")]
        let decision = Fixture.decide(Fixture.exit(.vmload), state, profile: .upstream, host: Fixture.naplesHost)
        let alternatives = try #require(decision.outcome.alternatives)
        #expect(alternatives.map { Expect($0.outcome) }.sorted { $0.description < $1.description } == [.l0("svm/svm.c:vmload_vmsave_interception"), .userspace])
    }

    struct HardwareCase: Sendable, CustomTestStringConvertible {
        var host: String
        var code: VMExitCode
        var level: GuestLevel
        var proves: [Fact: Bool]
        var rules: [String]
        var testDescription: String { "\(host): \(level) \(code.name ?? "") → \(proves)" }
    }

    @Test("hardware-proved facts apply only to the real intercept and a known host", arguments: [
        HardwareCase(host: "svme_addr_chk=1", code: .vmload, level: .l1, proves: [FactID.raxLegalPage: true, FactID.cpl0(.l1): true],
                     rules: ["svm.hw.intercept-after-permissions", "svm.hw.rax-before-intercept"]),
        HardwareCase(host: "svme_addr_chk=1", code: .vmload, level: .l2, proves: [FactID.raxLegalPage: true, FactID.cpl0(.l2): true],
                     rules: ["svm.hw.intercept-after-permissions", "svm.hw.rax-before-intercept"]),
        HardwareCase(host: "svme_addr_chk=0", code: .vmload, level: .l1, proves: [FactID.cpl0(.l1): true],
                     rules: ["svm.hw.intercept-after-permissions"]),
        HardwareCase(host: "", code: .vmsave, level: .l1, proves: [FactID.cpl0(.l1): true], rules: ["svm.hw.intercept-after-permissions"]),
        HardwareCase(host: "svme_addr_chk=1", code: .stgi, level: .l1, proves: [FactID.cpl0(.l1): true], rules: ["svm.hw.intercept-after-permissions"]),
        HardwareCase(host: "svme_addr_chk=0", code: .exception(13), level: .l1, proves: [FactID.eferSVME(.l1): true], rules: ["svm.hw.ud-before-gp"]),
        HardwareCase(host: "svme_addr_chk=0", code: .exception(13), level: .l2, proves: [FactID.eferSVME(.l2): true], rules: ["svm.hw.ud-before-gp"]),
    ])
    func hardwareFacts(row: HardwareCase) throws {
        let host = try HostFacts(parsing: row.host + (row.host.isEmpty ? "" : ",") + "vgif=0,vmware_backdoor=0", source: "--host")
        var state = row.level == .l2 ? Fixture.l2(VMCB12(intercepts: Fixture.intercepts(word4: 0))) : Fixture.l1()
        // Registers unknown: only the hardware rules can supply the facts.
        state.l1.cpl = nil
        state.l2.cpl = nil
        if row.code == .exception(13) {
            state.l1.efer = nil
            state.l2.efer = nil
        }
        let bytes: [UInt8]? = row.code == .exception(13) ? Self.vmload : nil
        let decision = Fixture.decide(Fixture.exit(row.code, bytes: bytes), state, profile: .upstream, host: host)
        let hardware = Set(decision.ruleIDs.map(\.rawValue).filter { $0.hasPrefix("svm.hw.") })
        #expect(hardware == Set(row.rules))
        for (fact, value) in row.proves {
            #expect(decision.path.contains { step in
                step.rule.rawValue.hasPrefix("svm.hw.") && step.evidence.contains { $0.field == "fact \(fact)" && $0.value == (value ? "1" : "0") }
            }, "\(fact)")
        }
        // No hardware rule ever proves RAX legality from a #GP exit or without SVME_ADDR_CHK.
        if row.code == .exception(13) || row.host != "svme_addr_chk=1" {
            #expect(!decision.path.contains { $0.evidence.contains { $0.field == "fact \(FactID.raxLegalPage)" } })
        }
    }

    @Test("a known RAX is checked, never proved by the intercept")
    func knownRAXNotProved() {
        let decision = Fixture.decide(Fixture.exit(.vmload, rax: 0x31010), Fixture.l1(), profile: .upstream)
        #expect(!decision.ruleIDs.contains("svm.hw.rax-before-intercept"))
        #expect(Expect(decision.outcome) == .inject(13, .l1))
    }

    @Test("the #GP path's proof of EFER.SVME leaves only paging and CPL open", arguments: [false, true])
    func gpPathPaging(pagingKnown: Bool) throws {
        var state = Fixture.l2(VMCB12(intercepts: Fixture.intercepts(word4: 0)))
        state.l2 = GuestRegisters()
        if pagingKnown { state.assumptions[FactID.paging(.l2)] = Known(true, source: "kvm_emulate_insn prot64") }
        let decision = Fixture.decide(Fixture.exit(.exception(13), bytes: Self.vmload, rax: 1 << 40), state, profile: .upstream, host: Fixture.naplesHost)
        let outcomes = (decision.outcome.alternatives ?? []).map { Expect($0.outcome) }
        #expect(outcomes.contains(.inject(6, .l2)) == !pagingKnown)
        #expect(outcomes.allSatisfy { $0 == .inject(13, .l2) || $0 == .inject(6, .l2) })
    }

    @Test("fact closure: a conjunction follows from its parts and implies them")
    func closure() {
        let parts = FactID.closure([FactID.raxPageAligned: Known(true, source: "a"), FactID.raxBelowMaxPhysAddr: Known(true, source: "b")])
        #expect(parts[FactID.raxLegalPage]?.value == true)
        let whole = FactID.closure([FactID.raxLegalPage: Known(true, source: "hw")])
        #expect(whole[FactID.raxPageAligned]?.value == true)
        let failing = FactID.closure([FactID.raxPageAligned: Known(false, source: "trace")])
        #expect(failing[FactID.raxLegalPage]?.value == false)
        #expect(failing[FactID.raxBelowMaxPhysAddr] == nil)
        #expect(!FactID.compatible([FactID.raxLegalPage: true], with: failing))
        #expect(FactID.compatible([FactID.raxLegalPage: false], with: failing))
        #expect(!FactID.compatible([FactID.raxPageAligned: true], with: FactID.closure([FactID.raxLegalPage: Known(false, source: "x"), FactID.raxBelowMaxPhysAddr: Known(true, source: "y")])))
    }

    @Test("fact ids of intercept bits and permission maps are structured")
    func ids() {
        #expect(FactID.of(field: InterceptWords.fieldName(ofBit: InterceptBit.msrProt)) == "vmcb12.intercept[124]")
        #expect(FactID.of(field: InterceptWords.fieldName(ofBit: 64 + 13)) == "vmcb12.intercept[77]")
        #expect(FactID.of(field: InterceptWords.fieldName(ofBit: 16)) == "vmcb12.intercept[16]")
        #expect(FactID.of(field: "msrpm[0xc0000080].write") == FactID.msrpm(0xc000_0080, write: true))
        #expect(FactID.iopm(0x3f8) == "iopm[0x3f8]")
    }

    @Test("alternatives keep their JSON contract and add assumptions and rules")
    func json() throws {
        let old = #"{"condition": "x is set", "outcome": {"kind": "l0_handles"}}"#
        let decoded = try JSONDecoder().decode(Alternative.self, from: Data(old.utf8))
        #expect(decoded.assumptions.isEmpty && decoded.rules.isEmpty && decoded.condition == "x is set")
        let alternative = Alternative(condition: "RAX is not a legal page address", assumptions: [FactID.raxLegalPage: false], rules: ["svm.insn.rax-check"], outcome: .vmrunSucceeds())
        let object = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(alternative)) as? [String: Any])
        #expect((object["assumptions"] as? [String: Bool]) == [FactID.raxLegalPage.description: false])
        #expect((object["rules"] as? [String]) == ["svm.insn.rax-check"])
        #expect(object["condition"] as? String == "RAX is not a legal page address")
    }

    @Test("a scenario's state.assumptions reach the model with their source")
    func scenario() throws {
        let json = """
            {"profile": "upstream", "host": {"svme_addr_chk": 0},
             "state": {"level": "L2", "assumptions": {"rax.legal-page": false, "l2.cpl0": {"value": 1, "source": "gdb"}}},
             "event": {"type": "exit", "exit_code": "vmload"}}
            """
        let scenario = try Scenario(json: Data(json.utf8))
        #expect(scenario.state.assumptions[FactID.raxLegalPage] == Known(false, source: "scenario"))
        #expect(scenario.state.assumptions[FactID.cpl0(.l2)] == Known(true, source: "gdb"))
    }
}
