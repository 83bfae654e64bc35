/// The kind of a BTF type record (`include/uapi/linux/btf.h`, `BTF_KIND_*`).
///
/// A kind this reader does not know still round-trips through `rawValue`; the reader refuses
/// only a record whose trailing data it cannot size.
public struct BTFKind: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The 5-bit kind field of `btf_type.info` (bits 24–28).
    public let rawValue: UInt8
    /// Wraps a raw kind.
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// `BTF_KIND_UNKN`: only type id 0 (void).
    public static let void = BTFKind(rawValue: 0)
    /// `BTF_KIND_INT`: followed by one `u32` of encoding, bit offset and bit count.
    public static let int = BTFKind(rawValue: 1)
    /// `BTF_KIND_PTR`.
    public static let pointer = BTFKind(rawValue: 2)
    /// `BTF_KIND_ARRAY`: followed by `struct btf_array`.
    public static let array = BTFKind(rawValue: 3)
    /// `BTF_KIND_STRUCT`: followed by `vlen` × `struct btf_member`.
    public static let structure = BTFKind(rawValue: 4)
    /// `BTF_KIND_UNION`: followed by `vlen` × `struct btf_member`.
    public static let union = BTFKind(rawValue: 5)
    /// `BTF_KIND_ENUM`: followed by `vlen` × `struct btf_enum`.
    public static let enumeration = BTFKind(rawValue: 6)
    /// `BTF_KIND_FWD`.
    public static let forward = BTFKind(rawValue: 7)
    /// `BTF_KIND_TYPEDEF`.
    public static let typedef = BTFKind(rawValue: 8)
    /// `BTF_KIND_VOLATILE`.
    public static let volatile = BTFKind(rawValue: 9)
    /// `BTF_KIND_CONST`.
    public static let const = BTFKind(rawValue: 10)
    /// `BTF_KIND_RESTRICT`.
    public static let restrict = BTFKind(rawValue: 11)
    /// `BTF_KIND_FUNC`.
    public static let function = BTFKind(rawValue: 12)
    /// `BTF_KIND_FUNC_PROTO`: followed by `vlen` × `struct btf_param`.
    public static let functionPrototype = BTFKind(rawValue: 13)
    /// `BTF_KIND_VAR`: followed by `struct btf_var`.
    public static let variable = BTFKind(rawValue: 14)
    /// `BTF_KIND_DATASEC`: followed by `vlen` × `struct btf_var_secinfo`.
    public static let dataSection = BTFKind(rawValue: 15)
    /// `BTF_KIND_FLOAT`.
    public static let float = BTFKind(rawValue: 16)
    /// `BTF_KIND_DECL_TAG`: followed by `struct btf_decl_tag`.
    public static let declarationTag = BTFKind(rawValue: 17)
    /// `BTF_KIND_TYPE_TAG`.
    public static let typeTag = BTFKind(rawValue: 18)
    /// `BTF_KIND_ENUM64`: followed by `vlen` × `struct btf_enum64`.
    public static let enumeration64 = BTFKind(rawValue: 19)

    /// Bytes that follow the 12-byte `struct btf_type` for a record of this kind with `vlen`
    /// entries, or nil for a kind this reader does not know.
    func trailingBytes(vlen: Int) -> Int? {
        switch rawValue {
        case 0, 2, 7, 8, 9, 10, 11, 12, 16, 18: return 0
        case 1, 14, 17: return 4
        case 3: return 12
        case 4, 5: return 12 * vlen
        case 6: return 8 * vlen
        case 13: return 8 * vlen
        case 15: return 12 * vlen
        case 19: return 12 * vlen
        default: return nil
        }
    }

    /// Qualifiers and aliases a member path looks through: typedef, volatile, const, restrict, type tag.
    var isAlias: Bool { [8, 9, 10, 11, 18].contains(rawValue) }

    /// The kernel's lowercase name (`struct`, `typedef`, …), or `kind N`.
    public var description: String {
        let names = ["void", "int", "ptr", "array", "struct", "union", "enum", "fwd", "typedef", "volatile", "const",
                     "restrict", "func", "func_proto", "var", "datasec", "float", "decl_tag", "type_tag", "enum64"]
        return Int(rawValue) < names.count ? names[Int(rawValue)] : "kind \(rawValue)"
    }
}
