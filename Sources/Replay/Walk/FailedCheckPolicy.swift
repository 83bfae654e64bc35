import NestedSVM

/// Compares the consistency check a trace names (`kvm_nested_vmenter_failed`, printed by
/// `svm/nested.c`'s `CC()` checks) with the check the model found failing first.
///
/// `nested_svm_vmrun` runs `__nested_vmcb_check_save` and then `__nested_vmcb_check_controls`,
/// each stopping at its first failing check, in the order of ``ConsistencyCheck/all``. So a
/// named check Y fits the model's decision only when the model left Y open: Y's inputs were
/// unknown, or Y is the check the model found failing. It does not fit when the model knows
/// Y passes, or when the model knows an earlier check X fails (then KVM never reaches Y).
/// Kernel profiles only: the architectural profile has its own checks.
enum FailedCheckPolicy {
    /// A mismatch when `message`'s check contradicts `decision`; `nil` when it fits or the
    /// text names no known check.
    static func verdict(message: String, decision: Decision) -> Verdict? {
        guard let named = ConsistencyCheck.check(forMessage: message) else { return nil }
        let step = decision.path.last { $0.rule == named.ruleID }
        if let step, step.answer == .yes {
            let inputs = step.evidence.map(\.description).joined(separator: ", ")
            return Verdict(
                kind: .mismatch,
                differences: [Verdict.Difference(field: "check", model: "\(named.id) passes", recorded: message)],
                explanation: "the trace fails VMRUN on check \(named.id), which the model knows passes"
                    + (inputs.isEmpty ? "" : " (\(inputs))"))
        }
        guard step == nil, decision.outcome.kind == .vmrunFails, let first = decision.outcome.check, first != named.id,
            let firstIndex = ConsistencyCheck.all.firstIndex(where: { $0.id == first }),
            let namedIndex = ConsistencyCheck.all.firstIndex(of: named), firstIndex < namedIndex
        else { return nil }
        return Verdict(
            kind: .mismatch,
            differences: [Verdict.Difference(field: "check", model: first, recorded: message)],
            explanation: "the model finds check \(first) failing, which KVM runs before \(named.id): "
                + "VMRUN cannot reach the check the trace names")
    }
}
