import Foundation
import Testing
import TestSupport
@testable import TraceKit

/// Every text capture under `traces/`, relative to it.
let shippedTextTraces: [String] = {
    let textExtensions = [".trace", ".pipe", ".report", ".report-noplugin", ".perf"]
    var files: [String] = []
    let root = RepositoryPaths.traces
    for folder in ["6.1", "6.12", "6.12-naples", "layouts"] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(folder).path)) ?? []
        for name in names.sorted() {
            let base = name.hasSuffix(".xz") ? String(name.dropLast(3)) : name
            if textExtensions.contains(where: { base.hasSuffix($0) }) || (folder == "layouts" && base.hasSuffix(".txt")) {
                files.append("\(folder)/\(name)")
            }
        }
    }
    return files
}()

/// The text of a shipped file, decompressed with the `xz` tool (independently of TraceKit).
func independentText(_ relativePath: String) throws -> String {
    let url = RepositoryPaths.trace(relativePath)
    guard relativePath.hasSuffix(".xz") else { return try String(contentsOf: url, encoding: .utf8) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/xz")
    process.arguments = ["-dc", url.path]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
}

/// Counts `: <name>:` (and perf's `kvm:<name>:`) per event name, the way `grep -c` would.
func grepEventCounts(_ text: String) -> [String: Int] {
    var counts: [String: Int] = [:]
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
        let candidates = [line.range(of: "kvm:kvm_"), line.range(of: ": kvm_")].compactMap { $0 }
        guard let first = candidates.min(by: { $0.lowerBound < $1.lowerBound }) else { continue }
        let nameStart = line.index(first.upperBound, offsetBy: -4)
        guard let colon = line[nameStart...].firstIndex(of: ":") else { continue }
        let name = line[nameStart..<colon]
        guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else { continue }
        counts[String(name), default: 0] += 1
    }
    return counts
}

@Suite struct ShippedTracesTests {
    @Test("the repository ships text captures of every layout")
    func filesFound() {
        #expect(shippedTextTraces.count > 100)
        #expect(shippedTextTraces.contains("6.1/vmmcall.trace.xz"))
        #expect(shippedTextTraces.contains("layouts/real.perf-script.head200.txt"))
    }

    @Test("every shipped capture loads with the event counts grep finds", arguments: shippedTextTraces)
    func eventCountsMatchGrep(relativePath: String) throws {
        let trace = try TraceLoader.load(path: RepositoryPaths.trace(relativePath).path)
        let expected = grepEventCounts(try independentText(relativePath))
        #expect(!expected.isEmpty)
        #expect(trace.eventNameCounts == expected)
        let accounting = trace.lineAccounting
        #expect(accounting.read == accounting.understood + accounting.raw + accounting.unreadable + accounting.metadata)
        #expect(accounting.events == trace.count)
        let base = relativePath.hasSuffix(".xz") ? String(relativePath.dropLast(3)) : relativePath
        if base.hasSuffix(".trace") || base.hasSuffix(".pipe") || base.hasSuffix("tracefs.head200.txt") {
            #expect(accounting.unreadable == 0, "\(trace.diagnostics.prefix(3))")
            #expect(trace.format == .tracefs)
        }
        if base.hasSuffix(".perf") || base.contains("perf-script") { #expect(trace.format == .perfScript) }
        if base.hasSuffix(".report") || base.hasSuffix(".report-noplugin") || base.contains(".report.") {
            #expect(trace.format == .traceCmdReport)
        }
        // Every event svmdbg models decodes to a typed payload in the shipped captures.
        for name in ["kvm_exit", "kvm_entry", "kvm_nested_vmexit", "kvm_nested_vmenter", "kvm_nested_vmexit_inject",
                     "kvm_nested_intercepts", "kvm_inj_exception", "kvm_msr", "kvm_pio", "kvm_emulate_insn",
                     "kvm_page_fault", "kvm_userspace_exit"] {
            #expect(trace.eventNameCounts[name] == nil || rawCount(trace, name) == 0, "\(name) kept raw")
        }
    }

    private func rawCount(_ trace: LoadedTrace, _ name: String) -> Int {
        trace.index.filter { trace.names[Int($0.nameID)] == name && !$0.isTyped }.count
    }
}
