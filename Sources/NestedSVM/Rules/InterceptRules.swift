extension Rule {
    /// CR read/write exits reflect iff L1's word-0 bit for the exit code is set.
    public static let interceptCR = Rule(
        "svm.intercept.cr", "does L1 intercept this CR access (vmcb12 word 0 bit = exit code)?",
        kernel: "svm/nested.c:nested_svm_intercept")
    /// DR read/write exits reflect iff L1's word-1 bit is set (never in traces).
    public static let interceptDR = Rule(
        "svm.intercept.dr", "does L1 intercept this DR access (vmcb12 word 1 bit = exit code)?",
        kernel: "svm/nested.c:nested_svm_intercept")
    /// Exception exits that reach L1's check are always L1's.
    public static let interceptException = Rule(
        "svm.intercept.exception", "exception not kept by L0: must be in L1's bitmap, reflect",
        kernel: "svm/nested.c:nested_svm_intercept")
    /// VMEXIT_INVALID while L2 runs is always reflected.
    public static let interceptInvalid = Rule(
        "svm.intercept.invalid", "did hardware reject vmcb02 (VMEXIT_INVALID, always reflected)?",
        kernel: "svm/nested.c:nested_svm_intercept")
    /// Every other exit reflects iff L1's intercept bit numbered like the exit code is set.
    public static let interceptBit = Rule(
        "svm.intercept.bit", "does L1 intercept this exit (vmcb12 intercept bit = exit code)?",
        kernel: "svm/nested.c:nested_svm_intercept")
    /// 2026 kvm-x86: L1's intercept of an instruction its CPUID lacks is cleared in the cached vmcb12.
    public static let interceptCPUIDCleared = Rule(
        "svm.intercept.cpuid-cleared", "does L1's CPUID have the instruction (else KVM ignores L1's intercept of it)?",
        kernel: "svm/nested.c:nested_copy_vmcb_control_to_cache")
    /// Exit codes beyond the identity range are not L1's.
    public static let interceptBeyondIdentity = Rule(
        "svm.intercept.beyond-identity", "is the exit code beyond the intercept-bit identity range (0x000–0x0a4)?",
        kernel: "svm/nested.c:nested_svm_intercept")
}

extension Evaluator {
    /// Exit codes whose L1 intercept the 2026 kernel clears when L1's CPUID lacks the feature.
    static let cpuidGatedIntercepts: [UInt32: GuestFeature] = [
        VMExitCode.xsetbv.rawValue: .xsave, VMExitCode.invpcid.rawValue: .invpcid, VMExitCode.rdtscp.rawValue: .rdtscp,
        VMExitCode.skinit.rawValue: .skinit, VMExitCode.rdpru.rawValue: .rdpru,
    ]

    /// `nested_svm_intercept` for a hardware exit, then L0's handler if L1 does not take it.
    mutating func l1Interception(_ exit: HardwareExit) -> Outcome {
        let code = exit.exitCode
        let reflect = Outcome.reflect(code, info1: exit.exitInfo1, info2: exit.exitInfo2)
        switch code.rawValue {
        case VMExitCode.msr.rawValue:
            return msrInterception(exit)
        case VMExitCode.ioio.rawValue:
            return ioInterception(exit)
        case VMExitCode.readCR0.rawValue...0x1f:
            let bit = Int(code.rawValue)
            return branch(
                .interceptCR, field: InterceptWords.fieldName(ofBit: bit), fact: FactID.intercept(bit), l1Intercepts(bit),
                extra: [.event("exit_code", code.description)],
                yes: { _ in reflect }, no: { $0.l0CRHandler(exit) })
        case VMExitCode.readDR0.rawValue...0x3f:
            let bit = Int(code.rawValue)
            return branch(
                .interceptDR, field: InterceptWords.fieldName(ofBit: bit), fact: FactID.intercept(bit), l1Intercepts(bit),
                extra: [.event("exit_code", code.description)],
                note: "the DR intercept word is never printed by kvm_nested_intercepts",
                yes: { _ in reflect }, no: { $0.l0Handler(exit, level: .l2) })
        case VMExitCode.exceptionBase.rawValue...VMExitCode.lastException.rawValue:
            let vector = UInt8(code.rawValue - 0x40)
            let bit = InterceptBit.exceptionOffset + Int(vector)
            if let l1Bit = l1Intercepts(bit), !l1Bit.value {
                // Neither L1's bitmap nor (by the host facts) L0's has the vector, yet the CPU
                // exited: the facts describe no host that could produce this exit. Say so,
                // rather than answer "yes" beside the evidence that says no.
                let facts = Self.hostFacts(decidingExceptionIntercept: vector)
                let reason = "no host with these facts exits here: L1 does not intercept \(ExceptionVector.name(vector)) and with the host facts given L0 does not either; check --host \(facts)"
                record(
                    .interceptException,
                    [.event("exit_code", code.description), .flag(InterceptWords.fieldName(ofBit: bit), l1Bit)],
                    .no, note: reason)
                return .undetermined([], missing: [reason])
            }
            record(
                .interceptException,
                [.event("exit_code", code.description), .flag(InterceptWords.fieldName(ofBit: bit), l1Intercepts(bit))],
                .yes,
                note: "vmcb02 intercepts = vmcb01 ∪ vmcb12, so an exception L0 did not claim is L1's")
            return reflect
        case VMExitCode.invalid.rawValue:
            record(.interceptInvalid, [.event("exit_code", code.description)], .yes)
            return reflect
        case VMExitCode.intr.rawValue...VMExitCode.lastInterceptIdentity.rawValue:
            let bit = Int(code.rawValue)
            var extra: [Evidence] = [.event("exit_code", code.description)]
            if code == .pause && profile.pauseOnlyIfL1Intercepts {
                extra.append(.profile("L0 PAUSE intercept kept for L2", "only if L1 intercepts PAUSE", profile))
            }
            let check: (inout Evaluator) -> Outcome = { evaluator in
                evaluator.branch(
                    .interceptBit, field: InterceptWords.fieldName(ofBit: bit), fact: FactID.intercept(bit), evaluator.l1Intercepts(bit), extra: extra,
                    yes: { _ in reflect }, no: { $0.l0Handler(exit, level: .l2) })
            }
            if profile.clearsInterceptsForMissingCPUID, let feature = Self.cpuidGatedIntercepts[code.rawValue] {
                return branch(
                    .interceptCPUIDCleared, field: "guest CPUID \(feature.rawValue)", fact: FactID.guestCPUID(feature),
                    state.guest.features[feature], extra: [.profile("clears intercepts for missing CPUID", "yes", profile)],
                    note: "without the feature KVM drops L1's intercept bit; vmcb01 still intercepts and L0's handler raises #UD",
                    yes: check, no: { $0.l0Handler(exit, level: .l2) })
            }
            return check(&self)
        default:
            record(
                .interceptBeyondIdentity, [.event("exit_code", code.description)], .yes,
                note: "no vmcb12 intercept bit matches; treated as L0's and flagged")
            return l0Handler(exit, level: .l2)
        }
    }
}

extension Evaluator {
    /// The `--host` keys that decide whether L0 keeps exception `vector` for L2
    /// (`l0InterceptsException`: svm/svm.c:init_vmcb, svm_set_efer, svm_vcpu_reset).
    static func hostFacts(decidingExceptionIntercept vector: UInt8) -> String {
        switch vector {
        case ExceptionVector.pageFault: "npt"
        case ExceptionVector.generalProtection: "svme_addr_chk, vmware_backdoor"
        case ExceptionVector.breakpoint: "guest_debug_sw_bp (else guest_debug)"
        case ExceptionVector.debug: "guest_debug"
        default: "(the facts of the host this trace was captured on)"
        }
    }
}
