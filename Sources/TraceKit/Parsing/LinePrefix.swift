/// The part of an event line before the payload, located in the loaded bytes.
struct LinePrefix {
    /// How comm and pid are joined.
    enum Style: Sendable, Hashable {
        /// `comm-pid` (tracefs `trace`/`trace_pipe`, `trace-cmd report`).
        case dashed
        /// `comm tid` or `comm pid/tid` with a `system:` event prefix (`perf script`).
        case spaced
    }

    /// Byte range of the comm (spaces around it trimmed).
    var commRange: Range<Int>
    /// Thread id.
    var pid: Int32
    /// Thread-group id when printed (`(  4140)` tgid column, perf `pid/tid`).
    var tgid: Int32?
    /// CPU number.
    var cpu: Int
    /// Timestamp value (nanoseconds, or counter ticks).
    var timestampValue: Int64
    /// Whether the timestamp is an integer counter.
    var isCounter: Bool
    /// Whether an irq-flags column was present.
    var hasFlags: Bool
    /// Byte range of the event name.
    var nameRange: Range<Int>
    /// Byte range of the `system:` prefix (perf), if any.
    var systemRange: Range<Int>?
    /// First byte of the payload (padding skipped).
    var payloadStart: Int
    /// comm/pid style.
    var style: Style

    /// Parses the prefix of `base[start..<end]`, or returns nil when the line is not an
    /// event line. `style` restricts the accepted comm/pid join (nil accepts both).
    ///
    /// The comm may contain spaces, dashes and brackets, so candidates are tried at every
    /// `[` that opens a `[<digits>]` CPU field, left to right; the pid is the digit run
    /// right before it (after an optional `(tgid)` column).
    static func parse(_ base: UnsafeBufferPointer<UInt8>, start: Int, end: Int, style: Style?) -> LinePrefix? {
        var bracket = start
        while bracket < end {
            if base[bracket] == ASCII.openBracket,
               let prefix = parse(base, start: start, end: end, bracket: bracket, style: style) {
                return prefix
            }
            bracket += 1
        }
        return nil
    }

    private static func parse(_ base: UnsafeBufferPointer<UInt8>, start: Int, end: Int, bracket: Int,
                              style: Style?) -> LinePrefix? {
        // [cpu]
        var cursor = ByteCursor(base, from: bracket + 1, to: end)
        guard let cpu = cursor.decimal(), cpu <= UInt64(UInt16.max), cursor.literal("]") else { return nil }

        // Left side, read backwards: spaces, optional (tgid), spaces, pid digits, '-' or ' '.
        var index = bracket - 1
        guard index >= start, base[index] == ASCII.space else { return nil }
        while index >= start, base[index] == ASCII.space { index -= 1 }
        var tgid: Int32?
        if index >= start, base[index] == ASCII.closeParen {
            var open = index - 1
            while open >= start, base[open] != ASCII.openParen { open -= 1 }
            guard open >= start else { return nil }
            var inner = ByteCursor(base, from: open + 1, to: index)
            inner.skipSpaces()
            guard let value = inner.decimal(), inner.isAtEnd, value <= UInt64(Int32.max) else { return nil }
            tgid = Int32(value)
            index = open - 1
            while index >= start, base[index] == ASCII.space { index -= 1 }
        }
        let digitsEnd = index + 1
        while index >= start, ASCII.isDigit(base[index]) { index -= 1 }
        let digitsStart = index + 1
        guard digitsStart < digitsEnd, digitsEnd - digitsStart <= 10 else { return nil }
        var digits = ByteCursor(base, from: digitsStart, to: digitsEnd)
        guard let pidValue = digits.decimal(), pidValue <= UInt64(Int32.max) else { return nil }
        var lineStyle: Style
        var commEnd: Int
        if index >= start, base[index] == ASCII.dash {
            lineStyle = .dashed
            commEnd = index
        } else if index >= start, base[index] == ASCII.slash {
            // perf `pid/tid`
            var pidEnd = index
            var pidIndex = index - 1
            while pidIndex >= start, ASCII.isDigit(base[pidIndex]) { pidIndex -= 1 }
            var pidCursor = ByteCursor(base, from: pidIndex + 1, to: pidEnd)
            guard pidIndex + 1 < pidEnd, let group = pidCursor.decimal(), group <= UInt64(Int32.max),
                  pidIndex < start || base[pidIndex] == ASCII.space else { return nil }
            tgid = Int32(group)
            lineStyle = .spaced
            pidEnd = pidIndex + 1
            commEnd = max(start, pidEnd - 1)
        } else if index < start || base[index] == ASCII.space {
            lineStyle = .spaced
            commEnd = max(start, index)
        } else {
            return nil
        }
        if let style, style != lineStyle { return nil }
        var commStart = start
        while commStart < commEnd, base[commStart] == ASCII.space { commStart += 1 }
        var commLast = commEnd
        while commLast > commStart, base[commLast - 1] == ASCII.space { commLast -= 1 }

        // Right side: spaces, [flags spaces] timestamp ':'.
        guard cursor.skipSpaces() > 0 else { return nil }
        var hasFlags = false
        var stamp = parseTimestamp(&cursor)
        if stamp == nil {
            guard let flags = cursor.word(), flags.count <= maximumFlagsWidth else { return nil }
            hasFlags = true
            guard cursor.skipSpaces() > 0 else { return nil }
            stamp = parseTimestamp(&cursor)
        }
        guard let (timestampValue, isCounter) = stamp else { return nil }

        // Event name, with an optional `system:` (perf).
        cursor.skipSpaces()
        let firstStart = cursor.position
        while let byte = cursor.peek, ASCII.isNameByte(byte) { cursor.position += 1 }
        var nameRange = firstStart..<cursor.position
        guard !nameRange.isEmpty, cursor.literal(":") else { return nil }
        var systemRange: Range<Int>?
        if let byte = cursor.peek, ASCII.isNameByte(byte) {
            let secondStart = cursor.position
            while let next = cursor.peek, ASCII.isNameByte(next) { cursor.position += 1 }
            guard cursor.literal(":") else { return nil }
            systemRange = nameRange
            nameRange = secondStart..<(cursor.position - 1)
        }
        if lineStyle == .spaced, systemRange == nil { return nil }
        if let next = cursor.peek, next != ASCII.space, next != ASCII.tab { return nil }
        cursor.skipSpaces()
        return LinePrefix(commRange: commStart..<commLast, pid: Int32(pidValue), tgid: tgid, cpu: Int(cpu),
                          timestampValue: timestampValue, isCounter: isCounter, hasFlags: hasFlags,
                          nameRange: nameRange, systemRange: systemRange, payloadStart: cursor.position,
                          style: lineStyle)
    }

    /// Widest irq-flags column accepted (5 today, 4 on old kernels; a little slack for new columns).
    static let maximumFlagsWidth = 8

    /// Nanoseconds per second, for `sec.fraction` timestamps.
    static let nanosecondsPerSecond: Int64 = 1_000_000_000

    /// Reads `<digits>[.<digits>]:`; returns (value, isCounter).
    private static func parseTimestamp(_ cursor: inout ByteCursor) -> (Int64, Bool)? {
        let start = cursor.position
        guard let seconds = cursor.decimal() else { return nil }
        if cursor.literal(":") {
            guard seconds <= UInt64(Int64.max) else { cursor.position = start; return nil }
            return (Int64(seconds), true)
        }
        guard cursor.literal(".") else { cursor.position = start; return nil }
        let fractionStart = cursor.position
        guard let fraction = cursor.decimal() else { cursor.position = start; return nil }
        let fractionDigits = cursor.position - fractionStart
        guard fractionDigits <= 9, cursor.literal(":"),
              seconds < UInt64(Int64.max / nanosecondsPerSecond) else { cursor.position = start; return nil }
        var scale: Int64 = 1
        for _ in fractionDigits..<9 { scale *= 10 }
        return (Int64(seconds) * nanosecondsPerSecond + Int64(fraction) * scale, false)
    }
}
