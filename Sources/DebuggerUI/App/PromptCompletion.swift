/// What Tab completes in a prompt: the field names of the filter and breakpoint languages,
/// then the values each field takes (reason names, verdicts, levels), and profile names.
public enum PromptCompletion {
    /// The words that may come next after `text` at a prompt of `kind`.
    public static func candidates(for kind: PromptKind, text: String, session: SessionInfo) -> [String] {
        switch kind {
        case .filter, .breakpoint:
            let words = text.split(separator: " ", omittingEmptySubsequences: true).map { $0.lowercased() }
            let completing = text.last == " " || text.isEmpty ? words.count : words.count - 1
            let fields = kind == .filter ? ["vcpu", "level", "reason", "code", "verdict", "outcome"] : PredicateParser.fields
            // Even positions are field names, odd ones their values.
            guard completing % 2 == 1, completing - 1 < words.count else { return fields }
            switch words[completing - 1] {
            case "level": return ["L1", "L2"]
            case "verdict": return ExitVerdict.allCases.map(\.rawValue)
            case "outcome": return OutcomeNames.all
            case "reason": return ExitReasonNames.completions
            default: return []
            }
        case .profile, .diffProfile:
            return session.availableProfiles
        case .goTo, .search, .exportPath, .confirmOverwrite, .note:
            return []
        }
    }

    /// The word being typed: everything after the last space.
    public static func lastWord(of text: String) -> String {
        String(text.reversed().prefix { $0 != " " }.reversed())
    }

    /// The longest prefix all `words` share (compared case-insensitively, spelled as the first).
    public static func commonPrefix(_ words: [String]) -> String {
        guard var prefix = words.first else { return "" }
        for word in words.dropFirst() {
            while !word.lowercased().hasPrefix(prefix.lowercased()) { prefix.removeLast() }
        }
        return prefix
    }
}
