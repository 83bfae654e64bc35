/// x86 exception vectors and the names KVM prints for them.
///
/// Spellings: the two-letter mnemonic (`GP`); `kvm_trace_sym_exc` in `arch/x86/kvm/trace.h`
/// (`#GP`), whose table grew over time (6.1 and 6.12 stop at `#MC`, later kernels add `#XM`,
/// `#VE`, `#CP`, `#HV`, `#VC`, `#SX`); and `SVM_EXIT_REASONS`, which names exception exits
/// `GP excp` and spells vector 19 `XF`.
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

    /// Every vector with a mnemonic, in vector order.
    public static let mnemonics: [(vector: UInt8, mnemonic: String)] = [
        (0, "DE"), (1, "DB"), (3, "BP"), (4, "OF"), (5, "BR"), (6, "UD"), (7, "NM"), (8, "DF"), (10, "TS"),
        (11, "NP"), (12, "SS"), (13, "GP"), (14, "PF"), (16, "MF"), (17, "AC"), (18, "MC"), (19, "XM"),
        (20, "VE"), (21, "CP"), (28, "HV"), (29, "VC"), (30, "SX"),
    ]

    /// The exception exits `SVM_EXIT_REASONS` names (vectors up to 19, 19 spelled `XF`).
    public static let exitReasonMnemonics: [(vector: UInt8, mnemonic: String)] =
        mnemonics.filter { $0.vector <= 19 }.map { ($0.vector, $0.vector == 19 ? "XF" : $0.mnemonic) }

    private static let mnemonicByVector: [UInt8: String] = Dictionary(uniqueKeysWithValues: mnemonics.map { ($0.vector, $0.mnemonic) })

    /// Two-letter mnemonic (`GP`) of a vector, or `nil` when the kernel has none.
    public static func mnemonic(_ vector: UInt8) -> String? { mnemonicByVector[vector] }

    /// `#GP` style name, or `vector N`.
    public static func name(_ vector: UInt8) -> String {
        mnemonic(vector).map { "#\($0)" } ?? "vector \(vector)"
    }

    /// `kvm_trace_sym_exc` names of the newest table (through `#SX`), by vector.
    public static let traceSymbols: [UInt8: String] = mnemonicByVector.mapValues { "#" + $0 }

    /// `kvm_trace_sym_exc` names of 6.1 and 6.12 (through `#MC`), by vector.
    public static let traceSymbols6x: [UInt8: String] = traceSymbols.filter { $0.key <= 18 }

    /// `#GP` as replay texts print an injected exception (names through `#XM`), `0x1f` for
    /// other vectors, `?` when unknown.
    public static func injectedName(_ vector: UInt8?) -> String {
        guard let vector else { return "?" }
        if vector <= 19, let name = traceSymbols[vector] { return name }
        return Hex.short(UInt64(vector))
    }

    /// Whether the exception pushes an error code (#DF #TS #NP #SS #GP #PF #AC #CP #VC #SX),
    /// as `x86.c:x86_exception_has_error_code` decides.
    public static func hasErrorCode(_ vector: UInt8) -> Bool {
        [8, 10, 11, 12, 13, 14, 17, 21, 29, 30].contains(vector)
    }
}
