@testable import DebuggerSession
import DebuggerUI
import Foundation
import NestedSVM
import Replay
import TestSupport
import TraceKit
import Testing

/// The registers and VMCB panes of an exit captured with `svmdbg capture`'s probes
/// (`traces/capture/6.12-zen3/l2-badrax-vmrun.probe.trace`, real KVM 6.12).
@Suite struct ProbePanesTests {
    static func session() throws -> (ReplaySession, ReplayResult) {
        let path = RepositoryPaths.trace("capture/6.12-zen3/l2-badrax-vmrun.probe.trace").path
        let trace = try TraceLoader.load(path: path)
        let host = try HostFacts(parsing: "svme_addr_chk=1,vgif=1,npt=1,nrips=0,decode_assists=0", source: "--host")
        let result = Replayer(trace: trace, options: ReplayOptions(profile: .v6_12, host: host)).run()
        return (ReplaySession(result: result), result)
    }

    @Test("an L2 exit shows the probe's GPRs, CPL and L1's EFER with their lines, and the DR intercept word")
    func l2Exit() throws {
        let (session, result) = try Self.session()
        let exit = try #require(result.exits.first { $0.level == .l2 && !result.probeRegisters(of: $0).isEmpty })
        let detail = try #require(session.detail(ExitNumber(exit.index)))
        let rax = try #require(detail.registers.first { $0.name == "RAX" })
        // Once: the probe's value, not also an "unknown" row from the kvm events.
        #expect(detail.registers.filter { $0.name == "RAX" }.count == 1)
        #expect(Dictionary(grouping: detail.registers.filter { $0.value == nil }, by: \.name).values.allSatisfy { $0.count == 1 })
        #expect(rax.value != nil)
        #expect(rax.provenance.hasPrefix("probe svmdbg/exit_regs line "))
        let cpl = try #require(detail.registers.first { $0.name == "L2 CPL" })
        #expect(cpl.provenance.hasPrefix("probe svmdbg/exit_regs line "))
        let l1EFER = try #require(detail.registers.first { $0.name == "L1 EFER" })
        #expect(l1EFER.provenance.hasSuffix("(l1_efer)"))
        let dr = try #require(detail.vmcb.flatMap(\.fields).first { $0.name == "dr" })
        #expect(dr.raw != nil)
        #expect(dr.decoded.hasSuffix("(ic_dr)"))
    }

    @Test("an exit of a trace without probes shows no probe rows and keeps the DR word unknown")
    func withoutProbes() throws {
        let path = RepositoryPaths.trace("capture/6.12-zen3/l2-badrax-vmrun.noprobe.trace").path
        let result = Replayer(trace: try TraceLoader.load(path: path), options: ReplayOptions(profile: .v6_12)).run()
        let session = ReplaySession(result: result)
        let exit = try #require(result.exits.first { $0.level == .l2 })
        let detail = try #require(session.detail(ExitNumber(exit.index)))
        #expect(!detail.registers.contains { $0.provenance.hasPrefix("probe ") })
        let dr = try #require(detail.vmcb.flatMap(\.fields).first { $0.name == "dr" })
        #expect(dr.raw == nil)
    }
}
