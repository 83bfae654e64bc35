import Foundation
import NestedSVM
import TraceKit


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
    /// Per name id: the event kind the walk looks at, nil for the others (``TrackedEvent``).
    var kinds: [TrackedEvent?]
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
    var recordedIndex: [RecordedOutcome: Int] = [:]
    /// Distinct verdicts, referenced by ``CompactExit/verdict``.
    var verdictTable: [Verdict] = []
    var verdictIndex: [Verdict: Int] = [:]
    /// Per verdict id, its learnable settled facts in learning order (``learn(verdict:current:)``).
    var learnOrders: [Int: [(key: Fact, value: Bool)]] = [:]
    /// Verdict per (answer, recorded outcome, origin): judging is a function of these.
    var judged: [JudgeKey: Int] = [:]
    var findings: [ReplayFinding] = []
    /// Per thread, where a re-walk can start (``ReplayResult/state(of:)``).
    var checkpoints: [Int32: [Checkpoint]] = [:]
    /// Per thread, exits closed since its last checkpoint.
    var exitsSinceCheckpoint: [Int32: Int] = [:]
    /// The states of the first ``keptStateLimit`` mismatching exits, by first event: reports
    /// show their decision paths, which re-deriving would otherwise walk the trace again for.
    var keptStates: [EventNumber: ReplayState] = [:]
    /// At most this many mismatch states are kept per walk (the rest are re-derived).
    static let keptStateLimit = 2048
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
    var lastPID: Int32?
    var lastOwned = true

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


    /// What every walk over one trace looks up per event, computed once per trace (a
    /// re-derivation must not scan the whole index to start).
    struct Context: Sendable {
        let hasNestedVMExitEvents: Bool
        let kinds: [TrackedEvent?]
        let readMask: [Bool]
        let gapStarts: Set<EventNumber>

        init(trace: LoadedTrace) {
            hasNestedVMExitEvents = trace.eventNames.contains("kvm_nested_vmexit")
                && (trace.eventNameCounts["kvm_nested_vmexit"] ?? 0) > 0
            kinds = trace.eventNames.map(TrackedEvent.init(rawValue:))
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
        self.kinds = context.kinds
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
    mutating func report(_ finding: ReplayFinding) {
        findings.append(finding)
        findingKeys.append(currentKey)
    }
}
