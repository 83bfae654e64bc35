import Foundation
import Synchronization
import NestedSVM
import Replay
import TraceKit
import DebuggerUI

/// The debugger's session over a real trace: `DebugSession` answered from a Replay result.
///
/// A session is either ready (built from a `ReplayResult`) or still loading: `loading(…)`
/// starts a background task that indexes the file and replays it, and the session reports
/// `progress` until the result is in, then answers everything from it. `ExitNumber` is the
/// index in `result.exits`; the mapping from Replay is the one `DebugSession` documents.
/// Navigation goes through a `ReplayIndex` built once per result; the detail of the selected
/// exit (which re-runs the model for its decision path) is computed on demand and only the
/// last one is kept.
///
/// A class with one mutex: the background task publishes the result and progress to a UI that
/// reads them on its own thread, and the detail cache is filled on reads.
public final class ReplaySession: DebugSession, Sendable {
    /// What the status bar calls the trace.
    public let traceName: String
    /// The kernel profile the exits are replayed with (the one asked for until a replay is
    /// in: an export's header may choose another).
    public var profile: String { index?.result.options.profile.name ?? requestedProfile }
    private let requestedProfile: String
    /// Every profile the user may switch to.
    public let availableProfiles: [String]

    /// What the background work and the UI share, behind one mutex.
    private struct Shared {
        var phase: Phase
        var cachedDetail: ExitDetail?
        var cachedBuckets: (count: Int, buckets: [RateBucket])?
        var changeHandler: (@Sendable () -> Void)?
        /// The per-reason summary of one index (computed once, in the background).
        var summaryCache: (index: ObjectIdentifier, summary: ReasonSummary?)?
        /// The last progress reported to the observer, in steps of `progressSteps`.
        var notifiedStep = -1
        /// Whether a replay of the file's head was shown before the whole file was ready.
        var previewShown = false
        /// The facts files' use, for one index.
        var factsFiles: (index: ObjectIdentifier, files: [FactsFileUse])?
    }

    /// The facts files' use of the current index, computed by `compute` the first time.
    func cachedFactsFiles(_ compute: () -> [FactsFileUse]) -> [FactsFileUse] {
        guard let index else { return [] }
        let id = ObjectIdentifier(index)
        if let cached = shared.withLock({ $0.factsFiles }), cached.index == id { return cached.files }
        let files = compute()
        shared.withLock { $0.factsFiles = (id, files) }
        return files
    }

    private let shared: Mutex<Shared>
    /// Loading and replaying (nil for a session built ready).
    private let task: BackgroundTask?
    /// Progress changes finer than 1/`progressSteps` of the file do not wake the UI.
    private static let progressSteps = 500

    private enum Phase {
        case loading(IndexingProgress)
        /// The head of a large file is replayed and navigable while the whole file loads.
        case preview(ReplayIndex, IndexingProgress)
        case ready(ReplayIndex)
        case failed(String)
    }

    /// Whether the session showed a replay of the file's head before the whole file was
    /// ready (large plain files only).
    public var showedPreview: Bool { shared.withLock { $0.previewShown } }

    /// A ready session over a finished replay.
    public init(result: ReplayResult, traceName: String? = nil,
                availableProfiles: [String] = KernelProfile.selectable.map(\.name)) {
        self.traceName = traceName ?? Self.fileName(result.trace.source)
        self.requestedProfile = result.options.profile.name
        self.availableProfiles = availableProfiles
        self.shared = Mutex(Shared(phase: .ready(ReplayIndex(result: result))))
        self.task = nil
    }

    /// A ready session over `result`, whose first exits are those of `previous`'s replay,
    /// unchanged (a live replay that carried on): only the new exits are indexed.
    public init(result: ReplayResult, extending previous: ReplaySession, traceName: String? = nil,
                availableProfiles: [String] = KernelProfile.selectable.map(\.name)) {
        self.traceName = traceName ?? Self.fileName(result.trace.source)
        self.requestedProfile = result.options.profile.name
        self.availableProfiles = availableProfiles
        self.shared = Mutex(Shared(phase: .ready(ReplayIndex(result: result, extending: previous.index))))
        self.task = nil
    }

    private init(traceName: String, profile: String, availableProfiles: [String], total: Int?) {
        self.traceName = traceName
        self.requestedProfile = profile
        self.availableProfiles = availableProfiles
        self.shared = Mutex(Shared(phase: .loading(IndexingProgress(bytesDone: 0, bytesTotal: total, isFinished: false))))
        self.task = BackgroundTask(name: "svmdbg replay")
    }

    /// Starts loading `path` and replaying it with `options` in the background; the returned
    /// session shows progress until the result is ready (or `failure` is set).
    ///
    /// Progress counts loading and replaying as one half each of the file's bytes.
    /// A plain file larger than `previewBytes` first has its head (cut at a line end) loaded and
    /// replayed, so the list is usable at once; the whole file replaces it when ready.
    /// Which replay options the user chose explicitly; the others may come from the header
    /// of an svmdbg export (`ExportHeader`).
    public struct GivenOptions: Sendable, Hashable {
        /// `--profile` was given.
        public var profile: Bool
        /// `--host` was given.
        public var host: Bool

        /// Creates the flags.
        public init(profile: Bool, host: Bool) {
            self.profile = profile
            self.host = host
        }
    }

    public static func loading(
        path: String, format: TraceFormat? = nil, options requested: ReplayOptions,
        given: GivenOptions = GivenOptions(profile: true, host: true),
        availableProfiles: [String] = KernelProfile.selectable.map(\.name), previewBytes: Int = 1 << 20
    ) -> ReplaySession {
        let session = ReplaySession(
            traceName: fileName(path), profile: requested.profile.name, availableProfiles: availableProfiles,
            total: nil)
        session.task?.start {
            do {
                if let size = plainFileSize(path), size > previewBytes,
                    let head = try? TraceLoader.loadHead(path: path, maxBytes: previewBytes, format: format),
                    head.count > 0, head.textByteCount < size
                {
                    let options = ExportHeader.applying(to: requested, from: head, profileGiven: given.profile, hostGiven: given.host)
                    let preview = Replayer(trace: head, options: options).run()
                    session.showPreview(ReplayIndex(result: preview), total: size)
                }
                let trace = try TraceLoader.load(path: path, format: format) { progress in
                    session.report(done: progress.bytesScanned / 2, total: progress.totalBytes)
                }
                // Not a trace at all (a README opened by mistake, a VMX trace): the message `check` gives.
                if let reason = refusal(of: trace) {
                    session.fail("\(trace.source): \(reason)")
                    return
                }
                let options = ExportHeader.applying(to: requested, from: trace, profileGiven: given.profile, hostGiven: given.host)
                session.replay(trace, options: options, refusingNoExits: true)
            } catch let error as TraceLoadError {
                session.fail("\(error.file): \(error.problem)")
            } catch {
                session.fail("\(path): \(error)")
            }
        }
        return session
    }

    /// Why the debugger will not show `trace`: not a trace at all (`check` refuses it too),
    /// or a trace without a single event (a header-only capture: nothing to debug). Nil for
    /// anything with events, bad lines included.
    public static func refusal(of trace: LoadedTrace) -> String? {
        if let reason = trace.unusableReason ?? trace.vmxRefusal { return reason }
        let lines = trace.lineAccounting
        if lines.events == 0 { return "has no trace events (\(lines.read) lines, none of them an event): nothing to debug" }
        return nil
    }

    /// Why a trace whose replay has no exit is not opened: an empty debugger would look like
    /// a trace with nothing wrong. Names the events and unreadable lines, and the first bad line.
    static func noExitsReason(_ trace: LoadedTrace) -> String {
        let lines = trace.lineAccounting
        var reason = "no exit to debug: \(lines.events) event\(lines.events == 1 ? "" : "s") and \(lines.unreadable) unreadable of \(lines.read) lines"
        if let first = trace.diagnostics.first {
            reason += " (line \(first.line): \(first.kind.rawValue): \(first.message))"
        }
        return reason
    }

    /// Starts replaying an already loaded trace with `options` in the background (a profile
    /// switch keeps the loaded trace).
    public static func replaying(
        _ trace: LoadedTrace, options: ReplayOptions, traceName: String? = nil,
        availableProfiles: [String] = KernelProfile.selectable.map(\.name)
    ) -> ReplaySession {
        let total = trace.textByteCount
        let session = ReplaySession(
            traceName: traceName ?? fileName(trace.source), profile: options.profile.name,
            availableProfiles: availableProfiles, total: total)
        session.report(done: total / 2, total: total)
        session.task?.start { session.replay(trace, options: options) }
        return session
    }

    /// The finished replay, nil while loading or after a failure.
    public var result: ReplayResult? {
        shared.withLock { s in
            if case .ready(let index) = s.phase { return index.result }
            return nil  // a preview covers only the file's head: exports and profile switches wait
        }
    }

    /// Why loading failed (the file and the problem), nil otherwise.
    public var failure: String? {
        shared.withLock { s in
            if case .failed(let reason) = s.phase { return reason }
            return nil
        }
    }

    /// Blocks until loading and replay end (tests and batch callers); true when ready.
    /// Waits on the background task (no polling).
    public func waitUntilFinished(timeout: Duration = .seconds(120)) -> Bool {
        _ = task?.wait(timeout: timeout)
        if case .ready = shared.withLock({ $0.phase }) { return true }
        return false
    }

    // MARK: Background work

    private func replay(_ trace: LoadedTrace, options: ReplayOptions, refusingNoExits: Bool = false) {
        let total = trace.textByteCount
        report(done: total / 2, total: total)
        let result = Replayer(trace: trace, options: options).run { fraction in
            self.report(done: total / 2 + Int(Double(total - total / 2) * fraction), total: total)
        }
        if refusingNoExits, result.exits.isEmpty {
            fail("\(trace.source): \(Self.noExitsReason(trace))")
            return
        }
        let index = ReplayIndex(result: result)
        shared.withLock { s in
            s.phase = .ready(index)
            s.cachedDetail = nil  // a preview's detail and buckets described the head only
            s.cachedBuckets = nil
        }
        notifyChange()
    }

    private func report(done: Int, total: Int) {
        let changed: Bool = shared.withLock { s in
            let progress = IndexingProgress(bytesDone: done, bytesTotal: total, isFinished: false)
            switch s.phase {
            case .loading: s.phase = .loading(progress)
            case .preview(let index, _): s.phase = .preview(index, progress)
            case .ready, .failed: return false
            }
            let step = total > 0 ? Int(Double(done) / Double(total) * Double(Self.progressSteps)) : 0
            defer { s.notifiedStep = step }
            return step != s.notifiedStep
        }
        if changed { notifyChange() }
    }

    private func showPreview(_ index: ReplayIndex, total: Int) {
        let shown: Bool = shared.withLock { s in
            guard case .loading = s.phase else { return false }
            s.phase = .preview(index, IndexingProgress(bytesDone: 0, bytesTotal: total, isFinished: false))
            s.previewShown = true
            return true
        }
        if shown { notifyChange() }
    }

    /// Calls the observer (outside the lock: it may read the session).
    private func notifyChange() {
        shared.withLock { s in s.changeHandler }?()
    }

    /// Registers the observer of progress, preview, result and failure.
    public func observeChanges(_ handler: @escaping @Sendable () -> Void) {
        shared.withLock { s in s.changeHandler = handler }
    }

    /// The size of `path` when it is a regular, uncompressed-looking file (the head of a
    /// compressed file cannot be read alone).
    private static func plainFileSize(_ path: String) -> Int? {
        guard path != "-", !path.hasSuffix(".gz"), !path.hasSuffix(".xz"), !path.hasSuffix(".dat"),
            let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            attributes[.type] as? FileAttributeType == .typeRegular,
            let size = attributes[.size] as? NSNumber
        else { return nil }
        return size.intValue
    }

    private func fail(_ reason: String) {
        shared.withLock { s in s.phase = .failed(reason) }
        notifyChange()
    }

    private var index: ReplayIndex? {
        shared.withLock { s in
            switch s.phase {
            case .ready(let index), .preview(let index, _): return index
            case .loading, .failed: return nil
            }
        }
    }

    private static func fileName(_ path: String) -> String {
        path == "-" ? "stdin" : (path.split(separator: "/").last.map(String.init) ?? path)
    }

    // MARK: DebugSession

    /// Exits replayed (0 until the replay is finished).
    public var exitCount: Int { index?.count ?? 0 }

    /// Loading and replay progress.
    public var progress: IndexingProgress {
        shared.withLock { s in
            switch s.phase {
            case .loading(let progress), .preview(_, let progress): return progress
            case .ready(let index):
                let total = index.result.trace.textByteCount
                return IndexingProgress(bytesDone: total, bytesTotal: total, isFinished: true)
            case .failed: return IndexingProgress(bytesDone: 0, bytesTotal: nil, isFinished: true)
            }
        }
    }

    /// Verdict counts (precomputed).
    public var counts: VerdictCounts {
        index?.counts ?? VerdictCounts(match: 0, mismatch: 0, undetermined: 0, notModelled: 0)
    }

    /// The list row of one exit.
    public func row(_ exit: ExitNumber) -> ExitRow? {
        guard let index, index.result.exits.indices.contains(exit.rawValue) else { return nil }
        return ReplayRowText.row(index.result.exits[exit.rawValue], verdict: index.verdicts[exit.rawValue], in: index.result)
    }

    /// The detail of one exit; the last one asked for is cached.
    public func detail(_ exit: ExitNumber) -> ExitDetail? {
        guard let index, index.result.exits.indices.contains(exit.rawValue) else { return nil }
        if let cached = shared.withLock({ s in s.cachedDetail }), cached.number == exit { return cached }
        let detail = ReplayDetailBuilder(result: index.result).detail(index.result.exits[exit.rawValue])
        shared.withLock { s in s.cachedDetail = detail }
        return detail
    }

    /// Raw trace lines, control characters escaped.
    public func rawLines(_ range: ClosedRange<Int>) -> [RawLine] {
        guard let trace = index?.result.trace else { return [] }
        var lines: [RawLine] = []
        var reader = RawLineReader(trace)  // one forward pass, not a lookup per line
        for number in range where number >= 1 {
            guard let text = reader.line(number) else { break }
            lines.append(RawLine(number: number, text: TerminalSafe.escape(text)))
        }
        return lines
    }

    /// A per-exit test on the index's columns; regexes are compiled once per matcher.
    public func matcher(for predicate: ExitPredicate) -> @Sendable (ExitNumber) -> Bool {
        guard let index else { return { _ in false } }
        let regexes = RegexCache()
        return { exit in
            guard index.result.exits.indices.contains(exit.rawValue) else { return false }
            return index.matches(predicate, exit.rawValue) { query, i in
                guard let regex = regexes.regex(for: query) else { return false }
                return ReplayRowText.searchableText(of: index.result.exits[i], in: index.result).contains { $0.contains(regex) }
            }
        }
    }

    /// The nearest matching exit, from the index.
    public func nextExit(matching predicate: ExitPredicate, after exit: ExitNumber?, direction: Direction) -> ExitNumber? {
        guard let index else { return nil }
        var regexes: [TextQuery: Regex<AnyRegexOutput>] = [:]
        let matcher: (TextQuery, Int) -> Bool = { query, i in
            let regex: Regex<AnyRegexOutput>
            if let compiled = regexes[query] {
                regex = compiled
            } else {
                guard var compiled = try? Regex(query.pattern) else { return false }
                if !query.caseSensitive { compiled = compiled.ignoresCase() }
                regexes[query] = compiled
                regex = compiled
            }
            return ReplayRowText.searchableText(of: index.result.exits[i], in: index.result).contains { $0.contains(regex) }
        }
        return index.next(predicate, after: exit?.rawValue, direction: direction, text: matcher).map { ExitNumber($0) }
    }

    /// The first exit at or after `timestamp` (binary search), else the last.
    public func exit(atOrAfter timestamp: TraceTimestamp) -> ExitNumber? {
        index?.exit(atOrAfter: timestamp.value).map { ExitNumber($0) }
    }

    /// The `stats` table of the replayed trace: computed on a background thread the first time
    /// it is asked for (nil until then; the observer is called when it is ready).
    public func reasonSummary() -> ReasonSummary? {
        guard let index, case .ready = shared.withLock({ s in s.phase }) else { return nil }
        let id = ObjectIdentifier(index)
        let start: Bool = shared.withLock { s in
            if let cache = s.summaryCache, cache.index == id { return false }
            s.summaryCache = (id, nil)
            return true
        }
        if start {
            BackgroundTask.run("svmdbg summary") { [self] in
                let summary = Self.summary(of: index.result.trace)
                shared.withLock { s in if s.summaryCache?.index == id { s.summaryCache = (id, summary) } }
                notifyChange()
            }
        }
        return shared.withLock { s in s.summaryCache?.summary }
    }

    /// The `svmdbg stats` exit table (TraceKit's `ExitStatistics`) as a summary.
    static func summary(of trace: LoadedTrace) -> ReasonSummary {
        let statistics = ExitStatistics(trace: trace)
        let rows = statistics.rows.map { row in
            ReasonSummary.Row(level: row.level == .unknown ? "unknown" : row.level.rawValue,
                              reason: ExitReasonNames.indexName(of: row.reason.rawValue),
                              code: UInt64(row.reason.rawValue), count: row.count, timed: row.timed, total: row.total,
                              minimum: row.minimum, maximum: row.maximum, mean: row.mean,
                              standardDeviation: row.standardDeviation)
        }
        return ReasonSummary(rows: rows, isNanoseconds: statistics.unit == .nanoseconds, totalExits: statistics.totalExits)
    }

    /// Exit rate per time slice, cached for the last `count`.
    public func rateBuckets(count: Int) -> [RateBucket] {
        guard let index else { return [] }
        if let cached = shared.withLock({ s in s.cachedBuckets }), cached.count == count { return cached.buckets }
        let buckets = index.rateBuckets(count: count)
        shared.withLock { s in s.cachedBuckets = (count, buckets) }
        return buckets
    }
}

/// Compiled search regexes, one per query, for one matcher.
///
/// A class: the matcher closure fills it as it goes; only the one search thread calls it.
private final class RegexCache: @unchecked Sendable {
    private var compiled: [TextQuery: Regex<AnyRegexOutput>] = [:]

    func regex(for query: TextQuery) -> Regex<AnyRegexOutput>? {
        if let regex = compiled[query] { return regex }
        guard var regex = try? Regex(query.pattern) else { return nil }
        if !query.caseSensitive { regex = regex.ignoresCase() }
        compiled[query] = regex
        return regex
    }
}
