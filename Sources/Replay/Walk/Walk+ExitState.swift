import Foundation
import NestedSVM
import TraceKit

/// State building: the one place a per-exit `VCPUState` is made.
extension Walk {
    /// The model's view of one exit, and what it was built from.
    struct ExitState {
        /// The thread's tracked state with the exit's own level and VMRUN input applied.
        var tracked: TrackedVCPU
        /// The state the model decides on (before the exit's own assumptions are added).
        var model: VCPUState
        /// The model's event and the operand facts of the exit's own events.
        var inputs: ModelInputs
        /// Where a facts file (`--facts`) contradicts the trace or an inference at this exit.
        var conflicts: [FactConflict] = []
        /// ``tracked`` before the ledger's facts were added (what ``StateInterner`` names).
        var unledgered: TrackedVCPU
        /// L0's MSR faults the exit's own `kvm_msr` events added to the guest facts.
        var msrFaults: [UInt32: Bool] = [:]
        /// The L1 VMRUN/VMLOAD/VMSAVE this exit is for (its exit code, or the decoded
        /// instruction of a #GP exit), counted in ``TrackedVCPU/l1Instructions`` when it closes.
        var l1Instruction: SVMInstruction?
    }

    /// The L1 SVM instruction (VMRUN, VMLOAD, VMSAVE) an exit is for.
    func l1Instruction(of current: ExitSpan, events: ExitEvents) -> SVMInstruction? {
        guard current.level == .l1, current.origin == .hardwareExit else { return nil }
        switch current.exit.exitReason.rawValue {
        case 0x80: return .vmrun
        case 0x82: return .vmload
        case 0x83: return .vmsave
        default: break
        }
        for (_, payload) in events.all {
            guard case .emulateInsn(let insn) = payload, insn.rip == current.exit.guestRIP else { continue }
            guard let bytes = insn.bytes, let instruction = SVMInstruction(bytes: bytes),
                [SVMInstruction.vmrun, .vmload, .vmsave].contains(instruction)
            else { return nil }
            return instruction
        }
        return nil
    }

    /// Builds the state the model sees at `current`: the thread's tracked state when the exit
    /// opened, the vmcb12 of a VMRUN's own events, the level the exit ran at, facts the
    /// ledger learned for this configuration, and whether L0 faulted an MSR of the exit.
    /// The one place a per-exit `VCPUState` is made (replay and re-derivation both use it).
    func exitState(for current: ExitSpan, events: ExitEvents) -> ExitState {
        var state = current.state
        if current.exit.exitReason.rawValue == VMRUNInput.exitCode, current.level == .l1 {
            // The vmcb12 this VMRUN uses is printed by its own kvm_nested_vmenter and
            // kvm_nested_intercepts (after the checks); they describe the instruction's input.
            for (number, payload) in events.all {
                guard let kind = kinds[trace.nameID(of: number)], kind.describesVMRUNInput else { continue }
                state.apply(payload, kind: kind, line: trace.lineNumber(of: number))
            }
        }
        if let level = current.level {
            state.guestMode = Known(level == .l2, from: current.levelSource)
        }
        let unledgered = state
        if ledger.count(pid: state.pid, configuration: state.configuration) > 0 {
            // Only then: writing vmcb12 gives this state its own copy of the tracked values.
            let (pid, configuration) = (state.pid, state.configuration)
            ledger.apply(to: &state.vmcb12, pid: pid, configuration: configuration)
            state.content = nil
        }
        var inputs = ModelInputs(trace: trace, origin: current.origin, exit: current.exit, events: events)
        var guest = options.guest
        var msrFaults: [UInt32: Bool] = [:]
        // A kvm_msr inside the exit states whether L0's emulation of that MSR faulted.
        for (number, payload) in events.all where kinds[trace.nameID(of: number)] == .msr {
            if case .msr(let msr) = payload, guest.l0RejectsMSR[msr.msr] == nil {
                guest.l0RejectsMSR[msr.msr] = Known(msr.faulted, from: .msrEvent(line: trace.lineNumber(of: number), faulted: msr.faulted))
                msrFaults[msr.msr] = msr.faulted
            }
        }
        var model = state.modelState(guest: guest)
        var conflicts: [FactConflict] = []
        let instruction = options.facts.isEmpty ? nil : l1Instruction(of: current, events: events)
        if !options.facts.isEmpty {
            // The instruction being decided counts itself; every later exit belongs to the last VMRUN.
            let occurrence = instruction.map { (kind: $0, ordinal: state.l1Instructions[$0, default: 0] + 1) }
            let applied = UserFacts.applyAll(
                options.facts, to: &model, vmcb12Address: state.vmcb12Address?.value, vcpu: current.exit.vcpu ?? state.vcpu,
                vmrun: state.l1Instructions[.vmrun, default: 0] + (instruction == .vmrun ? 1 : 0), reflectedNPFs: state.reflectedNPFs,
                level: current.level.map { $0 == .l2 ? GuestLevel.l2 : .l1 }, rip: current.exit.guestRIP, l1Instruction: occurrence)
            conflicts = applied.conflicts
            inputs.factRAX = applied.operands.rax
            inputs.factRCX = applied.operands.rcx
            // The exit's own events may print the operand (kvm_nested_vmenter: RAX of a VMRUN,
            // kvm_msr: ECX): a facts value that differs is a conflict.
            let shown = inputs.shownOperands()
            for (name, fact, other) in [("rax", applied.operands.rax, shown.rax), ("rcx", applied.operands.rcx, shown.rcx)] {
                // kvm_msr prints ECX (32 bits).
                guard let fact, let other, (name == "rcx" ? fact.value & 0xffff_ffff : fact.value) != other.value else { continue }
                conflicts.append(FactConflict(
                    field: name, fact: "\(NestedSVM.Hex.format(fact.value)) [\(fact.source)]",
                    other: "\(NestedSVM.Hex.format(other.value)) [\(other.source)]"))
            }
        }
        return ExitState(tracked: state, model: model, inputs: inputs, conflicts: conflicts, unledgered: unledgered, msrFaults: msrFaults, l1Instruction: instruction)
    }
}
