import Testing
import TestSupport
@testable import TraceKit

/// (level, reason, count) of every row, sorted, for comparing tables.
private func shape(_ statistics: ExitStatistics) -> [String] {
    statistics.rows.map { "\($0.level.rawValue) \($0.reason) \($0.count)" }.sorted()
}

/// Scenarios whose `.trace` has every other text form beside it.
let scenariosWithAllForms: [String] = shippedTextTraces
    .filter { $0.hasSuffix(".trace") && !$0.hasPrefix("layouts/") }
    .map { String($0.dropLast(6)) }

@Suite struct ExitStatisticsTests {
    @Test("the exit table of a real 6.12 trace: levels from kvm_nested_vmexit, times to the next kvm_entry")
    func minimalTrace() throws {
        let trace = try TraceLoader.load(path: RepositoryPaths.trace("6.12/minimal.trace").path)
        let statistics = ExitStatistics(trace: trace)
        #expect(statistics.totalExits == 17)
        #expect(statistics.exits(at: .l1) == 15)
        #expect(statistics.exits(at: .l2) == 2)
        #expect(statistics.unit == .nanoseconds)
        // Lines 73 (kvm_exit hlt, 6.295116) → 74 kvm_nested_vmexit → 76 (kvm_entry, 6.295744).
        let hlt = try #require(statistics.rows.first { $0.reason == .hlt })
        #expect(hlt.level == .l2)
        #expect(hlt.count == 1)
        #expect(hlt.minimum == 628_000 && hlt.maximum == 628_000 && hlt.mean == 628_000)
        // The last exit (an OUT to the marker port) has no entry before the trace ends.
        let io = try #require(statistics.rows.first { $0.reason == .ioio })
        #expect(io.level == .l1)
        #expect(io.count == 5)
        #expect(io.untimed == 1)
        #expect(statistics.rows.first?.reason == .msr)
        #expect(statistics.threads.count == 1)
        #expect(statistics.threads.first?.vcpu == 0)
        #expect(statistics.threads.first?.rows == statistics.rows)
    }

    @Test("every text form of a capture gives the same exit table as its tracefs file", arguments: scenariosWithAllForms)
    func sameTableInEveryForm(scenario: String) throws {
        let reference = shape(ExitStatistics(trace: try TraceLoader.load(path: RepositoryPaths.trace(scenario + ".trace").path)))
        #expect(!reference.isEmpty)
        for form in [".pipe", ".report", ".report-noplugin", ".perf"] {
            let other = try TraceLoader.load(path: RepositoryPaths.trace(scenario + form).path)
            #expect(shape(ExitStatistics(trace: other)) == reference, "\(form)")
        }
    }

    @Test("an exit cut off by lost events or an omitted-lines comment is counted untimed, never paired across the gap")
    func gapsResetPairing() throws {
        let exit = "vcpu 0 reason npf rip 0x101c2 info1 0x0000000200000006 info2 0x0000000000001000 intr_info 0x00000000 error_code 0x00000000"
        let text = """
                  svmlab-384     [000] d..1.     1.000000: kvm_exit: \(exit)
        # [svmlab] 100 of 200 lines omitted here
                  svmlab-384     [000] .....     1.000010: kvm_nested_vmexit: \(exit)
                  svmlab-384     [000] d..1.     1.000020: kvm_entry: vcpu 0, rip 0x101c2
                  svmlab-384     [000] d..1.     2.000000: kvm_exit: \(exit)
                  svmlab-384     [000] d..1.     2.000005: kvm_entry: vcpu 0, rip 0x101c2
        CPU:0 [LOST 7 EVENTS]
                  svmlab-384     [000] d..1.     3.000000: kvm_exit: \(exit)

        """
        let trace = try loadText(text)
        #expect(trace.gaps == [EventNumber(1), EventNumber(5)])
        let statistics = ExitStatistics(trace: trace)
        #expect(statistics.totalExits == 3)
        let unknown = try #require(statistics.rows.first { $0.level == .unknown })
        #expect(unknown.count == 2)
        #expect(unknown.untimed == 2)
        let l1 = try #require(statistics.rows.first { $0.level == .l1 })
        #expect(l1.count == 1)
        #expect(l1.minimum == 5_000)
    }

    @Test("counter-clock traces report times in ticks")
    func counterClock() throws {
        let text = """
                  svmlab-384     [000] d..1. 1000: kvm_exit: vcpu 0 reason hlt rip 0x1 info1 0x0000000000000000 info2 0x0000000000000000 intr_info 0x00000000 error_code 0x00000000
                  svmlab-384     [000] d..1. 1250: kvm_entry: vcpu 0, rip 0x2

        """
        let statistics = ExitStatistics(trace: try loadText(text))
        #expect(statistics.unit == .counterTicks)
        #expect(statistics.rows.first?.minimum == 250)
    }

    @Test("a kvm_exit whose payload cannot be read is counted but in no row")
    func unreadableExit() throws {
        let statistics = ExitStatistics(trace: try loadText(tracefsPrefix + "kvm_exit: garbled\n"))
        #expect(statistics.totalExits == 1)
        #expect(statistics.rows.isEmpty)
        #expect(statistics.unreadableExits == 1)
    }
}
