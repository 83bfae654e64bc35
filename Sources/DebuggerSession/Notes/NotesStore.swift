import Foundation
import DebuggerUI

/// Bookmarks, notes and breakpoints saved next to the trace, in `TRACE.svmdbg.json`.
///
/// The file is ours when it is a JSON object whose `format` is `svmdbg-notes`; any other file
/// at that path is never written (the UI says so once). A file of ours with a bad entry loads
/// what it can, names the file and line of the first bad entry, and is then left alone too, so
/// nothing the user wrote is lost. Writes go to a temporary file renamed over the old one
/// (atomic), after checking again that the file there is still ours.
///
/// Format (version 1):
/// ```json
/// {
///   "format": "svmdbg-notes",
///   "version": 1,
///   "trace": "msr-prot.trace",
///   "bookmarks": [ { "exit": 17, "note": "EFER write from L2" }, { "exit": 20 } ],
///   "breakpoints": [ { "number": 1, "condition": "msr 0xc0000080", "enabled": true } ]
/// }
/// ```
public struct NotesStore: Sendable {
    /// The file's path.
    public let path: String
    /// The trace's file name, written into the file.
    public let traceName: String

    /// The value of `format` that marks the file as ours.
    public static let formatName = "svmdbg-notes"

    /// The store for the trace at `tracePath`.
    public init(tracePath: String) {
        path = tracePath + ".svmdbg.json"
        traceName = URL(fileURLWithPath: tracePath).lastPathComponent
    }

    /// What reading the file gave.
    public enum Loaded: Sendable, Hashable {
        /// No file yet: the first save creates it.
        case absent
        /// Read (perhaps partly: then `problem` names the file and line) and writable unless
        /// `problem` is set.
        case loaded(SavedNotes, problem: String?)
        /// Not ours or unreadable: never written; the reason names the file and line.
        case refused(String)

        /// Whether saving to the file is allowed.
        public var allowsSaving: Bool {
            switch self {
            case .absent: true
            case .loaded(_, let problem): problem == nil
            case .refused: false
            }
        }
    }

    /// Reads the file.
    public func load() -> Loaded {
        guard FileManager.default.fileExists(atPath: path) else { return .absent }
        guard let data = FileManager.default.contents(atPath: path) else { return .refused("\(path): cannot be read") }
        return Self.parse(data, path: path)
    }

    /// Parses the file's bytes (`path` names it in messages).
    public static func parse(_ data: Data, path: String) -> Loaded {
        let text = String(decoding: data, as: UTF8.self)
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data)
        } catch {
            let line = lineOfError(error, in: text)
            return .refused("\(path):\(line): not an svmdbg notes file (not JSON: \(describe(error))); bookmarks and notes will not be saved")
        }
        guard let top = object as? [String: Any], top["format"] as? String == formatName else {
            return .refused("\(path):1: not an svmdbg notes file (no \"format\": \"\(formatName)\"); it is left alone and nothing is saved")
        }
        if let version = top["version"] as? Int, version > 1 {
            return .refused("\(path):\(line(ofKey: "version", in: text)): notes file version \(version) is newer than this svmdbg (1); left alone")
        }
        var saved = SavedNotes()
        var problems: [String] = []
        for (i, entry) in ((top["bookmarks"] as? [Any]) ?? []).enumerated() {
            guard let fields = entry as? [String: Any], let exit = fields["exit"] as? Int, exit >= 0 else {
                problems.append("\(path):\(line(ofEntry: i, key: "bookmarks", in: text)): bookmark \(i + 1) has no exit number")
                continue
            }
            let number = ExitNumber(exit)
            if !saved.bookmarks.contains(number) { saved.bookmarks.append(number) }
            if let note = fields["note"] as? String, !note.isEmpty { saved.notes[number] = note }
        }
        saved.bookmarks.sort()
        for (i, entry) in ((top["breakpoints"] as? [Any]) ?? []).enumerated() {
            let at = line(ofEntry: i, key: "breakpoints", in: text)
            guard let fields = entry as? [String: Any], let condition = fields["condition"] as? String else {
                problems.append("\(path):\(at): breakpoint \(i + 1) has no condition")
                continue
            }
            switch PredicateParser.breakpoint(condition) {
            case .success(var breakpoint):
                breakpoint.number = (fields["number"] as? Int).map { max(1, $0) } ?? (saved.breakpoints.map(\.number).max() ?? 0) + 1
                breakpoint.isEnabled = fields["enabled"] as? Bool ?? true
                saved.breakpoints.append(breakpoint)
            case .failure(let failure):
                problems.append("\(path):\(at): breakpoint '\(condition)': \(failure.message)")
            }
        }
        guard let first = problems.first else { return .loaded(saved, problem: nil) }
        let more = problems.count > 1 ? " (and \(problems.count - 1) more)" : ""
        return .loaded(saved, problem: "\(first)\(more); the rest loaded; the file is left as it is until fixed")
    }

    /// The file's text for `notes`.
    public func encode(_ notes: SavedNotes) -> String {
        func quoted(_ s: String) -> String {
            let data = try? JSONSerialization.data(withJSONObject: [s], options: [.withoutEscapingSlashes])
            let array = data.map { String(decoding: $0, as: UTF8.self) } ?? "[\"\"]"
            return String(array.dropFirst().dropLast())
        }
        var out = "{\n  \"format\": \"\(Self.formatName)\",\n  \"version\": 1,\n  \"trace\": \(quoted(traceName)),\n"
        let marks = notes.bookmarks.map { exit -> String in
            if let note = notes.notes[exit] { return "    { \"exit\": \(exit.rawValue), \"note\": \(quoted(note)) }" }
            return "    { \"exit\": \(exit.rawValue) }"
        }
        out += "  \"bookmarks\": [" + (marks.isEmpty ? "],\n" : "\n" + marks.joined(separator: ",\n") + "\n  ],\n")
        let points = notes.breakpoints.map {
            "    { \"number\": \($0.number), \"condition\": \(quoted($0.text)), \"enabled\": \($0.isEnabled) }"
        }
        out += "  \"breakpoints\": [" + (points.isEmpty ? "]\n" : "\n" + points.joined(separator: ",\n") + "\n  ]\n")
        return out + "}\n"
    }

    /// Writes `notes` atomically; nil when written, else why not. Refuses when the file
    /// there now is not ours.
    public func save(_ notes: SavedNotes) -> String? {
        if FileManager.default.fileExists(atPath: path) {
            guard let data = FileManager.default.contents(atPath: path) else { return "\(path): cannot be read; not saved" }
            if case .refused(let reason) = Self.parse(data, path: path) { return reason }
        }
        do {
            try Data(encode(notes).utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
            return nil
        } catch {
            return "\(path): cannot save bookmarks and notes: \(error.localizedDescription)"
        }
    }

    // MARK: Line numbers for messages

    private static func describe(_ error: Error) -> String {
        ((error as NSError).userInfo["NSDebugDescription"] as? String) ?? "\(error)"
    }

    /// The line of a JSONSerialization error ("… around character 19." / "line 3").
    static func lineOfError(_ error: Error, in text: String) -> Int {
        let description = describe(error)
        if let range = description.range(of: "line ") {
            let digits = description[range.upperBound...].prefix { $0.isNumber }
            if let n = Int(digits) { return n }
        }
        if let range = description.range(of: "character ") {
            let digits = description[range.upperBound...].prefix { $0.isNumber }
            if let offset = Int(digits) {
                let utf8 = Array(text.utf8.prefix(offset))
                return 1 + utf8.reduce(0) { $0 + ($1 == 10 ? 1 : 0) }
            }
        }
        return 1
    }

    /// The line where `"key"` first appears (1 when not found).
    static func line(ofKey key: String, in text: String) -> Int {
        guard let range = text.range(of: "\"\(key)\"") else { return 1 }
        return 1 + text[..<range.lowerBound].reduce(0) { $0 + ($1 == "\n" ? 1 : 0) }
    }

    /// The line of the `index`-th `{` after `"key"` (entries of an array of objects).
    static func line(ofEntry index: Int, key: String, in text: String) -> Int {
        guard let start = text.range(of: "\"\(key)\"") else { return 1 }
        var line = 1 + text[..<start.lowerBound].reduce(0) { $0 + ($1 == "\n" ? 1 : 0) }
        var seen = -1
        var depth = 0
        var inString = false
        var escaped = false
        for c in text[start.upperBound...] {
            if c == "\n" { line += 1 }
            if inString {
                if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { inString = false }
                continue
            }
            switch c {
            case "\"": inString = true
            case "[", "{":
                depth += 1
                if depth == 2 {
                    seen += 1
                    if seen == index { return line }
                }
            case "]", "}":
                depth -= 1
                if depth <= 0 { return line }
            default:
                break
            }
        }
        return line
    }
}
