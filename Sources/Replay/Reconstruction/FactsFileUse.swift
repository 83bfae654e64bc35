import NestedSVM
import TraceKit

/// What each `--facts` file did in a replay: its scopes and how many exits it applied to
/// (the host facts pane lists them as given facts).
///
/// An entry applies to an exit when its scope fits the exit's vCPU and the vmcb12 address of
/// the thread's last `kvm_nested_vmenter`/`kvm_nested_vmrun` before the exit, the two values
/// the replay passes to ``UserFacts`` when it builds the exit's state (the state is taken at
/// the exit's first event, an L1 VMRUN's with the vmcb12 its own events print; a gap keeps
/// the vmcb12 address).
public struct FactsFileUse: Sendable, Hashable {
    /// The file as given.
    public var path: String
    /// The file's description, if it has one.
    public var description: String
    /// Each entry's scope in words (`every exit`, `vmcb12 0x1000`, `vcpu 1`, `vmcb12 0x1000 on vcpu 1`), once each.
    public var scopes: [String]
    /// Entries in the file.
    public var entries: Int
    /// Exits at least one of its entries applied to.
    public var exits: Int

    /// The files of `result`'s options, in the order given.
    public static func of(_ result: ReplayResult) -> [FactsFileUse] {
        let files = result.options.facts
        guard !files.isEmpty else { return [] }
        var counts = Array(repeating: 0, count: files.count)
        let addresses = vmcb12Addresses(result)
        let instructions = l1Instructions(result)
        for (index, exit) in result.exits.enumerated() {
            let level = exit.level.map { $0 == .l2 ? GuestLevel.l2 : .l1 }
            let counted = instructions[index]
            for (f, file) in files.enumerated()
            where file.entries.contains(where: {
                $0.applies(
                    vmcb12Address: addresses[index], vcpu: exit.vcpu, vmrun: counted.vmrun, level: level, rip: exit.rip,
                    l1Instruction: counted.own)
            }) {
                counts[f] += 1
            }
        }
        return files.enumerated().map { f, file in
            var scopes: [String] = []
            for entry in file.entries {
                let scope = Self.scope(of: entry)
                if !scopes.contains(scope) { scopes.append(scope) }
            }
            return FactsFileUse(path: file.path, description: file.description, scopes: scopes,
                                entries: file.entries.count, exits: counts[f])
        }
    }

    /// For each exit (by index): the L1 VMRUNs its thread ran up to and including it (the
    /// `vmrun` scope) and, for an L1 VMLOAD/VMSAVE/VMRUN exit, which one of its kind it is (the
    /// `vmload`/`vmsave` scopes), counted from exit codes as `Walk.exitState` counts them. A #GP
    /// exit the walk decodes as one of these instructions is not counted here, so with such
    /// exits the pane's count can be lower than the exits the replay applied the entry to.
    static func l1Instructions(_ result: ReplayResult) -> [(vmrun: Int, own: (kind: SVMInstruction, ordinal: Int)?)] {
        var counted = [(vmrun: Int, own: (kind: SVMInstruction, ordinal: Int)?)](repeating: (0, nil), count: result.exits.count)
        var seen: [Int32: [SVMInstruction: Int]] = [:]
        let order = result.exits.indices.sorted { result.exits[$0].firstEvent < result.exits[$1].firstEvent }
        for index in order {
            let exit = result.exits[index]
            var own: SVMInstruction?
            if exit.level == .l1, exit.origin == .hardwareExit {
                switch exit.exitCode {
                case 0x80: own = .vmrun
                case 0x82: own = .vmload
                case 0x83: own = .vmsave
                default: break
                }
            }
            if let own { seen[exit.pid, default: [:]][own, default: 0] += 1 }
            let thread = seen[exit.pid] ?? [:]
            counted[index] = (thread[.vmrun, default: 0], own.map { ($0, thread[$0, default: 0]) })
        }
        return counted
    }

    /// The vmcb12 address each exit's state has (by exit index): its thread's last VMRUN
    /// before the exit's first event, nil before any.
    static func vmcb12Addresses(_ result: ReplayResult) -> [UInt64?] {
        let trace = result.trace
        let enterIDs = Set(trace.eventNames.indices.filter {
            let kind = TrackedEvent(rawValue: trace.eventNames[$0])
            return kind == .nestedVMEnter || kind == .nestedVMRun
        })
        var addresses = [UInt64?](repeating: nil, count: result.exits.count)
        var vmcb12: [Int32: UInt64] = [:]
        var position = 0
        let order = result.exits.indices.sorted { result.exits[$0].firstEvent < result.exits[$1].firstEvent }
        for index in order {
            let exit = result.exits[index]
            while position < min(exit.firstEvent.rawValue, trace.count) {
                let number = EventNumber(position)
                if enterIDs.contains(trace.nameID(of: number)), case .nestedVMEnter(let enter) = trace.payload(of: number) {
                    vmcb12[trace.pid(of: number)] = enter.vmcb
                }
                position += 1
            }
            addresses[index] = vmcb12[exit.pid]
            // An L1 VMRUN's state takes the vmcb12 its own events print (Walk.exitState).
            if exit.exitCode == VMRUNInput.exitCode, exit.level == .l1 {
                for p in exit.firstEvent.rawValue...min(exit.lastEvent.rawValue, trace.count - 1) {
                    let number = EventNumber(p)
                    guard trace.pid(of: number) == exit.pid, enterIDs.contains(trace.nameID(of: number)),
                          case .nestedVMEnter(let enter) = trace.payload(of: number) else { continue }
                    addresses[index] = enter.vmcb
                }
            }
        }
        return addresses
    }

    /// An entry's scope in words.
    static func scope(of entry: FactsFile.Entry) -> String {
        func range(_ name: String, _ range: ClosedRange<Int>?) -> String? {
            guard let range else { return nil }
            if range.upperBound == Int(Int32.max) { return "\(name) \(range.lowerBound)-" }
            return range.count == 1 ? "\(name) \(range.lowerBound)" : "\(name) \(range.lowerBound)-\(range.upperBound)"
        }
        var parts: [String] = []
        if let address = entry.vmcb12Address { parts.append("vmcb12 \(Hex.format(address))") }
        if let level = entry.level { parts.append(level == .l2 ? "L2" : "L1") }
        if let rip = entry.rip { parts.append("rip \(Hex.format(rip))") }
        for part in [range("vmrun", entry.vmruns), range("vmload", entry.vmloads), range("vmsave", entry.vmsaves)] {
            if let part { parts.append(part) }
        }
        if parts.isEmpty { return entry.vcpu.map { "vcpu \($0)" } ?? "every exit" }
        return parts.joined(separator: " ") + (entry.vcpu.map { " on vcpu \($0)" } ?? "")
    }
}
