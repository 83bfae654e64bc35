#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Foundation
import Replay
import TraceKit

extension SVMDebugCommand {
    /// `svmdbg bench`: builds large traces from the repository's real captures and measures
    /// opening, checking, memory and keypress cost on them, next to the floors (`wc -l`,
    /// `grep -c`) and `trace-cmd report`. See docs/performance.md.
    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure svmdbg on large generated traces against wc, grep and trace-cmd (release build).",
            discussion: """
                Builds traces in each text layout by replaying the real captures of traces/6.12 on several \
                vCPU threads (own pids and vCPU ids, advancing timestamps), in --dir or a temporary folder \
                (deleted afterwards unless --keep). Every measurement runs in a child process of its own \
                (`svmdbg bench-probe`), so peak memory and CPU time are that measurement's alone; each is \
                repeated --runs times and the median printed. Figures: first screen, full index, check \
                --json, peak RSS and anonymous bytes per event, keypress lookups on the largest tracefs \
                trace, and trace-cmd report's events per second on traces/layouts/*.dat.
                """)

        @Option(help: "Folder for the generated traces (default: a new temporary folder).")
        var dir: String?

        @Option(help: "The repository's traces folder (captures to build from).")
        var traces = "traces"

        @Option(parsing: .upToNextOption, help: "Event counts of the generated traces.")
        var events: [Int] = [1_000_000, 10_000_000]

        @Option(help: "Also build a tracefs trace of this many GiB (0: none).")
        var gigabytes: Double = 1

        @Option(parsing: .upToNextOption, help: "Layouts to build: tracefs, report, perf.")
        var layouts: [String] = ["tracefs", "report", "perf"]

        @Option(help: "vCPU threads in the generated traces.")
        var vcpus = 4

        @Option(help: "Runs per measurement (the median is printed).")
        var runs = 3

        @Flag(help: "A quick run: one 1 M-event tracefs trace, one run each (overrides --events, --gigabytes, --layouts, --runs).")
        var quick = false

        @Flag(help: "Keep the generated traces.")
        var keep = false

        func run() throws {
            let plan = quick
                ? Plan(events: [1_000_000], gigabytes: 0, layouts: [.tracefs], runs: 1)
                : Plan(events: events, gigabytes: gigabytes,
                       layouts: try layouts.map { name in
                           guard let layout = BenchTraceBuilder.Layout(rawValue: name) else {
                               throw ValidationError("unknown layout \(name) (tracefs, report, perf)")
                           }
                           return layout
                       },
                       runs: max(1, runs))
            let folder = try dir ?? makeTemporaryFolder()
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            defer {
                if !keep && dir == nil { try? FileManager.default.removeItem(atPath: folder) }
            }
            try BenchRunner(plan: plan, folder: folder, traces: traces, vcpus: vcpus).run()
        }

        private func makeTemporaryFolder() throws -> String {
            let base = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
            var template = Array("\(base)/svmdbg-bench-XXXXXX".utf8CString)
            let made = template.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.flatMap { mkdtemp($0) } }
            guard made != nil else { throw BenchError("cannot create a temporary folder in \(base)") }
            return String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    /// `svmdbg bench-probe KIND TRACE`: one measurement for `svmdbg bench` (internal).
    struct BenchProbeCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "bench-probe",
            abstract: "One measurement of svmdbg bench, printed as JSON (internal).",
            shouldDisplay: false)

        @Argument(help: "index, check, first-screen or keys.")
        var kind: String

        @Argument(help: "The trace file.")
        var trace: String

        @OptionGroup var replay: ReplayOptionGroup

        func run() throws {
            guard let probe = BenchProbe.Kind(rawValue: kind) else { throw ValidationError("unknown probe \(kind)") }
            let report = try BenchProbe.run(probe, path: trace, options: try replay.replayOptions())
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        }
    }
}

/// What `svmdbg bench` measures.
struct Plan {
    var events: [Int]
    var gigabytes: Double
    var layouts: [BenchTraceBuilder.Layout]
    var runs: Int
}

/// Builds the traces, runs the probes and the peers, prints the tables.
struct BenchRunner {
    let plan: Plan
    let folder: String
    let traces: String
    let vcpus: Int

    /// One generated trace.
    struct Generated {
        var layout: BenchTraceBuilder.Layout
        var path: String
        var events: Int
        var bytes: Int
        var label: String
    }

    /// Wall and CPU seconds of one command.
    struct Timing {
        var wall: Double
        var cpu: Double
    }

    func run() throws {
        printHeader()
        var generated: [Generated] = []
        for layout in plan.layouts {
            let builder = try BenchTraceBuilder(layout: layout, tracesFolder: traces, vcpus: vcpus)
            for count in plan.events {
                let path = "\(folder)/bench-\(count)-\(vcpus)vcpu.\(layout.rawValue)"
                let written = try builder.write(to: path, events: count, bytes: Int.max, vcpus: vcpus)
                generated.append(Generated(layout: layout, path: path, events: written.events, bytes: written.bytes,
                                           label: "\(Self.count(written.events)) events"))
            }
        }
        if plan.gigabytes > 0 {
            let builder = try BenchTraceBuilder(layout: .tracefs, tracesFolder: traces, vcpus: vcpus)
            let path = "\(folder)/bench-\(plan.gigabytes)GiB-\(vcpus)vcpu.tracefs"
            let limit = Int(plan.gigabytes * Double(1 << 30))
            let written = try builder.write(to: path, events: Int.max, bytes: limit, vcpus: vcpus)
            generated.append(Generated(layout: .tracefs, path: path, events: written.events, bytes: written.bytes,
                                       label: "\(plan.gigabytes) GiB"))
        }
        let traceCmdRate = try printDatPeers()
        print("\ntraces: \(folder) (\(generated.count) files, \(vcpus) vCPU threads each)\n")
        print("| layout | trace | MB | wc -l s | grep -c s | index s (cpu) | index MB/s | index events/s | index÷wc | check s (cpu) | check÷wc | events/s (check) | ÷ trace-cmd | replay cpu µs/exit | check cpu µs/exit | first screen s | peak RSS MB | anon B/event | peak anon B/event |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        var perEvent: [(Generated, Double)] = []
        var targetRows: [TargetRow] = []
        for trace in generated {
            _ = try timeCommand(["/usr/bin/wc", "-l", trace.path])  // Warm the page cache.
            let wc = try median { try timeCommand(["/usr/bin/wc", "-l", trace.path]) }
            // GNU grep stops at the first match when its output is /dev/null: give it a pipe.
            let grep = try median { try timeCommand(["/bin/grep", "-c", "kvm_exit", trace.path], discardOutput: false) }
            let index = try medianProbe(.index, trace.path)
            let check = try medianProbe(.check, trace.path)
            let first = try medianProbe(.firstScreen, trace.path)
            let megabytes = Double(trace.bytes) / 1e6
            let anonPerEvent = Double(check.rssAnon) / Double(max(1, check.events))
            // Peak anonymous memory: the peak resident set less the file pages (the mapped
            // trace) resident at the end, which only grow while the file is read.
            let peakAnonPerEvent = Double(max(0, check.peakRSS - check.rssFile)) / Double(max(1, check.events))
            let checkRate = Double(check.events) / check.wall
            let checkCPUPerExit = check.cpu * 1e6 / Double(max(1, check.exits))
            print("| \(trace.layout.rawValue) | \(trace.label) | \(f(megabytes, 0)) | \(f(wc.wall, 3)) | \(f(grep.wall, 3)) "
                + "| \(f(index.wall)) (\(f(index.cpu))) | \(f(megabytes / index.wall, 0)) "
                + "| \(Self.count(Int(Double(index.events) / index.wall))) | \(f(index.wall / wc.wall, 1))x "
                + "| \(f(check.wall)) (\(f(check.cpu))) "
                + "| \(f(check.wall / wc.wall, 1))x | \(Self.count(Int(checkRate))) "
                + "| \(traceCmdRate.map { f(checkRate / $0, 2) + "x" } ?? "-") "
                + "| \(f((check.cpu - index.cpu) * 1e6 / Double(max(1, check.exits)), 1)) | \(f(checkCPUPerExit, 1)) "
                + "| \(f(first.wall, 3)) | \(f(Double(check.peakRSS) / 1e6, 0)) | \(f(anonPerEvent, 0)) | \(f(peakAnonPerEvent, 0)) |")
            if trace.layout == .tracefs {
                // Split by phase inside the check probe itself (the same process, no subtraction
                // across runs): index CPU, replay CPU, anonymous memory after the index.
                let indexCPU = check.parts["cpu.load"] ?? index.cpu
                let replayCPU = (check.parts["cpu.replay"] ?? check.cpu) - indexCPU
                let indexAnon = max(0, (check.parts["peakRSS.load"] ?? 0) - (check.parts["file.load"] ?? 0))
                targetRows.append(TargetRow(label: trace.label, events: trace.events, checkOverWC: check.wall / wc.wall,
                                            cpuPerExit: checkCPUPerExit, peakAnonPerEvent: peakAnonPerEvent,
                                            firstScreen: first.wall, firstScreenCPU: first.cpu,
                                            indexCPUPerExit: indexCPU * 1e6 / Double(max(1, check.exits)),
                                            replayCPUPerExit: replayCPU * 1e6 / Double(max(1, check.exits)),
                                            indexAnonPerEvent: Double(indexAnon) / Double(max(1, check.events))))
            }
            print("<!-- \(trace.path): index \(Self.json(index)) check \(Self.json(check)) first \(Self.json(first)) -->")
            perEvent.append((trace, check.cpu / Double(max(1, check.events))))
        }
        printLinearity(perEvent)
        var slowestKey: Double?
        if let largest = generated.filter({ $0.layout == .tracefs }).max(by: { $0.events < $1.events }) {
            slowestKey = try printKeys(largest)
        }
        printTargets(targetRows, slowestKey: slowestKey)
        print("\nload average at the end: \(Self.loadAverage())")
    }

    private func printHeader() {
        print("svmdbg bench — \(Self.machine())")
        print("runs per figure: \(plan.runs) (median); load average at start: \(Self.loadAverage())\n")
    }

    /// One tracefs trace's figures against issue #13's targets.
    struct TargetRow {
        var label: String
        var events: Int
        var checkOverWC: Double
        var cpuPerExit: Double
        var peakAnonPerEvent: Double
        var firstScreen: Double
        /// CPU seconds of the first-screen probe (the whole child process).
        var firstScreenCPU: Double
        /// CPU per exit of the index, and of the replay (with the report), measured in the check probe.
        var indexCPUPerExit: Double
        var replayCPUPerExit: Double
        /// Anonymous memory per event at the end of the index (the index itself).
        var indexAnonPerEvent: Double
    }

    /// The #13 targets (docs/performance.md) for the largest tracefs trace: met or not.
    /// `slowestKey`: the slowest median keypress of ``printKeys(_:)`` (seconds), if measured.
    private func printTargets(_ rows: [TargetRow], slowestKey: Double?) {
        guard let row = rows.max(by: { $0.events < $1.events }) else { return }
        func verdict(_ met: Bool) -> String { met ? "met" : "not met" }
        print("\nTargets (#13) on the \(row.label) tracefs trace, nproc \(ProcessInfo.processInfo.activeProcessorCount), load \(Self.loadAverage()):")
        print("| target | wanted | measured | | where the gap is (docs/performance.md, profile) |")
        print("|---|---|---|---|---|")
        print("| check --json wall ÷ wc -l | ≤ 8x | \(f(row.checkOverWC, 1))x | \(verdict(row.checkOverWC <= 8)) "
            + "| the CPU per exit below, spread over \(ProcessInfo.processInfo.activeProcessorCount) cores |")
        print("| check CPU per exit (index + replay) | ≤ 1 µs | \(f(row.cpuPerExit, 2)) µs | \(verdict(row.cpuPerExit <= 1)) "
            + "| index \(f(row.indexCPUPerExit, 2)) µs + replay \(f(row.replayCPUPerExit, 2)) µs per exit |")
        print("| anonymous memory per event at peak | ≤ 32 B | \(f(row.peakAnonPerEvent, 0)) B | \(verdict(row.peakAnonPerEvent <= 32)) "
            + "| index \(f(row.indexAnonPerEvent, 0)) B (32 B entries), the rest replay |")
        print("| TUI first screen (session work, no drawing) | < 0.1 s | \(f(row.firstScreen, 3)) s wall, \(f(row.firstScreenCPU, 3)) s CPU "
            + "| \(verdict(row.firstScreen < 0.1)) on wall, \(verdict(row.firstScreenCPU < 0.1)) on CPU "
            + "| loadHead 1 MiB + replay + 40 rows + detail |")
        if let slowestKey {
            print("| any key (session work, no drawing; slowest median) | < 10 ms | \(f(slowestKey * 1e3, 2)) ms "
                + "| \(verdict(slowestKey < 0.01)) | lookups + 40 rows + detail re-derivation |")
        }
        print("(TUI figures with the curses terminal in tmux: SVMDBG_TIMING=FILE svmdbg open …, see docs/performance.md.)")
    }

    /// check CPU time per event, smallest vs largest trace of each layout.
    private func printLinearity(_ rows: [(Generated, Double)]) {
        print("\nLinearity (check CPU time per event, µs; the machine is shared, so CPU is the steadier figure):")
        for layout in plan.layouts {
            let mine = rows.filter { $0.0.layout == layout }.sorted { $0.0.events < $1.0.events }
            guard let small = mine.first, let large = mine.last, small.0.path != large.0.path else { continue }
            print("  \(layout.rawValue): \(small.0.label) \(f(small.1 * 1e6, 3)) µs, \(large.0.label) \(f(large.1 * 1e6, 3)) µs "
                + "(ratio \(f(large.1 / small.1, 2)))")
        }
    }

    /// Prints the keypress table; returns the slowest median of the indexed actions, seconds.
    private func printKeys(_ trace: Generated) throws -> Double {
        // The 6.12 captures checked against the 6.1 profile disagree on some L2 exits (real
        // differences between the kernels), so "next mismatch" has mismatches to jump to.
        let keys = try medianProbe(.keys, trace.path, runs: 1, extra: ["--profile", "6.1"])
        print("\nKeypress lookups on \(trace.label) tracefs replayed with --profile 6.1 (\(Self.count(keys.exits)) exits, "
            + "\(Int(keys.parts["mismatch"] ?? 0)) mismatches); session work per key: "
            + "index lookup + 40 rows + the selected exit's detail (decision path re-run, state, 20 raw lines); "
            + "terminal drawing not included. Median of \(BenchProbe.keyRepetitions) keypresses, ms:")
        print("| action | start | middle | end |")
        print("|---|---|---|---|")
        for (action, name) in [("next", "next exit (j)"), ("mismatch", "next mismatch (n), index"),
                               ("filter", "filter change (reason), index"), ("scan", "filter with no later match, by scanning (no index)")] {
            let cells = ["start", "middle", "end"].map { keys.parts["\(action).\($0)"].map { f($0 * 1e3, 3) } ?? "-" }
            print("| \(name) | " + cells.joined(separator: " | ") + " |")
        }
        print("lookup index built in \(f((keys.parts["lookupBuild"] ?? 0) * 1e3, 1)) ms; peak RSS \(f(Double(keys.peakRSS) / 1e6, 0)) MB")
        let indexed = ["next", "mismatch", "filter"].flatMap { action in
            ["start", "middle", "end"].compactMap { keys.parts["\(action).\($0)"] }
        }
        return indexed.max() ?? 0
    }

    /// trace-cmd report vs svmdbg's index on the binary captures; returns trace-cmd's best
    /// events per second (nil without trace-cmd).
    private func printDatPeers() throws -> Double? {
        let folder = traces + "/layouts"
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".dat") }.sorted()
        guard !files.isEmpty else { return nil }
        var best: Double?
        let traceCmd = ["/usr/bin/trace-cmd", "/usr/local/bin/trace-cmd"].first { FileManager.default.isExecutableFile(atPath: $0) }
        print("\ntrace.dat: trace-cmd report vs svmdbg (index) on \(folder):")
        print("| file | events | trace-cmd report s | trace-cmd events/s | svmdbg index s | svmdbg events/s | ratio |")
        print("|---|---|---|---|---|---|---|")
        for name in files {
            let path = folder + "/" + name
            let index = try medianProbe(.index, path)
            guard let traceCmd else {
                print("| \(name) | \(index.events) | (no trace-cmd) | | \(f(index.wall, 3)) | \(Self.count(Int(Double(index.events) / index.wall))) | |")
                continue
            }
            let report = try median { try timeCommand([traceCmd, "report", "-i", path]) }
            let theirs = Double(index.events) / report.wall
            best = max(best ?? 0, theirs)
            let ours = Double(index.events) / index.wall
            print("| \(name) | \(index.events) | \(f(report.wall, 3)) | \(Self.count(Int(theirs))) | \(f(index.wall, 3)) "
                + "| \(Self.count(Int(ours))) | \(f(ours / theirs, 1))x |")
        }
        return best
    }

    // MARK: running

    private func median(_ body: () throws -> Timing) throws -> Timing {
        var timings: [Timing] = []
        for _ in 0..<plan.runs { timings.append(try body()) }
        let walls = timings.map(\.wall).sorted()
        let cpus = timings.map(\.cpu).sorted()
        return Timing(wall: walls[walls.count / 2], cpu: cpus[cpus.count / 2])
    }

    private func medianProbe(_ kind: BenchProbe.Kind, _ path: String, runs: Int? = nil,
                             extra: [String] = []) throws -> BenchProbe.Report {
        var reports: [BenchProbe.Report] = []
        for _ in 0..<(runs ?? plan.runs) { reports.append(try probe(kind, path, extra: extra)) }
        reports.sort { $0.wall < $1.wall }
        return reports[reports.count / 2]
    }

    private func probe(_ kind: BenchProbe.Kind, _ path: String, extra: [String] = []) throws -> BenchProbe.Report {
        let output = try capture([Self.executable(), "bench-probe", kind.rawValue, path] + extra)
        guard let report = try? JSONDecoder().decode(BenchProbe.Report.self, from: Data(output.utf8)) else {
            throw BenchError("bench-probe \(kind.rawValue) \(path) printed no report: \(output.prefix(300))")
        }
        return report
    }

    /// Runs `arguments` with stdout discarded (sent to /dev/null, or read from a pipe and
    /// dropped when `discardOutput` is false); wall and child CPU seconds.
    private func timeCommand(_ arguments: [String], discardOutput: Bool = true) throws -> Timing {
        let before = Self.childrenCPU()
        let start = BenchProbe.now()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        let pipe = Pipe()
        process.standardOutput = discardOutput ? FileHandle.nullDevice : pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        if !discardOutput { _ = pipe.fileHandleForReading.readDataToEndOfFile() }
        process.waitUntilExit()
        return Timing(wall: BenchProbe.now() - start, cpu: Self.childrenCPU() - before)
    }

    /// Runs `arguments` and returns its stdout.
    private func capture(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw BenchError("\(arguments.joined(separator: " ")) exited with \(process.terminationStatus)")
        }
        return String(decoding: data, as: UTF8.self)
    }

    // MARK: helpers

    static func executable() -> String {
        var buffer = [Int8](repeating: 0, count: 4096)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard length > 0 else { return CommandLine.arguments[0] }
        return String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func childrenCPU() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_CHILDREN.rawValue, &usage)
        return BenchProbe.seconds(usage.ru_utime) + BenchProbe.seconds(usage.ru_stime)
    }

    static func loadAverage() -> String {
        ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "?").split(separator: " ").prefix(3).joined(separator: " ")
    }

    static func machine() -> String {
        let cpuInfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = cpuInfo.split(separator: "\n").first { $0.hasPrefix("model name") }?
            .split(separator: ":", maxSplits: 1).last?.trimmingCharacters(in: .whitespaces) ?? "unknown CPU"
        let memory = ((try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8)) ?? "").split(separator: "\n").first
            .map { String($0).replacingOccurrences(of: "  ", with: "") } ?? ""
        return "\(ProcessInfo.processInfo.activeProcessorCount) CPUs (\(model)), \(memory)"
    }

    static func json(_ report: BenchProbe.Report) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(report)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    static func count(_ value: Int) -> String {
        if value >= 1_000_000 { return f(Double(value) / 1e6, value % 1_000_000 == 0 ? 0 : 2) + " M" }
        if value >= 1000 { return f(Double(value) / 1e3, 0) + " k" }
        return "\(value)"
    }
}

/// `value` with `digits` decimals.
private func f(_ value: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", value) }
