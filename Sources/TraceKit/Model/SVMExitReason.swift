// The exit-code table lives in SVMCodes (shared with NestedSVM); re-exported for importers.
@_exported import SVMCodes

/// An SVM exit code (VMCB `EXITCODE`, low 32 bits) as `kvm_exit` and friends record it.
///
/// The raw number is always kept, so a code no table knows still round-trips and prints
/// as `0x…`. Names come from ``SVMExitCodes``: the kernel's `SVM_EXIT_REASONS`
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
    public static let exceptionBase: UInt32 = SVMExitCodes.exceptionBase
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
    public var kernelName: String? { SVMExitCodes.kernelNames[rawValue] }

    /// The libtraceevent `plugin_kvm` spelling (`EXIT_NPF`), or `nil` when unknown.
    public var pluginName: String? { SVMExitCodes.pluginNames[rawValue] }

    /// The kernel name if there is one, else the code as `0x…` hex (what the kernel prints).
    public var description: String { kernelName ?? hexString }

    /// The code as lowercase hex with `0x`, e.g. `0x8e`.
    public var hexString: String { "0x" + String(rawValue, radix: 16) }

    /// Looks a printed reason up in every dialect: kernel name (`npf`, `GP excp`),
    /// plugin name (`EXIT_NPF`), plugin `UNKNOWN (142)` (decimal), or a hex number (`0x8e`,
    /// `0xffffffff`). Returns `nil` for names of neither table (e.g. VMX reasons).
    public init?(name: Substring) {
        if let code = SVMExitCodes.codeByName[String(name)] {
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
