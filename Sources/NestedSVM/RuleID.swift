/// A stable, dotted, lowercase identifier of one rule of the model, e.g. `svm.msr.msrpm-bit`.
///
/// Rule ids appear in `export` output, snapshots and tests; the wording of a rule may
/// change, its id changes only with a note in the changelog.
public struct RuleID: RawRepresentable, Hashable, Comparable, Sendable, Codable, CustomStringConvertible,
    ExpressibleByStringLiteral
{
    /// The dotted id text.
    public var rawValue: String
    /// Wraps an id text.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// Wraps an id literal, e.g. `"svm.msr.msrpm-bit"`.
    public init(stringLiteral value: String) { self.rawValue = value }
    /// Orders ids by their text.
    public static func < (lhs: RuleID, rhs: RuleID) -> Bool { lhs.rawValue < rhs.rawValue }
    /// The dotted id text.
    public var description: String { rawValue }
}
