/// Counts of exits per verdict.
public struct VerdictCounts: Sendable, Hashable {
    /// Exits whose model outcome matches the trace, decided from facts.
    public var match: Int
    /// Exits that match only because the recorded outcome settled an input.
    public var consistent: Int
    /// Exits whose model outcome differs from the trace.
    public var mismatch: Int
    /// Exits the trace cannot settle.
    public var undetermined: Int
    /// Exits the model does not cover.
    public var notModelled: Int

    /// Creates counts.
    public init(match: Int, mismatch: Int, undetermined: Int, notModelled: Int, consistent: Int = 0) {
        self.match = match
        self.consistent = consistent
        self.mismatch = mismatch
        self.undetermined = undetermined
        self.notModelled = notModelled
    }

    /// All exits counted.
    public var total: Int { match + consistent + mismatch + undetermined + notModelled }
}
