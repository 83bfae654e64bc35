import ArgumentParser

/// The `svmdbg` root command: dispatch only. Each subcommand lives in `Subcommands/`.
@main
struct SVMDebugCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "svmdbg",
        abstract: "An interactive debugger for nested AMD SVM traces (KVM kvm:* events).",
        discussion: "Shell completions (bash, zsh, fish) and the svmdbg(1) man page: svmdbg install-extras --prefix ~/.local",
        version: "0.1.0",
        subcommands: [Open.self, Stats.self, Check.self, Export.self, Diff.self, Decide.self, Lab.self, Bench.self, BenchProbeCommand.self, Capture.self, InstallExtras.self],
        defaultSubcommand: Open.self
    )
}
