import NestedSVM
import TraceKit

/// A replay that carries on as lines are appended to its trace (`svmdbg --follow`,
/// `--pipe`): the walk's state (tracked vCPUs, open exits, learned facts, memo) is kept
/// between appends and only the new events are stepped through.
///
/// An exit joins ``result`` once its span closes (its `kvm_entry`, or the thread's next exit);
/// exits still open at the end of what has arrived wait for their next event. One walk over
/// every thread, so the exits come in the order a single-walk ``Replayer`` gives them.
///
/// Host facts inferred from the trace (``HostInference``) feed the model. When new lines
/// change what can be inferred, the decisions already taken may rest on a fact that is now
/// known otherwise, so the replay starts over from the first event (``extend(to:)`` says so
/// with ``Extension/replayedAgain``); explicit `--host` facts always win as in ``Replayer``.
public struct LiveReplay: Sendable {
    /// Profile and explicit facts.
    public let options: ReplayOptions
    /// The trace as far as it has been replayed.
    public private(set) var trace: LoadedTrace
    /// What the trace proves about the host so far.
    public var inferredHost: HostFacts { inference.facts }
    /// The host inference carried on between appends (fed only the new events).
    private var inference: HostInference.Scan
    private var walk: Walk
    /// Events fed to the host inference since this replay began, re-replays included: an
    /// append costs its new events, not the whole trace.
    public private(set) var inferenceEventsScanned = 0
    /// Events stepped through.
    public private(set) var stepped = 0

    /// What one `extend(to:)` did.
    public enum Extension: Sendable, Equatable {
        /// The new events were stepped through from where the last step stopped.
        case continued(events: Int)
        /// The inferred host facts changed: every event was stepped through again.
        case replayedAgain(because: String)
    }

    /// Starts a replay of `trace` (possibly empty) and steps through its events.
    public init(trace: LoadedTrace, options: ReplayOptions) {
        var inference = HostInference.Scan()
        inference.advance(over: trace)
        self.init(trace: trace, options: options, inference: inference)
        inferenceEventsScanned = trace.count
    }

    /// Starts a replay of `trace` with the inference already fed all of it.
    private init(trace: LoadedTrace, options: ReplayOptions, inference: HostInference.Scan) {
        self.options = options
        self.trace = trace
        self.inference = inference
        self.walk = Self.newWalk(trace, options: options, host: inference.facts.overridden(by: options.host))
        step(to: trace.count)
    }

    /// Carries the replay on over `longer`, which must be this trace with lines appended
    /// (``LoadedTrace/appending(lines:)``).
    @discardableResult
    public mutating func extend(to longer: LoadedTrace) -> Extension {
        var inference = self.inference
        inference.advance(over: longer)
        let scannedBefore = inferenceEventsScanned + (longer.count - self.inference.scanned)
        let changed = Self.changedFacts(from: inferredHost, to: inference.facts)
        if !changed.isEmpty {
            let reason = "new lines show host \(changed.joined(separator: ", "))"
            self = LiveReplay(trace: longer, options: options, inference: inference)
            inferenceEventsScanned = scannedBefore
            return .replayedAgain(because: reason)
        }
        self.inference = inference
        inferenceEventsScanned = scannedBefore
        let before = stepped
        trace = longer
        walk.trace = longer
        let context = Walk.Context(trace: longer)
        walk.hasNestedVMExitEvents = context.hasNestedVMExitEvents
        walk.kinds = context.kinds
        walk.readMask = context.readMask
        walk.gapStarts = context.gapStarts
        // Threads seen for the first time close after the known ones at a gap or the end.
        for pid in longer.threads.keys.sorted() where walk.finishOrder[pid] == nil {
            walk.finishOrder[pid] = walk.finishOrder.count
        }
        step(to: longer.count)
        return .continued(events: stepped - before)
    }

    /// The replay of everything stepped through: the exits closed so far, verdicts and all.
    public var result: ReplayResult { Self.result(of: walk, trace: trace, options: options, inferred: inferredHost) }

    /// The replay as if the input ended here: the exits still open are closed without their
    /// entry (a pipe that closed, a capture that stopped).
    public var finishedResult: ReplayResult {
        var last = walk
        last.finishExitSpans()
        return Self.result(of: last, trace: trace, options: options, inferred: inferredHost)
    }

    private mutating func step(to end: Int) {
        while stepped < end {
            walk.advance(to: EventNumber(stepped))
            stepped += 1
        }
    }

    private static func newWalk(_ trace: LoadedTrace, options: ReplayOptions, host: HostFacts) -> Walk {
        let finishOrder = Dictionary(uniqueKeysWithValues: trace.threads.keys.sorted().enumerated().map { ($1, $0) })
        var walk = Walk(trace: trace, options: options, host: host, pids: nil, finishOrder: finishOrder,
                        context: Walk.Context(trace: trace))
        // Step keys order findings only; leave room for threads that appear later.
        walk.keyStride = max(walk.keyStride, 1 << 10)
        return walk
    }

    private static func result(of walk: Walk, trace: LoadedTrace, options: ReplayOptions, inferred: HostFacts) -> ReplayResult {
        let merged = Replayer.merge([walk])
        return ReplayResult(
            trace: trace, options: options, host: walk.host, inferredHost: inferred,
            exits: ReplayExits(trace: trace, records: merged.records, tables: merged.tables), findings: merged.findings,
            checkpoints: merged.checkpoints, ledger: merged.ledger, keptStates: merged.keptStates,
            context: Walk.Context(trace: trace),
            recentStates: RecentStates())
    }

    /// The host fact keys whose inferred value differs (the cited line may move; the value
    /// is what the model uses).
    static func changedFacts(from old: HostFacts, to new: HostFacts) -> [String] {
        zip(values(old), values(new)).compactMap { $0.value != $1.value ? "\($0.key)=\($1.value ?? "unknown")" : nil }
    }

    /// Each fact's value as text, in ``HostFacts/keys`` order.
    static func values(_ facts: HostFacts) -> [(key: String, value: String?)] {
        [
            ("svme_addr_chk", facts.svmeAddrChk.map { "\($0.value)" }), ("vgif", facts.vgif.map { "\($0.value)" }),
            ("npt", facts.npt.map { "\($0.value)" }), ("nrips", facts.nrips.map { "\($0.value)" }),
            ("decode_assists", facts.decodeAssists.map { "\($0.value)" }),
            ("maxphyaddr", facts.maxPhysAddr.map { "\($0.value)" }), ("vls", facts.vls.map { "\($0.value)" }),
            ("vmware_backdoor", facts.vmwareBackdoor.map { "\($0.value)" }),
            ("guest_debug", facts.guestDebug.map { "\($0.value)" }),
        ]
    }
}
