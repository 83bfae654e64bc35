/// The bits of L1's MSR permission map (vmcb12 `msrpm_base_pa`) that the caller knows.
///
/// Sparse: an MSR that is not listed, or a direction left `nil`, is unknown — never assumed
/// clear. Layout per APM vol. 2 "MSR Intercepts" and `exit-codes.md` §5.1: three ranges of
/// 0x2000 MSRs, two bits per MSR, the even bit intercepts RDMSR, the odd bit WRMSR.
public struct MSRPermissionMap: Sendable, Equatable, Codable {
    /// Known intercept bits of one MSR.
    public struct Entry: Sendable, Equatable, Codable {
        /// The read (even) bit.
        public var read: Known<Bool>?
        /// The write (odd) bit.
        public var write: Known<Bool>?
        /// Builds an entry; `nil` means unknown.
        public init(read: Known<Bool>? = nil, write: Known<Bool>? = nil) {
            self.read = read
            self.write = write
        }
    }

    /// Known bits per MSR number.
    public var entries: [UInt32: Entry]

    /// An MSRPM with the given known entries.
    /// The bits of every MSR inside the map's ranges that ``entries`` does not list, when
    /// known (scenario/facts key `"*"`: e.g. L1 zeroed the map and set only the listed bits).
    public var otherBits: Entry?

    public init(entries: [UInt32: Entry] = [:], otherBits: Entry? = nil) {
        self.entries = entries
        self.otherBits = otherBits
    }

    /// The known bit for `msr` and direction, or `nil`.
    public func bit(msr: UInt32, write: Bool) -> Known<Bool>? {
        let listed = entries[msr].flatMap { write ? $0.write : $0.read }
        if let listed { return listed }
        guard let otherBits, Self.position(msr: msr, write: write) != nil else { return nil }
        return write ? otherBits.write : otherBits.read
    }

    /// One MSRPM range: MSRs `base ..< base + size` occupy bytes `byteOffset ..< byteOffset + 0x800`.
    public struct Range: Sendable, Equatable {
        /// First MSR of the range.
        public var base: UInt32
        /// Byte offset of the range inside the MSRPM.
        public var byteOffset: UInt32
    }

    /// MSRs per range (`SVM_MSRPM_RANGE` size, APM vol. 2 table "MSRPM byte offsets").
    public static let msrsPerRange: UInt32 = 0x2000
    /// The three covered ranges: 0–0x1FFF, 0xC0000000–0xC0001FFF, 0xC0010000–0xC0011FFF
    /// (`svm/svm.c` `msrpm_ranges`).
    public static let ranges: [Range] = [
        Range(base: 0x0000_0000, byteOffset: 0x000),
        Range(base: 0xC000_0000, byteOffset: 0x800),
        Range(base: 0xC001_0000, byteOffset: 0x1000),
    ]

    /// Byte offset and bit within that byte of `msr`'s read or write bit, or `nil` when the
    /// MSR lies outside the three ranges (`svm/svm.c:svm_msrpm_offset` plus the bit rule).
    public static func position(msr: UInt32, write: Bool) -> (byte: UInt32, bit: UInt32)? {
        for range in ranges where msr >= range.base && msr - range.base < msrsPerRange {
            let index = msr - range.base
            return (range.byteOffset + index / 4, 2 * (index % 4) + (write ? 1 : 0))
        }
        return nil
    }
}
