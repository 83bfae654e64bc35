extension Rule {
    /// Which level was running decides which exit path KVM takes.
    public static let level = Rule(
        "svm.level", "which level was running when the exit occurred (guest mode)?",
        kernel: "svm/svm.c:svm_handle_exit")
}

extension Rule {
    /// vmcb02's exception bitmap is L0's ∪ L1's: an exception of L2 exits only if one has it.
    public static let vmcb02ExceptionBitmap = Rule(
        "svm.exception.vmcb02-bitmap", "does vmcb02 intercept the exception L2 raised (L0's or L1's bitmap)?",
        kernel: "svm/nested.c:recalc_intercepts")
    /// An event in flight at the exit is re-queued before the exit is handled.
    public static let exitIntInfo = Rule(
        "svm.exit-int-info.in-flight", "was an event being delivered when the exit occurred (exit_int_info valid)?",
        kernel: "svm/svm.c:svm_complete_interrupts")
}

extension Evaluator {
    /// Decides any event.
    mutating func decide(_ event: Event) -> Outcome {
        if profile.kind == .architectural { return decideArchitecturally(event) }
        switch event {
        case .hardwareExit(let exit):
            hardwareExitCode = exit.exitCode
            guard let level = state.level else {
                record(.level, [Evidence(field: "level", value: nil)], .unknown)
                return fork(missing: ["level"], [
                    Branch("L2 was running (guest mode)", [FactID.levelL2: true], { $0.decideL2Exit(exit) }),
                    Branch("L1 was running", [FactID.levelL2: false], { $0.decideL1Exit(exit) }),
                ])
            }
            record(.level, [Evidence(field: "level", value: level.value.rawValue, source: level.source)], Answer(rawValue: level.value.rawValue))
            switch level.value {
            case .l2: return decideL2Exit(exit)
            case .l1: return decideL1Exit(exit)
            }
        case .pending(let pending):
            if let level = state.level, level.value == .l1 {
                record(
                    .level, [Evidence(field: "level", value: level.value.rawValue, source: level.source)], "L1",
                    note: "events pending while L1 runs are delivered to L1; svm_check_nested_events applies only in guest mode")
                if case .exception(let vector, let errorCode) = pending {
                    return .inject(vector, errorCode: ExceptionVector.hasErrorCode(vector) ? (errorCode ?? 0) : nil, into: .l1, handler: "svm/svm.c:svm_inject_exception", detail: "kvm_inj_exception")
                }
                switch pending {
                case .interrupt:
                    return .injectInterrupt(nil, into: .l1, handler: "x86.c:kvm_check_and_inject_events", detail: "delivered to L1 when its RFLAGS.IF and GIF allow")
                case .nmi:
                    return .injectNMI(into: .l1, handler: "svm/svm.c:svm_inject_nmi", detail: "delivered to L1 unless NMIs are masked or GIF is clear")
                default:
                    return .l0Handles("x86.c:kvm_check_and_inject_events", level: .l1, detail: "\(pending.description) delivered to L1")
                }
            }
            return decidePending(pending, after: nil)
        case .vmrunConsistencyFailure(let message):
            return decideConsistencyFailureMessage(message)
        case .guestException(let vector, let errorCode, let bytes):
            return decideGuestException(vector: vector, errorCode: errorCode, bytes: bytes)
        }
    }

    /// An exception raised by L2's own code: a hardware exit iff vmcb02's exception bitmap
    /// (vmcb01 ∪ vmcb12, `svm/nested.c:recalc_intercepts`) has the vector, else delivered by
    /// the CPU inside L2.
    mutating func decideGuestException(vector: UInt8, errorCode: UInt32?, bytes: [UInt8]?) -> Outcome {
        let code = ExceptionVector.hasErrorCode(vector) ? (errorCode ?? 0) : nil
        let exit = HardwareExit(exitCode: .exception(vector), exitInfo1: UInt64(code ?? 0), instructionBytes: bytes)
        hardwareExitCode = exit.exitCode
        let bit = InterceptBit.exceptionOffset + Int(vector)
        let l1 = l1Intercepts(bit)
        let (l0, l0Evidence) = l0InterceptsException(vector, level: .l2)
        let delivered = Outcome.noExit(
            level: .l2, detail: "the CPU delivers \(ExceptionVector.name(vector)) through L2's IDT", handler: "svm/nested.c:recalc_intercepts")
        let field = InterceptWords.fieldName(ofBit: bit)
        let evidence = [Evidence.flag(field, l1)] + l0Evidence
        switch (l1?.value, l0?.value) {
        case (false?, false?):
            record(.vmcb02ExceptionBitmap, evidence, .no)
            return delivered
        case (true?, _), (_, true?):
            record(.vmcb02ExceptionBitmap, evidence, .yes)
            return decideL2Exit(exit)
        default:
            record(.vmcb02ExceptionBitmap, evidence, .unknown)
            return fork(missing: [l1 == nil ? field : "L0 intercepts \(ExceptionVector.name(vector))"], [
                Branch("vmcb02 intercepts \(ExceptionVector.name(vector))", l1 == nil ? [FactID.intercept(bit): true] : [:], { $0.decideL2Exit(exit) }),
                Branch("neither L0 nor L1 intercepts \(ExceptionVector.name(vector))", l1 == nil ? [FactID.intercept(bit): false] : [:], { _ in delivered }),
            ])
        }
    }

    /// A hardware exit while L2 runs: `nested_svm_exit_special`, then `nested_svm_intercept`,
    /// then L0's handler.
    mutating func decideL2Exit(_ exit: HardwareExit) -> Outcome {
        if exit.exitIntInfo & EventInjection.validBit != 0 { recordInFlightEvent(exit) }
        if let special = exitSpecial(exit) { return special }
        return l1Interception(exit)
    }

    /// Records the event `svm_complete_interrupts` re-queues: re-injected into L2 (`[reinjected]`)
    /// if L0 keeps the exit, handed to L1 in `exit_int_info` if the exit is reflected.
    mutating func recordInFlightEvent(_ exit: HardwareExit) {
        let info = exit.exitIntInfo
        let vector = UInt8(info & 0xff)
        let type = (info & EventInjection.typeMask) >> 8
        let kind: String
        switch type {
        case 0: kind = "interrupt \(Hex.format(vector))"
        case 2: kind = "NMI"
        case 3: kind = "exception \(ExceptionVector.name(vector))"
        case 4: kind = "software interrupt \(Hex.format(vector))"
        default: kind = "type \(type) vector \(Hex.format(vector))"
        }
        let error = info & EventInjection.errorValidBit != 0 ? " (\(Hex.format(exit.exitIntInfoErr)))" : ""
        record(
            .exitIntInfo, [.event("exit_int_info", Hex.format(info, width: 8)), .event("exit_int_info_err", Hex.format(exit.exitIntInfoErr))],
            Answer(rawValue: "yes: \(kind)\(error)"),
            note: "if L0 keeps the exit the event is re-injected into L2 ([reinjected]) and not converted to a #VMEXIT; if the exit is reflected, L1 receives it in exit_int_info")
    }
}
