/// A parsed BTF blob: the kernel's compact type information (`/sys/kernel/btf/vmlinux`, a
/// module's `/sys/kernel/btf/<module>`, or the `.BTF` section of a `.ko`).
///
/// The layout is the one `include/uapi/linux/btf.h` describes and
/// `Documentation/bpf/btf.rst` documents: a 24-byte header, a type section of variable-length
/// records and a string section of NUL-terminated names. Module BTF is *split* BTF: it
/// continues the type ids and string offsets of vmlinux's BTF, so its base must be loaded
/// first and passed as `base`.
///
/// Every read is bounds-checked; a blob that is truncated or inconsistent throws
/// ``BTFError`` and never traps. Records are decoded on demand from the stored bytes.
public struct BTF: Sendable {
    /// `BTF_MAGIC` (`include/uapi/linux/btf.h`).
    static let magic: UInt16 = 0xEB9F
    /// `BTF_VERSION` (`include/uapi/linux/btf.h`).
    static let version: UInt8 = 1
    /// Size of `struct btf_header` as version 1 defines it.
    static let headerSize = 24
    /// Size of `struct btf_type` (name_off, info, size/type).
    static let typeRecordSize = 12
    /// Pointer size on x86-64, the only architecture svmdbg captures on (BTF pointers carry no size).
    static let pointerSize = 8

    /// Where the blob came from, for messages.
    public let source: String
    /// Id of this blob's first type (1 for a base blob; the base's type count for split BTF).
    public let firstTypeID: Int
    /// Number of type records in this blob (not counting the base, nor void).
    public var ownTypeCount: Int { recordOffsets.count }
    /// One past the largest valid type id.
    public var typeIDLimit: Int { firstTypeID + recordOffsets.count }

    private let bytes: [UInt8]
    private let bigEndian: Bool
    private let typeStart: Int
    private let stringStart: Int
    private let stringLength: Int
    /// First string offset that is this blob's own (the base's string length for split BTF).
    private let firstStringOffset: Int
    /// Byte offset of each type record, relative to `typeStart`.
    private let recordOffsets: [UInt32]
    /// The base blob, at most one element (an array gives the recursion its indirection).
    private let baseStorage: [BTF]
    /// Ids of this blob's named structs, unions and typedefs, by name (built once; lookups by
    /// name are what member paths start with).
    private let aggregatesByName: [String: [Int]]

    /// The blob this one is split from, if any.
    public var base: BTF? { baseStorage.first }

    /// Parses `bytes`; `base` is vmlinux's BTF when `bytes` is a module's split BTF.
    public init(bytes: [UInt8], base: BTF? = nil, source: String = "") throws {
        self.source = source
        self.bytes = bytes
        self.baseStorage = base.map { [$0] } ?? []
        func fail(_ message: String) -> BTFError { BTFError(message, source: source) }
        guard bytes.count >= Self.headerSize else { throw fail("\(bytes.count) bytes is shorter than the BTF header") }
        let little = UInt16(bytes[0]) | UInt16(bytes[1]) << 8
        if little == Self.magic {
            bigEndian = false
        } else if little == Self.magic.byteSwapped {
            bigEndian = true
        } else {
            throw fail("no BTF magic (0xeb9f) at the start")
        }
        guard bytes[2] == Self.version else { throw fail("BTF version \(bytes[2]) (this reader knows version 1)") }
        let header = Reader(bytes: bytes, bigEndian: bigEndian)
        guard let headerLength = header.u32(at: 4).map(Int.init), headerLength >= Self.headerSize, headerLength <= bytes.count,
              let typeOffset = header.u32(at: 8).map(Int.init), let typeLength = header.u32(at: 12).map(Int.init),
              let stringOffset = header.u32(at: 16).map(Int.init), let stringLength = header.u32(at: 20).map(Int.init)
        else { throw fail("the BTF header is malformed") }
        let typeStart = headerLength + typeOffset
        let stringStart = headerLength + stringOffset
        guard typeStart <= bytes.count, typeLength <= bytes.count - typeStart,
              stringStart <= bytes.count, stringLength <= bytes.count - stringStart
        else { throw fail("the type or string section lies outside the \(bytes.count)-byte blob") }
        self.typeStart = typeStart
        self.stringStart = stringStart
        self.stringLength = stringLength
        if let base {
            firstTypeID = base.typeIDLimit
            firstStringOffset = base.firstStringOffset + base.stringLength
        } else {
            firstTypeID = 1
            firstStringOffset = 0
        }
        var offsets: [UInt32] = []
        var position = 0
        while position < typeLength {
            guard typeLength - position >= Self.typeRecordSize, let info = header.u32(at: typeStart + position + 4) else {
                throw fail("type record \(firstTypeID + offsets.count) is truncated")
            }
            let kind = BTFKind(rawValue: UInt8((info >> 24) & 0x1f))
            guard let trailing = kind.trailingBytes(vlen: Int(info & 0xffff)) else {
                throw fail("type record \(firstTypeID + offsets.count) has unknown kind \(kind.rawValue)")
            }
            let size = Self.typeRecordSize + trailing
            guard size <= typeLength - position else { throw fail("type record \(firstTypeID + offsets.count) is truncated") }
            offsets.append(UInt32(position))
            position += size
        }
        recordOffsets = offsets
        var index: [String: [Int]] = [:]
        let indexed: Set<UInt8> = [BTFKind.structure.rawValue, BTFKind.union.rawValue, BTFKind.typedef.rawValue]
        for (position, offset) in offsets.enumerated() {
            let start = typeStart + Int(offset)
            guard let info = header.u32(at: start + 4), indexed.contains(UInt8((info >> 24) & 0x1f)),
                  let nameOffset = header.u32(at: start), nameOffset != 0 else { continue }
            if Int(nameOffset) < firstStringOffset { continue }
            let relative = Int(nameOffset) - firstStringOffset
            guard relative < stringLength else { continue }
            var end = stringStart + relative
            while end < stringStart + stringLength, bytes[end] != 0 { end += 1 }
            guard end < stringStart + stringLength else { continue }
            index[String(decoding: bytes[(stringStart + relative)..<end], as: UTF8.self), default: []].append(firstTypeID + position)
        }
        aggregatesByName = index
    }

    // MARK: - Strings and records

    /// The NUL-terminated string at `offset` of the (combined) string section, or nil when
    /// the offset lies outside it.
    public func string(at offset: Int) -> String? {
        if offset < firstStringOffset { return base?.string(at: offset) }
        let relative = offset - firstStringOffset
        guard relative < stringLength else { return nil }
        let start = stringStart + relative
        let end = stringStart + stringLength
        var index = start
        while index < end, bytes[index] != 0 { index += 1 }
        guard index < end else { return nil }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    /// Whether the string at `offset` equals `name` (without building a String).
    func string(at offset: Int, equals name: [UInt8]) -> Bool {
        if offset < firstStringOffset { return base?.string(at: offset, equals: name) ?? false }
        let relative = offset - firstStringOffset
        guard relative >= 0, relative + name.count < stringLength else { return false }
        let start = stringStart + relative
        for (index, byte) in name.enumerated() where bytes[start + index] != byte { return false }
        return bytes[start + name.count] == 0
    }

    /// The type with `id` (from this blob or its base), or nil for void and invalid ids.
    public func type(_ id: Int) -> BTFType? {
        if id < firstTypeID { return base?.type(id) }
        let index = id - firstTypeID
        guard index < recordOffsets.count else { return nil }
        let start = typeStart + Int(recordOffsets[index])
        let reader = Reader(bytes: bytes, bigEndian: bigEndian)
        guard let nameOffset = reader.u32(at: start), let info = reader.u32(at: start + 4),
              let sizeOrType = reader.u32(at: start + 8) else { return nil }
        return BTFType(
            id: id, kind: BTFKind(rawValue: UInt8((info >> 24) & 0x1f)), nameOffset: Int(nameOffset),
            vlen: Int(info & 0xffff), kindFlag: info >> 31 == 1, sizeOrType: Int(sizeOrType),
            trailingStart: start + Self.typeRecordSize, owner: self)
    }

    /// Reads the `index`-th `u32` after a record's fixed part.
    func trailingWord(_ type: BTFType, _ index: Int) -> Int? {
        Reader(bytes: bytes, bigEndian: bigEndian).u32(at: type.trailingStart + 4 * index).map(Int.init)
    }

    /// Ids of every type (this blob and its base) named `name` with one of `kinds`.
    public func types(named name: String, kinds: Set<BTFKind> = [.structure, .union, .typedef]) -> [Int] {
        var found = base?.types(named: name, kinds: kinds) ?? []
        let indexedKinds: Set<BTFKind> = [.structure, .union, .typedef]
        if kinds.isSubset(of: indexedKinds) {
            // Names in the base's string section (a split blob may name its types with them) are
            // not in the index; the scan below finds those.
            found += (aggregatesByName[name] ?? []).filter { type($0).map { kinds.contains($0.kind) } ?? false }
            guard base != nil else { return found }
        }
        let wanted = Array(name.utf8)
        let reader = Reader(bytes: bytes, bigEndian: bigEndian)
        for (index, offset) in recordOffsets.enumerated() {
            let start = typeStart + Int(offset)
            guard let info = reader.u32(at: start + 4), kinds.contains(BTFKind(rawValue: UInt8((info >> 24) & 0x1f))),
                  let nameOffset = reader.u32(at: start), nameOffset != 0,
                  !(kinds.isSubset(of: indexedKinds) && Int(nameOffset) >= firstStringOffset),
                  string(at: Int(nameOffset), equals: wanted)
            else { continue }
            found.append(firstTypeID + index)
        }
        return found
    }

    /// Bounds-checked little- or big-endian reads.
    struct Reader {
        let bytes: [UInt8]
        let bigEndian: Bool

        func u32(at offset: Int) -> UInt32? {
            guard offset >= 0, offset <= bytes.count - 4 else { return nil }
            let value = UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16
                | UInt32(bytes[offset + 3]) << 24
            return bigEndian ? value.byteSwapped : value
        }
    }
}
