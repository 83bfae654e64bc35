import Foundation
import NestedSVM
import TraceKit

/// Exit assembly: events of a thread become exits with their spans (first to last event,
/// the events between), opened by `kvm_exit` and closed by `kvm_entry`, a gap or the end.
extension Walk {
    mutating func step(_ number: EventNumber) {
        let nameID = trace.nameID(of: number)
        let pid = trace.pid(of: number)
        guard let kind = kinds[nameID] else {
            extendOpenExit(pid: pid, with: number, line: line(of: number))
            return
        }
        let payload = trace.payload(of: number)
        let lineNumber = line(of: number)
        defer {
            // In place: the tracked state is large, copying it out and back costs more than the rest.
            vcpus[pid, default: TrackedVCPU(pid: pid)].apply(payload, kind: kind, line: lineNumber)
        }

        switch kind {
        case .exit:
            if let pending = open.removeValue(forKey: pid) { close(pending, entry: nil) }
            takeCheckpointIfDue(pid: pid, at: number)
            if case .exit(let exit) = payload {
                let vcpu = vcpus[pid] ?? TrackedVCPU(pid: pid)
                // Every L2 exit is followed by kvm_nested_vmexit (svm_handle_exit in guest mode),
                // so L1 ran unless one follows. Only a trace recorded without that event but with a
                // VMRUN seen on this thread falls back on the tracked guest mode.
                let trackedL2 = vcpu.guestMode?.value == true && !hasNestedVMExitEvents
                let level: Level = trackedL2 ? .l2 : .l1
                let source = trackedL2
                    ? (vcpu.guestMode?.provenance ?? .text("unknown"))
                    : Provenance.noNestedVMExitAfter(line: lineNumber)
                open[pid] = ExitSpan(
                    origin: .hardwareExit, first: number, firstLine: lineNumber, lastLine: lineNumber, last: number,
                    exit: exit, timestamp: trace.timestamp(of: number), level: level, levelSource: source, state: vcpu)
            }
        case .nestedVMExit:
            let vcpu = vcpus[pid] ?? TrackedVCPU(pid: pid)
            if open[pid]?.origin == .hardwareExit {
                open[pid]?.level = .l2
                open[pid]?.levelSource = .event(name: "kvm_nested_vmexit", line: lineNumber)
                if vcpu.guestMode?.value != true {
                    // The walk believed L1 ran (e.g. after a cut trace); the event settles it.
                    open[pid]?.state.guestMode = Known(true, from: .event(name: "kvm_nested_vmexit", line: lineNumber))
                }
                open[pid]?.append(number, payload: payload)
                open[pid]?.last = number
                open[pid]?.lastLine = lineNumber
            } else if case .nestedVMExit(let exit) = payload {
                // No kvm_exit before it (events missing): start the exit here.
                var state = vcpu
                state.guestMode = Known(true, from: .event(name: "kvm_nested_vmexit", line: lineNumber))
                open[pid] = ExitSpan(
                    origin: .hardwareExit, first: number, firstLine: lineNumber, lastLine: lineNumber, last: number,
                    exit: exit, timestamp: trace.timestamp(of: number), level: .l2,
                    levelSource: .event(name: "kvm_nested_vmexit", line: lineNumber), state: state)
                report(ReplayFinding(
                    kind: "missing-kvm-exit", line: lineNumber,
                    message: "kvm_nested_vmexit without a kvm_exit before it on pid \(pid): events are missing"))
            }
        case .nestedIntrVMExit:
            // svm_check_nested_events turns an interrupt pending for L1 into a #VMEXIT just
            // before an entry: the exit still open was finished by L0 (this is the point where
            // the entry would have come), and a synthesized INTR #VMEXIT starts here.
            if var current = open.removeValue(forKey: pid) {
                current.append(number, payload: payload)
                current.last = number
                current.lastLine = lineNumber
                close(current, entry: number)
            }
            let vcpu = vcpus[pid] ?? TrackedVCPU(pid: pid)
            var synthesized = ExitSpan(
                origin: .synthesized, first: number, firstLine: lineNumber, lastLine: lineNumber, last: number,
                exit: KVMExit(exitReason: SVMExitReason(Self.intrExitCode)), timestamp: trace.timestamp(of: number),
                level: .l2, levelSource: .eventNote(name: "kvm_nested_intr_vmexit", line: lineNumber, note: "fires only in guest mode"), state: vcpu)
            if case .nestedIntrVMExit(let rip) = payload { synthesized.exit.guestRIP = rip }
            synthesized.append(number, payload: payload)
            open[pid] = synthesized
        case .nestedVMExitInject:
            if open[pid] != nil {
                extendOpenExit(pid: pid, with: number, line: lineNumber, payload: payload)
            } else if case .nestedVMExitInject(let inject) = payload {
                let vcpu = vcpus[pid] ?? TrackedVCPU(pid: pid)
                let exit = KVMExit(
                    exitReason: inject.exitReason, guestRIP: nil, exitInfo1: inject.exitInfo1,
                    exitInfo2: inject.exitInfo2, intrInfo: inject.exitIntInfo, errorCode: inject.exitIntInfoErr)
                var current = ExitSpan(
                    origin: .synthesized, first: number, firstLine: lineNumber, lastLine: lineNumber, last: number,
                    exit: exit, timestamp: trace.timestamp(of: number), level: vcpu.level,
                    levelSource: vcpu.guestMode?.provenance ?? .text("unknown"), state: vcpu)
                current.append(number, payload: payload)
                open[pid] = current
            }
        case .entry:
            if var current = open.removeValue(forKey: pid) {
                current.append(number, payload: payload)
                current.last = number
                current.lastLine = lineNumber
                close(current, entry: number)
            }
        case .nestedVMEnter, .nestedVMRun, .nestedIntercepts, .msr, .cr:
            extendOpenExit(pid: pid, with: number, line: lineNumber, payload: payload)
        }
    }

    /// Events are missing before `number`: an exit still open cannot be paired with an entry
    /// after the gap, and guest mode may have changed unseen.
    mutating func crossGap(at number: EventNumber) {
        let line = trace.lineNumber(of: number)
        for pid in open.keys.sorted() {
            currentKey = number.rawValue * keyStride + 1 + (finishOrder[pid] ?? 0)
            guard let pending = open.removeValue(forKey: pid) else { continue }
            close(pending, entry: nil)
        }
        for pid in vcpus.keys {
            vcpus[pid]?.guestMode = nil
        }
        currentKey = number.rawValue * keyStride + keyStride - 1
        guard reportsGaps else { return }
        report(ReplayFinding(
            kind: "gap", line: line,
            message: "events are missing before line \(line) (lost events or omitted lines): open exits are left undetermined and guest mode is re-learned"))
    }

    /// Adds an event to the exit still open on `pid`, if any.
    mutating func extendOpenExit(pid: Int32, with number: EventNumber, line: Int, payload: EventPayload? = nil) {
        // Mutated in place: copying the span out would copy its event list on every append.
        guard open[pid] != nil else { return }
        open[pid]?.append(number, payload: payload)
        open[pid]?.last = number
        open[pid]?.lastLine = line
    }

    mutating func finishExitSpans() {
        for pid in open.keys.sorted() {
            currentKey = trace.count * keyStride + 1 + (finishOrder[pid] ?? 0)
            if let pending = open.removeValue(forKey: pid) { close(pending, entry: nil) }
        }
        exits.sort { $0.firstEvent < $1.firstEvent }
    }

    func line(of number: EventNumber) -> Int { trace.lineNumber(of: number) }
}

/// The events the walk looks at, by their trace names; everything else only joins the open
/// exit. The walk maps each of the trace's name ids to one once, then dispatches on it.
enum TrackedEvent: String, Sendable, CaseIterable {
    case exit = "kvm_exit"
    case nestedVMExit = "kvm_nested_vmexit"
    case entry = "kvm_entry"
    case nestedVMExitInject = "kvm_nested_vmexit_inject"
    case nestedVMEnter = "kvm_nested_vmenter"
    case nestedVMRun = "kvm_nested_vmrun"
    case nestedIntercepts = "kvm_nested_intercepts"
    case msr = "kvm_msr"
    case cr = "kvm_cr"
    case nestedIntrVMExit = "kvm_nested_intr_vmexit"

    /// The events that print a VMRUN's vmcb12 (its own input).
    var describesVMRUNInput: Bool { self == .nestedVMEnter || self == .nestedVMRun || self == .nestedIntercepts }
}

/// An exit whose outcome is still being read.
struct ExitSpan: Sendable {
    var origin: ExitRecord.Origin
    var first: EventNumber
    var firstLine: Int
    var lastLine: Int
    var last: EventNumber
    var exit: KVMExit
    var timestamp: TraceTimestamp
    var level: Level?
    var levelSource: Provenance
    var state: TrackedVCPU
    /// The exit's events after its first, in order.
    var events: [EventNumber] = []
    /// Their payloads where the walk decoded them already (nil: not decoded yet).
    var payloads: [EventPayload?] = []

    /// Adds an event, with its payload when already decoded.
    mutating func append(_ number: EventNumber, payload: EventPayload?) {
        events.append(number)
        payloads.append(payload)
    }
}


/// The exit still open on each thread, kept in place: an exit span is large (it carries the
/// thread's tracked state), and a dictionary of spans would move it out and back on every
/// event added to it.
struct OpenExits: Sendable {
    /// One slot per thread seen, nil when no exit is open on it.
    private var slots: [ExitSpan?] = []
    /// Slot of each thread.
    private var slotOf: [Int32: Int] = [:]

    /// The open exit of thread `pid`; assigning nil closes it.
    subscript(pid: Int32) -> ExitSpan? {
        _read {
            if let slot = slotOf[pid] { yield slots[slot] } else { yield nil }
        }
        _modify {
            let slot: Int
            if let known = slotOf[pid] {
                slot = known
            } else {
                slot = slots.count
                slots.append(nil)
                slotOf[pid] = slot
            }
            yield &slots[slot]
        }
    }

    /// Takes the open exit of `pid` out, if any.
    mutating func removeValue(forKey pid: Int32) -> ExitSpan? {
        guard let slot = slotOf[pid] else { return nil }
        var taken: ExitSpan?
        swap(&taken, &slots[slot])
        return taken
    }

    /// Threads with an open exit.
    var keys: [Int32] { slotOf.compactMap { slots[$0.value] == nil ? nil : $0.key } }
}

/// Constants for reading a VMRUN's own input.
enum VMRUNInput {
    /// `SVM_EXIT_VMRUN` (APM vol. 2, table C-1).
    static let exitCode: UInt32 = 0x080
}
