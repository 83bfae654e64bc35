import Foundation
import TestSupport
import Testing

@Suite struct DecideCommandTests {
    static func svmdbg(_ arguments: [String]) throws -> SVMDebugRun { try runSVMDebug(arguments) }

    static func scenario(_ name: String) -> String { RepositoryPaths.trace("scenarios/\(name).json").path }

    static let scenarioNames: [String] = {
        let folder = RepositoryPaths.traces.appendingPathComponent("scenarios")
        return ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
            .filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
    }()

    @Test("decide answers every shipped scenario with a decision path", arguments: scenarioNames)
    func everyScenario(name: String) throws {
        let run = try Self.svmdbg(["decide", Self.scenario(name)])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("├─ svm."))
        #expect(run.stdout.contains("└─ outcome"))
    }

    @Test("the RAX scenario shows how 6.12 and upstream differ")
    func raxProfiles() throws {
        let old = try Self.svmdbg(["decide", Self.scenario("l2-vmload-rax-2pow40-naples"), "--profile", "6.12"])
        let new = try Self.svmdbg(["decide", Self.scenario("l2-vmload-rax-2pow40-naples"), "--profile", "upstream"])
        #expect(old.stdout.contains("└─ outcome  reflect to L1: vmload (0x082) info1 0x0 info2 0x0"))
        #expect(old.stdout.contains("[profile 6.12]"))
        #expect(new.stdout.contains("└─ outcome  inject #GP (0x0) into L2"))
        #expect(new.stdout.contains("svm.gp.permissions"))
        let misaligned = try Self.svmdbg(["decide", Self.scenario("l1-vmrun-misaligned-rax"), "--profile", "upstream"])
        #expect(misaligned.stdout.contains("└─ outcome  inject #GP (0x0) into L1"))
    }

    @Test("--host wins over the scenario file")
    func hostOverride() throws {
        let run = try Self.svmdbg(["decide", Self.scenario("l2-vmload-rax-2pow40-naples"), "--host", "svme_addr_chk=1"])
        #expect(run.stdout.contains("host svme_addr_chk = 1 [--host]"))
        #expect(run.stdout.contains("└─ outcome  reflect to L1: GP excp") || run.stdout.contains("└─ outcome  inject") || run.stdout.contains("undetermined"))
        #expect(!run.stdout.contains("svm.gp.decode"))
    }

    @Test("--json prints the decision with the outcome contract")
    func json() throws {
        let run = try Self.svmdbg(["decide", Self.scenario("msr-in-range-bit-set"), "--json"])
        #expect(run.status == 0)
        let object = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
        let outcome = object?["outcome"] as? [String: Any]
        #expect(outcome?["kind"] as? String == "reflect_to_l1")
        #expect(outcome?["exit_code"] as? Int == 0x7c)
        #expect(object?["profile"] as? String == "6.12")
        #expect((object?["path"] as? [Any])?.isEmpty == false)
    }

    @Test("bad input exits 2 with one line naming the file and the JSON path")
    func badInput() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("svmdbg-decide-bad-\(getpid()).json")
        try Data(#"{"event": {"type": "exit", "exit_code": "msr"}, "state": {"vmcb12": {"asid": "zero"}}}"#.utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let run = try Self.svmdbg(["decide", url.path])
        #expect(run.status == 2)
        #expect(run.stderr == "svmdbg decide: error: \(url.path): $.state.vmcb12.asid: 'zero' is not a number\n")
        let missing = try Self.svmdbg(["decide", "/nonexistent/scenario.json"])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("/nonexistent/scenario.json"))
        let profile = try Self.svmdbg(["decide", Self.scenario("msr-out-of-range"), "--profile", "5.4"])
        #expect(profile.status == 2)
        #expect(profile.stderr == "svmdbg decide: error: --profile: unknown profile '5.4' (known: 6.1, 6.12, upstream, apm)\n")
        let host = try Self.svmdbg(["decide", Self.scenario("msr-out-of-range"), "--host", "npt=7"])
        #expect(host.status == 2)
        #expect(host.stderr == "svmdbg decide: error: --host: host fact npt=7: expected 0 or 1\n")
    }

    @Test("--help documents the scenario schema")
    func help() throws {
        let run = try Self.svmdbg(["decide", "--help"])
        #expect(run.stdout.contains("\"vmcb12\""))
        #expect(run.stdout.contains("vmrun_failed"))
        #expect(run.stdout.contains("--profile"))
    }
}
