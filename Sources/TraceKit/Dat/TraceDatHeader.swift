import Foundation

/// The start of a trace.dat file: the magic and the format version, read in Swift before
/// the file is handed to libtracecmd.
///
/// Layout (trace-cmd `Documentation/trace-cmd/trace-cmd.dat.v6.5.txt` and `.v7.5.txt`):
/// the 10 magic bytes `\x17\x08\x44tracing`, then the version as an ASCII decimal string
/// ending in a NUL byte.
struct TraceDatHeader: Sendable, Hashable {
    /// The format version (6 or 7 for trace-cmd 3.x), `nil` if not a decimal number.
    var version: Int?

    /// The bytes every trace.dat file starts with.
    static let magic: [UInt8] = [0x17, 0x08, 0x44] + Array("tracing".utf8)

    /// How many bytes of the file `read(path:)` looks at: the magic and a version string.
    static let prefixLength = 32

    /// Whether `firstBytes` starts with the trace.dat magic.
    static func hasMagic(_ firstBytes: some Collection<UInt8>) -> Bool {
        firstBytes.count >= magic.count && zip(firstBytes, magic).allSatisfy { $0 == $1 }
    }

    /// Parses the header from the first bytes of a file, or `nil` without the magic.
    init?(firstBytes: some Collection<UInt8>) {
        guard Self.hasMagic(firstBytes) else { return nil }
        let afterMagic = firstBytes.dropFirst(Self.magic.count)
        let versionBytes = afterMagic.prefix { $0 != 0 }
        if versionBytes.count == afterMagic.count || versionBytes.isEmpty {
            version = nil  // no NUL terminator within the prefix, or empty
        } else {
            version = Int(String(decoding: versionBytes, as: UTF8.self))
        }
    }

    /// Reads the first bytes of `path` and parses them.
    ///
    /// - Throws: `TraceDatError.unreadable` if the file cannot be read,
    ///   `TraceDatError.notTraceDat` if it lacks the magic.
    static func read(path: String) throws(TraceDatError) -> TraceDatHeader {
        let prefix: Data
        do {
            let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
            defer { try? handle.close() }
            prefix = try handle.read(upToCount: prefixLength) ?? Data()
        } catch {
            throw .unreadable(path: path, reason: Self.reason(error))
        }
        guard let header = TraceDatHeader(firstBytes: prefix) else { throw .notTraceDat(path: path) }
        return header
    }

    private static func reason(_ error: any Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError,
           underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        if nsError.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(nsError.code))) }
        return nsError.localizedDescription
    }
}
