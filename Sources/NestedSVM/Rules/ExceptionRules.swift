extension Rule {
    /// L0's #UD handler tries the emulator in "trap UD" mode.
    public static let udEmulate = Rule(
        "svm.ud.emulate", "can KVM emulate the #UD instruction (EmulateOnUD, e.g. VMMCALL)?",
        kernel: "x86.c:handle_ud")
    /// L0's #PF handler with shadow paging.
    public static let pfShadow = Rule(
        "svm.pf.shadow", "does L0's shadow MMU resolve the #PF (else it is the guest's own fault)?",
        kernel: "svm/svm.c:pf_interception")
    /// L0's #DB handler.
    public static let dbHandler = Rule(
        "svm.db.guest-debug", "does the VMM debug the guest with KVM_GUESTDBG_SINGLESTEP or USE_HW_BP?",
        kernel: "svm/svm.c:db_interception")
    /// The forced-emulation prefix makes `handle_ud` emulate the instruction after it.
    public static let udForcedEmulation = Rule(
        "svm.ud.forced-emulation", "is kvm.force_emulation_prefix set (then handle_ud skips ud2;\"kvm\" and emulates what follows)?",
        kernel: "x86.c:handle_ud")
    /// An exception queued while the event of exit_int_info is re-queued: #DF or triple fault.
    public static let exceptionMerge = Rule(
        "svm.exception.merge", "does the new exception meet the exception in flight (exit_int_info): #DF, or triple fault after #DF?",
        kernel: "x86.c:kvm_multiple_exception")
    /// L0's own single-step over an NMI window swallows the #DB.
    public static let dbNMISingleStep = Rule(
        "svm.db.nmi-singlestep", "is the #DB L0's own single-step over an NMI window (nmi_singlestep)?",
        kernel: "svm/svm.c:db_interception")
    /// Other exceptions in L0's bitmap.
    public static let exceptionHandler = Rule(
        "svm.l0.exception-handler", "what does L0's handler for this vector do?",
        kernel: "svm/svm.c:svm_invoke_exit_handler")
}

extension Evaluator {
    /// L0's handler for an exception exit in its own bitmap, for L2 or L1.
    mutating func l0ExceptionHandler(vector: UInt8, exit: HardwareExit, level: GuestLevel) -> Outcome {
        switch vector {
        case ExceptionVector.invalidOpcode:
            return udHandler(exit, level: level)
        case ExceptionVector.generalProtection:
            return gpHandler(exit, level: level)
        case ExceptionVector.pageFault:
            if let walk = guestWalkFaults(exit, level: level) {
                // The guest's own page tables are known: its walk decides (else L0's shadow is stale).
                record(
                    .pfShadow, [.event("exit_info_1 (error code)", Hex.format(exit.exitInfo1)), .event("exit_info_2 (address)", Hex.format(exit.exitInfo2)),
                                .flag("\(level) page-table walk faults", walk)],
                    .from(!walk.value), note: "the guest's walk decides: a fault is the guest's own, else L0's shadow MMU resolves it")
                if walk.value {
                    return queueException(ExceptionVector.pageFault, errorCode: UInt32(truncatingIfNeeded: exit.exitInfo1), level: level, after: exit, by: "mmu/mmu.c:kvm_handle_page_fault")
                }
                return .l0Handles("mmu/mmu.c:kvm_handle_page_fault", level: level, detail: "kvm_page_fault; the guest re-executes")
            }
            record(
                .pfShadow, [.event("exit_info_1 (error code)", Hex.format(exit.exitInfo1)), .event("exit_info_2 (address)", Hex.format(exit.exitInfo2))],
                .unknown, note: "depends on L0's shadow page tables and the guest's tables, which are not inputs")
            return fork(missing: ["L0 shadow MMU state"], [
                Branch("L0's shadow MMU resolves the fault", [FactID.l0ShadowMMUResolves: true], { _ in .l0Handles("mmu/mmu.c:kvm_handle_page_fault", level: level, detail: "kvm_page_fault; the guest re-executes") }),
                Branch("the fault is the guest's own", [FactID.l0ShadowMMUResolves: false], { $0.queueException(ExceptionVector.pageFault, errorCode: UInt32(truncatingIfNeeded: exit.exitInfo1), level: level, after: exit, by: "mmu/mmu.c:kvm_handle_page_fault") }),
            ])
        case ExceptionVector.debug:
            return branch(
                .dbHandler, field: "host guest debugging", fact: FactID.hostGuestDebug, host.guestDebug,
                yes: { _ in .userspaceExit("svm/svm.c:db_interception", detail: "KVM_EXIT_DEBUG (or L0 single-step bookkeeping)") },
                no: { evaluator in
                    // Not debugged by the VMM: the #DB is the guest's unless L0 set TF itself
                    // to step over an NMI window (svm_enable_nmi_window), which it clears and
                    // swallows.
                    evaluator.branch(
                        .dbNMISingleStep, field: "L0 single-steps over an NMI window", fact: FactID.nmiSingleStep,
                        evaluator.fact(FactID.nmiSingleStep),
                        note: "set only while an NMI is pending but blocked and vNMI is not used",
                        yes: { _ in .l0Handles("svm/svm.c:db_interception", level: level, detail: "disable_nmi_singlestep: the #DB was L0's own step over the NMI window; no #DB reaches \(level), pending NMIs are checked again") },
                        no: { $0.queueException(ExceptionVector.debug, errorCode: nil, level: level, after: exit, by: "svm/svm.c:db_interception") })
                })
        case ExceptionVector.breakpoint:
            record(.exceptionHandler, [.event("vector", "#BP")], "svm/svm.c:bp_interception")
            return .userspaceExit("svm/svm.c:bp_interception", detail: "KVM_EXIT_DEBUG")
        case ExceptionVector.alignmentCheck:
            record(.exceptionHandler, [.event("vector", "#AC")], "svm/svm.c:ac_interception: re-queue #AC(0)")
            return queueException(ExceptionVector.alignmentCheck, errorCode: 0, level: level, after: exit, by: "svm/svm.c:ac_interception")
        case ExceptionVector.machineCheck:
            record(.exceptionHandler, [.event("vector", "#MC")], "svm/svm.c:mc_interception: nothing")
            return .l0Handles("svm/svm.c:mc_interception", level: level, detail: "the machine check was handled on exit (svm_handle_mce)")
        default:
            record(
                .exceptionHandler, [.event("vector", ExceptionVector.name(vector))], "svm/svm.c:svm_handle_invalid_exit",
                note: "L0 never intercepts this vector")
            return .userspaceExit("svm/svm.c:svm_handle_invalid_exit", detail: "KVM_EXIT_INTERNAL_ERROR")
        }
    }

    /// `ud_interception` → `handle_ud`: VMMCALL is emulated (and, with the default
    /// `KVM_X86_QUIRK_FIX_HYPERCALL_INSN`, patched to VMMCALL and restarted); anything
    /// else KVM cannot emulate on #UD re-queues #UD.
    mutating func udHandler(_ exit: HardwareExit, level: GuestLevel) -> Outcome {
        let livelock = Outcome.l0Handles(
            "x86.c:handle_ud", level: level,
            detail: "emulate.c:em_hypercall rewrites the VMMCALL in place (KVM_X86_QUIRK_FIX_HYPERCALL_INSN) and restarts it: it #UDs again, forever; no #UD reaches \(level), nothing reaches L1")
        let note: String? = {
            guard level == .l2, exit.instructionBytes.flatMap(SVMInstruction.init(bytes:)) == .vmmcall || exit.instructionBytes == nil else { return nil }
            if profile.vmmcallFromL2 == .udEmulationLivelock {
                return "profile \(profile.name): vmcb02 lacks the VMMCALL intercept (recalc_intercepts), so an L2 VMMCALL L1 does not intercept arrives here — the 6.1 livelock"
            }
            return "profile \(profile.name): vmcb02 keeps L0's VMMCALL intercept, so an L2 VMMCALL exits as `hypercall`, never as #UD"
        }()
        // 6.12+: recalc_intercepts no longer drops INTERCEPT_VMMCALL from vmcb02, and the
        // intercept takes priority over VMMCALL's #UD: an L2 VMMCALL cannot make a #UD exit.
        let l2VMMCALL: Outcome? = level == .l2 && profile.vmmcallFromL2 != .udEmulationLivelock
            ? .noExit(level: .l2, detail: "vmcb02 intercepts VMMCALL (svm/svm.c:init_vmcb, kept by recalc_intercepts): the CPU exits with VMEXIT_VMMCALL, not #UD", handler: "svm/nested.c:recalc_intercepts")
            : nil
        guard let bytes = exit.instructionBytes, !bytes.isEmpty else {
            record(.udEmulate, [Evidence(field: "instruction bytes", value: nil)], .unknown, note: note)
            return fork(missing: ["instruction bytes"], [
                Branch("the instruction is VMMCALL (0f 01 d9)", [FactID.instruction("vmmcall"): true], { _ in l2VMMCALL ?? livelock }),
                Branch("KVM cannot emulate the instruction on #UD", [FactID.instruction("vmmcall"): false], { $0.queueException(ExceptionVector.invalidOpcode, errorCode: nil, level: level, after: exit, by: "x86.c:handle_ud") }),
            ])
        }
        if let emulated = Self.afterForcedEmulationPrefix(bytes) {
            return forcedEmulation(emulated, exit: exit, level: level)
        }
        let instruction = SVMInstruction(bytes: bytes)
        if instruction == .vmmcall {
            if let l2VMMCALL {
                record(.udEmulate, [.event("instruction bytes", bytes.hexBytes), .profile("vmcb02 VMMCALL intercept", "kept", profile)], "no: VMMCALL in L2 exits as hypercall, never #UD", note: note)
                return l2VMMCALL
            }
            record(.udEmulate, [.event("instruction bytes", bytes.hexBytes)], "VMMCALL: emulated on #UD", note: note)
            guard level == .l2 else { return livelock }
            // In guest mode the emulator first asks whether L1 intercepts VMMCALL (POST_EXCEPT).
            return branch(
                .emulatorIntercept, field: InterceptWords.fieldName(ofBit: InterceptBit.vmmcall), fact: FactID.intercept(InterceptBit.vmmcall), l1Intercepts(InterceptBit.vmmcall),
                yes: { _ in
                    .reflect(.vmmcall, info1: exit.exitInfo1, info2: exit.exitInfo2, handler: "svm/svm.c:svm_check_intercept",
                             detail: "emulator intercept: reason hypercall after a UD excp exit")
                },
                no: { _ in livelock })
        }
        if Self.emulatesOnUD(bytes) {
            record(
                .udEmulate, [.event("instruction bytes", bytes.hexBytes)], .unknown,
                note: "an EmulateOnUD instruction (VMCALL, SYSCALL, SYSENTER, SYSEXIT, RSM, RDPID, MOVBE): the result depends on mode and guest CPUID")
            return fork(missing: ["emulator result for \(bytes.hexBytes)"], [
                Branch("the emulator executes it", [FactID.emulatorExecutesOnUD: true], { _ in .emulate("x86.c:handle_ud", level: level, detail: "emulated on #UD") }),
                Branch("the emulator rejects it", [FactID.emulatorExecutesOnUD: false], { $0.queueException(ExceptionVector.invalidOpcode, errorCode: nil, level: level, after: exit, by: "x86.c:handle_ud") }),
            ])
        }
        record(.udEmulate, [.event("instruction bytes", bytes.hexBytes)], .no, note: "emulation fails: #UD is re-queued")
        return queueException(ExceptionVector.invalidOpcode, errorCode: nil, level: level, after: exit, by: "x86.c:handle_ud")
    }

    /// Whether `bytes` start an instruction the emulator marks EmulateOnUD other than VMMCALL
    /// (`emulate.c` opcode tables: VMCALL `0f 01 c1`, SYSCALL `0f 05`, SYSENTER `0f 34`,
    /// SYSEXIT `0f 35`, RSM `0f aa`, RDPID `0f c7 /7`, MOVBE `0f 38 f0/f1`).
    static func emulatesOnUD(_ bytes: [UInt8]) -> Bool {
        guard let start = SVMInstruction.opcodeStart(bytes), bytes.count > start + 1, bytes[start] == 0x0f else { return false }
        let rest = Array(bytes[(start + 1)...])
        switch rest.first {
        case 0x05, 0x34, 0x35, 0xaa: return true
        case 0xc7: return rest.count > 1 && rest[1] & 0xf8 == 0xf8  // RDPID: 0f c7 /7, register form
        case 0x01: return rest.count > 1 && rest[1] == 0xc1
        case 0x38: return rest.count > 1 && (rest[1] == 0xf0 || rest[1] == 0xf1)
        default: return false
        }
    }

    /// The forced-emulation prefix `ud2; .ascii "kvm"` (`__KVM_EMULATE_PREFIX`).
    static let forcedEmulationPrefix: [UInt8] = [0x0f, 0x0b, 0x6b, 0x76, 0x6d]

    /// The instruction bytes after the forced-emulation prefix, if `bytes` start with it.
    static func afterForcedEmulationPrefix(_ bytes: [UInt8]) -> [UInt8]? {
        guard bytes.count >= forcedEmulationPrefix.count, Array(bytes.prefix(forcedEmulationPrefix.count)) == forcedEmulationPrefix else {
            return nil
        }
        return Array(bytes.dropFirst(forcedEmulationPrefix.count))
    }

    /// `handle_ud` on the forced-emulation prefix: with `force_emulation_prefix` L0 skips the
    /// prefix and emulates what follows (`EMULTYPE_TRAP_UD_FORCED`); in guest mode the emulator
    /// asks `svm_check_intercept` whether L1 intercepts that instruction. Without it the UD2
    /// cannot be emulated and the #UD is re-queued.
    mutating func forcedEmulation(_ bytes: [UInt8], exit: HardwareExit, level: GuestLevel) -> Outcome {
        let handler = "x86.c:handle_ud"
        return branch(
            .udForcedEmulation, field: "host force_emulation_prefix", fact: FactID.hostForceEmulationPrefix, host.forceEmulationPrefix,
            extra: [.event("instruction bytes", (Self.forcedEmulationPrefix + bytes).hexBytes)],
            note: "kvm.force_emulation_prefix is a module parameter (0 by default); kvm-unit-tests' fep_supported and the selftests' is_forced_emulation_enabled read it",
            yes: { evaluator in
                guard level == .l2 else {
                    return .emulate(handler, level: level, detail: "forced emulation of \(bytes.hexBytes) (EMULTYPE_TRAP_UD_FORCED)")
                }
                return evaluator.emulateInGuestMode(bytes, exit: exit)
            },
            no: { $0.queueException(ExceptionVector.invalidOpcode, errorCode: nil, level: level, after: exit, by: handler) })
    }

    /// `kvm_multiple_exception` for an exception L0's handler queues while the exception of
    /// exit_int_info is re-queued (`svm_complete_interrupts` → `kvm_requeue_exception` before
    /// the handler runs). In guest mode an exception L1 intercepts becomes its #VMEXIT first
    /// (not merged: `nil`, the caller's path reflects it). Otherwise: the in-flight event was
    /// #DF → triple fault (`KVM_REQ_TRIPLE_FAULT`: L2's → SHUTDOWN #VMEXIT if L1 intercepts
    /// it, else `KVM_EXIT_SHUTDOWN`); both contributory, or #PF then a non-benign one → #DF(0);
    /// else the new exception replaces the old. `nil` when no exception is in flight (an
    /// unknown exit_int_info counts as none, as for re-injection).
    mutating func mergeWithInFlight(_ vector: UInt8, errorCode: UInt32?, level: GuestLevel, after exit: HardwareExit, by handler: String) -> Outcome? {
        let info = exit.exitIntInfo
        guard !exit.isUnknown("exit_int_info"), info & EventInjection.validBit != 0, (info & EventInjection.typeMask) >> 8 == 3 else { return nil }
        let previous = UInt8(info & 0xff)
        func kind(_ v: UInt8) -> Int {
            switch v {
            case 0, 10, 11, 12, 13: return 1  // contributory
            case 14: return 2  // page fault
            default: return 0  // benign
            }
        }
        let merged: (inout Evaluator) -> Outcome = { evaluator in
            let evidence: [Evidence] = [
                .event("in flight (exit_int_info)", ExceptionVector.name(previous)), .event("queued", ExceptionVector.name(vector)),
            ]
            if previous == doubleFaultVector {
                evaluator.record(.exceptionMerge, evidence, "triple fault", note: "a fault while delivering #DF shuts the vCPU down")
                return level == .l2
                    ? evaluator.decidePending(.tripleFault, after: exit)
                    : .userspaceExit("x86.c:kvm_check_request", detail: "KVM_EXIT_SHUTDOWN (triple fault in L1)")
            }
            let (p, n) = (kind(previous), kind(vector))
            if (p == 1 && n == 1) || (p == 2 && n != 0) {
                evaluator.record(.exceptionMerge, evidence, "#DF(0)", note: "contributory after contributory, or non-benign after #PF")
                return level == .l2
                    ? evaluator.decidePending(.exception(vector: doubleFaultVector, errorCode: 0), after: exit)
                    : .inject(doubleFaultVector, errorCode: 0, into: .l1, handler: "x86.c:kvm_multiple_exception", detail: "kvm_inj_exception #DF")
            }
            evaluator.record(.exceptionMerge, evidence, "no: the new exception replaces the old", note: "benign combination")
            return level == .l2
                ? evaluator.decidePending(.exception(vector: vector, errorCode: errorCode), after: exit)
                : .inject(vector, errorCode: errorCode, into: .l1, handler: handler, detail: "kvm_inj_exception")
        }
        guard level == .l2 else { return merged(&self) }
        let bit = InterceptBit.exceptionOffset + Int(vector)
        switch l1Intercepts(bit)?.value {
        case true?: return nil
        case false?: return merged(&self)
        case nil:
            return fork(missing: [InterceptWords.fieldName(ofBit: bit)], [
                Branch("L1 intercepts \(ExceptionVector.name(vector)): its #VMEXIT, no merge", [FactID.intercept(bit): true], {
                    $0.decidePending(.exception(vector: vector, errorCode: errorCode), after: exit)
                }),
                Branch("L1 does not intercept \(ExceptionVector.name(vector)): merged with the exception in flight", [FactID.intercept(bit): false], merged),
            ])
        }
    }
}

/// `DF_VECTOR`.
let doubleFaultVector: UInt8 = 8
