import Foundation
import Testing
@testable import TraceKit

/// Real kvm trace excerpts as people paste them (mailing lists, bug reports), stored
/// byte-exact in `traces/excerpts/` with their source. The counts below were made by
/// reading each excerpt by hand: every line that is a kvm event (whatever its columns,
/// quoting or wrapping) counts once; prose, `...`, `<hack>` debug prints and lines that
/// lost their event name do not.
@Suite struct ExcerptTests {
    struct Expectation: Sendable, CustomStringConvertible {
        var file: String
        var events: Int
        var byName: [String: Int]
        var joined: Int = 0
        var description: String { file }
    }

    static let expectations: [Expectation] = [
        Expectation(file: "svm-rsm-smm-quoted.txt", events: 14,
                    byName: ["kvm_exit": 3, "kvm_entry": 2, "kvm_emulate_insn": 2, "kvm_nested_vmrun": 1,
                             "kvm_nested_intercepts": 1, "kvm_nested_vmexit": 1, "kvm_nested_vmexit_inject": 1,
                             "kvm_page_fault": 1, "kvm_inj_exception": 1, "kvm_smm_transition": 1], joined: 7),
        Expectation(file: "svm-rsm-smm-patch.txt", events: 14,
                    byName: ["kvm_exit": 3, "kvm_entry": 2, "kvm_nested_vmrun": 1, "kvm_nested_vmexit": 1,
                             "kvm_nested_vmexit_inject": 1], joined: 7),
        Expectation(file: "svm-vmrun-event-inj-migration.txt", events: 9,
                    byName: ["kvm_exit": 1, "kvm_nested_vmrun": 1, "kvm_nested_intercepts": 1, "kvm_fpu": 1,
                             "kvm_userspace_exit": 1, "kvm_async_pf_ready": 1, "kvm_apic_accept_irq": 1,
                             "kvm_nested_intr_vmexit": 1, "kvm_nested_vmexit_inject": 1]),
        Expectation(file: "svm-ud-excp-wrapped.txt", events: 1, byName: ["kvm_nested_vmexit_inject": 1], joined: 2),
        Expectation(file: "svm-smm-test-cpuid.txt", events: 3, byName: ["kvm_exit": 2, "kvm_msr": 1]),
        Expectation(file: "svm-gp-loop-two-blocks.txt", events: 23,
                    byName: ["kvm_exit": 6, "kvm_entry": 6, "kvm_msr": 2, "kvm_inj_exception": 5, "kvm_emulate_insn": 2,
                             "kvm_fpu": 1, "kvm_userspace_exit": 1]),
        Expectation(file: "svm-npf-three-vcpus-wrapped.txt", events: 18,
                    byName: ["kvm_exit": 3, "kvm_page_fault": 3, "kvm_emulate_insn": 6, "kvm_fpu": 3, "kvm_userspace_exit": 3],
                    joined: 6),
        Expectation(file: "svm-npf-bugzilla-quoted-printable.txt", events: 10,
                    byName: ["kvm_entry": 2, "kvm_exit": 2, "kvm_page_fault": 2, "kvm_emulate_insn": 2, "kvm_fpu": 1,
                             "kvm_userspace_exit": 1], joined: 16),
        Expectation(file: "vmx-cr0wp-esxi-efer-setup.txt", events: 12,
                    byName: ["kvm_entry": 4, "kvm_exit": 4, "kvm_cpuid": 1, "kvm_msr": 2, "kvm_cr": 1]),
        Expectation(file: "vmx-cr0wp-esxi-ltr-walk.txt", events: 5,
                    byName: ["kvm_mmu_pagetable_walk": 1, "kvm_mmu_paging_element": 3, "kvm_emulate_insn": 1]),
        Expectation(file: "vmx-hlt-l2-vectoring-loop.txt", events: 18,
                    byName: ["kvm_exit": 4, "kvm_nested_vmexit": 3, "kvm_inj_exception": 3, "kvm_entry": 2,
                             "kvm_page_fault": 2, "kvm_emulate_insn": 4]),
        Expectation(file: "vmx-pckbd-prefix-on-own-line.txt", events: 16,
                    byName: ["kvm_exit": 5, "kvm_entry": 4, "tracing_mark_write": 7], joined: 16),
        Expectation(file: "vmx-triple-fault-rsm.txt", events: 7,
                    byName: ["kvm_smm_transition": 2, "kvm_entry": 3, "kvm_nested_vmenter": 1, "kvm_nested_vmexit_inject": 1],
                    joined: 5),
        Expectation(file: "vmx-dr6-fastpath.txt", events: 12,
                    byName: ["kvm_entry": 5, "kvm_exit": 5, "kvm_nested_vmexit": 1, "kvm_nested_vmexit_inject": 1]),
        Expectation(file: "vmx-hyperv-preemption-timer.txt", events: 33,
                    byName: ["kvm_exit": 7, "kvm_entry": 6, "kvm_nested_vmexit": 2, "kvm_nested_vmexit_inject": 3,
                             "kvm_set_irq": 3, "kvm_msi_set_irq": 4, "kvm_apic_accept_irq": 4, "kvm_eoi": 2,
                             "kvm_userspace_exit": 2]),
        Expectation(file: "vmx-ept-violation-emulate.txt", events: 6,
                    byName: ["kvm_exit": 1, "kvm_nested_vmexit": 1, "kvm_page_fault": 1, "kvm_emulate_insn": 2,
                             "kvm_inj_exception": 1]),
        Expectation(file: "vmx-io-loop-nested-state.txt", events: 17,
                    byName: ["kvm_nested_vmexit": 3, "kvm_fpu": 4, "kvm_userspace_exit": 2, "kvm_pio": 2,
                             "kvm_mmu_get_page": 2, "kvm_entry": 2, "kvm_exit": 2]),
        Expectation(file: "vmx-wrapped-report-nvme.txt", events: 9,
                    byName: ["kvm_entry": 1, "kvm_fpu": 4, "kvm_userspace_exit": 2, "kvm_exit": 1, "kvm_page_fault": 1],
                    joined: 3),
        Expectation(file: "vmx-wrmsr-safe-quoted.txt", events: 2, byName: ["kvm_exit": 1, "kvm_msr": 1]),
        Expectation(file: "vmx-dirty-ring-quoted.txt", events: 30,
                    byName: ["kvm_entry": 8, "kvm_exit": 7, "kvm_page_fault": 7, "kvm_dirty_ring_push": 3,
                             "kvm_dirty_ring_exit": 1, "kvm_fpu": 2, "kvm_userspace_exit": 1, "kvm_dirty_ring_reset": 1]),
    ]

    static var folder: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("traces/excerpts").path
    }

    @Test("every stored excerpt has a source URL and a date, and a test", arguments: [0])
    func everyExcerptIsListed(_: Int) throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.folder).filter { $0.hasSuffix(".txt") }.sorted()
        #expect(names == Self.expectations.map(\.file).sorted())
        for name in names {
            let text = try String(contentsOfFile: Self.folder + "/" + name, encoding: .utf8)
            #expect(text.hasPrefix("# source: http"), "\(name)")
            #expect(text.contains("\n# date: "), "\(name)")
        }
    }

    @Test("each excerpt loads with the events a careful reader counts", arguments: expectations)
    func counts(_ expected: Expectation) throws {
        let trace = try TraceLoader.load(path: Self.folder + "/" + expected.file)
        #expect(trace.count == expected.events)
        let names = trace.eventNameCounts
        for (name, count) in expected.byName { #expect(names[name] == count, "\(name)") }
        #expect(trace.diagnosticCountsByKind[.joinedLine, default: 0] == expected.joined)
    }

    @Test("wrapped SVM lines joined back read as one event: the RSM excerpt's NPF exit")
    func joinedExitReads() throws {
        let trace = try TraceLoader.load(path: Self.folder + "/svm-rsm-smm-quoted.txt")
        let exits = trace.events.filter { $0.name == "kvm_exit" }
        #expect(exits.count == 3)
        guard case .exit(let npf) = exits[1].payload else { Issue.record("NPF exit not typed"); return }
        #expect(npf.exitReason == SVMExitReason(0x400))
        #expect(npf.exitInfo1 == 0x2_0000_0006)
        #expect(npf.exitInfo2 == 0x1ab000)
        guard case .nestedVMExit(let nested) = trace.events.first(where: { $0.name == "kvm_nested_vmexit" })?.payload else {
            Issue.record("kvm_nested_vmexit not typed"); return
        }
        #expect(nested.errorCode == 0)
        // A pasted excerpt printed no timestamps.
        #expect(!trace.hasTimestamp(EventNumber(0)))
        #expect(trace.untimedEventCount == 14)
    }
}
