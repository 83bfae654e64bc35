extension Rule {
    /// While L1 runs, only vectors in vmcb01's exception bitmap exit at all.
    public static let l1ExceptionBitmap = Rule(
        "svm.l0.exception-bitmap", "does vmcb01 intercept this vector (L1 exceptions exit only for L0's vectors)?",
        kernel: "svm/svm.c:init_vmcb")
}

extension Evaluator {
    /// A hardware exit while L1 runs: L0 handles everything; SVM instructions get their
    /// nested handlers.
    mutating func decideL1Exit(_ exit: HardwareExit) -> Outcome {
        if let vector = exit.exitCode.exceptionVector {
            let (l0Bit, evidence) = l0InterceptsException(vector, level: .l1)
            record(
                .l1ExceptionBitmap, [.event("exit_code", exit.exitCode.description)] + evidence,
                l0Bit.map { .from($0.value) } ?? .unknown,
                note: l0Bit?.value == false ? "an exit L0 did not ask for: the host facts or the profile do not fit this trace" : nil)
        }
        return l0Handler(exit, level: .l1)
    }
}
