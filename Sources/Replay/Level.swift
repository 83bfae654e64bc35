/// Which guest was running when an exit happened: L1 (the guest hypervisor, on vmcb01)
/// or L2 (the nested guest, on vmcb02).
public enum Level: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    case l1 = "L1"
    case l2 = "L2"
    public var description: String { rawValue }
}
