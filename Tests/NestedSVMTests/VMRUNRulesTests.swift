import Foundation
import NestedSVM
import TestSupport
import Testing

@Suite struct VMRUNRulesTests {
    static func vmrun(_ vmcb12: VMCB12, profile: KernelProfile = .v6_12, host: HostFacts = Fixture.addrChkHost, rax: UInt64 = 0x31000) -> Decision {
        Fixture.decide(Fixture.exit(.vmrun, rax: rax), Fixture.l1(vmcb12), profile: profile, host: host)
    }

    @Test("a valid vmcb12 enters L2 after every check")
    func valid() {
        let decision = Self.vmrun(Fixture.validVMCB12)
        #expect(Expect(decision.outcome) == .vmrunSucceeds)
        #expect(decision.ruleIDs.last == "svm.vmrun.enter")
        let checks = decision.ruleIDs.filter { $0.rawValue.hasPrefix("svm.vmrun.check.") }.map(\.rawValue)
        #expect(checks.first == "svm.vmrun.check.efer-svme")
        #expect(checks.contains("svm.vmrun.check.vnmi-nmi-intercept"))
        #expect(!checks.contains("svm.vmrun.check.event-inj"))
    }

    typealias Mutation = @Sendable (inout VMCB12) -> Void

    static let brokenFields: [(String, Mutation)] = [
        ("efer-svme", { $0.efer = Fixture.known(0x500) }),
        ("cr0-cd-nw", { $0.cr0 = Fixture.known(0xa001_0031) }),
        ("cr0-upper", { $0.cr0 = Fixture.known(0x1_8001_0031) }),
        ("dr6-upper", { $0.dr6 = Fixture.known(0x1_ffff_0ff0) }),
        ("dr7-upper", { $0.dr7 = Fixture.known(0x1_0000_0400) }),
        ("long-mode-pae", { $0.cr4 = Fixture.known(0) }),
        ("long-mode-pe", { $0.cr0 = Fixture.known(0x8001_0030) }),
        ("long-mode-cr3", { $0.cr3 = Fixture.known(1 << 40) }),
        ("long-mode-cs", { $0.csAttributes = Fixture.known(0x69b) }),
        ("cr4-valid", { $0.cr4 = Fixture.known(0x20 | 1 << 15) }),
        ("efer-valid", { $0.efer = Fixture.known(0x1500 | 1 << 9) }),
        ("vmrun-intercept", { $0.intercepts.word4 = Fixture.known(0) }),
        ("asid", { $0.asid = Fixture.known(0) }),
        ("nested-cr3", { $0.nestedPaging = Fixture.known(true); $0.nestedCR3 = Fixture.known(1 << 41) }),
        ("msrpm-base", { $0.msrpmBase = Fixture.known((1 << 40) - 0x1000) }),
        ("iopm-base", { $0.iopmBase = Fixture.known((1 << 40) - 0x2000) }),
        ("vnmi-nmi-intercept", { $0.intCtl = Fixture.known(0x0500_0000) }),
    ]

    @Test("each broken field fails its own consistency check (VMEXIT_INVALID)", arguments: brokenFields)
    func brokenField(check: String, mutate: Mutation) {
        var vmcb = Fixture.validVMCB12
        mutate(&vmcb)
        let decision = Self.vmrun(vmcb)
        #expect(Expect(decision.outcome) == .vmrunFails(check))
        #expect(decision.outcome.exitCode == .invalid)
        #expect(decision.ruleIDs.last?.rawValue == "svm.vmrun.check.\(check)")
    }

    @Test("profiles differ: V_NMI check only 6.12+, NP without host NPT fails on 6.x and is sanitized upstream, EVENTINJ checked upstream")
    func profileDifferences() {
        var vnmi = Fixture.validVMCB12
        vnmi.intCtl = Fixture.known(0x0500_0000)
        #expect(Expect(Self.vmrun(vnmi, profile: .v6_1).outcome) == .vmrunSucceeds)

        var np = Fixture.validVMCB12
        np.nestedPaging = Fixture.known(true)
        np.nestedCR3 = Fixture.known(0x40000)
        var noNPT = Fixture.addrChkHost
        noNPT.npt = Fixture.known(false)
        #expect(Expect(Self.vmrun(np, profile: .v6_12, host: noNPT).outcome) == .vmrunFails("np-host-npt"))
        #expect(Expect(Self.vmrun(np, profile: .upstream, host: noNPT).outcome) == .vmrunSucceeds)

        // An exception-type EVENTINJ with vector 2 is not rejected by KVM (2026 check included):
        // KVM enters L2; the CPU's own check is the next exit (VMEXIT_INVALID, reflected).
        var inj = Fixture.validVMCB12
        inj.eventInj = Fixture.known(0x8000_0302)
        for profile in KernelProfile.all {
            #expect(Expect(Self.vmrun(inj, profile: profile).outcome) == .vmrunSucceeds, "\(profile.name)")
        }
    }

    /// `nested_svm_check_event_inj` (kvm-x86 2026): an NMI may carry any vector, bits 30:12 are
    /// ignored, exception vectors that do not exist (9, 15, 20, 22–27, 31) are rejected. Older
    /// kernels have no such check and enter L2.
    @Test("EVENTINJ validity per version", arguments: [
        (UInt32(0x8000_0205), true), (0x8000_0202, true), (0x8000_1020, true), (0x8000_0309, false), (0x8000_030f, false),
        (0x8000_0314, false), (0x8000_0316, false), (0x8000_031b, false), (0x8000_031f, false), (0x8000_030e, true),
        (0x8000_0100, false), (0x8000_0500, false), (0x8000_0415, true), (0x8000_0320, false),
    ])
    func eventInjValidity(value: UInt32, upstreamAccepts: Bool) {
        var inj = Fixture.validVMCB12
        inj.eventInj = Fixture.known(value)
        #expect(Expect(Self.vmrun(inj, profile: .upstream).outcome) == (upstreamAccepts ? .vmrunSucceeds : .vmrunFails("event-inj")), "\(Hex.format(value))")
        #expect(Expect(Self.vmrun(inj, profile: .v6_12).outcome) == .vmrunSucceeds, "\(Hex.format(value))")
        #expect(Expect(Self.vmrun(inj, profile: .v6_1).outcome) == .vmrunSucceeds, "\(Hex.format(value))")
    }

    @Test("L1 permissions, hsave and SMM come before the checks",
          arguments: [
            ("EFER.SVME clear", Expect.inject(6, .l1)), ("CPL 3", .inject(13, .l1)), ("hsave 0", .inject(13, .l1)), ("SMM", .inject(6, .l1)),
          ])
    func beforeChecks(name: String, expected: Expect) {
        var state = Fixture.l1(Fixture.validVMCB12)
        switch name {
        case "EFER.SVME clear": state.l1.efer = Fixture.known(0x500)
        case "CPL 3": state.l1.cpl = Fixture.known(3)
        case "hsave 0": state.hsavePA = Fixture.known(0)
        default: state.inSMM = Fixture.known(true)
        }
        let decision = Fixture.decide(Fixture.exit(.vmrun, rax: 0x31000), state)
        #expect(Expect(decision.outcome) == expected)
        #expect(!decision.ruleIDs.contains { $0.rawValue.hasPrefix("svm.vmrun.check.") })
    }

    @Test("unknown fields: a known failure still decides; otherwise undetermined naming the checks")
    func unknownFields() {
        var vmcb = Fixture.validVMCB12
        vmcb.dr6 = nil
        let undetermined = Self.vmrun(vmcb)
        #expect(undetermined.outcome.kind == .undetermined)
        #expect(undetermined.outcome.missing == ["inputs of check dr6-upper"])
        vmcb.asid = Fixture.known(0)
        let fails = Self.vmrun(vmcb)
        #expect(Expect(fails.outcome) == .vmrunFails("asid"))
        #expect(fails.outcome.detail?.contains("dr6-upper") == true)
    }

    @Test("every kvm_nested_vmenter_failed text of the real vmcb12-invalid captures maps to its check",
          arguments: ["6.1", "6.12", "6.12-naples"])
    func realMessages(folder: String) throws {
        let trace = try String(contentsOf: RepositoryPaths.trace("\(folder)/vmcb12-invalid.trace"), encoding: .utf8)
        let marker = "kvm_nested_vmenter_failed: "
        var checks: [String] = []
        for line in trace.split(separator: "\n") {
            guard let range = line.range(of: marker) else { continue }
            let message = String(line[range.upperBound...])
            let decision = Fixture.decide(.vmrunConsistencyFailure(message: message), Fixture.l1())
            #expect(decision.outcome.kind == .vmrunFails)
            checks.append(decision.outcome.check ?? "?")
        }
        #expect(checks == ["vmrun-intercept", "asid", "efer-svme", "cr0-cd-nw"])
    }

    @Test("every check's message maps back to it, in 6.1 and 6.12 spellings")
    func messageTable() {
        for check in ConsistencyCheck.all {
            for message in check.messages {
                #expect(ConsistencyCheck.check(forMessage: "  " + message + " ")?.id == check.id)
            }
        }
        #expect(ConsistencyCheck.check(forMessage: "kvm_vcpu_is_illegal_gpa(vcpu, save->cr3)")?.id == "long-mode-cr3")
        #expect(ConsistencyCheck.check(forMessage: "something else") == nil)
    }

    @Test("a CR3 failure after entry is reported through nested_svm_vmexit")
    func afterEntry() {
        let decision = Fixture.decide(.vmrunConsistencyFailure(message: "!kvm_vcpu_is_legal_cr3(vcpu, cr3)"), Fixture.l1())
        #expect(decision.outcome.check == "load-cr3")
        #expect(decision.outcome.detail?.contains("kvm_nested_vmexit_inject") == true)
    }
}
