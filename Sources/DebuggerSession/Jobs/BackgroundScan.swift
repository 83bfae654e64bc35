import Foundation
import DebuggerUI

/// A scan over the exits on a thread of its own (a search, a continue), so keys keep working
/// on any trace size. The scan publishes its latest update under one lock and announces it
/// through `wake` (the terminal's wake-up); the UI loop takes the latest update when it
/// wakes. `cancel()` stops publication at once; the scan checks ``isCancelled`` between
/// chunks of exits and ends.
///
/// A class with a lock: the scanning thread writes what the UI thread reads.
final class BackgroundScan<Update: Sendable>: @unchecked Sendable {
    private let lock = NSCondition()
    private var latest: Update
    private var unread = false
    private var cancelled = false
    private var running = true
    private let wake: @Sendable () -> Void

    /// Starts `body` on a thread named `name`; `body` publishes through the scan it is given.
    init(name: String, initial: Update, wake: @escaping @Sendable () -> Void,
         body: @escaping @Sendable (BackgroundScan<Update>) -> Void) {
        latest = initial
        self.wake = wake
        let thread = Thread { [self] in
            defer {
                lock.withLock {
                    running = false
                    lock.broadcast()
                }
            }
            body(self)
        }
        thread.name = name
        thread.start()
    }

    /// Stops the scan (no more updates are published).
    func cancel() { lock.withLock { cancelled = true } }

    /// Whether `cancel()` was called.
    var isCancelled: Bool { lock.withLock { cancelled } }

    /// The update published since the last call, if any.
    func takeUpdate() -> Update? {
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

    /// Publishes `update` and wakes the UI; false once cancelled (the scan should end).
    func publish(_ update: Update) -> Bool {
        let go: Bool = lock.withLock {
            guard !cancelled else { return false }
            latest = update
            unread = true
            return true
        }
        if go { wake() }
        return go
    }
}
