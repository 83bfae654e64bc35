import Foundation
import NestedSVM
import Replay
@testable import svmdbg
import TestSupport
import TraceKit

/// The outputs svmdbg prints for the shipped traces and scenarios, computed in process with
/// the same functions the subcommands call, and their SHA-256 digests.
///
/// One output is one (file, command) pair; the command is spelled as a user would type it
/// (`check --json`, `export --all --format md --profile 6.12 --host …`). The digests of main's
/// behaviour are committed in `Tests/Golden/outputs.json` (`scripts/golden-outputs --update`
/// regenerates them): a refactor that changes any byte of any output fails the test.
enum GoldenOutputs {
    /// `Tests/Golden/outputs.json`.
    static var goldenFile: URL { RepositoryPaths.root.appendingPathComponent("Tests/Golden/outputs.json") }

    /// Digests by file (relative to the repository root) and command.
    typealias Digests = [String: [String: String]]

    // MARK: which files

    /// The trace files checked: every `.trace`/`.trace.xz` capture, every excerpt and layout
    /// sample, and every form (pipe, report, report-noplugin, perf, dat) of the first four
    /// scenarios of 6.1, 6.12, 6.12-naples, perf-data and the first of every lab/ and lab-kok/ folder.
    static func traceFiles() -> [String] {
        let root = RepositoryPaths.root.path + "/"
        let forms = ["pipe", "report", "report-noplugin", "perf", "dat"]
        var chosen = Set<String>()
        let enumerator = FileManager.default.enumerator(atPath: RepositoryPaths.traces.path)
        var all: [String] = []
        while let item = enumerator?.nextObject() as? String { all.append("traces/" + item) }
        all.sort()
        for path in all {
            let name = (path as NSString).lastPathComponent
            let plain = name.hasSuffix(".xz") ? String(name.dropLast(3)) : name
            let parts = path.split(separator: "/").map(String.init)
            let top = parts.count > 1 ? parts[1] : ""
            if plain.hasSuffix(".trace") { chosen.insert(path); continue }
            if top == "excerpts", plain.hasSuffix(".txt") { chosen.insert(path); continue }
            if top == "layouts", plain.hasSuffix(".txt") || plain.hasSuffix(".dat") { chosen.insert(path); continue }
            guard let form = forms.first(where: { plain.hasSuffix("." + $0) }) else { continue }
            if ["6.1", "6.12", "6.12-naples", "perf-data", "lab", "lab-kok"].contains(top) {
                // The first scenarios (by manifest name) of the folder, every form.
                let folder = (path as NSString).deletingLastPathComponent
                let scenario = String(plain.dropLast(form.count + 1))
                let count = ["lab", "lab-kok"].contains(top) ? 1 : 4
                if firstScenarios(in: root + folder, count: count).contains(scenario) { chosen.insert(path) }
            }
        }
        return chosen.sorted()
    }

    /// The first `count` scenario names (manifests `NAME.json`, facts files left out) of a folder.
    static func firstScenarios(in folder: String, count: Int) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return Array(names.filter { $0.hasSuffix(".json") && !$0.hasSuffix(".facts.json") && !$0.hasSuffix(".capture.json") }
            .map { String($0.dropLast(5)) }.sorted().prefix(count))
    }

    /// Every scenario under `traces/scenarios` (kvm-tests included).
    static func scenarioFiles() -> [String] {
        let enumerator = FileManager.default.enumerator(atPath: RepositoryPaths.trace("scenarios").path)
        var out: [String] = []
        while let item = enumerator?.nextObject() as? String {
            if item.hasSuffix(".json") { out.append("traces/scenarios/" + item) }
        }
        return out.sorted()
    }

    // MARK: outputs

    /// The configuration a user would pass for a trace: the folder's profile and host facts
    /// (6.1, 6.12, 6.12-naples, perf-data), or the lab manifest's with its facts file.
    struct Configuration {
        /// How the command line spells it.
        var arguments: String
        var options: ReplayOptions
    }

    static func configuration(for path: String) -> Configuration? {
        let parts = path.split(separator: "/").map(String.init)
        guard parts.count >= 3 else { return nil }
        let folderName = parts[1] == "perf-data" ? "6.12" : parts[1]
        if let folder = CaptureHosts.folder(folderName), parts.count == 3 || parts[1] == "perf-data" {
            guard let host = try? HostFacts(parsing: folder.host, source: "--host") else { return nil }
            return Configuration(
                arguments: "--profile \(folder.profile.name) --host \(folder.host)",
                options: ReplayOptions(profile: folder.profile, host: host))
        }
        guard ["lab", "lab-kok", "capture"].contains(parts[1]) else { return nil }
        // NAME.form[.xz] → NAME.json, NAME.facts.json next to it.
        let directory = RepositoryPaths.root.appendingPathComponent((path as NSString).deletingLastPathComponent)
        let name = (path as NSString).lastPathComponent
        guard let scenario = name.split(separator: ".").first.map(String.init) else { return nil }
        guard let manifest = try? LabManifest.read(url: directory.appendingPathComponent("\(scenario).json")),
            let profile = manifest.profile
        else { return nil }
        var options = ReplayOptions(profile: profile, host: manifest.hostFacts, guest: manifest.guestFacts)
        var arguments = "(lab manifest \(scenario).json: profile \(profile.name))"
        let factsPath = directory.appendingPathComponent("\(scenario).facts.json").path
        if FileManager.default.fileExists(atPath: factsPath), let facts = try? FactsFile.read(path: factsPath) {
            options.facts = [facts]
            arguments += " --facts \(scenario).facts.json"
        }
        return Configuration(arguments: arguments, options: options)
    }

    /// The second profile `diff` compares a configuration's profile with.
    static func diffProfiles(after first: KernelProfile) -> [KernelProfile] {
        let apm = KernelProfile(named: "apm")
        let next: KernelProfile = first.name == "6.1" ? .v6_12 : .upstream
        return [next] + (apm.map { [$0] } ?? [])
    }

    /// Whether a trace gets every output (text forms, csv/md/scenario exports, the apm diff)
    /// and not only the core ones (stats and check JSON, one diff, jsonl and trace exports):
    /// the `.trace` captures of the first-level folders, capture/ and lab-kok/. Exports
    /// re-run the decision path of every exit, so the rest keeps to the core to keep the
    /// test's run time in CI's budget.
    static func isFull(_ path: String) -> Bool {
        let parts = path.split(separator: "/").map(String.init)
        let name = parts.last ?? ""
        guard name.hasSuffix(".trace") || name.hasSuffix(".trace.xz") else { return false }
        return ["6.1", "6.12", "6.12-naples", "perf-data", "capture", "lab-kok"].contains(parts.count > 1 ? parts[1] : "")
    }

    /// Traces with more events get only the core outputs of one replay (see ``outputs(ofTrace:)``).
    static let largeTraceEvents = 4_000

    /// Traces with more exits export only their mismatches (an export renders every exit's path).
    static let exportAllLimit = 400

    /// Every output of one trace file, by command.
    static func outputs(ofTrace path: String) -> [String: String] {
        let absolute = RepositoryPaths.root.appendingPathComponent(path).path
        let full = isFull(path)
        var out: [String: String] = [:]
        let trace: LoadedTrace
        do {
            trace = try TraceLoader.load(path: absolute)
        } catch {
            out["load"] = "\(error)"
            return out
        }
        if let refusal = trace.vmxRefusal {
            // An Intel VMX trace: `check` refuses it (the refusal names the most frequent VMX
            // reasons, ties by name) and `stats` counts its exits.
            out["check (refused as VMX)"] = refusal
            out["stats --json --per-vcpu"] = (try? StatsReport(trace: trace, perVCPU: true, sort: .count).json()) ?? "stats --json failed"
            return out
        }
        out["stats --json --per-vcpu"] = (try? StatsReport(trace: trace, perVCPU: true, sort: .count).json()) ?? "stats --json failed"
        if full { out["stats --per-vcpu"] = StatsReport(trace: trace, perVCPU: true, sort: .count).text() }
        if trace.count > largeTraceEvents, let configuration = configuration(for: path) {
            // A large trace (lab-kok's tens of thousands of events): one replay, with its own
            // configuration; the check, and the export of its mismatches.
            let own = Replayer(trace: trace, options: configuration.options).run()
            out["check --json \(configuration.arguments)"] = CheckReport.json(own)
            out["export --format jsonl \(configuration.arguments)"] = ExportRenderer.render(own.mismatches, of: own, as: .jsonl)
            return out
        }
        // The CLI's defaults: profile 6.12 (or an export header's), host facts the trace proves.
        // (What `ReplayOptionGroup.replayOptions(for:)` gives with no option, without parsing
        // arguments on the test's worker threads.)
        let defaults = ExportHeader.applying(
            to: ReplayOptions(profile: .v6_12), from: trace, profileGiven: false, hostGiven: false)
        let result = Replayer(trace: trace, options: defaults).run()
        out["check --json"] = CheckReport.json(result)
        if full { out["check"] = CheckReport.text(result) }
        var exported = result
        var suffix = ""
        if let configuration = configuration(for: path) {
            let own = Replayer(trace: trace, options: configuration.options).run()
            out["check --json \(configuration.arguments)"] = CheckReport.json(own)
            if full { out["check \(configuration.arguments)"] = CheckReport.text(own) }
            for second in diffProfiles(after: configuration.options.profile).prefix(full ? 2 : 1) {
                let diff = ProfileDiff(own, against: second)
                let command = "diff --profile \(configuration.options.profile.name) --profile \(second.name) \(configuration.arguments)"
                out[command + " --json"] = CheckReport.json(diff)
                if full { out[command] = CheckReport.text(diff, trace: trace.source) }
            }
            exported = own
            suffix = " " + configuration.arguments
        } else {
            let diff = ProfileDiff(result, against: .upstream)
            out["diff --profile 6.12 --profile upstream --json"] = CheckReport.json(diff)
        }
        // Every exit of small traces; of large ones (a livelock's thousands of exits) the
        // default selection, the mismatches.
        let all = exported.exits.count <= exportAllLimit
        for format in ExportFormat.allCases where full || format == .jsonl || format == .trace {
            let command = "export \(all ? "--all " : "")--format \(format.rawValue)\(suffix)"
            out[command] = all
                ? ExportRenderer.render(exported.exits, of: exported, as: format)
                : ExportRenderer.render(exported.mismatches, of: exported, as: format)
        }
        return out
    }

    /// Every output of one decide scenario, by command.
    static func outputs(ofScenario path: String) -> [String: String] {
        let absolute = RepositoryPaths.root.appendingPathComponent(path).path
        var out: [String: String] = [:]
        func text(_ result: Result<String, DecideFrontend.InputError>) -> String {
            switch result {
            case .success(let output): output
            case .failure(let error): "error: \(error.message)"
            }
        }
        out["decide"] = text(DecideFrontend.run(path: absolute, profile: nil, host: nil, json: false))
        out["decide --json"] = text(DecideFrontend.run(path: absolute, profile: nil, host: nil, json: true))
        for profile in KernelProfile.selectable {
            out["decide --json --profile \(profile.name)"] = text(DecideFrontend.run(path: absolute, profile: profile.name, host: nil, json: true))
        }
        return out
    }

    /// An output as hashed: the checkout's absolute path (in `trace` fields and headers)
    /// replaced by `<root>` so digests do not depend on where the repository lies.
    static func normalized(_ output: String) -> String {
        // JSON escapes slashes (`\/work\/…`): replace that spelling too.
        output.replacingOccurrences(of: RepositoryPaths.root.path, with: "<root>")
            .replacingOccurrences(of: RepositoryPaths.root.path.replacingOccurrences(of: "/", with: "\\/"), with: "<root>")
    }

    /// The digest of one output.
    static func digest(_ output: String) -> String { SHA256.hex(normalized(output)) }

    /// Digests of every file's outputs, computed two files at a time.
    static func computeAll() -> Digests {
        var jobs: [(String, Bool)] = traceFiles().map { ($0, true) } + scenarioFiles().map { ($0, false) }
        // SVMDBG_GOLDEN_ONLY=prefix: only files under it (for timing; the comparison then fails).
        if let only = ProcessInfo.processInfo.environment["SVMDBG_GOLDEN_ONLY"] { jobs = jobs.filter { $0.0.hasPrefix(only) } }
        let timing = ProcessInfo.processInfo.environment["SVMDBG_GOLDEN_TIMING"] == "1"
        let store = DigestStore()
        let jobList = jobs
        DispatchQueue.concurrentPerform(iterations: jobs.count) { index in
            let (path, isTrace) = jobList[index]
            let start = ProcessInfo.processInfo.systemUptime
            let outputs = isTrace ? outputs(ofTrace: path) : outputs(ofScenario: path)
            store.set(path, outputs.mapValues(digest))
            if timing {
                FileHandle.standardError.write(Data("golden \(Int((ProcessInfo.processInfo.systemUptime - start) * 1000)) ms \(path)\n".utf8))
            }
        }
        return store.all()
    }

    // MARK: comparing

    /// One difference between computed and golden digests.
    struct Difference: Equatable, CustomStringConvertible {
        var file: String
        var command: String
        var problem: String
        var description: String { "\(file): \(command): \(problem)" }
    }

    /// Every (file, command) whose digest differs from, is missing from, or is absent in `golden`.
    static func compare(_ computed: Digests, with golden: Digests) -> [Difference] {
        var out: [Difference] = []
        for file in Set(computed.keys).union(golden.keys).sorted() {
            let mine = computed[file] ?? [:]
            let theirs = golden[file] ?? [:]
            for command in Set(mine.keys).union(theirs.keys).sorted() {
                switch (mine[command], theirs[command]) {
                case let (now?, before?) where now != before: out.append(Difference(file: file, command: command, problem: "output changed"))
                case (_?, nil): out.append(Difference(file: file, command: command, problem: "new output (no golden digest)"))
                case (nil, _?): out.append(Difference(file: file, command: command, problem: "output no longer produced"))
                default: break
                }
            }
        }
        return out
    }

    // MARK: the file

    static func read() throws -> Digests {
        try JSONDecoder().decode(Digests.self, from: Data(contentsOf: goldenFile))
    }

    /// Writes one line per file, keys sorted, so a regenerated file diffs per file.
    static func write(_ digests: Digests) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var text = "{\n"
        let files = digests.keys.sorted()
        for (index, file) in files.enumerated() {
            let key = String(decoding: try encoder.encode(file), as: UTF8.self)
            let value = String(decoding: try encoder.encode(digests[file] ?? [:]), as: UTF8.self)
            text += "\(key): \(value)\(index == files.count - 1 ? "" : ",")\n"
        }
        text += "}\n"
        try Data(text.utf8).write(to: goldenFile, options: .atomic)
    }
}

/// Where the parallel digest jobs leave their results.
private final class DigestStore: @unchecked Sendable {
    private var digests: GoldenOutputs.Digests = [:]
    private let lock = NSLock()

    func set(_ file: String, _ value: [String: String]) {
        lock.lock()
        digests[file] = value
        lock.unlock()
    }

    func all() -> GoldenOutputs.Digests {
        lock.lock()
        defer { lock.unlock() }
        return digests
    }
}
