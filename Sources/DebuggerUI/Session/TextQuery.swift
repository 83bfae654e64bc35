/// A regular-expression search over an exit's raw lines and decoded fields.
public struct TextQuery: Sendable, Hashable {
    /// The pattern, Swift `Regex` syntax; validated by the UI before it reaches the session.
    public var pattern: String
    /// Whether letter case must match.
    public var caseSensitive: Bool

    /// Creates a query.
    public init(pattern: String, caseSensitive: Bool) {
        self.pattern = pattern
        self.caseSensitive = caseSensitive
    }
}
