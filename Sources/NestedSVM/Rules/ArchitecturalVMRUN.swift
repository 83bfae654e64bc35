/// CR4 bits reserved on every x86-64 CPU (bit 15, bits 25–27, 29–63).
private let cr4AlwaysMBZ: UInt64 = ~UInt64(0x1_0000_0000 - 1) | (1 << 15) | (7 << 25) | (7 << 29)
/// CR4 bits that are MBZ unless the CPU has the feature (UMIP … LAM_SUP, PKS, CET, …).
private let cr4FeatureBits: UInt64 = (0xf << 11) | (0x1ff << 16) | (1 << 28)
/// EFER bits an AMD64 CPU may implement (SCE, LME, LMA, NXE, SVME, LMSLE, FFXSR, TCE, AUTOIBRS).
private let eferDefinedBits: UInt64 = (1 << 0) | (1 << 8) | (1 << 10) | (1 << 11) | (1 << 12) | (1 << 13) | (1 << 14) | (1 << 15) | (1 << 21)
/// EFER bits whose support is not an input (LMSLE, TCE, AUTOIBRS).
private let eferUnknownSupportBits: UInt64 = (1 << 13) | (1 << 15) | (1 << 21)

extension APMConsistencyCheck {
    /// The verdict on an EVENTINJ value: legal, illegal, or undecided (with why).
    public static func eventInjectionVerdict(_ value: UInt32) -> (legal: Bool?, note: String?) {
        guard value & EventInjection.validBit != 0 else { return (true, "V = 0: nothing to inject") }
        let type = (value & EventInjection.typeMask) >> 8
        let vector = value & 0xff
        switch type {
        case 1, 5, 6, 7: return (false, "type \(type) is reserved")
        case 3 where vector == 2: return (false, "an exception with vector 2 (NMI)")
        case 3 where vector > 31: return (false, "an exception vector above 31")
        case 3 where vector == 31: return (nil, "exception vector 31: QEMU rejects vectors ≥ 31, the APM text is not at hand")
        default: break
        }
        if value & 0x7fff_f000 != 0 {
            return (nil, "reserved bits 30:12 set: QEMU ignores them, the APM text is not at hand")
        }
        if type == 2 && vector != 2 { return (true, "NMI type: QEMU delivers an NMI whatever the vector") }
        return (true, nil)
    }
}

extension Evaluator {
    /// One APM check on vmcb12: (passes, or nil when unknown; evidence; note).
    private func apmEvaluate(_ check: APMConsistencyCheck) -> (Bool?, [Evidence], String?) {
        let vmcb = state.vmcb12
        func bitSet(_ value: Known<UInt64>?, _ mask: UInt64) -> Bool? { value.map { $0.value & mask != 0 } }
        let lme = bitSet(vmcb.efer, RegisterBit.eferLME)
        let pg = bitSet(vmcb.cr0, RegisterBit.cr0PG)
        let longMode: Bool? = (lme == false || pg == false) ? false : (lme == true && pg == true ? true : nil)
        let longModeEvidence: [Evidence] = [.hex("vmcb12 EFER", vmcb.efer), .hex("vmcb12 CR0", vmcb.cr0)]
        switch check.id {
        case "efer-svme":
            return (bitSet(vmcb.efer, RegisterBit.eferSVME), [.hex("vmcb12 EFER", vmcb.efer)], nil)
        case "cr0-cd-nw":
            return (vmcb.cr0.map { !($0.value & RegisterBit.cr0CD == 0 && $0.value & RegisterBit.cr0NW != 0) }, [.hex("vmcb12 CR0", vmcb.cr0)], nil)
        case "cr0-upper":
            return (vmcb.cr0.map { $0.value >> 32 == 0 }, [.hex("vmcb12 CR0", vmcb.cr0)], nil)
        case "cr3-mbz":
            return (legalGPA(vmcb.cr3?.value), [.hex("vmcb12 CR3", vmcb.cr3)], "MBZ: the bits at and above L1's MAXPHYADDR")
        case "cr4-mbz":
            guard let cr4 = vmcb.cr4 else { return (nil, [.hex("vmcb12 CR4", nil as Known<UInt64>?)], nil) }
            if cr4.value & cr4AlwaysMBZ != 0 { return (false, [.hex("vmcb12 CR4", cr4)], "a bit reserved on every CPU") }
            if cr4.value & cr4FeatureBits != 0 { return (nil, [.hex("vmcb12 CR4", cr4)], "a feature bit: MBZ unless the CPU L1 sees has it (not an input)") }
            return (true, [.hex("vmcb12 CR4", cr4)], nil)
        case "dr6-upper":
            return (vmcb.dr6.map { $0.value >> 32 == 0 }, [.hex("vmcb12 DR6", vmcb.dr6)], nil)
        case "dr7-upper":
            return (vmcb.dr7.map { $0.value >> 32 == 0 }, [.hex("vmcb12 DR7", vmcb.dr7)], nil)
        case "efer-mbz":
            guard let efer = vmcb.efer else { return (nil, [.hex("vmcb12 EFER", nil as Known<UInt64>?)], nil) }
            var evidence: [Evidence] = [.hex("vmcb12 EFER", efer)]
            if efer.value & ~eferDefinedBits != 0 { return (false, evidence, "an undefined EFER bit") }
            var unknown = efer.value & eferUnknownSupportBits != 0
            for (mask, feature) in [(RegisterBit.eferLME | RegisterBit.eferLMA, GuestFeature.longMode), (RegisterBit.eferNX, .nx), (RegisterBit.eferFFXSR, .fxsrOpt)]
            where efer.value & mask != 0 {
                let has = state.guest.features[feature]
                evidence.append(.flag("L1 CPUID \(feature.rawValue)", has))
                guard let has else { unknown = true; continue }
                if !has.value { return (false, evidence, "the CPU L1 sees lacks \(feature.rawValue)") }
            }
            return (unknown ? nil : true, evidence, unknown ? "support of LMSLE/TCE/AUTOIBRS or a CPUID feature is not an input" : nil)
        case "long-mode-pae", "long-mode-pe", "long-mode-cs":
            if longMode == false { return (true, longModeEvidence, "applies only with EFER.LME and CR0.PG") }
            let inner: (Bool?, Evidence)
            switch check.id {
            case "long-mode-pae": inner = (bitSet(vmcb.cr4, RegisterBit.cr4PAE), .hex("vmcb12 CR4", vmcb.cr4))
            case "long-mode-pe": inner = (bitSet(vmcb.cr0, RegisterBit.cr0PE), .hex("vmcb12 CR0", vmcb.cr0))
            default:
                let lAndD = vmcb.csAttributes.map { $0.value & RegisterBit.csL != 0 && $0.value & RegisterBit.csDB != 0 }
                let pae = bitSet(vmcb.cr4, RegisterBit.cr4PAE)
                let passes: Bool? = lAndD == false || pae == false ? true : (lAndD == true && pae == true ? false : nil)
                inner = (passes, .hex("vmcb12 CS attrib", vmcb.csAttributes))
            }
            if inner.0 == true { return (true, longModeEvidence + [inner.1], nil) }
            return (longMode == nil ? nil : inner.0, longModeEvidence + [inner.1], nil)
        case "vmrun-intercept":
            let bit = l1Intercepts(InterceptBit.vmrun)
            return (bit?.value, [.flag(InterceptWords.fieldName(ofBit: InterceptBit.vmrun), bit)], nil)
        case "msrpm-base", "iopm-base":
            let isMSRPM = check.id == "msrpm-base"
            let base = isMSRPM ? vmcb.msrpmBase : vmcb.iopmBase
            let size: UInt64 = isMSRPM ? 0x2000 : 0x3000
            let evidence: [Evidence] = [.hex(isMSRPM ? "vmcb12 msrpm_base_pa" : "vmcb12 iopm_base_pa", base)]
            guard let base else { return (nil, evidence, nil) }
            let start = base.value & ~RegisterBit.pageOffsetMask
            guard let last = legalGPA(start &+ size &- 1) else { return (nil, evidence, nil) }
            return (last, evidence, nil)
        case "event-inj":
            guard let inj = vmcb.eventInj else { return (nil, [.hex("vmcb12 event_inj", nil as Known<UInt32>?)], nil) }
            let verdict = APMConsistencyCheck.eventInjectionVerdict(inj.value)
            return (verdict.legal, [.hex("vmcb12 event_inj", inj)], verdict.note)
        case "asid":
            return (vmcb.asid.map { $0.value != 0 }, [.hex("vmcb12 ASID", vmcb.asid)], nil)
        case "ncr3-valid":
            let evidence: [Evidence] = [.flag("vmcb12 NP_ENABLE", vmcb.nestedPaging), .hex("vmcb12 nested_cr3", vmcb.nestedCR3)]
            if vmcb.nestedPaging?.value == false { return (true, evidence, nil) }
            if legalGPA(vmcb.nestedCR3?.value) == true { return (true, evidence, nil) }
            return (nil, evidence, vmcb.nestedPaging == nil ? nil : "an illegal or unknown nCR3: whether VMRUN checks it has no source at hand")
        case "vnmi-nmi-intercept":
            let enabled = vmcb.intCtl.map { $0.value & RegisterBit.vNMIEnable != 0 }
            let nmi = l1Intercepts(InterceptBit.nmi)
            let evidence: [Evidence] = [.hex("vmcb12 int_ctl", vmcb.intCtl), .flag(InterceptWords.fieldName(ofBit: InterceptBit.nmi), nmi)]
            if enabled == false || nmi?.value == true { return (true, evidence, nil) }
            return (nil, evidence, "V_NMI_ENABLE without the NMI intercept: no source at hand")
        default:
            return (nil, [], nil)
        }
    }

    /// The fact id under which a check's result is consulted and assumed: KVM's check of the
    /// same condition when there is one (so a successful VMRUN under a kernel profile settles
    /// it), else `vmrun.check.apm-<id>`.
    static func apmCheckFact(_ check: APMConsistencyCheck) -> Fact {
        FactID.vmrunCheck(check.kvmCheck ?? "apm-\(check.id)")
    }

    /// VMRUN's consistency checks (APM vol. 2 §15.5.1), then entry.
    mutating func apmVMRUN() -> Outcome {
        record(
            .apmHsave, [.hex("MSR_VM_HSAVE_PA", state.hsavePA)], .no,
            note: "the host state is stored at VM_HSAVE_PA; the list of VMRUN checks has no condition on it")
        var unknown: [APMConsistencyCheck] = []
        for check in APMConsistencyCheck.all {
            let rule = Rule.apmConsistency(check)
            var (passes, evidence, note) = apmEvaluate(check)
            if passes == nil, let known = fact(Self.apmCheckFact(check)), known.value {
                passes = true
                evidence.append(Evidence(field: "fact \(Self.apmCheckFact(check))", value: "1", source: known.source))
            }
            guard let passes else {
                record(rule, evidence, .unknown, note: note)
                unknown.append(check)
                continue
            }
            record(rule, evidence, passes ? .yes : "no: VMEXIT_INVALID", note: note)
            if !passes {
                var detail = "VMRUN ends in #VMEXIT(VMEXIT_INVALID): L1 resumes after VMRUN with exit code -1"
                if !unknown.isEmpty { detail += "; an earlier check with unknown inputs (\(unknown.map(\.id).joined(separator: ", "))) may fail first" }
                return Self.apmVMRUNFails(check.id, detail: detail)
            }
        }
        let succeeds = Self.apmVMRUNSucceeds(state.vmcb12.eventInj)
        if unknown.isEmpty {
            record(.apmVMRUNEnter, [], .yes)
            return succeeds
        }
        record(.apmVMRUNEnter, unknown.map { Evidence(field: "check \($0.id)", value: nil) }, .unknown)
        var passAll: [Fact: Bool] = [:]
        for check in unknown { passAll[Self.apmCheckFact(check)] = true }
        let ids = unknown.map(\.id).joined(separator: ", ")
        return fork(missing: unknown.map { "inputs of check \($0.id)" }, [
            Branch("checks \(ids) pass", passAll) { _ in succeeds },
            Branch("one of checks \(ids) fails", [FactID.vmrunChecksPass: false]) { _ in
                Self.apmVMRUNFails(nil, detail: "VMRUN ends in #VMEXIT(VMEXIT_INVALID)")
            },
        ])
    }

    /// VMEXIT_INVALID for check `id`.
    static func apmVMRUNFails(_ id: String?, detail: String) -> Outcome {
        Outcome(
            kind: .vmrunFails, exitCode: .invalid, exitInfo1: 0, exitInfo2: 0, level: .l1,
            handler: "architecture: VMRUN consistency check", detail: detail, check: id)
    }

    /// Entry into L2; a valid EVENTINJ is delivered without intercept checks.
    static func apmVMRUNSucceeds(_ eventInj: Known<UInt32>?) -> Outcome {
        var detail = "L2 runs at vmcb12 RIP"
        if let inj = eventInj, inj.value & EventInjection.validBit != 0 {
            detail += "; EVENTINJ \(Hex.format(inj.value, width: 8)) is delivered to L2 first, not checked against the exception intercepts (QEMU svm_helper.c:helper_vmrun, independent implementation)"
        }
        return Outcome(kind: .vmrunSucceeds, level: .l2, handler: "architecture: VMRUN enters guest mode", detail: detail)
    }

    /// A `kvm_nested_vmenter_failed` message: a check the APM has too (VMRUN fails), a check it
    /// lacks (the remaining APM checks decide, with the checks KVM ran before as passed), or a
    /// check no source at hand decides (fork).
    mutating func apmConsistencyFailure(_ message: String) -> Outcome {
        guard let kvm = ConsistencyCheck.check(forMessage: message) else {
            record(.apmFailureMessage, [.event("message", message)], .unknown, note: "no known KVM check prints this text")
            return .undetermined([], missing: ["which check the kvm_nested_vmenter_failed text names"])
        }
        // KVM's checks before the failing one passed: their facts carry to the APM checks.
        if let index = ConsistencyCheck.all.firstIndex(of: kvm) {
            for earlier in ConsistencyCheck.all[..<index] where facts[FactID.vmrunCheck(earlier.id)] == nil {
                facts[FactID.vmrunCheck(earlier.id)] = Known(true, source: "KVM ran \(earlier.id) before \(kvm.id) and it passed")
            }
        }
        let mapped: String? = {
            switch kvm.id {
            case "long-mode-cr3", "load-cr3": return "cr3-mbz"
            case "cr4-valid": return "cr4-mbz"
            case "efer-valid": return "efer-mbz"
            case "nested-cr3": return "ncr3-valid"
            default: return APMConsistencyCheck.all.first { $0.id == kvm.id }?.id
            }
        }()
        if let why = APMConsistencyCheck.notArchitectural[kvm.id] {
            record(.apmFailureMessage, [.event("message", message), Evidence(field: "KVM check", value: kvm.id, source: kvm.kernel)], "no: not an architectural check", note: why)
            facts[FactID.vmrunCheck(kvm.id)] = Known(true, source: "not an APM check")
            return apmVMRUN()
        }
        guard let mapped, let check = APMConsistencyCheck.all.first(where: { $0.id == mapped }) else {
            record(.apmFailureMessage, [.event("message", message)], .unknown, note: "no APM counterpart known for \(kvm.id)")
            return .undetermined([], missing: ["an APM counterpart of KVM check \(kvm.id)"])
        }
        let evidence: [Evidence] = [.event("message", message), Evidence(field: "KVM check", value: kvm.id, source: kvm.kernel)]
        if check.source.hasPrefix(APMSource.silent) {
            record(.apmFailureMessage, evidence, Answer(rawValue: "\(check.id): no source at hand"), note: check.source)
            return fork(missing: ["whether the CPU checks \(check.requirement)"], [
                Branch("the CPU rejects it as KVM does", [Self.apmCheckFact(check): false]) { _ in
                    Self.apmVMRUNFails(check.id, detail: "VMRUN ends in #VMEXIT(VMEXIT_INVALID)")
                },
                Branch("the CPU accepts it", [Self.apmCheckFact(check): true]) { evaluator in
                    evaluator.facts[Self.apmCheckFact(check)] = Known(true, source: "assumed: the CPU accepts it")
                    return evaluator.apmVMRUN()
                },
            ])
        }
        record(.apmFailureMessage, evidence, Answer(rawValue: check.id))
        record(Rule.apmConsistency(check), [.event("kvm_nested_vmenter_failed", message)], "no: VMEXIT_INVALID")
        return Self.apmVMRUNFails(check.id, detail: "VMRUN ends in #VMEXIT(VMEXIT_INVALID): L1 resumes after VMRUN with exit code -1")
    }
}
