import Foundation

/// Facts about L0's host CPU and `kvm_amd` configuration that change L0's behaviour.
///
/// None of these is printed in a trace; the caller supplies them (`--host`, a scenario file,
/// or inference) and each carries its source.
public struct HostFacts: Sendable, Equatable, Codable {
    /// CPU has `X86_FEATURE_SVME_ADDR_CHK`. `false` ⇒ KVM intercepts #GP while the guest has
    /// EFER.SVME=1 (`svm/svm.c:svm_set_efer`, the "SVM instruction #GP" erratum path).
    public var svmeAddrChk: Known<Bool>?
    /// `kvm_amd vgif`: with vGIF, STGI/CLGI of L1 and L2 do not exit.
    public var vgif: Known<Bool>?
    /// `kvm_pause_in_guest`: the VMM disabled PAUSE exits (KVM_X86_DISABLE_EXITS_PAUSE, QEMU
    /// `-overcommit cpu-pm=on`); vmcb01 then does not intercept PAUSE (`svm/svm.c:init_vmcb`).
    public var pauseInGuest: Known<Bool>?
    /// `kvm_amd pause_filter_count`: the start and floor of L0's PLE window.
    public var pauseFilterCount: Known<UInt64>?
    /// `kvm_amd pause_filter_thresh`.
    public var pauseFilterThresh: Known<UInt64>?
    /// `kvm_amd npt`: with NPT off L0 intercepts #PF (shadow paging) and refuses nested NPT.
    public var npt: Known<Bool>?
    /// `kvm_amd nrips`: next-RIP save; without it KVM decodes to skip instructions.
    public var nrips: Known<Bool>?
    /// Decode assists: CR/DR/INVLPG exits carry their operand and KVM need not emulate.
    public var decodeAssists: Known<Bool>?
    /// Host MAXPHYADDR.
    public var maxPhysAddr: Known<Int>?
    /// `kvm_amd vls`: virtual VMLOAD/VMSAVE usable by the host.
    public var vls: Known<Bool>?
    /// `kvm enable_vmware_backdoor`: #GP always intercepted.
    public var vmwareBackdoor: Known<Bool>?
    /// The VMM debugs the guest with `KVM_GUESTDBG_SINGLESTEP` or `KVM_GUESTDBG_USE_HW_BP`:
    /// L0 keeps #DB for userspace (`svm/svm.c:db_interception`). Without
    /// `guestDebugSoftwareBreakpoints` it also stands for `KVM_GUESTDBG_USE_SW_BP` (its old
    /// meaning, "the VMM uses KVM_SET_GUEST_DEBUG").
    public var guestDebug: Known<Bool>?
    /// `KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_SW_BP`: L0 intercepts #BP
    /// (`svm/svm.c:svm_update_exception_bitmap`). Host key `guest_debug_sw_bp`.
    public var guestDebugSoftwareBreakpoints: Known<Bool>?
    /// `kvm force_emulation_prefix` (non-zero): an `ud2; .ascii "kvm"` prefix makes L0's #UD
    /// handler emulate the instruction after it (`x86.c:handle_ud`, `EMULTYPE_TRAP_UD_FORCED`).
    public var forceEmulationPrefix: Known<Bool>?

    /// Builds host facts; omitted facts are unknown.
    public init(
        svmeAddrChk: Known<Bool>? = nil, vgif: Known<Bool>? = nil, npt: Known<Bool>? = nil,
        nrips: Known<Bool>? = nil, decodeAssists: Known<Bool>? = nil, maxPhysAddr: Known<Int>? = nil,
        vls: Known<Bool>? = nil, vmwareBackdoor: Known<Bool>? = nil, guestDebug: Known<Bool>? = nil,
        guestDebugSoftwareBreakpoints: Known<Bool>? = nil, forceEmulationPrefix: Known<Bool>? = nil
    ) {
        self.svmeAddrChk = svmeAddrChk
        self.vgif = vgif
        self.npt = npt
        self.nrips = nrips
        self.decodeAssists = decodeAssists
        self.maxPhysAddr = maxPhysAddr
        self.vls = vls
        self.vmwareBackdoor = vmwareBackdoor
        self.guestDebug = guestDebug
        self.guestDebugSoftwareBreakpoints = guestDebugSoftwareBreakpoints
        self.forceEmulationPrefix = forceEmulationPrefix
    }

    /// Whether L0 intercepts #BP: `guest_debug_sw_bp` when given, else `guest_debug` in its
    /// old meaning (`svm/svm.c:svm_update_exception_bitmap` sets the #BP intercept only for
    /// `KVM_GUESTDBG_USE_SW_BP`).
    public var interceptsBreakpoint: Known<Bool>? {
        guestDebugSoftwareBreakpoints ?? guestDebug
    }

    /// The keys every host-facts listing shows (export headers, the debugger's H pane), in
    /// documentation order.
    public static let keys = [
        "svme_addr_chk", "vgif", "npt", "nrips", "decode_assists", "maxphyaddr", "vls", "vmware_backdoor", "guest_debug",
    ]
    /// Keys `init(parsing:source:)` and scenario files also accept; never inferred from a
    /// trace, so listings leave them out.
    public static let inputOnlyKeys = ["guest_debug_sw_bp", "force_emulation_prefix"] + featureKeys
    /// Every key `init(parsing:source:)` accepts.
    public static var allKeys: [String] { keys + inputOnlyKeys }

    /// Why a `--host` text could not be parsed.
    public struct ParseError: Error, Equatable, Sendable, CustomStringConvertible {
        /// One-line explanation naming the offending item.
        public var description: String
    }

    /// Parses `key=value,key=value` (`svme_addr_chk=0,vgif=1,maxphyaddr=48`); booleans are
    /// `0`/`1` (also `y`/`n`, `true`/`false`), `maxphyaddr` is a decimal number 1–64.
    /// Every parsed fact cites `source`.
    public init(parsing text: String, source: String = "--host") throws(ParseError) {
        self.init()
        for item in text.split(separator: ",", omittingEmptySubsequences: true) {
            let parts = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty else {
                throw ParseError(description: "host fact '\(item)' is not key=value")
            }
            try set(key: parts[0], value: parts[1], source: source)
        }
    }

    /// Sets one fact from its textual `key` and `value`.
    public mutating func set(key: String, value: String, source: String) throws(ParseError) {
        func flag() throws(ParseError) -> Known<Bool> {
            switch value.lowercased() {
            case "1", "y", "yes", "true", "on": return Known(true, source: source)
            case "0", "n", "no", "false", "off": return Known(false, source: source)
            default: throw ParseError(description: "host fact \(key)=\(value): expected 0 or 1")
            }
        }
        switch key {
        case "svme_addr_chk": svmeAddrChk = try flag()
        case "vgif": vgif = try flag()
        case "npt": npt = try flag()
        case "nrips": nrips = try flag()
        case "decode_assists": decodeAssists = try flag()
        case "vls": vls = try flag()
        case "vmware_backdoor": vmwareBackdoor = try flag()
        case "guest_debug": guestDebug = try flag()
        case "guest_debug_sw_bp": guestDebugSoftwareBreakpoints = try flag()
        case "force_emulation_prefix": forceEmulationPrefix = try flag()
        case "pause_in_guest": pauseInGuest = try flag()
        case "pause_filter_count", "pause_filter_thresh":
            guard let number = UInt64(value), number <= 0xffff else {
                throw ParseError(description: "host fact \(key)=\(value): expected a number 0-65535")
            }
            if key == "pause_filter_count" { pauseFilterCount = Known(number, source: source) } else { pauseFilterThresh = Known(number, source: source) }
        case "maxphyaddr":
            guard let bits = Int(value), (1...64).contains(bits) else {
                throw ParseError(description: "host fact maxphyaddr=\(value): expected a number 1-64")
            }
            maxPhysAddr = Known(bits, source: source)
        default:
            throw ParseError(
                description: "unknown host fact '\(key)' (known: \(Self.allKeys.joined(separator: ", ")))")
        }
    }

    /// These facts, with every fact `overrides` knows replacing this one's (an explicit
    /// `--host` wins over a scenario file).
    public func overridden(by overrides: HostFacts) -> HostFacts {
        var merged = HostFacts(
            svmeAddrChk: overrides.svmeAddrChk ?? svmeAddrChk, vgif: overrides.vgif ?? vgif,
            npt: overrides.npt ?? npt, nrips: overrides.nrips ?? nrips,
            decodeAssists: overrides.decodeAssists ?? decodeAssists,
            maxPhysAddr: overrides.maxPhysAddr ?? maxPhysAddr, vls: overrides.vls ?? vls,
            vmwareBackdoor: overrides.vmwareBackdoor ?? vmwareBackdoor, guestDebug: overrides.guestDebug ?? guestDebug,
            guestDebugSoftwareBreakpoints: overrides.guestDebugSoftwareBreakpoints ?? guestDebugSoftwareBreakpoints,
            forceEmulationPrefix: overrides.forceEmulationPrefix ?? forceEmulationPrefix)
        merged.pauseInGuest = overrides.pauseInGuest ?? pauseInGuest
        merged.pauseFilterCount = overrides.pauseFilterCount ?? pauseFilterCount
        merged.pauseFilterThresh = overrides.pauseFilterThresh ?? pauseFilterThresh
        return merged
    }
}
