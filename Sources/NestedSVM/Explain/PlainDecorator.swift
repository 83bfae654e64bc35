/// Renders a `Decision` as plain text: a header, one tree entry per rule step (rule id,
/// question, evidence, answer, kernel function), then the outcome.
///
/// Used by `svmdbg decide`, snapshots and (later) the TUI's decision pane. Pure: returns
/// lines, prints nothing.
///
/// ```
/// L2 exit msr (0x07c) info1 0x1 info2 0x0   [profile 6.12]
/// ├─ svm.msr.l1-intercepts  does L1 intercept MSR accesses at all (vmcb12 MSR_PROT, bit 124)?
/// │    vmcb12 intercept MSR_PROT (bit 124) = 1 [scenario]
/// │    → yes   svm/nested.c:nested_svm_exit_handled_msr
/// └─ outcome  reflect to L1: msr (0x07c) info1 0x1 info2 0x0
/// ```
public struct PlainDecorator: Sendable, Equatable {
    /// Layout of the rendered path.
    public enum Layout: Sendable, Equatable {
        /// Several lines per step: question, evidence, answer and kernel function, notes.
        case full
        /// One line per step, as STYLE.md habit A shows it:
        /// `├ svm.msr.msrpm-bit  msrpm[0xc0000080].write = 0  → no  (svm/nested.c:…)`.
        case compact
    }

    /// Whether evidence lines are shown.
    public var showsEvidence: Bool
    /// Whether rule notes are shown.
    public var showsNotes: Bool
    /// Full or one line per step.
    public var layout: Layout

    /// A decorator; by default everything is shown in the full layout.
    public init(showsEvidence: Bool = true, showsNotes: Bool = true, layout: Layout = .full) {
        self.showsEvidence = showsEvidence
        self.showsNotes = showsNotes
        self.layout = layout
    }

    /// The decision as lines of text (no trailing newlines).
    public func lines(for decision: Decision) -> [String] {
        if layout == .compact { return compactLines(for: decision) }
        var lines = ["\(decision.subject)   [profile \(decision.profile)]"]
        for step in decision.path {
            lines.append("├─ \(step.rule)  \(step.question)")
            if showsEvidence {
                for evidence in step.evidence { lines.append("│    \(evidence)") }
            }
            lines.append("│    → \(step.answer)   \(step.kernel)")
            if showsNotes, let note = step.note { lines.append("│    note: \(note)") }
        }
        lines.append("└─ outcome  \(decision.outcome)")
        lines.append(contentsOf: outcomeDetails(decision.outcome, indent: "     "))
        return lines
    }

    /// The decision as one string, lines joined with `\n` and a final newline.
    public func text(for decision: Decision) -> String {
        lines(for: decision).joined(separator: "\n") + "\n"
    }

    private func compactLines(for decision: Decision) -> [String] {
        let width = decision.path.map { $0.rule.rawValue.count }.max() ?? 0
        var lines = ["\(decision.subject)   [profile \(decision.profile)]"]
        for step in decision.path {
            let id = step.rule.rawValue.padding(toLength: width, withPad: " ", startingAt: 0)
            let evidence = showsEvidence ? step.evidence.map { "\($0.field) = \($0.value ?? "unknown")" }.joined(separator: "; ") : ""
            lines.append("├ \(id)  \(evidence.isEmpty ? "" : evidence + "  ")→ \(step.answer)  (\(step.kernel))")
        }
        lines.append("└ outcome  \(decision.outcome)")
        for alternative in decision.outcome.alternatives ?? [] {
            lines.append("    if \(alternative.condition): \(alternative.outcome)")
        }
        return lines
    }

    private func outcomeDetails(_ outcome: Outcome, indent: String) -> [String] {
        var lines: [String] = []
        if ![.l0Handles, .injectException, .emulate].contains(outcome.kind), let handler = outcome.handler {
            lines.append("\(indent)by \(handler)")
        }
        if outcome.kind != .userspaceExit, let detail = outcome.detail { lines.append("\(indent)\(detail)") }
        for alternative in outcome.alternatives ?? [] {
            lines.append("\(indent)if \(alternative.condition):")
            lines.append("\(indent)  → \(alternative.outcome)")
            lines.append(contentsOf: outcomeDetails(alternative.outcome, indent: indent + "    "))
        }
        return lines
    }
}
