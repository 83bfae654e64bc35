import Replay

/// Parses the small `field value` language of the filter and breakpoint prompts.
///
/// Terms: `vcpu N`, `level L1|L2`, `reason NAME`, `code 0xNN`, `msr 0xNNNN`, `port 0xNN`,
/// `verdict match|mismatch|undetermined|not-modelled`. Numbers are decimal or `0x` hex.
public enum PredicateParser {
    /// Why a prompt's text was rejected.
    public struct Failure: Error, Sendable, Hashable {
        /// A message for the prompt line.
        public var message: String
    }

    /// The words that start a term; a reason's value runs up to the next one, so names
    /// with spaces (`GP excp`) need no quotes.
    public static let fields = ["vcpu", "level", "reason", "code", "verdict", "msr", "port"]

    /// Splits `field value…` text into terms.
    static func terms(_ text: String) -> Result<[(field: String, value: String)], Failure> {
        let words = text.split(whereSeparator: \.isWhitespace).map(String.init)
        var terms: [(String, String)] = []
        var i = 0
        while i < words.count {
            let field = words[i].lowercased()
            guard fields.contains(field) else {
                return .failure(Failure(message: "expected one of \(fields.joined(separator: ", ")), not '\(words[i])'"))
            }
            // The first word after the field is always its value (`reason msr`).
            var j = min(i + 2, words.count)
            while field == "reason", j < words.count, !fields.contains(words[j].lowercased()) { j += 1 }
            guard j > i + 1 else { return .failure(Failure(message: "'\(words[i])' needs a value")) }
            terms.append((field, words[(i + 1)..<j].joined(separator: " ")))
            i = j
        }
        return .success(terms)
    }

    /// The index name of a reason the user named in any accepted spelling.
    static func reason(_ value: String) -> Result<String, Failure> {
        guard let code = ExitReasonNames.code(for: value) else {
            return .failure(Failure(message: "unknown exit reason '\(value)' (a kernel name such as msr, hypercall, GP excp; VMEXIT_VMMCALL; or a code such as 0x81)"))
        }
        return .success(ExitReasonNames.indexName(of: code))
    }

    /// Parses a filter (vcpu, level, reason, code, verdict; several terms combine with AND).
    public static func filter(_ text: String) -> Result<ExitFilter, Failure> {
        var filter = ExitFilter()
        guard !text.trimmedOfSpaces.isEmpty else { return .failure(Failure(message: "empty filter (F clears the filter)")) }
        let parsed: [(field: String, value: String)]
        switch terms(text) {
        case .success(let t): parsed = t
        case .failure(let failure): return .failure(failure)
        }
        for (field, value) in parsed {
            switch field {
            case "vcpu":
                guard let n = number(value) else { return .failure(Failure(message: "bad vcpu '\(value)'")) }
                filter.vcpu = Int(n)
            case "level":
                guard let l = level(value) else { return .failure(Failure(message: "level is L1 or L2, not '\(value)'")) }
                filter.level = l
            case "reason":
                switch reason(value) {
                case .success(let name): filter.reason = name
                case .failure(let failure): return .failure(failure)
                }
            case "code":
                guard let n = ExitReasonNames.code(for: value) else { return .failure(Failure(message: "bad exit code '\(value)'")) }
                filter.exitCode = UInt64(n)
            case "verdict":
                guard let v = verdict(value) else { return .failure(Failure(message: "unknown verdict '\(value)'")) }
                filter.verdict = v
            default:
                return .failure(Failure(message: "filter by vcpu, level, reason, code or verdict, not '\(field)'"))
            }
        }
        return .success(filter)
    }

    /// Parses one breakpoint (`reason`, `code`, `vcpu`, `msr`, `port` or `verdict` and a value).
    public static func breakpoint(_ text: String) -> Result<Breakpoint, Failure> {
        let parsed: [(field: String, value: String)]
        switch terms(text) {
        case .success(let t): parsed = t
        case .failure(let failure): return .failure(failure)
        }
        guard parsed.count == 1, let (field, value) = parsed.first else {
            return .failure(Failure(message: "a breakpoint is one 'field value', e.g. 'msr 0xc0000080'"))
        }
        switch field {
        case "reason":
            switch reason(value) {
            case .success(let name): return .success(Breakpoint(predicate: .reason(name), text: "reason \(name)"))
            case .failure(let failure): return .failure(failure)
            }
        case "code":
            guard let n = ExitReasonNames.code(for: value) else { return .failure(Failure(message: "bad exit code '\(value)'")) }
            return .success(Breakpoint(predicate: .exitCode(UInt64(n)), text: "code " + hex(UInt64(n))))
        case "vcpu":
            guard let n = number(value) else { return .failure(Failure(message: "bad vcpu '\(value)'")) }
            return .success(Breakpoint(predicate: .vcpu(Int(n)), text: "vcpu \(n)"))
        case "msr":
            guard let n = number(value), let msr = UInt32(exactly: n) else {
                return .failure(Failure(message: "bad MSR '\(value)'"))
            }
            return .success(Breakpoint(predicate: .msr(msr), text: "msr " + hex(n)))
        case "port":
            guard let n = number(value), let port = UInt16(exactly: n) else {
                return .failure(Failure(message: "bad port '\(value)'"))
            }
            return .success(Breakpoint(predicate: .port(port), text: "port " + hex(n)))
        case "verdict":
            guard let v = verdict(value) else { return .failure(Failure(message: "unknown verdict '\(value)'")) }
            return .success(Breakpoint(predicate: .verdict(v), text: "verdict \(v.rawValue)"))
        default:
            return .failure(Failure(message: "break on reason, code, vcpu, msr, port or verdict, not '\(field)'"))
        }
    }

    /// A decimal or `0x` hexadecimal number.
    public static func number(_ text: String) -> UInt64? {
        let t = text.lowercased()
        if t.hasPrefix("0x") { return UInt64(t.dropFirst(2), radix: 16) }
        return UInt64(t)
    }

    private static func hex(_ n: UInt64) -> String { "0x" + String(n, radix: 16) }

    private static func level(_ text: String) -> Level? {
        switch text.lowercased() {
        case "l1", "1": .l1
        case "l2", "2": .l2
        default: nil
        }
    }

    private static func verdict(_ text: String) -> ExitVerdict? {
        let t = text.lowercased()
        if t == "notmodelled" || t == "not-modeled" { return .notModelled }
        return ExitVerdict(rawValue: t)
    }
}
