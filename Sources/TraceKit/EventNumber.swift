/// The position of an event in a loaded trace's index, 0-based.
///
/// Wraps an `Int` so that an event position is never confused with a byte offset
/// or a line number. Displayed as `#1834`.
public struct EventNumber: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The 0-based position.
    public var rawValue: Int
    /// Wraps a position.
    public init(rawValue: Int) { self.rawValue = rawValue }
    /// Wraps a position.
    public init(_ value: Int) { self.rawValue = value }
    /// Orders by position.
    public static func < (lhs: EventNumber, rhs: EventNumber) -> Bool { lhs.rawValue < rhs.rawValue }
    /// `#<position>`, e.g. `#1834`.
    public var description: String { "#\(rawValue)" }
}
