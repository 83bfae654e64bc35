/// Which guest runs on the vCPU: L1 (the guest hypervisor, on vmcb01) or L2 (the nested
/// guest, on vmcb02). KVM calls the L2 case "guest mode".
public enum GuestLevel: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    /// The guest hypervisor.
    case l1 = "L1"
    /// The nested guest.
    case l2 = "L2"

    /// `L1` or `L2`.
    public var description: String { rawValue }
}
