extension Rule {
    /// L1 intercepts MSR accesses at all only with MSR_PROT.
    public static let msrProt = Rule(
        "svm.msr.l1-intercepts", "does L1 intercept MSR accesses at all (vmcb12 MSR_PROT, bit 124)?",
        kernel: "svm/nested.c:nested_svm_exit_handled_msr")
    /// The MSR number is the low 32 bits of RCX.
    public static let msrNumber = Rule(
        "svm.msr.number", "which MSR and direction (ECX; exit_info_1 bit 0 = write)?",
        kernel: "svm/nested.c:nested_svm_exit_handled_msr")
    /// MSRs outside the three MSRPM ranges are always L1's.
    public static let msrRange = Rule(
        "svm.msr.range", "is the MSR inside one of the three MSRPM ranges?",
        kernel: "svm/svm.c:svm_msrpm_offset")
    /// The MSRPM bit decides.
    public static let msrpmBit = Rule(
        "svm.msr.msrpm-bit", "does L1's MSRPM intercept this MSR in this direction?",
        kernel: "svm/nested.c:nested_svm_exit_handled_msr")
    /// L0 emulates the access; an MSR KVM rejects raises #GP.
    public static let msrL0 = Rule(
        "svm.msr.l0-emulates", "does L0's RDMSR/WRMSR emulation raise #GP for this MSR?",
        kernel: "svm/svm.c:msr_interception")
}

extension Evaluator {
    /// `nested_svm_exit_handled_msr`, then `msr_interception` on HOST.
    mutating func msrInterception(_ exit: HardwareExit) -> Outcome {
        let reflect = Outcome.reflect(exit.exitCode, info1: exit.exitInfo1, info2: exit.exitInfo2)
        let write = exit.exitInfo1 & 1 != 0
        return branch(
            .msrProt, field: InterceptWords.fieldName(ofBit: InterceptBit.msrProt), fact: FactID.intercept(InterceptBit.msrProt), l1Intercepts(InterceptBit.msrProt),
            yes: { evaluator in
                guard let rcx = exit.rcx else {
                    evaluator.record(
                        .msrNumber, [Evidence(field: "RCX", value: nil), .event("exit_info_1", Hex.format(exit.exitInfo1))],
                        .unknown)
                    let id = FactID.msrpm(nil, write: write)
                    return evaluator.fork(missing: ["RCX (MSR number)"], [
                        Branch("ECX names an MSR outside the MSRPM ranges, or its MSRPM \(write ? "write" : "read") bit is set", [id: true]) { _ in reflect },
                        Branch("ECX names an MSR inside the ranges whose MSRPM \(write ? "write" : "read") bit is clear", [id: false]) { _ in
                            .l0Handles("svm/svm.c:msr_interception", level: .l2)
                        },
                    ])
                }
                let msr = UInt32(truncatingIfNeeded: rcx.value)
                evaluator.record(
                    .msrNumber, [Evidence(field: "ECX", value: Hex.format(msr), source: rcx.source), .event("exit_info_1", Hex.format(exit.exitInfo1))],
                    Answer(rawValue: "\(write ? "WRMSR" : "RDMSR") \(Hex.format(msr))"))
                return evaluator.msrpmDecision(msr: msr, source: rcx.source, write: write, exit: exit)
            },
            no: { $0.l0MSR(exit, msr: exit.rcx.map { UInt32(truncatingIfNeeded: $0.value) }) })
    }

    private mutating func msrpmDecision(msr: UInt32, source: String, write: Bool, exit: HardwareExit) -> Outcome {
        let reflect = Outcome.reflect(exit.exitCode, info1: exit.exitInfo1, info2: exit.exitInfo2)
        guard let position = MSRPermissionMap.position(msr: msr, write: write) else {
            record(
                .msrRange, [Evidence(field: "MSR", value: Hex.format(msr), source: source)], .no,
                note: "ranges 0x0–0x1fff, 0xc0000000–0xc0001fff, 0xc0010000–0xc0011fff; an uncovered MSR is always intercepted")
            return reflect
        }
        record(
            .msrRange,
            [Evidence(field: "MSR", value: Hex.format(msr), source: source),
             Evidence(field: "msrpm byte", value: "\(Hex.format(position.byte)) bit \(position.bit)", source: "derived")],
            .yes)
        let field = "msrpm[\(Hex.format(msr))].\(write ? "write" : "read")"
        return branch(
            .msrpmBit, field: field, fact: FactID.msrpm(msr, write: write), state.vmcb12.msrpm.bit(msr: msr, write: write),
            note: "an unreadable L1 MSRPM also reflects",
            yes: { _ in reflect }, no: { $0.l0MSR(exit, msr: msr) })
    }

    /// L0's `msr_interception` for an access by `level` that L0 keeps:
    /// `kvm_emulate_rdmsr`/`kvm_emulate_wrmsr`, whose failure ends in
    /// `svm_complete_emulated_msr` → `kvm_complete_insn_gp` → #GP(0) for the guest. Whether KVM
    /// rejects the MSR is an input (`guest.l0_rejects_msr`; replay reads it from the exit's
    /// `kvm_msr` line, `(#GP)` = rejected); when it is unknown the decision forks.
    mutating func l0MSR(_ exit: HardwareExit, msr: UInt32?, level: GuestLevel = .l2) -> Outcome {
        proveWRMSRValue(exit, msr: msr)
        let write = exit.exitInfo1 & 1 != 0
        let handled = Outcome.l0Handles(
            "svm/svm.c:msr_interception", level: level,
            detail: "\(write ? "kvm_emulate_wrmsr" : "kvm_emulate_rdmsr") (kvm_msr), skip the instruction")
        let known = msr.flatMap { state.guest.l0RejectsMSR[$0] }
        let field = "L0 rejects MSR " + (msr.map { Hex.format($0) } ?? "(ECX unknown)")
        let fact = FactID.l0RejectsMSR(msr)
        func rejected(_ evaluator: inout Evaluator) -> Outcome {
            evaluator.queueException(
                ExceptionVector.generalProtection, errorCode: 0, level: level, after: exit,
                by: "svm/svm.c:svm_complete_emulated_msr")
        }
        let note = "a failed \(write ? "WRMSR" : "RDMSR") emulation injects #GP(0) (x86.c:kvm_complete_insn_gp); the trace shows it as `kvm_msr ... (#GP)`"
        guard let known else {
            record(.msrL0, [Evidence(field: field, value: nil)], .unknown, note: note)
            return fork(missing: [field], [
                Branch("L0 emulates the \(write ? "WRMSR" : "RDMSR")", [fact: false], { _ in handled }),
                Branch("L0 rejects the MSR access (#GP)", [fact: true], { rejected(&$0) }),
            ])
        }
        record(.msrL0, [.flag(field, known)], .from(known.value), note: note)
        return known.value ? rejected(&self) : handled
    }
}
