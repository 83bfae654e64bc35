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
    /// Lines sampled to detect the layout.
    static let detectionSampleLines = 400

    private var names: [String] = []
    private var nameBytes: [[UInt8]] = []
    private var kinds: [KnownEvent?] = []
    private var nameLookup: [UInt64: [UInt16]] = [:]

    /// Indexes `text`; `format` nil means detect.
    static func index(text: TraceText, source: String, format: TraceFormat?, compression: TraceCompression,
                      datDiagnostics: [TraceDatDiagnostic] = [],
                      progress: (@Sendable (IndexProgress) -> Void)?) -> LoadedTrace {
        var indexer = Indexer()
        return text.withUnsafeBufferPointer { base in
            let (detected, style) = detect(base, forced: format)
            return indexer.run(base, text: text, source: source, format: detected, style: style,
                               compression: compression, datDiagnostics: datDiagnostics, progress: progress)
        }
    }

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
            }
            lineStart = lineEnd + 1
            lines += 1
        }
        if spaced > dashed { return (.perfScript, .spaced) }
        if reportHeader && !tracefsHeader { return (.traceCmdReport, .dashed) }
        if tracefsHeader || dashedWithFlags > 0 || dashed == 0 { return (.tracefs, .dashed) }
        // No header and no flags column: tracefs with irq-info off, or trace-cmd report.
        return padded * 2 > dashed ? (.traceCmdReport, .dashed) : (.tracefs, .dashed)
    }

    /// Index of the `\n` ending the line that starts at `start` (or the end of the text).
    static func lineEndIndex(_ base: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        guard let pointer = base.baseAddress, start < base.count else { return base.count }
        if let found = memchr(pointer + start, Int32(ASCII.newline), base.count - start) {
            return UnsafePointer<UInt8>(found.assumingMemoryBound(to: UInt8.self)) - pointer
        }
        return base.count
    }

    private mutating func run(_ base: UnsafeBufferPointer<UInt8>, text: TraceText, source: String, format: TraceFormat,
                              style: LinePrefix.Style, compression: TraceCompression,
                              datDiagnostics: [TraceDatDiagnostic],
                              progress: (@Sendable (IndexProgress) -> Void)?) -> LoadedTrace {
        var accounting = LineAccounting()
        var diagnostics: [Diagnostic] = []
        var diagnosticTotal = 0
        var diagnosticsByKind: [Diagnostic.Kind: Int] = [:]
        var entries: [IndexEntry] = []
        entries.reserveCapacity(base.count / 120)
        var threads: [Int32: ThreadSummary] = [:]
        var lineNumber = 0
        var lineStart = 0
        var previousWasEventText = false
        var seenEvent = false
        var nextProgress = Self.progressInterval
        var gaps: [EventNumber] = []
        var current: ThreadSummary?

        func note(_ kind: Diagnostic.Kind, _ message: String) {
            diagnosticTotal += 1
            diagnosticsByKind[kind, default: 0] += 1
            if diagnostics.count < Self.storedDiagnosticLimit {
                diagnostics.append(Diagnostic(file: source, line: lineNumber, kind: kind, message: message))
            }
        }

        while lineStart < base.count {
            let newline = Self.lineEndIndex(base, from: lineStart)
            let hasNewline = newline < base.count
            var lineEnd = newline
            if lineEnd > lineStart, base[lineEnd - 1] == ASCII.carriageReturn { lineEnd -= 1 }
            lineNumber += 1
            accounting.read += 1
            defer {
                lineStart = newline + 1
                if lineStart >= nextProgress, let progress {
                    progress(IndexProgress(bytesScanned: min(lineStart, base.count), totalBytes: base.count,
                                           events: entries.count))
                    nextProgress = lineStart + Self.progressInterval
                }
            }
            let line = ByteCursor(base, from: lineStart, to: lineEnd)

            // Metadata: blank lines, comments, tool headers, lost-event markers.
            if line.trimmedEnd == lineStart || isBlank(line) {
                accounting.metadata += 1
                previousWasEventText = false
                continue
            }
            if base[lineStart] == ASCII.hash {
                accounting.metadata += 1
                if seenEvent, line.find("omitted") != nil {
                    note(.omittedLines, "comment inside the body says lines were removed here: \(snippet(line))")
                    if gaps.last != EventNumber(entries.count) { gaps.append(EventNumber(entries.count)) }
                }
                previousWasEventText = false
                continue
            }
            if let lost = lostEvents(line) {
                accounting.metadata += 1
                note(.lostEvents, "the kernel dropped \(lost) events here: \(snippet(line))")
                if seenEvent, gaps.last != EventNumber(entries.count) { gaps.append(EventNumber(entries.count)) }
                previousWasEventText = false
                continue
            }
            if isHeader(line) {
                accounting.metadata += 1
                previousWasEventText = false
                continue
            }

            guard !line.containsNUL,
                  let prefix = LinePrefix.parse(base, start: lineStart, end: lineEnd, style: style),
                  let nameID = internName(base, prefix.nameRange) else {
                accounting.unreadable += 1
                if containsBinary(line) {
                    note(.binaryData, "line holds NUL or other binary bytes")
                } else if !hasNewline {
                    note(.truncatedLine, "last line is cut off: \(snippet(line))")
                } else if previousWasEventText {
                    note(.continuationLine, "looks like a wrapped continuation of the line before: \(snippet(line))")
                } else {
                    note(.unrecognizedLine, "not a \(format) event line: \(snippet(line))")
                }
                // A wrapped line can wrap more than once.
                previousWasEventText = previousWasEventText && hasNewline
                continue
            }

            seenEvent = true
            previousWasEventText = true
            var typed = false
            var vcpu: UInt32?
            if let kind = kinds[Int(nameID)] {
                let result = PayloadParser.parse(kind, base, start: prefix.payloadStart, end: lineEnd)
                if let marker = result.marker { note(marker.kind, marker.message) }
                if let payload = result.payload {
                    typed = true
                    if case .exit(let exit) = payload { vcpu = exit.vcpu }
                    if case .entry(let entry) = payload { vcpu = entry.vcpu }
                } else if result.marker?.kind != .failedToParse {
                    if hasNewline {
                        note(.unrecognizedPayload, "\(names[Int(nameID)]) payload in no known format (kept raw): \(snippet(line))")
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
            if prefix.isCounter { flags |= IndexEntry.counterFlag }
            let length = UInt32(min(lineEnd - lineStart, Int(IndexEntry.lengthMask)))
            entries.append(IndexEntry(lineStart: UInt64(lineStart), timestampValue: prefix.timestampValue,
                                      lineNumber: UInt32(truncatingIfNeeded: lineNumber), pid: prefix.pid,
                                      lengthAndFlags: length | flags, cpu: UInt16(truncatingIfNeeded: prefix.cpu),
                                      nameID: nameID))
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
        if let finished = current { threads[finished.pid] = finished }
        progress?(IndexProgress(bytesScanned: base.count, totalBytes: base.count, events: entries.count))
        // The trace.dat reader reports by record (= event, in order); place them on their lines.
        for datDiagnostic in datDiagnostics {
            lineNumber = datDiagnostic.record < entries.count ? Int(entries[datDiagnostic.record].lineNumber) : lineNumber
            note(.failedToParse, "trace.dat: \(datDiagnostic.message)")
        }
        if !datDiagnostics.isEmpty { diagnostics.sort { $0.line < $1.line } }
        return LoadedTrace(source: source, format: format, compression: compression, diagnostics: diagnostics,
                           diagnosticCount: diagnosticTotal, diagnosticCountsByKind: diagnosticsByKind,
                           lineAccounting: accounting, gaps: gaps, threads: threads, text: text, index: entries, names: names,
                           kinds: kinds, style: style)
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

    private func isBlank(_ line: ByteCursor) -> Bool {
        var copy = line
        copy.skipSpaces()
        return copy.isAtEnd
    }

    /// `cpus=N`, `version = N`, `CPU N is empty`, and trace-cmd's other one-line headers.
    private func isHeader(_ line: ByteCursor) -> Bool {
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
    private func lostEvents(_ line: ByteCursor) -> String? {
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
