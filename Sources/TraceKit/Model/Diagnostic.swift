/// Something the loader could not read, or read only partly, with its place in the file.
public struct Diagnostic: Sendable, Hashable, CustomStringConvertible {
    /// What went wrong.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// A line that is not an event, a header, or a comment (unreadable).
        case unrecognizedLine = "unrecognized-line"
        /// A line holding NUL bytes or other binary data (unreadable).
        case binaryData = "binary-data"
        /// The last line of the input, cut off (no newline, payload incomplete).
        case truncatedLine = "truncated-line"
        /// A line without an event prefix right after an event line: a mail-wrapped continuation (unreadable).
        case continuationLine = "continuation-line"
        /// A `# … lines omitted …` comment inside the body: events are missing here.
        case omittedLines = "omitted-lines"
        /// A `CPU:n [LOST n EVENTS]` marker: the kernel dropped events here.
        case lostEvents = "lost-events"
        /// libtraceevent printed `<CANT FIND FIELD …>`; the fields that follow were still read.
        case missingField = "missing-field"
        /// libtraceevent printed `[FAILED TO PARSE]`; the raw `name=value` fields were read where possible.
        case failedToParse = "failed-to-parse"
        /// A modelled event whose payload matched none of its known formats (kept raw).
        case unrecognizedPayload = "unrecognized-payload"
        /// A wrapped line (mail, terminal) joined back to the event it continues; not an error.
        case joinedLine = "joined-line"
    }

    /// The input's name as the user gave it (path or `-`).
    public var file: String
    /// 1-based line number in the (decompressed) text.
    public var line: Int
    /// What went wrong.
    public var kind: Kind
    /// A human-readable explanation.
    public var message: String

    /// Creates a diagnostic; control characters in `message` (it quotes line text) are
    /// stored as `\x1b`-style escapes, so a diagnostic shown anywhere never drives a terminal.
    public init(file: String, line: Int, kind: Kind, message: String) {
        self.file = file
        self.line = line
        self.kind = kind
        self.message = Self.printable(message)
    }

    /// `text` with C0 controls (but tab), DEL and C1 controls written as `\xNN`.
    static func printable(_ text: String) -> String {
        func isControl(_ value: UInt32) -> Bool { value < 0x20 && value != 0x09 || (0x7f...0x9f).contains(value) }
        guard text.unicodeScalars.contains(where: { isControl($0.value) }) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        let digits = Array("0123456789abcdef".unicodeScalars)
        for scalar in text.unicodeScalars {
            if isControl(scalar.value) {
                out += "\\x"
                out.unicodeScalars.append(digits[Int(scalar.value >> 4)])
                out.unicodeScalars.append(digits[Int(scalar.value & 0xf)])
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// `file:line: kind: message`.
    public var description: String { "\(file):\(line): \(kind.rawValue): \(message)" }
}
