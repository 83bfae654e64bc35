import Foundation
import Replay
import TraceKit

/// The `svmdbg stats` result as a value: rendered as text or encoded as JSON
/// (schema documented in `docs/stats.md` and `svmdbg stats --help`).
struct StatsReport: Encodable {
    /// Line accounting (`read = understood + raw + unreadable + metadata`).
    struct Lines: Encodable {
        var read: Int, understood: Int, raw: Int, unreadable: Int, metadata: Int
    }

    /// Diagnostic counts.
    struct Diagnostics: Encodable {
        var total: Int
        var byKind: [String: Int]
    }

    /// Verdict counts of a replay (`--verdicts`): what each match proved (issue #16).
    struct Verdicts: Encodable {
        struct Row: Encodable {
            var level: String, reason: String, exits: Int, decided: Int, consistent: Int, mismatch: Int, undetermined: Int
        }
        var profile: String
        var decided: Int, consistent: Int, mismatch: Int, undetermined: Int
        var rows: [Row]

        init(_ result: ReplayResult) {
            let summary = result.summary
            profile = result.options.profile.name
            decided = summary.decided
            consistent = summary.consistent
            mismatch = summary.mismatch
            undetermined = summary.undetermined
            var counts: [String: [String: ReplaySummary.VerdictCount]] = [:]
            let exits = result.exits
            for position in exits.indices {
                let level = exits.level(at: position)?.rawValue ?? "unknown"
                let reason = exits[position].reasonName
                var count = counts[level, default: [:]][reason, default: ReplaySummary.VerdictCount()]
                count.exits += 1
                switch exits.verdictKind(at: position) {
                case .match:
                    count.match += 1
                    if exits.isMatchByInference(at: position) { count.consistent += 1 }
                case .mismatch: count.mismatch += 1
                case .undetermined: count.undetermined += 1
                }
                counts[level, default: [:]][reason] = count
            }
            rows = counts.sorted { $0.key < $1.key }.flatMap { level, reasons in
                reasons.sorted { ($0.value.exits, $1.key) > ($1.value.exits, $0.key) }.map { reason, count in
                    Row(level: level, reason: reason, exits: count.exits, decided: count.decided, consistent: count.consistent,
                        mismatch: count.mismatch, undetermined: count.undetermined)
                }
            }
        }

        var text: String {
            var out = "\nVerdicts (profile \(profile)): \(decided) decided, \(consistent) consistent, \(mismatch) mismatch, \(undetermined) undetermined\n"
            out += "  level    reason            exits  decided  consist  mismatch  undet\n"
            for row in rows {
                out += "  " + row.level.padding(toLength: 8, withPad: " ", startingAt: 0) + " "
                    + row.reason.padding(toLength: 16, withPad: " ", startingAt: 0)
                    + [row.exits, row.decided, row.consistent, row.mismatch, row.undetermined].enumerated()
                        .map { index, value in String(repeating: " ", count: max(0, [7, 9, 9, 10, 7][index] - "\(value)".count)) + "\(value)" }
                        .joined() + "\n"
            }
            return out
        }
    }

    /// Verdict counts, when `--verdicts` asked for a replay.
    var verdicts: Verdicts?

    /// One row of an exit table.
    struct ExitRow: Encodable {
        var level: String
        var reason: String
        var code: String
        var count: Int
        var sharePercent: Double
        var timed: Int
        var min: Int64?
        var mean: Double?
        var max: Int64?
        /// Share of the table's total exit time (perf kvm stat's Time%).
        var timePercent: Double
        /// Sample standard deviation of the times, in the time unit.
        var stddev: Double?
        /// perf kvm stat's `( +- x% )`: standard error of the mean, % of the mean.
        var meanErrorPercent: Double?
        /// Sum of the times (for sorting by total time).
        var totalTime: Int64

        private enum CodingKeys: String, CodingKey {
            case level, reason, code, count, sharePercent, timed, min, mean, max, timePercent, stddev, meanErrorPercent, totalTime
        }

        /// Encodes every key; untimed rows get `null` times rather than missing keys.
        func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(level, forKey: .level)
            try container.encode(reason, forKey: .reason)
            try container.encode(code, forKey: .code)
            try container.encode(count, forKey: .count)
            try container.encode(sharePercent, forKey: .sharePercent)
            try container.encode(timed, forKey: .timed)
            try container.encode(min, forKey: .min)
            try container.encode(mean, forKey: .mean)
            try container.encode(max, forKey: .max)
            try container.encode(timePercent, forKey: .timePercent)
            try container.encode(stddev, forKey: .stddev)
            try container.encode(meanErrorPercent, forKey: .meanErrorPercent)
            try container.encode(totalTime, forKey: .totalTime)
        }
    }

    /// The exit table over all threads.
    struct Exits: Encodable {
        var total: Int
        var l1: Int
        var l2: Int
        var unknownLevel: Int
        var unreadable: Int
        var timeUnit: String
        var rows: [ExitRow]
    }

    /// The exit table of one thread (`--per-vcpu`).
    struct Thread: Encodable {
        var pid: Int32
        var vcpu: UInt32?
        var comm: String
        var exits: Int
        var rows: [ExitRow]
    }

    var trace: String
    var format: String
    var compression: String
    var events: [String: Int]
    var lines: Lines
    var diagnostics: Diagnostics
    var exits: Exits
    var threads: [Thread]?

    /// Row orders of `--sort` (perf kvm stat report `--key`: sample, time, max_t, min_t, mean_t).
    enum Sort: String, CaseIterable {
        case count, time, max, min, mean

        /// perf's key names map to ours.
        init?(perfOrOwn name: String) {
            switch name {
            case "count", "sample": self = .count
            case "time": self = .time
            case "max", "max_t": self = .max
            case "min", "min_t": self = .min
            case "mean", "mean_t": self = .mean
            default: return nil
            }
        }

        /// Sorts rows, largest first (ties: the default order).
        func apply(_ rows: [ExitRow]) -> [ExitRow] {
            let keyed = rows.enumerated().map { (offset: $0.offset, row: $0.element) }
            func key(_ row: ExitRow) -> Double {
                switch self {
                case .count: Double(row.count)
                case .time: Double(row.totalTime)
                case .max: row.max.map(Double.init) ?? -1
                case .min: row.min.map(Double.init) ?? -1
                case .mean: row.mean ?? -1
                }
            }
            return keyed.sorted { (key($1.row), $0.offset) < (key($0.row), $1.offset) }.map(\.row)
        }
    }

    /// Reader notes, if any (pasted excerpts, tool options, timestamp conversions).
    var readerNotes: [String]?
    /// Set when the trace is an Intel VMX trace: why. Exits are then counted by their
    /// printed reason (`exitsByPrintedReason`); the SVM tables stay empty.
    var vmx: String?
    /// kvm_exit events whose payload was not decoded, by printed reason.
    var exitsByPrintedReason: [String: Int]?

    /// Builds the report for `trace`.
    init(trace loaded: LoadedTrace, perVCPU: Bool, sort: Sort = .count) {
        let statistics = ExitStatistics(trace: loaded)
        trace = loaded.source
        format = loaded.format.rawValue
        compression = loaded.compression.rawValue
        events = loaded.eventNameCounts
        let accounting = loaded.lineAccounting
        lines = Lines(read: accounting.read, understood: accounting.understood, raw: accounting.raw,
                      unreadable: accounting.unreadable, metadata: accounting.metadata)
        diagnostics = Diagnostics(total: loaded.diagnosticCount,
                                  byKind: Dictionary(uniqueKeysWithValues: loaded.diagnosticCountsByKind.map { ($0.key.rawValue, $0.value) }))
        let unit = statistics.unit == .nanoseconds ? "ns" : "ticks"
        exits = Exits(total: statistics.totalExits, l1: statistics.exits(at: .l1), l2: statistics.exits(at: .l2),
                      unknownLevel: statistics.exits(at: .unknown), unreadable: statistics.unreadableExits, timeUnit: unit,
                      rows: sort.apply(Self.rows(statistics.rows, of: statistics.totalExits)))
        if perVCPU {
            threads = statistics.threads.map { table in
                Thread(pid: table.pid, vcpu: table.vcpu, comm: table.comm, exits: table.totalExits,
                       rows: sort.apply(Self.rows(table.rows, of: table.totalExits)))
            }
        }
        readerNotes = loaded.readerNotes.isEmpty ? nil : loaded.readerNotes
        vmx = loaded.vmxEvidence
        let undecoded = loaded.undecodedExitReasons
        exitsByPrintedReason = undecoded.isEmpty ? nil : Dictionary(uniqueKeysWithValues: undecoded.map { ($0.reason, $0.count) })
    }

    private static func rows(_ rows: [ExitStatistics.Row], of total: Int) -> [ExitRow] {
        let allTime = rows.reduce(0.0) { $0 + Double($1.total) }
        return rows.map { row in
            ExitRow(level: row.level.rawValue, reason: row.reason.description, code: row.reason.hexString, count: row.count,
                    sharePercent: total == 0 ? 0 : (Double(row.count) * 10_000 / Double(total)).rounded() / 100,
                    timed: row.timed, min: row.minimum, mean: row.mean.map { ($0 * 1000).rounded() / 1000 }, max: row.maximum,
                    timePercent: allTime == 0 ? 0 : (Double(row.total) * 10_000 / allTime).rounded() / 100,
                    stddev: row.standardDeviation.map { ($0 * 1000).rounded() / 1000 },
                    meanErrorPercent: row.meanErrorPercent.map { ($0 * 100).rounded() / 100 }, totalTime: row.total)
        }
    }

    /// Pretty-printed JSON with sorted keys, newline-terminated.
    func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self) + "\n"
    }

    /// The human-readable tables.
    func text() -> String {
        var out = "Trace: \(trace) (\(format)\(compression == "none" ? "" : ", \(compression)"))\n"
        out += "Lines: \(lines.read) read, \(lines.understood) understood, \(lines.raw) raw, "
        out += "\(lines.unreadable) unreadable, \(lines.metadata) metadata\n"
        out += "Diagnostics: \(diagnostics.total)"
        if !diagnostics.byKind.isEmpty {
            out += " (" + diagnostics.byKind.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + ")"
        }
        out += "\n\nEvents\n"
        let nameWidth = max(10, events.keys.map(\.count).max() ?? 0)
        for (name, count) in events.sorted(by: { ($1.value, $0.key) < ($0.value, $1.key) }) {
            out += "  " + pad(name, nameWidth) + leftPad(String(count), 10) + "\n"
        }
        for note in readerNotes ?? [] { out += "Read: \(note)\n" }
        if let vmx {
            out += "\nThis is an Intel VMX trace (\(vmx)); svmdbg's model is SVM-only: exits are counted by their printed reason.\n"
        }
        if let printed = exitsByPrintedReason {
            out += "\nExits not decoded, by printed reason\n"
            for (reason, count) in printed.sorted(by: { ($1.value, $0.key) < ($0.value, $1.key) }) {
                out += "  " + pad(reason, nameWidth) + leftPad(String(count), 10) + "\n"
            }
        }
        out += "\n" + table(title: "Exits", rows: exits.rows, total: exits.total)
        out += "  L1 \(exits.l1), L2 \(exits.l2)"
        if exits.unknownLevel > 0 { out += ", level unknown \(exits.unknownLevel)" }
        if exits.unreadable > 0 { out += ", \(exits.unreadable) with an unreadable payload" }
        out += "\n"
        for thread in threads ?? [] {
            let vcpu = thread.vcpu.map { "vCPU \($0)" } ?? "vCPU ?"
            out += "\n" + table(title: "\(vcpu) — pid \(thread.pid) (\(thread.comm))", rows: thread.rows, total: thread.exits)
        }
        if let verdicts { out += verdicts.text }
        return out
    }

    private func table(title: String, rows: [ExitRow], total: Int) -> String {
        let unitLabel = exits.timeUnit == "ns" ? "µs" : "ticks"
        var out = "\(title): time from kvm_exit to the next kvm_entry of the same thread, in \(unitLabel)\n"
        let reasonWidth = max(12, rows.map(\.reason.count).max() ?? 0)
        out += pad("Level", 8) + pad("Reason", reasonWidth + 2) + pad("Code", 12) + leftPad("Count", 8) + leftPad("Share", 9)
        out += leftPad("Time%", 9) + leftPad("Min", 12) + leftPad("Mean", 12) + leftPad("Max", 12) + leftPad("Stddev", 12)
        out += leftPad("±mean", 9) + leftPad("Untimed", 9) + "\n"
        for row in rows {
            out += pad(row.level, 8) + pad(row.reason, reasonWidth + 2) + pad(row.code, 12) + leftPad(String(row.count), 8)
            out += leftPad(String(format: "%.2f%%", row.sharePercent), 9)
            out += leftPad(String(format: "%.2f%%", row.timePercent), 9)
            out += leftPad(time(row.min.map(Double.init)), 12) + leftPad(time(row.mean), 12) + leftPad(time(row.max.map(Double.init)), 12)
            out += leftPad(time(row.stddev), 12) + leftPad(row.meanErrorPercent.map { String(format: "%.2f%%", $0) } ?? "-", 9)
            out += leftPad(String(row.count - row.timed), 9) + "\n"
        }
        out += pad("", 8) + pad("total", reasonWidth + 2) + pad("", 12) + leftPad(String(total), 8) + "\n"
        return out
    }

    private func time(_ value: Double?) -> String {
        guard let value else { return "-" }
        return exits.timeUnit == "ns" ? String(format: "%.3f", value / 1000) : String(format: "%.0f", value)
    }

    private func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }

    private func leftPad(_ text: String, _ width: Int) -> String {
        text.count >= width ? " " + text : String(repeating: " ", count: width - text.count) + text
    }
}
