import Foundation
import Testing
import TestSupport
@testable import TraceKit

/// Every shipped trace.dat that has an uncut tracefs file of the same buffer beside it
/// (`6.1/vmmcall.dat` is whole while its text forms were capped, so it has none).
let datWithTracefsSibling: [String] = shippedTextTraces
    .filter { $0.hasSuffix(".trace") && !$0.hasPrefix("layouts/") }
    .map { String($0.dropLast(6)) + ".dat" }
    .filter { FileManager.default.fileExists(atPath: RepositoryPaths.trace($0).path) }

@Suite struct LoaderTests {
    @Test("a gzip file made from a shipped trace loads exactly like the plain file")
    func gzipInput() throws {
        let plain = RepositoryPaths.trace("6.12/msr-prot.trace")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tracekit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let copy = directory.appendingPathComponent("msr-prot.trace")
        try FileManager.default.copyItem(at: plain, to: copy)
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/usr/bin/gzip")
        gzip.arguments = ["-9", copy.path]
        try gzip.run()
        gzip.waitUntilExit()
        #expect(gzip.terminationStatus == 0)
        // Named without .gz: detection is by magic bytes.
        let renamed = directory.appendingPathComponent("renamed")
        try FileManager.default.moveItem(at: directory.appendingPathComponent("msr-prot.trace.gz"), to: renamed)

        let expected = try TraceLoader.load(path: plain.path)
        let loaded = try TraceLoader.load(path: renamed.path)
        #expect(loaded.compression == .gzip)
        #expect(loaded.count == expected.count)
        #expect(loaded.lineAccounting == expected.lineAccounting)
        #expect(loaded.events.map(\.payload) == expected.events.map(\.payload))
        #expect(loaded.rawText(of: EventNumber(loaded.count - 1)) == expected.rawText(of: EventNumber(expected.count - 1)))
    }

    @Test("corrupt compressed input is unusable and names the file")
    func corruptCompression() {
        var bytes = Decompression.xzMagic
        bytes += [UInt8](repeating: 0x41, count: 64)
        #expect(throws: TraceLoadError.self) { try TraceLoader.load(bytes: bytes, source: "bad.xz") }
        do {
            _ = try TraceLoader.load(bytes: Decompression.gzipMagic + [8, 0, 1, 2, 3], source: "bad.gz")
            Issue.record("no error")
        } catch let error as TraceLoadError {
            #expect(error.file == "bad.gz")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test("missing files and directories throw a TraceLoadError naming the file")
    func unusableInputs() {
        #expect(throws: TraceLoadError(file: "/nonexistent/x.trace", problem: "no such file or directory")) {
            try TraceLoader.load(path: "/nonexistent/x.trace")
        }
        let folder = RepositoryPaths.trace("6.12").path
        #expect(throws: TraceLoadError(file: folder, problem: "is a directory")) { try TraceLoader.load(path: folder) }
    }

    @Test("a trace.dat loads with exactly the events of the tracefs file of the same buffer", arguments: datWithTracefsSibling)
    func traceDatMatchesTracefs(relativePath: String) throws {
        let dat = try TraceLoader.load(path: RepositoryPaths.trace(relativePath).path)
        let tracefs = try TraceLoader.load(path: RepositoryPaths.trace(String(relativePath.dropLast(4)) + ".trace").path)
        #expect(dat.format == .traceDat)
        #expect(dat.lineAccounting.unreadable == 0)
        #expect(dat.count == tracefs.count)
        #expect(dat.eventNameCounts == tracefs.eventNameCounts)
        for (fromDat, fromText) in zip(dat.events, tracefs.events) {
            #expect(fromDat.name == fromText.name && fromDat.pid == fromText.pid && fromDat.cpu == fromText.cpu)
            #expect(fromDat.timestamp == fromText.timestamp)
            #expect(fromDat.payload == fromText.payload, "line \(fromText.lineNumber)")
        }
    }

    @Test("the sample trace.dat files of the layouts folder load", arguments: ["layouts/sample-real-2k-v6.dat", "layouts/sample-long-cpl3-1k.dat"])
    func layoutDat(relativePath: String) throws {
        let trace = try TraceLoader.load(path: RepositoryPaths.trace(relativePath).path)
        #expect(trace.format == .traceDat)
        #expect(trace.count > 0)
        #expect(trace.lineAccounting.unreadable == 0)
        #expect(try TraceLoader.readAll(path: RepositoryPaths.trace(relativePath).path).starts(with: TraceLoader.traceDatMagic))
    }

    @Test("a trace.dat from stdin-like bytes or compressed goes through a temporary copy")
    func datFromBytes() throws {
        let bytes = try TraceLoader.readAll(path: RepositoryPaths.trace("6.12/minimal.dat").path)
        let trace = try TraceLoader.load(bytes: bytes, source: "-")
        #expect(trace.format == .traceDat)
        #expect(trace.count == 81)
    }

    @Test("a trace.dat under a forced text format, or a corrupt one, is refused")
    func datRefusals() throws {
        let path = RepositoryPaths.trace("6.12/minimal.dat").path
        #expect(throws: TraceLoadError.self) { try TraceLoader.load(path: path, format: .tracefs) }
        let truncated = Array(try TraceLoader.readAll(path: path).prefix(600))
        #expect(throws: TraceLoadError.self) { try TraceLoader.load(bytes: truncated, source: "cut.dat") }
    }

    @Test("--format dat on a text file is refused")
    func datFormatOnText() {
        #expect(throws: TraceLoadError.self) {
            try TraceLoader.load(path: RepositoryPaths.trace("6.12/minimal.trace").path, format: .traceDat)
        }
    }

    @Test("progress is reported up to the full size")
    func progress() throws {
        final class Box: @unchecked Sendable { var values: [IndexProgress] = [] } // written only from the loading thread
        let box = Box()
        let trace = try TraceLoader.load(path: RepositoryPaths.trace("6.12/minimal.trace").path) { box.values.append($0) }
        let last = try #require(box.values.last)
        #expect(last.bytesScanned == last.totalBytes)
        #expect(last.totalBytes == trace.textByteCount)
        #expect(last.events == trace.count)
        #expect(last.fraction == 1)
    }

    @Test("the async indexing stream ends with the loaded trace")
    func indexingStream() async throws {
        var loaded: LoadedTrace?
        for try await update in TraceLoader.indexing(path: RepositoryPaths.trace("6.12/minimal.trace").path) {
            if case .finished(let trace) = update { loaded = trace }
        }
        #expect(loaded?.count == 81)
    }

    @Test("events keep line number, byte range, comm, pid, CPU, timestamp and raw text")
    func eventFields() throws {
        let trace = try TraceLoader.load(path: RepositoryPaths.trace("6.12/minimal.trace").path)
        // Line 73: the L2 hlt exit.
        let exit = try #require(trace.events.first { $0.lineNumber == 73 })
        #expect(exit.name == "kvm_exit")
        #expect(exit.comm == "svmlab")
        #expect(exit.pid == 401)
        #expect(exit.cpu == 0)
        #expect(exit.vcpu == 0)
        #expect(exit.timestamp == .nanoseconds(6_295_116_000))
        #expect(exit.rawText == trace.rawLine(73))
        let text = try String(contentsOf: RepositoryPaths.trace("6.12/minimal.trace"), encoding: .utf8)
        let bytes = Array(text.utf8)
        #expect(String(decoding: bytes[exit.byteRange], as: UTF8.self) == exit.rawText)
        #expect(exit.payloadText.hasPrefix("vcpu 0 reason hlt rip 0x101ce"))
        #expect(trace.name(of: exit.number) == "kvm_exit")
        #expect(trace.payload(of: exit.number) == exit.payload)
    }
}
