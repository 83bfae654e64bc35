extension Rule {
    /// L1 must have written MSR_VM_HSAVE_PA.
    public static let vmrunHsave = Rule(
        "svm.vmrun.hsave", "has L1 set MSR_VM_HSAVE_PA (hsave_msr ≠ 0)?", kernel: "svm/nested.c:nested_svm_vmrun")
    /// VMRUN in SMM raises #UD.
    public static let vmrunSMM = Rule(
        "svm.vmrun.smm", "is the vCPU in SMM (VMRUN then raises #UD)?", kernel: "svm/nested.c:nested_svm_vmrun")
    /// After all checks pass, KVM enters L2.
    public static let vmrunEnter = Rule(
        "svm.vmrun.enter", "do all consistency checks pass (enter L2)?", kernel: "svm/nested.c:enter_svm_guest_mode")
    /// A known `kvm_nested_vmenter_failed` text names its check.
    public static let vmrunFailureMessage = Rule(
        "svm.vmrun.failure-message", "which consistency check does the kvm_nested_vmenter_failed text name?",
        kernel: "svm/nested.c:nested_svm_check_cached_vmcb12")

    /// The rule of one consistency check.
    public static func consistency(_ check: ConsistencyCheck) -> Rule {
        Rule(check.ruleID, "does vmcb12 pass: \(check.requirement)?", kernel: check.kernel)
    }
}

/// Architectural EFER bits KVM can allow at all (`x86.c` `efer_reserved_bits` starts from
/// SCE|LME|LMA and adds NX, SVME, LMSLE, FFXSR, AUTOIBRS as the host supports them).
private let eferAllowedBits: UInt64 = (1 << 0) | (1 << 8) | (1 << 10) | (1 << 11) | (1 << 12) | (1 << 13) | (1 << 14) | (1 << 21)
/// EFER bits whose availability depends on the host only (LMSLE, AUTOIBRS).
private let eferHostDependentBits: UInt64 = (1 << 13) | (1 << 21)
/// CR4 bits reserved on every x86-64 CPU (bit 15 and bits 25–27, 29–63).
private let cr4AlwaysReserved: UInt64 = ~UInt64(0x1_0000_0000 - 1) | (1 << 15) | (7 << 25) | (7 << 29)
/// CR4 bits that are reserved unless the guest CPUID has the feature (UMIP, LA57, VMXE, SMXE,
/// FSGSBASE, PCIDE, OSXSAVE, KL, SMEP, SMAP, PKE, CET, PKS, LAM_SUP): `x86.c:__cr4_reserved_bits`.
private let cr4FeatureBits: UInt64 = (0xf << 11) | (0x1ff << 16) | (1 << 28)
/// The guest CPUID feature each CPUID-dependent CR4 bit needs (`x86.c:__cr4_reserved_bits`).
private let cr4FeatureOf: [(Int, GuestFeature)] = [
    (11, .umip), (12, .la57), (13, .vmx), (14, .smx), (16, .fsgsbase), (17, .pcid), (18, .xsave), (19, .keylocker),
    (20, .smep), (21, .smap), (22, .pku), (23, .cet), (24, .pks), (28, .lam),
]
/// `MSRPM_SIZE` (8 KiB) and `IOPM_SIZE` (12 KiB), `svm/svm.h`.
private let msrpmSize: UInt64 = 0x2000
private let iopmSize: UInt64 = 0x3000

extension Evaluator {
    /// `vmrun_interception` → `nested_svm_vmrun` for L1's VMRUN.
    mutating func vmrunHandler(_ exit: HardwareExit) -> Outcome {
        let handler = "svm/nested.c:nested_svm_vmrun"
        return withPermissions(.svmPermissions, level: .l1, exit: exit, handler: "svm/svm.c:vmrun_interception") { evaluator in
            evaluator.vmrunAfterPermissions(exit, handler: handler)
        }
    }

    private mutating func vmrunAfterPermissions(_ exit: HardwareExit, handler: String) -> Outcome {
        let gp: (inout Evaluator) -> Outcome = {
            $0.queueException(ExceptionVector.generalProtection, errorCode: 0, level: .l1, after: exit, by: handler)
        }
        let afterSMM: (inout Evaluator) -> Outcome = { evaluator in
            evaluator.handlerRAXThenMap(exit, level: .l1, handler: handler) { $0.vmrunChecks(exit) }
        }
        let afterHsave: (inout Evaluator) -> Outcome = { evaluator in
            evaluator.branch(
                .vmrunSMM, field: "vCPU in SMM", fact: FactID.inSMM, evaluator.state.inSMM,
                yes: { $0.queueException(ExceptionVector.invalidOpcode, errorCode: nil, level: .l1, after: exit, by: handler) },
                no: afterSMM)
        }
        guard profile.hsaveCheck else { return afterHsave(&self) }
        let set = state.hsavePA.map { Known($0.value != 0, source: $0.source) }
        return branch(
            .vmrunHsave, field: "MSR_VM_HSAVE_PA ≠ 0", fact: FactID.hsaveSet, set, extra: [.hex("MSR_VM_HSAVE_PA", state.hsavePA)],
            note: profile.name == "6.1" ? nil : "6.2+: an invalid Hyper-V VP assist page also raises #GP here (not an input)",
            yes: afterHsave, no: gp)
    }

    /// The consistency checks, then entry.
    mutating func vmrunChecks(_ exit: HardwareExit) -> Outcome {
        var unknown: [String] = []
        for check in ConsistencyCheck.all {
            guard let (computed, evidence, note) = evaluate(check) else { continue }
            let rule = Rule.consistency(check)
            var passes = computed
            var factEvidence: [Evidence] = []
            if passes == nil, let known = fact(FactID.vmrunCheck(check.id)) {
                passes = known.value
                factEvidence = [Evidence(field: "fact \(FactID.vmrunCheck(check.id))", value: known.value ? "1" : "0", source: known.source)]
            }
            guard let passes else {
                record(rule, evidence, .unknown, note: note)
                unknown.append(check.id)
                continue
            }
            record(rule, evidence + factEvidence, passes ? .yes : "no: VMEXIT_INVALID", note: note)
            if !passes {
                var detail = check.afterEntry
                    ? "after kvm_nested_vmenter: out_exit_err → nested_svm_vmexit (kvm_nested_vmexit_inject reason 0xffffffff)"
                    : "vmcb12 exit_code -1, exit_code_hi -1u, info 0, GIF cleared" + (profile.failedVMRunClearsEventInj ? ", event_inj cleared" : "") + "; no kvm_nested_vmexit_inject; L1 resumes after VMRUN"
                if !unknown.isEmpty { detail += "; an earlier check with unknown inputs (\(unknown.joined(separator: ", "))) may fail first" }
                return .vmrunFails(check: check.id, detail: detail)
            }
        }
        if !unknown.isEmpty {
            record(.vmrunEnter, unknown.map { Evidence(field: "check \($0)", value: nil) }, .unknown)
            var passAll: [Fact: Bool] = [:]
            for id in unknown { passAll[FactID.vmrunCheck(id)] = true }
            return fork(missing: unknown.map { "inputs of check \($0)" }, [
                Branch("checks \(unknown.joined(separator: ", ")) pass", passAll) { _ in
                    .vmrunSucceeds(detail: "kvm_nested_vmenter, kvm_nested_intercepts; L2 runs at vmcb12 RIP")
                },
                Branch("one of checks \(unknown.joined(separator: ", ")) fails", [FactID.vmrunChecksPass: false]) { _ in
                    .vmrunFails(check: nil, detail: "VMEXIT_INVALID")
                },
            ])
        }
        record(.vmrunEnter, [], .yes)
        return .vmrunSucceeds(detail: "kvm_nested_vmenter, kvm_nested_intercepts; L2 runs at vmcb12 RIP")
    }

    /// Evaluates one check: `nil` when the check does not exist in this profile; otherwise
    /// (passes or `nil` when unknown, evidence, note).
    private func evaluate(_ check: ConsistencyCheck) -> (Bool?, [Evidence], String?)? {
        let vmcb = state.vmcb12
        func bitSet(_ value: Known<UInt64>?, _ mask: UInt64) -> Bool? { value.map { $0.value & mask != 0 } }
        let longMode: Bool? = {
            guard let lme = bitSet(vmcb.efer, RegisterBit.eferLME), let pg = bitSet(vmcb.cr0, RegisterBit.cr0PG) else {
                if bitSet(vmcb.efer, RegisterBit.eferLME) == false || bitSet(vmcb.cr0, RegisterBit.cr0PG) == false { return false }
                return nil
            }
            return lme && pg
        }()
        let longModeEvidence: [Evidence] = [.hex("vmcb12 EFER", vmcb.efer), .hex("vmcb12 CR0", vmcb.cr0)]
        let nestedPaging = vmcb.nestedPaging?.value
        switch check.id {
        case "efer-svme":
            return (bitSet(vmcb.efer, RegisterBit.eferSVME), [.hex("vmcb12 EFER", vmcb.efer)], nil)
        case "cr0-cd-nw":
            return (vmcb.cr0.map { !($0.value & RegisterBit.cr0CD == 0 && $0.value & RegisterBit.cr0NW != 0) }, [.hex("vmcb12 CR0", vmcb.cr0)], nil)
        case "cr0-upper":
            return (vmcb.cr0.map { $0.value >> 32 == 0 }, [.hex("vmcb12 CR0", vmcb.cr0)], nil)
        case "dr6-upper":
            return (vmcb.dr6.map { $0.value >> 32 == 0 }, [.hex("vmcb12 DR6", vmcb.dr6)], nil)
        case "dr7-upper":
            return (vmcb.dr7.map { $0.value >> 32 == 0 }, [.hex("vmcb12 DR7", vmcb.dr7)], nil)
        case "long-mode-pae", "long-mode-pe", "long-mode-cr3", "long-mode-cs":
            if longMode == false { return (true, longModeEvidence, "applies only with EFER.LME and CR0.PG") }
            let inner: (Bool?, Evidence)
            switch check.id {
            case "long-mode-pae": inner = (bitSet(vmcb.cr4, RegisterBit.cr4PAE), .hex("vmcb12 CR4", vmcb.cr4))
            case "long-mode-pe": inner = (bitSet(vmcb.cr0, RegisterBit.cr0PE), .hex("vmcb12 CR0.PE", vmcb.cr0.map { Known($0.value & RegisterBit.cr0PE, source: $0.source) }))
            case "long-mode-cr3": inner = (legalGPA(vmcb.cr3?.value), .hex("vmcb12 CR3", vmcb.cr3))
            default: inner = (vmcb.csAttributes.map { !($0.value & RegisterBit.csL != 0 && $0.value & RegisterBit.csDB != 0) }, .hex("vmcb12 CS attrib", vmcb.csAttributes))
            }
            if longMode == nil, inner.0 == true { return (true, longModeEvidence + [inner.1], nil) }
            return (longMode == nil ? nil : inner.0, longModeEvidence + [inner.1], nil)
        case "cr4-valid":
            guard let cr4 = vmcb.cr4 else { return (nil, [.hex("vmcb12 CR4", nil as Known<UInt64>?)], nil) }
            if cr4.value & cr4AlwaysReserved != 0 { return (false, [.hex("vmcb12 CR4", cr4)], "a reserved CR4 bit is set") }
            if cr4.value & cr4FeatureBits != 0 {
                // x86.c:__cr4_reserved_bits: each feature bit is reserved unless guest CPUID has it.
                var evidence: [Evidence] = [.hex("vmcb12 CR4", cr4)]
                var unknownBits: [Int] = []
                for (bit, feature) in cr4FeatureOf where cr4.value & (1 << UInt64(bit)) != 0 {
                    let has = state.guest.features[feature]
                    evidence.append(.flag("guest CPUID \(feature.rawValue) (CR4 bit \(bit))", has))
                    guard let has else { unknownBits.append(bit); continue }
                    if !has.value { return (false, evidence, "CR4 bit \(bit) needs guest CPUID \(feature.rawValue) (x86.c:__cr4_reserved_bits)") }
                }
                if !unknownBits.isEmpty {
                    return (nil, evidence, "CR4 bits \(unknownBits.map(String.init).joined(separator: ", ")) are valid only with the matching guest CPUID feature (give guest.cpuid)")
                }
                return (true, evidence, nil)
            }
            return (true, [.hex("vmcb12 CR4", cr4)], nil)
        case "efer-valid":
            guard let efer = vmcb.efer else { return (nil, [.hex("vmcb12 EFER", nil as Known<UInt64>?)], nil) }
            var evidence: [Evidence] = [.hex("vmcb12 EFER", efer)]
            if efer.value & ~eferAllowedBits != 0 { return (false, evidence, "a bit KVM never allows is set") }
            var unknown = efer.value & eferHostDependentBits != 0
            let needs: [(UInt64, GuestFeature)] = [
                (RegisterBit.eferLME | RegisterBit.eferLMA, .longMode), (RegisterBit.eferNX, .nx), (RegisterBit.eferFFXSR, .fxsrOpt),
            ]
            for (mask, feature) in needs where efer.value & mask != 0 {
                let has = state.guest.features[feature]
                evidence.append(.flag("guest CPUID \(feature.rawValue)", has))
                guard let has else { unknown = true; continue }
                if !has.value { return (false, evidence, nil) }
            }
            return (unknown ? nil : true, evidence, unknown ? "LMSLE/AUTOIBRS depend on the host; other bits on guest CPUID" : nil)
        case "vmrun-intercept":
            return (l1Intercepts(InterceptBit.vmrun)?.value, [.flag(InterceptWords.fieldName(ofBit: InterceptBit.vmrun), l1Intercepts(InterceptBit.vmrun))], nil)
        case "asid":
            return (vmcb.asid.map { $0.value != 0 }, [.hex("vmcb12 ASID", vmcb.asid)], nil)
        case "np-host-npt":
            let evidence: [Evidence] = [.flag("vmcb12 NP_ENABLE", vmcb.nestedPaging), .flag("host npt", host.npt)]
            if profile.nestedPagingWithoutHostNPT == .sanitized {
                return (true, evidence + [.profile("NP without host NPT", "sanitized", profile)], "2026 kvm-x86 clears NP_ENABLE instead of failing")
            }
            if nestedPaging == false || host.npt?.value == true { return (true, evidence, nil) }
            if nestedPaging == true, host.npt?.value == false { return (false, evidence, nil) }
            return (nil, evidence, nil)
        case "nested-cr3":
            let evidence: [Evidence] = [.flag("vmcb12 NP_ENABLE", vmcb.nestedPaging), .hex("vmcb12 nested_cr3", vmcb.nestedCR3)]
            if nestedPaging == false { return (true, evidence, nil) }
            let legal = legalGPA(vmcb.nestedCR3?.value)
            if legal == true { return (true, evidence, nil) }
            return (nestedPaging == nil ? nil : legal, evidence, nil)
        case "msrpm-base", "iopm-base":
            let isMSRPM = check.id == "msrpm-base"
            let base = isMSRPM ? vmcb.msrpmBase : vmcb.iopmBase
            let size = isMSRPM ? msrpmSize : iopmSize
            let evidence: [Evidence] = [.hex(isMSRPM ? "vmcb12 msrpm_base_pa" : "vmcb12 iopm_base_pa", base)]
            guard let base else { return (nil, evidence, nil) }
            // nested_copy_vmcb_control_to_cache clears bits 11:0 before the check, so the
            // PAGE_ALIGN of nested_svm_check_bitmap_pa never rounds up.
            let aligned = base.value & ~RegisterBit.pageOffsetMask
            guard let first = legalGPA(aligned), let last = legalGPA(aligned &+ size &- 1) else { return (nil, evidence, nil) }
            return (first && last, evidence + [.hex("base as cached (bits 11:0 cleared)", Known(aligned, source: "svm/nested.c:nested_copy_vmcb_control_to_cache"))], nil)
        case "vnmi-nmi-intercept":
            guard profile.vnmiRequiresNMIIntercept else { return nil }
            let enabled = vmcb.intCtl.map { $0.value & RegisterBit.vNMIEnable != 0 }
            let evidence: [Evidence] = [.hex("vmcb12 int_ctl", vmcb.intCtl), .flag(InterceptWords.fieldName(ofBit: InterceptBit.nmi), l1Intercepts(InterceptBit.nmi))]
            if enabled == false { return (true, evidence, nil) }
            let nmi = l1Intercepts(InterceptBit.nmi)?.value
            if nmi == true { return (true, evidence, nil) }
            return (enabled == nil || nmi == nil ? nil : false, evidence, nil)
        case "event-inj":
            guard profile.eventInjCheck else { return nil }
            guard let inj = vmcb.eventInj else { return (nil, [.hex("vmcb12 event_inj", nil as Known<UInt32>?)], nil) }
            return (Self.validEventInjection(inj.value), [.hex("vmcb12 event_inj", inj)], "rule per the 2026 kvm-x86 snapshot (type/vector/reserved bits); unverified against a release")
        case "load-cr3":
            return (legalGPA(vmcb.cr3?.value), [.hex("vmcb12 CR3", vmcb.cr3)], nil)
        case "load-pdptrs":
            let evidence: [Evidence] = longModeEvidence + [.hex("vmcb12 CR4", vmcb.cr4), .flag("vmcb12 NP_ENABLE", vmcb.nestedPaging)]
            if nestedPaging == true || longMode == true || bitSet(vmcb.cr4, RegisterBit.cr4PAE) == false || bitSet(vmcb.cr0, RegisterBit.cr0PG) == false {
                return (true, evidence, "applies only to legacy PAE paging without nested NPT")
            }
            return (nil, evidence, "the PDPTEs in guest memory are not an input")
        case "msrpm-read":
            // Without MSR_PROT nested_svm_vmrun_msrpm reads nothing: the check does not run.
            if l1Intercepts(InterceptBit.msrProt)?.value == false { return nil }
            return msrpmRead()
        default:
            return nil
        }
    }

    /// `kvm_vcpu_is_legal_gpa`: below 2^guest MAXPHYADDR; `nil` when either is unknown.
    func legalGPA(_ address: UInt64?) -> Bool? {
        guard let address, let bits = state.guest.maxPhysAddr?.value else { return nil }
        return bits >= 64 || address >> UInt64(bits) == 0
    }

    /// EVENTINJ validity: invalid bit 31 clear is fine; otherwise type must be 0, 2, 3 or 4,
    /// NMI must use vector 2, an exception must not use vector 2 and must be < 32, bits 30:12
    /// reserved.
    static func validEventInjection(_ value: UInt32) -> Bool {
        // 2026 kvm-x86 (nested_svm_check_event_inj): bits 30:12 are ignored, an NMI may carry
        // any vector, an exception must be one that exists (not 9, 15, 20, 22–27, 31, nor ≥ 32);
        // types 1, 5, 6, 7 are reserved. Exception vector 2 is left to the CPU (hw-event-inj).
        guard value & EventInjection.validBit != 0 else { return true }
        let type = (value & EventInjection.typeMask) >> 8
        let vector = value & 0xff
        switch type {
        case 0, 2, 4: return true
        case 3: return vector < 32 && ![9, 15, 20, 22, 23, 24, 25, 26, 27, 31].contains(vector)
        default: return false
        }
    }

    /// The CPU's own EVENTINJ check (APM vol. 2 "Event Injection"): an exception-type event with
    /// vector 2 (NMI) is not KVM's to reject: KVM enters L2 (`kvm_nested_vmenter`) and the
    /// CPU's VMRUN of vmcb02 fails, which arrives as the next exit, VMEXIT_INVALID while L2
    /// runs, always reflected (`svm.intercept.invalid`). QEMU TCG does not check it (the lab's
    /// `vmrun-check-eventinj-bad-vector` capture enters L2).
    static func hardwareAcceptsEventInjection(_ value: UInt32) -> Bool {
        guard value & EventInjection.validBit != 0 else { return true }
        return !((value & EventInjection.typeMask) >> 8 == 3 && value & 0xff == 2)
    }

    /// Whether this profile's kernel runs `check` at all.
    func profileHas(_ check: ConsistencyCheck) -> Bool {
        switch check.id {
        case "vnmi-nmi-intercept": profile.vnmiRequiresNMIIntercept
        case "event-inj": profile.eventInjCheck
        case "np-host-npt": profile.nestedPagingWithoutHostNPT == .fails
        default: true
        }
    }

    /// Maps a known `kvm_nested_vmenter_failed` text to its check.
    mutating func decideConsistencyFailureMessage(_ message: String) -> Outcome {
        guard let check = ConsistencyCheck.check(forMessage: message) else {
            record(.vmrunFailureMessage, [.event("message", message)], .unknown, note: "no known check prints this text")
            return .vmrunFails(check: nil, detail: "unrecognized kvm_nested_vmenter_failed text")
        }
        if !profileHas(check) {
            record(
                .vmrunFailureMessage, [.event("message", message), .profile("has check \(check.id)", "no", profile)],
                Answer(rawValue: "\(check.id), which profile \(profile.name) does not have"),
                note: "this kernel cannot fail VMRUN with this text: the trace comes from another kernel")
            return .vmrunSucceeds(detail: "profile \(profile.name) has no check \(check.id); its VMRUN would not fail here")
        }
        record(.vmrunFailureMessage, [.event("message", message)], Answer(rawValue: check.id))
        record(Rule.consistency(check), [.event("kvm_nested_vmenter_failed", message)], "no: VMEXIT_INVALID")
        let detail = check.afterEntry
            ? "after kvm_nested_vmenter: out_exit_err → nested_svm_vmexit (kvm_nested_vmexit_inject reason 0xffffffff)"
            : "vmcb12 exit_code -1, exit_code_hi -1u, info 0; no kvm_nested_vmexit_inject; L1 resumes after VMRUN"
        return .vmrunFails(check: check.id, detail: detail)
    }
}
