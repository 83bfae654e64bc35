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
        /// exit does not show (address or vCPU unknown) does not apply.
        public func applies(vmcb12Address address: UInt64?, vcpu id: UInt32?) -> Bool {
            if let vmcb12Address, address != vmcb12Address { return false }
            if let vcpu, id != vcpu { return false }
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
        return try FactsFile(json: data, path: path)
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
        try top.allowOnly(["description", "source", "scope", "state", "entries"])
        description = try top.string("description") ?? ""
        var entries: [Entry] = []
        if top.object["state"] != nil || top.object["scope"] != nil {
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
                try reader.allowOnly(["description", "source", "scope", "state"])
                entries.append(try Self.entry(reader, path: path))
            }
        }
        guard !entries.isEmpty else { throw ScenarioError(path: "$", message: "no facts (give \"state\" or \"entries\")") }
        self.entries = entries
    }

    private static func entry(_ reader: ObjectReader, path: String) throws(ScenarioError) -> Entry {
        var entry = Entry(state: VCPUState(), origin: "\(path) \(reader.path)")
        if let scope = try reader.object("scope") {
            try scope.allowOnly(["vmcb12", "vcpu"])
            if let (value, valuePath, _) = scope.leaf("vmcb12") { entry.vmcb12Address = try ObjectReader.number(value, valuePath) }
            if let (value, valuePath, _) = scope.leaf("vcpu") { entry.vcpu = try ObjectReader.number32(value, valuePath) }
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
