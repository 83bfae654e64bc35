extension Rule {
    /// A fork the caller's facts decide (scenario `assumptions`, or settled by replay).
    public static let factKnown = Rule(
        "svm.fact.known", "do known facts decide this unknown input (caller's assumptions or hardware proofs)?",
        kernel: "(model input)")
    /// An unknown input whose every value leads to the same outcome decides nothing.
    public static let sameOutcome = Rule(
        "svm.fact.same-outcome", "do all cases of the unknown inputs give the same outcome?", kernel: "(model input)")
    /// With SVME_ADDR_CHK the capture CPU checks RAX before the VMRUN/VMLOAD/VMSAVE intercept.
    public static let hwRAXBeforeIntercept = Rule(
        "svm.hw.rax-before-intercept",
        "did the CPU take this VMRUN/VMLOAD/VMSAVE intercept only after RAX passed its page-alignment and MAXPHYADDR check (host with SVME_ADDR_CHK)?",
        kernel: "svm/svm.c:svm_set_cpu_caps")
    /// #UD (EFER.SVME = 0) is checked before #GP for SVM instructions.
    public static let hwUDBeforeGP = Rule(
        "svm.hw.ud-before-gp", "does a #GP raised by VMRUN/VMLOAD/VMSAVE prove EFER.SVME = 1 (the CPU raises #UD first)?",
        kernel: "svm/svm.c:gp_interception")
    /// SVM-instruction intercepts are checked after #UD (EFER.SVME) and the CPL #GP.
    public static let hwInterceptAfterPermissions = Rule(
        "svm.hw.intercept-after-permissions",
        "does this SVM-instruction intercept exit prove EFER.SVME = 1 and CPL = 0 (checked by the CPU before the intercept)?",
        kernel: "svm/nested.c:nested_svm_check_permissions")
}

/// Exit codes of SVM instructions whose #UD (EFER.SVME = 0) and CPL > 0 #GP the CPU checks
/// before their intercept (APM vol. 2 §15.9 "Instruction Intercepts": simple exceptions
/// before the intercept, operand-value exceptions after; vol. 3 VMRUN, VMLOAD, VMSAVE, STGI,
/// CLGI, INVLPGA "Exceptions" list #UD for EFER.SVME = 0 and #GP(0) for CPL ≠ 0).
let svmInstructionIntercepts: Set<VMExitCode> = [.vmrun, .vmload, .vmsave, .stgi, .clgi, .invlpga]

extension Evaluator {
    /// Facts an SVM-instruction intercept exit of `level` proves, when the decision is for
    /// the hardware's own exit (not a #GP the handler rewrote). Never from an unknown host;
    /// RAX legality only when the exit's RAX is unknown or its check needs the unknown guest MAXPHYADDR.
    mutating func proveFromIntercept(level: GuestLevel, rax: Known<UInt64>?) {
        guard let code = hardwareExitCode, svmInstructionIntercepts.contains(code) else { return }
        let exitEvidence = Evidence.event("exit_code", code.description)
        let registers = registers(of: level)
        if registers.efer == nil {
            prove(
                FactID.eferSVME(level), true, by: .hwInterceptAfterPermissions, [exitEvidence],
                note: "the CPU raises #UD for an SVM instruction with EFER.SVME = 0 before checking its intercept (APM vol. 2 §15.9; vol. 3 \(code.name ?? "") exceptions)")
        }
        if registers.cpl == nil {
            prove(
                FactID.cpl0(level), true, by: .hwInterceptAfterPermissions, [exitEvidence],
                note: "the CPU raises #GP(0) for CPL ≠ 0 before checking the intercept (APM vol. 2 §15.9); KVM's CPL check in nested_svm_check_permissions then passes")
        }
        // A known RAX is checked directly, unless the check needs the unknown guest MAXPHYADDR.
        let checkable = rax.map { $0.value & RegisterBit.pageOffsetMask != 0 || state.guest.maxPhysAddr != nil } ?? false
        guard [.vmrun, .vmload, .vmsave].contains(code), !checkable, let addrChk = host.svmeAddrChk, addrChk.value else { return }
        prove(
            FactID.raxLegalPage, true, by: .hwRAXBeforeIntercept, [exitEvidence, .flag("host svme_addr_chk", addrChk)],
            note: "the capture CPUs with SVME_ADDR_CHK raise #GP for a misaligned or ≥ 2^MAXPHYADDR RAX before the intercept (nested-decisions.md §10 rule 10; traces/6.12/l2-badrax-vmload-vmsave-intercepted). Unverified for other CPUs (the APM ranks operand-value exceptions after intercepts): docs/check.md")
    }

    /// EFER.SVME = 1 for `level` from a #GP exit whose instruction decodes as VMRUN, VMLOAD
    /// or VMSAVE (with EFER.SVME = 0 the CPU raises #UD instead, which comes first).
    mutating func proveFromSVMInstructionGP(level: GuestLevel, instruction: SVMInstruction) {
        guard hardwareExitCode == .exception(ExceptionVector.generalProtection), registers(of: level).efer == nil else { return }
        prove(
            FactID.eferSVME(level), true, by: .hwUDBeforeGP,
            [.event("exit_code", VMExitCode.exception(ExceptionVector.generalProtection).description), .event("instruction", instruction.description)],
            note: "APM vol. 3 \(instruction.description): #UD if EFER.SVME = 0; instruction-decode faults (#UD) rank above execution faults (#GP) (APM vol. 2 §8.5)")
    }
}
