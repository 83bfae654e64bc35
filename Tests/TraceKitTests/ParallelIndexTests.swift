import Foundation
import Synchronization
import Testing
import TestSupport
@testable import TraceKit

/// Indexes `bytes` as one chunk or cut into `chunks` (nil: the loader's own choice).
private func index(_ bytes: [UInt8], chunks: Int?, format: TraceFormat? = nil) -> LoadedTrace {
    Indexer.index(text: TraceText(bytes: bytes), source: "t.trace", format: format, compression: .none,
                  chunking: chunks.map { .chunks($0) } ?? .automatic, progress: nil)
}

/// Every observable part of an index, compared field by field so a failure names the field.
private func expectSame(_ serial: LoadedTrace, _ parallel: LoadedTrace, _ label: String,
                        sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(serial.index == parallel.index, "\(label): entries", sourceLocation: sourceLocation)
    #expect(serial.names == parallel.names, "\(label): names", sourceLocation: sourceLocation)
    #expect(serial.kinds == parallel.kinds, "\(label): kinds", sourceLocation: sourceLocation)
    #expect(serial.diagnostics == parallel.diagnostics, "\(label): diagnostics", sourceLocation: sourceLocation)
    #expect(serial.diagnosticCount == parallel.diagnosticCount, "\(label): diagnostic count", sourceLocation: sourceLocation)
    #expect(serial.diagnosticCountsByKind == parallel.diagnosticCountsByKind, "\(label): by kind", sourceLocation: sourceLocation)
    #expect(serial.lineAccounting == parallel.lineAccounting, "\(label): accounting", sourceLocation: sourceLocation)
    #expect(serial.gaps == parallel.gaps, "\(label): gaps", sourceLocation: sourceLocation)
    #expect(serial.threads == parallel.threads, "\(label): threads", sourceLocation: sourceLocation)
    #expect(serial.readerNotes == parallel.readerNotes, "\(label): reader notes", sourceLocation: sourceLocation)
    #expect(serial.format == parallel.format && serial.style == parallel.style, "\(label): layout",
            sourceLocation: sourceLocation)
}

/// A multi-megabyte tracefs text made of a shipped capture's lines with every border case
/// mixed in: CRLF lines, comments, blank lines, lost-event markers, `# … omitted …`,
/// unreadable lines, raw payloads, and no newline after the last line.
private func generatedTrace(megabytes: Int) throws -> [UInt8] {
    let sample = try independentText("6.12/l2-svm-insns.trace")
    let lines = sample.split(separator: "\n").filter { !$0.hasPrefix("#") }.map(String.init)
    precondition(lines.count > 20)
    var text = "# tracer: nop\n#\n"
    var state: UInt64 = 0x9e37_79b9_7f4a_7c15
    func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }
    var position = 0
    while text.utf8.count < megabytes << 20 {
        let line = lines[position % lines.count]
        position += 1
        switch next() % 97 {
        case 0: text += line + "\r\n"
        case 1: text += "\n"
        case 2: text += "CPU:1 [LOST 17 EVENTS]\n"
        case 3: text += "# 12 lines omitted here\n"
        case 4: text += "garbage that is no event line at all\n"
        case 5: text += "  svmlab-384 [000] d..1. 4.501767: kvm_exit: reason in no known format\n"
        case 6: text += "           <...>-9999    [001] d..1.   170.000001: sched_switch: prev_comm=a next_comm=b\n"
        default: text += line + "\n"
        }
    }
    text += lines[0]  // no newline at the end
    return Array(text.utf8)
}

@Suite struct ParallelIndexTests {
    @Test("every shipped text trace indexes the same in 1 and in 2, 3, 7 or 16 chunks")
    func shippedTraces() throws {
        var cutSomewhere = 0
        var files = shippedTextTraces
        let excerpts = (try? FileManager.default.contentsOfDirectory(
            atPath: RepositoryPaths.traces.appendingPathComponent("excerpts").path)) ?? []
        files += excerpts.sorted().map { "excerpts/\($0)" }
        for file in files {
            let bytes = Array(try independentText(file).utf8)
            let serial = index(bytes, chunks: 1)
            for chunks in [2, 3, 7, 16] {
                expectSame(serial, index(bytes, chunks: chunks), "\(file) in \(chunks)")
                let style = serial.style
                if bytes.withUnsafeBufferPointer({ Indexer.chunkCuts($0, style: style, chunking: .chunks(chunks)) }).count > 2 {
                    cutSomewhere += 1
                }
            }
        }
        #expect(files.count > 100)
        // The comparison is only worth something if most files were really cut.
        #expect(cutSomewhere > files.count * 2)
    }

    @Test("a generated 24 MB trace with CRLF, comments, gaps and no final newline indexes the same in chunks")
    func generated() throws {
        let bytes = try generatedTrace(megabytes: 24)
        let serial = index(bytes, chunks: 1)
        #expect(serial.count > 100_000)
        #expect(serial.gaps.count > 100)
        #expect(serial.lineAccounting.unreadable > 100)
        #expect(serial.lineAccounting.read == bytes.filter { $0 == UInt8(ascii: "\n") }.count + 1)
        let cuts = bytes.withUnsafeBufferPointer { Indexer.chunkCuts($0, style: serial.style, chunking: .automatic) }
        #expect(cuts.count > 2 || sysconf(Int32(_SC_NPROCESSORS_ONLN)) < 2)
        // Cut points fall inside lines and move on to the next clean event line.
        let manual = bytes.withUnsafeBufferPointer { Indexer.chunkCuts($0, style: serial.style, chunking: .chunks(64)) }
        #expect(manual.count == 65)
        for cut in manual.dropFirst().dropLast() { #expect(bytes[cut - 1] == UInt8(ascii: "\n")) }
        for chunks in [2, 5, 64, 301] {
            expectSame(serial, index(bytes, chunks: chunks), "generated in \(chunks)")
        }
        expectSame(serial, index(bytes, chunks: nil), "generated, automatic")
    }

    @Test("cuts whose state matters fall back to one front-to-back read")
    func fallback() throws {
        // Pseudo-threads (no pid printed) are numbered by first appearance across the text:
        // perf script lines, every 50th with its pid and CPU columns cut out.
        let sample = try independentText("layouts/real.perf-script.head200.txt").split(separator: "\n")
        var text = ""
        for number in 0..<20_000 {
            let line = String(sample[number % sample.count])
            if number % 50 == 7, let close = line.firstIndex(of: "]") {
                let comm = line.prefix { $0 == " " } + "comm\(number % 37)"
                text += comm + "  " + line[line.index(after: close)...].drop { $0 == " " } + "\n"
            } else {
                text += line + "\n"
            }
        }
        let bytes = Array(text.utf8)
        let serial = index(bytes, chunks: 1)
        let parallel = index(bytes, chunks: 8)
        expectSame(serial, parallel, "pseudo-threads")
        #expect(serial.threads.keys.contains { $0 < 0 })
        #expect(serial.count == 20_000)
        #expect(bytes.withUnsafeBufferPointer { Indexer.chunkCuts($0, style: serial.style, chunking: .chunks(8)) }.count > 2)
    }

    @Test("the index stays at 16 bytes per event plus one slot per non-event line")
    func memory() throws {
        let bytes = try generatedTrace(megabytes: 4)
        let trace = index(bytes, chunks: 8)
        #expect(MemoryLayout<IndexSlot>.stride == 16)
        // One slot per line (malloc may round the allocation up by a few slots).
        #expect(trace.index.capacity <= trace.lineAccounting.read + 16)
        #expect(trace.index.capacity - trace.index.count <= trace.lineAccounting.read - trace.count + 16)
    }

    @Test("progress from chunks adds up to the whole text, never going back")
    func progress() throws {
        let bytes = try generatedTrace(megabytes: 20)
        let seen = Mutex<[IndexProgress]>([])
        let trace = Indexer.index(text: TraceText(bytes: bytes), source: "t", format: nil, compression: .none,
                                  chunking: .chunks(6), progress: { value in seen.withLock { $0.append(value) } })
        let values = seen.withLock { $0 }
        #expect(values.count > 3)
        #expect(zip(values, values.dropFirst()).allSatisfy { $0.bytesScanned <= $1.bytesScanned && $0.events <= $1.events })
        #expect(values.last == IndexProgress(bytesScanned: bytes.count, totalBytes: bytes.count, events: trace.count))
    }
}
