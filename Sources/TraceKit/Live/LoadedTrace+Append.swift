/// Growing a loaded trace by the lines appended to its file or pipe, without indexing the
/// lines already read again.
extension LoadedTrace {
    /// An empty trace of `format`, the start of a live trace whose input has no line yet.
    public static func empty(source: String, format: TraceFormat = .tracefs) -> LoadedTrace {
        LoadedTrace(
            source: source, format: format, compression: .none, diagnostics: [], diagnosticCount: 0,
            diagnosticCountsByKind: [:], lineAccounting: LineAccounting(), gaps: [], threads: [:],
            text: TraceText(bytes: []), index: CompactIndex(), names: [], kinds: [],
            style: format == .perfScript ? .spaced : .dashed)
    }

    /// This trace followed by `lines` (complete lines, ending in a newline, as
    /// ``LineSplitter/feed(_:)`` gives them).
    ///
    /// Only `lines` are indexed, with this trace's layout; their event numbers, line numbers
    /// and byte offsets continue this trace's, so every event already read keeps its number
    /// (a replay can carry on from ``count``). While this trace has no event yet, the layout
    /// is still open and the whole text is indexed again with detection (a header alone does
    /// not tell the layout).
    /// `format` is the layout to read while this trace is still empty (nil detects it).
    public func appending(lines: [UInt8], format first: TraceFormat? = nil) -> LoadedTrace {
        guard !lines.isEmpty else { return self }
        var all = text.prefix(text.count)
        all.append(contentsOf: lines)
        if count == 0 {
            return Indexer.index(text: TraceText(bytes: all), source: source, format: first, compression: .none,
                                 progress: nil)
        }
        let part = Indexer.index(text: TraceText(bytes: lines), source: source, format: format,
                                 compression: .none, progress: nil)
        let byteBase = UInt64(text.count)
        let lineBase = lineAccounting.read
        let eventBase = count

        var names = self.names
        var kinds = self.kinds
        var nameIDs: [UInt16] = []
        nameIDs.reserveCapacity(part.names.count)
        for (id, name) in part.names.enumerated() {
            if let known = names.firstIndex(of: name) {
                nameIDs.append(UInt16(known))
            } else {
                nameIDs.append(UInt16(truncatingIfNeeded: names.count))
                names.append(name)
                kinds.append(part.kinds[id])
            }
        }
        var index = self.index
        index.reserveCapacity(index.count + part.index.count)
        for var entry in part.index {
            entry.lineStart += byteBase
            // A payload offset is only valid under the style the trace re-reads its lines with.
            if part.style != style { entry.payloadOffset = 0 }
            entry.lineNumber += UInt32(truncatingIfNeeded: lineBase)
            entry.nameID = nameIDs[Int(entry.nameID)]
            index.append(entry)
        }
        var threads = self.threads
        for (pid, summary) in part.threads {
            if var known = threads[pid] {
                known.eventCount += summary.eventCount
                known.tgid = known.tgid ?? summary.tgid
                known.vcpu = known.vcpu ?? summary.vcpu
                threads[pid] = known
            } else {
                threads[pid] = summary
            }
        }
        var diagnostics = self.diagnostics
        for var diagnostic in part.diagnostics where diagnostics.count < Indexer.storedDiagnosticLimit {
            diagnostic.line += lineBase
            diagnostics.append(diagnostic)
        }
        var byKind = diagnosticCountsByKind
        for (kind, n) in part.diagnosticCountsByKind { byKind[kind, default: 0] += n }
        let accounting = LineAccounting(
            read: lineAccounting.read + part.lineAccounting.read,
            understood: lineAccounting.understood + part.lineAccounting.understood,
            raw: lineAccounting.raw + part.lineAccounting.raw,
            unreadable: lineAccounting.unreadable + part.lineAccounting.unreadable,
            metadata: lineAccounting.metadata + part.lineAccounting.metadata)
        var notes = readerNotes
        for note in part.readerNotes where !notes.contains(note) { notes.append(note) }
        return LoadedTrace(
            source: source, format: format, compression: compression, diagnostics: diagnostics,
            diagnosticCount: diagnosticCount + part.diagnosticCount, diagnosticCountsByKind: byKind,
            lineAccounting: accounting, gaps: gaps + part.gaps.map { EventNumber($0.rawValue + eventBase) },
            threads: threads, text: TraceText(bytes: all), index: index, names: names, kinds: kinds,
            style: style, readerNotes: notes)
    }
}
