import Foundation

/// Checks made in Swift before a file reaches libtracecmd, for damage that libtracecmd
/// handles badly.
///
/// A version 6 file whose CPU data runs past the end of the file makes libtracecmd 3.1.6
/// print "File possibly truncated…" on **stdout** (which would corrupt a terminal UI or a
/// JSON export) before failing. So the v6 header is walked here and such a file is rejected
/// first. Version 7 files need no check: libtracecmd rejects their truncations silently.
///
/// v6 layout (trace-cmd `Documentation/trace-cmd/trace-cmd.dat.v6.5.txt`, confirmed on
/// `traces/layouts/sample-real-2k-v6.dat`): magic, version string, endianness byte, long
/// size byte, 4-byte page size; `header_page\0` + 8-byte size + data; `header_event\0` +
/// 8-byte size + data; 4-byte count of ftrace formats, each 8-byte size + data; 4-byte count
/// of event systems, each a NUL-terminated name, a 4-byte count and formats as before;
/// kallsyms (4-byte size + data); printk formats (4-byte size + data); saved command lines
/// (8-byte size + data); 4-byte CPU count; optionally `options  \0` and options (2-byte id,
/// 4-byte size, data; id 0 ends them); then `flyrecord\0` with an 8-byte offset and 8-byte
/// size per CPU, or `latency  \0`. Numbers are in the file's byte order.
enum TraceDatPreflight {
    /// Throws `TraceDatError.corrupt` if `path` is a version 6 file whose header or CPU data
    /// runs past its end. Files it cannot make sense of are left for libtracecmd to judge.
    static func check(path: String, header: TraceDatHeader) throws(TraceDatError) {
        guard header.version == 6 else { return }
        let outcome: Outcome
        do {
            outcome = try walkVersion6(path: path)
        } catch {
            throw .unreadable(path: path, reason: "\(error)")
        }
        switch outcome {
        case .consistent, .unrecognised:
            return
        case let .truncated(needed, actual):
            throw .corrupt(path: path, reason: "the file has \(actual) bytes but its header and data need \(needed)")
        }
    }

    enum Outcome: Equatable {
        case consistent
        case unrecognised
        case truncated(needed: UInt64, actual: UInt64)
    }

    private static let versionStringLength: UInt64 = 2  // "6\0"

    static func walkVersion6(path: String) throws -> Outcome {
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        let size = try handle.seekToEnd()
        var cursor = Cursor(handle: handle, size: size)
        do {
            try cursor.seek(to: UInt64(TraceDatHeader.magic.count) + versionStringLength)
            let bigEndian = try cursor.bytes(1)[0] != 0
            cursor.bigEndian = bigEndian
            try cursor.skip(1 + 4)  // long size, page size
            guard try cursor.tag("header_page\0") else { return .unrecognised }
            try cursor.skip(cursor.number(8))
            guard try cursor.tag("header_event\0") else { return .unrecognised }
            try cursor.skip(cursor.number(8))
            for _ in 0..<(try cursor.number(4)) { try cursor.skip(cursor.number(8)) }
            for _ in 0..<(try cursor.number(4)) {
                try cursor.skipCString()
                for _ in 0..<(try cursor.number(4)) { try cursor.skip(cursor.number(8)) }
            }
            try cursor.skip(cursor.number(4))  // kallsyms
            try cursor.skip(cursor.number(4))  // printk formats
            try cursor.skip(cursor.number(8))  // saved command lines
            let cpus = try cursor.number(4)
            if try cursor.tag("options  \0") {
                while true {
                    let id = try cursor.number(2)
                    if id == 0 { break }
                    try cursor.skip(cursor.number(4))
                }
            } else {
                try cursor.seek(to: cursor.position - 10)
            }
            guard try cursor.tag("flyrecord\0") else { return .unrecognised }
            var needed = cursor.position
            for _ in 0..<cpus {
                let offset = try cursor.number(8)
                let length = try cursor.number(8)
                let (end, overflow) = offset.addingReportingOverflow(length)
                needed = max(needed, overflow ? .max : end)
            }
            return needed > size ? .truncated(needed: needed, actual: size) : .consistent
        } catch let end as Cursor.PastEnd {
            return .truncated(needed: end.needed, actual: size)
        }
    }

    /// Sequential reads over the file that report running past its end.
    private struct Cursor {
        struct PastEnd: Error { var needed: UInt64 }

        let handle: FileHandle
        let size: UInt64
        var position: UInt64 = 0
        var bigEndian = false

        init(handle: FileHandle, size: UInt64) {
            self.handle = handle
            self.size = size
        }

        mutating func seek(to offset: UInt64) throws {
            guard offset <= size else { throw PastEnd(needed: offset) }
            try handle.seek(toOffset: offset)
            position = offset
        }

        mutating func skip(_ count: UInt64) throws {
            let (target, overflow) = position.addingReportingOverflow(count)
            try seek(to: overflow ? .max : target)
        }

        mutating func bytes(_ count: Int) throws -> [UInt8] {
            let (end, overflow) = position.addingReportingOverflow(UInt64(count))
            guard !overflow, end <= size else { throw PastEnd(needed: overflow ? .max : end) }
            let data = try handle.read(upToCount: count) ?? Data()
            guard data.count == count else { throw PastEnd(needed: end) }
            position = end
            return [UInt8](data)
        }

        mutating func number(_ width: Int) throws -> UInt64 {
            let raw = try bytes(width)
            let ordered = bigEndian ? raw : raw.reversed()
            return ordered.reduce(0) { ($0 << 8) | UInt64($1) }
        }

        /// Reads `text.utf8.count` bytes and tells whether they equal `text`.
        mutating func tag(_ text: String) throws -> Bool {
            try bytes(text.utf8.count) == Array(text.utf8)
        }

        mutating func skipCString() throws {
            while try bytes(1)[0] != 0 {}
        }
    }
}
