/// Appends tracefs-layout text to a byte buffer without building intermediate `String`s.
struct TraceTextWriter {
    /// The text written so far.
    var bytes: [UInt8] = []

    /// Appends `value` in decimal, right-aligned in `width` columns padded with `pad`.
    mutating func appendDecimal(_ value: UInt64, width: Int = 0, pad: UInt8 = UInt8(ascii: " ")) {
        var digits = 1
        var rest = value / 10
        while rest != 0 { digits += 1; rest /= 10 }
        if width > digits { bytes.append(contentsOf: repeatElement(pad, count: width - digits)) }
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: digits))
        var remaining = value
        var index = start + digits - 1
        while index >= start {
            bytes[index] = UInt8(ascii: "0") + UInt8(remaining % 10)
            remaining /= 10
            index -= 1
        }
    }

    /// Appends `value` as `0x` followed by lower-case hex digits, as C's `0x%x` prints it.
    mutating func appendHex(_ value: UInt64) {
        appendPaddedHex(value, digits: 1)
    }

    /// Appends `value` as `0x` and at least `digits` lower-case hex digits, zero-padded, as
    /// C's `0x%0<digits>llx` prints it.
    mutating func appendPaddedHex(_ value: UInt64, digits: Int) {
        bytes.append(UInt8(ascii: "0"))
        bytes.append(UInt8(ascii: "x"))
        var needed = 1
        var rest = value >> 4
        while rest != 0 { needed += 1; rest >>= 4 }
        for shift in stride(from: (max(needed, digits) - 1) * 4, through: 0, by: -4) {
            let nibble = shift >= 64 ? 0 : UInt8((value >> UInt64(shift)) & 0xf)
            bytes.append(nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10)
        }
    }

    /// Appends a string's UTF-8 bytes.
    mutating func append(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    /// Appends raw bytes.
    mutating func append(_ raw: some Sequence<UInt8>) {
        bytes.append(contentsOf: raw)
    }

    /// Appends one byte.
    mutating func append(byte: UInt8) {
        bytes.append(byte)
    }

    /// Appends a nanosecond timestamp as the kernel prints nanosecond clocks: seconds
    /// right-aligned in 5 columns, `.`, microseconds in 6 digits.
    ///
    /// The kernel rounds to the nearest microsecond first (`kernel/trace/trace_output.c:
    /// lat_print_timestamp` via `ns2usecs`, which adds 500 ns before dividing): the record at
    /// 6.242288656 s in the shipped 6.12 `minimal.dat` is `6.242289` in `minimal.trace`, line 13.
    mutating func appendTimestamp(nanoseconds: UInt64) {
        let microseconds = (nanoseconds &+ Self.halfMicrosecond) / Self.nanosecondsPerMicrosecond
        appendDecimal(microseconds / Self.microsecondsPerSecond, width: 5)
        append(byte: UInt8(ascii: "."))
        appendDecimal(microseconds % Self.microsecondsPerSecond, width: 6, pad: UInt8(ascii: "0"))
    }

    private static let nanosecondsPerMicrosecond: UInt64 = 1_000
    private static let halfMicrosecond: UInt64 = 500
    private static let microsecondsPerSecond: UInt64 = 1_000_000
}
