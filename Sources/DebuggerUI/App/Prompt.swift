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
    /// The export file name.
    case exportPath
    /// Confirmation to overwrite an existing export file.
    case confirmOverwrite(path: String)

    /// The label in front of the input.
    public var label: String {
        switch self {
        case .goTo: "go to (#exit or timestamp): "
        case .search(.forward): "/"
        case .search(.backward): "\\"
        case .filter: "filter: "
        case .breakpoint: "break on: "
        case .profile: "profile: "
        case .exportPath: "export mismatches to: "
        case .confirmOverwrite(let path): "\(path) exists. Overwrite? (y/N) "
        }
    }
}

/// The open prompt: what it asks and what has been typed.
public struct Prompt: Sendable, Hashable {
    /// What is asked.
    public var kind: PromptKind
    /// The input so far.
    public var text: String

    /// Creates a prompt.
    public init(kind: PromptKind, text: String = "") {
        self.kind = kind
        self.text = text
    }
}
