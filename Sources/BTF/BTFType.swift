/// One decoded BTF type record (`struct btf_type` and what follows it).
public struct BTFType: Sendable {
    /// The type id.
    public let id: Int
    /// The record's kind.
    public let kind: BTFKind
    /// `name_off` into the string section (0: anonymous).
    let nameOffset: Int
    /// `vlen`: number of members, enumerators, parameters or section entries.
    public let vlen: Int
    /// `kind_flag`: for struct/union, members carry bitfield sizes in their offset word.
    public let kindFlag: Bool
    /// The union of `size` and `type`, as stored.
    let sizeOrType: Int
    /// Byte offset of the kind-specific data in the owner's bytes.
    let trailingStart: Int
    /// The blob the record belongs to (it resolves names and further ids).
    let owner: BTF

    /// The type's name, or nil when anonymous.
    public var name: String? { nameOffset == 0 ? nil : owner.string(at: nameOffset) }

    /// The byte size stored in the record (int, struct, union, enum, float, datasec), else nil.
    public var storedSize: Int? {
        switch kind {
        case .int, .structure, .union, .enumeration, .enumeration64, .float, .dataSection: sizeOrType
        default: nil
        }
    }

    /// The type this one refers to (pointer target, typedef/qualifier target, function prototype, variable type), else nil.
    public var referencedType: Int? {
        switch kind {
        case .pointer, .typedef, .volatile, .const, .restrict, .typeTag, .function, .variable, .declarationTag: sizeOrType
        default: nil
        }
    }

    /// For an array: element type, index type and element count.
    public var array: (element: Int, index: Int, count: Int)? {
        guard kind == .array, let element = owner.trailingWord(self, 0), let index = owner.trailingWord(self, 1),
              let count = owner.trailingWord(self, 2) else { return nil }
        return (element, index, count)
    }

    /// For a struct or union: its members in declaration order (empty otherwise, or when truncated).
    public var members: [BTFMember] {
        guard kind == .structure || kind == .union else { return [] }
        var out: [BTFMember] = []
        out.reserveCapacity(vlen)
        for index in 0..<vlen {
            guard let nameOffset = owner.trailingWord(self, 3 * index), let type = owner.trailingWord(self, 3 * index + 1),
                  let offset = owner.trailingWord(self, 3 * index + 2) else { return out }
            // With kind_flag, bits 31:24 are the bitfield size and bits 23:0 the bit offset (btf.rst §2.2.4).
            let bitOffset = kindFlag ? offset & 0xff_ffff : offset
            let bitfieldSize = kindFlag ? offset >> 24 : 0
            out.append(BTFMember(
                name: nameOffset == 0 ? nil : owner.string(at: nameOffset), type: type, bitOffset: bitOffset,
                bitfieldSize: bitfieldSize == 0 ? nil : bitfieldSize))
        }
        return out
    }
}

extension BTFType {
    /// For a function prototype: its parameters in order (name nil when unnamed), else empty.
    public var parameters: [(name: String?, type: Int)] {
        guard kind == .functionPrototype else { return [] }
        var out: [(String?, Int)] = []
        for index in 0..<vlen {
            guard let nameOffset = owner.trailingWord(self, 2 * index), let type = owner.trailingWord(self, 2 * index + 1) else { return out }
            out.append((nameOffset == 0 ? nil : owner.string(at: nameOffset), type))
        }
        return out
    }
}

/// One member of a BTF struct or union.
public struct BTFMember: Sendable, Equatable {
    /// The member's name, or nil for an anonymous struct/union member.
    public let name: String?
    /// Its type id.
    public let type: Int
    /// Offset from the start of the containing struct, in bits.
    public let bitOffset: Int
    /// Width in bits when the member is a bitfield.
    public let bitfieldSize: Int?
}
