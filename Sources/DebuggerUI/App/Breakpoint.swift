/// A breakpoint: a predicate plus the text the user typed for it.
public struct Breakpoint: Sendable, Hashable, CustomStringConvertible {
    /// When the breakpoint hits.
    public var predicate: ExitPredicate
    /// How the user wrote it, normalised, e.g. `msr 0xc0000080`.
    public var text: String

    /// Creates a breakpoint.
    public init(predicate: ExitPredicate, text: String) {
        self.predicate = predicate
        self.text = text
    }

    /// The text.
    public var description: String { text }
}
