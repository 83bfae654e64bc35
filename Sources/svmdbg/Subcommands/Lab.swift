import ArgumentParser
import Foundation
import NestedSVM
import Replay

extension SVMDebugCommand {
    /// `svmdbg lab`: the issue-8 lab — run it (`lab run`) and check what it wrote (`lab check`).
    struct Lab: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the KVM lab and check its output against what L1 logged.",
            subcommands: [LabCheckCommand.self, LabRunCommand.self, LabFactsCommand.self])
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

    @Option(name: .customLong("facts"), help: ArgumentHelp(
        "A facts file for the replay with facts of every scenario, besides its own NAME.facts.json (docs/facts.md). Repeatable.",
        valueName: "FILE"))
    var factsFiles: [String] = []

    @Flag(help: "Do not use the scenarios' own NAME.facts.json files.")
    var noScenarioFacts = false

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
        for path in factsFiles {
            do {
                options.facts.append(try FactsFile.read(path: path))
            } catch {
                throw ValidationError("--facts \(path): \(error.description)")
            }
        }
        options.scenarioFacts = !noScenarioFacts
        return options
    }

    func run() throws {
        let report: LabCheckReport
        let progress = ProgressLine()
        defer { progress.finish() }
        do {
            report = try LabCheck.run(directory: directory, options: try options(), progress: {
                progress.checking(done: $0, total: $1, exits: $2)
            })
            progress.finish()
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

/// `svmdbg lab facts SCENARIO.scn... -o DIR`: the facts file of each lab scenario.
struct LabFactsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "facts",
        abstract: "Write NAME.facts.json for lab scenarios: what their L1 sets up, from the .scn file, never from a trace.",
        discussion: """
            Reads each lab/scenarios/NAME.scn like the lab's VMM does and writes DIR/NAME.facts.json \
            (docs/facts.md): L1 at CPL 0, MSR_VM_HSAVE_PA, no SMM, the L1 VM's memslot, and the vmcb12 \
            L1 builds at 0x31000 (intercepts, the whole MSRPM and IOPM, control fields, save area). \
            Fields a VMRUN attempt, action or inject changes are given per VMRUN; L1's page tables and \
            NPT as page maps; with the run's manifest DIR/NAME.json, RAX/RCX of each L2 step from \
            lab/src/l1.S. `lab run` writes the same \
            file next to each manifest; this command makes it for runs recorded before. \
            -o - prints one scenario's file. An existing file is kept unless --force.
            """)

    @Argument(help: ArgumentHelp("Lab scenario files (lab/scenarios/NAME.scn).", valueName: "SCENARIO"))
    var scenarios: [String]

    @Option(name: .shortAndLong, help: ArgumentHelp("Folder to write NAME.facts.json into, or - for standard output.", valueName: "DIR"))
    var output: String

    @Flag(help: "Overwrite existing facts files.")
    var force = false

    func run() throws {
        var generated: [LabScenarioFacts] = []
        for path in scenarios {
            do {
                var facts = try LabScenarioFacts(path: path)
                // The run's manifest next to the output gives the L2 steps' RIPs (lab_config).
                let manifest = URL(fileURLWithPath: output).appendingPathComponent("\(facts.name).json").path
                if output != "-", FileManager.default.fileExists(atPath: manifest) {
                    let source = URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("../src/l1.S").standardized.path
                    try facts.addSteps(manifest: manifest, l1Source: source)
                }
                generated.append(facts)
            } catch {
                StandardError.write("svmdbg lab facts: error: \(error.description)\n")
                throw ExitCode(SVMDebugExitCode.unusable)
            }
        }
        if output == "-" {
            guard generated.count == 1 else { throw ValidationError("-o - prints one scenario; give one SCENARIO") }
            StandardOutput.text(generated[0].json())
            return
        }
        for facts in generated {
            let path = URL(fileURLWithPath: output).appendingPathComponent("\(facts.name).facts.json").path
            do {
                let written = try AtomicFile.write(facts.json(), to: path, overwrite: force)
                StandardOutput.text("svmdbg: wrote \(written)\n")
            } catch let error as AtomicFile.Failure {
                StandardError.write("svmdbg lab facts: \(error.description)\n")
                throw ExitCode(SVMDebugExitCode.unusable)
            }
        }
    }
}
