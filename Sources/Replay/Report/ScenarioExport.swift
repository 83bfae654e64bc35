import Foundation
import NestedSVM
import TraceKit

/// `export --format scenario`: each chosen exit as a `decide` scenario (`docs/decide.md`) —
/// the state replay reconstructed, every value with its provenance (`{"value", "source"}`),
/// unknowns left out, the event, the replay's profile and host facts, and the recorded
/// outcome as `expect`. `svmdbg decide` on it reproduces the exit's decision.
public enum ScenarioExport {
    /// One scenario per exit, as a JSON object.
    public static func document(for exit: ExitRecord, in result: ReplayResult) -> [String: Any]? {
        guard let input = result.modelInput(for: exit) else { return nil }
        return document(exit: exit, input: input, result: result)
    }

    /// The scenarios of `exits`, one JSON object per line (scenarios of exits the model has
    /// no event for — a synthesized #VMEXIT no pending event explains — are left out).
    public static func jsonLines(_ exits: some Collection<ExitRecord>, in result: ReplayResult) -> String {
        var out = ""
        if exits.count > 32 {
            // Many exits: one walk for all states, then trace order.
            let wanted = Set(exits.map(\.index))
            var lines: [Int: String] = [:]
            result.forEachModelInput { exit, input in
                guard wanted.contains(exit.index), let input else { return }
                lines[exit.index] = text(document(exit: exit, input: input, result: result), pretty: false)
            }
            for exit in exits { if let line = lines[exit.index] { out += line + "\n" } }
            return out
        }
        for exit in exits {
            guard let document = document(for: exit, in: result) else { continue }
            out += text(document, pretty: false) + "\n"
        }
        return out
    }

    /// JSON text of `object` (sorted keys).
    public static func text(_ object: [String: Any], pretty: Bool) -> String {
        var options: JSONSerialization.WritingOptions = [.sortedKeys, .withoutEscapingSlashes]
        if pretty { options.insert(.prettyPrinted) }
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: options),
            let text = String(data: data, encoding: .utf8)
        else { return "{}" }
        return text
    }

    /// The scenario of `exit` whose model input is `input` (``ReplayResult/forEachModelInput(_:)``).
    public static func document(for exit: ExitRecord, in result: ReplayResult, input: ReplayResult.ModelInput) -> [String: Any]? {
        document(exit: exit, input: input, result: result)
    }

    static func document(exit: ExitRecord, input: ReplayResult.ModelInput, result: ReplayResult) -> [String: Any] {
        let source = result.trace.source
        var document: [String: Any] = [
            "description": "exit #\(exit.index) at line \(exit.lines.lowerBound) of \(source): \(exit.level?.rawValue ?? "?") \(exit.reasonName); verdict \(exit.verdict.kind == .match ? "match (\(exit.verdict.proof.rawValue))" : exit.verdict.kind.rawValue)",
            "source": source,
            "profile": result.options.profile.name,
            "state": state(input.state),
            "event": event(input.event),
        ]
        let host = self.host(result.host)
        if !host.isEmpty { document["host"] = host }
        let recorded = exit.recorded
        // `expect` in decide's schema (docs/decide.md): the recorded outcome's kind, its exit
        // code or injected vector, plus the recorded text and line span for the reader.
        var expect: [String: Any] = [
            "kind": recorded.kind.rawValue, "text": recorded.summary,
            "lines": [exit.lines.lowerBound, exit.lines.upperBound],
        ]
        if let code = recorded.exitCode, recorded.kind == .reflectToL1 || recorded.kind == .vmrunFails { expect["exit_code"] = hex(UInt64(code)) }
        if recorded.kind == .injectException, let vector = recorded.vector { expect["vector"] = hex(vector) }
        document["expect"] = expect
        return document
    }

    private static func hex<T: BinaryInteger>(_ value: T) -> String { "0x" + String(value, radix: 16) }

    private static func leaf<T>(_ known: Known<T>?, _ value: (T) -> Any) -> Any? {
        guard let known else { return nil }
        return ["value": value(known.value), "source": known.source]
    }

    private static func number(_ known: Known<UInt64>?) -> Any? { leaf(known) { hex($0) } }
    private static func number32(_ known: Known<UInt32>?) -> Any? { leaf(known) { hex($0) } }
    private static func flag(_ known: Known<Bool>?) -> Any? { leaf(known) { $0 ? 1 : 0 } }

    private static func host(_ host: HostFacts) -> [String: Any] {
        var out: [String: Any] = [:]
        out["svme_addr_chk"] = flag(host.svmeAddrChk)
        out["vgif"] = flag(host.vgif)
        out["npt"] = flag(host.npt)
        out["nrips"] = flag(host.nrips)
        out["decode_assists"] = flag(host.decodeAssists)
        out["maxphyaddr"] = leaf(host.maxPhysAddr) { $0 }
        out["vls"] = flag(host.vls)
        out["vmware_backdoor"] = flag(host.vmwareBackdoor)
        out["guest_debug"] = flag(host.guestDebug)
        return out
    }

    private static func state(_ state: VCPUState) -> [String: Any] {
        var out: [String: Any] = [:]
        out["level"] = leaf(state.level) { $0.rawValue }
        let vmcb = vmcb12(state.vmcb12)
        if !vmcb.isEmpty { out["vmcb12"] = vmcb }
        let l1 = registers(state.l1)
        if !l1.isEmpty { out["l1"] = l1 }
        let l2 = registers(state.l2)
        if !l2.isEmpty { out["l2"] = l2 }
        out["hsave_pa"] = number(state.hsavePA)
        out["smm"] = flag(state.inSMM)
        var guest: [String: Any] = [:]
        guest["maxphyaddr"] = leaf(state.guest.maxPhysAddr) { $0 }
        var cpuid: [String: Any] = [:]
        for (feature, known) in state.guest.features { cpuid[feature.rawValue] = flag(known) }
        if !cpuid.isEmpty { guest["cpuid"] = cpuid }
        guest["memory"] = leaf(state.guest.backedMemory) { ranges in ranges.map { [hex($0.start), hex($0.end)] } }
        var rejects: [String: Any] = [:]
        for (msr, known) in state.guest.l0RejectsMSR { rejects[hex(msr)] = flag(known) }
        if !rejects.isEmpty { guest["l0_rejects_msr"] = rejects }
        if !guest.isEmpty { out["guest"] = guest }
        var assumptions: [String: Any] = [:]
        for (id, known) in state.assumptions { assumptions[id.description] = flag(known) }
        if !assumptions.isEmpty { out["assumptions"] = assumptions }
        return out
    }

    private static func registers(_ registers: GuestRegisters) -> [String: Any] {
        var out: [String: Any] = [:]
        out["efer"] = number(registers.efer)
        out["cr0"] = number(registers.cr0)
        out["cr4"] = number(registers.cr4)
        out["cpl"] = leaf(registers.cpl) { Int($0) }
        out["rflags_if"] = flag(registers.interruptsEnabled)
        return out
    }

    private static func vmcb12(_ vmcb: VMCB12) -> [String: Any] {
        var out: [String: Any] = [:]
        var words: [String: Any] = [:]
        if let cr = vmcb.intercepts.cr {
            words["cr_read"] = ["value": hex(cr.value & 0xffff), "source": cr.source]
            words["cr_write"] = ["value": hex(cr.value >> 16), "source": cr.source]
        }
        if let dr = vmcb.intercepts.dr {
            words["dr_read"] = ["value": hex(dr.value & 0xffff), "source": dr.source]
            words["dr_write"] = ["value": hex(dr.value >> 16), "source": dr.source]
        }
        words["excp"] = number32(vmcb.intercepts.exceptions)
        words["word3"] = number32(vmcb.intercepts.word3)
        words["word4"] = number32(vmcb.intercepts.word4)
        words["word5"] = number32(vmcb.intercepts.word5)
        if !words.isEmpty { out["intercepts"] = words }
        var msrpm: [String: Any] = [:]
        func entry(_ bits: MSRPermissionMap.Entry) -> [String: Any] {
            var out: [String: Any] = [:]
            out["read"] = flag(bits.read)
            out["write"] = flag(bits.write)
            return out
        }
        for (msr, bits) in vmcb.msrpm.entries where bits.read != nil || bits.write != nil { msrpm[hex(msr)] = entry(bits) }
        if let others = vmcb.msrpm.otherBits, others.read != nil || others.write != nil { msrpm["*"] = entry(others) }
        if !msrpm.isEmpty { out["msrpm"] = msrpm }
        var iopm: [String: Any] = [:]
        for (port, known) in vmcb.iopm.ports { iopm[hex(port)] = flag(known) }
        if let others = vmcb.iopm.otherBits { iopm["*"] = flag(others) }
        if !iopm.isEmpty { out["iopm"] = iopm }
        out["nested_paging"] = flag(vmcb.nestedPaging)
        out["nested_cr3"] = number(vmcb.nestedCR3)
        out["int_ctl"] = number32(vmcb.intCtl)
        out["event_inj"] = number32(vmcb.eventInj)
        out["virt_ext"] = number(vmcb.virtExt)
        out["asid"] = number32(vmcb.asid)
        out["msrpm_base_pa"] = number(vmcb.msrpmBase)
        out["iopm_base_pa"] = number(vmcb.iopmBase)
        out["efer"] = number(vmcb.efer)
        out["cr0"] = number(vmcb.cr0)
        out["cr3"] = number(vmcb.cr3)
        out["cr4"] = number(vmcb.cr4)
        out["dr6"] = number(vmcb.dr6)
        out["dr7"] = number(vmcb.dr7)
        out["cs_attrib"] = leaf(vmcb.csAttributes) { hex($0) }
        return out
    }

    private static func event(_ event: Event) -> [String: Any] {
        switch event {
        case .hardwareExit(let exit):
            var out: [String: Any] = [
                "type": "exit", "exit_code": hex(exit.exitCode.rawValue), "exit_info_1": hex(exit.exitInfo1),
                "exit_info_2": hex(exit.exitInfo2), "exit_int_info": hex(exit.exitIntInfo),
                "exit_int_info_err": hex(exit.exitIntInfoErr),
            ]
            if let rip = exit.rip { out["rip"] = hex(rip) }
            if let bytes = exit.instructionBytes { out["insn_bytes"] = bytes.map { String(format: "%02x", $0) }.joined(separator: " ") }
            out["rax"] = number(exit.rax)
            out["rcx"] = number(exit.rcx)
            out["written_value"] = number(exit.writtenValue)
            out["l1_npt_walk_faults"] = flag(exit.l1NPTWalkFaults)
            return out
        case .pending(let pending):
            switch pending {
            case .initSignal: return ["type": "pending", "pending": "init"]
            case .smi: return ["type": "pending", "pending": "smi"]
            case .nmi: return ["type": "pending", "pending": "nmi"]
            case .interrupt: return ["type": "pending", "pending": "interrupt"]
            case .tripleFault: return ["type": "pending", "pending": "triple_fault"]
            case .virtualInterrupt(let vector):
                var out: [String: Any] = ["type": "pending", "pending": "v_irq"]
                if let vector { out["vector"] = Int(vector) }
                return out
            case .virtualNMI: return ["type": "pending", "pending": "v_nmi"]
            case .simultaneous(let events):
                // One list; the `vector` / `error_code` of its exception or virtual interrupt at the top.
                var out: [String: Any] = ["type": "pending"]
                var names: [String] = []
                for single in events {
                    var one = Self.event(.pending(single))
                    names.append((one["pending"] as? String) ?? "?")
                    one["type"] = nil
                    one["pending"] = nil
                    out.merge(one) { first, _ in first }
                }
                out["pending"] = names
                return out
            case .exception(let vector, let errorCode):
                var out: [String: Any] = ["type": "pending", "pending": "exception", "vector": Int(vector)]
                if let errorCode { out["error_code"] = hex(errorCode) }
                return out
            }
        case .vmrunConsistencyFailure(let message):
            return ["type": "vmrun_failed", "message": message]
        case .guestException(let vector, let errorCode, let bytes):
            var out: [String: Any] = ["type": "exception", "vector": Int(vector)]
            if let errorCode { out["error_code"] = hex(errorCode) }
            if let bytes { out["insn_bytes"] = bytes.map { String(format: "%02x", $0) }.joined(separator: " ") }
            return out
        case .feature(let feature):
            return feature.scenarioJSON
        case .eventInjection(let delivery):
            var out: [String: Any] = ["type": "event_inj", "event_inj": hex(delivery.eventInj)]
            if let errorCode = delivery.errorCode { out["event_inj_err"] = hex(errorCode) }
            if let gate = delivery.gate(delivery.vector) { out["idt"] = gate.rawValue }
            var gates: [String: Any] = Dictionary(uniqueKeysWithValues: delivery.gates.map { (String($0.key), $0.value.rawValue as Any) })
            if let other = delivery.otherGates { gates["*"] = other.rawValue }
            if !gates.isEmpty { out["idt_gates"] = gates }
            return out
        }
    }
}
