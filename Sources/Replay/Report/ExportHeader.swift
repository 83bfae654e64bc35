import NestedSVM
import TraceKit

/// The replay options an export was made with, written into the export so that reading it
/// back replays it the same way.
///
/// In a `.trace` export it is the first line, a comment every trace reader skips:
///
///     # svmdbg-export: profile=6.12 host=npt=1,vgif=1
///
/// (`host=` is left out when no host fact was given). `jsonl` records carry `profile` and
/// `host`, `csv` has `profile` and `host` columns, `md` names both under its title. When a
/// trace whose first line is such a header is opened, its profile and host facts are used
/// unless `--profile` / `--host` are given (documented in docs/tui.md and docs/check.md).
public enum ExportHeader {
    /// What starts the header line.
    public static let prefix = "# svmdbg-export: "

    /// The header line (without the line break) for `options`.
    public static func line(for options: ReplayOptions) -> String {
        var text = prefix + "profile=\(options.profile.name)"
        if let host = hostText(options.host) { text += " host=\(host)" }
        return text
    }

    /// The known host facts as `--host` takes them (`npt=1,vgif=0,maxphyaddr=48`), in
    /// `HostFacts.keys` order; nil when none is known.
    public static func hostText(_ facts: HostFacts) -> String? {
        func flag(_ known: Known<Bool>?) -> String? { known.map { $0.value ? "1" : "0" } }
        let values: [(String, String?)] = [
            ("svme_addr_chk", flag(facts.svmeAddrChk)), ("vgif", flag(facts.vgif)), ("npt", flag(facts.npt)),
            ("nrips", flag(facts.nrips)), ("decode_assists", flag(facts.decodeAssists)),
            ("maxphyaddr", facts.maxPhysAddr.map { String($0.value) }), ("vls", flag(facts.vls)),
            ("vmware_backdoor", flag(facts.vmwareBackdoor)), ("guest_debug", flag(facts.guestDebug)),
        ]
        let items = values.compactMap { key, value in value.map { "\(key)=\($0)" } }
        return items.isEmpty ? nil : items.joined(separator: ",")
    }

    /// The profile and host facts a header line names; nil when `line` is not a header or
    /// names an unknown profile or unparsable facts.
    public static func parse(_ line: String) -> (profile: KernelProfile, host: HostFacts?)? {
        guard line.hasPrefix(prefix) else { return nil }
        var profile: KernelProfile?
        var host: HostFacts?
        for item in line.dropFirst(prefix.count).split(separator: " ") {
            if item.hasPrefix("profile=") {
                profile = KernelProfile(named: String(item.dropFirst("profile=".count)))
            } else if item.hasPrefix("host=") {
                guard let facts = try? HostFacts(parsing: String(item.dropFirst("host=".count)), source: "export header") else { return nil }
                host = facts
            }
        }
        guard let profile else { return nil }
        return (profile, host)
    }

    /// The header of `trace` (its first line), if it has one.
    public static func read(from trace: LoadedTrace) -> (profile: KernelProfile, host: HostFacts?)? {
        var reader = RawLineReader(trace)
        return reader.line(1).flatMap(parse)
    }

    /// `options` with the profile and host facts of `trace`'s header where the user gave none.
    public static func applying(to options: ReplayOptions, from trace: LoadedTrace, profileGiven: Bool, hostGiven: Bool) -> ReplayOptions {
        guard let header = read(from: trace) else { return options }
        var adopted = options
        if !profileGiven { adopted.profile = header.profile }
        if !hostGiven, let host = header.host { adopted.host = host }
        return adopted
    }
}
