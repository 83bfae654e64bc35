// The exit-code table, exception vectors and `Hex` live in SVMCodes; re-exported so every
// importer of NestedSVM keeps using them by their old names.
@_exported import SVMCodes

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

    /// The name the model uses for this code (``SVMExitCodes/modelName(of:)``: the kernel's
    /// `SVM_EXIT_REASONS` name, or the lowercase constant where the kernel has none), or `nil`.
    public var name: String? { SVMExitCodes.modelName(of: rawValue) }

    /// `name (0x07c)` or `0x…` when the code has no name.
    public var description: String {
        let hex = Hex.format(rawValue, width: 3)
        if let name { return "\(name) (\(hex))" }
        return hex
    }
}
