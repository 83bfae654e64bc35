import Foundation

/// RAX and RCX at each step of the lab's L2 programs, read from their source
/// (`lab/src/l1.S`, `PROG name` … `STEP name, N` … `END name`): what the program loaded
/// into them before the step's instruction. Straight-line code only: a register is known
/// after `mov $IMM, REG` / `movabs $IMM, %rax` / `xor REG, REG`; any other instruction that
/// writes it (as its destination or implicitly: RDMSR, CPUID, RDTSC(P), IN, VMMCALL, REP, …)
/// and any label (a branch target) make it unknown again.
public enum LabProgramOperands {
    /// RAX/RCX (`nil`: unknown) at the instruction of each step, by step number.
    public struct Registers: Sendable, Equatable {
        public var rax: UInt64?
        public var rcx: UInt64?
    }

    /// The registers at each step of program `name` in the assembly text `source`.
    /// `skipped(mnemonic, operands)` names instructions that do not execute (intercepted and
    /// skipped by L1, or faulting): they write nothing.
    public static func steps(
        program name: String, source: String, skipped: (String, [String]) -> Bool = { _, _ in false }
    ) -> [Int: Registers] {
        var out: [Int: Registers] = [:]
        var inside = false
        var current = Registers()
        for raw in source.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = String(raw)
            if let hash = line.range(of: "/*") { line = String(line[..<hash.lowerBound]) }
            if let hash = line.firstIndex(of: "#"), !line.hasPrefix("#define") { line = String(line[..<hash]) }
            line = line.trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty, !line.hasPrefix("#") else { continue }
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            let arguments = words.dropFirst().joined().split(separator: ",").map(String.init)
            switch words[0] {
            case "PROG":
                inside = arguments.first == name
                current = Registers()
                continue
            case "END":
                if inside, arguments.first == name { return out }
                continue
            case "STEP":
                if inside, arguments.count == 2, arguments[0] == name, let step = Int(arguments[1]) { out[step] = current }
                continue
            default:
                break
            }
            guard inside else { continue }
            if line.hasSuffix(":") || line.hasPrefix(".") {
                // A branch target or raw bytes: nothing is known past it.
                current = Registers()
                continue
            }
            let mnemonic = words[0].lowercased()
            let operandList = operands(of: line, mnemonic: words[0])
            if skipped(mnemonic, operandList) { continue }
            apply(mnemonic: mnemonic, operands: operandList, to: &current)
        }
        return out
    }

    static let raxNames: Set<String> = ["%rax", "%eax", "%ax", "%al", "%ah"]
    static let rcxNames: Set<String> = ["%rcx", "%ecx", "%cx", "%cl", "%ch"]
    /// Instructions that write RAX (and those that write RCX) without naming it as destination.
    static let writesRAX: Set<String> = [
        "rdmsr", "cpuid", "rdtsc", "rdtscp", "xgetbv", "in", "inb", "inw", "inl", "vmmcall", "vmcall", "mul", "div", "imul",
        "idiv", "cltq", "cqto", "cltd", "cwtl", "cbw", "cwd", "cdq", "cqo", "cdqe", "cmpxchg", "xchg", "rdpkru", "lodsb", "lodsw",
        "lodsl", "lodsq", "syscall",
    ]
    static let writesRCX: Set<String> = ["cpuid", "rdtscp", "rep", "repe", "repz", "repne", "repnz", "loop", "loope", "loopne", "xchg", "syscall"]

    /// Operands of an AT&T line, split at top-level commas (not inside parentheses).
    static func operands(of line: String, mnemonic: String) -> [String] {
        let rest = line.dropFirst(mnemonic.count).trimmingCharacters(in: .whitespaces)
        var parts: [String] = []
        var depth = 0
        var part = ""
        for character in rest {
            if character == "(" { depth += 1 }
            if character == ")" { depth -= 1 }
            if character == ",", depth == 0 {
                parts.append(part.trimmingCharacters(in: .whitespaces))
                part = ""
            } else {
                part.append(character)
            }
        }
        if !part.trimmingCharacters(in: .whitespaces).isEmpty { parts.append(part.trimmingCharacters(in: .whitespaces)) }
        return parts
    }

    static func apply(mnemonic: String, operands: [String], to registers: inout Registers) {
        if writesRAX.contains(mnemonic) { registers.rax = nil }
        if writesRCX.contains(mnemonic) || mnemonic.hasPrefix("rep") || mnemonic.hasPrefix("loop") { registers.rcx = nil }
        // Register operands these only read: SVM instructions, comparisons, pushes, port output.
        let readsOnly: Set<String> = ["vmrun", "vmload", "vmsave", "invlpga", "skinit", "lmsw", "push", "pushq", "out", "outb", "outw", "outl"]
        if readsOnly.contains(mnemonic) || mnemonic.hasPrefix("cmp") || mnemonic.hasPrefix("test") || mnemonic.hasPrefix("bt") { return }
        // A one-operand instruction writes it only for these.
        let writesOnlyOperand: Set<String> = ["pop", "popq", "inc", "incl", "incq", "dec", "decl", "decq", "neg", "negq", "not", "notq", "bswap", "smsw", "rdrand", "rdseed", "rdpid"]
        if operands.count == 1, !writesOnlyOperand.contains(mnemonic), !mnemonic.hasPrefix("set") { return }
        guard let destination = operands.last else { return }
        let isRAX = raxNames.contains(destination)
        let isRCX = rcxNames.contains(destination)
        guard isRAX || isRCX else { return }
        var value: UInt64?
        if ["mov", "movl", "movq", "movabs", "movabsq"].contains(mnemonic), operands.count == 2, operands[0].hasPrefix("$"),
            let immediate = parse(String(operands[0].dropFirst()))
        {
            switch destination {
            case "%eax", "%ecx": value = immediate & 0xffff_ffff
            case "%rax", "%rcx":
                // mov $imm32, %r64 sign-extends; movabs takes 64 bits.
                value = mnemonic.hasPrefix("movabs") || immediate < 0x8000_0000 ? immediate : nil
            default: value = nil
            }
        } else if ["xor", "xorl", "xorq", "sub", "subl", "subq"].contains(mnemonic), operands.count == 2, operands[0] == destination,
            ["%eax", "%rax", "%ecx", "%rcx"].contains(destination)
        {
            value = 0
        }
        if isRAX { registers.rax = value } else { registers.rcx = value }
    }

    static func parse(_ text: String) -> UInt64? {
        let lower = text.lowercased()
        if lower.hasPrefix("0x") { return UInt64(lower.dropFirst(2), radix: 16) }
        return UInt64(lower)
    }

    /// Step number → RIP of the L2 program's steps, from a lab run's manifest (`l2_program.steps`:
    /// the step table the VMM wrote into L1's `lab_config` before L1 ran).
    public static func stepRIPs(manifest data: Data) -> (program: String, rips: [Int: UInt64])? {
        guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let program = root["l2_program"] as? [String: Any], let name = program["name"] as? String,
            let steps = program["steps"] as? [[String: Any]]
        else { return nil }
        var rips: [Int: UInt64] = [:]
        for step in steps {
            guard let number = step["step"] as? Int, let text = step["rip"] as? String, let rip = parse(text) else { continue }
            rips[number] = rip
        }
        return (name, rips)
    }
}
