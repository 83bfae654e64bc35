import Foundation
import NestedSVM

/// The exits whose model outcome differs between two kernel profiles.
///
/// The trace is replayed under the first profile (inferences included). Each exit is then
/// decided again under the second profile from the same reconstructed state, with the facts
/// the recorded outcome settled under the first profile (`Verdict/settled`, e.g.
/// `rax.page-aligned = 1`) handed to the model as `VCPUState/assumptions`; the ledger's
/// permission-map bits are already part of the stored state. The second outcome is
/// resolved to its alternatives compatible with those facts. An exit changed when the
/// outcomes left differ in kind, exit code or vector, or when the second profile still
/// depends on an input (a fact) the first did not need — exactly how a fix such as the 2026
/// RAX check shows up.
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
        /// The rules of the second path (its alternatives included) that the first did not visit.
        public var rules: [String]
        /// The rules the difference comes from: for a determined second outcome the rule that
        /// decided it; for an undetermined one the step that forked and the rules of the
        /// alternatives that differ from the first outcome. `--rule` filters on these.
        public var decidingRules: [String]
        /// The facts the change hinges on: those the second outcome still depends on, or the
        /// carried facts its path consulted.
        public var hingedOn: [String]
        /// The facts carried over from the first profile (settled by the recorded outcome).
        public var settled: [Fact: Bool]
        /// The first profile's cases that fit the recorded outcome, `outcome [if condition]`.
        public var firstFits: [String]
        /// The second profile's cases left by the carried facts, `outcome [if condition]`.
        public var secondPossible: [String]
        /// One-line reason.
        public var reason: String
        /// Against an architectural profile: the kernel rule that decided the recorded
        /// behaviour, `rule [kernel file:function]`.
        public var kernelRule: String? = nil
        /// Against an architectural profile: the architectural rule the difference hinges on,
        /// `rule [source]`.
        public var architecturalRule: String? = nil

        enum CodingKeys: String, CodingKey {
            case exit, line, level, first, second, recorded, rules, reason, settled
            case exitName = "exit_name"
            case decidingRules = "deciding_rules"
            case hingedOn = "hinged_on"
            case firstFits = "first_fits"
            case secondPossible = "second_possible"
            case kernelRule = "kernel_rule"
            case architecturalRule = "architectural_rule"
        }
    }

    /// The first profile.
    public var first: String
    /// The second profile.
    public var second: String
    /// Exits compared.
    public var exits: Int
    /// Rule-id prefixes a change's deciding rules must match (empty: every change).
    public var rulePrefixes: [String]
    /// Changed exits (after the `rulePrefixes` filter).
    public var changes: [Change]

    /// Compares `result` (replayed under its profile) with `profile`, keeping only changes
    /// whose deciding rules start with one of `rulePrefixes` (all when empty).
    public init(_ result: ReplayResult, against profile: KernelProfile, rulePrefixes: [String] = []) {
        first = result.options.profile.name
        second = profile.name
        exits = result.exits.count
        self.rulePrefixes = rulePrefixes
        var changes: [Change] = []
        let first = first
        // One walk re-derives every exit's state (exits close out of trace order: sorted after).
        result.forEachExitState { position, state in
            let exit = result.exits[position]
            let a = result.decision(for: exit, in: state)
            let source = "settled under profile \(first) by the recorded outcome at line \(exit.lines.lowerBound)"
            let carried = exit.verdict.settled.mapValues { Known($0, source: source) }
            let b = result.decision(for: exit, in: state, profile: profile, assumptions: carried)
            var found = profile.kind == .architectural
                ? Self.divergence(a, b, recorded: exit.recorded, carried: carried)
                : Self.change(a, b, recorded: exit.recorded, carried: carried)
            if found == nil, profile.kind == .architectural, exit.recorded.kind == .vmrunFails, let message = exit.recorded.failedCheck {
                // KVM names the check it failed: does the architecture fail VMRUN on it?
                var vcpu = state.vcpu
                vcpu.assumptions.merge(carried) { known, _ in known }
                let named = DecisionModel(profile: profile, host: result.host).decision(for: .vmrunConsistencyFailure(message: message), state: vcpu)
                found = Self.failedCheckDivergence(a, named, recorded: exit.recorded, message: message)
            }
            guard var change = found else { return }
            guard rulePrefixes.isEmpty || change.decidingRules.contains(where: { rule in rulePrefixes.contains { rule.hasPrefix($0) } }) else {
                return
            }
            change.exit = exit.index
            change.line = exit.lines.lowerBound
            change.level = exit.level?.rawValue
            change.exitName = exit.reasonName
            change.recorded = exit.recorded.summary
            changes.append(change)
        }
        self.changes = changes.sorted { $0.exit < $1.exit }
    }

    /// The change between decision `a` (first profile) and `b` (second, decided with the
    /// `carried` facts), or nil when they agree. Exit-specific fields are left for the caller.
    static func change(_ a: Decision, _ b: Decision, recorded: RecordedOutcome, carried: [Fact: Known<Bool>]) -> Change? {
        let fitting = fittingAlternatives(a.outcome, recorded: recorded)
        let possible = resolvedAlternatives(b.outcome, facts: carried, fitting: fitting)
        let before = Set(fitting.map { signature($0.outcome) })
        let after = Set(possible.map { signature($0.outcome) })
        guard before != after else { return nil }

        let differing = possible.filter { !before.contains(signature($0.outcome)) }
        let reason: String
        var hinged: [String]
        var deciding: [String]
        if after.count > 1 {
            hinged = dependencies(of: possible)
            // The most specific differing case makes the best example.
            let example = differing.max { $0.assumptions.count < $1.assumptions.count } ?? possible[0]
            reason = "depends on \(hinged.joined(separator: ", ")): could be \(example.outcome.description)"
                + (example.condition.isEmpty ? "" : " if \(example.condition)")
            deciding = (b.path.last(where: { $0.answer == .unknown && !isBookkeeping($0.rule) }).map { [$0.rule.rawValue] } ?? [])
            for alternative in differing {
                for rule in alternative.rules where !isBookkeeping(rule) && !deciding.contains(rule.rawValue) {
                    deciding.append(rule.rawValue)
                }
            }
        } else {
            let was = fitting.first?.outcome.description ?? "?"
            reason = "\(was) → \(possible.first?.outcome.description ?? "?")"
            hinged = carriedFacts(consultedBy: b, alternatives: possible, carried: carried)
            let rules = b.path.map(\.rule) + (possible.first?.rules ?? [])
            deciding = rules.last(where: { !isBookkeeping($0) }).map { [$0.rawValue] } ?? []
        }
        let rulesA = Set(a.path.map(\.rule) + fitting.flatMap(\.rules))
        var onlyB: [String] = []
        for rule in b.path.map(\.rule) + possible.flatMap(\.rules) where !rulesA.contains(rule) && !onlyB.contains(rule.rawValue) {
            onlyB.append(rule.rawValue)
        }
        return Change(
            exit: 0, line: 0, level: nil, exitName: "", first: ExportRecord.ModelSide(a.outcome),
            second: ExportRecord.ModelSide(b.outcome), recorded: "", rules: onlyB, decidingRules: deciding,
            hingedOn: hinged, settled: carried.mapValues(\.value), firstFits: fitting.map(caseText),
            secondPossible: possible.map(caseText), reason: reason)
    }

    /// Against an architectural profile: the recorded outcome is a divergence when no case
    /// of the architecture left by the carried facts produces it (by the same comparison as
    /// `check`: L0's transparent handling counts as "no #VMEXIT"). An architectural answer
    /// that forks with one case fitting the trace is not a divergence: KVM may be right.
    static func divergence(_ a: Decision, _ b: Decision, recorded: RecordedOutcome, carried: [Fact: Known<Bool>]) -> Change? {
        guard recorded.kind != .unknown else { return nil }
        let fitting = fittingAlternatives(a.outcome, recorded: recorded)
        let possible = resolvedAlternatives(b.outcome, facts: carried, fitting: fitting)
        guard !possible.isEmpty, b.outcome.kind != .undetermined || !(b.outcome.alternatives ?? []).isEmpty else { return nil }
        if possible.contains(where: { OutcomeComparison.differences(model: $0.outcome, recorded: recorded).isEmpty }) { return nil }
        func lastRule(_ path: [DecisionStep], _ extra: [RuleID]) -> RuleID? {
            (path.map(\.rule) + extra).last { !isBookkeeping($0) && $0 != Rule.level.id && $0 != Rule.apmLevel.id }
        }
        let kernelID = lastRule(a.path, fitting.first?.rules ?? [])
        let archID = lastRule(b.path, possible.count == 1 ? possible[0].rules : [])
        let kernelStep = a.path.last { $0.rule == kernelID }
        let archStep = b.path.last { $0.rule == archID }
        let kernelSource = kernelStep?.kernel ?? Rule.catalogue.first { $0.id == kernelID }?.kernel
        let archSource = archStep?.kernel ?? Rule.architecturalCatalogue.first { $0.id == archID }?.kernel
        let was = fitting.first?.outcome.description ?? "?"
        let now = possible.count == 1 ? possible[0].outcome.description : possible.map(caseText).joined(separator: " or ")
        let hinged = possible.count > 1 ? dependencies(of: possible) : carriedFacts(consultedBy: b, alternatives: possible, carried: carried)
        return Change(
            exit: 0, line: 0, level: nil, exitName: "", first: ExportRecord.ModelSide(a.outcome),
            second: ExportRecord.ModelSide(b.outcome), recorded: "", rules: [],
            decidingRules: [kernelID, archID].compactMap { $0?.rawValue }, hingedOn: hinged, settled: carried.mapValues(\.value),
            firstFits: fitting.map(caseText), secondPossible: possible.map(caseText),
            reason: "KVM: \(was); architecture: \(now)",
            kernelRule: kernelID.map { "\($0.rawValue) [\(kernelSource ?? "?")]" },
            architecturalRule: archID.map { "\($0.rawValue) [\(archSource ?? "?")]" })
    }

    /// KVM failed VMRUN on the check `message` names and the architecture does not fail on
    /// it (its decision for that check is not a VMRUN failure in every case).
    static func failedCheckDivergence(_ a: Decision, _ named: Decision, recorded: RecordedOutcome, message: String) -> Change? {
        let cases = named.outcome.kind == .undetermined ? (named.outcome.alternatives ?? []) : [Alternative(condition: "", outcome: named.outcome)]
        guard !cases.isEmpty, !cases.allSatisfy({ $0.outcome.kind == .vmrunFails && $0.outcome.check != nil }) else { return nil }
        // The named check is not the architecture's when no case fails VMRUN on it.
        guard named.path.contains(where: { $0.rule == Rule.apmFailureMessage.id && $0.answer.rawValue.hasPrefix("no") }) else { return nil }
        let fitting = fittingAlternatives(a.outcome, recorded: recorded)
        let kernelRule = ConsistencyCheck.check(forMessage: message).map(Rule.consistency)
        let archStep = named.path.first { $0.rule == Rule.apmFailureMessage.id }
        return Change(
            exit: 0, line: 0, level: nil, exitName: "", first: ExportRecord.ModelSide(a.outcome),
            second: ExportRecord.ModelSide(named.outcome), recorded: "", rules: [],
            decidingRules: [kernelRule?.id.rawValue, archStep?.rule.rawValue].compactMap { $0 }, hingedOn: named.outcome.missing ?? [],
            settled: [:], firstFits: fitting.map(caseText), secondPossible: cases.map(caseText),
            reason: "KVM fails VMRUN on \"\(message)\"; architecture: not a VMRUN consistency check (\(named.outcome.description))",
            kernelRule: kernelRule.map { "\($0.id.rawValue) [\($0.kernel)]" },
            architecturalRule: archStep.map { "\($0.rule.rawValue) [\($0.note ?? $0.kernel)]" })
    }

    /// `outcome if condition` (just the outcome for a determined one).
    private static func caseText(_ alternative: Alternative) -> String {
        alternative.condition.isEmpty ? alternative.outcome.description : "\(alternative.outcome.description) if \(alternative.condition)"
    }

    /// Steps that record how a fact was known, not a kernel decision.
    private static func isBookkeeping(_ rule: RuleID) -> Bool {
        rule == Rule.factKnown.id || rule.rawValue.hasPrefix("svm.hw.")
    }

    /// The alternatives of `outcome` that fit `recorded` (the outcome itself when
    /// determined); all of them when none fits or nothing was recorded.
    static func fittingAlternatives(_ outcome: Outcome, recorded: RecordedOutcome) -> [Alternative] {
        guard outcome.kind == .undetermined else { return [Alternative(condition: "", outcome: outcome)] }
        let alternatives = outcome.alternatives ?? []
        let fitting = alternatives.filter { OutcomeComparison.differences(model: $0.outcome, recorded: recorded).isEmpty }
        return fitting.isEmpty ? alternatives : fitting
    }

    /// The alternatives of `outcome` compatible with `facts` and with at least one of the
    /// first profile's `fitting` alternatives (the trace proves one of those holds); the
    /// outcome itself when determined; all of them when the facts exclude every one.
    static func resolvedAlternatives(_ outcome: Outcome, facts: [Fact: Known<Bool>], fitting: [Alternative] = []) -> [Alternative] {
        guard outcome.kind == .undetermined else { return [Alternative(condition: "", outcome: outcome)] }
        let alternatives = outcome.alternatives ?? []
        let worlds = (fitting.isEmpty ? [[:]] : fitting.map(\.assumptions)).map { world in
            FactID.closure(facts.merging(world.mapValues { Known($0, source: "first profile") }) { known, _ in known })
        }
        let compatible = alternatives.filter { alternative in
            worlds.contains { FactID.compatible(alternative.assumptions, with: $0) }
        }
        return compatible.isEmpty ? alternatives : compatible
    }

    /// The facts on which `alternatives` disagree (absent in some, or with both values).
    static func dependencies(of alternatives: [Alternative]) -> [String] {
        let keys = Set(alternatives.flatMap(\.assumptions.keys))
        return keys.filter { key in
            let values = alternatives.map { $0.assumptions[key] }
            return Set(values.map { $0.map { $0 ? 1 : 0 } ?? -1 }).count > 1
        }.map(\.description).sorted()
    }

    /// The carried facts the second decision's path or chosen alternative used.
    private static func carriedFacts(consultedBy decision: Decision, alternatives: [Alternative], carried: [Fact: Known<Bool>]) -> [String] {
        var used = Set<String>()
        for step in decision.path {
            for evidence in step.evidence where evidence.field.hasPrefix("fact ") {
                let id = String(evidence.field.dropFirst(5))
                if carried[Fact(parsing: id)] != nil || evidence.source?.contains("settled under") == true { used.insert(id) }
            }
        }
        for alternative in alternatives { used.formUnion(alternative.assumptions.keys.filter { carried[$0] != nil }.map(\.description)) }
        return used.sorted()
    }

    /// What an outcome does, for comparison: kind, exit code, vector.
    static func signature(_ outcome: Outcome) -> String {
        "\(outcome.kind.rawValue) \(outcome.exitCode?.rawValue ?? 0) \(outcome.vector ?? 0xff)"
    }
}
