import Foundation
import TestSupport
import Testing

/// End-to-end runs of `check`, `export` and `diff` on the built binary: output contracts
/// and exit codes.
@Suite struct ReplayCommandTests {
    static let zen3 = "svme_addr_chk=1,vgif=1,npt=1,nrips=0,decode_assists=0"

    func run(_ arguments: [String]) throws -> SVMDebugRun { try runSVMDebug(arguments) }

    @Test("check --json on a clean trace exits 0 with the contract's keys")
    func checkJSON() throws {
        let result = try run(["check", RepositoryPaths.trace("6.12/msr-prot.trace").path, "--profile", "6.12",
                              "--host", Self.zen3, "--json"])
        #expect(result.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        for key in ["exits", "match", "mismatch", "undetermined", "mismatches"] { #expect(object[key] != nil, "\(key)") }
        #expect(object["mismatch"] as? Int == 0)
        #expect((object["exits"] as? Int ?? 0) > 0)
    }

    @Test("check exits 1 on a trace with a mismatch and 2 on an unusable input")
    func checkExitCodes() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("svmdbg-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let text = try String(contentsOf: RepositoryPaths.trace("6.12/msr-prot.trace"), encoding: .utf8)
            .replacingOccurrences(of: "kvm_nested_vmexit_inject: reason: msr ext_inf1: 0x0000000000000001",
                                  with: "kvm_nested_vmexit_inject: reason: hlt ext_inf1: 0x0000000000000001")
        let mutated = folder.appendingPathComponent("mutated.trace")
        try text.write(to: mutated, atomically: true, encoding: .utf8)
        let mismatch = try run(["check", mutated.path, "--host", Self.zen3])
        #expect(mismatch.status == 1)
        #expect(mismatch.stdout.contains("mismatches:"))
        let missing = try run(["check", folder.appendingPathComponent("absent.trace").path])
        #expect(missing.status == 2)
        #expect(missing.stderr.hasPrefix("svmdbg: "))
        #expect(missing.stderr.split(separator: "\n").count == 1)
    }

    @Test("export refuses to overwrite without --force and reports the path it wrote")
    func exportOverwrite() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("svmdbg-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let target = folder.appendingPathComponent("out.jsonl")
        try "keep me\n".write(to: target, atomically: true, encoding: .utf8)
        let trace = RepositoryPaths.trace("6.12/minimal.trace").path
        let refused = try run(["export", trace, "--all", "-o", target.path])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("--force"))
        #expect(try String(contentsOf: target, encoding: .utf8) == "keep me\n")
        let forced = try run(["export", trace, "--all", "-o", target.path, "--force", "--format", "jsonl"])
        #expect(forced.status == 0)
        #expect(forced.stdout.contains(target.path))
        let lines = try String(contentsOf: target, encoding: .utf8).split(separator: "\n")
        #expect(lines.count > 1)
        for line in lines { _ = try JSONSerialization.jsonObject(with: Data(line.utf8)) }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix(".") }
        #expect(leftovers.isEmpty)
    }

    @Test("diff --json names the changed exits between two profiles")
    func diffJSON() throws {
        let result = try run(["diff", RepositoryPaths.trace("6.12-naples/l2-badrax-vmload-vmsave-nointercept.trace").path,
                              "--profile", "6.12", "--profile", "upstream",
                              "--host", "svme_addr_chk=0,vgif=0,npt=1,nrips=0,decode_assists=0", "--json"])
        #expect(result.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let changed = try #require(object["changed"] as? Int)
        let exits = try #require(object["exits"] as? [[String: Any]])
        #expect(changed == exits.count)
        #expect(changed > 0)
    }

    @Test("diff --rule keeps the #GP-path changes on naples and finds no RAX-check change on Zen3")
    func diffRuleFilter() throws {
        let rules = ["--rule", "svm.gp.rax-check", "--rule", "svm.insn.rax-check"]
        let naples = try run(["diff", RepositoryPaths.trace("6.12-naples/l2-badrax-vmrun.trace").path,
                              "--profile", "6.12", "--profile", "upstream",
                              "--host", "svme_addr_chk=0,vgif=0,npt=1,nrips=0,decode_assists=0", "--rule", "svm.gp.rax-check", "--json"])
        #expect(naples.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(naples.stdout.utf8)) as? [String: Any])
        let exits = try #require(object["exits"] as? [[String: Any]])
        #expect(exits.count == 1)
        #expect(exits.first?["exit_name"] as? String == "GP excp")
        #expect((exits.first?["hinged_on"] as? [String])?.contains("rax.legal-page") == true)
        let zen3 = try run(["diff", RepositoryPaths.trace("6.12/l2-badrax-vmload-vmsave-nointercept.trace").path,
                            "--profile", "6.12", "--profile", "upstream", "--host", Self.zen3] + rules)
        #expect(zen3.status == 0)
        #expect(zen3.stdout.hasPrefix("svmdbg diff ") && zen3.stdout.contains(", 0 changed (rules svm.gp.rax-check, svm.insn.rax-check)"))
        let unfiltered = try run(["diff", RepositoryPaths.trace("6.12/l2-badrax-vmload-vmsave-nointercept.trace").path,
                                  "--profile", "6.12", "--profile", "upstream", "--host", Self.zen3])
        #expect(unfiltered.stdout.contains("2 changed"))
        #expect(unfiltered.stdout.contains("from rule: svm.insn.map-rax"))
    }

    @Test("check --require decided fails on consistent matches; --facts makes them decided; export --format scenario reproduces under decide")
    func decidedAndScenario() throws {
        let trace = RepositoryPaths.trace("lab/6.12-zen3/msr-prot.trace").path
        let facts = RepositoryPaths.trace("lab/6.12-zen3/msr-prot.facts.json").path
        let plain = try run(["check", trace, "--profile", "6.12", "--guest", "maxphyaddr=40", "--json"])
        #expect(plain.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(plain.stdout.utf8)) as? [String: Any])
        let consistent = try #require(object["consistent"] as? Int)
        #expect(consistent > 0 && consistent == object["match_by_inference"] as? Int)
        #expect((object["decided"] as? Int).map { $0 + consistent } == object["match"] as? Int)
        #expect(try run(["check", trace, "--profile", "6.12", "--guest", "maxphyaddr=40", "--require", "decided"]).status == 1)
        let withFacts = try run(["check", trace, "--profile", "6.12", "--guest", "maxphyaddr=40", "--facts", facts, "--json"])
        #expect(withFacts.status == 0)
        let factsObject = try #require(try JSONSerialization.jsonObject(with: Data(withFacts.stdout.utf8)) as? [String: Any])
        #expect(try #require(factsObject["consistent"] as? Int) < consistent)
        #expect(factsObject["mismatch"] as? Int == 0)
        let bad = try run(["check", trace, "--facts", "/nonexistent/facts.json"])
        #expect(bad.status == 2)

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("svmdbg-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let scenario = folder.appendingPathComponent("exit.json").path
        let export = try run(["export", trace, "--exit", "5", "--format", "scenario", "-o", scenario, "--profile", "6.12"])
        #expect(export.status == 0)
        let decided = try run(["decide", scenario])
        #expect(decided.status == 0)
        #expect(decided.stdout.contains("expected (recorded in the trace):"))
        #expect(decided.stdout.contains("the model agrees"))
    }
}
