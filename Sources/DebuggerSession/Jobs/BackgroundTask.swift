import Dispatch
import Foundation
import Synchronization

/// The one way the debugger's session runs work in the background: loading and replaying a
/// trace, reading a live input, a search, a continue, a profile diff, the per-reason summary.
///
/// Each task is a dedicated thread, not a `Task` on the cooperative pool: the work blocks
/// (a replay runs for seconds without a suspension point, a live input sleeps in `poll(2)`),
/// and the pool has only as many threads as cores (two here), so a blocked pool would stall
/// every other task. What a task shares with the UI lives in a `Mutex<State>` of its owner;
/// the UI learns of news through the terminal's wake-up, never by polling. `wait()` blocks
/// until the body returned (tests, the synchronous harness, a short wait for a profile switch).
final class BackgroundTask: Sendable {
    /// The thread's name (seen in a debugger or `top -H`).
    let name: String
    private let done = DispatchGroup()
    private let started = Atomic<Bool>(false)

    /// A task not started yet (its owner starts it once it can hand itself to the body).
    init(name: String) {
        self.name = name
    }

    /// Starts `body` on a thread of its own (at most once).
    func start(_ body: @escaping @Sendable () -> Void) {
        guard !started.exchange(true, ordering: .acquiringAndReleasing) else { return }
        done.enter()
        let thread = Thread { [done] in
            body()
            done.leave()
        }
        thread.name = name
        thread.qualityOfService = .userInitiated
        thread.start()
    }

    /// Starts `body` on a thread named `name`.
    @discardableResult
    static func run(_ name: String, _ body: @escaping @Sendable () -> Void) -> BackgroundTask {
        let task = BackgroundTask(name: name)
        task.start(body)
        return task
    }

    /// Blocks until the body returned (at once when it was never started).
    func wait() { done.wait() }

    /// Blocks until the body returned or `timeout` passed; true when it returned.
    func wait(timeout: Duration) -> Bool {
        done.wait(timeout: .now() + .nanoseconds(Self.nanoseconds(timeout))) == .success
    }

    static func nanoseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return Int(clamping: seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
