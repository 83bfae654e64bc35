import Foundation
import NestedSVM
import TraceKit

/// Learning and inference: what a recorded outcome settles is kept for later exits of the
/// same L1 configuration, and checked against the facts files.
extension Walk {
    /// For a mismatch under facts: decides the exit again on the state without the facts; when
    /// the recorded outcome then settles inputs the facts give other values, one difference
    /// per such input (`facts` value and source against the recorded outcome's line).
    func settledWithoutFacts(current: ExitSpan, events: ExitEvents, recorded: RecordedOutcome, built: ExitState) -> [Verdict.Difference]? {
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
        let settled = VerdictPolicy.settledFacts(fitting)
        var out: [Verdict.Difference] = []
        for (id, value) in settled.sorted(by: { $0.key < $1.key }) {
            guard let known = Self.factValue(id, in: built.model), known.value != value else { continue }
            out.append(Verdict.Difference(
                field: id.description, model: "\(known.value ? 1 : 0) [\(known.source)]",
                recorded: "\(value ? 1 : 0) [settled by the recorded outcome at line \(current.firstLine)]"))
        }
        return out.isEmpty ? nil : out
    }

    /// The value of fact `id` in `state` when the state holds it directly (permission-map bits,
    /// intercept bits, the facts' `assumptions`).
    static func factValue(_ id: Fact, in state: VCPUState) -> Known<Bool>? {
        if let known = state.assumptions[id] { return known }
        switch id {
        case .msrpm(let msr?, let write): return state.vmcb12.msrpm.bit(msr: msr, write: write)
        case .iopm(let port): return state.vmcb12.iopm.bit(port: port)
        case .intercept(let bit): return state.vmcb12.intercepts.bit(bit)
        default: return nil
        }
    }

    /// Stores the settled permission-map bits (MSRPM, IOPM fact ids) for later exits of the
    /// same configuration.
    mutating func learn(_ settled: [Fact: Bool], current: ExitSpan) {
        learn(ordered: Self.learnOrder(settled), current: current)
    }

    /// The learnable facts of `settled`, in the order they are learned (by id).
    static func learnOrder(_ settled: [Fact: Bool]) -> [(key: Fact, value: Bool)] {
        settled.sorted { $0.key < $1.key }.filter { InferenceLedger.isLearnable($0.key) }
    }

    /// Learns what the verdict `verdictID` of ``verdictTable`` settled, its facts put in order
    /// once per verdict (sorting fact ids per exit cost more than learning them).
    mutating func learn(verdict verdictID: Int, current: ExitSpan) {
        let ordered: [(key: Fact, value: Bool)]
        if let known = learnOrders[verdictID] {
            ordered = known
        } else {
            ordered = Self.learnOrder(verdictTable[verdictID].settled)
            learnOrders[verdictID] = ordered
        }
        learn(ordered: ordered, current: current)
    }

    private mutating func learn(ordered: [(key: Fact, value: Bool)], current: ExitSpan) {
        for (field, first) in ordered {
            let source = Provenance.recordedOutcome(line: current.firstLine)
            if let earlier = ledger.learn(
                pid: current.state.pid, configuration: current.state.configuration, field: field, value: first,
                source: source)
            {
                report(ReplayFinding(
                    kind: "inference-contradiction", line: current.firstLine,
                    message: "\(field) inferred \(first ? "set" : "clear") here but \(earlier.value ? "set" : "clear") from \(earlier.source.text), under the same L1 configuration"))
            }
        }
    }
}
