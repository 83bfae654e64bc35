import Foundation
import TestSupport
import Testing

/// `export --format lab-scenario`: one exit as a lab scenario file, or one line saying why the
/// lab cannot express it.
@Suite struct LabScenarioExportCLITests {
    static let zen3 = "svme_addr_chk=1,vgif=1,npt=1,nrips=0,decode_assists=0,vls=0"

    @Test("a failed L1 VMRUN is written as a .scn with the poke; an L2 exit is refused with the reason; --exit is required")
    func labScenario() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("svmdbg-labscn-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let trace = RepositoryPaths.root.appendingPathComponent("traces/capture/lab-6.12-zen3/vmrun-check-asid0.trace.xz").path
        let json = try runSVMDebug(["check", trace, "--profile", "6.12", "--host", Self.zen3, "--guest", "maxphyaddr=40", "--json"])
        #expect(json.status == 0)
        let export = folder.appendingPathComponent("all.jsonl").path
        #expect(try runSVMDebug(["export", trace, "--profile", "6.12", "--host", Self.zen3, "--all", "-o", export]).status == 0)
        var vmrun: Int?
        var l2: Int?
        for line in try String(contentsOfFile: export, encoding: .utf8).split(separator: "\n") {
            let record = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let exit = try #require(record["exit"] as? Int)
            if vmrun == nil, record["exit_name"] as? String == "vmrun", (record["recorded"] as? [String: Any])?["outcome"] as? String == "vmrun_fails" { vmrun = exit }
            if l2 == nil, record["level"] as? String == "L2" { l2 = exit }
        }
        let scn = folder.appendingPathComponent("repro.scn").path
        let written = try runSVMDebug(["export", trace, "--profile", "6.12", "--host", Self.zen3, "--format", "lab-scenario",
                                       "--exit", String(try #require(vmrun)), "-o", scn])
        #expect(written.status == 0)
        let text = try String(contentsOfFile: scn, encoding: .utf8)
        #expect(text.contains("\nattempt = trace exit \(vmrun!) ; 0x58/32 put 0x0\n"))
        #expect(text.contains("\nintercepts = ") && text.contains(" vmrun"))
        // The lab's own parser (svmdbg lab facts reads .scn files as vmm.c does) accepts it.
        let facts = try runSVMDebug(["lab", "facts", scn, "-o", "-"])
        #expect(facts.status == 0)
        let refused = try runSVMDebug(["export", trace, "--format", "lab-scenario", "--exit", String(try #require(l2)),
                                       "-o", folder.appendingPathComponent("l2.scn").path])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("the lab cannot express it: an exit of L2"))
        #expect(refused.stderr.split(separator: "\n").count == 1)
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("l2.scn").path))
        let noExit = try runSVMDebug(["export", trace, "--format", "lab-scenario", "-o", folder.appendingPathComponent("x.scn").path])
        #expect(noExit.status != 0)
    }
}
