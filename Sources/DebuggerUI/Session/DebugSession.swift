import Replay
import TraceKit

/// The data source the debugger UI reads: one loaded, indexed and replayed trace.
///
/// The UI asks only for what it shows: the rows of the visible window, the detail of the
/// selected exit, the raw lines on screen. Navigation with filters, breakpoints and search
/// goes through `nextExit(matching:after:direction:)`, which an implementation answers
/// from its index, so a keypress stays cheap on traces with millions of exits.
///
/// Cost contract (per frame the UI makes about `3 × list height` calls to `row(_:)` and
/// `nextExit`, one `detail(_:)`, one `rawLines(_:)` of at most a screenful, and reads
/// every property once): properties and `rateBuckets(count:)` must be O(1) or cached;
/// `row`, `detail` and `rawLines` must touch only the exits/lines asked for;
/// `nextExit` should use per-field indexes (vCPU, level, reason, exit code, MSR, port,
/// verdict), falling back to a scan only for `.text`.
///
/// Implementations may keep indexing in the background: `exitCount` and `progress` then
/// grow between calls, and the UI picks the changes up on its next tick. All methods are
/// called from the UI's thread and must not block for long.
///
/// Mapping from the replay results (for the adapter): one `ExitRow` per `kvm_exit`
/// event in trace order (`ExitNumber` = position among exits, not `EventNumber`);
/// `modelOutcome`/`recordedOutcome` are the short forms of the decision's outcome and of
/// the recorded outcome (`L1` when a `kvm_nested_vmexit_inject` follows, else `L0`);
/// `ExitVerdict` maps match → `.match`, divergence → `.mismatch`, not modelled →
/// `.notModelled`, and a recorded outcome the trace cannot settle → `.undetermined`.
/// `ExitDetail.decisionSteps` is the decision path (rule id, question, evidence text,
/// answer, kernel `file:function`); `registers` and `vmcb` are the replayer's per-vCPU
/// reconstructed state at the exit, unknown values as nil, never zero.
public protocol DebugSession: Sendable {
    /// What the status bar calls the trace, usually the file name.
    var traceName: String { get }
    /// The kernel profile the exits were replayed with, e.g. `6.12`.
    var profile: String { get }
    /// Every profile the user may switch to.
    var availableProfiles: [String] { get }
    /// Exits indexed so far.
    var exitCount: Int { get }
    /// Indexing progress; `isFinished` once the whole trace is indexed and replayed.
    var progress: IndexingProgress { get }
    /// Verdict counts over the exits indexed so far.
    var counts: VerdictCounts { get }

    /// The list row of one exit, or nil if `exit` is not (yet) indexed.
    func row(_ exit: ExitNumber) -> ExitRow?
    /// The detail panes' content for one exit, or nil if not (yet) indexed.
    func detail(_ exit: ExitNumber) -> ExitDetail?
    /// The raw trace lines with 1-based numbers in `range` (fewer at the end of the file).
    func rawLines(_ range: ClosedRange<Int>) -> [RawLine]
    /// The nearest exit strictly after (`.forward`) or before (`.backward`) `exit` that
    /// satisfies `predicate`; when `exit` is nil the search starts at the first
    /// (`.forward`) or last (`.backward`) exit inclusive. Nil when there is none.
    func nextExit(matching predicate: ExitPredicate, after exit: ExitNumber?, direction: Direction) -> ExitNumber?
    /// The first exit at or after `timestamp`, or the last exit when all are earlier.
    func exit(atOrAfter timestamp: TraceTimestamp) -> ExitNumber?
    /// The exit rate over time in `count` equal time slices of the whole indexed trace.
    func rateBuckets(count: Int) -> [RateBucket]
    /// Registers `handler`, called (on any thread) after every change of what the properties
    /// report: progress, exits, counts, failure. Replaces the previous handler. The UI passes
    /// its terminal's `wakeUp`, then reads the properties, so no change is missed.
    func observeChanges(_ handler: @escaping @Sendable () -> Void)
    /// A test of one exit against `predicate`, for a search that scans exit by exit on
    /// another thread (so it can report progress and be cancelled). The closure is called
    /// from that one thread only.
    func matcher(for predicate: ExitPredicate) -> @Sendable (ExitNumber) -> Bool
    /// For a trace still being written (`--follow`, `--pipe`): whether more may come, and
    /// the last notice. Nil for a trace read once.
    var live: LiveStatus? { get }
    /// The host facts the replay used, with where each came from (the `H` pane); empty
    /// while nothing is replayed.
    var hostFacts: [HostFactRow] { get }
    /// A session replaying the same trace with host fact `key` set to `value` (nil: as the
    /// trace shows), or nil when this session cannot (still loading).
    func replaying(hostFact key: String, value: Bool?) -> (any DebugSession)?
    /// The `--facts` files the replay used, with their scopes and how many exits each applied
    /// to (the `H` pane's given facts); empty when none was given. Asked for only while the
    /// pane is open; may scan the trace once per replay.
    func factsFiles() -> [FactsFileUse]
    /// `svmdbg diff` of the whole trace between this session's profile and `profile`, nil
    /// when there is no replay to compare. Slow on big traces: called off the UI thread.
    func profileDiff(against profile: String) -> ProfileDiffList?
    /// The per-reason summary (the `stats` table), or nil while it is being computed (the
    /// session then calls its observer when it is ready).
    func reasonSummary() -> ReasonSummary?
}

extension DebugSession {
    /// A matcher built on `nextExit` (one lookup per exit; fine for small sessions).
    public func matcher(for predicate: ExitPredicate) -> @Sendable (ExitNumber) -> Bool {
        { [self] exit in
            let before = exit.rawValue == 0 ? nil : ExitNumber(exit.rawValue - 1)
            return nextExit(matching: predicate, after: before, direction: .forward) == exit
        }
    }

    /// A trace read once.
    public var live: LiveStatus? { nil }
    /// No facts to show.
    public var hostFacts: [HostFactRow] { [] }
    /// Cannot replay with other facts.
    public func replaying(hostFact key: String, value: Bool?) -> (any DebugSession)? { nil }
    /// No facts files.
    public func factsFiles() -> [FactsFileUse] { [] }
    /// No diff.
    public func profileDiff(against profile: String) -> ProfileDiffList? { nil }
    /// The summary built from the rows (one `row` per exit; fine for small sessions).
    public func reasonSummary() -> ReasonSummary? {
        var rows: [SummaryKey: (count: Int, times: [Int64])] = [:]
        var order: [SummaryKey] = []
        var nanoseconds = true
        for i in 0..<exitCount {
            guard let row = row(ExitNumber(i)) else { continue }
            let key = SummaryKey(level: row.level?.description ?? "unknown", reason: row.reason, code: row.exitCode)
            if rows[key] == nil { order.append(key) }
            var entry = rows[key] ?? (0, [])
            entry.count += 1
            switch row.latency {
            case .nanoseconds(let n): entry.times.append(n)
            case .ticks(let t): entry.times.append(t); nanoseconds = false
            case .untimed, .noEntry: break
            }
            rows[key] = entry
        }
        let built = order.map { key -> ReasonSummary.Row in
            let (count, times) = rows[key]!
            let total = times.reduce(0, +)
            let mean = times.isEmpty ? nil : Double(total) / Double(times.count)
            var deviation: Double?
            if let mean, times.count >= 2 {
                let squares = times.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) }
                deviation = (squares / Double(times.count - 1)).squareRoot()
            }
            return ReasonSummary.Row(level: key.level, reason: key.reason, code: key.code, count: count, timed: times.count,
                                     total: total, minimum: times.min(), maximum: times.max(), mean: mean,
                                     standardDeviation: deviation)
        }
        return ReasonSummary(rows: ReasonSummary(rows: built, isNanoseconds: nanoseconds, totalExits: exitCount).sorted(SummarySort()),
                             isNanoseconds: nanoseconds, totalExits: exitCount)
    }

    /// A session that never changes after it is created needs no observer.
    public func observeChanges(_ handler: @escaping @Sendable () -> Void) {}
}

/// A summary row's key (level, reason, code).
private struct SummaryKey: Hashable {
    var level: String, reason: String, code: UInt64
}
