import Foundation
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

    /// Why the second outcome differs from the first, or nil when they agree.
    ///
    /// The first profile's outcome is resolved with the recorded one (its alternatives that
    /// fit the trace); the conditions every fitting alternative shares are what the trace
    /// settled. The second profile's alternatives that contradict a settled condition are
    /// dropped; the exit changed when the outcomes left differ from the first's.
    static func difference(_ a: Outcome, _ b: Outcome, recorded: RecordedOutcome) -> String? {
        let fitting = fittingAlternatives(a, recorded: recorded)
        let settled = fitting.map { Set(atoms(of: $0.condition)) }.reduce(nil as Set<String>?) { partial, next in
            partial.map { $0.intersection(next) } ?? next
        } ?? []
        let possible: [Alternative]
        if b.kind == .undetermined {
            possible = (b.alternatives ?? []).filter { alternative in
                !atoms(of: alternative.condition).contains { atom in negations(of: atom).contains { settled.contains($0) } }
            }
        } else {
            possible = [Alternative(condition: "", outcome: b)]
        }
        let before = Set(fitting.map { signature($0.outcome) })
        let after = Set(possible.map { signature($0.outcome) })
        guard before != after else { return nil }
        let added = possible.filter { !before.contains(signature($0.outcome)) }
        if let first = added.first {
            let condition = first.condition.isEmpty ? "" : " if \(first.condition)"
            return "could be \(first.outcome.description)\(condition)"
        }
        return "no longer \(fitting.first?.outcome.description ?? "?")"
    }

    /// The alternatives of `outcome` that fit `recorded` (the outcome itself when determined).
    private static func fittingAlternatives(_ outcome: Outcome, recorded: RecordedOutcome) -> [Alternative] {
        guard outcome.kind == .undetermined else { return [Alternative(condition: "", outcome: outcome)] }
        let alternatives = outcome.alternatives ?? []
        let fitting = alternatives.filter { OutcomeComparison.differences(model: $0.outcome, recorded: recorded).isEmpty }
        return fitting.isEmpty ? alternatives : fitting
    }

    /// What an outcome does, for comparison: kind, exit code, vector.
    private static func signature(_ outcome: Outcome) -> String {
        "\(outcome.kind.rawValue) \(outcome.exitCode?.rawValue ?? 0) \(outcome.vector ?? 0xff)"
    }

    /// The conjuncts of a model condition (`a; b; c`).
    static func atoms(of condition: String) -> [String] {
        condition.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// The conditions that contradict `atom`, in the model's wording.
    static func negations(of atom: String) -> [String] {
        var out: [String] = []
        for (positive, negative) in [(" is set", " is clear"), (" = 0", " > 0"), ("RAX passes", "RAX fails")] {
            if atom.hasSuffix(positive) { out.append(String(atom.dropLast(positive.count)) + negative) }
            if atom.hasSuffix(negative) { out.append(String(atom.dropLast(negative.count)) + positive) }
            if atom.hasPrefix(positive) { out.append(negative + atom.dropFirst(positive.count)) }
            if atom.hasPrefix(negative) { out.append(positive + atom.dropFirst(negative.count)) }
        }
        switch atom {
        case "the page at RAX is backed": out.append("it is not")
        case "it is not": out.append("the page at RAX is backed")
        case "RAX is a legal page address": out.append("RAX is not")
        case "RAX is not": out.append("RAX is a legal page address")
        case "both are 1": out += ["L1 EFER.SVME or L1 CR0.PG is 0", "L2 EFER.SVME or L2 CR0.PG is 0"]
        case "L1 EFER.SVME or L1 CR0.PG is 0", "L2 EFER.SVME or L2 CR0.PG is 0": out.append("both are 1")
        default: break
        }
        return out
    }
}
