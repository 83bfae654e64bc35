import NestedSVM
import Replay
import TraceKit
import DebuggerUI

/// The short texts of the exit list, built from one `ExitRecord` and its own events.
enum ReplayRowText {
    /// The list row of `exit`.
    static func row(_ exit: ExitRecord, verdict: ExitVerdict, in result: ReplayResult) -> ExitRow {
        ExitRow(
            number: ExitNumber(exit.index), timestamp: exit.timestamp, vcpu: exit.vcpu.map { Int($0) },
            level: exit.level, reason: exit.reasonName, exitCode: UInt64(exit.exitCode), rip: exit.rip,
            summary: summary(exit, in: result), modelOutcome: short(exit.model),
            recordedOutcome: short(exit.recorded), verdict: verdict, latency: latency(exit, in: result.trace))
    }

    /// The time from the exit's `kvm_exit` to the `kvm_entry` of the same thread that ended it.
    static func latency(_ exit: ExitRecord, in trace: LoadedTrace) -> ExitLatency {
        let last = exit.lastEvent
        guard last > exit.firstEvent, trace.name(of: last) == "kvm_entry", trace.pid(of: last) == exit.pid else { return .noEntry }
        guard trace.hasTimestamp(exit.firstEvent), trace.hasTimestamp(last) else { return .untimed }
        switch (trace.timestamp(of: exit.firstEvent), trace.timestamp(of: last)) {
        case (.nanoseconds(let a), .nanoseconds(let b)): return .nanoseconds(b - a)
        case (.counter(let a), .counter(let b)): return .ticks(Int64(bitPattern: UInt64(b) &- UInt64(a)))
        default: return .untimed
        }
    }

    /// The model's outcome in at most six columns: `L1`, `L0` (also when L0 emulates), `#GP L2`, `fail`,
    /// `L2`, `user`; undetermined as the outcomes it allows (`L1/L0`) or `?`.
    static func short(_ outcome: Outcome) -> String {
        switch outcome.kind {
        case .reflectToL1: "L1"
        case .l0Handles: "L0"
        case .emulate: "L0"
        case .injectException:
            (outcome.vector.map(ExceptionVector.name) ?? "#?") + (outcome.level.map { " \($0)" } ?? "")
        case .vmrunFails: "fail"
        case .vmrunSucceeds: "L2"
        case .userspaceExit: "user"
        case .injectInterrupt: "IRQ" + (outcome.level.map { " \($0)" } ?? "")
        case .injectNMI: "NMI" + (outcome.level.map { " \($0)" } ?? "")
        case .noExit: "none"
        case .undetermined: conditional(outcome)
        }
    }

    /// The short forms an undetermined outcome allows, `L1/L0`, when they fit in six
    /// columns; else `?`.
    private static func conditional(_ outcome: Outcome) -> String {
        var forms: [String] = []
        for alternative in outcome.alternatives ?? [] {
            let form = short(alternative.outcome)
            if !forms.contains(form) { forms.append(form) }
        }
        let text = forms.joined(separator: "/")
        return forms.isEmpty || text.count > 6 ? "?" : text
    }

    /// The recorded outcome in the same short form.
    static func short(_ recorded: RecordedOutcome) -> String {
        switch recorded.kind {
        case .reflectToL1: "L1"
        case .l0Handles: "L0"
        case .injectException:
            (recorded.vector.map(ExceptionVector.name) ?? "#?") + (recorded.nextLevel.map { " \($0.rawValue)" } ?? "")
        case .vmrunFails: "fail"
        case .vmrunSucceeds: "L2"
        case .userspaceExit: "user"
        case .unknown: "?"
        }
    }

    /// One-line exit_info summary: `wrmsr 0xc0000080=0x1500`, `out 0x510 4B`, `gpa 0x1000 write`.
    static func summary(_ exit: ExitRecord, in result: ReplayResult) -> String {
        switch exit.exitCode {
        case VMCBDecoding.msrExit:
            let write = exit.exitInfo1.map { $0 & 1 == 1 }
            let op = write.map { $0 ? "wrmsr" : "rdmsr" } ?? "msr"
            guard let stated = ReplayIndex.statedMSR(of: exit, in: result) else { return "\(op) ecx=?" }
            let msr = Hex.format(stated.msr)
            if stated.payload.faulted { return "\(op) \(msr) #GP" }
            return stated.payload.isWrite ? "\(op) \(msr)=\(Hex.format(stated.payload.data))" : "\(op) \(msr)"
        case VMCBDecoding.ioioExit:
            guard let info1 = exit.exitInfo1 else { return "io ?" }
            let size = (info1 >> VMCBDecoding.ioioSizeShift) & 7
            let op = info1 & VMCBDecoding.ioioTypeIn != 0 ? "in" : "out"
            return "\(op) \(Hex.format(VMCBDecoding.ioioPort(info1))) \(size)B"
                + (info1 & VMCBDecoding.ioioString != 0 ? " str" : "") + (info1 & VMCBDecoding.ioioRep != 0 ? " rep" : "")
        case VMCBDecoding.npfExit:
            guard let gpa = exit.exitInfo2 else { return "gpa ?" }
            let info1 = exit.exitInfo1 ?? 0
            var text = "gpa \(Hex.format(gpa))"
            if info1 & 2 != 0 { text += " write" }
            if info1 & 0x10 != 0 { text += " fetch" }
            if info1 & (1 << 33) != 0 { text += " walk" }
            return text
        case VMCBDecoding.exceptionBase...(VMCBDecoding.exceptionBase + 31):
            let vector = UInt8(exit.exitCode - VMCBDecoding.exceptionBase)
            var text = ExceptionVector.name(vector)
            if ExceptionVector.hasErrorCode(vector), let info1 = exit.exitInfo1 { text += " err \(Hex.format(info1))" }
            return text
        default:
            if let info = exit.exitIntInfo, info & VMCBDecoding.eventValid != 0 {
                return "in flight: " + VMCBDecoding.event(info, errorCode: exit.exitIntInfoErr)
            }
            return ""
        }
    }

    /// What `.text` search looks at: the row's decoded text and the exit's raw lines.
    static func searchableText(of exit: ExitRecord, in result: ReplayResult) -> [String] {
        var texts = [exit.reasonName, summary(exit, in: result), exit.model.description, exit.recorded.summary,
                     exit.verdict.explanation]
        texts += exit.verdict.differences.map(\.description)
        var reader = RawLineReader(result.trace)  // one forward pass over the exit's lines
        for line in exit.lines {
            if let text = reader.line(line) { texts.append(text) }
        }
        return texts
    }
}
