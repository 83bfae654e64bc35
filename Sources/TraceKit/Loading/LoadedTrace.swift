/// A loaded and indexed trace: the text bytes, one compact index entry per event, the
/// line accounting and the diagnostics.
///
/// Events are decoded on demand from the bytes (``event(at:)``); the index keeps 16
/// bytes per event (``CompactIndex``). A value type: copies share storage.
public struct LoadedTrace: Sendable {
    /// The input's name as given (path, or `-` for stdin).
    public let source: String
    /// The layout the lines were read as.
    public let format: TraceFormat
    /// The compression the input had on disk.
    public let compression: TraceCompression
    /// Lines that could not be read, or only partly, in line order (the first
    /// ``Indexer/storedDiagnosticLimit`` of them; ``diagnosticCount`` counts all).
    public let diagnostics: [Diagnostic]
    /// Number of diagnostics, including those not stored.
    public let diagnosticCount: Int
    /// Number of diagnostics per kind, including those not stored.
    public let diagnosticCountsByKind: [Diagnostic.Kind: Int]
    /// How every line was classified.
    public let lineAccounting: LineAccounting
    /// Every thread seen, by pid.
    public let threads: [Int32: ThreadSummary]
    /// Where events are missing: the number of the first event after each
    /// `CPU:n [LOST k EVENTS]` marker or `# … omitted …` comment inside the body (equal to
    /// ``count`` when the gap is at the end). Anything that pairs events across such a
    /// point (an exit with its entry) must start over there.
    public let gaps: [EventNumber]

    /// The (decompressed) text: a read-only file mapping for plain files.
    let text: TraceText
    /// One entry per event, in file order.
    let index: CompactIndex
    /// Event names by name id.
    let names: [String]
    /// Known-event kind by name id.
    let kinds: [KnownEvent?]
    /// Which comm/pid style the event lines use.
    let style: LinePrefix.Style
    /// How the reader read lines that are not in the plain layout (pasted excerpts, tool
    /// options), one sentence each: shapes seen, quoting, joined lines, missing
    /// timestamps or thread ids, timestamp conversions. Empty for plain files.
    public let readerNotes: [String]

    init(source: String, format: TraceFormat, compression: TraceCompression, diagnostics: [Diagnostic],
         diagnosticCount: Int, diagnosticCountsByKind: [Diagnostic.Kind: Int], lineAccounting: LineAccounting,
         gaps: [EventNumber], threads: [Int32: ThreadSummary], text: TraceText, index: CompactIndex,
         names: [String], kinds: [KnownEvent?], style: LinePrefix.Style, readerNotes: [String] = []) {
        self.source = source
        self.format = format
        self.compression = compression
        self.diagnostics = diagnostics
        self.diagnosticCount = diagnosticCount
        self.diagnosticCountsByKind = diagnosticCountsByKind
        self.lineAccounting = lineAccounting
        self.gaps = gaps
        self.threads = threads
        self.text = text
        self.index = index
        self.names = names
        self.kinds = kinds
        self.style = style
        self.readerNotes = readerNotes
    }

    /// Whether event `number` printed a timestamp (pasted excerpts often have none; then
    /// ``timestamp(of:)`` is 0 and means nothing).
    public func hasTimestamp(_ number: EventNumber) -> Bool { !index[number.rawValue].isUntimed }

    /// Number of events that printed no timestamp.
    public var untimedEventCount: Int { index.reduce(0) { $0 + ($1.isUntimed ? 1 : 0) } }

    /// Number of events.
    public var count: Int { index.count }

    /// All events, decoded lazily as they are accessed.
    public var events: TraceEvents { TraceEvents(trace: self) }

    /// Bytes the index holds (16 per event plus block bases, thread table and the entries
    /// that did not fit a slot; see ``CompactIndex``).
    public var indexByteCount: Int { index.byteCount }

    /// Size of the (decompressed) text in bytes.
    public var textByteCount: Int { text.count }

    /// Event count per event name (every name seen, including raw events).
    public var eventNameCounts: [String: Int] {
        var counts = [Int](repeating: 0, count: names.count)
        for entry in index { counts[Int(entry.nameID)] += 1 }
        var result: [String: Int] = [:]
        for (id, name) in names.enumerated() where counts[id] > 0 { result[name] = counts[id] }
        return result
    }

    /// Every distinct event name, in order of first appearance; ``nameID(of:)`` indexes it.
    public var eventNames: [String] { names }

    /// The position of event `number`'s name in ``eventNames``, without decoding (cheaper
    /// than comparing ``name(of:)`` strings in a loop over every event).
    public func nameID(of number: EventNumber) -> Int { Int(index[number.rawValue].nameID) }

    /// The event name of event `number`, without decoding the payload.
    public func name(of number: EventNumber) -> String { names[Int(index[number.rawValue].nameID)] }

    /// The pid of event `number`, without decoding.
    public func pid(of number: EventNumber) -> Int32 { index.pid(at: number.rawValue) }

    /// The timestamp of event `number`, without decoding.
    public func timestamp(of number: EventNumber) -> TraceTimestamp { index[number.rawValue].timestamp }

    /// Decodes event `number` (precondition: `0 ≤ number < count`).
    public func event(at number: EventNumber) -> TraceEvent {
        precondition(number.rawValue >= 0 && number.rawValue < index.count, "event \(number) out of range 0..<\(index.count)")
        let entry = index[number.rawValue]
        let start = Int(entry.lineStart)
        let end = start + entry.length
        return text.withUnsafeBufferPointer { base in
            let cursor = ByteCursor(base, from: start, to: end)
            let rawText = cursor.string(start..<end)
            if entry.isFlexible, let flex = FlexibleLine.parse(base, start: start, end: end) {
                return flex.bytes.withUnsafeBufferPointer { buffer in
                    var payload = EventPayload.raw
                    if let kind = kinds[Int(entry.nameID)] {
                        payload = PayloadParser.parseTolerant(kind, buffer, start: flex.payloadStart, end: buffer.count).payload ?? .raw
                    }
                    return TraceEvent(number: number, lineNumber: Int(entry.lineNumber), byteRange: start..<end,
                                      comm: flex.commRange.map { String(decoding: flex.bytes[$0], as: UTF8.self) } ?? "",
                                      pid: entry.pid, tgid: flex.tgid, cpu: Int(entry.cpu), timestamp: entry.timestamp,
                                      name: names[Int(entry.nameID)], payload: payload,
                                      payloadText: String(decoding: flex.bytes[flex.payloadStart...], as: UTF8.self),
                                      rawText: rawText)
                }
            }
            guard let prefix = LinePrefix.parse(base, start: start, end: end, style: style) else {
                // Indexed lines always re-parse; keep the event visible if they somehow don't.
                return TraceEvent(number: number, lineNumber: Int(entry.lineNumber), byteRange: start..<end, comm: "",
                                  pid: entry.pid, tgid: nil, cpu: Int(entry.cpu), timestamp: entry.timestamp,
                                  name: names[Int(entry.nameID)], payload: .raw, payloadText: rawText, rawText: rawText)
            }
            var payload = EventPayload.raw
            if let kind = kinds[Int(entry.nameID)] {
                payload = PayloadParser.parseTolerant(kind, base, start: prefix.payloadStart, end: end).payload ?? .raw
            }
            return TraceEvent(number: number, lineNumber: Int(entry.lineNumber), byteRange: start..<end,
                              comm: cursor.string(prefix.commRange), pid: entry.pid, tgid: prefix.tgid,
                              cpu: Int(entry.cpu), timestamp: entry.timestamp, name: names[Int(entry.nameID)],
                              payload: payload, payloadText: cursor.string(prefix.payloadStart..<end), rawText: rawText)
        }
    }

    /// Decodes only the payload of event `number` (cheaper than ``event(at:)``).
    public func payload(of number: EventNumber) -> EventPayload {
        let entry = index[number.rawValue]
        guard let kind = kinds[Int(entry.nameID)] else { return .raw }
        let start = Int(entry.lineStart)
        let end = start + entry.length
        return text.withUnsafeBufferPointer { base in
            if entry.isFlexible {
                guard let flex = FlexibleLine.parse(base, start: start, end: end) else { return .raw }
                return flex.bytes.withUnsafeBufferPointer {
                    PayloadParser.parseTolerant(kind, $0, start: flex.payloadStart, end: $0.count).payload ?? .raw
                }
            }
            // The index kept where the payload starts (the same prefix parse, the same style).
            let offset = entry.payloadOffset
            if offset > 0, offset <= end - start {
                return PayloadParser.parseTolerant(kind, base, start: start + offset, end: end).payload ?? .raw
            }
            guard let prefix = LinePrefix.parse(base, start: start, end: end, style: style) else { return .raw }
            return PayloadParser.parseTolerant(kind, base, start: prefix.payloadStart, end: end).payload ?? .raw
        }
    }

    /// The printed line of event `number`.
    public func rawText(of number: EventNumber) -> String {
        let entry = index[number.rawValue]
        let start = Int(entry.lineStart)
        return text.string(start..<(start + entry.length))
    }

    /// The text of 1-based line `lineNumber` (any line, not only events), or nil if out of range.
    public func rawLine(_ lineNumber: Int) -> String? {
        guard lineNumber >= 1 else { return nil }
        // Start from the closest event line at or before the wanted line.
        var low = 0
        var high = index.count
        while low < high {
            let mid = (low + high) / 2
            if Int(index[mid].lineNumber) <= lineNumber { low = mid + 1 } else { high = mid }
        }
        var line = 1
        var offset = 0
        if low > 0 {
            line = Int(index[low - 1].lineNumber)
            offset = Int(index[low - 1].lineStart)
        }
        while line < lineNumber {
            guard let newline = text.firstIndex(of: ASCII.newline, from: offset) else { return nil }
            offset = newline + 1
            line += 1
        }
        guard offset < text.count else { return nil }
        var end = text.firstIndex(of: ASCII.newline, from: offset) ?? text.count
        if end > offset, text[end - 1] == ASCII.carriageReturn { end -= 1 }
        return text.string(offset..<end)
    }

    /// Event numbers of one thread (a vCPU thread for KVM events), in order. O(count).
    public func eventNumbers(forPID pid: Int32) -> [EventNumber] {
        var numbers: [EventNumber] = []
        for position in index.indices where index.pid(at: position) == pid { numbers.append(EventNumber(position)) }
        return numbers
    }

    /// Event numbers of every thread, grouped by pid, each in order. One pass.
    public func eventNumbersByPID() -> [Int32: [EventNumber]] {
        var streams: [Int32: [EventNumber]] = [:]
        for position in index.indices { streams[index.pid(at: position), default: []].append(EventNumber(position)) }
        return streams
    }

    /// Threads grouped by VM (thread-group id). Threads whose tgid the layout does not print
    /// are grouped under `nil`.
    public var threadsByVM: [Int32?: [ThreadSummary]] {
        Dictionary(grouping: threads.values.sorted { $0.pid < $1.pid }, by: \.tgid)
    }

    /// Event numbers of one VM (all threads with thread-group id `tgid`), in order.
    public func eventNumbers(forVM tgid: Int32) -> [EventNumber] {
        let pids = Set(threads.values.filter { $0.tgid == tgid }.map(\.pid))
        var numbers: [EventNumber] = []
        for position in index.indices where pids.contains(index.pid(at: position)) { numbers.append(EventNumber(position)) }
        return numbers
    }
}

/// The events of a ``LoadedTrace`` as a random-access collection, decoded on access.
public struct TraceEvents: RandomAccessCollection, Sendable {
    /// The trace.
    let trace: LoadedTrace
    /// First event number (0).
    public var startIndex: Int { 0 }
    /// One past the last event number.
    public var endIndex: Int { trace.count }
    /// Decodes event `position`.
    public subscript(position: Int) -> TraceEvent { trace.event(at: EventNumber(position)) }
}
