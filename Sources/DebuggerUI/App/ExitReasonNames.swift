import TraceKit

/// Every name a user may give an SVM exit reason in the filter and breakpoint prompts, and
/// the names the panes show for a code.
///
/// Accepted, case-insensitively: the kernel's `SVM_EXIT_REASONS` name as tracefs prints it
/// (`hypercall`, `GP excp`, `io`), the constant without or with its prefix (`VMMCALL`,
/// `SVM_EXIT_VMMCALL`, libtraceevent's `EXIT_VMMCALL`), the APM's `VMEXIT_*` name
/// (`VMEXIT_VMMCALL`, `VMEXIT_EXCP13`, `VMEXIT_CR0_READ`, `VMEXIT_INVALID`; AMD APM vol. 2,
/// appendix C, table C-1), and the code (`0x81`, `129`).
public enum ExitReasonNames {
    /// `SVM_EXIT_ERR` (-1, `VMEXIT_INVALID` in the APM) as the kernel records it, 32 bits.
    public static let invalidCode: UInt32 = 0xffff_ffff

    /// The exit code a user's name stands for, or nil.
    public static func code(for text: String) -> UInt32? {
        let key = text.trimmedOfSpaces.lowercased()
        if let code = codeByName[key] { return code }
        if key.hasPrefix("0x"), let value = UInt32(key.dropFirst(2), radix: 16) { return value }
        if let value = UInt32(key) { return value }
        if key.hasPrefix("0x"), let value = UInt64(key.dropFirst(2), radix: 16), value == UInt64.max { return invalidCode }
        return nil
    }

    /// The name the exit index and list use for a code (the kernel's, lowercased; `0x…`
    /// where the kernel has none), which `ExitPredicate.reason` compares with.
    public static func indexName(of code: UInt32) -> String { SVMExitReason(code).description.lowercased() }

    /// A decoded name for the panes: the kernel name, or the APM's name where the kernel
    /// prints only the number (`VMEXIT_INVALID` for -1).
    public static func displayName(of code: UInt32) -> String {
        if code == invalidCode { return "VMEXIT_INVALID (SVM_EXIT_ERR, -1): VMRUN failed its consistency checks" }
        return SVMExitReason(code).description
    }

    /// Names offered by completion: the kernel's names that are one word, plus the APM's.
    public static var completions: [String] {
        allCodes.compactMap { SVMExitReason($0).kernelName }.filter { !$0.contains(" ") }
            + allCodes.compactMap(apmName(of:))
    }

    /// Codes the kernel's table or libtraceevent names.
    private static let allCodes: [UInt32] = Array(0...0x4ff).filter { SVMExitReason($0).pluginName != nil } + [invalidCode]

    /// The APM's `VMEXIT_*` name, where it differs from the kernel constant's.
    private static func apmName(of code: UInt32) -> String? {
        switch code {
        case 0x00...0x0f: return "VMEXIT_CR\(code)_READ"
        case 0x10...0x1f: return "VMEXIT_CR\(code - 0x10)_WRITE"
        case 0x20...0x2f: return "VMEXIT_DR\(code - 0x20)_READ"
        case 0x30...0x3f: return "VMEXIT_DR\(code - 0x30)_WRITE"
        case 0x40...0x5f: return "VMEXIT_EXCP\(code - 0x40)"
        case invalidCode: return "VMEXIT_INVALID"
        default:
            guard let plugin = SVMExitReason(code).pluginName, plugin.hasPrefix("EXIT_") else { return nil }
            return "VMEXIT_" + plugin.dropFirst(5)
        }
    }

    private static let codeByName: [String: UInt32] = {
        var table: [String: UInt32] = [:]
        for code in allCodes {
            let reason = SVMExitReason(code)
            if let apm = apmName(of: code) { table[apm.lowercased()] = code }
            if let plugin = reason.pluginName, plugin.hasPrefix("EXIT_") {
                let constant = plugin.dropFirst(5).lowercased()
                table["exit_" + constant] = code
                table["svm_exit_" + constant] = code
                table["vmexit_" + constant] = code
                table[constant] = code
            }
            // The kernel's own name last: it wins where spellings collide.
            if let kernel = reason.kernelName { table[kernel.lowercased()] = code }
        }
        for vector in 0..<32 as Range<UInt32> { table["excp\(vector)"] = 0x40 + vector }
        table["invalid"] = invalidCode
        return table
    }()
}
