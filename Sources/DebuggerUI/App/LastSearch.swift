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

/// The search running in the background, as the prompt line shows it.
public struct RunningSearch: Sendable, Hashable {
    /// The pattern.
    public var query: TextQuery
    /// Its direction.
    public var direction: Direction
    /// The latest progress.
    public var progress: SearchUpdate

    /// Creates one.
    public init(query: TextQuery, direction: Direction, progress: SearchUpdate) {
        self.query = query
        self.direction = direction
        self.progress = progress
    }
}
