import Foundation
import TestSupport
import Testing

/// Issue 13's safety net: every output of every shipped trace and scenario is byte-identical
/// to the committed digests (`Tests/Golden/outputs.json`, recorded on main before the core
/// refactor). `SVMDBG_GOLDEN_UPDATE=1` (`scripts/golden-outputs --update`) rewrites the file
/// instead of comparing.
@Suite(.serialized) struct GoldenOutputTests {
    @Test("every output of every shipped trace and scenario equals its golden digest")
    func outputsUnchanged() throws {
        let computed = GoldenOutputs.computeAll()
        if ProcessInfo.processInfo.environment["SVMDBG_GOLDEN_UPDATE"] == "1" {
            try GoldenOutputs.write(computed)
            return
        }
        let golden = try GoldenOutputs.read()
        let differences = GoldenOutputs.compare(computed, with: golden)
        if let report = ProcessInfo.processInfo.environment["SVMDBG_GOLDEN_REPORT"] {
            // Every difference, one a line, for reviewing a change that alters outputs on purpose.
            try differences.map(\.description).joined(separator: "\n").write(toFile: report, atomically: true, encoding: .utf8)
        }
        #expect(differences.isEmpty, "\(differences.count) outputs differ, first: \(differences.prefix(20).map(\.description))")
        // Never a silent success: the comparison saw real outputs of real files.
        let outputs = computed.values.reduce(0) { $0 + $1.count }
        #expect(computed.count >= 500, "only \(computed.count) files")
        #expect(outputs >= 5_000, "only \(outputs) outputs")
    }

    @Test("the file set covers every .trace capture, the scenarios and a sample of the other forms")
    func coverage() {
        let traces = GoldenOutputs.traceFiles()
        #expect(traces.contains("traces/6.12/minimal.trace"))
        #expect(traces.contains("traces/6.12/cpuid-toggle.perf"))
        #expect(traces.contains("traces/6.12/cpuid-toggle.dat"))
        #expect(traces.contains { $0.hasPrefix("traces/lab-kok/") && $0.hasSuffix(".trace.xz") })
        #expect(traces.contains { $0.hasPrefix("traces/lab/") && $0.hasSuffix(".report-noplugin") })
        #expect(traces.contains { $0.hasPrefix("traces/capture/") })
        #expect(traces.contains { $0.hasPrefix("traces/excerpts/") })
        let scenarios = GoldenOutputs.scenarioFiles()
        #expect(scenarios.contains("traces/scenarios/msr-out-of-range.json"))
        #expect(scenarios.contains { $0.hasPrefix("traces/scenarios/kvm-tests/") })
    }

    @Test("a one-byte change of one output fails the comparison")
    func changedOutputFails() {
        let path = "traces/6.12/minimal.trace"
        let outputs = GoldenOutputs.outputs(ofTrace: path)
        let original = try! #require(outputs["check --json"])
        #expect(original.contains("\"mismatch\""))
        let golden: GoldenOutputs.Digests = [path: outputs.mapValues(GoldenOutputs.digest)]
        #expect(GoldenOutputs.compare(golden, with: golden).isEmpty)
        // Flip one byte: the last digit of the first number.
        var bytes = Array(original.utf8)
        let digit = try! #require(bytes.lastIndex { (0x30...0x39).contains($0) })
        bytes[digit] = bytes[digit] == 0x30 ? 0x31 : 0x30
        var changed = outputs
        changed["check --json"] = String(decoding: bytes, as: UTF8.self)
        let differences = GoldenOutputs.compare([path: changed.mapValues(GoldenOutputs.digest)], with: golden)
        #expect(differences == [GoldenOutputs.Difference(file: path, command: "check --json", problem: "output changed")])
        // A lost output and a new one fail too.
        var fewer = golden[path] ?? [:]
        fewer.removeValue(forKey: "stats --json --per-vcpu")
        #expect(GoldenOutputs.compare([path: fewer], with: golden).map(\.problem) == ["output no longer produced"])
        #expect(GoldenOutputs.compare(golden, with: [path: fewer]).map(\.problem) == ["new output (no golden digest)"])
    }

    @Test("SHA-256 matches the FIPS 180-4 examples")
    func sha256() {
        #expect(SHA256.hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }
}
