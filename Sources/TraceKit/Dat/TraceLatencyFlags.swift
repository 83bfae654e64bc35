/// The five-character latency column of a tracefs line (`d..1.`), built from a record's
/// `common_flags` and `common_preempt_count` fields.
///
/// The characters follow the kernel's formatter, `kernel/trace/trace_output.c:trace_print_lat_fmt`,
/// as documented in `Documentation/trace/ftrace.rst` ("irqs-off", "need-resched",
/// "hardirq/softirq", "preempt-depth", "migrate-disable"). The flag bits are
/// `enum trace_flag_type` in `include/linux/trace_events.h`.
struct TraceLatencyFlags: Sendable, Hashable {
    /// `common_flags` of the record.
    var flags: UInt32
    /// `common_preempt_count` of the record: preempt depth in bits 0–3, migrate-disable
    /// depth in bits 4–7 (5.13+ kernels).
    var preemptCount: UInt32

    /// Interrupts were disabled (`TRACE_FLAG_IRQS_OFF`).
    static let irqsOff: UInt32 = 0x01
    /// A lazy reschedule was pending (`TRACE_FLAG_NEED_RESCHED_LAZY`, 6.13+). Before 6.13 the
    /// bit meant `TRACE_FLAG_IRQS_NOSUPPORT` (column shows `X`), which only architectures
    /// without irq-flags tracing set; x86 always has it, so the bit is read as lazy here.
    static let needReschedLazy: UInt32 = 0x02
    /// `TIF_NEED_RESCHED` was set (`TRACE_FLAG_NEED_RESCHED`).
    static let needResched: UInt32 = 0x04
    /// In hard interrupt context (`TRACE_FLAG_HARDIRQ`).
    static let hardirq: UInt32 = 0x08
    /// In softirq context (`TRACE_FLAG_SOFTIRQ`).
    static let softirq: UInt32 = 0x10
    /// `PREEMPT_NEED_RESCHED` was set (`TRACE_FLAG_PREEMPT_RESCHED`).
    static let preemptResched: UInt32 = 0x20
    /// In NMI context (`TRACE_FLAG_NMI`).
    static let nmi: UInt32 = 0x40
    /// Bottom halves were disabled (`TRACE_FLAG_BH_OFF`).
    static let bhOff: UInt32 = 0x80

    /// The column's five ASCII bytes, in order: irqs-off, need-resched, hardirq/softirq,
    /// preempt depth, migrate-disable depth.
    var bytes: (UInt8, UInt8, UInt8, UInt8, UInt8) {
        (irqsOffByte, needReschedByte, contextByte,
         Self.depthByte(preemptCount & 0xf), Self.depthByte((preemptCount >> 4) & 0xf))
    }

    private func has(_ bit: UInt32) -> Bool { flags & bit != 0 }

    private var irqsOffByte: UInt8 {
        switch (has(Self.irqsOff), has(Self.bhOff)) {
        case (true, true): UInt8(ascii: "D")
        case (true, false): UInt8(ascii: "d")
        case (false, true): UInt8(ascii: "b")
        case (false, false): UInt8(ascii: ".")
        }
    }

    private var needReschedByte: UInt8 {
        switch (has(Self.needResched), has(Self.needReschedLazy), has(Self.preemptResched)) {
        case (true, true, true): UInt8(ascii: "B")
        case (true, false, true): UInt8(ascii: "N")
        case (false, true, true): UInt8(ascii: "L")
        case (true, true, false): UInt8(ascii: "b")
        case (true, false, false): UInt8(ascii: "n")
        case (false, false, true): UInt8(ascii: "p")
        case (false, true, false): UInt8(ascii: "l")
        case (false, false, false): UInt8(ascii: ".")
        }
    }

    private var contextByte: UInt8 {
        switch (has(Self.nmi), has(Self.hardirq), has(Self.softirq)) {
        case (true, true, _): UInt8(ascii: "Z")
        case (true, false, _): UInt8(ascii: "z")
        case (false, true, true): UInt8(ascii: "H")
        case (false, true, false): UInt8(ascii: "h")
        case (false, false, true): UInt8(ascii: "s")
        case (false, false, false): UInt8(ascii: ".")
        }
    }

    private static func depthByte(_ depth: UInt32) -> UInt8 {
        if depth == 0 { return UInt8(ascii: ".") }
        return depth < 10 ? UInt8(ascii: "0") + UInt8(depth) : UInt8(ascii: "a") + UInt8(depth - 10)
    }
}
