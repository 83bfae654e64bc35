import Foundation

/// A continue (`c`/`C`) running on a thread of its own, like `SearchJob`: it tests exit after
/// exit against every enabled breakpoint until one holds or the trace ends, publishing
/// progress under a lock and waking the terminal, so keys (Esc) keep working on any trace
/// size. It does not wrap around: as in gdb, a continue that reaches the end stops there.
///
/// A class with a lock: the scanning thread writes what the UI thread reads.
final class ContinueJob: @unchecked Sendable {
    private let lock = NSCondition()
    private var latest: ContinueUpdate
    private var unread = false
    private var cancelled = false
    private var running = true

    /// Exits between two progress publications (and cancellation checks) at most.
    static let chunk = 4096

    /// Starts the continue; `matchers` test one breakpoint each, in `request.breakpoints` order.
    init(_ request: ContinueRequest, count: Int, matchers: [@Sendable (ExitNumber) -> Bool],
         wake: @escaping @Sendable () -> Void) {
        latest = ContinueUpdate(scanned: 0, total: 0)
        let thread = Thread { [self] in
            scan(request, count: count, matchers: matchers, wake: wake)
        }
        thread.name = "svmdbg continue"
        thread.start()
    }

    /// Stops the scan (no more updates are published).
    func cancel() { lock.withLock { cancelled = true } }

    /// The update published since the last call, if any.
    func takeUpdate() -> ContinueUpdate? {
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

    private func publish(_ update: ContinueUpdate, wake: @Sendable () -> Void) -> Bool {
        let go: Bool = lock.withLock {
            guard !cancelled else { return false }
            latest = update
            unread = true
            return true
        }
        if go { wake() }
        return go
    }

    private func scan(_ request: ContinueRequest, count: Int, matchers: [@Sendable (ExitNumber) -> Bool],
                      wake: @Sendable () -> Void) {
        defer {
            lock.withLock {
                running = false
                lock.broadcast()
            }
        }
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
                _ = publish(ContinueUpdate(scanned: k, total: total, hit: exit, numbers: numbers, isFinished: true), wake: wake)
                return
            }
            if k % Self.chunk == 0 {
                if lock.withLock({ cancelled }) { return }
                if k % step == 0, !publish(ContinueUpdate(scanned: k, total: total), wake: wake) { return }
            }
        }
        _ = publish(ContinueUpdate(scanned: total, total: total, isFinished: true), wake: wake)
    }
}
