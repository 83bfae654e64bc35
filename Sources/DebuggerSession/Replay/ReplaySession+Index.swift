import Foundation
import NestedSVM
import Replay
import TraceKit
import DebuggerUI

/// Compact per-exit arrays and posting lists over one replay, built once, so that filter,
/// breakpoint and mismatch navigation never rescan the exits.
///
/// Per exit it keeps about 20 bytes of columns (verdict, level, vCPU, exit code, reason id,
/// the MSR or port the exit's own events state, timestamp) plus one 4-byte entry in each
/// posting list the exit belongs to (verdict, level, vCPU, reason, MSR, port). A field
/// predicate is answered by a binary search in its posting list; `.all` walks the most
/// selective term's list and checks the others on the columns; only `.text` scans.
/// Immutable after `init`, hence `Sendable`.
final class ReplayIndex: Sendable {
    /// The replay the index describes.
    let result: ReplayResult
    /// Per-exit verdict, as `ExitVerdict`.
    let verdicts: [ExitVerdict]
    /// Per-exit level: 0 unknown, 1 L1, 2 L2.
    let levels: [UInt8]
    /// Per-exit vCPU id, -1 when unknown.
    let vcpus: [Int32]
    /// Per-exit exit code.
    let exitCodes: [UInt32]
    /// Per-exit index into `reasonNames`.
    let reasonIDs: [UInt16]
    /// Lowercased reason names, by id.
    let reasonNames: [String]
    /// Per-exit MSR number stated by a `kvm_msr` of the exit, or nil.
    let msrs: [UInt32: [Int32]]
    /// Per-exit MSR (parallel column, `UInt32.max` + flag false when none).
    let msrColumn: [UInt32]
    /// Whether `msrColumn[i]` is set.
    let hasMSR: [Bool]
    /// Per-exit IOIO port (from exit_info_1), column form.
    let portColumn: [UInt16]
    /// Whether `portColumn[i]` is set.
    let hasPort: [Bool]
    /// Exits per port.
    let ports: [UInt16: [Int32]]
    /// Exits per verdict.
    let byVerdict: [ExitVerdict: [Int32]]
    /// Exits per outcome name (`check --json`'s), model's or recorded (an exit once per name).
    let byOutcome: [String: [Int32]]
    /// Exits per level (1, 2).
    let byLevel: [UInt8: [Int32]]
    /// Exits per vCPU.
    let byVCPU: [Int32: [Int32]]
    /// Exits per reason id.
    let byReason: [UInt16: [Int32]]
    /// Exits per exit code.
    let byCode: [UInt32: [Int32]]
    /// Per-exit timestamp values (`TraceTimestamp.value`).
    let timestamps: [Int64]
    /// Running maximum of `timestamps`, for a binary search that tolerates slight disorder.
    let timestampMax: [Int64]
    /// Verdict counts.
    let counts: VerdictCounts

    /// Indexes `result`.
    convenience init(result: ReplayResult) { self.init(result: result, extending: nil) }

    /// Indexes `result`; with `old`, an index of a replay whose exits are the first exits of
    /// `result`, unchanged (a live replay that carried on), only the exits after those are
    /// indexed and the columns continue `old`'s.
    init(result: ReplayResult, extending old: ReplayIndex?) {
        self.result = result
        let exits = result.exits
        let n = exits.count
        let start = min(old?.count ?? 0, n)
        var verdicts = old?.verdicts ?? [], levels = old?.levels ?? [], vcpus = old?.vcpus ?? [], codes = old?.exitCodes ?? []
        var reasonIDs = old?.reasonIDs ?? [], reasonNames = old?.reasonNames ?? [], reasonLookup = old?.reasonLookup ?? [:]
        var msrColumn = old?.msrColumn ?? [], hasMSR = old?.hasMSR ?? [], portColumn = old?.portColumn ?? [], hasPort = old?.hasPort ?? []
        var timestamps = old?.timestamps ?? [], timestampMax = old?.timestampMax ?? []
        verdicts.reserveCapacity(n); levels.reserveCapacity(n); vcpus.reserveCapacity(n)
        codes.reserveCapacity(n); reasonIDs.reserveCapacity(n); msrColumn.reserveCapacity(n)
        hasMSR.reserveCapacity(n); portColumn.reserveCapacity(n); hasPort.reserveCapacity(n)
        timestamps.reserveCapacity(n); timestampMax.reserveCapacity(n)
        var msrs = old?.msrs ?? [:], ports = old?.ports ?? [:], byVerdict = old?.byVerdict ?? [:]
        var byLevel = old?.byLevel ?? [:], byVCPU = old?.byVCPU ?? [:], byReason = old?.byReason ?? [:]
        var byCode = old?.byCode ?? [:]
        var byOutcome = old?.byOutcome ?? [:]
        var counts = old?.counts ?? VerdictCounts(match: 0, mismatch: 0, undetermined: 0, notModelled: 0)
        var runningMax = old?.timestampMax.last ?? Int64.min
        var reasonNameByCode: [UInt32: String] = [:]
        // Compact fields only: an ExitRecord (which decodes the exit's first line) is built
        // just for the MSR and I/O exits whose operands the index needs.
        for position in start..<n {
            let i = Int32(position)
            let kind = exits.verdictKind(at: position)
            let verdict = kind == .match && exits.isMatchByInference(at: position) ? .consistent : Self.verdict(of: kind)
            verdicts.append(verdict)
            byVerdict[verdict, default: []].append(i)
            let model = exits.modelKind(at: position).rawValue, recorded = exits.recordedKind(at: position).rawValue
            byOutcome[model, default: []].append(i)
            if recorded != model { byOutcome[recorded, default: []].append(i) }
            switch verdict {
            case .match: counts.match += 1
            case .consistent: counts.consistent += 1
            case .mismatch: counts.mismatch += 1
            case .undetermined: counts.undetermined += 1
            case .notModelled: counts.notModelled += 1
            }
            let level: UInt8 = exits.level(at: position).map { $0 == .l1 ? 1 : 2 } ?? 0
            levels.append(level)
            if level != 0 { byLevel[level, default: []].append(i) }
            let vcpu = exits.vcpu(at: position).map { Int32(bitPattern: $0) } ?? -1
            vcpus.append(vcpu)
            if vcpu >= 0 { byVCPU[vcpu, default: []].append(i) }
            let exitCode = exits.exitCode(at: position)
            codes.append(exitCode)
            byCode[exitCode, default: []].append(i)
            let name: String
            if let known = reasonNameByCode[exitCode] {
                name = known
            } else {
                name = SVMExitReason(exitCode).description.lowercased()
                reasonNameByCode[exitCode] = name
            }
            let id: UInt16
            if let known = reasonLookup[name] {
                id = known
            } else {
                id = UInt16(truncatingIfNeeded: reasonNames.count)
                reasonNames.append(name)
                reasonLookup[name] = id
            }
            reasonIDs.append(id)
            byReason[id, default: []].append(i)
            let exit: ExitRecord? = exitCode == VMCBDecoding.msrExit || exitCode == VMCBDecoding.ioioExit ? exits[position] : nil
            if let exit, let msr = Self.statedMSR(of: exit, in: result)?.msr {
                msrColumn.append(msr); hasMSR.append(true)
                msrs[msr, default: []].append(i)
            } else {
                msrColumn.append(0); hasMSR.append(false)
            }
            if let exit, exit.exitCode == VMCBDecoding.ioioExit, let info1 = exit.exitInfo1 {
                let port = VMCBDecoding.ioioPort(info1)
                portColumn.append(port); hasPort.append(true)
                ports[port, default: []].append(i)
            } else {
                portColumn.append(0); hasPort.append(false)
            }
            let time = exits.timestamp(at: position).value
            timestamps.append(time)
            runningMax = max(runningMax, time)
            timestampMax.append(runningMax)
        }
        self.verdicts = verdicts
        self.levels = levels
        self.vcpus = vcpus
        self.exitCodes = codes
        self.reasonIDs = reasonIDs
        self.reasonNames = reasonNames
        self.reasonLookup = reasonLookup
        self.msrs = msrs
        self.msrColumn = msrColumn
        self.hasMSR = hasMSR
        self.portColumn = portColumn
        self.hasPort = hasPort
        self.ports = ports
        self.byVerdict = byVerdict
        self.byOutcome = byOutcome
        self.byLevel = byLevel
        self.byVCPU = byVCPU
        self.byReason = byReason
        self.byCode = byCode
        self.timestamps = timestamps
        self.timestampMax = timestampMax
        self.counts = counts
    }

    private let reasonLookup: [String: UInt16]

    /// Number of exits.
    var count: Int { verdicts.count }

    /// The UI verdict of a replayed exit.
    ///
    /// Replay has no "not modelled" verdict (an exit the rules do not cover comes back
    /// undetermined with the missing input named), so `.notModelled` is never produced.
    static func verdict(of exit: ExitRecord) -> ExitVerdict {
        exit.verdict.isConsistent ? .consistent : verdict(of: exit.verdict.kind)
    }

    /// The UI verdict of a replay verdict kind.
    static func verdict(of kind: Verdict.Kind) -> ExitVerdict {
        switch kind {
        case .match: .match
        case .mismatch: .mismatch
        case .undetermined: .undetermined
        }
    }

    /// The `kvm_msr` among the exit's own events (the MSR L0 emulated), if any.
    static func statedMSR(of exit: ExitRecord, in result: ReplayResult) -> (msr: UInt32, payload: KVMMSR, event: EventNumber)? {
        guard exit.exitCode == VMCBDecoding.msrExit, exit.firstEvent <= exit.lastEvent else { return nil }
        let trace = result.trace
        for position in exit.firstEvent.rawValue...exit.lastEvent.rawValue {
            let number = EventNumber(position)
            guard trace.pid(of: number) == exit.pid, trace.name(of: number) == "kvm_msr" else { continue }
            if case .msr(let payload) = trace.payload(of: number) { return (payload.msr, payload, number) }
        }
        return nil
    }

    // MARK: Predicates

    /// The posting list answering `predicate` directly, nil when it has none (any, text,
    /// compound); an empty list when no exit can match.
    private func postings(_ predicate: ExitPredicate) -> [Int32]? {
        switch predicate {
        case .vcpu(let v): return byVCPU[Int32(truncatingIfNeeded: v)] ?? []
        case .level(let l): return byLevel[l == .l1 ? 1 : 2] ?? []
        case .reason(let r): return reasonLookup[r.lowercased()].flatMap { byReason[$0] } ?? []
        case .exitCode(let c):
            guard c <= UInt64(UInt32.max) else { return [] }
            return byCode[UInt32(c)] ?? []
        case .msr(let m): return msrs[m] ?? []
        case .port(let p): return ports[p] ?? []
        case .verdict(let v): return byVerdict[v] ?? []
        case .outcome(let name): return byOutcome[name] ?? []
        case .any, .text, .all, .either, .not: return nil
        }
    }

    /// Whether exit `i` satisfies `predicate` (`text` needs `matcher`).
    func matches(_ predicate: ExitPredicate, _ i: Int, text matcher: (TextQuery, Int) -> Bool) -> Bool {
        switch predicate {
        case .any: return true
        case .vcpu(let v): return vcpus[i] >= 0 && Int(vcpus[i]) == v
        case .level(let l): return levels[i] == (l == .l1 ? 1 : 2)
        case .reason(let r): return reasonNames[Int(reasonIDs[i])] == r.lowercased()
        case .exitCode(let c): return UInt64(exitCodes[i]) == c
        case .msr(let m): return hasMSR[i] && msrColumn[i] == m
        case .port(let p): return hasPort[i] && portColumn[i] == p
        case .verdict(let v): return verdicts[i] == v
        case .outcome(let name):
            return result.exits.modelKind(at: i).rawValue == name || result.exits.recordedKind(at: i).rawValue == name
        case .text(let query): return matcher(query, i)
        case .all(let terms): return terms.allSatisfy { matches($0, i, text: matcher) }
        case .either(let terms): return terms.contains { matches($0, i, text: matcher) }
        case .not(let term): return !matches(term, i, text: matcher)
        }
    }

    /// The nearest exit after/before `start` (exclusive; nil = from the end inclusive)
    /// matching `predicate`.
    func next(
        _ predicate: ExitPredicate, after start: Int?, direction: Direction, text matcher: (TextQuery, Int) -> Bool
    ) -> Int? {
        guard count > 0 else { return nil }
        if let list = postings(predicate) { return Self.neighbour(in: list, after: start, direction: direction) }
        switch predicate {
        case .any:
            return Self.step(from: start, direction: direction, count: count)
        case .all(let terms):
            guard !terms.isEmpty else { return next(.any, after: start, direction: direction, text: matcher) }
            // Walk the most selective term; check the rest on the columns.
            let lead = terms.enumerated().min { estimate($0.element) < estimate($1.element) }
            guard let lead else { return nil }
            let rest = terms.enumerated().filter { $0.offset != lead.offset }.map(\.element)
            var position = start
            while let candidate = next(lead.element, after: position, direction: direction, text: matcher) {
                if rest.allSatisfy({ matches($0, candidate, text: matcher) }) { return candidate }
                position = candidate
            }
            return nil
        case .either(let terms):
            let found = terms.compactMap { next($0, after: start, direction: direction, text: matcher) }
            return direction == .forward ? found.min() : found.max()
        case .text(let query):
            var position = start
            while let candidate = Self.step(from: position, direction: direction, count: count) {
                if matcher(query, candidate) { return candidate }
                position = candidate
            }
            return nil
        case .not(let term):
            var position = start
            while let candidate = Self.step(from: position, direction: direction, count: count) {
                if !matches(term, candidate, text: matcher) { return candidate }
                position = candidate
            }
            return nil
        case .vcpu, .level, .reason, .exitCode, .msr, .port, .verdict, .outcome:
            return nil  // answered by `postings` above
        }
    }

    /// How many exits a term may visit (smaller walks first).
    private func estimate(_ predicate: ExitPredicate) -> Int {
        if let list = postings(predicate) { return list.count }
        switch predicate {
        case .text: return Int.max  // a scan: last resort
        case .not(let term): return count - min(count, estimate(term))
        case .all(let terms): return terms.map(estimate).min() ?? count
        case .either(let terms): return terms.map(estimate).reduce(0) { $0 &+ $1 }
        default: return count
        }
    }

    /// The exit after/before `start` in list order, ignoring predicates.
    private static func step(from start: Int?, direction: Direction, count: Int) -> Int? {
        switch direction {
        case .forward:
            let candidate = start.map { $0 + 1 } ?? 0
            return candidate < count ? candidate : nil
        case .backward:
            let candidate = start.map { $0 - 1 } ?? count - 1
            return candidate >= 0 ? min(candidate, count - 1) : nil
        }
    }

    /// Binary search in a sorted posting list.
    private static func neighbour(in list: [Int32], after start: Int?, direction: Direction) -> Int? {
        guard !list.isEmpty else { return nil }
        switch direction {
        case .forward:
            guard let start else { return Int(list[0]) }
            let at = firstIndex(in: list) { Int($0) > start }
            return at < list.count ? Int(list[at]) : nil
        case .backward:
            guard let start else { return Int(list[list.count - 1]) }
            let at = firstIndex(in: list) { Int($0) >= start }
            return at > 0 ? Int(list[at - 1]) : nil
        }
    }

    /// The first index of a sorted array where `isAbove` holds (count when none).
    private static func firstIndex<T>(in list: [T], where isAbove: (T) -> Bool) -> Int {
        var low = 0, high = list.count
        while low < high {
            let mid = (low + high) / 2
            if isAbove(list[mid]) { high = mid } else { low = mid + 1 }
        }
        return low
    }

    // MARK: Time

    /// The first exit whose timestamp is at or after `value`, else the last exit.
    func exit(atOrAfter value: Int64) -> Int? {
        guard count > 0 else { return nil }
        let at = Self.firstIndex(in: timestampMax) { $0 >= value }
        return at < count ? at : count - 1
    }

    /// Exits and mismatches per equal time slice.
    func rateBuckets(count slices: Int) -> [RateBucket] {
        guard slices > 0, count > 0, let first = timestamps.first, let last = timestampMax.last else { return [] }
        var buckets = Array(repeating: RateBucket(exits: 0, mismatches: 0, firstExit: nil), count: slices)
        let span = Double(last - first) + 1
        for i in 0..<count {
            let offset = Double(max(0, timestamps[i] - first))
            let b = min(slices - 1, Int(offset / span * Double(slices)))
            buckets[b].exits += 1
            if verdicts[i] == .mismatch { buckets[b].mismatches += 1 }
            if verdicts[i] == .consistent { buckets[b].consistent += 1 }
            if buckets[b].firstExit == nil { buckets[b].firstExit = ExitNumber(i) }
        }
        return buckets
    }
}
