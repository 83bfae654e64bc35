import NestedSVM
import TraceKit

/// One replayed exit as the replay keeps it: 40 bytes, fixed size, no heap references.
///
/// Outcomes, recorded outcomes and verdicts repeat across exits, so each is kept once in
/// ``ExitTables`` and referenced by number; the exit's own values (`exit_info_*`, RIP, line
/// numbers, timestamp, pid) are read back from the trace's index and the first event's
/// payload when an ``ExitRecord`` is asked for (``ReplayExits``).
struct CompactExit: Sendable {
    /// First event (`kvm_exit`, or the event a synthesized exit starts at).
    var firstEvent: UInt32
    /// Last event (the entry, or the last event seen).
    var lastEvent: UInt32
    /// Exit code (low 32 bits of EXITCODE).
    var exitCode: UInt32
    /// vCPU id (valid when ``hasVCPU``).
    var vcpuID: UInt32
    /// The L1 configuration number at the exit.
    var configuration: UInt32
    /// Index into ``ExitTables/answers``.
    var answer: UInt32
    /// Index into ``ExitTables/recorded`` (the recorded outcome without its evidence).
    var recorded: UInt32
    /// Index into ``ExitTables/verdicts``.
    var verdict: UInt32
    /// The event that proves the recorded outcome (before the entry), or ``noEvent``.
    var evidence: UInt32
    /// ``Flag`` bits: origin, level, vCPU known, ended by an entry.
    var flags: UInt8

    /// No event.
    static let noEvent = UInt32.max

    /// Bits of ``flags``.
    enum Flag {
        /// The exit is synthesized (no hardware exit before it).
        static let synthesized: UInt8 = 1 << 0
        /// Level L1 ran.
        static let levelL1: UInt8 = 1 << 1
        /// Level L2 ran.
        static let levelL2: UInt8 = 1 << 2
        /// ``vcpuID`` is known.
        static let hasVCPU: UInt8 = 1 << 3
        /// The exit ended at its entry (``lastEvent`` is the entry).
        static let hasEntry: UInt8 = 1 << 4
    }

    /// Where the exit comes from.
    var origin: ExitRecord.Origin { flags & Flag.synthesized != 0 ? .synthesized : .hardwareExit }
    /// The level that ran, if known.
    var level: Level? {
        if flags & Flag.levelL2 != 0 { return .l2 }
        if flags & Flag.levelL1 != 0 { return .l1 }
        return nil
    }
    /// The vCPU id, if known.
    var vcpu: UInt32? { flags & Flag.hasVCPU != 0 ? vcpuID : nil }
    /// First event as an event number.
    var first: EventNumber { EventNumber(Int(firstEvent)) }
    /// Last event as an event number.
    var last: EventNumber { EventNumber(Int(lastEvent)) }
}

/// The model's answer for an exit: the outcome (an index into ``ExitTables/outcomes``) and
/// the deciding rule.
struct DecisionAnswer: Sendable {
    /// Index into the outcome table.
    var outcome: Int
    /// The last rule of the decision path.
    var decidingRule: RuleID?
}

/// The values exits share, each kept once: model outcomes, answers, recorded outcomes (without
/// evidence) and verdicts.
final class ExitTables: Sendable {
    /// Distinct model outcomes.
    let outcomes: [Outcome]
    /// Distinct (outcome, deciding rule) answers.
    let answers: [DecisionAnswer]
    /// Distinct recorded outcomes, with empty `evidence` and no `entry`.
    let recorded: [RecordedOutcome]
    /// Distinct verdicts.
    let verdicts: [Verdict]
    /// Kind of each verdict (cheap to scan).
    let verdictKinds: [Verdict.Kind]
    /// Whether each verdict needed an inferred input.
    let verdictInferred: [Bool]

    init(outcomes: [Outcome], answers: [DecisionAnswer], recorded: [RecordedOutcome], verdicts: [Verdict]) {
        self.outcomes = outcomes
        self.answers = answers
        self.recorded = recorded
        self.verdicts = verdicts
        self.verdictKinds = verdicts.map(\.kind)
        self.verdictInferred = verdicts.map { !$0.inferred.isEmpty }
    }
}

/// Every replayed exit, in trace order, as a random-access collection of ``ExitRecord``s
/// built on access from a compact per-exit record (40 bytes) and shared tables.
///
/// Building one record reads the first event's payload from the trace (for `exit_info_*`
/// and the RIP); scans over many exits should prefer the cheap accessors
/// (``verdictKind(at:)``, ``exitCode(at:)``, ``level(at:)``, ``pid(at:)``, …), which read
/// only the compact record.
public struct ReplayExits: RandomAccessCollection, Sendable {
    /// The replayed trace.
    let trace: LoadedTrace
    /// One compact record per exit, in trace order.
    let records: [CompactExit]
    /// The shared values.
    let tables: ExitTables

    /// Bytes the replay keeps per exit (the compact record's stride).
    public static var compactRecordBytes: Int { MemoryLayout<CompactExit>.stride }

    /// First position (0).
    public var startIndex: Int { 0 }
    /// One past the last exit.
    public var endIndex: Int { records.count }

    /// The exit at `position`, built from its compact record and the trace.
    public subscript(position: Int) -> ExitRecord {
        let record = records[position]
        let first = record.first
        let last = record.last
        let values = Self.exitValues(record, trace: trace)
        let firstLine = trace.lineNumber(of: first)
        let lastLine = trace.lineNumber(of: last)
        let answer = tables.answers[Int(record.answer)]
        return ExitRecord(
            index: position, origin: record.origin, firstEvent: first, lastEvent: last,
            lines: firstLine...Swift.max(firstLine, lastLine), pid: trace.pid(of: first), vcpu: record.vcpu,
            timestamp: trace.timestamp(of: first), level: record.level, exitCode: record.exitCode,
            exitInfo1: values.exitInfo1, exitInfo2: values.exitInfo2, exitIntInfo: values.intrInfo,
            exitIntInfoErr: values.errorCode, rip: values.guestRIP, model: tables.outcomes[answer.outcome],
            decidingRule: answer.decidingRule, recorded: recordedOutcome(record), verdict: tables.verdicts[Int(record.verdict)])
    }

    /// The verdict kind of the exit at `position` (no decoding).
    public func verdictKind(at position: Int) -> Verdict.Kind { tables.verdictKinds[Int(records[position].verdict)] }
    /// The exit code of the exit at `position` (no decoding).
    public func exitCode(at position: Int) -> UInt32 { records[position].exitCode }
    /// The level of the exit at `position` (no decoding).
    public func level(at position: Int) -> Level? { records[position].level }
    /// The origin of the exit at `position` (no decoding).
    public func origin(at position: Int) -> ExitRecord.Origin { records[position].origin }
    /// The vCPU id of the exit at `position`, when an event states it (no decoding).
    public func vcpu(at position: Int) -> UInt32? { records[position].vcpu }
    /// The thread id of the exit at `position` (from the index).
    public func pid(at position: Int) -> Int32 { trace.pid(of: records[position].first) }
    /// The first event of the exit at `position`.
    public func firstEvent(at position: Int) -> EventNumber { records[position].first }
    /// The last event of the exit at `position`.
    public func lastEvent(at position: Int) -> EventNumber { records[position].last }
    /// The model's outcome kind of the exit at `position` (no record is built).
    public func modelKind(at position: Int) -> Outcome.Kind {
        tables.outcomes[tables.answers[Int(records[position].answer)].outcome].kind
    }
    /// The recorded outcome kind of the exit at `position` (no record is built).
    public func recordedKind(at position: Int) -> RecordedOutcome.Kind { tables.recorded[Int(records[position].recorded)].kind }
    /// The timestamp of the exit at `position` (from the index).
    public func timestamp(at position: Int) -> TraceTimestamp { trace.timestamp(of: records[position].first) }
    /// Whether the exit at `position` matched only after settling an input from the trace.
    public func isMatchByInference(at position: Int) -> Bool {
        let verdict = Int(records[position].verdict)
        return tables.verdictKinds[verdict] == .match && tables.verdictInferred[verdict]
    }
    /// Whether the verdict of the exit at `position` lists inferred inputs (no decoding).
    func hasInferred(at position: Int) -> Bool { tables.verdictInferred[Int(records[position].verdict)] }
    /// The L1 configuration number at the exit at `position` (``ReplayState/configuration``).
    func configuration(at position: Int) -> Int { Int(records[position].configuration) }

    /// The position of the exit whose first event is `first` (exits are sorted by it).
    func position(ofFirstEvent first: EventNumber) -> Int? {
        let wanted = UInt32(truncatingIfNeeded: first.rawValue)
        var low = 0
        var high = records.count
        while low < high {
            let mid = (low + high) / 2
            if records[mid].firstEvent < wanted { low = mid + 1 } else { high = mid }
        }
        return low < records.count && records[low].firstEvent == wanted ? low : nil
    }

    /// The recorded outcome of `record`, its evidence restored.
    func recordedOutcome(_ record: CompactExit) -> RecordedOutcome {
        var outcome = tables.recorded[Int(record.recorded)]
        let entry: EventNumber? = record.flags & CompactExit.Flag.hasEntry != 0 ? record.last : nil
        if outcome.kind != .unknown {
            outcome.entry = entry
            var evidence: [EventNumber] = []
            if record.evidence != CompactExit.noEvent { evidence.append(EventNumber(Int(record.evidence))) }
            if let entry { evidence.append(entry) }
            outcome.evidence = evidence
        }
        return outcome
    }

    /// The exit's values as the trace printed them, read from its first event.
    static func exitValues(_ record: CompactExit, trace: LoadedTrace) -> KVMExit {
        let code = SVMExitReason(record.exitCode)
        switch trace.payload(of: record.first) {
        case .exit(let exit), .nestedVMExit(let exit):
            return exit
        case .nestedIntrVMExit(let rip):
            return KVMExit(exitReason: code, guestRIP: rip)
        case .nestedVMExitInject(let inject):
            return KVMExit(
                exitReason: inject.exitReason, guestRIP: nil, exitInfo1: inject.exitInfo1, exitInfo2: inject.exitInfo2,
                intrInfo: inject.exitIntInfo, errorCode: inject.exitIntInfoErr)
        default:
            return KVMExit(exitReason: code)
        }
    }
}
