import NestedSVM

/// How a lab scenario (or one of its traces) came out of `lab check`, from best to worst.
public enum LabStatus: String, Sendable, Equatable, Hashable, Codable, Comparable, CaseIterable {
    /// No mismatch, the trace shows exactly the #VMEXITs L1 logged, every undetermined exit
    /// says what is missing, and the run (when `run.json` says) ended normally.
    case ok
    /// Something differs, and every difference has a reason the tool can name (a capped
    /// trace, events missing at a gap, an exit whose outcome the trace does not show, an
    /// L1 that did not finish).
    case explained
    /// A difference nothing explains, a trace that cannot be read, or a run the lab reports
    /// as `timeout` or `failed`.
    case fail

    /// Orders `ok < explained < fail`.
    public static func < (lhs: LabStatus, rhs: LabStatus) -> Bool { lhs.rank < rhs.rank }

    private var rank: Int {
        switch self {
        case .ok: 0
        case .explained: 1
        case .fail: 2
        }
    }
}

/// One difference or remark `lab check` found, with the status it implies.
public struct LabFinding: Sendable, Equatable, Codable {
    /// `explained` when `text` names the reason, `fail` when nothing explains it (`ok`
    /// for a remark that changes nothing).
    public var status: LabStatus
    /// One line: what differs, and why when known.
    public var text: String

    /// Creates a finding.
    public init(_ status: LabStatus, _ text: String) {
        self.status = status
        self.text = text
    }
}

/// An exit `lab check` lists: a mismatch or an undetermined exit.
public struct LabExitNote: Sendable, Equatable, Codable {
    /// Position in the replay (``ExitRecord/index``).
    public var exit: Int
    /// First trace line of the exit.
    public var line: Int
    /// `L1`, `L2`, or `nil` when unknown.
    public var level: String?
    /// Exit code name, e.g. `msr`.
    public var name: String
    /// The verdict's explanation (and, for mismatches, the differing fields).
    public var text: String
    /// What the trace lacks for an undetermined exit.
    public var missing: [String]
    /// The reason the tool names for a mismatch, when it has one.
    public var explainedBy: String?

    enum CodingKeys: String, CodingKey {
        case exit, line, level, name, text, missing
        case explainedBy = "explained_by"
    }
}

/// `lab check`'s result for one trace form of one scenario.
public struct LabFormReport: Sendable {
    /// The form.
    public var form: LabForm
    /// The trace file, as found.
    public var file: String
    /// The worst of ``findings`` (`ok` when there are none).
    public var status: LabStatus
    /// Replayed exits.
    public var exits: Int
    /// Matching exits.
    public var match: Int
    /// Mismatching exits.
    public var mismatch: Int
    /// Undetermined exits.
    public var undetermined: Int
    /// Synthesized #VMEXITs among the exits.
    public var synthesized: Int
    /// Lines where the trace says events are missing (`# … omitted …`, `[LOST n EVENTS]`).
    public var gapLines: [Int]
    /// The mismatches.
    public var mismatches: [LabExitNote]
    /// The undetermined exits.
    public var undeterminedExits: [LabExitNote]
    /// The #VMEXITs the trace shows reaching L1 against L1's log; `nil` when the trace
    /// could not be replayed.
    public var l1Log: L1LogComparison?
    /// KVM-on-KVM runs: L0's reflections against L1's own trace, per L1 vCPU; `nil` for the
    /// own-L1 lab (whose L1 log is ``l1Log``).
    public var l1Trace: L1TraceComparison?
    /// The reason the L1 log differs, when the tool can name one.
    public var l1LogExplainedBy: String?
    /// Why the trace could not be replayed.
    public var error: String?
    /// How the trace ends when it ends in a loop: of its last ``LabCheck/loopThreshold``
    /// exits none reached L1 and at least ``LabCheck/loopShare`` of them are the same exit
    /// (code, RIP, level, recorded outcome), e.g. `196 of its last 200 exits are L2 UD excp
    /// (0x046) at rip 0x10536, L0 kept it (kvm_emulate_insn); none reached L1`: a livelock.
    public var endingLoop: String?
    /// Every difference and its status.
    public var findings: [LabFinding]
    /// Matches the model decided from facts / that an input settled by the trace (issue #16).
    public var decided = 0
    public var consistent = 0
    /// The replay with the scenario's facts file and the comparison of settled facts with it.
    public var facts: LabFactsComparison?

    /// Adds a finding and updates the status.
    mutating func addFinding(_ finding: LabFinding) {
        findings.append(finding)
        status = max(status, finding.status)
    }

    /// Records the replay with facts: every mismatch with the facts and every settled fact
    /// that differs from the facts file fails the trace.
    mutating func addFacts(_ comparison: LabFactsComparison) {
        facts = comparison
        for problem in comparison.problems { addFinding(LabFinding(.fail, "facts: " + problem)) }
        if comparison.settledDiffer > comparison.problems.count {
            addFinding(LabFinding(.fail, "facts: \(comparison.settledDiffer) settled exits differ from the facts file"))
        }
    }

    /// Judges one replayed trace of a scenario: mismatches, undetermined exits, and the L1
    /// log comparison against `manifest`. `run` is the scenario's `run.json` entry.
    public init(form: LabForm, file: String, result: ReplayResult, manifest: LabManifest,
                run: LabRunRecord.Scenario? = nil, l1Trace: Result<L1TraceComparison, LabInputError>? = nil) {
        let summary = result.summary
        self.form = form
        self.file = file
        exits = summary.exits
        match = summary.match
        mismatch = summary.mismatch
        undetermined = summary.undetermined
        synthesized = summary.synthesized
        decided = summary.decided
        consistent = summary.consistent
        error = nil
        gapLines = result.trace.diagnostics
            .filter { $0.kind == .omittedLines || $0.kind == .lostEvents }.map(\.line)
        let hasUnlistedGaps = result.trace.gaps.count > gapLines.count
        var findings: [LabFinding] = []
        let firstGap = gapLines.first
        if !result.trace.gaps.isEmpty {
            let lines = gapLines.isEmpty ? "" : " at line\(gapLines.count == 1 ? "" : "s") " + gapLines.map(String.init).joined(separator: ", ")
            findings.append(LabFinding(.ok, "events are missing\(lines) (lines omitted or events lost); replay pairs no events across a gap"))
        }

        mismatches = result.mismatches.map { exit in
            let differences = exit.verdict.differences.map(\.description).joined(separator: "; ")
            var text = differences.isEmpty ? exit.verdict.explanation : differences
            if let rule = exit.decidingRule { text += " [rule \(rule)]" }
            var explainedBy: String?
            if let gap = firstGap, gap < exit.lines.lowerBound {
                explainedBy = "events are missing before it (trace gap at line \(gap))"
            } else if firstGap == nil, hasUnlistedGaps {
                explainedBy = "events are missing in the trace (lost events)"
            }
            return LabExitNote(
                exit: exit.index, line: exit.lines.lowerBound, level: exit.level?.rawValue, name: exit.reasonName,
                text: text, missing: exit.verdict.missing, explainedBy: explainedBy)
        }
        for note in mismatches {
            let head = "mismatch at line \(note.line) (\(note.name)): \(note.text)"
            if let reason = note.explainedBy {
                findings.append(LabFinding(.explained, head + " — \(reason)"))
            } else {
                findings.append(LabFinding(.fail, head))
            }
        }
        undeterminedExits = result.exits.filter { $0.verdict.kind == .undetermined }.map { exit in
            LabExitNote(
                exit: exit.index, line: exit.lines.lowerBound, level: exit.level?.rawValue, name: exit.reasonName,
                text: exit.verdict.explanation, missing: exit.verdict.missing, explainedBy: nil)
        }
        for note in undeterminedExits where note.text.isEmpty && note.missing.isEmpty {
            findings.append(LabFinding(.fail, "undetermined exit at line \(note.line) (\(note.name)) with no reason"))
        }

        endingLoop = Self.endingLoop(of: result.exits)
        switch l1Trace {
        case .success(let comparison)?:
            // KVM on KVM: L1 is a real hypervisor; its own trace is the L1 view.
            self.l1Trace = comparison
            l1Log = nil
            l1LogExplainedBy = nil
            if !comparison.isEqual {
                let head = "L0's reflections " + comparison.summary
                if let gap = firstGap {
                    l1LogExplainedBy = "the trace has a gap at line \(gap): #VMEXITs after it may be missing"
                    findings.append(LabFinding(.explained, head + " — " + l1LogExplainedBy!))
                } else if hasUnlistedGaps {
                    l1LogExplainedBy = "the trace lost events: #VMEXITs may be missing"
                    findings.append(LabFinding(.explained, head + " — " + l1LogExplainedBy!))
                } else {
                    findings.append(LabFinding(.fail, head))
                }
            }
            self.findings = findings
            status = findings.map(\.status).max() ?? .ok
            return
        case .failure(let error)?:
            self.l1Trace = nil
            l1Log = nil
            l1LogExplainedBy = nil
            findings.append(LabFinding(.fail, "\(error.file): \(error.problem)"))
            self.findings = findings
            status = .fail
            return
        case nil:
            self.l1Trace = nil
        }
        let comparison = L1LogComparison(manifest: manifest, result: result)
        l1Log = comparison
        l1LogExplainedBy = nil
        if let divergence = comparison.firstDivergence {
            let reason = Self.explain(divergence, result: result, firstGap: firstGap,
                                      hasGaps: firstGap != nil || hasUnlistedGaps, manifest: manifest, run: run)
            l1LogExplainedBy = reason
            let head = "L1 log " + comparison.summary
            findings.append(reason.map { LabFinding(.explained, head + " — \($0)") } ?? LabFinding(.fail, head))
        }
        self.findings = findings
        status = findings.map(\.status).max() ?? .ok
    }

    /// A trace that could not be loaded or used.
    public init(form: LabForm, file: String, error: String) {
        self.form = form
        self.file = file
        self.error = error
        status = .fail
        exits = 0
        match = 0
        mismatch = 0
        undetermined = 0
        synthesized = 0
        gapLines = []
        mismatches = []
        undeterminedExits = []
        l1Log = nil
        l1Trace = nil
        l1LogExplainedBy = nil
        endingLoop = nil
        findings = [LabFinding(.fail, error)]
    }

    /// `N of the last M exits are LEVEL NAME (CODE) at rip R, OUTCOME; none reached L1` when
    /// the trace ends in a loop (``LabCheck/loopThreshold``, ``LabCheck/loopShare``), else `nil`.
    static func endingLoop(of exits: ReplayExits) -> String? {
        guard exits.count >= LabCheck.loopThreshold else { return nil }
        let window = exits.suffix(LabCheck.loopThreshold)
        let reachedL1 = window.contains { $0.recorded.kind == .reflectToL1 || $0.recorded.kind == .vmrunFails }
        guard !reachedL1 else { return nil }
        struct Key: Hashable {
            var code: UInt32
            var rip: UInt64?
            var level: Level?
            var outcome: RecordedOutcome.Kind
        }
        var counts: [Key: Int] = [:]
        var example: [Key: ExitRecord] = [:]
        for exit in window {
            let key = Key(code: exit.exitCode, rip: exit.rip, level: exit.level, outcome: exit.recorded.kind)
            counts[key, default: 0] += 1
            example[key] = example[key] ?? exit
        }
        guard let (key, count) = counts.max(by: { $0.value < $1.value }),
              Double(count) >= LabCheck.loopShare * Double(window.count), let exit = example[key] else { return nil }
        let rip = exit.rip.map { " at rip 0x" + String($0, radix: 16) } ?? ""
        return "\(count) of its last \(window.count) exits are \(exit.level?.rawValue ?? "?") "
            + "\(ExitCodeText.name(exit.exitCode))\(rip), \(exit.recorded.summary); none reached L1"
    }

    /// The reason the tool can name for an L1-log divergence, or `nil`.
    static func explain(
        _ divergence: L1LogComparison.Divergence, result: ReplayResult, firstGap: Int?, hasGaps: Bool,
        manifest: LabManifest, run: LabRunRecord.Scenario?
    ) -> String? {
        if run?.status == .livelockCapped {
            return "the lab capped this trace (run.json: livelock-capped)"
        }
        if let gap = firstGap, (divergence.recorded?.line ?? Int.max) > gap {
            return "the trace has a gap at line \(gap): #VMEXITs after it may be missing"
        }
        if firstGap == nil, hasGaps {
            return "the trace lost events: #VMEXITs may be missing"
        }
        // An exit whose outcome the trace does not show, where the missing #VMEXIT would be.
        let previousLine = divergence.index > 0 ? TraceReflection.all(in: result)[divergence.index - 1].line : 0
        let limit = divergence.recorded?.line ?? Int.max
        if divergence.expected != nil,
           let open = result.exits.first(where: {
               $0.recorded.kind == .unknown && $0.lines.lowerBound > previousLine && $0.lines.lowerBound < limit
           }) {
            return "the trace does not show the outcome of the \(open.reasonName) exit at line \(open.lines.lowerBound) (no kvm_entry follows)"
        }
        if divergence.expected == nil, let outcome = manifest.result, outcome != LabCheck.finishedResult {
            return "L1 did not finish (observed.result = \(outcome)): its log stops early"
        }
        return nil
    }
}

/// `lab check`'s result for one scenario: its configuration and every form checked.
public struct LabScenarioReport: Sendable {
    /// Scenario name (the manifest's base name).
    public var scenario: String
    /// The folder holding it, as reached from the checked directory.
    public var folder: String
    /// The manifest file (`nil` for a scenario only `run.json` names).
    public var manifest: String?
    /// L0's kernel release from the manifest.
    public var kernel: String?
    /// The profile replay used.
    public var profile: String?
    /// Where the profile came from: `manifest kernel` or `--profile`.
    public var profileSource: String?
    /// The host facts given to replay (manifest `l0`, overridden by `--host`).
    public var host: HostFacts
    /// The guest facts given to replay (manifest `l1.guest_cpuid`, or `--guest`).
    public var guest: GuestFacts
    /// `observed.result` from the manifest.
    public var result: String?
    /// The scenario's `run.json` entry, when the folder has one.
    public var run: LabRunRecord.Scenario?
    /// The worst of the forms and the scenario findings.
    public var status: LabStatus
    /// Scenario-level findings (run status, unfinished L1, missing traces).
    public var findings: [LabFinding]
    /// One report per trace form found.
    public var forms: [LabFormReport]
}

/// Totals over a `lab check`.
public struct LabCheckSummary: Sendable, Equatable, Codable {
    /// Scenarios checked.
    public var scenarios = 0
    /// Scenarios whose status is `ok`.
    public var ok = 0
    /// Scenarios whose differences are all explained.
    public var explained = 0
    /// Failed scenarios.
    public var fail = 0
    /// Traces replayed (scenario × form).
    public var forms = 0
    /// Exits over all traces.
    public var exits = 0
    /// Matching exits.
    public var match = 0
    /// Matches that needed an input settled by the recorded outcome.
    public var consistent = 0
    /// Matches decided from facts.
    public var decided = 0
    /// Mismatching exits.
    public var mismatch = 0
    /// Undetermined exits.
    public var undetermined = 0
    /// Traces replayed again with a facts file, and their verdicts with it.
    public var factsForms = 0
    public var factsDecided = 0
    public var factsConsistent = 0
    public var factsMismatch = 0
    /// Exits consistent without facts; of those, decided and agreeing with the facts, differing.
    public var settledExits = 0
    public var settledAgree = 0
    public var settledDiffer = 0
    /// Traces whose #VMEXITs to L1 equal L1's log.
    public var l1LogEqual = 0
    /// Traces whose #VMEXITs to L1 differ from L1's log.
    public var l1LogDiffer = 0

    enum CodingKeys: String, CodingKey {
        case scenarios, ok, explained, fail, forms, exits, match, mismatch, undetermined, consistent, decided
        case l1LogEqual = "l1_log_equal", l1LogDiffer = "l1_log_differ"
        case factsForms = "facts_forms", factsDecided = "facts_decided", factsConsistent = "facts_consistent"
        case factsMismatch = "facts_mismatch", settledExits = "settled_exits", settledAgree = "settled_agree"
        case settledDiffer = "settled_differ"
    }

    /// Totals over `scenarios`.
    public init(_ scenarios: [LabScenarioReport]) {
        for scenario in scenarios {
            self.scenarios += 1
            switch scenario.status {
            case .ok: ok += 1
            case .explained: explained += 1
            case .fail: fail += 1
            }
            for form in scenario.forms {
                forms += 1
                exits += form.exits
                match += form.match
                consistent += form.consistent
                decided += form.decided
                mismatch += form.mismatch
                if let facts = form.facts {
                    factsForms += 1
                    factsDecided += facts.decided
                    factsConsistent += facts.consistent
                    factsMismatch += facts.mismatch
                    settledExits += facts.settledExits
                    settledAgree += facts.settledAgree
                    settledDiffer += facts.settledDiffer
                }
                undetermined += form.undetermined
                if let log = form.l1Log {
                    if log.isEqual { l1LogEqual += 1 } else { l1LogDiffer += 1 }
                }
                if let trace = form.l1Trace {
                    if trace.isEqual { l1LogEqual += 1 } else { l1LogDiffer += 1 }
                }
            }
        }
    }
}

/// Everything one `lab check` found.
public struct LabCheckReport: Sendable {
    /// The directory checked, as given.
    public var directory: String
    /// Every scenario, by folder then name.
    public var scenarios: [LabScenarioReport]
    /// Totals.
    public var summary: LabCheckSummary { LabCheckSummary(scenarios) }
    /// `fail` if any scenario failed, `explained` if any was explained, else `ok`.
    public var status: LabStatus { scenarios.map(\.status).max() ?? .ok }
}
