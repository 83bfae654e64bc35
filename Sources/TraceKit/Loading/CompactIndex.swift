/// The index as stored: 16 bytes per event (``IndexSlot``) plus small shared tables, read
/// back as full ``IndexEntry`` values.
///
/// Events are grouped in blocks of 256 (by event number). A block keeps the line start, the
/// timestamp and the line number of its first event; a slot keeps its event's offsets from
/// those (32-bit line-start delta, signed 32-bit timestamp delta, 8-bit count of non-event
/// lines skipped since the block began), the line length (16 bits), the payload offset
/// (8 bits), CPU and name id (8 bits each), the thread as an index into a table of pids
/// (11 bits) and the four flags. An event whose fields do not fit (a line of 64 KiB or more,
/// a block spanning 4 GiB of text or more than ±2.1 s, more than 255 CPUs, names or
/// skipped lines, 2 047 threads) keeps its whole entry in a side table: the encoding is
/// lossless, `index[i]` is always the entry the indexer appended.
/// `MemoryLayout<IndexSlot>.stride == 16` is checked by a test.
struct IndexSlot: Sendable, Hashable {
    /// Low 32 bits: line start − the block's line start; high 32 bits: timestamp − the
    /// block's timestamp (two's complement; 0 for a line without timestamp).
    var offsets: UInt64
    /// Bits 0–15 length, 16–23 payload offset, 24–31 skipped lines, 32–39 CPU, 40–47 name id,
    /// 48–58 thread slot, 59–62 flags (``IndexEntry``'s top four bits), 63 escaped.
    var fields: UInt64

    static let escapedBit: UInt64 = 1 << 63
    var isEscaped: Bool { fields & Self.escapedBit != 0 }
}

/// What the slots of one index are read against: block bases, the thread table, the
/// entries that did not fit a slot.
struct IndexTables: Sendable {
    /// Events per block (a power of two).
    static let blockShift = 8
    static let blockMask = (1 << blockShift) - 1
    /// Thread slots that fit the 11 bits.
    static let threadLimit = 1 << 11

    struct Block: Sendable, Hashable {
        var lineStart: UInt64
        var timestamp: Int64
        var lineNumber: UInt32
        /// Whether ``timestamp`` was taken from a timed event yet (a block may open with untimed ones).
        var timed: Bool
    }

    private(set) var blocks: [Block] = []
    /// Pid by thread slot.
    private(set) var pids: [Int32] = []
    private var slotByPID: [Int32: UInt16] = [:]
    private var lastPID: Int32 = 0
    private var lastSlot = UInt16.max
    /// Whole entries of the events whose fields did not fit a slot, by position.
    private(set) var escaped: [Int: IndexEntry] = [:]

    /// Bytes held besides the slots (for the memory figures).
    var byteCount: Int {
        blocks.capacity * MemoryLayout<Block>.stride + pids.capacity * 4 + slotByPID.count * 16
            + escaped.count * (MemoryLayout<IndexEntry>.stride + 16)
    }

    /// The slot for `entry` at `position`. Positions are encoded in order the first time
    /// (each block's base comes from its first event); re-encoding an earlier one is allowed.
    mutating func encode(_ entry: IndexEntry, at position: Int) -> IndexSlot {
        let blockNumber = position >> Self.blockShift
        if blockNumber == blocks.count {
            blocks.append(Block(lineStart: entry.lineStart, timestamp: entry.isUntimed ? 0 : entry.timestampValue,
                                lineNumber: entry.lineNumber, timed: !entry.isUntimed))
        }
        precondition(blockNumber < blocks.count, "index slots are encoded in order")
        if !escaped.isEmpty { escaped[position] = nil }
        if !entry.isUntimed, !blocks[blockNumber].timed {
            blocks[blockNumber].timestamp = entry.timestampValue
            blocks[blockNumber].timed = true
        }
        let block = blocks[blockNumber]
        let lineDelta = entry.lineStart &- block.lineStart
        var timeDelta: Int64 = 0
        var timeFits = entry.timestampValue == 0
        if !entry.isUntimed {
            let (delta, overflow) = entry.timestampValue.subtractingReportingOverflow(block.timestamp)
            timeDelta = delta
            timeFits = !overflow && delta >= Int64(Int32.min) && delta <= Int64(Int32.max)
        }
        let firstLine = Int64(block.lineNumber) + Int64(position & Self.blockMask)
        let skipped = Int64(entry.lineNumber) - firstLine
        let payloadOffset = entry.payloadOffset
        guard entry.lineStart >= block.lineStart, lineDelta <= UInt64(UInt32.max), timeFits,
              skipped >= 0, skipped <= 255, entry.length <= Int(UInt16.max), payloadOffset <= 255,
              entry.cpu <= 255, entry.nameID <= 255, let thread = threadSlot(entry.pid) else {
            escaped[position] = entry
            return IndexSlot(offsets: 0, fields: IndexSlot.escapedBit)
        }
        let offsets = lineDelta | (UInt64(UInt32(bitPattern: Int32(truncatingIfNeeded: timeDelta))) << 32)
        var fields = UInt64(entry.length)
        fields |= UInt64(payloadOffset) << 16
        fields |= UInt64(skipped) << 24
        fields |= UInt64(entry.cpu) << 32
        fields |= UInt64(entry.nameID) << 40
        fields |= UInt64(thread) << 48
        fields |= UInt64(entry.lengthAndFlags >> 28) << 59
        return IndexSlot(offsets: offsets, fields: fields)
    }

    /// The entry `slot` at `position` stands for.
    func decode(_ slot: IndexSlot, at position: Int) -> IndexEntry {
        if slot.isEscaped {
            guard let entry = escaped[position] else { preconditionFailure("escaped index slot \(position) has no entry") }
            return entry
        }
        let block = blocks[position >> Self.blockShift]
        let fields = slot.fields
        let flags = UInt32(truncatingIfNeeded: (fields >> 59) & 0xF) << 28
        let untimed = flags & IndexEntry.untimedFlag != 0
        let timestamp = untimed ? 0 : block.timestamp &+ Int64(Int32(bitPattern: UInt32(truncatingIfNeeded: slot.offsets >> 32)))
        let lineNumber = block.lineNumber &+ UInt32(position & Self.blockMask) &+ UInt32(truncatingIfNeeded: (fields >> 24) & 0xFF)
        return IndexEntry(lineStart: block.lineStart &+ (slot.offsets & 0xFFFF_FFFF), timestampValue: timestamp,
                          lineNumber: lineNumber, pid: pids[Int((fields >> 48) & 0x7FF)],
                          lengthAndFlags: UInt32(truncatingIfNeeded: fields & 0xFFFF) | flags,
                          cpu: UInt16(truncatingIfNeeded: (fields >> 32) & 0xFF),
                          nameID: UInt16(truncatingIfNeeded: (fields >> 40) & 0xFF),
                          payloadOffset: Int((fields >> 16) & 0xFF))
    }

    /// The pid of `slot` without decoding the rest (nil: escaped).
    func pid(_ slot: IndexSlot) -> Int32? {
        slot.isEscaped ? nil : pids[Int((slot.fields >> 48) & 0x7FF)]
    }

    private mutating func threadSlot(_ pid: Int32) -> UInt16? {
        if pid == lastPID, lastSlot != .max { return lastSlot }
        let slot: UInt16
        if let known = slotByPID[pid] {
            slot = known
        } else {
            guard pids.count < Self.threadLimit else { return nil }
            slot = UInt16(pids.count)
            pids.append(pid)
            slotByPID[pid] = slot
        }
        lastPID = pid
        lastSlot = slot
        return slot
    }
}

/// One entry per event, in file order, stored as 16-byte ``IndexSlot``s (see there); reads
/// and writes whole ``IndexEntry`` values.
struct CompactIndex: RandomAccessCollection, Sendable, Equatable {
    private(set) var slots: [IndexSlot]
    private(set) var tables: IndexTables

    init() {
        slots = []
        tables = IndexTables()
    }

    /// Slots already encoded against `tables`.
    init(slots: [IndexSlot], tables: IndexTables) {
        self.slots = slots
        self.tables = tables
    }

    /// Encodes `entries` in order.
    init<S: Sequence>(_ entries: S) where S.Element == IndexEntry {
        self.init()
        for entry in entries { append(entry) }
    }

    var startIndex: Int { 0 }
    var endIndex: Int { slots.count }

    subscript(position: Int) -> IndexEntry {
        get { tables.decode(slots[position], at: position) }
        set { slots[position] = tables.encode(newValue, at: position) }
    }

    /// The pid of the event at `position` (cheaper than decoding the whole entry).
    func pid(at position: Int) -> Int32 {
        let slot = slots[position]
        return tables.pid(slot) ?? tables.decode(slot, at: position).pid
    }

    mutating func append(_ entry: IndexEntry) {
        slots.append(tables.encode(entry, at: slots.count))
    }

    mutating func reserveCapacity(_ count: Int) { slots.reserveCapacity(count) }

    /// Slots allocated (the index holds `capacity × 16` bytes plus ``IndexTables/byteCount``).
    var capacity: Int { slots.capacity }

    /// Bytes the index holds.
    var byteCount: Int { slots.capacity * MemoryLayout<IndexSlot>.stride + tables.byteCount }

    static func == (lhs: CompactIndex, rhs: CompactIndex) -> Bool {
        lhs.count == rhs.count && lhs.elementsEqual(rhs)
    }
}
