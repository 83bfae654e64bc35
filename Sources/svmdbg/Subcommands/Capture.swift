import ArgumentParser
import Foundation

extension SVMDebugCommand {
    /// `svmdbg capture`: record a KVM trace with the registers the debugger needs.
    struct Capture: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record kvm:* events plus svmdbg's register probe on this host (root).",
            discussion: """
                Creates the ftrace instance svmdbg-PID in tracefs, enables every kvm:* event in it, and \
                adds the probe event svmdbg/exit_regs at the entry of kvm_amd's svm_handle_exit, whose \
                fetch arguments (guest GPRs, CR0/CR3/CR4/EFER/CPL/RFLAGS, L1's EFER/CR0/CR4, vmcb12's \
                cached intercept words) are offsets read from the running kernel's BTF \
                (/sys/kernel/btf). Records while COMMAND runs, for --duration seconds, or until Ctrl-C, \
                writes tracefs text (or trace.dat via trace-cmd when FILE ends in .dat), and removes the \
                instance and the probe again, also on Ctrl-C or SIGTERM. --cleanup removes what a crashed \
                run left. No kernel module, no kernel patch. See docs/capture.md.

                Exit codes: 0 captured; 2 not root, no tracefs, or the capture failed; with COMMAND, \
                COMMAND's own non-zero status.
                """)

        @Option(name: .shortAndLong, help: ArgumentHelp("The trace file to write (tracefs text; .dat: trace.dat via trace-cmd).", valueName: "FILE"))
        var output: String = "svmdbg-capture.trace"

        @Option(help: ArgumentHelp("Record for this many seconds (without COMMAND).", valueName: "S"))
        var duration: Double?

        @Option(help: ArgumentHelp("Ring buffer per CPU of the capture's instance.", valueName: "KB"))
        var bufferKB: Int = 16384

        @Flag(help: "Record the kvm:* events only, without the register probe.")
        var noProbes = false

        @Flag(help: "Overwrite FILE if it exists.")
        var force = false

        @Flag(help: "Print the probe definition this kernel would get, then exit (changes nothing).")
        var printProbes = false

        @Flag(help: "Remove svmdbg probes and instances a crashed capture left, then exit.")
        var cleanup = false

        @Flag(help: ArgumentHelp(
            "Open the debugger on the capture as it is recorded (as `svmdbg --follow`); recording stops when you quit it (q). Needs tracefs text output, no --duration or COMMAND."))
        var open = false

        @Option(help: ArgumentHelp("Where the kernel BTF is read from.", valueName: "DIR"))
        var btfDirectory: String = KernelBTF.directory

        @Argument(parsing: .postTerminator, help: ArgumentHelp("The program to run while recording (after --).", valueName: "COMMAND"))
        var command: [String] = []

        func validate() throws {
            if duration != nil && !command.isEmpty { throw ValidationError("choose --duration or -- COMMAND, not both") }
            if let duration, !(duration > 0) { throw ValidationError("--duration must be a positive number of seconds") }
            if bufferKB < 64 { throw ValidationError("--buffer-kb must be at least 64") }
            if open, duration != nil || !command.isEmpty {
                throw ValidationError("--open records until you quit the debugger: run the workload in another terminal, without --duration or COMMAND")
            }
            if open, output.hasSuffix(".dat") {
                throw ValidationError("--open follows tracefs text as it is written; a .dat file is only extracted at the end")
            }
        }

        func run() throws {
            if printProbes { throw ExitCode(CaptureCommands.printProbes(btfDirectory: btfDirectory)) }
            if cleanup { throw ExitCode(CaptureCommands.cleanup()) }
            let request = CaptureFrontend.Request(
                output: output, force: force, duration: duration, command: command, bufferKB: bufferKB,
                probes: !noProbes, btfDirectory: btfDirectory, open: open)
            let status = CaptureFrontend(request: request).run()
            if status != 0 { throw ExitCode(status) }
        }
    }
}
