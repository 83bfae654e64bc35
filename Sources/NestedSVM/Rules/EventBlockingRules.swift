extension Rule {
    /// `svm_check_nested_events` returns -EBUSY instead of acting: a nested VMRUN is pending
    /// (blocks every event) or an event waits for re-injection (blocks all but exceptions).
    public static let pendingBusy = Rule(
        "svm.pending.ebusy", "is the event deferred (-EBUSY: nested_run_pending, or an event awaiting re-injection)?",
        kernel: "svm/nested.c:svm_check_nested_events")
    /// GIF clear blocks SMI, NMI, interrupts and virtual interrupts.
    public static let pendingGIF = Rule(
        "svm.pending.gif", "is GIF set (gif_set)?", kernel: "svm/svm.c:svm_interrupt_blocked")
    /// An SMI is blocked in SMM (and with GIF clear).
    public static let pendingSMIBlocked = Rule(
        "svm.pending.smi-blocked", "is the vCPU in SMM (svm_smi_blocked)?", kernel: "svm/svm.c:svm_smi_blocked")
    /// An NMI that L1 does not intercept is blocked while NMIs are masked or in an interrupt shadow.
    public static let pendingNMIBlocked = Rule(
        "svm.pending.nmi-blocked", "are NMIs masked or is L2 in an interrupt shadow (svm_nmi_blocked)?",
        kernel: "svm/svm.c:svm_nmi_blocked")
    /// An interrupt L1 does not intercept is blocked by an interrupt shadow.
    public static let pendingINTRShadow = Rule(
        "svm.pending.intr-shadow", "is L2 in an interrupt shadow (svm_interrupt_blocked)?",
        kernel: "svm/svm.c:svm_interrupt_blocked")
    /// vmcb12's V_IRQ reaches vmcb02; the CPU takes the virtual interrupt inside L2 when L2's
    /// RFLAGS.IF, the shadow and the priority allow, or exits with VINTR if L1 intercepts it.
    public static let virtualInterrupt = Rule(
        "svm.pending.v-irq", "does the CPU take vmcb12's virtual interrupt in L2 (V_IRQ, RFLAGS.IF, V_TPR/V_INTR_PRIO, VINTR intercept)?",
        kernel: "svm/nested.c:nested_vmcb02_prepare_control")
    /// vmcb12's V_NMI_PENDING reaches vmcb02 only with nested vNMI.
    public static let virtualNMI = Rule(
        "svm.pending.v-nmi", "does vmcb02 carry vmcb12's V_NMI_PENDING (nested vNMI) and is the virtual NMI unblocked?",
        kernel: "svm/nested.c:nested_vmcb02_prepare_control")
}

extension KernelProfile {
    /// Whether KVM passes vmcb12's V_NMI_ENABLE/V_NMI_PENDING/V_NMI_BLOCKING to vmcb02 (nested
    /// vNMI, `svm/nested.c:nested_vmcb02_prepare_control`; 6.4+). It arrived together with the
    /// V_NMI_ENABLE-needs-the-NMI-intercept consistency check, so the profile's switch for that
    /// check says it (computed: no new stored property in the profile).
    public var nestedVNMI: Bool { vnmiRequiresNMIIntercept }
}

/// `int_ctl` bits (APM vol. 2, VMCB offset 60h).
enum IntCtlBit {
    static let vTPRMask: UInt32 = 0xf
    static let vIRQ: UInt32 = 1 << 8
    static let vGIF: UInt32 = 1 << 9
    static let vNMIPending: UInt32 = 1 << 11
    static let vNMIBlocking: UInt32 = 1 << 12
    static let vIntrPrioShift: UInt32 = 16
    static let vIgnTPR: UInt32 = 1 << 20
    static let vGIFEnable: UInt32 = 1 << 25
}

extension Evaluator {
    /// GIF as `gif_set` sees it while L2 runs: a stated fact, else set — `nested_svm_vmrun`
    /// sets GIF on entering L2 (`svm_set_gif`) and only an L2 CLGI that L0 emulates clears it.
    /// A step is recorded only when the fact was stated (paths of other decisions unchanged).
    mutating func guestModeGIF(blocked: String, handler: String, _ then: @escaping (inout Evaluator) -> Outcome) -> Outcome {
        guard let gif = fact(FactID.gif) else { return then(&self) }
        return branch(
            .pendingGIF, field: "GIF", fact: FactID.gif, gif,
            note: "GIF clear blocks SMI, NMI and interrupts (svm_smi_blocked, svm_nmi_blocked, svm_interrupt_blocked)",
            yes: then,
            no: { _ in .noExit(level: .l2, detail: "\(blocked) stays pending: GIF is clear", handler: handler) })
    }

    /// The -EBUSY cases of `svm_check_nested_events`: `nested_run_pending` blocks every event,
    /// an event awaiting re-injection blocks all but exceptions (they are a continuation of
    /// the event being delivered). KVM then enters L2 with an immediate exit and checks again:
    /// nothing is delivered now. Only facts stated true defer; when they are unknown the step
    /// is not recorded and the event is decided as KVM decides it once nothing blocks it (the
    /// deferral postpones the outcome, it does not change it).
    mutating func unlessBusy(_ pending: PendingEvent, _ then: @escaping (inout Evaluator) -> Outcome) -> Outcome {
        var blockers = [FactID.nestedRunPending]
        if case .exception = pending {} else { blockers.append(FactID.eventNeedsReinjection) }
        let known = blockers.compactMap { id in fact(id).map { (id, $0) } }
        guard !known.isEmpty else { return then(&self) }
        let busy = known.first { $0.1.value }
        record(
            .pendingBusy, known.map { Evidence(field: "fact \($0.0)", value: $0.1.value ? "1" : "0", source: $0.1.source) },
            .from(busy != nil),
            note: "nested_run_pending blocks every event; an event awaiting re-injection blocks all but exceptions")
        guard let busy else { return then(&self) }
        return .l0Handles(
            "svm/nested.c:svm_check_nested_events", level: .l2,
            detail: "-EBUSY (\(busy.0)): \(pending.description) stays pending; KVM enters L2 with an immediate exit (req_immediate_exit) and checks again")
    }

    /// A virtual interrupt from vmcb12's V_IRQ (`svm/nested.c:nested_vmcb02_prepare_control`
    /// copies V_IRQ, V_INTR_PRIO, V_IGN_TPR, the vector and V_TPR into vmcb02 in 6.1, 6.12 and
    /// upstream). The CPU takes it inside L2 — no exit — when GIF is set, L2's RFLAGS.IF is 1,
    /// no interrupt shadow holds and V_IGN_TPR is set or V_INTR_PRIO > V_TPR; a VINTR
    /// intercept of L1 turns the moment it would be taken into a #VMEXIT(VINTR) to L1.
    mutating func decideVirtualInterrupt(vector: UInt8?) -> Outcome {
        let intCtl = state.vmcb12.intCtl
        let stays: (String) -> Outcome = { why in
            .noExit(level: .l2, detail: "the virtual interrupt stays pending in vmcb02's V_IRQ: \(why)", handler: "svm/nested.c:nested_vmcb02_prepare_control")
        }
        if let intCtl, intCtl.value & IntCtlBit.vIRQ == 0 {
            record(.virtualInterrupt, [.hex("vmcb12 int_ctl", intCtl)], .no, note: "V_IRQ is clear: no virtual interrupt is pending")
            return .noExit(level: .l2, detail: "no virtual interrupt: vmcb12's V_IRQ is clear", handler: "svm/nested.c:nested_vmcb02_prepare_control")
        }
        let taken = Outcome.injectInterrupt(
            vector, into: .l2, handler: "CPU: V_IRQ in vmcb02 (svm/nested.c:nested_vmcb02_prepare_control)",
            detail: "the CPU delivers the virtual interrupt through L2's IDT; nothing reaches L0")
        func afterPriority(_ evaluator: inout Evaluator) -> Outcome {
            evaluator.branch(
                .virtualInterrupt, field: InterceptWords.fieldName(ofBit: InterceptBit.vintr), evaluator.l1Intercepts(InterceptBit.vintr),
                note: "L1's VINTR intercept exits when the virtual interrupt would be taken",
                yes: { _ in .reflect(.vintr, info1: 0, info2: 0, handler: "svm/nested.c:nested_svm_exit_handled", detail: "the CPU exits with VINTR; L1 intercepts it") },
                no: { _ in taken })
        }
        func afterShadow(_ evaluator: inout Evaluator) -> Outcome {
            guard let intCtl else {
                evaluator.record(.virtualInterrupt, [.flag("V_IGN_TPR or V_INTR_PRIO > V_TPR", nil)], .unknown)
                return evaluator.fork(missing: ["vmcb12 int_ctl"], [
                    Branch("V_IGN_TPR or V_INTR_PRIO > V_TPR", [FactID.vIRQPriority: true], afterPriority),
                    Branch("V_INTR_PRIO <= V_TPR without V_IGN_TPR", [FactID.vIRQPriority: false], { _ in stays("V_INTR_PRIO is not above V_TPR") }),
                ])
            }
            let value = intCtl.value
            let priority = (value >> IntCtlBit.vIntrPrioShift) & 0xf
            let tpr = value & IntCtlBit.vTPRMask
            let passes = value & IntCtlBit.vIgnTPR != 0 || priority > tpr
            evaluator.record(
                .virtualInterrupt, [.hex("vmcb12 int_ctl", intCtl), Evidence(field: "V_INTR_PRIO / V_TPR", value: "\(priority) / \(tpr)", source: intCtl.source)],
                .from(passes), note: "taken only if V_IGN_TPR is set or V_INTR_PRIO > V_TPR")
            return passes ? afterPriority(&evaluator) : stays("V_INTR_PRIO \(priority) is not above V_TPR \(tpr)")
        }
        return guestModeGIF(blocked: "the virtual interrupt", handler: "svm/nested.c:nested_vmcb02_prepare_control") { evaluator in
            evaluator.branch(
                .virtualInterrupt, field: "L2 RFLAGS.IF", fact: FactID.rflagsIF(.l2), evaluator.state.l2.interruptsEnabled,
                note: "a virtual interrupt is masked by the guest's own RFLAGS.IF, whatever V_INTR_MASKING",
                yes: { evaluator in
                    evaluator.branch(
                        .pendingINTRShadow, field: "interrupt shadow", fact: FactID.interruptShadow, evaluator.fact(FactID.interruptShadow),
                        yes: { _ in stays("L2 is in an interrupt shadow") }, no: afterShadow)
                },
                no: { _ in stays("L2's RFLAGS.IF is clear") })
        }
    }

    /// A virtual NMI from vmcb12's V_NMI_PENDING. Without nested vNMI (6.1, or L1 not allowed
    /// to use it) KVM does not copy the V_NMI bits into vmcb02: nothing happens. With it the
    /// CPU delivers the NMI inside L2 unless GIF is clear or V_NMI_BLOCKING is set — L1's NMI
    /// intercept concerns physical NMIs only.
    mutating func decideVirtualNMI() -> Outcome {
        let ignored: (String) -> Outcome = { why in
            .noExit(level: .l2, detail: "vmcb12's V_NMI_PENDING has no effect: \(why)", handler: "svm/nested.c:nested_vmcb02_prepare_control")
        }
        guard profile.nestedVNMI else {
            record(.virtualNMI, [.profile("nested vNMI", "no", profile)], .no, note: "int_ctl_vmcb12_bits lacks the V_NMI bits")
            return ignored("this kernel has no nested vNMI")
        }
        let enabled = state.vmcb12.intCtl.map { Known($0.value & RegisterBit.vNMIEnable != 0, source: $0.source) }
        let pendingBit = state.vmcb12.intCtl.map { Known($0.value & IntCtlBit.vNMIPending != 0, source: $0.source) }
        let blockingBit = state.vmcb12.intCtl.map { Known($0.value & IntCtlBit.vNMIBlocking != 0, source: $0.source) }
        if let pendingBit, !pendingBit.value {
            record(.virtualNMI, [.flag("vmcb12 V_NMI_PENDING", pendingBit)], .no)
            return .noExit(level: .l2, detail: "no virtual NMI: vmcb12's V_NMI_PENDING is clear", handler: "svm/nested.c:nested_vmcb02_prepare_control")
        }
        return branch(
            .virtualNMI, field: "vmcb12 V_NMI_ENABLE", fact: FactID.vNMIEnable, enabled,
            yes: { evaluator in
                evaluator.branch(
                    .virtualNMI, field: "L1 may use vNMI", fact: FactID.l1VNMI, evaluator.fact(FactID.l1VNMI),
                    note: "nested_vnmi_enabled: L1's CPUID has VNMI (L0 uses vNMI) and vmcb12 sets V_NMI_ENABLE",
                    yes: { evaluator in
                        evaluator.guestModeGIF(blocked: "the virtual NMI", handler: "svm/nested.c:nested_vmcb02_prepare_control") { evaluator in
                            evaluator.branch(
                                .virtualNMI, field: "vmcb12 V_NMI_BLOCKING", fact: FactID.vNMIBlocking, blockingBit,
                                yes: { _ in .noExit(level: .l2, detail: "the virtual NMI stays pending: V_NMI_BLOCKING is set", handler: "svm/nested.c:nested_vmcb02_prepare_control") },
                                no: { _ in
                                    .injectNMI(
                                        into: .l2, handler: "CPU: V_NMI_PENDING in vmcb02 (svm/nested.c:nested_vmcb02_prepare_control)",
                                        detail: "the CPU delivers the virtual NMI through L2's IDT and sets V_NMI_BLOCKING; nothing reaches L0")
                                })
                        }
                    },
                    no: { _ in ignored("nested vNMI is not enabled for L1 (nested_vnmi_enabled)") })
            },
            no: { _ in ignored("V_NMI_ENABLE is clear") })
    }

    /// A virtual event while L1 runs: vmcb12's `int_ctl` acts only on the next VMRUN.
    func virtualEventOutsideGuestMode(_ pending: PendingEvent) -> Outcome? {
        switch pending {
        case .virtualInterrupt, .virtualNMI:
            return .noExit(level: .l1, detail: "\(pending.description) in vmcb12 acts only once L1 runs VMRUN")
        default:
            return nil
        }
    }
}

extension Rule {
    /// Several pending events: KVM looks at them in a fixed order and the first one that is
    /// not blocked decides.
    public static let pendingOrder = Rule(
        "svm.pending.order", "which pending event does KVM look at first (triple fault, INIT, exception, SMI, NMI, interrupt; then vmcb12's vNMI, V_IRQ)?",
        kernel: "svm/nested.c:svm_check_nested_events")
    /// INIT that L1 does not intercept resets the vCPU, unless GIF is clear or the vCPU is in SMM.
    public static let pendingINITAccepted = Rule(
        "svm.pending.init-accepted", "is INIT allowed (GIF set, not in SMM: kvm_apic_init_sipi_allowed)?",
        kernel: "lapic.c:kvm_apic_accept_events")
}

extension PendingEvent {
    /// KVM's order: `KVM_REQ_TRIPLE_FAULT` is handled before events (`x86.c:vcpu_enter_guest`),
    /// then `svm_check_nested_events` looks at INIT, exceptions, SMI, NMI, interrupts (and
    /// `kvm_check_and_inject_events` injects in the same order); vmcb12's virtual NMI and
    /// interrupt are taken by the CPU after the entry, behind anything KVM injects.
    var kvmRank: Int {
        switch self {
        case .tripleFault: 0
        case .initSignal: 1
        case .exception: 2
        case .smi: 3
        case .nmi: 4
        case .interrupt: 5
        case .virtualNMI: 6
        case .virtualInterrupt: 7
        case .simultaneous: 8
        }
    }
}

extension Evaluator {
    /// INIT in guest mode that L1 does not intercept: `lapic.c:kvm_apic_accept_events` accepts
    /// it when `kvm_apic_init_sipi_allowed` (not in SMM, and `svm_apic_init_signal_blocked`:
    /// GIF set): `kvm_vcpu_reset` leaves guest mode (`kvm_leave_nested`) — L2 is gone and the
    /// vCPU restarts (an AP waits for SIPI). Otherwise INIT stays latched.
    mutating func initNotIntercepted() -> Outcome {
        let latched: (String) -> Outcome = { why in
            .noExit(level: .l2, detail: "INIT stays latched: \(why)", handler: "lapic.c:kvm_apic_accept_events")
        }
        return guestModeGIF(blocked: "INIT", handler: "svm/svm.c:svm_apic_init_signal_blocked") { evaluator in
            evaluator.branch(
                .pendingINITAccepted, field: "vcpu in SMM", fact: FactID.inSMM, evaluator.state.inSMM ?? evaluator.fact(FactID.inSMM),
                yes: { _ in latched("INIT is blocked in SMM") },
                no: { _ in
                    .l0Handles(
                        "lapic.c:kvm_apic_accept_events", level: .l1,
                        detail: "INIT resets the vCPU: kvm_vcpu_reset leaves guest mode (kvm_leave_nested); an AP then waits for SIPI")
                })
        }
    }

    /// Several events pending together: the first in KVM's order decides unless it stays
    /// pending (blocked: `no_exit`), then the next one is looked at. An event that is
    /// delivered, exits, or is deferred with -EBUSY ends the look (`kvm_check_and_inject_events`:
    /// after one injection `can_inject` is false and the others wait).
    mutating func decideSimultaneous(_ events: [PendingEvent]) -> Outcome {
        let ordered = events.flatMap { event -> [PendingEvent] in
            if case .simultaneous(let inner) = event { return inner }
            return [event]
        }.sorted { $0.kvmRank < $1.kvmRank }
        guard !ordered.isEmpty else {
            return .noExit(level: .l2, detail: "no event is pending")
        }
        record(
            .pendingOrder, [.event("pending", ordered.map(\.description).joined(separator: ", "))], Answer(rawValue: ordered[0].description),
            note: "the first event that is not blocked decides; the others wait")
        return firstUnblocked(ordered[...])
    }

    private mutating func firstUnblocked(_ rest: ArraySlice<PendingEvent>) -> Outcome {
        guard let head = rest.first else { return .noExit(level: .l2, detail: "every pending event is blocked") }
        let outcome = decidePending(head, after: nil)
        let remaining = rest.dropFirst()
        guard !remaining.isEmpty else { return outcome }
        switch outcome.kind {
        case .noExit:
            record(.pendingOrder, [.event("blocked", head.description)], Answer(rawValue: remaining.first!.description), note: "\(head.description) stays pending; the next event is looked at")
            return firstUnblocked(remaining)
        case .undetermined:
            // Branches in which the head stays pending go on with the next events.
            var alternatives: [Alternative] = []
            var missing = outcome.missing ?? []
            for alternative in outcome.alternatives ?? [] {
                guard alternative.outcome.kind == .noExit else {
                    alternatives.append(alternative)
                    continue
                }
                var copy = self
                copy.path = []
                for (id, value) in alternative.assumptions where copy.facts[id] == nil {
                    copy.facts[id] = Known(value, source: "assumed: \(alternative.condition)")
                }
                let next = copy.firstUnblocked(remaining)
                let rules = alternative.rules + copy.path.map(\.rule)
                if next.kind == .undetermined, let inner = next.alternatives, !inner.isEmpty {
                    for branch in inner {
                        alternatives.append(Alternative(
                            condition: "\(alternative.condition); \(branch.condition)",
                            assumptions: alternative.assumptions.merging(branch.assumptions) { outer, _ in outer },
                            rules: rules + branch.rules, outcome: branch.outcome))
                    }
                    for name in next.missing ?? [] where !missing.contains(name) { missing.append(name) }
                } else {
                    alternatives.append(Alternative(condition: alternative.condition, assumptions: alternative.assumptions, rules: rules, outcome: next))
                }
            }
            if let first = alternatives.first?.outcome, alternatives.allSatisfy({ $0.outcome.sameResult(as: first) }) { return first }
            return .undetermined(alternatives, missing: missing)
        default:
            return outcome
        }
    }
}
