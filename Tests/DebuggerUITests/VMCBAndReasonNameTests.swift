@testable import DebuggerSession
import DebuggerUI
import Foundation
import NestedSVM
import Replay
import TestSupport
import Testing
import TraceKit

@Suite struct VMCBAndReasonNameTests {
    static func session(_ file: String) throws -> ReplaySession {
        let trace = try TraceLoader.load(path: RepositoryPaths.trace(file).path)
        let options = ReplayOptions(profile: try #require(KernelProfile(named: "6.12")), host: try HostFacts(parsing: "npt=1", source: "--host"))
        return ReplaySession(result: Replayer(trace: trace, options: options).run())
    }

    static func field(_ name: String, of detail: ExitDetail) -> DecodedField? {
        detail.vmcb.flatMap(\.fields).first { $0.name == name }
    }

    @Test("after a nested_npt=n VMRUN the VMCB12 pane shows no NPT root and L2's CR3 as L2's CR3, in every form",
          arguments: ["6.12/msr-prot.trace", "6.12/msr-prot.perf", "6.12/msr-prot.report"])
    func noNestedCR3WithoutNestedPaging(file: String) throws {
        let session = try Self.session(file)
        // msr-prot runs L2 with nested_npt=n from its first VMRUN on; #5 is an L2 exit.
        let l2 = try #require(session.nextExit(matching: .level(.l2), after: nil, direction: .forward))
        let detail = try #require(session.detail(l2))
        let nestedCR3 = try #require(Self.field("nested_cr3", of: detail))
        #expect(nestedCR3.raw == nil)
        #expect(nestedCR3.decoded.hasPrefix("not used (nested paging off)"))
        #expect(!detail.vmcb.flatMap(\.fields).contains { $0.decoded.contains("NPT root") })
        let cr3 = try #require(Self.field("save.cr3", of: detail))
        #expect(cr3.raw == "0x1000")
        #expect(cr3.decoded.hasPrefix("L2's CR3"))
    }

    @Test("exit_code 0xffffffff is decoded as VMEXIT_INVALID")
    func invalidExitCode() throws {
        let session = try Self.session("lab/6.1-no-npt/vmrun-check-eventinj-bad-vector.pipe")
        let exit = try #require(session.nextExit(matching: .exitCode(0xffff_ffff), after: nil, direction: .forward))
        let detail = try #require(session.detail(exit))
        let codes = detail.vmcb.flatMap(\.fields).filter { $0.name == "exit_code" }
        #expect(!codes.isEmpty)
        #expect(codes.allSatisfy { $0.decoded.hasPrefix("VMEXIT_INVALID") }, "\(codes)")
    }

    @Test("reason names: kernel, constant, VMEXIT_*, APM and code, any case, all name the same exit",
          arguments: [
            ("hypercall", 0x81), ("vmmcall", 0x81), ("VMMCALL", 0x81), ("VMEXIT_VMMCALL", 0x81), ("svm_exit_vmmcall", 0x81),
            ("EXIT_VMMCALL", 0x81), ("0x81", 0x81), ("129", 0x81), ("GP excp", 0x4d), ("gp EXCP", 0x4d),
            ("VMEXIT_EXCP13", 0x4d), ("excp_gp", 0x4d), ("io", 0x7b), ("ioio", 0x7b), ("VMEXIT_IOIO", 0x7b),
            ("VMEXIT_CR0_READ", 0x00), ("read_cr0", 0x00), ("VMEXIT_INVALID", 0xffff_ffff), ("invalid", 0xffff_ffff),
            ("0xffffffff", 0xffff_ffff), ("npf", 0x400), ("VMEXIT_NPF", 0x400),
          ] as [(String, UInt32)])
    func reasonNames(name: String, code: UInt32) {
        #expect(ExitReasonNames.code(for: name) == code)
    }

    @Test("unknown reason names are refused with a hint")
    func unknownReason() {
        guard case .failure(let failure) = PredicateParser.filter("reason vmexit_nonsense") else {
            Issue.record("accepted")
            return
        }
        #expect(failure.message.contains("unknown exit reason 'vmexit_nonsense'"))
    }

    @Test("filter and breakpoint take reasons with spaces, codes and other spellings")
    func filterTerms() throws {
        #expect(try PredicateParser.filter("reason GP excp verdict mismatch").get() == ExitFilter(reason: "gp excp", verdict: .mismatch))
        #expect(try PredicateParser.filter("reason vmmcall").get() == ExitFilter(reason: "hypercall"))
        #expect(try PredicateParser.filter("code 0x7c level l2").get() == ExitFilter(level: .l2, exitCode: 0x7c))
        #expect(try PredicateParser.filter("code VMEXIT_MSR").get() == ExitFilter(exitCode: 0x7c))
        #expect(try PredicateParser.breakpoint("reason PF excp").get().predicate == .reason("pf excp"))
        #expect(try PredicateParser.breakpoint("reason VMEXIT_VMMCALL").get().text == "reason hypercall")
    }

    @Test("a filter by an APM name finds the exits the kernel names otherwise (vmmcall finds hypercall)")
    func filterFindsHypercall() throws {
        let session = try Self.session("6.12/vmmcall.trace")
        let filter = try PredicateParser.filter("reason vmmcall").get()
        let first = try #require(session.nextExit(matching: filter.predicate, after: nil, direction: .forward))
        #expect(session.row(first)?.reason == "hypercall")
    }
}

@Suite struct ImpossibleHostTests {
    @Test("an exception exit neither L1 nor (by the host facts) L0 intercepts says no host with these facts exits here; the right facts match")
    func wrongNPTFact() throws {
        func session(_ host: String) throws -> (ReplaySession, ReplayResult) {
            let trace = try TraceLoader.load(path: RepositoryPaths.trace("lab/6.12-no-npt/cr-access.trace").path)
            let options = ReplayOptions(profile: .v6_12, host: try HostFacts(parsing: host, source: "--host"))
            let result = Replayer(trace: trace, options: options).run()
            return (ReplaySession(result: result), result)
        }
        let (wrong, result) = try session("npt=1")
        let mismatch = try #require(wrong.nextExit(matching: .verdict(.mismatch), after: nil, direction: .forward))
        let detail = try #require(wrong.detail(mismatch))
        let step = try #require(detail.decisionSteps.first { $0.ruleID == "svm.intercept.exception" })
        #expect(step.answer == "no")
        #expect(step.note?.hasPrefix("no host with these facts exits here") == true)
        #expect(step.note?.hasSuffix("check --host npt") == true)
        #expect(detail.modelOutcome.contains("no host with these facts exits here"))
        #expect(result.summary.mismatch == 1)
        let (right, rightResult) = try session("npt=0")
        #expect(rightResult.summary.mismatch == 0)
        #expect(right.nextExit(matching: .verdict(.mismatch), after: nil, direction: .forward) == nil)
    }
}
