import Foundation
import NestedSVM
import TraceKit

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
        let merged = Self.merge(walks)
        return ReplayResult(
            trace: trace, options: options, host: host, inferredHost: inferredHost,
            exits: ReplayExits(trace: trace, records: merged.records, tables: merged.tables), findings: merged.findings,
            checkpoints: merged.checkpoints, ledger: merged.ledger, context: context, recentStates: RecentStates())
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
        var outcomes: [Outcome] = []
        var answers: [DecisionAnswer] = []
        var recorded: [RecordedOutcome] = []
        var verdicts: [Verdict] = []
        var records: [CompactExit] = []
        var checkpoints: [Int32: [Walk.Checkpoint]] = [:]
        var ledger = InferenceLedger()
        records.reserveCapacity(walks.reduce(0) { $0 + $1.exits.count })
        for walk in walks {
            let (answerBase, recordedBase, verdictBase) = (answers.count, recorded.count, verdicts.count)
            let outcomeBase = outcomes.count
            outcomes += walk.memo.outcomes
            answers += walk.memo.answers.map { DecisionAnswer(outcome: $0.outcome + outcomeBase, decidingRule: $0.decidingRule) }
            recorded += walk.recordedTable
            verdicts += walk.verdictTable
            if walks.count == 1 {
                records = walk.exits
            } else {
                for var exit in walk.exits {
                    exit.answer += UInt32(answerBase)
                    exit.recorded += UInt32(recordedBase)
                    exit.verdict += UInt32(verdictBase)
                    records.append(exit)
                }
            }
            checkpoints.merge(walk.checkpoints) { mine, _ in mine }
            ledger.merge(walk.ledger)
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
            findings: findings, checkpoints: checkpoints, ledger: ledger)
    }
}

/// What the walks of one replay produced, joined.
struct MergedWalks {
    var records: [CompactExit]
    var tables: ExitTables
    var findings: [ReplayFinding]
    var checkpoints: [Int32: [Walk.Checkpoint]]
    var ledger: InferenceLedger
}

/// Where parallel walks leave their results (each writes its own slot once).
private final class WalkResults: @unchecked Sendable {
    private var slots: [Walk?]
    private let lock = NSLock()

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func store(_ walk: Walk, at index: Int) {
        lock.lock()
        slots[index] = walk
        lock.unlock()
    }

    func all() -> [Walk] {
        lock.lock()
        defer { lock.unlock() }
        return slots.compactMap { $0 }
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

/// The replay's walk state: one pass over the events in trace order, of every thread or
/// of one group of threads.
struct Walk: Sendable {
    /// `SVM_EXIT_INTR` (APM vol. 2, table C-1): the code of the #VMEXIT `kvm_nested_intr_vmexit` announces.
    static let intrExitCode: UInt32 = 0x060
    var trace: LoadedTrace
    let options: ReplayOptions
    let host: HostFacts
    var hasNestedVMExitEvents: Bool
    /// The threads this walk replays; nil for all.
    let pids: Set<Int32>?
    /// Position of every pid in ascending pid order (exits still open at the end close in it).
    var finishOrder: [Int32: Int]
    /// The step being taken: event number, or past the end while closing at the end.
    var currentKey = 0
    /// Per finding, the step that found it.
    var findingKeys: [Int] = []
    /// The trace's event names by name id.
    var names: [String]
    /// Per name id: whether the walk looks at the event (``TrackedEvents/relevant``).
    var relevant: [Bool]
    /// Per name id: whether it is `kvm_msr`.
    var isMSR: [Bool]
    /// Per name id: whether closing an exit reads the payload (``ExitEvents/readNames``).
    var readMask: [Bool]

    var vcpus: [Int32: TrackedVCPU] = [:]
    var open = OpenExits()
    var ledger = InferenceLedger()
    /// Outcomes per distinct model input (``DecisionMemo``).
    var memo = DecisionMemo()
    /// The model of the replay's profile and host.
    let model: DecisionModel
    /// Exits closed so far (sorted by first event at the end).
    var exits: [CompactExit] = []
    /// Distinct recorded outcomes (without evidence), referenced by ``CompactExit/recorded``.
    var recordedTable: [RecordedOutcome] = []
    private var recordedIndex: [RecordedOutcome: Int] = [:]
    /// Distinct verdicts, referenced by ``CompactExit/verdict``.
    var verdictTable: [Verdict] = []
    private var verdictIndex: [Verdict: Int] = [:]
    /// Verdict per (answer, recorded outcome, origin): judging is a function of these.
    private var judged: [JudgeKey: Int] = [:]
    var findings: [ReplayFinding] = []
    /// Per thread, where a re-walk can start (``ReplayResult/state(of:)``).
    var checkpoints: [Int32: [Checkpoint]] = [:]
    /// Per thread, exits closed since its last checkpoint.
    private var exitsSinceCheckpoint: [Int32: Int] = [:]
    /// What this walk is for: the replay itself, or re-deriving the state of one exit.
    let mode: Mode
    /// The state re-derived for the target exit (``Mode/rederive``).
    var captured: ReplayState?
    /// States re-derived since last drained, by exit position (``Mode/rederiveAll``).
    var capturedAll: [(Int, ReplayState)] = []
    /// Events that follow a gap in the trace (lost events, omitted lines).
    var gapStarts: Set<EventNumber>
    /// Step keys are `event × keyStride + sub-step` (sub-steps order the exits closed at a
    /// gap or at the end by pid, then the gap's own finding).
    var keyStride: Int
    /// Whether this walk reports gaps as findings (exactly one walk of a parallel replay does).
    var reportsGaps = true
    /// Thread of the last event stepped over, and whether it is one of this walk's.
    private var lastPID: Int32?
    private var lastOwned = true


    /// What a walk is for.
    enum Mode: Sendable {
        /// The replay: decide and judge every exit, keep compact records and checkpoints.
        case replay
        /// Re-derive the state the model saw at the exit starting at `target`, from a
        /// checkpoint; `exits` are the replay's (their verdicts say which facts were learned).
        case rederive(target: EventNumber, exits: ReplayExits)
        /// Re-derive the state of every exit, in the order they close (``capturedAll``).
        case rederiveAll(exits: ReplayExits)
    }

    /// Where a re-walk of one thread can start: the thread's tracked state at a `kvm_exit`
    /// with no exit open on it, and how many facts the ledger held then.
    struct Checkpoint: Sendable {
        /// The event to start at (a `kvm_exit` of the thread).
        var position: Int
        /// The thread's tracked state before that event.
        var vcpu: TrackedVCPU
        /// ``InferenceLedger/mark`` then.
        var ledgerMark: Int
    }

    /// A thread gets a checkpoint every this many exits: a re-walk replays at most this many
    /// exits of the thread (well under a millisecond), and checkpoints cost ~1 KB each.
    static let checkpointInterval = 64

    /// What every walk over one trace looks up per event, computed once per trace (a
    /// re-derivation must not scan the whole index to start).
    struct Context: Sendable {
        let hasNestedVMExitEvents: Bool
        let names: [String]
        let relevant: [Bool]
        let isMSR: [Bool]
        let readMask: [Bool]
        let gapStarts: Set<EventNumber>

        init(trace: LoadedTrace) {
            hasNestedVMExitEvents = trace.eventNames.contains("kvm_nested_vmexit")
                && (trace.eventNameCounts["kvm_nested_vmexit"] ?? 0) > 0
            names = trace.eventNames
            relevant = names.map { TrackedEvents.relevant.contains($0) }
            isMSR = names.map { $0 == "kvm_msr" }
            readMask = ExitEvents.readMask(trace)
            gapStarts = Set(trace.gaps)
        }
    }

    init(trace: LoadedTrace, options: ReplayOptions, host: HostFacts, pids: Set<Int32>?, finishOrder: [Int32: Int],
         context: Context, mode: Mode = .replay) {
        self.trace = trace
        self.options = options
        self.host = host
        self.pids = pids
        self.finishOrder = finishOrder
        self.mode = mode
        self.hasNestedVMExitEvents = context.hasNestedVMExitEvents
        self.names = context.names
        self.relevant = context.relevant
        self.isMSR = context.isMSR
        self.readMask = context.readMask
        self.gapStarts = context.gapStarts
        self.keyStride = finishOrder.count + 2
        self.model = DecisionModel(profile: options.profile, host: host)
    }

    /// Steps through every event of this walk's threads, then closes what is still open.
    mutating func walk(progress: ((Double) -> Void)?) {
        walk(from: 0, progress: progress)
    }

    /// Steps through the events of this walk's threads from `start`, then closes what is
    /// still open; a re-derivation stops as soon as its exit's state is captured.
    mutating func walk(from start: Int, progress: ((Double) -> Void)?) {
        let total = max(trace.count, 1)
        let stopsEarly: Bool
        if case .rederive = mode { stopsEarly = true } else { stopsEarly = false }
        for position in start..<trace.count {
            advance(to: EventNumber(position))
            if stopsEarly, captured != nil { return }
            if position & 0xFFFF == 0 { progress?(Double(position) / Double(total)) }
        }
        finishExitSpans()
    }

    /// Takes the step of event `number` (after crossing a gap before it), if its thread is
    /// one of this walk's.
    mutating func advance(to number: EventNumber) {
        // A gap concerns every thread, whichever thread's event follows it.
        if gapStarts.contains(number) { crossGap(at: number) }
        if let pids {
            let pid = trace.pid(of: number)
            if pid != lastPID {
                lastPID = pid
                lastOwned = pids.contains(pid)
            }
            guard lastOwned else { return }
        }
        currentKey = number.rawValue * keyStride
        step(number)
    }

    /// Records a finding with the step that made it.
    private mutating func report(_ finding: ReplayFinding) {
        findings.append(finding)
        findingKeys.append(currentKey)
    }

    mutating func step(_ number: EventNumber) {
        let nameID = trace.nameID(of: number)
        let pid = trace.pid(of: number)
        guard relevant[nameID] else {
            extendOpenExit(pid: pid, with: number, line: line(of: number))
            return
        }
        let name = names[nameID]
        let payload = trace.payload(of: number)
        let lineNumber = line(of: number)
        defer {
            // In place: the tracked state is large, copying it out and back costs more than the rest.
            vcpus[pid, default: TrackedVCPU(pid: pid)].apply(payload, name: name, line: lineNumber)
        }

        switch name {
        case "kvm_exit":
            if let pending = open.removeValue(forKey: pid) { close(pending, entry: nil) }
            takeCheckpointIfDue(pid: pid, at: number)
            if case .exit(let exit) = payload {
                let vcpu = vcpus[pid] ?? TrackedVCPU(pid: pid)
                // Every L2 exit is followed by kvm_nested_vmexit (svm_handle_exit in guest mode),
                // so L1 ran unless one follows. Only a trace recorded without that event but with a
                // VMRUN seen on this thread falls back on the tracked guest mode.
                let trackedL2 = vcpu.guestMode?.value == true && !hasNestedVMExitEvents
                let level: Level = trackedL2 ? .l2 : .l1
                let source = trackedL2
                    ? (vcpu.guestMode?.source ?? "unknown")
                    : "no kvm_nested_vmexit follows kvm_exit line \(lineNumber)"
                open[pid] = ExitSpan(
                    origin: .hardwareExit, first: number, firstLine: lineNumber, lastLine: lineNumber, last: number,
                    exit: exit, timestamp: trace.timestamp(of: number), level: level, levelSource: source, state: vcpu)
            }
        case "kvm_nested_vmexit":
            let vcpu = vcpus[pid] ?? TrackedVCPU(pid: pid)
            if open[pid]?.origin == .hardwareExit {
                open[pid]?.level = .l2
                open[pid]?.levelSource = "kvm_nested_vmexit line \(lineNumber)"
                if vcpu.guestMode?.value != true {
                    // The walk believed L1 ran (e.g. after a cut trace); the event settles it.
                    open[pid]?.state.guestMode = Known(true, source: "kvm_nested_vmexit line \(lineNumber)")
                }
                open[pid]?.append(number, payload: payload)
                open[pid]?.last = number
                open[pid]?.lastLine = lineNumber
            } else if case .nestedVMExit(let exit) = payload {
                // No kvm_exit before it (events missing): start the exit here.
                var state = vcpu
                state.guestMode = Known(true, source: "kvm_nested_vmexit line \(lineNumber)")
                open[pid] = ExitSpan(
                    origin: .hardwareExit, first: number, firstLine: lineNumber, lastLine: lineNumber, last: number,
                    exit: exit, timestamp: trace.timestamp(of: number), level: .l2,
                    levelSource: "kvm_nested_vmexit line \(lineNumber)", state: state)
                report(ReplayFinding(
                    kind: "missing-kvm-exit", line: lineNumber,
                    message: "kvm_nested_vmexit without a kvm_exit before it on pid \(pid): events are missing"))
            }
        case "kvm_nested_intr_vmexit":
            // svm_check_nested_events turns an interrupt pending for L1 into a #VMEXIT just
            // before an entry: the exit still open was finished by L0 (this is the point where
            // the entry would have come), and a synthesized INTR #VMEXIT starts here.
            if var current = open.removeValue(forKey: pid) {
                current.append(number, payload: payload)
                current.last = number
                current.lastLine = lineNumber
                close(current, entry: number)
            }
            let vcpu = vcpus[pid] ?? TrackedVCPU(pid: pid)
            var synthesized = ExitSpan(
                origin: .synthesized, first: number, firstLine: lineNumber, lastLine: lineNumber, last: number,
                exit: KVMExit(exitReason: SVMExitReason(Self.intrExitCode)), timestamp: trace.timestamp(of: number),
                level: .l2, levelSource: "kvm_nested_intr_vmexit line \(lineNumber) (fires only in guest mode)", state: vcpu)
            if case .nestedIntrVMExit(let rip) = payload { synthesized.exit.guestRIP = rip }
            synthesized.append(number, payload: payload)
            open[pid] = synthesized
        case "kvm_nested_vmexit_inject":
            if open[pid] != nil {
                extendOpenExit(pid: pid, with: number, line: lineNumber, payload: payload)
            } else if case .nestedVMExitInject(let inject) = payload {
                let vcpu = vcpus[pid] ?? TrackedVCPU(pid: pid)
                let exit = KVMExit(
                    exitReason: inject.exitReason, guestRIP: nil, exitInfo1: inject.exitInfo1,
                    exitInfo2: inject.exitInfo2, intrInfo: inject.exitIntInfo, errorCode: inject.exitIntInfoErr)
                var current = ExitSpan(
                    origin: .synthesized, first: number, firstLine: lineNumber, lastLine: lineNumber, last: number,
                    exit: exit, timestamp: trace.timestamp(of: number), level: vcpu.level,
                    levelSource: vcpu.guestMode?.source ?? "unknown", state: vcpu)
                current.append(number, payload: payload)
                open[pid] = current
            }
        case "kvm_entry":
            if var current = open.removeValue(forKey: pid) {
                current.append(number, payload: payload)
                current.last = number
                current.lastLine = lineNumber
                close(current, entry: number)
            }
        default:
            extendOpenExit(pid: pid, with: number, line: lineNumber, payload: payload)
        }
    }

    /// Events are missing before `number`: an exit still open cannot be paired with an entry
    /// after the gap, and guest mode may have changed unseen.
    private mutating func crossGap(at number: EventNumber) {
        let line = trace.lineNumber(of: number)
        for pid in open.keys.sorted() {
            currentKey = number.rawValue * keyStride + 1 + (finishOrder[pid] ?? 0)
            guard let pending = open.removeValue(forKey: pid) else { continue }
            close(pending, entry: nil)
        }
        for pid in vcpus.keys {
            vcpus[pid]?.guestMode = nil
        }
        currentKey = number.rawValue * keyStride + keyStride - 1
        guard reportsGaps else { return }
        report(ReplayFinding(
            kind: "gap", line: line,
            message: "events are missing before line \(line) (lost events or omitted lines): open exits are left undetermined and guest mode is re-learned"))
    }

    /// Adds an event to the exit still open on `pid`, if any.
    private mutating func extendOpenExit(pid: Int32, with number: EventNumber, line: Int, payload: EventPayload? = nil) {
        // Mutated in place: copying the span out would copy its event list on every append.
        guard open[pid] != nil else { return }
        open[pid]?.append(number, payload: payload)
        open[pid]?.last = number
        open[pid]?.lastLine = line
    }

    mutating func finishExitSpans() {
        for pid in open.keys.sorted() {
            currentKey = trace.count * keyStride + 1 + (finishOrder[pid] ?? 0)
            if let pending = open.removeValue(forKey: pid) { close(pending, entry: nil) }
        }
        exits.sort { $0.firstEvent < $1.firstEvent }
    }

    private func line(of number: EventNumber) -> Int { trace.lineNumber(of: number) }

    // MARK: checkpoints

    /// Stores a checkpoint of `pid` at `number` (a `kvm_exit` with nothing open on the
    /// thread) when the thread closed enough exits since its last one.
    private mutating func takeCheckpointIfDue(pid: Int32, at number: EventNumber) {
        guard case .replay = mode, exitsSinceCheckpoint[pid, default: 0] >= Self.checkpointInterval else { return }
        exitsSinceCheckpoint[pid] = 0
        checkpoints[pid, default: []].append(Checkpoint(
            position: number.rawValue, vcpu: vcpus[pid] ?? TrackedVCPU(pid: pid), ledgerMark: ledger.mark))
    }

    // MARK: closing an exit

    /// The model's view of one exit, and what it was built from.
    struct ExitState {
        /// The thread's tracked state with the exit's own level and VMRUN input applied.
        var tracked: TrackedVCPU
        /// The state the model decides on (before the exit's own assumptions are added).
        var model: VCPUState
        /// The model's event and the operand facts of the exit's own events.
        var inputs: ModelInputs
        /// Where a facts file (`--facts`) contradicts the trace or an inference at this exit.
        var conflicts: [FactConflict] = []
    }

    /// Builds the state the model sees at `current`: the thread's tracked state when the exit
    /// opened, the vmcb12 of a VMRUN's own events, the level the exit ran at, facts the
    /// ledger learned for this configuration, and whether L0 faulted an MSR of the exit.
    /// The one place a per-exit `VCPUState` is made (replay and re-derivation both use it).
    func exitState(for current: ExitSpan, events: ExitEvents) -> ExitState {
        var state = current.state
        if current.exit.exitReason.rawValue == VMRUNInput.exitCode, current.level == .l1 {
            // The vmcb12 this VMRUN uses is printed by its own kvm_nested_vmenter and
            // kvm_nested_intercepts (after the checks); they describe the instruction's input.
            for (number, payload) in events.all {
                let name = trace.name(of: number)
                guard name == "kvm_nested_vmenter" || name == "kvm_nested_vmrun" || name == "kvm_nested_intercepts" else { continue }
                state.apply(payload, name: name, line: trace.lineNumber(of: number))
            }
        }
        if let level = current.level {
            state.guestMode = Known(level == .l2, source: current.levelSource)
        }
        var vmcb12 = state.vmcb12
        ledger.apply(to: &vmcb12, pid: state.pid, configuration: state.configuration)
        state.vmcb12 = vmcb12
        let inputs = ModelInputs(trace: trace, origin: current.origin, exit: current.exit, events: events)
        var guest = options.guest
        // A kvm_msr inside the exit states whether L0's emulation of that MSR faulted.
        for (number, payload) in events.all where isMSR[trace.nameID(of: number)] {
            if case .msr(let msr) = payload, guest.l0RejectsMSR[msr.msr] == nil {
                guest.l0RejectsMSR[msr.msr] = Known(
                    msr.faulted, source: "kvm_msr line \(trace.lineNumber(of: number))" + (msr.faulted ? " (#GP)" : ""))
            }
        }
        var model = state.modelState(guest: guest)
        var conflicts: [FactConflict] = []
        if !options.facts.isEmpty {
            conflicts = UserFacts.apply(
                options.facts, to: &model, vmcb12Address: state.vmcb12Address?.value, vcpu: current.exit.vcpu ?? state.vcpu)
        }
        return ExitState(tracked: state, model: model, inputs: inputs, conflicts: conflicts)
    }

    private mutating func close(_ current: ExitSpan, entry: EventNumber?) {
        exitsSinceCheckpoint[current.state.pid, default: 0] += 1
        let events = ExitEvents(trace: trace, numbers: current.events, decoded: current.payloads, mask: readMask)
        let built = exitState(for: current, events: events)
        switch mode {
        case .replay:
            break
        case .rederive(let target, let known):
            rederive(current, built: built, target: target, exits: known)
            return
        case .rederiveAll(let known):
            rederive(current, built: built, target: nil, exits: known)
            return
        }
        let recorded = RecordedOutcomeReader.read(events: events, entry: entry, level: current.level, origin: current.origin)
        var decidedState = built.model
        decidedState.assumptions.merge(built.inputs.assumptions(level: current.level)) { known, _ in known }
        // svmdbg capture's probes at this exit, if any: registers the stock events lack (ProbeValues).
        let probe = current.origin == .hardwareExit
            ? ProbeValues(trace: trace, first: current.first, events: current.events, exitCode: current.exit.exitReason.rawValue, level: current.level) : nil
        probe?.apply(to: &decidedState)
        let answer: Int
        if let event = built.inputs.event().map({ probe?.refine($0) ?? $0 }) {
            answer = memo.decide(event, state: decidedState, model: model)
        } else {
            answer = memo.unmodelledSynthesized(code: current.exit.exitReason.rawValue)
        }
        let outcome = memo.outcomes[memo.answers[answer].outcome]
        let recordedID = intern(recorded: recorded)
        let judgeKey = JudgeKey(answer: answer, recorded: recordedID, origin: current.origin)
        var verdictID: Int
        if let known = judged[judgeKey] {
            verdictID = known
        } else {
            verdictID = intern(verdict: judge(outcome: outcome, recorded: recorded, current: current))
            judged[judgeKey] = verdictID
        }
        let verdict = verdictTable[verdictID]
        if !verdict.inferred.isEmpty { learn(verdict.settled, current: current) }
        if verdict.kind == .match, case .vmrunFails = recorded.kind, let message = recorded.failedCheck {
            // The trace names the failed check: ask the model whether this kernel has it.
            let check = model.decision(for: .vmrunConsistencyFailure(message: message), state: built.model)
            // A profile that forks on whether it has the check (apm, where sources disagree) does not contradict the trace.
            let forksOnCheck = (check.outcome.alternatives ?? []).contains { $0.outcome.kind == .vmrunFails && $0.outcome.check != nil }
            if check.outcome.kind != .vmrunFails && !forksOnCheck {
                verdictID = intern(verdict: Verdict(
                    kind: .mismatch,
                    differences: [Verdict.Difference(field: "check", model: check.outcome.description, recorded: message)],
                    explanation: "the trace fails VMRUN on a check the \(options.profile.name) profile does not have"))
            }
        }
        if !built.conflicts.isEmpty {
            // A facts file and the trace (or an inference from a recorded outcome) disagree.
            verdictID = intern(verdict: Verdict(
                kind: .mismatch,
                differences: built.conflicts.map { Verdict.Difference(field: $0.field, model: "facts \($0.fact)", recorded: $0.other) },
                explanation: "a facts file contradicts what the trace shows or settles: "
                    + built.conflicts.map { "\($0.field) = \($0.fact) but \($0.other)" }.joined(separator: "; ")))
        } else if verdictTable[verdictID].kind == .mismatch, !options.facts.isEmpty,
            let settledAgainst = settledWithoutFacts(current: current, events: events, recorded: recorded, built: built)
        {
            // Without the facts the recorded outcome would have settled an input the facts give
            // otherwise: name both sources.
            var verdict = verdictTable[verdictID]
            verdict.differences += settledAgainst
            verdict.explanation += "; the recorded outcome settles " + settledAgainst.map { "\($0.field) = \($0.recorded)" }
                .joined(separator: ", ") + " where the facts say otherwise"
            verdictID = intern(verdict: verdict)
        }
        var flags: UInt8 = current.origin == .synthesized ? CompactExit.Flag.synthesized : 0
        switch current.level {
        case .l1: flags |= CompactExit.Flag.levelL1
        case .l2: flags |= CompactExit.Flag.levelL2
        case nil: break
        }
        let vcpu = current.exit.vcpu ?? built.tracked.vcpu
        if vcpu != nil { flags |= CompactExit.Flag.hasVCPU }
        if recorded.entry != nil { flags |= CompactExit.Flag.hasEntry }
        let head = recorded.evidence.first.flatMap { $0 == recorded.entry ? nil : $0 }
        exits.append(CompactExit(
            firstEvent: UInt32(truncatingIfNeeded: current.first.rawValue),
            lastEvent: UInt32(truncatingIfNeeded: current.last.rawValue), exitCode: current.exit.exitReason.rawValue,
            vcpuID: vcpu ?? 0, configuration: UInt32(truncatingIfNeeded: built.tracked.configuration),
            answer: UInt32(answer), recorded: UInt32(recordedID), verdict: UInt32(verdictID),
            evidence: head.map { UInt32(truncatingIfNeeded: $0.rawValue) } ?? CompactExit.noEvent, flags: flags))
    }

    /// For a mismatch under facts: decides the exit again on the state without the facts; when
    /// the recorded outcome then settles inputs the facts give other values, one difference
    /// per such input (`facts` value and source against the recorded outcome's line).
    private func settledWithoutFacts(current: ExitSpan, events: ExitEvents, recorded: RecordedOutcome, built: ExitState) -> [Verdict.Difference]? {
        var bare = Walk(
            trace: trace, options: ReplayOptions(profile: options.profile, host: options.host, guest: options.guest),
            host: host, pids: [], finishOrder: [:], context: Context(trace: trace))
        bare.ledger = ledger
        var state = bare.exitState(for: current, events: events).model
        state.assumptions.merge(built.inputs.assumptions(level: current.level)) { known, _ in known }
        guard let event = built.inputs.event() else { return nil }
        let outcome = model.decision(for: event, state: state).outcome
        guard outcome.kind == .undetermined else { return nil }
        let fitting = (outcome.alternatives ?? []).filter {
            OutcomeComparison.differences(model: $0.outcome, recorded: recorded).isEmpty
        }
        let settled = Self.settledFacts(fitting)
        var out: [Verdict.Difference] = []
        for (id, value) in settled.sorted(by: { $0.key < $1.key }) {
            guard let known = Self.factValue(id, in: built.model), known.value != value else { continue }
            out.append(Verdict.Difference(
                field: id, model: "\(known.value ? 1 : 0) [\(known.source)]",
                recorded: "\(value ? 1 : 0) [settled by the recorded outcome at line \(current.firstLine)]"))
        }
        return out.isEmpty ? nil : out
    }

    /// The value of fact `id` in `state` when the state holds it directly (permission-map bits,
    /// intercept bits, the facts' `assumptions`).
    static func factValue(_ id: String, in state: VCPUState) -> Known<Bool>? {
        if let known = state.assumptions[id] { return known }
        if let (msr, write) = PermissionField.msr(id) { return state.vmcb12.msrpm.bit(msr: msr, write: write) }
        if let port = PermissionField.port(id) { return state.vmcb12.iopm.bit(port: port) }
        if id.hasPrefix("vmcb12.intercept["), id.hasSuffix("]"), let bit = Int(id.dropFirst(17).dropLast()) {
            return state.vmcb12.intercepts.bit(bit)
        }
        return nil
    }

    /// Re-derivation: captures the target exit's state (every exit's when `target` is nil);
    /// every other exit only teaches the ledger what the replay learned there (its verdict says).
    private mutating func rederive(_ current: ExitSpan, built: ExitState, target: EventNumber?, exits known: ReplayExits) {
        let state = { ReplayState(
            vcpu: built.model, vmcb12Address: built.tracked.vmcb12Address, nestedRIP: built.tracked.nestedRIP,
            configuration: built.tracked.configuration) }
        if let target, current.first == target {
            captured = state()
            return
        }
        guard let position = known.position(ofFirstEvent: current.first) else { return }
        if target == nil { capturedAll.append((position, state())) }
        let verdict = known.tables.verdicts[Int(known.records[position].verdict)]
        if !verdict.inferred.isEmpty { learn(verdict.settled, current: current) }
    }

    /// The index of `recorded` (its evidence and entry left out) in ``recordedTable``.
    private mutating func intern(recorded: RecordedOutcome) -> Int {
        var shared = recorded
        shared.evidence = []
        shared.entry = nil
        if let known = recordedIndex[shared] { return known }
        recordedTable.append(shared)
        recordedIndex[shared] = recordedTable.count - 1
        return recordedTable.count - 1
    }

    /// The index of `verdict` in ``verdictTable``.
    private mutating func intern(verdict: Verdict) -> Int {
        if let known = verdictIndex[verdict] { return known }
        verdictTable.append(verdict)
        verdictIndex[verdict] = verdictTable.count - 1
        return verdictTable.count - 1
    }

    /// Compares, settling undetermined decisions with the recorded outcome where it can.
    /// A function of the outcome, the recorded outcome and the origin only (memoised by
    /// ``JudgeKey``); the facts a match settles are learned by the caller.
    private func judge(outcome: Outcome, recorded: RecordedOutcome, current: ExitSpan) -> Verdict {
        if recorded.kind == .unknown {
            return Verdict(
                kind: .undetermined, missing: ["recorded outcome"],
                explanation: "no kvm_entry follows this exit on its thread before \(current.origin == .hardwareExit ? "the next exit or the end of the trace" : "the end"): events are missing")
        }
        guard outcome.kind == .undetermined else {
            let differences = OutcomeComparison.differences(model: outcome, recorded: recorded)
            if differences.isEmpty {
                return Verdict(kind: .match, explanation: "model and trace agree")
            }
            return Verdict(
                kind: .mismatch, differences: differences,
                explanation: "model predicts \(outcome.description); trace shows \(recorded.summary)")
        }
        let alternatives = outcome.alternatives ?? []
        let consistent = alternatives.filter {
            OutcomeComparison.differences(model: $0.outcome, recorded: recorded).isEmpty
        }
        if consistent.isEmpty {
            // No alternative at all: the model found the facts contradictory; its reason says why.
            let possible = alternatives.isEmpty
                ? [outcome.description] : alternatives.map { "\($0.condition) → \($0.outcome.description)" }
            return Verdict(
                kind: .mismatch,
                differences: [Verdict.Difference(field: "outcome", model: possible.joined(separator: " | "), recorded: recorded.summary)],
                explanation: alternatives.isEmpty
                    ? (outcome.missing ?? []).joined(separator: "; ")
                    : "no outcome the model allows for the unknown inputs fits the trace")
        }
        var settled = Self.settledFacts(consistent)
        if recorded.kind == .vmrunFails, let message = recorded.failedCheck, let check = ConsistencyCheck.check(forMessage: message) {
            // kvm_nested_vmenter_failed names the check that failed.
            settled[FactID.vmrunCheck(check.id)] = false
        }
        if consistent.count == alternatives.count {
            return Verdict(
                kind: .match, settled: settled, explanation: "every outcome the model allows for the unknown inputs fits the trace")
        }
        let inferred = consistent.map(\.condition)
        return Verdict(
            kind: .match, inferred: inferred, settled: settled,
            explanation: "the trace settles an unknown input: " + inferred.joined(separator: " or "))
    }

    /// The facts every alternative of `consistent` assumes with the same value.
    static func settledFacts(_ consistent: [Alternative]) -> [String: Bool] {
        guard var common = consistent.first?.assumptions else { return [:] }
        for alternative in consistent.dropFirst() {
            common = common.filter { alternative.assumptions[$0.key] == $0.value }
        }
        return common
    }

    /// Stores the settled permission-map bits (MSRPM, IOPM fact ids) for later exits of the
    /// same configuration.
    private mutating func learn(_ settled: [String: Bool], current: ExitSpan) {
        for (field, first) in settled.sorted(by: { $0.key < $1.key }) where PermissionField.isLearnable(field) {
            let source = "recorded outcome of the exit at line \(current.firstLine)"
            if let earlier = ledger.learn(
                pid: current.state.pid, configuration: current.state.configuration, field: field, value: first,
                source: source)
            {
                report(ReplayFinding(
                    kind: "inference-contradiction", line: current.firstLine,
                    message: "\(field) inferred \(first ? "set" : "clear") here but \(earlier.value ? "set" : "clear") from \(earlier.source), under the same L1 configuration"))
            }
        }
    }

}

/// What a verdict depends on: the model's answer, the recorded outcome, the origin.
struct JudgeKey: Hashable, Sendable {
    var answer: Int
    var recorded: Int
    var origin: ExitRecord.Origin
}

/// Event names the walk looks at; everything else only joins the open exit.
enum TrackedEvents {
    static let relevant: Set<String> = [
        "kvm_exit", "kvm_nested_vmexit", "kvm_entry", "kvm_nested_vmexit_inject", "kvm_nested_vmenter",
        "kvm_nested_vmrun", "kvm_nested_intercepts", "kvm_msr", "kvm_cr", "kvm_nested_intr_vmexit",
    ]
}

/// An exit whose outcome is still being read.
struct ExitSpan: Sendable {
    var origin: ExitRecord.Origin
    var first: EventNumber
    var firstLine: Int
    var lastLine: Int
    var last: EventNumber
    var exit: KVMExit
    var timestamp: TraceTimestamp
    var level: Level?
    var levelSource: String
    var state: TrackedVCPU
    /// The exit's events after its first, in order.
    var events: [EventNumber] = []
    /// Their payloads where the walk decoded them already (nil: not decoded yet).
    var payloads: [EventPayload?] = []

    /// Adds an event, with its payload when already decoded.
    mutating func append(_ number: EventNumber, payload: EventPayload?) {
        events.append(number)
        payloads.append(payload)
    }
}


/// The exit still open on each thread, kept in place: an exit span is large (it carries the
/// thread's tracked state), and a dictionary of spans would move it out and back on every
/// event added to it.
struct OpenExits: Sendable {
    /// One slot per thread seen, nil when no exit is open on it.
    private var slots: [ExitSpan?] = []
    /// Slot of each thread.
    private var slotOf: [Int32: Int] = [:]

    /// The open exit of thread `pid`; assigning nil closes it.
    subscript(pid: Int32) -> ExitSpan? {
        _read {
            if let slot = slotOf[pid] { yield slots[slot] } else { yield nil }
        }
        _modify {
            let slot: Int
            if let known = slotOf[pid] {
                slot = known
            } else {
                slot = slots.count
                slots.append(nil)
                slotOf[pid] = slot
            }
            yield &slots[slot]
        }
    }

    /// Takes the open exit of `pid` out, if any.
    mutating func removeValue(forKey pid: Int32) -> ExitSpan? {
        guard let slot = slotOf[pid] else { return nil }
        var taken: ExitSpan?
        swap(&taken, &slots[slot])
        return taken
    }

    /// Threads with an open exit.
    var keys: [Int32] { slotOf.compactMap { slots[$0.value] == nil ? nil : $0.key } }
}

/// Constants for reading a VMRUN's own input.
enum VMRUNInput {
    /// `SVM_EXIT_VMRUN` (APM vol. 2, table C-1).
    static let exitCode: UInt32 = 0x080
}
