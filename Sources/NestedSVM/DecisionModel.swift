/// The entry point of the model: decides events for one host under one kernel profile.
///
/// Pure: no I/O, no global state. `decision(for:state:)` returns the outcome and the rule
/// path; it never prints.
public struct DecisionModel: Sendable, Equatable {
    /// The kernel generation whose behaviour is predicted.
    public var profile: KernelProfile
    /// Facts about L0's host.
    public var host: HostFacts

    /// A model for `profile` on `host`.
    public init(profile: KernelProfile, host: HostFacts = HostFacts()) {
        self.profile = profile
        self.host = host
    }

    /// Decides `event` given what is known of the vCPU.
    public func decision(for event: Event, state: VCPUState) -> Decision {
        var evaluator = Evaluator(state: state, host: host, profile: profile)
        var outcome = evaluator.decide(event)
        if profile.kind != .architectural {
            outcome = evaluator.withSingleStepFollowUps(outcome, vmrunEvent: Self.isVMRUN(event, state: state))
        }
        return Decision(
            subject: Self.subject(of: event, state: state), outcome: outcome, path: evaluator.path,
            profile: profile.name)
    }

    /// Whether `event` is L1's VMRUN (its exit at L1, or its failure message).
    static func isVMRUN(_ event: Event, state: VCPUState) -> Bool {
        switch event {
        case .vmrunConsistencyFailure: return true
        case .hardwareExit(let exit): return exit.exitCode == .vmrun && state.level?.value != .l2
        default: return false
        }
    }

    /// One-line description of an event, e.g. `L2 exit msr (0x07c) info1 0x1 info2 0x0`.
    public static func subject(of event: Event, state: VCPUState) -> String {
        switch event {
        case .hardwareExit(let exit):
            let level = state.level?.value.description ?? "L?"
            var text = "\(level) exit \(exit.exitCode) info1 \(Hex.format(exit.exitInfo1)) info2 \(Hex.format(exit.exitInfo2))"
            if exit.exitIntInfo & EventInjection.validBit != 0 {
                text += " exit_int_info \(Hex.format(exit.exitIntInfo, width: 8))"
            }
            if let rip = exit.rip { text += " rip \(Hex.format(rip))" }
            return text
        case .pending(let pending):
            if state.level?.value == .l1 { return "pending for L1: \(pending.description)" }
            return "pending before L2 entry: \(pending.description)"
        case .vmrunConsistencyFailure(let message):
            return "L1 VMRUN rejected: kvm_nested_vmenter_failed \"\(message)\""
        case .guestException(let vector, let errorCode, _):
            return "L2 raises \(ExceptionVector.name(vector))" + (errorCode.map { " (\(Hex.format($0)))" } ?? "")
        case .feature(let feature):
            return feature.subject
        case .eventInjection(let delivery):
            return "L1 injects \(delivery.eventDescription) into L2 (EVENTINJ \(Hex.format(delivery.eventInj, width: 8)))"
        }
    }
}

extension PendingEvent: CustomStringConvertible {
    /// `exception #GP (0x0)`, `nmi`, …
    public var description: String {
        switch self {
        case .initSignal: "INIT"
        case .exception(let vector, let errorCode):
            "exception \(ExceptionVector.name(vector))" + (errorCode.map { " (\(Hex.format($0)))" } ?? "")
        case .smi: "SMI"
        case .nmi: "NMI"
        case .interrupt: "interrupt"
        case .tripleFault: "triple fault"
        case .virtualInterrupt(let vector): "virtual interrupt (V_IRQ)" + (vector.map { " vector \(Hex.format($0))" } ?? "")
        case .virtualNMI: "virtual NMI (V_NMI_PENDING)"
        case .simultaneous(let events): events.map(\.description).joined(separator: " + ")
        }
    }
}

/// Bits of the EVENTINJ / EXITINTINFO format (APM vol. 2 "Event Injection"; `SVM_EVTINJ_*`).
public enum EventInjection {
    /// Bit 31: valid.
    public static let validBit: UInt32 = 1 << 31
    /// Bits 10:8: type (0 INTR, 2 NMI, 3 exception, 4 software interrupt).
    public static let typeMask: UInt32 = 7 << 8
    /// Bit 11: error code valid.
    public static let errorValidBit: UInt32 = 1 << 11
}

/// Architectural register bits the rules test (APM vol. 2, "System Registers").
enum RegisterBit {
    /// EFER.SVME, bit 12.
    static let eferSVME: UInt64 = 1 << 12
    /// EFER.LME, bit 8.
    static let eferLME: UInt64 = 1 << 8
    /// EFER.LMA, bit 10.
    static let eferLMA: UInt64 = 1 << 10
    /// EFER.NX, bit 11.
    static let eferNX: UInt64 = 1 << 11
    /// EFER.FFXSR, bit 14.
    static let eferFFXSR: UInt64 = 1 << 14
    /// CR0.PE, bit 0.
    static let cr0PE: UInt64 = 1 << 0
    /// CR0.MP, bit 1.
    static let cr0MP: UInt64 = 1 << 1
    /// CR0.TS, bit 3.
    static let cr0TS: UInt64 = 1 << 3
    /// CR0.NW, bit 29.
    static let cr0NW: UInt64 = 1 << 29
    /// CR0.CD, bit 30.
    static let cr0CD: UInt64 = 1 << 30
    /// CR0.PG, bit 31.
    static let cr0PG: UInt64 = 1 << 31
    /// CR4.PAE, bit 5.
    static let cr4PAE: UInt64 = 1 << 5
    /// `SVM_CR0_SELECTIVE_MASK` = CR0.TS | CR0.MP (`svm/svm.h`): writes changing only these
    /// bits do not trigger the selective CR0 intercept.
    static let cr0SelectiveMask: UInt64 = cr0TS | cr0MP
    /// Segment attribute L (bit 9, `SVM_SELECTOR_L_SHIFT`).
    static let csL: UInt16 = 1 << 9
    /// Segment attribute D/B (bit 10, `SVM_SELECTOR_DB_SHIFT`).
    static let csDB: UInt16 = 1 << 10
    /// `int_ctl` V_INTR_MASKING, bit 24.
    static let vIntrMasking: UInt32 = 1 << 24
    /// `int_ctl` V_NMI_ENABLE, bit 26.
    static let vNMIEnable: UInt32 = 1 << 26
    /// `virt_ext` bit 1: virtual VMLOAD/VMSAVE enable.
    static let virtualVMLoadVMSave: UInt64 = 1 << 1
    /// Page size mask: bits 11:0 (`PAGE_MASK` complement).
    static let pageOffsetMask: UInt64 = 0xfff
}
