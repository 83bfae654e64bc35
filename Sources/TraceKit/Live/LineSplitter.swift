/// Cuts a byte stream that arrives in pieces (a growing file, a pipe) into complete lines.
///
/// `feed(_:)` returns the bytes up to and including the last newline seen so far and keeps
/// the unterminated rest for the next call, so a line written in two `write(2)`s is read
/// once, whole. `finish()` hands back that rest when the input ends (a pipe closed) so a
/// last line without a newline is still read. A carriage return before the newline stays in
/// the line: the indexer reads CRLF lines as LF lines.
public struct LineSplitter: Sendable {
    /// Bytes after the last newline, waiting for the rest of their line.
    public private(set) var pending: [UInt8] = []
    /// Complete-line bytes handed out so far.
    public private(set) var bytesEmitted = 0

    /// Creates an empty splitter.
    public init() {}

    /// The complete lines `bytes` finishes (with whatever was pending before them), or an
    /// empty array when no newline arrived.
    public mutating func feed(_ bytes: some BidirectionalCollection<UInt8>) -> [UInt8] {
        guard let last = bytes.lastIndex(of: ASCII.newline) else {
            pending.append(contentsOf: bytes)
            return []
        }
        var lines = pending
        pending = []
        lines.append(contentsOf: bytes[...last])
        pending.append(contentsOf: bytes[bytes.index(after: last)...])
        bytesEmitted += lines.count
        return lines
    }

    /// The unterminated last line, with a newline added; empty when there is none.
    public mutating func finish() -> [UInt8] {
        guard !pending.isEmpty else { return [] }
        var line = pending
        pending = []
        line.append(ASCII.newline)
        bytesEmitted += line.count
        return line
    }

    /// Forgets everything (the file was truncated or replaced: reading starts over).
    public mutating func reset() {
        pending = []
        bytesEmitted = 0
    }
}
