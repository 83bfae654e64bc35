/// Reads lines of a ``LoadedTrace`` by number, in increasing order, in one forward walk.
///
/// ``LoadedTrace/rawLine(_:)`` finds a line by walking from the closest event line before
/// it, so reading every line of a long stretch without events (mail text, junk, a wrapped
/// block inside one exit) one call at a time costs the square of its length. The reader
/// remembers where the last line ended: asking for lines in increasing order costs the
/// distance walked, and a far jump still starts from the closest event line.
///
/// ```swift
/// var reader = RawLineReader(trace)
/// for number in exit.lines { if let text = reader.line(number) { … } }
/// ```
public struct RawLineReader: Sendable {
    /// The trace read.
    public let trace: LoadedTrace
    /// The line number at `offset` (1-based).
    private var line = 1
    /// Byte offset of the start of line `line`.
    private var offset = 0

    /// A reader positioned at line 1.
    public init(_ trace: LoadedTrace) {
        self.trace = trace
    }

    /// The text of 1-based line `number` (without its line end), or nil past the end.
    public mutating func line(_ number: Int) -> String? {
        guard number >= 1 else { return nil }
        let text = trace.text
        if number < line || closestEventLine(atOrBefore: number).map({ $0.line > line }) == true {
            if let event = closestEventLine(atOrBefore: number) {
                line = event.line
                offset = event.offset
            } else {
                line = 1
                offset = 0
            }
        }
        return text.withUnsafeBufferPointer { base -> String? in
            while line < number {
                guard offset < base.count else { return nil }
                offset = Indexer.lineEndIndex(base, from: offset) + 1
                line += 1
            }
            guard offset < base.count else { return nil }
            var end = Indexer.lineEndIndex(base, from: offset)
            if end > offset, base[end - 1] == ASCII.carriageReturn { end -= 1 }
            return String(decoding: UnsafeBufferPointer(rebasing: base[offset..<end]), as: UTF8.self)
        }
    }

    /// The last event line at or before `number`, with its byte offset.
    private func closestEventLine(atOrBefore number: Int) -> (line: Int, offset: Int)? {
        let index = trace.index
        var low = 0
        var high = index.count
        while low < high {
            let mid = (low + high) / 2
            if Int(index[mid].lineNumber) <= number { low = mid + 1 } else { high = mid }
        }
        guard low > 0 else { return nil }
        return (Int(index[low - 1].lineNumber), Int(index[low - 1].lineStart))
    }
}
