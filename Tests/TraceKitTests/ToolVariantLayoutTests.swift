import Testing
@testable import TraceKit

/// Layouts of trace-cmd report / perf script options, one line each, as the tools print them
/// (lines taken from `trace-cmd report OPTION traces/6.12/cpuid-toggle.dat` and
/// `perf script OPTION -i traces/perf-data/6.12/cpuid-toggle.perf.data`).
@Suite struct ToolVariantLayoutTests {
    @Test("trace-cmd report --ts-diff, -l, --raw-ts (past 100 s), -R read like the plain report")
    func reportVariants() throws {
        let plain = "cpus=1\n          svmlab-437   [000]    15.679734: kvm_exit:             reason EXIT_MSR rip 0x112d4 info 0 0\n"
        let variants = [
            "cpus=1\n          svmlab-437   [000]    15.679734: (+131)   kvm_exit:             reason EXIT_MSR rip 0x112d4 info 0 0\n",
            "cpus=1\n  svmlab-437     0d..1.    15.679734: kvm_exit:             reason EXIT_MSR rip 0x112d4 info 0 0\n",
            "cpus=1\n          svmlab-437   [000]15679734237: kvm_exit:             reason EXIT_MSR rip 0x112d4 info 0 0\n",
            "cpus=1\n          svmlab-437   [000]    15.679734: kvm_exit:              exit_reason=124 guest_rip=0x112d4 isa=2 info1=0x0000000000000000 info2=0x0000000000000000 intr_info=0x00000000 error_code=0x00000000 vcpu_id=0\n",
        ]
        let reference = try loadText(plain).event(at: EventNumber(0))
        guard case .exit(let expected) = reference.payload else { Issue.record("plain report not typed"); return }
        for text in variants {
            let trace = try loadText(text)
            #expect(trace.format == .traceCmdReport, "\(text)")
            #expect(trace.count == 1)
            let event = trace.event(at: EventNumber(0))
            #expect(event.pid == 437)
            #expect(event.comm == "svmlab")
            guard case .exit(let exit) = event.payload else { Issue.record("not typed: \(text)"); continue }
            #expect(exit.exitReason == expected.exitReason)
            #expect(exit.guestRIP == expected.guestRIP)
            // Nanoseconds, not ticks: the --raw-ts integer is the same instant.
            #expect(!event.timestamp.description.isEmpty)
            if case .counter = event.timestamp { Issue.record("--raw-ts read as ticks") }
        }
    }

    @Test("perf script -F +ip, +period, comm,time,event,trace read like the default")
    func perfVariants() throws {
        let lines = [
            "          svmlab   559 [000]    42.120389:                       kvm:kvm_exit: vcpu 0 reason interrupt rip 0x10000 info1 0x0000000000000000 info2 0x0000000000000000 intr_info 0x00000000 error_code 0x00000000 ffffffffc040bcf3\n",
            "          svmlab   559 [000]    42.120389:          1                       kvm:kvm_exit: vcpu 0 reason interrupt rip 0x10000 info1 0x0000000000000000 info2 0x0000000000000000 intr_info 0x00000000 error_code 0x00000000\n",
            "          svmlab    42.120389:                       kvm:kvm_exit: vcpu 0 reason interrupt rip 0x10000 info1 0x0000000000000000 info2 0x0000000000000000 intr_info 0x00000000 error_code 0x00000000\n",
        ]
        for line in lines {
            let trace = try loadText(line + line)
            #expect(trace.format == .perfScript, "\(line)")
            #expect(trace.count == 2)
            let event = trace.event(at: EventNumber(0))
            guard case .exit(let exit) = event.payload else { Issue.record("not typed: \(line)"); continue }
            #expect(exit.exitReason == SVMExitReason(0x60))
            #expect(event.timestamp == .nanoseconds(42_120_389_000))
        }
    }

    @Test("perf script --deltatime values become absolute times (a note says how exact)")
    func deltaTime() throws {
        let text = (0..<4).map { index in
            "          svmlab   559 [000]     0.0000\(index == 0 ? 30 : 10 + index): kvm:kvm_fpu: load\n"
        }.joined()
        let trace = try loadText(text)
        #expect(trace.count == 4)
        let stamps = (0..<4).map { trace.timestamp(of: EventNumber($0)).value }
        #expect(stamps == [30_000, 41_000, 53_000, 66_000])
        #expect(trace.readerNotes.contains { $0.contains("--deltatime") })
    }

    @Test("a non-trace file is refused as a whole")
    func proseIsNoTrace() throws {
        let trace = try loadText("# svmdbg\n\nAn interactive debugger.\nUsage: svmdbg open TRACE\n")
        #expect(trace.count == 0)
    }
}
