import ArgumentParser
import Foundation
import NestedSVM
import Replay

extension SVMDebugCommand {
    /// `svmdbg lab`: the issue-8 lab — run it (`lab run`) and check what it wrote (`lab check`).
    struct Lab: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the KVM lab and check its output against what L1 logged.",
            subcommands: [LabCheckCommand.self, LabRunCommand.self])
    }
}

/// `svmdbg lab check DIR`: replay every trace of every lab scenario under DIR.
struct LabCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Replay every trace of every lab scenario under DIR and compare with L1's own log.",
        discussion: """
            Finds every manifest (NAME.json with "observed") in DIR and its subfolders and replays \
            each trace form present (NAME.trace, .pipe, .dat, .report, .report-noplugin, .perf, \
            plain or .xz/.gz). The profile comes from the manifest's kernel (6.1.x → 6.1, 6.12.x → \
            6.12) and the host facts from its l0 section: the lab's known configuration, passed to \
            replay exactly like --profile/--host. Verdicts come only from the trace; the #VMEXITs \
            the trace shows reaching L1 are then compared with L1's log in the manifest.

            Status per scenario: ok (no mismatch, L1 log equal, every undetermined exit says what is \
            missing), explained (every difference has a named reason: a capped trace, a gap, an \
            exit whose outcome the trace does not show, an L1 that did not finish), fail.

            Exit codes: 0 every scenario ok or explained; 1 a scenario failed; 2 DIR unusable \
            (missing, no manifests, unreadable run.json, a kernel with no profile) or bad options. \
            --json schema: docs/lab-check.md.
            """)

    @Argument(help: ArgumentHelp("A lab run folder, or a tree of them.", valueName: "DIR"))
    var directory: String

    @Flag(help: "Print JSON instead of text.")
    var json = false

    @Option(help: ArgumentHelp(
        "Profile for every scenario instead of the manifest kernel's (\(KernelProfile.all.map(\.name).joined(separator: ", "))).",
        valueName: "PROFILE"))
    var profile: String?

    @Option(help: ArgumentHelp(
        "Host facts that win over the manifest's l0, key=value,... (keys: \(HostFacts.keys.joined(separator: ", "))).",
        valueName: "FACTS"))
    var host: String?

    @Option(help: ArgumentHelp("Guest facts instead of the manifest's l1 (keys: maxphyaddr).", valueName: "FACTS"))
    var guest: String?

    @Option(name: .long, help: ArgumentHelp(
        "Replay only these forms (repeatable or comma-separated: \(LabForm.allCases.map(\.rawValue).joined(separator: ", "))).",
        valueName: "FORM"))
    var form: [String] = []

    func validate() throws {
        _ = try options()
    }

    /// The library options from the command line.
    func options() throws -> LabCheckOptions {
        var options = LabCheckOptions()
        if let profile {
            guard let chosen = KernelProfile(named: profile) else {
                throw ValidationError("--profile: unknown profile '\(profile)' (known: \(KernelProfile.all.map(\.name).joined(separator: ", ")))")
            }
            options.profile = chosen
        }
        if let host {
            do { options.host = try HostFacts(parsing: host, source: "--host") } catch {
                throw ValidationError("--host: \(error.description)")
            }
        }
        if let guest {
            var facts = GuestFacts()
            for item in guest.split(separator: ",") {
                let parts = item.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, parts[0] == "maxphyaddr", let bits = Int(parts[1]), (1...64).contains(bits) else {
                    throw ValidationError("--guest: '\(item)' is not maxphyaddr=N (1-64)")
                }
                facts.maxPhysAddr = Known(bits, source: "--guest")
            }
            options.guest = facts
        }
        for text in form.flatMap({ $0.split(separator: ",") }) {
            guard let chosen = LabForm(rawValue: String(text)) else {
                throw ValidationError("--form: unknown form '\(text)' (known: \(LabForm.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            if !options.forms.contains(chosen) { options.forms.append(chosen) }
        }
        return options
    }

    func run() throws {
        let report: LabCheckReport
        do {
            report = try LabCheck.run(directory: directory, options: try options())
        } catch let error as LabInputError {
            StandardError.write("svmdbg lab check: error: \(error.description)\n")
            throw ExitCode(SVMDebugExitCode.unusable)
        }
        if json {
            StandardOutput.json(LabCheckPrinter.json(report))
        } else {
            StandardOutput.text(LabCheckPrinter.text(report))
        }
        if report.status == .fail { throw ExitCode(SVMDebugExitCode.mismatches) }
    }
}
