/// A stable, dotted, lowercase identifier of one rule of the model, e.g. `svm.msr.msrpm-bit`.
///
/// Rule ids appear in `export` output, snapshots and tests; the wording of a rule may
/// change, its id changes only with a note in the changelog.
public struct RuleID: RawRepresentable, Hashable, Comparable, Sendable, Codable, CustomStringConvertible,
    ExpressibleByStringLiteral
{
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public static func < (lhs: RuleID, rhs: RuleID) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { rawValue }
}
