/// An event timestamp as the trace printed it.
///
/// Nanosecond trace clocks (`local`, `global`, `mono`, `boot`, perf) print `sec.usec` (or
/// `sec.nsec`); counter clocks (`counter`, `x86-tsc`) print a bare integer. The two are
/// kept apart: a counter value is not a time.
public enum TraceTimestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Nanoseconds since the clock's epoch (converted from `sec.fraction`).
    case nanoseconds(Int64)
    /// A raw counter value (no unit).
    case counter(UInt64)

    /// The value as a signed integer in its own unit (nanoseconds or ticks).
    public var value: Int64 {
        switch self {
        case .nanoseconds(let ns): ns
        case .counter(let ticks): Int64(bitPattern: ticks)
        }
    }

    /// Orders by value; nanoseconds sort before counters when the kinds differ.
    public static func < (lhs: TraceTimestamp, rhs: TraceTimestamp) -> Bool {
        switch (lhs, rhs) {
        case (.nanoseconds(let a), .nanoseconds(let b)): a < b
        case (.counter(let a), .counter(let b)): a < b
        case (.nanoseconds, .counter): true
        case (.counter, .nanoseconds): false
        }
    }

    /// `sec.usec` with six decimals for nanosecond stamps, the integer for counters.
    public var description: String {
        switch self {
        case .nanoseconds(let ns):
            let seconds = ns / 1_000_000_000
            let micros = (ns % 1_000_000_000) / 1_000
            let fraction = String(micros)
            return "\(seconds)." + String(repeating: "0", count: max(0, 6 - fraction.count)) + fraction
        case .counter(let ticks):
            return String(ticks)
        }
    }
}
