extension Rule {
    /// Which MSR permission map vmcb02 uses: L0's alone (L1 does not intercept MSRs), a fresh
    /// merge of L0's and L1's, or the previous merge kept by the enlightened MSR bitmap.
    public static let vmcb02MSRPM = Rule(
        "svm.msrpm.vmcb02", "does vmcb02's MSR permission map (L0's ∪ L1's as KVM last merged it) intercept the access?",
        kernel: "svm/nested.c:nested_svm_vmrun_msrpm")
    /// The Hyper-V enlightened MSR bitmap: with Hyper-V hypercalls on, `msr_bitmap` in vmcb12's
    /// enlightenments and the HV_VMCB_NESTED_ENLIGHTENMENTS clean bit, KVM skips the merge.
    public static let hypervMSRBitmap = Rule(
        "svm.hv.msr-bitmap-clean", "does KVM skip re-merging L1's MSR bitmap (enlightened MSR bitmap marked clean)?",
        kernel: "svm/nested.c:nested_svm_vmrun_msrpm")
    /// A Hyper-V L2 TLB-flush hypercall (6.2+) is L0's before L1's VMMCALL intercept.
    public static let hypervL2TLBFlush = Rule(
        "svm.hv.l2-tlb-flush", "is L2's VMMCALL a Hyper-V TLB-flush hypercall L1 lets L0 handle (nested_flush_hypercall, directhypercall, HV_X64_NESTED_DIRECT_FLUSH)?",
        kernel: "svm/nested.c:nested_svm_exit_special")
    /// After the flush, a non-zero `tlb_lock_count` in the partition assist page makes L0
    /// synthesize a #VMEXIT to L1 (HV_SVM_EXITCODE_ENL, TRAP_AFTER_FLUSH).
    public static let hypervTrapAfterFlush = Rule(
        "svm.hv.trap-after-flush", "is tlb_lock_count in L1's partition assist page non-zero (synthetic #VMEXIT after the flush)?",
        kernel: "hyperv.c:kvm_hv_hypercall_complete")
}

/// Hyper-V's synthetic exit code (`HV_SVM_EXITCODE_ENL`) and its TRAP_AFTER_FLUSH info.
enum HyperVExit {
    static let enlightenedExit = VMExitCode(0xf000_0000)
    static let trapAfterFlush: UInt64 = 1
    /// HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE, _LIST and their _EX forms (`kvm_hv_is_tlb_flush_hcall`).
    static let flushCodes: Set<UInt64> = [0x0002, 0x0003, 0x0013, 0x0014]
}

extension Rule {
    /// L0's bit for the last-branch MSRs follows LBR virtualization of the running VMCB.
    public static let lbrMSRIntercept = Rule(
        "svm.lbr.msr-intercept", "does L0 intercept the LBR MSRs while L2 runs (no LBR virtualization in vmcb02: neither nested LBRV nor L1's DEBUGCTL.LBR)?",
        kernel: "svm/svm.c:svm_update_lbrv")
}

/// LASTBRANCHFROMIP, LASTBRANCHTOIP, LASTINTFROMIP, LASTINTTOIP.
let lbrMSRs: Set<UInt32> = [0x1db, 0x1dc, 0x1dd, 0x1de]

/// MSRs every L0 passes through to a 64-bit guest (`direct_access_msrs` with `.always`, 6.1
/// and 6.12): the segment bases. Other MSRs' L0 bits are not modelled (an input).
private let l0AlwaysPassesMSR: Set<UInt32> = [0xc000_0100, 0xc000_0101, 0xc000_0102]

extension Evaluator {
    /// L2's RDMSR/WRMSR (`FeatureEvent.msrAccess`): whether vmcb02's merged map exits, then
    /// the MSR exit (`nested_svm_exit_handled_msr` reads L1's map as it is now).
    mutating func decideMSRAccess(_ access: MSRAccess) -> Outcome {
        let direction = access.write ? "write" : "read"
        let exit: HardwareExit = {
            var exit = HardwareExit(exitCode: .msr, exitInfo1: access.write ? 1 : 0, exitInfo2: 0, exitIntInfo: 0, exitIntInfoErr: 0, instructionBytes: access.write ? [0x0f, 0x30] : [0x0f, 0x32])
            exit.rcx = Known(UInt64(access.msr), source: "event")
            return exit
        }()
        let noExit: (String) -> Outcome = { why in
            .noExit(level: .l2, detail: "the CPU runs the \(access.write ? "WRMSR" : "RDMSR") in L2: \(why)", handler: "svm/nested.c:nested_svm_vmrun_msrpm")
        }
        let l0Bit: Known<Bool>?
        if l0AlwaysPassesMSR.contains(access.msr) {
            l0Bit = Known(false, source: "svm/svm.c:direct_access_msrs (always passed through)")
        } else if let stated = fact(FeatureFact.l0InterceptsMSR.fact) {
            l0Bit = stated
        } else if lbrMSRs.contains(access.msr) {
            l0Bit = lbrMSRsIntercepted()
        } else {
            l0Bit = nil
        }
        // The CPU exits iff the map vmcb02 uses has the bit.
        let withMap: (inout Evaluator, Known<Bool>?, String) -> Outcome = { evaluator, l1Bit, which in
            let evidence: [Evidence] = [.flag("L0 MSRPM \(Hex.format(access.msr)) \(direction)", l0Bit), .flag("\(which) \(Hex.format(access.msr)) \(direction)", l1Bit)]
            let merged: Known<Bool>? = (l0Bit?.value == true || l1Bit?.value == true)
                ? Known(true, source: "merge") : ((l0Bit != nil && l1Bit != nil) ? Known(false, source: "merge") : nil)
            guard let merged else {
                evaluator.record(.vmcb02MSRPM, evidence, .unknown)
                let fact = l0Bit == nil ? FeatureFact.l0InterceptsMSR.fact : FactID.msrpm(access.msr, write: access.write)
                return evaluator.fork(missing: [l0Bit == nil ? "L0's MSRPM bit" : which], [
                    Branch("the bit is set", [fact: true], { evaluator in evaluator.hardwareExitCode = .msr; return evaluator.decideL2Exit(exit) }),
                    Branch("the bit is clear", [fact: false], { _ in noExit("vmcb02's map does not intercept it") }),
                ])
            }
            evaluator.record(.vmcb02MSRPM, evidence, .from(merged.value))
            guard merged.value else { return noExit("vmcb02's map (\(which) merged with L0's) does not intercept it") }
            evaluator.hardwareExitCode = .msr
            return evaluator.decideL2Exit(exit)
        }
        let current = state.vmcb12.msrpm.bit(msr: access.msr, write: access.write)
        let merge: (inout Evaluator) -> Outcome = { evaluator in
            evaluator.branch(
                .vmcb02MSRPM, field: InterceptWords.fieldName(ofBit: InterceptBit.msrProt), fact: FactID.intercept(InterceptBit.msrProt),
                evaluator.l1Intercepts(InterceptBit.msrProt),
                note: "without MSR_PROT nested_svm_vmrun_msrpm returns before merging: vmcb02 keeps vmcb01's map (L0's)",
                yes: { withMap(&$0, current, "L1's MSRPM (merged at this VMRUN)") },
                no: { withMap(&$0, Known(false, source: "MSR_PROT clear"), "L1 (no MSR_PROT)") })
        }
        // The enlightened MSR bitmap's skip comes first (both 6.1 and 6.12 test it before MSR_PROT).
        let facts: [(FeatureFact, String)] = [
            (.forceMSRBitmapRecalc, "force_msr_bitmap_recalc"), (.hvHypercallEnabled, "Hyper-V hypercalls enabled"),
            (.hvMSRBitmap, "vmcb12 hv msr_bitmap"), (.hvCleanEnlightenments, "vmcb12 clean HV_VMCB_NESTED_ENLIGHTENMENTS"),
        ]
        let known = facts.map { (id, name) in (id, name, fact(id.fact)) }
        let evidence = known.map { Evidence.flag($0.1, $0.2) }
        let skipBlocked = known.contains { ($0.0 == .forceMSRBitmapRecalc) == ($0.2?.value == true) && $0.2 != nil }
        let skips = known.allSatisfy { ($0.0 == .forceMSRBitmapRecalc) != ($0.2?.value == true) && $0.2 != nil }
        if known.allSatisfy({ $0.2 == nil }) {
            // No Hyper-V fact stated: the merge happens at every VMRUN as far as the inputs go.
            return merge(&self)
        }
        if skipBlocked {
            record(.hypervMSRBitmap, evidence, .no, note: "KVM merges L1's current MSR bitmap at this VMRUN")
            return merge(&self)
        }
        let stale: (inout Evaluator) -> Outcome = { evaluator in
            withMap(&evaluator, access.lastMerge, "L1's MSRPM at KVM's last merge")
        }
        if skips {
            record(
                .hypervMSRBitmap, evidence, .yes,
                note: "L1 marked its enlightened MSR bitmap clean: vmcb02 keeps the previous merge, a bit L1 set since is not seen")
            return stale(&self)
        }
        record(.hypervMSRBitmap, evidence, .unknown)
        var skipFacts: [Fact: Bool] = [:]
        for (id, _, value) in known where value == nil { skipFacts[id.fact] = id != .forceMSRBitmapRecalc }
        return fork(missing: known.filter { $0.2 == nil }.map(\.1), [
            Branch("KVM skips the merge (clean enlightened MSR bitmap)", skipFacts, stale),
            Branch("KVM merges L1's current MSR bitmap", [:], merge),
        ])
    }

    /// `nested_svm_exit_special`'s Hyper-V case for an L2 VMMCALL (profiles with
    /// `hypervL2TLBFlushInL0`): `nil` = not L0's, continue with L1's intercepts. Consulted
    /// only when a Hyper-V fact is stated (traces carry none: the old behaviour stands).
    mutating func hypervL2TLBFlush(_ exit: HardwareExit) -> Outcome? {
        guard profile.hypervL2TLBFlushInL0 else { return nil }
        let conditions: [(FeatureFact, String)] = [
            (.hvCPUIDDirectFlush, "L1's Hyper-V CPUID HV_X64_NESTED_DIRECT_FLUSH"),
            (.hvNestedFlushHypercall, "vmcb12 hv nested_flush_hypercall"), (.hvDirectHypercall, "L1's VP assist directhypercall"),
        ]
        let known = conditions.map { ($0.0, $0.1, fact($0.0.fact)) }
        guard known.contains(where: { $0.2 != nil }) else { return nil }
        let code = exit.rcx.map { $0.value & 0xffff }
        let isFlush = code.map { Known(HyperVExit.flushCodes.contains($0), source: exit.rcx?.source ?? "event") }
        var evidence = known.map { Evidence.flag($0.1, $0.2) }
        evidence.append(Evidence(field: "hypercall code (RCX[15:0])", value: code.map { Hex.format($0) }, source: exit.rcx?.source))
        if known.contains(where: { $0.2?.value == false }) || isFlush?.value == false {
            record(.hypervL2TLBFlush, evidence, .no, note: "not an L2 TLB-flush hypercall L1 delegated: L1's VMMCALL intercept decides")
            return nil
        }
        let handled: (inout Evaluator) -> Outcome = { evaluator in
            evaluator.branch(
                .hypervTrapAfterFlush, field: "partition assist tlb_lock_count ≠ 0", fact: FeatureFact.hvTLBLockCount.fact,
                evaluator.fact(FeatureFact.hvTLBLockCount.fact),
                note: "kvm_hv_hypercall_complete reads the u32 at the partition assist page L1 named in vmcb12",
                yes: { _ in
                    .reflect(
                        HyperVExit.enlightenedExit, info1: HyperVExit.trapAfterFlush, info2: 0,
                        handler: "svm/hyperv.c:svm_hv_inject_synthetic_vmexit_post_tlb_flush",
                        detail: "L0 flushed L2's TLB, then a synthetic #VMEXIT HV_SVM_EXITCODE_ENL (TRAP_AFTER_FLUSH) tells L1")
                },
                no: { _ in
                    .l0Handles("hyperv.c:kvm_hv_hypercall", level: .l2, detail: "L0 flushes L2's TLB for L1 (direct hypercall); L2 continues after the VMMCALL")
                })
        }
        guard known.allSatisfy({ $0.2?.value == true }), let isFlush, isFlush.value else {
            record(.hypervL2TLBFlush, evidence, .unknown)
            var on: [Fact: Bool] = [:]
            for (id, _, value) in known where value == nil { on[id.fact] = true }
            let notFlush: (inout Evaluator) -> Outcome = { $0.l1Interception(exit) }
            return fork(missing: known.filter { $0.2 == nil }.map(\.1) + (isFlush == nil ? ["RCX"] : []), [
                Branch("L0 handles the Hyper-V L2 TLB flush", on, handled),
                Branch("not a delegated TLB flush", [:], notFlush),
            ])
        }
        record(.hypervL2TLBFlush, evidence, .yes, note: "nested_svm_is_l2_tlb_flush_hcall: NESTED_EXIT_HOST before L1's VMMCALL intercept")
        return handled(&self)
    }
}

extension Evaluator {
    /// While L2 runs, vmcb02 has LBR virtualization (and L0 passes the LBR MSRs through, 6.1
    /// `svm_enable_lbrv`, 6.12/upstream `svm_recalc_lbr_msr_intercepts`) when nested LBRV is on
    /// (L1's CPUID LBRV and LBR_CTL in vmcb12's virt_ext) or DEBUGCTL.LBR of the VMCB whose LBR
    /// state vmcb02 carries is set — vmcb12's with nested LBRV, else L1's (copied from vmcb01).
    mutating func lbrMSRsIntercepted() -> Known<Bool>? {
        let cpuid = state.guest.features[.lbrv] ?? fact(FactID.guestCPUID(.lbrv))
        let lbrCtl = state.vmcb12.virtExt.map { Known($0.value & 1 != 0, source: $0.source) }
        let l1LBR = fact(FeatureFact.l1DebugctlLBR.fact)
        let evidence: [Evidence] = [.flag("guest CPUID lbrv", cpuid), .flag("vmcb12 virt_ext LBR_CTL", lbrCtl), .flag("L1 DEBUGCTL.LBR at VMRUN", l1LBR)]
        let nested: Bool? = cpuid?.value == false || lbrCtl?.value == false ? false : (cpuid?.value == true && lbrCtl?.value == true ? true : nil)
        let intercepted: Bool?
        switch (nested, l1LBR?.value) {
        case (true?, _): intercepted = false
        case (false?, let lbr?): intercepted = !lbr
        default: intercepted = nil
        }
        record(.lbrMSRIntercept, evidence, intercepted.map { Answer.from($0) } ?? .unknown,
               note: nested == true ? "nested LBRV: svm_update_lbrv enables LBR virtualization for vmcb02 (vmcb12's DEBUGCTL)" : "without nested LBRV vmcb02 follows L1's DEBUGCTL.LBR")
        return intercepted.map { Known($0, source: "svm.lbr.msr-intercept") }
    }
}
