import Foundation

/// A search request: the predicate (filter and text), where it starts and which way it goes.
public struct SearchRequest: Sendable, Hashable {
    /// What a match must satisfy.
    public var predicate: ExitPredicate
    /// The search starts after this exit (nil: at the first/last exit, inclusive).
    public var after: ExitNumber?
    /// Which way it goes; it wraps around once.
    public var direction: Direction

    /// Creates a request.
    public init(predicate: ExitPredicate, after: ExitNumber?, direction: Direction) {
        self.predicate = predicate
        self.after = after
        self.direction = direction
    }
}

/// How far a background search has got.
public struct SearchUpdate: Sendable, Hashable {
    /// Exits looked at so far.
    public var scanned: Int
    /// Exits to look at (the whole trace, once).
    public var total: Int
    /// The first match in the search's order, once found.
    public var found: ExitNumber?
    /// Whether reaching `found` went past the end (or start) of the trace.
    public var wrapped: Bool
    /// Matches in the whole trace, once the scan is complete.
    public var matches: Int?
    /// The position of `found` among all matches in trace order (1-based), once complete.
    public var rank: Int?
    /// Whether the scan is complete.
    public var isFinished: Bool

    /// Creates an update.
    public init(scanned: Int, total: Int, found: ExitNumber? = nil, wrapped: Bool = false, matches: Int? = nil,
                rank: Int? = nil, isFinished: Bool = false) {
        self.scanned = scanned
        self.total = total
        self.found = found
        self.wrapped = wrapped
        self.matches = matches
        self.rank = rank
        self.isFinished = isFinished
    }
}

/// One search running on a thread of its own, so keys keep working on any trace size.
///
/// It visits every exit once, from the one after the start in the search's direction,
/// wrapping around; the first match is published as soon as it is seen, the scan goes on to
/// count all matches. Progress, the match and the end are published under one lock and
/// announced through `wake` (the terminal's wake-up); the UI loop takes the latest update when
/// it wakes. `cancel()` stops the scan within a few thousand exits.
///
/// A class with a lock: the scanning thread writes what the UI thread reads.
final class SearchJob: @unchecked Sendable {
    private let lock = NSCondition()
    private var latest: SearchUpdate
    private var unread = false
    private var cancelled = false
    private var running = true

    /// Exits between two progress publications (and cancellation checks) at most.
    static let chunk = 4096

    /// Starts scanning `count` exits with `matches`, publishing through `wake`.
    init(_ request: SearchRequest, count: Int, matches: @escaping @Sendable (ExitNumber) -> Bool,
         wake: @escaping @Sendable () -> Void) {
        latest = SearchUpdate(scanned: 0, total: count)
        let thread = Thread { [self] in
            scan(request, count: count, matches: matches, wake: wake)
        }
        thread.name = "svmdbg search"
        thread.start()
    }

    /// Stops the scan (no more updates are published).
    func cancel() {
        lock.withLock { cancelled = true }
    }

    /// The update published since the last call, if any.
    func takeUpdate() -> SearchUpdate? {
        lock.withLock {
            guard unread else { return nil }
            unread = false
            return latest
        }
    }

    /// Blocks until the scan ends (tests and the synchronous harness).
    func wait() {
        lock.lock()
        while running { lock.wait() }
        lock.unlock()
    }

    private func publish(_ update: SearchUpdate, wake: @Sendable () -> Void) -> Bool {
        let go: Bool = lock.withLock {
            guard !cancelled else { return false }
            latest = update
            unread = true
            return true
        }
        if go { wake() }
        return go
    }

    private func scan(_ request: SearchRequest, count: Int, matches: (ExitNumber) -> Bool, wake: @Sendable () -> Void) {
        defer {
            lock.withLock {
                running = false
                lock.broadcast()
            }
        }
        guard count > 0 else {
            _ = publish(SearchUpdate(scanned: 0, total: 0, matches: 0, isFinished: true), wake: wake)
            return
        }
        let forward = request.direction == .forward
        // The exit "before" the first one visited.
        let start = request.after.map { min(max($0.rawValue, 0), count - 1) } ?? (forward ? count - 1 : 0)
        let startsInside = request.after != nil
        var found: Int?
        var wrapped = false
        var total = 0
        var below = 0
        let step = max(Self.chunk, count / 200)
        var nextReport = step
        for k in 1...count {
            let i = forward ? (start + k) % count : (start - k + count) % count
            if matches(ExitNumber(i)) {
                total += 1
                if let found {
                    if i < found { below += 1 }
                } else {
                    found = i
                    wrapped = startsInside && (forward ? i <= start : i >= start)
                    let update = SearchUpdate(scanned: k, total: count, found: ExitNumber(i), wrapped: wrapped)
                    guard publish(update, wake: wake) else { return }
                    nextReport = k + step
                }
            }
            if k >= nextReport || k % Self.chunk == 0 {
                if lock.withLock({ cancelled }) { return }
                if k >= nextReport {
                    nextReport = k + step
                    let update = SearchUpdate(scanned: k, total: count, found: found.map { ExitNumber($0) }, wrapped: wrapped)
                    guard publish(update, wake: wake) else { return }
                }
            }
        }
        _ = publish(SearchUpdate(
            scanned: count, total: count, found: found.map { ExitNumber($0) }, wrapped: wrapped, matches: total,
            rank: found.map { _ in below + 1 }, isFinished: true), wake: wake)
    }
}
