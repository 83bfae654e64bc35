/// Walks the rules for one event, recording each step. One evaluator per decision.
struct Evaluator {
    let state: VCPUState
    let host: HostFacts
    let profile: KernelProfile
    /// Steps recorded so far.
    var path: [DecisionStep] = []
    /// Facts known so far: the caller's `VCPUState.assumptions` plus what hardware rules
    /// proved during this decision (`svm.hw.*`).
    var facts: [Fact: Known<Bool>]
    /// The exit code the hardware reported, before any handler rewrote it (`nil` for
    /// pending events), so hardware rules apply only to the real intercept.
    var hardwareExitCode: VMExitCode?

    init(state: VCPUState, host: HostFacts, profile: KernelProfile) {
        self.state = state
        self.host = host
        self.profile = profile
        self.facts = state.assumptions
    }

    /// One branch of a fork: the condition for people, the same as facts, and what follows.
    struct Branch {
        var condition: String
        var assumptions: [Fact: Bool]
        var evaluate: (inout Evaluator) -> Outcome

        init(_ condition: String, _ assumptions: [Fact: Bool], _ evaluate: @escaping (inout Evaluator) -> Outcome) {
            self.condition = condition
            self.assumptions = assumptions
            self.evaluate = evaluate
        }
    }

    /// Records one step of `rule`.
    mutating func record(_ rule: Rule, _ evidence: [Evidence], _ answer: Answer, note: String? = nil) {
        path.append(rule.step(evidence, answer, note: note))
    }

    /// A fact known to the caller or proved during this decision (with implications).
    func fact(_ id: Fact) -> Known<Bool>? { FactID.closure(facts)[id] }

    /// Adds a fact proved by a hardware rule, recording the rule's step.
    mutating func prove(_ id: Fact, _ value: Bool, by rule: Rule, _ evidence: [Evidence], note: String? = nil) {
        if let known = fact(id), known.value == value { return }
        record(rule, evidence + [Evidence(field: "fact \(id)", value: value ? "1" : "0", source: rule.id.rawValue)], value ? .yes : .no, note: note)
        facts[id] = Known(value, source: "\(rule.id.rawValue) (\(note ?? rule.question))")
    }

    /// Consults the known facts, then evaluates each remaining branch on a copy of this
    /// evaluator and returns an undetermined outcome listing every branch's result (nested
    /// undetermined results are flattened, conditions joined, assumptions merged). When the
    /// known facts leave one branch, it is followed directly and the step says which facts
    /// chose it.
    mutating func fork(missing: [String], _ branches: [Branch]) -> Outcome {
        let known = FactID.closure(facts)
        let remaining = branches.filter { FactID.compatible($0.assumptions, with: known) }
        if !remaining.isEmpty, remaining.count < branches.count {
            let used = Set(branches.flatMap(\.assumptions.keys)).filter { known[$0] != nil }.sorted()
            record(
                .factKnown, used.map { Evidence(field: "fact \($0)", value: known[$0].map { $0.value ? "1" : "0" }, source: known[$0]?.source) },
                remaining.count == 1 ? Answer(rawValue: remaining[0].condition) : Answer(rawValue: "\(remaining.count) of \(branches.count) cases remain"),
                note: "missing: \(missing.joined(separator: ", "))")
            if remaining.count == 1 { return remaining[0].evaluate(&self) }
        }
        let chosen = remaining.isEmpty ? branches : remaining
        var alternatives: [Alternative] = []
        var allMissing = missing
        for branch in chosen {
            var copy = self
            copy.path = []
            let outcome = branch.evaluate(&copy)
            let rules = copy.path.map(\.rule)
            if outcome.kind == .undetermined, let inner = outcome.alternatives {
                for alternative in inner {
                    alternatives.append(Alternative(
                        condition: "\(branch.condition); \(alternative.condition)",
                        assumptions: branch.assumptions.merging(alternative.assumptions) { outer, _ in outer },
                        rules: rules + alternative.rules, outcome: alternative.outcome))
                }
                for name in outcome.missing ?? [] where !allMissing.contains(name) { allMissing.append(name) }
            } else {
                alternatives.append(Alternative(condition: branch.condition, assumptions: branch.assumptions, rules: rules, outcome: outcome))
            }
        }
        // Every case leads to the same outcome: the unknown input does not matter.
        if let first = alternatives.first?.outcome, alternatives.count > 1,
            alternatives.allSatisfy({ $0.outcome.sameResult(as: first) })
        {
            record(
                .sameOutcome, allMissing.map { Evidence(field: $0, value: nil) }, "yes",
                note: "\(alternatives.count) cases (\(alternatives.map(\.condition).joined(separator: " / "))) all give: \(first.description)")
            return first
        }
        return .undetermined(alternatives, missing: allMissing)
    }

    /// Decides on a possibly unknown flag: records `rule` with the flag as evidence and
    /// follows `yes` or `no`, or consults the known facts and forks when the flag is unknown.
    /// `fact` defaults to `FactID.of(field:)`.
    mutating func branch(
        _ rule: Rule, field: String, fact: Fact? = nil, _ flag: Known<Bool>?, extra: [Evidence] = [], note: String? = nil,
        yes: @escaping (inout Evaluator) -> Outcome, no: @escaping (inout Evaluator) -> Outcome
    ) -> Outcome {
        let evidence = [Evidence.flag(field, flag)] + extra
        guard let flag else {
            let id = fact ?? FactID.of(field: field)
            record(rule, evidence, .unknown, note: note)
            return fork(missing: [field], [Branch("\(field) is set", [id: true], yes), Branch("\(field) is clear", [id: false], no)])
        }
        record(rule, evidence, .from(flag.value), note: note)
        return flag.value ? yes(&self) : no(&self)
    }

    // MARK: derived facts

    /// L1's vmcb12 intercept bit `bit`.
    func l1Intercepts(_ bit: Int) -> Known<Bool>? { state.vmcb12.intercepts.bit(bit) }

    /// Registers of the level that executes the current instruction.
    func registers(of level: GuestLevel) -> GuestRegisters { level == .l1 ? state.l1 : state.l2 }

    /// Whether L0's exception bitmap (vmcb01, inherited by vmcb02) intercepts `vector`
    /// (`svm/svm.c:init_vmcb`, `svm_set_efer`, `nested-decisions.md` §0), with evidence.
    func l0InterceptsException(_ vector: UInt8, level: GuestLevel) -> (Known<Bool>?, [Evidence]) {
        switch vector {
        case ExceptionVector.invalidOpcode, ExceptionVector.machineCheck, ExceptionVector.alignmentCheck,
            ExceptionVector.debug:
            return (Known(true, source: "svm/svm.c:init_vmcb"), [Evidence(field: "L0 intercepts \(ExceptionVector.name(vector))", value: "always", source: "svm/svm.c:init_vmcb")])
        case ExceptionVector.pageFault:
            let evidence = [Evidence.flag("host npt", host.npt)]
            return (host.npt.map { Known(!$0.value, source: $0.source) }, evidence)
        case ExceptionVector.breakpoint:
            // svm_update_exception_bitmap: #BP only for KVM_GUESTDBG_USE_SW_BP (guest_debug_sw_bp;
            // without it the old guest_debug key stands for it).
            let field = host.guestDebugSoftwareBreakpoints == nil ? "host guest debugging" : "host guest_debug_sw_bp"
            return (host.interceptsBreakpoint, [Evidence.flag(field, host.interceptsBreakpoint)])
        case ExceptionVector.generalProtection:
            var evidence = [Evidence.flag("host svme_addr_chk", host.svmeAddrChk)]
            // The erratum intercept is set while L1's EFER.SVME = 1; L1 ran VMRUN, so for an
            // L2 exit SVME is necessarily set.
            let svme: Known<Bool>?
            if level == .l2 {
                svme = Known(true, source: "L2 runs, so L1 executed VMRUN with EFER.SVME=1")
            } else {
                svme = state.l1.efer.map { Known($0.value & RegisterBit.eferSVME != 0, source: $0.source) }
                evidence.append(Evidence.flag("L1 EFER.SVME", svme))
            }
            evidence.append(Evidence.flag("host vmware_backdoor", host.vmwareBackdoor))
            if let backdoor = host.vmwareBackdoor, backdoor.value { return (backdoor, evidence) }
            if let addrChk = host.svmeAddrChk, !addrChk.value, let svme, svme.value {
                return (Known(true, source: addrChk.source), evidence)
            }
            // Erratum intercept off (SVME_ADDR_CHK, or EFER.SVME clear): only the backdoor remains.
            let erratumOff = host.svmeAddrChk?.value == true || svme?.value == false
            guard erratumOff, let backdoor = host.vmwareBackdoor else { return (nil, evidence) }
            return (Known(false, source: backdoor.source), evidence)
        default:
            return (Known(false, source: "svm/svm.c:init_vmcb"), [Evidence(field: "L0 intercepts \(ExceptionVector.name(vector))", value: "never", source: "svm/svm.c:init_vmcb")])
        }
    }
}

extension Evidence {
    /// Evidence for a known or unknown flag.
    static func flag(_ field: String, _ flag: Known<Bool>?) -> Evidence {
        Evidence(field: field, value: flag.map { $0.value ? "1" : "0" }, source: flag?.source)
    }

    /// Evidence for a known or unknown number, printed in hex.
    static func hex<T: BinaryInteger & Sendable & Codable>(_ field: String, _ value: Known<T>?) -> Evidence {
        Evidence(field: field, value: value.map { Hex.format($0.value) }, source: value?.source)
    }

    /// Evidence for a value taken from the event itself.
    static func event(_ field: String, _ value: String) -> Evidence {
        Evidence(field: field, value: value, source: "event")
    }

    /// Evidence for a profile switch.
    static func profile(_ field: String, _ value: String, _ profile: KernelProfile) -> Evidence {
        Evidence(field: field, value: value, source: "profile \(profile.name)")
    }
}
