import Foundation
import NestedSVM
import TraceKit
import Synchronization

/// Everything one replay produced: per-exit records, the host facts used (explicit and
/// inferred), and findings. The state the model saw at an exit is re-derived on demand.
public struct ReplayResult: Sendable {
    /// The replayed trace.
    public let trace: LoadedTrace
    /// Profile and explicit facts.
    public let options: ReplayOptions
    /// Host facts used: explicit ones over inferred ones.
    public let host: HostFacts
    /// Host facts the trace itself proved.
    public let inferredHost: HostFacts
    /// Every exit, in trace order (built on access from compact records).
    public let exits: ReplayExits
    /// Contradictions and other findings.
    public let findings: [ReplayFinding]
    /// Per thread, where a re-walk can start (``state(of:)``).
    let checkpoints: [Int32: [Walk.Checkpoint]]
    /// Every fact the replay learned, with the order it learned them in.
    let ledger: InferenceLedger
    /// The states of mismatching exits kept by the replay itself, by first event (a report
    /// shows their decision paths; the rest are re-derived).
    let keptStates: [EventNumber: ReplayState]
    /// Per-trace lookups every walk uses.
    let context: Walk.Context
    /// The last states re-derived (a detail view asks for the same exit's state several times).
    let recentStates: RecentStates

    /// The state the model saw at `exit`.
    ///
    /// Re-derived: the exit's thread is walked again from its last checkpoint before the
    /// exit (at most ``Walk/checkpointInterval`` exits of the thread), with the facts the
    /// replay had learned by then; the result equals what the replay decided on.
    public func state(of exit: ExitRecord) -> ReplayState { state(at: exit.index) }

    /// The state the model saw at the exit at `position` (see ``state(of:)``).
    public func state(at position: Int) -> ReplayState {
        if let kept = keptStates[exits.firstEvent(at: position)] { return kept }
        if let known = recentStates.state(at: position) { return known }
        let state = rederiveState(at: position)
        recentStates.store(state, at: position)
        return state
    }

    private func rederiveState(at position: Int) -> ReplayState {
        let record = exits.records[position]
        let pid = trace.pid(of: record.first)
        let candidates = checkpoints[pid] ?? []
        var low = 0
        var high = candidates.count
        while low < high {
            let mid = (low + high) / 2
            if candidates[mid].position <= Int(record.firstEvent) { low = mid + 1 } else { high = mid }
        }
        var walk = Walk(
            trace: trace, options: options, host: host, pids: [pid], finishOrder: [:], context: context,
            mode: .rederive(target: record.first, exits: exits))
        walk.reportsGaps = false
        var start = 0
        if low > 0 {
            let checkpoint = candidates[low - 1]
            start = checkpoint.position
            walk.vcpus[pid] = checkpoint.vcpu
            walk.ledger = ledger.prefix(pid: pid, before: checkpoint.ledgerMark)
        }
        walk.walk(from: start, progress: nil)
        if let captured = walk.captured { return captured }
        // Unreachable for a replayed exit; an empty state rather than a crash.
        return ReplayState(vcpu: VCPUState(guest: options.guest), vmcb12Address: nil, nestedRIP: nil, configuration: 0)
    }

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
        for exit: ExitRecord, profile: KernelProfile? = nil, assumptions: [Fact: Known<Bool>] = [:]
    ) -> Decision {
        decision(for: exit, in: state(of: exit), profile: profile, assumptions: assumptions)
    }

    /// The model's full decision for `exit` given the state it saw (``state(of:)``).
    func decision(
        for exit: ExitRecord, in state: ReplayState, profile: KernelProfile? = nil, assumptions: [Fact: Known<Bool>] = [:]
    ) -> Decision {
        let chosen = profile ?? options.profile
        guard let input = modelInput(for: exit, in: state, kvmExit: nil) else {
            let code = ExitCodeText.name(exit.exitCode)
            return Decision(
                subject: "synthesized #VMEXIT \(code)",
                outcome: .undetermined([], missing: ["a pending event that becomes #VMEXIT \(code)"]), path: [],
                profile: chosen.name)
        }
        var vcpu = input.state
        vcpu.assumptions.merge(assumptions) { known, _ in known }
        return DecisionModel(profile: chosen, host: host).decision(for: input.event, state: vcpu)
    }

    /// The model's input at one exit: the event and the state exactly as replay decided on
    /// them (probe values and the facts the exit's own events prove included), every value
    /// with its source. `nil` for a synthesized #VMEXIT no pending event explains.
    public struct ModelInput: Sendable {
        /// The event the model decided.
        public var event: Event
        /// The state it decided on.
        public var state: VCPUState
    }

    /// The model's input at `exit` (``ModelInput``): what `export --format scenario` writes and
    /// what a front end can hand to `decide`.
    public func modelInput(for exit: ExitRecord) -> ModelInput? {
        modelInput(for: exit, in: state(of: exit), kvmExit: nil)
    }

    /// Calls `body` with every exit (in the order exits close) and its model input, from one
    /// walk over the trace (for exporting or checking many exits).
    public func forEachModelInput(_ body: (ExitRecord, ModelInput?) -> Void) {
        forEachExitState { position, state in
            let exit = exits[position]
            body(exit, modelInput(for: exit, in: state, kvmExit: nil))
        }
    }

    func modelInput(for exit: ExitRecord, in state: ReplayState, kvmExit given: KVMExit?) -> ModelInput? {
        let kvmExit: KVMExit
        if let given {
            kvmExit = given
        } else if exit.origin == .synthesized {
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
        let own = ExitEvents(trace: trace, numbers: Array(events(of: exit).dropFirst()), mask: ExitEvents.readMask(trace))
        let inputs = ModelInputs(trace: trace, origin: exit.origin, exit: kvmExit, events: own)
        let probe = probeValues(of: exit)
        guard let event = inputs.event().map({ probe?.refine($0) ?? $0 }) else { return nil }
        var vcpu = state.vcpu
        probe?.apply(to: &vcpu)
        vcpu.assumptions.merge(inputs.assumptions(level: exit.level)) { known, _ in known }
        return ModelInput(event: event, state: vcpu)
    }

    /// Calls `body` with every exit's position and the state the model saw there, in the
    /// order the exits closed (one walk over the whole trace: for passes over all exits,
    /// where re-deriving states one by one would repeat work).
    public func forEachExitState(_ body: (Int, ReplayState) -> Void) {
        var walk = Walk(
            trace: trace, options: options, host: host, pids: nil, finishOrder: [:], context: context,
            mode: .rederiveAll(exits: exits))
        walk.reportsGaps = false
        for position in 0..<trace.count {
            walk.advance(to: EventNumber(position))
            for (exit, state) in walk.capturedAll { body(exit, state) }
            walk.capturedAll.removeAll(keepingCapacity: true)
        }
        walk.finishExitSpans()
        for (exit, state) in walk.capturedAll { body(exit, state) }
    }

    /// Up to this many exits get their states re-derived one by one; more share one walk.
    static let separateStateLimit = 32
    /// States the in-order walk of ``forEachDecision(of:_:)`` holds back at most before
    /// re-deriving a late one alone.
    static let reorderLimit = 4096

    /// Calls `body` with each of `exits` (in trace order) and the model's full decision for
    /// it. For more than a few exits the states come from one walk over the trace, held back
    /// only until the earlier wanted exits are done.
    public func forEachDecision(of exits: some Collection<ExitRecord>, _ body: (ExitRecord, Decision) -> Void) {
        let positions: [Int]
        if let all = exits as? ReplayExits {
            positions = Array(all.indices)
        } else {
            positions = exits.map(\.index)
        }
        // States the replay kept (mismatches) need no walk.
        var kept: [Int: ReplayState] = [:]
        if !keptStates.isEmpty {
            for position in positions {
                if let state = keptStates[self.exits.firstEvent(at: position)] { kept[position] = state }
            }
        }
        guard positions.count - kept.count > Self.separateStateLimit else {
            for position in positions {
                let exit = self.exits[position]
                body(exit, decision(for: exit, in: kept[position] ?? state(at: position)))
            }
            return
        }
        let wanted = Set(positions).subtracting(kept.keys)
        var pending = kept
        var cursor = 0
        func emit(_ position: Int, _ state: ReplayState) {
            let exit = self.exits[position]
            body(exit, decision(for: exit, in: state))
        }
        func drain() {
            while cursor < positions.count, let state = pending.removeValue(forKey: positions[cursor]) {
                emit(positions[cursor], state)
                cursor += 1
            }
        }
        drain()
        forEachExitState { position, state in
            guard cursor < positions.count, position >= positions[cursor], wanted.contains(position) else { return }
            pending[position] = state
            drain()
            while pending.count > Self.reorderLimit, cursor < positions.count {
                // An exit that closes late (its thread went quiet): derive it alone.
                emit(positions[cursor], self.state(at: positions[cursor]))
                cursor += 1
                drain()
            }
        }
        while cursor < positions.count {
            emit(positions[cursor], pending.removeValue(forKey: positions[cursor]) ?? state(at: positions[cursor]))
            cursor += 1
        }
    }

    /// Exits whose verdict is a mismatch.
    public var mismatches: [ExitRecord] { exits(withVerdict: .mismatch) }

    /// Exits with verdict `kind`, in trace order.
    public func exits(withVerdict kind: Verdict.Kind) -> [ExitRecord] {
        exits.indices.filter { exits.verdictKind(at: $0) == kind }.map { exits[$0] }
    }

    /// Counts for summaries.
    public var summary: ReplaySummary { ReplaySummary(self) }
}

/// The last few states ``ReplayResult/state(at:)`` re-derived, shared by copies of a result.
final class RecentStates: Sendable {
    /// States kept.
    static let capacity = 8
    private let entries = Mutex<[(position: Int, state: ReplayState)]>([])

    /// The state of the exit at `position`, if re-derived lately.
    func state(at position: Int) -> ReplayState? {
        entries.withLock { entries in entries.first { $0.position == position }?.state }
    }

    /// Remembers `state` for `position`, dropping the oldest beyond ``capacity``.
    func store(_ state: ReplayState, at position: Int) {
        entries.withLock { entries in
            entries.removeAll { $0.position == position }
            entries.append((position, state))
            if entries.count > Self.capacity { entries.removeFirst() }
        }
    }
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
    /// Matches that needed an input settled by the recorded outcome (the JSON key
    /// `match_by_inference`, kept for scripts; the same count as ``consistent``).
    public var matchByInference: Int
    /// Matches the model decided from facts (``Verdict/Proof/decided``): `match − consistent`.
    public var decided: Int { match - matchByInference }
    /// Matches that needed an input settled by the recorded outcome (``Verdict/Proof/consistent``).
    public var consistent: Int { matchByInference }
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
        /// Matches that needed an input settled by the recorded outcome.
        public var consistent = 0

        /// Creates counts.
        public init(exits: Int = 0, match: Int = 0, mismatch: Int = 0, undetermined: Int = 0, consistent: Int = 0) {
            self.exits = exits
            self.match = match
            self.mismatch = mismatch
            self.undetermined = undetermined
            self.consistent = consistent
        }

        /// Decided matches.
        public var decided: Int { match - consistent }

        mutating func merge(_ other: VerdictCount) {
            exits += other.exits
            match += other.match
            mismatch += other.mismatch
            undetermined += other.undetermined
            consistent += other.consistent
        }

        mutating func add(_ kind: Verdict.Kind, consistent settled: Bool = false) {
            exits += 1
            switch kind {
            case .match:
                match += 1
                if settled { consistent += 1 }
            case .mismatch: mismatch += 1
            case .undetermined: undetermined += 1
            }
        }

        enum CodingKeys: String, CodingKey { case exits, match, mismatch, undetermined, consistent, decided }

        /// Decodes counts (`consistent` may be absent: older JSON).
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            exits = try container.decode(Int.self, forKey: .exits)
            match = try container.decode(Int.self, forKey: .match)
            mismatch = try container.decode(Int.self, forKey: .mismatch)
            undetermined = try container.decode(Int.self, forKey: .undetermined)
            consistent = try container.decodeIfPresent(Int.self, forKey: .consistent) ?? 0
        }

        /// Encodes counts with `consistent` and `decided` (added by issue #16).
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(exits, forKey: .exits)
            try container.encode(match, forKey: .match)
            try container.encode(mismatch, forKey: .mismatch)
            try container.encode(undetermined, forKey: .undetermined)
            try container.encode(consistent, forKey: .consistent)
            try container.encode(decided, forKey: .decided)
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
        let exits = result.exits
        // Counted per exit code and level first (no string hashed per exit), then named.
        var byCode: [UInt32: VerdictCount] = [:]
        var byLevelSlot = [VerdictCount](repeating: VerdictCount(), count: 3)
        for position in exits.indices {
            let kind = exits.verdictKind(at: position)
            let settled = kind == .match && exits.isMatchByInference(at: position)
            switch kind {
            case .match:
                match += 1
                if settled { matchByInference += 1 }
            case .mismatch: mismatch += 1
            case .undetermined: undetermined += 1
            }
            if exits.origin(at: position) == .synthesized { synthesized += 1 }
            byCode[exits.exitCode(at: position), default: VerdictCount()].add(kind, consistent: settled)
            let slot: Int
            switch exits.level(at: position) {
            case .l1?: slot = 0
            case .l2?: slot = 1
            case nil: slot = 2
            }
            byLevelSlot[slot].add(kind, consistent: settled)
        }
        for (code, counts) in byCode {
            byReason[SVMExitReason(code).description, default: VerdictCount()].merge(counts)
        }
        for (slot, name) in [Level.l1.rawValue, Level.l2.rawValue, "unknown"].enumerated() where byLevelSlot[slot].exits > 0 {
            byLevel[name] = byLevelSlot[slot]
        }
    }
}
