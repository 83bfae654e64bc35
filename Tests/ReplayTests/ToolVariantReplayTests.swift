import Foundation
import NestedSVM
@testable import Replay
import TestSupport
import Testing
import TraceKit

/// Every `trace-cmd report` and `perf script` variant a developer produces, made here by the
/// real tools from shipped binary captures, replays the same exits with the same verdicts as
/// the tracefs twin of the same run. Skipped only when the tool is not installed.
@Suite struct ToolVariantReplayTests {
    static let reportOptions: [[String]] = [[], ["-R"], ["--ts-diff"], ["-l"], ["--raw-ts"], ["-t"], ["-q"],
                                            ["--cpu", "0"], ["-F", "kvm"], ["-N"]]
    static let perfOptions: [[String]] = [[], ["-F", "+ip"], ["-F", "comm,time,event,trace"], ["-F", "+period"],
                                          ["--deltatime"], ["--reltime"], ["--ns"], ["--header"], ["-G"],
                                          ["--deltatime", "--ns"]]
    static let scenarios = ["cpuid-toggle", "msr-prot", "exceptions"]

    static func tool(_ name: String) -> String? {
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            let path = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    static func run(_ executable: String, _ arguments: [String]) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return [UInt8](data)
    }

    /// What must not change between layouts: per exit, its reason, info, level, the model's
    /// outcome and the verdict. (The decision path may differ where a wording prints less:
    /// libtraceevent's plugin drops fields, and a different inference can settle a VMRUN.)
    static func verdicts(_ result: ReplayResult) -> [String] {
        result.exits.map {
            "\($0.reasonName) \(String(describing: $0.exitInfo1)) \(String(describing: $0.level)) \($0.model.kind) \($0.verdict.kind)"
        }
    }

    static var folder: CaptureHosts.Folder { CaptureHosts.folders.first { $0.name == "6.12" }! }

    @Test("trace-cmd report variants of a shipped trace.dat replay like its tracefs twin", arguments: scenarios)
    func reportVariants(scenario: String) throws {
        guard let traceCmd = Self.tool("trace-cmd") else { return }
        let twin = try replay(path: RepositoryPaths.trace("6.12/\(scenario).trace").path, folder: Self.folder)
        let expected = Self.verdicts(twin)
        #expect(expected.count > 10)
        for options in Self.reportOptions {
            let text = try Self.run(traceCmd, ["report"] + options + [RepositoryPaths.trace("6.12/\(scenario).dat").path])
            let trace = try TraceLoader.load(bytes: text, source: "report \(options)")
            let result = replay(trace: trace, folder: Self.folder)
            #expect(Self.verdicts(result) == expected, "trace-cmd report \(options.joined(separator: " "))")
            #expect(trace.lineAccounting.unreadable == 0, "trace-cmd report \(options.joined(separator: " "))")
        }
    }

    @Test("perf script variants of a shipped perf.data, and the perf.data itself, replay like the tracefs twin",
          arguments: scenarios)
    func perfVariants(scenario: String) throws {
        guard let perf = Self.tool("perf") else { return }
        let data = RepositoryPaths.trace("perf-data/6.12/\(scenario).perf.data").path
        let twin = try replay(path: RepositoryPaths.trace("perf-data/6.12/\(scenario).trace").path, folder: Self.folder)
        let expected = Self.verdicts(twin)
        #expect(expected.count > 10)
        #expect(Self.verdicts(try replay(path: data, folder: Self.folder)) == expected, "perf.data given directly")
        for options in Self.perfOptions {
            let text = try Self.run(perf, ["script", "-i", data] + options)
            let trace = try TraceLoader.load(bytes: text, source: "perf script \(options)")
            #expect(trace.format == .perfScript)
            let result = replay(trace: trace, folder: Self.folder)
            #expect(Self.verdicts(result) == expected, "perf script \(options.joined(separator: " "))")
            #expect(trace.lineAccounting.unreadable == 0, "perf script \(options.joined(separator: " "))")
        }
    }

    @Test("SVM excerpts: every kvm_exit gets a verdict", arguments: [
        ("svm-rsm-smm-quoted.txt", 3), ("svm-rsm-smm-patch.txt", 3), ("svm-vmrun-event-inj-migration.txt", 1),
        ("svm-smm-test-cpuid.txt", 2), ("svm-gp-loop-two-blocks.txt", 6),
        ("svm-npf-three-vcpus-wrapped.txt", 3), ("svm-npf-bugzilla-quoted-printable.txt", 2),
    ])
    func excerptVerdicts(file: String, exits: Int) throws {
        let trace = try TraceLoader.load(path: RepositoryPaths.trace("excerpts/\(file)").path)
        let result = replay(trace: trace, folder: CaptureHosts.folders.first { $0.name == "6.1" }!)
        #expect(result.exits.filter { $0.origin != .synthesized }.count == exits)
        for exit in result.exits { #expect(!exit.verdict.explanation.isEmpty) }
    }
}
