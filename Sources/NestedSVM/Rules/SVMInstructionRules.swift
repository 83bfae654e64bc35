extension Rule {
    /// EFER.SVME and paging are required (#UD), CPL 0 is required (#GP).
    public static let svmPermissions = Rule(
        "svm.insn.permissions", "may the executing level run SVM instructions (EFER.SVME, CR0.PG → #UD; CPL 0 → #GP)?",
        kernel: "svm/nested.c:nested_svm_check_permissions")
    /// The 2026 handlers check `page_address_valid(RAX)` first.
    public static let svmHandlerRAXCheck = Rule(
        "svm.insn.rax-check", "is RAX page aligned and below 2^guest MAXPHYADDR (handler check)?",
        kernel: "svm/svm.c:vmload_vmsave_interception")
    /// The page at RAX must be mappable (L1 GPA; never translated through L1's NPT).
    public static let svmMapRAX = Rule(
        "svm.insn.map-rax", "is the page at RAX (an L1 guest-physical address) backed by a memslot?",
        kernel: "kvm_main.c:kvm_vcpu_map")
    /// VMLOAD/VMSAVE from L2 reach L0 only when L0 forced the intercept; otherwise the CPU
    /// virtualises them and there is no exit.
    public static let vmloadVMSaveL2 = Rule(
        "svm.vmload-vmsave.l2-forced", "L1 does not intercept it: L0 forced VMLOAD/VMSAVE for L2 (no usable VLS)",
        kernel: "svm/nested.c:nested_vmcb_needs_vls_intercept")
    /// STGI/CLGI set or clear GIF.
    public static let gif = Rule(
        "svm.gif.handler", "set/clear GIF after the permission check (exits only without vGIF)",
        kernel: "svm/svm.c:stgi_interception")
    /// SKINIT always raises #UD.
    public static let skinit = Rule(
        "svm.skinit.ud", "SKINIT: trace and queue #UD (no permission check)", kernel: "svm/svm.c:skinit_interception")
    /// INVLPGA checks permissions (stable fix) then flushes.
    public static let invlpga = Rule(
        "svm.invlpga.permission-check", "does this kernel check permissions before INVLPGA?",
        kernel: "svm/svm.c:invlpga_interception")
    /// VMMCALL handling differs per kernel.
    public static let vmmcall = Rule(
        "svm.vmmcall.handler", "what does L0 do with a VMMCALL that reached it?", kernel: "svm/svm.c:vmmcall_interception")
}

extension Evaluator {
    /// Runs `nested_svm_check_permissions` on `level`'s registers, then `then`.
    mutating func withPermissions(
        _ rule: Rule, level: GuestLevel, exit: HardwareExit, handler: String, then: @escaping (inout Evaluator) -> Outcome
    ) -> Outcome {
        proveFromIntercept(level: level, rax: exit.rax)
        let registers = registers(of: level)
        let svme = registers.efer.map { Known($0.value & RegisterBit.eferSVME != 0, source: $0.source) }
        let paging = registers.cr0.map { Known($0.value & RegisterBit.cr0PG != 0, source: $0.source) }
        let cpl0 = registers.cpl.map { Known($0.value == 0, source: $0.source) } ?? fact(FactID.cpl0(level))
        var evidence: [Evidence] = [
            .flag("\(level) EFER.SVME", svme), .flag("\(level) CR0.PG", paging),
            Evidence(field: "\(level) CPL", value: registers.cpl.map { "\($0.value)" }, source: registers.cpl?.source),
        ]
        if registers.cpl == nil, let cpl0 { evidence.append(.flag("fact \(FactID.cpl0(level))", cpl0)) }
        let ud: (inout Evaluator) -> Outcome = {
            $0.queueException(ExceptionVector.invalidOpcode, errorCode: nil, level: level, after: exit, by: handler)
        }
        let gp: (inout Evaluator) -> Outcome = {
            $0.queueException(ExceptionVector.generalProtection, errorCode: 0, level: level, after: exit, by: handler)
        }
        if svme?.value == false || paging?.value == false {
            record(rule, evidence, "no: #UD")
            return ud(&self)
        }
        let cplFork: (inout Evaluator) -> Outcome = { evaluator in
            guard let cpl0 else {
                return evaluator.fork(missing: ["\(level) CPL"], [
                    Branch("\(level) CPL > 0", [FactID.cpl0(level): false], gp),
                    Branch("\(level) CPL = 0", [FactID.cpl0(level): true], then),
                ])
            }
            return cpl0.value ? then(&evaluator) : gp(&evaluator)
        }
        var missing: [String] = []
        if svme == nil { missing.append("\(level) EFER.SVME") }
        if paging == nil { missing.append("\(level) CR0.PG") }
        if !missing.isEmpty {
            record(rule, evidence, .unknown)
            // Known registers enter the fork as facts, so a fact about the other half decides.
            if let svme { facts[FactID.eferSVME(level)] = facts[FactID.eferSVME(level)] ?? svme }
            if let paging { facts[FactID.paging(level)] = facts[FactID.paging(level)] ?? paging }
            return fork(missing: missing, [
                Branch("\(level) EFER.SVME or \(level) CR0.PG is 0", [FactID.svmEnabled(level): false], ud),
                Branch("\(level) EFER.SVME and \(level) CR0.PG are both 1", [FactID.svmEnabled(level): true], cplFork),
            ])
        }
        guard let cpl0 else {
            record(rule, evidence, .unknown)
            return cplFork(&self)
        }
        if !cpl0.value {
            record(rule, evidence, "no: #GP(0)")
            return gp(&self)
        }
        record(rule, evidence, .yes)
        return then(&self)
    }

    /// `vmload_vmsave_interception` for `level`.
    mutating func vmloadVMSaveHandler(_ exit: HardwareExit, level: GuestLevel) -> Outcome {
        let isLoad = exit.exitCode == .vmload
        let handler = "svm/svm.c:vmload_vmsave_interception"
        let emulated: (inout Evaluator) -> Outcome = { evaluator in
            evaluator.withPermissions(.svmPermissions, level: level, exit: exit, handler: handler) { evaluator in
                evaluator.handlerRAXThenMap(exit, level: level, handler: handler) { evaluator in
                    .l0Handles(
                        handler, level: level,
                        detail: evaluator.skip
                            + (isLoad
                                ? "; VMLOAD copies FS/GS/TR/LDTR/KernelGSBase/STAR/LSTAR/CSTAR/SFMASK/SYSENTER_* from the page at RAX into vmcb01"
                                : "; VMSAVE copies that state from vmcb01 to the page at RAX"))
                }
            }
        }
        guard level == .l2 else { return emulated(&self) }
        // recalc_intercepts: vmcb02 = vmcb01 | vmcb12, plus VMLOAD/VMSAVE whenever
        // nested_vmcb_needs_vls_intercept (the guest lacks V_VMSAVE_VMLOAD, nested paging is off
        // or vmcb12 does not enable virtual VMLOAD/VMSAVE). Otherwise only vmcb01's intercept
        // could bring L2's VMLOAD/VMSAVE to L0, and with V_VMSAVE_VMLOAD in the guest's CPUID
        // (which KVM offers only with kvm_amd vls) init_vmcb has cleared it: the CPU runs the
        // instruction virtually inside L2 and nothing reaches L0.
        let vls = state.vmcb12.virtExt.map { Known($0.value & RegisterBit.virtualVMLoadVMSave != 0, source: $0.source) }
        let cpuid = state.guest.features[.vVMSaveVMLoad]
        let npt = state.vmcb12.nestedPaging
        let evidence: [Evidence] = [
            .flag(InterceptWords.fieldName(ofBit: Int(exit.exitCode.rawValue)), l1Intercepts(Int(exit.exitCode.rawValue))),
            .flag("guest CPUID v_vmsave_vmload", cpuid), .flag("vmcb12 nested paging", npt),
            .flag("vmcb12 virt_ext VIRTUAL_VMLOAD_VMSAVE", vls), .flag("host vls", host.vls),
        ]
        let virtual: (inout Evaluator) -> Outcome = { _ in
            .noExit(
                level: .l2,
                detail: "virtual \(isLoad ? "VMLOAD" : "VMSAVE"): vmcb02 does not intercept it (L1 does not, L0 forces it only without usable VLS); the CPU runs it on L2's behalf",
                handler: "svm/nested.c:recalc_intercepts")
        }
        let note = "L0 emulates it for L2 on vmcb01's state; RAX is used as an L1 GPA without translation through L1's NPT"
        // Each condition from the state, else from a stated or settled fact.
        let conditions: [Known<Bool>?] = [
            cpuid ?? fact(FactID.guestCPUID(.vVMSaveVMLoad)), npt ?? fact(FactID.nestedPaging), vls ?? fact(FactID.vmcb12VirtualVMLoadVMSave),
        ]
        let usable: Bool? = {
            if let whole = fact(FactID.vlsUsableForL2) { return whole.value }
            if conditions.contains(where: { $0?.value == false }) { return false }
            return conditions.allSatisfy { $0?.value == true } ? true : nil
        }()
        switch usable {
        case true?:
            record(
                .vmloadVMSaveL2, evidence, "no: VLS is usable, L0 should not see this exit",
                note: "vmcb02 = vmcb01 | vmcb12 without the forced bits, and vmcb01 (init_vmcb with vls) does not intercept it (unless the guest's CPUID is Intel-compatible, not an input)")
            return virtual(&self)
        case false?:
            record(.vmloadVMSaveL2, evidence, .yes, note: note)
        case nil:
            // The exit happened, so vmcb02 intercepted it; L1 does not, hence L0 forced it
            // (or the guest's CPUID is Intel-compatible). Decided as forced, not forked.
            record(.vmloadVMSaveL2, evidence, .unknown, note: note)
        }
        return emulated(&self)
    }

    /// The 2026 `page_address_valid` check (when the profile has it), then the mapping of
    /// the page at RAX, then `success`.
    mutating func handlerRAXThenMap(
        _ exit: HardwareExit, level: GuestLevel, handler: String, success: @escaping (inout Evaluator) -> Outcome
    ) -> Outcome {
        let gp: (inout Evaluator) -> Outcome = {
            $0.queueException(ExceptionVector.generalProtection, errorCode: 0, level: level, after: exit, by: handler)
        }
        let map: (inout Evaluator) -> Outcome = { evaluator in
            evaluator.mapRAX(exit, level: level, handler: handler, success: success, failure: gp)
        }
        guard profile.handlerRAXCheck else { return map(&self) }
        let check = raxCheck(.pageAddressValid, rax: exit.rax)
        let evidence: [Evidence] = [
            .hex("RAX", exit.rax),
            Evidence(field: "guest MAXPHYADDR", value: state.guest.maxPhysAddr.map { "\($0.value)" }, source: state.guest.maxPhysAddr?.source),
            .profile("handler RAX check", "page_address_valid", profile),
        ]
        guard let passes = check.passes else {
            record(.svmHandlerRAXCheck, evidence, .unknown)
            return fork(missing: check.missing, [
                Branch("RAX is a legal page address (page aligned, below 2^guest MAXPHYADDR)", [FactID.raxLegalPage: true], map),
                Branch("RAX is not a legal page address", [FactID.raxLegalPage: false], gp),
            ])
        }
        record(.svmHandlerRAXCheck, evidence, passes ? .yes : "no: #GP(0)")
        return passes ? map(&self) : gp(&self)
    }

    private mutating func mapRAX(
        _ exit: HardwareExit, level: GuestLevel, handler: String, success: @escaping (inout Evaluator) -> Outcome,
        failure: @escaping (inout Evaluator) -> Outcome
    ) -> Outcome {
        let unmappable: (inout Evaluator) -> Outcome = { evaluator in
            switch evaluator.profile.unmappableRAX {
            case .injectGP:
                return failure(&evaluator)
            case .memoryFailureExit:
                return .userspaceExit("x86.c:kvm_handle_memory_failure", detail: "KVM_EXIT_INTERNAL_ERROR (emulation failure): a legal RAX without memslot")
            }
        }
        guard let rax = exit.rax else {
            record(.svmMapRAX, [Evidence(field: "RAX", value: nil)], .unknown)
            return fork(missing: ["RAX"], [
                Branch("the page at RAX is backed by a memslot", [FactID.raxBacked: true], success),
                Branch("the page at RAX is not backed by a memslot", [FactID.raxBacked: false], unmappable),
            ])
        }
        let page = rax.value & ~RegisterBit.pageOffsetMask
        let backed = state.guest.isBacked(page)
        let evidence: [Evidence] = [
            Evidence(field: "RAX", value: Hex.format(rax.value), source: rax.source),
            Evidence(field: "page", value: Hex.format(page), source: "derived (a misaligned RAX maps its page)"),
            .flag("memslot backs \(Hex.format(page))", backed),
            .profile("unmappable RAX", profile.unmappableRAX.rawValue, profile),
        ]
        let versions = "6.x: a failed map injects #GP(0) (-EINVAL covers a GPA without memslot); upstream: a legal but unmappable RAX exits to userspace"
        let note = level == .l2 ? "L2's RAX is used as an L1 guest-physical address, not translated through L1's nested page tables; \(versions)" : versions
        guard let backed else {
            record(.svmMapRAX, evidence, .unknown, note: note)
            return fork(missing: ["guest memory map"], [
                Branch("the page at RAX is backed by a memslot", [FactID.raxBacked: true], success),
                Branch("the page at RAX is not backed by a memslot", [FactID.raxBacked: false], unmappable),
            ])
        }
        record(.svmMapRAX, evidence, backed.value ? .yes : "no: kvm_vcpu_map fails (-EINVAL)", note: note)
        return backed.value ? success(&self) : unmappable(&self)
    }

    /// `stgi_interception` / `clgi_interception`.
    mutating func gifHandler(_ exit: HardwareExit, level: GuestLevel) -> Outcome {
        let isSTGI = exit.exitCode == .stgi
        let handler = isSTGI ? "svm/svm.c:stgi_interception" : "svm/svm.c:clgi_interception"
        record(
            .gif, [.event("exit_code", exit.exitCode.description), .flag("host vgif", host.vgif)], isSTGI ? "STGI" : "CLGI",
            note: host.vgif?.value == true ? "with vGIF L0 intercepts STGI only to detect an SMI/NMI window" : nil)
        return withPermissions(.svmPermissions, level: level, exit: exit, handler: handler) { evaluator in
            .l0Handles(handler, level: level, detail: evaluator.skip + (isSTGI ? "; GIF set, pending events may be delivered" : "; GIF cleared"))
        }
    }

    /// `skinit_interception`.
    mutating func skinitHandler(_ exit: HardwareExit, level: GuestLevel) -> Outcome {
        record(.skinit, [.event("exit_code", exit.exitCode.description)], "#UD")
        return queueException(ExceptionVector.invalidOpcode, errorCode: nil, level: level, after: exit, by: "svm/svm.c:skinit_interception")
    }

    /// `invlpga_interception`.
    mutating func invlpgaHandler(_ exit: HardwareExit, level: GuestLevel) -> Outcome {
        let handler = "svm/svm.c:invlpga_interception"
        let done: (inout Evaluator) -> Outcome = { evaluator in
            .l0Handles(handler, level: level, detail: "kvm_invlpga; flush RAX (32-bit outside long mode) for ASID ECX; " + evaluator.skip)
        }
        record(
            .invlpga, [.profile("invlpga permission check", profile.invlpgaPermissionCheck ? "yes" : "no", profile)],
            .from(profile.invlpgaPermissionCheck),
            note: "present in 6.1.192, 6.12.117 and newer (2026 stable fix); older point releases had none")
        guard profile.invlpgaPermissionCheck else { return done(&self) }
        return withPermissions(.svmPermissions, level: level, exit: exit, handler: handler, then: done)
    }

    /// VMMCALL that reached L0's handler.
    mutating func vmmcallHandler(_ exit: HardwareExit, level: GuestLevel) -> Outcome {
        let hypercall = Outcome.l0Handles("x86.c:kvm_emulate_hypercall", level: level, detail: "KVM hypercall ABI (kvm_hypercall); CPL > 0 → -KVM_EPERM")
        guard level == .l2 else {
            record(.vmmcall, [.event("level", "L1")], "KVM hypercall")
            return hypercall
        }
        let evidence: [Evidence] = [.profile("VMMCALL from L2", profile.vmmcallFromL2.rawValue, profile)]
        // Version differences: 6.1 never sees this exit (livelock in handle_ud instead), 6.2 until
        // the 2026 fix serves a KVM hypercall, 6.12.117 and upstream inject #UD.
        switch profile.vmmcallFromL2 {
        case .udEmulationLivelock:
            record(
                .vmmcall, evidence, "KVM hypercall for L2",
                note: "6.1 drops VMMCALL from vmcb02 (recalc_intercepts), so an L2 VMMCALL that L1 does not intercept #UDs instead and loops in handle_ud; this exit is not expected")
            return .l0Handles("x86.c:kvm_emulate_hypercall", level: .l2, detail: "L0 serves L2's hypercall (exit not expected on 6.1)")
        case .kvmHypercall:
            record(.vmmcall, evidence, "KVM hypercall for L2", note: "L2 can make L0 hypercalls (fixed in 2026)")
            return .l0Handles("x86.c:kvm_emulate_hypercall", level: .l2, detail: "L0 serves L2's hypercall")
        case .injectUD:
            record(
                .vmmcall, evidence, "#UD",
                note: "6.1: this exit does not occur (the VMMCALL #UDs and loops in handle_ud); 6.2 until the 2026 fix: L0 hypercall for L2"
                    + (profile.hypervL2TLBFlushInL0 ? "; a Hyper-V L2 TLB-flush hypercall that L1 enabled is kept by L0 instead (not an input)" : ""))
            return queueException(ExceptionVector.invalidOpcode, errorCode: nil, level: .l2, after: exit, by: "svm/svm.c:vmmcall_interception")
        }
    }

    /// How L0 skips the instruction: with NRIPS from `next_rip`, without it by decoding
    /// (`kvm_emulate_insn` in the trace).
    var skip: String {
        switch host.nrips?.value {
        case true?: "skip via next_rip"
        case false?: "skip by decoding (no NRIPS: kvm_emulate_insn)"
        case nil: "skip (a kvm_emulate_insn decode without NRIPS)"
        }
    }
}

extension Evaluator {
    /// The `msrpm-read` VMRUN check: with MSR_PROT, `nested_svm_vmrun_msrpm` reads L1's MSRPM
    /// (`kvm_vcpu_read_guest` at msrpm_base_pa, bits 11:0 cleared when cached, + the offsets of
    /// the MSRs KVM passes through, which lie in the map's first two pages) after
    /// `enter_svm_guest_mode`; a read that fails ends the VMRUN in VMEXIT_INVALID. Decided from
    /// `guest.memory` (whether those pages are backed).
    func msrpmRead() -> (Bool?, [Evidence], String?) {
        let msrProt = l1Intercepts(InterceptBit.msrProt)
        var evidence: [Evidence] = [.flag(InterceptWords.fieldName(ofBit: InterceptBit.msrProt), msrProt), .hex("vmcb12 msrpm_base_pa", state.vmcb12.msrpmBase)]
        if msrProt?.value == false { return (true, evidence, "applies only with MSR_PROT") }
        guard let base = state.vmcb12.msrpmBase?.value else { return (nil, evidence, nil) }
        let first = base & ~RegisterBit.pageOffsetMask
        let pages = [first, first &+ 0x1000]
        let backed = pages.map { state.guest.isBacked($0) }
        for (page, flag) in zip(pages, backed) { evidence.append(.flag("memslot backs \(Hex.format(page))", flag)) }
        if backed.contains(where: { $0?.value == false }) {
            return (msrProt == nil ? nil : false, evidence, "kvm_vcpu_read_guest of L1's MSRPM fails")
        }
        if backed.allSatisfy({ $0?.value == true }) { return (true, evidence, nil) }
        return (nil, evidence, "whether L1's MSRPM pages are backed (guest.memory) is not known")
    }
}
