import NestedSVM
import Testing

/// RAX legality of VMRUN/VMLOAD/VMSAVE under each profile (nested-decisions.md §7, §11;
/// the `l1-*` and `l2-badrax-*` captures).
@Suite struct SVMInstructionRAXTests {
    static let misaligned: UInt64 = 0x31010
    static let illegal: UInt64 = 1 << 40  // = 2^guest MAXPHYADDR
    static let unbacked: UInt64 = 0x1_0000_0000  // 4 GiB: legal, no memslot
    static let valid: UInt64 = 0x31000

    static let bytes: [VMExitCode: [UInt8]] = [.vmrun: [0x0f, 0x01, 0xd8], .vmload: [0x0f, 0x01, 0xda], .vmsave: [0x0f, 0x01, 0xdb]]

    struct Case: CustomTestStringConvertible, Sendable {
        var instruction: VMExitCode
        var rax: UInt64
        var profile: KernelProfile
        var expected: Expect
        var testDescription: String { "\(instruction.name ?? "") RAX \(Hex.format(rax)) on \(profile.name) → \(expected)" }
    }

    static func cases(_ rows: [(UInt64, [String: Expect])], instructions: [VMExitCode]) -> [Case] {
        instructions.flatMap { instruction in
            rows.flatMap { rax, byProfile in
                KernelProfile.all.map { profile in
                    let expected = byProfile[profile.name] ?? byProfile["*"] ?? .userspace
                    return Case(instruction: instruction, rax: rax, profile: profile, expected: expected.substituting(instruction))
                }
            }
        }
    }

    // MARK: L2 on a host without SVME_ADDR_CHK: the #GP path (`gp_interception`).

    @Test("naples, L2, L1 intercepts neither the instruction nor #GP",
          arguments: cases([
            (misaligned, ["*": .inject(13, .l2)]),
            (illegal, ["6.1": .reflect(.placeholder, info1: 0), "6.12": .reflect(.placeholder, info1: 0), "upstream": .inject(13, .l2)]),
            (unbacked, ["*": .reflect(.placeholder, info1: 0)]),
          ], instructions: [.vmrun, .vmload, .vmsave]))
    func naplesL2NoIntercept(_ row: Case) {
        let state = Fixture.l2(VMCB12(intercepts: Fixture.intercepts(word4: 0)))
        let decision = Fixture.decide(
            Fixture.exit(.exception(13), bytes: Self.bytes[row.instruction], rax: row.rax), state, profile: row.profile,
            host: Fixture.naplesHost)
        #expect(Expect(decision.outcome) == row.expected)
        #expect(decision.ruleIDs.contains("svm.gp.rax-check"))
        #expect(decision.ruleIDs.contains("svm.gp.permissions") == (row.profile == .upstream))
    }

    @Test("naples, L2, L1 intercepts #GP only",
          arguments: cases([
            (misaligned, ["*": .reflect(.exception(13), info1: 0)]),
            (illegal, ["6.1": .reflect(.placeholder, info1: 0), "6.12": .reflect(.placeholder, info1: 0), "upstream": .reflect(.exception(13), info1: 0)]),
          ], instructions: [.vmrun, .vmload, .vmsave]))
    func naplesL2GPOnly(_ row: Case) {
        let state = Fixture.l2(VMCB12(intercepts: Fixture.intercepts(exceptions: 1 << 13, word4: 0)))
        let decision = Fixture.decide(
            Fixture.exit(.exception(13), bytes: Self.bytes[row.instruction], rax: row.rax), state, profile: row.profile,
            host: Fixture.naplesHost)
        #expect(Expect(decision.outcome) == row.expected)
    }

    @Test("SVME_ADDR_CHK host: an L2 #GP is L1's and reflected at once, without decoding")
    func addrChkL2GP() {
        let state = Fixture.l2(VMCB12(intercepts: Fixture.intercepts(exceptions: 1 << 13)))
        for profile in KernelProfile.all {
            let decision = Fixture.decide(Fixture.exit(.exception(13), bytes: [0x0f, 0x01, 0xda], rax: Self.illegal), state, profile: profile)
            #expect(Expect(decision.outcome) == .reflect(.exception(13), info1: 0))
            #expect(decision.ruleIDs == ["svm.level", "svm.exit-special.l0-exception", "svm.intercept.exception"])
        }
    }

    @Test("an unknown RAX on the #GP path is undetermined and says so")
    func unknownRAX() {
        let decision = Fixture.decide(
            Fixture.exit(.exception(13), bytes: [0x0f, 0x01, 0xda]), Fixture.l2(), host: Fixture.naplesHost)
        #expect(decision.outcome.kind == .undetermined)
        #expect(decision.outcome.missing == ["RAX"])
    }

    // MARK: L2 VMLOAD/VMSAVE forced to L0 (no VLS), L1 not intercepting them.

    @Test("L2 VMLOAD/VMSAVE handled by L0 use RAX as an L1 GPA",
          arguments: cases([
            (valid, ["*": .l0("svm/svm.c:vmload_vmsave_interception")]),
            (misaligned, ["6.1": .l0("svm/svm.c:vmload_vmsave_interception"), "6.12": .l0("svm/svm.c:vmload_vmsave_interception"), "upstream": .inject(13, .l2)]),
            (unbacked, ["6.1": .inject(13, .l2), "6.12": .inject(13, .l2), "upstream": .userspace]),
            (illegal, ["*": .inject(13, .l2)]),
          ], instructions: [.vmload, .vmsave]))
    func l2Forced(_ row: Case) {
        let state = Fixture.l2(VMCB12(intercepts: Fixture.intercepts(word4: 1), virtExt: Fixture.known(0)))
        let decision = Fixture.decide(Fixture.exit(row.instruction, rax: row.rax), state, profile: row.profile)
        #expect(Expect(decision.outcome) == row.expected)
        #expect(decision.ruleIDs.contains("svm.vmload-vmsave.l2-forced"))
        #expect(decision.ruleIDs.contains("svm.insn.rax-check") == (row.profile == .upstream))
    }

    // MARK: L1's own instructions through their intercepts.

    @Test("L1 VMLOAD/VMSAVE via the intercept",
          arguments: cases([
            (valid, ["*": .l0("svm/svm.c:vmload_vmsave_interception")]),
            (misaligned, ["6.1": .l0("svm/svm.c:vmload_vmsave_interception"), "6.12": .l0("svm/svm.c:vmload_vmsave_interception"), "upstream": .inject(13, .l1)]),
            (unbacked, ["6.1": .inject(13, .l1), "6.12": .inject(13, .l1), "upstream": .userspace]),
            (illegal, ["*": .inject(13, .l1)]),
          ], instructions: [.vmload, .vmsave]))
    func l1Intercept(_ row: Case) {
        let decision = Fixture.decide(Fixture.exit(row.instruction, rax: row.rax), Fixture.l1(), profile: row.profile)
        #expect(Expect(decision.outcome) == row.expected)
    }

    @Test("L1 VMRUN via the intercept",
          arguments: cases([
            (valid, ["*": .vmrunSucceeds]),
            (misaligned, ["6.1": .vmrunSucceeds, "6.12": .vmrunSucceeds, "upstream": .inject(13, .l1)]),
            (unbacked, ["6.1": .inject(13, .l1), "6.12": .inject(13, .l1), "upstream": .userspace]),
            (illegal, ["*": .inject(13, .l1)]),
          ], instructions: [.vmrun]))
    func l1VMRUN(_ row: Case) {
        let decision = Fixture.decide(Fixture.exit(.vmrun, rax: row.rax), Fixture.l1(Fixture.validVMCB12), profile: row.profile)
        #expect(Expect(decision.outcome) == row.expected)
    }

    @Test("naples, L1's own instruction on the #GP path: every bad RAX ends in #GP(0) for L1",
          arguments: cases([
            (misaligned, ["*": .inject(13, .l1)]),
            (illegal, ["*": .inject(13, .l1)]),
          ], instructions: [.vmrun, .vmload, .vmsave]))
    func naplesL1(_ row: Case) {
        let decision = Fixture.decide(
            Fixture.exit(.exception(13), bytes: Self.bytes[row.instruction], rax: row.rax), Fixture.l1(Fixture.validVMCB12),
            profile: row.profile, host: Fixture.naplesHost)
        #expect(Expect(decision.outcome) == row.expected)
        let dispatched = row.rax == Self.illegal || row.profile == .upstream
        #expect(decision.ruleIDs.contains("svm.gp.l1-dispatch") == dispatched)
    }

    @Test("6.12 and upstream differ on the naples L2 VMLOAD with RAX = 2^40")
    func naplesDifference() {
        let state = Fixture.l2(VMCB12(intercepts: Fixture.intercepts(word4: 0)))
        let event = Fixture.exit(.exception(13), bytes: [0x0f, 0x01, 0xda], rax: Self.illegal)
        let old = Fixture.decide(event, state, profile: .v6_12, host: Fixture.naplesHost)
        let new = Fixture.decide(event, state, profile: .upstream, host: Fixture.naplesHost)
        #expect(Expect(old.outcome) == .reflect(.vmload, info1: 0))
        #expect(Expect(new.outcome) == .inject(13, .l2))
        #expect(old.profile == "6.12" && new.profile == "upstream")
    }

    @Test("a #GP with a non-zero error code is re-queued without decoding")
    func errorCode() {
        let state = Fixture.l2(VMCB12(intercepts: Fixture.intercepts(exceptions: 1 << 13)))
        let decision = Fixture.decide(Fixture.exit(.exception(13), info1: 0x18, bytes: [0x0f, 0x01, 0xda], rax: 0), state, host: Fixture.naplesHost)
        #expect(Expect(decision.outcome) == .reflect(.exception(13), info1: 0x18))
        #expect(!decision.ruleIDs.contains("svm.gp.decode"))
    }

    @Test("L2 permissions for SVM instructions: #UD without EFER.SVME or paging, #GP at CPL > 0")
    func permissions() {
        var state = Fixture.l2(VMCB12(intercepts: Fixture.intercepts(word4: 1)))
        state.l2.efer = Fixture.known(0x500)
        #expect(Expect(Fixture.decide(Fixture.exit(.vmload, rax: Self.valid), state).outcome) == .inject(6, .l2))
        state.l2.efer = Fixture.known(0x1500)
        state.l2.cpl = Fixture.known(3)
        #expect(Expect(Fixture.decide(Fixture.exit(.vmload, rax: Self.valid), state).outcome) == .inject(13, .l2))
        state.l2.cpl = nil
        // The intercept exit itself proves CPL 0: the CPU checks CPL before the intercept.
        let proved = Fixture.decide(Fixture.exit(.vmload, rax: Self.valid), state)
        #expect(proved.ruleIDs.contains("svm.hw.intercept-after-permissions"))
        #expect(!(proved.outcome.missing ?? []).contains("L2 CPL"))
        // A VMLOAD that reached L0 through the #GP path proves nothing about CPL.
        let viaGP = Fixture.decide(
            Fixture.exit(.exception(13), bytes: Self.bytes[.vmload], rax: Self.valid), state, profile: .upstream, host: Fixture.naplesHost)
        #expect(viaGP.outcome.missing == ["L2 CPL"])
    }
}

extension VMExitCode {
    /// Stands for "the instruction's own exit code" in the tables above.
    static let placeholder = VMExitCode(0xfeed)
}

extension Expect {
    func substituting(_ code: VMExitCode) -> Expect {
        if case .reflect(.placeholder, let info1) = self { return .reflect(code, info1: info1) }
        return self
    }
}
