extension Rule {
    /// Whether L0 emulates the faulting instruction after an NPF it keeps.
    public static let npfEmulation = Rule(
        "svm.npf.emulation", "does L0 emulate the faulting instruction (MMIO) rather than just map the page?",
        kernel: "mmu/mmu.c:kvm_mmu_page_fault")
    /// The emulator's `Prot`/`Priv` and `check_perm` checks for SVM instructions.
    public static let emulatorChecks = Rule(
        "svm.emulator.svm-insn-checks", "does the emulator's permission check pass (CPL 0; check_svme_pa / check_svme)?",
        kernel: "emulate.c:check_svme_pa")
    /// The emulator asks whether L1 intercepts the instruction (POST_EXCEPT stage).
    public static let emulatorIntercept = Rule(
        "svm.emulator.intercept", "does L1 intercept the emulated instruction (svm_check_intercept, POST_EXCEPT)?",
        kernel: "svm/svm.c:svm_check_intercept")
    /// SVM instructions other than VMMCALL have no execute handler in the emulator.
    public static let emulatorNoHandler = Rule(
        "svm.emulator.no-handler", "can the emulator execute it (only VMMCALL has a handler)?",
        kernel: "x86.c:handle_emulation_failure")
}

/// RAX bits 63:48 that `emulate.c:check_svme_pa` rejects in 6.1/6.12 (a fixed 48-bit limit).
let checkSVMEPAMask: UInt64 = 0xffff_0000_0000_0000

extension Evaluator {
    /// An L2 NPF that L0 keeps, for an instruction whose bytes are known to be an SVM
    /// instruction: L0 either maps the page or emulates the instruction.
    mutating func npfOnSVMInstruction(_ instruction: SVMInstruction, exit: HardwareExit, fixed: Outcome) -> Outcome {
        record(
            .npfEmulation, [.event("instruction", instruction.description), .event("exit_info_2 (GPA)", Hex.format(exit.exitInfo2))],
            .unknown, note: "whether the GPA is MMIO (emulation) is L0's memory map, not an input")
        return fork(missing: ["whether L0 emulates (MMIO at the faulting GPA)"], [
            Branch("L0 maps the page and L2 retries", [FactID.l0EmulatesAtNPF: false], { _ in fixed }),
            Branch("L0 emulates the instruction", [FactID.l0EmulatesAtNPF: true], { $0.emulateSVMInstruction(instruction, exit: exit) }),
        ])
    }

    /// `x86_emulate_insn` for an SVM instruction in guest mode: Priv → check_perm →
    /// POST_EXCEPT intercept → (no handler) emulation failure.
    mutating func emulateSVMInstruction(_ instruction: SVMInstruction, exit: HardwareExit) -> Outcome {
        let gp: (inout Evaluator) -> Outcome = {
            $0.queueException(ExceptionVector.generalProtection, errorCode: 0, level: .l2, after: exit, by: "emulate.c:x86_emulate_insn")
        }
        let ud: (inout Evaluator) -> Outcome = {
            $0.queueException(ExceptionVector.invalidOpcode, errorCode: nil, level: .l2, after: exit, by: "emulate.c:check_svme")
        }
        let intercept: (inout Evaluator) -> Outcome = { $0.emulatorIntercept(instruction, exit: exit) }
        if instruction == .vmmcall { return intercept(&self) }
        let registers = state.l2
        var evidence: [Evidence] = [
            Evidence(field: "L2 CPL", value: registers.cpl.map { "\($0.value)" }, source: registers.cpl?.source),
            .flag("L2 EFER.SVME", registers.efer.map { Known($0.value & RegisterBit.eferSVME != 0, source: $0.source) }),
        ]
        let paChecked = [.vmrun, .vmload, .vmsave].contains(instruction)
        if paChecked {
            evidence.append(.hex("RAX", exit.rax))
            evidence.append(.profile("emulator RAX check", profile.emulatorRAXCheck.rawValue, profile))
        }
        // Priv: CPL > 0 → #GP.
        guard let cpl = registers.cpl else {
            record(.emulatorChecks, evidence, .unknown)
            return fork(missing: ["L2 CPL"], [
                Branch("L2 CPL > 0", [FactID.cpl0(.l2): false], gp),
                Branch("L2 CPL = 0", [FactID.cpl0(.l2): true], { $0.emulatorCheckPerm(instruction, exit: exit, paChecked: paChecked, gp: gp, ud: ud, then: intercept) }),
            ])
        }
        if cpl.value != 0 {
            record(.emulatorChecks, evidence, "no: #GP(0) (Priv)")
            return gp(&self)
        }
        record(.emulatorChecks, evidence, "CPL 0")
        return emulatorCheckPerm(instruction, exit: exit, paChecked: paChecked, gp: gp, ud: ud, then: intercept)
    }

    private mutating func emulatorCheckPerm(
        _ instruction: SVMInstruction, exit: HardwareExit, paChecked: Bool, gp: @escaping (inout Evaluator) -> Outcome,
        ud: @escaping (inout Evaluator) -> Outcome, then: @escaping (inout Evaluator) -> Outcome
    ) -> Outcome {
        let svme: (inout Evaluator) -> Outcome = { evaluator in
            let flag = evaluator.state.l2.efer.map { Known($0.value & RegisterBit.eferSVME != 0, source: $0.source) }
            guard let flag else {
                return evaluator.fork(missing: ["L2 EFER.SVME"], [
                    Branch("L2 EFER.SVME is 0", [FactID.eferSVME(.l2): false], ud),
                    Branch("L2 EFER.SVME is 1", [FactID.eferSVME(.l2): true], then),
                ])
            }
            return flag.value ? then(&evaluator) : ud(&evaluator)
        }
        guard paChecked else { return svme(&self) }
        switch profile.emulatorRAXCheck {
        case .unverified:
            return fork(missing: ["the emulator's RAX check in kvm-x86 c85aaff2 (unverified)"], [
                Branch("the emulator rejects this RAX", [FactID.emulatorRejectsRAX: true], gp),
                Branch("the emulator accepts this RAX", [FactID.emulatorRejectsRAX: false], svme),
            ])
        case .bits63to48:
            guard let rax = exit.rax else {
                return fork(missing: ["RAX"], [
                    Branch("RAX has a bit of 63:48 set", [FactID.raxBits63to48Clear: false], gp),
                    Branch("RAX bits 63:48 are all clear", [FactID.raxBits63to48Clear: true], svme),
                ])
            }
            return rax.value & checkSVMEPAMask != 0 ? gp(&self) : svme(&self)
        }
    }

    private mutating func emulatorIntercept(_ instruction: SVMInstruction, exit: HardwareExit) -> Outcome {
        let code = instruction.exitCode
        let bit = Int(code.rawValue)
        return branch(
            .emulatorIntercept, field: InterceptWords.fieldName(ofBit: bit), fact: FactID.intercept(bit), l1Intercepts(bit),
            note: "the #VMEXIT carries the emulator's exit code; the info fields stay as the original exit left them",
            yes: { _ in
                .reflect(code, info1: exit.exitInfo1, info2: exit.exitInfo2, handler: "svm/svm.c:svm_check_intercept",
                         detail: "emulator intercept: reason \(code.name ?? "") after a \(exit.exitCode.name ?? "") exit")
            },
            no: { evaluator in
                if instruction == .vmmcall {
                    evaluator.record(.emulatorNoHandler, [.event("instruction", "VMMCALL")], "em_hypercall")
                    return .emulate("emulate.c:em_hypercall", level: .l2, detail: "patches the hypercall instruction and restarts it")
                }
                evaluator.record(.emulatorNoHandler, [.event("instruction", instruction.description)], "no: emulation fails")
                return evaluator.queueException(ExceptionVector.invalidOpcode, errorCode: nil, level: .l2, after: exit, by: "x86.c:handle_emulation_failure")
            })
    }
}

extension Rule {
    /// The emulator checks L1's CR intercept for a MOV to/from CR it emulates in guest mode.
    public static let emulatorCRIntercept = Rule(
        "svm.emulator.cr-intercept", "does L1 intercept the CR access the emulator is about to execute (svm_check_intercept)?",
        kernel: "svm/svm.c:svm_check_intercept")
}

/// A MOV to or from a control register (`0f 20 /r` read, `0f 22 /r` write; REX.R adds 8).
public struct CRMove: Sendable, Equatable {
    /// The control register number.
    public var cr: Int
    /// MOV to CR (else from CR).
    public var write: Bool

    /// A move of CR `cr` in the given direction.
    public init(cr: Int, write: Bool) {
        self.cr = cr
        self.write = write
    }

    /// Decodes `bytes` (as `kvm_emulate_insn` prints them); `nil` for any other instruction.
    public init?(bytes: [UInt8]) {
        guard let start = SVMInstruction.opcodeStart(bytes), bytes.count > start + 2, bytes[start] == 0x0f,
            bytes[start + 1] == 0x20 || bytes[start + 1] == 0x22
        else { return nil }
        let rexR = start > 0 && (0x40...0x4f).contains(bytes[start - 1]) && bytes[start - 1] & 0x4 != 0
        cr = Int((bytes[start + 2] >> 3) & 7) + (rexR ? 8 : 0)
        write = bytes[start + 1] == 0x22
    }
}

extension Evaluator {
    /// An L2 NPF L0 keeps on a MOV to/from CR (kvm-unit-tests puts it on an MMIO page): if L0
    /// emulates, `x86_emulate_insn` calls `svm_check_intercept` (CHECK_INTERCEPT at the
    /// instruction's stage), which turns the access into the matching CR exit and reflects it
    /// when L1 intercepts that CR (`nested_svm_exit_handled`); otherwise the emulator executes it.
    /// The reflected exit keeps the NPF's exit_info_1/2 (svm_check_intercept does not set them
    /// for CR accesses).
    mutating func npfOnCRMove(_ move: CRMove, exit: HardwareExit, fixed: Outcome) -> Outcome {
        record(
            .npfEmulation, [.event("instruction", "MOV \(move.write ? "to" : "from") CR\(move.cr)"), .event("exit_info_2 (GPA)", Hex.format(exit.exitInfo2))],
            .unknown, note: "whether the GPA is MMIO (emulation) is L0's memory map, not an input")
        let emulated: (inout Evaluator) -> Outcome = { $0.emulatedCRAccess(move, exit: exit, original: "NPF") }
        return fork(missing: ["whether L0 emulates (MMIO at the faulting GPA)"], [
            Branch("L0 maps the page and L2 retries", [FactID.l0EmulatesAtNPF: false], { _ in fixed }),
            Branch("L0 emulates the instruction", [FactID.l0EmulatesAtNPF: true], emulated),
        ])
    }
}

extension Rule {
    /// LMSW and MOV to CR0 in the emulator: the CR0-write intercept, then the selective one.
    public static let emulatorCR0Write = Rule(
        "svm.emulator.cr0-write", "which CR0 intercept of L1 does the emulated CR0 write meet (CR0 write, else selective: LMSW always, MOV when bits other than TS/MP change)?",
        kernel: "svm/svm.c:svm_check_intercept")
    /// An emulated instruction the model has no intercept mapping for.
    public static let emulatorOtherInstruction = Rule(
        "svm.emulator.other-insn", "does L1 intercept the emulated instruction (svm_check_intercept)?",
        kernel: "svm/svm.c:svm_check_intercept")
}

extension Evaluator {
    /// A MOV to/from CR the emulator runs in guest mode (at an MMIO NPF or after the
    /// forced-emulation prefix): `svm_check_intercept` turns it into the matching CR exit and
    /// reflects it when L1 intercepts that CR (`nested_svm_exit_handled`); a CR0 write L1 does
    /// not intercept outright may still meet the selective CR0 intercept. Otherwise the emulator
    /// executes it. The reflected exit keeps the original exit's exit_info_1/2
    /// (`svm_check_intercept` does not set them for CR accesses).
    mutating func emulatedCRAccess(_ move: CRMove, exit: HardwareExit, original: String = "original exit") -> Outcome {
        let executes = Outcome.emulate(
            "emulate.c:x86_emulate_insn", level: .l2,
            detail: "svm_check_intercept: L1 does not intercept the access; the emulator executes the MOV \(move.write ? "to" : "from") CR\(move.cr)")
        let code = VMExitCode(UInt32((move.write ? 0x10 : 0x00) + move.cr))
        let reflect = Outcome.reflect(
            code, info1: exit.exitInfo1, info2: exit.exitInfo2, handler: "svm/svm.c:svm_check_intercept",
            detail: "emulator intercept (CHECK_INTERCEPT): exit_info_1/2 are left as the \(original) set them")
        let bit = (move.write ? 16 : 0) + move.cr
        return branch(
            .emulatorCRIntercept, field: InterceptWords.fieldName(ofBit: bit), l1Intercepts(bit),
            yes: { _ in reflect },
            no: { evaluator in
                // Only a CR0 write can still meet the selective CR0 intercept.
                guard move.write, move.cr == 0 else { return executes }
                return evaluator.emulatedSelectiveCR0(lmsw: false, exit: exit, executes: executes)
            })
    }

    /// LMSW in the emulator (guest mode): L1's CR0-write intercept ranks first (exit
    /// `write_cr0`), then the selective one, which LMSW always triggers
    /// (`svm_check_intercept`: "LMSW always triggers INTERCEPT_SELECTIVE_CR0").
    mutating func emulatedLMSW(exit: HardwareExit) -> Outcome {
        let executes = Outcome.emulate("emulate.c:em_lmsw", level: .l2, detail: "svm_check_intercept: L1 intercepts no CR0 write; the emulator executes LMSW")
        return branch(
            .emulatorCR0Write, field: InterceptWords.fieldName(ofBit: 16), l1Intercepts(16),
            yes: { _ in
                .reflect(.writeCR0, info1: exit.exitInfo1, info2: exit.exitInfo2, handler: "svm/svm.c:svm_check_intercept",
                         detail: "emulator intercept: the CR0-write intercept ranks above the selective one")
            },
            no: { $0.emulatedSelectiveCR0(lmsw: true, exit: exit, executes: executes) })
    }

    /// The selective CR0 intercept for an emulated CR0 write L1 does not intercept outright.
    private mutating func emulatedSelectiveCR0(lmsw: Bool, exit: HardwareExit, executes: Outcome) -> Outcome {
        let selectiveExit = Outcome.reflect(
            .cr0SelectiveWrite, info1: exit.exitInfo1, info2: exit.exitInfo2, handler: "svm/svm.c:svm_check_intercept",
            detail: lmsw ? "emulator intercept: LMSW always triggers the selective CR0 intercept" : "emulator intercept: the MOV to CR0 changes bits other than TS/MP")
        return branch(
            .emulatorCRIntercept, field: InterceptWords.fieldName(ofBit: InterceptBit.selectiveCR0), l1Intercepts(InterceptBit.selectiveCR0),
            yes: { evaluator in
                if lmsw { return selectiveExit }
                // Bits other than TS/MP changed? Known with L2's CR0 and the written value.
                if let old = evaluator.state.l2.cr0, let new = exit.writtenValue {
                    let changes = (old.value ^ new.value) & ~RegisterBit.cr0SelectiveMask != 0
                    evaluator.record(
                        .emulatorCR0Write, [.hex("L2 CR0 (old)", old), .hex("new CR0", new)], .from(changes),
                        note: "SVM_CR0_SELECTIVE_MASK = TS|MP")
                    return changes ? selectiveExit : executes
                }
                return evaluator.fork(missing: ["CR0 bits the write changes"], [
                    Branch("the write changes bits other than TS/MP", ["cr0-write.changes-other-bits": true], { _ in selectiveExit }),
                    Branch("the write changes only TS/MP", ["cr0-write.changes-other-bits": false], { _ in executes }),
                ])
            },
            no: { _ in executes })
    }

    /// The instruction after the forced-emulation prefix, emulated while L2 runs:
    /// `x86_emulate_insn` calls `svm_check_intercept` at the instruction's intercept stage.
    mutating func emulateInGuestMode(_ bytes: [UInt8], exit: HardwareExit) -> Outcome {
        if let move = CRMove(bytes: bytes) { return emulatedCRAccess(move, exit: exit) }
        if Self.isLMSW(bytes) { return emulatedLMSW(exit: exit) }
        if let instruction = SVMInstruction(bytes: bytes) { return emulateSVMInstruction(instruction, exit: exit) }
        record(
            .emulatorOtherInstruction, [.event("instruction bytes", bytes.hexBytes)], .unknown,
            note: "the model maps MOV CR, LMSW and the SVM instructions to their intercepts; not this one")
        return .undetermined([], missing: ["which L1 intercept svm_check_intercept checks for \(bytes.hexBytes)"])
    }
}
