/// The status bar: file, position, profile, filter, breakpoints, bookmarks and counts.
public enum StatusBar {
    /// Draws the bar.
    public static func render(_ state: AppState, in rect: Rect, into screen: inout Screen) {
        guard !rect.isEmpty else { return }
        screen.fill(rect, style: .status)
        let info = state.session
        let position = state.selected.map { "\($0)/\(info.exitCount)" } ?? "-/\(info.exitCount)"
        var left = " \(info.traceName)  \(position)  profile \(info.profile)"
        if !state.filter.isEmpty { left += "  filter: \(state.filter)" }
        if !state.breakpoints.isEmpty {
            let list = state.breakpoints.map(\.text).joined(separator: ", ")
            let room = rect.width - TextWidth.columns(of: left) - 40
            left += TextWidth.columns(of: list) + 4 <= room ? "  bp \(list)" : "  bp \(state.breakpoints.count)"
        }
        if !state.bookmarks.isEmpty { left += "  marks \(state.bookmarks.count)" }
        let glyphs = state.glyphs
        let counts = info.counts
        let parts: [(String, Style)] = [
            ("\(glyphs.mismatch)\(counts.mismatch)", counts.mismatch > 0 ? .mismatch : .status),
            ("\(glyphs.undetermined)\(counts.undetermined)", .status),
            ("\(glyphs.notModelled)\(counts.notModelled)", .status),
            ("\(glyphs.match)\(counts.match)", .status),
        ]
        let helpKey = state.keyMap.primaryKey(for: .help).map { "  \($0) help " } ?? " "
        let right = parts.map(\.0).joined(separator: " ") + helpKey
        let rightWidth = TextWidth.columns(of: right)
        let leftWidth = max(0, rect.width - rightWidth - 1)
        screen.write(Columns.fit(left, leftWidth), x: rect.x, y: rect.y, style: .status, clip: rect)
        var x = rect.maxX - rightWidth
        guard x > rect.x else { return }
        for (i, part) in parts.enumerated() {
            x = screen.write(part.0, x: x, y: rect.y, style: part.1, clip: rect)
            if i < parts.count - 1 { x = screen.write(" ", x: x, y: rect.y, style: .status, clip: rect) }
        }
        screen.write(helpKey, x: x, y: rect.y, style: .status, clip: rect)
    }
}

/// The last line: the open prompt, else a message, else key hints from the key table.
public enum PromptLine {
    /// Commands whose keys the hint line shows, in order, as room allows.
    static let hinted: [Command] = [
        .help, .quit, .nextMismatch, .searchForward, .goTo, .filter, .addBreakpoint, .toggleBookmark,
        .exportMismatches, .switchProfile,
    ]

    /// Draws the line.
    public static func render(_ state: AppState, in rect: Rect, into screen: inout Screen) {
        guard !rect.isEmpty else { return }
        screen.fill(rect)
        if let prompt = state.prompt {
            var x = screen.write(prompt.kind.label, x: rect.x, y: rect.y, style: .key, clip: rect)
            x = screen.write(prompt.text, x: x, y: rect.y, style: .prompt, clip: rect)
            x = screen.write(String(state.glyphs.barFull), x: x, y: rect.y, style: .prompt, clip: rect)
            let hint = hint(for: prompt.kind, state)
            if !hint.isEmpty, rect.maxX - TextWidth.columns(of: hint) > x + 2 {
                screen.write(hint, x: rect.maxX - TextWidth.columns(of: hint), y: rect.y, style: .dim, clip: rect)
            }
            return
        }
        if let message = state.message {
            screen.write(message.text, x: rect.x, y: rect.y, style: message.isError ? .error : .plain, clip: rect)
            return
        }
        var x = rect.x
        for command in hinted {
            guard let key = state.keyMap.primaryKey(for: command),
                let help = state.keyMap.bindings(in: .main).first(where: { $0.command == command })?.help
            else { continue }
            let short = String(help.prefix { $0 != ":" && $0 != "(" }).trimmedOfSpaces
            let width = TextWidth.columns(of: "\(key) \(short)  ")
            guard x + width <= rect.maxX else { break }
            x = screen.write("\(key)", x: x, y: rect.y, style: .key, clip: rect)
            x = screen.write(" \(short)  ", x: x, y: rect.y, style: .dim, clip: rect)
        }
    }

    static func hint(for kind: PromptKind, _ state: AppState) -> String {
        switch kind {
        case .goTo: return "e.g. #12 or 22.046641"
        case .search: return "regex over raw lines and decoded fields"
        case .filter: return "vcpu N level L1|L2 reason R verdict V"
        case .breakpoint: return "reason|code|vcpu|msr|port|verdict VALUE"
        case .profile: return "known: " + state.session.availableProfiles.joined(separator: ", ")
        case .exportPath: return ".jsonl for JSON lines, else text"
        case .confirmOverwrite: return ""
        }
    }
}
