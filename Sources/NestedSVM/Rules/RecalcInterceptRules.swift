extension Rule {
    /// Whether vmcb02 still carries L0's intercept for an exit L1 did not ask for.
    public static let vmcb02Intercept = Rule(
        "svm.recalc.vmcb02-intercept", "is the input set that decides whether vmcb02 keeps L0's intercept (V_INTR_MASKING, L1's IF, vGIF)? (dropped: the CPU never exits)",
        kernel: "svm/nested.c:recalc_intercepts")
}

extension Evaluator {
    /// For L2 exits L1 does not intercept and whose L0 intercept vmcb02 may lack (CR8
    /// read/write, VINTR, CLGI, PAUSE): vmcb02's intercepts are vmcb01's, minus what
    /// `svm/nested.c:recalc_intercepts` drops, plus L1's. When vmcb02 lacks the intercept the
    /// CPU runs the instruction inside L2 and nothing reaches L0 (`no_exit`): an exit seen in
    /// a trace there means the profile or the facts are wrong. Otherwise `handler` decides.
    mutating func vmcb02Gate(_ exit: HardwareExit, handler: @escaping (inout Evaluator) -> Outcome) -> Outcome {
        let masking = state.vmcb12.intCtl.map { Known($0.value & RegisterBit.vIntrMasking != 0, source: $0.source) }
        let maskingField = "vmcb12 int_ctl V_INTR_MASKING"
        func dropped(_ why: String) -> (inout Evaluator) -> Outcome {
            { _ in .noExit(level: .l2, detail: "vmcb02 lacks the intercept (\(why)): the CPU runs it inside L2, no #VMEXIT", handler: "svm/nested.c:recalc_intercepts") }
        }
        switch exit.exitCode {
        case .readCR8:
            // init_vmcb sets only INTERCEPT_CR8_WRITE (6.1 and 6.12 svm/svm.c:init_vmcb).
            record(.vmcb02Intercept, [Evidence(field: "L0 intercepts CR8 reads", value: "never", source: "svm/svm.c:init_vmcb")], .no)
            return dropped("L0 never intercepts CR8 reads")(&self)
        case .writeCR8:
            return branch(
                .vmcb02Intercept, field: maskingField, fact: FactID.vIntrMasking, masking,
                note: "with V_INTR_MASKING, recalc_intercepts clears INTERCEPT_CR8_WRITE (answer: masking set = intercept dropped)",
                yes: dropped("V_INTR_MASKING: CR8 writes go to V_TPR"), no: handler)
        case .vintr:
            let l1IF = state.l1.interruptsEnabled
            return branch(
                .vmcb02Intercept, field: maskingField, fact: FactID.vIntrMasking, masking,
                extra: [.profile("VINTR dropped", profile.vintrDrop.rawValue, profile)],
                note: "with V_INTR_MASKING, recalc_intercepts clears INTERCEPT_VINTR \(profile.vintrDrop == .always ? "always" : "when vmcb01's RFLAGS.IF (L1's) is 0")",
                yes: { evaluator in
                    switch evaluator.profile.vintrDrop {
                    case .always: return dropped("V_INTR_MASKING")(&evaluator)
                    case .whenL1InterruptsDisabled:
                        return evaluator.branch(
                            .vmcb02Intercept, field: "L1 RFLAGS.IF", fact: FactID.rflagsIF(.l1), l1IF,
                            note: "L1's IF set: L0 keeps the VINTR intercept to find L1's interrupt window",
                            yes: handler, no: dropped("V_INTR_MASKING and L1's RFLAGS.IF = 0"))
                    }
                },
                no: handler)
        case .clgi:
            let vgif = host.vgif
            return branch(
                .vmcb02Intercept, field: "host vgif", fact: FactID.hostVGIF, vgif,
                note: "with vGIF, init_vmcb clears the CLGI intercept (the CPU keeps GIF in int_ctl)",
                yes: dropped("vGIF: CLGI virtualised"), no: handler)
        case .pause where profile.pauseOnlyIfL1Intercepts:
            record(
                .vmcb02Intercept, [.profile("PAUSE kept for L2", "only if L1 intercepts it", profile)], .no,
                note: "2026 kvm-x86 snapshot; merge target unconfirmed")
            return dropped("PAUSE intercepted for L2 only when L1 asks")(&self)
        default:
            return handler(&self)
        }
    }
}
