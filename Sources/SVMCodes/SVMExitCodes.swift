/// The one table of SVM #VMEXIT codes (VMCB `EXITCODE`, low 32 bits) with every spelling
/// svmdbg reads or prints. TraceKit's ``SVMExitReason`` and NestedSVM's `VMExitCode` are views
/// on it.
///
/// Spellings, per row:
/// - `constant`: the `SVM_EXIT_` suffix of `arch/x86/include/uapi/asm/svm.h`; libtraceevent's
///   `plugin_kvm` prints it as `EXIT_` + constant (`trace-cmd report`).
/// - `kernelName`: what `SVM_EXIT_REASONS` in the same header prints through tracefs and
///   `trace-cmd report -N` (`npf`, `GP excp`, `hypercall`); `nil` for codes the kernel's
///   table leaves out (it then prints the number). Checked against 6.12's header.
/// - `modelName`: the name the model's decisions and explanations use (`VMExitCode.name`):
///   the kernel name, and for codes the kernel's table leaves out the lowercase constant
///   (`mwait_cond`, `rdpru`, `invlpgb`, `invalid`). CRn/DRn and exception codes have generic
///   model names (``modelName(of:)``), not rows.
public enum SVMExitCodes {
    /// One code and its spellings.
    public struct Row: Sendable, Hashable {
        public var code: UInt32
        public var constant: String
        public var kernelName: String?
        public var modelName: String?
    }

    /// `SVM_EXIT_EXCP_BASE`: exception intercepts are 0x40 + vector (APM vol. 2, table C-1).
    public static let exceptionBase: UInt32 = 0x040
    /// `SVM_EXIT_ERR` (-1, VMEXIT_INVALID) in 32 bits.
    public static let invalid: UInt32 = 0xffff_ffff

    /// Every row, by code.
    public static let rows: [Row] = {
        var rows: [Row] = []
        for cr in [0, 2, 3, 4, 8] as [UInt32] {
            rows.append(Row(code: cr, constant: "READ_CR\(cr)", kernelName: "read_cr\(cr)"))
            rows.append(Row(code: 0x10 + cr, constant: "WRITE_CR\(cr)", kernelName: "write_cr\(cr)"))
        }
        for dr in 0...7 as ClosedRange<UInt32> {
            rows.append(Row(code: 0x20 + dr, constant: "READ_DR\(dr)", kernelName: "read_dr\(dr)"))
            rows.append(Row(code: 0x30 + dr, constant: "WRITE_DR\(dr)", kernelName: "write_dr\(dr)"))
        }
        // `SVM_EXIT_REASONS` names 17 exception exits; it spells #XM (vector 19) `XF`.
        for (vector, mnemonic) in ExceptionVector.exitReasonMnemonics {
            rows.append(Row(code: exceptionBase + UInt32(vector), constant: "EXCP_\(mnemonic)", kernelName: "\(mnemonic) excp"))
        }
        let named: [(UInt32, String, String?, String?)] = [
            (0x060, "INTR", "interrupt", nil), (0x061, "NMI", "nmi", nil), (0x062, "SMI", "smi", nil),
            (0x063, "INIT", "init", nil), (0x064, "VINTR", "vintr", nil),
            (0x065, "CR0_SEL_WRITE", "cr0_sel_write", nil), (0x066, "IDTR_READ", "read_idtr", nil),
            (0x067, "GDTR_READ", "read_gdtr", nil), (0x068, "LDTR_READ", "read_ldtr", nil),
            (0x069, "TR_READ", "read_rt", nil), (0x06a, "IDTR_WRITE", "write_idtr", nil),
            (0x06b, "GDTR_WRITE", "write_gdtr", nil), (0x06c, "LDTR_WRITE", "write_ldtr", nil),
            (0x06d, "TR_WRITE", "write_rt", nil), (0x06e, "RDTSC", "rdtsc", nil), (0x06f, "RDPMC", "rdpmc", nil),
            (0x070, "PUSHF", "pushf", nil), (0x071, "POPF", "popf", nil), (0x072, "CPUID", "cpuid", nil),
            (0x073, "RSM", "rsm", nil), (0x074, "IRET", "iret", nil), (0x075, "SWINT", "swint", nil),
            (0x076, "INVD", "invd", nil), (0x077, "PAUSE", "pause", nil), (0x078, "HLT", "hlt", nil),
            (0x079, "INVLPG", "invlpg", nil), (0x07a, "INVLPGA", "invlpga", nil), (0x07b, "IOIO", "io", nil),
            (0x07c, "MSR", "msr", nil), (0x07d, "TASK_SWITCH", "task_switch", nil),
            (0x07e, "FERR_FREEZE", "ferr_freeze", nil), (0x07f, "SHUTDOWN", "shutdown", nil),
            (0x080, "VMRUN", "vmrun", nil), (0x081, "VMMCALL", "hypercall", nil), (0x082, "VMLOAD", "vmload", nil),
            (0x083, "VMSAVE", "vmsave", nil), (0x084, "STGI", "stgi", nil), (0x085, "CLGI", "clgi", nil),
            (0x086, "SKINIT", "skinit", nil), (0x087, "RDTSCP", "rdtscp", nil), (0x088, "ICEBP", "icebp", nil),
            (0x089, "WBINVD", "wbinvd", nil), (0x08a, "MONITOR", "monitor", nil), (0x08b, "MWAIT", "mwait", nil),
            (0x08c, "MWAIT_COND", nil, "mwait_cond"), (0x08d, "XSETBV", "xsetbv", nil), (0x08e, "RDPRU", nil, "rdpru"),
            (0x08f, "EFER_WRITE_TRAP", "write_efer_trap", nil),
            (0x090, "CR0_WRITE_TRAP", "write_cr0_trap", nil), (0x094, "CR4_WRITE_TRAP", "write_cr4_trap", nil),
            (0x098, "CR8_WRITE_TRAP", "write_cr8_trap", nil),
            (0x0a0, "INVLPGB", nil, "invlpgb"), (0x0a1, "INVLPGB_ILLEGAL", nil, "invlpgb_illegal"),
            (0x0a2, "INVPCID", "invpcid", nil), (0x0a3, "MCOMMIT", nil, "mcommit"), (0x0a4, "TLBSYNC", nil, "tlbsync"),
            (0x0a5, "BUS_LOCK", "buslock", nil), (0x0a6, "IDLE_HLT", "idle-halt", nil),
            (0x400, "NPF", "npf", nil), (0x401, "AVIC_INCOMPLETE_IPI", "avic_incomplete_ipi", nil),
            (0x402, "AVIC_UNACCELERATED_ACCESS", "avic_unaccelerated_access", nil),
            (0x403, "VMGEXIT", "vmgexit", nil),
            (invalid, "ERR", nil, "invalid"),
        ]
        for (code, constant, kernel, model) in named {
            rows.append(Row(code: code, constant: constant, kernelName: kernel, modelName: model ?? kernel))
        }
        return rows
    }()

    /// Codes whose rows libtraceevent's plugin names; the rows of codes only the model names
    /// (`INVLPGB`, `INVLPGB_ILLEGAL`, `MCOMMIT`, `TLBSYNC`) are not the plugin's.
    private static let modelOnly: Set<UInt32> = [0x0a0, 0x0a1, 0x0a3, 0x0a4]

    /// Code → kernel name.
    public static let kernelNames: [UInt32: String] = {
        var table: [UInt32: String] = [:]
        for row in rows { if let name = row.kernelName { table[row.code] = name } }
        return table
    }()

    /// Code → plugin name (`EXIT_` + constant).
    public static let pluginNames: [UInt32: String] = {
        var table: [UInt32: String] = [:]
        for row in rows where !modelOnly.contains(row.code) { table[row.code] = "EXIT_" + row.constant }
        return table
    }()

    /// Kernel names the model's table does not carry (`SVM_EXIT_BUS_LOCK`, `SVM_EXIT_IDLE_HLT`
    /// came later): `VMExitCode` prints these codes as numbers.
    private static let kernelOnly: Set<UInt32> = [0x0a5, 0x0a6]

    /// Code → model name, for the codes that have a row.
    private static let modelNames: [UInt32: String] = {
        var table: [UInt32: String] = [:]
        for row in rows where row.code >= 0x060 && !kernelOnly.contains(row.code) {
            if let name = row.modelName { table[row.code] = name }
        }
        return table
    }()

    /// Every printed name (kernel and plugin dialects) → code.
    public static let codeByName: [String: UInt32] = {
        var table: [String: UInt32] = [:]
        for row in rows where !modelOnly.contains(row.code) {
            table["EXIT_" + row.constant] = row.code
            if let name = row.kernelName { table[name] = row.code }
        }
        return table
    }()

    /// The model's name of `code` (`VMExitCode.name`): `read_crN`/`write_crN`/`read_drN`/
    /// `write_drN` for every N, `GP excp` style for exceptions with a mnemonic, else the row's.
    public static func modelName(of code: UInt32) -> String? {
        switch code {
        case 0x000...0x00f: return "read_cr\(code)"
        case 0x010...0x01f: return "write_cr\(code - 0x10)"
        case 0x020...0x02f: return "read_dr\(code - 0x20)"
        case 0x030...0x03f: return "write_dr\(code - 0x30)"
        case 0x040...0x05f: return ExceptionVector.mnemonic(UInt8(code - 0x40)).map { "\($0) excp" }
        default: return modelNames[code]
        }
    }

    /// The kernel name and the code as `0x%03x`: `msr (0x07c)`; only the number when the
    /// kernel has no name.
    public static func kernelDescription(of code: UInt32) -> String {
        let hex = Hex.format(code, width: 3)
        if let name = kernelNames[code] { return "\(name) (\(hex))" }
        return hex
    }

    /// FNV-1a hash of a name's bytes → (name bytes, code) candidates, for lookups without
    /// making a String per trace line.
    private static let codeByNameHash: [UInt64: [([UInt8], UInt32)]] = {
        var table: [UInt64: [([UInt8], UInt32)]] = [:]
        for (name, code) in codeByName {
            let bytes = Array(name.utf8)
            let hash = bytes.withUnsafeBufferPointer { fnv1a($0) }
            table[hash, default: []].append((bytes, code))
        }
        return table
    }()

    /// FNV-1a, 64 bit.
    public static func fnv1a(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        var index = 0
        while index < bytes.count {
            hash = (hash ^ UInt64(bytes[index])) &* 0x100_0000_01b3
            index += 1
        }
        return hash
    }

    /// The code of a kernel or plugin name given as bytes, or nil.
    public static func code(forBytes bytes: UnsafeBufferPointer<UInt8>) -> UInt32? {
        guard let candidates = codeByNameHash[fnv1a(bytes)] else { return nil }
        for (name, code) in candidates where name.count == bytes.count {
            var index = 0
            while index < name.count, name[index] == bytes[index] { index += 1 }
            if index == name.count { return code }
        }
        return nil
    }
}
