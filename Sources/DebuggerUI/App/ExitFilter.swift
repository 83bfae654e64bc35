import Replay

/// The exit-list filter: every set field must hold.
public struct ExitFilter: Sendable, Hashable, CustomStringConvertible {
    /// Only this vCPU.
    public var vcpu: Int?
    /// Only this level.
    public var level: Level?
    /// Only this exit reason (the index's name, see `ExitReasonNames.indexName(of:)`).
    public var reason: String?
    /// Only this exit code.
    public var exitCode: UInt64?
    /// Only this verdict.
    public var verdict: ExitVerdict?
    /// Only exits whose recorded or predicted outcome has this `check --json` name.
    public var outcome: String?

    /// Creates a filter (no arguments: no filter).
    public init(vcpu: Int? = nil, level: Level? = nil, reason: String? = nil, exitCode: UInt64? = nil, verdict: ExitVerdict? = nil,
                outcome: String? = nil) {
        self.vcpu = vcpu
        self.level = level
        self.reason = reason
        self.exitCode = exitCode
        self.verdict = verdict
        self.outcome = outcome
    }

    /// Whether nothing is filtered out.
    public var isEmpty: Bool { vcpu == nil && level == nil && reason == nil && exitCode == nil && verdict == nil && outcome == nil }

    /// The filter as a session predicate.
    public var predicate: ExitPredicate {
        var terms: [ExitPredicate] = []
        if let vcpu { terms.append(.vcpu(vcpu)) }
        if let level { terms.append(.level(level)) }
        if let reason { terms.append(.reason(reason)) }
        if let exitCode { terms.append(.exitCode(exitCode)) }
        if let verdict { terms.append(.verdict(verdict)) }
        if let outcome { terms.append(.outcome(outcome)) }
        switch terms.count {
        case 0: return .any
        case 1: return terms[0]
        default: return .all(terms)
        }
    }

    /// `vcpu 0 level L2 reason msr verdict mismatch`, or `none`.
    public var description: String {
        var parts: [String] = []
        if let vcpu { parts.append("vcpu \(vcpu)") }
        if let level { parts.append("level \(level)") }
        if let reason { parts.append("reason \(reason)") }
        if let exitCode { parts.append("code 0x" + String(exitCode, radix: 16)) }
        if let verdict { parts.append("verdict \(verdict.rawValue)") }
        if let outcome { parts.append("outcome \(outcome)") }
        return parts.isEmpty ? "none" : parts.joined(separator: " ")
    }
}
