/// How far indexing and replay have got.
public struct IndexingProgress: Sendable, Hashable {
    /// Bytes of the trace read so far.
    public var bytesDone: Int
    /// Total bytes of the trace, or nil when unknown (e.g. a pipe).
    public var bytesTotal: Int?
    /// Whether the whole trace is indexed and replayed.
    public var isFinished: Bool

    /// Creates a progress value.
    public init(bytesDone: Int, bytesTotal: Int?, isFinished: Bool) {
        self.bytesDone = bytesDone
        self.bytesTotal = bytesTotal
        self.isFinished = isFinished
    }

    /// Fraction done in 0...1, or nil when the total is unknown.
    public var fraction: Double? {
        if isFinished { return 1 }
        guard let total = bytesTotal, total > 0 else { return nil }
        return min(1, max(0, Double(bytesDone) / Double(total)))
    }
}
