import Dispatch
import Glibc

/// Turns SIGINT/SIGTERM into a flag the event loop polls, instead of killing the process
/// with the terminal still in curses mode.
///
/// A class with a lock: the dispatch handlers run on their own queue and the flag is read
/// on the main actor.
final class SignalWatch: @unchecked Sendable {
    private let lock = PthreadMutex()
    private var pending = false
    private var sources: [DispatchSourceSignal] = []
    private let queue = DispatchQueue(label: "svmdbg.signals")

    private let onSignal: @Sendable () -> Void

    /// Watches `signals`; `onSignal` runs (on the watcher's queue) after each one is recorded.
    init(signals: [Int32], onSignal: @escaping @Sendable () -> Void = {}) {
        self.onSignal = onSignal
        for number in signals {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { [weak self] in self?.raise() }
            source.resume()
            sources.append(source)
        }
    }

    private func raise() {
        lock.withLock { pending = true }
        onSignal()
    }

    /// Whether a signal arrived since the last call (clears the flag).
    func takePending() -> Bool {
        lock.withLock {
            defer { pending = false }
            return pending
        }
    }

    /// Stops watching and restores the default actions.
    func stop() {
        for source in sources { source.cancel() }
        sources.removeAll()
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}
