import Foundation

/// What a user knows about L1 and the guest that a trace never shows, read from a facts
/// file (`--facts FILE`, `docs/facts.md`): one or more entries, each a `decide` scenario's
/// `state` (without `level`, which is per exit), optionally scoped to one vmcb12 address
/// and/or one vCPU.
///
/// ```json
/// {"description": "...", "source": "lab/scenarios/msr-prot.scn",
///  "scope": {"vmcb12": "0x31000", "vcpu": 0},
///  "state": {"vmcb12": {"msrpm": {"*": {"read": 0, "write": 0}, "0x10": {"read": 1}}}},
///  "entries": [{"scope": {...}, "state": {...}, "source": "..."}]}
/// ```
///
/// Every value keeps its provenance: the leaf's own `source`, else the entry's or file's
/// `source`, else `facts FILE`.
public struct FactsFile: Sendable, Equatable {
    /// One scoped set of facts.
    public struct Entry: Sendable, Equatable {
        /// Applies only while vmcb12 is at this guest-physical address (L1's RAX at VMRUN).
        public var vmcb12Address: UInt64?
        /// Applies only to this vCPU id.
        public var vcpu: UInt32?
        /// Applies only from the `first`-th to the `last`-th VMRUN L1 executes on the vCPU
        /// (1-based, counted from the start of the trace; `last` nil: every later one): the
        /// VMRUN's own exit and every exit until the next VMRUN.
        public var vmruns: ClosedRange<Int>?
        /// L1 maps, in its NPT, the page of every #NPF #VMEXIT it receives at a GPA below this
        /// address (present, writable, user, executable) before it runs L2 again: the
        /// mapping is added to `state.vmcb12.npt` from the reflected #NPF's line on.
        public var npfMapsBelow: Known<UInt64>?
        /// Applies only to the exit of the `n`-th VMLOAD / VMSAVE L1 executes (1-based, like
        /// `vmruns`; the instruction's own exit or a #GP exit whose decoded instruction it is).
        public var vmloads: ClosedRange<Int>?
        public var vmsaves: ClosedRange<Int>?
        /// Whether the entry is scoped to VMLOAD or VMSAVE occurrences.
        public var instructionScoped: Bool { vmloads != nil || vmsaves != nil }
        /// Applies only to exits of this level (`"level": "L1"|"L2"`).
        public var level: GuestLevel?
        /// Applies only to exits at this guest RIP (the instruction the exit is for).
        public var rip: UInt64?
        /// The operand registers of the instruction an exit is for (`"operands": {"rax", "rcx"}`):
        /// with a `vmrun` scope, of those L1 VMRUNs only; with a `rip` scope, of the instruction there.
        public var rax: Known<UInt64>?
        public var rcx: Known<UInt64>?
        /// The VMRUN-scoped RAX (older name of ``rax`` for VMRUN entries).
        public var vmrunRAX: Known<UInt64>? { vmruns != nil ? rax : nil }
        /// The facts, in the model's terms.
        public var state: VCPUState
        /// Where the entry comes from (file and JSON path), for messages.
        public var origin: String

        /// Builds an entry.
        public init(vmcb12Address: UInt64? = nil, vcpu: UInt32? = nil, state: VCPUState, origin: String) {
            self.vmcb12Address = vmcb12Address
            self.vcpu = vcpu
            self.state = state
            self.origin = origin
        }

        /// Whether the entry applies to an exit with this vmcb12 address and vCPU: a scope the
        /// exit does not show (address, vCPU or VMRUN count unknown) does not apply.
        public func applies(
            vmcb12Address address: UInt64?, vcpu id: UInt32?, vmrun ordinal: Int? = nil, level exitLevel: GuestLevel? = nil,
            rip exitRIP: UInt64? = nil, l1Instruction: (kind: SVMInstruction, ordinal: Int)? = nil
        ) -> Bool {
            for (range, kind) in [(vmloads, SVMInstruction.vmload), (vmsaves, .vmsave)] {
                guard let range else { continue }
                guard let l1Instruction, l1Instruction.kind == kind, range.contains(l1Instruction.ordinal) else { return false }
            }
            if let level, exitLevel != level { return false }
            if let rip, exitRIP != rip { return false }
            if let vmcb12Address, address != vmcb12Address { return false }
            if let vcpu, id != vcpu { return false }
            if let vmruns {
                guard let ordinal, vmruns.contains(ordinal) else { return false }
            }
            return true
        }
    }

    /// The file's path, as given.
    public var path: String
    /// What the file describes.
    public var description: String
    /// The entries, in file order (top-level `state` first).
    public var entries: [Entry]

    /// Builds a facts file.
    public init(path: String, description: String = "", entries: [Entry]) {
        self.path = path
        self.description = description
        self.entries = entries
    }

    /// Reads and parses the file at `path`.
    public static func read(path: String) throws(ScenarioError) -> FactsFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ScenarioError(path: "$", message: "cannot read the file")
        }
        do {
            return try FactsFile(json: data, path: path)
        } catch {
            var located = error
            located.line = JSONLines.line(of: error.path, in: data) ?? 1
            throw located
        }
    }

    /// Parses the JSON text of a facts file.
    public init(json data: Data, path: String) throws(ScenarioError) {
        let root: JSONValue
        do {
            root = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw ScenarioError(path: "$", message: "not valid JSON")
        }
        guard case .object(let object) = root else { throw ScenarioError(path: "$", message: "expected an object") }
        self.path = path
        var defaultSource = "facts \(path)"
        if case .string(let source)? = object["source"] { defaultSource = "facts \(path): \(source)" }
        let top = ObjectReader(object: object, path: "$", source: defaultSource)
        try top.allowOnly(["description", "source", "scope", "state", "entries", "l1_npf_handler", "operands"])
        description = try top.string("description") ?? ""
        var entries: [Entry] = []
        if top.object["state"] != nil || top.object["scope"] != nil || top.object["l1_npf_handler"] != nil || top.object["operands"] != nil {
            entries.append(try Self.entry(top, path: path))
        }
        if let list = top.object["entries"] {
            guard case .array(let items) = list else { throw ScenarioError(path: "$.entries", message: "expected an array of entries") }
            for (index, item) in items.enumerated() {
                let itemPath = "$.entries[\(index)]"
                guard case .object(let inner) = item else { throw ScenarioError(path: itemPath, message: "expected an object") }
                var source = defaultSource
                if case .string(let own)? = inner["source"] { source = "facts \(path): \(own)" }
                let reader = ObjectReader(object: inner, path: itemPath, source: source)
                try reader.allowOnly(["description", "source", "scope", "state", "l1_npf_handler", "operands"])
                entries.append(try Self.entry(reader, path: path))
            }
        }
        guard !entries.isEmpty else { throw ScenarioError(path: "$", message: "no facts (give \"state\" or \"entries\")") }
        self.entries = entries
    }

    /// A VMRUN (VMLOAD, VMSAVE) scope: `N`, `"N"`, `"N-M"` or `"N-"` (from the N-th on), 1-based.
    static func vmrunRange(_ value: JSONValue, _ path: String) throws(ScenarioError) -> ClosedRange<Int> {
        let message = "expected a VMRUN ordinal N (1-based), \"N-M\" or \"N-\""
        if case .unsigned(let number) = value {
            guard number >= 1, number <= UInt64(Int32.max) else { throw ScenarioError(path: path, message: message) }
            return Int(number)...Int(number)
        }
        guard case .string(let text) = value else { throw ScenarioError(path: path, message: message) }
        let parts = text.split(separator: "-", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard (1...2).contains(parts.count), let first = Int(parts[0]), first >= 1 else { throw ScenarioError(path: path, message: message) }
        if parts.count == 1 { return first...first }
        if parts[1].isEmpty { return first...Int(Int32.max) }
        guard let last = Int(parts[1]), last >= first else { throw ScenarioError(path: path, message: message) }
        return first...last
    }

    private static func entry(_ reader: ObjectReader, path: String) throws(ScenarioError) -> Entry {
        var entry = Entry(state: VCPUState(), origin: "\(path) \(reader.path)")
        if let scope = try reader.object("scope") {
            try scope.allowOnly(["vmcb12", "vcpu", "vmrun", "vmload", "vmsave", "level", "rip"])
            if let (value, valuePath, _) = scope.leaf("vmload") { entry.vmloads = try vmrunRange(value, valuePath) }
            if let (value, valuePath, _) = scope.leaf("vmsave") { entry.vmsaves = try vmrunRange(value, valuePath) }
            if let (value, valuePath, _) = scope.leaf("rip") { entry.rip = try ObjectReader.number(value, valuePath) }
            if let (value, valuePath, _) = scope.leaf("level") {
                guard case .string(let text) = value, let level = GuestLevel(rawValue: text.uppercased()) else {
                    throw ScenarioError(path: valuePath, message: "expected \"L1\" or \"L2\"")
                }
                entry.level = level
            }
            if let (value, valuePath, _) = scope.leaf("vmcb12") { entry.vmcb12Address = try ObjectReader.number(value, valuePath) }
            if let (value, valuePath, _) = scope.leaf("vcpu") { entry.vcpu = try ObjectReader.number32(value, valuePath) }
            if let (value, valuePath, _) = scope.leaf("vmrun") { entry.vmruns = try vmrunRange(value, valuePath) }
        }
        if let handler = try reader.object("l1_npf_handler") {
            try handler.allowOnly(["maps_below"])
            entry.npfMapsBelow = try handler.known("maps_below", ObjectReader.number)
        }
        if let operands = try reader.object("operands") {
            try operands.allowOnly(["rax", "rcx"])
            guard entry.vmruns != nil || entry.rip != nil || entry.instructionScoped else {
                throw ScenarioError(path: operands.path, message: "operands belong to one instruction: scope the entry to a \"vmrun\", \"vmload\", \"vmsave\" or a \"rip\"")
            }
            entry.rax = try operands.known("rax", ObjectReader.number)
            entry.rcx = try operands.known("rcx", ObjectReader.number)
        }
        if let state = try reader.object("state") {
            entry.state = try Scenario.state(state)
            if entry.state.level != nil {
                throw ScenarioError(path: "\(state.path).level", message: "the level is per exit; leave it out of a facts file")
            }
        }
        return entry
    }
}

/// Where a JSON path (`$.entries[1].state.vmcb12.asd`) lies in a JSON text: the line of the
/// value (or of its key), for error messages with file and line. A path not found gives its
/// nearest present parent's line; text that is not JSON stops the scan where it breaks.
enum JSONLines {
    static func line(of target: String, in data: Data) -> Int? {
        let bytes = [UInt8](data)
        var lines: [String: Int] = [:]
        var line = 1
        // Open containers: object (path, last key) or array (path, index).
        var stack: [(object: Bool, path: String, key: String, index: Int)] = []
        var expectingKey = false
        var index = 0
        func valuePath() -> String {
            guard let top = stack.last else { return "$" }
            return top.object ? "\(top.path).\(top.key)" : "\(top.path)[\(top.index)]"
        }
        func record(_ path: String) { if lines[path] == nil { lines[path] = line } }
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\n"):
                line += 1
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let path = valuePath()
                record(path)
                stack.append((byte == UInt8(ascii: "{"), path, "", 0))
                expectingKey = byte == UInt8(ascii: "{")
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                _ = stack.popLast()
                expectingKey = false
            case UInt8(ascii: ","):
                if let top = stack.last {
                    if top.object { expectingKey = true } else { stack[stack.count - 1].index += 1 }
                }
            case UInt8(ascii: ":"):
                expectingKey = false
            case UInt8(ascii: "\""):
                var end = index + 1
                var text: [UInt8] = []
                while end < bytes.count, bytes[end] != UInt8(ascii: "\"") {
                    if bytes[end] == UInt8(ascii: "\\") { end += 1 }
                    if end < bytes.count { text.append(bytes[end]) }
                    end += 1
                }
                if expectingKey, stack.last?.object == true {
                    stack[stack.count - 1].key = String(decoding: text, as: UTF8.self)
                    record(valuePath())
                } else {
                    record(valuePath())
                }
                index = end
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                break
            default:
                record(valuePath())
                while index + 1 < bytes.count, !",}]\n \t\r".utf8.contains(bytes[index + 1]) { index += 1 }
            }
            index += 1
        }
        var path = target
        while true {
            if let found = lines[path] { return found }
            guard let cut = path.lastIndex(where: { $0 == "." || $0 == "[" }) else { return nil }
            path = String(path[..<cut])
        }
    }
}
