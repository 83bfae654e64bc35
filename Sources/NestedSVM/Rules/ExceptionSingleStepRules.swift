/// Single-stepping VMRUN: what follows when L1 executed VMRUN with RFLAGS.TF set.
///
/// Kernel (6.1, 6.12 and kvm-x86 upstream read alike):
/// * `svm/nested.c:nested_svm_vmrun` calls `x86.c:kvm_skip_emulated_instruction` before it
///   enters L2; with TF set in the RFLAGS it read, that calls `kvm_vcpu_do_singlestep`, which
///   queues #DB (payload DR6.BS) for the vCPU — or, when the VMM single-steps the guest
///   (`KVM_GUESTDBG_SINGLESTEP`), ends the run with `KVM_EXIT_DEBUG`.
/// * A VMRUN rejected by the consistency checks never enters L2: that #DB is delivered to L1
///   at the instruction after VMRUN.
/// * A VMRUN that enters L2 sets `nested_run_pending`: `svm/nested.c:svm_check_nested_events`
///   answers the pending #DB with -EBUSY (`block_nested_exceptions`), KVM enters L2 with an
///   immediate exit, and `svm/svm.c:svm_complete_interrupts` drops it
///   (`kvm_clear_exception_queue`): L2 never sees it.
/// * Whatever ends guest mode with a #VMEXIT — `svm/nested.c:nested_svm_vmexit`, also for a
///   VMRUN failing after entry — restores vmcb01's RFLAGS (L1's at the VMRUN) and, when TF is
///   set there, queues #DB for L1 (no payload) so that it is taken before L1's next
///   instruction: the #DB follows the #VMEXIT, at the instruction after VMRUN
///   (kvm-unit-tests `host_rflags`: "#DB trap after VMRUN completes on the host side").
extension Rule {
    /// The #DB `nested_svm_vmexit` queues for L1 when vmcb01's RFLAGS.TF is set.
    public static let singleStepVMExit = Rule(
        "svm.singlestep.vmexit", "did L1 execute its VMRUN with RFLAGS.TF set (vmcb01's saved RFLAGS), so that a #DB for L1 follows the #VMEXIT?",
        kernel: "svm/nested.c:nested_svm_vmexit")
    /// The #DB `kvm_skip_emulated_instruction` queues when L1 single-steps VMRUN itself.
    public static let singleStepVMRUN = Rule(
        "svm.singlestep.vmrun", "does L1 single-step this VMRUN (RFLAGS.TF), and where does the #DB kvm_skip_emulated_instruction queues go?",
        kernel: "x86.c:kvm_skip_emulated_instruction")
}

extension Evaluator {
    /// The decided outcome with the single-step #DB that follows it, when L1's RFLAGS.TF is
    /// known (fact `l1.rflags-tf`); unknown → the outcome is returned unchanged and no
    /// follow-up is predicted. `vmrunEvent`: the event is L1's VMRUN (a hardware exit at L1 or
    /// a failure message), as opposed to an exit of L2.
    mutating func withSingleStepFollowUps(_ outcome: Outcome, vmrunEvent: Bool) -> Outcome {
        guard let tf = fact(FactID.l1RFLAGSTF) else { return outcome }
        var recorded = false
        return followUps(outcome, tf: tf, vmrunEvent: vmrunEvent, recorded: &recorded)
    }

    private mutating func followUps(_ outcome: Outcome, tf: Known<Bool>, vmrunEvent: Bool, recorded: inout Bool) -> Outcome {
        if outcome.kind == .undetermined, let alternatives = outcome.alternatives {
            var out = outcome
            out.alternatives = alternatives.map { alternative in
                var copy = alternative
                copy.outcome = followUps(alternative.outcome, tf: tf, vmrunEvent: vmrunEvent, recorded: &recorded)
                return copy
            }
            return out
        }
        let evidence = [Evidence(field: "fact \(FactID.l1RFLAGSTF)", value: tf.value ? "1" : "0", source: tf.source)]
        let afterEntry = outcome.check.flatMap { id in ConsistencyCheck.all.first { $0.id == id } }?.afterEntry ?? false
        switch outcome.kind {
        case .reflectToL1, .vmrunFails where !vmrunEvent || afterEntry:
            if !recorded {
                record(
                    .singleStepVMExit, evidence, .from(tf.value),
                    note: tf.value
                        ? "nested_svm_vmexit restores L1's RFLAGS and queues #DB (no payload: KVM sets no DR6 bit) before L1's next instruction"
                        : "no #DB follows the #VMEXIT")
                recorded = true
            }
            guard tf.value else { return outcome }
            return outcome.followed(by: .inject(
                ExceptionVector.debug, errorCode: nil, into: .l1, handler: "svm/nested.c:nested_svm_vmexit",
                detail: "single-stepped VMRUN: #DB at the instruction after VMRUN, once the #VMEXIT is complete"))
        case .vmrunFails, .vmrunSucceeds:
            let entered = outcome.kind == .vmrunSucceeds
            guard tf.value else {
                if !recorded { record(.singleStepVMRUN, evidence, .no); recorded = true }
                return outcome
            }
            let debugging = host.guestDebug
            if !recorded {
                record(
                    .singleStepVMRUN, evidence + [Evidence.flag("host guest_debug", debugging)],
                    Answer(rawValue: entered ? "yes: #DB queued, then dropped" : "yes: #DB for L1"),
                    note: entered
                        ? "kvm_vcpu_do_singlestep queues #DB; nested_run_pending blocks it (svm_check_nested_events: -EBUSY) and svm_complete_interrupts drops it at the first exit from L2: L2 never sees it; nested_svm_vmexit queues the #DB for L1 when L2's #VMEXIT comes"
                        : "the VMRUN never entered L2: kvm_vcpu_do_singlestep's #DB (DR6.BS) reaches L1 at the instruction after VMRUN")
                recorded = true
            }
            switch debugging?.value {
            case true?:
                return outcome.followed(by: .userspaceExit(
                    "x86.c:kvm_vcpu_do_singlestep",
                    detail: "KVM_EXIT_DEBUG (the VMM single-steps the guest: KVM_GUESTDBG_SINGLESTEP; with only USE_HW_BP the #DB is queued instead)"))
            case false?:
                if entered { return outcome }
                return outcome.followed(by: .inject(
                    ExceptionVector.debug, errorCode: nil, into: .l1, handler: "x86.c:kvm_vcpu_do_singlestep",
                    detail: "single-stepped VMRUN rejected by a consistency check: #DB (DR6.BS) at the instruction after VMRUN"))
            case nil:
                // KVM_GUESTDBG_SINGLESTEP decides between the #DB and KVM_EXIT_DEBUG: not predicted.
                return outcome
            }
        default:
            return outcome
        }
    }
}
