import Foundation
import Testing
@testable import TraceKit

/// The index keeps where each payload starts (``IndexEntry/payloadOffset``), so that
/// ``LoadedTrace/payload(of:)`` decodes without parsing the line prefix again. It must decode
/// exactly what the full read (``LoadedTrace/event(at:)``, which parses the prefix) decodes.
@Suite("Payload offsets in the index")
struct PayloadOffsetTests {
    @Test("payload(of:) through the kept offset equals the full read, on every shipped text trace")
    func sameAsFullRead() throws {
        var withOffset = 0
        for file in shippedTextTraces {
            let trace = Indexer.index(text: TraceText(bytes: Array(try independentText(file).utf8)), source: file,
                                      format: nil, compression: .none, progress: nil)
            for position in 0..<trace.count {
                let number = EventNumber(position)
                #expect(trace.payload(of: number) == trace.event(at: number).payload, "\(file) event \(position)")
                if trace.index[position].payloadOffset > 0 { withOffset += 1 }
            }
        }
        // The fast path is really taken (flexible and excerpt lines fall back).
        #expect(withOffset > 100_000)
    }

    @Test("offset and line start share one word without disturbing each other")
    func packing() {
        var entry = IndexEntry(lineStart: (1 << 40) + 12345, timestampValue: 7, lineNumber: 3, pid: 9,
                               lengthAndFlags: 80, cpu: 1, nameID: 2, payloadOffset: 61)
        #expect(entry.lineStart == (1 << 40) + 12345)
        #expect(entry.payloadOffset == 61)
        entry.lineStart += 1 << 20
        #expect(entry.lineStart == (1 << 40) + 12345 + (1 << 20))
        #expect(entry.payloadOffset == 61)
        entry.payloadOffset = 70_000  // does not fit 16 bits: not recorded
        #expect(entry.payloadOffset == 0)
        #expect(entry.lineStart == (1 << 40) + 12345 + (1 << 20))
        #expect(MemoryLayout<IndexEntry>.stride == 32)
    }

    @Test("a wrong kept offset changes the decoded payload (the fast path is what decodes)")
    func wrongOffsetIsSeen() throws {
        let file = "6.12/l2-svm-insns.trace"
        let trace = Indexer.index(text: TraceText(bytes: Array(try independentText(file).utf8)), source: file,
                                  format: nil, compression: .none, progress: nil)
        guard let position = (0..<trace.count).first(where: { trace.name(of: EventNumber($0)) == "kvm_exit" }) else {
            Issue.record("no kvm_exit in \(file)")
            return
        }
        var index = trace.index
        // The kept offset now points at the line's last byte: nothing there reads as a payload.
        index[position].payloadOffset = index[position].length - 1
        let broken = LoadedTrace(
            source: trace.source, format: trace.format, compression: trace.compression, diagnostics: trace.diagnostics,
            diagnosticCount: trace.diagnosticCount, diagnosticCountsByKind: trace.diagnosticCountsByKind,
            lineAccounting: trace.lineAccounting, gaps: trace.gaps, threads: trace.threads, text: trace.text,
            index: index, names: trace.names, kinds: trace.kinds, style: trace.style)
        let number = EventNumber(position)
        #expect(trace.payload(of: number).isTyped)
        #expect(broken.payload(of: number) != trace.payload(of: number))
    }
}
