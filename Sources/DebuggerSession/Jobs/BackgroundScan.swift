import DebuggerUI
import Synchronization

/// A scan over the exits in a ``BackgroundTask`` (a search, a continue), so keys keep working
/// on any trace size. The scan publishes its latest update in one `Mutex` and announces it
/// through `wake` (the terminal's wake-up); the UI loop takes the latest update when it
/// wakes. `cancel()` stops publication at once; the scan checks ``isCancelled`` between
/// chunks of exits and ends.
final class BackgroundScan<Update: Sendable>: Sendable {
    private struct State {
        var latest: Update
        var unread = false
        var cancelled = false
    }

    private let state: Mutex<State>
    private let wake: @Sendable () -> Void
    private let task: BackgroundTask

    /// Starts `body` in a task named `name`; `body` publishes through the scan it is given.
    init(name: String, initial: Update, wake: @escaping @Sendable () -> Void,
         body: @escaping @Sendable (BackgroundScan<Update>) -> Void) {
        state = Mutex(State(latest: initial))
        self.wake = wake
        task = BackgroundTask(name: name)
        task.start { [self] in body(self) }
    }

    /// Stops the scan (no more updates are published).
    func cancel() { state.withLock { $0.cancelled = true } }

    /// Whether `cancel()` was called.
    var isCancelled: Bool { state.withLock { $0.cancelled } }

    /// The update published since the last call, if any.
    func takeUpdate() -> Update? {
        state.withLock { state in
            guard state.unread else { return nil }
            state.unread = false
            return state.latest
        }
    }

    /// Blocks until the scan ends (tests and the synchronous harness).
    func wait() { task.wait() }

    /// Publishes `update` and wakes the UI; false once cancelled (the scan should end).
    func publish(_ update: Update) -> Bool {
        let go: Bool = state.withLock { state in
            guard !state.cancelled else { return false }
            state.latest = update
            state.unread = true
            return true
        }
        if go { wake() }
        return go
    }
}
