import NestedSVM

/// The host facts and kernel profile of each shipped capture folder, as a user would pass
/// them with `--profile` and `--host` after reading the folder's `env.txt`
/// (`kvm_amd` parameters, CPU flags).
package enum CaptureHosts {
    /// One capture folder under `traces/`.
    package struct Folder: Sendable, CustomStringConvertible {
        /// Folder name, e.g. `6.12-naples`.
        package var name: String
        /// The kernel profile matching the folder's kernel.
        package var profile: KernelProfile
        /// `--host` text matching the folder's `env.txt`.
        package var host: String
        /// The folder name.
        package var description: String { name }
    }

    /// `6.1/` and `6.12/`: EPYC with svme-addr-chk and vGIF; `npt=Y nrips=0`, no decode assists.
    /// `6.12-naples/`: no SVME_ADDR_CHK (KVM intercepts #GP), `vgif=0`.
    package static let folders: [Folder] = [
        Folder(name: "6.1", profile: .v6_1, host: "svme_addr_chk=1,vgif=1,npt=1,nrips=0,decode_assists=0"),
        Folder(name: "6.12", profile: .v6_12, host: "svme_addr_chk=1,vgif=1,npt=1,nrips=0,decode_assists=0"),
        Folder(name: "6.12-naples", profile: .v6_12, host: "svme_addr_chk=0,vgif=0,npt=1,nrips=0,decode_assists=0"),
    ]

    /// The folder called `name`.
    package static func folder(_ name: String) -> Folder? { folders.first { $0.name == name } }
}
