/// Trace timestamps as text: seconds with microseconds, as ftrace prints them.
public enum TimeText {
    /// `22.046641` for 22 046 641 000 ns (microsecond precision, as in the trace).
    public static func seconds(_ nanoseconds: UInt64) -> String {
        let seconds = nanoseconds / 1_000_000_000
        let micros = (nanoseconds % 1_000_000_000) / 1_000
        let fraction = String(micros)
        return "\(seconds)." + String(repeating: "0", count: max(0, 6 - fraction.count)) + fraction
    }

    /// Parses `22.046641` (up to 9 decimals) or `22` into nanoseconds.
    public static func nanoseconds(_ text: String) -> UInt64? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let whole = UInt64(parts[0]) else { return nil }
        var nanos: UInt64 = 0
        if parts.count == 2 {
            let fraction = parts[1]
            guard fraction.count <= 9, fraction.allSatisfy(\.isASCII), fraction.allSatisfy(\.isNumber) else { return nil }
            let padded = fraction + String(repeating: "0", count: 9 - fraction.count)
            guard let value = UInt64(padded) else { return nil }
            nanos = value
        }
        let (product, overflow) = whole.multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return nil }
        return product + nanos
    }
}
