import NestedSVM
@testable import Replay
import Testing
import TraceKit

/// Issue 16, shadow paging: at a #PF L0 intercepts (no NPT), KVM's walk of the running level's
/// own page tables (`kvmmmu` walker tracepoints, `mmu/paging_tmpl.h:FNAME(walk_addr_generic)`)
/// becomes one range of that level's page map: present, R/W, U/S and NX as the entries say. The
/// model walks it; the walker's own error line is never the answer.
@Suite struct ShadowWalkTests {
    static func walks(_ lines: [(WalkEvent, String)]) -> NPTWalks {
        var walks = NPTWalks()
        for (index, (event, text)) in lines.enumerated() { walks.add(event, text: text, line: 20 + index) }
        return walks
    }

    /// The lab's L1 tables (`lab/src/vmm.c`): PML4 0x1000 → PDPT 0x2000 → PD 0x3000 of 2-MiB pages.
    static let labWalk: [(WalkEvent, String)] = [
        (.start, "svmlab-645 [000] ..... 54.3: kvm_mmu_pagetable_walk: addr 2fff8 pferr 2 W"),
        (.element, "svmlab-645 [000] ..... 54.3: kvm_mmu_paging_element: pte 2027 level 4"),
        (.element, "svmlab-645 [000] ..... 54.3: kvm_mmu_paging_element: pte 3027 level 3"),
        (.element, "svmlab-645 [000] ..... 54.3: kvm_mmu_paging_element: pte e7 level 2"),
    ]

    @Test("a 4-level walk ending in a 2-MiB page: the page, present, writable, user, executable; cited by line")
    func largePage() throws {
        let range = try #require(Self.walks(Self.labWalk).guestPageRange(at: 0x2fff8, nxEnabled: true))
        #expect(range.first == 0 && range.last == 0x1f_ffff)
        #expect(range.present && range.writable && range.user && range.executable == true)
        #expect(range.source.contains("kvm_mmu_pagetable_walk line 20") && range.source.contains("lines 21-23"))
        #expect(range.source.contains("L2 0xe7"))
        #expect(Self.walks(Self.labWalk).guestPageRange(at: 0x30000, nxEnabled: true) == nil, "only the walk of that address")
    }

    @Test("R/W, U/S and NX combine over every level; NX without EFER.NXE is left unknown")
    func permissions() throws {
        let readOnly = Self.walks([
            (.start, "x: kvm_mmu_pagetable_walk: addr 7000 pferr 7 P|W|U"),
            (.element, "x: kvm_mmu_paging_element: pte 2007 level 4"),
            (.element, "x: kvm_mmu_paging_element: pte 3005 level 3"),
            (.element, "x: kvm_mmu_paging_element: pte 4007 level 2"),
            (.element, "x: kvm_mmu_paging_element: pte 8000000000007003 level 1"),
        ])
        let range = try #require(readOnly.guestPageRange(at: 0x7000, nxEnabled: true))
        #expect(range.first == 0x7000 && range.last == 0x7fff)
        #expect(range.present && !range.writable && !range.user && range.executable == false)
        #expect(readOnly.guestPageRange(at: 0x7000, nxEnabled: false) == nil, "bit 63 is reserved without EFER.NXE")
        #expect(readOnly.guestPageRange(at: 0x7000, nxEnabled: nil) == nil)
        // The model's walk: a user write to it faults, a supervisor read does not.
        let map = PageMap(ranges: [range])
        #expect(map.walkFaults(at: 0x7008, .init(write: true, user: true))?.faults == true)
        #expect(map.walkFaults(at: 0x7008, .init(write: false, user: false, smep: false, smap: false))?.faults == false)
    }

    @Test("a non-present entry covers its whole region; a retried pass replaces the first")
    func notPresentAndRetry() throws {
        let absent = Self.walks([
            (.start, "x: kvm_mmu_pagetable_walk: addr 40000008 pferr 0 "),
            (.element, "x: kvm_mmu_paging_element: pte 2027 level 4"),
            (.element, "x: kvm_mmu_paging_element: pte 0 level 3"),
            (.error, "x: kvm_mmu_walker_error: pferr 0 "),
        ])
        let range = try #require(absent.guestPageRange(at: 0x4000_0008, nxEnabled: true))
        #expect(range.first == 0x4000_0000 && range.last == 0x7fff_ffff && !range.present)
        let retried = Self.walks(Self.labWalk + [
            (.element, "x: kvm_mmu_paging_element: pte 2027 level 4"),
            (.element, "x: kvm_mmu_paging_element: pte 3027 level 3"),
            (.element, "x: kvm_mmu_paging_element: pte 85 level 2"),
        ])
        let again = try #require(retried.guestPageRange(at: 0x2fff8, nxEnabled: true))
        #expect(again.source.contains("lines 24-26"), "the second pass")
        #expect(again.present && !again.writable && again.user)
    }

    @Test("PAE counts only the PDPTE's present bit; 32-bit paging, unfinished walks and reserved-bit errors stay unknown")
    func unknownForms() throws {
        let pae = Self.walks([
            (.start, "x: kvm_mmu_pagetable_walk: addr 1000 pferr 2 W"),
            (.element, "x: kvm_mmu_paging_element: pte 5001 level 3"),
            (.element, "x: kvm_mmu_paging_element: pte 6007 level 2"),
            (.element, "x: kvm_mmu_paging_element: pte 1007 level 1"),
        ])
        let range = try #require(pae.guestPageRange(at: 0x1000, nxEnabled: false))
        #expect(range.present && range.writable && range.user, "the PDPTE's clear R/W and U/S bits do not count")
        let legacy = Self.walks([
            (.start, "x: kvm_mmu_pagetable_walk: addr 1000 pferr 2 W"),
            (.element, "x: kvm_mmu_paging_element: pte 6007 level 2"),
            (.element, "x: kvm_mmu_paging_element: pte 1007 level 1"),
        ])
        #expect(legacy.guestPageRange(at: 0x1000, nxEnabled: false) == nil)
        let unfinished = Self.walks(Array(Self.labWalk.prefix(3)) + [(.error, "x: kvm_mmu_walker_error: pferr 2 W")])
        #expect(unfinished.guestPageRange(at: 0x2fff8, nxEnabled: true) == nil, "a present non-leaf entry last")
        let reserved = Self.walks(Self.labWalk + [(.error, "x: kvm_mmu_walker_error: pferr b P|W|RSVD")])
        #expect(reserved.guestPageRange(at: 0x2fff8, nxEnabled: true) == nil)
    }

    static func probe(exitCode: UInt64, guestMode: Bool, walks: [(WalkEvent, String)], exitInfo2: UInt64 = 0x2fff8) -> ProbeValues {
        let payload = ProbePayload(fields: [
            ProbeField(name: ProbeSchema.exitCode, value: exitCode), ProbeField(name: ProbeSchema.efer, value: 0xd00),
            ProbeField(name: ProbeSchema.vmcbPointer, value: guestMode ? 2 : 1), ProbeField(name: ProbeSchema.vmcb01Pointer, value: 1),
        ])
        return ProbeValues(payload: payload, line: 5, guestMode: guestMode, walks: Self.walks(walks), exitInfo2: exitInfo2)
    }

    @Test("a #PF exit puts the walked range first in the running level's page map; other exits and nested NPT do not")
    func applied() throws {
        var state = VCPUState()
        state.l1.pageTables = PageMap(ranges: [PageMap.Range(first: 0, last: .max, present: false, source: "facts")])
        Self.probe(exitCode: 0x4e, guestMode: false, walks: Self.labWalk).apply(to: &state)
        let map = try #require(state.l1.pageTables)
        #expect(map.ranges.count == 2 && map.range(containing: 0x2fff8)?.present == true)
        #expect(state.l2.pageTables == nil)

        var l2 = VCPUState()
        Self.probe(exitCode: 0x4e, guestMode: true, walks: Self.labWalk).apply(to: &l2)
        #expect(l2.l2.pageTables?.range(containing: 0x2fff8)?.present == true)
        #expect(l2.l1.pageTables == nil)

        var npt = VCPUState()
        npt.vmcb12.nestedPaging = Known(true, source: "test")
        Self.probe(exitCode: 0x4e, guestMode: true, walks: Self.labWalk).apply(to: &npt)
        #expect(npt.l2.pageTables == nil, "with L1's NPT the MMU walks L1's NPT, not L2's tables")

        var other = VCPUState()
        Self.probe(exitCode: 0x400, guestMode: false, walks: Self.labWalk).apply(to: &other)
        #expect(other.l1.pageTables == nil)
    }
}
