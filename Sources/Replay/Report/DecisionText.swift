import NestedSVM

/// The plain-text decision path of one exit next to its recorded outcome (STYLE.md habit A).
public enum DecisionText {
    /// Renders `decision` for `exit`, ending with the outcome line and the verdict.
    public static func render(_ decision: Decision, exit: ExitRecord) -> String {
        var lines: [String] = []
        let level = exit.level?.rawValue ?? "?"
        lines.append("#\(exit.index) line \(exit.lines.lowerBound) \(level) \(ExitCodeText.name(exit.exitCode)) profile \(decision.profile)")
        for step in decision.path {
            let evidence = step.evidence.map(\.description).joined(separator: ", ")
            lines.append("├ \(step.rule)  \(step.question)")
            if !evidence.isEmpty { lines.append("│    \(evidence)") }
            lines.append("│    → \(step.answer)   [\(step.kernel)]" + (step.note.map { "  (\($0))" } ?? ""))
        }
        lines.append("├ model:    \(decision.outcome.description)")
        for alternative in decision.outcome.alternatives ?? [] {
            lines.append("│    if \(alternative.condition): \(alternative.outcome.description)")
        }
        lines.append("├ recorded: \(exit.recorded.summary)")
        let mark: String
        switch exit.verdict.kind {
        case .match: mark = "✔ match"
        case .mismatch: mark = "✘ mismatch"
        case .undetermined: mark = "? undetermined"
        }
        lines.append("└ \(mark): \(exit.verdict.explanation)")
        for difference in exit.verdict.differences { lines.append("     \(difference)") }
        return lines.joined(separator: "\n")
    }
}
