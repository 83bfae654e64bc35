import NestedSVM
import TraceKit

/// `export --format lab-scenario` for an exit of L2: one instruction of the lab's generic L2
/// programs (`lab/src/l2-replay.S`, `replay_*`) run with the exit's registers under L1's
/// intercepts as the exit's state shows them.
///
/// Expressible: RDMSR/WRMSR (exit 0x7c), IN/OUT/INS/OUTS with or without REP (0x7b) and
/// CPUID (0x72). The scenario states every input the nested decision reads
/// (`svm/nested.c:nested_svm_exit_handled_msr`, `nested_svm_intercept_ioio`,
/// `nested_svm_exit_special` for CPUID): the intercept bit (MSR_PROT, IOIO_PROT, CPUID), the
/// MSRPM bit of the MSR and direction or the IOPM bits of every port the access touches, and
/// the instruction's operands (ECX, EDX:EAX; port, size, direction, string, REP). When one of
/// them is unknown and the outcome depends on it, the exit is refused naming it; an operand
/// the outcome does not depend on (EDX:EAX of a reflected WRMSR, the data of a reflected OUT)
/// is written as 0 with a comment that says so.
extension LabScenarioExport {
    /// `LAB_L2_REPLAY` (`lab/src/l2-replay.S`): RAX, RCX, RDX, RSI, RDI of the replay program.
    public static let replayRegisters: UInt64 = 0x5fc00
    /// `LAB_L2_REPLAY_BUF`: the buffer string I/O reads or writes (to 0x5ffff).
    public static let replayBuffer: UInt64 = 0x5fd00
    static let replayBufferSize: UInt64 = 0x300
    /// `LAB_PORT_MARK`, `LAB_PORT_DONE` (lab.h): ports the lab's VMM answers itself.
    static let labPorts: ClosedRange<UInt32> = 0x510...0x511
    /// `INTERCEPT_CPUID` (word 3 bit 18, `arch/x86/include/asm/svm.h`).
    public static let cpuidIntercept = 96 + 18

    /// What an exported L2 scenario has to set up.
    struct L2Setup {
        var program: String
        var rax: UInt64 = 0
        var rcx: UInt64 = 0
        var rdx: UInt64 = 0
        var rsi: UInt64 = 0
        var rdi: UInt64 = 0
        var msrRead: [UInt32] = []
        var msrWrite: [UInt32] = []
        var ports: [UInt32] = []
        /// Values the scenario writes into the OUTS buffer (8 bytes each).
        var buffer: [UInt64] = []
        var comments: [String] = []
        var expectation: String
    }

    /// The `.scn` for an exit of L2, or why the lab cannot express it.
    static func l2Scenario(for exit: ExitRecord, in result: ReplayResult, traceName: String) -> Result<String, LabScenarioRefusal> {
        func refuse(_ reason: String) -> Result<String, LabScenarioRefusal> { .failure(.init(exit: exit.index, reason: reason)) }
        let code = exit.exitCode
        guard code == 0x7c || code == 0x7b || code == VMExitCode.cpuid.rawValue else {
            return refuse("an exit of L2 other than MSR, IOIO and CPUID (here \(exit.reasonName), \(hex(code))): the lab's generic L2 programs (lab/src/l2-replay.S) run RDMSR/WRMSR, IN/OUT/INS/OUTS and CPUID only")
        }
        guard let input = result.modelInput(for: exit), case .hardwareExit(let hardware) = input.event else {
            return refuse("the model has no input for this exit")
        }
        let events = result.events(of: exit).map { result.trace.payload(of: $0) }
        var event = hardware
        // Operands a facts file gives for the instruction at this RIP (`"operands"` with a
        // `rip` scope, as replay applies them: Walk+ExitState), where the exit's events do not
        // show them (a reflected RDMSR has no kvm_msr line).
        let address = result.state(of: exit).vmcb12Address?.value
        for file in result.options.facts {
            for entry in file.entries where entry.rip != nil && entry.vmruns == nil && !entry.instructionScoped
                && entry.applies(vmcb12Address: address, vcpu: exit.vcpu, level: .l2, rip: exit.rip)
            {
                if event.rcx == nil { event.rcx = entry.rcx }
                if event.rax == nil { event.rax = entry.rax }
            }
        }
        var registers: [String: Known<UInt64>] = [:]
        for register in result.probeRegisters(of: exit) { registers[register.name] = Known(register.value, source: register.source) }
        return l2Scenario(for: exit, hardware: event, state: input.state, events: events, registers: registers, traceName: traceName)
    }

    /// The `.scn` for L2's exit `hardware` under `state` (the exit's own events in `events`:
    /// `kvm_msr`, `kvm_pio`, `kvm_cpuid` give operands the state does not hold).
    /// `registers`: L2's general-purpose registers a probe recorded at the exit (`RAX`, `RDX`, ...).
    static func l2Scenario(
        for exit: ExitRecord, hardware: HardwareExit, state: VCPUState, events: [EventPayload],
        registers: [String: Known<UInt64>] = [:], traceName: String
    ) -> Result<String, LabScenarioRefusal> {
        guard let info1 = exit.exitInfo1, !hardware.isUnknown("exit_info_1") else {
            return .failure(.init(exit: exit.index, reason: "exit_info_1 is unknown"))
        }
        let setup: Result<L2Setup, LabScenarioRefusal>
        switch exit.exitCode {
        case 0x7c: setup = msrSetup(exit: exit, hardware: hardware, info1: info1, state: state, events: events, registers: registers)
        case 0x7b: setup = ioSetup(exit: exit, hardware: hardware, info1: info1, state: state, events: events, registers: registers)
        default: setup = cpuidSetup(exit: exit, hardware: hardware, state: state, events: events)
        }
        switch setup {
        case .failure(let refusal): return .failure(refusal)
        case .success(let setup): return l2Text(setup, exit: exit, state: state, traceName: traceName)
        }
    }

    /// The known value of intercept `bit` of vmcb12, or a refusal naming it.
    static func interceptBit(_ bit: Int, name: String, in state: VCPUState, exit: ExitRecord) -> Result<Bool, LabScenarioRefusal> {
        guard let known = state.vmcb12.intercepts.bit(bit) else {
            return .failure(.init(exit: exit.index, reason: "vmcb12's \(name) intercept (intercept word \(bit / 32) bit \(bit % 32)) is unknown"))
        }
        return .success(known.value)
    }

    static func msrSetup(
        exit: ExitRecord, hardware: HardwareExit, info1: UInt64, state: VCPUState, events: [EventPayload], registers: [String: Known<UInt64>]
    ) -> Result<L2Setup, LabScenarioRefusal> {
        func refuse(_ reason: String) -> Result<L2Setup, LabScenarioRefusal> { .failure(.init(exit: exit.index, reason: reason)) }
        let write = info1 & 1 != 0
        let direction = write ? "write" : "read"
        let prot: Bool
        switch interceptBit(InterceptBit.msrProt, name: "MSR_PROT", in: state, exit: exit) {
        case .failure(let refusal): return .failure(refusal)
        case .success(let value): prot = value
        }
        guard let rcx = hardware.rcx else {
            return refuse("the MSR number (ECX) is unknown: the exit has no kvm_msr line and no facts file states it")
        }
        let msr = UInt32(truncatingIfNeeded: rcx.value)
        var setup = L2Setup(program: write ? "replay_wrmsr" : "replay_rdmsr", expectation: "")
        setup.rcx = rcx.value
        setup.comments.append("ECX = \(hex(msr)) [\(rcx.source)].")
        var reflects = prot
        if prot {
            if MSRPermissionMap.position(msr: msr, write: write) == nil {
                setup.comments.append("MSR \(hex(msr)) lies outside the three MSRPM ranges: with MSR_PROT set, L1 always gets it.")
            } else {
                guard let bit = state.vmcb12.msrpm.bit(msr: msr, write: write) else {
                    return refuse("L1's MSRPM \(direction) bit of MSR \(hex(msr)) is unknown")
                }
                reflects = bit.value
                if bit.value {
                    if write { setup.msrWrite = [msr] } else { setup.msrRead = [msr] }
                }
                setup.comments.append("MSRPM \(direction) bit of MSR \(hex(msr)): \(bit.value ? 1 : 0) (the trace's state; every other MSRPM bit is clear in the lab and L2 touches no other MSR).")
            }
        } else {
            setup.comments.append("MSR_PROT is clear in the trace's vmcb12: L1 intercepts no MSR, so no MSRPM bit matters.")
        }
        let shown = events.compactMap { payload -> KVMMSR? in
            if case .msr(let access) = payload, access.msr == msr, access.isWrite == write { return access }
            return nil
        }.first
        if write {
            if let shown {
                setup.rax = shown.data & 0xffff_ffff
                setup.rdx = shown.data >> 32
                setup.comments.append("EDX:EAX = \(hex(shown.data)) from the exit's kvm_msr line.")
            } else if let rax = registers["RAX"], let rdx = registers["RDX"] {
                setup.rax = rax.value & 0xffff_ffff
                setup.rdx = rdx.value & 0xffff_ffff
                setup.comments.append("EDX:EAX = \(hex(setup.rdx << 32 | setup.rax)) [\(rax.source), \(rdx.source)].")
            } else if reflects {
                setup.comments.append("EDX:EAX is unknown (no kvm_msr line): the lab writes 0; L1 gets the exit whatever the value.")
            } else {
                return refuse("the value WRMSR writes (EDX:EAX) is unknown, and L0 emulates this WRMSR, where the value decides whether KVM accepts it")
            }
        }
        let name = write ? "WRMSR" : "RDMSR"
        setup.expectation = reflects
            ? "step 1: \(name) \(hex(msr)) exits to L1 (#VMEXIT 0x7c, exit_info_1 \(write ? 1 : 0))"
            : "step 1: L1 does not intercept \(name) \(hex(msr)), L0 emulates it for L2"
        return .success(setup)
    }

    static func ioSetup(exit: ExitRecord, hardware: HardwareExit, info1: UInt64, state: VCPUState, events: [EventPayload], registers: [String: Known<UInt64>]) -> Result<L2Setup, LabScenarioRefusal> {
        func refuse(_ reason: String) -> Result<L2Setup, LabScenarioRefusal> { .failure(.init(exit: exit.index, reason: reason)) }
        let io = IOIOExitInfo(info1)
        guard [1, 2, 4].contains(io.size) else { return refuse("exit_info_1 \(hex(info1)) names no access size 1, 2 or 4") }
        let touched = (0..<UInt32(io.size)).map { io.port + $0 }
        if touched.contains(where: { labPorts.contains($0) }) {
            return refuse("port \(hex(io.port)) size \(io.size) touches ports \(hex(labPorts.lowerBound))-\(hex(labPorts.upperBound)), which the lab's VMM uses for L1's log")
        }
        let prot: Bool
        switch interceptBit(InterceptBit.ioioProt, name: "IOIO_PROT", in: state, exit: exit) {
        case .failure(let refusal): return .failure(refusal)
        case .success(let value): prot = value
        }
        let suffix = io.size == 1 ? "b" : io.size == 2 ? "w" : "l"
        let base = (io.isIn ? "in" : "out") + (io.isString ? "s" : "")
        var setup = L2Setup(program: "replay_" + (io.isRep ? "rep_" : "") + base + suffix, expectation: "")
        setup.rdx = UInt64(io.port)
        var reflects = false
        if prot {
            var bits: [String] = []
            for port in touched {
                guard let bit = state.vmcb12.iopm.bit(port: port) else {
                    return refuse("L1's IOPM bit of port \(hex(port)) is unknown (the access touches ports \(hex(io.port))-\(hex(touched.last!)))")
                }
                if bit.value { setup.ports.append(port) }
                reflects = reflects || bit.value
                bits.append("\(hex(port)): \(bit.value ? 1 : 0)")
            }
            setup.comments.append("IOPM bits of the ports the access touches: \(bits.joined(separator: ", ")) (the trace's state; every other IOPM bit is clear in the lab).")
        } else {
            setup.comments.append("IOIO_PROT is clear in the trace's vmcb12: L1 intercepts no port, so no IOPM bit matters.")
        }
        let shown = events.compactMap { payload -> KVMPIO? in
            if case .pio(let pio) = payload, pio.port == io.port, pio.isWrite == !io.isIn { return pio }
            return nil
        }.first
        if io.isString {
            if io.isIn { setup.rdi = replayBuffer } else { setup.rsi = replayBuffer }
            setup.comments.append("\(io.isIn ? "RDI" : "RSI") points at the lab's buffer \(hex(replayBuffer)) (the trace's address is L2's own; the decision does not read it).")
        }
        if io.isRep {
            // RCX as a probe recorded it or a facts file's operands give it (`hardware.rcx`); a
            // kvm_pio line's count is the iterations of that one exit, not RCX.
            var count: UInt64 = 1
            if let rcx = registers["RCX"] ?? hardware.rcx, rcx.value > 0, rcx.value <= replayBufferSize / UInt64(io.size) {
                count = rcx.value
                setup.comments.append("RCX = \(count) [\(rcx.source)].")
            } else {
                setup.comments.append("RCX = 1: the trace does not show the count (or it exceeds the lab's buffer); the exit is decided on the first iteration, the count only sets how many follow.")
            }
            setup.rcx = count
        }
        if !io.isIn {
            let mask: UInt64 = io.size == 4 ? 0xffff_ffff : io.size == 2 ? 0xffff : 0xff
            if let value = shown.map({ UInt64($0.value) }) {
                if io.isString { setup.buffer = [value] } else { setup.rax = value }
                setup.comments.append("The data written: \(hex(value)), from the exit's kvm_pio line.")
            } else if !io.isString, let rax = registers["RAX"] {
                setup.rax = rax.value & mask
                setup.comments.append("The data written: \(hex(setup.rax)) [\(rax.source)].")
            } else {
                setup.comments.append("The data written is unknown (no kvm_pio line): the lab writes 0; the decision does not read it.")
            }
        }
        setup.comments.append("exit_info_1's address-size and segment bits come from the lab's 64-bit L2 (QEMU TCG leaves the address-size bits 0); KVM's decision reads only port, size and direction.")
        let access = io.summary
        setup.expectation = prot && reflects
            ? "step 1: \(access) exits to L1 (#VMEXIT 0x7b)"
            : "step 1: L1 does not intercept \(access), L0 handles it for L2"
        return .success(setup)
    }

    static func cpuidSetup(exit: ExitRecord, hardware: HardwareExit, state: VCPUState, events: [EventPayload]) -> Result<L2Setup, LabScenarioRefusal> {
        let intercepted: Bool
        switch interceptBit(cpuidIntercept, name: "CPUID", in: state, exit: exit) {
        case .failure(let refusal): return .failure(refusal)
        case .success(let value): intercepted = value
        }
        var setup = L2Setup(program: "replay_cpuid", expectation: "")
        if let shown = events.compactMap({ payload -> KVMCPUID? in
            if case .cpuid(let cpuid) = payload { return cpuid }
            return nil
        }).first {
            setup.rax = UInt64(shown.function)
            setup.rcx = UInt64(shown.index)
            setup.comments.append("EAX = \(hex(shown.function)), ECX = \(hex(shown.index)) from the exit's kvm_cpuid line.")
        } else if let rax = hardware.rax {
            setup.rax = rax.value & 0xffff_ffff
            setup.rcx = (hardware.rcx?.value ?? 0) & 0xffff_ffff
            setup.comments.append("EAX = \(hex(setup.rax)) [\(rax.source)], ECX = \(hex(setup.rcx))\(hardware.rcx.map { " [\($0.source)]" } ?? " (unknown: 0)").")
        } else {
            setup.comments.append("EAX/ECX are unknown (no kvm_cpuid line): the lab uses leaf 0; the decision does not read them.")
        }
        setup.expectation = intercepted ? "step 1: CPUID exits to L1 (#VMEXIT 0x72)" : "step 1: L1 does not intercept CPUID, L0 emulates it for L2"
        return .success(setup)
    }

    static func l2Text(_ setup: L2Setup, exit: ExitRecord, state: VCPUState, traceName: String) -> Result<String, LabScenarioRefusal> {
        let vmcb = state.vmcb12
        let known: [Known<UInt32>?] = [vmcb.intercepts.cr, vmcb.intercepts.dr, vmcb.intercepts.exceptions,
                                      vmcb.intercepts.word3, vmcb.intercepts.word4, vmcb.intercepts.word5]
        var words = known.map { $0?.value ?? 0 }
        words[3] |= 1 << 24  // hlt: L1 stops at the program's final HLT
        words[4] |= 1 << 0  // vmrun: KVM refuses a VMRUN without it
        let names: [String]
        switch interceptNames(words, exit: exit) {
        case .failure(let refusal): return .failure(refusal)
        case .success(let list): names = list
        }
        let unknownWords = known.enumerated().filter { $0.element == nil }.map { "\($0.offset)" }
        let npt = vmcb.nestedPaging?.value == true
        var lines = [
            "# Written by svmdbg export --format lab-scenario from \(traceName), exit #\(exit.index) (lines \(exit.lines.lowerBound)-\(exit.lines.upperBound)):",
            "# L2's \(exit.reasonName) exit, replayed by the lab's generic L2 program \(setup.program) (lab/src/l2-replay.S) with the exit's",
            "# registers under L1's intercepts as replay reconstructed them. Run: lab/run NAME -o DIR (copy this file to lab/scenarios/NAME.scn).",
            "# Recorded outcome: \(exit.recorded.summary) (\(exit.recorded.kind.rawValue)); svmdbg's model: \(exit.model.description).",
        ]
        lines += setup.comments.map { "# " + $0 }
        if !unknownWords.isEmpty {
            lines.append("# Intercept words the trace did not show are 0 in the lab: \(unknownWords.joined(separator: ", ")).")
        }
        lines.append("# HLT and VMRUN are intercepted so the lab's L1 can run L2 and stop at the program's final HLT.")
        if vmcb.nestedPaging == nil {
            lines.append("# vmcb12's nested paging is unknown: the lab runs L2 without it.")
        }
        lines += [
            "id = 901",
            "description = Reproducer of exit #\(exit.index) of \(traceName): L2 runs \(setup.program) once under the trace's intercepts.",
            "program = \(setup.program)",
            "intercepts = " + names.joined(separator: " "),
        ]
        if !setup.msrRead.isEmpty { lines.append("msr_read = " + setup.msrRead.map { hex($0) }.joined(separator: " ")) }
        if !setup.msrWrite.isEmpty { lines.append("msr_write = " + setup.msrWrite.map { hex($0) }.joined(separator: " ")) }
        if !setup.ports.isEmpty { lines.append("io_ports = " + setup.ports.map { hex($0) }.joined(separator: " ")) }
        if npt { lines.append("npt = identity") }
        let registers: [(String, UInt64)] = [("RAX", setup.rax), ("RCX", setup.rcx), ("RDX", setup.rdx), ("RSI", setup.rsi), ("RDI", setup.rdi)]
        lines.append("# L2's registers at \(hex(replayRegisters)) (l2-replay.S loads them before step 1): " + registers.map(\.0).joined(separator: ", ") + ".")
        for (offset, register) in registers.enumerated() {
            lines.append("mem = \(hex(replayRegisters + UInt64(offset) * 8)) \(hex(register.1))")
        }
        if !setup.buffer.isEmpty { lines.append("# The data OUTS reads, at \(hex(replayBuffer)).") }
        for (offset, value) in setup.buffer.enumerated() {
            lines.append("mem = \(hex(replayBuffer + UInt64(offset) * 8)) \(hex(value))")
        }
        lines.append("max_exits = 8")
        lines.append("expect = \(setup.expectation); exit #\(exit.index) of \(traceName) recorded: \(exit.recorded.summary)")
        lines.append("initial_why = valid")
        return .success(lines.joined(separator: "\n") + "\n")
    }

    /// The lab's names of every set bit of the six intercept words.
    static func interceptNames(_ words: [UInt32], exit: ExitRecord) -> Result<[String], LabScenarioRefusal> {
        var names: [String] = []
        for (slot, word) in words.enumerated() {
            for bit in 0..<32 where word >> UInt32(bit) & 1 != 0 {
                guard let name = interceptName(slot: slot, bit: bit) else {
                    return .failure(.init(exit: exit.index, reason: "intercept word \(slot) bit \(bit) has no name in the lab's scenario language"))
                }
                names.append(name)
            }
        }
        return .success(names)
    }

    static func hex(_ value: some BinaryInteger) -> String { "0x" + String(value, radix: 16) }
}

/// What an exported lab scenario states, read back from its text (the keys `vmm.c` reads for
/// the replay programs): for tests and for comparing two exports.
public struct LabScenarioStatedInputs: Sendable, Equatable {
    /// `program =`.
    public var program = "hlt"
    /// `intercepts =` names.
    public var intercepts: Set<String> = []
    /// `msr_read =`, `msr_write =`, `io_ports =`.
    public var msrRead: Set<UInt64> = []
    public var msrWrite: Set<UInt64> = []
    public var ioPorts: Set<UInt64> = []
    /// `npt =`.
    public var npt = "off"
    /// `mem = ADDR VALUE` lines.
    public var memory: [UInt64: UInt64] = [:]

    /// Reads `text`; `nil` when a line is not `KEY = VALUE` or a number does not parse.
    public init?(text: String) {
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty, !line.hasPrefix("#") else { continue }
            guard let equals = line.firstIndex(of: "=") else { return nil }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            let words = line[line.index(after: equals)...].split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            func numbers() -> [UInt64]? {
                let parsed = words.map { $0.lowercased().hasPrefix("0x") ? UInt64($0.dropFirst(2), radix: 16) : UInt64($0) }
                return parsed.contains(nil) ? nil : parsed.compactMap { $0 }
            }
            switch key {
            case "program": program = words.first ?? ""
            case "intercepts": intercepts.formUnion(words)
            case "npt": npt = words.first ?? ""
            case "msr_read", "msr_write", "io_ports":
                guard let list = numbers() else { return nil }
                if key == "msr_read" { msrRead.formUnion(list) } else if key == "msr_write" { msrWrite.formUnion(list) } else { ioPorts.formUnion(list) }
            case "mem":
                guard let pair = numbers(), pair.count == 2 else { return nil }
                memory[pair[0]] = pair[1]
            default:
                continue
            }
        }
    }

    /// The replay program's register `index` (0 RAX, 1 RCX, 2 RDX, 3 RSI, 4 RDI), as the
    /// scenario writes it at `LabScenarioExport.replayRegisters`.
    public func register(_ index: Int) -> UInt64? { memory[LabScenarioExport.replayRegisters + UInt64(index) * 8] }
}
