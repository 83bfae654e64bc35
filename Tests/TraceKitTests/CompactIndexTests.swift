import Foundation
import Testing
@testable import TraceKit

/// The index stores each event in a 16-byte ``IndexSlot`` against per-block bases and a
/// thread table; whatever does not fit keeps its whole ``IndexEntry`` aside. Reading must give
/// back exactly what was written, and the common case must not go aside.
@Suite("Compact index (16-byte slots)")
struct CompactIndexTests {
    private func entry(_ line: UInt64, time: Int64, number: UInt32, pid: Int32 = 100, length: UInt32 = 80,
                       flags: UInt32 = IndexEntry.typedFlag, cpu: UInt16 = 1, name: UInt16 = 2,
                       payload: Int = 50) -> IndexEntry {
        IndexEntry(lineStart: line, timestampValue: time, lineNumber: number, pid: pid, lengthAndFlags: length | flags,
                   cpu: cpu, nameID: name, payloadOffset: payload)
    }

    @Test("a slot is 16 bytes; a block base 24 (fails if either grows)")
    func sizes() {
        #expect(MemoryLayout<IndexSlot>.stride == 16)
        #expect(MemoryLayout<IndexTables.Block>.stride == 24)
        #expect(MemoryLayout<IndexEntry>.stride == 32)
    }

    @Test("ordinary events fit slots and read back unchanged")
    func roundTrip() {
        var entries: [IndexEntry] = []
        var line: UInt64 = 300
        var time: Int64 = 5_000_000_000_000
        for number in 0..<2_000 {
            entries.append(entry(line, time: time, number: UInt32(number + 12), pid: Int32(1_000 + number % 5),
                                 length: UInt32(60 + number % 40), cpu: UInt16(number % 4), name: UInt16(number % 9),
                                 payload: 40 + number % 30))
            line += UInt64(61 + number % 40)
            time += Int64(number % 7 == 0 ? -300 : 2_500)  // text order, not time order, across CPUs
        }
        let index = CompactIndex(entries)
        #expect(Array(index) == entries)
        #expect(index.tables.escaped.isEmpty)
        #expect(index.tables.pids.count == 5)
        #expect(index.tables.blocks.count == 8)
        for position in [0, 255, 256, 1_999] { #expect(index.pid(at: position) == entries[position].pid) }
    }

    @Test("fields that do not fit a slot keep their whole entry, and read back unchanged")
    func escapes() {
        let base = entry(1_000, time: 1_000_000_000, number: 10)
        var odd: [IndexEntry] = [base]
        odd.append(entry(2_000, time: 1_000_000_100, number: 14, length: 70_000))            // long line
        odd.append(entry(3_000, time: 1_000_000_000 + (1 << 32), number: 15))                 // far in time
        odd.append(entry(4_000, time: 999_000_000 - (1 << 31), number: 16))                   // far back in time
        odd.append(entry(5_000 + (1 << 32), time: 1_000_000_200, number: 17))                // far in the text
        odd.append(entry(6_000, time: 1_000_000_300, number: 15 + 300))                       // many lines skipped
        odd.append(entry(7_000, time: 1_000_000_400, number: 19, cpu: 300))                   // CPU past 255
        odd.append(entry(8_000, time: 1_000_000_500, number: 20, name: 256))                  // name id past 255
        odd.append(entry(9_000, time: 1_000_000_600, number: 21, payload: 300))               // payload offset past 255
        odd.append(entry(9_500, time: 0, number: 22, flags: IndexEntry.untimedFlag))          // no timestamp: fits
        odd.append(entry(9_600, time: 77, number: 23, flags: IndexEntry.untimedFlag))         // untimed, non-zero
        odd.append(entry(9_700, time: -5, number: 24, flags: IndexEntry.counterFlag))         // fits
        let index = CompactIndex(odd)
        #expect(Array(index) == odd)
        #expect(index.tables.escaped.keys.sorted() == [1, 2, 3, 4, 5, 6, 7, 8, 10])
        // A next block bases itself on its own first event: no escapes there.
        var more = odd
        for position in odd.count..<600 {
            let line = UInt64(10_000_000 + position * 100)
            let time = Int64(9_000_000_000 + position)
            more.append(entry(line, time: time, number: UInt32(1_000 + position)))
        }
        let longer = CompactIndex(more)
        #expect(Array(longer) == more)
        #expect(longer.tables.escaped.keys.allSatisfy { $0 < 256 })
    }

    @Test("a block opening with untimed events takes its time base from the first timed one")
    func untimedOpening() {
        var entries: [IndexEntry] = []
        for position in 0..<10 {
            let line = UInt64(position * 100)
            let number = UInt32(position + 1)
            if position < 3 {
                entries.append(entry(line, time: 0, number: number, flags: IndexEntry.untimedFlag))
            } else {
                entries.append(entry(line, time: Int64(8_000_000_000_000 + position), number: number))
            }
        }
        let index = CompactIndex(entries)
        #expect(Array(index) == entries)
        #expect(index.tables.escaped.isEmpty)
    }

    @Test("more threads than a slot names go aside; changing an entry re-encodes it")
    func threadsAndSetter() {
        var entries: [IndexEntry] = []
        for position in 0..<2_100 {
            entries.append(entry(UInt64(position * 90), time: Int64(position), number: UInt32(position + 1), pid: Int32(position)))
        }
        var index = CompactIndex(entries)
        #expect(Array(index) == entries)
        #expect(index.tables.escaped.count == 2_100 - IndexTables.threadLimit)
        #expect(index.pid(at: 2_099) == 2_099)
        index[5].lengthAndFlags = 70_000 | IndexEntry.flexibleFlag  // no longer fits
        #expect(index[5].length == 70_000 && index[5].isFlexible)
        index[5].lengthAndFlags = 90 | IndexEntry.flexibleFlag      // fits again
        #expect(index[5].length == 90)
        #expect(index.tables.escaped[5] == nil)
        #expect(index[4] == entries[4] && index[6] == entries[6])
    }

    @Test("shipped text traces: nothing goes aside, and the index holds at most 17 bytes per event")
    func shipped() throws {
        var events = 0
        for file in shippedTextTraces {
            let trace = Indexer.index(text: TraceText(bytes: Array(try independentText(file).utf8)), source: file,
                                      format: nil, compression: .none, progress: nil)
            events += trace.count
            #expect(trace.index.tables.escaped.count * 100 <= trace.count, "\(file): \(trace.index.tables.escaped.count) escaped")
            let perEvent = Double(trace.index.count * 16 + trace.index.tables.byteCount) / Double(max(trace.count, 1))
            if trace.count > 10_000 { #expect(perEvent < 17, "\(file): \(perEvent) bytes per event") }
        }
        #expect(events > 100_000)
    }
}
