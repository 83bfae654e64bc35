extension Rule {
    /// With nested paging L0 walks L1's NPT; without it the NPF is L0's alone.
    public static let npfNestedPaging = Rule(
        "svm.npf.nested-paging", "does L1 run L2 with nested paging (vmcb12 NP_ENABLE)?",
        kernel: "svm/svm.c:npf_interception")
    /// A fault in L1's tables is reflected, otherwise L0 fixes its shadow.
    public static let npfL1Walk = Rule(
        "svm.npf.l1-walk", "does the walk of L1's nested page tables for the faulting GPA fault?",
        kernel: "svm/nested.c:nested_svm_inject_npf_exit")
}

/// Bits 63:32 of an NPF `exit_info_1` (GUEST_FINAL, GUEST_PAGE, …) kept by
/// `nested_svm_inject_npf_exit`; bits 31:0 are replaced with the walk's error code.
let npfHighBitsMask: UInt64 = 0xffff_ffff_0000_0000

extension Evaluator {
    /// An L2 NPF: `npf_interception` → MMU → maybe `nested_svm_inject_npf_exit`.
    mutating func nestedPageFault(_ exit: HardwareExit) -> Outcome {
        let fixed = Outcome.l0Handles(
            "mmu/mmu.c:kvm_mmu_page_fault", level: .l2,
            detail: "L0 fixes its (shadow) NPT entry or emulates MMIO (kvm_page_fault); L2 re-executes")
        return branch(
            .npfNestedPaging, field: "vmcb12 NP_ENABLE", fact: FactID.nestedPaging, state.vmcb12.nestedPaging,
            extra: [.event("exit_info_2 (GPA)", Hex.format(exit.exitInfo2))],
            yes: { evaluator in
                let reflect = Outcome.reflect(
                    .npf, info1: nil, info2: exit.exitInfo2, handler: "svm/nested.c:nested_svm_inject_npf_exit",
                    detail: "exit_info_1 keeps bits 63:32 (\(Hex.format(exit.exitInfo1 & npfHighBitsMask))), bits 31:0 = error code of KVM's walk of L1's NPT")
                return evaluator.branch(
                    .npfL1Walk, field: "L1 NPT walk faults for \(Hex.format(exit.exitInfo2))", fact: FactID.l1NPTWalkFaults, exit.l1NPTWalkFaults ?? evaluator.l1NPTWalkFaults(exit),
                    note: "L1's nested page tables are not traced",
                    yes: { _ in reflect }, no: { $0.npfKeptByL0(exit, fixed: fixed) })
            },
            no: { evaluator in
                evaluator.npfKeptByL0(
                    exit,
                    fixed: .l0Handles("mmu/mmu.c:kvm_mmu_page_fault", level: .l2, detail: "L0's own NPT for L2 (L1 does not use nested paging); never reflected"))
            })
    }

    /// An NPF L0 resolves itself; an SVM instruction at RIP may be emulated instead.
    mutating func npfKeptByL0(_ exit: HardwareExit, fixed: Outcome) -> Outcome {
        if let bytes = exit.instructionBytes, let move = CRMove(bytes: bytes) { return npfOnCRMove(move, exit: exit, fixed: fixed) }
        guard let bytes = exit.instructionBytes, let instruction = SVMInstruction(bytes: bytes) else { return fixed }
        return npfOnSVMInstruction(instruction, exit: exit, fixed: fixed)
    }
}
