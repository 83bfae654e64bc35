/// Where a member path leads: one byte offset per pointer level, plus the final member's type.
///
/// `vcpu_svm.vmcb->save.cr0` gives `offsets == [offsetof(vcpu_svm, vmcb), offsetof(vmcb, save.cr0)]`:
/// read the pointer at the first offset of the object, then the value at the second offset
/// of what it points to — exactly a probe fetch argument `+second(+first(%di))`.
public struct BTFLocation: Sendable, Equatable {
    /// The path as given.
    public let path: String
    /// Byte offsets, one per level (`->` starts a new level).
    public let offsets: [Int]
    /// Bit position within the byte at the last offset (non-zero only for bitfields).
    public let bitShift: Int
    /// Width in bits when the final member is a bitfield.
    public let bitfieldSize: Int?
    /// The final member's type id.
    public let type: Int
    /// The final member's size in bytes.
    public let size: Int
}

extension BTF {
    /// Limit on typedef/qualifier chains and nesting while resolving (a malformed blob may loop).
    static let maxResolveDepth = 64

    /// The type `id` resolves to through typedefs and qualifiers (`const`, `volatile`, `restrict`, type tags).
    public func resolvingAliases(_ id: Int) -> BTFType? {
        var current = id
        for _ in 0..<Self.maxResolveDepth {
            guard let type = type(current) else { return nil }
            guard type.kind.isAlias, let next = type.referencedType else { return type }
            current = next
        }
        return nil
    }

    /// The size in bytes of type `id`, following aliases and arrays; nil for void, functions
    /// and malformed chains.
    public func size(of id: Int) -> Int? {
        size(of: id, depth: 0)
    }

    private func size(of id: Int, depth: Int) -> Int? {
        guard depth < Self.maxResolveDepth, let type = resolvingAliases(id) else { return nil }
        if let size = type.storedSize { return size }
        switch type.kind {
        case .pointer: return Self.pointerSize
        case .array:
            guard let array = type.array, let element = size(of: array.element, depth: depth + 1) else { return nil }
            let (product, overflow) = element.multipliedReportingOverflow(by: array.count)
            return overflow ? nil : product
        default: return nil
        }
    }

    /// The struct or union named `name` that has members (a forward declaration or an empty
    /// duplicate is skipped), looking through a typedef of that name.
    public func structure(named name: String) -> BTFType? {
        for id in types(named: name, kinds: [.structure, .union, .typedef]) {
            guard let type = resolvingAliases(id), type.kind == .structure || type.kind == .union, type.vlen > 0 else { continue }
            return type
        }
        return nil
    }

    /// The parameters of the function named `name` (its `BTF_KIND_FUNC` record's prototype), or
    /// nil when the BTF has no such function.
    public func functionParameters(_ name: String) -> [(name: String?, type: Int)]? {
        for id in types(named: name, kinds: [.function]) {
            guard let function = type(id), let proto = function.referencedType.flatMap(type), proto.kind == .functionPrototype else { continue }
            return proto.parameters
        }
        return nil
    }

    /// Resolves a member path such as `kvm_vcpu.arch.regs[0]`, `vcpu_svm.nested.ctl.intercepts[3]`
    /// or `vcpu_svm.vmcb->save.cr0`: the first component names a struct (or a typedef of one),
    /// `.` steps into a member (anonymous struct/union members are searched through), `[n]`
    /// indexes an array, and `->` follows a pointer member.
    public func location(of path: String) throws -> BTFLocation {
        func fail(_ message: String) -> BTFError { BTFError("\(path): \(message)", source: source) }
        let steps = try MemberPathSyntax.parse(path)
        guard case .member(let root)? = steps.first else { throw fail("a path starts with a struct name") }
        guard let start = structure(named: root) else { throw fail("no struct \(root) in the BTF") }
        var offsets: [Int] = []
        var current = 0
        var type = start.id
        var bitShift = 0
        var bitfield: Int?
        var size = start.storedSize ?? 0
        for step in steps.dropFirst() {
            guard bitfield == nil else { throw fail("cannot step into a bitfield") }
            switch step {
            case .member(let name):
                guard let container = resolvingAliases(type), container.kind == .structure || container.kind == .union else {
                    throw fail("\(name) is looked up in something that is not a struct or union")
                }
                guard let (member, bits) = member(named: name, in: container, depth: 0) else {
                    throw fail("\(container.name.map { "struct \($0)" } ?? "the anonymous struct") has no member \(name)")
                }
                current += bits / 8
                bitShift = bits % 8
                bitfield = member.bitfieldSize
                if bitfield == nil, bitShift != 0 { throw fail("member \(name) is not byte-aligned") }
                type = member.type
                guard let memberSize = bitfield != nil ? 0 : self.size(of: member.type) else { throw fail("member \(name) has no size") }
                size = memberSize
            case .index(let index):
                guard let container = resolvingAliases(type), let array = container.array else { throw fail("[\(index)] indexes something that is not an array") }
                guard index < array.count else { throw fail("index \(index) is outside the array of \(array.count)") }
                guard let elementSize = self.size(of: array.element) else { throw fail("the array element has no size") }
                current += index * elementSize
                type = array.element
                size = elementSize
            case .dereference:
                guard let pointer = resolvingAliases(type), pointer.kind == .pointer, let target = pointer.referencedType else {
                    throw fail("-> follows something that is not a pointer")
                }
                offsets.append(current)
                current = 0
                type = target
                size = self.size(of: target) ?? 0
            }
        }
        offsets.append(current)
        return BTFLocation(path: path, offsets: offsets, bitShift: bitShift, bitfieldSize: bitfield, type: type, size: size)
    }

    /// Finds `name` among the members of `container`, descending into anonymous members; returns the
    /// member and its bit offset from the start of `container`.
    private func member(named name: String, in container: BTFType, depth: Int) -> (BTFMember, Int)? {
        guard depth < Self.maxResolveDepth else { return nil }
        let members = container.members
        if let direct = members.first(where: { $0.name == name }) { return (direct, direct.bitOffset) }
        for anonymous in members where anonymous.name == nil {
            guard let inner = resolvingAliases(anonymous.type), inner.kind == .structure || inner.kind == .union,
                  let (found, bits) = member(named: name, in: inner, depth: depth + 1) else { continue }
            return (found, anonymous.bitOffset + bits)
        }
        return nil
    }
}

/// The steps of a member path (`a.b[2]->c`).
enum MemberPathSyntax: Equatable {
    case member(String)
    case index(Int)
    case dereference

    /// Splits `path` into steps; throws on empty names, unclosed brackets and stray characters.
    static func parse(_ path: String) throws -> [MemberPathSyntax] {
        func fail(_ message: String) -> BTFError { BTFError("\(path): \(message)", source: "") }
        var steps: [MemberPathSyntax] = []
        var name = ""
        var chars = Array(path)
        chars.append("\0")
        var index = 0
        func flush() throws {
            if !name.isEmpty { steps.append(.member(name)); name = "" }
        }
        while index < chars.count - 1 {
            let char = chars[index]
            switch char {
            case ".":
                try flush()
                guard let last = steps.last, last != .dereference, chars[index + 1] != "." else {
                    throw fail("a '.' must follow a member or an index and precede a name")
                }
            case "-" where chars[index + 1] == ">":
                try flush()
                guard let last = steps.last, last != .dereference else { throw fail("'->' must follow a member") }
                steps.append(.dereference)
                index += 1
            case "[":
                try flush()
                guard let close = chars[index...].firstIndex(of: "]"), let value = Int(String(chars[(index + 1)..<close])), value >= 0 else {
                    throw fail("'[' needs a non-negative index and ']'")
                }
                steps.append(.index(value))
                index = close
            default:
                guard char.isLetter || char.isNumber || char == "_" else { throw fail("unexpected '\(char)'") }
                name.append(char)
            }
            index += 1
        }
        try flush()
        guard let last = steps.last, last != .dereference else { throw fail("the path is empty or ends in '->'") }
        return steps
    }
}
