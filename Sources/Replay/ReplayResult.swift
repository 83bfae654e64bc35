import NestedSVM
import TraceKit

/// Everything one replay produced: per-exit records, the states the model saw, the host
/// facts used (explicit and inferred), and findings.
public struct ReplayResult: Sendable {
    /// The replayed trace.
    public let trace: LoadedTrace
    /// Profile and explicit facts.
    public let options: ReplayOptions
    /// Host facts used: explicit ones over inferred ones.
    public let host: HostFacts
    /// Host facts the trace itself proved.
    public let inferredHost: HostFacts
    /// Every exit, in trace order.
    public let exits: [ExitRecord]
    /// Reconstructed states, referenced by ``ExitRecord/stateIndex``.
    public let states: [ReplayState]
    /// Contradictions and other findings.
    public let findings: [ReplayFinding]

    /// The state the model saw at `exit`.
    public func state(of exit: ExitRecord) -> ReplayState { states[exit.stateIndex] }

    /// The exit's events, in order (its own thread only), from its first event to its last.
    public func events(of exit: ExitRecord) -> [EventNumber] {
        guard exit.firstEvent <= exit.lastEvent else { return [exit.firstEvent] }
        var numbers: [EventNumber] = []
        for position in exit.firstEvent.rawValue...exit.lastEvent.rawValue {
            let number = EventNumber(position)
            if trace.pid(of: number) == exit.pid { numbers.append(number) }
        }
        return numbers
    }

    /// The model's full decision for `exit`, path included (re-run on demand: batch replay
    /// keeps only outcomes). `profile` defaults to the replay's; `assumptions` are facts to
    /// add to the state the model saw (e.g. those another profile settled).
    public func decision(
        for exit: ExitRecord, profile: KernelProfile? = nil, assumptions: [String: Known<Bool>] = [:]
    ) -> Decision {
        let chosen = profile ?? options.profile
        let kvmExit: KVMExit
        if exit.origin == .synthesized {
            kvmExit = KVMExit(
                exitReason: SVMExitReason(exit.exitCode), guestRIP: exit.rip, exitInfo1: exit.exitInfo1,
                exitInfo2: exit.exitInfo2, intrInfo: exit.exitIntInfo, errorCode: exit.exitIntInfoErr)
        } else if case .exit(let payload) = trace.payload(of: exit.firstEvent) {
            kvmExit = payload
        } else if case .nestedVMExit(let payload) = trace.payload(of: exit.firstEvent) {
            kvmExit = payload
        } else {
            kvmExit = KVMExit(exitReason: SVMExitReason(exit.exitCode))
        }
        let inputs = ModelInputs(trace: trace, origin: exit.origin, exit: kvmExit, events: Array(events(of: exit).dropFirst()))
        guard let event = inputs.event() else {
            let code = ExitCodeText.name(exit.exitCode)
            return Decision(
                subject: "synthesized #VMEXIT \(code)",
                outcome: .undetermined([], missing: ["a pending event that becomes #VMEXIT \(code)"]), path: [],
                profile: chosen.name)
        }
        var vcpu = state(of: exit).vcpu
        vcpu.assumptions.merge(inputs.assumptions(level: exit.level)) { known, _ in known }
        vcpu.assumptions.merge(assumptions) { known, _ in known }
        return DecisionModel(profile: chosen, host: host).decision(for: event, state: vcpu)
    }

    /// Exits whose verdict is a mismatch.
    public var mismatches: [ExitRecord] { exits.filter { $0.verdict.kind == .mismatch } }

    /// Counts for summaries.
    public var summary: ReplaySummary { ReplaySummary(self) }
}

/// Counts over a replay: by verdict, by reason, by level, and the loader's unreadable lines.
public struct ReplaySummary: Sendable, Codable {
    /// All exits.
    public var exits: Int
    /// Exits per verdict.
    public var match: Int
    /// Mismatching exits.
    public var mismatch: Int
    /// Undetermined exits.
    public var undetermined: Int
    /// Matches that needed an input settled by the recorded outcome.
    public var matchByInference: Int
    /// Exits per exit reason name, with their verdict counts.
    public var byReason: [String: VerdictCount]
    /// Exits per level (`L1`, `L2`, `unknown`).
    public var byLevel: [String: VerdictCount]
    /// Lines the loader could not read.
    public var unreadableLines: Int
    /// Synthesized #VMEXITs (no hardware exit before them).
    public var synthesized: Int

    /// Verdict counts of one group.
    public struct VerdictCount: Sendable, Codable, Equatable {
        /// Exits in the group.
        public var exits = 0
        /// Matches.
        public var match = 0
        /// Mismatches.
        public var mismatch = 0
        /// Undetermined.
        public var undetermined = 0

        mutating func add(_ kind: Verdict.Kind) {
            exits += 1
            switch kind {
            case .match: match += 1
            case .mismatch: mismatch += 1
            case .undetermined: undetermined += 1
            }
        }
    }

    init(_ result: ReplayResult) {
        exits = result.exits.count
        match = 0
        mismatch = 0
        undetermined = 0
        matchByInference = 0
        byReason = [:]
        byLevel = [:]
        synthesized = 0
        unreadableLines = result.trace.lineAccounting.unreadable
        for exit in result.exits {
            switch exit.verdict.kind {
            case .match:
                match += 1
                if !exit.verdict.inferred.isEmpty { matchByInference += 1 }
            case .mismatch: mismatch += 1
            case .undetermined: undetermined += 1
            }
            if exit.origin == .synthesized { synthesized += 1 }
            byReason[exit.reasonName, default: VerdictCount()].add(exit.verdict.kind)
            byLevel[exit.level?.rawValue ?? "unknown", default: VerdictCount()].add(exit.verdict.kind)
        }
    }
}
