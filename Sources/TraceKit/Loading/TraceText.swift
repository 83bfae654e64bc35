#if canImport(Glibc)
import Glibc
#endif

/// The bytes of a trace's text: a read-only `mmap` of a plain file, or an array in memory
/// (decompressed input, rendered trace.dat, stdin, bytes handed in).
///
/// Mapping keeps the text out of the process's anonymous memory: the kernel pages it in
/// from the page cache on access and may drop it under pressure. Immutable, so it is
/// shared freely between threads and copies of ``LoadedTrace``.
final class TraceText: @unchecked Sendable {
    /// Start of the mapped bytes (nil when array-backed).
    private let base: UnsafePointer<UInt8>?
    /// Number of bytes.
    let count: Int
    /// Length of the mapping to unmap, 0 when the bytes are not mapped.
    private let mappedLength: Int
    /// Keeps array-backed bytes alive.
    private let array: [UInt8]?

    /// Wraps bytes already in memory.
    init(bytes: [UInt8]) {
        array = bytes
        count = bytes.count
        mappedLength = 0
        base = nil
    }

    /// Maps `length` bytes of `descriptor` read-only; nil when the system refuses.
    init?(mapping descriptor: Int32, length: Int) {
        guard length > 0 else { return nil }
        guard let address = mmap(nil, length, PROT_READ, MAP_PRIVATE, descriptor, 0), address != MAP_FAILED else {
            return nil
        }
        // Indexing reads the text front to back; later access is random.
        _ = madvise(address, length, MADV_SEQUENTIAL)
        base = UnsafePointer(address.assumingMemoryBound(to: UInt8.self))
        count = length
        mappedLength = length
        array = nil
    }

    deinit {
        if mappedLength > 0, let base {
            munmap(UnsafeMutableRawPointer(mutating: base), mappedLength)
        }
    }

    /// Whether the bytes are a file mapping (not anonymous memory).
    var isMapped: Bool { mappedLength > 0 }

    /// Calls `body` with the bytes.
    func withUnsafeBufferPointer<Result>(_ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
        if let array { return try array.withUnsafeBufferPointer(body) }
        return try body(UnsafeBufferPointer(start: base, count: count))
    }

    /// The bytes in `range` as (lossy) UTF-8 text.
    func string(_ range: Range<Int>) -> String {
        withUnsafeBufferPointer { String(decoding: UnsafeBufferPointer(rebasing: $0[range]), as: UTF8.self) }
    }

    /// The first `count` bytes (fewer when the text is shorter), copied.
    func prefix(_ length: Int) -> [UInt8] {
        withUnsafeBufferPointer { Array($0.prefix(length)) }
    }

    /// Position of the first `byte` at or after `offset`, or nil.
    func firstIndex(of byte: UInt8, from offset: Int) -> Int? {
        withUnsafeBufferPointer { buffer in
            guard let pointer = buffer.baseAddress, offset < buffer.count else { return nil }
            guard let found = memchr(pointer + offset, Int32(byte), buffer.count - offset) else { return nil }
            return UnsafePointer<UInt8>(found.assumingMemoryBound(to: UInt8.self)) - pointer
        }
    }

    /// The byte at `offset`.
    subscript(offset: Int) -> UInt8 { withUnsafeBufferPointer { $0[offset] } }
}
