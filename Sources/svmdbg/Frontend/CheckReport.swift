import Foundation
import NestedSVM
import Replay
import TraceKit

/// Prints `check` and `diff` results as text and JSON.
enum CheckReport {
    // MARK: check

    static func text(_ result: ReplayResult) -> String {
        let summary = result.summary
        let trace = result.trace
        var out = "svmdbg check \(trace.source)  (\(trace.format.rawValue), profile \(result.options.profile.name))\n"
        out += "host: " + hostText(result) + "\n"
        out += "exits \(summary.exits): \(summary.match) match"
        if summary.consistent > 0 {
            out += " (\(summary.decided) decided, \(summary.consistent) consistent: an input settled by the trace)"
        }
        out += ", \(summary.mismatch) mismatch, \(summary.undetermined) undetermined"
        if summary.synthesized > 0 { out += "; \(summary.synthesized) synthesized #VMEXIT" }
        out += "\n"
        out += "by level: " + summary.byLevel.sorted { $0.key < $1.key }.map { "\($0.key) \(countText($0.value))" }
            .joined(separator: ", ") + "\n"
        out += "by reason:\n"
        for (reason, count) in summary.byReason.sorted(by: { $0.value.exits > $1.value.exits || ($0.value.exits == $1.value.exits && $0.key < $1.key) }) {
            out += "  \(reason.padding(toLength: 16, withPad: " ", startingAt: 0)) \(countText(count))\n"
        }
        let lines = trace.lineAccounting
        out += "lines: \(lines.read) read, \(lines.understood) understood, \(lines.raw) raw, \(lines.unreadable) unreadable"
        out += trace.diagnostics.isEmpty ? "\n" : "; \(trace.diagnostics.count) diagnostics\n"
        for diagnostic in trace.diagnostics.prefix(5) { out += "  \(TerminalSafe.escape(diagnostic.description))\n" }
        let mismatches = result.mismatches
        if !mismatches.isEmpty {
            out += "mismatches:\n"
            for exit in mismatches {
                out += "  #\(exit.index) line \(exit.lines.lowerBound) \(exit.level?.rawValue ?? "?") \(reasonText(exit))"
                out += ": \(exit.verdict.differences.map(\.description).joined(separator: "; "))"
                out += exit.decidingRule.map { "  [rule \($0)]" } ?? ""
                out += "\n"
            }
        }
        let undetermined = result.exits(withVerdict: .undetermined)
        if !undetermined.isEmpty {
            out += "undetermined:\n"
            for exit in undetermined {
                out += "  #\(exit.index) line \(exit.lines.lowerBound) \(exit.level?.rawValue ?? "?") \(reasonText(exit)): "
                out += exit.verdict.explanation
                if !exit.verdict.missing.isEmpty { out += " (missing: \(exit.verdict.missing.joined(separator: ", ")))" }
                out += "\n"
            }
        }
        if !result.findings.isEmpty {
            out += "findings:\n"
            for finding in result.findings { out += "  line \(finding.line) \(finding.kind): \(finding.message)\n" }
        }
        return out
    }

    static func json(_ result: ReplayResult) -> String {
        let summary = result.summary
        let lines = result.trace.lineAccounting
        let document = CheckDocument(
            trace: result.trace.source, format: result.trace.format.rawValue, profile: result.options.profile.name,
            host: hostDictionary(result), exits: summary.exits, match: summary.match, mismatch: summary.mismatch,
            undetermined: summary.undetermined, matchByInference: summary.matchByInference,
            decided: summary.decided, consistent: summary.consistent,
            synthesized: summary.synthesized, byReason: summary.byReason, byLevel: summary.byLevel,
            lines: .init(read: lines.read, understood: lines.understood, raw: lines.raw, unreadable: lines.unreadable),
            mismatches: ExportRecord.records(result.mismatches, in: result, withPath: true),
            undeterminedExits: result.exits(withVerdict: .undetermined)
                .map { ExportRecord($0, in: result, withPath: false) },
            findings: result.findings)
        return encode(document)
    }

    // MARK: diff

    static func text(_ diff: ProfileDiff, trace: String) -> String {
        let filter = diff.rulePrefixes.isEmpty ? "" : " (rules \(diff.rulePrefixes.joined(separator: ", ")))"
        var out = "svmdbg diff \(trace): profile \(diff.first) vs \(diff.second), \(diff.exits) exits, \(diff.changes.count) changed\(filter)\n"
        for change in diff.changes {
            out += "  #\(change.exit) line \(change.line) \(change.level ?? "?") \(change.exitName): \(change.reason)\n"
            for (index, text) in change.firstFits.enumerated() {
                out += "      \(index == 0 ? "\(diff.first) (fits the trace):" : "  or") \(text)\n"
            }
            for (index, text) in change.secondPossible.enumerated() {
                out += "      \(index == 0 ? "\(diff.second) (with the settled facts):" : "  or") \(text)\n"
            }
            out += "      trace: \(change.recorded)\n"
            if let rule = change.kernelRule { out += "      KVM rule: \(rule)\n" }
            if let rule = change.architecturalRule { out += "      APM rule: \(rule)\n" }
            if !change.decidingRules.isEmpty { out += "      from rule: \(change.decidingRules.joined(separator: ", "))\n" }
            if !change.hingedOn.isEmpty { out += "      hinges on: \(change.hingedOn.joined(separator: ", "))\n" }
            if !change.rules.isEmpty { out += "      rules only in \(diff.second): \(change.rules.joined(separator: ", "))\n" }
        }
        return out
    }

    static func json(_ diff: ProfileDiff) -> String {
        encode(DiffDocument(first: diff.first, second: diff.second, exitsCompared: diff.exits, changed: diff.changes.count, exits: diff.changes))
    }

    // MARK: helpers

    private static func countText(_ count: ReplaySummary.VerdictCount) -> String {
        var parts = ["\(count.exits)"]
        var details: [String] = []
        if count.match > 0 { details.append("\(count.match) match" + (count.consistent > 0 ? " (\(count.consistent) consistent)" : "")) }
        if count.mismatch > 0 { details.append("\(count.mismatch) mismatch") }
        if count.undetermined > 0 { details.append("\(count.undetermined) undetermined") }
        if !details.isEmpty { parts.append("(" + details.joined(separator: ", ") + ")") }
        return parts.joined(separator: " ")
    }

    private static func reasonText(_ exit: ExitRecord) -> String {
        let hex = exit.exitCode == 0xffff_ffff ? "0xffffffff" : String(format: "0x%03x", exit.exitCode)
        return "\(exit.reasonName) (\(hex))" + (exit.rip.map { " rip 0x\(String($0, radix: 16))" } ?? "")
    }

    private static func hostText(_ result: ReplayResult) -> String {
        let facts = hostDictionary(result)
        if facts.isEmpty { return "nothing known (give --host)" }
        return facts.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.value) [\($0.value.source)]" }.joined(separator: ", ")
    }

    /// Every known host fact with its value and source.
    static func hostDictionary(_ result: ReplayResult) -> [String: FactText] {
        let host = result.host
        var out: [String: FactText] = [:]
        func add<T>(_ key: String, _ known: Known<T>?) {
            guard let known else { return }
            let text: String
            if let flag = known.value as? Bool { text = flag ? "1" : "0" } else { text = "\(known.value)" }
            out[key] = FactText(value: text, source: known.source)
        }
        add("svme_addr_chk", host.svmeAddrChk)
        add("vgif", host.vgif)
        add("npt", host.npt)
        add("nrips", host.nrips)
        add("decode_assists", host.decodeAssists)
        add("maxphyaddr", host.maxPhysAddr)
        return out
    }

    private static func encode(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value), let text = String(data: data, encoding: .utf8) else { return "{}" }
        return text
    }

    /// A host fact as JSON.
    struct FactText: Encodable {
        var value: String
        var source: String
    }

    private struct LineCounts: Encodable {
        var read: Int
        var understood: Int
        var raw: Int
        var unreadable: Int
    }

    private struct CheckDocument: Encodable {
        var trace: String
        var format: String
        var profile: String
        var host: [String: FactText]
        var exits: Int
        var match: Int
        var mismatch: Int
        var undetermined: Int
        var matchByInference: Int
        var decided: Int
        var consistent: Int
        var synthesized: Int
        var byReason: [String: ReplaySummary.VerdictCount]
        var byLevel: [String: ReplaySummary.VerdictCount]
        var lines: LineCounts
        var mismatches: [ExportRecord]
        var undeterminedExits: [ExportRecord]
        var findings: [ReplayFinding]

        enum CodingKeys: String, CodingKey {
            case trace, format, profile, host, exits, match, mismatch, undetermined, synthesized, lines, mismatches, findings
            case decided, consistent
            case matchByInference = "match_by_inference", byReason = "by_reason", byLevel = "by_level"
            case undeterminedExits = "undetermined_exits"
        }
    }

    private struct DiffDocument: Encodable {
        var first: String
        var second: String
        var exitsCompared: Int
        var changed: Int
        var exits: [ProfileDiff.Change]
        enum CodingKeys: String, CodingKey {
            case first, second, changed, exits
            case exitsCompared = "exits_compared"
        }
    }
}
