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
            let hint = state.message?.text ?? hint(for: prompt.kind, state)
            if !hint.isEmpty, rect.maxX - TextWidth.columns(of: hint) > x + 2 {
                screen.write(hint, x: rect.maxX - TextWidth.columns(of: hint), y: rect.y, style: .dim, clip: rect)
            }
            return
        }
        if let running = state.continuing {
            let p = running.progress
            let percent = p.total > 0 ? p.scanned * 100 / p.total : 0
            let text = "continuing \(running.direction == .forward ? "forward" : "backward") to a breakpoint… \(percent)%"
            let x = screen.write(text, x: rect.x, y: rect.y, style: .prompt, clip: rect)
            let hint = "Esc stops"
            if rect.maxX - TextWidth.columns(of: hint) > x + 2 {
                screen.write(hint, x: rect.maxX - TextWidth.columns(of: hint), y: rect.y, style: .dim, clip: rect)
            }
            return
        }
        if let search = state.search {
            let p = search.progress
            let percent = p.total > 0 ? p.scanned * 100 / p.total : 0
            var text = "\(search.direction == .forward ? "/" : "\\")\(search.query.pattern)  searching… \(percent)%"
            if let found = p.found { text += "  first match \(found)\(p.wrapped ? " (wrapped)" : ""), counting" }
            let x = screen.write(text, x: rect.x, y: rect.y, style: .prompt, clip: rect)
            let hint = "Esc cancels"
            if rect.maxX - TextWidth.columns(of: hint) > x + 2 {
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
        case .goTo: return "e.g. #12, 22.046641 or @ticks"
        case .search: return "regex over raw lines and decoded fields"
        case .filter: return "vcpu N level L1|L2 reason R code C verdict V  (Tab completes, Up: history)"
        case .breakpoint: return "field value, and|or|not|( ); delete|enable|disable N"
        case .profile: return "known: " + state.session.availableProfiles.joined(separator: ", ")
        case .diffProfile: return "lists the exits whose decision differs from \(state.session.profile)'s; known: " + state.session.availableProfiles.joined(separator: ", ")
        case .exportPath: return "format from the extension: .jsonl .csv .md .trace .scenario"
        case .confirmOverwrite: return ""
        case .note: return "Enter keeps it (saved next to the trace); empty removes the note"
        }
    }
}
