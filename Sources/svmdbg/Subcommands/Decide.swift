import ArgumentParser
import Foundation
import NestedSVM

extension SVMDebugCommand {
    /// `svmdbg decide`: run the nested-SVM model on one JSON scenario and print the decision path.
    struct Decide: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "decide",
            abstract: "Decide one nested-SVM event from a JSON scenario and explain the rule path.",
            discussion: DecideFrontend.schemaHelp)

        @Argument(help: "Scenario file (JSON, see docs/decide.md).")
        var scenario: String

        @Option(name: .long, help: "Kernel profile: 6.1, 6.12, upstream, or apm (the architecture) (default: the scenario's, else 6.12).")
        var profile: String?

        @Option(
            name: .long,
            help: "Host facts key=value,... (svme_addr_chk, vgif, npt, nrips, decode_assists, maxphyaddr, vls, vmware_backdoor, guest_debug); wins over the scenario.")
        var host: String?

        @Flag(name: .long, help: "Print the decision as JSON.")
        var json = false

        func run() throws {
            switch DecideFrontend.run(path: scenario, profile: profile, host: host, json: json) {
            case .success(let output):
                if json {
                    StandardOutput.json(output, terminator: "")
                } else {
                    StandardOutput.text(output)
                }
            case .failure(let error):
                StandardError.write("svmdbg decide: error: \(error.message)\n")
                throw ExitCode(2)
            }
        }
    }
}
