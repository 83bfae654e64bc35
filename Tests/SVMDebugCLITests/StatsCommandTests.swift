import Foundation
import TestSupport
import Testing

@Suite struct StatsCommandTests {
    @Test("stats --json on a real 6.12 trace reports events, lines and the exit table")
    func jsonOnMinimalTrace() throws {
        let path = RepositoryPaths.trace("6.12/minimal.trace").path
        let result = try runSVMDebug(["stats", "--json", path])
        #expect(result.status == 0)
        #expect(result.stderr.isEmpty)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let events = try #require(object["events"] as? [String: Int])
        // grep -c ': kvm_exit: ' traces/6.12/minimal.trace → 17, ': kvm_nested_vmexit: ' → 2
        #expect(events["kvm_exit"] == 17)
        #expect(events["kvm_entry"] == 17)
        #expect(events["kvm_nested_vmexit"] == 2)
        let lines = try #require(object["lines"] as? [String: Int])
        #expect(lines["read"] == 93)
        #expect(lines["unreadable"] == 0)
        #expect(lines["metadata"] == 12)
        #expect(lines["understood"].map { $0 + (lines["raw"] ?? 0) } == 81)
        let exits = try #require(object["exits"] as? [String: Any])
        #expect(exits["total"] as? Int == 17)
        #expect(exits["l2"] as? Int == 2)
        #expect(exits["l1"] as? Int == 15)
        let rows = try #require(exits["rows"] as? [[String: Any]])
        let l2hlt = try #require(rows.first { $0["level"] as? String == "L2" && $0["reason"] as? String == "hlt" })
        #expect(l2hlt["code"] as? String == "0x78")
        #expect(l2hlt["count"] as? Int == 1)
        // minimal.trace lines 73 and 76: kvm_exit hlt at 6.295116, kvm_entry at 6.295744 → 628 µs.
        #expect(l2hlt["min"] as? Int == 628_000)
    }

    @Test("stats on a missing file exits with 2 and one line on stderr")
    func missingFile() throws {
        let result = try runSVMDebug(["stats", "/nonexistent/run.trace"])
        #expect(result.status == 2)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr == "svmdbg: /nonexistent/run.trace: no such file or directory\n")
    }

    @Test("stats --per-vcpu prints a table per vCPU thread", arguments: ["6.12/minimal.report", "6.12/minimal.perf"])
    func perVCPU(relativePath: String) throws {
        let result = try runSVMDebug(["stats", "--per-vcpu", RepositoryPaths.trace(relativePath).path])
        #expect(result.status == 0)
        #expect(result.stdout.contains("vCPU 0 — pid 401 (svmlab)"))
    }
}

@Suite struct StatsTextTests {
    @Test("stats prints line accounting, event counts and the exit table as text")
    func textOutput() throws {
        let path = RepositoryPaths.trace("6.12/minimal.trace").path
        let process = Process()
        process.executableURL = RepositoryPaths.svmdbgExecutable
        process.arguments = ["stats", path]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.first == "Trace: \(path) (tracefs)")
        #expect(lines.contains("Lines: 93 read, 75 understood, 6 raw, 0 unreadable, 12 metadata"))
        #expect(lines.contains("Diagnostics: 0"))
        #expect(lines.contains { $0.hasPrefix("  kvm_exit ") && $0.hasSuffix(" 17") })
        #expect(lines.contains("L2      hlt           0x78               1    5.88%    3.84%     628.000     628.000     628.000           -    0.00%        0"))
        #expect(lines.contains("  L1 15, L2 2"))
    }
}

@Suite struct StatsStandardInputTests {
    @Test("stats - reads the trace from standard input, and --format applies to it")
    func standardInput() throws {
        for format in ["auto", "perf"] {
            let process = Process()
            process.executableURL = RepositoryPaths.svmdbgExecutable
            process.arguments = ["stats", "--json", "--format", format, "-"]
            process.standardInput = try FileHandle(forReadingFrom: RepositoryPaths.trace("6.12/minimal.perf"))
            let out = Pipe()
            process.standardOutput = out
            try process.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
            let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            #expect(object["trace"] as? String == "-")
            #expect(object["format"] as? String == "perf")
            #expect((object["events"] as? [String: Int])?["kvm_exit"] == 17)
        }
    }
}
