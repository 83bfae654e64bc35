/// L1's vmcb12 intercept vector (VMCB 0x000–0x017), one optional word at a time.
///
/// Each 32-bit word is known or not on its own: `kvm_nested_intercepts` prints words 0, 2, 3,
/// 4 and 5 but never word 1 (the DR intercepts), so DR exits stay undetermined unless the
/// caller knows that word. Bit numbers are absolute (word = bit / 32), as in
/// `arch/x86/include/asm/svm.h` `INTERCEPT_*` and `exit-codes.md` §3.
public struct InterceptWords: Sendable, Equatable, Codable {
    /// Word 0: CRn read intercepts in bits 0–15, CRn write intercepts in bits 16–31.
    public var cr: Known<UInt32>?
    /// Word 1: DRn read intercepts in bits 0–15, DRn write intercepts in bits 16–31.
    public var dr: Known<UInt32>?
    /// Word 2: exception bitmap, bit v = vector v.
    public var exceptions: Known<UInt32>?
    /// Word 3: INTR (bit 0) … SHUTDOWN (bit 31), absolute bits 96–127.
    public var word3: Known<UInt32>?
    /// Word 4: VMRUN (bit 0) … TRAP_CR15_WRITE, absolute bits 128–159.
    public var word4: Known<UInt32>?
    /// Word 5: INVLPGB … TLBSYNC, absolute bits 160–191.
    public var word5: Known<UInt32>?

    /// Builds an intercept vector; omitted words are unknown.
    public init(
        cr: Known<UInt32>? = nil, dr: Known<UInt32>? = nil, exceptions: Known<UInt32>? = nil,
        word3: Known<UInt32>? = nil, word4: Known<UInt32>? = nil, word5: Known<UInt32>? = nil
    ) {
        self.cr = cr
        self.dr = dr
        self.exceptions = exceptions
        self.word3 = word3
        self.word4 = word4
        self.word5 = word5
    }

    /// The word holding absolute bit `index / 32`, if known.
    public func word(_ index: Int) -> Known<UInt32>? {
        switch index {
        case 0: cr
        case 1: dr
        case 2: exceptions
        case 3: word3
        case 4: word4
        case 5: word5
        default: nil
        }
    }

    /// Absolute intercept bit `bit` (0–191), or `nil` when its word is unknown.
    public func bit(_ bit: Int) -> Known<Bool>? {
        guard bit >= 0, bit < InterceptBit.count, let word = word(bit / 32) else { return nil }
        return Known(word.value & (1 << UInt32(bit % 32)) != 0, source: word.source)
    }

    /// The name of the VMCB field holding absolute bit `bit`, for evidence lines.
    public static func fieldName(ofBit bit: Int) -> String {
        switch bit / 32 {
        case 0: bit < 16 ? "vmcb12 intercept cr_read bit \(bit)" : "vmcb12 intercept cr_write bit \(bit - 16)"
        case 1: bit < 48 ? "vmcb12 intercept dr_read bit \(bit - 32)" : "vmcb12 intercept dr_write bit \(bit - 48)"
        case 2: "vmcb12 intercept excp bit \(bit - 64)"
        default: "vmcb12 intercept \(InterceptBit.name(bit) ?? "bit \(bit)") (bit \(bit))"
        }
    }
}

/// Absolute intercept bit numbers (`INTERCEPT_*`, `arch/x86/include/asm/svm.h`).
public enum InterceptBit {
    /// Number of intercept bits (`MAX_INTERCEPT` = 6 words of 32).
    public static let count = 192
    /// `INTERCEPT_CR0_READ`; CRn read = n.
    public static let cr0Read = 0
    /// `INTERCEPT_CR0_WRITE`; CRn write = 16 + n.
    public static let cr0Write = 16
    /// `INTERCEPT_DR0_READ`; DRn read = 32 + n.
    public static let dr0Read = 32
    /// `INTERCEPT_DR0_WRITE`; DRn write = 48 + n.
    public static let dr0Write = 48
    /// `INTERCEPT_EXCEPTION_OFFSET`; vector v = 64 + v.
    public static let exceptionOffset = 64
    /// `INTERCEPT_INTR`.
    public static let intr = 96
    /// `INTERCEPT_NMI`.
    public static let nmi = 97
    /// `INTERCEPT_SMI`.
    public static let smi = 98
    /// `INTERCEPT_INIT`.
    public static let initSignal = 99
    /// `INTERCEPT_VINTR`.
    public static let vintr = 100
    /// `INTERCEPT_SELECTIVE_CR0`.
    public static let selectiveCR0 = 101
    /// `INTERCEPT_IOIO_PROT`.
    public static let ioioProt = 123
    /// `INTERCEPT_MSR_PROT`.
    public static let msrProt = 124
    /// `INTERCEPT_SHUTDOWN`.
    public static let shutdown = 127
    /// `INTERCEPT_VMRUN`.
    public static let vmrun = 128
    /// `INTERCEPT_VMMCALL`.
    public static let vmmcall = 129
    /// `INTERCEPT_VMLOAD`.
    public static let vmload = 130
    /// `INTERCEPT_VMSAVE`.
    public static let vmsave = 131

    /// The `INTERCEPT_*` name of words 3–5, or `nil`.
    public static func name(_ bit: Int) -> String? {
        let names = [
            "INTR", "NMI", "SMI", "INIT", "VINTR", "SELECTIVE_CR0", "STORE_IDTR", "STORE_GDTR",
            "STORE_LDTR", "STORE_TR", "LOAD_IDTR", "LOAD_GDTR", "LOAD_LDTR", "LOAD_TR", "RDTSC",
            "RDPMC", "PUSHF", "POPF", "CPUID", "RSM", "IRET", "INTn", "INVD", "PAUSE", "HLT",
            "INVLPG", "INVLPGA", "IOIO_PROT", "MSR_PROT", "TASK_SWITCH", "FERR_FREEZE", "SHUTDOWN",
            "VMRUN", "VMMCALL", "VMLOAD", "VMSAVE", "STGI", "CLGI", "SKINIT", "RDTSCP", "ICEBP",
            "WBINVD", "MONITOR", "MWAIT", "MWAIT_COND", "XSETBV", "RDPRU", "TRAP_EFER_WRITE",
            "TRAP_CR0_WRITE", "TRAP_CR1_WRITE", "TRAP_CR2_WRITE", "TRAP_CR3_WRITE",
            "TRAP_CR4_WRITE", "TRAP_CR5_WRITE", "TRAP_CR6_WRITE", "TRAP_CR7_WRITE",
            "TRAP_CR8_WRITE",
        ]
        if bit >= 96, bit - 96 < names.count { return names[bit - 96] }
        let word5 = ["INVLPGB", "INVLPGB_ILLEGAL", "INVPCID", "MCOMMIT", "TLBSYNC"]
        if bit >= 160, bit - 160 < word5.count { return word5[bit - 160] }
        return nil
    }
}
