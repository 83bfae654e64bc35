import ArgumentParser
import NestedSVM
import Replay
import TraceKit

/// `--profile`, `--host` and `--guest`: shared by every subcommand that replays a trace.
struct ReplayOptionGroup: ParsableArguments {
    @Option(name: .customLong("profile"), help: ArgumentHelp(
        "Kernel profile the model predicts: \(KernelProfile.selectable.map(\.name).joined(separator: ", ")) (default: 6.12, or the profile an svmdbg export's header names).",
        valueName: "PROFILE"))
    var profileChoice: String?

    /// The profile named with `--profile`, else the default, 6.12.
    var profile: String {
        get { profileChoice ?? "6.12" }
        set { profileChoice = newValue }
    }

    /// Whether `--profile` was given (an export's header then does not choose it).
    var profileGiven: Bool { profileChoice != nil }

    @Option(help: ArgumentHelp(
        "Host facts, key=value,... (keys: \(HostFacts.keys.joined(separator: ", ")); 0/1 or a number). They win over what the trace proves.",
        valueName: "FACTS"))
    var host: String?

    @Option(help: ArgumentHelp(
        "Guest facts, key=value,... (keys: maxphyaddr = L1's MAXPHYADDR).", valueName: "FACTS"))
    var guest: String?

    @Option(name: .customLong("facts"), help: ArgumentHelp(
        "A facts file: what you know about L1 and the guest that the trace never shows (decide's state schema, optionally scoped to a vmcb12 address and/or vCPU; docs/facts.md). Repeatable.",
        valueName: "FILE"))
    var factsFiles: [String] = []

    func validate() throws {
        guard KernelProfile(named: profile) != nil else {
            throw ValidationError("unknown profile '\(profile)' (known: \(KernelProfile.selectable.map(\.name).joined(separator: ", ")))")
        }
        _ = try hostFacts()
        _ = try guestFacts()
        _ = try factsFilesRead()
    }

    /// The facts files, read and parsed.
    func factsFilesRead() throws -> [FactsFile] {
        var files: [FactsFile] = []
        for path in factsFiles {
            do {
                files.append(try FactsFile.read(path: path))
            } catch {
                throw ValidationError("--facts \(path): \(error.description)")
            }
        }
        return files
    }

    /// The chosen profile.
    func kernelProfile() throws -> KernelProfile {
        guard let chosen = KernelProfile(named: profile) else {
            throw ValidationError("unknown profile '\(profile)'")
        }
        return chosen
    }

    /// The explicit host facts.
    func hostFacts() throws -> HostFacts {
        guard let host else { return HostFacts() }
        do { return try HostFacts(parsing: host, source: "--host") } catch { throw ValidationError("--host: \(error.description)") }
    }

    /// The explicit guest facts.
    func guestFacts() throws -> GuestFacts {
        var facts = GuestFacts()
        guard let guest else { return facts }
        for item in guest.split(separator: ",") {
            let parts = item.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { throw ValidationError("--guest: '\(item)' is not key=value") }
            switch parts[0] {
            case "maxphyaddr":
                guard let bits = Int(parts[1]), (1...64).contains(bits) else {
                    throw ValidationError("--guest maxphyaddr=\(parts[1]): expected a number 1-64")
                }
                facts.maxPhysAddr = Known(bits, source: "--guest")
            default:
                throw ValidationError("--guest: unknown key '\(parts[0])' (known: maxphyaddr)")
            }
        }
        return facts
    }

    /// The replay options.
    func replayOptions(profile override: KernelProfile? = nil) throws -> ReplayOptions {
        ReplayOptions(profile: try override ?? kernelProfile(), host: try hostFacts(), guest: try guestFacts(), facts: try factsFilesRead())
    }

    /// The replay options for `trace`: those given, and for the rest the profile and host
    /// facts its svmdbg export header names (`ExportHeader`), if it has one.
    func replayOptions(for trace: LoadedTrace) throws -> ReplayOptions {
        ExportHeader.applying(to: try replayOptions(), from: trace, profileGiven: profileGiven, hostGiven: host != nil)
    }
}
