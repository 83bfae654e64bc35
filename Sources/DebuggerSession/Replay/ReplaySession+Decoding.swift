import NestedSVM
import DebuggerUI

/// Decoders for the VMCB fields the replay session shows: exit information per exit class,
/// intercept words, `int_ctl` and the EVENTINJ/EXITINTINFO format.
///
/// Bit positions follow `reference/exit-codes.md` (APM vol. 2 §15 and appendix C as KVM's
/// `arch/x86/include/asm/svm.h` names them); each constant cites its section.
enum VMCBDecoding {
    // MARK: Exit codes (exit-codes.md §1)

    /// `SVM_EXIT_IOIO`.
    static let ioioExit: UInt32 = 0x07b
    /// `SVM_EXIT_MSR`.
    static let msrExit: UInt32 = 0x07c
    /// `SVM_EXIT_NPF`.
    static let npfExit: UInt32 = 0x400
    /// `SVM_EXIT_EXCP_BASE`: exception vector v exits with 0x40 + v.
    static let exceptionBase: UInt32 = 0x040
    /// `SVM_EXIT_VMRUN`, `SVM_EXIT_VMLOAD`, `SVM_EXIT_VMSAVE` (their operand is RAX).
    static let vmrunExit: UInt32 = 0x080, vmloadExit: UInt32 = 0x082, vmsaveExit: UInt32 = 0x083
    /// `SVM_EXIT_READ_CR0` … `SVM_EXIT_WRITE_CR15` (0x00–0x1f).
    static let crAccessRange: ClosedRange<UInt32> = 0x000...0x01f

    // MARK: IOIO exit_info_1 (exit-codes.md §2.1)

    /// `SVM_IOIO_TYPE_MASK`: 1 = IN.
    static let ioioTypeIn: UInt64 = 1 << 0
    /// `SVM_IOIO_STR_SHIFT` 2: INS/OUTS.
    static let ioioString: UInt64 = 1 << 2
    /// `SVM_IOIO_REP_SHIFT` 3: REP prefix.
    static let ioioRep: UInt64 = 1 << 3
    /// `SVM_IOIO_SIZE_SHIFT` 4, mask 7: operand size in bytes (1, 2, 4).
    static let ioioSizeShift: UInt64 = 4
    /// Port number in bits 31:16.
    static let ioioPortShift: UInt64 = 16

    /// The port of an IOIO `exit_info_1`.
    static func ioioPort(_ info1: UInt64) -> UInt16 { UInt16(truncatingIfNeeded: info1 >> ioioPortShift) }

    /// `port 0x510 out 4B`, with `string` and `rep` when set.
    static func ioio(_ info1: UInt64) -> String {
        let size = (info1 >> ioioSizeShift) & 7
        var parts = ["port \(Hex.format(ioioPort(info1)))", info1 & ioioTypeIn != 0 ? "in" : "out", "\(size)B"]
        if info1 & ioioString != 0 { parts.append("string") }
        if info1 & ioioRep != 0 { parts.append("rep") }
        return parts.joined(separator: " ")
    }

    // MARK: NPF exit_info_1 (exit-codes.md §2.2)

    /// The page-fault error-code bits of an NPF `exit_info_1` with their `PFERR_*` names.
    static let npfBits: [(bit: Int, name: String)] = [
        (1, "write"), (2, "user"), (3, "reserved-bit"), (4, "fetch"), (5, "protection-key"), (31, "rmp"),
        (32, "final-translation"), (33, "guest-page-table-walk"), (34, "encrypted"), (35, "size-mismatch"),
        (36, "vmpl"),
    ]

    /// `present, write, user, final-translation` (bit 0 clear reads `not-present`).
    static func npf(_ info1: UInt64) -> String {
        var parts = [info1 & 1 != 0 ? "present" : "not-present"]
        for (bit, name) in npfBits where info1 & (1 << UInt64(bit)) != 0 { parts.append(name) }
        return parts.joined(separator: ", ")
    }

    // MARK: int_ctl (exit-codes.md §4.2)

    /// The single-bit `int_ctl` flags with their `V_*` names.
    static let intCtlBits: [(bit: Int, name: String)] = [
        (8, "V_IRQ"), (9, "V_GIF"), (11, "V_NMI_PENDING"), (12, "V_NMI_BLOCKING"), (20, "V_IGN_TPR"),
        (24, "V_INTR_MASKING"), (25, "V_GIF_ENABLE"), (26, "V_NMI_ENABLE"), (30, "X2APIC_MODE"),
        (31, "AVIC_ENABLE"),
    ]

    /// `V_INTR_MASKING V_TPR=2`, or `none`.
    static func intCtl(_ value: UInt32) -> String {
        var parts = intCtlBits.filter { value & (1 << UInt32($0.bit)) != 0 }.map(\.name)
        let tpr = value & 0xf  // bits 3:0 V_TPR
        if tpr != 0 { parts.append("V_TPR=\(tpr)") }
        let priority = (value >> 16) & 0xf  // bits 19:16 V_INTR_PRIO
        if priority != 0 { parts.append("V_INTR_PRIO=\(priority)") }
        return parts.isEmpty ? "none" : parts.joined(separator: " ")
    }

    // MARK: EVENTINJ / EXITINTINFO (exit-codes.md §4.3)

    /// Bit 31: an event is valid (in flight / to inject).
    static let eventValid: UInt32 = 1 << 31
    /// Bit 11: the error code field is valid.
    static let eventErrorValid: UInt32 = 1 << 11

    /// `valid exception #GP (error code 0x0)`, `none (V=0)`, or the stale payload without V.
    static func event(_ value: UInt32, errorCode: UInt32? = nil) -> String {
        let vector = UInt8(value & 0xff)
        let kind: String
        switch (value >> 8) & 7 {
        case 0: kind = "external interrupt \(Hex.format(vector))"
        case 2: kind = "NMI"
        case 3: kind = "exception \(ExceptionVector.name(vector))"
        case 4: kind = "software interrupt \(Hex.format(vector))"
        default: kind = "type \((value >> 8) & 7) vector \(Hex.format(vector))"
        }
        var text = kind
        if value & eventErrorValid != 0 {
            text += errorCode.map { " (error code \(Hex.format($0)))" } ?? " (with error code)"
        }
        if value & eventValid != 0 { return "valid " + text }
        return value == 0 ? "none (V=0)" : "not valid (V=0; stale \(text))"
    }

    // MARK: Intercept words (exit-codes.md §3)

    /// `CR0 CR3` for the set bits of a 16-bit CR read/write half, or `none`.
    static func crBits(_ half: UInt32) -> String {
        let set = (0..<16).filter { half & (1 << UInt32($0)) != 0 }.map { "CR\($0)" }
        return set.isEmpty ? "none" : set.joined(separator: " ")
    }

    /// `#UD #GP` for the exception bitmap, or `none`.
    static func exceptionBits(_ word: UInt32) -> String {
        let set = (0..<32).filter { word & (1 << UInt32($0)) != 0 }.map { ExceptionVector.name(UInt8($0)) }
        return set.isEmpty ? "none" : set.joined(separator: " ")
    }

    /// `HLT MSR_PROT` for word 3, 4 or 5 by `INTERCEPT_*` name, or `none`.
    static func interceptNames(word: Int, value: UInt32) -> String {
        let set = (0..<32).filter { value & (1 << UInt32($0)) != 0 }.map { bit -> String in
            let absolute = word * 32 + bit
            return InterceptBit.name(absolute) ?? "bit \(absolute)"
        }
        return set.isEmpty ? "none" : set.joined(separator: " ")
    }

    // MARK: Exit information per exit class (exit-codes.md §2)

    /// The meaning of `exit_info_1` for `code`, empty when it carries nothing.
    static func exitInfo1(code: UInt32, _ info1: UInt64) -> String {
        switch code {
        case ioioExit: return ioio(info1)
        case msrExit: return info1 & 1 == 1 ? "WRMSR" : "RDMSR"
        case npfExit: return npf(info1)
        case crAccessRange:
            // Bit 63 (CR_VALID) and GPR in bits 3:0 with decode assists only (§2 table).
            guard info1 >> 63 == 1 else { return info1 == 0 ? "no decode-assist information" : "" }
            return "MOV CR, GPR \(info1 & 0xf)"
        case exceptionBase...(exceptionBase + 31):
            let vector = UInt8(code - exceptionBase)
            return ExceptionVector.hasErrorCode(vector) ? "error code \(Hex.format(info1))" : ""
        default: return ""
        }
    }

    /// The meaning of `exit_info_2` for `code`, empty when it carries nothing.
    static func exitInfo2(code: UInt32, _ info2: UInt64) -> String {
        switch code {
        case ioioExit: return "next RIP \(Hex.format(info2))"
        case npfExit: return "faulting GPA \(Hex.format(info2))"
        case exceptionBase + UInt32(ExceptionVector.pageFault): return "faulting address \(Hex.format(info2))"
        default: return ""
        }
    }
}
