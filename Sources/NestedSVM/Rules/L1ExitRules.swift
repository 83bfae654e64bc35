extension Evaluator {
    /// A hardware exit while L1 runs: L0 handles everything; SVM instructions get their
    /// nested handlers.
    mutating func decideL1Exit(_ exit: HardwareExit) -> Outcome {
        if let vector = exit.exitCode.exceptionVector {
            let (l0Bit, evidence) = l0InterceptsException(vector, level: .l1)
            record(
                .exitSpecialException, [.event("exit_code", exit.exitCode.description)] + evidence,
                l0Bit.map { .from($0.value) } ?? .unknown,
                note: "L1 exits are L0's: only vectors in vmcb01's bitmap exit at all")
        }
        return l0Handler(exit, level: .l1)
    }
}
