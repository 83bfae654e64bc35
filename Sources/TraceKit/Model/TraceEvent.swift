/// One decoded trace event: where it is, who emitted it, when, and what it says.
///
/// A `TraceEvent` is built on demand from the loaded bytes by ``LoadedTrace/event(at:)``;
/// the trace itself stores only a compact index entry per event.
public struct TraceEvent: Sendable, Hashable {
    /// Position in the trace's event index.
    public var number: EventNumber
    /// 1-based line number in the (decompressed) text.
    public var lineNumber: Int
    /// Byte range of the line in the (decompressed) text, without its newline.
    public var byteRange: Range<Int>
    /// The task name (`comm`), as printed (may contain spaces, slashes, dashes).
    public var comm: String
    /// The thread id (`pid` in tracefs/trace-cmd, `tid` in perf); one per vCPU thread.
    public var pid: Int32
    /// The thread-group id (process, i.e. the VM) when the layout prints it, else `nil`.
    public var tgid: Int32?
    /// The CPU whose buffer recorded the event.
    public var cpu: Int
    /// The timestamp.
    public var timestamp: TraceTimestamp
    /// The event name without system prefix (`kvm_exit`).
    public var name: String
    /// The decoded payload (`.raw` for events svmdbg does not model).
    public var payload: EventPayload
    /// The payload text as printed (after `name:` and its padding).
    public var payloadText: String
    /// The whole line as printed.
    public var rawText: String

    /// The vCPU id, where the event itself states it (see ``EventPayload/vcpu``).
    public var vcpu: UInt32? { payload.vcpu }

    /// Creates an event value (used by the loader and by tests).
    public init(number: EventNumber, lineNumber: Int, byteRange: Range<Int>, comm: String, pid: Int32,
                tgid: Int32?, cpu: Int, timestamp: TraceTimestamp, name: String, payload: EventPayload,
                payloadText: String, rawText: String) {
        self.number = number
        self.lineNumber = lineNumber
        self.byteRange = byteRange
        self.comm = comm
        self.pid = pid
        self.tgid = tgid
        self.cpu = cpu
        self.timestamp = timestamp
        self.name = name
        self.payload = payload
        self.payloadText = payloadText
        self.rawText = rawText
    }
}
