#if canImport(Glibc)
import Glibc
#endif
import Foundation
import NestedSVM
import Replay
import TraceKit

/// One measurement of `svmdbg bench`, run in a child process of its own so that peak
/// memory and CPU time belong to that measurement alone.
///
/// Every probe prints one JSON object (``BenchProbe/Report``) on standard output.
enum BenchProbe {
    /// What a probe measures.
    enum Kind: String, CaseIterable, Sendable {
        /// `TraceLoader.load`: the full index.
        case index
        /// Load, replay and the `check --json` document (what `svmdbg check --json` does).
        case check
        /// Head load + replay + the rows and detail of the first screen.
        case firstScreen = "first-screen"
        /// Full load + replay, then per-key lookups at the start, middle and end.
        case keys
    }

    /// Rows the first screen shows (a 50-line terminal's exit list).
    static let screenRows = 40
    /// Bytes of the file the first screen is read from.
    static let headBytes = 1 << 20
    /// Repetitions of each timed key action (the median is reported).
    static let keyRepetitions = 41

    /// A probe's result.
    struct Report: Codable, Sendable {
        /// Wall-clock seconds of the measured part.
        var wall: Double
        /// CPU seconds (user + system) of the whole child.
        var cpu: Double
        /// Peak resident set (VmHWM), bytes.
        var peakRSS: Int
        /// Resident anonymous memory at the end, bytes.
        var rssAnon: Int
        /// Resident file-backed memory at the end, bytes (the mapped trace).
        var rssFile: Int
        /// Events loaded.
        var events: Int
        /// Exits replayed (0 when the probe does not replay).
        var exits: Int
        /// Named sub-timings in seconds (load, replay, report, lookups…).
        var parts: [String: Double]
    }

    /// Runs probe `kind` on `path` and returns its report.
    static func run(_ kind: Kind, path: String, options: ReplayOptions) throws -> Report {
        let start = now()
        var parts: [String: Double] = [:]
        var events = 0
        var exits = 0
        switch kind {
        case .index:
            let trace = try TraceLoader.load(path: path)
            events = trace.count
            parts["load"] = now() - start
            return finish(start: start, events: events, exits: 0, parts: parts, keep: trace)
        case .check:
            let trace = try TraceLoader.load(path: path)
            let loaded = now()
            phase("load", into: &parts)
            let result = Replayer(trace: trace, options: options).run()
            let replayed = now()
            phase("replay", into: &parts)
            let document = CheckReport.json(result)
            let reported = now()
            phase("report", into: &parts)
            parts["load"] = loaded - start
            parts["replay"] = replayed - loaded
            parts["report"] = reported - replayed
            parts["reportBytes"] = Double(document.utf8.count)
            parts["exitRecordBytes"] = Double(ReplayExits.compactRecordBytes)
            parts["indexBytes"] = Double(trace.indexByteCount)
            parts["mismatch"] = Double(result.summary.mismatch)
            parts["undetermined"] = Double(result.summary.undetermined)
            return finish(start: start, events: trace.count, exits: result.exits.count, parts: parts, keep: result)
        case .firstScreen:
            let trace = try TraceLoader.loadHead(path: path, maxBytes: headBytes)
            let loaded = now()
            let result = Replayer(trace: trace, options: options).run()
            let replayed = now()
            let screen = ScreenData(result: result, selected: 0, rows: Array(result.exits.indices.prefix(screenRows)))
            parts["load"] = loaded - start
            parts["replay"] = replayed - loaded
            parts["screen"] = now() - replayed
            parts["screenRows"] = Double(screen.rows.count)
            events = trace.count
            exits = result.exits.count
            return finish(start: start, events: events, exits: exits, parts: parts, keep: screen)
        case .keys:
            let trace = try TraceLoader.load(path: path)
            let result = Replayer(trace: trace, options: options).run()
            let ready = now()
            let index = ExitLookup(result.exits)
            parts["lookupBuild"] = now() - ready
            parts["mismatch"] = Double(index.byVerdict[.mismatch]?.count ?? 0)
            for (label, fraction) in [("start", 0.0), ("middle", 0.5), ("end", 1.0)] {
                let position = min(result.exits.count - 1, max(0, Int(Double(result.exits.count - 1) * fraction) - (fraction == 1 ? screenRows : 0)))
                guard position >= 0 else { break }
                // Each repetition moves on (the next exit, the next mismatch, the next exit of the
                // filter), as repeated keypresses do: no repetition finds its state re-derived already.
                var current = position
                parts["next.\(label)"] = median {
                    current = min(current + 1, result.exits.count - 1)
                    return KeyActions.next(result, index, from: current)
                }
                current = position
                parts["mismatch.\(label)"] = median {
                    current = ExitLookup.next(in: index.byVerdict[.mismatch] ?? [], after: current) ?? current
                    return KeyActions.nextMismatch(result, index, from: current)
                }
                current = position
                parts["filter.\(label)"] = median {
                    current = min(current + 1, result.exits.count - 1)
                    return KeyActions.filterByReason(result, index, from: current)
                }
                parts["scan.\(label)"] = median(repetitions: 3) { KeyActions.scanToEnd(result, from: position) }
            }
            return finish(start: start, events: trace.count, exits: result.exits.count, parts: parts, keep: (result, index))
        }
    }

    /// Records, after phase `name` of a probe, the CPU seconds this process has used so far
    /// (`cpu.NAME`), its peak resident set (`peakRSS.NAME`, VmHWM: the peak so far), and its
    /// resident anonymous and file-backed memory now (`anon.NAME`, `file.NAME`), so that a
    /// probe's CPU time and peak memory can be split by phase (load, replay, report).
    static func phase(_ name: String, into parts: inout [String: Double]) {
        let memory = ProcessMemory.read()
        parts["cpu.\(name)"] = cpuSeconds()
        parts["peakRSS.\(name)"] = Double(memory.peak)
        parts["anon.\(name)"] = Double(memory.anon)
        parts["file.\(name)"] = Double(memory.file)
    }

    /// Median wall time of `repetitions` runs of `body`, in seconds.
    static func median(repetitions: Int = keyRepetitions, _ body: () -> Int) -> Double {
        var times: [Double] = []
        var sink = 0
        for _ in 0..<repetitions {
            let start = now()
            sink &+= body()
            times.append(now() - start)
        }
        if sink == Int.min { print("") }  // Keeps the work from being optimised away.
        return times.sorted()[times.count / 2]
    }

    /// Measures the end of a probe; `keep` stays alive until memory has been read.
    private static func finish(start: Double, events: Int, exits: Int, parts: [String: Double], keep: Any) -> Report {
        let wall = now() - start
        let memory = ProcessMemory.read()
        withExtendedLifetime(keep) {}
        return Report(wall: wall, cpu: cpuSeconds(), peakRSS: memory.peak, rssAnon: memory.anon, rssFile: memory.file,
                      events: events, exits: exits, parts: parts)
    }

    /// Monotonic seconds.
    static func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }

    /// User + system CPU seconds of this process.
    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    static func seconds(_ value: timeval) -> Double { Double(value.tv_sec) + Double(value.tv_usec) / 1e6 }
}

/// Memory figures of this process from `/proc/self/status`.
enum ProcessMemory {
    /// Peak resident (VmHWM), resident anonymous (RssAnon), resident file-backed (RssFile), bytes.
    static func read() -> (peak: Int, anon: Int, file: Int) {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return (0, 0, 0) }
        var values: [String: Int] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == ":" })
            if parts.count >= 2, let kilobytes = Int(parts[1]) { values[String(parts[0])] = kilobytes * 1024 }
        }
        return (values["VmHWM"] ?? 0, values["RssAnon"] ?? 0, values["RssFile"] ?? 0)
    }
}

/// Per-field exit lists, the index a session answers `nextExit` from: sorted exit
/// positions per verdict and per exit code, searched by bisection.
struct ExitLookup: Sendable {
    /// Exit positions per verdict.
    var byVerdict: [Verdict.Kind: [Int]] = [:]
    /// Exit positions per exit code.
    var byExitCode: [UInt32: [Int]] = [:]

    init(_ exits: ReplayExits) {
        for position in exits.indices {
            byVerdict[exits.verdictKind(at: position), default: []].append(position)
            byExitCode[exits.exitCode(at: position), default: []].append(position)
        }
    }

    /// First element of sorted `list` greater than `position`.
    static func next(in list: [Int], after position: Int) -> Int? {
        var low = 0
        var high = list.count
        while low < high {
            let mid = (low + high) / 2
            if list[mid] <= position { low = mid + 1 } else { high = mid }
        }
        return low < list.count ? list[low] : nil
    }

    /// Position of the first element of sorted `list` at or after `position`.
    static func rank(in list: [Int], of position: Int) -> Int {
        var low = 0
        var high = list.count
        while low < high {
            let mid = (low + high) / 2
            if list[mid] < position { low = mid + 1 } else { high = mid }
        }
        return low
    }
}

/// What one frame needs from the session: the visible rows as text and the selected exit's
/// detail (decision path re-run, reconstructed state, the exit's raw lines).
struct ScreenData {
    /// Row texts.
    var rows: [String]
    /// Detail texts.
    var detail: [String]

    init(result: ReplayResult, selected: Int, rows positions: [Int]) {
        let trace = result.trace
        rows = positions.map { position in
            let exit = result.exits[position]
            return "\(exit.index) \(exit.timestamp) \(exit.vcpu.map(String.init) ?? "?") \(exit.level?.rawValue ?? "?") "
                + "\(exit.reasonName) 0x\(String(exit.exitCode, radix: 16)) \(exit.rip.map { String($0, radix: 16) } ?? "-") "
                + "\(exit.exitInfo1.map { String($0, radix: 16) } ?? "") \(exit.model.description) "
                + "\(exit.recorded.summary) \(exit.verdict.kind)"
        }
        guard result.exits.indices.contains(selected) else {
            detail = []
            return
        }
        let exit = result.exits[selected]
        let decision = result.decision(for: exit)
        var detail = decision.path.map { "\($0.rule) \($0)" }
        detail.append("\(result.state(of: exit).vcpu)")
        let first = exit.lines.lowerBound
        for line in first..<(first + 20) { if let text = trace.rawLine(line) { detail.append(text) } }
        self.detail = detail
    }

    /// A number that depends on all the text (keeps the work observable).
    var weight: Int { rows.reduce(0) { $0 + $1.utf8.count } + detail.reduce(0) { $0 + $1.utf8.count } }
}

/// The session work behind one keypress, for `bench-probe keys`.
enum KeyActions {
    /// `j`: select the next exit; the frame shows the window around it.
    static func next(_ result: ReplayResult, _ index: ExitLookup, from position: Int) -> Int {
        let selected = min(position + 1, result.exits.count - 1)
        return frame(result, selected: selected, rows: window(result.exits.count, around: selected))
    }

    /// `n` (next mismatch): bisection in the mismatch list, or stay when there is none after.
    static func nextMismatch(_ result: ReplayResult, _ index: ExitLookup, from position: Int) -> Int {
        let target = ExitLookup.next(in: index.byVerdict[.mismatch] ?? [], after: position) ?? position
        return frame(result, selected: target, rows: window(result.exits.count, around: target))
    }

    /// A filter change to the selected exit's reason: the filtered list's window around the
    /// selection, from the per-code list.
    static func filterByReason(_ result: ReplayResult, _ index: ExitLookup, from position: Int) -> Int {
        let list = index.byExitCode[result.exits[position].exitCode] ?? []
        let rank = ExitLookup.rank(in: list, of: position)
        let lower = max(0, min(rank - BenchProbe.screenRows / 2, list.count - BenchProbe.screenRows))
        let rows = Array(list[lower..<min(list.count, lower + BenchProbe.screenRows)])
        return frame(result, selected: rank < list.count ? list[rank] : position, rows: rows) + list.count
    }

    /// What a session without an index does for a filter with no later match: walk every
    /// exit after the selection (here: an exit code no exit has).
    static func scanToEnd(_ result: ReplayResult, from position: Int) -> Int {
        let absent = UInt32.max - 1
        var next = position + 1
        while next < result.exits.count, result.exits.exitCode(at: next) != absent { next += 1 }
        return next
    }

    static func window(_ count: Int, around selected: Int) -> [Int] {
        let lower = max(0, min(selected - BenchProbe.screenRows / 2, count - BenchProbe.screenRows))
        return Array(lower..<min(count, lower + BenchProbe.screenRows))
    }

    static func frame(_ result: ReplayResult, selected: Int, rows: [Int]) -> Int {
        ScreenData(result: result, selected: selected, rows: rows).weight
    }
}
