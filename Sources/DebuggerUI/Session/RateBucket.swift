/// One time slice of the exit-rate strip.
public struct RateBucket: Sendable, Hashable {
    /// Exits in this slice.
    public var exits: Int
    /// Mismatching exits in this slice.
    public var mismatches: Int
    /// Exits in this slice that match only because the recorded outcome settled an input.
    public var consistent = 0
    /// The first exit in the slice (where a jump to this slice lands), nil if empty.
    public var firstExit: ExitNumber?

    /// Creates a bucket.
    public init(exits: Int, mismatches: Int, firstExit: ExitNumber?) {
        self.exits = exits
        self.mismatches = mismatches
        self.firstExit = firstExit
    }
}
