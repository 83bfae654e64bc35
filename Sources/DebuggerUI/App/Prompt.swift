/// What the prompt line asks for.
public enum PromptKind: Sendable, Hashable {
    /// Exit number or timestamp.
    case goTo
    /// A regex to search in a direction.
    case search(Direction)
    /// A filter.
    case filter
    /// A breakpoint.
    case breakpoint
    /// A kernel profile name.
    case profile
    /// The profile to diff against (`D`).
    case diffProfile
    /// The export file name.
    case exportPath
    /// Confirmation to overwrite an existing export file.
    case confirmOverwrite(path: String)
    /// A note on an exit (bookmarks it; an empty note removes the note).
    case note(ExitNumber)

    /// The label in front of the input.
    public var label: String {
        switch self {
        case .goTo: "go to (#exit or timestamp): "
        case .search(.forward): "/"
        case .search(.backward): "\\"
        case .filter: "filter: "
        case .breakpoint: "break on: "
        case .profile: "profile: "
        case .diffProfile: "diff against profile: "
        case .exportPath: "export mismatches to: "
        case .confirmOverwrite(let path): "\(path) exists. Overwrite? (y/N) "
        case .note(let exit): "note on \(exit): "
        }
    }
}

/// The open prompt: what it asks and what has been typed.
public struct Prompt: Sendable, Hashable {
    /// What is asked.
    public var kind: PromptKind
    /// The input so far.
    public var text: String
    /// Which history entry Up/Down show, counted back from the newest (nil: the new input).
    public var historyPosition: Int?
    /// What was typed before Up replaced it, restored by Down past the newest entry.
    public var draft: String

    /// Creates a prompt.
    public init(kind: PromptKind, text: String = "") {
        self.kind = kind
        self.text = text
        self.historyPosition = nil
        self.draft = ""
    }

    /// Deletes the word before the end (C-w): trailing spaces, then non-spaces.
    public mutating func deleteWordBackward() {
        while text.last == " " { text.removeLast() }
        while let last = text.last, last != " " { text.removeLast() }
    }
}

extension PromptKind {
    /// Which history a prompt's entries go to (searches in both directions share one);
    /// nil for the overwrite confirmation.
    public var history: PromptHistory? {
        switch self {
        case .goTo: .goTo
        case .search: .search
        case .filter: .filter
        case .breakpoint: .breakpoint
        case .profile, .diffProfile: .profile
        case .exportPath: .exportPath
        case .confirmOverwrite, .note: nil
        }
    }
}

/// The prompt histories (Up/Down in the prompt), one per kind of question.
public enum PromptHistory: Sendable, Hashable, CaseIterable {
    /// Go-to targets.
    case goTo
    /// Search patterns.
    case search
    /// Filters.
    case filter
    /// Breakpoints.
    case breakpoint
    /// Profile names.
    case profile
    /// Export paths.
    case exportPath

    /// Entries kept per history.
    public static let limit = 100
}
