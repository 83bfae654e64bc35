/// The SVM instructions (`0F 01 D8`–`DF`, the emulator's `group7_rm3` row; APM vol. 3).
public enum SVMInstruction: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// `0F 01 D8`.
    case vmrun = 0xd8
    /// `0F 01 D9`.
    case vmmcall = 0xd9
    /// `0F 01 DA`.
    case vmload = 0xda
    /// `0F 01 DB`.
    case vmsave = 0xdb
    /// `0F 01 DC`.
    case stgi = 0xdc
    /// `0F 01 DD`.
    case clgi = 0xdd
    /// `0F 01 DE`.
    case skinit = 0xde
    /// `0F 01 DF`.
    case invlpga = 0xdf

    /// Upper-case mnemonic.
    public var description: String {
        switch self {
        case .vmrun: "VMRUN"
        case .vmmcall: "VMMCALL"
        case .vmload: "VMLOAD"
        case .vmsave: "VMSAVE"
        case .stgi: "STGI"
        case .clgi: "CLGI"
        case .skinit: "SKINIT"
        case .invlpga: "INVLPGA"
        }
    }

    /// The exit code whose intercept bit covers this instruction.
    public var exitCode: VMExitCode {
        switch self {
        case .vmrun: .vmrun
        case .vmmcall: .vmmcall
        case .vmload: .vmload
        case .vmsave: .vmsave
        case .stgi: .stgi
        case .clgi: .clgi
        case .skinit: .skinit
        case .invlpga: .invlpga
        }
    }

    /// The SVM instruction encoded by `bytes` (legacy and REX prefixes skipped), or `nil`.
    public init?(bytes: [UInt8]) {
        guard let opcode = Self.opcodeStart(bytes) else { return nil }
        guard bytes.count >= opcode + 3, bytes[opcode] == 0x0f, bytes[opcode + 1] == 0x01,
            let instruction = SVMInstruction(rawValue: bytes[opcode + 2])
        else { return nil }
        self = instruction
    }

    /// Index of the first opcode byte after legacy prefixes and REX.
    static func opcodeStart(_ bytes: [UInt8]) -> Int? {
        let legacyPrefixes: Set<UInt8> = [0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x2e, 0x36, 0x3e, 0x26, 0x64, 0x65]
        var index = 0
        while index < bytes.count, legacyPrefixes.contains(bytes[index]) { index += 1 }
        if index < bytes.count, (0x40...0x4f).contains(bytes[index]) { index += 1 }
        return index < bytes.count ? index : nil
    }
}

extension Array where Element == UInt8 {
    /// `0f 01 da`.
    var hexBytes: String { map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined(separator: " ") }
}
