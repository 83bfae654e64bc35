extension Rule {
    /// Which level was running decides which exit path KVM takes.
    public static let level = Rule(
        "svm.level", "which level was running when the exit occurred (guest mode)?",
        kernel: "svm/svm.c:svm_handle_exit")
}

extension Evaluator {
    /// Decides any event.
    mutating func decide(_ event: Event) -> Outcome {
        switch event {
        case .hardwareExit(let exit):
            guard let level = state.level else {
                record(.level, [Evidence(field: "level", value: nil)], .unknown)
                return fork(missing: ["level"], [
                    ("L2 was running (guest mode)", { $0.decideL2Exit(exit) }),
                    ("L1 was running", { $0.decideL1Exit(exit) }),
                ])
            }
            record(.level, [Evidence(field: "level", value: level.value.rawValue, source: level.source)], Answer(rawValue: level.value.rawValue))
            switch level.value {
            case .l2: return decideL2Exit(exit)
            case .l1: return decideL1Exit(exit)
            }
        case .pending(let pending):
            return decidePending(pending, after: nil)
        case .vmrunConsistencyFailure(let message):
            return decideConsistencyFailureMessage(message)
        }
    }

    /// A hardware exit while L2 runs: `nested_svm_exit_special`, then `nested_svm_intercept`,
    /// then L0's handler.
    mutating func decideL2Exit(_ exit: HardwareExit) -> Outcome {
        if let special = exitSpecial(exit) { return special }
        return l1Interception(exit)
    }
}
