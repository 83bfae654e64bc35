/// The payload of `kvm_nested_vmenter` (6.1+) or its predecessor `kvm_nested_vmrun` (≤6.0).
///
/// Tracepoints: `kvm_nested_vmenter` (`reference/formats-6.18/kvm_nested_vmenter.format`),
/// `kvm_nested_vmrun` (`trace-events.md` §3.3).
public struct KVMNestedVMEnter: Sendable, Hashable {
    /// Which tracepoint wrote it.
    public enum Generation: String, Sendable, Hashable {
        /// `kvm_nested_vmrun` (`nrip:`, `npt: on|off`, no paging root).
        case vmrun
        /// `kvm_nested_vmenter` (`nested_rip:`, `nested_npt=y|n`, `nested_cr3:`/`guest_cr3:`).
        case vmenter
    }

    /// The paging root printed last by `kvm_nested_vmenter`, with its label.
    public enum PagingRoot: Sendable, Hashable {
        /// `nested_cr3: 0x…` (vmcb12 `nested_cr3`, printed when nested NPT is on).
        case nestedCR3(UInt64)
        /// `guest_cr3: 0x…` (vmcb12 `save.cr3`, printed when nested NPT is off).
        case guestCR3(UInt64)
        /// Any other label (e.g. VMX `nested_eptp`), kept as printed.
        case other(label: String, value: UInt64)
    }

    /// Which tracepoint wrote it.
    public var generation: Generation
    /// `rip`: L1's RIP in vmcb01 (VMRUN + 3 on 6.1+, the VMRUN itself on ≤5.10).
    public var rip: UInt64
    /// `vmcb`: vmcb12's guest-physical address (L1's RAX).
    public var vmcb: UInt64
    /// `nested_rip` / `nrip`: vmcb12 `save.rip`, where L2 starts.
    public var nestedRIP: UInt64
    /// `int_ctl` as L1 wrote it.
    public var intCtl: UInt32
    /// `event_inj` as L1 wrote it.
    public var eventInj: UInt32
    /// `nested_npt=y` / `npt: on`.
    public var nestedPaging: Bool
    /// `nested_cr3` or `guest_cr3` (absent in the `kvm_nested_vmrun` generation).
    public var pagingRoot: PagingRoot?

    /// Creates a VMRUN/VMENTER payload.
    public init(generation: Generation, rip: UInt64, vmcb: UInt64, nestedRIP: UInt64, intCtl: UInt32,
                eventInj: UInt32, nestedPaging: Bool, pagingRoot: PagingRoot?) {
        self.generation = generation
        self.rip = rip
        self.vmcb = vmcb
        self.nestedRIP = nestedRIP
        self.intCtl = intCtl
        self.eventInj = eventInj
        self.nestedPaging = nestedPaging
        self.pagingRoot = pagingRoot
    }
}

/// The payload of `kvm_nested_intercepts`: vmcb12's intercept words as L1 wrote them.
///
/// Tracepoint: `kvm_nested_intercepts` (`trace-events.md` §3.4). 5.10+:
/// `intercepts: %08x %08x %08x` = words 3, 4, 5. ≤5.9: `intercept: %016llx` = word 4
/// (high half) and word 3 (low half), no word 5. The DR word (1) is never printed.
public struct KVMNestedIntercepts: Sendable, Hashable {
    /// Word 0 bits 0–15: CR reads intercepted (bit n = CRn).
    public var crRead: UInt16
    /// Word 0 bits 16–31: CR writes intercepted.
    public var crWrite: UInt16
    /// Word 2: exception vectors intercepted.
    public var exceptions: UInt32
    /// Word 3 (INTR … SHUTDOWN).
    public var word3: UInt32
    /// Word 4 (VMRUN … XSETBV, traps).
    public var word4: UInt32
    /// Word 5 (INVLPGB, INVPCID, …); `nil` in the ≤5.9 64-bit form.
    public var word5: UInt32?

    /// Creates an intercepts payload.
    public init(crRead: UInt16, crWrite: UInt16, exceptions: UInt32, word3: UInt32, word4: UInt32, word5: UInt32?) {
        self.crRead = crRead
        self.crWrite = crWrite
        self.exceptions = exceptions
        self.word3 = word3
        self.word4 = word4
        self.word5 = word5
    }
}
