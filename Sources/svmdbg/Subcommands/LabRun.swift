import ArgumentParser
import Foundation

/// `svmdbg lab run ARGS...`: runs the lab's `lab/run` script with ARGS.
struct LabRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the lab's lab/run script with the given arguments.",
        discussion: """
            Passes every argument unchanged to lab/run (its options: [--kernel 6.1|6.12|PATH] \
            [--cpu zen3|naples|no-npt|QEMU-CPU] [--timeout S] [SCENARIO...] -o DIR), except one \
            leading '--'. 'svmdbg lab run --help' is the script's help; this text is \
            'svmdbg help lab run'.

            The script is found in $SVMDBG_LAB_DIR (the folder holding run, or holding lab/run), \
            else in the nearest folder holding lab/run above the current directory, else above \
            svmdbg's own executable. Standard input and output are the script's; svmdbg exits \
            with its exit status (128+N if a signal N ended it), or 2 if no script is found.
            """)

    @Argument(parsing: .captureForPassthrough, help: ArgumentHelp("Arguments for lab/run.", valueName: "ARGS"))
    var arguments: [String] = []

    func run() throws {
        let script: URL
        switch LabLauncher.locate(
            environment: ProcessInfo.processInfo.environment,
            currentDirectory: URL(fileURLWithPath: FileManager.default.currentDirectoryPath),
            executable: LabLauncher.executableURL()) {
        case .success(let found): script = found
        case .failure(let error):
            StandardError.write("svmdbg lab run: error: \(error.message)\n")
            throw ExitCode(SVMDebugExitCode.unusable)
        }
        let status: Int32
        do {
            status = try LabLauncher.run(script: script, arguments: arguments.first == "--" ? Array(arguments.dropFirst()) : arguments)
        } catch {
            StandardError.write("svmdbg lab run: error: \(script.path): cannot start (\(error.localizedDescription))\n")
            throw ExitCode(SVMDebugExitCode.unusable)
        }
        throw ExitCode(status)
    }
}
