import Foundation
import TraceKit

/// The formats `export` writes.
public enum ExportFormat: String, Sendable, CaseIterable {
    /// One JSON object per line (`ExportRecord`).
    case jsonl
    /// Comma-separated values, one row per exit.
    case csv
    /// A Markdown report: a table plus each exit's decision path.
    case md
    /// A trace excerpt: the original lines of each exit plus the lines that set up its
    /// state, which svmdbg can open and check again.
    case trace
    /// `decide` scenarios (``ScenarioExport``): one pretty JSON object for one exit, else one
    /// scenario per line.
    case scenario
    /// A lab scenario (`lab/scenarios/*.scn`, ``LabScenarioExport``) for each exit the lab can
    /// express; the others as a comment line saying why not.
    case labScenario = "lab-scenario"
}

/// Renders exported exits in each format.
public enum ExportRenderer {
    /// The text of `exits` in `format`.
    ///
    /// Trace text (task names, payloads, raw lines) may hold terminal control sequences.
    /// `md` and `csv` show every control character but the line break as `\x1b`-style
    /// escapes, `jsonl` spells DEL and C1 as `\u007f`-style escapes (JSON already escapes
    /// C0), so `cat`-ing an export never drives the terminal. `trace` keeps the original
    /// bytes of every line: it is a trace file, read back by svmdbg.
    public static func render<Exits: Collection<ExitRecord>>(_ exits: Exits, of result: ReplayResult, as format: ExportFormat) -> String {
        switch format {
        case .jsonl: return TerminalSafe.escapeJSONText(jsonLines(exits, result))
        case .csv: return TerminalSafe.escapeKeepingLineBreaks(csv(exits, result))
        case .md: return TerminalSafe.escapeKeepingLineBreaks(markdown(exits, result))
        case .trace: return ExportHeader.line(for: result.options) + "\n" + TraceExcerpt.text(for: exits, in: result)
        case .scenario:
            if exits.count == 1, let exit = exits.first, let document = ScenarioExport.document(for: exit, in: result) {
                return TerminalSafe.escapeJSONText(ScenarioExport.text(document, pretty: true) + "\n")
            }
            return TerminalSafe.escapeJSONText(ScenarioExport.jsonLines(exits, in: result))
        case .labScenario:
            let name = result.trace.source
            return TerminalSafe.escapeKeepingLineBreaks(exits.map { exit in
                switch LabScenarioExport.scenario(for: exit, in: result, traceName: name) {
                case .success(let text): text
                case .failure(let refusal): "# \(refusal.description)\n"
                }
            }.joined(separator: "\n"))
        }
    }

    private static func jsonLines(_ exits: some Collection<ExitRecord>, _ result: ReplayResult) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var out = ""
        result.forEachDecision(of: exits) { exit, decision in
            let record = ExportRecord(exit, in: result, decision: decision)
            if let data = try? encoder.encode(record), let line = String(data: data, encoding: .utf8) {
                out += line + "\n"
            }
        }
        return out
    }

    private static func csv(_ exits: some Collection<ExitRecord>, _ result: ReplayResult) -> String {
        let header = [
            "exit", "line", "time", "pid", "vcpu", "level", "exit_code", "exit_name", "exit_info_1", "exit_info_2",
            "model_outcome", "model_exit_code", "recorded_outcome", "recorded_exit_code", "verdict", "rule",
            "differences", "inferred", "path", "proof", "profile", "host",
        ]
        var out = header.joined(separator: ",") + "\n"
        result.forEachDecision(of: exits) { exit, decision in
            let record = ExportRecord(exit, in: result, decision: decision)
            let fields: [String] = [
                String(record.exit), String(record.line), record.time, String(record.pid),
                record.vcpu.map(String.init) ?? "", record.level ?? "", hex(UInt64(record.exitCode)), record.exitName,
                record.exitInfo1.map(hex) ?? "", record.exitInfo2.map(hex) ?? "", record.model.outcome,
                record.model.exitCode.map { hex(UInt64($0)) } ?? "", record.recorded.outcome,
                record.recorded.exitCode.map { hex(UInt64($0)) } ?? "", record.verdict, record.rule ?? "",
                record.differences.map(\.description).joined(separator: "; "),
                record.inferred.joined(separator: "; "),
                (record.path ?? []).map { "\($0.rule)=\($0.answer)" }.joined(separator: " > "),
                record.proof ?? "", record.profile, record.host ?? "",
            ]
            out += fields.map(quote).joined(separator: ",") + "\n"
        }
        return out
    }

    private static func markdown(_ exits: some Collection<ExitRecord>, _ result: ReplayResult) -> String {
        let summary = result.summary
        var out = "# svmdbg export: \(result.trace.source)\n\n"
        out += "Profile `\(result.options.profile.name)`, host facts `\(ExportHeader.hostText(result.options.host) ?? "none given")`; \(summary.exits) exits: \(summary.match) match"
        out += " (\(summary.decided) decided, \(summary.consistent) consistent), "
        out += "\(summary.mismatch) mismatch, \(summary.undetermined) undetermined. \(exits.count) exported.\n\n"
        out += "| exit | line | time | vCPU | level | exit | model | trace | verdict |\n"
        out += "|---|---|---|---|---|---|---|---|---|\n"
        for exit in exits {
            let cells = [
                "#\(exit.index)", "\(exit.lines.lowerBound)", exit.timestamp.description,
                exit.vcpu.map(String.init) ?? "?", exit.level?.rawValue ?? "?", ExitCodeText.name(exit.exitCode),
                exit.model.description, exit.recorded.summary, Self.verdictText(exit.verdict),
            ]
            out += "| " + cells.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |\n"
        }
        result.forEachDecision(of: exits) { exit, decision in
            out += "\n## #\(exit.index), line \(exit.lines.lowerBound): \(ExitCodeText.name(exit.exitCode)) (\(Self.verdictText(exit.verdict)))\n\n"
            out += "```\n" + DecisionText.render(decision, exit: exit) + "\n```\n\n"
            out += "Trace lines \(exit.lines.lowerBound)–\(exit.lines.upperBound):\n\n```\n"
            var reader = RawLineReader(result.trace)
            for line in exit.lines {
                if let text = reader.line(line) { out += TerminalSafe.escape(text) + "\n" }
            }
            out += "```\n"
        }
        return out
    }

    /// `match (decided)`, `match (consistent)`, `mismatch`, `undetermined`.
    static func verdictText(_ verdict: Verdict) -> String {
        verdict.kind == .match ? "match (\(verdict.proof.rawValue))" : verdict.kind.rawValue
    }

    private static func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }

    private static func quote(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// Escapes control characters so that trace text never drives the terminal.
///
/// A terminal acts on C0 controls (ESC starts a sequence, BEL rings, BS and CR move the
/// cursor), on DEL, and in UTF-8 mode on C1 controls (U+009B is a one-byte CSI), so all
/// of them are spelled out. Tab is kept: it only moves the cursor right.
public enum TerminalSafe {
    /// `text` with C0/C1 control characters and DEL shown as `\x1b`-style escapes.
    public static func escape(_ text: String) -> String {
        escape(text, keepingLineBreaks: false)
    }

    /// Like ``escape(_:)`` but keeps `\n`, for multi-line reports whose lines svmdbg built.
    public static func escapeKeepingLineBreaks(_ text: String) -> String {
        escape(text, keepingLineBreaks: true)
    }

    /// JSON text with DEL and C1 controls written as `\u007f`-style escapes.
    ///
    /// JSON encoders escape C0 but may emit DEL and C1 raw. These characters can only occur
    /// inside JSON strings, where `\u00XX` means the same character, so the JSON is unchanged.
    public static func escapeJSONText(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isUnescapedByJSON) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 16)
        for scalar in text.unicodeScalars {
            if isUnescapedByJSON(scalar) {
                out += String(format: "\\u%04x", scalar.value)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Whether the terminal would act on `scalar` (C0 except tab, DEL, C1).
    public static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        return value < 0x20 && value != 0x09 || value == 0x7f || (0x80...0x9f).contains(value)
    }

    private static func isUnescapedByJSON(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value == 0x7f || (0x80...0x9f).contains(scalar.value)
    }

    private static func escape(_ text: String, keepingLineBreaks: Bool) -> String {
        guard text.unicodeScalars.contains(where: { isControl($0) && !(keepingLineBreaks && $0 == "\n") }) else {
            return text
        }
        var out = ""
        out.reserveCapacity(text.utf8.count + 16)
        for scalar in text.unicodeScalars {
            if isControl(scalar), !(keepingLineBreaks && scalar == "\n") {
                out += String(format: "\\x%02x", scalar.value)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
