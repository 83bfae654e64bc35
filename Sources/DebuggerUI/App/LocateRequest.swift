/// Why the runtime is asked to find an exit; decides what the reducer does with the answer.
public enum LocatePurpose: Sendable, Hashable {
    /// One step or one page through the (filtered) list.
    case move
    /// Jump to the first or last exit.
    case edge
    /// A live trace grew from `before` exits: the selection follows to the new last exit
    /// when it was on the last one (as `less +F`), and stays put otherwise.
    case follow(before: Int)
    /// Next or previous mismatch.
    case mismatch
    /// A text search.
    case search
    /// Continue to a breakpoint hit.
    case breakpoint
    /// Go to an exit number (the number asked for, to report it when filtered out).
    case goTo(ExitNumber)
    /// Keep the selection valid after the filter or the session changed; `fallback` is
    /// true for the second, backward try.
    case reselect(fallback: Bool)
}

/// Asks the runtime for the `steps`-th exit matching `predicate` from `after` in `direction`.
///
/// When fewer than `steps` exits match, the last one found is the answer (so a page move
/// at the end of the list clamps to the last exit); nil only when not even one matches.
public struct LocateRequest: Sendable, Hashable {
    /// What the exit must satisfy.
    public var predicate: ExitPredicate
    /// Where to start (exclusive); nil starts at the first/last exit inclusive.
    public var after: ExitNumber?
    /// Which way to go.
    public var direction: Direction
    /// How many matches to step over (1 for a step, a page's rows for a page).
    public var steps: Int
    /// Why the exit is wanted.
    public var purpose: LocatePurpose

    /// Creates a request.
    public init(predicate: ExitPredicate, after: ExitNumber?, direction: Direction, steps: Int = 1, purpose: LocatePurpose) {
        self.predicate = predicate
        self.after = after
        self.direction = direction
        self.steps = steps
        self.purpose = purpose
    }
}
