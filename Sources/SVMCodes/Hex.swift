/// Hex formatting shared by evidence, rendering, replay texts and scenario errors.
public enum Hex {
    /// `0x` followed by at least `width` lowercase hex digits.
    public static func format<T: BinaryInteger>(_ value: T, width: Int = 1) -> String {
        let digits = String(value, radix: 16)
        let pad = max(0, width - digits.count)
        return "0x" + String(repeating: "0", count: pad) + digits
    }

    /// `0x1f`, or `?` for nil.
    public static func short(_ value: UInt64?) -> String {
        guard let value else { return "?" }
        return "0x" + String(value, radix: 16)
    }
}
