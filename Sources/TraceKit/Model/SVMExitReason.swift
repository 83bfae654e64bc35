/// An SVM exit code (VMCB `EXITCODE`, low 32 bits) as `kvm_exit` and friends record it.
///
/// The raw number is always kept, so a code no table knows still round-trips and prints
/// as `0x…`. Names come from two tables: the kernel's `SVM_EXIT_REASONS`
/// (`arch/x86/include/uapi/asm/svm.h`, as printed by tracefs and `trace-cmd report -N`)
/// and libtraceevent's `plugin_kvm` (`EXIT_NPF`, …, as printed by `trace-cmd report`).
/// See `reference/exit-codes.md` §1.
public struct SVMExitReason: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The 32-bit exit code.
    public var rawValue: UInt32
    /// Wraps a raw exit code.
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// Wraps a raw exit code.
    public init(_ rawValue: UInt32) { self.rawValue = rawValue }

    /// Orders by numeric code.
    public static func < (lhs: SVMExitReason, rhs: SVMExitReason) -> Bool { lhs.rawValue < rhs.rawValue }

    /// `SVM_EXIT_EXCP_BASE`: exception intercepts are 0x40 + vector (APM vol. 2, table C-1).
    public static let exceptionBase: UInt32 = 0x040
    /// `SVM_EXIT_INTR` (0x060).
    public static let interrupt = SVMExitReason(0x060)
    /// `SVM_EXIT_NMI` (0x061).
    public static let nmi = SVMExitReason(0x061)
    /// `SVM_EXIT_CPUID` (0x072).
    public static let cpuid = SVMExitReason(0x072)
    /// `SVM_EXIT_HLT` (0x078).
    public static let hlt = SVMExitReason(0x078)
    /// `SVM_EXIT_INVLPGA` (0x07a).
    public static let invlpga = SVMExitReason(0x07a)
    /// `SVM_EXIT_IOIO` (0x07b).
    public static let ioio = SVMExitReason(0x07b)
    /// `SVM_EXIT_MSR` (0x07c).
    public static let msr = SVMExitReason(0x07c)
    /// `SVM_EXIT_SHUTDOWN` (0x07f).
    public static let shutdown = SVMExitReason(0x07f)
    /// `SVM_EXIT_VMRUN` (0x080).
    public static let vmrun = SVMExitReason(0x080)
    /// `SVM_EXIT_VMMCALL` (0x081), printed `hypercall` by the kernel.
    public static let vmmcall = SVMExitReason(0x081)
    /// `SVM_EXIT_VMLOAD` (0x082).
    public static let vmload = SVMExitReason(0x082)
    /// `SVM_EXIT_VMSAVE` (0x083).
    public static let vmsave = SVMExitReason(0x083)
    /// `SVM_EXIT_STGI` (0x084).
    public static let stgi = SVMExitReason(0x084)
    /// `SVM_EXIT_CLGI` (0x085).
    public static let clgi = SVMExitReason(0x085)
    /// `SVM_EXIT_SKINIT` (0x086).
    public static let skinit = SVMExitReason(0x086)
    /// `SVM_EXIT_NPF` (0x400).
    public static let npf = SVMExitReason(0x400)
    /// `SVM_EXIT_ERR` (-1, VMEXIT_INVALID) in 32 bits; the kernel prints it `0xffffffff`.
    public static let invalid = SVMExitReason(0xffff_ffff)

    /// The exit for exception `vector` (`SVM_EXIT_EXCP_BASE + vector`).
    public static func exception(_ vector: UInt8) -> SVMExitReason {
        SVMExitReason(exceptionBase + UInt32(vector))
    }

    /// The name the kernel prints (`npf`, `GP excp`), or `nil` when `SVM_EXIT_REASONS` has none.
    public var kernelName: String? { SVMExitNameTable.kernelNames[rawValue] }

    /// The libtraceevent `plugin_kvm` spelling (`EXIT_NPF`), or `nil` when unknown.
    public var pluginName: String? { SVMExitNameTable.pluginNames[rawValue] }

    /// The kernel name if there is one, else the code as `0x…` hex (what the kernel prints).
    public var description: String { kernelName ?? hexString }

    /// The code as lowercase hex with `0x`, e.g. `0x8e`.
    public var hexString: String { "0x" + String(rawValue, radix: 16) }

    /// Looks a printed reason up in every dialect: kernel name (`npf`, `GP excp`),
    /// plugin name (`EXIT_NPF`), plugin `UNKNOWN (142)` (decimal), or a hex number (`0x8e`,
    /// `0xffffffff`). Returns `nil` for names of neither table (e.g. VMX reasons).
    public init?(name: Substring) {
        if let code = SVMExitNameTable.codeByName[String(name)] {
            self.init(code)
            return
        }
        if name.hasPrefix("0x"), let value = UInt32(name.dropFirst(2), radix: 16) {
            self.init(value)
            return
        }
        if name.hasPrefix("UNKNOWN ("), name.hasSuffix(")"),
           let value = UInt32(name.dropFirst(9).dropLast()) {
            self.init(value)
            return
        }
        return nil
    }

    /// Convenience for `init?(name:)` with a `String`.
    public init?(name: String) { self.init(name: name[...]) }
}

/// The exit-name tables, built once from `(code, constant suffix, kernel name)` rows.
enum SVMExitNameTable {
    /// Row: code, `SVM_EXIT_` constant suffix (the plugin prints `EXIT_` + suffix), kernel name.
    static let rows: [(UInt32, String, String?)] = {
        var rows: [(UInt32, String, String?)] = []
        for cr in [0, 2, 3, 4, 8] as [UInt32] {
            rows.append((cr, "READ_CR\(cr)", "read_cr\(cr)"))
            rows.append((0x10 + cr, "WRITE_CR\(cr)", "write_cr\(cr)"))
        }
        for dr in 0...7 as ClosedRange<UInt32> {
            rows.append((0x20 + dr, "READ_DR\(dr)", "read_dr\(dr)"))
            rows.append((0x30 + dr, "WRITE_DR\(dr)", "write_dr\(dr)"))
        }
        // Exception mnemonics printed in `SVM_EXIT_REASONS` ("DE excp" …), by vector.
        let exceptions: [(UInt32, String)] = [
            (0, "DE"), (1, "DB"), (3, "BP"), (4, "OF"), (5, "BR"), (6, "UD"), (7, "NM"),
            (8, "DF"), (10, "TS"), (11, "NP"), (12, "SS"), (13, "GP"), (14, "PF"),
            (16, "MF"), (17, "AC"), (18, "MC"), (19, "XF"),
        ]
        for (vector, mnemonic) in exceptions {
            rows.append((0x40 + vector, "EXCP_\(mnemonic)", "\(mnemonic) excp"))
        }
        rows += [
            (0x060, "INTR", "interrupt"), (0x061, "NMI", "nmi"), (0x062, "SMI", "smi"),
            (0x063, "INIT", "init"), (0x064, "VINTR", "vintr"),
            (0x065, "CR0_SEL_WRITE", "cr0_sel_write"), (0x066, "IDTR_READ", "read_idtr"),
            (0x067, "GDTR_READ", "read_gdtr"), (0x068, "LDTR_READ", "read_ldtr"),
            (0x069, "TR_READ", "read_rt"), (0x06a, "IDTR_WRITE", "write_idtr"),
            (0x06b, "GDTR_WRITE", "write_gdtr"), (0x06c, "LDTR_WRITE", "write_ldtr"),
            (0x06d, "TR_WRITE", "write_rt"), (0x06e, "RDTSC", "rdtsc"), (0x06f, "RDPMC", "rdpmc"),
            (0x070, "PUSHF", "pushf"), (0x071, "POPF", "popf"), (0x072, "CPUID", "cpuid"),
            (0x073, "RSM", "rsm"), (0x074, "IRET", "iret"), (0x075, "SWINT", "swint"),
            (0x076, "INVD", "invd"), (0x077, "PAUSE", "pause"), (0x078, "HLT", "hlt"),
            (0x079, "INVLPG", "invlpg"), (0x07a, "INVLPGA", "invlpga"), (0x07b, "IOIO", "io"),
            (0x07c, "MSR", "msr"), (0x07d, "TASK_SWITCH", "task_switch"),
            (0x07e, "FERR_FREEZE", "ferr_freeze"), (0x07f, "SHUTDOWN", "shutdown"),
            (0x080, "VMRUN", "vmrun"), (0x081, "VMMCALL", "hypercall"), (0x082, "VMLOAD", "vmload"),
            (0x083, "VMSAVE", "vmsave"), (0x084, "STGI", "stgi"), (0x085, "CLGI", "clgi"),
            (0x086, "SKINIT", "skinit"), (0x087, "RDTSCP", "rdtscp"), (0x088, "ICEBP", "icebp"),
            (0x089, "WBINVD", "wbinvd"), (0x08a, "MONITOR", "monitor"), (0x08b, "MWAIT", "mwait"),
            (0x08c, "MWAIT_COND", nil), (0x08d, "XSETBV", "xsetbv"), (0x08e, "RDPRU", nil),
            (0x08f, "EFER_WRITE_TRAP", "write_efer_trap"),
            (0x090, "CR0_WRITE_TRAP", "write_cr0_trap"), (0x094, "CR4_WRITE_TRAP", "write_cr4_trap"),
            (0x098, "CR8_WRITE_TRAP", "write_cr8_trap"),
            (0x0a2, "INVPCID", "invpcid"), (0x0a5, "BUS_LOCK", "buslock"), (0x0a6, "IDLE_HLT", "idle-halt"),
            (0x400, "NPF", "npf"), (0x401, "AVIC_INCOMPLETE_IPI", "avic_incomplete_ipi"),
            (0x402, "AVIC_UNACCELERATED_ACCESS", "avic_unaccelerated_access"),
            (0x403, "VMGEXIT", "vmgexit"),
            (0xffff_ffff, "ERR", nil),
        ]
        return rows
    }()

    /// Code → kernel name.
    static let kernelNames: [UInt32: String] = {
        var table: [UInt32: String] = [:]
        for (code, _, name) in rows { if let name { table[code] = name } }
        return table
    }()

    /// Code → plugin name (`EXIT_` + constant suffix).
    static let pluginNames: [UInt32: String] = {
        var table: [UInt32: String] = [:]
        for (code, suffix, _) in rows { table[code] = "EXIT_" + suffix }
        return table
    }()

    /// FNV-1a hash of a name's bytes → (name bytes, code) candidates, for lookups without
    /// making a String per trace line.
    static let codeByNameHash: [UInt64: [([UInt8], UInt32)]] = {
        var table: [UInt64: [([UInt8], UInt32)]] = [:]
        for (name, code) in codeByName {
            let bytes = Array(name.utf8)
            let hash = bytes.withUnsafeBufferPointer { fnv1a($0) }
            table[hash, default: []].append((bytes, code))
        }
        return table
    }()

    /// FNV-1a, 64 bit.
    static func fnv1a(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        var index = 0
        while index < bytes.count {
            hash = (hash ^ UInt64(bytes[index])) &* 0x100_0000_01b3
            index += 1
        }
        return hash
    }

    /// The code of a kernel or plugin name given as bytes, or nil.
    static func code(forBytes bytes: UnsafeBufferPointer<UInt8>) -> UInt32? {
        guard let candidates = codeByNameHash[fnv1a(bytes)] else { return nil }
        for (name, code) in candidates where name.count == bytes.count {
            var index = 0
            while index < name.count, name[index] == bytes[index] { index += 1 }
            if index == name.count { return code }
        }
        return nil
    }

    /// Every printed name (both dialects) → code.
    static let codeByName: [String: UInt32] = {
        var table: [String: UInt32] = [:]
        for (code, suffix, name) in rows {
            table["EXIT_" + suffix] = code
            if let name { table[name] = code }
        }
        return table
    }()
}
