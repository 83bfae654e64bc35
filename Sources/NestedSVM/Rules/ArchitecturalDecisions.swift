/// The `apm` profile's decisions: what the CPU does for a bare-metal L1. An exit L0 took is
/// read as what happened in the guest (an instruction, an exception, an event); vmcb12 alone
/// decides whether L1 sees a #VMEXIT; an exit vmcb12 does not intercept does not exit.
///
/// Outcomes keep the model's kinds: `reflect_to_l1` (L1 gets the #VMEXIT), `inject_exception`
/// (the CPU delivers the exception through the IDT of the level named), `vmrun_fails` /
/// `vmrun_succeeds`, and `l0_handles` with handler `architecture: …` for "no #VMEXIT: the
/// level continues" (what KVM's transparent handling should look like to L1).
extension Evaluator {
    /// The fact "the instruction raised an exception of its own" (not an SVM decision).
    static let ownExceptionFact = FactID.ownException
    /// The fact "the exception was raised by the CPU for the guest's own instruction".
    static let guestOwnExceptionFact = FactID.raisedForGuest

    /// Decides any event architecturally.
    mutating func decideArchitecturally(_ event: Event) -> Outcome {
        switch event {
        case .hardwareExit(let exit):
            hardwareExitCode = exit.exitCode
            guard let level = state.level else {
                record(.apmLevel, [Evidence(field: "level", value: nil)], .unknown)
                return fork(missing: ["level"], [
                    Branch("L2 was running (guest mode)", [FactID.levelL2: true], { $0.apmL2Exit(exit) }),
                    Branch("L1 was running", [FactID.levelL2: false], { $0.apmL1Exit(exit) }),
                ])
            }
            record(.apmLevel, [Evidence(field: "level", value: level.value.rawValue, source: level.source)], Answer(rawValue: level.value.rawValue))
            return level.value == .l2 ? apmL2Exit(exit) : apmL1Exit(exit)
        case .pending(let pending):
            if let level = state.level, level.value == .l1 {
                record(.apmLevel, [Evidence(field: "level", value: "L1", source: level.source)], "L1", note: "L1 is the host: no intercepts apply")
                if case .exception(let vector, let errorCode) = pending {
                    return .inject(
                        vector, errorCode: ExceptionVector.hasErrorCode(vector) ? (errorCode ?? 0) : nil, into: .l1,
                        handler: "architecture: delivered through L1's IDT")
                }
                return Self.continues(.l1, "\(pending.description) delivered to L1 as on bare metal")
            }
            return apmPending(pending)
        case .vmrunConsistencyFailure(let message):
            return apmConsistencyFailure(message)
        case .guestException(let vector, let errorCode, let bytes):
            // L2's own exception (the event says so): vmcb12's exception bitmap alone routes it.
            let code = ExceptionVector.hasErrorCode(vector) ? (errorCode ?? 0) : nil
            let exit = HardwareExit(exitCode: .exception(vector), exitInfo1: UInt64(code ?? 0), instructionBytes: bytes)
            hardwareExitCode = exit.exitCode
            return apmRouteException(vector, exit: exit, level: .l2)
        case .feature(let feature):
            return apmFeature(feature)
        case .eventInjection(let delivery):
            // The same CPU delivery; vmcb12's bitmap alone routes a fault (no L0).
            return decideEventInjection(delivery)
        }
    }

    /// "No #VMEXIT: `level` continues."
    static func continues(_ level: GuestLevel, _ detail: String) -> Outcome {
        .l0Handles("architecture: no #VMEXIT", level: level, detail: detail)
    }

    /// The #VMEXIT L1 receives for `exit` as the CPU reported it.
    static func apmReflect(_ code: VMExitCode, info1: UInt64?, info2: UInt64?, detail: String? = nil) -> Outcome {
        .reflect(code, info1: info1, info2: info2, handler: "architecture: #VMEXIT to L1", detail: detail)
    }

    /// The CPUID feature an instruction exit needs, if any.
    static func requiredFeature(_ code: VMExitCode) -> GuestFeature? {
        switch code.rawValue {
        case VMExitCode.rdtscp.rawValue: .rdtscp
        case VMExitCode.invpcid.rawValue: .invpcid
        case VMExitCode.rdpru.rawValue: .rdpru
        case VMExitCode.skinit.rawValue: .skinit
        default: nil
        }
    }

    /// #UD for an instruction the CPU L1 sees lacks, else `then`.
    mutating func apmFeatureCheck(_ exit: HardwareExit, level: GuestLevel, then: @escaping (inout Evaluator) -> Outcome) -> Outcome {
        guard let feature = Self.requiredFeature(exit.exitCode) else { return then(&self) }
        let has = state.guest.features[feature]
        guard has?.value == false else {
            if has != nil { record(.apmCPUIDFeature, [.flag("L1 CPUID \(feature.rawValue)", has)], .yes) }
            return then(&self)
        }
        record(.apmCPUIDFeature, [.flag("L1 CPUID \(feature.rawValue)", has)], "no: #UD")
        return apmRaise(ExceptionVector.invalidOpcode, errorCode: nil, level: level, exit: exit)
    }

    // MARK: L2 exits

    /// An exit while L2 ran.
    mutating func apmL2Exit(_ exit: HardwareExit) -> Outcome {
        if let feature = Self.requiredFeature(exit.exitCode), state.guest.features[feature]?.value == false {
            return apmFeatureCheck(exit, level: .l2) { _ in .undetermined([], missing: ["unreachable"]) }
        }
        let code = exit.exitCode
        switch code.rawValue {
        case VMExitCode.exceptionBase.rawValue...VMExitCode.lastException.rawValue:
            return apmException(UInt8(code.rawValue - 0x40), exit: exit, level: .l2)
        case VMExitCode.invalid.rawValue:
            return apmVMCB02Invalid(exit)
        case VMExitCode.npf.rawValue:
            return apmNPF(exit)
        case VMExitCode.intr.rawValue, VMExitCode.nmi.rawValue, VMExitCode.smi.rawValue, VMExitCode.initSignal.rawValue,
            VMExitCode.vintr.rawValue:
            return apmL0Event(exit, level: .l2)
        case VMExitCode.vmrun.rawValue...VMExitCode.skinit.rawValue, VMExitCode.invlpga.rawValue:
            guard let instruction = SVMInstruction.allCases.first(where: { $0.exitCode == code }) else {
                return .undetermined([], missing: ["an SVM instruction for exit code \(code.description)"])
            }
            return apmL2SVMInstruction(instruction, exit: exit)
        case VMExitCode.readCR0.rawValue...0x3f:
            let bit = Int(code.rawValue)
            if code == .writeCR0 { return apmCR0Write(exit) }
            return branch(
                .apmInterceptCRDR, field: InterceptWords.fieldName(ofBit: bit), fact: FactID.intercept(bit), l1Intercepts(bit), extra: [.event("exit_code", code.description)],
                yes: { _ in Self.apmReflect(code, info1: exit.exitInfo1, info2: exit.exitInfo2) },
                no: { $0.apmExecutes(.l2, exit: exit) })
        case VMExitCode.cr0SelectiveWrite.rawValue:
            return branch(
                .apmIntercept, field: InterceptWords.fieldName(ofBit: InterceptBit.selectiveCR0), fact: FactID.intercept(InterceptBit.selectiveCR0), l1Intercepts(InterceptBit.selectiveCR0),
                yes: { _ in Self.apmReflect(code, info1: exit.exitInfo1, info2: exit.exitInfo2) },
                no: { $0.apmExecutes(.l2, exit: exit) })
        case VMExitCode.msr.rawValue:
            return apmMSR(exit)
        case VMExitCode.ioio.rawValue:
            return apmIO(exit)
        case VMExitCode.shutdown.rawValue:
            return branch(
                .apmIntercept, field: InterceptWords.fieldName(ofBit: InterceptBit.shutdown), fact: FactID.intercept(InterceptBit.shutdown), l1Intercepts(InterceptBit.shutdown),
                yes: { _ in Self.apmReflect(code, info1: exit.exitInfo1, info2: exit.exitInfo2) },
                no: { _ in .userspaceExit("architecture: shutdown", detail: "the CPU enters the shutdown state; with no L0 the machine stops") })
        case VMExitCode.intr.rawValue...VMExitCode.lastInterceptIdentity.rawValue:
            let bit = Int(code.rawValue)
            return branch(
                .apmIntercept, field: InterceptWords.fieldName(ofBit: bit), fact: FactID.intercept(bit), l1Intercepts(bit), extra: [.event("exit_code", code.description)],
                yes: { _ in Self.apmReflect(code, info1: exit.exitInfo1, info2: exit.exitInfo2) },
                no: { $0.apmExecutes(.l2, exit: exit) })
        default:
            record(.apmUnmodelled, [.event("exit_code", code.description)], .no)
            return .undetermined([], missing: ["an apm rule for exit code \(code.description)"])
        }
    }

    /// Physical interrupts, NMI, SMI, INIT and VINTR windows reached L0's host: L1's machine has
    /// no such event (its own virtual events are decided as pending events).
    mutating func apmL0Event(_ exit: HardwareExit, level: GuestLevel) -> Outcome {
        record(.apmL0Event, [.event("exit_code", exit.exitCode.description)], .yes)
        return Self.continues(level, "an event of L0's machine; L1's own interrupts are decided as pending events")
    }

    /// An instruction that vmcb12 does not intercept (or L1's own instruction): it completes, or
    /// raises an exception of its own, which is not an SVM decision.
    mutating func apmExecutes(_ level: GuestLevel, exit: HardwareExit) -> Outcome {
        // RDMSR/WRMSR fault only with #GP(0) (APM vol. 3 RDMSR/WRMSR: unimplemented MSR,
        // reserved bits); other instructions' own faults are left open.
        let ownVector: UInt8? = exit.exitCode == .msr ? ExceptionVector.generalProtection : nil
        record(
            .apmExecutes, [.event("exit_code", exit.exitCode.description)], .unknown,
            note: "L0 took this exit for itself; the instruction's own faults (e.g. #GP for an MSR the CPU lacks) follow its APM vol. 3 page, not SVM")
        let own: (inout Evaluator) -> Outcome = { evaluator in
            if let vector = ownVector { return evaluator.apmRaise(vector, errorCode: 0, level: level, exit: exit) }
            let delivered = Outcome(
                kind: .injectException, level: level, handler: "architecture: the instruction's own exception",
                detail: "vector and error code per the instruction's APM vol. 3 page")
            guard level == .l2 else { return delivered }
            return .undetermined([
                Alternative(condition: "vmcb12 does not intercept its vector", assumptions: [FactID.ownExceptionIntercepted: false], outcome: delivered),
                Alternative(
                    condition: "vmcb12 intercepts its vector", assumptions: [FactID.ownExceptionIntercepted: true],
                    outcome: Outcome(kind: .reflectToL1, handler: "architecture: #VMEXIT to L1", detail: "the exception's #VMEXIT (vector per the instruction)")),
            ], missing: ["the vector of the instruction's own exception"])
        }
        return fork(missing: ["whether the instruction faults by its own semantics"], [
            Branch("the instruction completes", [Self.ownExceptionFact: false]) { _ in
                Self.continues(level, "\(exit.exitCode.description) completes in \(level)")
            },
            Branch("the instruction raises an exception of its own", [Self.ownExceptionFact: true], own),
        ])
    }

    /// CR0 write: the CR0-write bit, else the selective CR0 write intercept.
    mutating func apmCR0Write(_ exit: HardwareExit) -> Outcome {
        let reflect = Self.apmReflect(.writeCR0, info1: exit.exitInfo1, info2: exit.exitInfo2)
        return branch(
            .apmInterceptCRDR, field: InterceptWords.fieldName(ofBit: InterceptBit.cr0Write), fact: FactID.intercept(InterceptBit.cr0Write), l1Intercepts(InterceptBit.cr0Write),
            yes: { _ in reflect },
            no: { evaluator in
                evaluator.branch(
                    .apmIntercept, field: InterceptWords.fieldName(ofBit: InterceptBit.selectiveCR0), fact: FactID.intercept(InterceptBit.selectiveCR0), evaluator.l1Intercepts(InterceptBit.selectiveCR0),
                    yes: { evaluator in
                        let changes: Known<Bool>? = {
                            guard let new = exit.writtenValue, let old = evaluator.state.l2.cr0 else { return nil }
                            return Known((new.value ^ old.value) & ~RegisterBit.cr0SelectiveMask != 0, source: "\(new.source); \(old.source)")
                        }()
                        return evaluator.branch(
                            .apmSelectiveCR0, field: "CR0 write changes bits other than TS/MP", fact: FactID.cr0WriteChangesNonTSMP, changes,
                            yes: { _ in Self.apmReflect(.cr0SelectiveWrite, info1: nil, info2: nil) },
                            no: { $0.apmExecutes(.l2, exit: exit) })
                    },
                    no: { $0.apmExecutes(.l2, exit: exit) })
            })
    }

    /// RDMSR/WRMSR: MSR_PROT, then the MSRPM.
    mutating func apmMSR(_ exit: HardwareExit) -> Outcome {
        let reflect = Self.apmReflect(.msr, info1: exit.exitInfo1, info2: exit.exitInfo2)
        let write = exit.exitInfo1 & 1 != 0
        return branch(
            .apmIntercept, field: InterceptWords.fieldName(ofBit: InterceptBit.msrProt), fact: FactID.intercept(InterceptBit.msrProt), l1Intercepts(InterceptBit.msrProt),
            yes: { evaluator in
                guard let rcx = exit.rcx else {
                    evaluator.record(.apmMSR, [Evidence(field: "RCX", value: nil)], .unknown)
                    let id = FactID.msrpm(nil, write: write)
                    return evaluator.fork(missing: ["RCX (MSR number)"], [
                        Branch("ECX names an MSR outside the MSRPM ranges, or its MSRPM \(write ? "write" : "read") bit is set", [id: true]) { _ in reflect },
                        Branch("ECX names an MSR inside the ranges whose MSRPM \(write ? "write" : "read") bit is clear", [id: false]) { $0.apmExecutes(.l2, exit: exit) },
                    ])
                }
                let msr = UInt32(truncatingIfNeeded: rcx.value)
                guard MSRPermissionMap.position(msr: msr, write: write) != nil else {
                    evaluator.record(.apmMSR, [Evidence(field: "MSR", value: Hex.format(msr), source: rcx.source)], "outside the MSRPM: always intercepted")
                    return reflect
                }
                return evaluator.branch(
                    .apmMSR, field: "msrpm[\(Hex.format(msr))].\(write ? "write" : "read")", fact: FactID.msrpm(msr, write: write), evaluator.state.vmcb12.msrpm.bit(msr: msr, write: write),
                    extra: [Evidence(field: "MSR", value: Hex.format(msr), source: rcx.source)],
                    yes: { _ in reflect }, no: { $0.apmExecutes(.l2, exit: exit) })
            },
            no: { $0.apmExecutes(.l2, exit: exit) })
    }

    /// IN/OUT/INS/OUTS: IOIO_PROT, then the IOPM bit of every byte accessed.
    mutating func apmIO(_ exit: HardwareExit) -> Outcome {
        let reflect = Self.apmReflect(.ioio, info1: exit.exitInfo1, info2: exit.exitInfo2)
        return branch(
            .apmIntercept, field: InterceptWords.fieldName(ofBit: InterceptBit.ioioProt), fact: FactID.intercept(InterceptBit.ioioProt), l1Intercepts(InterceptBit.ioioProt),
            yes: { evaluator in
                let io = IOIOExitInfo(exit.exitInfo1)
                guard [1, 2, 4].contains(io.size) else {
                    evaluator.record(.apmIO, [.event("exit_info_1", Hex.format(exit.exitInfo1))], .unknown, note: "hardware reports only sizes 1, 2 and 4")
                    return .undetermined([], missing: ["a valid IOIO size in exit_info_1"])
                }
                let ports = (0..<UInt32(io.size)).map { io.port + $0 }
                let bits = ports.map { (port: $0, bit: evaluator.state.vmcb12.iopm.bit(port: $0)) }
                let evidence = bits.map { Evidence.flag("iopm[\(Hex.format($0.port))]", $0.bit) }
                if bits.contains(where: { $0.bit?.value == true }) {
                    evaluator.record(.apmIO, evidence, .yes)
                    return reflect
                }
                let unknown = bits.filter { $0.bit == nil }.map(\.port)
                if unknown.isEmpty {
                    evaluator.record(.apmIO, evidence, .no)
                    return evaluator.apmExecutes(.l2, exit: exit)
                }
                evaluator.record(.apmIO, evidence, .unknown)
                var clear: [Fact: Bool] = [:]
                for port in unknown { clear[FactID.iopm(port)] = false }
                let names = unknown.map { "iopm[\(Hex.format($0))]" }
                let anySet: [Fact: Bool] = unknown.count == 1
                    ? [FactID.iopm(unknown[0]): true]
                    : [FactID.iopmAny(unknown[0], unknown[unknown.count - 1]): true]
                return evaluator.fork(missing: names, [
                    Branch(unknown.count == 1 ? "\(names[0]) is set" : "any of \(names.joined(separator: ", ")) is set", anySet) { _ in reflect },
                    Branch(unknown.count == 1 ? "\(names[0]) is clear" : "all of \(names.joined(separator: ", ")) are clear", clear) { $0.apmExecutes(.l2, exit: exit) },
                ])
            },
            no: { $0.apmExecutes(.l2, exit: exit) })
    }

    /// A nested page fault: L1's when L1 uses nested paging and its tables fault, else L0's.
    mutating func apmNPF(_ exit: HardwareExit) -> Outcome {
        branch(
            .apmNPF, field: "vmcb12 NP_ENABLE", fact: FactID.nestedPaging, state.vmcb12.nestedPaging,
            yes: { evaluator in
                evaluator.branch(
                    .apmNPF, field: "L1 NPT walk faults", fact: FactID.l1NPTWalkFaults, exit.l1NPTWalkFaults,
                    yes: { _ in Self.apmReflect(.npf, info1: nil, info2: exit.exitInfo2, detail: "L1's nested page tables fault for this guest-physical address") },
                    no: { $0.apmL0Event(exit, level: .l2) })
            },
            no: { $0.apmL0Event(exit, level: .l2) })
    }

    /// The CPU rejected vmcb02. If vmcb12's EVENTINJ is illegal the CPU would have rejected
    /// vmcb12 the same way (L1's VMRUN fails, L1 sees VMEXIT_INVALID); otherwise the rejected
    /// state may be L0's own.
    mutating func apmVMCB02Invalid(_ exit: HardwareExit) -> Outcome {
        let invalid = Self.apmReflect(.invalid, info1: 0, info2: 0, detail: "L1's VMRUN of vmcb12 fails: VMEXIT_INVALID (exit code -1)")
        if let inj = state.vmcb12.eventInj, APMConsistencyCheck.eventInjectionVerdict(inj.value).legal == false {
            record(.apmVMCB02Invalid, [.hex("vmcb12 event_inj", inj)], "vmcb12 would be rejected: its EVENTINJ is illegal")
            return invalid
        }
        record(.apmVMCB02Invalid, [.hex("vmcb12 event_inj", state.vmcb12.eventInj)], .unknown)
        return fork(missing: ["which vmcb02 field the CPU rejected"], [
            Branch("the rejected state came from vmcb12", [FactID.vmrunChecksPass: false]) { _ in invalid },
            Branch("the rejected state is L0's own", [FactID.vmrunChecksPass: true]) { _ in
                Self.continues(.l2, "vmcb12 passes the APM checks: on bare metal L2 runs")
            },
        ])
    }

    // MARK: exceptions

    /// An exception exit: was the exception the guest's own, then route it.
    mutating func apmException(_ vector: UInt8, exit: HardwareExit, level: GuestLevel) -> Outcome {
        let name = ExceptionVector.name(vector)
        let bytes = exit.instructionBytes
        let route: (inout Evaluator) -> Outcome = { $0.apmRouteException(vector, exit: exit, level: level) }
        let artefact: (String) -> Branch = { why in
            Branch("the \(name) is L0's own (\(why))", [Self.guestOwnExceptionFact: false]) { _ in
                Self.continues(level, "\(name) raised for L0's purposes (\(why)); a bare-metal L1 never sees it")
            }
        }
        let genuine = Branch("the \(name) is the guest's own", [Self.guestOwnExceptionFact: true], route)
        switch vector {
        case ExceptionVector.pageFault:
            if host.npt?.value == true {
                record(.apmExceptionOrigin, [.flag("host npt", host.npt)], .yes, note: "with nested paging L0 does not shadow the guest's page tables")
                return route(&self)
            }
            record(.apmExceptionOrigin, [.flag("host npt", host.npt)], .unknown, note: "without nested paging L0 shadows the guest's page tables: the #PF may be a shadow fault L0 fixes")
            return fork(missing: ["whether the #PF is the guest's own"], [genuine, artefact("a shadow-paging fault")])
        case ExceptionVector.debug:
            record(.apmExceptionOrigin, [.flag("host guest debugging", host.guestDebug)], .unknown, note: "L0 intercepts #DB always and single-steps guests itself (NMI windows, guest debugging)")
            return fork(missing: ["whether the #DB is the guest's own"], [genuine, artefact("L0's own single-step or debugging")])
        case ExceptionVector.breakpoint where host.guestDebug?.value != false:
            record(.apmExceptionOrigin, [.flag("host guest debugging", host.guestDebug)], .unknown)
            return fork(missing: ["whether the #BP is the guest's own"], [genuine, artefact("a breakpoint of the host debugger")])
        case ExceptionVector.machineCheck:
            record(.apmExceptionOrigin, [.event("vector", name)], .unknown, note: "a machine check of L0's machine")
            return fork(missing: ["whether the #MC concerns L1's machine"], [genuine, artefact("a machine check of L0's machine")])
        case ExceptionVector.invalidOpcode:
            if let bytes, SVMInstruction(bytes: bytes) == .vmmcall {
                record(.apmExceptionOrigin, [.event("instruction bytes", bytes.hexBytes)], "VMMCALL: the CPU raised #UD because the VMCB did not intercept it")
                return level == .l2 ? apmVMMCALL(exit: exit, level: .l2) : apmRouteException(vector, exit: exit, level: level)
            }
            record(.apmExceptionOrigin, [.event("vector", name)] + (bytes.map { [.event("instruction bytes", $0.hexBytes)] } ?? []), .yes)
            return route(&self)
        case ExceptionVector.generalProtection:
            var evidence: [Evidence] = [.event("vector", name), .flag("host svme_addr_chk", host.svmeAddrChk)]
            if let bytes { evidence.append(.event("instruction bytes", bytes.hexBytes)) }
            let svm = bytes.flatMap { SVMInstruction(bytes: $0) }
            record(
                .apmExceptionOrigin, evidence, .yes,
                note: svm.map {
                    "\($0) raised #GP although L0's VMCB intercepts it: this CPU checks CPL, RAX (and, without SVME_ADDR_CHK, the erratum's reserved ranges) before the intercept, so it raises the same #GP for a bare-metal L1 (a CPU ordering operand checks after intercepts, as the APM is quoted, would not have raised it)"
                })
            return route(&self)
        default:
            record(.apmExceptionOrigin, [.event("vector", name)], .yes)
            return route(&self)
        }
    }

    /// Routes an exception the guest raised: L1 takes it in its IDT; in L2 the exception bitmap
    /// decides between a #VMEXIT and delivery through L2's IDT.
    mutating func apmRouteException(_ vector: UInt8, exit: HardwareExit, level: GuestLevel) -> Outcome {
        let errorCode: UInt32? = ExceptionVector.hasErrorCode(vector) ? UInt32(truncatingIfNeeded: exit.exitInfo1) : nil
        guard level == .l2 else {
            return .inject(vector, errorCode: errorCode, into: .l1, handler: "architecture: delivered through L1's IDT")
        }
        let bit = InterceptBit.exceptionOffset + Int(vector)
        return branch(
            .apmExceptionIntercept, field: InterceptWords.fieldName(ofBit: bit), fact: FactID.intercept(bit), l1Intercepts(bit),
            yes: { _ in Self.apmReflect(.exception(vector), info1: exit.exitInfo1, info2: exit.exitInfo2) },
            no: { _ in .inject(vector, errorCode: errorCode, into: .l2, handler: "architecture: delivered through L2's IDT") })
    }

    /// Raises `vector` in `level` (an exception of the instruction itself).
    mutating func apmRaise(_ vector: UInt8, errorCode: UInt32?, level: GuestLevel, exit: HardwareExit) -> Outcome {
        var copy = exit
        copy.exitInfo1 = UInt64(errorCode ?? 0)
        copy.exitInfo2 = 0
        return apmRouteException(vector, exit: copy, level: level)
    }

    // MARK: SVM instructions

    /// VMMCALL: #VMEXIT if intercepted, else #UD.
    mutating func apmVMMCALL(exit: HardwareExit, level: GuestLevel) -> Outcome {
        guard level == .l2 else {
            record(.apmVMMCALL, [Evidence(field: "guest mode", value: "0", source: "L1 is the host")], "no: #UD")
            return apmRaise(ExceptionVector.invalidOpcode, errorCode: nil, level: .l1, exit: exit)
        }
        return branch(
            .apmVMMCALL, field: InterceptWords.fieldName(ofBit: InterceptBit.vmmcall), fact: FactID.intercept(InterceptBit.vmmcall), l1Intercepts(InterceptBit.vmmcall),
            yes: { _ in Self.apmReflect(.vmmcall, info1: 0, info2: 0) },
            no: { $0.apmRaise(ExceptionVector.invalidOpcode, errorCode: nil, level: .l2, exit: exit) })
    }

    /// EFER.SVME of the level; for L2 unknown, VMRUN's own check required it at entry.
    func apmSVME(_ level: GuestLevel) -> Known<Bool>? {
        if let efer = registers(of: level).efer { return Known(efer.value & RegisterBit.eferSVME != 0, source: efer.source) }
        if let known = fact(FactID.eferSVME(level)) { return known }
        if level == .l2 {
            return Known(true, source: "VMRUN's efer-svme check (APM §15.5.1) required vmcb12 EFER.SVME = 1 at entry; a later clear by L2 is not modelled")
        }
        return nil
    }

    /// The #UD/#GP checks that precede the intercept. The CPU reported an intercept (or, for L1,
    /// L0's intercept), so its own CPL check passed on this machine; EFER.SVME is the guest's,
    /// which L0's VMCB does not carry (KVM forces SVME on), so it is read from the state.
    mutating func apmSVMPreChecks(_ instruction: SVMInstruction, level: GuestLevel, exit: HardwareExit, then: @escaping (inout Evaluator) -> Outcome) -> Outcome {
        guard instruction != .vmmcall else { return then(&self) }
        let svme = apmSVME(level)
        let cplEvidence = Evidence(field: "\(level) CPL 0", value: "1", source: APMSource.traceEvidence + " (the CPL check precedes the intercept)")
        return branch(
            .apmSVMPreChecks, field: "\(level) EFER.SVME", fact: FactID.eferSVME(level), svme, extra: [cplEvidence],
            yes: then,
            no: { $0.apmRaise(ExceptionVector.invalidOpcode, errorCode: nil, level: level, exit: exit) })
    }

    /// Whether RAX is a legal VMCB address for L1's CPU: aligned and below 2^MAXPHYADDR.
    func apmRAXLegal(_ exit: HardwareExit) -> (Known<Bool>?, [Evidence]) {
        let bits = state.guest.maxPhysAddr
        var evidence: [Evidence] = [.hex("RAX", exit.rax), Evidence(field: "L1 MAXPHYADDR", value: bits.map { "\($0.value)" }, source: bits?.source)]
        if let rax = exit.rax {
            let aligned = rax.value & RegisterBit.pageOffsetMask == 0
            if !aligned { return (Known(false, source: rax.source), evidence) }
            guard let bits else { return (nil, evidence) }
            return (Known(bits.value >= 64 || rax.value >> UInt64(bits.value) == 0, source: "\(rax.source); \(bits.source)"), evidence)
        }
        if let legal = fact(FactID.raxLegalPage) {
            evidence.append(.flag("fact \(FactID.raxLegalPage)", legal))
            return (legal, evidence)
        }
        return (nil, evidence)
    }

    /// Decides on RAX's legality, forking on `rax.legal-page` when unknown.
    mutating func apmOnRAX(_ exit: HardwareExit, legal: @escaping (inout Evaluator) -> Outcome, illegal: @escaping (inout Evaluator) -> Outcome) -> Outcome {
        let (known, evidence) = apmRAXLegal(exit)
        return branch(.apmRAXCheck, field: "RAX is a legal page address", fact: FactID.raxLegalPage, known, extra: evidence, yes: legal, no: illegal)
    }

    /// VMRUN/VMLOAD/VMSAVE/STGI/CLGI/SKINIT/INVLPGA/VMMCALL executed by L2.
    mutating func apmL2SVMInstruction(_ instruction: SVMInstruction, exit: HardwareExit) -> Outcome {
        if instruction == .vmmcall { return apmVMMCALL(exit: exit, level: .l2) }
        // Intercept bits 96–159 are numbered like the exit codes 0x60–0x9f.
        let interceptBit = Int(instruction.exitCode.rawValue)
        let reflect = Self.apmReflect(instruction.exitCode, info1: exit.exitInfo1, info2: exit.exitInfo2)
        let gp: (inout Evaluator) -> Outcome = { $0.apmRaise(ExceptionVector.generalProtection, errorCode: 0, level: .l2, exit: exit) }
        return apmSVMPreChecks(instruction, level: .l2, exit: exit) { evaluator in
            switch instruction {
            case .vmrun, .vmload, .vmsave:
                return evaluator.branch(
                    .apmIntercept, field: InterceptWords.fieldName(ofBit: interceptBit), fact: FactID.intercept(interceptBit), evaluator.l1Intercepts(interceptBit),
                    note: instruction == .vmrun ? "vmcb12 must intercept VMRUN (APM §15.5.1), else L1's VMRUN had failed" : nil,
                    yes: { evaluator in
                        evaluator.apmOnRAX(
                            exit, legal: { _ in reflect },
                            illegal: { evaluator in
                                evaluator.record(.apmRAXOrder, [.event("instruction", instruction.description)], .unknown)
                                return evaluator.fork(missing: ["the order of the RAX check and the intercept (APM text not at hand)"], [
                                    Branch("the RAX #GP precedes the intercept (QEMU TCG)", [FactID.raxCheckBeforeIntercept: true], gp),
                                    Branch("the intercept precedes the RAX check (APM §15.9 as quoted; Xen)", [FactID.raxCheckBeforeIntercept: false]) { _ in reflect },
                                ])
                            })
                    },
                    no: { evaluator in
                        guard instruction != .vmrun else {
                            evaluator.record(.apmUnmodelled, [.event("instruction", "VMRUN")], .no, note: "an L2 VMRUN without the intercept cannot run: L1's VMRUN checks it")
                            return .undetermined([], missing: ["a vmcb12 that passed VMRUN without the VMRUN intercept"])
                        }
                        return evaluator.apmOnRAX(
                            exit,
                            legal: { evaluator in
                                evaluator.record(
                                    .apmSVMExecutes, [.flag("host vls", evaluator.host.vls), .hex("vmcb12 virt_ext", evaluator.state.vmcb12.virtExt)],
                                    .yes, note: "without virtual VMLOAD/VMSAVE RAX is a physical address of L1's machine; with it, translated through L1's nested page tables")
                                return Self.continues(.l2, "\(instruction) completes in L2")
                            },
                            illegal: gp)
                    })
            case .stgi, .clgi, .invlpga, .skinit:
                return evaluator.branch(
                    .apmIntercept, field: InterceptWords.fieldName(ofBit: interceptBit), fact: FactID.intercept(interceptBit), evaluator.l1Intercepts(interceptBit),
                    yes: { _ in reflect },
                    no: { evaluator in evaluator.apmSVMCompletes(instruction, level: .l2) })
            case .vmmcall:
                return evaluator.apmVMMCALL(exit: exit, level: .l2)
            }
        }
    }

    /// STGI/CLGI/INVLPGA complete; SKINIT's effect is not decided by any source at hand.
    mutating func apmSVMCompletes(_ instruction: SVMInstruction, level: GuestLevel) -> Outcome {
        switch instruction {
        case .skinit:
            record(.apmSKINIT, [.event("instruction", "SKINIT")], .unknown, note: "#UD on a CPU without SKINIT (CPUID Fn8000_0001_ECX[12]); QEMU, which does not implement SKINIT, always raises #UD")
            return fork(missing: ["whether the CPU L1 sees implements SKINIT"], [
                Branch("the CPU does not implement SKINIT", [FactID.cpuSKINIT: false]) { evaluator in
                    var exit = HardwareExit(exitCode: .skinit)
                    exit.exitInfo1 = 0
                    return evaluator.apmRaise(ExceptionVector.invalidOpcode, errorCode: nil, level: level, exit: exit)
                },
                Branch("the CPU implements SKINIT", [FactID.cpuSKINIT: true]) { _ in
                    .userspaceExit("architecture: SKINIT", detail: "the secure initialization reinitializes the processor and jumps to the secure loader (no source at hand for its detail)")
                },
            ])
        case .stgi, .clgi:
            let vgifEnabled = state.vmcb12.intCtl.map { Known($0.value & (1 << 25) != 0, source: $0.source) }
            record(
                .apmVGIF, [.flag("host vgif", host.vgif), .flag("vmcb12 V_GIF_ENABLE", level == .l2 ? vgifEnabled : nil)],
                level == .l1 ? "the real GIF (L1 is the host)" : (host.vgif?.value == true && vgifEnabled?.value == true ? "the virtual GIF" : "the real GIF, or the virtual one with vGIF"),
                note: "no exception either way")
            return Self.continues(level, "\(instruction) completes in \(level)")
        default:
            record(.apmSVMExecutes, [.event("instruction", instruction.description)], .yes)
            return Self.continues(level, "\(instruction) completes in \(level)")
        }
    }

    // MARK: L1 exits

    /// An exit while L1 ran: L1 is the host; its instructions run with no intercepts.
    mutating func apmL1Exit(_ exit: HardwareExit) -> Outcome {
        if let feature = Self.requiredFeature(exit.exitCode), state.guest.features[feature]?.value == false {
            return apmFeatureCheck(exit, level: .l1) { _ in .undetermined([], missing: ["unreachable"]) }
        }
        let code = exit.exitCode
        switch code.rawValue {
        case VMExitCode.exceptionBase.rawValue...VMExitCode.lastException.rawValue:
            return apmException(UInt8(code.rawValue - 0x40), exit: exit, level: .l1)
        case VMExitCode.intr.rawValue, VMExitCode.nmi.rawValue, VMExitCode.smi.rawValue, VMExitCode.initSignal.rawValue,
            VMExitCode.vintr.rawValue, VMExitCode.npf.rawValue:
            return apmL0Event(exit, level: .l1)
        case VMExitCode.vmmcall.rawValue:
            return apmVMMCALL(exit: exit, level: .l1)
        case VMExitCode.vmrun.rawValue...VMExitCode.skinit.rawValue, VMExitCode.invlpga.rawValue:
            guard let instruction = SVMInstruction.allCases.first(where: { $0.exitCode == code }) else {
                return .undetermined([], missing: ["an SVM instruction for exit code \(code.description)"])
            }
            let gp: (inout Evaluator) -> Outcome = { $0.apmRaise(ExceptionVector.generalProtection, errorCode: 0, level: .l1, exit: exit) }
            return apmSVMPreChecks(instruction, level: .l1, exit: exit) { evaluator in
                switch instruction {
                case .vmrun:
                    return evaluator.apmOnRAX(exit, legal: { $0.apmVMRUN() }, illegal: gp)
                case .vmload, .vmsave:
                    return evaluator.apmOnRAX(
                        exit,
                        legal: { evaluator in
                            evaluator.record(.apmSVMExecutes, [.event("instruction", instruction.description)], .yes, note: "no #GP for a legal RAX whatever backs it")
                            return Self.continues(.l1, "\(instruction) completes in L1")
                        },
                        illegal: gp)
                default:
                    return evaluator.apmSVMCompletes(instruction, level: .l1)
                }
            }
        case VMExitCode.shutdown.rawValue:
            return .userspaceExit("architecture: shutdown", detail: "the CPU enters the shutdown state; the machine stops")
        case VMExitCode.invalid.rawValue:
            record(.apmUnmodelled, [.event("exit_code", code.description)], .no)
            return .undetermined([], missing: ["an apm rule for VMEXIT_INVALID while L1 runs"])
        case 0...VMExitCode.lastInterceptIdentity.rawValue:
            return apmExecutes(.l1, exit: exit)
        default:
            record(.apmUnmodelled, [.event("exit_code", code.description)], .no)
            return .undetermined([], missing: ["an apm rule for exit code \(code.description)"])
        }
    }

    // MARK: pending events

    /// An event pending before L2 runs: vmcb12's intercepts decide.
    mutating func apmPending(_ pending: PendingEvent) -> Outcome {
        func intercepted(_ bit: Int, _ code: VMExitCode, info1: UInt64 = 0, otherwise: @escaping (inout Evaluator) -> Outcome) -> Outcome {
            branch(
                .apmPending, field: InterceptWords.fieldName(ofBit: bit), fact: FactID.intercept(bit), l1Intercepts(bit), extra: [.event("pending", pending.description)],
                yes: { _ in Self.apmReflect(code, info1: info1, info2: nil) }, no: otherwise)
        }
        switch pending {
        case .exception(let vector, let errorCode):
            let code = ExceptionVector.hasErrorCode(vector) ? (errorCode ?? 0) : nil
            return intercepted(InterceptBit.exceptionOffset + Int(vector), .exception(vector), info1: UInt64(code ?? 0)) { _ in
                .inject(vector, errorCode: code, into: .l2, handler: "architecture: delivered through L2's IDT")
            }
        case .nmi:
            return intercepted(InterceptBit.nmi, .nmi) { _ in Self.continues(.l2, "the NMI is delivered to L2") }
        case .interrupt:
            return intercepted(InterceptBit.intr, .intr) { _ in Self.continues(.l2, "the interrupt is taken in guest mode (V_INTR_MASKING decides which IF masks it)") }
        case .smi:
            return intercepted(InterceptBit.smi, .smi) { _ in Self.continues(.l2, "the CPU enters SMM") }
        case .initSignal:
            return intercepted(InterceptBit.initSignal, .initSignal) { evaluator in
                evaluator.record(.apmUnmodelled, [.event("pending", "INIT")], .no, note: "INIT in guest mode without the intercept: no source at hand")
                return .undetermined([], missing: ["what INIT does in guest mode without the intercept (no source at hand)"])
            }
        case .tripleFault:
            return intercepted(InterceptBit.shutdown, .shutdown) { _ in
                .userspaceExit("architecture: shutdown", detail: "the CPU enters the shutdown state; the machine stops")
            }
        case .simultaneous(let events):
            if events.count == 1, let only = events.first { return apmPending(only) }
            record(.apmUnmodelled, [.event("pending", pending.description)], .no, note: "the priority of simultaneous events: no source at hand")
            return .undetermined([], missing: ["the architecture's priority among simultaneous pending events (no source at hand)"])
        case .virtualInterrupt, .virtualNMI:
            // APM §15.21.4 (V_IRQ) / §15.21.10 (vNMI): the CPU takes it inside the guest; a VINTR
            // intercept exits first for V_IRQ.
            if case .virtualInterrupt = pending {
                return intercepted(InterceptBit.vintr, .vintr) { _ in Self.continues(.l2, "the CPU takes \(pending.description) in the guest") }
            }
            record(.apmPending, [.event("pending", pending.description)], .no, note: "a virtual NMI is taken in the guest; L1's NMI intercept concerns physical NMIs")
            return Self.continues(.l2, "the CPU takes \(pending.description) in the guest")
        }
    }
}
