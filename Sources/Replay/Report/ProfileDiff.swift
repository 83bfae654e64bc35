import NestedSVM

/// The exits whose model outcome differs between two kernel profiles.
///
/// The trace is replayed under the first profile (inferences included); each exit is then
/// decided again under the second profile from the same reconstructed state. An exit
/// counts as changed when the two outcomes differ in kind or exit code, or when one
/// profile settles what the other leaves open — the second profile needing an input that
/// the first did not is exactly how a fix such as the 2026 RAX check shows up.
public struct ProfileDiff: Sendable {
    /// One changed exit.
    public struct Change: Sendable, Codable {
        /// Exit index.
        public var exit: Int
        /// First trace line.
        public var line: Int
        /// Level.
        public var level: String?
        /// Exit name.
        public var exitName: String
        /// Outcome under the first profile.
        public var first: ExportRecord.ModelSide
        /// Outcome under the second profile.
        public var second: ExportRecord.ModelSide
        /// What the trace recorded.
        public var recorded: String
        /// The rules of the second path that the first path did not visit.
        public var rules: [String]
        /// One-line reason.
        public var reason: String

        enum CodingKeys: String, CodingKey {
            case exit, line, level, first, second, recorded, rules, reason
            case exitName = "exit_name"
        }
    }

    /// The first profile.
    public var first: String
    /// The second profile.
    public var second: String
    /// Exits compared.
    public var exits: Int
    /// Changed exits.
    public var changes: [Change]

    /// Compares `result` (replayed under its profile) with `profile`.
    public init(_ result: ReplayResult, against profile: KernelProfile) {
        first = result.options.profile.name
        second = profile.name
        exits = result.exits.count
        var changes: [Change] = []
        for exit in result.exits {
            let a = result.decision(for: exit)
            let b = result.decision(for: exit, profile: profile)
            guard let reason = Self.difference(a.outcome, b.outcome, recorded: exit.recorded) else { continue }
            let rulesA = Set(a.path.map(\.rule))
            changes.append(Change(
                exit: exit.index, line: exit.lines.lowerBound, level: exit.level?.rawValue, exitName: exit.reasonName,
                first: ExportRecord.ModelSide(a.outcome), second: ExportRecord.ModelSide(b.outcome),
                recorded: exit.recorded.summary,
                rules: b.path.map(\.rule).filter { !rulesA.contains($0) }.map(\.rawValue), reason: reason))
        }
        self.changes = changes
    }

    /// Why two outcomes differ, or nil when they agree.
    static func difference(_ a: Outcome, _ b: Outcome, recorded: RecordedOutcome) -> String? {
        // Resolve each side with the recorded outcome the way replay does: an undetermined
        // outcome whose alternatives all fit the trace, or of which exactly the fitting ones
        // agree, counts as that outcome.
        let left = resolved(a, recorded: recorded)
        let right = resolved(b, recorded: recorded)
        switch (left, right) {
        case (.some(let x), .some(let y)):
            if x.kind != y.kind { return "\(x.kind.rawValue) → \(y.kind.rawValue)" }
            if x.exitCode != y.exitCode { return "exit code \(x.exitCode?.description ?? "-") → \(y.exitCode?.description ?? "-")" }
            if x.vector != y.vector { return "vector \(x.vector.map(String.init) ?? "-") → \(y.vector.map(String.init) ?? "-")" }
            return nil
        case (.some(let x), .none):
            return "\(x.kind.rawValue) → depends on \((b.missing ?? []).joined(separator: ", "))"
        case (.none, .some(let y)):
            return "depends on \((a.missing ?? []).joined(separator: ", ")) → \(y.kind.rawValue)"
        case (.none, .none):
            let setA = Set((a.alternatives ?? []).map { "\($0.outcome.kind.rawValue) \($0.outcome.exitCode?.rawValue ?? 0)" })
            let setB = Set((b.alternatives ?? []).map { "\($0.outcome.kind.rawValue) \($0.outcome.exitCode?.rawValue ?? 0)" })
            return setA == setB && (a.missing ?? []) == (b.missing ?? []) ? nil : "open under both, on different inputs"
        }
    }

    private static func resolved(_ outcome: Outcome, recorded: RecordedOutcome) -> Outcome? {
        guard outcome.kind == .undetermined else { return outcome }
        let alternatives = outcome.alternatives ?? []
        let fitting = alternatives.filter { OutcomeComparison.differences(model: $0.outcome, recorded: recorded).isEmpty }
        guard let first = fitting.first else { return nil }
        // The fitting alternatives must all be the fitting outcome, and the non-fitting ones must
        // not exist for the outcome to be settled independent of what the trace shows.
        return fitting.count == alternatives.count ? first.outcome : nil
    }
}
