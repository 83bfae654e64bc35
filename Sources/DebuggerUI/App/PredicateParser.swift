import Replay

/// Parses the small `field value` language of the filter and breakpoint prompts.
///
/// Terms: `vcpu N`, `level L1|L2`, `reason NAME`, `code 0xNN`, `msr 0xNNNN`, `port 0xNN`,
/// `verdict match|mismatch|undetermined|not-modelled`, `outcome NAME` (recorded or predicted,
/// ``OutcomeNames``). Numbers are decimal or `0x` hex.
public enum PredicateParser {
    /// Why a prompt's text was rejected.
    public struct Failure: Error, Sendable, Hashable {
        /// Creates a failure.
        public init(message: String) { self.message = message }
        /// A message for the prompt line.
        public var message: String
    }

    /// The words that start a term; a reason's value runs up to the next one, so names
    /// with spaces (`GP excp`) need no quotes.
    public static let fields = ["vcpu", "level", "reason", "code", "verdict", "outcome", "msr", "port"]

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

    /// Parses a filter (vcpu, level, reason, code, verdict, outcome; several terms combine with AND).
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
            case "outcome":
                switch OutcomeNames.canonical(value) {
                case .success(let name): filter.outcome = name
                case .failure(let failure): return .failure(failure)
                }
            default:
                return .failure(Failure(message: "filter by vcpu, level, reason, code, verdict or outcome, not '\(field)'"))
            }
        }
        return .success(filter)
    }

    /// Parses a breakpoint condition: `field value` terms combined with `and`, `or`, `not`
    /// (also `&&`, `||`, `!`) and parentheses; adjacent terms without an operator are ANDed,
    /// as in the filter. `not` binds tightest, then `and`, then `or`.
    public static func breakpoint(_ text: String) -> Result<Breakpoint, Failure> {
        var parser = ConditionParser(tokens: ConditionParser.tokens(text))
        guard !parser.tokens.isEmpty else {
            return .failure(Failure(message: "a breakpoint needs a condition, e.g. 'msr 0xc0000080' or 'reason io and not port 0x80'"))
        }
        do {
            let predicate = try parser.expression()
            if let extra = parser.peek {
                throw Failure(message: extra == ")" ? "unbalanced ')'" : "unexpected '\(extra)' after the condition")
            }
            return .success(Breakpoint(predicate: predicate, text: describe(predicate)))
        } catch let failure as Failure {
            return .failure(failure)
        } catch {
            return .failure(Failure(message: "\(error)"))
        }
    }

    /// One `field value` term as a predicate.
    static func atom(_ field: String, _ value: String) -> Result<ExitPredicate, Failure> {
        switch field {
        case "reason":
            return reason(value).map { .reason($0) }
        case "code":
            guard let n = ExitReasonNames.code(for: value) else { return .failure(Failure(message: "bad exit code '\(value)'")) }
            return .success(.exitCode(UInt64(n)))
        case "vcpu":
            guard let n = number(value), let v = Int(exactly: n) else { return .failure(Failure(message: "bad vcpu '\(value)'")) }
            return .success(.vcpu(v))
        case "level":
            guard let l = level(value) else { return .failure(Failure(message: "level is L1 or L2, not '\(value)'")) }
            return .success(.level(l))
        case "msr":
            guard let n = number(value), let msr = UInt32(exactly: n) else { return .failure(Failure(message: "bad MSR '\(value)'")) }
            return .success(.msr(msr))
        case "port":
            guard let n = number(value), let port = UInt16(exactly: n) else { return .failure(Failure(message: "bad port '\(value)'")) }
            return .success(.port(port))
        case "verdict":
            guard let v = verdict(value) else { return .failure(Failure(message: "unknown verdict '\(value)'")) }
            return .success(.verdict(v))
        case "outcome":
            return OutcomeNames.canonical(value).map { .outcome($0) }
        default:
            return .failure(Failure(message: "break on reason, code, vcpu, level, msr, port, verdict or outcome, not '\(field)'"))
        }
    }

    /// The normal text of a condition: `msr 0xc0000080`, `reason io and not (port 0x80 or port 0x70)`.
    public static func describe(_ predicate: ExitPredicate) -> String {
        func operand(_ p: ExitPredicate, inside parent: Int) -> String {
            let text = describe(p)
            return precedence(p) < parent ? "(\(text))" : text
        }
        switch predicate {
        case .any: return "any"
        case .vcpu(let v): return "vcpu \(v)"
        case .level(let l): return "level \(l)"
        case .reason(let r): return "reason \(r)"
        case .exitCode(let c): return "code " + hex(c)
        case .msr(let m): return "msr " + hex(UInt64(m))
        case .port(let p): return "port " + hex(UInt64(p))
        case .verdict(let v): return "verdict \(v.rawValue)"
        case .outcome(let o): return "outcome \(o)"
        case .text(let q): return "text /\(q.pattern)/"
        case .all(let terms): return terms.map { operand($0, inside: 2) }.joined(separator: " and ")
        case .either(let terms): return terms.map { operand($0, inside: 1) }.joined(separator: " or ")
        case .not(let term): return "not " + operand(term, inside: 3)
        }
    }

    private static func precedence(_ p: ExitPredicate) -> Int {
        switch p {
        case .either(let t) where t.count > 1: 1
        case .all(let t) where t.count > 1: 2
        default: 3
        }
    }

    /// A recursive-descent parser over the condition's tokens.
    struct ConditionParser {
        var tokens: [String]
        var position = 0

        static let keywords: Set<String> = ["and", "or", "not", "&&", "||", "!", "(", ")", "&", "|"]

        /// Words, with parentheses and a leading `!` split off.
        static func tokens(_ text: String) -> [String] {
            var out: [String] = []
            for word in text.split(whereSeparator: \.isWhitespace) {
                var current = ""
                for c in word {
                    if c == "(" || c == ")" || (c == "!" && current.isEmpty) {
                        if !current.isEmpty { out.append(current) }
                        out.append(String(c))
                        current = ""
                    } else {
                        current.append(c)
                    }
                }
                if !current.isEmpty { out.append(current) }
            }
            return out
        }

        var peek: String? { position < tokens.count ? tokens[position] : nil }

        mutating func take() -> String? {
            defer { position += 1 }
            return peek
        }

        mutating func expression() throws -> ExitPredicate {
            var terms = [try conjunction()]
            while let t = peek?.lowercased(), ["or", "||", "|"].contains(t) {
                position += 1
                terms.append(try conjunction())
            }
            return terms.count == 1 ? terms[0] : .either(terms)
        }

        mutating func conjunction() throws -> ExitPredicate {
            var terms = [try negation()]
            while let t = peek?.lowercased(), t != ")", !["or", "||", "|"].contains(t) {
                if ["and", "&&", "&"].contains(t) { position += 1 }
                terms.append(try negation())
            }
            return terms.count == 1 ? terms[0] : .all(terms)
        }

        mutating func negation() throws -> ExitPredicate {
            if let t = peek?.lowercased(), t == "not" || t == "!" {
                position += 1
                return .not(try negation())
            }
            return try primary()
        }

        mutating func primary() throws -> ExitPredicate {
            guard let token = take() else { throw Failure(message: "the condition ends too early") }
            if token == "(" {
                let inner = try expression()
                guard take() == ")" else { throw Failure(message: "missing ')'") }
                return inner
            }
            let field = token.lowercased()
            guard fields.contains(field) else {
                throw Failure(message: "expected one of \(fields.joined(separator: ", ")), not, or '(', not '\(token)'")
            }
            var words: [String] = []
            while let next = peek, !Self.keywords.contains(next.lowercased()),
                  words.isEmpty || (field == "reason" && !fields.contains(next.lowercased())) {
                words.append(next)
                position += 1
            }
            guard !words.isEmpty else { throw Failure(message: "'\(token)' needs a value") }
            switch PredicateParser.atom(field, words.joined(separator: " ")) {
            case .success(let p): return p
            case .failure(let failure): throw failure
            }
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
