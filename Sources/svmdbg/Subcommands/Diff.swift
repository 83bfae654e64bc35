import ArgumentParser
import Foundation
import NestedSVM
import Replay

extension SVMDebugCommand {
    /// `svmdbg diff`: which exits two kernel profiles decide differently.
    struct Diff: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the exits whose model outcome differs between two kernel profiles.",
            discussion: """
                Replays the trace under the first profile, then decides every exit again under the \
                second from the same reconstructed state. Example: which exits of this trace the 2026 \
                RAX fix changes: svmdbg diff TRACE --profile 6.12 --profile upstream. With --profile apm \
                second (the architecture), lists the exits where KVM's recorded behaviour is not what the \
                CPU does for a bare-metal L1, each with kernel_rule and architectural_rule (docs/kvm-vs-apm.md). \
                --json prints {"first", "second", "exits_compared", "changed", "exits": [...]} where each \
                change has exit, line, level, exit_name, first and second (model outcomes), recorded, \
                rules (rules only the second path visits), deciding_rules (the rules the difference comes \
                from; --rule filters on them), hinged_on (the facts it hinges on), settled (the facts the \
                recorded outcome settled under the first profile, carried to the second), first_fits and \
                second_possible (the cases left on each side) and reason.
                """)

        @OptionGroup var input: TraceInputOptions

        @Option(name: .customLong("profile"), help: ArgumentHelp("A profile (6.1, 6.12, upstream, apm); give it twice.", valueName: "PROFILE"))
        var profiles: [String] = []

        @Option(help: ArgumentHelp("Host facts, as for check.", valueName: "FACTS"))
        var host: String?

        @Option(help: ArgumentHelp("Guest facts, as for check.", valueName: "FACTS"))
        var guest: String?

        @Option(name: .customLong("facts"), help: ArgumentHelp("A facts file, as for check (docs/facts.md). Repeatable.", valueName: "FILE"))
        var factsFiles: [String] = []

        @Option(
            name: .customLong("rule"),
            help: ArgumentHelp(
                "Keep only changes whose deciding rules start with this rule-id prefix (repeatable), e.g. svm.gp.rax-check.",
                valueName: "PREFIX"))
        var rules: [String] = []

        @Flag(help: "Print JSON instead of text.")
        var json = false

        func validate() throws {
            guard profiles.count == 2 else { throw ValidationError("give --profile exactly twice, e.g. --profile 6.12 --profile upstream") }
            for name in profiles where KernelProfile(named: name) == nil {
                throw ValidationError("unknown profile '\(name)' (known: \(KernelProfile.selectable.map(\.name).joined(separator: ", ")))")
            }
        }

        func run() throws {
            var group = ReplayOptionGroup()
            group.host = host
            group.guest = guest
            group.factsFiles = factsFiles
            let first = KernelProfile(named: profiles[0]) ?? .v6_12
            let second = KernelProfile(named: profiles[1]) ?? .upstream
            let progress = ProgressLine()
            defer { progress.finish() }
            let trace = try input.load(progress: { progress.indexing($0) })
            let result = Replayer(trace: trace, options: try group.replayOptions(profile: first))
                .run(progress: { progress.replaying($0, events: trace.count) })
            progress.finish()
            let diff = ProfileDiff(result, against: second, rulePrefixes: rules)
            if json {
                StandardOutput.json(CheckReport.json(diff))
            } else {
                StandardOutput.text(CheckReport.text(diff, trace: trace.source))
            }
        }
    }
}
