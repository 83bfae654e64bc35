import NestedSVM

/// Small builders for rule tables: a typical lab L1 (64-bit, CPL 0, EFER.SVME) running L2.
enum Fixture {
    static let source = "test"

    static func known<T>(_ value: T) -> Known<T> { Known(value, source: source) }

    /// Host like the `6.1/` and `6.12/` captures: SVME_ADDR_CHK, vGIF, NPT, no NRIPS.
    static let addrChkHost = HostFacts(
        svmeAddrChk: known(true), vgif: known(true), npt: known(true), nrips: known(false),
        decodeAssists: known(false), maxPhysAddr: known(48), vls: known(false), vmwareBackdoor: known(false),
        guestDebug: known(false))

    /// Host like `6.12-naples/`: no SVME_ADDR_CHK (KVM intercepts #GP), no vGIF.
    static var naplesHost: HostFacts {
        var host = addrChkHost
        host.svmeAddrChk = known(false)
        host.vgif = known(false)
        return host
    }

    /// Long-mode CPL-0 registers with EFER.SVME.
    static let longModeRegisters = GuestRegisters(
        efer: known(0x1500), cr0: known(0x8001_0031), cr4: known(0x20), cpl: known(0), interruptsEnabled: known(false))

    /// vmcb12 intercept words: word 0–2 and 3–5 known, DR word unknown.
    static func intercepts(cr: UInt32 = 0, exceptions: UInt32 = 0, word3: UInt32 = 0x0100_0000, word4: UInt32 = 1, word5: UInt32 = 0, dr: UInt32? = nil) -> InterceptWords {
        InterceptWords(
            cr: known(cr), dr: dr.map(known), exceptions: known(exceptions), word3: known(word3), word4: known(word4),
            word5: known(word5))
    }

    /// State with L2 running under the given vmcb12.
    static func l2(_ vmcb12: VMCB12 = VMCB12(intercepts: intercepts()), guest: GuestFacts = labGuest) -> VCPUState {
        VCPUState(
            level: known(.l2), vmcb12: vmcb12, l1: longModeRegisters, l2: longModeRegisters, hsavePA: known(0x30000),
            inSMM: known(false), guest: guest)
    }

    /// State with L1 running.
    static func l1(_ vmcb12: VMCB12 = VMCB12(intercepts: intercepts()), guest: GuestFacts = labGuest) -> VCPUState {
        var state = l2(vmcb12, guest: guest)
        state.level = known(.l1)
        return state
    }

    /// The lab guest: MAXPHYADDR 40, 4 MiB of RAM, long mode.
    static let labGuest = GuestFacts(
        maxPhysAddr: known(40), features: [.longMode: known(true), .nx: known(false), .rdtscp: known(true)],
        backedMemory: known([MemoryRange(start: 0, end: 0x3f_ffff)]))

    /// A complete, valid vmcb12 for VMRUN tests (values of the lab's vmcb12).
    static var validVMCB12: VMCB12 {
        VMCB12(
            intercepts: intercepts(), nestedPaging: known(false), intCtl: known(0x0100_0000), eventInj: known(0),
            asid: known(1), msrpmBase: known(0x34000), iopmBase: known(0x38000), efer: known(0x1500),
            cr0: known(0x8001_0031), cr3: known(0x1000), cr4: known(0x20), dr6: known(0xffff_0ff0), dr7: known(0x400),
            csAttributes: known(0x29b))
    }

    static func decide(_ event: Event, _ state: VCPUState, profile: KernelProfile = .v6_12, host: HostFacts = addrChkHost) -> Decision {
        DecisionModel(profile: profile, host: host).decision(for: event, state: state)
    }

    static func exit(
        _ code: VMExitCode, info1: UInt64 = 0, info2: UInt64 = 0, bytes: [UInt8]? = nil, rax: UInt64? = nil, rcx: UInt64? = nil
    ) -> Event {
        .hardwareExit(HardwareExit(exitCode: code, exitInfo1: info1, exitInfo2: info2, instructionBytes: bytes, rax: rax.map(known), rcx: rcx.map(known)))
    }
}

/// A compact, comparable summary of an outcome for tables.
enum Expect: Equatable, CustomStringConvertible {
    case reflect(VMExitCode, info1: UInt64?)
    case l0(String)
    case inject(UInt8, GuestLevel)
    case emulate
    case vmrunFails(String?)
    case vmrunSucceeds
    case userspace
    case interrupt(GuestLevel)
    case nmi(GuestLevel)
    case noExit
    case undetermined(Int)

    init(_ outcome: Outcome) {
        switch outcome.kind {
        case .reflectToL1: self = .reflect(outcome.exitCode ?? VMExitCode(0xdead), info1: outcome.exitInfo1)
        case .l0Handles: self = .l0(outcome.handler ?? "")
        case .injectException: self = .inject(outcome.vector ?? 0xff, outcome.level ?? .l1)
        case .emulate: self = .emulate
        case .vmrunFails: self = .vmrunFails(outcome.check)
        case .vmrunSucceeds: self = .vmrunSucceeds
        case .userspaceExit: self = .userspace
        case .injectInterrupt: self = .interrupt(outcome.level ?? .l1)
        case .injectNMI: self = .nmi(outcome.level ?? .l1)
        case .noExit: self = .noExit
        case .undetermined: self = .undetermined(outcome.alternatives?.count ?? 0)
        }
    }

    var description: String {
        switch self {
        case .reflect(let code, let info1): "reflect \(code) info1 \(info1.map { Hex.format($0) } ?? "?")"
        case .l0(let handler): "l0 \(handler)"
        case .inject(let vector, let level): "inject \(ExceptionVector.name(vector)) into \(level)"
        case .emulate: "emulate"
        case .vmrunFails(let check): "vmrun fails \(check ?? "?")"
        case .vmrunSucceeds: "vmrun succeeds"
        case .userspace: "userspace"
        case .interrupt(let level): "inject interrupt into \(level)"
        case .nmi(let level): "inject NMI into \(level)"
        case .noExit: "no exit"
        case .undetermined(let count): "undetermined (\(count))"
        }
    }
}

/// The shipped profile called `name`, or an error naming it. (Used instead of
/// `try #require(KernelProfile(named:))`: with the Swift 6 toolchain here the macro's
/// outlined `Result<KernelProfile, Error>` destroy crashes once `KernelProfile` grew a field.)
func namedProfile(_ name: String) throws -> KernelProfile {
    guard let profile = KernelProfile(named: name) else { throw ProfileLookupError(name: name) }
    return profile
}

/// A profile name no shipped profile has.
struct ProfileLookupError: Error, CustomStringConvertible {
    var name: String
    var description: String { "no profile named \(name)" }
}
