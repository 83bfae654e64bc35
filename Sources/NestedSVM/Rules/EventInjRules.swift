/// An event L1 injects into L2 with vmcb12's EVENTINJ, followed through L2's IDT.
///
/// KVM does not deliver it: `svm/nested.c:nested_vmcb02_prepare_control` copies vmcb12's
/// `event_inj`/`event_inj_err` into vmcb02 and the CPU delivers the event on VMRUN, without
/// any intercept check of the injected event itself. Only faults the delivery raises can
/// exit, through vmcb02's exception bitmap (L0's ∪ L1's, `svm/nested.c:recalc_intercepts`).
public struct EventInjectionDelivery: Sendable, Equatable, Codable {
    /// The state of one IDT gate as L2's IDT holds it.
    public enum Gate: String, Sendable, Equatable, Codable {
        /// The gate is present and within the IDT limit: the CPU delivers through it.
        case present
        /// The gate's P bit is clear: #NP.
        case notPresent = "not_present"
        /// The gate lies beyond the IDT limit: #GP.
        case beyondLimit = "beyond_limit"
        /// The IDT page holding the gate is not mapped in L2's page tables: #PF (error code 0,
        /// a supervisor read of a not-present page; CR2 = the gate's address).
        case unmapped
    }

    /// vmcb12's EVENTINJ (bit 31 valid, bits 10:8 type, 7:0 vector, bit 11 error code valid).
    public var eventInj: UInt32
    /// vmcb12's EVENTINJ_ERR, when given.
    public var errorCode: UInt32?
    /// Gates by vector; vectors not listed take `otherGates`, else are unknown.
    public var gates: [UInt8: Gate]
    /// The gate of every vector `gates` does not list (scenario key `"*"`), if stated.
    public var otherGates: Gate?

    /// Builds a delivery.
    public init(eventInj: UInt32, errorCode: UInt32? = nil, gates: [UInt8: Gate] = [:], otherGates: Gate? = nil) {
        self.eventInj = eventInj
        self.errorCode = errorCode
        self.gates = gates
        self.otherGates = otherGates
    }

    /// The injected vector.
    public var vector: UInt8 { UInt8(eventInj & 0xff) }
    /// The injection type (0 INTR, 2 NMI, 3 exception, 4 software interrupt).
    public var type: UInt32 { (eventInj & EventInjection.typeMask) >> 8 }
    /// The gate of `vector`, when known.
    public func gate(_ vector: UInt8) -> Gate? { gates[vector] ?? otherGates }
    /// `#DE` … for an exception, `interrupt 0x20`, `NMI`, `software interrupt 0x80`.
    public var eventDescription: String {
        switch type {
        case 2: "NMI"
        case 3: "exception \(ExceptionVector.name(vector))"
        case 4: "software interrupt \(Hex.format(vector))"
        default: "interrupt \(Hex.format(vector))"
        }
    }
}

extension Rule {
    /// Does the gate of the vector being delivered work?
    public static let eventInjGate = Rule(
        "svm.eventinj.gate", "does L2's IDT gate for the vector being delivered work (present, within the limit), or does the delivery fault (#NP, #GP, #PF)?",
        kernel: "svm/nested.c:nested_vmcb02_prepare_control")
    /// Does the fault of a delivery combine with the event into #DF or a triple fault?
    public static let eventInjDoubleFault = Rule(
        "svm.eventinj.double-fault", "does the fault combine with the event being delivered into #DF (contributory after contributory, any but a benign one after #PF) or, during #DF, a triple fault?",
        kernel: "x86.c:kvm_multiple_exception")
}

extension Rule {
    /// `apm`: the gate check as the architecture does it.
    public static let apmEventInjGate = apm(
        "eventinj.gate", "does the guest's IDT gate for the vector being delivered work, or does the delivery fault (#NP, #GP, #PF)?",
        source: "QEMU target/i386/tcg/seg_helper.c:do_interrupt64 (independent implementation: a gate beyond the IDT limit raises #GP, a not-present one #NP, error code vector × 8 + 2 + EXT)")
    /// `apm`: the double-fault classes and the triple fault in guest mode.
    public static let apmEventInjDoubleFault = apm(
        "eventinj.double-fault", "does the fault combine with the event being delivered into #DF or, during #DF, a triple fault (SHUTDOWN)?",
        source: "QEMU target/i386/tcg/excp_helper.c:raise_interrupt2/check_exception (independent implementation: the exception intercept is checked before the double-fault classes; a fault during #DF in guest mode is a SHUTDOWN #VMEXIT)")
}

extension Evaluator {
    /// The rule a step of the delivery records: KVM's, or under `apm` the architecture's.
    private var gateRule: Rule { profile.kind == .architectural ? .apmEventInjGate : .eventInjGate }
    private var doubleFaultRule: Rule { profile.kind == .architectural ? .apmEventInjDoubleFault : .eventInjDoubleFault }
    private var bitmapRule: Rule { profile.kind == .architectural ? .apmExceptionIntercept : .vmcb02ExceptionBitmap }

    /// Follows an EVENTINJ delivery: the event reaches L2 (an injection into L2, nothing
    /// reaches L0), or its gate faults and the fault exits through vmcb02's bitmap, is
    /// delivered, becomes #DF, or — during #DF — a triple fault (SHUTDOWN, which vmcb02 always
    /// intercepts: `svm/svm.c:init_vmcb`).
    mutating func decideEventInjection(_ delivery: EventInjectionDelivery) -> Outcome {
        let errorValid = delivery.eventInj & EventInjection.errorValidBit != 0
        let injected = Stage(
            vector: delivery.vector, type: delivery.type, errorCode: errorValid ? (delivery.errorCode ?? 0) : nil,
            description: delivery.eventDescription)
        return deliver(injected, delivery: delivery, info: delivery.eventInj, infoErr: errorValid ? (delivery.errorCode ?? 0) : 0)
    }

    /// One event on its way through L2's IDT.
    private struct Stage {
        var vector: UInt8
        var type: UInt32
        var errorCode: UInt32?
        var description: String

        /// The x86 exception class: 2 #DF, 1 contributory (#DE, #TS, #NP, #SS, #GP), 3 #PF,
        /// 0 benign (every other exception, interrupts, NMI, software interrupts).
        var exceptionClass: Int {
            guard type == 3 else { return 0 }
            switch vector {
            case 8: return 2
            case 0, 10, 11, 12, 13: return 1
            case 14: return 3
            default: return 0
            }
        }
    }

    /// Delivers `stage` through its gate (`info`/`infoErr`: the event as EXITINTINFO would
    /// hold it if a fault of its delivery exits).
    private mutating func deliver(_ stage: Stage, delivery: EventInjectionDelivery, info: UInt32, infoErr: UInt32) -> Outcome {
        let field = "L2 IDT gate \(Hex.format(stage.vector))"
        let evidence = [Evidence.event("delivering", stage.description), Evidence(field: field, value: delivery.gate(stage.vector)?.rawValue, source: "event.idt")]
        let handler = "CPU: vmcb02 EVENTINJ (svm/nested.c:nested_vmcb02_prepare_control copies vmcb12's)"
        func delivered(_ evaluator: inout Evaluator) -> Outcome {
            let detail = "delivered through L2's IDT; nothing reaches L0"
            switch stage.type {
            case 2: return .injectNMI(into: .l2, handler: handler, detail: detail)
            case 3: return .inject(stage.vector, errorCode: stage.errorCode, into: .l2, handler: handler, detail: detail)
            default: return .injectInterrupt(stage.vector, into: .l2, handler: handler, detail: detail)
            }
        }
        func faulting(_ gate: EventInjectionDelivery.Gate) -> (inout Evaluator) -> Outcome {
            { evaluator in
                let fault = Self.fault(of: gate)
                // Error code: the vector's IDT entry, IDT bit (1), EXT (0) clear only for a software
                // interrupt; a #PF on the IDT page: a supervisor read of a not-present page (0).
                let code = gate == .unmapped ? 0 : UInt32(stage.vector) << 3 | 2 | (stage.type == 4 ? 0 : 1)
                return evaluator.raiseDuringDelivery(fault, errorCode: code, during: stage, delivery: delivery, info: info, infoErr: infoErr)
            }
        }
        switch delivery.gate(stage.vector) {
        case .present?:
            record(gateRule, evidence, "yes: delivered")
            return delivered(&self)
        case let gate?:
            record(gateRule, evidence, Answer(rawValue: "no: \(gate.rawValue) → \(ExceptionVector.name(Self.fault(of: gate)))"))
            return faulting(gate)(&self)
        case nil:
            record(gateRule, evidence, .unknown)
            return fork(missing: [field], [
                Branch("\(field) is present and within the limit", [:], { delivered(&$0) }),
                Branch("\(field) is not present", [:], faulting(.notPresent)),
                Branch("\(field) lies beyond the IDT limit", [:], faulting(.beyondLimit)),
            ])
        }
    }

    /// The exception a broken gate raises: #NP, #GP, #PF.
    private static func fault(of gate: EventInjectionDelivery.Gate) -> UInt8 {
        switch gate {
        case .present, .notPresent: 11
        case .beyondLimit: ExceptionVector.generalProtection
        case .unmapped: ExceptionVector.pageFault
        }
    }

    /// The CPU raises `fault` while delivering `stage`: vmcb02's bitmap first (the #VMEXIT
    /// carries `stage` in exit_int_info), then the double-fault classes.
    private mutating func raiseDuringDelivery(
        _ fault: UInt8, errorCode: UInt32?, during stage: Stage, delivery: EventInjectionDelivery, info: UInt32, infoErr: UInt32
    ) -> Outcome {
        let exit = HardwareExit(
            exitCode: .exception(fault), exitInfo1: UInt64(errorCode ?? 0), exitIntInfo: info | EventInjection.validBit, exitIntInfoErr: infoErr)
        return vmcb02ExceptionIntercept(fault, intercepted: { $0.exitOfL2(exit) }, notIntercepted: { evaluator in
            let next = Stage(vector: fault, type: 3, errorCode: errorCode, description: "exception \(ExceptionVector.name(fault))")
            let combined: String
            switch (stage.exceptionClass, next.exceptionClass) {
            case (2, _): combined = "triple fault"
            case (1, 1), (3, 1), (3, 3): combined = "#DF"
            default: combined = "no"
            }
            evaluator.record(
                evaluator.doubleFaultRule, [.event("first", stage.description), .event("second", next.description)], Answer(rawValue: combined),
                note: "the CPU's classes (APM vol. 2 §8.2 text not at hand; the same table as x86.c:kvm_multiple_exception and QEMU target/i386/tcg/excp_helper.c:check_exception)")
            switch combined {
            case "triple fault":
                // vmcb02 always intercepts SHUTDOWN (L0's init_vmcb): L0 sees it first.
                return evaluator.exitOfL2(HardwareExit(exitCode: .shutdown))
            case "#DF":
                let doubleFault = Stage(vector: 8, type: 3, errorCode: 0, description: "exception #DF")
                let dfExit = HardwareExit(exitCode: .exception(8), exitInfo1: 0, exitIntInfo: info | EventInjection.validBit, exitIntInfoErr: infoErr)
                return evaluator.vmcb02ExceptionIntercept(8, intercepted: { $0.exitOfL2(dfExit) }, notIntercepted: {
                    $0.deliver(doubleFault, delivery: delivery, info: EventInjection.validBit | 3 << 8 | EventInjection.errorValidBit | 8, infoErr: 0)
                })
            default:
                let nextInfo = EventInjection.validBit | 3 << 8 | (errorCode == nil ? 0 : EventInjection.errorValidBit) | UInt32(fault)
                return evaluator.deliver(next, delivery: delivery, info: nextInfo, infoErr: errorCode ?? 0)
            }
        })
    }

    /// A #VMEXIT of L2 the delivery causes: KVM's path, or under `apm` the architecture's.
    private mutating func exitOfL2(_ exit: HardwareExit) -> Outcome {
        hardwareExitCode = exit.exitCode
        return profile.kind == .architectural ? decideArchitecturally(.hardwareExit(exit)) : decideL2Exit(exit)
    }

    /// Whether vmcb02's exception bitmap (L1's vmcb12 bit or L0's own) has `vector`; forks
    /// when unknown.
    private mutating func vmcb02ExceptionIntercept(
        _ vector: UInt8, intercepted: @escaping (inout Evaluator) -> Outcome, notIntercepted: @escaping (inout Evaluator) -> Outcome
    ) -> Outcome {
        let bit = InterceptBit.exceptionOffset + Int(vector)
        let l1 = l1Intercepts(bit)
        let (l0, l0Evidence) = profile.kind == .architectural
            ? (Known(false, source: "architecture: no L0"), [Evidence]())
            : l0InterceptsException(vector, level: .l2)
        let field = InterceptWords.fieldName(ofBit: bit)
        let evidence = [Evidence.flag(field, l1)] + l0Evidence
        switch (l1?.value, l0?.value) {
        case (false?, false?):
            record(bitmapRule, evidence, .no)
            return notIntercepted(&self)
        case (true?, _), (_, true?):
            record(bitmapRule, evidence, .yes)
            return intercepted(&self)
        default:
            record(bitmapRule, evidence, .unknown)
            return fork(missing: [l1 == nil ? field : "L0 intercepts \(ExceptionVector.name(vector))"], [
                Branch("vmcb02 intercepts \(ExceptionVector.name(vector))", l1 == nil ? [FactID.intercept(bit): true] : [:], intercepted),
                Branch("neither L0 nor L1 intercepts \(ExceptionVector.name(vector))", l1 == nil ? [FactID.intercept(bit): false] : [:], notIntercepted),
            ])
        }
    }
}
