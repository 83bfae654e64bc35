import Foundation
import NestedSVM
import TraceKit

/// One exit as `export` and `check --json` write it: a stable JSON contract.
///
/// `model` and `recorded` always carry `outcome` (one of `reflect_to_l1`, `l0_handles`,
/// `inject_exception`, `emulate`, `vmrun_fails`, `vmrun_succeeds`, `userspace_exit`,
/// `undetermined`) and `exit_code` for reflections and failed VMRUNs.
public struct ExportRecord: Codable, Sendable {
    /// The model's side.
    public struct ModelSide: Codable, Sendable {
        /// Outcome kind (JSON name).
        public var outcome: String
        /// Exit code L1 sees.
        public var exitCode: UInt32?
        /// `exit_info_1` L1 sees.
        public var exitInfo1: UInt64?
        /// `exit_info_2` L1 sees.
        public var exitInfo2: UInt64?
        /// Injected vector.
        public var vector: UInt8?
        /// Injected error code.
        public var errorCode: UInt32?
        /// Level.
        public var level: String?
        /// Kernel handler.
        public var handler: String?
        /// Details.
        public var detail: String?
        /// Failed consistency check.
        public var check: String?
        /// Alternatives of an undetermined outcome.
        public var alternatives: [AlternativeText]?
        /// Missing inputs of an undetermined outcome.
        public var missing: [String]?
        /// One line of text.
        public var text: String

        enum CodingKeys: String, CodingKey {
            case outcome, level, handler, detail, check, alternatives, missing, text, vector
            case exitCode = "exit_code", exitInfo1 = "exit_info_1", exitInfo2 = "exit_info_2"
            case errorCode = "error_code"
        }
    }

    /// One alternative of an undetermined model outcome.
    public struct AlternativeText: Codable, Sendable {
        /// The condition on the unknown input.
        public var condition: String
        /// Outcome kind under it.
        public var outcome: String
        /// Exit code under it.
        public var exitCode: UInt32?
        /// One line of text.
        public var text: String
        enum CodingKeys: String, CodingKey {
            case condition, outcome, text
            case exitCode = "exit_code"
        }
    }

    /// The trace's side.
    public struct RecordedSide: Codable, Sendable {
        /// Outcome kind (JSON name).
        public var outcome: String
        /// Exit code L1 read.
        public var exitCode: UInt32?
        /// `exit_info_1` L1 read.
        public var exitInfo1: UInt64?
        /// `exit_info_2` L1 read.
        public var exitInfo2: UInt64?
        /// `exit_int_info` L1 read.
        public var exitIntInfo: UInt32?
        /// Injected vector.
        public var vector: UInt8?
        /// Injected error code.
        public var errorCode: UInt32?
        /// Level at the next entry.
        public var level: String?
        /// Failed check text.
        public var failedCheck: String?
        /// Userspace exit reason.
        public var userspaceReason: String?
        /// Whether `kvm_emulate_insn` appeared.
        public var emulated: Bool
        /// Re-injected events.
        public var reinjected: [String]
        /// Lines that prove the outcome.
        public var evidenceLines: [Int]
        /// One line of text.
        public var text: String

        enum CodingKeys: String, CodingKey {
            case outcome, vector, level, emulated, reinjected, text
            case exitCode = "exit_code", exitInfo1 = "exit_info_1", exitInfo2 = "exit_info_2"
            case exitIntInfo = "exit_int_info", errorCode = "error_code", failedCheck = "failed_check"
            case userspaceReason = "userspace_reason", evidenceLines = "evidence_lines"
        }
    }

    /// One step of the decision path.
    public struct Step: Codable, Sendable {
        /// Rule id.
        public var rule: String
        /// The rule's question.
        public var question: String
        /// Evidence read.
        public var evidence: [String]
        /// Answer.
        public var answer: String
        /// Kernel `file:function`.
        public var kernel: String
        /// Version note.
        public var note: String?
    }

    /// Exit index.
    public var exit: Int
    /// `hardware_exit` or `synthesized`.
    public var origin: String
    /// First line of the exit.
    public var line: Int
    /// First and last line.
    public var lines: [Int]
    /// Timestamp as printed.
    public var time: String
    /// vCPU thread id.
    public var pid: Int32
    /// vCPU id.
    public var vcpu: UInt32?
    /// `L1`/`L2`.
    public var level: String?
    /// Exit code.
    public var exitCode: UInt32
    /// Exit name.
    public var exitName: String
    /// `exit_info_1`.
    public var exitInfo1: UInt64?
    /// `exit_info_2`.
    public var exitInfo2: UInt64?
    /// `exit_int_info`.
    public var exitIntInfo: UInt32?
    /// Guest RIP.
    public var rip: UInt64?
    /// Kernel profile.
    public var profile: String
    /// The host facts the replay was given (`--host` form), absent when none.
    public var host: String?
    /// The model's outcome.
    public var model: ModelSide
    /// The recorded outcome.
    public var recorded: RecordedSide
    /// `match`, `mismatch` or `undetermined`.
    public var verdict: String
    /// What the verdict proved: `decided`, `consistent` (a match whose input was settled by
    /// the recorded outcome), `mismatch` or `undetermined` (issue #16).
    public var proof: String?
    /// Differing fields.
    public var differences: [Verdict.Difference]
    /// Inputs settled by the recorded outcome.
    public var inferred: [String]
    /// Inputs missing.
    public var missing: [String]
    /// One-line explanation.
    public var explanation: String
    /// The rule that decided.
    public var rule: String?
    /// The decision path.
    public var path: [Step]?

    enum CodingKeys: String, CodingKey {
        case exit, origin, line, lines, time, pid, vcpu, level, rip, profile, host, model, recorded, verdict, proof
        case differences, inferred, missing, explanation, rule, path
        case exitCode = "exit_code", exitName = "exit_name", exitInfo1 = "exit_info_1"
        case exitInfo2 = "exit_info_2", exitIntInfo = "exit_int_info"
    }

    /// Builds the record of `exit`; `withPath` re-runs the model to include the decision path.
    public init(_ exit: ExitRecord, in result: ReplayResult, withPath: Bool) {
        self.init(exit, in: result, decision: withPath ? result.decision(for: exit) : nil)
    }

    /// The records of `exits` (in trace order), each with its decision path when `withPath`;
    /// the states of many exits are re-derived in one walk (``ReplayResult/forEachDecision(of:_:)``).
    public static func records(_ exits: some Collection<ExitRecord>, in result: ReplayResult, withPath: Bool) -> [ExportRecord] {
        guard withPath else { return exits.map { ExportRecord($0, in: result, decision: nil) } }
        var records: [ExportRecord] = []
        records.reserveCapacity(exits.count)
        result.forEachDecision(of: exits) { records.append(ExportRecord($0, in: result, decision: $1)) }
        return records
    }

    /// Builds the record of `exit`, with the path of `decision` (the model's full decision for
    /// it) when given.
    public init(_ exit: ExitRecord, in result: ReplayResult, decision: Decision?) {
        self.exit = exit.index
        origin = exit.origin.rawValue
        line = exit.lines.lowerBound
        lines = [exit.lines.lowerBound, exit.lines.upperBound]
        time = exit.timestamp.description
        pid = exit.pid
        vcpu = exit.vcpu
        level = exit.level?.rawValue
        exitCode = exit.exitCode
        exitName = exit.reasonName
        exitInfo1 = exit.exitInfo1
        exitInfo2 = exit.exitInfo2
        exitIntInfo = exit.exitIntInfo
        rip = exit.rip
        profile = result.options.profile.name
        host = ExportHeader.hostText(result.options.host)
        model = ModelSide(exit.model)
        let outcome = exit.recorded
        recorded = RecordedSide(
            outcome: outcome.kind.rawValue, exitCode: outcome.exitCode, exitInfo1: outcome.exitInfo1,
            exitInfo2: outcome.exitInfo2, exitIntInfo: outcome.exitIntInfo, vector: outcome.vector,
            errorCode: outcome.errorCode, level: outcome.nextLevel?.rawValue, failedCheck: outcome.failedCheck,
            userspaceReason: outcome.userspaceReason, emulated: outcome.emulated, reinjected: outcome.reinjections,
            evidenceLines: outcome.evidence.map { result.trace.lineNumber(of: $0) }, text: outcome.summary)
        verdict = exit.verdict.kind.rawValue
        proof = exit.verdict.proof.rawValue
        differences = exit.verdict.differences
        inferred = exit.verdict.inferred
        missing = exit.verdict.missing
        explanation = exit.verdict.explanation
        rule = exit.decidingRule?.rawValue
        if let decision {
            path = decision.path.map {
                Step(rule: $0.rule.rawValue, question: $0.question, evidence: $0.evidence.map(\.description),
                     answer: $0.answer.rawValue, kernel: $0.kernel, note: $0.note)
            }
        }
    }
}

extension ExportRecord.ModelSide {
    /// The JSON side of a model outcome.
    init(_ outcome: Outcome) {
        self.init(
            outcome: outcome.kind.rawValue, exitCode: outcome.exitCode?.rawValue, exitInfo1: outcome.exitInfo1,
            exitInfo2: outcome.exitInfo2, vector: outcome.vector, errorCode: outcome.errorCode,
            level: outcome.level?.rawValue, handler: outcome.handler, detail: outcome.detail, check: outcome.check,
            alternatives: outcome.alternatives?.map {
                ExportRecord.AlternativeText(
                    condition: $0.condition, outcome: $0.outcome.kind.rawValue,
                    exitCode: $0.outcome.exitCode?.rawValue, text: $0.outcome.description)
            },
            missing: outcome.missing, text: outcome.description)
    }
}
