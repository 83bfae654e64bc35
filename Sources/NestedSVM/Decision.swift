/// The model's answer for one event: the outcome and the ordered rule steps that led to it.
public struct Decision: Sendable, Equatable, Codable {
    /// One-line description of the event decided, e.g. `L2 exit msr (0x07c) info1 0x1`.
    public var subject: String
    /// What happens next.
    public var outcome: Outcome
    /// The rules visited, in order.
    public var path: [DecisionStep]
    /// Name of the kernel profile used (`6.1`, `6.12`, `upstream`).
    public var profile: String

    /// Builds a decision.
    public init(subject: String, outcome: Outcome, path: [DecisionStep], profile: String) {
        self.subject = subject
        self.outcome = outcome
        self.path = path
        self.profile = profile
    }

    /// The rule ids of `path`, in order.
    public var ruleIDs: [RuleID] { path.map(\.rule) }
}

/// One rule evaluation: which rule, what it asked, what it read, what it answered.
public struct DecisionStep: Sendable, Equatable, Codable {
    /// Stable dotted rule id.
    public var rule: RuleID
    /// The rule's one-line question.
    public var question: String
    /// The inputs the rule read.
    public var evidence: [Evidence]
    /// The rule's answer.
    public var answer: Answer
    /// The kernel function modelled, `file:function` under `arch/x86/kvm/`.
    public var kernel: String
    /// Version differences or other remarks, when the rule has any.
    public var note: String?

    /// Builds a step.
    public init(
        rule: RuleID, question: String, evidence: [Evidence], answer: Answer, kernel: String, note: String? = nil
    ) {
        self.rule = rule
        self.question = question
        self.evidence = evidence
        self.answer = answer
        self.kernel = kernel
        self.note = note
    }
}

/// One input a rule read: a field, its value (or that it is unknown) and where it came from.
public struct Evidence: Sendable, Equatable, Codable, CustomStringConvertible {
    /// Field name, e.g. `msrpm[0xc0000080].write`.
    public var field: String
    /// The value as text, or `nil` when the caller did not know it.
    public var value: String?
    /// Where the value came from (the caller's provenance, `event`, `profile 6.12`, …).
    public var source: String?

    /// Builds an evidence item.
    public init(field: String, value: String?, source: String? = nil) {
        self.field = field
        self.value = value
        self.source = source
    }

    /// `field = value` or `field = unknown`, with the source in brackets.
    public var description: String {
        let text = "\(field) = \(value ?? "unknown")"
        guard let source, !source.isEmpty else { return text }
        return "\(text) [\(source)]"
    }
}

/// A rule's answer: `yes`, `no`, `unknown`, or a short text such as `port 0x3ff size 2 in`.
public struct Answer: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible,
    ExpressibleByStringLiteral
{
    /// The answer text.
    public var rawValue: String
    /// Wraps an answer text.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// Wraps an answer text.
    public init(stringLiteral value: String) { self.rawValue = value }
    /// The question's condition holds.
    public static let yes: Answer = "yes"
    /// The condition does not hold.
    public static let no: Answer = "no"
    /// An input is missing; the decision becomes undetermined.
    public static let unknown: Answer = "unknown"
    /// `yes` or `no`.
    public static func from(_ flag: Bool) -> Answer { flag ? .yes : .no }
    /// The answer text.
    public var description: String { rawValue }
}
