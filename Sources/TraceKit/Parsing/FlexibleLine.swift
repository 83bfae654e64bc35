/// The slow reader for event lines the fast ``LinePrefix`` does not take: pasted excerpts
/// and the layouts of `trace-cmd report` / `perf script` options.
///
/// It only runs on lines the fast path refused (and on events it indexed), so well-formed
/// tracefs, report and perf lines never pay for it. It copies the line into a small buffer,
/// normalizes it and reads the prefix from there:
/// - `> ` mail quoting (any depth) is dropped; tabs become spaces;
/// - several physical lines (a wrapped event joined back by the indexer) are joined with
///   one space;
/// - `trace-cmd report --ts-diff` `(+N)` after the timestamp is dropped;
/// - `trace-cmd report --raw-ts` past 100 s prints no space after `[cpu]`: one is added;
/// - `trace-cmd report -l` (latency) prints `comm-pid  0d..1.  ts:` (CPU and flags glued):
///   rewritten to `comm-pid [000] d..1. ts:`;
/// - `perf script -F +period` prints the period between the timestamp and the event;
/// - `perf script -F comm,time,event,trace` prints no tid and no CPU;
/// - excerpts that lost their columns (`kvm_exit: reason …`, `kvm:kvm_exit: …`), with or
///   without a leading timestamp.
struct FlexibleLine {
    /// How the line was read.
    enum Shape: String, Sendable, Hashable, CaseIterable {
        /// The fast layout, after quoting/joining was undone.
        case columns = "full columns"
        /// `trace-cmd report --ts-diff`.
        case timestampDiff = "trace-cmd report --ts-diff"
        /// `trace-cmd report --raw-ts` past 100 s (no space after `]`).
        case gluedTimestamp = "trace-cmd report --raw-ts"
        /// `trace-cmd report -l`.
        case latency = "trace-cmd report -l (latency format)"
        /// `perf script -F +period`.
        case perfPeriod = "perf script -F +period"
        /// `perf script` without tid and CPU columns.
        case perfNoThread = "perf script without tid/cpu columns"
        /// Only `[timestamp:] event: payload`.
        case columnStripped = "event and payload only (columns stripped)"
    }

    /// `=`: a quoted-printable soft line break when it ends a physical line of a joined event.
    static let equalsSign: UInt8 = 0x3d

    /// Longest physical line the slow reader looks at (pasted events are far shorter; a
    /// 10 MB garbage line must not be copied and rescanned).
    static let maximumLength = 16 << 10

    /// The normalized bytes the ranges point into.
    var bytes: [UInt8]
    /// How it was read.
    var shape: Shape
    /// Whether `> ` quoting was removed.
    var wasQuoted: Bool
    /// Byte range of the comm, if printed.
    var commRange: Range<Int>?
    /// Thread id, if printed.
    var pid: Int32?
    /// Thread-group id, if printed.
    var tgid: Int32?
    /// CPU, if printed.
    var cpu: Int?
    /// Timestamp value (ns or ticks), if printed.
    var timestampValue: Int64?
    /// Whether the timestamp is a bare integer.
    var isCounter: Bool
    /// Event name.
    var nameRange: Range<Int>
    /// `system:` prefix, if printed.
    var systemRange: Range<Int>?
    /// First payload byte.
    var payloadStart: Int

    /// The name as text.
    var name: String { String(decoding: bytes[nameRange], as: UTF8.self) }

    // MARK: - Normalizing

    /// Strips `>` quoting and leading blanks of one physical line; returns the content start
    /// and whether quoting was found.
    static func contentStart(_ base: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> (Int, Bool) {
        var index = start
        var quoted = false
        while index < end {
            let byte = base[index]
            if byte == ASCII.space || byte == ASCII.tab { index += 1; continue }
            if byte == 0x3e { quoted = true; index += 1; continue }  // '>'
            break
        }
        return (quoted ? index : start, quoted)
    }

    /// The bytes of `base[start..<end]` (one or more physical lines) as one line: quoting
    /// dropped, lines joined with one space, tabs turned into spaces, `\r` dropped.
    static func normalize(_ base: UnsafeBufferPointer<UInt8>, start: Int, end: Int) -> (bytes: [UInt8], quoted: Bool) {
        var out: [UInt8] = []
        out.reserveCapacity(end - start + 8)
        var anyQuoted = false
        var lineStart = start
        var first = true
        var softBreak = false
        while lineStart <= end {
            var lineEnd = lineStart
            while lineEnd < end, base[lineEnd] != ASCII.newline { lineEnd += 1 }
            var contentEnd = lineEnd
            while contentEnd > lineStart, base[contentEnd - 1] == ASCII.carriageReturn { contentEnd -= 1 }
            var (content, quoted) = contentStart(base, lineStart, contentEnd)
            anyQuoted = anyQuoted || quoted
            if !first {
                if softBreak {
                    // Quoted-printable soft line break (`=` at the end): the text goes on unbroken.
                    out.removeLast()
                } else {
                    while content < contentEnd, base[content] == ASCII.space || base[content] == ASCII.tab { content += 1 }
                    while let last = out.last, last == ASCII.space { out.removeLast() }
                    out.append(ASCII.space)
                }
            }
            var index = content
            while index < contentEnd {
                let byte = base[index]
                out.append(byte == ASCII.tab ? ASCII.space : byte)
                index += 1
            }
            first = false
            softBreak = contentEnd > lineStart && base[contentEnd - 1] == Self.equalsSign
            if lineEnd >= end { break }
            lineStart = lineEnd + 1
        }
        while let last = out.last, last == ASCII.space { out.removeLast() }
        return (out, anyQuoted)
    }

    // MARK: - Reading

    /// Reads `base[start..<end]` (one or more physical lines), or nil when no shape fits.
    static func parse(_ base: UnsafeBufferPointer<UInt8>, start: Int, end: Int) -> FlexibleLine? {
        let (bytes, quoted) = normalize(base, start: start, end: end)
        return parse(normalized: bytes, quoted: quoted)
    }

    static func parse(normalized bytes: [UInt8], quoted: Bool) -> FlexibleLine? {
        guard !bytes.isEmpty else { return nil }
        if let line = withPrefix(bytes, shape: .columns, quoted: quoted) { return line }
        if let rewritten = removingTimestampDiff(bytes), let line = withPrefix(rewritten, shape: .timestampDiff, quoted: quoted) {
            return line
        }
        if let rewritten = spacingGluedTimestamp(bytes), let line = withPrefix(rewritten, shape: .gluedTimestamp, quoted: quoted) {
            return line
        }
        if let rewritten = latencyToColumns(bytes), let line = withPrefix(rewritten, shape: .latency, quoted: quoted) {
            return line
        }
        if let rewritten = removingPeriod(bytes), let line = withPrefix(rewritten, shape: .perfPeriod, quoted: quoted) {
            return line
        }
        return withoutColumns(bytes, quoted: quoted)
    }

    /// Reads `bytes` with the fast prefix reader.
    private static func withPrefix(_ bytes: [UInt8], shape: Shape, quoted: Bool) -> FlexibleLine? {
        bytes.withUnsafeBufferPointer { buffer -> FlexibleLine? in
            guard let prefix = LinePrefix.parse(buffer, start: 0, end: buffer.count, style: nil) else { return nil }
            return FlexibleLine(bytes: bytes, shape: shape, wasQuoted: quoted, commRange: prefix.commRange,
                                pid: prefix.pid, tgid: prefix.tgid, cpu: prefix.cpu,
                                timestampValue: prefix.timestampValue, isCounter: prefix.isCounter,
                                nameRange: prefix.nameRange, systemRange: prefix.systemRange,
                                payloadStart: prefix.payloadStart)
        }
    }

    /// Position just after the first `<digits>[.<digits>]:` token that is preceded by a
    /// space (or `]`), with the token's start.
    private static func timestampToken(_ bytes: [UInt8], from: Int = 0) -> (start: Int, end: Int)? {
        var index = from
        while index < bytes.count {
            if ASCII.isDigit(bytes[index]), index == 0 || bytes[index - 1] == ASCII.space || bytes[index - 1] == ASCII.closeBracket {
                var cursor = index
                while cursor < bytes.count, ASCII.isDigit(bytes[cursor]) { cursor += 1 }
                if cursor < bytes.count, bytes[cursor] == ASCII.dot {
                    cursor += 1
                    let fraction = cursor
                    while cursor < bytes.count, ASCII.isDigit(bytes[cursor]) { cursor += 1 }
                    if cursor == fraction { index = cursor; continue }
                }
                if cursor < bytes.count, bytes[cursor] == ASCII.colon { return (index, cursor + 1) }
                index = cursor
                continue
            }
            index += 1
        }
        return nil
    }

    /// `ts: (+123)  name:` → `ts: name:`.
    private static func removingTimestampDiff(_ bytes: [UInt8]) -> [UInt8]? {
        guard let stamp = timestampToken(bytes) else { return nil }
        var index = stamp.end
        while index < bytes.count, bytes[index] == ASCII.space { index += 1 }
        guard index + 2 < bytes.count, bytes[index] == ASCII.openParen, bytes[index + 1] == 0x2b || bytes[index + 1] == ASCII.dash
        else { return nil }
        var close = index + 2
        while close < bytes.count, ASCII.isDigit(bytes[close]) || bytes[close] == ASCII.dot { close += 1 }
        guard close < bytes.count, bytes[close] == ASCII.closeParen else { return nil }
        return Array(bytes[..<stamp.end]) + Array(bytes[(close + 1)...])
    }

    /// `[000]123456789:` → `[000] 123456789:`.
    private static func spacingGluedTimestamp(_ bytes: [UInt8]) -> [UInt8]? {
        var index = 0
        while index + 1 < bytes.count {
            if bytes[index] == ASCII.closeBracket, ASCII.isDigit(bytes[index + 1]) {
                var open = index - 1
                while open >= 0, ASCII.isDigit(bytes[open]) { open -= 1 }
                if open >= 0, open < index - 1, bytes[open] == ASCII.openBracket {
                    return Array(bytes[...index]) + [ASCII.space] + Array(bytes[(index + 1)...])
                }
            }
            index += 1
        }
        return nil
    }

    /// `comm-pid  0d..1.   ts: name:` → `comm-pid [000] d..1. ts: name:`.
    private static func latencyToColumns(_ bytes: [UInt8]) -> [UInt8]? {
        guard let stamp = timestampToken(bytes), stamp.start > 0 else { return nil }
        // The token before the timestamp: <cpu digits><flags>.
        var tokenEnd = stamp.start
        while tokenEnd > 0, bytes[tokenEnd - 1] == ASCII.space { tokenEnd -= 1 }
        var tokenStart = tokenEnd
        while tokenStart > 0, bytes[tokenStart - 1] != ASCII.space { tokenStart -= 1 }
        var digitsEnd = tokenStart
        while digitsEnd < tokenEnd, ASCII.isDigit(bytes[digitsEnd]) { digitsEnd += 1 }
        guard digitsEnd > tokenStart, digitsEnd < tokenEnd, tokenEnd - digitsEnd <= LinePrefix.maximumFlagsWidth,
              tokenStart > 0 else { return nil }
        let flags = bytes[digitsEnd..<tokenEnd]
        guard !flags.contains(ASCII.colon), !flags.contains(ASCII.openBracket) else { return nil }
        var out = Array(bytes[..<tokenStart])
        out.append(ASCII.openBracket)
        out += bytes[tokenStart..<digitsEnd]
        out.append(ASCII.closeBracket)
        out.append(ASCII.space)
        out += flags
        out.append(ASCII.space)
        out += bytes[stamp.start...]
        return out
    }

    /// perf `ts:   1   kvm:kvm_exit:` → `ts: kvm:kvm_exit:`.
    private static func removingPeriod(_ bytes: [UInt8]) -> [UInt8]? {
        guard let stamp = timestampToken(bytes) else { return nil }
        var index = stamp.end
        while index < bytes.count, bytes[index] == ASCII.space { index += 1 }
        let digits = index
        while index < bytes.count, ASCII.isDigit(bytes[index]) { index += 1 }
        guard index > digits, index < bytes.count, bytes[index] == ASCII.space else { return nil }
        return Array(bytes[..<stamp.end]) + Array(bytes[index...])
    }

    /// `[comm ][ts: ][system:]name: payload` with no tid/CPU columns.
    private static func withoutColumns(_ bytes: [UInt8], quoted: Bool) -> FlexibleLine? {
        var index = 0
        while index < bytes.count, bytes[index] == ASCII.space { index += 1 }
        var commRange: Range<Int>?
        var timestamp: (Int64, Bool)?
        var shape = Shape.columnStripped
        // perf -F comm,time,…: `comm  ts: system:name:`. The comm may hold spaces.
        if let stamp = timestampToken(bytes, from: index), let value = timestampValue(bytes, stamp) {
            let before = bytes[index..<stamp.start]
            let isName = before.allSatisfy { $0 != ASCII.colon && $0 != ASCII.openBracket }
            if isName {
                var commEnd = stamp.start
                while commEnd > index, bytes[commEnd - 1] == ASCII.space { commEnd -= 1 }
                if commEnd > index { commRange = index..<commEnd; shape = .perfNoThread }
                timestamp = value
                index = stamp.end
                while index < bytes.count, bytes[index] == ASCII.space { index += 1 }
            }
        }
        let firstStart = index
        while index < bytes.count, ASCII.isNameByte(bytes[index]) { index += 1 }
        var nameRange = firstStart..<index
        guard !nameRange.isEmpty, index < bytes.count, bytes[index] == ASCII.colon else { return nil }
        index += 1
        var systemRange: Range<Int>?
        if index < bytes.count, ASCII.isNameByte(bytes[index]) {
            let secondStart = index
            while index < bytes.count, ASCII.isNameByte(bytes[index]) { index += 1 }
            guard index < bytes.count, bytes[index] == ASCII.colon else { return nil }
            systemRange = nameRange
            nameRange = secondStart..<index
            index += 1
        }
        guard index == bytes.count || bytes[index] == ASCII.space else { return nil }
        // Only event names: lower-case identifiers with an underscore, from KVM unless a
        // `system:` prefix says which subsystem (prose such as `Note:` is not an event).
        let name = bytes[nameRange]
        guard name.contains(0x5f), !name.contains(where: { $0 >= 0x41 && $0 <= 0x5a }) else { return nil }
        if systemRange == nil {
            guard name.starts(with: Array("kvm".utf8)) else { return nil }
        }
        if shape == .perfNoThread, systemRange == nil { shape = .columnStripped; commRange = nil; timestamp = nil }
        while index < bytes.count, bytes[index] == ASCII.space { index += 1 }
        return FlexibleLine(bytes: bytes, shape: shape, wasQuoted: quoted, commRange: commRange, pid: nil, tgid: nil,
                            cpu: nil, timestampValue: timestamp?.0, isCounter: timestamp?.1 ?? false,
                            nameRange: nameRange, systemRange: systemRange, payloadStart: index)
    }

    private static func timestampValue(_ bytes: [UInt8], _ token: (start: Int, end: Int)) -> (Int64, Bool)? {
        var seconds: Int64 = 0
        var index = token.start
        while index < token.end - 1, ASCII.isDigit(bytes[index]) {
            let (product, overflow) = seconds.multipliedReportingOverflow(by: 10)
            guard !overflow else { return nil }
            seconds = product + Int64(bytes[index] - ASCII.zero)
            index += 1
        }
        guard bytes[index] == ASCII.dot else { return (seconds, true) }
        index += 1
        var fraction: Int64 = 0
        var digits = 0
        while index < token.end - 1 {
            if digits < 9 { fraction = fraction * 10 + Int64(bytes[index] - ASCII.zero); digits += 1 }
            index += 1
        }
        while digits < 9 { fraction *= 10; digits += 1 }
        guard seconds < Int64.max / 1_000_000_000 else { return nil }
        return (seconds * 1_000_000_000 + fraction, false)
    }

    /// Whether a physical line could be the continuation of a wrapped event: not blank,
    /// not a comment, and not itself the start of an event.
    static func looksLikeContinuation(_ base: UnsafeBufferPointer<UInt8>, start: Int, end: Int) -> Bool {
        let (content, _) = contentStart(base, start, end)
        var index = content
        while index < end, base[index] == ASCII.space || base[index] == ASCII.tab { index += 1 }
        guard index < end, base[index] != ASCII.hash else { return false }
        return true
    }

    /// The column where the line's text starts, past blanks and `>` quoting (tab = 8).
    static func indentColumn(_ base: UnsafeBufferPointer<UInt8>, start: Int, end: Int) -> Int {
        var column = 0
        var index = start
        while index < end {
            let byte = base[index]
            if byte == ASCII.tab { column = (column / 8 + 1) * 8 } else if byte == ASCII.space || byte == 0x3e { column += 1 } else { break }
            index += 1
        }
        return column
    }

    /// Whether the line (after quoting) is only an elision mark: `...`, `[...]`, `…`.
    static func isElision(_ base: UnsafeBufferPointer<UInt8>, start: Int, end: Int) -> Bool {
        var (index, _) = contentStart(base, start, end)
        while index < end, base[index] == ASCII.space || base[index] == ASCII.tab { index += 1 }
        var last = end
        while last > index, base[last - 1] == ASCII.space || base[last - 1] == ASCII.tab || base[last - 1] == ASCII.carriageReturn { last -= 1 }
        let text = String(decoding: UnsafeBufferPointer(rebasing: base[index..<last]), as: UTF8.self)
        return text == "..." || text == "[...]" || text == "…" || text == "...." || text == "[…]"
    }

    /// Whether the line is only an event prefix (`comm-pid [cpu] flags ts:`), its event
    /// printed on the next line.
    static func isPrefixOnly(_ base: UnsafeBufferPointer<UInt8>, start: Int, end: Int) -> Bool {
        var (content, _) = contentStart(base, start, end)
        if content == start { content = start }
        let probe = Array(base[content..<end]) + Array(" e: x".utf8)
        return probe.withUnsafeBufferPointer { LinePrefix.parse($0, start: 0, end: $0.count, style: nil) != nil }
    }

    /// Whether the line holds a letter or a digit.
    static func holdsText(_ base: UnsafeBufferPointer<UInt8>, start: Int, end: Int) -> Bool {
        var index = start
        while index < end {
            let byte = base[index] | 0x20
            if ASCII.isDigit(base[index]) || (byte >= 0x61 && byte <= 0x7a) { return true }
            index += 1
        }
        return false
    }
}
