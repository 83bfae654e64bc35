@testable import TraceKit
import Testing

/// `svmdbg capture`'s probe events in every text layout. The kvm lines around them are real
/// (`traces/6.12/l1-vmrun-unbacked.trace` 93–95 and the naples perf/report captures); the
/// probe lines follow the kernel's kprobe print format (`(%pS) name=0x%llx …`,
/// `kernel/trace/trace_kprobe.c:print_kprobe_event`), which this host cannot produce (its
/// kernel has no kprobe events).
@Suite struct ProbePayloadTests {
    static let fields = "rax=0x100000000 rcx=0x0 rdx=0x0 rbx=0x7 cr0=0x80050033 efer=0x1d00 cpl=0x0 hflags=0x0 neg=-2 big=18446744073709551615"

    @Test("a tracefs exit_regs line decodes into its fields")
    func tracefs() throws {
        let payload = try decode("exit_regs", "(svm_handle_exit+0x4/0x3a0 [kvm_amd]) " + Self.fields)
        guard case .probe(let probe) = payload else {
            Issue.record("not a probe payload: \(payload)")
            return
        }
        #expect(probe["rax"] == 0x1_0000_0000)
        #expect(probe["efer"] == 0x1d00)
        #expect(probe["cpl"] == 0)
        #expect(probe["neg"] == UInt64(bitPattern: -2))
        #expect(probe["big"] == UInt64.max)
        #expect(probe["rsp"] == nil)
        #expect(probe.fields.map(\.name) == ["rax", "rcx", "rdx", "rbx", "cr0", "efer", "cpl", "hflags", "neg", "big"])
    }

    @Test("the probe line sits between kvm_exit and kvm_inj_exception in a real 6.12 capture excerpt")
    func inTracefsTrace() throws {
        let text = """
                  svmlab-977     [000] d..1.   110.996276: kvm_exit: vcpu 0 reason vmrun rip 0x1016f info1 0x0000000000000000 info2 0x0000000000000000 intr_info 0x00000000 error_code 0x00000000
                  svmlab-977     [000] d..1.   110.996277: exit_regs: (svm_handle_exit+0x4/0x3a0 [kvm_amd]) rax=0x100000000 hflags=0x0
                  svmlab-977     [000] .....   110.996318: kvm_inj_exception: #GP (0x0)
                  svmlab-977     [000] d..1.   110.996331: kvm_entry: vcpu 0, rip 0x1016f

        """
        let trace = try loadText(text)
        #expect(trace.count == 4)
        #expect(trace.lineAccounting.understood == 4)
        guard case .probe(let probe) = trace.payload(of: EventNumber(1)) else {
            Issue.record("line 2 is not a probe")
            return
        }
        #expect(probe["rax"] == 0x1_0000_0000)
        #expect(trace.pid(of: EventNumber(1)) == 977)
    }

    @Test("perf script and trace-cmd report layouts decode too", arguments: [
        ("          svmlab  1052 [000]   124.263623:                     svmdbg:exit_regs: (ffffffffc0a1b2c4) rax=0x10000 cpl=0x3\n", TraceFormat.perfScript),
        ("          svmlab-1052  [000]   124.274891: exit_regs:            (ffffffffc0a1b2c4) rax=0x10000 cpl=0x3\n", TraceFormat.traceCmdReport),
        ("          svmlab-1052  [000]   124.274891: exit_regs:            rax=0x10000 cpl=0x3\n", TraceFormat.traceCmdReport),
    ])
    func otherLayouts(line: String, format: TraceFormat) throws {
        let trace = try loadText(line, format: format)
        #expect(trace.count == 1)
        guard case .probe(let probe) = trace.payload(of: EventNumber(0)) else {
            Issue.record("not a probe: \(line)")
            return
        }
        #expect(probe["rax"] == 0x10000)
        #expect(probe["cpl"] == 3)
    }

    @Test("text that is not name=value pairs stays raw", arguments: [
        "(svm_handle_exit+0x4/0x3a0 [kvm_amd])",
        "(svm_handle_exit+0x4/0x3a0 [kvm_amd] rax=0x1",
        "rax=0xzz",
        "rax=",
        "=0x1",
        "rax=0x1 garbage",
        "rax=0x1 rcx=12abc",
    ])
    func malformed(payload: String) throws {
        #expect(try decode("exit_regs", payload) == .raw)
    }
}

/// The `vcpu_map` return probe's line (`kernel/trace/trace_kprobe.c:print_kretprobe_event`:
/// `(caller <- function)` before the fields; `s32` prints signed decimal).
@Suite struct ProbeVCPUMapPayloadTests {
    @Test("a tracefs vcpu_map line decodes, a negative errno as two's complement")
    func vcpuMap() throws {
        let payload = try decode("vcpu_map", "(vmload_vmsave_interception+0x6c/0x1d0 [kvm_amd] <- kvm_vcpu_map [kvm]) gfn=0x100000 ret=-22")
        guard case .probe(let probe) = payload else {
            Issue.record("not a probe payload: \(payload)")
            return
        }
        #expect(probe[ProbeSchema.mapGFN] == 0x100000)
        #expect(probe[ProbeSchema.mapResult].map { Int64(bitPattern: $0) } == -22)
    }
}
