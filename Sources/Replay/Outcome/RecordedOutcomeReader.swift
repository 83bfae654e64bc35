import TraceKit

/// Reads the recorded outcome of one exit from the events between it and the next entry on
/// its thread (`trace-events.md` §4: what lies between `kvm_exit` and `kvm_entry` decides).
enum RecordedOutcomeReader {
    /// Classifies `events` (the exit's own events, in order, ending with the entry when
    /// there is one).
    static func read(events: ExitEvents, entry: EventNumber?, level: Level?, origin: ExitRecord.Origin) -> RecordedOutcome {
        var inject: (EventNumber, KVMNestedVMExitInject)?
        var enter: EventNumber?
        var failed: (EventNumber, String)?
        var exception: (EventNumber, KVMInjException)?
        var userspace: (EventNumber, String)?
        var emulated = false
        var reinjections: [String] = []
        for (number, payload) in events.all {
            switch payload {
            case .nestedVMExitInject(let payload): inject = (number, payload)
            case .nestedVMEnter: enter = number
            case .nestedVMEnterFailed(let message): failed = (number, message)
            case .injException(let payload):
                if payload.reinjected == true {
                    reinjections.append(ExceptionText.name(payload.vector))
                } else {
                    exception = (number, payload)
                }
            case .injVirq(let payload):
                if payload.reinjected == true {
                    reinjections.append("\(payload.kind == .softInterrupt ? "Soft/INTn" : "IRQ") 0x\(String(payload.vector, radix: 16))")
                }
            case .userspaceExit(let payload): userspace = (number, payload.reason)
            case .emulateInsn: emulated = true
            default: break
            }
        }
        // A decision event proves the outcome even when no entry follows (the trace ends, or
        // the VMM stopped after a userspace exit); only "L0 kept it" needs the entry, because
        // the absence of events proves nothing until the guest runs again.
        let tail = entry.map { [$0] } ?? []
        if let (number, payload) = inject {
            if enter != nil, payload.exitReason.rawValue == 0xffff_ffff {
                // A check KVM runs after kvm_nested_vmenter (`nested_svm_load_cr3`'s
                // `!load_pdptrs(vcpu, cr3)`) names itself; otherwise only the out_exit_err path is known.
                return RecordedOutcome(
                    kind: .vmrunFails, exitCode: payload.exitReason.rawValue, exitInfo1: payload.exitInfo1,
                    exitInfo2: payload.exitInfo2, nextLevel: .l1, failedCheck: failed?.1 ?? "out_exit_err after kvm_nested_vmenter",
                    emulated: emulated, reinjections: reinjections, evidence: [number] + (failed.map { [$0.0] } ?? []) + tail,
                    entry: entry)
            }
            return RecordedOutcome(
                kind: .reflectToL1, exitCode: payload.exitReason.rawValue, exitInfo1: payload.exitInfo1,
                exitInfo2: payload.exitInfo2, exitIntInfo: payload.exitIntInfo, nextLevel: .l1, emulated: emulated,
                reinjections: reinjections, evidence: [number] + tail, entry: entry)
        }
        if let (number, message) = failed {
            return RecordedOutcome(
                kind: .vmrunFails, exitCode: 0xffff_ffff, exitInfo1: 0, exitInfo2: 0, nextLevel: .l1,
                failedCheck: message, emulated: emulated, reinjections: reinjections, evidence: [number] + tail,
                entry: entry)
        }
        if let enter {
            return RecordedOutcome(
                kind: .vmrunSucceeds, nextLevel: .l2, emulated: emulated, reinjections: reinjections,
                evidence: [enter] + tail, entry: entry)
        }
        if let (number, payload) = exception {
            return RecordedOutcome(
                kind: .injectException, vector: payload.vector, errorCode: payload.errorCode, nextLevel: level,
                emulated: emulated, reinjections: reinjections, evidence: [number] + tail, entry: entry)
        }
        if let (number, reason) = userspace {
            return RecordedOutcome(
                kind: .userspaceExit, nextLevel: level, userspaceReason: reason, emulated: emulated,
                reinjections: reinjections, evidence: [number] + tail, entry: entry)
        }
        guard entry != nil else {
            return RecordedOutcome(kind: .unknown, emulated: emulated, reinjections: reinjections)
        }
        return RecordedOutcome(
            kind: .l0Handles, nextLevel: level, emulated: emulated, reinjections: reinjections, evidence: tail,
            entry: entry)
    }
}
