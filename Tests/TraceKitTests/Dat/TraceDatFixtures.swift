import CCompression
import Foundation
import Synchronization
import TestSupport
import TraceKit

/// The shipped trace.dat files and the text twins the tests compare them with.
enum TraceDatFixtures {
    /// Every `.dat` under `traces/`, as paths relative to `traces/` (`6.12/minimal.dat`).
    static let allDatFiles: [String] = {
        let root = RepositoryPaths.traces
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else { return [] }
        let prefix = root.standardizedFileURL.path + "/"
        return walker.compactMap { $0 as? URL }
            .filter { $0.pathExtension == "dat" }
            .map { String($0.standardizedFileURL.path.dropFirst(prefix.count)) }
            .sorted()
    }()

    /// The `.dat` files captured together with tracefs text and `trace-cmd report -N` twins.
    static var scenarioDatFiles: [String] { allDatFiles.filter { !$0.hasPrefix("layouts/") } }

    /// The `trace-cmd` samples, which have no text twin.
    static var sampleDatFiles: [String] { allDatFiles.filter { $0.hasPrefix("layouts/") } }

    /// Rendered shipped files, kept because several tests read each (the suites run in
    /// parallel; rendering is serialised inside TraceKit anyway).
    private static let renderedCache = Mutex<[String: TraceDatText]>([:])

    /// `TraceDatReader.renderText` of the shipped file `relative`, rendered once per test run.
    static func rendered(_ relative: String) throws -> TraceDatText {
        if let cached = renderedCache.withLock({ $0[relative] }) { return cached }
        let text = try TraceDatReader.renderText(path: path(relative))
        renderedCache.withLock { $0[relative] = text }
        return text
    }

    /// The absolute path of a file under `traces/`.
    static func path(_ relative: String) -> String { RepositoryPaths.trace(relative).path }

    /// The bytes of `relative` (e.g. `6.12/minimal.trace`), or of `relative + ".xz"`
    /// decompressed, or `nil` if neither exists.
    static func twin(_ relative: String) throws -> [UInt8]? {
        let plain = RepositoryPaths.trace(relative)
        if FileManager.default.fileExists(atPath: plain.path) { return [UInt8](try Data(contentsOf: plain)) }
        let compressed = RepositoryPaths.trace(relative + ".xz")
        guard FileManager.default.fileExists(atPath: compressed.path) else { return nil }
        return try decompressXZ([UInt8](Data(contentsOf: compressed)))
    }

    struct XZError: Error { var code: UInt32 }

    /// Decodes an `.xz` stream with liblzma.
    static func decompressXZ(_ input: [UInt8]) throws -> [UInt8] {
        var stream = lzma_stream()
        let start = lzma_stream_decoder(&stream, UInt64.max, 0)
        guard start == LZMA_OK else { throw XZError(code: start.rawValue) }
        defer { lzma_end(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        try input.withUnsafeBufferPointer { inputBuffer in
            stream.next_in = inputBuffer.baseAddress
            stream.avail_in = inputBuffer.count
            while true {
                let result = chunk.withUnsafeMutableBufferPointer { chunkBuffer -> lzma_ret in
                    stream.next_out = chunkBuffer.baseAddress
                    stream.avail_out = chunkBuffer.count
                    return lzma_code(&stream, LZMA_FINISH)
                }
                output.append(contentsOf: chunk[0..<(chunk.count - stream.avail_out)])
                if result == LZMA_STREAM_END { return }
                guard result == LZMA_OK else { throw XZError(code: result.rawValue) }
            }
        }
        return output
    }

    /// The lines of a text, without their `\n`.
    static func lines(_ bytes: [UInt8]) -> [ArraySlice<UInt8>] {
        bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            .filter { !$0.isEmpty }
    }

    /// The event lines of a tracefs `trace` file (its `#` header dropped).
    static func tracefsEventLines(_ bytes: [UInt8]) -> [String] {
        lines(bytes).filter { $0.first != UInt8(ascii: "#") }.map { String(decoding: $0, as: UTF8.self) }
    }

    /// Splits an event line of tracefs or `trace-cmd report` layout into the event name and
    /// what follows `name: ` (for `report`, with its padding): the name follows the first
    /// `: ` after the `[cpu]` column and ends at the next `:`.
    static func eventNameAndPayload(_ line: ArraySlice<UInt8>) -> (name: String, payload: String)? {
        let colon = UInt8(ascii: ":"), space = UInt8(ascii: " ")
        guard let bracket = line.firstIndex(of: UInt8(ascii: "]")) else { return nil }
        var index = bracket
        while index + 1 < line.endIndex, !(line[index] == colon && line[index + 1] == space) { index += 1 }
        guard index + 1 < line.endIndex else { return nil }
        let nameStart = index + 2
        guard let nameEnd = line[nameStart...].firstIndex(of: colon) else { return nil }
        let payloadStart = min(nameEnd + 2, line.endIndex)
        return (String(decoding: line[nameStart..<nameEnd], as: UTF8.self),
                String(decoding: line[payloadStart...], as: UTF8.self))
    }

    /// The event lines of a text twin, split where the lab capped a long capture (a
    /// `# [svmlab] … lines omitted here …` line between the first and the last lines).
    /// Lines that are not event lines (`cpus=1`, `#` headers) are dropped.
    static func cappedSegments(_ bytes: [UInt8]) -> [[ArraySlice<UInt8>]] {
        var segments: [[ArraySlice<UInt8>]] = [[]]
        for line in lines(bytes) {
            if line.starts(with: "# [svmlab]".utf8) {
                segments.append([])
            } else if line.first != UInt8(ascii: "#"), eventNameAndPayload(line) != nil {
                segments[segments.count - 1].append(line)
            }
        }
        return segments
    }

    /// Pairs each twin line with the rendered line at the same position, aligning the second
    /// segment of a capped twin with the end of the rendered text. `nil` if the twin has more
    /// than one cut or more lines than the rendered text.
    static func alignedPairs(rendered: [ArraySlice<UInt8>], twin: [UInt8])
        -> (pairs: [(rendered: ArraySlice<UInt8>, twin: ArraySlice<UInt8>)], capped: Bool)? {
        let segments = cappedSegments(twin)
        guard segments.count <= 2 else { return nil }
        let head = segments[0], tail = segments.count == 2 ? segments[1] : []
        guard head.count + tail.count <= rendered.count else { return nil }
        let pairs = Array(zip(rendered.prefix(head.count), head)) + Array(zip(rendered.suffix(tail.count), tail))
        return (pairs.map { (rendered: $0.0, twin: $0.1) }, segments.count == 2)
    }

    /// The columns of an event line of tracefs or `trace-cmd report` layout: `comm-pid`, cpu,
    /// timestamp, event name and payload (leading padding removed).
    struct EventFields: Equatable, CustomStringConvertible {
        var task: String, cpu: String, timestamp: String, name: String, payload: String
        var description: String { "\(task) [\(cpu)] \(timestamp): \(name): \(payload)" }
    }

    /// Splits an event line into its columns, or `nil` for other lines.
    static func eventFields(_ line: ArraySlice<UInt8>) -> EventFields? {
        guard let open = line.firstIndex(of: UInt8(ascii: "[")),
              let close = line[open...].firstIndex(of: UInt8(ascii: "]")),
              let event = eventNameAndPayload(line)
        else { return nil }
        let text = { (bytes: ArraySlice<UInt8>) in String(decoding: bytes, as: UTF8.self) }
        let afterCPU = text(line[(close + 1)...])
        guard let timestampEnd = afterCPU.range(of: ": ") else { return nil }
        let timestamp = afterCPU[..<timestampEnd.lowerBound].split(separator: " ").last.map(String.init) ?? ""
        return EventFields(
            task: text(line[..<open]).trimmingCharacters(in: .whitespaces),
            cpu: text(line[(open + 1)..<close]),
            timestamp: timestamp,
            name: event.name,
            payload: String(event.payload.drop { $0 == " " }))
    }

    /// How many lines of each event name a text holds.
    static func eventCounts(_ bytes: [UInt8]) -> [String: Int] {
        eventCounts(lines(bytes))
    }

    /// How many of `lines` have each event name.
    static func eventCounts(_ lines: some Sequence<ArraySlice<UInt8>>) -> [String: Int] {
        var counts: [String: Int] = [:]
        for line in lines {
            if let (name, _) = eventNameAndPayload(line) { counts[name, default: 0] += 1 }
        }
        return counts
    }
}
