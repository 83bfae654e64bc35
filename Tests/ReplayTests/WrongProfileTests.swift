import Foundation
import NestedSVM
import Replay
import TestSupport
import Testing
import TraceKit

/// A wrongly chosen profile must show up as mismatches on a real shipped trace where the
/// kernels differ, while the trace's own profile keeps 0 mismatches (same host and guest
/// facts either way).
@Suite struct WrongProfileTests {
    static func run(_ relative: String, folder name: String, profile: KernelProfile, guest: GuestFacts = GuestFacts()) throws -> ReplayResult {
        let folder = try #require(CaptureHosts.folders.first { $0.name == name })
        let trace = try TraceLoader.load(path: RepositoryPaths.trace(relative).path)
        let host = try HostFacts(parsing: folder.host, source: "--host")
        return Replayer(trace: trace, options: ReplayOptions(profile: profile, host: host, guest: guest)).run()
    }

    /// The capture's L1 MAXPHYADDR (manifest `guest_cpuid.maxphyaddr` = 40), given as the
    /// user would with `--guest maxphyaddr=40`.
    static let guest40 = GuestFacts(maxPhysAddr: Known(40, source: "--guest"))

    @Test("profile 6.1 on a 6.12 capture: the L2 VMMCALL 6.12 turns into #UD (vmmcall_interception) is a mismatch")
    func wrong61() throws {
        let own = try Self.run("6.12/vmmcall.trace", folder: "6.12", profile: .v6_12)
        #expect(own.mismatches.isEmpty)
        let wrong = try Self.run("6.12/vmmcall.trace", folder: "6.12", profile: .v6_1)
        #expect(!wrong.mismatches.isEmpty)
        #expect(wrong.mismatches.allSatisfy { $0.exitCode == VMExitCode.vmmcall.rawValue })
    }

    @Test("profile upstream on 6.12 captures: a legal RAX without memslot gets #GP on 6.12, a memory-failure exit upstream",
          arguments: ["6.12/l1-vmload-unbacked.trace", "6.12/l1-vmrun-unbacked.trace", "6.12/l1-vmsave-unbacked.trace"])
    func wrongUpstream(path: String) throws {
        let own = try Self.run(path, folder: "6.12", profile: .v6_12, guest: Self.guest40)
        #expect(own.mismatches.isEmpty)
        let wrong = try Self.run(path, folder: "6.12", profile: .upstream, guest: Self.guest40)
        #expect(wrong.mismatches.count == 1)
        // The VMRUN/VMLOAD/VMSAVE at the unbacked 4 GiB RAX (svm.insn.map-rax decides upstream).
        #expect(wrong.mismatches.first.map { [0x80, 0x82, 0x83].contains($0.exitCode) } == true)
    }

    @Test("profile 6.12 on a 6.1 capture: the 6.1 VMMCALL #UD livelock of L2 cannot happen under 6.12 (vmcb02 keeps the VMMCALL intercept)")
    func wrong612() throws {
        // 6.1's recalc_intercepts drops INTERCEPT_VMMCALL from vmcb02, so an L2 VMMCALL L1 does
        // not intercept #UDs and handle_ud loops; 6.12 keeps the intercept (svm/svm.c:init_vmcb,
        // svm/nested.c:recalc_intercepts), the CPU exits with VMEXIT_VMMCALL and never #UD.
        let own = try Self.run("6.1/vmmcall.trace.xz", folder: "6.1", profile: .v6_1)
        let other = try Self.run("6.1/vmmcall.trace.xz", folder: "6.1", profile: .v6_12)
        #expect(own.mismatches.isEmpty)
        #expect(!other.mismatches.isEmpty)
        #expect(other.mismatches.allSatisfy { $0.exitCode == VMExitCode.exception(ExceptionVector.invalidOpcode).rawValue })
    }
}
