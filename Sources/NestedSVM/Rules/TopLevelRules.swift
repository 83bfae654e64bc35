extension Rule {
    /// Which level was running decides which exit path KVM takes.
    public static let level = Rule(
        "svm.level", "which level was running when the exit occurred (guest mode)?",
        kernel: "svm/svm.c:svm_handle_exit")
}

extension Rule {
    /// An exit field the source did not state is unknown, not 0.
    public static let exitInfoUnknown = Rule(
        "svm.exit-info.unknown", "does the decision read an exit field the source did not state (exit_info_1/2, exit_int_info)?",
        kernel: "svm/svm.c:svm_handle_exit")
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
        case .hardwareExit(let exit) where exit.unknownFields?.isEmpty == false:
            return decideWithUnknownFields(exit)
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
                if let inert = virtualEventOutsideGuestMode(pending) { return inert }
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
        case .feature(let feature):
            return decideFeature(feature)
        case .eventInjection(let delivery):
            return decideEventInjection(delivery)
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

    /// A hardware exit with fields the source did not state. Exits whose handling reads
    /// exit_info_1 (MSR read/write bit, IOIO port/size/direction, #GP error code, CR/DR decode
    /// bits) fork (MSR: read or write) or stay undetermined; the others are decided, and
    /// reflected exit infos L1 would see are left unknown rather than predicted as 0. An
    /// unknown exit_int_info predicts no re-injection.
    mutating func decideWithUnknownFields(_ exit: HardwareExit) -> Outcome {
        var known = exit
        known.unknownFields = nil
        let code = exit.exitCode.rawValue
        let unknown = exit.unknownFields ?? []
        let evidence = unknown.map { Evidence(field: $0, value: nil) }
        if exit.isUnknown("exit_info_1") {
            if exit.exitCode == .msr {
                func branch(_ write: Bool) -> (inout Evaluator) -> Outcome {
                    { evaluator in
                        var variant = known
                        variant.exitInfo1 = write ? 1 : 0
                        var stated = exit
                        stated.exitInfo1 = variant.exitInfo1
                        stated.unknownFields = exit.unknownFields?.filter { $0 != "exit_info_1" }
                        return Self.forgetting(stated, evaluator.decide(.hardwareExit(variant)))
                    }
                }
                record(.exitInfoUnknown, evidence, "yes: exit_info_1 bit 0 (read or write)")
                return fork(missing: ["exit_info_1"], [
                    Branch("the MSR exit is a WRMSR (exit_info_1 = 1)", [FactID.msrExitIsWrite: true], branch(true)),
                    Branch("the MSR exit is a RDMSR (exit_info_1 = 0)", [FactID.msrExitIsWrite: false], branch(false)),
                ])
            }
            let decodes = exit.exitCode == .ioio || exit.exitCode == .exception(ExceptionVector.generalProtection) || code < 0x40
            if decodes {
                record(.exitInfoUnknown, evidence, "yes: the handler decodes exit_info_1")
                return .undetermined([], missing: ["exit_info_1"])
            }
        }
        let decided = decide(.hardwareExit(known))
        let forgotten = Self.forgetting(exit, decided)
        if forgotten != decided {
            record(.exitInfoUnknown, evidence, "yes: the infos L1 sees are unknown", note: "a reflected exit passes exit_info_1/2 on to L1 unchanged")
        }
        return forgotten
    }

    /// `outcome` with the exit infos L1 would see left unknown where `exit` did not state them.
    static func forgetting(_ exit: HardwareExit, _ outcome: Outcome) -> Outcome {
        var out = outcome
        if out.kind == .reflectToL1 {
            if exit.isUnknown("exit_info_1"), out.exitInfo1 == exit.exitInfo1 { out.exitInfo1 = nil }
            if exit.isUnknown("exit_info_2"), out.exitInfo2 == exit.exitInfo2 { out.exitInfo2 = nil }
        }
        out.alternatives = outcome.alternatives?.map {
            var alternative = $0
            alternative.outcome = forgetting(exit, $0.outcome)
            return alternative
        }
        return out
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
