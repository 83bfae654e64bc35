#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Synchronization

/// What every chunk of one text is read with: decided once from the first lines.
struct IndexSetup: Sendable {
    var source: String
    var format: TraceFormat
    var style: LinePrefix.Style
    var timing: Indexer.Timing
    var forcedLayout: Bool
}

/// A chunk's window into the index being built: slots are written in place, at most
/// `capacity` of them (a chunk has no more events than lines), encoded against the chunk's
/// own ``IndexTables`` (positions counted from the chunk's first event).
struct EntryBuffer {
    let start: UnsafeMutablePointer<IndexSlot>
    let capacity: Int
    private(set) var count = 0
    private(set) var tables = IndexTables()

    init(start: UnsafeMutablePointer<IndexSlot>, capacity: Int) {
        self.start = start
        self.capacity = capacity
    }

    mutating func append(_ entry: IndexEntry) {
        precondition(count < capacity, "more events than lines in an index chunk")
        (start + count).initialize(to: tables.encode(entry, at: count))
        count += 1
    }

    subscript(position: Int) -> IndexEntry {
        get { tables.decode(start[position], at: position) }
        set { start[position] = tables.encode(newValue, at: position) }
    }
}

/// What scanning one chunk found besides its entries.
struct ChunkScan: Sendable {
    var accounting: LineAccounting
    var diagnostics: [Diagnostic]
    var diagnosticTotal: Int
    var diagnosticsByKind: [Diagnostic.Kind: Int]
    var threads: [Int32: ThreadSummary]
    /// Gaps as this chunk's event numbers.
    var gaps: [EventNumber]
    var eventCount: Int
    var shapes: [FlexibleLine.Shape: Int]
    var quotedLines: Int
    var joinedLines: Int
    var pseudoThreads: Int
    var integerNanoseconds: Int
    /// Lines before this byte offset were joined to an event by reading ahead.
    var joinedThrough: Int
    /// This chunk's name table (ids in its entries index it).
    var names: [String]
    var kinds: [KnownEvent?]
    /// What this chunk's slots are encoded against.
    var tables = IndexTables()
}

/// Adds up the chunks' progress and hands it on, one call at a time and never going back.
final class IndexProgressReporter: Sendable {
    private struct State {
        var bytes = 0
        var events = 0
    }
    private let state = Mutex(State())
    private let totalBytes: Int
    private let callback: (@Sendable (IndexProgress) -> Void)?

    init(totalBytes: Int, callback: (@Sendable (IndexProgress) -> Void)?) {
        self.totalBytes = totalBytes
        self.callback = callback
    }

    func advance(bytes: Int, events: Int) {
        guard let callback else { return }
        state.withLock { state in
            state.bytes += bytes
            state.events += events
            callback(IndexProgress(bytesScanned: min(state.bytes, totalBytes), totalBytes: totalBytes, events: state.events))
        }
    }

    /// The final call: everything scanned.
    func finish(events: Int) {
        guard let callback else { return }
        state.withLock { _ in callback(IndexProgress(bytesScanned: totalBytes, totalBytes: totalBytes, events: events)) }
    }
}

/// The text's bytes and the index storage, handed to parallel jobs: every job reads the
/// bytes and writes only its own disjoint range of entries, and the caller waits for all.
struct SharedPointers: @unchecked Sendable {
    let base: UnsafeBufferPointer<UInt8>
    let storage: UnsafeMutablePointer<IndexSlot>?
}

/// One value per parallel job, written by the jobs, read after they all returned.
final class ParallelSlots<Value: Sendable>: Sendable {
    private let values: Mutex<[Value?]>
    init(count: Int) { values = Mutex([Value?](repeating: nil, count: count)) }
    func set(_ index: Int, _ value: Value) { values.withLock { $0[index] = value } }
    var all: [Value?] { values.withLock { $0 } }
}

/// Cutting a text into chunks that are indexed on all cores and merged in order, with the
/// very result of one front-to-back scan.
///
/// A chunk starts at a line that the fast reader takes as an event on its own (a clean
/// prefix, not blank, not a comment, header or lost-events marker): every bit of state the
/// serial scan carries from line to line (a held diagnostic, a wrapped line waiting to be
/// joined, the thread in hand) is settled by such a line the same way whatever came before.
/// What a cut cannot settle is checked after the scan and makes the whole text be read
/// again front to back: a read-ahead join that crossed the cut, pseudo-thread ids (comm
/// without pid, numbered in order of appearance), a name table filling up. Delta timestamps
/// (`perf script --deltatime`) are a running sum and are never cut.
///
/// Line numbers and byte offsets are the text's own in every chunk (lines are counted per
/// chunk first, in parallel); event numbers and name ids are renumbered at the merge, which
/// interns names chunk by chunk in order and so gives each its first-appearance id.
/// Entries are written in place into one allocation sized by the line count and moved down
/// over the metadata lines' unused slots: the index stays at 16 bytes per event (plus 16 per
/// non-event line, and the small ``IndexTables``) with no second copy.
extension Indexer {
    /// How the text is cut: by size and core count, or (tests) into a fixed number of chunks.
    enum Chunking: Sendable, Equatable {
        case automatic
        case chunks(Int)
    }

    /// Texts smaller than this are read on one core.
    static let parallelThreshold = 16 << 20
    /// Least bytes per chunk when cutting automatically.
    static let minimumChunkBytes = 4 << 20
    /// Lines tried after a cut point for one that opens a chunk cleanly.
    static let cleanLineSearch = 4_096

    /// Indexes `text`; `format` nil means detect.
    static func index(text: TraceText, source: String, format: TraceFormat?, compression: TraceCompression,
                      datDiagnostics: [TraceDatDiagnostic] = [], chunking: Chunking = .automatic,
                      progress: (@Sendable (IndexProgress) -> Void)?) -> LoadedTrace {
        text.withUnsafeBufferPointer { base in
            let (detected, style) = detect(base, forced: format)
            let setup = IndexSetup(source: source, format: detected, style: style,
                                   timing: detectTiming(base, format: detected),
                                   forcedLayout: format != nil && format != .traceDat)
            let reporter = IndexProgressReporter(totalBytes: base.count, callback: progress)
            var cuts = [0, base.count]
            if setup.timing != .deltas {
                cuts = chunkCuts(base, style: style, chunking: chunking)
            }
            var merged = cuts.count > 2 ? indexChunks(base, cuts: cuts, setup: setup, reporter: reporter) : nil
            if merged == nil {
                merged = indexChunks(base, cuts: [0, base.count], setup: setup,
                                     reporter: cuts.count > 2 ? IndexProgressReporter(totalBytes: base.count, callback: progress) : reporter)
            }
            guard let merged else { preconditionFailure("a single chunk always merges") }
            let (scan, entries) = merged
            reporter.finish(events: entries.count)
            return finish(scan, entries: entries, text: text, setup: setup, compression: compression,
                          datDiagnostics: datDiagnostics)
        }
    }

    /// Byte offsets `[0, cut…, count]` where chunks start; `[0, count]` for one chunk.
    static func chunkCuts(_ base: UnsafeBufferPointer<UInt8>, style: LinePrefix.Style, chunking: Chunking) -> [Int] {
        let wanted: Int
        switch chunking {
        case .chunks(let count): wanted = max(1, count)
        case .automatic:
            let cores = max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
            guard cores > 1, base.count >= parallelThreshold else { return [0, base.count] }
            // A few chunks per core even out fast and slow stretches of the text.
            wanted = min(cores * 4, base.count / minimumChunkBytes)
        }
        guard wanted > 1 else { return [0, base.count] }
        var cuts = [0]
        for part in 1..<wanted {
            var start = base.count * part / wanted
            guard start > cuts[cuts.count - 1] else { continue }
            // The line after the one `start` falls in, then on to a clean event line.
            start = lineEndIndex(base, from: start - 1) + 1
            var tries = 0
            while start < base.count, tries < cleanLineSearch, !opensChunkCleanly(base, at: start, style: style) {
                start = lineEndIndex(base, from: start) + 1
                tries += 1
            }
            if start < base.count, start > cuts[cuts.count - 1], tries < cleanLineSearch { cuts.append(start) }
        }
        cuts.append(base.count)
        return cuts
    }

    /// Whether the line at `start` is one the fast path reads as an event by itself.
    static func opensChunkCleanly(_ base: UnsafeBufferPointer<UInt8>, at start: Int, style: LinePrefix.Style) -> Bool {
        var end = lineEndIndex(base, from: start)
        if end > start, base[end - 1] == ASCII.carriageReturn { end -= 1 }
        guard end > start, base[start] != ASCII.hash else { return false }
        let line = ByteCursor(base, from: start, to: end)
        let probe = Indexer()
        guard line.trimmedEnd != start, !probe.isBlank(line), probe.lostEvents(line) == nil, !probe.isHeader(line), !line.containsNUL,
              let prefix = LinePrefix.parse(base, start: start, end: end, style: style) else { return false }
        return base[prefix.commRange.lowerBound] != quoteMark
    }

    /// Number of lines starting in `range` (which starts at a line start).
    static func countLines(_ base: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int {
        guard let pointer = base.baseAddress, !range.isEmpty else { return 0 }
        var lines = 0
        var position = range.lowerBound
        while position < range.upperBound {
            lines += 1
            guard let found = memchr(pointer + position, Int32(ASCII.newline), range.upperBound - position) else { break }
            position = UnsafePointer<UInt8>(found.assumingMemoryBound(to: UInt8.self)) - pointer + 1
        }
        return lines
    }

    /// Scans the chunks `cuts` delimit (in parallel when more than one) and merges them;
    /// nil when a cut turned out to matter (see the type's notes).
    static func indexChunks(_ base: UnsafeBufferPointer<UInt8>, cuts: [Int], setup: IndexSetup,
                            reporter: IndexProgressReporter) -> (ChunkScan, CompactIndex)? {
        let chunks = cuts.count - 1
        var lineCounts = [Int](repeating: 0, count: chunks)
        if chunks == 1 {
            lineCounts[0] = countLines(base, cuts[0]..<cuts[1])
        } else {
            let counted = ParallelSlots<Int>(count: chunks)
            let shared = SharedPointers(base: base, storage: nil)
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                counted.set(chunk, countLines(shared.base, cuts[chunk]..<cuts[chunk + 1]))
            }
            lineCounts = counted.all.map { $0 ?? 0 }
        }
        var firstLines = [0]
        for count in lineCounts.dropLast() { firstLines.append(firstLines[firstLines.count - 1] + count) }
        let totalLines = firstLines[chunks - 1] + lineCounts[chunks - 1]

        var merged: ChunkScan?
        let slots = [IndexSlot](unsafeUninitializedCapacity: max(totalLines, 1)) { buffer, initialized in
            initialized = 0
            guard let storage = buffer.baseAddress else { return }
            let shared = SharedPointers(base: base, storage: storage)
            let lineCounts = lineCounts
            let firstLines = firstLines
            @Sendable func scanChunk(_ chunk: Int) -> ChunkScan {
                var indexer = Indexer()
                let sink = EntryBuffer(start: shared.storage! + firstLines[chunk], capacity: lineCounts[chunk])
                return indexer.scan(shared.base, range: cuts[chunk]..<cuts[chunk + 1], firstLine: firstLines[chunk],
                                    setup: setup, entries: sink, reporter: reporter)
            }
            var scans: [ChunkScan]
            if chunks == 1 {
                scans = [scanChunk(0)]
            } else {
                let results = ParallelSlots<ChunkScan>(count: chunks)
                DispatchQueue.concurrentPerform(iterations: chunks) { chunk in results.set(chunk, scanChunk(chunk)) }
                scans = results.all.compactMap { $0 }
            }
            guard let result = merge(scans, cuts: cuts, firstLines: firstLines, storage: storage) else { return }
            initialized = result.eventCount
            merged = result
        }
        return merged.map { ($0, CompactIndex(slots: slots, tables: $0.tables)) }
    }

    /// Joins chunk results in order, renumbering names and events and moving each chunk's
    /// entries down to follow the previous chunk's; nil when a cut turned out to matter.
    private static func merge(_ scans: [ChunkScan], cuts: [Int], firstLines: [Int],
                              storage: UnsafeMutablePointer<IndexSlot>) -> ChunkScan? {
        if scans.count == 1 { return scans[0] }
        for (chunk, scan) in scans.enumerated() {
            if scan.joinedThrough > cuts[chunk + 1] || scan.pseudoThreads > 0 || scan.names.count >= Int(UInt16.max) {
                return nil
            }
        }
        var total = ChunkScan(accounting: LineAccounting(), diagnostics: [], diagnosticTotal: 0, diagnosticsByKind: [:],
                              threads: [:], gaps: [], eventCount: 0, shapes: [:], quotedLines: 0, joinedLines: 0,
                              pseudoThreads: 0, integerNanoseconds: 0, joinedThrough: 0, names: [], kinds: [])
        var nameIDs: [String: UInt16] = [:]
        for (chunk, scan) in scans.enumerated() {
            // Names: interned in chunk order, so each keeps its first-appearance id.
            var remap: [UInt16] = []
            remap.reserveCapacity(scan.names.count)
            for (local, name) in scan.names.enumerated() {
                if let id = nameIDs[name] {
                    remap.append(id)
                } else {
                    guard total.names.count < Int(UInt16.max) else { return nil }
                    let id = UInt16(total.names.count)
                    nameIDs[name] = id
                    total.names.append(name)
                    total.kinds.append(scan.kinds[local])
                    remap.append(id)
                }
            }
            // Each chunk's slots are read against its own tables and written again against
            // the whole index's, moving down over the metadata lines' unused slots: a slot is
            // always read before anything is written at or after its place.
            let source = storage + firstLines[chunk]
            let identity = remap.enumerated().allSatisfy { Int($1) == $0 }
            for position in 0..<scan.eventCount {
                var entry = scan.tables.decode(source[position], at: position)
                if !identity { entry.nameID = remap[Int(entry.nameID)] }
                storage[total.eventCount + position] = total.tables.encode(entry, at: total.eventCount + position)
            }
            for gap in scan.gaps {
                let global = EventNumber(total.eventCount + gap.rawValue)
                if total.gaps.last != global { total.gaps.append(global) }
            }
            for (pid, summary) in scan.threads {
                if var known = total.threads[pid] {
                    known.eventCount += summary.eventCount
                    if known.vcpu == nil { known.vcpu = summary.vcpu }
                    total.threads[pid] = known
                } else {
                    total.threads[pid] = summary
                }
            }
            total.eventCount += scan.eventCount
            total.accounting.read += scan.accounting.read
            total.accounting.understood += scan.accounting.understood
            total.accounting.raw += scan.accounting.raw
            total.accounting.unreadable += scan.accounting.unreadable
            total.accounting.metadata += scan.accounting.metadata
            let room = storedDiagnosticLimit - total.diagnostics.count
            if room > 0 { total.diagnostics += scan.diagnostics.prefix(room) }
            total.diagnosticTotal += scan.diagnosticTotal
            total.diagnosticsByKind.merge(scan.diagnosticsByKind, uniquingKeysWith: +)
            total.shapes.merge(scan.shapes, uniquingKeysWith: +)
            total.quotedLines += scan.quotedLines
            total.joinedLines += scan.joinedLines
            total.integerNanoseconds += scan.integerNanoseconds
        }
        return total
    }

    /// Builds the trace from the merged scan: trace.dat diagnostics, sorting, reader notes.
    private static func finish(_ scan: ChunkScan, entries: CompactIndex, text: TraceText, setup: IndexSetup,
                               compression: TraceCompression, datDiagnostics: [TraceDatDiagnostic]) -> LoadedTrace {
        var diagnostics = scan.diagnostics
        var diagnosticTotal = scan.diagnosticTotal
        var diagnosticsByKind = scan.diagnosticsByKind
        // The trace.dat reader reports by record (= event, in order); place them on their lines.
        var lineNumber = scan.accounting.read
        for datDiagnostic in datDiagnostics {
            lineNumber = datDiagnostic.record < entries.count ? Int(entries[datDiagnostic.record].lineNumber) : lineNumber
            diagnosticTotal += 1
            diagnosticsByKind[.failedToParse, default: 0] += 1
            if diagnostics.count < storedDiagnosticLimit {
                diagnostics.append(Diagnostic(file: setup.source, line: lineNumber, kind: .failedToParse,
                                              message: "trace.dat: \(datDiagnostic.message)"))
            }
        }
        diagnostics.sort { $0.line < $1.line }
        var readerNotes: [String] = []
        let untimed = entries.reduce(0) { $0 + ($1.isUntimed ? 1 : 0) }
        for shape in FlexibleLine.Shape.allCases {
            guard let count = scan.shapes[shape] else { continue }
            readerNotes.append("\(count) event line\(count == 1 ? "" : "s") read as \(shape.rawValue)")
        }
        let quotedLines = scan.quotedLines
        let joinedLines = scan.joinedLines
        if quotedLines > 0 { readerNotes.append("\(quotedLines) event line\(quotedLines == 1 ? "" : "s") had `>` mail quoting") }
        if joinedLines > 0 { readerNotes.append("\(joinedLines) wrapped line\(joinedLines == 1 ? "" : "s") joined back to the event before") }
        if untimed > 0 {
            readerNotes.append("\(untimed) event\(untimed == 1 ? "" : "s") printed no timestamp: no exit times for them")
        }
        let pseudoThreads = scan.pseudoThreads
        if pseudoThreads > 0 {
            readerNotes.append("no thread id printed: events grouped by comm into \(pseudoThreads) pseudo-thread\(pseudoThreads == 1 ? "" : "s") (negative ids)")
        }
        switch setup.timing {
        case .deltas:
            readerNotes.append("timestamps are deltas (perf script --deltatime): absolute times rebuilt by summing them from 0; each printed delta is rounded down to the printed precision, so times drift by up to that much per event (use --ns, or no --deltatime, for exact times)")
        case .integerNanoseconds:
            if scan.integerNanoseconds > 0 {
                readerNotes.append("integer timestamps read as nanoseconds (trace-cmd report --raw-ts)")
            }
        case .absolute:
            break
        }
        return LoadedTrace(source: setup.source, format: setup.format, compression: compression, diagnostics: diagnostics,
                           diagnosticCount: diagnosticTotal, diagnosticCountsByKind: diagnosticsByKind,
                           lineAccounting: scan.accounting, gaps: scan.gaps, threads: scan.threads, text: text,
                           index: entries, names: scan.names, kinds: scan.kinds, style: setup.style, readerNotes: readerNotes)
    }
}
