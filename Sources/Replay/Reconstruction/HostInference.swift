import NestedSVM
import TraceKit

/// What the trace itself proves about L0's host CPU and `kvm_amd` parameters.
///
/// Only patterns that cannot happen otherwise count as proof; each fact cites its line.
/// An explicit `--host` fact always wins (``HostFacts/overridden(by:)``); a fact neither
/// given nor proved stays unknown.
public enum HostInference {
    /// Infers host facts from `trace`.
    ///
    /// - `GP excp` exit while L1 runs, or an L2 `GP excp` that L0 decodes
    ///   (`kvm_emulate_insn` before the next entry): L0 intercepts #GP, which (without the
    ///   VMware backdoor) means the CPU lacks SVME_ADDR_CHK (`svm/svm.c:svm_set_efer`).
    /// - `stgi`/`clgi` exits: L0 intercepts STGI/CLGI, which it does only without vGIF
    ///   (`svm/svm.c:init_vmcb`).
    /// - `kvm_emulate_insn` decoding the instruction of an exit L0 handled and skipped
    ///   (MSR, CPUID, VMRUN, …) at the exit's RIP: no next-RIP save (`nrips=0`,
    ///   `svm/svm.c:svm_skip_emulated_instruction`).
    /// - `kvm_cr`: decode assists; a CR exit followed by `kvm_emulate_insn` of a MOV CR:
    ///   no decode assists (`svm/svm.c:cr_interception`).
    /// - `npf` exit while L1 runs: L0 uses NPT; `PF excp` exit while L1 runs: shadow paging.
    public static func facts(from trace: LoadedTrace) -> HostFacts {
        var scan = Scan()
        scan.advance(over: trace)
        return scan.facts
    }

    /// The inference carried on over a growing trace (`--follow`, `--pipe`): what it proved so
    /// far and each thread's exit still waiting for its entry, so an append feeds it only the
    /// new events. Feeding a trace in pieces gives the facts of feeding it whole.
    public struct Scan: Sendable {
        /// What the events fed so far prove.
        public fileprivate(set) var facts = HostFacts()
        /// Events fed so far (the next one fed is this event number).
        public fileprivate(set) var scanned = 0
        /// Each thread's last exit not yet followed by its entry.
        fileprivate var lastExit: [Int32: PendingExit] = [:]

        /// Nothing fed yet.
        public init() {}

        /// Feeds the events of `trace` not fed yet; `trace` must be the one fed before with
        /// lines appended (``LoadedTrace/appending(lines:format:)``).
        public mutating func advance(over trace: LoadedTrace) {
            guard scanned < trace.count else { return }
            HostInference.scan(trace, from: scanned, facts: &facts, lastExit: &lastExit)
            scanned = trace.count
        }
    }

    fileprivate typealias PendingExit = (reason: UInt32, rip: UInt64?, line: Int, l2: Bool)

    private static func scan(_ trace: LoadedTrace, from start: Int, facts: inout HostFacts,
                             lastExit: inout [Int32: PendingExit]) {
        let skipReasons: Set<UInt32> = [0x7c, 0x72, 0x80, 0x82, 0x83, 0x84, 0x85, 0x7a]
        // Dispatched on the trace's name ids, each mapped to the events read here once.
        let kinds = trace.eventNames.map(ReadEvent.init(rawValue:))
        for position in start..<trace.count {
            let number = EventNumber(position)
            guard let kind = kinds[trace.nameID(of: number)] else { continue }
            let pid = trace.pid(of: number)
            switch kind {
            case .exit:
                guard case .exit(let exit) = trace.payload(of: number) else { continue }
                let line = trace.lineNumber(of: number)
                lastExit[pid] = (exit.exitReason.rawValue, exit.guestRIP, line, false)
            case .nestedVMExit:
                if var last = lastExit[pid] {
                    last.l2 = true
                    lastExit[pid] = last
                }
            case .entry:
                if let last = lastExit[pid] { conclude(last, into: &facts) }
                lastExit[pid] = nil
            case .emulateInsn:
                guard let last = lastExit[pid], case .emulateInsn(let insn) = trace.payload(of: number) else { continue }
                let line = trace.lineNumber(of: number)
                if last.reason == 0x4d, facts.svmeAddrChk == nil {
                    facts.svmeAddrChk = Known(false, from: .hostInference(.gpDecoded(exitLine: last.line, line: line)))
                }
                if skipReasons.contains(last.reason), insn.rip == last.rip, facts.nrips == nil {
                    facts.nrips = Known(false, from: .hostInference(.skipDecoded(line: line)))
                }
                if (0x00...0x1f).contains(last.reason), let bytes = insn.bytes, bytes.starts(with: [0x0f]),
                    bytes.count > 1, bytes[1] == 0x20 || bytes[1] == 0x22, facts.decodeAssists == nil
                {
                    facts.decodeAssists = Known(false, from: .hostInference(.crEmulated(line: line)))
                }
            case .cr:
                if facts.decodeAssists == nil {
                    facts.decodeAssists = Known(true, from: .event(name: "kvm_cr", line: trace.lineNumber(of: number)))
                }
            }
        }
    }

    /// The events inference reads, by their trace names.
    private enum ReadEvent: String {
        case exit = "kvm_exit"
        case nestedVMExit = "kvm_nested_vmexit"
        case entry = "kvm_entry"
        case emulateInsn = "kvm_emulate_insn"
        case cr = "kvm_cr"
    }

    private static func conclude(_ exit: (reason: UInt32, rip: UInt64?, line: Int, l2: Bool), into facts: inout HostFacts) {
        switch exit.reason {
        case 0x4d where !exit.l2:
            if facts.svmeAddrChk == nil {
                facts.svmeAddrChk = Known(false, from: .hostInference(.gpExitInL1(line: exit.line)))
            }
        case 0x84, 0x85:
            if facts.vgif == nil {
                facts.vgif = Known(false, from: .hostInference(.gifExit(stgi: exit.reason == 0x84, line: exit.line)))
            }
        case 0x400 where !exit.l2:
            if facts.npt == nil { facts.npt = Known(true, from: .hostInference(.npfInL1(line: exit.line))) }
        case 0x4e where !exit.l2:
            if facts.npt == nil { facts.npt = Known(false, from: .hostInference(.pfInL1(line: exit.line))) }
        default:
            break
        }
    }
}
