/// The last search the user ran.
public struct LastSearch: Sendable, Hashable {
    /// The query.
    public var query: TextQuery
    /// The direction it was typed with (`/` forward, `\\` backward).
    public var direction: Direction

    /// Creates a search memory.
    public init(query: TextQuery, direction: Direction) {
        self.query = query
        self.direction = direction
    }
}
