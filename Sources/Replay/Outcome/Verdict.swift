import NestedSVM

/// How the model's outcome for one exit compares with what the trace recorded.
public struct Verdict: Sendable, Hashable, Codable {
    /// The verdict kinds, with their JSON names.
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        /// Model and trace agree (possibly after inferring an input the trace lacks; see
        /// ``Verdict/inferred``).
        case match
        /// Model and trace disagree; ``Verdict/differences`` lists the fields.
        case mismatch
        /// The model needed a value the trace lacks and the outcome cannot settle it, or the
        /// trace does not show the outcome; ``Verdict/missing`` says which.
        case undetermined
    }

    /// One field on which model and trace disagree.
    public struct Difference: Sendable, Hashable, Codable, CustomStringConvertible {
        /// Field name (`outcome`, `exit_code`, `exit_info_1`, `vector`, …).
        public var field: String
        /// What the model predicted.
        public var model: String
        /// What the trace recorded.
        public var recorded: String
        /// `field: model X, trace Y`.
        public var description: String { "\(field): model \(model), trace \(recorded)" }
    }

    /// The verdict.
    public var kind: Kind
    /// Fields that differ (mismatches only).
    public var differences: [Difference]
    /// Conditions on unknown inputs that the recorded outcome settled (e.g.
    /// `msrpm[0x10].read is set`), each taken as inferred for this exit.
    public var inferred: [String]
    /// The facts (`FactID` → value) every alternative that fits the recorded outcome assumes:
    /// what the trace settled at this exit, in a form another profile's model can consult.
    public var settled: [Fact: Bool]
    /// Inputs the model lacked and nothing settled (undetermined only).
    public var missing: [String]
    /// One-line explanation.
    public var explanation: String

    /// What a verdict proved, finer than ``Kind``: a match is either `decided` (the model
    /// decided from facts and the trace agreed: it could have disagreed) or `consistent` (an
    /// input was settled by reading the recorded outcome back: it could not disagree).
    public enum Proof: String, Sendable, Hashable, Codable, CaseIterable {
        /// The model decided from facts and the trace agreed.
        case decided
        /// A missing input was settled by the recorded outcome; the exit could not disagree.
        case consistent
        /// Model and trace disagree.
        case mismatch
        /// Nothing was proven.
        case undetermined
    }

    /// Whether this is a match that needed an input settled by the recorded outcome.
    public var isConsistent: Bool { kind == .match && !inferred.isEmpty }

    /// What the verdict proved (``Proof``).
    public var proof: Proof {
        switch kind {
        case .match: isConsistent ? .consistent : .decided
        case .mismatch: .mismatch
        case .undetermined: .undetermined
        }
    }

    /// Creates a verdict.
    public init(kind: Kind, differences: [Difference] = [], inferred: [String] = [], settled: [Fact: Bool] = [:],
                missing: [String] = [], explanation: String) {
        self.kind = kind
        self.settled = settled
        self.differences = differences
        self.inferred = inferred
        self.missing = missing
        self.explanation = explanation
    }
}

/// Compares model outcomes with recorded outcomes.
enum OutcomeComparison {
    /// The fields on which `model` and `recorded` disagree; empty when consistent.
    static func differences(model: Outcome, recorded: RecordedOutcome) -> [Verdict.Difference] {
        func diff(_ field: String, _ m: String, _ r: String) -> Verdict.Difference {
            Verdict.Difference(field: field, model: m, recorded: r)
        }
        switch (model.kind, recorded.kind) {
        case (.reflectToL1, .reflectToL1):
            var out: [Verdict.Difference] = []
            if let code = model.exitCode?.rawValue, code != recorded.exitCode {
                out.append(diff("exit_code", ExitCodeText.name(code), recorded.exitCode.map(ExitCodeText.name) ?? "?"))
            }
            if let info1 = model.exitInfo1, let seen = recorded.exitInfo1, info1 != seen {
                out.append(diff("exit_info_1", Hex.short(info1), Hex.short(seen)))
            }
            if let info2 = model.exitInfo2, let seen = recorded.exitInfo2, info2 != seen {
                out.append(diff("exit_info_2", Hex.short(info2), Hex.short(seen)))
            }
            return out
        case (.injectException, .injectException):
            var out: [Verdict.Difference] = []
            if let vector = model.vector, vector != recorded.vector {
                out.append(diff("vector", ExceptionText.name(vector), ExceptionText.name(recorded.vector)))
            }
            // A model exception without a vector ("the instruction's own exception") leaves
            // vector and error code open.
            if model.vector != nil, model.errorCode != recorded.errorCode {
                out.append(diff(
                    "error_code", model.errorCode.map { Hex.short(UInt64($0)) } ?? "none",
                    recorded.errorCode.map { Hex.short(UInt64($0)) } ?? "none"))
            }
            if let level = model.level.map(Level.init), let next = recorded.nextLevel, level != next {
                out.append(diff("level", level.rawValue, next.rawValue))
            }
            return out
        case (.vmrunSucceeds, .vmrunSucceeds), (.vmrunFails, .vmrunFails):
            return []
        // "Handled by L0", "emulated" and "exit to userspace" are distinct outcomes. L0's own
        // handling may still ask the VMM to finish an access (port I/O, MMIO, MSR, hypercall):
        // that userspace exit is part of handling, not the outcome "exit to userspace".
        case (.l0Handles, .l0Handles), (.userspaceExit, .userspaceExit), (.injectInterrupt, .l0Handles),
            (.injectNMI, .l0Handles):
            return []
        case (.l0Handles, .userspaceExit), (.injectInterrupt, .userspaceExit), (.injectNMI, .userspaceExit):
            if RecordedOutcome.servesAccess(recorded.userspaceReason) { return [] }
            return [diff("outcome", model.description, recorded.summary)]
        case (.emulate, .l0Handles):
            if let level = model.level.map(Level.init), let next = recorded.nextLevel, level != next {
                return [diff("level", level.rawValue, next.rawValue)]
            }
            return recorded.emulated ? [] : [diff("outcome", model.description, recorded.summary + " (no kvm_emulate_insn)")]
        case (.emulate, .vmrunSucceeds) where model.level == .l2:
            // An emulated RSM that re-enters L2 (`svm/svm.c:svm_leave_smm`) traces the entry.
            return recorded.emulated ? [] : [diff("outcome", model.description, recorded.summary + " (no kvm_emulate_insn)")]
        case (.emulate, .userspaceExit):
            if recorded.emulated, RecordedOutcome.servesAccess(recorded.userspaceReason) { return [] }
            return [diff("outcome", model.description, recorded.summary)]
        case (_, .unknown):
            return []
        default:
            return [diff("outcome", model.description, recorded.summary)]
        }
    }
}

extension Level {
    /// The replay level of a model level.
    init(_ level: GuestLevel) {
        switch level {
        case .l1: self = .l1
        case .l2: self = .l2
        }
    }
}
