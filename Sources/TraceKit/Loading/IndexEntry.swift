/// One event's place in the index: 32 bytes, fixed size, no heap references.
///
/// Everything else about the event (comm, payload, vCPU) is decoded from the loaded
/// bytes on demand. `MemoryLayout<IndexEntry>.stride == 32` is checked by a test.
struct IndexEntry: Sendable, Hashable {
    /// Byte offset of the line's first byte in the text.
    var lineStart: UInt64
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
