/// The model's decision path for the selected exit, step by step (rule id, question,
/// evidence, answer, kernel function), next to the recorded outcome and its evidence.
public enum DecisionPathPane {
    /// The pane's content lines at `width`.
    public static func lines(for state: AppState, width: Int) -> [StyledLine] {
        guard let detail = state.view.detail else { return [] }
        let verdict = state.view.selectedRow?.verdict
        let glyphs = state.glyphs
        var lines: [StyledLine] = []
        let outcomeStyle: Style = verdict == .mismatch ? .mismatch : .plain
        for (label, text) in [("model    ", detail.modelOutcome), ("recorded ", detail.recordedOutcome)] {
            for (n, piece) in Columns.wrap(text, width: max(1, width - label.count)).enumerated() {
                let head = n == 0 ? Span(label, .header) : Span(String(repeating: " ", count: label.count))
                lines.append(StyledLine([head, Span(piece, outcomeStyle)]))
            }
        }
        if let verdict {
            let style: Style
            switch verdict {
            case .match, .consistent: style = .match
            case .mismatch: style = .mismatch
            case .undetermined: style = .undetermined
            case .notModelled: style = .notModelled
            }
            lines.append(StyledLine([Span("verdict  ", .header), Span("\(glyphs.mark(for: verdict)) \(verdict.rawValue)", style)]))
        }
        let indent = 2
        // The notes explain the verdict: right under it, not after every step.
        if !detail.notes.isEmpty {
            let style: Style = verdict == .mismatch ? .mismatch : .plain
            for (n, note) in detail.notes.enumerated() {
                let label = n == 0 ? "notes    " : "         "
                for (k, piece) in Columns.wrap(note, width: max(1, width - label.count)).enumerated() {
                    lines.append(StyledLine([Span(k == 0 ? label : "         ", .header), Span(piece, style)]))
                }
            }
        }
        // Rule ids and answers are never cut: aligned at their longest when that leaves room
        // for the evidence beside them, else each step's head wraps on its own.
        let idWidth = detail.decisionSteps.map { TextWidth.columns(of: $0.ruleID) }.max() ?? 0
        let answerWidth = detail.decisionSteps.map { TextWidth.columns(of: $0.answer) }.max() ?? 0
        let aligned = 2 + idWidth + 1 + answerWidth + 1 + max(24, width / 3) <= width
        for (i, step) in detail.decisionSteps.enumerated() {
            let last = i == detail.decisionSteps.count - 1
            let branch = String(last ? glyphs.lastBranch : glyphs.branch)
            let rail = last ? " " : String(glyphs.vertical)
            guard state.showsFullDecisionPath else {
                // One line per step: rule, answer, what it read.
                // One step per entry: rule, answer, then what it read, wrapped under itself.
                let answerStyle: Style = step.answer == "unknown" ? .undetermined : .header
                guard aligned || 2 + TextWidth.columns(of: step.ruleID) + 1 + TextWidth.columns(of: step.answer) <= width else {
                    // Too narrow for the head on one line: rule id, answer, evidence, each wrapped.
                    for (n, piece) in Columns.wrap(step.ruleID, width: max(1, width - 2)).enumerated() {
                        lines.append(StyledLine([Span(n == 0 ? branch + " " : rail + " "), Span(piece, .key)]))
                    }
                    for piece in Columns.wrap(step.answer, width: max(1, width - indent)) {
                        lines.append(StyledLine([Span(rail + " "), Span(piece, answerStyle)]))
                    }
                    for piece in Columns.wrap(step.evidence.joined(separator: "; "), width: max(1, width - indent)) {
                        lines.append(StyledLine([Span(rail + " "), Span(piece, .dim)]))
                    }
                    continue
                }
                let head = aligned
                    ? [Span(branch + " "), Span(Columns.fit(step.ruleID, idWidth) + " ", .key),
                       Span(Columns.fit(step.answer, answerWidth) + " ", answerStyle)]
                    : [Span(branch + " "), Span(step.ruleID + " ", .key), Span(step.answer + " ", answerStyle)]
                let headWidth = StyledLine(head).columns
                let evidenceWidth = width - headWidth
                let hanging = evidenceWidth >= max(24, width / 3)
                let pieces = Columns.wrap(step.evidence.joined(separator: "; "), width: hanging ? evidenceWidth : max(1, width - indent))
                if hanging {
                    for (n, piece) in pieces.enumerated() {
                        let lead = n == 0 ? head : [Span(rail + String(repeating: " ", count: headWidth - 1))]
                        lines.append(StyledLine(lead + [Span(piece, .dim)]))
                    }
                } else {
                    lines.append(StyledLine(head))
                    for piece in pieces { lines.append(StyledLine([Span(rail + " "), Span(piece, .dim)])) }
                }
                continue
            }
            lines.append(StyledLine([Span(branch + " "), Span(step.ruleID, .key), Span(" " + step.answer, .header)]))
            for piece in Columns.wrap(step.question, width: max(1, width - indent)) {
                lines.append(StyledLine([Span(rail + " "), Span(piece)]))
            }
            for evidence in step.evidence {
                for piece in Columns.wrap(evidence, width: max(1, width - indent)) {
                    lines.append(StyledLine([Span(rail + " "), Span(piece, .dim)]))
                }
            }
            if let note = step.note {
                for piece in Columns.wrap("note: " + note, width: max(1, width - indent)) {
                    lines.append(StyledLine([Span(rail + " "), Span(piece)]))
                }
            }
            lines.append(StyledLine([Span(rail + " "), Span(step.kernelFunction, .dim)]))
        }
        if detail.decisionSteps.isEmpty {
            lines.append(StyledLine("(no decision steps)", .dim))
        }
        if !detail.recordedEvidence.isEmpty {
            lines.append(StyledLine("recorded evidence", .header))
            for evidence in detail.recordedEvidence {
                for piece in Columns.wrap(evidence, width: max(1, width - indent)) { lines.append(StyledLine("  " + piece, .dim)) }
            }
        }
        return lines
    }

    /// Draws the pane.
    public static func render(_ state: AppState, in rect: Rect, into screen: inout Screen) {
        guard !rect.isEmpty else { return }
        var title = state.view.detail.map { "Decision path \($0.number)" } ?? "Decision path"
        if state.view.detail != nil { title += state.showsFullDecisionPath ? " (full; v: short)" : " (short; v: full)" }
        screen.drawTitle(title, in: rect, focused: state.focus == .decision, glyphs: state.glyphs)
        let body = rect.droppingTop(1)
        screen.draw(lines(for: state, width: state.lineWidth(body.width)), from: state.scroll[.decision] ?? 0, in: body, highlight: state.lastSearch?.query)
    }
}
