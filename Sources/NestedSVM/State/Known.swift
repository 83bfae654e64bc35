/// A value the caller knows, together with where it came from.
///
/// The model never invents inputs: an input it does not have is `nil` (`Known<T>?`), and a
/// rule that needs it says so. Where the value came from is a ``Provenance``: data (an event
/// and its trace line, a host option, a facts file…) rendered as text (`source`) only when
/// shown, for example `"kvm_nested_intercepts line 65"`, `"--host"` or
/// `"inferred from line 90"`; NestedSVM only repeats it as evidence.
public struct Known<Value: Sendable & Equatable & Codable>: Sendable, Equatable, Codable {
    /// The known value.
    public var value: Value
    /// Where the value came from.
    public var provenance: Provenance

    /// Where the value came from, in words (``Provenance/text``).
    public var source: String {
        get { provenance.text }
        set { provenance = .text(newValue) }
    }

    /// Wraps `value`, citing `source` (free text).
    public init(_ value: Value, source: String) {
        self.value = value
        self.provenance = .text(source)
    }

    /// Wraps `value`, citing `provenance`.
    public init(_ value: Value, from provenance: Provenance) {
        self.value = value
        self.provenance = provenance
    }

    private enum CodingKeys: String, CodingKey { case value, source }

    /// Decodes `{"value": …, "source": "…"}`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        value = try container.decode(Value.self, forKey: .value)
        provenance = .text(try container.decode(String.self, forKey: .source))
    }

    /// Encodes `{"value": …, "source": "…"}`, the provenance as its text.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(value, forKey: .value)
        try container.encode(provenance.text, forKey: .source)
    }
}

/// Where a known value came from, as data. Values read from a trace cite an event and its
/// line without building text per event; the text (``text``) is made only when shown, and is
/// the same words callers used to write by hand (outputs keep their exact bytes).
public enum Provenance: Sendable, Hashable {
    /// Free text in the caller's words (a scenario's `source`, a facts file, an option).
    case text(String)
    /// An event of the trace: `"NAME line N"`; `name` is the event's trace name (a literal).
    case event(name: String, line: Int)
    /// An event of the trace with a note: `"NAME line N (NOTE)"`.
    case eventNote(name: String, line: Int, note: String)
    /// A `kvm_msr` event inside an exit, `" (#GP)"` when L0's emulation faulted.
    case msrEvent(line: Int, faulted: Bool)
    /// An exit with no `kvm_nested_vmexit` after its `kvm_exit`: L1 ran.
    case noNestedVMExitAfter(line: Int)
    /// Settled by the recorded outcome of the exit starting at `line`.
    case recordedOutcome(line: Int)
    /// Inferred from the recorded outcome of the exit starting at `line` (``InferenceLedger``).
    case inferred(line: Int)
    /// A host fact the trace proves (Replay's `HostInference`).
    case hostInference(HostInferenceReason)
    /// A lab manifest's key: `"manifest KEY"`.
    case manifest(key: String)

    /// The provenance in words.
    public var text: String {
        switch self {
        case .text(let text): text
        case .event(let name, let line): "\(name) line \(line)"
        case .eventNote(let name, let line, let note): "\(name) line \(line) (\(note))"
        case .msrEvent(let line, let faulted): "kvm_msr line \(line)" + (faulted ? " (#GP)" : "")
        case .noNestedVMExitAfter(let line): "no kvm_nested_vmexit follows kvm_exit line \(line)"
        case .recordedOutcome(let line): "recorded outcome of the exit at line \(line)"
        case .inferred(let line): "inferred: recorded outcome of the exit at line \(line)"
        case .hostInference(let reason): reason.text
        case .manifest(let key): "manifest \(key)"
        }
    }
}

/// Why the trace proves a host fact (``Provenance/hostInference(_:)``), with the lines cited.
public enum HostInferenceReason: Sendable, Hashable {
    /// L0 decoded the #GP of an exit (`kvm_emulate_insn` after a `GP excp` exit).
    case gpDecoded(exitLine: Int, line: Int)
    /// KVM decoded the instruction to skip it (no NRIPS).
    case skipDecoded(line: Int)
    /// A CR access was emulated without decode assists.
    case crEmulated(line: Int)
    /// A `GP excp` exit while L1 ran.
    case gpExitInL1(line: Int)
    /// An STGI or CLGI exit.
    case gifExit(stgi: Bool, line: Int)
    /// An NPF exit while L1 ran (nested paging on).
    case npfInL1(line: Int)
    /// A `PF excp` exit while L1 ran (shadow paging).
    case pfInL1(line: Int)

    /// The reason in words.
    public var text: String {
        switch self {
        case .gpDecoded(let exitLine, let line): "L0 decoded the #GP of the exit at line \(exitLine) (line \(line)): it intercepts #GP"
        case .skipDecoded(let line): "KVM decoded the instruction to skip it (line \(line))"
        case .crEmulated(let line): "CR access emulated without decode assists (line \(line))"
        case .gpExitInL1(let line): "GP excp exit while L1 ran (line \(line)): L0 intercepts #GP"
        case .gifExit(let stgi, let line): "\(stgi ? "stgi" : "clgi") exit at line \(line): L0 intercepts STGI/CLGI"
        case .npfInL1(let line): "npf exit while L1 ran (line \(line))"
        case .pfInL1(let line): "PF excp exit while L1 ran (line \(line)): shadow paging"
        }
    }
}
