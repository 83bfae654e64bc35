#if canImport(Glibc)
import Glibc
#endif

/// Scans trace text once, line by line on bytes, and builds a ``LoadedTrace``.
struct Indexer {
    /// How many diagnostics are kept with their text; the rest are only counted.
    static let storedDiagnosticLimit = 10_000
    /// Report progress after at least this many bytes.
    static let progressInterval = 4 << 20
    /// trace-cmd report pads `name:` so payloads start 22 columns after the name
    /// (`trace-events.md` §1.2); names this long or longer get a single space.
    static let reportNameColumn = 21
    /// `>`: mail quoting; a quoted line is read by the slow path (the `>` is not part of a comm).
    static let quoteMark: UInt8 = 0x3e
    /// Lines sampled to detect the layout.
    static let detectionSampleLines = 400

    private(set) var names: [String] = []
    private var nameBytes: [[UInt8]] = []
    private(set) var kinds: [KnownEvent?] = []
    private var nameLookup: [UInt64: [UInt16]] = [:]

    /// Chooses the layout from the first lines (or applies the forced one).
    static func detect(_ base: UnsafeBufferPointer<UInt8>, forced: TraceFormat?) -> (TraceFormat, LinePrefix.Style) {
        switch forced {
        case .tracefs?, .traceDat?: return (forced ?? .tracefs, .dashed)
        case .traceCmdReport?: return (.traceCmdReport, .dashed)
        case .perfScript?: return (.perfScript, .spaced)
        case nil: break
        }
        var tracefsHeader = false
        var reportHeader = false
        var dashed = 0
        var dashedWithFlags = 0
        var spaced = 0
        var padded = 0
        var reportShapes = 0
        var perfShapes = 0
        var lineStart = 0
        var lines = 0
        while lineStart < base.count, lines < detectionSampleLines {
            let lineEnd = lineEndIndex(base, from: lineStart)
            let line = ByteCursor(base, from: lineStart, to: lineEnd)
            if line.hasPrefix("# tracer:") { tracefsHeader = true }
            if line.hasPrefix("cpus=") || line.hasPrefix("version =") { reportHeader = true }
            if let prefix = LinePrefix.parse(base, start: lineStart, end: lineEnd, style: nil) {
                switch prefix.style {
                case .dashed:
                    dashed += 1
                    if prefix.hasFlags { dashedWithFlags += 1 }
                    // trace-cmd pads short event names so payloads line up; the kernel does not.
                    if prefix.payloadStart - prefix.nameRange.upperBound > 2, prefix.nameRange.count < reportNameColumn {
                        padded += 1
                    }
                case .spaced:
                    spaced += 1
                }
            } else if lineEnd - lineStart <= FlexibleLine.maximumLength,
                      let flex = FlexibleLine.parse(base, start: lineStart, end: lineEnd) {
                // Option layouts the fast reader refuses say which tool wrote them.
                switch flex.shape {
                case .timestampDiff, .gluedTimestamp, .latency: reportShapes += 1
                case .perfPeriod, .perfNoThread: perfShapes += 1
                case .columns: if flex.systemRange != nil { perfShapes += 1 } else if flex.pid != nil { dashed += 1 }
                case .columnStripped: break
                }
            }
            lineStart = lineEnd + 1
            lines += 1
        }
        if perfShapes > 0, perfShapes + spaced > dashed + reportShapes { return (.perfScript, .spaced) }
        if reportShapes > 0, reportShapes + dashed >= spaced { return (.traceCmdReport, .dashed) }
        if spaced > dashed { return (.perfScript, .spaced) }
        if reportHeader && !tracefsHeader { return (.traceCmdReport, .dashed) }
        if tracefsHeader || dashedWithFlags > 0 || dashed == 0 { return (.tracefs, .dashed) }
        // No header and no flags column: tracefs with irq-info off, or trace-cmd report.
        return padded * 2 > dashed ? (.traceCmdReport, .dashed) : (.tracefs, .dashed)
    }

    /// How printed timestamps relate to time.
    enum Timing: Sendable, Hashable {
        /// Absolute: `sec.fraction` nanoseconds, bare integers are counter ticks.
        case absolute
        /// `trace-cmd report` (`--raw-ts`): bare integers are nanoseconds.
        case integerNanoseconds
        /// `perf script --deltatime`: each value is the time since the previous event.
        case deltas
    }

    /// Reads the timing of the first lines: `perf script --deltatime` prints values that
    /// go up and down (an absolute clock never goes back in a merged trace).
    static func detectTiming(_ base: UnsafeBufferPointer<UInt8>, format: TraceFormat) -> Timing {
        if format == .traceCmdReport { return .integerNanoseconds }
        guard format == .perfScript else { return .absolute }
        var lineStart = 0
        var lines = 0
        var previous: Int64?
        var pairs = 0
        var decreases = 0
        while lineStart < base.count, lines < detectionSampleLines {
            let lineEnd = lineEndIndex(base, from: lineStart)
            if let prefix = LinePrefix.parse(base, start: lineStart, end: lineEnd, style: .spaced), !prefix.isCounter {
                if let previous {
                    pairs += 1
                    if prefix.timestampValue < previous { decreases += 1 }
                }
                previous = prefix.timestampValue
            }
            lineStart = lineEnd + 1
            lines += 1
        }
        return pairs >= 3 && decreases * 4 >= pairs ? .deltas : .absolute
    }

    /// Index of the `\n` ending the line that starts at `start` (or the end of the text).
    static func lineEndIndex(_ base: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        guard let pointer = base.baseAddress, start < base.count else { return base.count }
        if let found = memchr(pointer + start, Int32(ASCII.newline), base.count - start) {
            return UnsafePointer<UInt8>(found.assumingMemoryBound(to: UInt8.self)) - pointer
        }
        return base.count
    }

    /// Scans the lines that start in `range` (cut at line starts; `firstLine` lines come
    /// before it) into `entries`, with no state from the lines before: the caller cuts only
    /// where that state cannot matter (see ``IndexPlan``). Line numbers and byte offsets are
    /// the whole text's; event numbers (`gaps`) and name ids are this chunk's own.
    mutating func scan(_ base: UnsafeBufferPointer<UInt8>, range: Range<Int>, firstLine: Int, setup: IndexSetup,
                       entries sink: EntryBuffer, reporter: IndexProgressReporter) -> ChunkScan {
        var entries = sink
        let source = setup.source
        let format = setup.format
        let style = setup.style
        let timing = setup.timing
        let forcedLayout = setup.forcedLayout
        var accounting = LineAccounting()
        var diagnostics: [Diagnostic] = []
        var diagnosticTotal = 0
        var diagnosticsByKind: [Diagnostic.Kind: Int] = [:]
        var threads: [Int32: ThreadSummary] = [:]
        var lineNumber = firstLine
        var lineStart = range.lowerBound
        var previousWasEventText = false
        var seenEvent = false
        var reportedBytes = range.lowerBound
        var reportedEvents = 0
        var nextProgress = range.lowerBound + Self.progressInterval
        var gaps: [EventNumber] = []
        var current: ThreadSummary?
        // Slow-path state (pasted excerpts, option layouts); untouched by well-formed lines.
        var shapes: [FlexibleLine.Shape: Int] = [:]
        var quotedLines = 0
        var joinedLines = 0
        var pseudoPIDs: [String: Int32] = [:]
        /// The last event, while a wrapped continuation could still be joined to it.
        var joinTarget: (entry: Int, start: Int, column: Int, kind: KnownEvent?)?
        /// Its "payload in no known format" diagnostic, held until the next line decides.
        var heldPayloadNote: (line: Int, kind: Diagnostic.Kind, message: String)?
        /// A line holding only an event prefix (`comm-pid [cpu] flags ts:`), its payload on the next line.
        var dangling: (start: Int, line: Int, message: String)?
        var deltaClock: Int64 = 0
        var integerNanoseconds = 0
        /// Lines before this offset were already joined to an event (read ahead).
        var joinedThrough = 0

        func note(_ kind: Diagnostic.Kind, _ message: String, line: Int? = nil) {
            diagnosticTotal += 1
            diagnosticsByKind[kind, default: 0] += 1
            if diagnostics.count < Self.storedDiagnosticLimit {
                diagnostics.append(Diagnostic(file: source, line: line ?? lineNumber, kind: kind, message: message))
            }
        }
        func flushHeld() {
            if let held = heldPayloadNote { note(held.kind, held.message, line: held.line) }
            heldPayloadNote = nil
            if let pending = dangling {
                accounting.unreadable += 1
                note(.unrecognizedLine, pending.message, line: pending.line)
            }
            dangling = nil
        }
        func timestamp(_ value: Int64, isCounter: Bool) -> (Int64, UInt32) {
            var value = value
            if timing == .deltas {
                deltaClock += value
                value = deltaClock
            }
            // trace-cmd report prints nanoseconds as an integer with --raw-ts.
            if isCounter, timing != .integerNanoseconds { return (value, IndexEntry.counterFlag) }
            if isCounter { integerNanoseconds += 1 }
            return (value, 0)
        }
        /// Appends an event read by ``FlexibleLine`` from `start..<end`.
        func addFlexible(_ flex: FlexibleLine, start: Int, end: Int, line: Int) {
            flex.bytes.withUnsafeBufferPointer { buffer in
                guard let nameID = internName(buffer, flex.nameRange) else { accounting.unreadable += 1; return }
                seenEvent = true
                previousWasEventText = true
                shapes[flex.shape, default: 0] += 1
                if flex.wasQuoted { quotedLines += 1 }
                var typed = false
                var vcpu: UInt32?
                let kind = kinds[Int(nameID)]
                if let kind {
                    let result = PayloadParser.parseTolerant(kind, buffer, start: flex.payloadStart, end: buffer.count)
                    if let marker = result.marker { note(marker.kind, marker.message, line: line) }
                    if let payload = result.payload {
                        typed = true
                        if case .exit(let exit) = payload { vcpu = exit.vcpu }
                        if case .entry(let entry) = payload { vcpu = entry.vcpu }
                    } else if result.marker?.kind != .failedToParse {
                        heldPayloadNote = (line, .unrecognizedPayload,
                                           "\(names[Int(nameID)]) payload in no known format (kept raw): \(Self.snippet(flex.bytes))")
                    }
                }
                if typed { accounting.understood += 1 } else { accounting.raw += 1 }
                var flags: UInt32 = (typed ? IndexEntry.typedFlag : 0) | IndexEntry.flexibleFlag
                var value: Int64 = 0
                if let stamp = flex.timestampValue {
                    let (converted, counter) = timestamp(stamp, isCounter: flex.isCounter)
                    value = converted
                    flags |= counter
                } else {
                    flags |= IndexEntry.untimedFlag
                }
                let comm = flex.commRange.map { String(decoding: flex.bytes[$0], as: UTF8.self) } ?? ""
                let pid: Int32
                if let printed = flex.pid {
                    pid = printed
                } else if let known = pseudoPIDs[comm] {
                    pid = known
                } else {
                    pid = Int32(-1 - pseudoPIDs.count)
                    pseudoPIDs[comm] = pid
                }
                let length = UInt32(min(end - start, Int(IndexEntry.lengthMask)))
                entries.append(IndexEntry(lineStart: UInt64(start), timestampValue: value,
                                          lineNumber: UInt32(truncatingIfNeeded: line), pid: pid,
                                          lengthAndFlags: length | flags, cpu: UInt16(truncatingIfNeeded: flex.cpu ?? 0),
                                          nameID: nameID))
                if current?.pid != pid {
                    if let finished = current { threads[finished.pid] = finished }
                    current = threads[pid] ?? ThreadSummary(pid: pid, tgid: flex.tgid, comm: comm, vcpu: nil, eventCount: 0)
                }
                current?.eventCount += 1
                if let vcpu, current?.vcpu == nil { current?.vcpu = vcpu }
                joinTarget = typed ? nil : (entries.count - 1, start, FlexibleLine.indentColumn(base, start: start, end: end), kind)
            }
        }
        /// Tries to join the line `lineStart..<lineEnd` to the held event; true when joined.
        func joinContinuation(lineEnd: Int) -> Bool {
            guard let target = joinTarget, previousWasEventText, lineEnd - target.start <= 4 * FlexibleLine.maximumLength,
                  FlexibleLine.looksLikeContinuation(base, start: lineStart, end: lineEnd),
                  let flex = FlexibleLine.parse(base, start: target.start, end: lineEnd) else { return false }
            var typed = false
            if let kind = target.kind {
                typed = flex.bytes.withUnsafeBufferPointer {
                    PayloadParser.parseTolerant(kind, $0, start: flex.payloadStart, end: $0.count).payload != nil
                }
            }
            // An indented line only joins an event it cannot be proven to complete if it holds
            // text (an underline such as `~~~~~` under an event is an annotation).
            let deeper = FlexibleLine.indentColumn(base, start: lineStart, end: lineEnd) > target.column
                && FlexibleLine.holdsText(base, start: lineStart, end: lineEnd)
            var joinedEnd = lineEnd
            if !typed, !deeper, let kind = target.kind {
                // Not indented: join only if this line and up to 3 more make the event read as one.
                var end = lineEnd
                for _ in 0..<3 {
                    guard end < base.count else { break }
                    let nextStart = end + (base[end] == ASCII.carriageReturn ? 2 : 1)
                    guard nextStart < base.count else { break }
                    var nextEnd = Self.lineEndIndex(base, from: nextStart)
                    if nextEnd > nextStart, base[nextEnd - 1] == ASCII.carriageReturn { nextEnd -= 1 }
                    guard FlexibleLine.looksLikeContinuation(base, start: nextStart, end: nextEnd),
                          FlexibleLine.parse(base, start: nextStart, end: nextEnd) == nil,
                          let longer = FlexibleLine.parse(base, start: target.start, end: nextEnd) else { break }
                    end = nextEnd
                    let reads = longer.bytes.withUnsafeBufferPointer {
                        PayloadParser.parseTolerant(kind, $0, start: longer.payloadStart, end: $0.count).payload != nil
                    }
                    if reads {
                        typed = true
                        joinedEnd = end
                        break
                    }
                }
            }
            guard typed || deeper else { return false }
            if joinedEnd > lineEnd { joinedThrough = joinedEnd }
            var entry = entries[target.entry]
            let length = UInt32(min(joinedEnd - target.start, Int(IndexEntry.lengthMask)))
            var flags = (entry.lengthAndFlags & ~IndexEntry.lengthMask) | IndexEntry.flexibleFlag
            if typed {
                flags |= IndexEntry.typedFlag
                accounting.raw -= 1
                accounting.understood += 1
                heldPayloadNote = nil
                joinTarget = nil
            }
            entry.lengthAndFlags = length | flags
            entries[target.entry] = entry
            accounting.metadata += 1
            joinedLines += 1
            note(.joinedLine, "wrapped line joined to the event on line \(entry.lineNumber)\(typed ? "; the joined event reads as one" : ""): \(snippet(ByteCursor(base, from: lineStart, to: lineEnd)))")
            return true
        }

        while lineStart < range.upperBound {
            let newline = Self.lineEndIndex(base, from: lineStart)
            let hasNewline = newline < base.count
            var lineEnd = newline
            if lineEnd > lineStart, base[lineEnd - 1] == ASCII.carriageReturn { lineEnd -= 1 }
            lineNumber += 1
            accounting.read += 1
            defer {
                lineStart = newline + 1
                if lineStart >= nextProgress {
                    let scanned = min(lineStart, range.upperBound)
                    reporter.advance(bytes: scanned - reportedBytes, events: entries.count - reportedEvents)
                    reportedBytes = scanned
                    reportedEvents = entries.count
                    nextProgress = lineStart + Self.progressInterval
                }
            }
            let line = ByteCursor(base, from: lineStart, to: lineEnd)
            if lineStart < joinedThrough {
                accounting.metadata += 1
                joinedLines += 1
                note(.joinedLine, "wrapped line joined to the event before: \(snippet(line))")
                continue
            }

            // Metadata: blank lines, comments, tool headers, lost-event markers.
            if line.trimmedEnd == lineStart || isBlank(line) {
                accounting.metadata += 1
                previousWasEventText = false
                if heldPayloadNote != nil || dangling != nil { flushHeld() }
                joinTarget = nil
                continue
            }
            if base[lineStart] == ASCII.hash {
                accounting.metadata += 1
                if seenEvent, line.find("omitted") != nil {
                    note(.omittedLines, "comment inside the body says lines were removed here: \(snippet(line))")
                    if gaps.last != EventNumber(entries.count) { gaps.append(EventNumber(entries.count)) }
                }
                previousWasEventText = false
                if heldPayloadNote != nil || dangling != nil { flushHeld() }
                joinTarget = nil
                continue
            }
            if let lost = lostEvents(line) {
                accounting.metadata += 1
                note(.lostEvents, "the kernel dropped \(lost) events here: \(snippet(line))")
                if seenEvent, gaps.last != EventNumber(entries.count) { gaps.append(EventNumber(entries.count)) }
                previousWasEventText = false
                if heldPayloadNote != nil || dangling != nil { flushHeld() }
                joinTarget = nil
                continue
            }
            if isHeader(line) {
                accounting.metadata += 1
                previousWasEventText = false
                continue
            }

            guard !line.containsNUL,
                  let prefix = LinePrefix.parse(base, start: lineStart, end: lineEnd, style: style),
                  base[prefix.commRange.lowerBound] != Self.quoteMark,
                  let nameID = internName(base, prefix.nameRange) else {
                // Slow path: joins, pasted and option layouts, then unreadable.
                if containsBinary(line) {
                    if heldPayloadNote != nil || dangling != nil { flushHeld() }
                    accounting.unreadable += 1
                    note(.binaryData, "line holds NUL or other binary bytes")
                    previousWasEventText = false
                    joinTarget = nil
                    continue
                }
                // A clean line of another layout stays unreadable under a forced --format;
                // lines longer than any pasted event skip the slow reader.
                let slowReadable = lineEnd - lineStart <= FlexibleLine.maximumLength
                    && !(forcedLayout && LinePrefix.parse(base, start: lineStart, end: lineEnd, style: nil) != nil)
                if !slowReadable {
                    if heldPayloadNote != nil || dangling != nil { flushHeld() }
                    joinTarget = nil
                    dangling = nil
                }
                if slowReadable, let pending = dangling {
                    dangling = nil
                    if let flex = FlexibleLine.parse(base, start: pending.start, end: lineEnd), flex.pid != nil {
                        accounting.metadata += 1
                        joinedLines += 1
                        note(.joinedLine, "event prefix on line \(pending.line) joined with its event on this line")
                        if heldPayloadNote != nil { flushHeld() }
                        addFlexible(flex, start: pending.start, end: lineEnd, line: pending.line)
                        continue
                    }
                    dangling = pending
                }
                if slowReadable, seenEvent, FlexibleLine.isElision(base, start: lineStart, end: lineEnd) {
                    // `...` in a paste: the author left events out here.
                    if heldPayloadNote != nil || dangling != nil { flushHeld() }
                    accounting.metadata += 1
                    note(.omittedLines, "`...` in the excerpt: events were left out here")
                    if gaps.last != EventNumber(entries.count) { gaps.append(EventNumber(entries.count)) }
                    previousWasEventText = false
                    joinTarget = nil
                    continue
                }
                if slowReadable, let flex = FlexibleLine.parse(base, start: lineStart, end: lineEnd) {
                    if heldPayloadNote != nil || dangling != nil { flushHeld() }
                    addFlexible(flex, start: lineStart, end: lineEnd, line: lineNumber)
                    continue
                }
                if slowReadable, joinContinuation(lineEnd: lineEnd) { continue }
                if heldPayloadNote != nil || dangling != nil { flushHeld() }
                joinTarget = nil
                if !hasNewline {
                    accounting.unreadable += 1
                    note(.truncatedLine, "last line is cut off: \(snippet(line))")
                } else if slowReadable, line.trimmedEnd > lineStart, base[line.trimmedEnd - 1] == ASCII.colon,
                          FlexibleLine.isPrefixOnly(base, start: lineStart, end: lineEnd) {
                    // `comm-pid [cpu] flags ts:` with the event on the next line.
                    dangling = (lineStart, lineNumber, "not a \(format) event line: \(snippet(line))")
                } else if previousWasEventText {
                    accounting.unreadable += 1
                    note(.continuationLine, "looks like a wrapped continuation of the line before: \(snippet(line))")
                } else {
                    accounting.unreadable += 1
                    note(.unrecognizedLine, "not a \(format) event line: \(snippet(line))")
                }
                // A wrapped line can wrap more than once.
                previousWasEventText = previousWasEventText && hasNewline
                continue
            }
            if heldPayloadNote != nil || dangling != nil { flushHeld() }

            seenEvent = true
            previousWasEventText = true
            var typed = false
            var vcpu: UInt32?
            let kind = kinds[Int(nameID)]
            if let kind {
                var result = PayloadParser.parse(kind, base, start: prefix.payloadStart, end: lineEnd)
                if result.payload == nil { result = PayloadParser.parseTolerant(kind, base, start: prefix.payloadStart, end: lineEnd) }
                if let marker = result.marker { note(marker.kind, marker.message) }
                if let payload = result.payload {
                    typed = true
                    if case .exit(let exit) = payload { vcpu = exit.vcpu }
                    if case .entry(let entry) = payload { vcpu = entry.vcpu }
                } else if result.marker?.kind != .failedToParse {
                    if hasNewline {
                        heldPayloadNote = (lineNumber, .unrecognizedPayload,
                                           "\(names[Int(nameID)]) payload in no known format (kept raw): \(snippet(line))")
                    } else {
                        note(.truncatedLine, "last line is cut off (kept raw): \(snippet(line))")
                    }
                }
            } else {
                var payload = ByteCursor(base, from: prefix.payloadStart, to: lineEnd)
                if payload.literal("[FAILED TO PARSE]") {
                    note(.failedToParse, "libtraceevent could not parse \(names[Int(nameID)]); kept raw")
                } else if payload.literal("<CANT FIND FIELD") || payload.literal("<CAN'T FIND FIELD") {
                    note(.missingField, "libtraceevent could not find a field of \(names[Int(nameID)]); kept raw")
                }
            }
            if typed { accounting.understood += 1 } else { accounting.raw += 1 }

            var flags: UInt32 = typed ? IndexEntry.typedFlag : 0
            var timestampValue = prefix.timestampValue
            if prefix.isCounter || timing == .deltas {
                let (value, counter) = timestamp(prefix.timestampValue, isCounter: prefix.isCounter)
                timestampValue = value
                flags |= counter
            }
            let length = UInt32(min(lineEnd - lineStart, Int(IndexEntry.lengthMask)))
            entries.append(IndexEntry(lineStart: UInt64(lineStart), timestampValue: timestampValue,
                                      lineNumber: UInt32(truncatingIfNeeded: lineNumber), pid: prefix.pid,
                                      lengthAndFlags: length | flags, cpu: UInt16(truncatingIfNeeded: prefix.cpu),
                                      nameID: nameID, payloadOffset: prefix.payloadStart - lineStart))
            joinTarget = typed ? nil : (entries.count - 1, lineStart,
                                        FlexibleLine.indentColumn(base, start: lineStart, end: lineEnd), kind)
            // Consecutive events mostly share a thread: keep its summary in hand.
            if current?.pid != prefix.pid {
                if let finished = current { threads[finished.pid] = finished }
                current = threads[prefix.pid]
                    ?? ThreadSummary(pid: prefix.pid, tgid: prefix.tgid, comm: line.string(prefix.commRange),
                                     vcpu: nil, eventCount: 0)
            }
            current?.eventCount += 1
            if let vcpu, current?.vcpu == nil { current?.vcpu = vcpu }
        }
        if heldPayloadNote != nil || dangling != nil { flushHeld() }
        if let finished = current { threads[finished.pid] = finished }
        reporter.advance(bytes: range.upperBound - reportedBytes, events: entries.count - reportedEvents)
        return ChunkScan(accounting: accounting, diagnostics: diagnostics, diagnosticTotal: diagnosticTotal,
                         diagnosticsByKind: diagnosticsByKind, threads: threads, gaps: gaps, eventCount: entries.count,
                         shapes: shapes, quotedLines: quotedLines, joinedLines: joinedLines, pseudoThreads: pseudoPIDs.count,
                         integerNanoseconds: integerNanoseconds, joinedThrough: joinedThrough, names: names, kinds: kinds,
                         tables: entries.tables)
    }

    /// The first 80 bytes of `bytes`, as text.
    static func snippet(_ bytes: [UInt8]) -> String {
        let text = String(decoding: bytes.prefix(80), as: UTF8.self)
        return bytes.count > 80 ? text + "…" : text
    }

    // MARK: - Names

    /// The id of the event name at `range`, adding it on first sight; nil if the table is full.
    private mutating func internName(_ base: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> UInt16? {
        // FNV-1a, 64 bit.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        var index = range.lowerBound
        while index < range.upperBound {
            hash = (hash ^ UInt64(base[index])) &* 0x100_0000_01b3
            index += 1
        }
        if let candidates = nameLookup[hash], let start = base.baseAddress.map({ $0 + range.lowerBound }) {
            for id in candidates {
                let known = nameBytes[Int(id)]
                let equal = known.count == range.count
                    && known.withUnsafeBufferPointer { $0.baseAddress.map { memcmp($0, start, range.count) == 0 } ?? true }
                if equal { return id }
            }
        }
        guard names.count < Int(UInt16.max) else { return nil }
        let id = UInt16(names.count)
        let bytes = Array(base[range])
        let name = String(decoding: bytes, as: UTF8.self)
        names.append(name)
        nameBytes.append(bytes)
        kinds.append(KnownEvent.byName[name])
        nameLookup[hash, default: []].append(id)
        return id
    }

    // MARK: - Line classes

    func isBlank(_ line: ByteCursor) -> Bool {
        var copy = line
        copy.skipSpaces()
        return copy.isAtEnd
    }

    /// `cpus=N`, `version = N`, `CPU N is empty`, and trace-cmd's other one-line headers.
    func isHeader(_ line: ByteCursor) -> Bool {
        var copy = line
        if copy.literal("cpus=") { return copy.decimal() != nil && copy.isAtEnd }
        if copy.literal("version") {
            copy.skipSpaces()
            return copy.literal("=")
        }
        if copy.literal("CPU ") {
            return copy.decimal() != nil && copy.literal(" is empty")
        }
        return false
    }

    /// `CPU:2 [LOST 123 EVENTS]` (tracefs) or `CPU 2 [LOST 123 EVENTS]`: the count, as text.
    func lostEvents(_ line: ByteCursor) -> String? {
        var copy = line
        copy.skipSpaces()
        guard copy.literal("CPU"), copy.literal(":") || copy.literal(" "), copy.decimal() != nil,
              copy.key("[LOST"), let count = copy.spacedDecimal(), copy.key("EVENTS]") else { return nil }
        return String(count)
    }

    /// NUL or other C0 control bytes (except tab).
    private func containsBinary(_ line: ByteCursor) -> Bool {
        var index = line.position
        while index < line.end {
            let byte = line.base[index]
            if (byte < 0x20 && byte != ASCII.tab) || byte == 0x7f { return true }
            index += 1
        }
        return false
    }

    /// The first 80 bytes of the line, printable.
    private func snippet(_ line: ByteCursor) -> String {
        let end = min(line.end, line.position + 80)
        let text = line.string(line.position..<end)
        return end < line.end ? text + "…" : text
    }
}
