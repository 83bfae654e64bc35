import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Copies an instance's `trace_pipe` (a consuming read of its ring buffer, so a long capture
/// loses nothing while the copy keeps up) into a file, on its own thread, until told to stop
/// and the pipe is drained.
///
/// A class: the copying thread and the caller share the stop flag and the byte count.
final class TracePipeCopier: Sendable {
    /// Read size per `read(2)`.
    static let chunkSize = 1 << 20
    /// How long one `poll(2)` waits before the stop flag is looked at again, in milliseconds.
    static let pollMilliseconds: Int32 = 100

    private let source: Int32
    private let target: Int32
    private let stopRequested = Atomic<Bool>(false)
    private let bytes = Atomic<Int>(0)
    private let failure = Mutex<String?>(nil)
    private let done = DispatchSemaphore(value: 0)

    /// Opens `pipePath` non-blocking; `target` is an open, writable descriptor (not closed here).
    init(pipePath: String, target: Int32) throws {
        let descriptor = open(pipePath, O_RDONLY | O_NONBLOCK)
        guard descriptor >= 0 else {
            throw Tracefs.Failure(description: "cannot open \(pipePath): \(Tracefs.errnoText())")
        }
        source = descriptor
        self.target = target
    }

    /// Starts the copying thread.
    func start() {
        let thread = Thread { [self] in self.copy() }
        thread.name = "svmdbg-capture-copy"
        thread.start()
    }

    /// Asks the thread to finish once the pipe is empty, waits for it, closes the pipe, and
    /// returns the bytes copied or the failure.
    func finish() -> Result<Int, Tracefs.Failure> {
        stopRequested.store(true, ordering: .releasing)
        done.wait()
        close(source)
        if let message = failure.withLock({ $0 }) { return .failure(Tracefs.Failure(description: message)) }
        return .success(bytes.load(ordering: .acquiring))
    }

    private func copy() {
        defer { done.signal() }
        var buffer = [UInt8](repeating: 0, count: Self.chunkSize)
        var poller = pollfd(fd: source, events: Int16(POLLIN), revents: 0)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
            if count > 0 {
                var offset = 0
                while offset < count {
                    let written = buffer.withUnsafeBytes { raw -> Int in
                        guard let base = raw.baseAddress else { return -1 }
                        return write(target, base + offset, count - offset)
                    }
                    if written < 0, errno == EINTR { continue }
                    guard written > 0 else {
                        failure.withLock { $0 = "writing the trace failed: \(Tracefs.errnoText())" }
                        return
                    }
                    offset += written
                }
                bytes.add(count, ordering: .relaxed)
                continue
            }
            if count < 0, errno != EAGAIN, errno != EINTR {
                failure.withLock { $0 = "reading trace_pipe failed: \(Tracefs.errnoText())" }
                return
            }
            // Empty: done if asked to stop (tracing is off by then, nothing more arrives).
            if stopRequested.load(ordering: .acquiring) { return }
            _ = poll(&poller, 1, Self.pollMilliseconds)
        }
    }
}
