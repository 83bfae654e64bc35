/// The walks the model decides from page maps the caller gives (`PageMap`): the guest's own
/// walk at a #PF L0 intercepts under shadow paging, and KVM's walk of L1's NPT at an L2 #NPF.
extension Evaluator {
    /// Whether the walk of `level`'s own page tables faults for the #PF of `exit`
    /// (exit_info_1 = error code, exit_info_2 = address), from `state.<level>.pageTables`:
    /// `mmu/paging_tmpl.h:FNAME(walk_addr_generic)` checks present, R/W (with CR0.WP),
    /// U/S, SMEP/SMAP and NX for the access the error code names. `nil` when not given.
    func guestWalkFaults(_ exit: HardwareExit, level: GuestLevel) -> Known<Bool>? {
        let registers = registers(of: level)
        guard let map = registers.pageTables else { return nil }
        let code = exit.exitInfo1
        let cr4 = registers.cr4?.value
        let access = PageMap.Access(
            write: code & 0x2 != 0, user: code & 0x4 != 0, fetch: code & 0x10 != 0,
            writeProtect: registers.cr0.map { $0.value & 0x1_0000 != 0 },
            smep: cr4.map { $0 & (1 << 20) != 0 }, smap: cr4.map { $0 & (1 << 21) != 0 })
        guard let (faults, range) = map.walkFaults(at: exit.exitInfo2, access) else { return nil }
        return Known(faults, source: "\(level) page tables map \(range.text) [\(range.source)]")
    }

    /// Whether KVM's walk of L1's NPT (`nested_svm_inject_npf_exit` after the nested MMU's
    /// walk) faults for the GPA of an L2 #NPF, from `state.vmcb12.npt`. Every access of a
    /// nested walk is a user access (APM vol. 2, "Nested Paging"); exit_info_1 bit 1 is a write,
    /// bit 4 a fetch. `nil` when not given.
    func l1NPTWalkFaults(_ exit: HardwareExit) -> Known<Bool>? {
        guard let map = state.vmcb12.npt else { return nil }
        let code = exit.exitInfo1
        let access = PageMap.Access(write: code & 0x2 != 0, user: true, fetch: code & 0x10 != 0, smep: false, smap: false)
        guard let (faults, range) = map.walkFaults(at: exit.exitInfo2, access) else { return nil }
        return Known(faults, source: "L1's NPT maps \(range.text) [\(range.source)]")
    }
}
