import NestedSVM
import TraceKit

/// Turns one exit and the reconstructed state into the model's inputs, adding the operand
/// facts the exit's own events state (the MSR number of a `kvm_msr`, the instruction bytes
/// of a `kvm_emulate_insn` at the exit's RIP), each with its line.
struct ModelInputs {
    let trace: LoadedTrace
    /// Where the exit comes from.
    let origin: ExitRecord.Origin
    /// The exit's values (for a synthesized exit: the inject's).
    let exit: KVMExit
    /// The exit's events, in order, with their payloads.
    let events: ExitEvents
    /// RAX and RCX of the exit's instruction as a facts file gives them (an entry's
    /// `operands`), used when the exit's own events do not show them.
    var factRAX: Known<UInt64>?
    var factRCX: Known<UInt64>?

    init(trace: LoadedTrace, origin: ExitRecord.Origin, exit: KVMExit, events: ExitEvents) {
        self.trace = trace
        self.origin = origin
        self.exit = exit
        self.events = events
    }

    /// The model's event, or nil when the model has no event for it (a synthesized #VMEXIT
    /// whose code no pending event produces).
    func event() -> Event? {
        if origin == .synthesized {
            return pendingEvent(for: exit.exitReason.rawValue, errorCode: exit.exitInfo1).map { .pending($0) }
        }
        var instruction: [UInt8]?
        var (rax, rcx) = shownOperands()
        for (number, payload) in events.all {
            switch payload {
            case .emulateInsn(let insn) where instruction == nil && insn.rip == exit.guestRIP:
                instruction = insn.bytes
            default:
                break
            }
        }
        if rax == nil { rax = factRAX }
        if rcx == nil { rcx = factRCX }
        return .hardwareExit(HardwareExit(
            exitCode: VMExitCode(rawValue: exit.exitReason.rawValue), exitInfo1: exit.exitInfo1 ?? 0,
            exitInfo2: exit.exitInfo2 ?? 0, exitIntInfo: exit.intrInfo ?? 0, exitIntInfoErr: exit.errorCode ?? 0,
            rip: exit.guestRIP, instructionBytes: instruction, rax: rax, rcx: rcx))
    }

    /// The operands the exit's own events print: RAX of a VMRUN (kvm_nested_vmenter's vmcb),
    /// ECX of an MSR exit (kvm_msr).
    func shownOperands() -> (rax: Known<UInt64>?, rcx: Known<UInt64>?) {
        guard origin != .synthesized else { return (nil, nil) }
        var rcx: Known<UInt64>?
        var rax: Known<UInt64>?
        for (number, payload) in events.all {
            switch payload {
            case .nestedVMEnter(let enter) where rax == nil && exit.exitReason.rawValue == VMRUNInput.exitCode:
                // nested_svm_vmrun reads vmcb12's address from RAX; kvm_nested_vmenter prints it.
                rax = Known(enter.vmcb, from: .eventNote(name: "kvm_nested_vmenter", line: trace.lineNumber(of: number), note: "vmcb = RAX"))
            case .msr(let msr) where rcx == nil && exit.exitReason.rawValue == 0x7c:
                rcx = Known(UInt64(msr.msr), from: .event(name: "kvm_msr", line: trace.lineNumber(of: number)))
            default:
                break
            }
        }
        return (rax, rcx)
    }

    /// Facts the exit's own events prove about the level that ran, by `FactID`: a
    /// `kvm_emulate_insn` at the exit's RIP decoded in `prot64` means long mode is active
    /// (EFER.LMA = 1), which requires CR0.PG = 1 (APM vol. 2 §14.6 "Enabling and Activating
    /// Long Mode"), so `paging` of `level` is 1.
    ///
    /// A `GP excp` exit with error code 0 that reaches its `kvm_entry` without any
    /// `kvm_emulate_insn` proves L0 does not intercept #GP: `svm/svm.c:gp_interception`
    /// decodes every #GP with error code 0 first.
    func assumptions(level: Level?) -> [Fact: Known<Bool>] {
        if origin == .synthesized { return pendingEventFacts() }
        guard origin == .hardwareExit else { return [:] }
        var facts: [Fact: Known<Bool>] = [:]
        if exit.exitReason.rawValue == ModelInputs.gpExitCode, (exit.exitInfo1 ?? 0) == 0,
            let entry = events.numbers.last(where: { trace.name(of: $0) == "kvm_entry" }),
            !events.numbers.contains(where: { trace.name(of: $0) == "kvm_emulate_insn" })
        {
            facts[FactID.l0InterceptsException(13)] = Known(
                false, source: "no kvm_emulate_insn before the entry at line \(trace.lineNumber(of: entry)): gp_interception would have decoded this #GP")
        }
        guard let level else { return facts }
        for (number, payload) in events.all {
            guard case .emulateInsn(let insn) = payload, insn.rip == exit.guestRIP else { continue }
            guard insn.mode == .prot64 else { break }
            let guestLevel: GuestLevel = level == .l2 ? .l2 : .l1
            facts[FactID.paging(guestLevel)] = Known(
                true, source: "kvm_emulate_insn line \(trace.lineNumber(of: number)) decodes in prot64: long mode active, so CR0.PG = 1")
            break
        }
        return facts
    }

    /// The -EBUSY inputs of `svm/nested.c:svm_check_nested_events` that the trace states for
    /// a synthesized #VMEXIT, each with its line; a fact the trace does not settle is left out
    /// (the model then decides the event as it is once nothing blocks it).
    ///
    /// * `nested.run-pending`: `nested_svm_vmrun` sets it and `svm/svm.c:svm_vcpu_run` clears it
    ///   after the first run of L2. Scanning back on the vCPU's thread, a `kvm_entry` met before
    ///   any `kvm_nested_vmenter`/`kvm_nested_vmrun` proves it clear; a VMRUN met first (no entry
    ///   since) proves it set — only in a trace that records `kvm_entry` at all.
    /// * `vcpu.event-needs-reinjection`: `svm/svm.c:svm_complete_interrupts` re-queues the event
    ///   of the previous exit's EXITINTINFO; a `kvm_inj_virq`/`kvm_inj_exception` between that
    ///   exit and this check (an injection whose entry never came) also leaves one injected.
    ///   The previous `kvm_exit` printing `intr_info` without the valid bit, and no injection
    ///   since, proves it clear; a valid one, or such an injection, proves it set.
    func pendingEventFacts() -> [Fact: Known<Bool>] {
        guard let first = events.numbers.first else { return [:] }
        let pid = trace.pid(of: first)
        let entriesTraced = trace.eventNameCounts["kvm_entry", default: 0] > 0
        var facts: [Fact: Known<Bool>] = [:]
        var runPendingSettled = false
        var reinjectionSettled = false
        var number = first.rawValue - 1
        var budget = 50_000
        while number >= 0, budget > 0, !(runPendingSettled && reinjectionSettled) {
            let event = EventNumber(rawValue: number)
            number -= 1
            budget -= 1
            guard trace.pid(of: event) == pid else { continue }
            let name = trace.name(of: event)
            let line = trace.lineNumber(of: event)
            switch name {
            case "kvm_entry" where !runPendingSettled:
                facts[FactID.nestedRunPending] = Known(
                    false, source: "kvm_entry line \(line): L2 ran since its VMRUN (svm_vcpu_run clears nested_run_pending)")
                runPendingSettled = true
            case "kvm_nested_vmenter", "kvm_nested_vmrun":
                if !runPendingSettled, entriesTraced {
                    facts[FactID.nestedRunPending] = Known(
                        true, source: "\(name) line \(line) with no kvm_entry since: nested_run_pending is still set")
                }
                runPendingSettled = true
            case "kvm_inj_virq" where !reinjectionSettled, "kvm_inj_exception" where !reinjectionSettled:
                facts[FactID.eventNeedsReinjection] = Known(
                    true, source: "\(name) line \(line) before this check with no entry since: the event is injected, not yet delivered")
                reinjectionSettled = true
            case "kvm_exit" where !reinjectionSettled:
                reinjectionSettled = true
                guard case .exit(let previous) = trace.payload(of: event), let info = previous.intrInfo else { break }
                let valid = info & EventInjection.validBit != 0
                facts[FactID.eventNeedsReinjection] = Known(
                    valid, source: "kvm_exit line \(line) intr_info \(Hex.format(info, width: 8)): svm_complete_interrupts "
                        + (valid ? "re-queues that event" : "re-queues nothing"))
            default:
                break
            }
        }
        return facts
    }

    /// `SVM_EXIT_EXCP_BASE + GP_VECTOR` (APM vol. 2, table C-1).
    static let gpExitCode: UInt32 = 0x4d

    /// The pending event a synthesized #VMEXIT answers (`svm_check_nested_events` order).
    private func pendingEvent(for code: UInt32, errorCode: UInt64?) -> PendingEvent? {
        switch code {
        case 0x60: return .interrupt
        case 0x61: return .nmi
        case 0x62: return .smi
        case 0x63: return .initSignal
        case 0x7f: return .tripleFault
        case 0x40...0x5f:
            let vector = UInt8(code - 0x40)
            let hasError: Set<UInt8> = [8, 10, 11, 12, 13, 14, 17, 21]
            return .exception(vector: vector, errorCode: hasError.contains(vector) ? UInt32(truncatingIfNeeded: errorCode ?? 0) : nil)
        default: return nil
        }
    }
}
