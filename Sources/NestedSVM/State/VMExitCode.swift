/// An SVM #VMEXIT code (the low 32 bits of the VMCB `exit_code` field), kept raw so codes the
/// model does not name still round-trip.
///
/// Named constants follow `SVM_EXIT_*` of `arch/x86/include/uapi/asm/svm.h`; `name` is the
/// string the kernel prints (`SVM_EXIT_REASONS`). For codes 0x000–0x0a4 the intercept bit
/// that enables the exit equals the code (APM vol. 2, "Intercept vector"), which is what
/// `svm/nested.c:nested_svm_intercept` relies on (`vmcb12_is_intercept`).
public struct VMExitCode: RawRepresentable, Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// The 32-bit exit code; `0xffffffff` is VMEXIT_INVALID.
    public var rawValue: UInt32
    /// Wraps a raw code.
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// Wraps a raw code.
    public init(_ rawValue: UInt32) { self.rawValue = rawValue }

    /// Orders codes numerically.
    public static func < (lhs: VMExitCode, rhs: VMExitCode) -> Bool { lhs.rawValue < rhs.rawValue }

    /// `SVM_EXIT_READ_CR0`; read of CRn is `readCR0 + n`.
    public static let readCR0 = VMExitCode(0x000)
    /// `SVM_EXIT_READ_CR3`.
    public static let readCR3 = VMExitCode(0x003)
    /// `SVM_EXIT_READ_CR4`.
    public static let readCR4 = VMExitCode(0x004)
    /// `SVM_EXIT_READ_CR8`.
    public static let readCR8 = VMExitCode(0x008)
    /// `SVM_EXIT_WRITE_CR0`; write of CRn is `writeCR0 + n`.
    public static let writeCR0 = VMExitCode(0x010)
    /// `SVM_EXIT_WRITE_CR3`.
    public static let writeCR3 = VMExitCode(0x013)
    /// `SVM_EXIT_WRITE_CR4`.
    public static let writeCR4 = VMExitCode(0x014)
    /// `SVM_EXIT_WRITE_CR8`.
    public static let writeCR8 = VMExitCode(0x018)
    /// `SVM_EXIT_READ_DR0`; read of DRn is `readDR0 + n`.
    public static let readDR0 = VMExitCode(0x020)
    /// `SVM_EXIT_WRITE_DR0`; write of DRn is `writeDR0 + n`.
    public static let writeDR0 = VMExitCode(0x030)
    /// `SVM_EXIT_EXCP_BASE`; exception vector v exits with `exceptionBase + v`.
    public static let exceptionBase = VMExitCode(0x040)
    /// `SVM_EXIT_LAST_EXCP`.
    public static let lastException = VMExitCode(0x05f)
    /// `SVM_EXIT_INTR`: physical interrupt.
    public static let intr = VMExitCode(0x060)
    /// `SVM_EXIT_NMI`.
    public static let nmi = VMExitCode(0x061)
    /// `SVM_EXIT_SMI`.
    public static let smi = VMExitCode(0x062)
    /// `SVM_EXIT_INIT`.
    public static let initSignal = VMExitCode(0x063)
    /// `SVM_EXIT_VINTR`: virtual interrupt window.
    public static let vintr = VMExitCode(0x064)
    /// `SVM_EXIT_CR0_SEL_WRITE`: selective CR0 write intercept.
    public static let cr0SelectiveWrite = VMExitCode(0x065)
    /// `SVM_EXIT_RDTSC`.
    public static let rdtsc = VMExitCode(0x06e)
    /// `SVM_EXIT_RDPMC`.
    public static let rdpmc = VMExitCode(0x06f)
    /// `SVM_EXIT_CPUID`.
    public static let cpuid = VMExitCode(0x072)
    /// `SVM_EXIT_IRET`.
    public static let iret = VMExitCode(0x074)
    /// `SVM_EXIT_INVD`.
    public static let invd = VMExitCode(0x076)
    /// `SVM_EXIT_PAUSE`.
    public static let pause = VMExitCode(0x077)
    /// `SVM_EXIT_HLT`.
    public static let hlt = VMExitCode(0x078)
    /// `SVM_EXIT_INVLPG`.
    public static let invlpg = VMExitCode(0x079)
    /// `SVM_EXIT_INVLPGA`.
    public static let invlpga = VMExitCode(0x07a)
    /// `SVM_EXIT_IOIO`.
    public static let ioio = VMExitCode(0x07b)
    /// `SVM_EXIT_MSR`.
    public static let msr = VMExitCode(0x07c)
    /// `SVM_EXIT_TASK_SWITCH`.
    public static let taskSwitch = VMExitCode(0x07d)
    /// `SVM_EXIT_SHUTDOWN`.
    public static let shutdown = VMExitCode(0x07f)
    /// `SVM_EXIT_VMRUN`.
    public static let vmrun = VMExitCode(0x080)
    /// `SVM_EXIT_VMMCALL` (printed `hypercall`).
    public static let vmmcall = VMExitCode(0x081)
    /// `SVM_EXIT_VMLOAD`.
    public static let vmload = VMExitCode(0x082)
    /// `SVM_EXIT_VMSAVE`.
    public static let vmsave = VMExitCode(0x083)
    /// `SVM_EXIT_STGI`.
    public static let stgi = VMExitCode(0x084)
    /// `SVM_EXIT_CLGI`.
    public static let clgi = VMExitCode(0x085)
    /// `SVM_EXIT_SKINIT`.
    public static let skinit = VMExitCode(0x086)
    /// `SVM_EXIT_RDTSCP`.
    public static let rdtscp = VMExitCode(0x087)
    /// `SVM_EXIT_WBINVD`.
    public static let wbinvd = VMExitCode(0x089)
    /// `SVM_EXIT_MONITOR`.
    public static let monitor = VMExitCode(0x08a)
    /// `SVM_EXIT_MWAIT`.
    public static let mwait = VMExitCode(0x08b)
    /// `SVM_EXIT_MWAIT_COND`.
    public static let mwaitConditional = VMExitCode(0x08c)
    /// `SVM_EXIT_XSETBV`.
    public static let xsetbv = VMExitCode(0x08d)
    /// `SVM_EXIT_RDPRU`.
    public static let rdpru = VMExitCode(0x08e)
    /// `SVM_EXIT_INVPCID`.
    public static let invpcid = VMExitCode(0x0a2)
    /// The last code whose intercept bit number equals the code (TLBSYNC, bit 164).
    public static let lastInterceptIdentity = VMExitCode(0x0a4)
    /// `SVM_EXIT_NPF`: nested page fault.
    public static let npf = VMExitCode(0x400)
    /// `SVM_EXIT_ERR`: VMEXIT_INVALID, the VMCB was rejected.
    public static let invalid = VMExitCode(0xffff_ffff)

    /// The exception exit for `vector` (`0x40 + vector`).
    public static func exception(_ vector: UInt8) -> VMExitCode { VMExitCode(0x40 + UInt32(vector & 0x1f)) }

    /// The exception vector when this is an exception exit (0x40–0x5f), else `nil`.
    public var exceptionVector: UInt8? {
        (0x40...0x5f).contains(rawValue) ? UInt8(rawValue - 0x40) : nil
    }

    /// The name the kernel prints for this code (`SVM_EXIT_REASONS`), or `nil` if it has none.
    public var name: String? {
        if let vector = exceptionVector {
            return ExceptionVector.mnemonic(vector).map { "\($0) excp" }
        }
        switch rawValue {
        case 0x000...0x00f: return "read_cr\(rawValue)"
        case 0x010...0x01f: return "write_cr\(rawValue - 0x10)"
        case 0x020...0x02f: return "read_dr\(rawValue - 0x20)"
        case 0x030...0x03f: return "write_dr\(rawValue - 0x30)"
        default: return Self.names[rawValue]
        }
    }

    /// `name (0x07c)` or `0x…` when the code has no name.
    public var description: String {
        let hex = Hex.format(rawValue, width: 3)
        if let name { return "\(name) (\(hex))" }
        return hex
    }

    private static let names: [UInt32: String] = [
        0x060: "interrupt", 0x061: "nmi", 0x062: "smi", 0x063: "init", 0x064: "vintr",
        0x065: "cr0_sel_write", 0x066: "read_idtr", 0x067: "read_gdtr", 0x068: "read_ldtr",
        0x069: "read_rt", 0x06a: "write_idtr", 0x06b: "write_gdtr", 0x06c: "write_ldtr",
        0x06d: "write_rt", 0x06e: "rdtsc", 0x06f: "rdpmc", 0x070: "pushf", 0x071: "popf",
        0x072: "cpuid", 0x073: "rsm", 0x074: "iret", 0x075: "swint", 0x076: "invd",
        0x077: "pause", 0x078: "hlt", 0x079: "invlpg", 0x07a: "invlpga", 0x07b: "io",
        0x07c: "msr", 0x07d: "task_switch", 0x07e: "ferr_freeze", 0x07f: "shutdown",
        0x080: "vmrun", 0x081: "hypercall", 0x082: "vmload", 0x083: "vmsave", 0x084: "stgi",
        0x085: "clgi", 0x086: "skinit", 0x087: "rdtscp", 0x088: "icebp", 0x089: "wbinvd",
        0x08a: "monitor", 0x08b: "mwait", 0x08c: "mwait_cond", 0x08d: "xsetbv", 0x08e: "rdpru",
        0x08f: "write_efer_trap", 0x090: "write_cr0_trap", 0x094: "write_cr4_trap",
        0x098: "write_cr8_trap", 0x0a0: "invlpgb", 0x0a1: "invlpgb_illegal", 0x0a2: "invpcid",
        0x0a3: "mcommit", 0x0a4: "tlbsync", 0x400: "npf", 0x401: "avic_incomplete_ipi",
        0x402: "avic_unaccelerated_access", 0x403: "vmgexit", 0xffff_ffff: "invalid",
    ]
}

/// Exception vector names as KVM prints them (`kvm_trace_sym_exc`).
public enum ExceptionVector {
    /// `#DE` = 0.
    public static let divideError: UInt8 = 0
    /// `#DB` = 1.
    public static let debug: UInt8 = 1
    /// `#BP` = 3.
    public static let breakpoint: UInt8 = 3
    /// `#UD` = 6.
    public static let invalidOpcode: UInt8 = 6
    /// `#GP` = 13.
    public static let generalProtection: UInt8 = 13
    /// `#PF` = 14.
    public static let pageFault: UInt8 = 14
    /// `#AC` = 17.
    public static let alignmentCheck: UInt8 = 17
    /// `#MC` = 18.
    public static let machineCheck: UInt8 = 18

    /// Two-letter mnemonic (`GP`) of a vector, or `nil` when the kernel has none.
    public static func mnemonic(_ vector: UInt8) -> String? {
        let table: [UInt8: String] = [
            0: "DE", 1: "DB", 3: "BP", 4: "OF", 5: "BR", 6: "UD", 7: "NM", 8: "DF", 10: "TS",
            11: "NP", 12: "SS", 13: "GP", 14: "PF", 16: "MF", 17: "AC", 18: "MC", 19: "XM",
            20: "VE", 21: "CP", 28: "HV", 29: "VC", 30: "SX",
        ]
        return table[vector]
    }

    /// `#GP` style name, or `vector N`.
    public static func name(_ vector: UInt8) -> String {
        mnemonic(vector).map { "#\($0)" } ?? "vector \(vector)"
    }

    /// Whether the exception pushes an error code (#DF #TS #NP #SS #GP #PF #AC #CP #VC #SX),
    /// as `x86.c:x86_exception_has_error_code` decides.
    public static func hasErrorCode(_ vector: UInt8) -> Bool {
        [8, 10, 11, 12, 13, 14, 17, 21, 29, 30].contains(vector)
    }
}

/// Hex formatting shared by evidence, rendering and scenario errors.
public enum Hex {
    /// `0x` followed by at least `width` lowercase hex digits.
    public static func format<T: BinaryInteger>(_ value: T, width: Int = 1) -> String {
        let digits = String(value, radix: 16)
        let pad = max(0, width - digits.count)
        return "0x" + String(repeating: "0", count: pad) + digits
    }
}
