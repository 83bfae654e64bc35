import NestedSVM

/// `export --format lab-scenario`: one exit of a trace as a lab scenario (`lab/scenarios/*.scn`,
/// docs/lab.md "Scenario files") that replays it on real KVM in the lab, where the lab can
/// express the state.
///
/// What the lab can express: L1's VMRUN with a vmcb12 that differs from the one the lab's L1
/// builds (`lab/src/l1.c:vmcb_init`, the values ``LabScenarioFacts`` lists) in at most
/// ``maximumPokes`` fields — one `attempt` line (`vmm.c` pokes at most 4 fields per attempt)
/// before the scenario's normal run. The intercept words, MSRPM and IOPM bits and nested
/// paging the trace showed become the scenario's `intercepts`, `msr_read`/`msr_write`,
/// `io_ports` and `npt` lines. Fields the trace did not show take the lab's defaults (listed
/// in a comment). Exits of L2 (RDMSR/WRMSR, IN/OUT/INS/OUTS, CPUID) run one instruction of
/// the lab's generic L2 programs (`LabScenarioExportL2.swift`, `lab/src/l2-replay.S`). Not
/// expressible, with the reason: other L2 exits, L1 exits other than VMRUN, VMRUNs differing
/// in more fields, and exits whose deciding state is unknown.
public enum LabScenarioExport {
    /// Most fields one `attempt` pokes (`lab/src/vmm.c`: 4 pokes per attempt).
    public static let maximumPokes = 4

    /// A vmcb field an `attempt` can poke: VMCB byte offset and width in bits (APM vol. 2,
    /// appendix B), the lab's value, and the exit state's value if known.
    struct Field {
        var name: String
        var offset: UInt64
        var width: Int
        var labValue: UInt64
        var value: UInt64?
    }

    /// The `.scn` text for `exit`, or why the lab cannot express it.
    public static func scenario(for exit: ExitRecord, in result: ReplayResult, traceName: String) -> Result<String, LabScenarioRefusal> {
        guard exit.origin == .hardwareExit else {
            return .failure(.init(exit: exit.index, reason: "a #VMEXIT KVM synthesized has no instruction of its own to run in the lab"))
        }
        if exit.level == .l2 {
            return l2Scenario(for: exit, in: result, traceName: traceName)
        }
        guard exit.level == .l1 else {
            return .failure(.init(exit: exit.index, reason: "the level that ran (L1 or L2) is unknown"))
        }
        guard exit.exitCode == VMExitCode.vmrun.rawValue else {
            return .failure(.init(exit: exit.index, reason: "an L1 exit other than VMRUN: the lab's L1 runs only its fixed VMRUN loop (and VMLOAD/VMSAVE flows with a chosen RAX)"))
        }
        guard let input = result.modelInput(for: exit) else {
            return .failure(.init(exit: exit.index, reason: "the model has no input for this exit"))
        }
        var rax: UInt64?
        if case .hardwareExit(let hardware) = input.event { rax = hardware.rax?.value }
        return scenario(state: input.state, exit: exit, vmcb12Address: rax, traceName: traceName)
    }

    /// The `.scn` for L1's VMRUN with vmcb12 as `state` describes it.
    static func scenario(state: VCPUState, exit: ExitRecord, vmcb12Address: UInt64?, traceName: String) -> Result<String, LabScenarioRefusal> {
        let vmcb = state.vmcb12
        // Intercepts: every known set bit, plus the VMRUN and HLT intercepts the scenario's
        // normal run needs (a word that then differs from the trace's is poked).
        var words = [UInt32](repeating: 0, count: 6)
        let known: [Known<UInt32>?] = [vmcb.intercepts.cr, vmcb.intercepts.dr, vmcb.intercepts.exceptions,
                                      vmcb.intercepts.word3, vmcb.intercepts.word4, vmcb.intercepts.word5]
        for (index, word) in known.enumerated() { words[index] = word?.value ?? 0 }
        var labWords = words
        labWords[3] |= 1 << 24  // hlt (word 3 bit 24)
        labWords[4] |= 1 << 0  // vmrun (word 4 bit 0)
        var names: [String] = []
        for (slot, word) in labWords.enumerated() {
            for bit in 0..<32 where word >> UInt32(bit) & 1 != 0 {
                guard let name = interceptName(slot: slot, bit: bit) else {
                    return .failure(.init(exit: exit.index, reason: "intercept word \(slot) bit \(bit) has no name in the lab's scenario language"))
                }
                names.append(name)
            }
        }
        let npt = vmcb.nestedPaging?.value == true
        var fields: [Field] = []
        for (index, word) in known.enumerated() {
            fields.append(Field(name: "intercept word \(index)", offset: UInt64(index) * 4, width: 32, labValue: UInt64(labWords[index]), value: word.map { UInt64($0.value) }))
        }
        let facts = LabScenarioFacts.self
        fields += [
            Field(name: "iopm_base_pa", offset: 0x040, width: 64, labValue: facts.iopmBase, value: vmcb.iopmBase?.value),
            Field(name: "msrpm_base_pa", offset: 0x048, width: 64, labValue: facts.msrpmBase, value: vmcb.msrpmBase?.value),
            Field(name: "asid", offset: 0x058, width: 32, labValue: 1, value: vmcb.asid.map { UInt64($0.value) }),
            Field(name: "int_ctl", offset: 0x060, width: 32, labValue: 0, value: vmcb.intCtl.map { UInt64($0.value) }),
            Field(name: "event_inj", offset: 0x0a8, width: 32, labValue: 0, value: vmcb.eventInj.map { UInt64($0.value) }),
            Field(name: "virt_ext", offset: 0x0b8, width: 64, labValue: 0, value: vmcb.virtExt?.value),
            Field(name: "cs.attrib", offset: 0x412, width: 16, labValue: facts.kernelCode, value: vmcb.csAttributes.map { UInt64($0.value) }),
            Field(name: "efer", offset: 0x4d0, width: 64, labValue: facts.efer, value: vmcb.efer?.value),
            Field(name: "cr4", offset: 0x548, width: 64, labValue: facts.cr4, value: vmcb.cr4?.value),
            Field(name: "cr3", offset: 0x550, width: 64, labValue: facts.cr3, value: vmcb.cr3?.value),
            Field(name: "cr0", offset: 0x558, width: 64, labValue: facts.cr0, value: vmcb.cr0?.value),
            Field(name: "dr7", offset: 0x560, width: 64, labValue: facts.dr7, value: vmcb.dr7?.value),
            Field(name: "dr6", offset: 0x568, width: 64, labValue: facts.dr6, value: vmcb.dr6?.value),
        ]
        if npt {
            fields.append(Field(name: "nested_cr3", offset: 0x0b0, width: 64, labValue: facts.nestedCR3, value: vmcb.nestedCR3?.value))
        }
        let pokes = fields.filter { $0.value != nil && $0.value != $0.labValue }
        guard pokes.count <= maximumPokes else {
            return .failure(.init(exit: exit.index, reason: "vmcb12 differs from the lab's in \(pokes.count) fields (\(pokes.map(\.name).joined(separator: ", "))); one lab attempt pokes at most \(maximumPokes)"))
        }
        let defaulted = fields.filter { $0.value == nil }.map(\.name)
        var msrRead: [UInt32] = []
        var msrWrite: [UInt32] = []
        for (msr, entry) in vmcb.msrpm.entries.sorted(by: { $0.key < $1.key }) {
            if entry.read?.value == true { msrRead.append(msr) }
            if entry.write?.value == true { msrWrite.append(msr) }
        }
        let ports = vmcb.iopm.ports.filter { $0.value.value }.keys.sorted()
        func hex(_ value: some BinaryInteger) -> String { "0x" + String(value, radix: 16) }
        var lines: [String] = [
            "# Written by svmdbg export --format lab-scenario from \(traceName), exit #\(exit.index) (lines \(exit.lines.lowerBound)-\(exit.lines.upperBound)):",
            "# L1's VMRUN with vmcb12 as replay reconstructed it. Run: lab/run NAME -o DIR (copy this file to lab/scenarios/NAME.scn).",
        ]
        if !defaulted.isEmpty {
            lines.append("# Not shown by the trace, so the lab's own value is used: \(defaulted.joined(separator: ", ")).")
        }
        lines.append("# MSRPM/IOPM bits the trace did not show are clear in the lab.")
        if let gpa = vmcb12Address, gpa != LabScenarioFacts.vmcb12Address {
            lines.append("# The trace's vmcb12 was at \(hex(gpa)); the lab's is at \(hex(LabScenarioFacts.vmcb12Address)).")
        }
        lines += [
            "id = 900",
            "description = Reproducer of exit #\(exit.index) of \(traceName): one VMRUN with the trace's vmcb12, then the lab's valid vmcb12.",
            "program = hlt",
            "intercepts = " + names.joined(separator: " "),
        ]
        if !msrRead.isEmpty { lines.append("msr_read = " + msrRead.map { hex($0) }.joined(separator: " ")) }
        if !msrWrite.isEmpty { lines.append("msr_write = " + msrWrite.map { hex($0) }.joined(separator: " ")) }
        if !ports.isEmpty { lines.append("io_ports = " + ports.map { hex($0) }.joined(separator: " ")) }
        if npt { lines.append("npt = identity") }
        if !pokes.isEmpty {
            lines.append("attempt = trace exit \(exit.index) ; " + pokes.map { "\(hex($0.offset))/\($0.width) put \(hex($0.value ?? 0))" }.joined(separator: " ; "))
        } else {
            lines.append("# vmcb12 equals the lab's in every field the trace showed: the scenario's first VMRUN is that VMRUN.")
        }
        lines.append("initial_why = valid")
        return .success(lines.joined(separator: "\n") + "\n")
    }

    /// The lab's name for intercept word `slot`, bit `bit` (``LabScenarioFacts/intercept(_:)``'s inverse).
    static func interceptName(slot: Int, bit: Int) -> String? {
        switch slot {
        case 0: return bit < 16 ? "cr\(bit)_read" : "cr\(bit - 16)_write"
        case 1: return bit < 16 ? "dr\(bit)_read" : "dr\(bit - 16)_write"
        case 2: return bit < LabScenarioFacts.exceptions.count ? "excp_" + LabScenarioFacts.exceptions[bit] : nil
        case 3: return bit < LabScenarioFacts.word3.count ? LabScenarioFacts.word3[bit] : nil
        case 4: return bit < LabScenarioFacts.word4.count ? LabScenarioFacts.word4[bit] : nil
        case 5: return bit < LabScenarioFacts.word5.count ? LabScenarioFacts.word5[bit] : nil
        default: return nil
        }
    }
}

/// Why an exit cannot be written as a lab scenario.
public struct LabScenarioRefusal: Error, Sendable, CustomStringConvertible {
    /// The exit's index.
    public var exit: Int
    /// The reason, one line.
    public var reason: String
    public var description: String { "exit #\(exit): the lab cannot express it: \(reason)" }
}
