/// The behaviour of one kernel generation, as data: each switch names a place where nested
/// SVM decisions differ between versions (`versions.md`, `nested-decisions.md` §3.1, §4,
/// §7.3, §8).
///
/// A profile predicts what that kernel really does, bugs included; it never "corrects" its
/// kernel. Profiles: `6.1` (Debian 6.1.192), `6.12` (Debian 6.12.117) and `upstream`
/// (kvm-x86 for 7.1 with the March-2026 RAX series).
public struct KernelProfile: Sendable, Equatable, Codable, CustomStringConvertible {
    /// What happens to an L2 VMMCALL that L1 does not intercept.
    public enum VMMCALLFromL2: String, Sendable, Equatable, Codable {
        /// vmcb02 lacks the VMMCALL intercept (`recalc_intercepts` drops it): the CPU raises
        /// #UD, L0 intercepts #UD, `x86.c:handle_ud` emulates VMMCALL by patching it to
        /// VMMCALL and restarting — forever (6.1).
        case udEmulationLivelock = "ud-emulation-livelock"
        /// L0 serves the VMMCALL as a KVM hypercall for L2 (6.2 until the 2026 fix).
        case kvmHypercall = "kvm-hypercall"
        /// `svm/svm.c:vmmcall_interception` injects #UD in guest mode (2026 fix, 6.12.117).
        case injectUD = "inject-ud"
    }

    /// The RAX check of `svm/svm.c:gp_interception` for a decoded VMRUN/VMLOAD/VMSAVE.
    public enum GPPathRAXCheck: String, Sendable, Equatable, Codable {
        /// Only page alignment (`rax & 0xfff`), no MAXPHYADDR check (5.11 – early 2026).
        case alignmentOnly = "alignment-only"
        /// `page_address_valid`: page aligned and below the guest MAXPHYADDR (2026 series).
        case pageAddressValid = "page-address-valid"
    }

    /// What a VMRUN/VMLOAD/VMSAVE handler does when the page at a legal RAX cannot be mapped.
    public enum UnmappableRAX: String, Sendable, Equatable, Codable {
        /// Inject #GP(0) (6.x; a GPA without memslot is the -EINVAL case).
        case injectGP = "inject-gp"
        /// `kvm_handle_memory_failure`: emulation-failure exit to userspace (2026 series).
        case memoryFailureExit = "memory-failure-exit"
    }

    /// Which of L0's CR8 intercepts `recalc_intercepts` drops when L1 sets V_INTR_MASKING.
    public enum CR8Drop: String, Sendable, Equatable, Codable {
        /// CR8 read and write (6.1).
        case readAndWrite = "read-and-write"
        /// CR8 write only (6.2+).
        case writeOnly = "write-only"
    }

    /// When `recalc_intercepts` drops L0's VINTR intercept (with V_INTR_MASKING).
    public enum VINTRDrop: String, Sendable, Equatable, Codable {
        /// Always (6.1).
        case always
        /// Only while L1's saved RFLAGS.IF is 0 (6.2+).
        case whenL1InterruptsDisabled = "when-l1-if-clear"
    }

    /// The emulator's RAX check (`emulate.c:check_svme_pa`).
    public enum EmulatorRAXCheck: String, Sendable, Equatable, Codable {
        /// #GP(0) when any of RAX bits 63:48 is set (6.1, 6.12).
        case bits63to48 = "bits-63-48"
        /// Changed by kvm-x86 commit c85aaff2, content unverified.
        case unverified
    }

    /// What a VMCB12 with NP_ENABLE does on a host without NPT.
    public enum NestedPagingWithoutHostNPT: String, Sendable, Equatable, Codable {
        /// Consistency check fails (VMEXIT_INVALID).
        case fails
        /// The bit is sanitized away (2026 kvm-x86).
        case sanitized
    }

    /// Short name used by `--profile` and printed in decisions.
    public var name: String
    /// One line on which kernels the profile stands for.
    public var summary: String
    /// L2 VMMCALL not intercepted by L1.
    public var vmmcallFromL2: VMMCALLFromL2
    /// `nested_svm_exit_special` keeps Hyper-V L2 TLB-flush hypercalls in L0 (6.2+).
    public var hypervL2TLBFlushInL0: Bool
    /// The RAX check on the #GP path.
    public var gpPathRAXCheck: GPPathRAXCheck
    /// On the #GP path for L2, `nested_svm_check_permissions` runs before the RAX check.
    public var gpPathL2PermissionsFirst: Bool
    /// The VMRUN/VMLOAD/VMSAVE handlers check `page_address_valid(RAX)` before mapping.
    public var handlerRAXCheck: Bool
    /// Legal but unmappable RAX.
    public var unmappableRAX: UnmappableRAX
    /// `invlpga_interception` checks EFER.SVME, paging and CPL first.
    public var invlpgaPermissionCheck: Bool
    /// CR8 intercepts dropped with V_INTR_MASKING.
    public var cr8Drop: CR8Drop
    /// VINTR intercept dropped with V_INTR_MASKING.
    public var vintrDrop: VINTRDrop
    /// The emulator's RAX check.
    public var emulatorRAXCheck: EmulatorRAXCheck
    /// VMRUN with hsave_msr = 0 raises #GP (6.1+).
    public var hsaveCheck: Bool
    /// Consistency check: V_NMI_ENABLE requires the NMI intercept (≈6.4+).
    public var vnmiRequiresNMIIntercept: Bool
    /// Consistency check: EVENTINJ must be valid (2026 kvm-x86).
    public var eventInjCheck: Bool
    /// NP_ENABLE on a host without NPT.
    public var nestedPagingWithoutHostNPT: NestedPagingWithoutHostNPT
    /// A failed consistency check also clears vmcb12 `event_inj` (6.12+).
    public var failedVMRunClearsEventInj: Bool
    /// L0's PAUSE intercept is kept in vmcb02 only if L1 intercepts PAUSE (2026, unconfirmed).
    public var pauseOnlyIfL1Intercepts: Bool
    /// When caching vmcb12, KVM clears L1's intercepts of XSETBV, INVPCID, RDTSCP, SKINIT and
    /// RDPRU if L1's CPUID lacks the instruction's feature (kvm-x86 2026); the exit then goes
    /// to L0's handler, which raises #UD.
    public var clearsInterceptsForMissingCPUID: Bool

    /// The profile name.
    public var description: String { name }

    /// Debian 6.1.192.
    public static let v6_1 = KernelProfile(
        name: "6.1", summary: "Linux 6.1 (as Debian 6.1.192)", vmmcallFromL2: .udEmulationLivelock,
        hypervL2TLBFlushInL0: false, gpPathRAXCheck: .alignmentOnly, gpPathL2PermissionsFirst: false,
        handlerRAXCheck: false, unmappableRAX: .injectGP, invlpgaPermissionCheck: true,
        cr8Drop: .readAndWrite, vintrDrop: .always, emulatorRAXCheck: .bits63to48, hsaveCheck: true,
        vnmiRequiresNMIIntercept: false, eventInjCheck: false, nestedPagingWithoutHostNPT: .fails,
        failedVMRunClearsEventInj: false, pauseOnlyIfL1Intercepts: false)

    /// Debian 6.12.117 (with the 2026 VMMCALL → #UD stable fix).
    public static let v6_12 = KernelProfile(
        name: "6.12", summary: "Linux 6.12 (as Debian 6.12.117)", vmmcallFromL2: .injectUD,
        hypervL2TLBFlushInL0: true, gpPathRAXCheck: .alignmentOnly, gpPathL2PermissionsFirst: false,
        handlerRAXCheck: false, unmappableRAX: .injectGP, invlpgaPermissionCheck: true,
        cr8Drop: .writeOnly, vintrDrop: .whenL1InterruptsDisabled, emulatorRAXCheck: .bits63to48,
        hsaveCheck: true, vnmiRequiresNMIIntercept: true, eventInjCheck: false,
        nestedPagingWithoutHostNPT: .fails, failedVMRunClearsEventInj: true, pauseOnlyIfL1Intercepts: false)

    /// kvm-x86 for 7.1 with Yosry Ahmed's March-2026 RAX series.
    public static let upstream = KernelProfile(
        name: "upstream", summary: "kvm-x86 (2026, for 7.1) with the RAX legality series",
        vmmcallFromL2: .injectUD, hypervL2TLBFlushInL0: true, gpPathRAXCheck: .pageAddressValid,
        gpPathL2PermissionsFirst: true, handlerRAXCheck: true, unmappableRAX: .memoryFailureExit,
        invlpgaPermissionCheck: true, cr8Drop: .writeOnly, vintrDrop: .whenL1InterruptsDisabled,
        emulatorRAXCheck: .unverified, hsaveCheck: true, vnmiRequiresNMIIntercept: true,
        eventInjCheck: true, nestedPagingWithoutHostNPT: .sanitized, failedVMRunClearsEventInj: true,
        pauseOnlyIfL1Intercepts: true, clearsInterceptsForMissingCPUID: true)

    /// Every shipped profile.
    public static let all: [KernelProfile] = [.v6_1, .v6_12, .upstream]

    /// The shipped profile called `name` (`6.1`, `6.12`, `upstream`, `apm`), or `nil`.
    public init?(named name: String) {
        guard let profile = Self.selectable.first(where: { $0.name == name }) else { return nil }
        self = profile
    }

    /// Builds a profile from its switches.
    public init(
        name: String, summary: String, vmmcallFromL2: VMMCALLFromL2, hypervL2TLBFlushInL0: Bool,
        gpPathRAXCheck: GPPathRAXCheck, gpPathL2PermissionsFirst: Bool, handlerRAXCheck: Bool,
        unmappableRAX: UnmappableRAX, invlpgaPermissionCheck: Bool, cr8Drop: CR8Drop, vintrDrop: VINTRDrop,
        emulatorRAXCheck: EmulatorRAXCheck, hsaveCheck: Bool, vnmiRequiresNMIIntercept: Bool,
        eventInjCheck: Bool, nestedPagingWithoutHostNPT: NestedPagingWithoutHostNPT,
        failedVMRunClearsEventInj: Bool, pauseOnlyIfL1Intercepts: Bool, clearsInterceptsForMissingCPUID: Bool = false
    ) {
        self.name = name
        self.summary = summary
        self.vmmcallFromL2 = vmmcallFromL2
        self.hypervL2TLBFlushInL0 = hypervL2TLBFlushInL0
        self.gpPathRAXCheck = gpPathRAXCheck
        self.gpPathL2PermissionsFirst = gpPathL2PermissionsFirst
        self.handlerRAXCheck = handlerRAXCheck
        self.unmappableRAX = unmappableRAX
        self.invlpgaPermissionCheck = invlpgaPermissionCheck
        self.cr8Drop = cr8Drop
        self.vintrDrop = vintrDrop
        self.emulatorRAXCheck = emulatorRAXCheck
        self.hsaveCheck = hsaveCheck
        self.vnmiRequiresNMIIntercept = vnmiRequiresNMIIntercept
        self.eventInjCheck = eventInjCheck
        self.nestedPagingWithoutHostNPT = nestedPagingWithoutHostNPT
        self.failedVMRunClearsEventInj = failedVMRunClearsEventInj
        self.pauseOnlyIfL1Intercepts = pauseOnlyIfL1Intercepts
        self.clearsInterceptsForMissingCPUID = clearsInterceptsForMissingCPUID
    }
}
