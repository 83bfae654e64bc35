import Foundation
import NestedSVM
import Replay
import TestSupport
import TraceKit
import Testing

/// `traces/lab-kok/`: KVM on KVM (`lab/run --l1 kvm`, `lab/regenerate-kok`). L1 is a real
/// KVM running kokvmm's L2 programs; L1's own `kvm:*` trace is the L1 view `lab check`
/// compares L0's reflections with, per L1 vCPU and field by field.
@Suite struct KoKLabTests {
    /// The variants the issue asks for (L0 kernel × CPU model); more may be shipped.
    static let required = ["6.1-zen3", "6.1-naples", "6.12-zen3", "6.12-naples"]
    /// Scenarios whose L2 never runs to its end on real KVM: L0 fails L1's VMRUN, L1's KVM
    /// reports KVM_EXIT_FAIL_ENTRY to kokvmm (seen in its .vmm.log as exit reason 9).
    static let runEndsInFailedEntry: Set<String> = ["6.12-zen3-l1-6.12-l1cpu-npt/kok-init-sipi"]

    static var folders: [String] {
        let root = RepositoryPaths.trace("lab-kok").path
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return names.filter { !$0.hasPrefix(".") && !$0.hasSuffix(".new") && !$0.hasSuffix(".retry") }.sorted()  // lab/regenerate-kok at work
    }

    @Test("the four required variants are shipped")
    func requiredVariants() {
        for name in Self.required { #expect(Self.folders.contains(name), "traces/lab-kok/\(name) is missing") }
    }

    @Test("every form of every scenario: no mismatch, at most 2% undetermined, L0's reflections equal L1's own trace",
          arguments: folders)
    func variant(folder: String) throws {
        let report = try LabCheck.run(directory: RepositoryPaths.trace("lab-kok/" + folder).path, options: LabCheckOptions())
        #expect(report.scenarios.count >= 7)
        for scenario in report.scenarios {
            let what = "\(folder)/\(scenario.scenario)"
            if Self.runEndsInFailedEntry.contains(what) {
                // The run "fails" because L1's KVM reports KVM_EXIT_FAIL_ENTRY to kokvmm: L0 failed
                // L1's VMRUN (!load_pdptrs, a check the architecture lacks; ArchitecturalDiffTests).
                #expect(scenario.status == .fail)
                #expect(scenario.findings.allSatisfy { $0.text.contains("kokvmm result error") }, "\(what): \(scenario.findings.map(\.text))")
            } else {
                #expect(scenario.status == .ok, "\(what): \(scenario.findings.map(\.text)) \(scenario.forms.flatMap(\.findings).map(\.text))")
            }
            #expect(scenario.profile == (folder.hasPrefix("6.12") ? "6.12" : "6.1"))
            #expect(scenario.forms.count == 6, "\(what): \(scenario.forms.map(\.form))")
            for form in scenario.forms {
                #expect(form.mismatch == 0, "\(what) \(form.form.rawValue): \(form.mismatches.map(\.text))")
                #expect(Double(form.undetermined) <= 0.02 * Double(form.exits), "\(what) \(form.form.rawValue)")
                let l1 = try #require(form.l1Trace, "\(what) \(form.form.rawValue): no L1 trace comparison")
                #expect(l1.isEqual, "\(what) \(form.form.rawValue): \(l1.summary)")
                #expect(l1.l0Count > 0 && l1.l0Count == l1.l1Count)
            }
        }
    }

    /// A temporary copy of one shipped scenario.
    static func copy(_ folder: String, _ scenario: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("svmdbg-kok-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        let source = RepositoryPaths.trace("lab-kok/" + folder)
        for name in try FileManager.default.contentsOfDirectory(atPath: source.path)
        where name.hasPrefix(scenario + ".") && (name.contains(".trace") || name.hasSuffix(".json")) {
            try FileManager.default.copyItem(at: source.appendingPathComponent(name), to: url.appendingPathComponent(name))
        }
        return url
    }

    /// L1's trace of the copy, decompressed, for editing.
    static func l1Text(_ url: URL, _ scenario: String) throws -> (path: URL, text: String) {
        let plain = url.appendingPathComponent(scenario + ".l1.trace")
        let compressed = url.appendingPathComponent(scenario + ".l1.trace.xz")
        if FileManager.default.fileExists(atPath: compressed.path) {
            let trace = try TraceLoader.load(path: compressed.path)
            let text = (0..<trace.count).map { trace.rawText(of: EventNumber(rawValue: $0)) }.joined(separator: "\n") + "\n"
            try FileManager.default.removeItem(at: compressed)
            return (plain, text)
        }
        return (plain, try String(contentsOf: plain, encoding: .utf8))
    }

    @Test("a changed exit_info_1 in L1's own trace makes the comparison fail at that exit")
    func flippedField() throws {
        let url = try Self.copy("6.12-zen3", "kok-cpuid-msr")
        defer { try? FileManager.default.removeItem(at: url) }
        let (path, original) = try Self.l1Text(url, "kok-cpuid-msr")
        var text = original
        let range = try #require(text.range(of: "reason npf"))
        let line = text[range.lowerBound...].prefix { $0 != "\n" }
        let info1 = try #require(line.range(of: "info1 0x"))
        text.replaceSubrange(info1.upperBound..<text.index(info1.upperBound, offsetBy: 1), with: "f")
        try Data(text.utf8).write(to: path)
        let report = try LabCheck.run(directory: url.path, options: LabCheckOptions(forms: [.trace]))
        let form = try #require(report.scenarios.first?.forms.first)
        let l1 = try #require(form.l1Trace)
        #expect(!l1.isEqual)
        #expect(l1.summary.contains("exit_info_1"))
        #expect(form.status == .fail)
    }

    @Test("a missing L1 trace fails the scenario with the file named")
    func missingL1Trace() throws {
        let url = try Self.copy("6.12-zen3", "kok-cpuid-msr")
        defer { try? FileManager.default.removeItem(at: url) }
        for name in try FileManager.default.contentsOfDirectory(atPath: url.path) where name.contains(".l1.trace") {
            try FileManager.default.removeItem(at: url.appendingPathComponent(name))
        }
        let report = try LabCheck.run(directory: url.path, options: LabCheckOptions(forms: [.trace]))
        let form = try #require(report.scenarios.first?.forms.first)
        #expect(form.status == .fail)
        #expect(form.findings.contains { $0.text.contains("kok-cpuid-msr.l1.trace") && $0.text.contains("missing") })
    }

    @Test("a wrong host fact is not silently accepted: npt=0 on a KVM-on-KVM trace of an NPT host gives mismatches")
    func wrongFact() throws {
        let url = RepositoryPaths.trace("lab-kok/6.12-zen3").path
        let right = try LabCheck.run(directory: url, options: LabCheckOptions(forms: [.trace]))
        let host = try HostFacts(parsing: "npt=0", source: "--host")
        let wrong = try LabCheck.run(directory: url, options: LabCheckOptions(host: host, forms: [.trace]))
        #expect(right.summary.mismatch == 0)
        #expect(wrong.summary.mismatch > 0)
        #expect(wrong.status == .fail)
    }

    @Test("QEMU vCPU thread names give the L1 CPU number")
    func threadNames() {
        #expect(L1TraceComparison.vcpuNumber(ofThread: "CPU 1/KVM") == 1)
        #expect(L1TraceComparison.vcpuNumber(ofThread: "CPU 12/KVM") == 12)
        #expect(L1TraceComparison.vcpuNumber(ofThread: "qemu-system-x86") == nil)
        #expect(L1TraceComparison.vcpuNumber(ofThread: "CPU x/KVM") == nil)
    }
}
