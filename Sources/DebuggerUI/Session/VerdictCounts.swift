/// Counts of exits per verdict.
public struct VerdictCounts: Sendable, Hashable {
    /// Exits whose model outcome matches the trace.
    public var match: Int
    /// Exits whose model outcome differs from the trace.
    public var mismatch: Int
    /// Exits the trace cannot settle.
    public var undetermined: Int
    /// Exits the model does not cover.
    public var notModelled: Int

    /// Creates counts.
    public init(match: Int, mismatch: Int, undetermined: Int, notModelled: Int) {
        self.match = match
        self.mismatch = mismatch
        self.undetermined = undetermined
        self.notModelled = notModelled
    }

    /// All exits counted.
    public var total: Int { match + mismatch + undetermined + notModelled }
}
