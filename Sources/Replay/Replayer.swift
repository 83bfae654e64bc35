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
    public func run(progress: ((Double) -> Void)? = nil) -> ReplayResult {
        let inferredHost = HostInference.facts(from: trace)
        let host = inferredHost.overridden(by: options.host)
        var walk = Walk(trace: trace, options: options, host: host)
        let total = max(trace.count, 1)
        for position in 0..<trace.count {
            walk.step(EventNumber(position))
            if position & 0xFFFF == 0 { progress?(Double(position) / Double(total)) }
        }
        walk.finishExitSpans()
        progress?(1)
        return ReplayResult(
            trace: trace, options: options, host: host, inferredHost: inferredHost, exits: walk.exits,
            states: walk.states, findings: walk.findings)
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

/// The replay's walk state: one pass over the events in trace order.
private struct Walk {
    let trace: LoadedTrace
    let options: ReplayOptions
    let host: HostFacts
    let hasNestedVMExitEvents: Bool

    var vcpus: [Int32: TrackedVCPU] = [:]
    var open: [Int32: ExitSpan] = [:]
    var ledger = InferenceLedger()
    var exits: [ExitRecord] = []
    var states: [ReplayState] = []
    var findings: [ReplayFinding] = []
    /// Last state index per (pid, configuration) with the facts it held, to share states.
    var lastState: [Int32: (index: Int, signature: StateSignature)] = [:]
    /// Events that follow a gap in the trace (lost events, omitted lines).
    let gapStarts: Set<EventNumber>

    init(trace: LoadedTrace, options: ReplayOptions, host: HostFacts) {
        self.trace = trace
        self.options = options
        self.host = host
        self.hasNestedVMExitEvents = (trace.eventNameCounts["kvm_nested_vmexit"] ?? 0) > 0
        self.gapStarts = Set(trace.gaps)
    }

    mutating func step(_ number: EventNumber) {
        if gapStarts.contains(number) { crossGap(at: number) }
        let name = trace.name(of: number)
        let pid = trace.pid(of: number)
        guard TrackedEvents.relevant.contains(name) else {
            extendOpenExit(pid: pid, with: number, line: line(of: number))
            return
        }
        let payload = trace.payload(of: number)
        let lineNumber = line(of: number)
        var vcpu = vcpus[pid] ?? TrackedVCPU(pid: pid)

        switch name {
        case "kvm_exit":
            if let pending = open.removeValue(forKey: pid) { close(pending, entry: nil) }
            if case .exit(let exit) = payload {
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
            if var current = open[pid], current.origin == .hardwareExit {
                current.level = .l2
                current.levelSource = "kvm_nested_vmexit line \(lineNumber)"
                if vcpu.guestMode?.value != true {
                    // The walk believed L1 ran (e.g. after a cut trace); the event settles it.
                    current.state.guestMode = Known(true, source: "kvm_nested_vmexit line \(lineNumber)")
                }
                current.events.append(number)
                current.last = number
                current.lastLine = lineNumber
                open[pid] = current
            } else if case .nestedVMExit(let exit) = payload {
                // No kvm_exit before it (events missing): start the exit here.
                var state = vcpu
                state.guestMode = Known(true, source: "kvm_nested_vmexit line \(lineNumber)")
                open[pid] = ExitSpan(
                    origin: .hardwareExit, first: number, firstLine: lineNumber, lastLine: lineNumber, last: number,
                    exit: exit, timestamp: trace.timestamp(of: number), level: .l2,
                    levelSource: "kvm_nested_vmexit line \(lineNumber)", state: state)
                findings.append(ReplayFinding(
                    kind: "missing-kvm-exit", line: lineNumber,
                    message: "kvm_nested_vmexit without a kvm_exit before it on pid \(pid): events are missing"))
            }
        case "kvm_nested_vmexit_inject":
            if open[pid] != nil {
                extendOpenExit(pid: pid, with: number, line: lineNumber)
            } else if case .nestedVMExitInject(let inject) = payload {
                let exit = KVMExit(
                    exitReason: inject.exitReason, guestRIP: nil, exitInfo1: inject.exitInfo1,
                    exitInfo2: inject.exitInfo2, intrInfo: inject.exitIntInfo, errorCode: inject.exitIntInfoErr)
                var current = ExitSpan(
                    origin: .synthesized, first: number, firstLine: lineNumber, lastLine: lineNumber, last: number,
                    exit: exit, timestamp: trace.timestamp(of: number), level: vcpu.level,
                    levelSource: vcpu.guestMode?.source ?? "unknown", state: vcpu)
                current.events.append(number)
                open[pid] = current
            }
        case "kvm_entry":
            if var current = open.removeValue(forKey: pid) {
                current.events.append(number)
                current.last = number
                current.lastLine = lineNumber
                close(current, entry: number)
            }
        default:
            extendOpenExit(pid: pid, with: number, line: lineNumber)
        }
        vcpu.apply(payload, name: name, line: lineNumber)
        vcpus[pid] = vcpu
    }

    /// Events are missing before `number`: an exit still open cannot be paired with an entry
    /// after the gap, and guest mode may have changed unseen.
    private mutating func crossGap(at number: EventNumber) {
        let line = trace.lineNumber(of: number)
        for pid in open.keys.sorted() {
            guard let pending = open.removeValue(forKey: pid) else { continue }
            close(pending, entry: nil)
        }
        for pid in vcpus.keys {
            vcpus[pid]?.guestMode = nil
        }
        findings.append(ReplayFinding(
            kind: "gap", line: line,
            message: "events are missing before line \(line) (lost events or omitted lines): open exits are left undetermined and guest mode is re-learned"))
    }

    /// Adds an event to the exit still open on `pid`, if any.
    private mutating func extendOpenExit(pid: Int32, with number: EventNumber, line: Int) {
        guard var current = open[pid] else { return }
        current.events.append(number)
        current.last = number
        current.lastLine = line
        open[pid] = current
    }

    mutating func finishExitSpans() {
        for pid in open.keys.sorted() {
            if let pending = open.removeValue(forKey: pid) { close(pending, entry: nil) }
        }
        exits.sort { $0.firstEvent < $1.firstEvent }
        for index in exits.indices { exits[index].index = index }
    }

    private func line(of number: EventNumber) -> Int { trace.lineNumber(of: number) }

    // MARK: closing an exit

    private mutating func close(_ current: ExitSpan, entry: EventNumber?) {
        let recorded = RecordedOutcomeReader.read(
            trace: trace, events: current.events, entry: entry, level: current.level, origin: current.origin)
        var state = current.state
        if current.exit.exitReason.rawValue == VMRUNInput.exitCode, current.level == .l1 {
            // The vmcb12 this VMRUN uses is printed by its own kvm_nested_vmenter and
            // kvm_nested_intercepts (after the checks); they describe the instruction's input.
            for number in current.events {
                let name = trace.name(of: number)
                guard name == "kvm_nested_vmenter" || name == "kvm_nested_vmrun" || name == "kvm_nested_intercepts" else { continue }
                state.apply(trace.payload(of: number), name: name, line: trace.lineNumber(of: number))
            }
        }
        if let level = current.level {
            state.guestMode = Known(level == .l2, source: current.levelSource)
        }
        var vmcb12 = state.vmcb12
        ledger.apply(to: &vmcb12, pid: state.pid, configuration: state.configuration)
        state.vmcb12 = vmcb12
        let inputs = ModelInputs(trace: trace, origin: current.origin, exit: current.exit, events: current.events)
        var guest = options.guest
        // A kvm_msr inside the exit states whether L0's emulation of that MSR faulted.
        for number in current.events {
            if case .msr(let msr) = trace.payload(of: number), guest.l0RejectsMSR[msr.msr] == nil {
                guest.l0RejectsMSR[msr.msr] = Known(
                    msr.faulted, source: "kvm_msr line \(trace.lineNumber(of: number))" + (msr.faulted ? " (#GP)" : ""))
            }
        }
        let modelState = state.modelState(guest: guest)
        var decidedState = modelState
        decidedState.assumptions.merge(inputs.assumptions(level: current.level)) { known, _ in known }
        let decision: Decision
        if let event = inputs.event() {
            decision = DecisionModel(profile: options.profile, host: host).decision(for: event, state: decidedState)
        } else {
            let code = ExitCodeText.name(current.exit.exitReason.rawValue)
            decision = Decision(
                subject: "synthesized #VMEXIT \(code)",
                outcome: .undetermined([], missing: ["a pending event that becomes #VMEXIT \(code)"]),
                path: [], profile: options.profile.name)
        }
        var verdict = judge(decision: decision, recorded: recorded, current: current)
        if verdict.kind == .match, case .vmrunFails = recorded.kind, let message = recorded.failedCheck {
            // The trace names the failed check: ask the model whether this kernel has it.
            let check = DecisionModel(profile: options.profile, host: host).decision(for: .vmrunConsistencyFailure(message: message), state: modelState)
            if check.outcome.kind != .vmrunFails {
                verdict = Verdict(
                    kind: .mismatch,
                    differences: [Verdict.Difference(field: "check", model: check.outcome.description, recorded: message)],
                    explanation: "the trace fails VMRUN on a check the \(options.profile.name) profile does not have")
            }
        }
        let stateIndex = storeState(ReplayState(
            vcpu: modelState, vmcb12Address: state.vmcb12Address, nestedRIP: state.nestedRIP,
            configuration: state.configuration), pid: state.pid)
        exits.append(ExitRecord(
            index: exits.count, origin: current.origin, firstEvent: current.first, lastEvent: current.last,
            lines: current.firstLine...max(current.firstLine, current.lastLine), pid: state.pid,
            vcpu: current.exit.vcpu ?? state.vcpu, timestamp: current.timestamp, level: current.level,
            exitCode: current.exit.exitReason.rawValue, exitInfo1: current.exit.exitInfo1,
            exitInfo2: current.exit.exitInfo2, exitIntInfo: current.exit.intrInfo,
            exitIntInfoErr: current.exit.errorCode, rip: current.exit.guestRIP, stateIndex: stateIndex,
            model: decision.outcome, decidingRule: decision.path.last?.rule, recorded: recorded, verdict: verdict))
    }

    /// Compares, settling undetermined decisions with the recorded outcome where it can.
    private mutating func judge(decision: Decision, recorded: RecordedOutcome, current: ExitSpan) -> Verdict {
        if recorded.kind == .unknown {
            return Verdict(
                kind: .undetermined, missing: ["recorded outcome"],
                explanation: "no kvm_entry follows this exit on its thread before \(current.origin == .hardwareExit ? "the next exit or the end of the trace" : "the end"): events are missing")
        }
        let outcome = decision.outcome
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
            let possible = alternatives.map { "\($0.condition) → \($0.outcome.description)" }
            return Verdict(
                kind: .mismatch,
                differences: [Verdict.Difference(field: "outcome", model: possible.joined(separator: " | "), recorded: recorded.summary)],
                explanation: "no outcome the model allows for the unknown inputs fits the trace")
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
        learn(settled, current: current)
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
                findings.append(ReplayFinding(
                    kind: "inference-contradiction", line: current.firstLine,
                    message: "\(field) inferred \(first ? "set" : "clear") here but \(earlier.value ? "set" : "clear") from \(earlier.source), under the same L1 configuration"))
            }
        }
    }

    private mutating func storeState(_ state: ReplayState, pid: Int32) -> Int {
        let signature = StateSignature(state)
        if let last = lastState[pid], last.signature == signature { return last.index }
        states.append(state)
        lastState[pid] = (states.count - 1, signature)
        return states.count - 1
    }
}

/// Cheap equality of two states, to share one stored state between exits.
private struct StateSignature: Equatable {
    var state: VCPUState
    var configuration: Int
    init(_ replayState: ReplayState) {
        state = replayState.vcpu
        configuration = replayState.configuration
    }
}

/// Event names the walk looks at; everything else only joins the open exit.
enum TrackedEvents {
    static let relevant: Set<String> = [
        "kvm_exit", "kvm_nested_vmexit", "kvm_entry", "kvm_nested_vmexit_inject", "kvm_nested_vmenter",
        "kvm_nested_vmrun", "kvm_nested_intercepts", "kvm_msr", "kvm_cr",
    ]
}

/// An exit whose outcome is still being read.
struct ExitSpan {
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
    var events: [EventNumber] = []
}


/// Constants for reading a VMRUN's own input.
enum VMRUNInput {
    /// `SVM_EXIT_VMRUN` (APM vol. 2, table C-1).
    static let exitCode: UInt32 = 0x080
}
