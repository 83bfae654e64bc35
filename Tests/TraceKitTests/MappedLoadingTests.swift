import Foundation
import TestSupport
import Testing
@testable import TraceKit

/// Plain files are mapped, not read; `loadHead` indexes only the first complete lines.
@Suite struct MappedLoadingTests {
    static let path = RepositoryPaths.trace("6.12/msr-prot.trace").path

    @Test("a plain file is mapped and reads exactly like the same bytes in memory")
    func mappedEqualsInMemory() throws {
        let mapped = try TraceLoader.load(path: Self.path)
        #expect(mapped.text.isMapped)
        let bytes = try TraceLoader.readAll(path: Self.path)
        let inMemory = try TraceLoader.load(bytes: bytes, source: Self.path)
        #expect(!inMemory.text.isMapped)
        #expect(mapped.count == inMemory.count)
        #expect(mapped.lineAccounting == inMemory.lineAccounting)
        #expect(mapped.events.map(\.rawText) == inMemory.events.map(\.rawText))
        #expect(mapped.events.map(\.payload) == inMemory.events.map(\.payload))
        #expect(mapped.rawLine(1) == inMemory.rawLine(1))
    }

    @Test("loadHead cuts at the last line end within the limit: a prefix of the events, no cut-off line",
          arguments: [600, 4096, 10_000])
    func headIsAPrefix(limit: Int) throws {
        let whole = try TraceLoader.load(path: Self.path)
        let head = try TraceLoader.loadHead(path: Self.path, maxBytes: limit)
        #expect(head.textByteCount <= limit)
        #expect(head.textByteCount > limit - 300)
        #expect(head.count < whole.count)
        #expect(head.diagnosticCountsByKind[.truncatedLine] == nil)
        #expect(head.events.map(\.rawText) == whole.events.prefix(head.count).map(\.rawText))
    }

    @Test("loadHead of a limit beyond the file loads the whole file")
    func headBeyondTheEnd() throws {
        let whole = try TraceLoader.load(path: Self.path)
        let head = try TraceLoader.loadHead(path: Self.path, maxBytes: 1 << 30)
        #expect(head.count == whole.count)
        #expect(head.lineAccounting == whole.lineAccounting)
    }

    @Test("compressed files are read, not mapped, and loadHead loads them whole")
    func compressedLoadsWhole() throws {
        let path = RepositoryPaths.trace("6.1/vmmcall.trace.xz").path
        let whole = try TraceLoader.load(path: path)
        #expect(!whole.text.isMapped)
        #expect(try TraceLoader.loadHead(path: path, maxBytes: 4096).count == whole.count)
    }
}
