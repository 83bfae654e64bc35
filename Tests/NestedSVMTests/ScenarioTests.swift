import Foundation
import NestedSVM
import TestSupport
import Testing

@Suite struct ScenarioTests {
    static let scenarioFiles: [String] = {
        let folder = RepositoryPaths.traces.appendingPathComponent("scenarios")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.hasSuffix(".json") }.sorted()
    }()

    @Test("the repository ships the example scenarios the issue asks for")
    func shipped() {
        for name in ["msr-in-range-bit-set", "msr-in-range-bit-unknown", "msr-out-of-range", "ioio-byte-crossing", "ioio-port-ffff",
                     "selective-cr0", "vmmcall-l2-not-intercepted", "l2-vmload-rax-2pow40-naples", "l1-vmrun-misaligned-rax",
                     "vmrun-consistency-asid"] {
            #expect(Self.scenarioFiles.contains(name + ".json"), "\(name)")
        }
    }

    @Test("every shipped scenario parses and is decided under every profile", arguments: scenarioFiles)
    func parses(name: String) throws {
        let data = try Data(contentsOf: RepositoryPaths.trace("scenarios/\(name)"))
        let scenario = try Scenario(json: data)
        #expect(!scenario.description.isEmpty)
        for profile in KernelProfile.all {
            let decision = DecisionModel(profile: profile, host: scenario.host).decision(for: scenario.event, state: scenario.state)
            #expect(!decision.path.isEmpty)
        }
    }

    @Test("values carry their own source, or the default")
    func provenance() throws {
        let json = #"""
        {"source": "lab notes", "state": {"level": "L2", "vmcb12": {"intercepts": {"word3": {"value": "0x10000000", "source": "kvm_nested_intercepts line 65"}}}},
         "event": {"type": "exit", "exit_code": "msr", "exit_info_1": 1, "rcx": "0xc0000080"}}
        """#
        let scenario = try Scenario(json: Data(json.utf8))
        #expect(scenario.state.vmcb12.intercepts.word3 == Known(0x1000_0000, source: "kvm_nested_intercepts line 65"))
        #expect(scenario.state.level == Known(.l2, source: "lab notes"))
        var exit = HardwareExit(exitCode: .msr, exitInfo1: 1, rcx: Known(0xc000_0080, source: "lab notes"))
        exit.unknownFields = ["exit_info_2", "exit_int_info"]
        #expect(scenario.event == .hardwareExit(exit))
    }

    @Test("bad input names the JSON path",
          arguments: [
            (#"{"event": {"type": "exit", "exit_code": "msr"}, "state": {"vmcb12": {"asid": "zero"}}}"#, "$.state.vmcb12.asid"),
            (#"{"event": {"type": "exit"}}"#, "$.event.exit_code"),
            (#"{"event": {"type": "exit", "exit_code": "nonsense"}}"#, "$.event.exit_code"),
            (#"{"event": {"type": "exit", "exit_code": 124, "bogus": 1}}"#, "$.event.bogus"),
            (#"{"profile": "5.4", "event": {"type": "exit", "exit_code": 124}}"#, "$.profile"),
            (#"{"host": {"npt": 7}, "event": {"type": "exit", "exit_code": 124}}"#, "$.host.npt"),
            (#"{"state": {"vmcb12": {"intercepts": {"cr_read": 1}}}, "event": {"type": "exit", "exit_code": 124}}"#, "$.state.vmcb12.intercepts.cr_write"),
            (#"{"state": {"vmcb12": {"iopm": {"0x10003": 1}}}, "event": {"type": "exit", "exit_code": 124}}"#, "$.state.vmcb12.iopm.0x10003"),
            (#"{"state": {"guest": {"memory": [["0x10", "0x0"]]}}, "event": {"type": "exit", "exit_code": 124}}"#, "$.state.guest.memory[0]"),
            (#"{"event": {"type": "pending", "pending": "exception"}}"#, "$.event.vector"),
            (#"[1, 2]"#, "$"),
            (#"{"event": "#, "$"),
          ])
    func errors(json: String, path: String) {
        #expect {
            try Scenario(json: Data(json.utf8))
        } throws: { error in
            (error as? ScenarioError)?.path == path
        }
    }

    @Test("exit codes may be names, hex or numbers; -1 is VMEXIT_INVALID")
    func exitCodes() throws {
        for (text, code) in [(#""GP excp""#, VMExitCode.exception(13)), (#""0x7c""#, .msr), ("124", .msr), ("-1", .invalid), (#""hypercall""#, .vmmcall)] {
            let scenario = try Scenario(json: Data(#"{"event": {"type": "exit", "exit_code": \#(text)}}"#.utf8))
            guard case .hardwareExit(let exit) = scenario.event else { Issue.record("not an exit"); continue }
            #expect(exit.exitCode == code)
        }
    }
}
