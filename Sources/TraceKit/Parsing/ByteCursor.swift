#if canImport(Glibc)
import Glibc
#endif

/// A forward reader over a range of bytes, for parsing trace text without `Character`s.
///
/// Every reading method either consumes what it read and returns it, or returns `nil`
/// (or `false`) and leaves the position unchanged.
struct ByteCursor {
    /// The bytes being read (the whole loaded text).
    let base: UnsafeBufferPointer<UInt8>
    /// Current position.
    var position: Int
    /// End of the readable range (exclusive).
    let end: Int

    /// A cursor over `base[start..<end]`.
    init(_ base: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) {
        self.base = base
        self.position = start
        self.end = end
    }

    /// Whether everything has been read.
    var isAtEnd: Bool { position >= end }

    /// The next byte, if any.
    var peek: UInt8? { position < end ? base[position] : nil }

    /// Whether a NUL byte lies between the position and the end.
    ///
    /// NUL never occurs in trace text; a line holding one is binary data (a crash dump, a
    /// file cut into the trace). Other control characters (ESC, BEL, C1, DEL, a lone CR)
    /// can be part of a real line: the kernel prints a task's comm as the task set it.
    var containsNUL: Bool {
        guard position < end, let pointer = base.baseAddress else { return false }
        return memchr(pointer + position, 0, end - position) != nil
    }

    /// Skips spaces and tabs; returns how many.
    @discardableResult
    mutating func skipSpaces() -> Int {
        let start = position
        while position < end, base[position] == ASCII.space || base[position] == ASCII.tab { position += 1 }
        return position - start
    }

    /// Consumes `literal` if the bytes here equal it.
    mutating func literal(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard end - position >= count else { return false }
        let pointer = literal.utf8Start
        var offset = 0
        while offset < count {
            if base[position + offset] != pointer[offset] { return false }
            offset += 1
        }
        position += count
        return true
    }

    /// Whether the bytes here equal `literal` (without consuming).
    func hasPrefix(_ literal: StaticString) -> Bool {
        var copy = self
        return copy.literal(literal)
    }

    /// Reads hex digits (optionally after `0x`) into a UInt64; nil if none or overflow.
    mutating func hex(allowPrefix: Bool = true) -> UInt64? {
        let start = position
        if allowPrefix { _ = literal("0x") }
        var value: UInt64 = 0
        var digits = 0
        while position < end, let digit = ASCII.hexValue(base[position]) {
            if value > (UInt64.max >> 4) { position = start; return nil }
            value = value << 4 | UInt64(digit)
            position += 1
            digits += 1
        }
        if digits == 0 { position = start; return nil }
        return value
    }

    /// Reads `0x` followed by hex digits.
    mutating func prefixedHex() -> UInt64? {
        let start = position
        guard literal("0x"), let value = hex(allowPrefix: false) else { position = start; return nil }
        return value
    }

    /// Reads an unsigned decimal number.
    mutating func decimal() -> UInt64? {
        let start = position
        var value: UInt64 = 0
        while position < end, ASCII.isDigit(base[position]) {
            let (product, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = product.addingReportingOverflow(UInt64(base[position] - ASCII.zero))
            if overflow1 || overflow2 { position = start; return nil }
            value = sum
            position += 1
        }
        return position == start ? nil : value
    }

    /// Reads an optionally negative decimal number.
    mutating func signedDecimal() -> Int64? {
        let start = position
        let negative = literal("-")
        guard let magnitude = decimal(), magnitude <= UInt64(Int64.max) else { position = start; return nil }
        return negative ? -Int64(magnitude) : Int64(magnitude)
    }

    /// Reads a run of non-space bytes.
    mutating func word() -> Range<Int>? {
        let start = position
        while position < end, base[position] != ASCII.space, base[position] != ASCII.tab { position += 1 }
        return position == start ? nil : start..<position
    }

    /// Finds the first occurrence of `literal` at or after the position, without consuming.
    func find(_ literal: StaticString) -> Int? {
        let count = literal.utf8CodeUnitCount
        guard count > 0, end - position >= count else { return nil }
        let pointer = literal.utf8Start
        var index = position
        while index + count <= end {
            if base[index] == pointer[0] {
                var offset = 1
                while offset < count, base[index + offset] == pointer[offset] { offset += 1 }
                if offset == count { return index }
            }
            index += 1
        }
        return nil
    }

    /// The bytes of `range` as a String (UTF-8, invalid bytes replaced).
    func string(_ range: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: base[range]), as: UTF8.self)
    }

    /// The rest of the range as a String.
    func rest() -> String { string(position..<end) }

    /// End of the range with trailing spaces dropped.
    var trimmedEnd: Int {
        var index = end
        while index > position, base[index - 1] == ASCII.space || base[index - 1] == ASCII.tab { index -= 1 }
        return index
    }
}

/// ASCII byte constants and classifiers.
enum ASCII {
    static let space: UInt8 = 0x20
    static let tab: UInt8 = 0x09
    static let newline: UInt8 = 0x0a
    static let carriageReturn: UInt8 = 0x0d
    static let zero: UInt8 = 0x30
    static let colon: UInt8 = 0x3a
    static let dash: UInt8 = 0x2d
    static let dot: UInt8 = 0x2e
    static let slash: UInt8 = 0x2f
    static let hash: UInt8 = 0x23
    static let openBracket: UInt8 = 0x5b
    static let closeBracket: UInt8 = 0x5d
    static let openParen: UInt8 = 0x28
    static let closeParen: UInt8 = 0x29

    /// `0`–`9`.
    @inline(__always) static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    /// Value of a hex digit (either case), else nil.
    @inline(__always) static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x61...0x66: byte - 0x61 + 10
        case 0x41...0x46: byte - 0x41 + 10
        default: nil
        }
    }

    /// Characters of an event or system name: `[A-Za-z0-9_]`.
    @inline(__always) static func isNameByte(_ byte: UInt8) -> Bool {
        isDigit(byte) || byte == 0x5f || (byte >= 0x61 && byte <= 0x7a) || (byte >= 0x41 && byte <= 0x5a)
    }
}
