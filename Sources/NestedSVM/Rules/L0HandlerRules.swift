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
        case VMExitCode.xsetbv.rawValue: return handled("x86.c:kvm_emulate_xsetbv", "#GP for an invalid XCR0")
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
            return .l0Handles(handler, level: level, detail: "performs the MOV CR (kvm_cr)")
        }
        return .emulate(
            "svm/svm.c:emulate_on_interception", level: level,
            detail: level == .l2 ? "kvm_emulate_insn; the emulator re-checks L1's CR intercepts (svm_check_intercept)" : "kvm_emulate_insn")
    }
}
