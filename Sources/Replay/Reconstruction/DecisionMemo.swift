import NestedSVM

/// Remembers the model's outcome per distinct input, so that a replay runs `DecisionModel`
/// once per distinct (event, state) and not once per exit.
///
/// The model reads values; the `source` of a `Known` value (which line proved it) only
/// becomes evidence text in the decision path, and the guest RIP only the decision's
/// subject line. Neither reaches the outcome or the deciding rule, which is all a replay
/// keeps per exit (the path is re-run on demand, ``ReplayResult/decision(for:profile:assumptions:)``).
/// So the key is the event and state with every source blanked and the RIP dropped. A field
/// this blanking does not know of (one added to NestedSVM later) still takes part in the
/// comparison with its source, which can only make the memo miss, never answer wrongly.
///
/// `ReplayDecisionMemoTests` checks memoised and direct outcomes agree exit by exit on the
/// shipped traces.
struct DecisionMemo: Sendable {
    /// Distinct inputs are remembered up to this many; past it the model runs directly
    /// (keeps a pathological trace, where nothing repeats, from growing the memo without bound).
    static let capacity = 1 << 16

    /// Distinct outcomes, by first appearance.
    private(set) var outcomes: [Outcome] = []
    /// Distinct answers (outcome and deciding rule), by first appearance.
    private(set) var answers: [DecisionAnswer] = []
    private var byKey: [DecisionKey: Int] = [:]
    private var unmodelled: [UInt32: Int] = [:]
    /// Model runs (misses).
    private(set) var runs = 0

    /// The answer (an index into ``answers``) for `event` in `state`, from the memo when the
    /// same values were decided before.
    mutating func decide(_ event: Event, state: VCPUState, model: DecisionModel) -> Int {
        let key = DecisionKey(event: event, state: state)
        if let known = byKey[key] { return known }
        runs += 1
        let decision = model.decision(for: event, state: state)
        let answer = store(DecisionAnswer(outcome: intern(decision.outcome), decidingRule: decision.path.last?.rule))
        if byKey.count < Self.capacity { byKey[key] = answer }
        return answer
    }

    /// The answer for a synthesized #VMEXIT no pending event produces: undetermined.
    mutating func unmodelledSynthesized(code: UInt32) -> Int {
        if let known = unmodelled[code] { return known }
        let text = ExitCodeText.name(code)
        let answer = store(DecisionAnswer(
            outcome: intern(.undetermined([], missing: ["a pending event that becomes #VMEXIT \(text)"])),
            decidingRule: nil))
        unmodelled[code] = answer
        return answer
    }

    private mutating func store(_ answer: DecisionAnswer) -> Int {
        answers.append(answer)
        return answers.count - 1
    }

    private mutating func intern(_ outcome: Outcome) -> Int {
        outcomes.append(outcome)
        return outcomes.count - 1
    }
}

/// The values a decision reads: the event without its RIP and the state, every `Known`
/// source blanked.
struct DecisionKey: Hashable, Sendable {
    let event: Event
    let state: VCPUState

    init(event: Event, state: VCPUState) {
        self.event = event.withoutProvenance
        self.state = state.withoutProvenance
    }

    static func == (lhs: DecisionKey, rhs: DecisionKey) -> Bool {
        lhs.event == rhs.event && lhs.state == rhs.state
    }

    /// Hashes a few cheap values (all compared by `==` too, so equal keys hash equally).
    func hash(into hasher: inout Hasher) {
        switch event {
        case .hardwareExit(let exit):
            hasher.combine(0)
            hasher.combine(exit.exitCode.rawValue)
            hasher.combine(exit.exitInfo1)
            hasher.combine(exit.exitInfo2)
            hasher.combine(exit.exitIntInfo)
            hasher.combine(exit.rcx?.value)
        case .pending:
            hasher.combine(1)
        case .vmrunConsistencyFailure(let message):
            hasher.combine(message)
        case .guestException(let vector, _, _):
            hasher.combine(2)
            hasher.combine(vector)
        }
        hasher.combine(state.level?.value)
        hasher.combine(state.l1.efer?.value)
        hasher.combine(state.l2.efer?.value)
        hasher.combine(state.vmcb12.intercepts.word3?.value)
        hasher.combine(state.vmcb12.intercepts.word4?.value)
        hasher.combine(state.vmcb12.nestedCR3?.value)
        hasher.combine(state.vmcb12.msrpm.entries.count)
        hasher.combine(state.vmcb12.iopm.ports.count)
        hasher.combine(state.assumptions.count)
    }
}

extension Known {
    /// The value with its source blanked.
    var withoutProvenance: Known { Known(value, source: "") }
}

extension Event {
    /// The event as the model's outcome sees it: no RIP (it only names the subject), no sources.
    var withoutProvenance: Event {
        guard case .hardwareExit(var exit) = self else { return self }
        exit.rip = nil
        exit.rax = exit.rax?.withoutProvenance
        exit.rcx = exit.rcx?.withoutProvenance
        exit.writtenValue = exit.writtenValue?.withoutProvenance
        exit.l1NPTWalkFaults = exit.l1NPTWalkFaults?.withoutProvenance
        return .hardwareExit(exit)
    }
}

extension GuestRegisters {
    /// The registers with every source blanked.
    var withoutProvenance: GuestRegisters {
        var copy = self
        copy.efer = efer?.withoutProvenance
        copy.cr0 = cr0?.withoutProvenance
        copy.cr4 = cr4?.withoutProvenance
        copy.cpl = cpl?.withoutProvenance
        copy.interruptsEnabled = interruptsEnabled?.withoutProvenance
        return copy
    }
}

extension VCPUState {
    /// The state with every source blanked: what the model's outcome can depend on.
    var withoutProvenance: VCPUState {
        var copy = self
        copy.level = level?.withoutProvenance
        var vmcb = vmcb12
        vmcb.intercepts.cr = vmcb.intercepts.cr?.withoutProvenance
        vmcb.intercepts.dr = vmcb.intercepts.dr?.withoutProvenance
        vmcb.intercepts.exceptions = vmcb.intercepts.exceptions?.withoutProvenance
        vmcb.intercepts.word3 = vmcb.intercepts.word3?.withoutProvenance
        vmcb.intercepts.word4 = vmcb.intercepts.word4?.withoutProvenance
        vmcb.intercepts.word5 = vmcb.intercepts.word5?.withoutProvenance
        if !vmcb.msrpm.entries.isEmpty {
            vmcb.msrpm.entries = vmcb.msrpm.entries.mapValues {
                MSRPermissionMap.Entry(read: $0.read?.withoutProvenance, write: $0.write?.withoutProvenance)
            }
        }
        if !vmcb.iopm.ports.isEmpty { vmcb.iopm.ports = vmcb.iopm.ports.mapValues(\.withoutProvenance) }
        vmcb.nestedPaging = vmcb.nestedPaging?.withoutProvenance
        vmcb.nestedCR3 = vmcb.nestedCR3?.withoutProvenance
        vmcb.intCtl = vmcb.intCtl?.withoutProvenance
        vmcb.eventInj = vmcb.eventInj?.withoutProvenance
        vmcb.virtExt = vmcb.virtExt?.withoutProvenance
        vmcb.asid = vmcb.asid?.withoutProvenance
        vmcb.msrpmBase = vmcb.msrpmBase?.withoutProvenance
        vmcb.iopmBase = vmcb.iopmBase?.withoutProvenance
        vmcb.efer = vmcb.efer?.withoutProvenance
        vmcb.cr0 = vmcb.cr0?.withoutProvenance
        vmcb.cr3 = vmcb.cr3?.withoutProvenance
        vmcb.cr4 = vmcb.cr4?.withoutProvenance
        vmcb.dr6 = vmcb.dr6?.withoutProvenance
        vmcb.dr7 = vmcb.dr7?.withoutProvenance
        vmcb.csAttributes = vmcb.csAttributes?.withoutProvenance
        copy.vmcb12 = vmcb
        copy.l1 = l1.withoutProvenance
        copy.l2 = l2.withoutProvenance
        copy.hsavePA = hsavePA?.withoutProvenance
        copy.inSMM = inSMM?.withoutProvenance
        copy.guest.maxPhysAddr = guest.maxPhysAddr?.withoutProvenance
        if !guest.features.isEmpty { copy.guest.features = guest.features.mapValues(\.withoutProvenance) }
        copy.guest.backedMemory = guest.backedMemory?.withoutProvenance
        if !guest.l0RejectsMSR.isEmpty { copy.guest.l0RejectsMSR = guest.l0RejectsMSR.mapValues(\.withoutProvenance) }
        if !assumptions.isEmpty { copy.assumptions = assumptions.mapValues(\.withoutProvenance) }
        return copy
    }
}
