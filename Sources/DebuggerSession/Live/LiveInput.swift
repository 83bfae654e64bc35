import Foundation
import TraceKit
#if canImport(Glibc)
import Glibc
#endif
import DebuggerUI

/// Reads a trace that is still being written, in a ``BackgroundTask``, and hands over the
/// complete lines as they arrive.
///
/// - `.file` (`--follow`): the file is read to its end, then the thread sleeps in `poll(2)`
///   on an inotify descriptor watching the file (`IN_MODIFY`, `IN_ATTRIB`, `IN_MOVE_SELF`,
///   `IN_DELETE_SELF`) and its directory (`IN_CREATE`, `IN_MOVED_TO`, for a file rotated by
///   rename). A file that became shorter than what was read was truncated; a path that now
///   names another inode was rotated: both start over from the new file's first byte, with a
///   notice. Only where `inotify_init1` fails (a kernel without inotify) does it fall back to
///   a `stat` every ``statInterval``: a regular file offers no other readiness event.
/// - `.pipe` (`--pipe`, a FIFO or `/sys/kernel/tracing/trace_pipe`): the descriptor is opened
///   non-blocking and the thread sleeps in `poll(2)` on it; end of input (the writer closed
///   the FIFO) hands over the unterminated last line and ends.
///
/// In both, the thread also polls a stop pipe, so `stop()` ends it at once. No timer runs
/// while inotify works.
public final class LiveInput: @unchecked Sendable {
    /// How the path is read.
    public typealias Kind = LiveInputKind

    /// What the reader reports, in order, on its thread.
    public enum Event: Sendable {
        /// Complete lines that arrived (each ends in a newline).
        case lines([UInt8])
        /// The input started over (truncated or replaced): what was read before is gone.
        case restarted(String)
        /// The input ended (`String` says why); nothing more will come.
        case ended(String)
    }

    /// Period of the `stat` fallback when inotify is unavailable.
    public static let statInterval: Int32 = 500
    /// Bytes read per `read(2)`.
    static let chunk = 1 << 20

    /// The path read.
    public let path: String
    /// How it is read.
    public let kind: Kind
    private let handler: @Sendable (Event) -> Void
    private var stopPipe: [Int32] = [-1, -1]
    private var splitter = LineSplitter()
    /// Complete lines read since the last hand-over: one drain of the input is handed over
    /// at once, so a large file's first read is indexed and replayed in one piece.
    private var batch: [UInt8] = []

    /// Opens nothing yet; `start()` begins reading. `handler` is called on the reader's
    /// thread, one event at a time.
    public init(path: String, kind: Kind, handler: @escaping @Sendable (Event) -> Void) {
        self.path = path
        self.kind = kind
        self.handler = handler
    }

    /// Opens the path (throws a one-line reason when it cannot be opened) and starts the
    /// reader thread.
    public func start() throws {
        let flags = kind == .pipe ? O_RDONLY | O_NONBLOCK | O_CLOEXEC : O_RDONLY | O_CLOEXEC
        let descriptor = open(path, flags)
        guard descriptor >= 0 else { throw LiveInputError(description: "\(path): \(String(cString: strerror(errno)))") }
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else {
            close(descriptor)
            throw LiveInputError(description: "cannot create a pipe: \(String(cString: strerror(errno)))")
        }
        stopPipe = fds
        BackgroundTask.run("svmdbg live input") { [self] in
            if kind == .pipe { readPipe(descriptor) } else { followFile(descriptor) }
        }
    }

    /// Ends the reader thread (it closes its descriptors).
    public func stop() {
        var byte: UInt8 = 1
        if stopPipe[1] >= 0 { _ = write(stopPipe[1], &byte, 1) }
    }

    // MARK: Pipe

    private func readPipe(_ descriptor: Int32) {
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: Self.chunk)
        while true {
            var fds = [pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: stopPipe[0], events: Int16(POLLIN), revents: 0)]
            let ready = poll(&fds, 2, -1)
            if ready < 0 { if errno == EINTR { continue }; handler(.ended("poll failed: \(String(cString: strerror(errno)))")); return }
            if fds[1].revents != 0 { return }
            // Read everything there is; 0 bytes after a hang-up is the end of input.
            var sawEnd = false
            while true {
                let n = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, Self.chunk) }
                if n > 0 { deliver(buffer[0..<n]); continue }
                if n == 0 { sawEnd = true }
                else if errno == EINTR { continue }
                else if errno != EAGAIN && errno != EWOULDBLOCK {
                    handler(.ended("\(path): \(String(cString: strerror(errno)))")); return
                }
                break
            }
            flush()
            if sawEnd && fds[0].revents & Int16(POLLHUP) != 0 {
                let rest = splitter.finish()
                if !rest.isEmpty { handler(.lines(rest)) }
                handler(.ended("\(path): the writer closed it"))
                return
            }
        }
    }

    // MARK: File

    private func followFile(_ first: Int32) {
        var descriptor = first
        defer { close(descriptor) }
        var offset: off_t = 0
        var inode = Self.inode(of: descriptor)
        let notify = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        var watch: Int32 = -1
        func addWatches() {
            guard notify >= 0 else { return }
            if watch >= 0 { inotify_rm_watch(notify, watch) }
            watch = inotify_add_watch(notify, path, UInt32(IN_MODIFY | IN_ATTRIB | IN_MOVE_SELF | IN_DELETE_SELF | IN_CLOSE_WRITE))
        }
        addWatches()
        if notify >= 0 {
            let directory = (path as NSString).deletingLastPathComponent
            _ = inotify_add_watch(notify, directory.isEmpty ? "." : directory, UInt32(IN_CREATE | IN_MOVED_TO))
        }
        defer { if notify >= 0 { close(notify) } }
        var buffer = [UInt8](repeating: 0, count: Self.chunk)
        while true {
            // Truncated: shorter than what was read.
            var info = stat()
            if fstat(descriptor, &info) == 0, info.st_size < offset {
                splitter.reset()
                offset = 0
                lseek(descriptor, 0, SEEK_SET)
                handler(.restarted("\(path) was truncated: reading it again from the start"))
            }
            while true {
                let n = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, Self.chunk) }
                if n > 0 { offset += off_t(n); deliver(buffer[0..<n]); continue }
                if n < 0, errno == EINTR { continue }
                break
            }
            flush()
            // Rotated: the path names another file now (the old one is read to its end above).
            if let now = Self.inode(ofPath: path), now != inode {
                let next = open(path, O_RDONLY | O_CLOEXEC)
                if next >= 0 {
                    close(descriptor)
                    descriptor = next
                    inode = now
                    offset = 0
                    splitter.reset()
                    addWatches()
                    handler(.restarted("\(path) was replaced: reading the new file from the start"))
                    continue
                }
            }
            var fds = [pollfd(fd: notify, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: stopPipe[0], events: Int16(POLLIN), revents: 0)]
            let ready = notify >= 0 ? poll(&fds, 2, -1) : poll(&fds[1], 1, Self.statInterval)
            if ready < 0, errno != EINTR { handler(.ended("poll failed: \(String(cString: strerror(errno)))")); return }
            if fds[1].revents != 0 { return }
            if notify >= 0 {
                // Drain the notifications: which one it was does not matter, the checks above run again.
                var events = [UInt8](repeating: 0, count: 4096)
                while events.withUnsafeMutableBytes({ read(notify, $0.baseAddress, 4096) }) > 0 {}
            }
        }
    }

    private func deliver(_ bytes: ArraySlice<UInt8>) {
        batch.append(contentsOf: splitter.feed(bytes))
        if batch.count >= Self.maximumBatch { flush() }  // a writer faster than the reader
    }

    /// The most bytes handed over at once.
    static let maximumBatch = 16 << 20

    private func flush() {
        guard !batch.isEmpty else { return }
        let lines = batch
        batch = []
        handler(.lines(lines))
    }

    private static func inode(of descriptor: Int32) -> ino_t? {
        var info = stat()
        return fstat(descriptor, &info) == 0 ? info.st_ino : nil
    }

    private static func inode(ofPath path: String) -> ino_t? {
        var info = stat()
        return stat(path, &info) == 0 ? info.st_ino : nil
    }
}

/// Why a live input could not be opened.
public struct LiveInputError: Error, CustomStringConvertible {
    /// One line: the path and the reason.
    public var description: String
}
