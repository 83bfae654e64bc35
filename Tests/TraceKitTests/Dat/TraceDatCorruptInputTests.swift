import Foundation
import Testing
import TraceKit

/// Damaged and foreign files must come back as a thrown `TraceDatError` naming the file,
/// never as a crash or as output on stdout.
@Suite struct TraceDatCorruptInputTests {
    /// A scratch directory for the damaged copies, removed when the test ends.
    final class ScratchDirectory {  // class: removes the directory in deinit
        let url: URL
        init() throws {
            url = FileManager.default.temporaryDirectory.appendingPathComponent("svmdbg-dat-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        }
        func write(_ bytes: some Sequence<UInt8>, named name: String) throws -> String {
            let file = url.appendingPathComponent(name)
            try Data(bytes).write(to: file)
            return file.path
        }
        deinit { try? FileManager.default.removeItem(at: url) }
    }

    /// A deterministic byte generator (SplitMix64), so failures reproduce.
    struct SplitMix64: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var generator = SplitMix64(state: seed)
        return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    /// Renders `path`, expecting a thrown error whose message names the file.
    static func expectRejected(_ path: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            let text = try TraceDatReader.renderText(path: path)
            Issue.record("rendered \(text.recordCount) records from a damaged file", sourceLocation: sourceLocation)
        } catch {
            #expect(error.description.hasPrefix(path + ": "), sourceLocation: sourceLocation)
        }
    }

    @Test("an empty file is not a trace.dat file")
    func emptyFile() throws {
        let scratch = try ScratchDirectory()
        let path = try scratch.write([], named: "empty.dat")
        #expect(throws: TraceDatError.notTraceDat(path: path)) { try TraceDatReader.renderText(path: path) }
        let error = TraceDatError.notTraceDat(path: path)
        #expect(error.path == path)
        #expect(error.description == "\(path): \(error.problem)")
        #expect(error.problem == #"not a trace-cmd trace.dat file (the \x17\x08Dtracing magic is missing)"#)
    }

    @Test("a missing file, a directory and a text trace are rejected with the file named")
    func foreignInputs() throws {
        let scratch = try ScratchDirectory()
        let missing = scratch.url.appendingPathComponent("missing.dat").path
        #expect {
            try TraceDatReader.renderText(path: missing)
        } throws: { error in
            guard case .unreadable(let path, _) = error as? TraceDatError else { return false }
            return path == missing
        }
        Self.expectRejected(scratch.url.path)
        let text = try Data(contentsOf: URL(fileURLWithPath: TraceDatFixtures.path("6.12/minimal.trace")))
        let textPath = try scratch.write(text, named: "minimal.trace")
        #expect(throws: TraceDatError.notTraceDat(path: textPath)) { try TraceDatReader.renderText(path: textPath) }
    }

    @Test("the magic alone, or a bare version after it, is rejected", arguments: [
        [UInt8](), Array("7".utf8), Array("7\u{0}".utf8), Array("6\u{0}".utf8), Array("99\u{0}".utf8),
    ])
    func magicOnly(suffix: [UInt8]) throws {
        let scratch = try ScratchDirectory()
        Self.expectRejected(try scratch.write(TraceDatReader.magic + suffix, named: "magic.dat"))
    }

    @Test("random bytes after the magic are rejected", arguments: [
        (seed: 1, length: 1), (seed: 2, length: 10), (seed: 3, length: 100), (seed: 4, length: 4_096),
        (seed: 5, length: 100_000),
    ])
    func junkAfterMagic(seed: UInt64, length: Int) throws {
        let scratch = try ScratchDirectory()
        let junk = Self.randomBytes(length, seed: seed)
        Self.expectRejected(try scratch.write(TraceDatReader.magic + junk, named: "junk.dat"))
        // With a plausible version string, so libtracecmd parses further in.
        for version in ["6", "7"] {
            let bytes = TraceDatReader.magic + Array(version.utf8) + [0] + junk
            Self.expectRejected(try scratch.write(bytes, named: "junk-v\(version).dat"))
        }
    }

    /// Cut points as fractions of the file: inside the header sections, the formats, and the
    /// trace data (v7 keeps its data and options at the end; v6 its data).
    static let cuts: [Double] = [0.0005, 0.01, 0.1, 0.3, 0.5, 0.9, 0.95, 0.99, 0.999]

    @Test("a truncated trace.dat is rejected, or renders exactly like the whole file",
          arguments: ["6.12/minimal.dat", "6.1/exceptions.dat", "layouts/sample-real-2k-v6.dat"])
    func truncated(dat: String) throws {
        let scratch = try ScratchDirectory()
        let wholePath = TraceDatFixtures.path(dat)
        let whole = [UInt8](try Data(contentsOf: URL(fileURLWithPath: wholePath)))
        let wholeText = try TraceDatReader.renderText(path: wholePath)
        var rejected = 0
        for cut in Self.cuts {
            let length = Int(Double(whole.count) * cut)
            let path = try scratch.write(whole.prefix(length), named: "cut-\(length).dat")
            do {
                // v7 files end with a section of names that only `trace-cmd dump` shows; a
                // cut there loses nothing, and the records must then all be there, unchanged.
                let text = try TraceDatReader.renderText(path: path)
                #expect(text.bytes == wholeText.bytes, "cut at \(length) of \(whole.count) bytes")
            } catch {
                #expect(error.description.hasPrefix(path + ": "))
                rejected += 1
            }
        }
        #expect(rejected >= Self.cuts.count - 1)
        // v6 keeps CPU data last: one byte short must already be refused.
        if dat.hasSuffix("-v6.dat") {
            Self.expectRejected(try scratch.write(whole.dropLast(), named: "cut-last-byte.dat"))
        }
    }

    @Test("a v6 file one byte short is refused before libtracecmd sees it")
    func truncatedVersion6Message() throws {
        let scratch = try ScratchDirectory()
        let whole = [UInt8](try Data(contentsOf: URL(fileURLWithPath: TraceDatFixtures.path("layouts/sample-real-2k-v6.dat"))))
        let path = try scratch.write(whole.dropLast(), named: "short.dat")
        #expect(throws: TraceDatError.corrupt(
            path: path, reason: "the file has \(whole.count - 1) bytes but its header and data need \(whole.count)")) {
            try TraceDatReader.renderText(path: path)
        }
    }

    @Test("the reader still works after rejecting damaged files")
    func recoversAfterErrors() throws {
        let scratch = try ScratchDirectory()
        let whole = [UInt8](try Data(contentsOf: URL(fileURLWithPath: TraceDatFixtures.path("6.12/minimal.dat"))))
        Self.expectRejected(try scratch.write(whole.prefix(whole.count / 2), named: "half.dat"))
        let text = try TraceDatReader.renderText(path: TraceDatFixtures.path("6.12/minimal.dat"))
        #expect(text.recordCount == 81)
    }
}

@Suite struct TraceDatInMemoryTests {
    @Test("a trace.dat in memory renders like the same file, and errors name the source")
    func inMemory() throws {
        let path = TraceDatFixtures.path("6.12/minimal.dat")
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let fromMemory = try TraceDatReader.renderText(bytes: bytes, source: "-")
        let fromFile = try TraceDatFixtures.rendered("6.12/minimal.dat")
        #expect(fromMemory.bytes == fromFile.bytes)
        #expect(fromMemory.recordCount == fromFile.recordCount)
        #expect(fromMemory.fileVersion == 7)

        #expect(throws: TraceDatError.notTraceDat(path: "-")) {
            try TraceDatReader.renderText(bytes: Array("# tracer: nop\n".utf8), source: "-")
        }
        #expect {
            try TraceDatReader.renderText(bytes: Array(bytes.prefix(bytes.count / 2)), source: "run.dat.xz")
        } throws: { error in
            guard case .corrupt(let named, _) = error as? TraceDatError else { return false }
            return named == "run.dat.xz"
        }
    }
}
