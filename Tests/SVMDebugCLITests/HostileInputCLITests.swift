import Foundation
import TestSupport
import Testing

/// One run of the built `svmdbg`: exit status and the exact bytes it wrote.
private struct Run {
    var status: Int32
    var stdout: [UInt8]
    var stderr: [UInt8]
    var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    var stderrText: String { String(decoding: stderr, as: UTF8.self) }
}

/// Runs `svmdbg` with `arguments`.
private func svmdbg(_ arguments: [String]) throws -> Run {
    let run = try runSVMDebug(arguments)
    return Run(status: run.status, stdout: run.stdoutBytes, stderr: run.stderrBytes)
}

/// A fresh temporary folder, removed by the caller.
private func temporaryFolder() throws -> URL {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("svmdbg-hostile-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return folder
}

/// Bytes a terminal acts on: C0 controls except tab and line feed, DEL, and C1 controls
/// (as UTF-8 `c2 80`…`c2 9f`, or as raw bytes `80`…`9f` outside a UTF-8 sequence).
private func terminalControls(in bytes: [UInt8]) -> [String] {
    var found: [String] = []
    let text = String(decoding: bytes, as: UTF8.self)
    for scalar in text.unicodeScalars {
        let value = scalar.value
        if value < 0x20 && value != 0x09 && value != 0x0a || value == 0x7f || (0x80...0x9f).contains(value) {
            found.append(String(format: "U+%04X", value))
        }
    }
    return found
}

/// The real 6.12 capture `minimal.trace`.
private let minimalPath = RepositoryPaths.trace("6.12/minimal.trace").path

/// The subcommands that read a trace, with the arguments each needs besides the trace.
private let traceCommands: [(name: String, arguments: @Sendable (String, URL) -> [String])] = [
    ("stats", { trace, _ in ["stats", trace] }),
    ("check", { trace, _ in ["check", trace] }),
    ("export", { trace, folder in ["export", trace, "--all", "-o", folder.appendingPathComponent("out.jsonl").path] }),
    ("diff", { trace, _ in ["diff", trace, "--profile", "6.12", "--profile", "upstream"] }),
]

@Suite struct HostileInputCLITests {
    /// The unusable inputs every trace-reading subcommand must refuse.
    enum BadTrace: String, CaseIterable {
        case missing, directory, binaryJunk, empty
    }

    @Test("every trace subcommand refuses unusable input with exit 2 and one stderr line naming the file",
          arguments: BadTrace.allCases, traceCommands.map(\.name))
    func unusableTrace(input: BadTrace, command: String) throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path: String
        let problem: String
        switch input {
        case .missing:
            path = folder.appendingPathComponent("absent.trace").path
            problem = "no such file or directory"
        case .directory:
            path = folder.appendingPathComponent("a-folder").path
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
            problem = "is a directory"
        case .binaryJunk:
            path = folder.appendingPathComponent("junk.bin").path
            // 8 KiB of every byte value in turn: NULs, controls, invalid UTF-8.
            try Data((0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 37) }).write(to: URL(fileURLWithPath: path))
            problem = "is not a tracefs trace"
        case .empty:
            path = folder.appendingPathComponent("empty.trace").path
            try Data().write(to: URL(fileURLWithPath: path))
            problem = "is empty"
        }
        let arguments = try #require(traceCommands.first { $0.name == command }).arguments(path, folder)
        let run = try svmdbg(arguments)
        #expect(run.status == 2, "\(run.stderrText)")
        #expect(run.stdout.isEmpty)
        let lines = run.stderrText.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 2 && lines[1].isEmpty, "exactly one line: \(run.stderrText)")
        #expect(run.stderrText.hasPrefix("svmdbg: \(path): \(problem)"))
        #expect(terminalControls(in: run.stderr).isEmpty)
        // Nothing was written for export.
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("out.jsonl").path))
    }

    @Test("bad options and scenarios exit 2 with one stderr line saying what is wrong", arguments: [
        (["check", minimalPath, "--host", "nope"], "--host"),
        (["check", minimalPath, "--host", "zz=1"], "unknown host fact 'zz'"),
        (["check", minimalPath, "--profile", "9.9"], "unknown profile '9.9'"),
        (["export", minimalPath, "-o", "/tmp/never-written.jsonl", "--profile", "9.9"], "unknown profile '9.9'"),
        (["export", minimalPath, "-o", "/tmp/never-written.jsonl", "--host", "vgif=banana"], "--host"),
        (["diff", minimalPath, "--profile", "6.12"], "--profile exactly twice"),
        (["diff", minimalPath, "--profile", "6.12", "--profile", "upstream", "--host", "zz=1"], "unknown host fact 'zz'"),
        (["stats", minimalPath, "--format", "bogus"], "'bogus'"),
        (["stats", minimalPath, "--host", "vgif=1"], "--host"),
        (["decide", minimalPath], "not valid JSON"),
        (["decide", "/nonexistent/scenario.json"], "/nonexistent/scenario.json: cannot read file: no such file or directory"),
        (["decide", "/tmp"], "/tmp: cannot read file: is a directory"),
        (["decide", RepositoryPaths.trace("scenarios/msr-out-of-range.json").path, "--profile", "5.4"], "unknown profile '5.4'"),
        (["decide", RepositoryPaths.trace("scenarios/msr-out-of-range.json").path, "--host", "npt"], "npt"),
        (["stats"], "Missing expected argument"),
        (["frobnicate"], "frobnicate"),
    ])
    func badOptions(arguments: [String], expected: String) throws {
        let run = try svmdbg(arguments)
        #expect(run.status == 2, "\(run.stderrText)")
        #expect(run.stdout.isEmpty)
        let lines = run.stderrText.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 2 && lines[1].isEmpty, "exactly one line: \(run.stderrText)")
        #expect(run.stderrText.contains(expected), "\(run.stderrText)")
        #expect(run.stderrText.hasPrefix("svmdbg"))
    }

    @Test("--help and --version still succeed on stdout")
    func helpAndVersion() throws {
        let help = try svmdbg(["check", "--help"])
        #expect(help.status == 0)
        #expect(help.stdoutText.contains("USAGE"))
        let version = try svmdbg(["--version"])
        #expect(version.status == 0)
        #expect(!version.stdoutText.isEmpty)
    }

    // MARK: - Terminal safety

    /// A trace whose task names and payloads hold ESC sequences, BEL, C1 CSI, DEL, BS and
    /// CR: real minimal.trace lines with the comm `svmlab` replaced.
    static func hostileTrace(in folder: URL) throws -> String {
        let original = try String(contentsOfFile: minimalPath, encoding: .utf8)
        var lines = original.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for index in lines.indices where !lines[index].hasPrefix("#") {
            lines[index] = lines[index].replacingOccurrences(of: "svmlab-401", with: "sv\u{1b}[2J\u{07}m\u{9b}31m\u{7f}\u{08}l\rab-401")
        }
        // An unknown event whose payload rings the bell and clears the screen, and a line
        // that is no event at all but quotes an escape sequence (its diagnostic quotes it).
        lines.insert("          sv\u{1b}]0;owned\u{07}-401     [000] d..1.     6.242300: kvm_frobnicate: \u{1b}[2J\u{07}\u{9b}1;1H\u{7f}", at: 14)
        lines.insert("this is \u{9b}31mnot\u{9b}0m a trace line \u{85}", at: 15)
        let url = folder.appendingPathComponent("hostile.trace")
        try Data(lines.joined(separator: "\n").utf8).write(to: url)
        return url.path
    }

    @Test("stats, check, diff and decide print trace text with every control character escaped", arguments: [
        ["stats", "--per-vcpu"], ["stats", "--json", "--per-vcpu"], ["check"], ["check", "--json"],
        ["diff", "--profile", "6.12", "--profile", "upstream"],
        ["diff", "--json", "--profile", "6.12", "--profile", "upstream"],
    ])
    func reportsAreTerminalSafe(command: [String]) throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let trace = try Self.hostileTrace(in: folder)
        let run = try svmdbg([command[0], trace] + command.dropFirst())
        #expect(run.status == 0 || run.status == 1, "\(run.stderrText)")
        #expect(!run.stdout.isEmpty)
        #expect(terminalControls(in: run.stdout) == [], "stdout holds raw control characters")
        #expect(terminalControls(in: run.stderr) == [], "stderr holds raw control characters")
        if command.contains("--json") {
            _ = try JSONSerialization.jsonObject(with: Data(run.stdout))
        }
    }

    @Test("the events with escape sequences in their comm are read, not dropped, and shown escaped")
    func hostileCommIsAnEvent() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let trace = try Self.hostileTrace(in: folder)
        let run = try svmdbg(["stats", "--json", "--per-vcpu", trace])
        #expect(run.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout)) as? [String: Any])
        let lines = try #require(object["lines"] as? [String: Int])
        // 81 events of minimal.trace + kvm_frobnicate; the one non-event line is unreadable.
        #expect(lines["understood"].map { $0 + (lines["raw"] ?? 0) } == 82)
        #expect(lines["unreadable"] == 1)
        let text = try svmdbg(["stats", "--per-vcpu", trace])
        #expect(text.stdoutText.contains("sv\\x1b[2J\\x07m\\x9b31m\\x7f\\x08l\\x0dab"), "\(text.stdoutText)")
        let check = try svmdbg(["check", trace])
        #expect(check.stdoutText.contains("\\x9b31mnot\\x9b0m a trace line \\x85"), "the diagnostic quotes the line escaped: \(check.stdoutText)")
    }

    @Test("export --format md and csv write trace text escaped; jsonl escapes DEL and C1", arguments: ["md", "csv", "jsonl"])
    func exportIsTerminalSafe(format: String) throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let trace = try Self.hostileTrace(in: folder)
        let output = folder.appendingPathComponent("out.\(format)")
        let run = try svmdbg(["export", trace, "--all", "--format", format, "-o", output.path])
        #expect(run.status == 0, "\(run.stderrText)")
        #expect(terminalControls(in: run.stdout).isEmpty)
        let written = try Array(Data(contentsOf: output))
        #expect(!written.isEmpty)
        #expect(terminalControls(in: written).isEmpty, "\(format) export holds raw control characters")
    }

    @Test("error messages escape control characters in the file name")
    func errorMessagesEscapeFileNames() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("evil\u{1b}[2J\u{07}.trace").path
        let run = try svmdbg(["stats", path])
        #expect(run.status == 2)
        #expect(terminalControls(in: run.stderr).isEmpty)
        #expect(run.stderrText.contains("evil\\x1b[2J\\x07.trace: no such file or directory"))
    }

    // MARK: - Export target files

    /// Names in `folder` (the temporary files start with a dot).
    private func listing(_ folder: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
    }

    @Test("export to a directory is refused, exit 2, nothing left behind")
    func exportToDirectory() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let target = folder.appendingPathComponent("target")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: false)
        for force in [false, true] {
            let run = try svmdbg(["export", minimalPath, "--all", "-o", target.path] + (force ? ["--force"] : []))
            #expect(run.status == 2)
            #expect(run.stderrText == "svmdbg: \(target.path): is a directory\n")
            #expect(try listing(folder) == ["target"])
            #expect(try listing(target).isEmpty)
        }
    }

    @Test("export into a folder that does not exist is refused, exit 2, naming the folder")
    func exportIntoMissingFolder() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let target = folder.appendingPathComponent("no/such/folder/out.jsonl")
        let run = try svmdbg(["export", minimalPath, "--all", "-o", target.path])
        #expect(run.status == 2)
        #expect(run.stderrText == "svmdbg: \(target.path): cannot create a file in \(target.deletingLastPathComponent().path): no such file or directory\n")
        #expect(try listing(folder).isEmpty)
    }

    @Test("export into a read-only folder is refused, exit 2, nothing left behind (needs a non-root user)",
          .enabled(if: getuid() != 0, "running as root: root may write into a mode-555 folder, so there is nothing to refuse"))
    func exportIntoReadOnlyFolder() throws {
        let folder = try temporaryFolder()
        defer {
            chmod(folder.path, 0o755)
            try? FileManager.default.removeItem(at: folder)
        }
        chmod(folder.path, 0o555)
        let target = folder.appendingPathComponent("out.jsonl")
        let run = try svmdbg(["export", minimalPath, "--all", "-o", target.path])
        #expect(run.status == 2)
        #expect(run.stderrText.contains("permission denied"))
        #expect(try listing(folder).isEmpty)
    }

    @Test("a symbolic link as target: refused without --force; with --force the link is replaced, its target untouched")
    func exportOverSymlink() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let precious = folder.appendingPathComponent("precious.txt")
        try Data("precious\n".utf8).write(to: precious)
        let link = folder.appendingPathComponent("out.jsonl")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: precious)

        let refused = try svmdbg(["export", minimalPath, "--all", "-o", link.path])
        #expect(refused.status == 2)
        #expect(refused.stderrText == "svmdbg: \(link.path): exists (a symbolic link); use --force to replace it\n")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link.path) == precious.path)
        #expect(try listing(folder) == ["out.jsonl", "precious.txt"])

        let forced = try svmdbg(["export", minimalPath, "--all", "-o", link.path, "--force"])
        #expect(forced.status == 0, "\(forced.stderrText)")
        #expect(forced.stdoutText.contains(link.path))
        #expect(try String(contentsOf: precious, encoding: .utf8) == "precious\n", "never written through the link")
        let attributes = try FileManager.default.attributesOfItem(atPath: link.path)
        #expect(attributes[.type] as? FileAttributeType == .typeRegular, "the link was replaced by the export")
        #expect(try listing(folder) == ["out.jsonl", "precious.txt"])
    }

    @Test("a dangling symbolic link as target is refused without --force (it is not written through)")
    func exportOverDanglingSymlink() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let link = folder.appendingPathComponent("out.jsonl")
        let nowhere = folder.appendingPathComponent("created-through-link.txt")
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: nowhere.path)
        let run = try svmdbg(["export", minimalPath, "--all", "-o", link.path])
        #expect(run.status == 2)
        #expect(!FileManager.default.fileExists(atPath: nowhere.path))
        #expect(try listing(folder) == ["out.jsonl"])
    }

    @Test("a refused overwrite leaves the old file and no temporary file")
    func refusedOverwriteLeavesNothing() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let target = folder.appendingPathComponent("out.md")
        try Data("old\n".utf8).write(to: target)
        let run = try svmdbg(["export", minimalPath, "--all", "--format", "md", "-o", target.path])
        #expect(run.status == 2)
        #expect(run.stderrText == "svmdbg: \(target.path): exists; use --force to replace it\n")
        #expect(try String(contentsOf: target, encoding: .utf8) == "old\n")
        #expect(try listing(folder) == ["out.md"])
    }
}
