extension Rule {
    /// L1 intercepts I/O at all only with IOIO_PROT.
    public static let ioProt = Rule(
        "svm.io.l1-intercepts", "does L1 intercept I/O at all (vmcb12 IOIO_PROT, bit 123)?",
        kernel: "svm/nested.c:nested_svm_intercept_ioio")
    /// Port, size and direction come from exit_info_1.
    public static let ioDecode = Rule(
        "svm.io.decode", "which port, size and direction (exit_info_1 bits 31:16, 6:4, 0)?",
        kernel: "svm/nested.c:nested_svm_intercept_ioio")
    /// Any IOPM bit of the accessed ports set means L1's.
    public static let iopmBits = Rule(
        "svm.io.iopm-bits", "is any IOPM bit of the accessed ports set (one bit per port, may span two bytes)?",
        kernel: "svm/nested.c:nested_svm_intercept_ioio")
    /// L0's own I/O handling.
    public static let ioL0 = Rule(
        "svm.io.l0-handles", "is it a string instruction (emulated) or a plain IN/OUT (fast PIO)?",
        kernel: "svm/svm.c:io_interception")
}

/// Fields of IOIO `exit_info_1` (`SVM_IOIO_*`, `arch/x86/include/asm/svm.h`; APM vol. 2
/// "IOIO Intercept Information").
public struct IOIOExitInfo: Sendable, Equatable {
    /// Bit 0 (`SVM_IOIO_TYPE_MASK`): 1 = IN.
    public var isIn: Bool
    /// Bit 2 (`SVM_IOIO_STR_SHIFT`): INS/OUTS.
    public var isString: Bool
    /// Bit 3 (`SVM_IOIO_REP_SHIFT`): REP prefix.
    public var isRep: Bool
    /// Bits 6:4 as a number (`SVM_IOIO_SIZE_MASK >> SVM_IOIO_SIZE_SHIFT`): 1, 2 or 4 bytes.
    public var size: Int
    /// Bits 31:16: the port.
    public var port: UInt32

    /// Decodes `exit_info_1` of an IOIO exit.
    public init(_ info1: UInt64) {
        isIn = info1 & 1 != 0
        isString = info1 & (1 << 2) != 0
        isRep = info1 & (1 << 3) != 0
        size = Int((info1 >> 4) & 7)
        port = UInt32((info1 >> 16) & 0xffff)
    }

    /// `port 0x3ff size 2 in rep string`.
    public var summary: String {
        "port \(Hex.format(port)) size \(size) \(isIn ? "in" : "out")" + (isRep ? " rep" : "") + (isString ? " string" : "")
    }
}

extension Evaluator {
    /// `nested_svm_intercept_ioio`, then `io_interception` on HOST.
    mutating func ioInterception(_ exit: HardwareExit) -> Outcome {
        let reflect = Outcome.reflect(exit.exitCode, info1: exit.exitInfo1, info2: exit.exitInfo2)
        return branch(
            .ioProt, field: InterceptWords.fieldName(ofBit: InterceptBit.ioioProt), fact: FactID.intercept(InterceptBit.ioioProt), l1Intercepts(InterceptBit.ioioProt),
            yes: { evaluator in
                let io = IOIOExitInfo(exit.exitInfo1)
                let startBit = io.port % 8
                let bytes = startBit + UInt32(io.size) > 8 ? 2 : 1
                evaluator.record(
                    .ioDecode,
                    [.event("exit_info_1", Hex.format(exit.exitInfo1)),
                     Evidence(field: "iopm bytes read", value: "\(bytes) at offset \(Hex.format(io.port / 8))", source: "derived")],
                    Answer(rawValue: io.summary),
                    note: bytes == 2 ? "the access spills into the next IOPM byte (2-byte read)" : nil)
                guard [1, 2, 4].contains(io.size) else {
                    // mask = (0xf >> (4 - size)) is 0 for size 0; sizes 3 and 5–7 never come from hardware.
                    if io.size == 0 {
                        evaluator.record(.iopmBits, [Evidence(field: "size", value: "0", source: "event")], .no, note: "an empty mask never matches")
                        return evaluator.l0IO(exit, io: io)
                    }
                    evaluator.record(.iopmBits, [Evidence(field: "size", value: "\(io.size)", source: "event")], .unknown, note: "hardware reports only sizes 1, 2 and 4")
                    return .undetermined([], missing: ["a valid IOIO size in exit_info_1"])
                }
                return evaluator.iopmDecision(io: io, exit: exit, reflect: reflect)
            },
            no: { $0.l0IO(exit, io: IOIOExitInfo(exit.exitInfo1)) })
    }

    private mutating func iopmDecision(io: IOIOExitInfo, exit: HardwareExit, reflect: Outcome) -> Outcome {
        let ports = (0..<UInt32(io.size)).map { io.port + $0 }
        let bits = ports.map { (port: $0, bit: state.vmcb12.iopm.bit(port: $0)) }
        let evidence = bits.map { Evidence.flag("iopm[\(Hex.format($0.port))]", $0.bit) }
        if bits.contains(where: { $0.bit?.value == true }) {
            record(.iopmBits, evidence, .yes, note: "an unreadable L1 IOPM also reflects")
            return reflect
        }
        let unknown = bits.filter { $0.bit == nil }.map { "iopm[\(Hex.format($0.port))]" }
        if unknown.isEmpty {
            record(.iopmBits, evidence, .no)
            return l0IO(exit, io: io)
        }
        record(.iopmBits, evidence, .unknown)
        let unknownPorts = bits.filter { $0.bit == nil }.map(\.port)
        var clear: [Fact: Bool] = [:]
        for port in unknownPorts { clear[FactID.iopm(port)] = false }
        // "Any of several bits is set" is not a conjunction: one port names its own bit, more
        // ports get a fact for the group.
        let anySet: [Fact: Bool] = unknownPorts.count == 1
            ? [FactID.iopm(unknownPorts[0]): true]
            : [FactID.iopmAny(unknownPorts[0], unknownPorts[unknownPorts.count - 1]): true]
        if unknownPorts.count > 1, clear.keys.contains(where: { fact($0)?.value == true }) {
            record(.factKnown, [Evidence(field: "a known set bit among", value: unknown.joined(separator: ", "))], "reflect")
            return reflect
        }
        return fork(missing: unknown, [
            Branch(unknownPorts.count == 1 ? "\(unknown[0]) is set" : "any of \(unknown.joined(separator: ", ")) is set", anySet) { _ in reflect },
            Branch(unknownPorts.count == 1 ? "\(unknown[0]) is clear" : "all of \(unknown.joined(separator: ", ")) are clear", clear) { $0.l0IO(exit, io: io) },
        ])
    }

    /// L0's `io_interception` while L2 runs.
    mutating func l0IO(_ exit: HardwareExit, io: IOIOExitInfo) -> Outcome {
        record(.ioL0, [.event("exit_info_1", io.summary)], io.isString ? "string: emulate" : "fast PIO")
        if io.isString {
            return .emulate(
                "x86.c:kvm_emulate_instruction", level: .l2,
                detail: "string I/O goes through the emulator (kvm_emulate_insn, kvm_pio)")
        }
        return .l0Handles(
            "svm/svm.c:io_interception", level: .l2,
            detail: "x86.c:kvm_fast_pio: in-kernel device, or KVM_EXIT_IO to userspace (kvm_pio)")
    }
}
