import Foundation
import Testing
@testable import TraceKit

/// `svmdbg stats` times against perf's own tool, `perf kvm -i F stat report --event=vmexit`,
/// on every shipped perf.data: per exit reason the same number of timed exits and means
/// within 1 µs (perf merges the nesting levels and counts only exits it saw end).
@Suite struct PerfKVMStatTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("traces/perf-data/6.12").path

    static var files: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".perf.data") }.sorted()
    }

    static func perf() -> String? {
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            let path = "\(directory)/perf"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    /// perf's rows: reason → (samples, mean µs, time %).
    static func perfRows(_ path: String, perf: String) throws -> [String: (count: Int, mean: Double, timePercent: Double)] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: perf)
        process.arguments = ["kvm", "-i", path, "stat", "report", "--event=vmexit"]
        let output = Pipe()
        // perf kvm stat report prints its table on stderr when stdout is not a terminal.
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let pattern = try NSRegularExpression(pattern: #"^\s*(.+?)\s+(\d+)\s+[\d.]+%\s+([\d.]+)%\s+[\d.]+us\s+[\d.]+us\s+([\d.]+)us"#,
                                              options: [.anchorsMatchLines])
        var rows: [String: (Int, Double, Double)] = [:]
        for match in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
            func group(_ index: Int) -> String { String(text[Range(match.range(at: index), in: text)!]) }
            rows[group(1)] = (Int(group(2))!, Double(group(4))!, Double(group(3))!)
        }
        return rows
    }

    @Test("the shipped perf.data files exist")
    func filesExist() { #expect(Self.files.count >= 4) }

    @Test("stats counts and means equal perf kvm stat report's", arguments: files)
    func matchesPerfKVMStat(file: String) throws {
        guard let perf = Self.perf() else { return }
        let path = Self.folder + "/" + file
        let expected = try Self.perfRows(path, perf: perf)
        #expect(!expected.isEmpty)
        let statistics = ExitStatistics(trace: try TraceLoader.load(path: path))
        var merged: [String: (timed: Int, total: Int64)] = [:]
        for row in statistics.rows where row.timed > 0 {
            merged[row.reason.description, default: (0, 0)].timed += row.timed
            merged[row.reason.description, default: (0, 0)].total += row.total
        }
        let allTime = Double(merged.values.reduce(0) { $0 + $1.total })
        #expect(Set(merged.keys) == Set(expected.keys))
        for (reason, mine) in merged {
            guard let theirs = expected[reason] else { continue }
            #expect(mine.timed == theirs.count, "\(reason)")
            let meanMicroseconds = Double(mine.total) / Double(mine.timed) / 1000
            #expect(abs(meanMicroseconds - theirs.mean) < 1, "\(reason): \(meanMicroseconds) vs \(theirs.mean)")
            #expect(abs(Double(mine.total) / allTime * 100 - theirs.timePercent) < 0.01, "\(reason) Time%")
        }
    }
}
