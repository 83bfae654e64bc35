import NestedSVM

/// The verdict policy: how the model's outcome and the recorded outcome of one exit become
/// a verdict. Pure: a function of the outcome, the recorded outcome and the exit's origin
/// only (the walk memoises it by ``JudgeKey``); the facts a match settles are learned by the
/// caller (``Walk/learn(_:current:)``).
enum VerdictPolicy {
    /// Compares, settling undetermined decisions with the recorded outcome where it can.
    static func judge(outcome: Outcome, recorded: RecordedOutcome, origin: ExitRecord.Origin) -> Verdict {
        if recorded.kind == .unknown {
            return Verdict(
                kind: .undetermined, missing: ["recorded outcome"],
                explanation: "no kvm_entry follows this exit on its thread before \(origin == .hardwareExit ? "the next exit or the end of the trace" : "the end"): events are missing")
        }
        guard outcome.kind == .undetermined else {
            let differences = OutcomeComparison.differences(model: outcome, recorded: recorded)
            if differences.isEmpty {
                return Verdict(kind: .match, explanation: "model and trace agree")
            }
            return Verdict(
                kind: .mismatch, differences: differences,
                explanation: "model predicts \(outcome.description); trace shows \(recorded.summary)")
        }
        let alternatives = outcome.alternatives ?? []
        let consistent = alternatives.filter {
            OutcomeComparison.differences(model: $0.outcome, recorded: recorded).isEmpty
        }
        if consistent.isEmpty {
            // No alternative at all: the model found the facts contradictory; its reason says why.
            let possible = alternatives.isEmpty
                ? [outcome.description] : alternatives.map { "\($0.condition) → \($0.outcome.description)" }
            return Verdict(
                kind: .mismatch,
                differences: [Verdict.Difference(field: "outcome", model: possible.joined(separator: " | "), recorded: recorded.summary)],
                explanation: alternatives.isEmpty
                    ? (outcome.missing ?? []).joined(separator: "; ")
                    : "no outcome the model allows for the unknown inputs fits the trace")
        }
        var settled = Self.settledFacts(consistent)
        if recorded.kind == .vmrunFails, let message = recorded.failedCheck, let check = ConsistencyCheck.check(forMessage: message) {
            // kvm_nested_vmenter_failed names the check that failed.
            settled[FactID.vmrunCheck(check.id)] = false
        }
        if consistent.count == alternatives.count {
            return Verdict(
                kind: .match, settled: settled, explanation: "every outcome the model allows for the unknown inputs fits the trace")
        }
        let inferred = consistent.map(\.condition)
        return Verdict(
            kind: .match, inferred: inferred, settled: settled,
            explanation: "the trace settles an unknown input: " + inferred.joined(separator: " or "))
    }

    /// The facts every alternative of `consistent` assumes with the same value.
    static func settledFacts(_ consistent: [Alternative]) -> [Fact: Bool] {
        guard var common = consistent.first?.assumptions else { return [:] }
        for alternative in consistent.dropFirst() {
            common = common.filter { alternative.assumptions[$0.key] == $0.value }
        }
        return common
    }
}
