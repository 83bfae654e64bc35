/// A value known (or not) at an exit, with where it came from.
///
/// `value == nil` means unknown: the pane shows it as unknown, never as zero.
public struct KnownValue: Sendable, Hashable {
    /// Register or field name, e.g. `RIP`, `RCX`, `EFER`.
    public var name: String
    /// The value as display text, or nil when the trace does not tell.
    public var value: String?
    /// Where the value came from, e.g. `kvm_exit line 75` or `kvm_msr line 62`; for unknown
    /// values, why it is unknown.
    public var provenance: String

    /// Creates a known or unknown value.
    public init(name: String, value: String?, provenance: String) {
        self.name = name
        self.value = value
        self.provenance = provenance
    }
}

/// One decoded VMCB field: raw value plus its meaning.
public struct DecodedField: Sendable, Hashable {
    /// Field name as the APM/KVM calls it, e.g. `exit_info_1`, `intercepts[3]`.
    public var name: String
    /// Raw value text, or nil when unknown at this point of the trace.
    public var raw: String?
    /// Decoded meaning, e.g. `MSR write`, `port 0x510 out 4B`, `hlt msr vmrun`; may be empty.
    public var decoded: String

    /// Creates a decoded field.
    public init(name: String, raw: String?, decoded: String) {
        self.name = name
        self.raw = raw
        self.decoded = decoded
    }
}

/// A titled group of decoded VMCB fields, e.g. `intercepts`, `exit`, `event injection`.
public struct FieldSection: Sendable, Hashable {
    /// Section title.
    public var title: String
    /// The fields, in display order.
    public var fields: [DecodedField]

    /// Creates a section.
    public init(title: String, fields: [DecodedField]) {
        self.title = title
        self.fields = fields
    }
}

/// One step of the model's decision path, ready to show (NestedSVM's `DecisionStep` as text).
public struct DecisionStepRow: Sendable, Hashable {
    /// Stable rule id, e.g. `svm.msr.msrpm-bit`.
    public var ruleID: String
    /// The question the rule asks.
    public var question: String
    /// The inputs it read, one per entry, e.g. `msrpm[0xc0000080].write = 0 [host facts]`;
    /// unknown inputs say `unknown`.
    public var evidence: [String]
    /// The answer, e.g. `yes`, `no`, `unknown`, `port 0x3ff size 2 in`.
    public var answer: String
    /// The kernel function the rule models, `file:function` under arch/x86/kvm/.
    public var kernelFunction: String
    /// A remark such as a version difference, if the rule has one.
    public var note: String?

    /// Creates a step.
    public init(
        ruleID: String, question: String, evidence: [String], answer: String, kernelFunction: String,
        note: String? = nil
    ) {
        self.ruleID = ruleID
        self.question = question
        self.evidence = evidence
        self.answer = answer
        self.kernelFunction = kernelFunction
        self.note = note
    }
}

/// Everything the detail panes show for the selected exit.
public struct ExitDetail: Sendable, Hashable {
    /// The exit this detail belongs to.
    public var number: ExitNumber
    /// Registers and other values known at this exit (unknown ones included, value nil).
    public var registers: [KnownValue]
    /// L1's VMCB12 control area as reconstructed, decoded, grouped by section.
    public var vmcb: [FieldSection]
    /// The model's decision path, step by step.
    public var decisionSteps: [DecisionStepRow]
    /// The model's outcome, one line, e.g. `reflect #VMEXIT(msr) to L1`.
    public var modelOutcome: String
    /// The recorded outcome, one line, e.g. `L1 got #VMEXIT(msr)`.
    public var recordedOutcome: String
    /// The trace evidence for the recorded outcome, one entry per line, e.g.
    /// `line 77 kvm_nested_vmexit_inject reason msr`.
    public var recordedEvidence: [String]
    /// Notes explaining a mismatch or why the exit is undetermined / not modelled.
    public var notes: [String]
    /// 1-based trace line numbers of this exit, from its `kvm_exit` to the next `kvm_entry`.
    public var rawLines: ClosedRange<Int>
    /// Lines in `rawLines` that belong to other threads (other vCPUs): the trace pane dims them.
    public var otherThreadLines: Set<Int> = []

    /// Creates a detail value.
    public init(
        number: ExitNumber, registers: [KnownValue], vmcb: [FieldSection], decisionSteps: [DecisionStepRow],
        modelOutcome: String, recordedOutcome: String, recordedEvidence: [String], notes: [String],
        rawLines: ClosedRange<Int>
    ) {
        self.number = number
        self.registers = registers
        self.vmcb = vmcb
        self.decisionSteps = decisionSteps
        self.modelOutcome = modelOutcome
        self.recordedOutcome = recordedOutcome
        self.recordedEvidence = recordedEvidence
        self.notes = notes
        self.rawLines = rawLines
    }
}

/// One raw trace line with its 1-based line number.
public struct RawLine: Sendable, Hashable {
    /// 1-based line number in the trace file.
    public var number: Int
    /// The line's text, without the newline.
    public var text: String

    /// Creates a raw line.
    public init(number: Int, text: String) {
        self.number = number
        self.text = text
    }
}
