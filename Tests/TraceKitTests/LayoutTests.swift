import Testing
@testable import TraceKit

@Suite struct LayoutTests {
    @Test("tracefs lines with 0, 4, 5 or 6 flag characters all index", arguments: [
        "          svmlab-384     [000]     4.501767: kvm_fpu: load",
        "          svmlab-384     [000] d..1     4.501767: kvm_fpu: load",
        "          svmlab-384     [000] d..1.     4.501767: kvm_fpu: load",
        "          svmlab-384     [000] d..1.1     4.501767: kvm_fpu: load",
    ])
    func flagsColumn(line: String) throws {
        let trace = try loadText(line + "\n")
        #expect(trace.format == .tracefs || trace.format == .traceCmdReport)
        let event = trace.event(at: EventNumber(0))
        #expect(event.comm == "svmlab")
        #expect(event.pid == 384)
        #expect(event.cpu == 0)
        #expect(event.timestamp == .nanoseconds(4_501_767_000))
        #expect(event.payload == .fpu(loaded: true))
    }

    @Test("comm with spaces, slashes and dashes splits on the last -<digits> before [ or (")
    func commWithDashes() throws {
        let text = """
                   CPU 0/KVM-4140    [002] d..1.   100.000001: kvm_fpu: load
             kworker/u8:3-ev-12-77    (   70) [001] .....   100.000002: kvm_fpu: unload

        """
        let trace = try loadText(text)
        #expect(trace.count == 2)
        let first = trace.event(at: EventNumber(0))
        #expect(first.comm == "CPU 0/KVM")
        #expect(first.pid == 4140)
        #expect(first.cpu == 2)
        #expect(first.tgid == nil)
        let second = trace.event(at: EventNumber(1))
        #expect(second.comm == "kworker/u8:3-ev-12")
        #expect(second.pid == 77)
        #expect(second.tgid == 70)
    }

    @Test("counter-clock timestamps stay counters")
    func counterTimestamps() throws {
        let trace = try loadText("          svmlab-384     [000] d..1. 123456789012: kvm_fpu: load\n")
        #expect(trace.event(at: EventNumber(0)).timestamp == .counter(123_456_789_012))
    }

    @Test("nanosecond timestamps (--ns, -t) keep nine decimals")
    func nanosecondTimestamps() throws {
        let trace = try loadText("          svmlab-384     [000]     4.501767123: kvm_fpu: load\n")
        #expect(trace.event(at: EventNumber(0)).timestamp == .nanoseconds(4_501_767_123))
    }

    @Test("the tracefs header, lost-event markers and blank lines count as metadata")
    func tracefsHeader() throws {
        let text = """
        # tracer: nop
        #
        # entries-in-buffer/entries-written: 2/2   #P:4
        #           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION
                  svmlab-384     [000] d..1.     4.501767: kvm_fpu: load
        CPU:2 [LOST 123 EVENTS]

                  svmlab-384     [000] d..1.     4.501768: kvm_fpu: unload

        """
        let trace = try loadText(text)
        #expect(trace.format == .tracefs)
        #expect(trace.count == 2)
        #expect(trace.lineAccounting == LineAccounting(read: 8, understood: 2, raw: 0, unreadable: 0, metadata: 6))
        #expect(trace.diagnostics.map(\.kind) == [.lostEvents])
        #expect(trace.diagnostics.first?.line == 6)
        #expect(trace.rawLine(6) == "CPU:2 [LOST 123 EVENTS]")
        #expect(trace.rawLine(8) == "          svmlab-384     [000] d..1.     4.501768: kvm_fpu: unload")
        #expect(trace.rawLine(1) == "# tracer: nop")
        #expect(trace.rawLine(10) == nil)
    }

    @Test("trace-cmd report headers and the plugin dialect are read")
    func reportLayout() throws {
        let text = """
        version = 6
        cpus=2
        CPU 1 is empty
                  svmlab-401   [000]     6.277987: kvm_entry:             vcpu 0 rip 0x10000
                  svmlab-401   [000]     6.279175: kvm_exit:             reason EXIT_NPF rip 0x10000 info 200000006 1000
                  svmlab-401   [000]     6.295502: kvm_nested_vmexit_inject: reason EXIT_HLT info1 0 info2 0 int_info 0 int_info_err 0

        """
        let trace = try loadText(text)
        #expect(trace.format == .traceCmdReport)
        #expect(trace.lineAccounting == LineAccounting(read: 6, understood: 3, raw: 0, unreadable: 0, metadata: 3))
        #expect(trace.event(at: EventNumber(0)).payload == .entry(KVMEntry(vcpu: 0, rip: 0x10000)))
        #expect(trace.event(at: EventNumber(1)).payload
                == .exit(KVMExit(exitReason: .npf, guestRIP: 0x10000, exitInfo1: 0x2_0000_0006, exitInfo2: 0x1000)))
        #expect(trace.event(at: EventNumber(2)).payload
                == .nestedVMExitInject(KVMNestedVMExitInject(exitReason: .hlt, exitInfo1: 0, exitInfo2: 0, exitIntInfo: 0, exitIntInfoErr: 0)))
    }

    @Test("perf script: right-aligned system:name, no dash, comm with spaces parsed from the right")
    func perfLayout() throws {
        let text = """
               CPU 0/KVM  4140 [001]   640.835386:                        kvm:kvm_pio: pio_write at 0x3f8 size 1 count 1 val 0x41 
                 svmlab   617 [000]    47.484872:              kvm:kvm_inj_exception: [FAILED TO PARSE] exception=6 has_error=0 error_code=0 reinjected=0
                 qemu 12/4141 [003]   640.835390:                       kvm:kvm_exit: vcpu 1 reason hlt rip 0x1000 info1 0x0000000000000000 info2 0x0000000000000000 intr_info 0x00000000 error_code 0x00000000

        """
        let trace = try loadText(text)
        #expect(trace.format == .perfScript)
        #expect(trace.count == 3)
        let pio = trace.event(at: EventNumber(0))
        #expect(pio.comm == "CPU 0/KVM")
        #expect(pio.pid == 4140)
        #expect(pio.cpu == 1)
        #expect(pio.name == "kvm_pio")
        #expect(pio.payload == .pio(KVMPIO(isWrite: true, port: 0x3f8, size: 1, count: 1, value: 0x41, hasMoreValues: false)))
        let injected = trace.event(at: EventNumber(1))
        #expect(injected.payload == .injException(KVMInjException(vector: 6, errorCode: nil, reinjected: false)))
        #expect(trace.diagnostics.map(\.kind) == [.failedToParse])
        #expect(trace.diagnostics.first?.line == 2)
        let exit = trace.event(at: EventNumber(2))
        #expect(exit.comm == "qemu")
        #expect(exit.pid == 4141)
        #expect(exit.tgid == 12)
        #expect(exit.vcpu == 1)
    }

    @Test("a forced layout overrides detection")
    func forcedFormat() throws {
        let line = "          svmlab-384     [000] d..1.     4.501767: kvm_fpu: load\n"
        #expect(try loadText(line, format: .perfScript).lineAccounting.unreadable == 1)
        #expect(try loadText(line, format: .tracefs).count == 1)
        let perf = "         svmlab   617 [000]    47.484872:      kvm:kvm_fpu: load\n"
        #expect(try loadText(perf, format: .tracefs).count == 0)
        #expect(try loadText(perf).count == 1)
    }

    @Test("events interleaved from two vCPU threads form one ordered stream per pid and per VM")
    func perThreadStreams() throws {
        let text = """
                   CPU 0/KVM-4140    (   4100) [000] d..1.   100.000001: kvm_entry: vcpu 0, rip 0x1000
                   CPU 1/KVM-4141    (   4100) [001] d..1.   100.000002: kvm_entry: vcpu 1, rip 0x2000
                   CPU 0/KVM-4140    (   4100) [000] d..1.   100.000003: kvm_exit: vcpu 0 reason hlt rip 0x1000 info1 0x0000000000000000 info2 0x0000000000000000 intr_info 0x00000000 error_code 0x00000000
                   CPU 1/KVM-4141    (   4100) [001] d..1.   100.000004: kvm_exit: vcpu 1 reason io rip 0x2000 info1 0x0000000000000000 info2 0x0000000000000000 intr_info 0x00000000 error_code 0x00000000
                   CPU 1/KVM-4141    (   4100) [001] d..1.   100.000010: kvm_entry: vcpu 1, rip 0x2002
                   CPU 0/KVM-4140    (   4100) [000] d..1.   100.000020: kvm_entry: vcpu 0, rip 0x1001

        """
        let trace = try loadText(text)
        #expect(trace.eventNumbers(forPID: 4140).map(\.rawValue) == [0, 2, 5])
        #expect(trace.eventNumbers(forPID: 4141).map(\.rawValue) == [1, 3, 4])
        #expect(trace.eventNumbersByPID()[4141]?.map(\.rawValue) == [1, 3, 4])
        #expect(trace.eventNumbers(forVM: 4100).count == 6)
        #expect(trace.threads[4140] == ThreadSummary(pid: 4140, tgid: 4100, comm: "CPU 0/KVM", vcpu: 0, eventCount: 3))
        #expect(trace.threads[4141]?.vcpu == 1)
        #expect(trace.threadsByVM[4100]?.map(\.pid) == [4140, 4141])

        let statistics = ExitStatistics(trace: trace)
        #expect(statistics.totalExits == 2)
        let hlt = try #require(statistics.rows.first { $0.reason == .hlt })
        #expect(hlt.level == .l1)
        #expect(hlt.minimum == 17_000)
        let io = try #require(statistics.rows.first { $0.reason == .ioio })
        #expect(io.minimum == 6_000)
        #expect(statistics.threads.map(\.vcpu) == [0, 1])
    }

    @Test("an index slot is 16 bytes")
    func compactIndex() {
        #expect(MemoryLayout<IndexSlot>.stride == 16)
    }
}

@Suite struct FormatDetectionTests {
    @Test("without header or flags, trace-cmd's name padding tells report from tracefs")
    func paddingDetection() throws {
        let report = """
                  svmlab-401   [000]     6.275646: kvm_fpu:              load
                  svmlab-401   [000]     6.277987: kvm_entry:            vcpu 0, rip 0x10000

        """
        let tracefs = """
                  svmlab-401     [000]     6.275646: kvm_fpu: load
                  svmlab-401     [000]     6.277987: kvm_entry: vcpu 0, rip 0x10000

        """
        #expect(try loadText(report).format == .traceCmdReport)
        #expect(try loadText(tracefs).format == .tracefs)
    }
}
