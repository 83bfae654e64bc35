/// A named rule of the model: a stable id, the one question it answers and the kernel
/// function it models. Evaluating a rule records a `DecisionStep`.
public struct Rule: Sendable, Equatable, Hashable {
    /// Stable dotted id.
    public var id: RuleID
    /// The question, one line.
    public var question: String
    /// The modelled kernel function, `file:function` under `arch/x86/kvm/`.
    public var kernel: String

    /// Builds a rule.
    public init(_ id: RuleID, _ question: String, kernel: String) {
        self.id = id
        self.question = question
        self.kernel = kernel
    }

    /// A step of this rule with the given evidence and answer.
    public func step(_ evidence: [Evidence], _ answer: Answer, note: String? = nil) -> DecisionStep {
        DecisionStep(rule: id, question: question, evidence: evidence, answer: answer, kernel: kernel, note: note)
    }
}
