import NestedSVM

/// A value a facts file gives that another source (the trace, or an inference from a recorded
/// outcome) contradicts at one exit.
struct FactConflict: Sendable, Hashable {
    /// The field, in the model's words (`vmcb12.asid`, `msrpm[0x10].read`).
    var field: String
    /// The facts file's value and source.
    var fact: String
    /// The other value and source.
    var other: String
}

/// Fills the model's state at one exit with the facts of the user's facts files
/// (`--facts`, ``FactsFile``) that apply to it: a value the trace leaves unknown is taken from
/// the facts (with the facts' source); a value inferred from a recorded outcome that differs
/// is replaced by the fact and reported as a conflict; a value the trace itself shows that
/// differs is kept and reported as a conflict.
enum UserFacts {
    /// Applies every entry of `files` whose scope fits (`vmcb12Address`, `vcpu`) to `state`;
    /// returns the conflicts found.
    static func apply(
        _ files: [FactsFile], to state: inout VCPUState, vmcb12Address: UInt64?, vcpu: UInt32?, vmrun: Int? = nil,
        reflectedNPFs: [(gpa: UInt64, line: Int)] = []
    ) -> [FactConflict] {
        applyAll(files, to: &state, vmcb12Address: vmcb12Address, vcpu: vcpu, vmrun: vmrun, reflectedNPFs: reflectedNPFs).conflicts
    }

    /// The operand registers the facts give for the instruction of one exit.
    struct Operands {
        var rax: Known<UInt64>?
        var rcx: Known<UInt64>?
    }

    /// ``apply(_:to:vmcb12Address:vcpu:vmrun:reflectedNPFs:)``, also returning the operands
    /// (RAX, RCX) entries give for the exit's instruction: a VMRUN-scoped entry's at that L1
    /// VMRUN exit (`ownVMRUN`), a RIP-scoped entry's at an exit at that RIP.
    static func applyAll(
        _ files: [FactsFile], to state: inout VCPUState, vmcb12Address: UInt64?, vcpu: UInt32?, vmrun: Int? = nil,
        reflectedNPFs: [(gpa: UInt64, line: Int)] = [], level: GuestLevel? = nil, rip: UInt64? = nil,
        l1Instruction: (kind: SVMInstruction, ordinal: Int)? = nil
    ) -> (conflicts: [FactConflict], operands: Operands) {
        var conflicts: [FactConflict] = []
        var operands = Operands()
        var npfMapsBelow: [(Known<UInt64>, String)] = []
        for file in files {
            for entry in file.entries where entry.applies(
                vmcb12Address: vmcb12Address, vcpu: vcpu, vmrun: vmrun, level: level, rip: rip, l1Instruction: l1Instruction)
            {
                var filler = Filler()
                filler.fill(&state, with: entry.state)
                conflicts += filler.conflicts
                if let below = entry.npfMapsBelow { npfMapsBelow.append((below, entry.origin)) }
                if entry.rip != nil || entry.instructionScoped || (entry.vmruns != nil && l1Instruction?.kind == .vmrun) {
                    if operands.rax == nil { operands.rax = entry.rax }
                    if operands.rcx == nil { operands.rcx = entry.rcx }
                }
            }
        }
        // L1's NPF handler as the facts describe it: the page of every #NPF reflected to L1 so
        // far (the trace's kvm_nested_vmexit_inject) is mapped from then on, ahead of the map.
        if let (below, _) = npfMapsBelow.first, var npt = state.vmcb12.npt {
            var added: [PageMap.Range] = []
            for npf in reflectedNPFs.reversed() where npf.gpa < below.value {
                let page = npf.gpa & ~UInt64(0xfff)
                added.append(PageMap.Range(
                    first: page, last: page | 0xfff, present: true, writable: true, user: true, executable: true,
                    source: "\(below.source): L1 maps the page of each #NPF below \(NestedSVM.Hex.format(below.value)) it receives; one was reflected at line \(npf.line)"))
            }
            npt.ranges = added + npt.ranges
            state.vmcb12.npt = npt
        }
        return (conflicts, operands)
    }

    /// Whether `source` names an inference from a recorded outcome (``InferenceLedger``).
    static func isInferred(_ source: String) -> Bool { source.hasPrefix("inferred") }

    private struct Filler {
        var conflicts: [FactConflict] = []

        mutating func fill<T>(_ target: inout Known<T>?, _ fact: Known<T>?, _ field: String) {
            guard let fact else { return }
            guard let current = target else {
                target = fact
                return
            }
            guard current.value != fact.value else { return }
            conflicts.append(FactConflict(
                field: field, fact: "\(text(fact.value)) [\(fact.source)]", other: "\(text(current.value)) [\(current.source)]"))
            if UserFacts.isInferred(current.source) { target = fact }
        }

        private func text<T>(_ value: T) -> String {
            if let flag = value as? Bool { return flag ? "1" : "0" }
            if let number = value as? UInt64 { return NestedSVM.Hex.format(number) }
            if let number = value as? UInt32 { return NestedSVM.Hex.format(number) }
            if let number = value as? UInt16 { return NestedSVM.Hex.format(UInt32(number)) }
            return "\(value)"
        }

        mutating func fill(_ state: inout VCPUState, with facts: VCPUState) {
            fillVMCB12(&state.vmcb12, facts.vmcb12)
            fillRegisters(&state.l1, facts.l1, "l1")
            fillRegisters(&state.l2, facts.l2, "l2")
            if state.vmcb12.npt == nil { state.vmcb12.npt = facts.vmcb12.npt }
            fill(&state.hsavePA, facts.hsavePA, "hsave_pa")
            fill(&state.inSMM, facts.inSMM, "smm")
            fill(&state.guest.maxPhysAddr, facts.guest.maxPhysAddr, "guest.maxphyaddr")
            fill(&state.guest.backedMemory, facts.guest.backedMemory, "guest.memory")
            for (feature, known) in facts.guest.features {
                var current = state.guest.features[feature]
                fill(&current, known, "guest.cpuid.\(feature.rawValue)")
                state.guest.features[feature] = current
            }
            for (msr, known) in facts.guest.l0RejectsMSR {
                var current = state.guest.l0RejectsMSR[msr]
                fill(&current, known, "guest.l0_rejects_msr[\(NestedSVM.Hex.format(msr))]")
                state.guest.l0RejectsMSR[msr] = current
            }
            for (id, known) in facts.assumptions {
                var current = state.assumptions[id]
                fill(&current, Optional(known), id.description)
                state.assumptions[id] = current
            }
        }

        mutating func fillRegisters(_ target: inout GuestRegisters, _ facts: GuestRegisters, _ prefix: String) {
            fill(&target.efer, facts.efer, "\(prefix).efer")
            fill(&target.cr0, facts.cr0, "\(prefix).cr0")
            fill(&target.cr4, facts.cr4, "\(prefix).cr4")
            fill(&target.cpl, facts.cpl, "\(prefix).cpl")
            fill(&target.interruptsEnabled, facts.interruptsEnabled, "\(prefix).rflags_if")
            // The trace never shows page tables: the first facts entry that gives them wins.
            if target.pageTables == nil { target.pageTables = facts.pageTables }
        }

        mutating func fillVMCB12(_ target: inout VMCB12, _ facts: VMCB12) {
            fill(&target.intercepts.cr, facts.intercepts.cr, "vmcb12.intercepts.cr")
            fill(&target.intercepts.dr, facts.intercepts.dr, "vmcb12.intercepts.dr")
            fill(&target.intercepts.exceptions, facts.intercepts.exceptions, "vmcb12.intercepts.excp")
            fill(&target.intercepts.word3, facts.intercepts.word3, "vmcb12.intercepts.word3")
            fill(&target.intercepts.word4, facts.intercepts.word4, "vmcb12.intercepts.word4")
            fill(&target.intercepts.word5, facts.intercepts.word5, "vmcb12.intercepts.word5")
            for (msr, entry) in facts.msrpm.entries {
                var current = target.msrpm.entries[msr] ?? MSRPermissionMap.Entry()
                fill(&current.read, entry.read, FactID.msrpm(msr, write: false).description)
                fill(&current.write, entry.write, FactID.msrpm(msr, write: true).description)
                target.msrpm.entries[msr] = current
            }
            if let others = facts.msrpm.otherBits {
                // Bits the replay inferred for MSRs the facts do not list: checked against the rest.
                for (msr, entry) in target.msrpm.entries where facts.msrpm.entries[msr] == nil {
                    var current = entry
                    if MSRPermissionMap.position(msr: msr, write: false) != nil {
                        fill(&current.read, others.read, FactID.msrpm(msr, write: false).description)
                        fill(&current.write, others.write, FactID.msrpm(msr, write: true).description)
                    }
                    target.msrpm.entries[msr] = current
                }
                var rest = target.msrpm.otherBits ?? MSRPermissionMap.Entry()
                fill(&rest.read, others.read, "msrpm[*].read")
                fill(&rest.write, others.write, "msrpm[*].write")
                target.msrpm.otherBits = rest
            }
            for (port, known) in facts.iopm.ports {
                var current = target.iopm.ports[port]
                fill(&current, known, FactID.iopm(port).description)
                target.iopm.ports[port] = current
            }
            if let others = facts.iopm.otherBits {
                for (port, known) in target.iopm.ports where facts.iopm.ports[port] == nil && port <= IOPermissionMap.lastBit {
                    var current: Known<Bool>? = known
                    fill(&current, others, FactID.iopm(port).description)
                    target.iopm.ports[port] = current
                }
                fill(&target.iopm.otherBits, others, "iopm[*]")
            }
            fill(&target.nestedPaging, facts.nestedPaging, "vmcb12.nested_paging")
            fill(&target.nestedCR3, facts.nestedCR3, "vmcb12.nested_cr3")
            fill(&target.intCtl, facts.intCtl, "vmcb12.int_ctl")
            fill(&target.eventInj, facts.eventInj, "vmcb12.event_inj")
            fill(&target.virtExt, facts.virtExt, "vmcb12.virt_ext")
            fill(&target.asid, facts.asid, "vmcb12.asid")
            fill(&target.msrpmBase, facts.msrpmBase, "vmcb12.msrpm_base_pa")
            fill(&target.iopmBase, facts.iopmBase, "vmcb12.iopm_base_pa")
            fill(&target.efer, facts.efer, "vmcb12.efer")
            fill(&target.cr0, facts.cr0, "vmcb12.cr0")
            fill(&target.cr3, facts.cr3, "vmcb12.cr3")
            fill(&target.cr4, facts.cr4, "vmcb12.cr4")
            fill(&target.dr6, facts.dr6, "vmcb12.dr6")
            fill(&target.dr7, facts.dr7, "vmcb12.dr7")
            fill(&target.csAttributes, facts.csAttributes, "vmcb12.cs_attrib")
        }
    }
}
