import NestedSVM
import Replay

/// The host facts and profile pane (`H`): each host fact with the value the replay used and
/// where it came from (the trace line that proved it, `--host`, an export header, or a
/// change made here), plus the profile. Enter cycles the fact under the cursor and replays.
public enum FactsOverlay {
    /// The lines of the pane's body, for `width` columns, with the fact index each belongs to
    /// (nil for the profile and heading lines).
    static func lines(_ state: AppState, width: Int) -> [(text: String, fact: Int?, style: Style)] {
        let facts = state.session.hostFacts
        var lines: [(String, Int?, Style)] = []
        lines.append(("profile \(state.session.profile)   (p switches and replays; known: \(state.session.availableProfiles.joined(separator: ", ")))", nil, .plain))
        if let live = state.session.live {
            lines.append(("live: \(live.isFollowing ? "following" : "ended"), \(live.lines) lines read", nil, .dim))
        }
        guard !facts.isEmpty else {
            lines.append(("no replay yet: the facts show once the trace is replayed", nil, .dim))
            return lines
        }
        let keyWidth = facts.map { TextWidth.columns(of: $0.key) }.max() ?? 8
        lines.append((Columns.fit("fact", keyWidth) + "  value  from      why", nil, .header))
        let indent = keyWidth + 2 + 7 + 10
        for (index, fact) in facts.enumerated() {
            let value = Columns.fit(fact.value ?? "?", 5)
            let from: String
            switch fact.origin {
            case .given: from = "given"
            case .inferred: from = "trace"
            case .unknown: from = "unknown"
            }
            let hint = "--host \(fact.key)=\(fact.isToggle ? "0|1" : "N")"
            let unknown = HostFacts.inputOnlyKeys.contains(fact.key)
                ? "no trace event shows it; not given (\(hint))" : "not in the trace and not given (\(hint))"
            var why = fact.source ?? (fact.origin == .unknown ? unknown : "")
            if let shows = fact.traceShows { why += "; the trace shows \(shows)" }
            if !fact.isToggle, fact.origin != .unknown { why += " (a number: --host \(fact.key)=N)" }
            let head = Columns.fit(fact.key, keyWidth) + "  " + value + "  " + Columns.fit(from, 8) + "  "
            let room = max(12, width - indent)
            let parts = Columns.wrap(why, width: room)
            let style: Style = fact.origin == .unknown ? .dim : .plain
            lines.append((head + (parts.first ?? ""), index, style))
            for more in parts.dropFirst() { lines.append((String(repeating: " ", count: indent) + more, index, style)) }
        }
        lines += factsFileLines(state.view.factsFiles, exits: state.session.exitCount, width: width)
        return lines
    }

    /// The `--facts` files in effect, as given facts: path, scopes, exits applied to.
    static func factsFileLines(_ files: [FactsFileUse], exits: Int, width: Int) -> [(text: String, fact: Int?, style: Style)] {
        guard !files.isEmpty else {
            return [("facts files: none given (--facts FILE gives L1 and guest facts the trace does not show)", nil, .dim)]
        }
        var lines: [(String, Int?, Style)] = [("facts files (given, --facts)", nil, .header)]
        let room = max(12, width - 4)
        for file in files {
            for (i, part) in Columns.wrap(file.path, width: max(12, width - 2)).enumerated() {
                lines.append(((i == 0 ? "  " : "    ") + part, nil, .plain))
            }
            var text = "\(file.entries) entr\(file.entries == 1 ? "y" : "ies"), scope \(file.scopes.joined(separator: ", ")); "
            text += "applied to \(file.exits) of \(exits) exits"
            if !file.description.isEmpty { text += " — \(file.description)" }
            for part in Columns.wrap(text, width: room) { lines.append(("    " + part, nil, file.exits == 0 ? .dim : .plain)) }
        }
        return lines
    }

    /// Draws the pane.
    public static func render(_ state: AppState, cursor: Int, into screen: inout Screen) {
        let width = min(state.size.columns - 2, 110)
        let body = lines(state, width: width - 2)
        let rect = Rect(x: 0, y: 0, width: state.size.columns, height: state.size.rows)
            .centred(width: width, height: max(3, min(state.size.rows - 2, body.count + 2)))
        guard rect.width >= 4, rect.height >= 3 else { return }
        Frame.draw(title: "Host facts and profile (Enter: trace→1→0, replays; p profile; Esc)", in: rect, glyphs: state.glyphs, into: &screen)
        let inner = rect.inset(by: 1)
        let cursorLine = body.firstIndex { $0.fact == cursor } ?? 0
        var top = max(0, min(cursorLine - inner.height + 2, body.count - inner.height))
        if cursor == body.compactMap(\.fact).last {
            // On the last fact the pane scrolls to its end, so the facts-file lines below the
            // facts can be read on a small terminal.
            top = max(0, min(cursorLine, body.count - inner.height))
        }
        for (row, line) in body.dropFirst(top).prefix(inner.height).enumerated() {
            let style: Style = line.fact == cursor ? .selected : line.style
            let rowRect = Rect(x: inner.x, y: inner.y + row, width: inner.width, height: 1)
            screen.fill(rowRect, style: style)
            screen.write(line.text, x: inner.x, y: inner.y + row, style: style, clip: rowRect)
        }
        let below = body.count - top - inner.height
        if below > 0, rect.width > 24 {
            let mark = " \(below) more: move down "
            screen.write(mark, x: rect.x + rect.width - 2 - TextWidth.columns(of: mark), y: rect.y + rect.height - 1, style: .dim,
                clip: Rect(x: rect.x + 1, y: rect.y + rect.height - 1, width: rect.width - 2, height: 1))
        }
    }
}

/// The profile diff list (`D`): the exits whose decision differs between the replayed profile
/// and another, as `svmdbg diff` prints them; Enter jumps to the exit.
public enum ProfileDiffOverlay {
    /// Draws the list.
    public static func render(_ state: AppState, cursor: Int, into screen: inout Screen) {
        guard let list = state.profileDiff else { return }
        let width = min(state.size.columns - 2, 150)
        let rect = Rect(x: 0, y: 0, width: state.size.columns, height: state.size.rows)
            .centred(width: width, height: max(4, state.size.rows - 2))
        guard rect.width >= 4, rect.height >= 4 else { return }
        Frame.draw(title: "Profile diff \(list.first) vs \(list.second): \(list.rows.count) of \(list.exits) exits (Enter jumps)",
                   in: rect, glyphs: state.glyphs, into: &screen)
        let inner = rect.inset(by: 1)
        let numberWidth = String(state.session.exitCount).count + 1
        // Two lines per exit: what each profile decides, then why they part.
        var lines: [(String, Int)] = []
        for (index, row) in list.rows.enumerated() {
            // Nothing is cut: each part wraps under the exit number.
            lines.append((Columns.fit("\(row.exit)", numberWidth) + "  line \(row.line)  \(row.level ?? "?")  \(row.reason)  trace: \(row.recorded)", index))
            let room = max(12, inner.width - numberWidth - 2)
            let indent = String(repeating: " ", count: numberWidth + 2)
            for text in ["\(list.first): \(row.first)", "\(list.second): \(row.second)", row.why] {
                for part in Columns.wrap(text, width: room) { lines.append((indent + part, index)) }
            }
        }
        let cursorLine = lines.firstIndex { $0.1 == cursor } ?? 0
        let top = max(0, min(cursorLine, lines.count - inner.height))
        for (row, line) in lines.dropFirst(top).prefix(inner.height).enumerated() {
            let style: Style = line.1 == cursor ? .selected : .plain
            let rowRect = Rect(x: inner.x, y: inner.y + row, width: inner.width, height: 1)
            screen.fill(rowRect, style: style)
            screen.write(line.0, x: inner.x, y: inner.y + row, style: style, clip: rowRect)
        }
    }
}
