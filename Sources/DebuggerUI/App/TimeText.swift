import TraceKit

/// Parses the timestamps typed at the go-to prompt.
public enum TimeText {
    /// `22.046641` (seconds with up to 9 decimals) as nanoseconds, or `@123456` as a raw
    /// counter value (for `counter`/`x86-tsc` trace clocks); nil if malformed.
    public static func timestamp(_ text: String) -> TraceTimestamp? {
        if text.hasPrefix("@") { return UInt64(text.dropFirst()).map { .counter($0) } }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !parts[0].isEmpty, parts[0].allSatisfy({ $0.isASCII && $0.isNumber }),
            let whole = Int64(parts[0])
        else { return nil }
        var nanos: Int64 = 0
        if parts.count == 2 {
            let fraction = parts[1]
            guard fraction.count <= 9, fraction.allSatisfy(\.isASCII), fraction.allSatisfy(\.isNumber) else { return nil }
            let padded = fraction + String(repeating: "0", count: 9 - fraction.count)
            guard let value = Int64(padded) else { return nil }
            nanos = value
        }
        let (product, overflow) = whole.multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return nil }
        return .nanoseconds(product + nanos)
    }
}
