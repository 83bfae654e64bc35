/// A search request: the predicate (filter and text), where it starts and which way it goes.
public struct SearchRequest: Sendable, Hashable {
    /// What a match must satisfy.
    public var predicate: ExitPredicate
    /// The search starts after this exit (nil: at the first/last exit, inclusive).
    public var after: ExitNumber?
    /// Which way it goes; it wraps around once.
    public var direction: Direction

    /// Creates a request.
    public init(predicate: ExitPredicate, after: ExitNumber?, direction: Direction) {
        self.predicate = predicate
        self.after = after
        self.direction = direction
    }
}

/// How far a background search has got.
public struct SearchUpdate: Sendable, Hashable {
    /// Exits looked at so far.
    public var scanned: Int
    /// Exits to look at (the whole trace, once).
    public var total: Int
    /// The first match in the search's order, once found.
    public var found: ExitNumber?
    /// Whether reaching `found` went past the end (or start) of the trace.
    public var wrapped: Bool
    /// Matches in the whole trace, once the scan is complete.
    public var matches: Int?
    /// The position of `found` among all matches in trace order (1-based), once complete.
    public var rank: Int?
    /// Whether the scan is complete.
    public var isFinished: Bool

    /// Creates an update.
    public init(scanned: Int, total: Int, found: ExitNumber? = nil, wrapped: Bool = false, matches: Int? = nil,
                rank: Int? = nil, isFinished: Bool = false) {
        self.scanned = scanned
        self.total = total
        self.found = found
        self.wrapped = wrapped
        self.matches = matches
        self.rank = rank
        self.isFinished = isFinished
    }
}
