import Foundation
import NestedSVM
import Replay
import TestSupport
import Testing

/// `lab check` as a library: discovery, profile and host from the manifest, the L1-log
/// comparison, and statuses, on the shipped captures and on modified copies of them.
///
/// Every form of every shipped capture is replayed by ``ShippedTracesReplayTests`` (which
/// also judges each with ``LabFormReport``); here the folders are checked through their
/// `.trace` form only.
@Suite struct LabCheckTests {
    /// A temporary folder holding copies of shipped scenario files, removed by the caller.
    struct Workspace {
        let url: URL

        init(_ name: String) throws {
            url = FileManager.default.temporaryDirectory
                .appendingPathComponent("svmdbg-labcheck-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        }

        func copy(_ relative: String, as name: String? = nil) throws {
            let source = RepositoryPaths.trace(relative)
            try FileManager.default.copyItem(at: source, to: url.appendingPathComponent(name ?? source.lastPathComponent))
        }

        func write(_ name: String, _ text: String) throws {
            try Data(text.utf8).write(to: url.appendingPathComponent(name))
        }

        func remove() { try? FileManager.default.removeItem(at: url) }
    }

    @Test("every scenario of a shipped folder is ok or explained, with the folder's profile and host",
          arguments: CaptureHosts.folders)
    func shippedFolder(folder: CaptureHosts.Folder) throws {
        let report = try LabCheck.run(
            directory: RepositoryPaths.trace(folder.name).path, options: LabCheckOptions(forms: [.trace]))
        #expect(report.scenarios.count >= 24)
        let documented = try HostFacts(parsing: folder.host, source: "--host")
        for scenario in report.scenarios {
            #expect(scenario.status != .fail, "\(scenario.scenario): \(scenario.findings.map(\.text)) \(scenario.forms.flatMap(\.findings).map(\.text))")
            #expect(scenario.profile == folder.profile.name)
            #expect(scenario.profileSource == "manifest kernel")
            #expect(scenario.host.svmeAddrChk?.value == documented.svmeAddrChk?.value)
            #expect(scenario.host.vgif?.value == documented.vgif?.value)
            #expect(scenario.host.decodeAssists?.value == false)
            #expect(scenario.host.svmeAddrChk?.source == "manifest l0.svme_addr_chk")
            #expect(scenario.forms.map(\.form) == [.trace])
            #expect(scenario.forms.allSatisfy { $0.l1Log?.isEqual == true && $0.mismatch == 0 })
        }
        let summary = report.summary
        #expect(summary.ok + summary.explained == summary.scenarios)
        #expect(summary.l1LogEqual == summary.forms)
    }

    /// `traces/lab/`: the six kernel × CPU folders `lab/regenerate` wrote with our own lab,
    /// every trace form. This is the issue's "lab check over them reports every exit
    /// matching or explained".
    @Test("lab check over traces/lab: every scenario of every folder and form is ok or explained, with no mismatch",
          arguments: ["6.1-zen3", "6.1-naples", "6.1-no-npt", "6.12-zen3", "6.12-naples", "6.12-no-npt"])
    func regeneratedLabFolder(folder: String) throws {
        let report = try LabCheck.run(directory: RepositoryPaths.trace("lab/" + folder).path, options: LabCheckOptions())
        #expect(report.scenarios.count == 57)
        for scenario in report.scenarios {
            #expect(scenario.status != .fail, "\(scenario.scenario): \(scenario.findings.map(\.text)) \(scenario.forms.flatMap(\.findings).map(\.text))")
            #expect(scenario.profile == (folder.hasPrefix("6.12") ? "6.12" : "6.1"))
            #expect(scenario.forms.count == 6, "\(scenario.scenario): \(scenario.forms.map(\.form))")
            #expect(scenario.forms.allSatisfy { $0.mismatch == 0 && $0.l1Log?.isEqual == true })
            if scenario.status == .explained { #expect(scenario.scenario == "vmmcall" && folder.hasPrefix("6.1-")) }
        }
    }

    @Test("6.1's capped vmmcall livelock is explained by the gap in its trace, the others are ok")
    func cappedLivelock() throws {
        let report = try LabCheck.run(directory: RepositoryPaths.trace("6.1").path, options: LabCheckOptions(forms: [.trace]))
        let vmmcall = try #require(report.scenarios.first { $0.scenario == "vmmcall" })
        #expect(vmmcall.status == .explained)
        #expect(vmmcall.result == "timeout")
        #expect(vmmcall.findings.map(\.text) == ["L1 did not finish (observed.result = timeout): the trace is capped (trace gap at line 8001)"])
        #expect(vmmcall.forms.first?.gapLines == [8001])
        #expect(report.scenarios.filter { $0.scenario != "vmmcall" }.allSatisfy { $0.status == .ok })
    }

    @Test("the whole 6.1 vmmcall livelock (.dat, no gap) is explained by the loop it ends in")
    func endingLoop() throws {
        let workspace = try Workspace("loop")
        defer { workspace.remove() }
        try workspace.copy("6.1/vmmcall.json")
        try workspace.copy("6.1/vmmcall.dat")
        let report = try LabCheck.run(directory: workspace.url.path)
        let scenario = try #require(report.scenarios.first)
        #expect(scenario.status == .explained)
        #expect(scenario.forms.first?.gapLines == [])
        #expect(scenario.findings.map(\.text) == [
            "L1 did not finish (observed.result = timeout): the dat trace ends in a loop (196 of its last 200 exits are "
                + "L2 UD excp (0x046) at rip 0x10536, L0 kept it (kvm_emulate_insn); none reached L1)",
        ])
    }

    @Test("an L1 that did not finish fails when neither run.json nor the trace explains it")
    func unexplainedTimeout() throws {
        let workspace = try Workspace("unfinished")
        defer { workspace.remove() }
        try workspace.copy("6.12/minimal.trace")
        let text = try String(contentsOf: RepositoryPaths.trace("6.12/minimal.json"), encoding: .utf8)
        let changed = text.replacingOccurrences(of: #""result": "done""#, with: #""result": "timeout""#)
        #expect(changed != text)
        try workspace.write("minimal.json", changed)
        let report = try LabCheck.run(directory: workspace.url.path)
        let scenario = try #require(report.scenarios.first)
        #expect(scenario.status == .fail)
        #expect(scenario.findings.map(\.text) == [
            "L1 did not finish (observed.result = timeout) and neither run.json nor the trace (a gap, an ending loop) explains it",
        ])
        #expect(scenario.forms.first?.status == .ok)
    }

    @Test("a manifest with one logged exit code changed fails, naming the first divergence")
    func mutatedManifest() throws {
        let workspace = try Workspace("mutated")
        defer { workspace.remove() }
        try workspace.copy("6.12/msr-prot.trace")
        let original = try String(contentsOf: RepositoryPaths.trace("6.12/msr-prot.json"), encoding: .utf8)
        let manifest = try #require(try LabManifest.read(url: RepositoryPaths.trace("6.12/msr-prot.json")))
        #expect(manifest.l1Log.count >= 2)
        // Change the second logged #VMEXIT's exit code to HLT (0x78).
        var object = try #require(try JSONSerialization.jsonObject(with: Data(original.utf8)) as? [String: Any])
        var observed = try #require(object["observed"] as? [String: Any])
        var events = try #require(observed["events"] as? [[String: Any]])
        let target = try #require(events.indices.filter { events[$0]["kind"] as? String == "l1_saw_vmexit" }.dropFirst().first)
        events[target]["exit_code"] = "0x78"
        observed["events"] = events
        object["observed"] = observed
        try Data(JSONSerialization.data(withJSONObject: object)).write(to: workspace.url.appendingPathComponent("msr-prot.json"))

        let report = try LabCheck.run(directory: workspace.url.path)
        let scenario = try #require(report.scenarios.first)
        #expect(report.scenarios.count == 1)
        #expect(scenario.scenario == "msr-prot")
        #expect(scenario.status == .fail)
        let form = try #require(scenario.forms.first)
        let log = try #require(form.l1Log)
        let divergence = try #require(log.firstDivergence)
        #expect(divergence.index == 1)
        #expect(divergence.expected?.exitCode == 0x78)
        #expect(divergence.recorded?.exitCode == manifest.l1Log[1].exitCode)
        #expect(divergence.line == log.recorded[1].line)
        let failure = try #require(form.findings.first { $0.status == .fail })
        #expect(failure.text.contains("differs at #VMEXIT 2"))
        #expect(failure.text.contains("L1 logged hlt (0x078)"))
        #expect(failure.text.contains("trace line \(log.recorded[1].line) shows"))
    }

    @Test("a run.json timeout fails the scenario with its reason; livelock-capped is explained")
    func runStatuses() throws {
        let workspace = try Workspace("run")
        defer { workspace.remove() }
        for name in ["minimal", "cr-access"] {
            try workspace.copy("6.12/\(name).json")
            try workspace.copy("6.12/\(name).trace")
        }
        try workspace.write("run.json", """
            {"kernel": "6.12", "kernel_release": "6.12.117+deb12-amd64", "qemu_cpu": "EPYC,+svm,+npt", "cpu_preset": "zen3",
             "scenarios": [{"name": "minimal", "status": "timeout", "seconds": 600, "note": "qemu did not exit"},
                           {"name": "cr-access", "status": "livelock-capped", "seconds": 31.5, "note": ""},
                           {"name": "vmmcall", "status": "failed", "seconds": 2, "note": "boot failed"}]}
            """)
        let report = try LabCheck.run(directory: workspace.url.path)
        let byName = Dictionary(uniqueKeysWithValues: report.scenarios.map { ($0.scenario, $0) })
        let minimal = try #require(byName["minimal"])
        #expect(minimal.status == .fail)
        #expect(minimal.findings.map(\.text) == ["run.json: timeout after 600 s (qemu did not exit)"])
        #expect(minimal.forms.first?.status == .ok)
        let capped = try #require(byName["cr-access"])
        #expect(capped.status == .explained)
        #expect(capped.findings.first?.text.hasPrefix("run.json: livelock-capped after 31.5 s") == true)
        let failed = try #require(byName["vmmcall"])
        #expect(failed.status == .fail)
        #expect(failed.forms.isEmpty)
        #expect(failed.findings.map(\.text) == ["no manifest (vmmcall.json)", "run.json: failed after 2 s (boot failed)"])
        #expect(report.status == .fail)
    }

    @Test("an L1 log the trace stops short of is explained by the gap that hides the rest")
    func gapExplainsDivergence() throws {
        let workspace = try Workspace("gap")
        defer { workspace.remove() }
        try workspace.copy("6.12/msr-prot.json")
        let lines = try String(contentsOf: RepositoryPaths.trace("6.12/msr-prot.trace"), encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: false)
        // Keep up to the line after the first #VMEXIT injected into L1, then say the rest is omitted.
        let inject = try #require(lines.firstIndex { $0.contains("kvm_nested_vmexit_inject") })
        let kept = lines[...(inject + 1)] + ["# [svmlab] \(lines.count - inject - 2) lines omitted here (test)"]
        try workspace.write("msr-prot.trace", kept.joined(separator: "\n") + "\n")
        let report = try LabCheck.run(directory: workspace.url.path)
        let form = try #require(report.scenarios.first?.forms.first)
        #expect(form.gapLines == [inject + 3])
        #expect(form.l1Log?.isEqual == false)
        #expect(form.l1Log?.firstDivergence?.index == 1)
        #expect(form.l1LogExplainedBy == "the trace has a gap at line \(inject + 3): #VMEXITs after it may be missing")
        #expect(form.status == .explained)
        #expect(report.scenarios.first?.status == .explained)
    }

    @Test("an L1 log entry whose exit the trace leaves open is explained by the missing outcome")
    func openExitExplainsDivergence() throws {
        let workspace = try Workspace("open")
        defer { workspace.remove() }
        try workspace.copy("6.12/msr-prot.json")
        let lines = try String(contentsOf: RepositoryPaths.trace("6.12/msr-prot.trace"), encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: false)
        // End the trace right after the kvm_exit (and kvm_nested_vmexit) of the last reflected exit.
        let inject = try #require(lines.lastIndex { $0.contains("kvm_nested_vmexit_inject") })
        let exit = try #require(lines[..<inject].lastIndex { $0.contains(" kvm_exit:") })
        try workspace.write("msr-prot.trace", lines[...exit].joined(separator: "\n") + "\n")
        let report = try LabCheck.run(directory: workspace.url.path)
        let form = try #require(report.scenarios.first?.forms.first)
        #expect(form.undetermined >= 1)
        #expect(form.l1Log?.firstDivergence?.recorded == nil)
        #expect(form.l1LogExplainedBy?.hasPrefix("the trace does not show the outcome of the") == true)
        #expect(form.l1LogExplainedBy?.hasSuffix("exit at line \(exit + 1) (no kvm_entry follows)") == true)
        #expect(form.status == .explained)
    }

    @Test("a missing or empty directory and a kernel with no profile are input errors")
    func inputErrors() throws {
        #expect(throws: LabInputError(file: "/nonexistent/svmdbg-lab", problem: "no such directory")) {
            try LabCheck.run(directory: "/nonexistent/svmdbg-lab")
        }
        let workspace = try Workspace("errors")
        defer { workspace.remove() }
        #expect(throws: LabInputError(file: workspace.url.path, problem: "no lab manifests (NAME.json with \"observed\") here or below")) {
            try LabCheck.run(directory: workspace.url.path)
        }
        let text = try String(contentsOf: RepositoryPaths.trace("6.12/minimal.json"), encoding: .utf8)
            .replacingOccurrences(of: "\"6.12.117+deb12-amd64\"", with: "\"5.10.0-30-amd64\"")
        try FileManager.default.createDirectory(at: workspace.url.appendingPathComponent("old"), withIntermediateDirectories: true)
        try workspace.write("old/minimal.json", text)
        try workspace.copy("6.12/minimal.trace", as: "old/minimal.trace")
        #expect(throws: LabInputError(
            file: workspace.url.path + "/old/minimal.json",
            problem: "kernel '5.10.0-30-amd64' matches no profile (known: 6.1, 6.12, upstream); give --profile")) {
            try LabCheck.run(directory: workspace.url.path)
        }
        let report = try LabCheck.run(directory: workspace.url.path, options: LabCheckOptions(profile: .v6_12))
        #expect(report.scenarios.map(\.folder) == [workspace.url.path + "/old"])
        #expect(report.scenarios.first?.profileSource == "--profile")
        #expect(report.status == .ok)
        try workspace.write("run.json", "{\"scenarios\": 3}")
        #expect(throws: LabInputError(file: workspace.url.path + "/run.json", problem: "no \"scenarios\" array")) {
            try LabCheck.run(directory: workspace.url.path)
        }
    }

    @Test("a manifest that is not JSON fails when its traces sit next to it; other JSON files are skipped")
    func brokenManifest() throws {
        let workspace = try Workspace("broken")
        defer { workspace.remove() }
        try workspace.copy("6.12/minimal.json")
        try workspace.copy("6.12/minimal.trace")
        try workspace.copy("6.12/cr-access.trace")
        try workspace.write("cr-access.json", "{\"scenario\": \"cr-access\", \"observed\": {")
        try workspace.write("notes.json", "not json either")
        try workspace.copy("scenarios/msr-in-range-bit-set.json")
        let report = try LabCheck.run(directory: workspace.url.path)
        #expect(report.scenarios.map(\.scenario) == ["cr-access", "minimal"])
        let broken = try #require(report.scenarios.first)
        #expect(broken.status == .fail)
        #expect(broken.forms.isEmpty)
        #expect(broken.findings.map(\.text) == ["manifest unreadable: not valid JSON"])
        #expect(report.scenarios.last?.status == .ok)
    }

    @Test("--host overrides the manifest's facts and keeps the rest", arguments: [true, false])
    func hostOverride(svmeAddrChk: Bool) throws {
        let manifest = try #require(try LabManifest.read(url: RepositoryPaths.trace("6.12-naples/minimal.json")))
        let options = try #require(LabCheck.replayOptions(
            for: manifest, options: LabCheckOptions(host: HostFacts(svmeAddrChk: Known(svmeAddrChk, source: "--host")))))
        #expect(options.host.svmeAddrChk == Known(svmeAddrChk, source: "--host"))
        #expect(options.host.vgif == Known(false, from: .manifest(key: "l0.kvm_amd_params.vgif")))
        #expect(options.host.decodeAssists == Known(false, from: .manifest(key: "l0.host_cpuid_8000000a.edx bit 7")))
        #expect(options.guest.maxPhysAddr == Known(40, from: .manifest(key: "l1.guest_cpuid.maxphyaddr")))
        // Typed, with the words it always had.
        #expect(options.host.vgif?.source == "manifest l0.kvm_amd_params.vgif")
        #expect(options.guest.maxPhysAddr?.source == "manifest l1.guest_cpuid.maxphyaddr")
        #expect(options.profile == .v6_12)
    }

    @Test("a kernel release names its profile by major.minor", arguments: [
        ("6.1.0-56-amd64", "6.1"), ("6.12.117+deb12-amd64", "6.12"), ("6.12", "6.12"), ("6.1", "6.1"),
        ("6.18.0-rc1", nil), ("5.10.0-30-amd64", nil), ("6.120.1", nil), ("linux", nil),
    ] as [(String, String?)])
    func profileOfKernel(kernel: String, profile: String?) throws {
        let json = #"{"scenario": "x", "kernel": "\#(kernel)", "observed": {"events": []}}"#
        let manifest = try #require(try LabManifest.parse(data: Data(json.utf8), file: "x.json"))
        #expect(manifest.profile?.name == profile)
    }

    @Test("the L1 log comparison finds the first place the sequences part", arguments: [
        ([0x7c, 0x78], [0x7c, 0x78], nil), ([0x7c, 0x78], [0x7c, 0x4d], 1), ([0x7c], [0x7c, 0x78], 1),
        ([0x7c, 0x78], [0x7c], 1), ([], [0x78], 0), ([], [], nil), ([0xffff_ffff], [0xffff_ffff], nil),
    ] as [([UInt32], [UInt32], Int?)])
    func comparison(logged: [UInt32], traced: [UInt32], divergence: Int?) {
        let comparison = L1LogComparison(
            expected: logged.enumerated().map { L1LogEntry(manifestIndex: $0.offset, exitCode: $0.element, name: nil, l2RIP: nil) },
            recorded: traced.enumerated().map {
                TraceReflection(exit: $0.offset, line: 10 * $0.offset + 1, exitCode: $0.element, name: nil,
                                origin: .hardwareExit, outcome: .reflectToL1)
            })
        #expect(comparison.firstDivergence?.index == divergence)
        #expect(comparison.isEqual == (divergence == nil))
    }

    @Test("the manifest's VMEXIT_INVALID (64-bit -1) and the l1-vmrun notes enter the log")
    func logEntries() throws {
        let invalid = try #require(try LabManifest.read(url: RepositoryPaths.trace("6.12/vmcb12-invalid.json")))
        #expect(invalid.l1Log.map(\.exitCode) == [0xffff_ffff, 0xffff_ffff, 0xffff_ffff, 0xffff_ffff, 0x78])
        #expect(invalid.l1Log.first?.name == "err(VMEXIT_INVALID)")
        let vmrun = try #require(try LabManifest.read(url: RepositoryPaths.trace("6.12/l1-vmrun-misaligned.json")))
        #expect(vmrun.l1Log == [L1LogEntry(manifestIndex: 3, exitCode: 0x78, name: "hlt", l2RIP: nil)])
        #expect(try LabManifest.parse(data: Data(#"{"description": "a decide scenario"}"#.utf8), file: "s.json") == nil)
    }
}
