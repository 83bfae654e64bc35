/// One event's place in the index as the indexer writes it and readers see it: 32 bytes,
/// fixed size, no heap references. The index stores it as a 16-byte ``IndexSlot``
/// (``CompactIndex``), losslessly.
///
/// Everything else about the event (comm, payload, vCPU) is decoded from the loaded
/// bytes on demand.
struct IndexEntry: Sendable, Hashable {
    /// Byte offset of the line's first byte in the text (low 48 bits, ``lineStart``) and
    /// where its payload starts, counted from the line's first byte (high 16 bits,
    /// ``payloadOffset``; 0 when not recorded).
    var lineStartAndPayload: UInt64
    /// Timestamp value: nanoseconds, or counter ticks when ``isCounterTimestamp``.
    var timestampValue: Int64
    /// 1-based line number (fits 4 G lines).
    var lineNumber: UInt32
    /// Thread id.
    var pid: Int32
    /// Line length in the low 28 bits, flags in the top four.
    var lengthAndFlags: UInt32
    /// CPU number.
    var cpu: UInt16
    /// Index into the trace's event-name table.
    var nameID: UInt16

    /// Flag bit: the timestamp is a raw counter.
    static let counterFlag: UInt32 = 1 << 31
    /// Flag bit: the payload decoded into a typed value at load time.
    static let typedFlag: UInt32 = 1 << 30
    /// Flag bit: the line needs ``FlexibleLine`` to be read (a pasted or option layout,
    /// or a wrapped event joined back; the length then spans every joined line).
    static let flexibleFlag: UInt32 = 1 << 29
    /// Flag bit: the line printed no timestamp (the value is 0 and means nothing).
    static let untimedFlag: UInt32 = 1 << 28
    /// Mask of the length bits.
    static let lengthMask: UInt32 = (1 << 28) - 1

    /// Creates an entry; `payloadOffset` is where the payload starts within the line
    /// (0: not recorded, the reader parses the prefix again; offsets past 16 bits are not recorded).
    init(lineStart: UInt64, timestampValue: Int64, lineNumber: UInt32, pid: Int32, lengthAndFlags: UInt32,
         cpu: UInt16, nameID: UInt16, payloadOffset: Int = 0) {
        self.lineStartAndPayload = 0
        self.timestampValue = timestampValue
        self.lineNumber = lineNumber
        self.pid = pid
        self.lengthAndFlags = lengthAndFlags
        self.cpu = cpu
        self.nameID = nameID
        self.lineStart = lineStart
        self.payloadOffset = payloadOffset
    }

    /// Bits of ``lineStartAndPayload`` that hold the line's offset (256 TiB of text).
    static let lineStartMask: UInt64 = (1 << 48) - 1

    /// Byte offset of the line's first byte in the text.
    var lineStart: UInt64 {
        get { lineStartAndPayload & Self.lineStartMask }
        set { lineStartAndPayload = (lineStartAndPayload & ~Self.lineStartMask) | (newValue & Self.lineStartMask) }
    }

    /// Where the payload starts, in bytes from the line's first byte, as the index's
    /// ``LinePrefix`` read it (0: not recorded — flexible lines, offsets of 64 KiB or more).
    /// Lets ``LoadedTrace/payload(of:)`` decode a payload without reading the prefix again.
    var payloadOffset: Int {
        get { Int(lineStartAndPayload >> 48) }
        set {
            let stored = newValue > 0 && newValue <= Int(UInt16.max) ? UInt64(newValue) : 0
            lineStartAndPayload = (lineStartAndPayload & Self.lineStartMask) | (stored << 48)
        }
    }

    /// Line length in bytes (without newline).
    var length: Int { Int(lengthAndFlags & Self.lengthMask) }
    /// Whether the timestamp is a counter value.
    var isCounterTimestamp: Bool { lengthAndFlags & Self.counterFlag != 0 }
    /// Whether the line is read by ``FlexibleLine``.
    var isFlexible: Bool { lengthAndFlags & Self.flexibleFlag != 0 }
    /// Whether the line printed no timestamp.
    var isUntimed: Bool { lengthAndFlags & Self.untimedFlag != 0 }
    /// Whether the payload was typed at load time.
    var isTyped: Bool { lengthAndFlags & Self.typedFlag != 0 }

    /// The timestamp as a value.
    var timestamp: TraceTimestamp {
        isCounterTimestamp ? .counter(UInt64(bitPattern: timestampValue)) : .nanoseconds(timestampValue)
    }
}
