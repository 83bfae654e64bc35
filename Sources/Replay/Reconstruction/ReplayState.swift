import NestedSVM

/// The state the model saw at an exit, kept once per change so that many exits share it.
public struct ReplayState: Sendable {
    /// The model input.
    public var vcpu: VCPUState
    /// vmcb12's guest-physical address at the last VMRUN.
    public var vmcb12Address: Known<UInt64>?
    /// vmcb12's `save.rip` at the last VMRUN.
    public var nestedRIP: Known<UInt64>?
    /// The L1 configuration number (bumped when intercepts, paging or vmcb12 change).
    public var configuration: Int
}
