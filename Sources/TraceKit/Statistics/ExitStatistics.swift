/// Per-exit-reason counts and exit-to-entry times, the table of `perf kvm stat report`,
/// split by nesting level.
///
/// Each `kvm_exit` is matched with the next `kvm_entry` of the same thread (pid); the time
/// between them is how long L0 spent on the exit. Nesting level: an exit is **L2** when the
/// next event of the same thread is `kvm_nested_vmexit` (KVM emits it right after
/// `kvm_exit` for every exit taken while L2 runs, `svm/svm.c:svm_handle_exit`;
/// `trace-events.md` §3.2, §3.5), otherwise **L1**. A trace recorded without
/// `kvm_nested_vmexit` therefore counts every exit as L1.
///
/// An exit followed by another `kvm_exit`, a gap (``LoadedTrace/gaps``: lost events, the
/// `# … omitted …` cut of a capped capture) or the end of the trace before any
/// `kvm_entry` is counted but not timed (``Row/untimed``); if not even the next event of
/// its thread is in the trace, its level is ``NestingLevel/unknown``.
public struct ExitStatistics: Sendable, Hashable {
    /// Which guest was running when the exit happened.
    public enum NestingLevel: String, Sendable, Hashable, CaseIterable, Comparable {
        /// L1 (the guest hypervisor) was running.
        case l1 = "L1"
        /// L2 (the nested guest) was running.
        case l2 = "L2"
        /// The event that would tell is not in the trace (the exit is the thread's last
        /// event before a gap or the end of the trace).
        case unknown

        /// L1, L2, then unknown.
        public static func < (lhs: NestingLevel, rhs: NestingLevel) -> Bool { lhs.order < rhs.order }

        private var order: Int {
            switch self {
            case .l1: 0
            case .l2: 1
            case .unknown: 2
            }
        }
    }

    /// The unit of the times.
    public enum TimeUnit: String, Sendable, Hashable {
        /// Nanoseconds (`sec.usec` timestamps).
        case nanoseconds
        /// Raw counter ticks (`counter`/`x86-tsc` trace clocks).
        case counterTicks = "ticks"
    }

    /// One line of the table: one exit reason at one nesting level.
    public struct Row: Sendable, Hashable {
        /// Nesting level.
        public var level: NestingLevel
        /// Exit reason.
        public var reason: SVMExitReason
        /// Number of exits.
        public var count: Int = 0
        /// Exits with no `kvm_entry` before the thread's next exit or the end of the trace.
        public var untimed: Int = 0
        /// Shortest exit-to-entry time.
        public var minimum: Int64?
        /// Longest exit-to-entry time.
        public var maximum: Int64?
        /// Sum of the timed exits' times.
        public var total: Int64 = 0
        /// Sum of the squared times (for the standard deviation).
        public var sumOfSquares: Double = 0

        /// Creates an empty row.
        public init(level: NestingLevel, reason: SVMExitReason) {
            self.level = level
            self.reason = reason
        }

        /// Exits with a time.
        public var timed: Int { count - untimed }

        /// Mean time over the timed exits, or nil if none was timed.
        public var mean: Double? { timed == 0 ? nil : Double(total) / Double(timed) }

        /// Sample standard deviation of the timed exits' times (n − 1), nil below two.
        public var standardDeviation: Double? {
            guard timed >= 2, let mean else { return nil }
            let variance = (sumOfSquares - Double(timed) * mean * mean) / Double(timed - 1)
            return variance > 0 ? variance.squareRoot() : 0
        }

        /// perf kvm stat's `( +- x% )`: the standard error of the mean as a percentage of
        /// the mean (`tools/perf/util/stat.c` stddev_stats / rel_stddev_stats); 0 for one exit.
        public var meanErrorPercent: Double? {
            guard let mean, mean > 0 else { return timed == 1 ? 0 : nil }
            guard let deviation = standardDeviation else { return 0 }
            return deviation / Double(timed).squareRoot() / mean * 100
        }

        mutating func add(duration: Int64?) {
            count += 1
            guard let duration else { untimed += 1; return }
            total += duration
            sumOfSquares += Double(duration) * Double(duration)
            minimum = Swift.min(minimum ?? duration, duration)
            maximum = Swift.max(maximum ?? duration, duration)
        }
    }

    /// The table for one thread (vCPU).
    public struct ThreadTable: Sendable, Hashable {
        /// Thread id.
        public var pid: Int32
        /// vCPU id stated by the thread's events, if any.
        public var vcpu: UInt32?
        /// comm of the thread.
        public var comm: String
        /// Rows, most frequent first.
        public var rows: [Row]
        /// Exits of this thread.
        public var totalExits: Int
    }

    /// Rows over all threads, most frequent first (ties: level, then code).
    public var rows: [Row]
    /// Per-thread tables, by pid.
    public var threads: [ThreadTable]
    /// Number of `kvm_exit` events.
    public var totalExits: Int
    /// Unit of all times.
    public var unit: TimeUnit

    /// Computes the statistics of `trace` in one pass over its index.
    public init(trace: LoadedTrace) {
        struct Pending {
            var reason: SVMExitReason
            var timestamp: Int64
            var level: NestingLevel?
        }
        var pending: [Int32: Pending] = [:]
        var perThread: [Int32: [RowKey: Row]] = [:]
        var unit = TimeUnit.nanoseconds
        var total = 0
        let exitIDs = Set(trace.names.indices.filter { trace.names[$0] == "kvm_exit" }.map { UInt16($0) })
        let entryIDs = Set(trace.names.indices.filter { trace.names[$0] == "kvm_entry" }.map { UInt16($0) })
        let nestedIDs = Set(trace.names.indices.filter { trace.names[$0] == "kvm_nested_vmexit" }.map { UInt16($0) })

        func finish(_ pid: Int32, _ exit: Pending, duration: Int64?) {
            let level = exit.level ?? .unknown
            perThread[pid, default: [:]][RowKey(level: level, reason: exit.reason), default: Row(level: level, reason: exit.reason)]
                .add(duration: duration)
        }

        var gaps = trace.gaps[...]
        for position in trace.index.indices {
            while let gap = gaps.first, gap.rawValue <= position {
                for (pid, open) in pending { finish(pid, open, duration: nil) }
                pending.removeAll()
                gaps = gaps.dropFirst()
            }
            let entry = trace.index[position]
            if entry.isCounterTimestamp { unit = .counterTicks }
            let pid = entry.pid
            if var open = pending[pid], open.level == nil {
                open.level = nestedIDs.contains(entry.nameID) ? .l2 : .l1
                pending[pid] = open
            }
            if exitIDs.contains(entry.nameID) {
                total += 1
                if let open = pending.removeValue(forKey: pid) { finish(pid, open, duration: nil) }
                guard case .exit(let exit) = trace.payload(of: EventNumber(position)) else {
                    // Undecodable payload: no reason to table it under; see `unreadableExits`.
                    continue
                }
                pending[pid] = Pending(reason: exit.exitReason,
                                       timestamp: entry.isUntimed ? Self.untimedMarker : entry.timestampValue, level: nil)
            } else if entryIDs.contains(entry.nameID), let open = pending.removeValue(forKey: pid) {
                // An event that printed no timestamp (a pasted excerpt) cannot time its exit.
                let timed = !entry.isUntimed && open.timestamp != Self.untimedMarker
                finish(pid, open, duration: timed ? entry.timestampValue - open.timestamp : nil)
            }
        }
        for (pid, open) in pending { finish(pid, open, duration: nil) }

        var merged: [RowKey: Row] = [:]
        var threads: [ThreadTable] = []
        for (pid, rows) in perThread {
            for (key, row) in rows {
                var combined = merged[key] ?? Row(level: key.level, reason: key.reason)
                combined.count += row.count
                combined.untimed += row.untimed
                combined.total += row.total
                combined.sumOfSquares += row.sumOfSquares
                if let minimum = row.minimum { combined.minimum = Swift.min(combined.minimum ?? minimum, minimum) }
                if let maximum = row.maximum { combined.maximum = Swift.max(combined.maximum ?? maximum, maximum) }
                merged[key] = combined
            }
            let summary = trace.threads[pid]
            threads.append(ThreadTable(pid: pid, vcpu: summary?.vcpu, comm: summary?.comm ?? "",
                                       rows: Self.sorted(Array(rows.values)),
                                       totalExits: rows.values.reduce(0) { $0 + $1.count }))
        }
        self.rows = Self.sorted(Array(merged.values))
        self.threads = threads.sorted { ($0.vcpu ?? .max, $0.pid) < ($1.vcpu ?? .max, $1.pid) }
        self.totalExits = total
        self.unit = unit
    }

    /// Stands for "no timestamp" in the pending-exit table.
    private static let untimedMarker = Int64.min

    /// Exits whose payload could not be decoded (counted in ``totalExits`` but in no row).
    public var unreadableExits: Int { totalExits - rows.reduce(0) { $0 + $1.count } }

    /// Exits at `level`.
    public func exits(at level: NestingLevel) -> Int {
        rows.filter { $0.level == level }.reduce(0) { $0 + $1.count }
    }

    private struct RowKey: Hashable {
        var level: NestingLevel
        var reason: SVMExitReason
    }

    private static func sorted(_ rows: [Row]) -> [Row] {
        rows.sorted { ($1.count, $0.level, $0.reason) < ($0.count, $1.level, $1.reason) }
    }
}
