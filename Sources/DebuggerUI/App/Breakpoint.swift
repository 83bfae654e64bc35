/// A breakpoint as gdb has them: a number, a condition over the exit fields, enabled or not,
/// and how many times it stopped a continue.
public struct Breakpoint: Sendable, Hashable, CustomStringConvertible {
    /// The number `info breakpoints` shows; 0 until the breakpoint is added to a state.
    public var number: Int
    /// When the breakpoint hits.
    public var predicate: ExitPredicate
    /// How the user wrote it, normalised, e.g. `msr 0xc0000080` or `reason msr and not vcpu 0`.
    public var text: String
    /// Whether `c`/`C` stop at it.
    public var isEnabled: Bool
    /// How many times a continue stopped at it.
    public var hits: Int

    /// Creates a breakpoint.
    public init(number: Int = 0, predicate: ExitPredicate, text: String, isEnabled: Bool = true, hits: Int = 0) {
        self.number = number
        self.predicate = predicate
        self.text = text
        self.isEnabled = isEnabled
        self.hits = hits
    }

    /// The text.
    public var description: String { text }
}

/// A continue (`c`/`C`): run from an exit to the next exit where an enabled breakpoint holds.
public struct ContinueRequest: Sendable, Hashable {
    /// The enabled breakpoints (the filter folded into each predicate).
    public var breakpoints: [Breakpoint]
    /// The exit the continue starts after.
    public var after: ExitNumber
    /// Which way it runs (no wrap-around: gdb stops at the end of the program).
    public var direction: Direction

    /// Creates a request.
    public init(breakpoints: [Breakpoint], after: ExitNumber, direction: Direction) {
        self.breakpoints = breakpoints
        self.after = after
        self.direction = direction
    }
}

/// How far a background continue has got, and where it stopped.
public struct ContinueUpdate: Sendable, Hashable {
    /// Exits looked at so far.
    public var scanned: Int
    /// Exits it may look at (to the end of the trace in its direction).
    public var total: Int
    /// Where it stopped, once it has.
    public var hit: ExitNumber?
    /// The numbers of the breakpoints that hold at `hit`.
    public var numbers: [Int]
    /// Whether it has ended (at a hit or at the end of the trace).
    public var isFinished: Bool

    /// Creates an update.
    public init(scanned: Int, total: Int, hit: ExitNumber? = nil, numbers: [Int] = [], isFinished: Bool = false) {
        self.scanned = scanned
        self.total = total
        self.hit = hit
        self.numbers = numbers
        self.isFinished = isFinished
    }
}
