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

    /// Parses a filter (vcpu, level, reason, verdict; several terms combine with AND).
    public static func filter(_ text: String) -> Result<ExitFilter, Failure> {
        var filter = ExitFilter()
        let words = text.split(whereSeparator: \.isWhitespace).map(String.init)
        guard !words.isEmpty else { return .failure(Failure(message: "empty filter (F clears the filter)")) }
        var i = 0
        while i < words.count {
            guard i + 1 < words.count else { return .failure(Failure(message: "'\(words[i])' needs a value")) }
            let field = words[i].lowercased(), value = words[i + 1]
            switch field {
            case "vcpu":
                guard let n = number(value) else { return .failure(Failure(message: "bad vcpu '\(value)'")) }
                filter.vcpu = Int(n)
            case "level":
                guard let l = level(value) else { return .failure(Failure(message: "level is L1 or L2, not '\(value)'")) }
                filter.level = l
            case "reason": filter.reason = value.lowercased()
            case "verdict":
                guard let v = verdict(value) else { return .failure(Failure(message: "unknown verdict '\(value)'")) }
                filter.verdict = v
            default:
                return .failure(Failure(message: "filter by vcpu, level, reason or verdict, not '\(field)'"))
            }
            i += 2
        }
        return .success(filter)
    }

    /// Parses one breakpoint (`reason`, `code`, `vcpu`, `msr`, `port` or `verdict` and a value).
    public static func breakpoint(_ text: String) -> Result<Breakpoint, Failure> {
        let words = text.split(whereSeparator: \.isWhitespace).map(String.init)
        guard words.count == 2 else {
            return .failure(Failure(message: "a breakpoint is one 'field value', e.g. 'msr 0xc0000080'"))
        }
        let field = words[0].lowercased(), value = words[1]
        switch field {
        case "reason":
            return .success(Breakpoint(predicate: .reason(value.lowercased()), text: "reason \(value.lowercased())"))
        case "code":
            guard let n = number(value) else { return .failure(Failure(message: "bad exit code '\(value)'")) }
            return .success(Breakpoint(predicate: .exitCode(n), text: "code " + hex(n)))
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
