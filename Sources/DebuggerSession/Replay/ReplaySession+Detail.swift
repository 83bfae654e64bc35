import NestedSVM
import Replay
import TraceKit
import DebuggerUI

/// Builds the detail panes' content of one exit from the replay: the values known at the
/// exit with their provenance, L1's vmcb12 as reconstructed (decoded), the model's decision
/// path (re-run for this exit only), the recorded outcome with its evidence lines, and the
/// verdict's notes.
struct ReplayDetailBuilder {
    let result: ReplayResult

    /// The detail of `exit`.
    func detail(_ exit: ExitRecord) -> ExitDetail {
        let decision = result.decision(for: exit)
        var detail = ExitDetail(
            number: ExitNumber(exit.index), registers: registers(exit), vmcb: vmcb(exit),
            decisionSteps: decision.path.map(Self.row), modelOutcome: modelOutcome(exit, decision),
            recordedOutcome: exit.recorded.summary, recordedEvidence: evidence(exit), notes: notes(exit, decision),
            rawLines: exit.lines)
        detail.otherThreadLines = otherThreadLines(exit)
        return detail
    }

    /// The lines of other threads' events between the exit and its entry.
    func otherThreadLines(_ exit: ExitRecord) -> Set<Int> {
        let trace = result.trace
        guard exit.firstEvent <= exit.lastEvent else { return [] }
        var lines: Set<Int> = []
        for position in exit.firstEvent.rawValue...exit.lastEvent.rawValue {
            let number = EventNumber(position)
            if trace.pid(of: number) != exit.pid { lines.insert(trace.lineNumber(of: number)) }
        }
        return lines
    }

    // MARK: Decision

    static func row(_ step: DecisionStep) -> DecisionStepRow {
        DecisionStepRow(
            ruleID: step.rule.rawValue, question: step.question,
            evidence: step.evidence.map { TerminalSafe.escape($0.description) }, answer: step.answer.rawValue,
            kernelFunction: step.kernel, note: step.note)
    }

    private func modelOutcome(_ exit: ExitRecord, _ decision: Decision) -> String {
        var text = decision.outcome.description
        if let rule = exit.decidingRule { text += "  [\(rule.rawValue)]" }
        return text
    }

    // MARK: Recorded outcome

    private func evidence(_ exit: ExitRecord) -> [String] {
        let trace = result.trace
        return exit.recorded.evidence.map { number in
            let event = trace.event(at: number)
            return "line \(event.lineNumber) \(event.name): " + TerminalSafe.escape(event.payloadText)
        }
    }

    private func notes(_ exit: ExitRecord, _ decision: Decision) -> [String] {
        let verdict = exit.verdict
        var notes = [verdict.kind.rawValue + ": " + verdict.explanation]
        notes += verdict.differences.map { "differs: \($0)" }
        notes += verdict.inferred.map { "inferred from the recorded outcome: \($0)" }
        notes += verdict.settled.sorted { $0.key < $1.key }.map { "settled by the trace: \($0.key) = \($0.value ? "yes" : "no")" }
        notes += verdict.missing.map { "missing input: \($0)" }
        for alternative in decision.outcome.alternatives ?? [] {
            notes.append("if \(alternative.condition): \(alternative.outcome.description)")
        }
        if !exit.recorded.reinjections.isEmpty {
            notes.append("re-injected (delivery retries, not decisions): " + exit.recorded.reinjections.joined(separator: ", "))
        }
        if exit.origin == .synthesized {
            notes.append("synthesized #VMEXIT: no hardware exit since the last kvm_entry (svm_check_nested_events)")
        }
        for finding in result.findings where exit.lines.contains(finding.line) {
            notes.append("finding (\(finding.kind), line \(finding.line)): \(finding.message)")
        }
        return notes.map(TerminalSafe.escape)
    }

    // MARK: Registers

    private var exitSource: (ExitRecord) -> String {
        { exit in
            let name = exit.origin == .synthesized ? "kvm_nested_vmexit_inject" : "kvm_exit"
            return "\(name) line \(exit.lines.lowerBound)"
        }
    }

    private func registers(_ exit: ExitRecord) -> [KnownValue] {
        let state = result.state(of: exit)
        let vcpu = result.decidedState(of: exit, in: state)
        let source = exitSource(exit)
        var values: [KnownValue] = []
        func add(_ name: String, _ value: String?, _ known: String, unknown: String) {
            values.append(KnownValue(name: name, value: value, provenance: value == nil ? unknown : known))
        }
        func add<T>(_ name: String, _ known: Known<T>?, unknown: String, format: (T) -> String) {
            values.append(KnownValue(name: name, value: known.map { format($0.value) }, provenance: known?.source ?? unknown))
        }
        let notPrinted = "not printed by this trace's kvm_exit"
        add("RIP", exit.rip.map { Hex.format($0) }, source, unknown: notPrinted)
        add("info1", exit.exitInfo1.map { Hex.format($0) }, source, unknown: notPrinted)
        add("info2", exit.exitInfo2.map { Hex.format($0) }, source, unknown: notPrinted)
        add("int_info", exit.exitIntInfo.map { Hex.format($0) }, source, unknown: notPrinted)
        if let error = exit.exitIntInfoErr, exit.exitIntInfo.map({ $0 & VMCBDecoding.eventErrorValid != 0 }) == true {
            add("int_err", Hex.format(error), source, unknown: notPrinted)
        }
        add("level", vcpu.level, unknown: "no kvm_nested_vmenter/kvm_nested_vmexit on this vCPU yet") { "\($0)" }
        // Operands the exit's own events state.
        values += operands(exit)
        values += result.probeRegisters(of: exit).map { KnownValue(name: $0.name, value: Hex.format($0.value), provenance: $0.source) }
        let notSeen = "not in the trace before this exit"
        for (level, registers) in [("L1", vcpu.l1), ("L2", vcpu.l2)] {
            add("\(level) EFER", registers.efer, unknown: "\(notSeen) (no kvm_msr of EFER)") { Hex.format($0) }
            add("\(level) CR0", registers.cr0, unknown: "\(notSeen) (no kvm_cr of CR0)") { Hex.format($0) }
            add("\(level) CR4", registers.cr4, unknown: "\(notSeen) (no kvm_cr of CR4)") { Hex.format($0) }
            add("\(level) CPL", registers.cpl, unknown: "no kvm event reports the CPL") { "\($0)" }
        }
        add("HSAVE_PA", vcpu.hsavePA, unknown: "\(notSeen) (no kvm_msr of MSR_VM_HSAVE_PA)") { Hex.format($0) }
        add("vmcb12", state.vmcb12Address, unknown: "no kvm_nested_vmenter on this vCPU yet") { Hex.format($0) }
        add("L2 entry", state.nestedRIP, unknown: "no kvm_nested_vmenter on this vCPU yet") { Hex.format($0) }
        return Self.once(values)
    }

    /// Each register once: where a probe (or another event) knows a value, the "unknown"
    /// row of the same name goes; two known values of one name both stay (they may differ).
    static func once(_ values: [KnownValue]) -> [KnownValue] {
        let known = Set(values.filter { $0.value != nil }.map(\.name))
        var seenUnknown = Set<String>()
        return values.filter { value in
            guard value.value == nil else { return true }
            return !known.contains(value.name) && seenUnknown.insert(value.name).inserted
        }
    }

    /// RCX/RAX and the like where an event of the exit states them.
    private func operands(_ exit: ExitRecord) -> [KnownValue] {
        let trace = result.trace
        var values: [KnownValue] = []
        switch exit.exitCode {
        case VMCBDecoding.msrExit:
            if let stated = ReplayIndex.statedMSR(of: exit, in: result) {
                let line = "kvm_msr line \(trace.lineNumber(of: stated.event))"
                values.append(KnownValue(name: "RCX", value: Hex.format(stated.msr), provenance: line))
                let data = Hex.format(stated.payload.data)
                if stated.payload.isWrite {
                    values.append(KnownValue(name: "EDX:EAX", value: data, provenance: "\(line) (value written)"))
                } else {
                    values.append(KnownValue(
                        name: "EDX:EAX", value: nil,
                        provenance: "input not traced; RDMSR returned \(data) (\(line))"))
                }
            } else {
                values.append(KnownValue(
                    name: "RCX", value: nil, provenance: "no kvm_msr in this exit (L0 did not emulate the access)"))
            }
        case VMCBDecoding.vmrunExit, VMCBDecoding.vmloadExit, VMCBDecoding.vmsaveExit:
            if let enter = ownEvents(exit).first(where: { trace.name(of: $0) == "kvm_nested_vmenter" || trace.name(of: $0) == "kvm_nested_vmrun" }),
               case .nestedVMEnter(let payload) = trace.payload(of: enter)
            {
                values.append(KnownValue(
                    name: "RAX", value: Hex.format(payload.vmcb),
                    provenance: "\(trace.name(of: enter)) line \(trace.lineNumber(of: enter)) (vmcb12 address)"))
            } else {
                values.append(KnownValue(name: "RAX", value: nil, provenance: "no kvm event of this exit states RAX"))
            }
        case VMCBDecoding.ioioExit:
            if let pio = ownEvents(exit).first(where: { trace.name(of: $0) == "kvm_pio" }),
               case .pio(let payload) = trace.payload(of: pio), payload.isWrite
            {
                values.append(KnownValue(
                    name: "EAX", value: Hex.format(payload.value),
                    provenance: "kvm_pio line \(trace.lineNumber(of: pio)) (value written)"))
            }
        default:
            break
        }
        return values
    }

    private func ownEvents(_ exit: ExitRecord) -> [EventNumber] { result.events(of: exit) }

    // MARK: VMCB

    private func vmcb(_ exit: ExitRecord) -> [FieldSection] {
        let state = result.state(of: exit)
        let vmcb12 = result.decidedState(of: exit, in: state).vmcb12
        var sections: [FieldSection] = []
        let intercepts = vmcb12.intercepts
        let interceptSource = intercepts.word3?.source ?? intercepts.cr?.source
        var fields: [DecodedField] = []
        func word(_ name: String, _ known: Known<UInt32>?, width: Int, decode: (UInt32) -> String) {
            fields.append(DecodedField(
                name: name, raw: known.map { Hex.format($0.value, width: width) },
                decoded: known.map { decode($0.value) } ?? "unknown (no kvm_nested_intercepts yet)"))
        }
        word("cr_read", intercepts.cr.map { Known($0.value & 0xffff, source: $0.source) }, width: 4, decode: VMCBDecoding.crBits)
        word("cr_write", intercepts.cr.map { Known($0.value >> 16, source: $0.source) }, width: 4, decode: VMCBDecoding.crBits)
        fields.append(DecodedField(
            name: "dr", raw: intercepts.dr.map { Hex.format($0.value, width: 8) },
            decoded: intercepts.dr.map { $0.source } ?? "unknown (kvm_nested_intercepts does not print word 1)"))
        word("exceptions", intercepts.exceptions, width: 8, decode: VMCBDecoding.exceptionBits)
        word("intercepts[3]", intercepts.word3, width: 8) { VMCBDecoding.interceptNames(word: 3, value: $0) }
        word("intercepts[4]", intercepts.word4, width: 8) { VMCBDecoding.interceptNames(word: 4, value: $0) }
        word("intercepts[5]", intercepts.word5, width: 8) { VMCBDecoding.interceptNames(word: 5, value: $0) }
        sections.append(FieldSection(title: "vmcb12 intercepts" + (interceptSource.map { " (\($0))" } ?? ""), fields: fields))

        var control: [DecodedField] = []
        control.append(DecodedField(
            name: "address", raw: state.vmcb12Address.map { Hex.format($0.value) },
            decoded: state.vmcb12Address?.source ?? "unknown (no kvm_nested_vmenter yet)"))
        control.append(DecodedField(
            name: "nested_ctl", raw: vmcb12.nestedPaging.map { $0.value ? "NP_ENABLE" : "0" },
            decoded: vmcb12.nestedPaging.map { $0.value ? "nested paging on" : "nested paging off" } ?? "unknown"))
        control.append(DecodedField(
            name: "nested_cr3", raw: vmcb12.nestedCR3.map { Hex.format($0.value) },
            decoded: vmcb12.nestedPaging?.value == false ? "not used (nested paging off)"
                : vmcb12.nestedCR3.map { "L1's NPT root (\($0.source))" } ?? "unknown"))
        if let cr3 = vmcb12.cr3 {
            control.append(DecodedField(name: "save.cr3", raw: Hex.format(cr3.value), decoded: "L2's CR3 (\(cr3.source))"))
        }
        control.append(DecodedField(
            name: "int_ctl", raw: vmcb12.intCtl.map { Hex.format($0.value, width: 8) },
            decoded: vmcb12.intCtl.map { VMCBDecoding.intCtl($0.value) } ?? "unknown"))
        control.append(DecodedField(
            name: "event_inj", raw: vmcb12.eventInj.map { Hex.format($0.value, width: 8) },
            decoded: vmcb12.eventInj.map { VMCBDecoding.event($0.value) } ?? "unknown"))
        let msrpmKnown = vmcb12.msrpm.entries.count
        if msrpmKnown > 0 {
            let text = vmcb12.msrpm.entries.keys.sorted().prefix(4).map { Hex.format($0) }.joined(separator: " ")
            control.append(DecodedField(
                name: "msrpm", raw: nil, decoded: "bits known for \(msrpmKnown) MSR(s): \(text)\(msrpmKnown > 4 ? " …" : "")"))
        }
        let controlSource = vmcb12.intCtl?.source ?? state.vmcb12Address?.source
        sections.append(FieldSection(title: "vmcb12 control" + (controlSource.map { " (\($0))" } ?? ""), fields: control))

        let code = exit.exitCode
        var exitFields = [DecodedField(name: "exit_code", raw: Hex.format(code, width: 3), decoded: ExitReasonNames.displayName(of: code))]
        exitFields.append(DecodedField(
            name: "exit_info_1", raw: exit.exitInfo1.map { Hex.format($0) },
            decoded: exit.exitInfo1.map { VMCBDecoding.exitInfo1(code: code, $0) } ?? "not printed"))
        exitFields.append(DecodedField(
            name: "exit_info_2", raw: exit.exitInfo2.map { Hex.format($0) },
            decoded: exit.exitInfo2.map { VMCBDecoding.exitInfo2(code: code, $0) } ?? "not printed"))
        exitFields.append(DecodedField(
            name: "exit_int_info", raw: exit.exitIntInfo.map { Hex.format($0, width: 8) },
            decoded: exit.exitIntInfo.map { VMCBDecoding.event($0, errorCode: exit.exitIntInfoErr) } ?? "not printed"))
        sections.append(FieldSection(title: "exit (\(exitSource(exit)))", fields: exitFields))

        if exit.recorded.kind == .reflectToL1 || exit.recorded.kind == .vmrunFails, let recordedCode = exit.recorded.exitCode {
            var toL1 = [DecodedField(
                name: "exit_code", raw: Hex.format(recordedCode, width: 3),
                decoded: ExitReasonNames.displayName(of: recordedCode))]
            toL1.append(DecodedField(
                name: "exit_info_1", raw: exit.recorded.exitInfo1.map { Hex.format($0) },
                decoded: exit.recorded.exitInfo1.map { VMCBDecoding.exitInfo1(code: recordedCode, $0) } ?? "not printed"))
            toL1.append(DecodedField(
                name: "exit_info_2", raw: exit.recorded.exitInfo2.map { Hex.format($0) },
                decoded: exit.recorded.exitInfo2.map { VMCBDecoding.exitInfo2(code: recordedCode, $0) } ?? "not printed"))
            if let info = exit.recorded.exitIntInfo {
                toL1.append(DecodedField(name: "exit_int_info", raw: Hex.format(info, width: 8), decoded: VMCBDecoding.event(info)))
            }
            sections.append(FieldSection(title: "#VMEXIT written to vmcb12 (kvm_nested_vmexit_inject)", fields: toL1))
        }
        return sections
    }
}
