/// What the trace says about one thread (one pid/tid: a vCPU thread for KVM events).
public struct ThreadSummary: Sendable, Hashable {
    /// Thread id.
    public var pid: Int32
    /// Thread-group id (the VM process) when the layout prints it.
    public var tgid: Int32?
    /// The comm of the thread's first event.
    public var comm: String
    /// The vCPU id its `kvm_entry`/`kvm_exit` events state, if any.
    public var vcpu: UInt32?
    /// Number of events of this thread.
    public var eventCount: Int

    /// Creates a summary.
    public init(pid: Int32, tgid: Int32?, comm: String, vcpu: UInt32?, eventCount: Int) {
        self.pid = pid
        self.tgid = tgid
        self.comm = comm
        self.vcpu = vcpu
        self.eventCount = eventCount
    }
}
