/// What the caller knows of L1's vmcb12: the control fields the interception rules read and
/// the save-area fields the VMRUN consistency checks read.
public struct VMCB12: Sendable, Equatable, Codable {
    /// Intercept words 0–5.
    public var intercepts: InterceptWords
    /// Known bits of the MSR permission map.
    public var msrpm: MSRPermissionMap
    /// Known bits of the I/O permission map.
    public var iopm: IOPermissionMap
    /// `nested_ctl` bit 0 (NP_ENABLE): L1 runs L2 with nested paging.
    public var nestedPaging: Known<Bool>?
    /// `nested_cr3`: L1's NPT root.
    public var nestedCR3: Known<UInt64>?
    /// `int_ctl` (bit 24 V_INTR_MASKING, bit 25 V_GIF_ENABLE, bit 26 V_NMI_ENABLE, …).
    public var intCtl: Known<UInt32>?
    /// `event_inj`.
    public var eventInj: Known<UInt32>?
    /// `virt_ext` (bit 1: virtual VMLOAD/VMSAVE).
    public var virtExt: Known<UInt64>?
    /// `asid`.
    public var asid: Known<UInt32>?
    /// `msrpm_base_pa`.
    public var msrpmBase: Known<UInt64>?
    /// `iopm_base_pa`.
    public var iopmBase: Known<UInt64>?
    /// Save area: `efer`.
    public var efer: Known<UInt64>?
    /// Save area: `cr0`.
    public var cr0: Known<UInt64>?
    /// Save area: `cr3`.
    public var cr3: Known<UInt64>?
    /// Save area: `cr4`.
    public var cr4: Known<UInt64>?
    /// Save area: `dr6`.
    public var dr6: Known<UInt64>?
    /// Save area: `dr7`.
    public var dr7: Known<UInt64>?
    /// Save area: `cs.attrib` (bit 9 L, bit 10 D/B).
    public var csAttributes: Known<UInt16>?
    /// What L1's nested page tables (at `nested_cr3`) map for L2's guest-physical addresses.
    public var npt: PageMap?

    /// Builds a vmcb12 description; omitted fields are unknown.
    public init(
        intercepts: InterceptWords = InterceptWords(), msrpm: MSRPermissionMap = MSRPermissionMap(),
        iopm: IOPermissionMap = IOPermissionMap(), nestedPaging: Known<Bool>? = nil,
        nestedCR3: Known<UInt64>? = nil, intCtl: Known<UInt32>? = nil, eventInj: Known<UInt32>? = nil,
        virtExt: Known<UInt64>? = nil, asid: Known<UInt32>? = nil, msrpmBase: Known<UInt64>? = nil,
        iopmBase: Known<UInt64>? = nil, efer: Known<UInt64>? = nil, cr0: Known<UInt64>? = nil,
        cr3: Known<UInt64>? = nil, cr4: Known<UInt64>? = nil, dr6: Known<UInt64>? = nil,
        dr7: Known<UInt64>? = nil, csAttributes: Known<UInt16>? = nil
    ) {
        self.intercepts = intercepts
        self.msrpm = msrpm
        self.iopm = iopm
        self.nestedPaging = nestedPaging
        self.nestedCR3 = nestedCR3
        self.intCtl = intCtl
        self.eventInj = eventInj
        self.virtExt = virtExt
        self.asid = asid
        self.msrpmBase = msrpmBase
        self.iopmBase = iopmBase
        self.efer = efer
        self.cr0 = cr0
        self.cr3 = cr3
        self.cr4 = cr4
        self.dr6 = dr6
        self.dr7 = dr7
        self.csAttributes = csAttributes
    }
}

/// The registers of one guest level that permission checks read.
public struct GuestRegisters: Sendable, Equatable, Codable {
    /// EFER (bit 12 SVME, bit 8 LME, bit 10 LMA).
    public var efer: Known<UInt64>?
    /// CR0 (bit 31 PG, bit 0 PE).
    public var cr0: Known<UInt64>?
    /// CR4.
    public var cr4: Known<UInt64>?
    /// Current privilege level.
    public var cpl: Known<UInt8>?
    /// RFLAGS.IF (6.12 keeps L0's VINTR intercept for L2 only while L1's IF is set).
    public var interruptsEnabled: Known<Bool>?
    /// What the level's own page tables (at its CR3) map for its linear addresses.
    public var pageTables: PageMap?

    /// Builds a register set; omitted registers are unknown.
    public init(
        efer: Known<UInt64>? = nil, cr0: Known<UInt64>? = nil, cr4: Known<UInt64>? = nil,
        cpl: Known<UInt8>? = nil, interruptsEnabled: Known<Bool>? = nil
    ) {
        self.efer = efer
        self.cr0 = cr0
        self.cr4 = cr4
        self.cpl = cpl
        self.interruptsEnabled = interruptsEnabled
    }
}

/// A CPUID feature of the guest (L1's CPUID as the VMM set it) that changes a decision.
public enum GuestFeature: String, Sendable, Hashable, Codable, CaseIterable {
    /// CPUID 0x80000001 EDX bit 27: without it L0 intercepts RDTSCP and raises #UD.
    case rdtscp
    /// CPUID 7 EBX bit 10: without it L0 raises #UD on INVPCID.
    case invpcid
    /// CPUID 1 ECX bit 3 (MONITOR/MWAIT).
    case mwait
    /// CPUID 0x8000000A EDX bit 15 (V_VMSAVE_VMLOAD): lets L1's L2 use VLS.
    case vVMSaveVMLoad = "v_vmsave_vmload"
    /// CPUID 0x8000000A EDX bit 16 (vGIF) exposed to L1.
    case vgif
    /// CPUID 0x8000000A EDX bit 0 (nested paging) exposed to L1.
    case npt
    /// CPUID 1 ECX bit 26 (XSAVE): without it XSETBV raises #UD.
    case xsave
    /// CPUID 0x80000001 EDX bit 29 (long mode): EFER.LME/LMA are valid only with it.
    case longMode = "lm"
    /// CPUID 0x80000001 EDX bit 20 (NX): EFER.NX is valid only with it.
    case nx
    /// CPUID 0x80000001 EDX bit 25 (FFXSR): EFER.FFXSR is valid only with it.
    case fxsrOpt = "fxsr_opt"
    /// CPUID 0x80000001 ECX bit 12 (SKINIT).
    case skinit
    /// CPUID 0x80000008 EBX bit 4 (RDPRU).
    case rdpru
    /// CPUID 1 ECX bit 17 (PCID): CR4.PCIDE (bit 17) is valid only with it.
    case pcid
    /// CPUID 7 EBX bit 0 (FSGSBASE): CR4.FSGSBASE (bit 16).
    case fsgsbase
    /// CPUID 7 EBX bit 7 (SMEP): CR4.SMEP (bit 20).
    case smep
    /// CPUID 7 EBX bit 20 (SMAP): CR4.SMAP (bit 21).
    case smap
    /// CPUID 7 ECX bit 3 (PKU): CR4.PKE (bit 22).
    case pku
    /// CPUID 7 ECX bit 2 (UMIP): CR4.UMIP (bit 11).
    case umip
    /// CPUID 7 ECX bit 16 (LA57): CR4.LA57 (bit 12).
    case la57
    /// CPUID 1 ECX bit 5 (VMX): CR4.VMXE (bit 13); never on AMD.
    case vmx
    /// CPUID 1 ECX bit 6 (SMX): CR4.SMXE (bit 14).
    case smx
    /// CPUID 7 ECX bit 23 (Key Locker): CR4.KL (bit 19).
    case keylocker
    /// CPUID 7 ECX bit 7 / EDX bit 20 (CET shadow stacks or IBT): CR4.CET (bit 23).
    case cet
    /// CPUID 7 ECX bit 31 (PKS): CR4.PKS (bit 24).
    case pks
    /// CPUID 7.1 EAX bit 26 (LAM): CR4.LAM_SUP (bit 28).
    case lam
    /// CPUID 0x8000000A EDX bit 1 (LBR virtualization) exposed to L1: vmcb12's LBR_CTL counts only with it.
    case lbrv
    /// CPUID 0x8000000A EDX bit 10 (pause filter): vmcb12's pause_filter_count counts only with it.
    case pausefilter
    /// CPUID 0x8000000A EDX bit 12 (pause filter threshold): vmcb12's pause_filter_thresh counts only with it.
    case pfthreshold
}

/// An inclusive range of guest-physical addresses.
public struct MemoryRange: Sendable, Equatable, Codable {
    /// First address.
    public var start: UInt64
    /// Last address (inclusive).
    public var end: UInt64
    /// Builds `start...end`.
    public init(start: UInt64, end: UInt64) {
        self.start = start
        self.end = end
    }
    /// Whether `address` lies in the range.
    public func contains(_ address: UInt64) -> Bool { address >= start && address <= end }
}

/// What the caller knows about the guest machine as a whole.
public struct GuestFacts: Sendable, Equatable, Codable {
    /// The guest's MAXPHYADDR (CPUID 0x80000008 EAX[7:0]) — the limit `page_address_valid` uses.
    public var maxPhysAddr: Known<Int>?
    /// Known guest CPUID features.
    public var features: [GuestFeature: Known<Bool>]
    /// L1 guest-physical ranges backed by memslots (what `kvm_vcpu_map` can map); an address
    /// outside every range is unbacked. `nil` when unknown.
    public var backedMemory: Known<[MemoryRange]>?
    /// Per MSR: whether L0's RDMSR/WRMSR emulation raises #GP (e.g. an MSR KVM does not know).
    public var l0RejectsMSR: [UInt32: Known<Bool>]

    /// Builds guest facts; omitted facts are unknown.
    public init(
        maxPhysAddr: Known<Int>? = nil, features: [GuestFeature: Known<Bool>] = [:],
        backedMemory: Known<[MemoryRange]>? = nil, l0RejectsMSR: [UInt32: Known<Bool>] = [:]
    ) {
        self.maxPhysAddr = maxPhysAddr
        self.features = features
        self.backedMemory = backedMemory
        self.l0RejectsMSR = l0RejectsMSR
    }

    /// Whether `address` is backed by a memslot, if the memory map is known.
    public func isBacked(_ address: UInt64) -> Known<Bool>? {
        backedMemory.map { memory in Known(memory.value.contains { $0.contains(address) }, source: memory.source) }
    }
}

/// The vCPU state a decision may read; every field may be unknown.
public struct VCPUState: Sendable, Equatable, Codable {
    /// Which level runs (guest mode or not).
    public var level: Known<GuestLevel>?
    /// L1's vmcb12 (the one of the last VMRUN, or the one a VMRUN is about to use).
    public var vmcb12: VMCB12
    /// L1's registers (EFER, CR0, CR4, CPL, RFLAGS.IF).
    public var l1: GuestRegisters
    /// L2's registers, for permission checks of SVM instructions L2 executes.
    public var l2: GuestRegisters
    /// `MSR_VM_HSAVE_PA` as L1 wrote it (KVM's `svm->nested.hsave_msr`).
    public var hsavePA: Known<UInt64>?
    /// Whether the vCPU is in SMM.
    public var inSMM: Known<Bool>?
    /// Guest MAXPHYADDR and CPUID.
    public var guest: GuestFacts
    /// Yes/no facts the caller knows, by `FactID` (e.g. `rax.legal-page`): given in a
    /// scenario, or settled by a recorded outcome during replay. Consulted at every fork
    /// before forking; each carries its source.
    public var assumptions: [Fact: Known<Bool>]

    /// Builds a state; omitted parts are unknown.
    public init(
        level: Known<GuestLevel>? = nil, vmcb12: VMCB12 = VMCB12(), l1: GuestRegisters = GuestRegisters(),
        l2: GuestRegisters = GuestRegisters(), hsavePA: Known<UInt64>? = nil, inSMM: Known<Bool>? = nil,
        guest: GuestFacts = GuestFacts(), assumptions: [Fact: Known<Bool>] = [:]
    ) {
        self.assumptions = assumptions
        self.level = level
        self.vmcb12 = vmcb12
        self.l1 = l1
        self.l2 = l2
        self.hsavePA = hsavePA
        self.inSMM = inSMM
        self.guest = guest
    }

    private enum CodingKeys: String, CodingKey {
        case level, vmcb12, l1, l2, hsavePA, inSMM, guest, assumptions
    }

    /// Decodes a state; `assumptions` may be absent (older JSON).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        level = try container.decodeIfPresent(Known<GuestLevel>.self, forKey: .level)
        vmcb12 = try container.decode(VMCB12.self, forKey: .vmcb12)
        l1 = try container.decode(GuestRegisters.self, forKey: .l1)
        l2 = try container.decode(GuestRegisters.self, forKey: .l2)
        hsavePA = try container.decodeIfPresent(Known<UInt64>.self, forKey: .hsavePA)
        inSMM = try container.decodeIfPresent(Known<Bool>.self, forKey: .inSMM)
        guest = try container.decode(GuestFacts.self, forKey: .guest)
        assumptions = try container.decodeIfPresent([Fact: Known<Bool>].self, forKey: .assumptions) ?? [:]
    }
}
