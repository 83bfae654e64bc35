extension Rule {
    /// Physical interrupts and NMIs that arrive while L2 runs are L0's.
    public static let exitSpecialInterrupt = Rule(
        "svm.exit-special.intr", "is it a physical interrupt or NMI (L0 handles it first)?",
        kernel: "svm/nested.c:nested_svm_exit_special")
    /// Nested page faults are always L0's first.
    public static let exitSpecialNPF = Rule(
        "svm.exit-special.npf", "is it a nested page fault (always L0 first)?",
        kernel: "svm/nested.c:nested_svm_exit_special")
    /// Exceptions whose vector is in L0's own exception bitmap are L0's first.
    public static let exitSpecialException = Rule(
        "svm.exit-special.l0-exception", "is the exception's vector in L0's own exception bitmap (vmcb01)?",
        kernel: "svm/nested.c:nested_svm_exit_special")
}

extension Evaluator {
    /// `nested_svm_exit_special`: returns L0's outcome for exits L0 keeps first, or `nil` to
    /// continue with L1's intercepts.
    mutating func exitSpecial(_ exit: HardwareExit) -> Outcome? {
        let code = exit.exitCode
        switch code {
        case .intr, .nmi:
            record(.exitSpecialInterrupt, [.event("exit_code", code.description)], .yes)
            let handler = code == .intr ? "svm/svm.c:intr_interception" : "svm/svm.c:nmi_interception"
            return .l0Handles(
                handler, level: .l2,
                detail: "only counted; an event meant for L1 may later become an `\(code.name ?? "")` #VMEXIT in svm_check_nested_events")
        case .npf:
            record(.exitSpecialNPF, [.event("exit_code", code.description)], .yes)
            return nestedPageFault(exit)
        case .vmmcall:
            if let hyperV = hypervL2TLBFlush(exit) { return hyperV }
        default:
            break
        }
        guard let vector = code.exceptionVector else { return nil }
        let (l0Bit, evidence) = l0InterceptsException(vector, level: .l2)
        let note = vector == ExceptionVector.pageFault
            ? "a host async-PF notification pending for this vCPU also keeps #PF in L0 (transient, not an input)" : nil
        return branch(
            .exitSpecialException, field: "L0 exception bitmap \(ExceptionVector.name(vector))", fact: FactID.l0InterceptsException(vector), l0Bit,
            extra: [.event("exit_code", code.description)] + evidence, note: note,
            yes: { $0.l0ExceptionHandler(vector: vector, exit: exit, level: .l2) },
            no: { $0.l1Interception(exit) })
    }
}
