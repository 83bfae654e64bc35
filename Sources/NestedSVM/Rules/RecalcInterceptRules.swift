extension Rule {
    /// Whether vmcb02 still carries L0's intercept for an exit L1 did not ask for.
    public static let vmcb02Intercept = Rule(
        "svm.recalc.vmcb02-intercept", "does vmcb02 keep L0's intercept for this exit (else the exit is unexpected)?",
        kernel: "svm/nested.c:recalc_intercepts")
}

extension Evaluator {
    /// For L2 exits whose L0 intercept `recalc_intercepts` may drop from vmcb02 (CR8 write,
    /// VINTR, PAUSE): records whether the exit is expected under this profile. The handler
    /// still runs; a "no" flags a wrong host or profile assumption.
    mutating func checkVMCB02Intercept(_ exit: HardwareExit) {
        let masking = state.vmcb12.intCtl.map { Known($0.value & RegisterBit.vIntrMasking != 0, source: $0.source) }
        let maskingEvidence = Evidence.flag("vmcb12 int_ctl V_INTR_MASKING", masking)
        let unexpected: Answer = "no: unexpected exit"
        switch exit.exitCode {
        case .writeCR8, .readCR8:
            let evidence = [maskingEvidence, .profile("CR8 intercepts dropped", profile.cr8Drop.rawValue, profile)]
            let note = "with V_INTR_MASKING L0 stops intercepting CR8 \(profile.cr8Drop == .readAndWrite ? "reads and writes" : "writes")"
            if exit.exitCode == .readCR8 && profile.cr8Drop == .writeOnly {
                record(.vmcb02Intercept, evidence, "L0 never intercepts CR8 reads: unexpected exit", note: note)
                return
            }
            guard let masking else { record(.vmcb02Intercept, evidence, .unknown, note: note); return }
            record(.vmcb02Intercept, evidence, masking.value ? unexpected : .yes, note: note)
        case .vintr:
            let l1IF = state.l1.interruptsEnabled
            let evidence = [maskingEvidence, .flag("L1 RFLAGS.IF", l1IF), .profile("VINTR dropped", profile.vintrDrop.rawValue, profile)]
            guard let masking else { record(.vmcb02Intercept, evidence, .unknown); return }
            if !masking.value { record(.vmcb02Intercept, evidence, .yes); return }
            switch profile.vintrDrop {
            case .always:
                record(.vmcb02Intercept, evidence, unexpected)
            case .whenL1InterruptsDisabled:
                guard let l1IF else { record(.vmcb02Intercept, evidence, .unknown); return }
                record(.vmcb02Intercept, evidence, l1IF.value ? .yes : unexpected)
            }
        case .clgi, .stgi:
            let evidence = [Evidence.flag("host vgif", host.vgif)]
            guard let vgif = host.vgif else { record(.vmcb02Intercept, evidence, .unknown); return }
            if !vgif.value { record(.vmcb02Intercept, evidence, .yes); return }
            record(
                .vmcb02Intercept, evidence, exit.exitCode == .clgi ? unexpected : "only while L0 waits for an SMI/NMI window",
                note: "with vGIF, init_vmcb clears the STGI/CLGI intercepts; L0 sets STGI again only to catch the GIF=1 window")
        case .pause where profile.pauseOnlyIfL1Intercepts:
            record(
                .vmcb02Intercept, [.profile("PAUSE kept for L2", "only if L1 intercepts it", profile)], unexpected,
                note: "2026 kvm-x86 snapshot; merge target unconfirmed")
        default:
            return
        }
    }
}
