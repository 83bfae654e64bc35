import Foundation
import TestSupport
import Testing

/// `svmdbg lab check` and `svmdbg lab run` end to end: the built binary on the shipped
/// folders (`.trace` form only: every form is replayed by `ShippedTracesReplayTests`), on
/// modified copies, and a fake `lab/run` that prints its arguments.
@Suite struct LabCommandTests {
    /// Runs the built `svmdbg` with `arguments` in `directory`, with `environment` added to
    /// (and `removing` taken from) this process's environment.
    static func svmdbg(_ arguments: [String], in directory: URL? = nil, environment: [String: String] = [:],
                       removing: [String] = []) throws -> Output {
        let process = Process()
        process.executableURL = RepositoryPaths.svmdbgExecutable
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        var merged = ProcessInfo.processInfo.environment
        for key in removing { merged[key] = nil }
        merged.merge(environment) { _, new in new }
        process.environment = merged
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("svmdbg-lab-out-\(UUID().uuidString)")
        let err = FileManager.default.temporaryDirectory.appendingPathComponent("svmdbg-lab-err-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: out)
            try? FileManager.default.removeItem(at: err)
        }
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        process.waitUntilExit()
        return Output(
            status: process.terminationStatus, stdout: String(decoding: try Data(contentsOf: out), as: UTF8.self),
            stderr: String(decoding: try Data(contentsOf: err), as: UTF8.self))
    }

    /// What one run printed, and its exit status.
    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// A fresh temporary folder.
    static func temporaryFolder(_ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("svmdbg-labcmd-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static let folders = ["6.1", "6.12", "6.12-naples"]

    @Test("lab check passes a shipped folder; its JSON agrees with the text summary", arguments: folders)
    func shippedFolder(folder: String) throws {
        let directory = RepositoryPaths.trace(folder).path
        let text = try Self.svmdbg(["lab", "check", directory, "--form", "trace"])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("verdicts come only from the trace"))
        #expect(text.stdout.contains("profile \(folder == "6.1" ? "6.1" : "6.12") [manifest kernel]"))
        let json = try Self.svmdbg(["lab", "check", directory, "--form", "trace", "--json"])
        #expect(json.status == 0, "\(json.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let summary = try #require(object["summary"] as? [String: Int])
        let scenarios = try #require(object["scenarios"] as? [[String: Any]])
        #expect(scenarios.count == summary["scenarios"])
        let expectedLine = "summary: \(summary["scenarios"] ?? -1) scenarios: \(summary["ok"] ?? -1) ok, "
            + "\(summary["explained"] ?? -1) explained, \(summary["fail"] ?? -1) fail; \(summary["forms"] ?? -1) traces: "
            + "\(summary["exits"] ?? -1) exits, \(summary["match"] ?? -1) match (\(summary["decided"] ?? -1) decided, "
            + "\(summary["consistent"] ?? -1) consistent), \(summary["mismatch"] ?? -1) mismatch, "
            + "\(summary["undetermined"] ?? -1) undetermined; L1 log equal in \(summary["l1_log_equal"] ?? -1) of "
            + "\((summary["l1_log_equal"] ?? -1) + (summary["l1_log_differ"] ?? -1)) traces"
        #expect(text.stdout.contains(expectedLine + "\n"), "\(text.stdout.suffix(300))")
        #expect(summary["fail"] == 0)
        for scenario in scenarios {
            let name = scenario["scenario"] as? String ?? "?"
            #expect(["ok", "explained"].contains(scenario["status"] as? String), "\(name)")
            let host = scenario["host"] as? [String: [String: String]]
            #expect(host?["svme_addr_chk"]?["value"] == (folder == "6.12-naples" ? "0" : "1"))
            #expect(host?["svme_addr_chk"]?["source"] == "manifest l0.svme_addr_chk")
            let forms = try #require(scenario["forms"] as? [[String: Any]])
            #expect(forms.count == 1)
            let log = forms.first?["l1_log"] as? [String: Any]
            #expect(log?["equal"] as? Bool == true, "\(name)")
            #expect(log?.keys.contains("first_divergence") == true)
            #expect((log?["expected"] as? [Any])?.count == (log?["recorded"] as? [Any])?.count)
            // One text line per scenario × form, with its status.
            let row = text.stdout.split(separator: "\n").first {
                $0.hasPrefix("  \(name) ") && $0.contains(" trace ")
            }
            #expect(row?.contains(" \(scenario["status"] as? String ?? "?") ") == true, "\(name)")
        }
    }

    @Test("a manifest whose L1 log differs from the trace fails with exit 1, naming scenario and divergence")
    func mutatedManifest() throws {
        let folder = try Self.temporaryFolder("mutated")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.copyItem(at: RepositoryPaths.trace("6.12/cr-access.trace"), to: folder.appendingPathComponent("cr-access.trace"))
        let text = try String(contentsOf: RepositoryPaths.trace("6.12/cr-access.json"), encoding: .utf8)
        // The first #VMEXIT cr-access logs is write_cr0 (0x10); make it a VMMCALL (the kernel calls it hypercall).
        let range = try #require(text.range(of: #""exit_code": "0x"#))
        let end = try #require(text[range.upperBound...].firstIndex(of: "\""))
        let mutated = text.replacingCharacters(in: range.lowerBound...end, with: #""exit_code": "0x81""#)
        try Data(mutated.utf8).write(to: folder.appendingPathComponent("cr-access.json"))
        let run = try Self.svmdbg(["lab", "check", folder.path])
        #expect(run.status == 1, "\(run.stderr)")
        let row = run.stdout.split(separator: "\n").first { $0.hasPrefix("  cr-access ") }
        #expect(row?.contains(" fail ") == true)
        #expect(run.stdout.contains("✘ L1 log differs at #VMEXIT 1 of"))
        #expect(run.stdout.contains("L1 logged hypercall (0x081) (manifest idx 2), trace line"))
        #expect(run.stdout.contains("summary: 1 scenarios: 0 ok, 0 explained, 1 fail;"))
        let json = try Self.svmdbg(["lab", "check", folder.path, "--json"])
        #expect(json.status == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let scenario = try #require((object["scenarios"] as? [[String: Any]])?.first)
        #expect(scenario["scenario"] as? String == "cr-access")
        #expect(scenario["status"] as? String == "fail")
        let divergence = try #require(((scenario["forms"] as? [[String: Any]])?.first?["l1_log"] as? [String: Any])?["first_divergence"] as? [String: Any])
        #expect(divergence["index"] as? Int == 0)
        #expect((divergence["expected"] as? [String: Any])?["exit_code"] as? Int == 0x81)
        #expect((divergence["recorded"] as? [String: Any])?["line"] as? Int == divergence["line"] as? Int)
    }

    @Test("a run.json timeout fails the scenario with that reason")
    func runTimeout() throws {
        let folder = try Self.temporaryFolder("timeout")
        defer { try? FileManager.default.removeItem(at: folder) }
        for file in ["minimal.json", "minimal.trace"] {
            try FileManager.default.copyItem(at: RepositoryPaths.trace("6.1/\(file)"), to: folder.appendingPathComponent(file))
        }
        try Data(#"{"kernel": "6.1", "scenarios": [{"name": "minimal", "status": "timeout", "seconds": 120, "note": "no answer"}]}"#.utf8)
            .write(to: folder.appendingPathComponent("run.json"))
        let run = try Self.svmdbg(["lab", "check", folder.path])
        #expect(run.status == 1)
        #expect(run.stdout.contains("minimal: ✘ run.json: timeout after 120 s (no answer)"))
        let json = try Self.svmdbg(["lab", "check", folder.path, "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let scenario = try #require((object["scenarios"] as? [[String: Any]])?.first)
        #expect((scenario["run"] as? [String: Any])?["status"] as? String == "timeout")
        #expect((scenario["findings"] as? [[String: String]])?.first?["text"] == "run.json: timeout after 120 s (no answer)")
    }

    @Test("a missing directory or a wrong option exits 2 with one line", arguments: [
        (["lab", "check", "/nonexistent/svmdbg-lab"], "svmdbg lab check: error: /nonexistent/svmdbg-lab: no such directory\n"),
        (["lab", "check", "/dev/null"], "svmdbg lab check: error: /dev/null: not a directory\n"),
        (["lab", "check", "/tmp", "--form", "ftrace"], nil),
        (["lab", "check", "/tmp", "--profile", "5.4"], nil),
    ] as [([String], String?)])
    func usage(arguments: [String], stderr: String?) throws {
        let run = try Self.svmdbg(arguments)
        #expect(run.status == 2)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr.split(separator: "\n").count == 1, "\(run.stderr)")
        if let stderr { #expect(run.stderr == stderr) }
    }

    // MARK: lab run

    /// A folder holding `lab/run`, a script that prints each argument on a line and exits 3.
    static func fakeLab() throws -> URL {
        let root = try temporaryFolder("fake")
        let lab = root.appendingPathComponent("lab")
        try FileManager.default.createDirectory(at: lab, withIntermediateDirectories: true)
        let script = lab.appendingPathComponent("run")
        try Data("#!/bin/sh\nfor a in \"$@\"; do printf '<%s>\\n' \"$a\"; done\necho 'to stderr' >&2\nexit 3\n".utf8).write(to: script)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)
        return root
    }

    @Test("lab run passes its arguments to $SVMDBG_LAB_DIR's script and forwards its output and status")
    func runFromEnvironment() throws {
        let root = try Self.fakeLab()
        defer { try? FileManager.default.removeItem(at: root) }
        let arguments = ["--kernel", "6.12", "--cpu", "naples", "msr-prot", "two words", "-o", "/tmp/out dir"]
        for variable in [root.path, root.appendingPathComponent("lab").path] {
            let run = try Self.svmdbg(["lab", "run"] + arguments, environment: ["SVMDBG_LAB_DIR": variable])
            #expect(run.status == 3)
            #expect(run.stdout == arguments.map { "<\($0)>\n" }.joined())
            #expect(run.stderr == "to stderr\n")
        }
    }

    @Test("lab run finds lab/run above the current directory")
    func runFromCurrentDirectory() throws {
        let root = try Self.fakeLab()
        defer { try? FileManager.default.removeItem(at: root) }
        let nested = root.appendingPathComponent("traces/lab/6.12-zen3")
        try FileManager.default.createDirectory(at: nested, withIntermediateDirectories: true)
        let run = try Self.svmdbg(["lab", "run", "-o", "x"], in: nested, removing: ["SVMDBG_LAB_DIR"])
        #expect(run.status == 3)
        #expect(run.stdout == "<-o>\n<x>\n")
        // --help is the script's; one leading -- is dropped, a later one kept.
        let help = try Self.svmdbg(["lab", "run", "--help"], in: nested, removing: ["SVMDBG_LAB_DIR"])
        #expect(help.stdout == "<--help>\n")
        let separated = try Self.svmdbg(["lab", "run", "--", "--cpu", "--", "zen3"], in: nested, removing: ["SVMDBG_LAB_DIR"])
        #expect(separated.stdout == "<--cpu>\n<-->\n<zen3>\n")
    }

    @Test("lab run without a script says where it looked and exits 2")
    func runNotFound() throws {
        let empty = try Self.temporaryFolder("empty")
        defer { try? FileManager.default.removeItem(at: empty) }
        let run = try Self.svmdbg(["lab", "run", "--kernel", "6.1"], environment: ["SVMDBG_LAB_DIR": empty.path])
        #expect(run.status == 2)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr == "svmdbg lab run: error: SVMDBG_LAB_DIR=\(empty.path): no lab script there (looked for \(empty.path)/run and \(empty.path)/lab/run)\n")
    }
}
