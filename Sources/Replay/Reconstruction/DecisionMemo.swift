import NestedSVM

/// Remembers the model's outcome per distinct input, so that a replay runs `DecisionModel`
/// once per distinct (event, state) and not once per exit.
///
/// The model reads values; the `source` of a `Known` value (which line proved it) only
/// becomes evidence text in the decision path, and the guest RIP only the decision's
/// subject line. Neither reaches the outcome or the deciding rule, which is all a replay
/// keeps per exit (the path is re-run on demand, ``ReplayResult/decision(for:profile:assumptions:)``).
///
/// The key (``DecisionKey``) never compares states: the thread's tracked values are named by
/// an id (``StateInterner``) computed once per revision (``TrackedVCPU/revision`` moves only
/// when a value the model reads changes), and what an exit adds on top — its level, the
/// ledger's facts for its configuration, its own MSR faults and operand facts — is part of
/// the key as values. An exit whose state a probe refines, and every exit of a replay with
/// facts files (`--facts`: entries scoped by vmcb12, vCPU, VMRUN attempt…), is decided
/// directly.
///
/// `DecisionMemoTests` checks memoised and direct outcomes agree exit by exit on the shipped
/// traces, and that exits differing in one such value get different keys.
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
    /// Ids of the tracked values the model reads.
    var contents = StateInterner()
    /// Model runs (misses and direct decisions).
    private(set) var runs = 0

    /// The answer (an index into ``answers``) for `event` in `state`, from the memo when an
    /// exit with the same `key` was decided before; `key` nil decides directly.
    mutating func decide(_ event: Event, key: DecisionKey?, state: VCPUState, model: DecisionModel) -> Int {
        if let key, let known = byKey[key] { return known }
        runs += 1
        let decision = model.decision(for: event, state: state)
        let answer = store(DecisionAnswer(outcome: intern(decision.outcome), decidingRule: decision.path.last?.rule))
        if let key, byKey.count < Self.capacity { byKey[key] = answer }
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

/// What one exit's decision reads, as values: the event without its RIP and sources, the id
/// of the thread's tracked values, and what the exit adds to them.
struct DecisionKey: Hashable, Sendable {
    /// The ledger's facts for one thread's configuration: facts are only added, so the count
    /// names the set.
    struct LedgerScope: Hashable, Sendable {
        var pid: Int32
        var configuration: Int
        var count: Int
    }

    let event: Event
    /// ``StateInterner`` id of vmcb12, L1's and L2's registers and `MSR_VM_HSAVE_PA`.
    var content: Int
    /// The level the model is told ran.
    var level: GuestLevel?
    /// The ledger's facts applied to vmcb12, when there are any.
    var ledger: LedgerScope?
    /// L0's MSR faults the exit's own `kvm_msr` events state.
    var msrFaults: [UInt32: Bool]
    /// The facts the exit's own events prove (``ModelInputs/assumptions(level:)``).
    var operands: [Fact: Bool]

    init(event: Event, content: Int, level: GuestLevel?, ledger: LedgerScope?, msrFaults: [UInt32: Bool], operands: [Fact: Bool]) {
        self.event = event.withoutProvenance
        self.content = content
        self.level = level
        self.ledger = ledger
        self.msrFaults = msrFaults
        self.operands = operands
    }

    static func == (lhs: DecisionKey, rhs: DecisionKey) -> Bool {
        lhs.content == rhs.content && lhs.level == rhs.level && lhs.ledger == rhs.ledger
            && lhs.msrFaults == rhs.msrFaults && lhs.operands == rhs.operands && lhs.event == rhs.event
    }

    func hash(into hasher: inout Hasher) {
        event.hashValues(into: &hasher)
        hasher.combine(content)
        hasher.combine(level)
        hasher.combine(ledger)
        hasher.combine(msrFaults.count)
        hasher.combine(operands.count)
    }
}

/// Names the values of tracked vCPU states the model reads (vmcb12, L1's and L2's registers,
/// `MSR_VM_HSAVE_PA`, sources left out) by small ids: equal values, equal ids. A state keeps
/// its id (``TrackedVCPU/content``) until one of those values changes, so a thread's state is
/// compared and hashed once per change, not once per exit.
struct StateInterner: Sendable {
    /// An id, valid for the interner that made it at the state's revision.
    struct Stamp: Sendable {
        var interner: UInt64
        var revision: Int
        var id: Int
    }

    /// Tells this interner's stamps from those of another walk (checkpoints carry states over).
    let identity = UInt64.random(in: 1...UInt64.max)
    private var ids: [ContentKey: Int] = [:]

    /// The id of `tracked`'s values, stamped on it.
    mutating func id(of tracked: inout TrackedVCPU) -> Int {
        if let stamp = tracked.content, stamp.interner == identity, stamp.revision == tracked.revision { return stamp.id }
        let key = ContentKey(tracked)
        let id: Int
        if let known = ids[key] {
            id = known
        } else {
            id = ids.count
            ids[key] = id
        }
        tracked.content = Stamp(interner: identity, revision: tracked.revision, id: id)
        return id
    }

    /// The values, every source blanked.
    private struct ContentKey: Hashable, Sendable {
        let state: VCPUState

        init(_ tracked: TrackedVCPU) {
            state = VCPUState(vmcb12: tracked.vmcb12, l1: tracked.l1, l2: tracked.l2, hsavePA: tracked.hsavePA).withoutProvenance
        }

        static func == (lhs: ContentKey, rhs: ContentKey) -> Bool { lhs.state == rhs.state }

        /// Hashes a few cheap values (all compared by `==` too, so equal keys hash equally).
        func hash(into hasher: inout Hasher) {
            hasher.combine(state.l1.efer?.value)
            hasher.combine(state.l2.efer?.value)
            hasher.combine(state.l1.cr0?.value)
            hasher.combine(state.vmcb12.intercepts.word3?.value)
            hasher.combine(state.vmcb12.intercepts.word4?.value)
            hasher.combine(state.vmcb12.intCtl?.value)
            hasher.combine(state.vmcb12.eventInj?.value)
            hasher.combine(state.vmcb12.nestedCR3?.value)
            hasher.combine(state.hsavePA?.value)
        }
    }
}

extension Event {
    /// Hashes a few cheap values of the event (all compared by `==` too).
    func hashValues(into hasher: inout Hasher) {
        switch self {
        case .hardwareExit(let exit):
            hasher.combine(0)
            hasher.combine(exit.exitCode.rawValue)
            hasher.combine(exit.exitInfo1)
            hasher.combine(exit.exitInfo2)
            hasher.combine(exit.exitIntInfo)
            hasher.combine(exit.rcx?.value)
            hasher.combine(exit.rax?.value)
        case .pending:
            hasher.combine(1)
        case .vmrunConsistencyFailure(let message):
            hasher.combine(message)
        case .guestException(let vector, _, _):
            hasher.combine(2)
            hasher.combine(vector)
        case .feature(let feature):
            hasher.combine(3)
            hasher.combine(feature.subject)
        case .eventInjection(let delivery):
            hasher.combine(4)
            hasher.combine(delivery.eventInj)
        }
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
