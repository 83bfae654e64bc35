/// A yes/no fact the model forks on when an input is unknown, as data.
///
/// The one text form is the documented fact id (`description`, e.g. `rax.legal-page`,
/// `msrpm[0xc0000080].write`, `vmcb12.intercept[16]`); JSON writes a fact as that string
/// (a dictionary keyed by facts as an object keyed by the ids). Code builds facts through
/// ``FactID`` (`FactID.msrpm(msr, write: true)`), never by formatting text; text is parsed
/// back only where it comes from outside (scenarios, facts files, decoded JSON).
///
/// The form is canonical: ``init(parsing:)`` returns the typed case exactly when the text is
/// that case's `description`, and ``named(_:)`` otherwise, so equal texts are equal facts.
/// `named` is therefore only built by the parser (a literal such as `"cpu.skinit"` goes
/// through it, see `ExpressibleByStringLiteral`).
public enum Fact: Sendable, Hashable {
    // RAX, the operand of VMRUN/VMLOAD/VMSAVE.
    case raxPageAligned, raxBelowMaxPhysAddr, raxLegalPage, raxBacked, emulatorRejectsRAX, raxBits63to48Clear
    // A level's registers.
    case eferSVME(GuestLevel), paging(GuestLevel), svmEnabled(GuestLevel), cpl0(GuestLevel), rflagsIF(GuestLevel)
    // Plain facts of the vCPU, vmcb12, L0 and the host.
    case levelL2, inSMM, smmFromGuestMode, msrExitIsWrite, nmiSingleStep, vIntrMasking, hostVGIF, hsaveSet
    case nestedPaging, l1NPTWalkFaults, vmrunChecksPass
    case emulatorExecutesOnUD, l0EmulatesAtNPF, l0ShadowMMUResolves, hostDecodeAssists, hostGuestDebug
    case cr0WriteChangesOtherBits
    case vmcb12VirtualVMLoadVMSave, vlsUsableForL2, hostForceEmulationPrefix, l0RejectsCR4Write, l0RejectsXSETBV
    case gif, nmiMasked, interruptShadow, nestedRunPending, eventNeedsReinjection, l1VNMI, vIRQPriority, vNMIEnable, vNMIBlocking
    case l1RFLAGSTF
    // Facts only the architectural (APM) model forks on.
    case cr0WriteChangesNonTSMP, ownException, ownExceptionIntercepted, raisedForGuest, raxCheckBeforeIntercept, cpuSKINIT
    /// One VMRUN consistency check passes (`vmrun.check.ID`).
    case vmrunCheck(String)
    /// vmcb12's intercept bit `bit` (0–191).
    case intercept(bit: Int)
    /// L1's MSRPM bit for `msr` in one direction; `nil`: the MSR ECX names (ECX unknown).
    case msrpm(msr: UInt32?, write: Bool)
    /// L0's emulation rejects the MSR with #GP; `nil`: the MSR ECX names.
    case l0RejectsMSR(UInt32?)
    /// L1's IOPM bit for `port`.
    case iopm(port: UInt32)
    /// At least one IOPM bit of the ports `first`…`last` is set.
    case iopmAny(first: UInt32, last: UInt32)
    /// The instruction at RIP is VMRUN, VMLOAD, VMSAVE or VMMCALL (lowercase name).
    case instruction(String)
    /// The guest's CPUID has `feature`.
    case guestCPUID(GuestFeature)
    /// L0's exception bitmap intercepts `vector`.
    case l0InterceptsException(UInt8)
    /// A fact of the vGIF / pause-filter / Hyper-V rules (`Rules/FeatureEvents.swift`).
    case feature(FeatureFact)
    /// Any other id (a field's name as a fact, see ``FactID/of(field:)``); built by the parser.
    case named(String)

    /// The facts without payload, in the order of their ids' table.
    static let plainCases: [Fact] = [
        .raxPageAligned, .raxBelowMaxPhysAddr, .raxLegalPage, .raxBacked, .emulatorRejectsRAX, .raxBits63to48Clear,
        .levelL2, .inSMM, .smmFromGuestMode, .msrExitIsWrite, .nmiSingleStep, .vIntrMasking, .hostVGIF, .hsaveSet,
        .nestedPaging, .l1NPTWalkFaults, .vmrunChecksPass,
        .emulatorExecutesOnUD, .l0EmulatesAtNPF, .l0ShadowMMUResolves, .hostDecodeAssists, .hostGuestDebug,
        .cr0WriteChangesOtherBits, .cr0WriteChangesNonTSMP, .ownException, .ownExceptionIntercepted, .raisedForGuest,
        .raxCheckBeforeIntercept, .cpuSKINIT,
        .vmcb12VirtualVMLoadVMSave, .vlsUsableForL2, .hostForceEmulationPrefix, .l0RejectsCR4Write, .l0RejectsXSETBV,
        .gif, .nmiMasked, .interruptShadow, .nestedRunPending, .eventNeedsReinjection, .l1VNMI, .vIRQPriority, .vNMIEnable, .vNMIBlocking,
        .l1RFLAGSTF,
    ]

    private static let plainByID: [String: Fact] = Dictionary(uniqueKeysWithValues: plainCases.map { ($0.description, $0) })

    /// The instructions ``instruction(_:)`` names.
    static let instructions: Set<String> = ["vmrun", "vmload", "vmsave", "vmmcall"]

    /// Parses `text` into its canonical fact: the typed case whose id is exactly `text`, else
    /// ``named(_:)``. Never fails (whether the model knows the id is ``init(id:)``).
    public init(parsing text: String) {
        if let typed = Self.typed(text), typed.description == text {
            self = typed
        } else {
            self = .named(text)
        }
    }

    /// The fact with id `id` when the model knows that id (``FactID/isKnown(_:)``: a typo in
    /// a scenario's `assumptions` must not become an unused fact), else `nil`.
    public init?(id: String) {
        guard FactID.isKnown(id) else { return nil }
        self.init(parsing: id)
    }

    /// The typed case `text` names, if any (not yet checked to be canonical).
    private static func typed(_ text: String) -> Fact? {
        if let plain = plainByID[text] { return plain }
        if let feature = FeatureFact(rawValue: text) { return .feature(feature) }
        func inner(_ prefix: String, _ suffix: String = "]") -> Substring? {
            guard text.hasPrefix(prefix), text.hasSuffix(suffix), text.count >= prefix.count + suffix.count else { return nil }
            return text.dropFirst(prefix.count).dropLast(suffix.count)
        }
        func hex(_ digits: Substring) -> UInt32? {
            digits.hasPrefix("0x") ? UInt32(digits.dropFirst(2), radix: 16) : nil
        }
        if text.hasPrefix("l1.") || text.hasPrefix("l2.") {
            let level: GuestLevel = text.hasPrefix("l1.") ? .l1 : .l2
            switch text.dropFirst(3) {
            case "efer-svme": return .eferSVME(level)
            case "paging": return .paging(level)
            case "svm-enabled": return .svmEnabled(level)
            case "cpl0": return .cpl0(level)
            case "rflags-if": return .rflagsIF(level)
            default: return nil
            }
        }
        if let id = inner("vmrun.check.", ""), !id.isEmpty { return .vmrunCheck(String(id)) }
        if let bit = inner("vmcb12.intercept["), let n = Int(bit) { return .intercept(bit: n) }
        for (suffix, write) in [("].read", false), ("].write", true)] {
            if let msr = inner("msrpm[", suffix) {
                if msr == "ecx" { return .msrpm(msr: nil, write: write) }
                if let n = hex(msr) { return .msrpm(msr: n, write: write) }
                return nil
            }
        }
        if let msr = inner("l0.rejects-msr[") {
            if msr == "ecx" { return .l0RejectsMSR(nil) }
            return hex(msr).map { .l0RejectsMSR($0) }
        }
        if let range = inner("iopm[", "].any") {
            let parts = range.split(separator: "-", omittingEmptySubsequences: false)
            guard parts.count == 2, let first = hex(parts[0]), let last = hex(parts[1]) else { return nil }
            return .iopmAny(first: first, last: last)
        }
        if let port = inner("iopm[") { return hex(port).map { .iopm(port: $0) } }
        if let name = inner("insn.", ""), instructions.contains(String(name)) { return .instruction(String(name)) }
        if let feature = inner("guest.cpuid.", "") { return GuestFeature(rawValue: String(feature)).map { .guestCPUID($0) } }
        if let vector = inner("l0.intercepts-exception["), let n = UInt8(vector) { return .l0InterceptsException(n) }
        return nil
    }
}

extension Fact: CustomStringConvertible {
    /// The fact id (documented in docs/decide.md and docs/facts.md).
    public var description: String {
        switch self {
        case .raxPageAligned: "rax.page-aligned"
        case .raxBelowMaxPhysAddr: "rax.below-maxphyaddr"
        case .raxLegalPage: "rax.legal-page"
        case .raxBacked: "rax.backed"
        case .emulatorRejectsRAX: "emulator.rejects-rax"
        case .raxBits63to48Clear: "rax.bits-63-48-clear"
        case .eferSVME(let level): "\(level.factPrefix).efer-svme"
        case .paging(let level): "\(level.factPrefix).paging"
        case .svmEnabled(let level): "\(level.factPrefix).svm-enabled"
        case .cpl0(let level): "\(level.factPrefix).cpl0"
        case .rflagsIF(let level): "\(level.factPrefix).rflags-if"
        case .levelL2: "level.l2"
        case .inSMM: "vcpu.in-smm"
        case .smmFromGuestMode: "smm.from-guest-mode"
        case .msrExitIsWrite: "exit.msr-write"
        case .nmiSingleStep: "l0.nmi-singlestep"
        case .vIntrMasking: "vmcb12.v-intr-masking"
        case .hostVGIF: "host.vgif"
        case .hsaveSet: "l1.hsave-set"
        case .nestedPaging: "vmcb12.np-enable"
        case .l1NPTWalkFaults: "l1-npt.walk-faults"
        case .vmrunChecksPass: "vmrun.checks-pass"
        case .emulatorExecutesOnUD: "emulator.executes-on-ud"
        case .l0EmulatesAtNPF: "l0.emulates-at-npf"
        case .l0ShadowMMUResolves: "l0.shadow-mmu-resolves"
        case .hostDecodeAssists: "host.decode-assists"
        case .hostGuestDebug: "host.guest-debug"
        case .cr0WriteChangesOtherBits: "cr0-write.changes-other-bits"
        case .cr0WriteChangesNonTSMP: "cr0.write-changes-non-ts-mp"
        case .ownException: "insn.own-exception"
        case .ownExceptionIntercepted: "insn.own-exception.intercepted"
        case .raisedForGuest: "exception.raised-for-guest"
        case .raxCheckBeforeIntercept: "svm.rax-check-before-intercept"
        case .cpuSKINIT: "cpu.skinit"
        case .vmcb12VirtualVMLoadVMSave: "vmcb12.virtual-vmload-vmsave"
        case .vlsUsableForL2: "l2.vls-usable"
        case .hostForceEmulationPrefix: "host.force-emulation-prefix"
        case .l0RejectsCR4Write: "l0.rejects-cr4-write"
        case .l0RejectsXSETBV: "l0.rejects-xsetbv"
        case .gif: "vcpu.gif"
        case .nmiMasked: "vcpu.nmi-masked"
        case .interruptShadow: "vcpu.interrupt-shadow"
        case .nestedRunPending: "nested.run-pending"
        case .eventNeedsReinjection: "vcpu.event-needs-reinjection"
        case .l1VNMI: "l1.vnmi-usable"
        case .vIRQPriority: "vmcb12.v-irq-priority"
        case .vNMIEnable: "vmcb12.v-nmi-enable"
        case .vNMIBlocking: "vmcb12.v-nmi-blocking"
        case .l1RFLAGSTF: "l1.rflags-tf"
        case .vmrunCheck(let id): "vmrun.check.\(id)"
        case .intercept(let bit): "vmcb12.intercept[\(bit)]"
        case .msrpm(let msr, let write): "msrpm[\(msr.map { Hex.format($0) } ?? "ecx")].\(write ? "write" : "read")"
        case .l0RejectsMSR(let msr): "l0.rejects-msr[\(msr.map { Hex.format($0) } ?? "ecx")]"
        case .iopm(let port): "iopm[\(Hex.format(port))]"
        case .iopmAny(let first, let last): "iopm[\(Hex.format(first))-\(Hex.format(last))].any"
        case .instruction(let name): "insn.\(name)"
        case .guestCPUID(let feature): "guest.cpuid.\(feature.rawValue)"
        case .l0InterceptsException(let vector): "l0.intercepts-exception[\(vector)]"
        case .feature(let feature): feature.rawValue
        case .named(let id): id
        }
    }
}

extension Fact: Comparable {
    /// Facts sort by their ids (the order JSON keys and listings have always had).
    public static func < (lhs: Fact, rhs: Fact) -> Bool { lhs.description < rhs.description }
}

extension Fact: Codable, CodingKeyRepresentable {
    /// Decodes a fact from its id (any text: a JSON decision may name facts this model lacks).
    public init(from decoder: any Decoder) throws {
        self.init(parsing: try decoder.singleValueContainer().decode(String.self))
    }

    /// Encodes the fact as its id.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// The id as a dictionary key (a `[Fact: V]` encodes as an object keyed by ids).
    public var codingKey: any CodingKey { Key(stringValue: description) }

    /// The fact whose id is the key.
    public init?<T: CodingKey>(codingKey: T) { self.init(parsing: codingKey.stringValue) }
}

extension Fact: ExpressibleByStringInterpolation {
    /// A fact written as its id in code (`["cpu.skinit": true]`), parsed once (``init(parsing:)``).
    /// Model code names facts through ``FactID``; this keeps literal ids compiling.
    public init(stringLiteral value: String) { self.init(parsing: value) }
}

extension Dictionary where Key == Fact {
    /// The same dictionary keyed by fact ids (for text outputs and `[String: …]` APIs).
    public var byID: [String: Value] { Dictionary<String, Value>(uniqueKeysWithValues: map { ($0.key.description, $0.value) }) }
}
