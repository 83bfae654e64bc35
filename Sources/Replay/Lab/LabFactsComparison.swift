import Foundation
import NestedSVM

/// `lab check` with a scenario's facts file (`NAME.facts.json`, what L1 configured): the
/// trace replayed again with the facts, and every fact the replay WITHOUT facts settled from
/// recorded outcomes compared with them.
///
/// The comparison rests on this: at an exit that was `consistent` without facts, the settled
/// facts are those every model alternative fitting the recorded outcome assumes. If, with the
/// facts, the model decides the exit and agrees with the trace, the facts' values lead to the
/// recorded outcome, so they are among those alternatives and equal every settled fact they
/// determine (**agree**); if it disagrees, a settled fact differs from what L1 configured
/// (**differ**, a failure); if the exit stays consistent, the facts do not cover it. Besides,
/// every settled permission-map or intercept bit is looked up in the facts directly.
public struct LabFactsComparison: Sendable {
    /// The facts files, comma-separated.
    public var file: String
    /// Verdicts with the facts.
    public var decided: Int
    public var consistent: Int
    public var mismatch: Int
    public var undetermined: Int
    /// Exits that were consistent without the facts.
    public var settledExits: Int
    /// Of those: decided and agreeing with the facts.
    public var settledAgree: Int
    /// Of those: a mismatch with the facts (a settled fact differs from what L1 configured).
    public var settledDiffer: Int
    /// Of those: still consistent with the facts (the facts file does not cover them).
    public var settledUncovered: Int
    /// Settled bits (MSRPM, IOPM, intercepts, assumptions) looked up in the facts directly.
    public var bitsCompared: Int
    /// Of those, the ones that differ.
    public var bitsDiffering: Int
    /// One line per difference (settled fact against the facts file) and per mismatch with facts.
    public var problems: [String]
    /// The exits still consistent with the facts: line, name, what the trace settled.
    public var stillConsistent: [String]

    /// Replays `result`'s trace with `facts` and compares.
    public init(baseline result: ReplayResult, facts: [FactsFile]) {
        file = facts.map(\.path).joined(separator: ", ")
        var options = result.options
        options.facts += facts
        let withFacts = Replayer(trace: result.trace, options: options).run()
        let summary = withFacts.summary
        decided = summary.decided
        consistent = summary.consistent
        mismatch = summary.mismatch
        undetermined = summary.undetermined
        var problems: [String] = []
        for exit in withFacts.mismatches {
            problems.append("line \(exit.lines.lowerBound) \(exit.level?.rawValue ?? "?") \(exit.reasonName): with the facts, "
                + exit.verdict.differences.map(\.description).joined(separator: "; "))
        }
        stillConsistent = withFacts.exits.filter(\.verdict.isConsistent).map {
            "line \($0.lines.lowerBound) \($0.level?.rawValue ?? "?") \($0.reasonName): \($0.verdict.inferred.joined(separator: " or "))"
        }
        var settledExits = 0
        var agree = 0
        var differ = 0
        var uncovered = 0
        var wanted: [Int: [Fact: Bool]] = [:]
        let baseline = result.exits
        for position in baseline.indices where baseline.isMatchByInference(at: position) {
            settledExits += 1
            switch withFacts.exits[position].verdict.proof {
            case .decided: agree += 1
            case .mismatch: differ += 1
            case .consistent, .undetermined: uncovered += 1
            }
            wanted[position] = baseline[position].verdict.settled
        }
        var compared = 0
        var differing = 0
        withFacts.forEachExitState { position, state in
            guard let settled = wanted[position] else { return }
            for (id, value) in settled.sorted(by: { $0.key < $1.key }) {
                guard let known = Walk.factValue(id, in: state.vcpu), !UserFacts.isInferred(known.source) else { continue }
                compared += 1
                if known.value != value {
                    differing += 1
                    let exit = baseline[position]
                    problems.append("line \(exit.lines.lowerBound) \(exit.reasonName): without facts the recorded outcome settles \(id) = \(value ? 1 : 0), the facts say \(known.value ? 1 : 0) [\(known.source)]")
                }
            }
        }
        self.settledExits = settledExits
        settledAgree = agree
        settledDiffer = differ
        settledUncovered = uncovered
        bitsCompared = compared
        bitsDiffering = differing
        self.problems = problems
    }

    /// Whether the facts and the trace agree: no mismatch with facts, no settled fact differs.
    public var agrees: Bool { mismatch == 0 && settledDiffer == 0 && bitsDiffering == 0 }

    /// `facts F: D decided, C consistent, M mismatch, U undetermined; without facts S settled: A agree, B differ, N not covered (bits: K compared, L differ)`.
    public var summary: String {
        "facts \(file.split(separator: ",").map { URL(fileURLWithPath: String($0).trimmingCharacters(in: .whitespaces)).lastPathComponent }.joined(separator: ", ")): \(decided) decided, \(consistent) consistent, \(mismatch) mismatch, "
            + "\(undetermined) undetermined; settled without facts: \(settledExits) exits, \(settledAgree) agree, "
            + "\(settledDiffer) differ, \(settledUncovered) not covered (\(bitsCompared) bits compared, \(bitsDiffering) differ)"
    }
}

extension LabFactsComparison: Encodable {
    enum CodingKeys: String, CodingKey {
        case file, decided, consistent, mismatch, undetermined, problems
        case settledExits = "settled_exits", settledAgree = "settled_agree", settledDiffer = "settled_differ"
        case settledUncovered = "settled_not_covered", bitsCompared = "bits_compared", bitsDiffering = "bits_differ"
        case stillConsistent = "still_consistent"
    }
}
