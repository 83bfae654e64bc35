import NestedSVM
@testable import Replay
import Testing
import TraceKit

/// Issue 16: the inputs the extended probes give the model, read from their lines: KVM's walk
/// of L1's nested page tables (`kvmmmu` walker tracepoints) and, on kernels whose return
/// probes fetch no arguments, the MSRPM/IOPM bytes from the `guest_read` stack window.
@Suite struct ProbeWalkReadTests {
    static func walks(_ lines: [(WalkEvent, String)]) -> NPTWalks {
        var walks = NPTWalks()
        for (index, (event, text)) in lines.enumerated() { walks.add(event, text: text, line: 10 + index) }
        return walks
    }

    @Test("a walk of the faulting GPA that ends in kvm_mmu_walker_error faulted; one without did not")
    func walkFaults() throws {
        let faulted = Self.walks([
            (.start, "svmlab-93 [000] ..... 41.1: kvm_mmu_pagetable_walk: addr 200000 pferr 6 W|U"),
            (.element, "svmlab-93 [000] ..... 41.1: kvm_mmu_paging_element: pte 3a007 level 4"),
            (.element, "svmlab-93 [000] ..... 41.1: kvm_mmu_paging_element: pte 0 level 3"),
            (.error, "svmlab-93 [000] ..... 41.1: kvm_mmu_walker_error: pferr 6 W|U"),
        ])
        let fault = try #require(faulted.walkFaults(at: 0x200000))
        #expect(fault.value == true)
        #expect(fault.source.contains("line 10") && fault.source.contains("line 13") && fault.source.contains("L3 0x0"))
        #expect(faulted.walkFaults(at: 0x201000) == nil, "no walk of another GPA is taken for this one")

        let fixed = Self.walks([
            (.start, "x: kvm_mmu_pagetable_walk: addr 200000 pferr 6 W|U"),
            (.element, "x: kvm_mmu_paging_element: pte 3a007 level 4"),
            (.element, "x: kvm_mmu_paging_element: pte 200087 level 2"),
            // A later walk (e.g. the emulator's) faulting belongs to that walk, not this one.
            (.start, "x: kvm_mmu_pagetable_walk: addr 7fff000 pferr 0 "),
            (.error, "x: kvm_mmu_walker_error: pferr 1 P"),
        ])
        #expect(try #require(fixed.walkFaults(at: 0x200000)).value == false)
        #expect(try #require(fixed.walkFaults(at: 0x7fff000)).value == true)
    }

    @Test("an L2 #NPF gets the walk result; other exits and L1 exits do not")
    func refineNPF() throws {
        let walks = Self.walks([
            (.start, "x: kvm_mmu_pagetable_walk: addr 200000 pferr 6 W|U"),
            (.error, "x: kvm_mmu_walker_error: pferr 6 W|U"),
        ])
        let npf = HardwareExit(exitCode: .npf, exitInfo1: 0x1_0000_0006, exitInfo2: 0x200000)
        let refined = ProbeValues(payload: ProbePayload(fields: []), line: 1, guestMode: true, walks: walks).refine(.hardwareExit(npf))
        guard case .hardwareExit(let exit) = refined else { Issue.record("not an exit"); return }
        #expect(exit.l1NPTWalkFaults?.value == true)
        let l1 = ProbeValues(payload: ProbePayload(fields: []), line: 1, guestMode: false, walks: walks).refine(.hardwareExit(npf))
        guard case .hardwareExit(let l1Exit) = l1 else { Issue.record("not an exit"); return }
        #expect(l1Exit.l1NPTWalkFaults == nil)
    }

    @Test("guest_read without arguments: the bytes at the entry's buffer address, from the return's stack window")
    func stackWindowRead() throws {
        let sp: UInt64 = 0xffff_c900_0040_7c40
        var fields = [ProbeField(name: "sp", value: sp)]
        // s0 is at sp-16; put the MSRPM word 0x0000_0c00 at sp+4 (s2, bytes 4..7) and junk elsewhere.
        for (index, name) in ProbeSchema.stackWindowNames.enumerated() {
            fields.append(ProbeField(name: name, value: index == 2 ? 0x0000_0c00_dead_beef : 0x1111_1111_1111_1111 &* UInt64(index)))
        }
        fields.append(ProbeField(name: "ret", value: 0))
        let entry = ProbePayload(fields: [ProbeField(name: "gpa", value: 0x36008), ProbeField(name: "len", value: 4), ProbeField(name: "data", value: sp + 4)])
        let read = try #require(ProbeValues.read(ProbePayload(fields: fields), entry: entry))
        #expect(read.gpa == 0x36008 && read.length == 4 && read.value == 0x0c00 && read.result == 0)
        // Two bytes straddling two words (IOPM read of a port at a byte boundary).
        let straddle = ProbePayload(fields: [ProbeField(name: "gpa", value: 0x38010), ProbeField(name: "len", value: 2), ProbeField(name: "data", value: sp - 16 + 7)])
        let two = try #require(ProbeValues.read(ProbePayload(fields: fields), entry: straddle))
        #expect(two.value == 0x11 << 8 | 0x00, "byte 7 of s0 (0x00) then byte 0 of s1 (0x11)")
        // A buffer outside the window, or no entry line: no value.
        let far = ProbePayload(fields: [ProbeField(name: "gpa", value: 0x36008), ProbeField(name: "len", value: 4), ProbeField(name: "data", value: sp + 4096)])
        #expect(ProbeValues.read(ProbePayload(fields: fields), entry: far) == nil)
        #expect(ProbeValues.read(ProbePayload(fields: fields), entry: nil) == nil)
        // 6.12's form reads its own fields.
        let modern = ProbePayload(fields: [ProbeField(name: "gpa", value: 0x38000), ProbeField(name: "len", value: 1), ProbeField(name: "val", value: 0x80), ProbeField(name: "ret", value: 0)])
        #expect(try #require(ProbeValues.read(modern, entry: nil)).value == 0x80)
    }
}
