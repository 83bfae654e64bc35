import Foundation
import NestedSVM
import TraceKit
import Synchronization

/// Walks a loaded trace per vCPU thread, reconstructs the state the model needs, asks
/// NestedSVM about every exit, reads what the trace recorded, and compares.
public struct Replayer: Sendable {
    /// The trace to replay.
    public let trace: LoadedTrace
    /// Profile and explicit facts.
    public let options: ReplayOptions

    /// Prepares a replay of `trace`.
    public init(trace: LoadedTrace, options: ReplayOptions) {
        self.trace = trace
        self.options = options
    }

    /// Replays every exit. `progress` is called now and then with the share done (0…1).
    ///
    /// Every vCPU thread's exits depend only on that thread's own events (tracked state,
    /// open exit, inferences are all per pid), so the threads are split into groups of
    /// about equal event counts and the groups are walked in parallel, one per core; the
    /// results are merged back into trace order, identical to a single walk.
    public func run(progress: ((Double) -> Void)? = nil) -> ReplayResult {
        run(workers: Self.workerCount(events: trace.count), progress: progress)
    }

    /// Replays every exit with up to `workers` parallel walks (1: a single walk).
    func run(workers: Int, progress: ((Double) -> Void)? = nil) -> ReplayResult {
        let inferredHost = HostInference.facts(from: trace)
        let host = inferredHost.overridden(by: options.host)
        let groups = Self.pidGroups(trace, workers: workers)
        let finishOrder = Dictionary(uniqueKeysWithValues: trace.threads.keys.sorted().enumerated().map { ($1, $0) })
        let context = Walk.Context(trace: trace)
        var walks: [Walk] = []
        if groups.count <= 1 {
            var walk = Walk(trace: trace, options: options, host: host, pids: nil, finishOrder: finishOrder, context: context)
            walk.walk(progress: progress)
            walks = [walk]
        } else {
            let results = WalkResults(count: groups.count)
            let trace = trace
            let options = options
            DispatchQueue.concurrentPerform(iterations: groups.count) { group in
                var walk = Walk(
                    trace: trace, options: options, host: host, pids: groups[group], finishOrder: finishOrder, context: context)
                walk.reportsGaps = group == 0
                walk.walk(progress: nil)
                results.store(walk, at: group)
            }
            walks = results.all()
        }
        progress?(1)
        let merged = Self.merge(consuming: &walks)
        return ReplayResult(
            trace: trace, options: options, host: host, inferredHost: inferredHost,
            exits: ReplayExits(trace: trace, records: merged.records, tables: merged.tables), findings: merged.findings,
            checkpoints: merged.checkpoints, ledger: merged.ledger, keptStates: merged.keptStates, context: context,
            recentStates: RecentStates())
    }

    /// Below this many events one walk is cheaper than starting threads.
    static let parallelThreshold = 200_000

    /// How many walks to run at once: one per core, capped, one for small traces;
    /// `SVMDBG_REPLAY_WORKERS=n` sets it (1 = a single walk, for comparison).
    static func workerCount(events: Int) -> Int {
        if let text = ProcessInfo.processInfo.environment["SVMDBG_REPLAY_WORKERS"], let forced = Int(text), forced > 0 {
            return min(forced, 64)
        }
        guard events >= parallelThreshold else { return 1 }
        return max(1, min(ProcessInfo.processInfo.activeProcessorCount, 8))
    }

    /// Splits the trace's threads into `workers` groups of about equal event counts
    /// (largest thread first, each to the lightest group).
    static func pidGroups(_ trace: LoadedTrace, workers: Int) -> [Set<Int32>] {
        let threads = trace.threads.values.sorted { ($0.eventCount, $1.pid) > ($1.eventCount, $0.pid) }
        let count = min(workers, threads.count)
        guard count > 1 else { return [Set(threads.map(\.pid))] }
        var groups = [Set<Int32>](repeating: [], count: count)
        var loads = [Int](repeating: 0, count: count)
        for thread in threads {
            let lightest = loads.indices.min { (loads[$0], $0) < (loads[$1], $1) } ?? 0
            groups[lightest].insert(thread.pid)
            loads[lightest] += thread.eventCount
        }
        return groups
    }

    /// Joins the walks' exits, tables, checkpoints and findings in the order one walk over
    /// all threads produces: exits by first event, findings by the step that made them.
    static func merge(_ walks: [Walk]) -> MergedWalks {
        var walks = walks
        return merge(consuming: &walks)
    }

    /// Like ``merge(_:)``, emptying each walk's exit list as soon as it is copied, so that
    /// the exits are not held twice (in the walks and in the merged list) at the peak.
    static func merge(consuming walks: inout [Walk]) -> MergedWalks {
        var outcomes: [Outcome] = []
        var answers: [DecisionAnswer] = []
        var recorded: [RecordedOutcome] = []
        var verdicts: [Verdict] = []
        var records: [CompactExit] = []
        var checkpoints: [Int32: [Walk.Checkpoint]] = [:]
        var ledger = InferenceLedger()
        var keptStates: [EventNumber: ReplayState] = [:]
        if walks.count > 1 { records.reserveCapacity(walks.reduce(0) { $0 + $1.exits.count }) }
        for index in walks.indices {
            let (answerBase, recordedBase, verdictBase) = (answers.count, recorded.count, verdicts.count)
            let outcomeBase = outcomes.count
            outcomes += walks[index].memo.outcomes
            answers += walks[index].memo.answers.map {
                DecisionAnswer(outcome: $0.outcome + outcomeBase, decidingRule: $0.decidingRule)
            }
            recorded += walks[index].recordedTable
            verdicts += walks[index].verdictTable
            // Taken out of the walk: its buffer is freed once copied (or becomes the result).
            var exits: [CompactExit] = []
            swap(&exits, &walks[index].exits)
            if walks.count == 1 {
                records = exits
            } else {
                for var exit in exits {
                    exit.answer += UInt32(answerBase)
                    exit.recorded += UInt32(recordedBase)
                    exit.verdict += UInt32(verdictBase)
                    records.append(exit)
                }
            }
            checkpoints.merge(walks[index].checkpoints) { mine, _ in mine }
            ledger.merge(walks[index].ledger)
            keptStates.merge(walks[index].keptStates) { mine, _ in mine }
        }
        if walks.count > 1 { records.sort { $0.firstEvent < $1.firstEvent } }
        var findingOrder: [(key: Int, walk: Int, local: Int)] = []
        for (walkIndex, walk) in walks.enumerated() {
            for (local, key) in walk.findingKeys.enumerated() { findingOrder.append((key, walkIndex, local)) }
        }
        findingOrder.sort { ($0.key, $0.walk, $0.local) < ($1.key, $1.walk, $1.local) }
        let findings = findingOrder.map { walks[$0.walk].findings[$0.local] }
        return MergedWalks(
            records: records, tables: ExitTables(outcomes: outcomes, answers: answers, recorded: recorded, verdicts: verdicts),
            findings: findings, checkpoints: checkpoints, ledger: ledger, keptStates: keptStates)
    }
}

/// What the walks of one replay produced, joined.
struct MergedWalks {
    var records: [CompactExit]
    var tables: ExitTables
    var findings: [ReplayFinding]
    var checkpoints: [Int32: [Walk.Checkpoint]]
    var ledger: InferenceLedger
    /// The states of mismatching exits the walks kept (``Walk/keptStates``).
    var keptStates: [EventNumber: ReplayState]
}

/// Where parallel walks leave their results (each writes its own slot once).
private final class WalkResults: Sendable {
    private let slots: Mutex<[Walk?]>

    init(count: Int) { slots = Mutex(Array(repeating: nil, count: count)) }

    func store(_ walk: Walk, at index: Int) {
        slots.withLock { $0[index] = walk }
    }

    func all() -> [Walk] {
        slots.withLock { $0.compactMap { $0 } }
    }
}

/// Something replay noticed that is not a per-exit verdict: a contradiction between two
/// inferences, events that fit no exit, a level the events disagree on.
public struct ReplayFinding: Sendable, Hashable, Codable {
    /// Stable kind, e.g. `inference-contradiction`.
    public var kind: String
    /// Trace line it refers to.
    public var line: Int
    /// Explanation.
    public var message: String
}
