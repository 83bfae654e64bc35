extension Rule {
    /// Whether vmcb02 intercepts L2's STGI/CLGI: L1's bit, else L0's (vmcb01's, copied by
    /// `recalc_intercepts`): without vGIF `init_vmcb` intercepts both; with vGIF it clears
    /// both, and `svm_enable_nmi_window` / `svm_enable_smi_window` set the STGI intercept
    /// again only while GIF is clear and an NMI or SMI waits for it.
    public static let vgifL0Intercept = Rule(
        "svm.vgif.l0-intercept", "does L0 (vmcb01, inherited by vmcb02) intercept L2's STGI/CLGI?",
        kernel: "svm/svm.c:init_vmcb")
    /// The host uses vGIF: `init_vmcb` then clears L0's STGI and CLGI intercepts.
    public static let vgifHost = Rule(
        "svm.vgif.host", "does L0 use vGIF (then init_vmcb clears its STGI/CLGI intercepts; without it L0 intercepts and emulates both)?",
        kernel: "svm/svm.c:init_vmcb")
    /// Nested vGIF: vmcb12's V_GIF/V_GIF_ENABLE go to vmcb02 only when the host uses vGIF,
    /// L1's CPUID has it and vmcb12 sets V_GIF_ENABLE; otherwise vmcb02 takes them from vmcb01.
    public static let nestedVGIF = Rule(
        "svm.vgif.nested", "is nested vGIF on (host vgif, L1's CPUID vGIF, V_GIF_ENABLE in vmcb12 int_ctl)?",
        kernel: "svm/nested.c:nested_vmcb02_prepare_control")
    /// Which GIF L2's STGI/CLGI changed, and what `gif_set` reads afterwards.
    public static let gifAfterL2Instruction = Rule(
        "svm.vgif.gif-after", "what GIF does KVM see after L2's STGI/CLGI (gif_set reads vmcb01 with nested vGIF, vmcb02 with host vGIF only, HF_GIF_MASK without vGIF)?",
        kernel: "svm/svm.h:get_vgif_vmcb")
}

extension Evaluator {
    /// L2 executes STGI or CLGI (`FeatureEvent.gifInstruction`).
    ///
    /// 1. L1 intercepts it → the #VMEXIT is L1's (decided as that exit).
    /// 2. Else L0's intercept: without host vGIF L0 intercepts both and emulates them
    ///    (`stgi_interception`/`clgi_interception` → `svm_set_gif`, HF_GIF_MASK). With host
    ///    vGIF CLGI never exits; STGI exits only while KVM waits for GIF to open for an NMI or
    ///    SMI — impossible with nested vGIF (`gif_set` then reads vmcb01, which L2 cannot clear).
    /// 3. GIF afterwards: nested vGIF → the CPU changed vmcb02's V_GIF, i.e. L1's virtual GIF
    ///    for L2 (L1 reads it in vmcb12 `int_ctl` at the next #VMEXIT, `nested_sync_control_from_vmcb02`);
    ///    KVM's GIF (vmcb01's V_GIF, set by `svm_set_gif` at VMRUN) stays set, so events for L1
    ///    are not held. Host vGIF only → the CPU changed vmcb02's V_GIF, which `gif_set` reads.
    ///    Without vGIF → L0 set/cleared HF_GIF_MASK. A virtual interrupt (V_IRQ) is always held
    ///    by vmcb02's V_GIF.
    /// 4. `then` is decided with that GIF (`svm.pending.*`).
    mutating func decideGIFInstruction(isSTGI: Bool, then: PendingEvent?) -> Outcome {
        let code: VMExitCode = isSTGI ? .stgi : .clgi
        let name = isSTGI ? "STGI" : "CLGI"
        let bit = Int(code.rawValue)
        let exit = HardwareExit(
            exitCode: code, exitInfo1: 0, exitInfo2: 0, exitIntInfo: 0, exitIntInfoErr: 0,
            instructionBytes: [0x0f, 0x01, isSTGI ? 0xdc : 0xdd])
        return branch(
            .interceptBit, field: InterceptWords.fieldName(ofBit: bit), fact: FactID.intercept(bit), l1Intercepts(bit),
            note: "vmcb02 intercepts = vmcb01 ∪ vmcb12: L1's \(name) intercept always exits to L1",
            yes: { evaluator in
                evaluator.hardwareExitCode = code
                return evaluator.decideL2Exit(exit)
            },
            no: { evaluator in
                evaluator.branch(
                    .vgifHost, field: "host vgif", fact: FactID.hostVGIF, evaluator.host.vgif,
                    yes: { evaluator in evaluator.gifWithHostVGIF(isSTGI: isSTGI, exit: exit, then: then) },
                    no: { evaluator in
                        evaluator.hardwareExitCode = code
                        let handled = evaluator.decideL2Exit(exit)
                        guard handled.kind == .l0Handles else { return handled }
                        return evaluator.gifAfter(isSTGI: isSTGI, nestedVGIF: false, hostVGIF: false, emulated: handled, then: then)
                    })
            })
    }

    /// Step 2–4 with host vGIF: nested vGIF decides whether an STGI can meet L0's window intercept.
    private mutating func gifWithHostVGIF(isSTGI: Bool, exit: HardwareExit, then: PendingEvent?) -> Outcome {
        let intCtl = state.vmcb12.intCtl
        let enable = intCtl.map { Known($0.value & IntCtlBit.vGIFEnable != 0, source: $0.source) } ?? fact(FeatureFact.vGIFEnable.fact)
        let cpuid = state.guest.features[.vgif] ?? fact(FactID.guestCPUID(.vgif))
        let evidence: [Evidence] = [
            .flag("host vgif", host.vgif), .flag("guest CPUID vgif", cpuid), .flag("vmcb12 int_ctl V_GIF_ENABLE", enable),
        ]
        let nested: Known<Bool>?
        switch (cpuid?.value, enable?.value) {
        case (false?, _): nested = cpuid.map { Known(false, source: $0.source) }
        case (_, false?): nested = enable.map { Known(false, source: $0.source) }
        case (true?, true?): nested = Known(true, source: "host vgif, guest CPUID vgif and V_GIF_ENABLE")
        default: nested = nil
        }
        guard let nested else {
            record(.nestedVGIF, evidence, .unknown)
            var branches: [Branch] = []
            if cpuid == nil {
                branches.append(Branch("L1's CPUID lacks vGIF", [FactID.guestCPUID(.vgif): false], { $0.afterHostVGIF(isSTGI: isSTGI, nestedVGIF: false, exit: exit, then: then) }))
            }
            if enable == nil {
                branches.append(Branch("vmcb12 clears V_GIF_ENABLE", [FeatureFact.vGIFEnable.fact: false], { $0.afterHostVGIF(isSTGI: isSTGI, nestedVGIF: false, exit: exit, then: then) }))
            }
            var on: [Fact: Bool] = [:]
            if cpuid == nil { on[FactID.guestCPUID(.vgif)] = true }
            if enable == nil { on[FeatureFact.vGIFEnable.fact] = true }
            branches.append(Branch("nested vGIF is on", on, { $0.afterHostVGIF(isSTGI: isSTGI, nestedVGIF: true, exit: exit, then: then) }))
            return fork(missing: ["guest CPUID vgif / vmcb12 V_GIF_ENABLE"], branches)
        }
        record(
            .nestedVGIF, evidence, .from(nested.value),
            note: nested.value ? "vmcb02's V_GIF/V_GIF_ENABLE come from vmcb12: L2's STGI/CLGI change L1's virtual GIF for L2"
                : "vmcb02's V_GIF/V_GIF_ENABLE come from vmcb01 (L0's vGIF): L2's STGI/CLGI change the GIF KVM reads for the vCPU")
        return afterHostVGIF(isSTGI: isSTGI, nestedVGIF: nested.value, exit: exit, then: then)
    }

    private mutating func afterHostVGIF(isSTGI: Bool, nestedVGIF: Bool, exit: HardwareExit, then: PendingEvent?) -> Outcome {
        let noExit = Outcome.noExit(
            level: .l2,
            detail: nestedVGIF
                ? "the CPU \(isSTGI ? "sets" : "clears") V_GIF in vmcb02 (L1's virtual GIF for L2; vmcb12 int_ctl shows it at the next #VMEXIT)"
                : "the CPU \(isSTGI ? "sets" : "clears") V_GIF in vmcb02, the GIF KVM reads while L2 runs",
            handler: "CPU: vGIF (svm/svm.c:init_vmcb cleared the intercept)")
        guard isSTGI else {
            record(.vgifL0Intercept, [.flag("host vgif", host.vgif)], .no, note: "with vGIF L0 never intercepts CLGI")
            return gifAfter(isSTGI: false, nestedVGIF: nestedVGIF, hostVGIF: true, emulated: noExit, then: then)
        }
        // STGI: L0's window intercept exists only while gif_set is false and an NMI/SMI waits.
        if nestedVGIF {
            record(
                .vgifL0Intercept, [.flag("host vgif", host.vgif), Evidence(field: "gif_set reads", value: "vmcb01 V_GIF (set at VMRUN)", source: "svm/svm.h:get_vgif_vmcb")], .no,
                note: "with nested vGIF KVM's GIF is vmcb01's, which L2 cannot clear: svm_enable_nmi_window never needs the STGI intercept")
            return gifAfter(isSTGI: true, nestedVGIF: true, hostVGIF: true, emulated: noExit, then: then)
        }
        let gif = fact(FactID.gif) ?? Known(true, source: "svm_set_gif(true) at VMRUN (no CLGI of L2 stated)")
        let waits: Known<Bool>?
        if let then {
            // NMIs masked (before the handler's IRET): svm_enable_nmi_window waits for the IRET, not STGI.
            let masked = fact(FactID.nmiMasked)?.value == true && then == .nmi
            waits = Known(then.waitsForGIFWindow && !masked, source: "event (then: \(then.description))" + (masked ? " with NMIs masked" : ""))
        } else {
            waits = fact(FeatureFact.l0STGIWindow.fact)
        }
        let emulated: (inout Evaluator) -> Outcome = { evaluator in
            evaluator.hardwareExitCode = .stgi
            let handled = evaluator.decideL2Exit(exit)
            guard handled.kind == .l0Handles else { return handled }
            return evaluator.gifAfter(isSTGI: true, nestedVGIF: false, hostVGIF: true, emulated: handled, then: then)
        }
        guard gif.value == false else {
            record(.vgifL0Intercept, [.flag("host vgif", host.vgif), .flag("GIF", gif)], .no, note: "GIF is set: KVM waits for no STGI")
            return gifAfter(isSTGI: true, nestedVGIF: false, hostVGIF: true, emulated: noExit, then: then)
        }
        return branch(
            .vgifL0Intercept, field: "an NMI or SMI waits for GIF (STGI window)", fact: FeatureFact.l0STGIWindow.fact, waits,
            extra: [.flag("host vgif", host.vgif), .flag("GIF", gif)],
            note: "GIF is clear: svm_enable_nmi_window / svm_enable_smi_window set INTERCEPT_STGI for a waiting NMI or SMI (an interrupt uses VINTR instead)",
            yes: emulated,
            no: { evaluator in evaluator.gifAfter(isSTGI: true, nestedVGIF: false, hostVGIF: true, emulated: noExit, then: then) })
    }

    /// Step 3–4: records which GIF the instruction left and decides `then` with it.
    private mutating func gifAfter(isSTGI: Bool, nestedVGIF: Bool, hostVGIF: Bool, emulated: Outcome, then: PendingEvent?) -> Outcome {
        let kvmGIF = nestedVGIF ? true : isSTGI
        let where_ = nestedVGIF ? "vmcb01 V_GIF (L2 changed only vmcb02's, L1's virtual GIF)" : (hostVGIF ? "vmcb02 V_GIF" : "HF_GIF_MASK")
        guard let then else {
            record(
                .gifAfterL2Instruction, [Evidence(field: "gif_set reads", value: where_, source: "svm/svm.h:get_vgif_vmcb")], kvmGIF ? "set" : "clear")
            return emulated
        }
        // A virtual interrupt is held by vmcb02's V_GIF (the CPU's check), which L2 just wrote.
        let vIRQOnly: Bool
        if case .virtualInterrupt = then { vIRQOnly = true } else { vIRQOnly = false }
        let value = vIRQOnly ? isSTGI : kvmGIF
        prove(
            FactID.gif, value, by: .gifAfterL2Instruction,
            [Evidence(field: vIRQOnly ? "the CPU's V_GIF (vmcb02)" : "gif_set reads", value: vIRQOnly ? "vmcb02 V_GIF" : where_, source: "svm/svm.h:get_vgif_vmcb")],
            note: "after L2's \(isSTGI ? "STGI" : "CLGI") (\(emulated.kind == .noExit ? "no exit" : "emulated by L0"))")
        return decidePending(then, after: nil)
    }
}

extension PendingEvent {
    /// Whether KVM, finding GIF clear, asks for the STGI intercept to deliver this event
    /// (`svm_enable_nmi_window`, `svm_enable_smi_window`); interrupts use VINTR with vGIF.
    var waitsForGIFWindow: Bool {
        switch self {
        case .nmi, .smi: true
        case .simultaneous(let events): events.contains { $0.waitsForGIFWindow }
        default: false
        }
    }
}

extension FeatureFact {
    /// As a `Fact`.
    var fact: Fact { .feature(self) }
}
