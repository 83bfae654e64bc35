import Foundation
import DebuggerUI

/// A continue (`c`/`C`) running on a thread of its own, like `SearchJob`: it tests exit after
/// exit against every enabled breakpoint until one holds or the trace ends, publishing
/// progress under a lock and waking the terminal, so keys (Esc) keep working on any trace
/// size. It does not wrap around: as in gdb, a continue that reaches the end stops there.
///
/// The scan runs in a ``BackgroundScan``.
final class ContinueJob: Sendable {
    private let job: BackgroundScan<ContinueUpdate>

    /// Exits between two progress publications (and cancellation checks) at most.
    static let chunk = 4096

    /// Starts the continue; `matchers` test one breakpoint each, in `request.breakpoints` order.
    init(_ request: ContinueRequest, count: Int, matchers: [@Sendable (ExitNumber) -> Bool],
         wake: @escaping @Sendable () -> Void) {
        job = BackgroundScan(name: "svmdbg continue", initial: ContinueUpdate(scanned: 0, total: 0), wake: wake) { job in
            Self.scan(request, count: count, matchers: matchers, job: job)
        }
    }

    /// Stops the scan (no more updates are published).
    func cancel() { job.cancel() }

    /// The update published since the last call, if any.
    func takeUpdate() -> ContinueUpdate? { job.takeUpdate() }

    /// Blocks until the scan ends (tests and the synchronous harness).
    func wait() { job.wait() }

    private static func scan(_ request: ContinueRequest, count: Int, matchers: [@Sendable (ExitNumber) -> Bool],
                             job: BackgroundScan<ContinueUpdate>) {
        let forward = request.direction == .forward
        let start = request.after.rawValue
        let total = forward ? max(0, count - 1 - start) : max(0, min(start, count))
        let step = max(1, total / 200 / Self.chunk) * Self.chunk
        var k = 0
        var i = start
        while k < total {
            i += forward ? 1 : -1
            k += 1
            let exit = ExitNumber(i)
            var numbers: [Int] = []
            for (b, matches) in zip(request.breakpoints, matchers) where matches(exit) { numbers.append(b.number) }
            if !numbers.isEmpty {
                _ = job.publish(ContinueUpdate(scanned: k, total: total, hit: exit, numbers: numbers, isFinished: true))
                return
            }
            if k % Self.chunk == 0 {
                if job.isCancelled { return }
                if k % step == 0, !job.publish(ContinueUpdate(scanned: k, total: total)) { return }
            }
        }
        _ = job.publish(ContinueUpdate(scanned: total, total: total, isFinished: true))
    }
}
