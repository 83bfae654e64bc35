import Foundation
import Synchronization
import NestedSVM
import TraceKit

/// The trace forms a lab run writes per scenario (`traces/README.md`, "Files per scenario").
public enum LabForm: String, Sendable, Equatable, Hashable, Codable, CaseIterable {
    /// tracefs `trace`.
    case trace
    /// `trace_pipe` of a second ftrace instance.
    case pipe
    /// `trace-cmd extract` (trace.dat).
    case dat
    /// `trace-cmd report` with plugins.
    case report
    /// `trace-cmd report -N`.
    case reportNoPlugin = "report-noplugin"
    /// `perf script`.
    case perf

    /// Compression suffixes a form may carry, tried after the plain name.
    public static let compressedSuffixes = ["xz", "gz"]
}

/// What `lab check` is told on the command line: overrides of what the manifests say, and
/// which forms to replay.
public struct LabCheckOptions: Sendable {
    /// Profile for every scenario instead of the one the manifest's kernel names.
    public var profile: KernelProfile?
    /// Host facts that win over the manifest's `l0`.
    public var host: HostFacts
    /// Guest facts that win over the manifest's `l1`.
    public var guest: GuestFacts?
    /// Forms to replay, in this order; empty means every form.
    public var forms: [LabForm]
    /// Facts files (`--facts`) for the replay with facts, besides each scenario's own.
    public var facts: [FactsFile] = []
    /// Whether each scenario's `NAME.facts.json` is used (`--no-scenario-facts` turns it off).
    public var scenarioFacts = true

    /// Creates options; by default everything comes from the manifests.
    public init(profile: KernelProfile? = nil, host: HostFacts = HostFacts(), guest: GuestFacts? = nil,
                forms: [LabForm] = []) {
        self.profile = profile
        self.host = host
        self.guest = guest
        self.forms = forms
    }
}

/// One scenario found on disk: its manifest and trace files.
public struct LabScenarioFiles: Sendable {
    /// Scenario name (the manifest's base name).
    public var name: String
    /// The folder, as reached from the checked directory.
    public var folder: String
    /// The manifest's path, `nil` for a scenario only `run.json` names.
    public var manifestPath: String?
    /// The parsed manifest, or why it could not be read.
    public var manifest: Result<LabManifest, LabInputError>?
    /// Every trace form present, in ``LabForm`` order.
    public var traces: [(form: LabForm, path: String)]
    /// The scenario's `run.json` entry.
    public var run: LabRunRecord.Scenario?
    /// `NAME.facts.json` next to the manifest (what L1 configured), when present.
    public var factsPath: String?
}

/// `svmdbg lab check`: replays every trace of every lab scenario under a directory and
/// compares what the traces show with what L1 logged (`docs/lab-check.md`).
///
/// The profile and host facts come from each manifest (the lab's known configuration,
/// passed to replay exactly like a user's `--profile`/`--host`); verdicts still come only
/// from the trace. The manifest's L1 log is compared with the replay afterwards.
public enum LabCheck {
    /// `observed.result` of a scenario whose L1 ran its program to the end.
    public static let finishedResult = "done"

    /// How many exits at the end of a trace ``LabFormReport/endingLoop`` looks at: far more
    /// than any lab scenario's whole program causes (the longest shipped one, 55), far fewer
    /// than a livelock leaves before the lab stops it (thousands).
    public static let loopThreshold = 200

    /// The share of those exits one repeated exit must make up (timer interrupts and the
    /// exit that stopped the guest make up the rest).
    public static let loopShare = 0.9

    /// Finds every manifest (`NAME.json` with an `observed` object) in `directory` and its
    /// subfolders, with its traces and `run.json` entry.
    ///
    /// - Throws: ``LabInputError`` when `directory` is missing or no folder, a `run.json` is
    ///   unreadable, or no manifest is found.
    public static func discover(directory: String, forms: [LabForm] = []) throws(LabInputError) -> [LabScenarioFiles] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) else {
            throw LabInputError(file: directory, problem: "no such directory")
        }
        guard isDirectory.boolValue else { throw LabInputError(file: directory, problem: "not a directory") }
        let wanted = forms.isEmpty ? LabForm.allCases : forms
        var found: [LabScenarioFiles] = []
        for folder in folders(below: directory.count > 1 && directory.hasSuffix("/") ? String(directory.dropLast()) : directory) {
            found += try scenarios(in: folder, forms: wanted)
        }
        guard !found.isEmpty else {
            throw LabInputError(file: directory, problem: "no lab manifests (NAME.json with \"observed\") here or below")
        }
        return found
    }

    /// `folder` and every folder below it, depth first in name order; hidden folders and
    /// symbolic links to folders are not entered (a link could loop).
    static func folders(below folder: String) -> [String] {
        var result = [folder]
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
        for name in names where !name.hasPrefix(".") {
            let path = folder == "/" ? "/" + name : folder + "/" + name
            let type = (try? FileManager.default.attributesOfItem(atPath: path))?[.type] as? FileAttributeType
            if type == .typeDirectory { result += folders(below: path) }
        }
        return result
    }

    /// The scenarios of one folder.
    static func scenarios(in folder: String, forms: [LabForm]) throws(LabInputError) -> [LabScenarioFiles] {
        let names = Set((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
        let folderURL = URL(fileURLWithPath: folder)
        var run: LabRunRecord?
        if names.contains(LabRunRecord.fileName) {
            run = try LabRunRecord.read(url: folderURL.appendingPathComponent(LabRunRecord.fileName))
        }
        func traces(of name: String) -> [(form: LabForm, path: String)] {
            forms.compactMap { form in
                let plain = "\(name).\(form.rawValue)"
                let candidates = [plain] + LabForm.compressedSuffixes.map { "\(plain).\($0)" }
                guard let file = candidates.first(where: names.contains) else { return nil }
                return (form, folderURL.appendingPathComponent(file).path)
            }
        }
        func path(_ file: String) -> String { (folder.hasSuffix("/") ? folder : folder + "/") + file }
        var found: [LabScenarioFiles] = []
        for file in names.sorted() where file.hasSuffix(".json") && file != LabRunRecord.fileName {
            let name = String(file.dropLast(".json".count))
            let manifestPath = path(file)
            let manifest: Result<LabManifest, LabInputError>
            do {
                guard let parsed = try LabManifest.read(url: URL(fileURLWithPath: manifestPath)) else { continue }
                manifest = .success(parsed)
            } catch {
                // Unreadable JSON is a broken manifest only when the scenario's traces sit next to it.
                let anyTrace = LabForm.allCases.contains { form in
                    names.contains { $0 == "\(name).\(form.rawValue)" || $0.hasPrefix("\(name).\(form.rawValue).") }
                }
                guard anyTrace else { continue }
                manifest = .failure(LabInputError(file: manifestPath, problem: error.problem))
            }
            found.append(LabScenarioFiles(
                name: name, folder: folder, manifestPath: manifestPath, manifest: manifest,
                traces: traces(of: name).map { ($0.form, path(URL(fileURLWithPath: $0.path).lastPathComponent)) },
                run: run?.scenario(named: name), factsPath: names.contains("\(name).facts.json") ? path("\(name).facts.json") : nil))
        }
        // Scenarios run.json names that left no manifest.
        for entry in run?.scenarios ?? [] where !found.contains(where: { $0.name == entry.name }) {
            found.append(LabScenarioFiles(
                name: entry.name, folder: folder, manifestPath: nil, manifest: nil, traces: [], run: entry))
        }
        return found
    }

    /// The profile of every scenario: `options.profile`, else the manifest kernel's.
    ///
    /// - Throws: ``LabInputError`` naming the first manifest whose kernel matches no profile.
    public static func validateProfiles(_ scenarios: [LabScenarioFiles], options: LabCheckOptions) throws(LabInputError) {
        guard options.profile == nil else { return }
        for scenario in scenarios {
            guard case .success(let manifest) = scenario.manifest, manifest.profile == nil else { continue }
            let known = KernelProfile.all.map(\.name).joined(separator: ", ")
            let kernel = manifest.kernel.map { "kernel '\($0)'" } ?? "no \"kernel\""
            throw LabInputError(
                file: scenario.manifestPath ?? scenario.folder,
                problem: "\(kernel) matches no profile (known: \(known)); give --profile")
        }
    }

    /// Checks every scenario under `directory`.
    /// `progress`, if given, is called (from any thread, one call at a time) after each trace
    /// with the traces done, the traces in all and the exits replayed so far.
    public static func run(directory: String, options: LabCheckOptions = LabCheckOptions(),
                           progress: (@Sendable (_ done: Int, _ total: Int, _ exits: Int) -> Void)? = nil)
        throws(LabInputError) -> LabCheckReport {
        let scenarios = try discover(directory: directory, forms: options.forms)
        try validateProfiles(scenarios, options: options)
        return LabCheckReport(directory: directory, scenarios: check(scenarios, options: options, progress: progress))
    }

    /// Checks `scenarios`, replaying their traces in parallel (one worker per CPU).
    public static func check(_ scenarios: [LabScenarioFiles], options: LabCheckOptions,
                             progress: (@Sendable (_ done: Int, _ total: Int, _ exits: Int) -> Void)? = nil) -> [LabScenarioReport] {
        let jobs = scenarios.enumerated().flatMap { index, scenario in
            scenario.traces.map { (scenario: index, form: $0.form, path: $0.path) }
        }
        let results = ResultSlots<LabFormReport>(count: jobs.count)
        let tally = Mutex((done: 0, exits: 0))
        DispatchQueue.concurrentPerform(iterations: jobs.count) { position in
            let job = jobs[position]
            let scenario = scenarios[job.scenario]
            var exits = 0
            if case .success(let manifest) = scenario.manifest {
                let report = checkForm(
                    job.form, path: job.path, manifest: manifest, run: scenario.run, options: options,
                    factsPath: options.scenarioFacts ? scenario.factsPath : nil)
                exits = report.exits
                results.set(position, report)
            }
            guard let progress else { return }
            tally.withLock { tally in
                tally.done += 1
                tally.exits += exits
                progress(tally.done, jobs.count, tally.exits)
            }
        }
        var formsByScenario = [[LabFormReport]](repeating: [], count: scenarios.count)
        for (position, job) in jobs.enumerated() {
            if let report = results.value(position) { formsByScenario[job.scenario].append(report) }
        }
        return scenarios.enumerated().map { index, scenario in
            report(scenario, forms: formsByScenario[index], options: options)
        }
    }

    /// Loads and replays one trace and judges it.
    public static func checkForm(
        _ form: LabForm, path: String, manifest: LabManifest, run: LabRunRecord.Scenario?, options: LabCheckOptions,
        factsPath: String? = nil
    ) -> LabFormReport {
        let trace: LoadedTrace
        do {
            trace = try TraceLoader.load(path: path)
        } catch let error as TraceLoadError {
            return LabFormReport(form: form, file: path, error: "cannot load: \(error.problem)")
        } catch {
            return LabFormReport(form: form, file: path, error: "cannot load: \(error)")
        }
        if let reason = trace.unusableReason {
            return LabFormReport(form: form, file: path, error: "unusable trace: \(reason)")
        }
        guard let replayOptions = self.replayOptions(for: manifest, options: options) else {
            return LabFormReport(form: form, file: path, error: "kernel '\(manifest.kernel ?? "?")' matches no profile; give --profile")
        }
        let result = Replayer(trace: trace, options: replayOptions).run()
        var l1Trace: Result<L1TraceComparison, LabInputError>?
        if let file = manifest.l1TraceFile {
            let l1Path = URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent(file).path
            l1Trace = loadL1Trace(path: l1Path).map { L1TraceComparison(l0: trace, l1: $0) }
        }
        var report = LabFormReport(form: form, file: path, result: result, manifest: manifest, run: run, l1Trace: l1Trace)
        var facts = options.facts
        if let factsPath {
            do {
                facts.insert(try FactsFile.read(path: factsPath), at: 0)
            } catch {
                report.addFinding(LabFinding(.fail, "facts file \(factsPath) unreadable: \(error.description)"))
                return report
            }
        }
        if !facts.isEmpty { report.addFacts(LabFactsComparison(baseline: result, facts: facts)) }
        return report
    }

    /// L1's own `kvm:*` trace of a KVM-on-KVM run (plain, or `.xz`/`.gz` next to it).
    static func loadL1Trace(path: String) -> Result<LoadedTrace, LabInputError> {
        let candidates = [path] + LabForm.compressedSuffixes.map { "\(path).\($0)" }
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            return .failure(LabInputError(file: path, problem: "L1's trace is missing (manifest observed.l1_trace)"))
        }
        do {
            return .success(try TraceLoader.load(path: found))
        } catch let error as TraceLoadError {
            return .failure(LabInputError(file: found, problem: "cannot load L1's trace: \(error.problem)"))
        } catch {
            return .failure(LabInputError(file: found, problem: "cannot load L1's trace: \(error)"))
        }
    }

    /// The replay options for a scenario: the manifest's configuration under the overrides;
    /// `nil` when neither `options` nor the manifest's kernel names a profile.
    public static func replayOptions(for manifest: LabManifest, options: LabCheckOptions) -> ReplayOptions? {
        guard let profile = options.profile ?? manifest.profile else { return nil }
        let host = manifest.hostFacts.overridden(by: options.host)
        let guest = options.guest ?? manifest.guestFacts
        return ReplayOptions(profile: profile, host: host, guest: guest)
    }

    /// Builds a scenario's report from its forms, its run entry and its manifest.
    static func report(_ scenario: LabScenarioFiles, forms: [LabFormReport], options: LabCheckOptions) -> LabScenarioReport {
        var findings: [LabFinding] = []
        var manifest: LabManifest?
        switch scenario.manifest {
        case .success(let parsed): manifest = parsed
        case .failure(let error): findings.append(LabFinding(.fail, "manifest unreadable: \(error.problem)"))
        case nil: findings.append(LabFinding(.fail, "no manifest (\(scenario.name).json)"))
        }
        if let run = scenario.run {
            switch run.status {
            case .ok?: break
            case .livelockCapped?:
                findings.append(LabFinding(.explained, run.summary + ": the lab stopped a livelock and capped the trace"))
            case .timeout?, .failed?:
                findings.append(LabFinding(.fail, run.summary))
            case nil:
                findings.append(LabFinding(.fail, run.summary + ": unknown status (known: \(LabRunRecord.Status.allCases.map(\.rawValue).joined(separator: ", ")))"))
            }
        }
        if let manifest, let outcome = manifest.result, outcome != finishedResult {
            let head = "L1 did not finish (observed.result = \(outcome))"
            let gap = forms.lazy.compactMap { form in form.gapLines.first.map { (form.form, $0) } }.first
            let loop = forms.lazy.compactMap { form in form.endingLoop.map { (form.form, $0) } }.first
            if scenario.run?.status == .livelockCapped {
                findings.append(LabFinding(.explained, head + ": the lab capped the run"))
            } else if scenario.run?.status == .timeout || scenario.run?.status == .failed {
                // run.json's status already fails the scenario.
            } else if let (form, line) = gap {
                findings.append(LabFinding(.explained, head + ": the trace is capped (\(form.rawValue) gap at line \(line))"))
            } else if let (form, text) = loop {
                findings.append(LabFinding(.explained, head + ": the \(form.rawValue) trace ends in a loop (\(text))"))
            } else {
                findings.append(LabFinding(.fail, head + " and neither run.json nor the trace (a gap, an ending loop) explains it"))
            }
        }
        if manifest != nil, scenario.traces.isEmpty {
            let wanted = (options.forms.isEmpty ? LabForm.allCases : options.forms).map(\.rawValue).joined(separator: ", ")
            findings.append(LabFinding(.fail, "no trace file (looked for \(scenario.name).{\(wanted)}[.xz|.gz])"))
        }
        let status = (findings.map(\.status) + forms.map(\.status)).max() ?? .ok
        let replay = manifest.flatMap { replayOptions(for: $0, options: options) }
        return LabScenarioReport(
            scenario: scenario.name, folder: scenario.folder, manifest: scenario.manifestPath, kernel: manifest?.kernel,
            profile: replay?.profile.name,
            profileSource: replay == nil ? nil : (options.profile == nil ? "manifest kernel" : "--profile"),
            host: replay?.host ?? HostFacts(), guest: replay?.guest ?? GuestFacts(), result: manifest?.result,
            run: scenario.run, status: status, findings: findings, forms: forms)
    }
}

/// Results written by concurrent jobs, one slot each.
///
/// A class with one mutex: `concurrentPerform` workers store into distinct slots, and the
/// caller reads them after all workers finished.
private final class ResultSlots<Value: Sendable>: Sendable {
    private let slots: Mutex<[Value?]>

    init(count: Int) { slots = Mutex(Array(repeating: nil, count: count)) }

    func set(_ index: Int, _ value: Value) {
        slots.withLock { $0[index] = value }
    }

    func value(_ index: Int) -> Value? {
        slots.withLock { $0[index] }
    }
}
