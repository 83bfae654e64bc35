extension Rule {
    /// A #GP with a non-zero error code is never the SVM-instruction erratum.
    public static let gpErrorCode = Rule(
        "svm.gp.error-code", "is the #GP error code (exit_info_1) zero?", kernel: "svm/svm.c:gp_interception")
    /// Only VMRUN/VMLOAD/VMSAVE are handled on the #GP path.
    public static let gpDecode = Rule(
        "svm.gp.decode", "does the faulting instruction decode as VMRUN, VMLOAD or VMSAVE (0f 01 d8/da/db)?",
        kernel: "svm/svm.c:svm_instr_opcode")
    /// 2026 series: L2's permissions are checked before the RAX check.
    public static let gpPermissions = Rule(
        "svm.gp.permissions", "may L2 execute SVM instructions (EFER.SVME, CR0.PG, CPL 0)?",
        kernel: "svm/nested.c:nested_svm_check_permissions")
    /// RAX check on the #GP path, per profile.
    public static let gpRAXCheck = Rule(
        "svm.gp.rax-check", "does RAX pass the #GP path's address check?", kernel: "svm/svm.c:gp_interception")
    /// In guest mode the #GP path synthesizes the instruction's #VMEXIT without asking L1.
    public static let gpL2VMExit = Rule(
        "svm.gp.l2-vmexit", "L2 executed it: synthesize its #VMEXIT to L1 (L1's intercept bits are not consulted)",
        kernel: "svm/svm.c:emulate_svm_instr")
    /// For L1 the #GP path calls the normal intercept handler.
    public static let gpL1Dispatch = Rule(
        "svm.gp.l1-dispatch", "L1 executed it: run the instruction's intercept handler", kernel: "svm/svm.c:emulate_svm_instr")
}

extension Evaluator {
    /// `gp_interception` (the erratum / VMware-backdoor #GP intercept) for `level`.
    mutating func gpHandler(_ exit: HardwareExit, level: GuestLevel) -> Outcome {
        let errorCode = UInt32(truncatingIfNeeded: exit.exitInfo1)
        record(.gpErrorCode, [.event("exit_info_1", Hex.format(exit.exitInfo1))], .from(errorCode == 0))
        if errorCode != 0 {
            return queueException(ExceptionVector.generalProtection, errorCode: errorCode, level: level, after: exit, by: "svm/svm.c:gp_interception")
        }
        guard let bytes = exit.instructionBytes, !bytes.isEmpty else {
            record(.gpDecode, [Evidence(field: "instruction bytes", value: nil)], .unknown)
            var branches: [Branch] = [SVMInstruction.vmrun, .vmload, .vmsave].map { instruction in
                Branch("the instruction is \(instruction)", [FactID.instruction(instruction.description): true], { $0.gpSVMInstruction(instruction, exit: exit, level: level) })
            }
            branches.append(Branch(
                "it is not VMRUN, VMLOAD or VMSAVE",
                [FactID.instruction("vmrun"): false, FactID.instruction("vmload"): false, FactID.instruction("vmsave"): false],
                { $0.gpOtherInstruction(exit, level: level) }))
            return fork(missing: ["instruction bytes"], branches)
        }
        let instruction = SVMInstruction(bytes: bytes)
        guard let instruction, [.vmrun, .vmload, .vmsave].contains(instruction) else {
            record(.gpDecode, [.event("instruction bytes", bytes.hexBytes)], .no)
            return gpOtherInstruction(exit, level: level)
        }
        record(.gpDecode, [.event("instruction bytes", bytes.hexBytes)], Answer(rawValue: instruction.description))
        return gpSVMInstruction(instruction, exit: exit, level: level)
    }

    private mutating func gpOtherInstruction(_ exit: HardwareExit, level: GuestLevel) -> Outcome {
        if level == .l1, let backdoor = host.vmwareBackdoor, backdoor.value {
            return .emulate("x86.c:kvm_emulate_instruction", level: .l1, detail: "VMware backdoor (IN/INS/OUT/OUTS/RDPMC), else #GP")
        }
        return queueException(ExceptionVector.generalProtection, errorCode: 0, level: level, after: exit, by: "svm/svm.c:gp_interception")
    }

    private mutating func gpSVMInstruction(_ instruction: SVMInstruction, exit: HardwareExit, level: GuestLevel) -> Outcome {
        let rest: (inout Evaluator) -> Outcome = { evaluator in
            evaluator.gpRAX(instruction, exit: exit, level: level)
        }
        proveFromSVMInstructionGP(level: level, instruction: instruction)
        if level == .l2 && profile.gpPathL2PermissionsFirst {
            return withPermissions(.gpPermissions, level: .l2, exit: exit, handler: "svm/nested.c:nested_svm_check_permissions", then: rest)
        }
        return rest(&self)
    }

    private mutating func gpRAX(_ instruction: SVMInstruction, exit: HardwareExit, level: GuestLevel) -> Outcome {
        let reject: (inout Evaluator) -> Outcome = {
            $0.queueException(ExceptionVector.generalProtection, errorCode: 0, level: level, after: exit, by: "svm/svm.c:gp_interception")
        }
        let accept: (inout Evaluator) -> Outcome = { evaluator in
            switch level {
            case .l2:
                evaluator.record(
                    .gpL2VMExit,
                    [.flag(InterceptWords.fieldName(ofBit: Int(instruction.exitCode.rawValue)), evaluator.l1Intercepts(Int(instruction.exitCode.rawValue))),
                     .flag(InterceptWords.fieldName(ofBit: InterceptBit.exceptionOffset + 13), evaluator.l1Intercepts(InterceptBit.exceptionOffset + 13))],
                    .yes,
                    note: "unconditional in every profile (the 2026 code marks it as still to be fixed); hardware would have raised #GP")
                return .reflect(
                    instruction.exitCode, info1: 0, info2: 0, handler: "svm/nested.c:nested_svm_simple_vmexit",
                    detail: "synthesized by gp_interception; the inject reason differs from the exit reason (GP excp)")
            case .l1:
                evaluator.record(.gpL1Dispatch, [.event("instruction", instruction.description)], Answer(rawValue: "svm/svm.c:\(instruction.description.lowercased())_interception"))
                var rewritten = exit
                rewritten.exitCode = instruction.exitCode
                rewritten.exitInfo1 = 0
                return instruction == .vmrun ? evaluator.vmrunHandler(rewritten) : evaluator.vmloadVMSaveHandler(rewritten, level: .l1)
            }
        }
        if level == .l1 && profile.handlerRAXCheck {
            record(
                .gpRAXCheck, [.hex("RAX", exit.rax), .profile("gp-path RAX check", "L2 only; L1's handler checks", profile)],
                "not checked here", note: "2026 series: for L1 the intercept handler checks page_address_valid")
            return accept(&self)
        }
        let check = raxCheck(profile.gpPathRAXCheck, rax: exit.rax)
        var evidence: [Evidence] = [.hex("RAX", exit.rax), .profile("gp-path RAX check", profile.gpPathRAXCheck.rawValue, profile)]
        if profile.gpPathRAXCheck == .pageAddressValid { evidence.append(Evidence(field: "guest MAXPHYADDR", value: state.guest.maxPhysAddr.map { "\($0.value)" }, source: state.guest.maxPhysAddr?.source)) }
        let versions = "6.1/6.12: page alignment only (no MAXPHYADDR check); upstream (2026 RAX series): page_address_valid, L2 only"
        guard let passes = check.passes else {
            record(.gpRAXCheck, evidence, .unknown, note: versions)
            let id = profile.gpPathRAXCheck == .alignmentOnly ? FactID.raxPageAligned : FactID.raxLegalPage
            let (yes, no) = profile.gpPathRAXCheck == .alignmentOnly
                ? ("RAX is page aligned", "RAX is not page aligned")
                : ("RAX is a legal page address (page aligned, below 2^guest MAXPHYADDR)", "RAX is not a legal page address")
            return fork(missing: check.missing, [Branch(yes, [id: true], accept), Branch(no, [id: false], reject)])
        }
        record(.gpRAXCheck, evidence, passes ? "passes" : "fails: re-queue #GP(0)", note: versions)
        return passes ? accept(&self) : reject(&self)
    }

    /// The result of an RAX legality check: passes, fails or unknown (with the missing inputs).
    struct RAXCheck {
        var passes: Bool?
        var missing: [String]
        var description: String
    }

    /// Page alignment, or alignment plus `RAX < 2^guest MAXPHYADDR` (`page_address_valid`).
    func raxCheck(_ kind: KernelProfile.GPPathRAXCheck, rax: Known<UInt64>?) -> RAXCheck {
        let description = kind == .alignmentOnly ? "page aligned" : "page aligned and below 2^MAXPHYADDR"
        guard let rax else { return RAXCheck(passes: nil, missing: ["RAX"], description: description) }
        let aligned = rax.value & RegisterBit.pageOffsetMask == 0
        if kind == .alignmentOnly || !aligned { return RAXCheck(passes: aligned, missing: [], description: description) }
        guard let bits = state.guest.maxPhysAddr else {
            return RAXCheck(passes: nil, missing: ["guest MAXPHYADDR"], description: description)
        }
        let legal = bits.value >= 64 || rax.value >> UInt64(bits.value) == 0
        return RAXCheck(passes: legal, missing: [], description: description)
    }
}
