/// The yes/no facts the model forks on when an input is unknown, by name: each constant or
/// function returns a ``Fact`` (whose `description` is the stable id).
///
/// Every alternative of an undetermined outcome states its condition twice: as text for
/// people (`Alternative/condition`) and as fact ids with the value the alternative assumes
/// (`Alternative/assumptions`, e.g. `["rax.legal-page": false]`). A caller that knows a
/// fact — given in a scenario (`"assumptions": {"rax.legal-page": true}`), or settled by a
/// recorded outcome during replay — passes it in `VCPUState/assumptions`, and the model takes
/// the matching branch instead of forking. Ids are dotted and lowercase, like rule ids; they
/// change only with a note in the changelog.
public enum FactID {
    /// RAX (the operand of VMRUN/VMLOAD/VMSAVE) has bits 11:0 clear.
    public static let raxPageAligned: Fact = .raxPageAligned
    /// RAX is below 2^guest MAXPHYADDR.
    public static let raxBelowMaxPhysAddr: Fact = .raxBelowMaxPhysAddr
    /// RAX passes `page_address_valid`: page aligned and below 2^guest MAXPHYADDR.
    public static let raxLegalPage: Fact = .raxLegalPage
    /// The page at RAX (an L1 guest-physical address) is backed by a memslot.
    public static let raxBacked: Fact = .raxBacked
    /// The emulator's RAX check rejects RAX (2026 emulator, content unverified).
    public static let emulatorRejectsRAX: Fact = .emulatorRejectsRAX
    /// RAX bits 63:48 are all clear (`emulate.c:check_svme_pa` in 6.1/6.12).
    public static let raxBits63to48Clear: Fact = .raxBits63to48Clear

    /// `level`'s EFER.SVME is 1.
    public static func eferSVME(_ level: GuestLevel) -> Fact { .eferSVME(level) }
    /// `level`'s CR0.PG is 1.
    public static func paging(_ level: GuestLevel) -> Fact { .paging(level) }
    /// `level` may execute SVM instructions as far as `nested_svm_check_permissions`'s #UD
    /// test goes: EFER.SVME = 1 and CR0.PG = 1.
    public static func svmEnabled(_ level: GuestLevel) -> Fact { .svmEnabled(level) }
    /// `level` runs at CPL 0.
    public static func cpl0(_ level: GuestLevel) -> Fact { .cpl0(level) }

    /// L2 was running when the exit occurred (guest mode).
    public static let levelL2: Fact = .levelL2
    /// The vCPU is in SMM.
    public static let inSMM: Fact = .inSMM
    /// The SMI that put the vCPU in SMM arrived while L2 ran (SMRAM's guest-mode flag is set),
    /// so an RSM leaving SMM re-enters L2 (`svm/svm.c:svm_leave_smm`).
    public static let smmFromGuestMode: Fact = .smmFromGuestMode
    /// An MSR exit whose exit_info_1 is unknown was a WRMSR (bit 0 of exit_info_1).
    public static let msrExitIsWrite: Fact = .msrExitIsWrite
    /// L0 set TF itself to single-step over an NMI window (`svm->nmi_singlestep`,
    /// `svm/svm.c:svm_enable_nmi_window`).
    public static let nmiSingleStep: Fact = .nmiSingleStep
    /// vmcb12's int_ctl sets V_INTR_MASKING.
    public static let vIntrMasking: Fact = .vIntrMasking
    /// `level`'s RFLAGS.IF is 1.
    public static func rflagsIF(_ level: GuestLevel) -> Fact { .rflagsIF(level) }
    /// L0's host has vGIF (and KVM uses it).
    public static let hostVGIF: Fact = .hostVGIF
    /// GIF is set as KVM's `gif_set` sees it while L2 runs (cleared only by an L2 CLGI that L0
    /// emulates).
    public static let gif: Fact = .gif
    /// NMIs are masked (an NMI handler has not yet executed IRET: `HF_NMI_MASK` in 6.1,
    /// `nmi_masked` or vmcb's V_NMI_BLOCKING in 6.12+, `svm/svm.c:svm_get_nmi_mask`).
    public static let nmiMasked: Fact = .nmiMasked
    /// The running level is in an interrupt shadow (STI / MOV SS: `SVM_INTERRUPT_SHADOW_MASK`).
    public static let interruptShadow: Fact = .interruptShadow
    /// A nested VMRUN has been emulated but L2 has not run yet (`nested_run_pending`).
    public static let nestedRunPending: Fact = .nestedRunPending
    /// An event waits for re-injection (`kvm_event_needs_reinjection`: an exception, NMI or
    /// interrupt re-queued from EXITINTINFO by `svm_complete_interrupts`).
    public static let eventNeedsReinjection: Fact = .eventNeedsReinjection
    /// L1 may use nested vNMI: its CPUID has VNMI and L0 uses vNMI (`nested_vnmi_enabled`
    /// needs this and V_NMI_ENABLE in vmcb12).
    public static let l1VNMI: Fact = .l1VNMI
    /// vmcb12's int_ctl lets its virtual interrupt through the priority test (V_IGN_TPR, or
    /// V_INTR_PRIO > V_TPR).
    public static let vIRQPriority: Fact = .vIRQPriority
    /// vmcb12's int_ctl sets V_NMI_ENABLE.
    public static let vNMIEnable: Fact = .vNMIEnable
    /// vmcb12's int_ctl sets V_NMI_BLOCKING.
    public static let vNMIBlocking: Fact = .vNMIBlocking
    /// L1 has written a non-zero `MSR_VM_HSAVE_PA`.
    public static let hsaveSet: Fact = .hsaveSet
    /// vmcb12 enables nested paging (NP_ENABLE).
    public static let nestedPaging: Fact = .nestedPaging
    /// The walk of L1's nested page tables for the faulting GPA faults.
    public static let l1NPTWalkFaults: Fact = .l1NPTWalkFaults
    /// Every VMRUN consistency check with unknown inputs passes (its opposite: one fails).
    public static let vmrunChecksPass: Fact = .vmrunChecksPass
    /// One VMRUN consistency check passes.
    public static func vmrunCheck(_ id: String) -> Fact { .vmrunCheck(id) }
    /// L1 intercepts the exit whose bit is `bit` (vmcb12 intercept vector, bits 0–191).
    public static func intercept(_ bit: Int) -> Fact { .intercept(bit: bit) }
    /// L1's MSRPM bit for `msr` in one direction.
    public static func msrpm(_ msr: UInt32?, write: Bool) -> Fact { .msrpm(msr: msr, write: write) }
    /// L0's RDMSR/WRMSR emulation rejects `msr` with #GP (`nil`: the MSR the exit's ECX
    /// names, when ECX is unknown).
    public static func l0RejectsMSR(_ msr: UInt32?) -> Fact { .l0RejectsMSR(msr) }
    /// L1's IOPM bit for `port`.
    public static func iopm(_ port: UInt32) -> Fact { .iopm(port: port) }
    /// The instruction at RIP is `instruction` (VMRUN, VMLOAD, VMSAVE, VMMCALL).
    public static func instruction(_ name: String) -> Fact {
        let name = name.lowercased()
        return Fact.instructions.contains(name) ? .instruction(name) : Fact(parsing: "insn.\(name)")
    }

    /// The emulator executes the instruction that raised #UD (`x86.c:handle_ud`).
    public static let emulatorExecutesOnUD: Fact = .emulatorExecutesOnUD
    /// L0 emulates the instruction at an NPF instead of mapping the page.
    public static let l0EmulatesAtNPF: Fact = .l0EmulatesAtNPF
    /// L0's shadow MMU resolves the #PF (it was not the guest's own).
    public static let l0ShadowMMUResolves: Fact = .l0ShadowMMUResolves
    /// L0's host has decode assists.
    public static let hostDecodeAssists: Fact = .hostDecodeAssists
    /// L0's host debugs the guest (KVM_GUESTDBG).
    public static let hostGuestDebug: Fact = .hostGuestDebug
    /// The CR0 write changes a bit other than TS/MP (selective CR0 intercept).
    public static let cr0WriteChangesOtherBits: Fact = .cr0WriteChangesOtherBits
    /// Architectural model: the CR0 write changes bits other than TS/MP.
    public static let cr0WriteChangesNonTSMP: Fact = .cr0WriteChangesNonTSMP
    /// Architectural model: the instruction raises an exception of its own.
    public static let ownException: Fact = .ownException
    /// Architectural model: the exception was raised by the CPU for the guest's own instruction.
    public static let raisedForGuest: Fact = .raisedForGuest
    /// Architectural model: vmcb12 intercepts the vector of the instruction's own exception.
    public static let ownExceptionIntercepted: Fact = .ownExceptionIntercepted
    /// Architectural model: the RAX #GP precedes the intercept check.
    public static let raxCheckBeforeIntercept: Fact = .raxCheckBeforeIntercept
    /// Architectural model: the CPU implements SKINIT.
    public static let cpuSKINIT: Fact = .cpuSKINIT
    /// At least one IOPM bit of the ports `first`…`last` is set.
    public static func iopmAny(_ first: UInt32, _ last: UInt32) -> Fact { .iopmAny(first: first, last: last) }
    /// The guest's CPUID has `feature`.
    public static func guestCPUID(_ feature: GuestFeature) -> Fact { .guestCPUID(feature) }
    /// L0's exception bitmap intercepts `vector`.
    public static func l0InterceptsException(_ vector: UInt8) -> Fact { .l0InterceptsException(vector) }

    /// vmcb12's virt_ext sets VIRTUAL_VMLOAD_VMSAVE_ENABLE.
    public static let vmcb12VirtualVMLoadVMSave: Fact = .vmcb12VirtualVMLoadVMSave
    /// VLS is usable for L2: the guest has V_VMSAVE_VMLOAD, vmcb12 enables nested paging and
    /// virtual VMLOAD/VMSAVE (`svm/nested.c:nested_vmcb_needs_vls_intercept` is false).
    public static let vlsUsableForL2: Fact = .vlsUsableForL2
    /// `kvm force_emulation_prefix` is set (`x86.c:handle_ud` emulates after `ud2; "kvm"`).
    public static let hostForceEmulationPrefix: Fact = .hostForceEmulationPrefix
    /// L0's emulation of a CR4 write rejects the value (`x86.c:kvm_set_cr4` fails → #GP).
    public static let l0RejectsCR4Write: Fact = .l0RejectsCR4Write
    /// L0's XSETBV emulation rejects the write (`x86.c:__kvm_set_xcr` fails → #GP).
    public static let l0RejectsXSETBV: Fact = .l0RejectsXSETBV

    /// L1's RFLAGS.TF when it executed its (last) VMRUN: vmcb01's saved RFLAGS, which
    /// `svm/nested.c:nested_svm_vmexit` tests to queue a #DB for L1 after the #VMEXIT.
    public static let l1RFLAGSTF: Fact = .l1RFLAGSTF

    /// Fact ids without parameters that a scenario's `assumptions` may give.
    static let plain: Set<String> = Set([
        raxPageAligned, raxBelowMaxPhysAddr, raxLegalPage, raxBacked, emulatorRejectsRAX, raxBits63to48Clear,
        levelL2, inSMM, smmFromGuestMode, hsaveSet, nestedPaging, l1NPTWalkFaults, vmrunChecksPass,
        emulatorExecutesOnUD, l0EmulatesAtNPF, l0ShadowMMUResolves, hostDecodeAssists,
        hostGuestDebug, cr0WriteChangesOtherBits, vIntrMasking, rflagsIF(.l1), rflagsIF(.l2), hostVGIF, msrExitIsWrite, nmiSingleStep,
        vmcb12VirtualVMLoadVMSave, vlsUsableForL2, hostForceEmulationPrefix, l0RejectsCR4Write, l0RejectsXSETBV,
        gif, nmiMasked, interruptShadow, nestedRunPending, eventNeedsReinjection, l1VNMI, vIRQPriority, vNMIEnable, vNMIBlocking,
        l1RFLAGSTF,
    ].map(\.description))

    /// Whether `id` is a fact the model knows (a typo in a scenario's `assumptions` must not
    /// silently become an unused fact). Parameterised ids are checked for their shape.
    public static func isKnown(_ id: String) -> Bool {
        if plain.contains(id) { return true }
        if FeatureFact(rawValue: id) != nil { return true }
        for level in [GuestLevel.l1, .l2] where [eferSVME(level), paging(level), svmEnabled(level), cpl0(level)].map(\.description).contains(id) {
            return true
        }
        if id.hasPrefix("guest.cpuid."), GuestFeature(rawValue: String(id.dropFirst("guest.cpuid.".count))) != nil { return true }
        if id.hasPrefix("vmrun.check."), ConsistencyCheck.all.contains(where: { "vmrun.check.\($0.id)" == id }) { return true }
        if ["insn.vmrun", "insn.vmload", "insn.vmsave", "insn.vmmcall"].contains(id) { return true }
        func bracket(_ prefix: String, suffix: String = "") -> String? {
            guard id.hasPrefix(prefix + "["), id.hasSuffix("]" + suffix) else { return nil }
            return String(id.dropFirst(prefix.count + 1).dropLast(suffix.count + 1))
        }
        func number(_ text: String) -> UInt64? {
            text.hasPrefix("0x") ? UInt64(text.dropFirst(2), radix: 16) : UInt64(text)
        }
        if let inner = bracket("vmcb12.intercept"), let bit = number(inner) { return bit < 192 }
        if let inner = bracket("l0.intercepts-exception"), let vector = number(inner) { return vector < 32 }
        if let inner = bracket("l0.rejects-msr") { return inner == "ecx" || number(inner).map { $0 <= UInt64(UInt32.max) } == true }
        for direction in ["read", "write"] {
            if let inner = bracket("msrpm", suffix: ".\(direction)") { return inner == "ecx" || number(inner).map { $0 <= UInt64(UInt32.max) } == true }
        }
        if let inner = bracket("iopm", suffix: ".any") {
            let parts = inner.split(separator: "-").map(String.init)
            return parts.count == 2 && parts.allSatisfy { number($0).map { $0 <= 0x10002 } == true }
        }
        if let inner = bracket("iopm"), let port = number(inner) { return port <= 0x10002 }
        return false
    }

    /// The fact for a flag field as the rules name it in evidence, when the rule names no fact:
    /// permission-map bits and intercept bits get their structured facts, other fields the
    /// fact whose id is the field's lowercase dotted form.
    public static func of(field: String) -> Fact {
        if field.hasPrefix("msrpm[") || field.hasPrefix("iopm[") { return Fact(parsing: field) }
        if field.hasPrefix("vmcb12 intercept "), let bit = interceptBit(fieldName: field) { return intercept(bit) }
        return Fact(parsing: field.lowercased().split(separator: " ").joined(separator: "."))
    }

    /// The absolute intercept bit of an `InterceptWords.fieldName(ofBit:)` text.
    static func interceptBit(fieldName field: String) -> Int? {
        if field.hasSuffix(")"), let open = field.lastIndex(of: "("),
            let bit = Int(field[field.index(after: open)..<field.index(before: field.endIndex)].replacingOccurrences(of: "bit ", with: ""))
        {
            return bit
        }
        let words: [(String, Int)] = [("cr_read bit ", 0), ("cr_write bit ", 16), ("dr_read bit ", 32), ("dr_write bit ", 48), ("excp bit ", 64)]
        for (marker, offset) in words {
            if let range = field.range(of: marker), let n = Int(field[range.upperBound...]) { return offset + n }
        }
        return nil
    }

    /// Facts that are the conjunction of others: `whole ⇔ parts[0] ∧ parts[1] ∧ …`.
    static let conjunctions: [(whole: Fact, parts: [Fact])] = [
        (raxLegalPage, [raxPageAligned, raxBelowMaxPhysAddr]),
        (svmEnabled(.l1), [eferSVME(.l1), paging(.l1)]),
        (svmEnabled(.l2), [eferSVME(.l2), paging(.l2)]),
        (vlsUsableForL2, [guestCPUID(.vVMSaveVMLoad), nestedPaging, vmcb12VirtualVMLoadVMSave]),
    ]

    /// `facts` plus everything the conjunctions imply (a whole from all its parts, the
    /// parts from a true whole, a false whole from a false part, and the last unknown part of
    /// a false whole whose other parts are true). A fact already present is never replaced.
    public static func closure(_ facts: [Fact: Known<Bool>]) -> [Fact: Known<Bool>] {
        var out = facts
        var changed = true
        while changed {
            changed = false
            func set(_ id: Fact, _ value: Bool, _ source: String) {
                guard out[id] == nil else { return }
                out[id] = Known(value, source: source)
                changed = true
            }
            for (whole, parts) in conjunctions {
                if let known = out[whole] {
                    if known.value {
                        for part in parts { set(part, true, "implied by \(whole) = 1 [\(known.source)]") }
                    } else {
                        let unknown = parts.filter { out[$0] == nil }
                        if unknown.count == 1, parts.allSatisfy({ out[$0] == nil || out[$0]?.value == true }) {
                            set(unknown[0], false, "implied by \(whole) = 0 and the other parts = 1")
                        }
                    }
                }
                if let falsePart = parts.first(where: { out[$0]?.value == false }) {
                    set(whole, false, "implied by \(falsePart) = 0 [\(out[falsePart]?.source ?? "")]")
                } else if parts.allSatisfy({ out[$0]?.value == true }) {
                    set(whole, true, "implied by " + parts.map { "\($0) = 1" }.joined(separator: ", "))
                }
            }
        }
        return out
    }

    /// Whether `assumptions` can hold together with the known `facts` (already closed).
    public static func compatible(_ assumptions: [Fact: Bool], with facts: [Fact: Known<Bool>]) -> Bool {
        let merged = closure(facts.merging(assumptions.mapValues { Known($0, source: "assumed") }) { known, _ in known })
        for (id, value) in assumptions where merged[id]?.value != value { return false }
        // The assumptions' own consequences must not contradict a known fact either.
        let implied = closure(assumptions.mapValues { Known($0, source: "assumed") })
        for (id, value) in implied where facts[id].map({ $0.value != value.value }) == true { return false }
        return true
    }
}

extension GuestLevel {
    /// `l1` or `l2`, the prefix of this level's facts.
    var factPrefix: String { self == .l1 ? "l1" : "l2" }
}
