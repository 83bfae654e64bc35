/// The architecture as a profile: `apm` predicts what an AMD CPU does for L1 when L1 runs on
/// bare metal (no L0 in the picture), so that KVM's recorded behaviour can be compared with it.
///
/// Its decisions come from `Rules/Architectural*.swift` (rule ids `apm.*`), selected at the
/// top of `Evaluator.decide`; the kernel switches of `KernelProfile` are not consulted. Every
/// rule cites its source in the step's `kernel` field: the AMD APM section where its text is at
/// hand, otherwise an independent implementation (QEMU TCG, Xen), and says which.
extension KernelProfile {
    /// What a profile stands for.
    public enum Kind: String, Sendable, Equatable, Codable {
        /// A kernel generation: predicts what that KVM does, bugs included.
        case kernel
        /// The architecture: what the CPU does for a bare-metal L1.
        case architectural
    }

    /// Whether this profile models a kernel or the architecture.
    public var kind: Kind { Self.architectural.contains { $0.name == name } ? .architectural : .kernel }

    /// The AMD architecture (APM vol. 2/3, else QEMU TCG / Xen as independent implementations).
    /// The kernel switches are copied from `upstream` only to fill the struct; no `apm` rule reads them.
    public static let apm: KernelProfile = {
        var profile = KernelProfile.upstream
        profile.name = "apm"
        profile.summary = "the AMD architecture for a bare-metal L1 (APM vol. 2/3; QEMU TCG and Xen where the APM text is not at hand)"
        return profile
    }()

    /// Every architectural profile.
    public static let architectural: [KernelProfile] = [.apm]

    /// Every profile `--profile` accepts: the kernels, then the architecture.
    public static let selectable: [KernelProfile] = all + architectural
}
