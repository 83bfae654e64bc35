import NestedSVM
import TraceKit

/// The state of one vCPU thread as far as the trace has shown it, every value with the
/// event and line it came from (issue: "every value keeps its provenance").
///
/// It is rebuilt event by event: `kvm_nested_vmenter` / `kvm_nested_vmrun` and
/// `kvm_nested_intercepts` give vmcb12 (as L1 wrote it), `kvm_nested_vmexit_inject` ends
/// guest mode, `kvm_msr` / `kvm_cr` give EFER, CR0, CR4 and `MSR_VM_HSAVE_PA`.
/// What the trace never shows (MSRPM/IOPM bits, RAX, the DR intercept word, CPL) stays
/// unknown here; ``InferenceLedger`` adds what outcomes prove, marked as inferred.
struct TrackedVCPU: Sendable {
    /// Thread id of the vCPU.
    let pid: Int32
    /// vCPU id as the events state it.
    var vcpu: UInt32?
    /// Guest mode (L2 runs), with the line that proved it.
    var guestMode: Known<Bool>?
    /// The values the model reads, shared with the copies an exit span and a checkpoint take
    /// until one of them changes (copy on write: opening an exit copies a reference, not ~2 KB).
    private var shared = TrackedValues()
    /// Address of vmcb12 (L1's RAX at the last VMRUN).
    var vmcb12Address: Known<UInt64>? {
        _read { yield shared.values.vmcb12Address }
        set { shared.mutable.vmcb12Address = newValue }
        _modify { yield &shared.mutable.vmcb12Address }
    }
    /// vmcb12 `save.rip` at the last VMRUN (where L2 started).
    var nestedRIP: Known<UInt64>? {
        _read { yield shared.values.nestedRIP }
        set { shared.mutable.nestedRIP = newValue }
        _modify { yield &shared.mutable.nestedRIP }
    }
    /// vmcb12 as far as the trace shows it.
    var vmcb12: VMCB12 {
        _read { yield shared.values.vmcb12 }
        set { shared.mutable.vmcb12 = newValue }
        _modify { yield &shared.mutable.vmcb12 }
    }
    /// L1's registers.
    var l1: GuestRegisters {
        _read { yield shared.values.l1 }
        set { shared.mutable.l1 = newValue }
        _modify { yield &shared.mutable.l1 }
    }
    /// L2's registers.
    var l2: GuestRegisters {
        _read { yield shared.values.l2 }
        set { shared.mutable.l2 = newValue }
        _modify { yield &shared.mutable.l2 }
    }
    /// `MSR_VM_HSAVE_PA` as L1 wrote or read it.
    var hsavePA: Known<UInt64>? {
        _read { yield shared.values.hsavePA }
        set { shared.mutable.hsavePA = newValue }
        _modify { yield &shared.mutable.hsavePA }
    }
    /// Bumped whenever L1's vmcb12 configuration (intercepts, paging, address) changes, so
    /// inferences are scoped to one configuration.
    var configuration = 0
    /// Line of the event that started the current configuration.
    var configurationLine: Int?
    /// Bumped whenever a value the model reads (vmcb12, L1's and L2's registers,
    /// `MSR_VM_HSAVE_PA`) changes value; a new source for the same value does not count. The
    /// decision memo keys on it (``DecisionMemo``) instead of comparing states.
    private(set) var revision = 0
    /// The memo's id for the values at ``revision`` (``StateInterner``), once computed.
    var content: StateInterner.Stamp?
    /// L1's VMRUN, VMLOAD and VMSAVE instructions that exited so far on this thread (their own
    /// exit, or a #GP exit whose decoded instruction is one): the `"vmrun"`, `"vmload"`,
    /// `"vmsave"` scopes of a facts file. Counted when the exit closes (`Walk.close`).
    var l1Instructions: [SVMInstruction: Int] = [:]
    /// #NPF #VMEXITs reflected to L1 (`kvm_nested_vmexit_inject`): GPA and line, for a facts
    /// file that says how L1's NPF handler changes its NPT.
    var reflectedNPFs: [(gpa: UInt64, line: Int)] = []

    /// EFER MSR number (`MSR_EFER`, APM vol. 2 §3.1.7).
    static let eferMSR: UInt32 = 0xC000_0080
    /// `MSR_VM_HSAVE_PA` (APM vol. 2 §15.30.4).
    static let hsaveMSR: UInt32 = 0xC001_0117

    init(pid: Int32) { self.pid = pid }

    /// The level that runs now, if known.
    var level: Level? { guestMode.map { $0.value ? .l2 : .l1 } }

    /// The model's view of this vCPU.
    func modelState(guest: GuestFacts) -> VCPUState {
        VCPUState(
            level: guestMode.map { Known($0.value ? GuestLevel.l2 : GuestLevel.l1, from: $0.provenance) },
            vmcb12: vmcb12, l1: l1, l2: l2, hsavePA: hsavePA, inSMM: nil, guest: guest)
    }

    /// Applies one event that happened on this thread. `line` is its trace line.
    mutating func apply(_ payload: EventPayload, kind: TrackedEvent, line: Int) {
        let source = Provenance.event(name: kind.rawValue, line: line)
        switch payload {
        case .nestedVMEnter(let enter):
            guestMode = Known(true, from: source)
            let previous = (vmcb12Address?.value, vmcb12.nestedPaging?.value)
            let before = vmcb12
            vmcb12Address = Known(enter.vmcb, from: source)
            nestedRIP = Known(enter.nestedRIP, from: source)
            vmcb12.nestedPaging = Known(enter.nestedPaging, from: source)
            vmcb12.intCtl = Known(enter.intCtl, from: source)
            vmcb12.eventInj = Known(enter.eventInj, from: source)
            switch enter.pagingRoot {
            case .nestedCR3(let value): vmcb12.nestedCR3 = Known(value, from: source)
            case .guestCR3(let value): vmcb12.cr3 = Known(value, from: source)
            case .other, .none: break
            }
            // With nested paging off vmcb12's nested_cr3 is not used: an earlier VMRUN's
            // value would be stale.
            if !enter.nestedPaging { vmcb12.nestedCR3 = nil }
            if !Self.sameEntryValues(before, vmcb12) { revise() }
            // A successful VMRUN proves the consistency checks on EFER.SVME passed for L2.
            if previous.0 != enter.vmcb || previous.1 != enter.nestedPaging { bumpConfiguration(line: line) }
        case .nestedIntercepts(let words):
            let cr = UInt32(words.crRead) | UInt32(words.crWrite) << 16
            let new = InterceptWords(
                cr: Known(cr, from: source), dr: nil, exceptions: Known(words.exceptions, from: source),
                word3: Known(words.word3, from: source), word4: Known(words.word4, from: source),
                word5: words.word5.map { Known($0, from: source) })
            if !Self.sameIntercepts(vmcb12.intercepts, new) { bumpConfiguration(line: line) }
            if !Self.sameIntercepts(vmcb12.intercepts, new) || vmcb12.intercepts.dr != nil { revise() }
            vmcb12.intercepts = new
        case .nestedVMExitInject(let inject):
            guestMode = Known(false, from: source)
            if inject.exitReason.rawValue == 0x400 { reflectedNPFs.append((inject.exitInfo2, line)) }
        case .nestedVMExit(let exit):
            guestMode = Known(true, from: source)
            if let id = exit.vcpu { vcpu = id }
        case .exit(let exit):
            if let id = exit.vcpu { vcpu = id }
        case .entry(let entry):
            vcpu = entry.vcpu
        case .msr(let msr):
            guard !msr.faulted else { break }
            let value = Known(msr.data, from: source)
            let inL2 = guestMode?.value == true
            if msr.msr == Self.eferMSR {
                if (inL2 ? l2.efer : l1.efer)?.value != msr.data { revise() }
                if inL2 { l2.efer = value } else { l1.efer = value }
            } else if msr.msr == Self.hsaveMSR, !inL2 {
                if hsavePA?.value != msr.data { revise() }
                hsavePA = value
            }
        case .cr(let cr):
            let value = Known(cr.value, from: source)
            let inL2 = guestMode?.value == true
            switch cr.cr {
            case 0:
                if (inL2 ? l2.cr0 : l1.cr0)?.value != cr.value { revise() }
                if inL2 { l2.cr0 = value } else { l1.cr0 = value }
            case 4:
                if (inL2 ? l2.cr4 : l1.cr4)?.value != cr.value { revise() }
                if inL2 { l2.cr4 = value } else { l1.cr4 = value }
            default: break
            }
        default:
            break
        }
    }

    /// A value the model reads changed: a new revision, no memo id yet.
    private mutating func revise() {
        revision += 1
        content = nil
    }

    /// Whether a `kvm_nested_vmenter` left the values it sets as they were.
    private static func sameEntryValues(_ a: VMCB12, _ b: VMCB12) -> Bool {
        a.nestedPaging?.value == b.nestedPaging?.value && a.intCtl?.value == b.intCtl?.value
            && a.eventInj?.value == b.eventInj?.value && a.nestedCR3?.value == b.nestedCR3?.value
            && a.cr3?.value == b.cr3?.value
    }

    private mutating func bumpConfiguration(line: Int) {
        configuration += 1
        configurationLine = line
    }

    private static func sameIntercepts(_ a: InterceptWords, _ b: InterceptWords) -> Bool {
        a.cr?.value == b.cr?.value && a.exceptions?.value == b.exceptions?.value && a.word3?.value == b.word3?.value
            && a.word4?.value == b.word4?.value && a.word5?.value == b.word5?.value
    }
}

/// The large part of ``TrackedVCPU`` (vmcb12, both levels' registers, addresses) behind one
/// reference, copied only when written while shared.
struct TrackedValues: Sendable {
    struct Values: Sendable {
        var vmcb12Address: Known<UInt64>?
        var nestedRIP: Known<UInt64>?
        var vmcb12 = VMCB12()
        var l1 = GuestRegisters()
        var l2 = GuestRegisters()
        var hsavePA: Known<UInt64>?
    }

    /// Mutated only through ``mutable``, which copies it first unless this is its only owner.
    private final class Box: @unchecked Sendable {
        var values: Values
        init(_ values: Values) { self.values = values }
    }

    private var box = Box(Values())

    /// The values, read-only.
    var values: Values { _read { yield box.values } }

    /// The values for writing: a private copy first when another state shares them.
    var mutable: Values {
        _read { yield box.values }
        _modify {
            if !isKnownUniquelyReferenced(&box) { box = Box(box.values) }
            yield &box.values
        }
    }
}
