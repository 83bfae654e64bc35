/// How far indexing has got, for progress bars.
public struct IndexProgress: Sendable, Hashable {
    /// Bytes of (decompressed) text scanned so far.
    public var bytesScanned: Int
    /// Total bytes of text to scan.
    public var totalBytes: Int
    /// Events indexed so far.
    public var events: Int

    /// Creates a progress value.
    public init(bytesScanned: Int, totalBytes: Int, events: Int) {
        self.bytesScanned = bytesScanned
        self.totalBytes = totalBytes
        self.events = events
    }

    /// Completed share in 0…1 (1 for an empty input).
    public var fraction: Double {
        totalBytes == 0 ? 1 : Double(bytesScanned) / Double(totalBytes)
    }
}
