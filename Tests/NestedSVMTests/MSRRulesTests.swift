import Foundation
import NestedSVM
import TestSupport
import Testing

@Suite struct MSRRulesTests {
    static let msrProtWord3: UInt32 = 0x1100_0000  // HLT + MSR_PROT (bit 124)

    static func state(msrpm: [UInt32: MSRPermissionMap.Entry] = [:], word3: UInt32 = msrProtWord3, l0Accepts: [UInt32] = []) -> VCPUState {
        var state = Fixture.l2(VMCB12(intercepts: Fixture.intercepts(word3: word3), msrpm: MSRPermissionMap(entries: msrpm)))
        for msr in l0Accepts { state.guest.l0RejectsMSR[msr] = Fixture.known(false) }
        return state
    }

    static let clear = MSRPermissionMap.Entry(read: Fixture.known(false), write: Fixture.known(false))

    @Test("MSR range edges: inside a range the (clear) MSRPM bit decides, outside it the exit is reflected",
          arguments: [
            (UInt32(0x0000_1fff), true), (0x0000_2000, false), (0xbfff_ffff, false), (0xc000_0000, true),
            (0xc000_1fff, true), (0xc000_2000, false), (0xc000_ffff, false), (0xc001_0000, true),
            (0xc001_1fff, true), (0xc001_2000, false), (0x4000_0000, false),
          ])
    func rangeEdges(msr: UInt32, inRange: Bool) {
        for write in [false, true] {
            let decision = Fixture.decide(
                Fixture.exit(.msr, info1: write ? 1 : 0, rcx: UInt64(msr)), Self.state(msrpm: [msr: Self.clear], l0Accepts: [msr]))
            let expected: Expect = inRange ? .l0("svm/svm.c:msr_interception") : .reflect(.msr, info1: write ? 1 : 0)
            #expect(Expect(decision.outcome) == expected, "MSR \(Hex.format(msr)) write=\(write)")
            #expect((MSRPermissionMap.position(msr: msr, write: write) != nil) == inRange)
        }
    }

    @Test("MSR write with MSRPM bit set is reflected with info1 1")
    func bitSet() {
        let decision = Fixture.decide(
            Fixture.exit(.msr, info1: 1, rcx: 0xc000_0081),
            Self.state(msrpm: [0xc000_0081: .init(read: Fixture.known(false), write: Fixture.known(true))]))
        #expect(Expect(decision.outcome) == .reflect(.msr, info1: 1))
        #expect(decision.ruleIDs == ["svm.level", "svm.msr.l1-intercepts", "svm.msr.number", "svm.msr.range", "svm.msr.msrpm-bit"])
    }

    @Test("MSR_PROT clear: L0 handles even an MSR outside the ranges")
    func msrProtClear() {
        let decision = Fixture.decide(Fixture.exit(.msr, info1: 0, rcx: 0xc001_2000), Self.state(word3: 0x0100_0000, l0Accepts: [0xc001_2000]))
        #expect(Expect(decision.outcome) == .l0("svm/svm.c:msr_interception"))
        #expect(decision.ruleIDs.prefix(2) == ["svm.level", "svm.msr.l1-intercepts"])
    }

    @Test("an unknown MSRPM bit makes the decision undetermined, naming the bit")
    func unknownBit() {
        let decision = Fixture.decide(Fixture.exit(.msr, info1: 1, rcx: 0xc000_0080), Self.state(l0Accepts: [0xc000_0080]))
        #expect(decision.outcome.kind == .undetermined)
        #expect(decision.outcome.missing == ["msrpm[0xc0000080].write"])
        let alternatives = decision.outcome.alternatives ?? []
        #expect(alternatives.map(\.condition) == ["msrpm[0xc0000080].write is set", "msrpm[0xc0000080].write is clear"])
        #expect(alternatives.map { Expect($0.outcome) } == [.reflect(.msr, info1: 1), .l0("svm/svm.c:msr_interception")])
    }

    @Test("whether L0 rejects an MSR L1 does not take is unknown: the decision forks (emulated, or #GP for L2)")
    func unknownL0Rejection() {
        let decision = Fixture.decide(
            Fixture.exit(.msr, info1: 1, rcx: 0xc000_0080), Self.state(msrpm: [0xc000_0080: Self.clear]))
        #expect(decision.outcome.missing == ["L0 rejects MSR 0xc0000080"])
        let alternatives = decision.outcome.alternatives ?? []
        #expect(alternatives.map(\.assumptions) == [["l0.rejects-msr[0xc0000080]": false], ["l0.rejects-msr[0xc0000080]": true]])
        #expect(alternatives.map { Expect($0.outcome) } == [.l0("svm/svm.c:msr_interception"), .inject(13, .l2)])
        // The fact, given as an assumption, picks the branch.
        var state = Self.state(msrpm: [0xc000_0080: Self.clear])
        state.assumptions["l0.rejects-msr[0xc0000080]"] = Fixture.known(true)
        #expect(Expect(Fixture.decide(Fixture.exit(.msr, info1: 1, rcx: 0xc000_0080), state).outcome) == .inject(13, .l2))
    }

    /// The L1 case (`msr_interception` for L1 itself): real L1 kernels probe MSRs L0 rejects;
    /// `svm_complete_emulated_msr` → `kvm_complete_insn_gp` injects #GP(0) into L1.
    @Test("an L1 MSR access L0 rejects injects #GP(0) into L1; one it accepts is handled; unknown forks",
          arguments: [(Bool?.some(true), "gp"), (.some(false), "l0"), (nil, "fork")])
    func l1MSR(rejects: Bool?, expected: String) {
        var state = VCPUState()
        state.level = Fixture.known(.l1)
        if let rejects { state.guest.l0RejectsMSR[0xc001_0114] = Fixture.known(rejects) }
        let decision = Fixture.decide(Fixture.exit(.msr, info1: 0, rcx: 0xc001_0114), state)
        switch expected {
        case "gp":
            #expect(Expect(decision.outcome) == .inject(13, .l1))
            #expect(decision.outcome.errorCode == 0)
        case "l0":
            #expect(Expect(decision.outcome) == .l0("svm/svm.c:msr_interception"))
            #expect(decision.outcome.level == .l1)
        default:
            #expect(decision.outcome.kind == .undetermined)
            #expect(decision.outcome.alternatives?.map { Expect($0.outcome) } == [.l0("svm/svm.c:msr_interception"), .inject(13, .l1)])
        }
        #expect(decision.ruleIDs.contains("svm.msr.l0-emulates"))
    }

    @Test("unknown MSR_PROT and unknown RCX stay unknown")
    func unknownInputs() {
        var state = Self.state()
        state.vmcb12.intercepts.word3 = nil
        let decision = Fixture.decide(Fixture.exit(.msr, info1: 0, rcx: 0x10), state)
        #expect(decision.outcome.kind == .undetermined)
        #expect(decision.outcome.missing?.first == "vmcb12 intercept MSR_PROT (bit 124)")
        let noRCX = Fixture.decide(Fixture.exit(.msr, info1: 0), Self.state())
        #expect(noRCX.outcome.missing == ["RCX (MSR number)"])
    }

    @Test("the MSR number is the low 32 bits of RCX")
    func rcxTruncated() {
        let decision = Fixture.decide(Fixture.exit(.msr, info1: 0, rcx: 0xdead_0000_c001_2000), Self.state())
        #expect(Expect(decision.outcome) == .reflect(.msr, info1: 0))
    }

    @Test("MSRPM positions match the worked examples of exit-codes.md §5.1",
          arguments: [
            (UInt32(0xc000_0080), true, UInt32(0x820), UInt32(1)), (0x10, false, 0x4, 0), (0xc001_0117, true, 0x1045, 7),
            (0x1fff, true, 0x7ff, 7), (0xc001_1fff, false, 0x17ff, 6),
          ])
    func positions(msr: UInt32, write: Bool, byte: UInt32, bit: UInt32) {
        let position = MSRPermissionMap.position(msr: msr, write: write)
        #expect(position?.byte == byte)
        #expect(position?.bit == bit)
    }

    @Test("an MSR KVM rejects raises #GP: reflected as GP excp if L1 intercepts #GP, else injected into L2",
          arguments: [(UInt32(1 << 13), Expect.reflect(.exception(13), info1: 0)), (0, .inject(13, .l2))])
    func rejectedMSR(exceptions: UInt32, expected: Expect) {
        var state = Fixture.l2(VMCB12(
            intercepts: Fixture.intercepts(exceptions: exceptions, word3: Self.msrProtWord3),
            msrpm: MSRPermissionMap(entries: [0xc001_1fff: Self.clear])))
        state.guest.l0RejectsMSR[0xc001_1fff] = Fixture.known(true)
        let decision = Fixture.decide(Fixture.exit(.msr, info1: 0, rcx: 0xc001_1fff), state)
        #expect(Expect(decision.outcome) == expected)
        #expect(decision.ruleIDs.last == "svm.pending.exception")
    }

    /// Step → MSR of the `msr-prot` capture (nested-decisions.md §11); the manifest's MSRPM
    /// and the trace's `kvm_exit` lines are the inputs, the manifest's `observed` the truth.
    static let msrProtSteps: [String: (msr: UInt32, write: Bool)] = [
        "0x10267": (0x174, false), "0x1029f": (0xc000_0081, true), "0x102b2": (0x1b, false),
        "0x102c5": (0xc001_2000, false), "0x102d8": (0x10, false), "0x102eb": (0xc001_0117, false),
    ]

    @Test("every L2 MSR exit of the real msr-prot captures is decided as L1 observed it",
          arguments: ["6.1", "6.12", "6.12-naples"])
    func realCapture(folder: String) throws {
        let manifestData = try Data(contentsOf: RepositoryPaths.trace("\(folder)/msr-prot.json"))
        let manifest = try #require(try JSONSerialization.jsonObject(with: manifestData) as? [String: Any])
        let l1 = try #require(manifest["l1"] as? [String: Any])
        var entries: [UInt32: MSRPermissionMap.Entry] = [:]
        for item in try #require(l1["msrpm_intercepts"] as? [[String: Any]]) {
            let msr = try #require(UInt32((item["msr"] as? String ?? "").dropFirst(2), radix: 16))
            entries[msr] = .init(
                read: Known(item["read"] as? Bool ?? false, source: "manifest"),
                write: Known(item["write"] as? Bool ?? false, source: "manifest"))
        }
        // Every other MSR of the program has both bits clear in the manifest's MSRPM.
        for (msr, _) in Self.msrProtSteps.values where entries[msr] == nil { entries[msr] = Self.clear }
        let observed = try #require(manifest["observed"] as? [String: Any])
        let reflectedRIPs = Set(((observed["events"] as? [[String: Any]]) ?? [])
            .filter { $0["kind"] as? String == "l1_saw_vmexit" && $0["exit_name"] as? String == "msr" }
            .compactMap { $0["l2_rip"] as? String })

        let trace = try String(contentsOf: RepositoryPaths.trace("\(folder)/msr-prot.trace"), encoding: .utf8)
        var decided = 0
        for line in trace.split(separator: "\n") where line.contains("kvm_nested_vmexit: ") && line.contains("reason msr ") {
            let fields = line.split(separator: " ")
            guard let ripIndex = fields.firstIndex(of: "rip"), let info1Index = fields.firstIndex(of: "info1") else { continue }
            let rip = String(fields[ripIndex + 1])
            guard let step = Self.msrProtSteps[rip] else { continue }
            let info1 = try #require(UInt64(fields[info1Index + 1].dropFirst(2), radix: 16))
            #expect((info1 & 1 == 1) == step.write)
            let decision = Fixture.decide(
                Fixture.exit(.msr, info1: info1, rcx: UInt64(step.msr)),
                Self.state(msrpm: entries), host: folder == "6.12-naples" ? Fixture.naplesHost : Fixture.addrChkHost)
            let reflected = decision.outcome.kind == .reflectToL1
            #expect(reflected == reflectedRIPs.contains(rip), "\(folder) rip \(rip) MSR \(Hex.format(step.msr))")
            decided += 1
        }
        #expect(decided == 6)
    }
}
