import NestedSVM

/// What the user chose for a replay: the kernel profile, and the host and guest facts given
/// explicitly (they win over what the trace proves).
public struct ReplayOptions: Sendable {
    /// The kernel profile the model predicts.
    public var profile: KernelProfile
    /// Host facts given explicitly (`--host`).
    public var host: HostFacts
    /// Guest facts given explicitly (`--guest`, e.g. L1's MAXPHYADDR).
    public var guest: GuestFacts
    /// Facts files (`--facts`): what the user knows about L1 and the guest that the trace
    /// never shows, each entry scoped to a vmcb12 address and/or vCPU (``FactsFile``).
    public var facts: [FactsFile]

    /// Creates options.
    public init(profile: KernelProfile, host: HostFacts = HostFacts(), guest: GuestFacts = GuestFacts(), facts: [FactsFile] = []) {
        self.profile = profile
        self.host = host
        self.guest = guest
        self.facts = facts
    }
}
