/// The position of an event in a loaded trace's index, 0-based.
///
/// Wraps an `Int` so that an event position is never confused with a byte offset
/// or a line number. Displayed as `#1834`.
public struct EventNumber: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    public init(_ value: Int) { self.rawValue = value }
    public static func < (lhs: EventNumber, rhs: EventNumber) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { "#\(rawValue)" }
}
