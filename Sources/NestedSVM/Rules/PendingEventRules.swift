extension Rule {
    /// An exception queued for L2 becomes a #VMEXIT iff L1's exception bitmap has its vector.
    public static let pendingException = Rule(
        "svm.pending.exception", "does L1's exception bitmap intercept the queued exception's vector?",
        kernel: "svm/nested.c:nested_svm_is_exception_vmexit")
    /// A latched INIT becomes a #VMEXIT iff L1 intercepts INIT.
    public static let pendingINIT = Rule(
        "svm.pending.init", "does L1 intercept INIT (bit 99)?", kernel: "svm/nested.c:svm_check_nested_events")
    /// A pending SMI becomes a #VMEXIT iff L1 intercepts SMI.
    public static let pendingSMI = Rule(
        "svm.pending.smi", "does L1 intercept SMI (bit 98)?", kernel: "svm/nested.c:svm_check_nested_events")
    /// A pending NMI becomes a #VMEXIT iff L1 intercepts NMI.
    public static let pendingNMI = Rule(
        "svm.pending.nmi", "does L1 intercept NMI (bit 97)?", kernel: "svm/nested.c:svm_check_nested_events")
    /// A pending interrupt becomes a #VMEXIT iff L1 intercepts INTR.
    public static let pendingINTR = Rule(
        "svm.pending.intr", "does L1 intercept INTR (bit 96)?", kernel: "svm/nested.c:svm_check_nested_events")
    /// An interrupt pending while L2 runs is blocked by L1's RFLAGS.IF (vmcb01) with
    /// V_INTR_MASKING, else by L2's.
    public static let pendingINTRBlocked = Rule(
        "svm.pending.intr-blocked", "is the pending interrupt blocked (V_INTR_MASKING ? L1's RFLAGS.IF : L2's RFLAGS.IF)?",
        kernel: "svm/svm.c:svm_interrupt_blocked")
    /// A triple fault of L2 becomes a SHUTDOWN #VMEXIT iff L1 intercepts SHUTDOWN.
    public static let pendingTripleFault = Rule(
        "svm.pending.triple-fault", "does L1 intercept SHUTDOWN (bit 127)?", kernel: "svm/nested.c:nested_svm_triple_fault")
}

extension Evaluator {
    /// The handler that raised an exception, as the decision names it.
    static let exceptionQueue = "x86.c:kvm_queue_exception"

    /// `svm_check_nested_events` for one pending event in guest mode. `exit` is the hardware
    /// exit whose handler queued the event (its infos are the stale vmcb02 values an
    /// exception #VMEXIT without error code keeps).
    mutating func decidePending(_ pending: PendingEvent, after exit: HardwareExit?) -> Outcome {
        let blocking = "deferred while a nested VMRUN is pending (nested_run_pending → [immediate exit])"
        switch pending {
        case .exception(let vector, let errorCode):
            let bit = InterceptBit.exceptionOffset + Int(vector)
            let code = VMExitCode.exception(vector)
            let info1: UInt64? = ExceptionVector.hasErrorCode(vector) ? UInt64(errorCode ?? 0) : exit?.exitInfo1
            let info2: UInt64? = exit?.exitInfo2
            let injected = Outcome.inject(vector, errorCode: ExceptionVector.hasErrorCode(vector) ? (errorCode ?? 0) : nil, into: .l2, handler: "svm/svm.c:svm_inject_exception", detail: "kvm_inj_exception")
            let infoNote = ExceptionVector.hasErrorCode(vector)
                ? "exit_info_1 = the error code" : "no error code: exit_info_1 keeps vmcb02's value from the last exit"
            return unlessBusy(pending) { evaluator in
                evaluator.branch(
                    .pendingException, field: InterceptWords.fieldName(ofBit: bit), evaluator.l1Intercepts(bit),
                    extra: [Evidence(field: "queued", value: pending.description, source: exit == nil ? "event" : "L0 handler")],
                    note: "\(infoNote); \(blocking)",
                    yes: { _ in .reflect(code, info1: info1, info2: info2, handler: "svm/nested.c:nested_svm_inject_exception_vmexit") },
                    no: { _ in injected })
            }
        case .initSignal:
            return unlessBusy(pending) { evaluator in
                evaluator.branch(
                    .pendingINIT, field: InterceptWords.fieldName(ofBit: InterceptBit.initSignal), evaluator.l1Intercepts(InterceptBit.initSignal),
                    note: blocking,
                    yes: { _ in .reflect(.initSignal, info1: 0, info2: 0, handler: "svm/nested.c:nested_svm_simple_vmexit") },
                    no: { evaluator in evaluator.initNotIntercepted() })
            }
        case .smi:
            // svm_check_nested_events: `smi_pending && !svm_smi_blocked` — GIF clear or SMM block it.
            return unlessBusy(pending) { evaluator in
                evaluator.guestModeGIF(blocked: "the SMI", handler: "svm/svm.c:svm_smi_blocked") { evaluator in
                    evaluator.branch(
                        .pendingSMIBlocked, field: "vcpu in SMM", fact: FactID.inSMM, evaluator.state.inSMM ?? evaluator.fact(FactID.inSMM),
                        yes: { _ in .noExit(level: .l2, detail: "the SMI stays pending: the vCPU is in SMM", handler: "svm/svm.c:svm_smi_blocked") },
                        no: { evaluator in
                            evaluator.branch(
                                .pendingSMI, field: InterceptWords.fieldName(ofBit: InterceptBit.smi), evaluator.l1Intercepts(InterceptBit.smi),
                                note: "L1's SMI intercept is ignored when kvm_amd intercept_smi=0; \(blocking)",
                                yes: { _ in .reflect(.smi, info1: 0, info2: 0, handler: "svm/nested.c:nested_svm_simple_vmexit") },
                                no: { _ in .l0Handles("x86.c:enter_smm", level: .l2, detail: "the SMI is delivered by L0 (kvm_smm_transition)") })
                        })
                }
            }
        case .nmi:
            // svm_nmi_blocked: GIF; with L1's NMI intercept nothing else blocks (the #VMEXIT is
            // not an injection); otherwise masked NMIs or an interrupt shadow block it.
            return unlessBusy(pending) { evaluator in
                evaluator.guestModeGIF(blocked: "the NMI", handler: "svm/svm.c:svm_nmi_blocked") { evaluator in
                    evaluator.branch(
                        .pendingNMI, field: InterceptWords.fieldName(ofBit: InterceptBit.nmi), evaluator.l1Intercepts(InterceptBit.nmi),
                        note: blocking,
                        yes: { _ in .reflect(.nmi, info1: 0, info2: 0, handler: "svm/nested.c:nested_svm_simple_vmexit") },
                        no: { evaluator in
                            evaluator.nmiUnblocked {
                                .injectNMI(into: .l2, handler: "svm/svm.c:svm_inject_nmi", detail: "the NMI is injected into L2")
                            }
                        })
                }
            }
        case .interrupt:
            return unlessBusy(pending) { evaluator in
                evaluator.guestModeGIF(blocked: "the interrupt", handler: "svm/svm.c:svm_interrupt_blocked") { evaluator in
                    evaluator.interruptBlocking { evaluator in
                        evaluator.branch(
                            .pendingINTR, field: InterceptWords.fieldName(ofBit: InterceptBit.intr), evaluator.l1Intercepts(InterceptBit.intr),
                            note: "\(blocking); a #VMEXIT is not blocked by the interrupt shadow",
                            yes: { _ in .reflect(.intr, info1: 0, info2: 0, handler: "svm/nested.c:nested_svm_simple_vmexit", detail: "preceded by kvm_nested_intr_vmexit") },
                            no: { evaluator in
                                evaluator.branch(
                                    .pendingINTRShadow, field: "interrupt shadow", fact: FactID.interruptShadow, evaluator.fact(FactID.interruptShadow),
                                    yes: { _ in .noExit(level: .l2, detail: "the interrupt stays pending: L2 is in an interrupt shadow", handler: "svm/svm.c:svm_interrupt_blocked") },
                                    no: { _ in .injectInterrupt(nil, into: .l2, handler: "svm/svm.c:svm_inject_irq", detail: "the interrupt is injected into L2 (kvm_inj_virq)") })
                            })
                    }
                }
            }
        case .virtualInterrupt(let vector):
            return decideVirtualInterrupt(vector: vector)
        case .virtualNMI:
            return decideVirtualNMI()
        case .simultaneous(let events):
            return decideSimultaneous(events)
        case .tripleFault:
            return branch(
                .pendingTripleFault, field: InterceptWords.fieldName(ofBit: InterceptBit.shutdown), fact: FactID.intercept(InterceptBit.shutdown), l1Intercepts(InterceptBit.shutdown),
                yes: { _ in .reflect(.shutdown, info1: 0, info2: 0, handler: "svm/nested.c:nested_svm_simple_vmexit") },
                no: { _ in .userspaceExit("x86.c:kvm_check_request", detail: "KVM_EXIT_SHUTDOWN") })
        }
    }

    /// `svm_interrupt_blocked` in guest mode (GIF is taken as set: L2 runs): with L1's
    /// V_INTR_MASKING the interrupt is L1's and L1's RFLAGS.IF (vmcb01) blocks it, otherwise
    /// L2's RFLAGS.IF does. A blocked interrupt stays pending: nothing happens.
    mutating func interruptBlocking(_ unblocked: @escaping (inout Evaluator) -> Outcome) -> Outcome {
        let masking = state.vmcb12.intCtl.map { Known($0.value & RegisterBit.vIntrMasking != 0, source: $0.source) }
        let stays: (String) -> Outcome = { why in
            .noExit(level: .l2, detail: "the interrupt stays pending: \(why)", handler: "svm/svm.c:svm_interrupt_blocked")
        }
        func byIF(_ level: GuestLevel, _ evaluator: inout Evaluator) -> Outcome {
            let flag = evaluator.registers(of: level).interruptsEnabled
            return evaluator.branch(
                .pendingINTRBlocked, field: "\(level) RFLAGS.IF", fact: FactID.rflagsIF(level), flag,
                extra: [.flag("vmcb12 V_INTR_MASKING", masking)],
                note: level == .l1 ? "V_INTR_MASKING: the interrupt belongs to L1; vmcb01's RFLAGS.IF decides" : "no V_INTR_MASKING: L2's RFLAGS.IF decides",
                yes: unblocked, no: { _ in stays("\(level)'s RFLAGS.IF is clear") })
        }
        guard let masking else {
            record(.pendingINTRBlocked, [.flag("vmcb12 V_INTR_MASKING", nil)], .unknown)
            return fork(missing: ["vmcb12 int_ctl"], [
                Branch("L1 sets V_INTR_MASKING", [FactID.vIntrMasking: true], { byIF(.l1, &$0) }),
                Branch("L1 does not set V_INTR_MASKING", [FactID.vIntrMasking: false], { byIF(.l2, &$0) }),
            ])
        }
        return masking.value ? byIF(.l1, &self) : byIF(.l2, &self)
    }

    /// `svm_nmi_blocked` for an NMI L1 does not intercept: masked NMIs (an NMI handler has not
    /// executed IRET yet) or an interrupt shadow keep it pending.
    mutating func nmiUnblocked(_ injected: @escaping () -> Outcome) -> Outcome {
        let stays: (String) -> Outcome = { why in
            .noExit(level: .l2, detail: "the NMI stays pending: \(why)", handler: "svm/svm.c:svm_nmi_blocked")
        }
        return branch(
            .pendingNMIBlocked, field: "NMIs masked", fact: FactID.nmiMasked, fact(FactID.nmiMasked),
            note: "HF_NMI_MASK (6.1), nmi_masked or V_NMI_BLOCKING (6.12+): set from an NMI's delivery to its IRET",
            yes: { _ in stays("NMIs are masked until the handler's IRET") },
            no: { evaluator in
                evaluator.branch(
                    .pendingNMIBlocked, field: "interrupt shadow", fact: FactID.interruptShadow, evaluator.fact(FactID.interruptShadow),
                    yes: { _ in stays("L2 is in an interrupt shadow") }, no: { _ in injected() })
            })
    }

    /// An exception a handler queued for `level`: for L2 it goes through
    /// `svm.pending.exception`, for L1 it is injected.
    mutating func queueException(_ vector: UInt8, errorCode: UInt32?, level: GuestLevel, after exit: HardwareExit, by handler: String) -> Outcome {
        if let merged = mergeWithInFlight(vector, errorCode: errorCode, level: level, after: exit, by: handler) { return merged }
        switch level {
        case .l2:
            return decidePending(.exception(vector: vector, errorCode: errorCode), after: exit)
        case .l1:
            return .inject(vector, errorCode: errorCode, into: .l1, handler: handler, detail: "kvm_inj_exception")
        }
    }
}
