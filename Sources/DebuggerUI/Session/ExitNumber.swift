/// The position of an exit in a session's exit list, 0-based.
///
/// Exits are the `kvm_exit` events of a trace in trace order; the session numbers them
/// 0, 1, 2, … as it indexes. Wrapping the `Int` keeps an exit position from being
/// confused with a line number or a byte offset. Displayed as `#1834`.
public struct ExitNumber: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The 0-based position.
    public var rawValue: Int
    /// Wraps a 0-based position.
    public init(rawValue: Int) { self.rawValue = rawValue }
    /// Wraps a 0-based position.
    public init(_ value: Int) { self.rawValue = value }
    /// Orders by position.
    public static func < (lhs: ExitNumber, rhs: ExitNumber) -> Bool { lhs.rawValue < rhs.rawValue }
    /// `#n`.
    public var description: String { "#\(rawValue)" }
}
