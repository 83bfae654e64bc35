/// What happens after an event, with the values the next trace lines should show.
///
/// JSON form (a contract): `{"kind": "reflect_to_l1", "exit_code": 124, "exit_info_1": 1, …}`
/// with `kind` one of `Kind`'s raw values and only the applicable fields present.
public struct Outcome: Sendable, Equatable, Codable, CustomStringConvertible {
    /// The outcome kinds and their JSON names.
    public enum Kind: String, Sendable, Equatable, Codable, CaseIterable {
        /// A #VMEXIT is emulated to L1 (`nested_svm_vmexit`, traced as `kvm_nested_vmexit_inject`).
        case reflectToL1 = "reflect_to_l1"
        /// L0 runs its own handler and stays at the same level.
        case l0Handles = "l0_handles"
        /// An exception is queued and injected into a level (`kvm_inj_exception`).
        case injectException = "inject_exception"
        /// L0 emulates the instruction (`kvm_emulate_insn`).
        case emulate
        /// L1's VMRUN ends in VMEXIT_INVALID (exit code -1 written to vmcb12).
        case vmrunFails = "vmrun_fails"
        /// L1's VMRUN enters L2.
        case vmrunSucceeds = "vmrun_succeeds"
        /// KVM exits to userspace (`kvm_userspace_exit`).
        case userspaceExit = "userspace_exit"
        /// KVM injects an external (or virtual) interrupt into a level (`kvm_inj_virq`);
        /// `vector` when known, `level` the receiving level.
        case injectInterrupt = "inject_interrupt"
        /// KVM injects an NMI into a level (`svm_inject_nmi`).
        case injectNMI = "inject_nmi"
        /// Nothing reaches L0: the CPU handles the event inside the running level (an exception
        /// delivered straight to L2, a virtual interrupt taken by L2, a pending event that stays
        /// blocked); `detail` says what happens instead.
        case noExit = "no_exit"
        /// A needed input is unknown; `alternatives` lists what happens in each case.
        case undetermined
    }

    /// The kind of outcome.
    public var kind: Kind
    /// Exit code L1 sees (reflections, failed VMRUNs).
    public var exitCode: VMExitCode?
    /// `exit_info_1` L1 sees, when it can be predicted.
    public var exitInfo1: UInt64?
    /// `exit_info_2` L1 sees, when it can be predicted.
    public var exitInfo2: UInt64?
    /// Exception vector injected.
    public var vector: UInt8?
    /// Error code of the injected exception, if it has one.
    public var errorCode: UInt32?
    /// The level an exception is injected into, or the level L0 keeps running.
    public var level: GuestLevel?
    /// The kernel function that acts, `file:function`.
    public var handler: String?
    /// What the handler does, in one line (e.g. why it loops).
    public var detail: String?
    /// Consistency check id that failed (`vmrun_fails`).
    public var check: String?
    /// For `undetermined`: the outcome under each condition.
    public var alternatives: [Alternative]?
    /// For `undetermined`: the inputs that were missing.
    public var missing: [String]?
    /// What KVM or the CPU does right after this outcome, in order (JSON `then`, added
    /// later; absent when nothing follows or nothing is predicted): e.g. the #DB
    /// `svm/nested.c:nested_svm_vmexit` queues for L1 when L1 single-stepped its VMRUN.
    public var then: [Outcome]?

    /// Builds an outcome; prefer the static constructors.
    public init(
        kind: Kind, exitCode: VMExitCode? = nil, exitInfo1: UInt64? = nil, exitInfo2: UInt64? = nil,
        vector: UInt8? = nil, errorCode: UInt32? = nil, level: GuestLevel? = nil, handler: String? = nil,
        detail: String? = nil, check: String? = nil, alternatives: [Alternative]? = nil, missing: [String]? = nil,
        then: [Outcome]? = nil
    ) {
        self.kind = kind
        self.exitCode = exitCode
        self.exitInfo1 = exitInfo1
        self.exitInfo2 = exitInfo2
        self.vector = vector
        self.errorCode = errorCode
        self.level = level
        self.handler = handler
        self.detail = detail
        self.check = check
        self.alternatives = alternatives
        self.missing = missing
        self.then = then
    }

    /// This outcome followed by `next` (appended to `then`).
    public func followed(by next: Outcome) -> Outcome {
        var out = self
        out.then = (then ?? []) + [next]
        return out
    }

    /// A #VMEXIT to L1 with the given code and infos.
    public static func reflect(
        _ code: VMExitCode, info1: UInt64?, info2: UInt64?, handler: String = "svm/nested.c:nested_svm_vmexit",
        detail: String? = nil
    ) -> Outcome {
        Outcome(kind: .reflectToL1, exitCode: code, exitInfo1: info1, exitInfo2: info2, handler: handler, detail: detail)
    }

    /// L0 handles the event with `handler` while `level` keeps running.
    public static func l0Handles(_ handler: String, level: GuestLevel, detail: String? = nil) -> Outcome {
        Outcome(kind: .l0Handles, level: level, handler: handler, detail: detail)
    }

    /// `handler` queues exception `vector` for `level`.
    public static func inject(
        _ vector: UInt8, errorCode: UInt32?, into level: GuestLevel, handler: String, detail: String? = nil
    ) -> Outcome {
        Outcome(kind: .injectException, vector: vector, errorCode: errorCode, level: level, handler: handler, detail: detail)
    }

    /// L0 emulates the instruction for `level`.
    public static func emulate(_ handler: String, level: GuestLevel, detail: String? = nil) -> Outcome {
        Outcome(kind: .emulate, level: level, handler: handler, detail: detail)
    }

    /// L1's VMRUN fails with VMEXIT_INVALID because of `check`.
    public static func vmrunFails(check: String?, detail: String? = nil) -> Outcome {
        Outcome(
            kind: .vmrunFails, exitCode: .invalid, exitInfo1: 0, exitInfo2: 0, level: .l1,
            handler: "svm/nested.c:nested_svm_vmrun", detail: detail, check: check)
    }

    /// L1's VMRUN enters L2.
    public static func vmrunSucceeds(detail: String? = nil) -> Outcome {
        Outcome(kind: .vmrunSucceeds, level: .l2, handler: "svm/nested.c:enter_svm_guest_mode", detail: detail)
    }

    /// KVM exits to userspace.
    public static func userspaceExit(_ handler: String, detail: String) -> Outcome {
        Outcome(kind: .userspaceExit, handler: handler, detail: detail)
    }

    /// KVM injects an interrupt (vector if known) into `level`.
    public static func injectInterrupt(_ vector: UInt8?, into level: GuestLevel, handler: String, detail: String? = nil) -> Outcome {
        Outcome(kind: .injectInterrupt, vector: vector, level: level, handler: handler, detail: detail)
    }

    /// KVM injects an NMI into `level`.
    public static func injectNMI(into level: GuestLevel, handler: String, detail: String? = nil) -> Outcome {
        Outcome(kind: .injectNMI, vector: 2, level: level, handler: handler, detail: detail)
    }

    /// Nothing reaches L0; `level` keeps running and `detail` says what the CPU does.
    public static func noExit(level: GuestLevel, detail: String, handler: String? = nil) -> Outcome {
        Outcome(kind: .noExit, level: level, handler: handler, detail: detail)
    }

    /// Undetermined: each alternative applies under its condition; `missing` names the inputs.
    public static func undetermined(_ alternatives: [Alternative], missing: [String]) -> Outcome {
        Outcome(kind: .undetermined, alternatives: alternatives, missing: missing)
    }

    /// Whether `other` is the same result as far as a trace or a test can tell: kind, exit
    /// code and infos, vector and error code, level and failed check (handler texts and
    /// details may differ).
    public func sameResult(as other: Outcome) -> Bool {
        kind == other.kind && kind != .undetermined && exitCode == other.exitCode && exitInfo1 == other.exitInfo1
            && exitInfo2 == other.exitInfo2 && vector == other.vector && errorCode == other.errorCode
            && level == other.level && check == other.check && Self.sameFollowUps(then, other.then)
    }

    /// Whether two follow-up lists give the same results, in order (`nil` = none).
    static func sameFollowUps(_ lhs: [Outcome]?, _ rhs: [Outcome]?) -> Bool {
        let left = lhs ?? [], right = rhs ?? []
        return left.count == right.count && zip(left, right).allSatisfy { $0.sameResult(as: $1) }
    }

    /// One line, e.g. `reflect to L1: msr (0x07c) info1 0x1 info2 0x0`; follow-ups are
    /// appended as `; then …`.
    public var description: String {
        guard let then, !then.isEmpty else { return head }
        return head + then.map { "; then \($0.description)" }.joined()
    }

    /// The outcome itself, without its follow-ups.
    private var head: String {
        switch kind {
        case .reflectToL1:
            var text = "reflect to L1: \(exitCode.map(\.description) ?? "?")"
            text += " info1 " + (exitInfo1.map { Hex.format($0) } ?? "?")
            text += " info2 " + (exitInfo2.map { Hex.format($0) } ?? "?")
            return text
        case .l0Handles:
            if handler?.hasPrefix("architecture:") == true { return "no #VMEXIT: \(level?.description ?? "?") continues" }
            return "handled by L0: \(handler ?? "?")" + (level.map { " (\($0) continues)" } ?? "")
        case .injectException where vector == nil:
            return "an exception of the instruction's own in \(level?.description ?? "?")"
        case .injectException:
            let code = errorCode.map { " (\(Hex.format($0)))" } ?? ""
            return "inject \(vector.map(ExceptionVector.name) ?? "?")\(code) into \(level?.description ?? "?")"
                + (handler.map { " by \($0)" } ?? "")
        case .emulate:
            return "L0 emulates: \(handler ?? "?")"
        case .vmrunFails:
            return "VMRUN fails: VMEXIT_INVALID (exit code 0xffffffff)" + (check.map { ", check \($0)" } ?? "")
        case .vmrunSucceeds:
            return "VMRUN succeeds: L2 runs"
        case .userspaceExit:
            return "exit to userspace: \(detail ?? "?")"
        case .injectInterrupt:
            return "inject interrupt \(vector.map { Hex.format($0) } ?? "?") into \(level?.description ?? "?")"
                + (handler.map { " by \($0)" } ?? "")
        case .injectNMI:
            return "inject NMI into \(level?.description ?? "?")" + (handler.map { " by \($0)" } ?? "")
        case .noExit:
            return "no exit: \(level?.description ?? "the guest") continues (\(detail ?? "?"))"
        case .undetermined:
            return "undetermined (missing: \((missing ?? []).joined(separator: ", ")))"
        }
    }

    private enum CodingKeys: String, CodingKey {
        case kind
        case exitCode = "exit_code"
        case exitInfo1 = "exit_info_1"
        case exitInfo2 = "exit_info_2"
        case vector
        case errorCode = "error_code"
        case level, handler, detail, check, alternatives, missing, then
    }

    /// Decodes the JSON form.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        kind = try container.decode(Kind.self, forKey: .kind)
        exitCode = try container.decodeIfPresent(UInt32.self, forKey: .exitCode).map(VMExitCode.init(rawValue:))
        exitInfo1 = try container.decodeIfPresent(UInt64.self, forKey: .exitInfo1)
        exitInfo2 = try container.decodeIfPresent(UInt64.self, forKey: .exitInfo2)
        vector = try container.decodeIfPresent(UInt8.self, forKey: .vector)
        errorCode = try container.decodeIfPresent(UInt32.self, forKey: .errorCode)
        level = try container.decodeIfPresent(GuestLevel.self, forKey: .level)
        handler = try container.decodeIfPresent(String.self, forKey: .handler)
        detail = try container.decodeIfPresent(String.self, forKey: .detail)
        check = try container.decodeIfPresent(String.self, forKey: .check)
        alternatives = try container.decodeIfPresent([Alternative].self, forKey: .alternatives)
        missing = try container.decodeIfPresent([String].self, forKey: .missing)
        then = try container.decodeIfPresent([Outcome].self, forKey: .then)
    }

    /// Encodes the JSON form (absent fields are omitted; exit codes are plain numbers).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kind, forKey: .kind)
        try container.encodeIfPresent(exitCode?.rawValue, forKey: .exitCode)
        try container.encodeIfPresent(exitInfo1, forKey: .exitInfo1)
        try container.encodeIfPresent(exitInfo2, forKey: .exitInfo2)
        try container.encodeIfPresent(vector, forKey: .vector)
        try container.encodeIfPresent(errorCode, forKey: .errorCode)
        try container.encodeIfPresent(level, forKey: .level)
        try container.encodeIfPresent(handler, forKey: .handler)
        try container.encodeIfPresent(detail, forKey: .detail)
        try container.encodeIfPresent(check, forKey: .check)
        try container.encodeIfPresent(alternatives, forKey: .alternatives)
        try container.encodeIfPresent(missing, forKey: .missing)
        if let then, !then.isEmpty { try container.encode(then, forKey: .then) }
    }
}

/// One branch of an undetermined outcome: what happens if `condition` holds.
///
/// JSON: `{"condition", "outcome", "assumptions": {FACT: BOOL}, "rules": [RULE]}`; the last two
/// keys were added later and may be absent when decoding.
public struct Alternative: Sendable, Equatable, Codable {
    /// The condition on a missing input, for people, e.g. `msrpm[0xc0000080].write is set`.
    public var condition: String
    /// The same condition as facts (`FactID`) with the value this branch assumes, e.g.
    /// `["msrpm[0xc0000080].write": true]`; nested forks contribute all their facts.
    public var assumptions: [Fact: Bool]
    /// The rules this branch visited after the fork, in order.
    public var rules: [RuleID]
    /// The outcome under that condition.
    public var outcome: Outcome

    /// Builds an alternative.
    public init(condition: String, assumptions: [Fact: Bool] = [:], rules: [RuleID] = [], outcome: Outcome) {
        self.condition = condition
        self.assumptions = assumptions
        self.rules = rules
        self.outcome = outcome
    }

    private enum CodingKeys: String, CodingKey {
        case condition, assumptions, rules, outcome
    }

    /// Decodes the JSON form; `assumptions` and `rules` default to empty.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        condition = try container.decode(String.self, forKey: .condition)
        assumptions = try container.decodeIfPresent([Fact: Bool].self, forKey: .assumptions) ?? [:]
        rules = try container.decodeIfPresent([RuleID].self, forKey: .rules) ?? []
        outcome = try container.decode(Outcome.self, forKey: .outcome)
    }

    /// Encodes the JSON form (`assumptions` and `rules` only when not empty).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(condition, forKey: .condition)
        try container.encode(outcome, forKey: .outcome)
        if !assumptions.isEmpty { try container.encode(assumptions, forKey: .assumptions) }
        if !rules.isEmpty { try container.encode(rules, forKey: .rules) }
    }
}
