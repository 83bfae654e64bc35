/// The per-reason summary: the `svmdbg stats` exit table (perf kvm stat's columns) by nesting
/// level and exit reason, with exit-to-entry times.
public struct ReasonSummary: Sendable, Hashable {
    /// One level and reason.
    public struct Row: Sendable, Hashable {
        /// `L1`, `L2` or `unknown`.
        public var level: String
        /// The exit reason's name, e.g. `msr`.
        public var reason: String
        /// The SVM exit code.
        public var code: UInt64
        /// Exits.
        public var count: Int
        /// Exits with a time (an entry with a timestamp followed them).
        public var timed: Int
        /// Sum of the times.
        public var total: Int64
        /// Shortest time.
        public var minimum: Int64?
        /// Longest time.
        public var maximum: Int64?
        /// Mean time over the timed exits.
        public var mean: Double?
        /// Sample standard deviation of the times.
        public var standardDeviation: Double?

        /// Creates a row.
        public init(level: String, reason: String, code: UInt64, count: Int, timed: Int, total: Int64,
                    minimum: Int64?, maximum: Int64?, mean: Double?, standardDeviation: Double?) {
            self.level = level
            self.reason = reason
            self.code = code
            self.count = count
            self.timed = timed
            self.total = total
            self.minimum = minimum
            self.maximum = maximum
            self.mean = mean
            self.standardDeviation = standardDeviation
        }
    }

    /// The rows, most frequent first.
    public var rows: [Row]
    /// Whether times are nanoseconds (else counter ticks).
    public var isNanoseconds: Bool
    /// All exits.
    public var totalExits: Int

    /// Creates a summary.
    public init(rows: [Row], isNanoseconds: Bool, totalExits: Int) {
        self.rows = rows
        self.isNanoseconds = isNanoseconds
        self.totalExits = totalExits
    }

    /// The sum of all rows' times (for Time%).
    public var totalTime: Int64 { rows.reduce(0) { $0 + $1.total } }

    /// A row's share of the total time, in percent.
    public func timePercent(_ row: Row) -> Double {
        let all = totalTime
        return all == 0 ? 0 : Double(row.total) * 100 / Double(all)
    }

    /// The rows in `sort`'s order (ties keep the default order).
    public func sorted(_ sort: SummarySort) -> [Row] {
        func key(_ r: Row) -> Double {
            switch sort.column {
            case .count: Double(r.count)
            case .time: Double(r.total)
            case .mean: r.mean ?? -1
            case .minimum: r.minimum.map(Double.init) ?? -1
            case .maximum: r.maximum.map(Double.init) ?? -1
            case .stddev: r.standardDeviation ?? -1
            case .reason: 0
            }
        }
        let keyed = rows.enumerated().map { (offset: $0.offset, row: $0.element) }
        let ordered: [Row]
        if sort.column == .reason {
            ordered = keyed.sorted { ($0.row.reason, $0.row.level, $0.offset) < ($1.row.reason, $1.row.level, $1.offset) }.map(\.row)
            return sort.descending ? ordered.reversed() : ordered
        }
        ordered = keyed.sorted { (key($1.row), $0.offset) < (key($0.row), $1.offset) }.map(\.row)
        return sort.descending ? ordered : ordered.reversed()
    }

    /// A time as text: `850ns`, `12.3us`, `1.20ms`, `2.5s` (or `1234t` for ticks).
    public func format(_ value: Double?) -> String {
        guard let value else { return "-" }
        return ExitLatency.format(value, nanoseconds: isNanoseconds)
    }
}

/// The summary's sort: a column and a direction.
public struct SummarySort: Sendable, Hashable {
    /// The sortable columns, in the order `s` steps through them.
    public enum Column: String, Sendable, Hashable, CaseIterable {
        case count, time, mean, minimum = "min", maximum = "max", stddev, reason
    }

    /// The column.
    public var column: Column
    /// Largest first (for `reason`: Z to A).
    public var descending: Bool

    /// Count, largest first.
    public init(column: Column = .count, descending: Bool = true) {
        self.column = column
        self.descending = descending
    }
}

/// How long L0 took from a `kvm_exit` to the `kvm_entry` that ended it.
public enum ExitLatency: Sendable, Hashable, CustomStringConvertible {
    /// Both events have `sec.usec` timestamps.
    case nanoseconds(Int64)
    /// Both events have counter timestamps (`counter`, `x86-tsc` clocks): ticks.
    case ticks(Int64)
    /// The trace printed no timestamp for one of them (a pasted excerpt).
    case untimed
    /// No entry of the same thread ended the exit in the trace (another exit, a gap or the end).
    case noEntry

    /// `12.3us`, `850ns`, `1234t`, `untimed`, `no entry`.
    public var description: String {
        switch self {
        case .nanoseconds(let n): Self.format(Double(n), nanoseconds: true)
        case .ticks(let t): Self.format(Double(t), nanoseconds: false)
        case .untimed: "untimed"
        case .noEntry: "no entry"
        }
    }

    /// The list's short form (`?` when unknown).
    public var short: String {
        switch self {
        case .nanoseconds, .ticks: description
        case .untimed, .noEntry: "?"
        }
    }

    /// A time as short text.
    public static func format(_ value: Double, nanoseconds: Bool) -> String {
        guard nanoseconds else { return value >= 1e6 ? String(format1(value / 1e6)) + "Mt" : String(Int64(value.rounded())) + "t" }
        if value < 1000 { return "\(Int64(value.rounded()))ns" }
        if value < 1e6 { return format1(value / 1e3) + "us" }
        if value < 1e9 { return format1(value / 1e6) + "ms" }
        return format1(value / 1e9) + "s"
    }

    /// Three significant digits at most: `1.23`, `12.3`, `123`.
    private static func format1(_ v: Double) -> String {
        if v >= 100 { return String(Int64(v.rounded())) }
        let scale = v >= 10 ? 10.0 : 100.0
        let r = (v * scale).rounded() / scale
        var s = "\(r)"
        if s.hasSuffix(".0") { s.removeLast(2) }
        return s
    }
}
