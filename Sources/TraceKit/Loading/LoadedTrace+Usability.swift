extension LoadedTrace {
    /// Lines from which a text with very few event lines counts as a document, not a trace.
    static let documentLineThreshold = 100

    /// Why this input is not a trace at all, or nil when it is one (even one with bad lines).
    ///
    /// A trace with no events is still a trace when every line is a header, comment or
    /// blank (an empty capture). An input that is empty, or that has no event and at least
    /// one unreadable line (binary junk, a mail, a log of something else, a trace in a
    /// layout forced wrongly), is not: the one-line reason names the first bad line.
    /// Frontends treat such input as unusable (`svmdbg` exits with 2). So is a long text
    /// (``documentLineThreshold`` lines or more) with fewer than one event line per 20
    /// unreadable lines: a document that quotes a few trace lines, such as a README.
    public var unusableReason: String? {
        let lines = lineAccounting
        if lines.read == 0 { return "is empty (no lines)" }
        let what = format == .traceDat ? "readable trace.dat" : "\(format) trace"
        var reason: String
        if lines.events == 0, lines.unreadable > 0 {
            reason = "is not a \(what): no event line, \(lines.unreadable) of \(lines.read) lines unreadable"
        } else if lines.read >= Self.documentLineThreshold, lines.events * 20 < lines.unreadable {
            // A document quoting a few trace lines (a README, a mail thread), not a trace or
            // an excerpt: pasted excerpts are short or mostly events.
            reason = "is not a \(what): only \(lines.events) event lines among \(lines.unreadable) unreadable lines of \(lines.read)"
        } else {
            return nil
        }
        if let first = diagnostics.first {
            reason += " (line \(first.line): \(first.kind.rawValue): \(first.message))"
        }
        return reason
    }
}

extension LoadedTrace {
    /// `kvm_exit` events whose payload could not be decoded, counted by the reason they
    /// print (the word after `reason`, or `?` when even that is missing), most first.
    /// These exits are read but cannot be replayed.
    public var undecodedExitReasons: [(reason: String, count: Int)] {
        guard let exitID = names.firstIndex(of: "kvm_exit") else { return [] }
        var counts: [String: Int] = [:]
        for (position, entry) in index.enumerated() where Int(entry.nameID) == exitID && !entry.isTyped {
            counts[Self.printedReason(event(at: EventNumber(position)).payloadText), default: 0] += 1
        }
        return counts.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { ($0.key, $0.value) }
    }

    /// Number of `kvm_exit` events (decoded or not).
    public var exitEventCount: Int {
        guard let exitID = names.firstIndex(of: "kvm_exit") else { return 0 }
        return index.reduce(0) { $0 + (Int($1.nameID) == exitID ? 1 : 0) }
    }

    /// Why this trace looks like an Intel VMX trace (kvm_exit reasons only VMX prints,
    /// `vmcs:` in `kvm_nested_vmenter`), or nil. The SVM model must not be applied to it.
    public var vmxEvidence: String? {
        var reasons: [String: Int] = [:]
        for (reason, count) in undecodedExitReasons where Self.vmxExitNames.contains(reason) { reasons[reason] = count }
        let decodedExits = exitEventCount - undecodedExitReasons.reduce(0) { $0 + $1.count }
        if !reasons.isEmpty, reasons.values.reduce(0, +) > decodedExits {
            let list = reasons.sorted { ($0.value, $1.key) > ($1.value, $0.key) }  // ties by name: the same text in every process.prefix(3).map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")
            return "kvm_exit reasons only Intel VMX prints (\(list))"
        }
        if let vmenter = names.firstIndex(of: "kvm_nested_vmenter"),
           let first = index.firstIndex(where: { Int($0.nameID) == vmenter }),
           event(at: EventNumber(first)).payloadText.contains(" vmcs: ") {
            return "kvm_nested_vmenter names a vmcs (line \(index[first].lineNumber))"
        }
        return nil
    }

    /// The one-line refusal `check` and the TUI give for an Intel VMX trace, or nil.
    public var vmxRefusal: String? {
        vmxEvidence.map { "this is an Intel VMX trace (\($0)); the model is SVM-only: use `svmdbg stats` for its exits" }
    }

    /// VMX exit reason names (`arch/x86/include/uapi/asm/vmx.h` VMX_EXIT_REASONS) that no
    /// SVM wording uses.
    static let vmxExitNames: Set<String> = [
        "EXCEPTION_NMI", "EXTERNAL_INTERRUPT", "TRIPLE_FAULT", "INIT_SIGNAL", "SIPI_SIGNAL", "INTERRUPT_WINDOW",
        "NMI_WINDOW", "TASK_SWITCH", "CPUID", "HLT", "INVD", "INVLPG", "RDPMC", "RDTSC", "VMCALL", "VMCLEAR",
        "VMLAUNCH", "VMPTRLD", "VMPTRST", "VMREAD", "VMRESUME", "VMWRITE", "VMOFF", "VMON", "CR_ACCESS", "DR_ACCESS",
        "IO_INSTRUCTION", "MSR_READ", "MSR_WRITE", "INVALID_STATE", "MSR_LOAD_FAIL", "MWAIT_INSTRUCTION",
        "MONITOR_TRAP_FLAG", "MONITOR_INSTRUCTION", "PAUSE_INSTRUCTION", "MCE_DURING_VMENTRY", "TPR_BELOW_THRESHOLD",
        "APIC_ACCESS", "EOI_INDUCED", "GDTR_IDTR", "LDTR_TR", "EPT_VIOLATION", "EPT_MISCONFIG", "INVEPT", "RDTSCP",
        "PREEMPTION_TIMER", "INVVPID", "WBINVD", "XSETBV", "APIC_WRITE", "RDRAND", "INVPCID", "VMFUNC", "ENCLS",
        "RDSEED", "PML_FULL", "XSAVES", "XRSTORS", "UMWAIT", "TPAUSE", "BUS_LOCK", "NOTIFY", "PENDING_INTERRUPT",
        "apic_access",
    ]

    /// The word after `reason ` in an exit payload.
    static func printedReason(_ payload: String) -> String {
        guard let range = payload.range(of: "reason") else { return "?" }
        let rest = payload[range.upperBound...].drop { $0 == " " || $0 == ":" }
        let word = rest.prefix { $0 != " " }
        return word.isEmpty ? "?" : String(word)
    }
}
