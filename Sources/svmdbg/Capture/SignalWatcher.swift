import Dispatch
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Turns SIGINT/SIGTERM/SIGHUP into a "stop" request instead of killing svmdbg, so the
/// capture always reaches its cleanup; while a COMMAND runs, forwards the signal to it.
///
/// A class: the dispatch sources' handlers and the waiting thread share its state. Unchecked
/// Sendable: `sources` is touched only by the thread that creates and cancels the watcher;
/// the handlers use only the semaphore and the atomic.
final class SignalWatcher: @unchecked Sendable {
    private var sources: [any DispatchSourceSignal] = []
    private let signalled = DispatchSemaphore(value: 0)
    private let child = Atomic<Int32>(0)
    private let watched: [Int32]

    /// Starts watching `signals` (their default action is suspended until ``cancel()``).
    init(signals: [Int32]) {
        watched = signals
        var made: [any DispatchSourceSignal] = []
        for number in signals {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [self] in
                let pid = self.child.load(ordering: .acquiring)
                if pid > 0 { kill(pid, number) }
                self.signalled.signal()
            }
            source.resume()
            made.append(source)
        }
        sources = made
    }

    /// Sends later signals on to `pid` too.
    func forward(to pid: pid_t) { child.store(pid, ordering: .releasing) }

    /// Waits for a signal, at most `seconds` (forever when nil); true when a signal came.
    func wait(seconds: Double?) -> Bool {
        guard let seconds else {
            signalled.wait()
            return true
        }
        return signalled.wait(timeout: .now() + seconds) == .success
    }

    /// Stops watching and restores the default actions.
    func cancel() {
        for source in sources { source.cancel() }
        sources = []
        for number in watched { signal(number, SIG_DFL) }
    }
}

/// Spawns COMMAND with default signal actions (svmdbg ignores SIGINT while it records; the
/// command must not inherit that) and waits for it.
enum ChildProcess {
    /// Spawns `arguments` (searched on PATH); `quiet` sends its stdout to /dev/null.
    static func spawn(_ arguments: [String], quiet: Bool = false) throws -> pid_t {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for number in [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE] { sigaddset(&defaults, number) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if quiet { posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0) }
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        argv.append(nil)
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawnp(&pid, arguments[0], &actions, &attributes, argv, environ)
        guard result == 0 else {
            throw Tracefs.Failure(description: "cannot run \(arguments[0]): \(Tracefs.errnoText(result))")
        }
        return pid
    }

    /// Waits for `pid`; its exit status, or 128 + signal.
    static func wait(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return SVMDebugExitCode.unusable }
        }
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }
}
