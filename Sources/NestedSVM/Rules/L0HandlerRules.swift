extension Rule {
    /// Which `svm_exit_handlers[]` entry runs for an exit L0 keeps.
    public static let l0Handler = Rule(
        "svm.l0.handler", "which L0 exit handler runs (svm_exit_handlers[exit_code])?",
        kernel: "svm/svm.c:svm_invoke_exit_handler")
    /// A CR0 write under L1's selective CR0 intercept becomes a `cr0_sel_write` #VMEXIT.
    public static let selectiveCR0 = Rule(
        "svm.cr.selective-cr0", "does L1 use the selective CR0 intercept and the write change bits other than TS/MP?",
        kernel: "svm/svm.c:check_selective_cr0_intercepted")
    /// CR exits are performed directly with decode assists, else emulated.
    public static let crDecode = Rule(
        "svm.cr.decode", "did the CPU decode the MOV CR (exit_info_1 bit 63, decode assists)?",
        kernel: "svm/svm.c:cr_interception")
    /// An instruction L0 intercepts only when the guest lacks its CPUID feature raises #UD.
    public static let cpuidFeature = Rule(
        "svm.l0.cpuid-feature", "does the guest's CPUID have the instruction's feature?",
        kernel: "x86.c:kvm_handle_invalid_op")
    /// RSM leaving SMM returns to guest mode when the SMI arrived in guest mode.
    public static let rsmToGuestMode = Rule(
        "svm.rsm.guest-mode", "did the SMI arrive while L2 ran (then RSM re-enters L2)?", kernel: "svm/svm.c:svm_leave_smm")
    /// RSM is emulated; outside SMM the emulator raises #UD.
    public static let rsmInSMM = Rule(
        "svm.rsm.smm", "is the vCPU in SMM (else the emulated RSM raises #UD)?", kernel: "emulate.c:em_rsm")
    /// `kvm_set_cr4` rejects the value: `kvm_complete_insn_gp` injects #GP(0).
    public static let cr4WriteValid = Rule(
        "svm.l0.cr4-write", "does KVM accept the CR4 value (reserved and CPUID-dependent bits, PAE in long mode, PCIDE, LA57)?",
        kernel: "x86.c:kvm_set_cr4")
    /// `kvm_emulate_xsetbv` injects #GP(0) when CPL > 0 or `__kvm_set_xcr` rejects the value.
    public static let xsetbvValid = Rule(
        "svm.l0.xsetbv", "does KVM accept the XSETBV (CPL 0, XCR index 0, a valid XCR0 the guest supports)?",
        kernel: "x86.c:__kvm_set_xcr")
    /// The value a WRMSR writes decides whether `kvm_set_msr` fails for MSRs whose check the
    /// model knows (PAT, VM_HSAVE_PA, EFER's never-allowed bits).
    public static let wrmsrValue = Rule(
        "svm.l0.wrmsr-value", "does the written value fail the MSR's check in kvm_set_msr?",
        kernel: "x86.c:kvm_set_msr_common")
    /// INVLPG is performed directly with decode assists, else emulated.
    public static let invlpgDecode = Rule(
        "svm.l0.invlpg-decode", "does the host have decode assists (INVLPG address in exit_info_1)?",
        kernel: "svm/svm.c:invlpg_interception")
}

/// `CR_VALID` (bit 63 of a CR exit's `exit_info_1`, `svm/svm.c`): the CPU decoded a MOV CR.
let crValidBit: UInt64 = 1 << 63

extension Evaluator {
    /// The emulated RSM in SMM: `emulate.c:em_rsm` → `emulator_leave_smm` → `svm_leave_smm`,
    /// which re-enters L2 through `enter_svm_guest_mode` (traced `kvm_nested_vmenter`, older
    /// kernels `kvm_nested_vmrun`) when SMRAM says the SMI arrived in guest mode (SMM always
    /// runs on vmcb01: `svm_enter_smm` leaves guest mode first).
    mutating func leaveSMM(level: GuestLevel) -> Outcome {
        let handler = "svm/svm.c:rsm_interception"
        return branch(
            .rsmToGuestMode, field: "SMI arrived in guest mode", fact: FactID.smmFromGuestMode, fact(FactID.smmFromGuestMode),
            note: "SMRAM's saved guest-mode flag and vmcb12 address (svm_enter_smm wrote them)",
            yes: { _ in .emulate(handler, level: .l2, detail: "emulates RSM: leaves SMM and re-enters L2 (svm_leave_smm → enter_svm_guest_mode)") },
            no: { _ in .emulate(handler, level: level, detail: "emulates RSM: leaves SMM (emulator_leave_smm), \(level) continues") })
    }

    /// L0's handler for an exit it keeps (`svm_exit_handlers[]`, 6.12 table; 6.1 differs
    /// only for VMMCALL).
    mutating func l0Handler(_ exit: HardwareExit, level: GuestLevel, vmcb02Checked: Bool = false) -> Outcome {
        let code = exit.exitCode
        if level == .l2, !vmcb02Checked { return vmcb02Gate(exit) { $0.l0Handler(exit, level: level, vmcb02Checked: true) } }
        func handled(_ handler: String, _ detail: String? = nil) -> Outcome {
            record(.l0Handler, [.event("exit_code", code.description)], Answer(rawValue: handler))
            return .l0Handles(handler, level: level, detail: detail)
        }
        switch code.rawValue {
        case 0x00...0x1f:
            return level == .l2 ? l0CRHandler(exit, vmcb02Checked: true) : crHandler(exit, level: level)
        case 0x20...0x3f:
            return handled(
                "svm/svm.c:dr_interception",
                "without host guest debugging: drops the DR intercepts and re-executes; with it: decode-assist MOV DR or emulation")
        case 0x40...0x5f:
            return l0ExceptionHandler(vector: UInt8(code.rawValue - 0x40), exit: exit, level: level)
        case VMExitCode.intr.rawValue: return handled("svm/svm.c:intr_interception")
        case VMExitCode.nmi.rawValue: return handled("svm/svm.c:nmi_interception")
        case VMExitCode.smi.rawValue: return handled("svm/svm.c:smi_interception")
        case VMExitCode.vintr.rawValue: return handled("svm/svm.c:interrupt_window_interception", "interrupt window open")
        case VMExitCode.cr0SelectiveWrite.rawValue: return crHandler(exit, level: level)
        case VMExitCode.rdpmc.rawValue: return handled("x86.c:kvm_emulate_rdpmc")
        case VMExitCode.cpuid.rawValue: return handled("x86.c:kvm_emulate_cpuid", "kvm_cpuid, skip")
        case VMExitCode.iret.rawValue: return handled("svm/svm.c:iret_interception", "NMI window tracking")
        case VMExitCode.invd.rawValue: return handled("x86.c:kvm_emulate_invd")
        case VMExitCode.pause.rawValue: return handled("svm/svm.c:pause_interception", "pause-loop exiting: grow window / yield")
        case VMExitCode.hlt.rawValue: return handled("x86.c:kvm_emulate_halt")
        case VMExitCode.invlpg.rawValue:
            return branch(
                .invlpgDecode, field: "host decode_assists", fact: FactID.hostDecodeAssists, host.decodeAssists,
                yes: { _ in .l0Handles("svm/svm.c:invlpg_interception", level: level, detail: "kvm_mmu_invlpg(exit_info_1), skip") },
                no: { _ in .emulate("svm/svm.c:invlpg_interception", level: level, detail: "kvm_emulate_instruction") })
        case VMExitCode.invlpga.rawValue: return invlpgaHandler(exit, level: level)
        case VMExitCode.ioio.rawValue:
            return level == .l2 ? l0IO(exit, io: IOIOExitInfo(exit.exitInfo1)) : handled("svm/svm.c:io_interception", "kvm_pio")
        case VMExitCode.msr.rawValue:
            record(.l0Handler, [.event("exit_code", code.description)], "svm/svm.c:msr_interception")
            return l0MSR(exit, msr: exit.rcx.map { UInt32(truncatingIfNeeded: $0.value) }, level: level)
        case VMExitCode.taskSwitch.rawValue:
            record(.l0Handler, [.event("exit_code", code.description)], "svm/svm.c:task_switch_interception")
            return .emulate("svm/svm.c:task_switch_interception", level: level, detail: "emulates the task switch")
        case VMExitCode.shutdown.rawValue:
            record(.l0Handler, [.event("exit_code", code.description)], "svm/svm.c:shutdown_interception")
            return .userspaceExit("svm/svm.c:shutdown_interception", detail: "KVM_EXIT_SHUTDOWN (the vCPU is reset)")
        case VMExitCode.vmrun.rawValue:
            if level == .l1 { return vmrunHandler(exit) }
            record(
                .l0Handler, [.event("exit_code", code.description), .flag(InterceptWords.fieldName(ofBit: InterceptBit.vmrun), l1Intercepts(InterceptBit.vmrun))],
                "svm/svm.c:vmrun_interception",
                note: "unreachable for L2: VMRUN's consistency checks require L1 to intercept VMRUN")
            return .l0Handles("svm/svm.c:vmrun_interception", level: level, detail: "unreachable from L2 on a consistent vmcb12")
        case VMExitCode.vmmcall.rawValue: return vmmcallHandler(exit, level: level)
        case VMExitCode.vmload.rawValue, VMExitCode.vmsave.rawValue: return vmloadVMSaveHandler(exit, level: level)
        case VMExitCode.stgi.rawValue, VMExitCode.clgi.rawValue: return gifHandler(exit, level: level)
        case VMExitCode.skinit.rawValue: return skinitHandler(exit, level: level)
        case VMExitCode.rdtscp.rawValue:
            let feature = state.guest.features[.rdtscp]
            record(
                .cpuidFeature, [.event("exit_code", code.description), .flag("guest CPUID rdtscp", feature)],
                feature.map { Answer.from($0.value) } ?? .unknown,
                note: "L0 intercepts RDTSCP only when the guest lacks it; kvm_handle_invalid_op queues #UD either way")
            return queueException(ExceptionVector.invalidOpcode, errorCode: nil, level: level, after: exit, by: "x86.c:kvm_handle_invalid_op")
        case VMExitCode.wbinvd.rawValue: return handled("x86.c:kvm_emulate_wbinvd")
        case VMExitCode.monitor.rawValue: return handled("x86.c:kvm_emulate_monitor", "NOP or #UD per quirk and CPUID")
        case VMExitCode.mwait.rawValue: return handled("x86.c:kvm_emulate_mwait", "NOP or #UD per quirk and CPUID")
        case VMExitCode.xsetbv.rawValue:
            record(.l0Handler, [.event("exit_code", code.description)], "x86.c:kvm_emulate_xsetbv")
            return xsetbvHandler(exit, level: level)
        case VMExitCode.rdpru.rawValue:
            record(.l0Handler, [.event("exit_code", code.description)], "x86.c:kvm_handle_invalid_op")
            return queueException(ExceptionVector.invalidOpcode, errorCode: nil, level: level, after: exit, by: "x86.c:kvm_handle_invalid_op")
        case 0x8f, 0x90...0x9f:
            return handled(code.rawValue == 0x8f ? "svm/svm.c:efer_trap" : "svm/svm.c:cr_trap", "SEV-ES guests only")
        case VMExitCode.invpcid.rawValue:
            return branch(
                .cpuidFeature, field: "guest CPUID invpcid", fact: FactID.guestCPUID(.invpcid), state.guest.features[.invpcid],
                yes: { _ in .l0Handles("svm/svm.c:invpcid_interception", level: level, detail: "type = exit_info_2, descriptor at exit_info_1") },
                no: { $0.queueException(ExceptionVector.invalidOpcode, errorCode: nil, level: level, after: exit, by: "svm/svm.c:invpcid_interception") })
        case VMExitCode.npf.rawValue:
            return handled("svm/svm.c:npf_interception", "L0's NPT fault for \(level): kvm_mmu_page_fault (kvm_page_fault)")
        case 0x073:
            // rsm_interception emulates RSM from a fixed buffer; emulate.c:em_rsm raises #UD
            // unless the vCPU is in SMM (then kvm_smm_transition / emulator_leave_smm).
            record(.l0Handler, [.event("exit_code", code.description)], "svm/svm.c:rsm_interception")
            return branch(
                .rsmInSMM, field: "vCPU in SMM", fact: FactID.inSMM, state.inSMM,
                yes: { $0.leaveSMM(level: level) },
                no: { $0.queueException(ExceptionVector.invalidOpcode, errorCode: nil, level: level, after: exit, by: "emulate.c:em_rsm") })
        case 0x401: return handled("svm/avic.c:avic_incomplete_ipi_interception")
        case 0x402: return handled("svm/avic.c:avic_unaccelerated_access_interception")
        case 0x403: return handled("svm/sev.c:sev_handle_vmgexit", "SEV-ES only")
        case VMExitCode.invalid.rawValue:
            record(.l0Handler, [.event("exit_code", code.description)], "svm/svm.c:svm_handle_exit")
            return .userspaceExit("svm/svm.c:svm_handle_exit", detail: "KVM_EXIT_FAIL_ENTRY (vmcb01 rejected)")
        default:
            record(
                .l0Handler, [.event("exit_code", code.description)], "svm/svm.c:svm_handle_invalid_exit",
                note: "no handler in svm_exit_handlers[]; L0 never asks for this exit")
            return .userspaceExit(
                "svm/svm.c:svm_handle_invalid_exit",
                detail: "KVM_EXIT_INTERNAL_ERROR (KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON)")
        }
    }

    /// `cr_interception` for an L2 CR exit L1 does not intercept: first the selective CR0
    /// rewrite for CR0 writes, then direct or emulated access.
    mutating func l0CRHandler(_ exit: HardwareExit, vmcb02Checked: Bool = false) -> Outcome {
        if !vmcb02Checked { return vmcb02Gate(exit) { $0.l0CRHandler(exit, vmcb02Checked: true) } }
        guard exit.exitCode == .writeCR0 else { return crHandler(exit, level: .l2) }
        let selective = l1Intercepts(InterceptBit.selectiveCR0)
        let cr0 = state.l2.cr0
        let evidence: [Evidence] = [
            .flag(InterceptWords.fieldName(ofBit: InterceptBit.selectiveCR0), selective),
            .hex("L2 CR0 (old)", cr0), .hex("new CR0", exit.writtenValue),
        ]
        let sel = Outcome.reflect(
            .cr0SelectiveWrite, info1: exit.exitInfo1, info2: exit.exitInfo2,
            detail: "exit code rewritten to cr0_sel_write, infos kept from the CR0-write exit")
        // Bits other than TS/MP changed? Known only with both values. LMSW always counts as a
        // selective write (svm/svm.c:svm_check_intercept, "LMSW always triggers
        // INTERCEPT_SELECTIVE_CR0"; the emulator decides it, LMSW is never decode-assisted).
        let changesOther: Known<Bool>? = {
            if let bytes = exit.instructionBytes, Self.isLMSW(bytes) {
                return Known(true, source: "LMSW always triggers the selective CR0 intercept (svm/svm.c:svm_check_intercept)")
            }
            guard let old = cr0, let new = exit.writtenValue else { return nil }
            return Known((old.value ^ new.value) & ~RegisterBit.cr0SelectiveMask != 0, source: new.source)
        }()
        guard let selective else {
            record(.selectiveCR0, evidence, .unknown)
            return fork(missing: [InterceptWords.fieldName(ofBit: InterceptBit.selectiveCR0)] + (changesOther == nil ? ["new CR0 value"] : []), [
                Branch("L1 does not use the selective CR0 intercept", [FactID.intercept(InterceptBit.selectiveCR0): false], { $0.crHandler(exit, level: .l2) }),
                Branch("L1 uses the selective CR0 intercept and the write changes a bit other than TS/MP",
                       [FactID.intercept(InterceptBit.selectiveCR0): true, FactID.cr0WriteChangesOtherBits: true], { _ in sel }),
                Branch("L1 uses the selective CR0 intercept and the write changes only TS/MP",
                       [FactID.intercept(InterceptBit.selectiveCR0): true, FactID.cr0WriteChangesOtherBits: false], { $0.crHandler(exit, level: .l2) }),
            ])
        }
        if !selective.value {
            record(.selectiveCR0, evidence, .no)
            return crHandler(exit, level: .l2)
        }
        guard let changesOther else {
            record(
                .selectiveCR0, evidence, .unknown,
                note: "needs the old and the written CR0; SVM_CR0_SELECTIVE_MASK = TS|MP")
            return fork(missing: ["new CR0 value"], [
                Branch("the write changes a CR0 bit other than TS/MP", [FactID.cr0WriteChangesOtherBits: true], { _ in sel }),
                Branch("the write changes only TS/MP", [FactID.cr0WriteChangesOtherBits: false], { $0.crHandler(exit, level: .l2) }),
            ])
        }
        record(.selectiveCR0, evidence, .from(changesOther.value), note: "SVM_CR0_SELECTIVE_MASK = TS|MP")
        return changesOther.value ? sel : crHandler(exit, level: .l2)
    }

    /// Whether `bytes` start with LMSW (`0f 01 /6`).
    static func isLMSW(_ bytes: [UInt8]) -> Bool {
        guard let start = SVMInstruction.opcodeStart(bytes), bytes.count > start + 2, bytes[start] == 0x0f, bytes[start + 1] == 0x01 else {
            return false
        }
        return (bytes[start + 2] >> 3) & 7 == 6
    }

    /// `cr_interception` proper: direct MOV with decode assists, otherwise the emulator.
    mutating func crHandler(_ exit: HardwareExit, level: GuestLevel) -> Outcome {
        let decoded = exit.exitInfo1 & crValidBit != 0
        record(
            .crDecode, [.event("exit_info_1 bit 63", decoded ? "1" : "0"), .flag("host decode_assists", host.decodeAssists)],
            .from(decoded))
        let handler = exit.exitCode == .writeCR8 ? "svm/svm.c:cr8_write_interception" : "svm/svm.c:cr_interception"
        if decoded {
            if exit.exitCode == .writeCR4 { return cr4WriteHandler(exit, level: level) }
            return .l0Handles(handler, level: level, detail: "performs the MOV CR (kvm_cr)")
        }
        return .emulate(
            "svm/svm.c:emulate_on_interception", level: level,
            detail: level == .l2 ? "kvm_emulate_insn; the emulator re-checks L1's CR intercepts (svm_check_intercept)" : "kvm_emulate_insn")
    }
}

/// CR4 bits reserved on every x86-64 CPU KVM runs on (bit 15, bits 25–27, 29–63).
private let cr4ReservedEverywhere: UInt64 = ~UInt64(0xffff_ffff) | (1 << 15) | (7 << 25) | (7 << 29)
/// The guest CPUID feature each CPUID-dependent CR4 bit needs (`x86.c:__cr4_reserved_bits`).
private let cr4BitFeature: [(Int, GuestFeature)] = [
    (11, .umip), (12, .la57), (13, .vmx), (14, .smx), (16, .fsgsbase), (17, .pcid), (18, .xsave), (19, .keylocker),
    (20, .smep), (21, .smap), (22, .pku), (23, .cet), (24, .pks), (28, .lam),
]

extension Evaluator {
    /// A decode-assisted MOV to CR4 L0 performs: `cr_interception` → `kvm_set_cr4`; a value
    /// KVM rejects ends in `kvm_complete_insn_gp` → #GP(0) for the writing level. Decided from
    /// the written value, the guest CPUID and the level's EFER/CR4 where they settle it, else
    /// from the fact `l0.rejects-cr4-write` (a trace states it by the `kvm_inj_exception #GP`
    /// that follows), else forked.
    mutating func cr4WriteHandler(_ exit: HardwareExit, level: GuestLevel) -> Outcome {
        let handler = "svm/svm.c:cr_interception"
        let accepted: (inout Evaluator) -> Outcome = { _ in .l0Handles(handler, level: level, detail: "performs the MOV CR (kvm_cr): kvm_set_cr4 accepts the value") }
        let rejected: (inout Evaluator) -> Outcome = {
            $0.queueException(ExceptionVector.generalProtection, errorCode: 0, level: level, after: exit, by: "x86.c:kvm_complete_insn_gp")
        }
        let registers = registers(of: level)
        var evidence: [Evidence] = [.hex("new CR4", exit.writtenValue)]
        var valid: Bool? = nil
        var why: String? = nil
        if let value = exit.writtenValue?.value {
            valid = true
            if value & cr4ReservedEverywhere != 0 {
                valid = false
                why = "a reserved CR4 bit is set"
            } else {
                for (bit, feature) in cr4BitFeature where value & (1 << UInt64(bit)) != 0 {
                    let has = state.guest.features[feature]
                    evidence.append(.flag("guest CPUID \(feature.rawValue) (CR4 bit \(bit))", has))
                    guard let has else { valid = valid == false ? false : nil; continue }
                    if !has.value {
                        valid = false
                        why = "CR4 bit \(bit) needs guest CPUID \(feature.rawValue) (__cr4_reserved_bits)"
                    }
                }
                // kvm_set_cr4: in long mode CR4.PAE cannot be cleared nor LA57 changed;
                // setting PCIDE needs long mode (and CR3[11:0] = 0, not an input).
                let lma = registers.efer.map { $0.value & RegisterBit.eferLMA != 0 }
                evidence.append(.hex("\(level) EFER", registers.efer))
                if valid != false, lma == true, value & RegisterBit.cr4PAE == 0 {
                    valid = false
                    why = "clears CR4.PAE in long mode"
                }
                if valid != false, let old = registers.cr4?.value {
                    evidence.append(.hex("\(level) CR4 (old)", registers.cr4))
                    if lma == true, (old ^ value) & (1 << 12) != 0 {
                        valid = false
                        why = "changes CR4.LA57 in long mode"
                    } else if value & (1 << 17) != 0, old & (1 << 17) == 0 {
                        if lma == false {
                            valid = false
                            why = "sets CR4.PCIDE outside long mode"
                        } else if valid == true {
                            valid = nil
                            why = "setting CR4.PCIDE needs CR3[11:0] = 0 (CR3 is not an input)"
                        }
                    }
                } else if valid == true, registers.cr4 == nil, lma != false {
                    valid = nil
                    why = "the \(level) CR4 before the write (PAE/LA57/PCIDE transitions) is unknown"
                }
                if valid == true, lma == nil {
                    valid = nil
                    why = "\(level) EFER.LMA is unknown"
                }
            }
        }
        if let valid {
            record(.cr4WriteValid, evidence, valid ? .yes : "no: #GP(0)", note: why)
            return valid ? accepted(&self) : rejected(&self)
        }
        return branch(
            .cr4WriteValid, field: "KVM rejects the CR4 value", fact: FactID.l0RejectsCR4Write, fact(FactID.l0RejectsCR4Write),
            extra: evidence, note: why ?? "the written value is not an input (a trace prints it in kvm_cr only with the exit)",
            yes: rejected, no: accepted)
    }

    /// `kvm_emulate_xsetbv`: #GP(0) when CPL > 0 or `__kvm_set_xcr` rejects ECX / EDX:EAX
    /// (index other than 0, x87 clear, YMM without SSE, BNDREGS without BNDCSR, AVX-512 parts,
    /// bits the guest's CPUID does not support); otherwise XCR0 is written and the instruction
    /// skipped. `written_value` is EDX:EAX, `rcx` the index.
    mutating func xsetbvHandler(_ exit: HardwareExit, level: GuestLevel) -> Outcome {
        let handler = "x86.c:kvm_emulate_xsetbv"
        let accepted: (inout Evaluator) -> Outcome = { evaluator in .l0Handles(handler, level: level, detail: "XCR0 written; \(evaluator.skip)") }
        let rejected: (inout Evaluator) -> Outcome = {
            $0.queueException(ExceptionVector.generalProtection, errorCode: 0, level: level, after: exit, by: handler)
        }
        let cpl = registers(of: level).cpl
        let evidence: [Evidence] = [
            Evidence(field: "\(level) CPL", value: cpl.map { "\($0.value)" }, source: cpl?.source),
            .hex("ECX (XCR index)", exit.rcx), .hex("EDX:EAX (new XCR0)", exit.writtenValue),
        ]
        var reason: String?
        if let cpl, cpl.value != 0 { reason = "CPL \(cpl.value) > 0" }
        if reason == nil, let index = exit.rcx, UInt32(truncatingIfNeeded: index.value) != 0 { reason = "XCR index \(UInt32(truncatingIfNeeded: index.value)) is not XCR0" }
        if reason == nil, let value = exit.writtenValue?.value {
            let fp: UInt64 = 1, sse: UInt64 = 2, ymm: UInt64 = 4, bndregs: UInt64 = 8, bndcsr: UInt64 = 16, avx512: UInt64 = 0xe0
            if value & fp == 0 { reason = "x87 (bit 0) clear" }
            else if value & ymm != 0, value & sse == 0 { reason = "YMM without SSE" }
            else if (value & bndregs == 0) != (value & bndcsr == 0) { reason = "BNDREGS and BNDCSR differ" }
            else if value & avx512 != 0, value & ymm == 0 || value & avx512 != avx512 { reason = "AVX-512 state without YMM or only in part" }
        }
        if let reason {
            record(.xsetbvValid, evidence, "no: #GP(0)", note: reason)
            return rejected(&self)
        }
        // Accepted for certain only at CPL 0, index 0 and x87/SSE alone (always in
        // guest_supported_xcr0 when the guest has XSAVE, and XSETBV exits only then).
        if cpl?.value == 0, exit.rcx.map({ UInt32(truncatingIfNeeded: $0.value) == 0 }) == true,
            let value = exit.writtenValue?.value, value & ~UInt64(3) == 0
        {
            record(.xsetbvValid, evidence, .yes, note: "x87/SSE only: always supported")
            return accepted(&self)
        }
        return branch(
            .xsetbvValid, field: "KVM rejects the XSETBV", fact: FactID.l0RejectsXSETBV, fact(FactID.l0RejectsXSETBV),
            extra: evidence, note: "depends on the inputs above and guest_supported_xcr0 (guest CPUID leaf 0xD)",
            yes: rejected, no: accepted)
    }
}

extension Evaluator {
    /// For a WRMSR L0 emulates with the written value known (`written_value`, EDX:EAX), proves
    /// `l0.rejects-msr[…]` where the value alone settles it: `MSR_IA32_CR_PAT`
    /// (`x86.c:kvm_pat_valid`: every byte a memory type 0, 1, 4, 5, 6 or 7), `MSR_VM_HSAVE_PA`
    /// (`svm/svm.c:svm_set_msr`: `page_address_valid`, page aligned and below 2^guest
    /// MAXPHYADDR), `MSR_EFER` (a bit KVM never allows: `x86.c:kvm_valid_efer`). Other MSRs and
    /// values are left to the stated fact (or the trace's `kvm_msr ... (#GP)`).
    mutating func proveWRMSRValue(_ exit: HardwareExit, msr: UInt32?) {
        guard !exit.isUnknown("exit_info_1"), exit.exitInfo1 & 1 != 0, let msr, let written = exit.writtenValue,
            state.guest.l0RejectsMSR[msr] == nil, fact(FactID.l0RejectsMSR(msr)) == nil
        else { return }
        let value = written.value
        let evidence: [Evidence] = [.event("MSR", Hex.format(msr)), .hex("written value (EDX:EAX)", written)]
        switch msr {
        case 0x277:
            let valid = (0..<8).allSatisfy { [0, 1, 4, 5, 6, 7].contains((value >> UInt64($0 * 8)) & 0xff) }
            prove(FactID.l0RejectsMSR(msr), !valid, by: .wrmsrValue, evidence, note: "kvm_pat_valid: each PAT entry must be UC, WC, WT, WP, WB or UC-")
        case 0xc001_0117:
            if value & RegisterBit.pageOffsetMask != 0 {
                prove(FactID.l0RejectsMSR(msr), true, by: .wrmsrValue, evidence, note: "page_address_valid: VM_HSAVE_PA must be page aligned")
            } else if let bits = state.guest.maxPhysAddr?.value {
                let legal = bits >= 64 || value >> UInt64(bits) == 0
                prove(FactID.l0RejectsMSR(msr), !legal, by: .wrmsrValue, evidence + [Evidence(field: "guest MAXPHYADDR", value: "\(bits)", source: state.guest.maxPhysAddr?.source)],
                      note: "page_address_valid: page aligned and below 2^guest MAXPHYADDR")
            }
        case 0xc000_0080:
            // SCE, LME, LMA, NX, SVME, LMSLE, FFXSR, AUTOIBRS are the only bits KVM can allow.
            let allowed: UInt64 = (1 << 0) | (1 << 8) | (1 << 10) | (1 << 11) | (1 << 12) | (1 << 13) | (1 << 14) | (1 << 21)
            if value & ~allowed != 0 {
                prove(FactID.l0RejectsMSR(msr), true, by: .wrmsrValue, evidence, note: "kvm_valid_efer: a bit KVM never allows is set")
            }
        default:
            return
        }
    }
}
