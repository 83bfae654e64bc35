import Glibc

/// A self-pipe that lets any thread wake the UI thread out of `poll(2)`.
///
/// Level-triggered: a byte written while nobody waits stays in the pipe until `drain()`, so a
/// wake-up that arrives while the loop is busy is never lost (the bug a flag read before a
/// blocking wait has). Both ends are non-blocking: a full pipe already means "wake up".
///
/// A class: it owns two file descriptors and closes them when the last holder (the terminal or
/// a session's observer closure) lets go, so a late `wake()` never writes to a reused number.
final class WakePipe: Sendable {
    /// The end `poll` watches.
    let readEnd: Int32
    private let writeEnd: Int32

    /// Opens the pipe; nil when the process is out of descriptors.
    init?() {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { return nil }
        for end in ends {
            _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
        }
        readEnd = ends[0]
        writeEnd = ends[1]
    }

    deinit {
        Glibc.close(readEnd)
        Glibc.close(writeEnd)
    }

    /// Makes the next (or current) wait on `readEnd` return.
    func wake() {
        var byte: UInt8 = 1
        _ = write(writeEnd, &byte, 1)  // EAGAIN: the pipe is full, which wakes the reader too
    }

    /// Empties the pipe; true when something had been written.
    @discardableResult
    func drain() -> Bool {
        var buffer = [UInt8](repeating: 0, count: 64)
        var woken = false
        while read(readEnd, &buffer, buffer.count) > 0 { woken = true }
        return woken
    }
}
