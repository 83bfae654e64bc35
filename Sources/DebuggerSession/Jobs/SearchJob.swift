import Foundation
import DebuggerUI

/// One search running on a thread of its own, so keys keep working on any trace size.
///
/// It visits every exit once, from the one after the start in the search's direction,
/// wrapping around; the first match is published as soon as it is seen, the scan goes on to
/// count all matches. Progress, the match and the end are published under one lock and
/// announced through `wake` (the terminal's wake-up); the UI loop takes the latest update when
/// it wakes. `cancel()` stops the scan within a few thousand exits.
///
/// The scan runs in a ``BackgroundScan``.
final class SearchJob: Sendable {
    private let job: BackgroundScan<SearchUpdate>

    /// Exits between two progress publications (and cancellation checks) at most.
    static let chunk = 4096

    /// Starts scanning `count` exits with `matches`, publishing through `wake`.
    init(_ request: SearchRequest, count: Int, matches: @escaping @Sendable (ExitNumber) -> Bool,
         wake: @escaping @Sendable () -> Void) {
        job = BackgroundScan(name: "svmdbg search", initial: SearchUpdate(scanned: 0, total: count), wake: wake) { job in
            Self.scan(request, count: count, matches: matches, job: job)
        }
    }

    /// Stops the scan (no more updates are published).
    func cancel() { job.cancel() }

    /// The update published since the last call, if any.
    func takeUpdate() -> SearchUpdate? { job.takeUpdate() }

    /// Blocks until the scan ends (tests and the synchronous harness).
    func wait() { job.wait() }

    private static func scan(_ request: SearchRequest, count: Int, matches: (ExitNumber) -> Bool, job: BackgroundScan<SearchUpdate>) {
        guard count > 0 else {
            _ = job.publish(SearchUpdate(scanned: 0, total: 0, matches: 0, isFinished: true))
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
                    guard job.publish(update) else { return }
                    nextReport = k + step
                }
            }
            if k >= nextReport || k % Self.chunk == 0 {
                if job.isCancelled { return }
                if k >= nextReport {
                    nextReport = k + step
                    let update = SearchUpdate(scanned: k, total: count, found: found.map { ExitNumber($0) }, wrapped: wrapped)
                    guard job.publish(update) else { return }
                }
            }
        }
        _ = job.publish(SearchUpdate(
            scanned: count, total: count, found: found.map { ExitNumber($0) }, wrapped: wrapped, matches: total,
            rank: found.map { _ in below + 1 }, isFinished: true))
    }
}
