import NestedSVM
import Replay

/// The profile diff view (`D`): `svmdbg diff`'s changes for the whole trace, one row per exit
/// whose decision differs between the current profile and another.
public struct ProfileDiffList: Sendable, Hashable {
    /// One changed exit.
    public struct Row: Sendable, Hashable {
        /// The exit (list position).
        public var exit: ExitNumber
        /// Its first trace line.
        public var line: Int
        /// `L1`/`L2` or nil.
        public var level: String?
        /// The exit reason.
        public var reason: String
        /// The current profile's outcome.
        public var first: String
        /// The other profile's outcome.
        public var second: String
        /// What the trace recorded.
        public var recorded: String
        /// Why they differ (the rule where the paths part).
        public var why: String

        /// Creates a row.
        public init(exit: ExitNumber, line: Int, level: String?, reason: String, first: String, second: String, recorded: String, why: String) {
            self.exit = exit
            self.line = line
            self.level = level
            self.reason = reason
            self.first = first
            self.second = second
            self.recorded = recorded
            self.why = why
        }
    }

    /// The current profile.
    public var first: String
    /// The profile compared with.
    public var second: String
    /// Exits compared.
    public var exits: Int
    /// The changed exits, in trace order.
    public var rows: [Row]

    /// Creates a list.
    public init(first: String, second: String, exits: Int, rows: [Row]) {
        self.first = first
        self.second = second
        self.exits = exits
        self.rows = rows
    }

    /// The diff of `result` against `profile` (what `svmdbg diff` prints, as rows).
    public static func compute(_ result: ReplayResult, against profile: KernelProfile) -> ProfileDiffList {
        let diff = ProfileDiff(result, against: profile)
        let rows = diff.changes.map { change in
            Row(exit: ExitNumber(change.exit), line: change.line, level: change.level, reason: change.exitName,
                first: change.firstFits.isEmpty ? change.first.outcome : change.firstFits.joined(separator: " or "),
                second: change.secondPossible.isEmpty ? change.second.outcome : change.secondPossible.joined(separator: " or "),
                recorded: change.recorded, why: change.reason)
        }
        return ProfileDiffList(first: diff.first, second: diff.second, exits: diff.exits, rows: rows)
    }
}
