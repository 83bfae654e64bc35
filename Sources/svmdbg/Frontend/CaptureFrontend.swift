import BTF
import Dispatch
import Foundation
import NestedSVM
import Replay
import TraceKit
#if canImport(Glibc)
import Glibc
#endif

/// Runs `svmdbg capture`: preflight (root, tracefs, BTF, probe support), set up the instance
/// and the probe, record while COMMAND runs / for --duration / until Ctrl-C, write the trace,
/// and always undo every change.
struct CaptureFrontend {
    /// The parsed command line.
    struct Request {
        var output: String
        var force: Bool
        var duration: Double?
        var command: [String]
        var bufferKB: Int
        var probes: Bool
        var btfDirectory: String
        /// Show the recording in the debugger as it is written (`--open`).
        var open = false
    }

    /// The outcome as an exit code (the documented ones, or the command's own on failure).
    typealias Status = Int32

    let request: Request

    /// A failure that ends the capture before recording, as one line.
    struct Refusal: Error, CustomStringConvertible { var description: String }

    /// Whether the output is trace.dat (trace-cmd) rather than tracefs text.
    var wantsDat: Bool { request.output.hasSuffix(".dat") }

    func run() -> Status {
        // Preflight: nothing on the host changes until all of it passed.
        guard geteuid() == 0 else {
            StandardError.write("svmdbg capture: needs root (it creates an ftrace instance and probe events in tracefs); run it with sudo\n")
            return SVMDebugExitCode.unusable
        }
        let tracefs: Tracefs
        do { tracefs = try Tracefs.locate() } catch {
            StandardError.write("svmdbg capture: \(error)\n")
            return SVMDebugExitCode.unusable
        }
        let outputURL = URL(fileURLWithPath: request.output).standardizedFileURL
        if !request.force, FileManager.default.fileExists(atPath: outputURL.path) {
            StandardError.write("svmdbg capture: \(outputURL.path) exists; use --force to replace it\n")
            return SVMDebugExitCode.unusable
        }
        let traceCmd = wantsDat ? Self.which("trace-cmd") : nil
        if wantsDat, traceCmd == nil {
            StandardError.write("svmdbg capture: \(request.output) ends in .dat but trace-cmd is not installed; write tracefs text (any other name) or install trace-cmd\n")
            return SVMDebugExitCode.unusable
        }
        let features = tracefs.features()
        var plans: (ProbePlan, ProbePlan?)?
        if request.probes {
            switch Self.plan(features: features, btfDirectory: request.btfDirectory) {
            case .success(let planned): plans = planned
            case .failure(let refusal):
                StandardError.write("svmdbg capture: no probes: \(refusal.description); recording the kvm:* events only\n")
            }
        }

        // Set up; from here every change is recorded and undone below.
        var session = CaptureSession(tracefs: tracefs)
        // With --open the debugger owns the terminal: Ctrl-C is a key there, and SIGINT/SIGTERM
        // make it quit through its normal path, after which the capture is undone below.
        let signals = SignalWatcher(signals: request.open ? [SIGHUP] : [SIGINT, SIGTERM, SIGHUP])
        var status: Status = SVMDebugExitCode.success
        var copier: TracePipeCopier?
        var temporary: (path: String, descriptor: Int32)?
        defer {
            if let temporary {
                close(temporary.descriptor)
                unlink(temporary.path)
            }
        }
        do {
            try session.createInstance(bufferKB: request.bufferKB)
            if let (plan, fallback) = plans {
                let used = try session.addProbe(plan, fallback: fallback, features: features)
                StandardError.write("svmdbg capture: probe \(ProbeSchema.group)/\(ProbeSchema.exitRegsEvent) on \(used.place), \(used.fields.count) fields\n")
                for (name, reason) in used.missing { StandardError.write("svmdbg capture: field \(name) left out: \(reason)\n") }
                if let (btf, place, modular) = try? KernelBTF.load(directory: request.btfDirectory), place.hasSuffix(ProbePlan.function) {
                    let checks = ProbePlan.checkDefinitions(btf: btf, prefix: modular ? "\(ProbePlan.module):" : "")
                    for (event, definition) in checks.definitions {
                        do {
                            try session.addExtraProbe(definition, event: event, features: features)
                        } catch {
                            StandardError.write("svmdbg capture: no \(event) probe: \(error)\n")
                        }
                    }
                    for function in checks.missing { StandardError.write("svmdbg capture: no return probe on \(function): not in this kernel's BTF\n") }
                    if !checks.definitions.isEmpty {
                        StandardError.write("svmdbg capture: return probes on " + checks.definitions.map(\.event).joined(separator: ", ") + "\n")
                    }
                    switch ProbePlan.vmrunProbe(btf: btf, modular: modular, features: features) {
                    case .success(let (definition, missing)):
                        do {
                            try session.addExtraProbe(definition, event: ProbeSchema.vmrunVMCB12Event, features: features)
                            StandardError.write("svmdbg capture: probe \(ProbeSchema.group)/\(ProbeSchema.vmrunVMCB12Event) on \(ProbePlan.vmrunFunction) (vmcb12 as KVM cached it for VMRUN's checks)\n")
                            for (name, reason) in missing { StandardError.write("svmdbg capture: vmrun_vmcb12 field \(name) left out: \(reason)\n") }
                        } catch {
                            StandardError.write("svmdbg capture: no \(ProbeSchema.vmrunVMCB12Event) probe: \(error)\n")
                        }
                    case .failure(let refusal):
                        StandardError.write("svmdbg capture: no \(ProbeSchema.vmrunVMCB12Event) probe: \(refusal.description)\n")
                    }
                }
                let kvm = KernelBTF.loadKVM(directory: request.btfDirectory)
                switch ProbePlan.mapDefinitions(btf: kvm?.btf, place: kvm?.place ?? ProbePlan.mapFunction, features: features) {
                case .success(let definitions):
                    do {
                        for (event, definition) in definitions {
                            try session.addExtraProbe(definition, event: event, features: features)
                        }
                        StandardError.write("svmdbg capture: probe\(definitions.count > 1 ? "s" : "") " + definitions.map { "\(ProbeSchema.group)/\($0.event)" }.joined(separator: ", ") + " on \(kvm?.place ?? ProbePlan.mapFunction)\n")
                    } catch {
                        StandardError.write("svmdbg capture: no \(ProbeSchema.vcpuMapEvent) probe: \(error)\n")
                    }
                case .failure(let refusal):
                    StandardError.write("svmdbg capture: no \(ProbeSchema.vcpuMapEvent) probe: \(refusal.description)\n")
                }
                switch ProbePlan.readDefinitions(btf: kvm?.btf, place: ProbePlan.readPlace(mapPlace: kvm?.place), features: features) {
                case .success(let definitions):
                    do {
                        for (event, definition) in definitions {
                            try session.addExtraProbe(definition, event: event, features: features)
                        }
                        let how = definitions.count > 1 ? "entry and return (stack window)" : "return"
                        StandardError.write("svmdbg capture: probe\(definitions.count > 1 ? "s" : "") " + definitions.map { "\(ProbeSchema.group)/\($0.event)" }.joined(separator: ", ") + " on the \(how) of \(ProbePlan.readPlace(mapPlace: kvm?.place)) (MSRPM/IOPM bytes)\n")
                    } catch {
                        StandardError.write("svmdbg capture: no \(ProbeSchema.guestReadEvent) probe: \(error)\n")
                    }
                case .failure(let refusal):
                    StandardError.write("svmdbg capture: no \(ProbeSchema.guestReadEvent) probe: \(refusal.description)\n")
                }
            }
            if request.probes {
                let enabled = session.enableWalkEvents()
                if enabled.isEmpty {
                    StandardError.write("svmdbg capture: no \(CaptureSession.walkSystem) walk tracepoints in this kernel: KVM's page-table walks (L1's NPT, shadow paging) are not recorded\n")
                } else {
                    StandardError.write("svmdbg capture: tracepoints " + enabled.map { "\(CaptureSession.walkSystem)/\($0)" }.joined(separator: ", ") + " (KVM's page-table walks: L1's NPT at an L2 #NPF, the level's own tables at a #PF under shadow paging)\n")
                }
            }
            for note in session.notes { StandardError.write("svmdbg capture: \(note)\n") }
            if !wantsDat {
                let made = try Self.temporaryFile(next: outputURL)
                temporary = made
                let started = try TracePipeCopier(pipePath: tracefs.path("\(session.instance)/trace_pipe"), target: made.descriptor)
                copier = started
                started.start()
            }
            try session.setTracing(true)
            StandardError.write("svmdbg capture: recording into \(tracefs.path(session.instance))" + (request.command.isEmpty ? (request.duration.map { " for \($0) s" } ?? " until Ctrl-C") : " while \(request.command.joined(separator: " ")) runs") + "\n")
            let started = DispatchTime.now()
            if request.open, let made = temporary {
                status = openDebugger(on: made.path, name: outputURL.lastPathComponent)
            } else {
                status = wait(signals: signals)
            }
            try session.setTracing(false)
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
            StandardError.write("svmdbg capture: recorded for \(String(format: "%.3f", elapsed)) s\n")
            if let running = copier {
                copier = nil
                let bytes = try running.finish().get()
                if let made = temporary {
                    try Self.publish(made, to: outputURL.path, overwrite: request.force)
                    close(made.descriptor)
                    temporary = nil
                }
                StandardError.write("svmdbg capture: wrote \(bytes) bytes to \(outputURL.path)\n")
            } else if let traceCmd {
                try extractDat(traceCmd: traceCmd, instance: session.instanceName, to: outputURL)
                StandardError.write("svmdbg capture: wrote \(outputURL.path) (trace-cmd extract, events in buffer \(session.instanceName))\n")
            }
        } catch {
            StandardError.write("svmdbg capture: \(error)\n")
            status = SVMDebugExitCode.unusable
        }
        if let copier { _ = copier.finish() }
        let failures = session.tearDown()
        for failure in failures {
            StandardError.write("svmdbg capture: could not undo: \(failure) (svmdbg capture --cleanup, or see docs/capture.md)\n")
        }
        signals.cancel()
        return failures.isEmpty ? status : SVMDebugExitCode.unusable
    }

    /// Waits for COMMAND, the duration, or a signal; returns the command's failure status or success.
    /// `--open`: the debugger follows the file being written until the user quits it.
    private func openDebugger(on path: String, name: String) -> Status {
        MainActor.assumeIsolated {
            do {
                try TUIFrontend.runLive(
                    path: path, kind: .file, format: .tracefs, options: Self.liveOptions(),
                    environment: ProcessInfo.processInfo.environment, traceName: name)
                return SVMDebugExitCode.success
            } catch {
                StandardError.write("svmdbg capture: \(error)\n")
                return SVMDebugExitCode.unusable
            }
        }
    }

    /// The replay options of `--open`: the profile of the running kernel (its release's
    /// `major.minor`, e.g. `6.1.0-57-amd64` → 6.1; 6.12 when no shipped profile has that name)
    /// and the host facts kvm_amd's module parameters state (`npt`, `vgif`, `nrips`, `vls`),
    /// each citing its file: the capture runs on the host it describes.
    static func liveOptions(root: String = "") -> ReplayOptions {
        let release = (try? String(contentsOfFile: root + "/proc/sys/kernel/osrelease", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        let parts = release.split(whereSeparator: { !$0.isNumber }).prefix(2)
        let profile = parts.count == 2 ? KernelProfile(named: parts.joined(separator: ".")) : nil
        var host = HostFacts()
        for key in ["npt", "vgif", "nrips", "vls"] {
            let file = root + "/sys/module/kvm_amd/parameters/" + key
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { continue }
            try? host.set(key: key, value: text.trimmingCharacters(in: .whitespacesAndNewlines), source: file)
        }
        return ReplayOptions(profile: profile ?? .v6_12, host: host)
    }

    private func wait(signals: SignalWatcher) -> Status {
        if !request.command.isEmpty {
            let child: pid_t
            do { child = try ChildProcess.spawn(request.command) } catch {
                StandardError.write("svmdbg capture: \(error)\n")
                return SVMDebugExitCode.unusable
            }
            signals.forward(to: child)
            let code = ChildProcess.wait(child)
            if code != 0 { StandardError.write("svmdbg capture: \(request.command[0]) exited with status \(code)\n") }
            return code
        }
        if signals.wait(seconds: request.duration) {
            StandardError.write("svmdbg capture: stopping (signal)\n")
        }
        return SVMDebugExitCode.success
    }

    private func extractDat(traceCmd: String, instance: String, to output: URL) throws {
        let temporary = output.deletingLastPathComponent().appendingPathComponent(".\(output.lastPathComponent).svmdbg-\(getpid())").path
        defer { unlink(temporary) }
        let child = try ChildProcess.spawn([traceCmd, "extract", "-B", instance, "-o", temporary], quiet: true)
        guard ChildProcess.wait(child) == 0 else {
            throw Tracefs.Failure(description: "trace-cmd extract -B \(instance) failed")
        }
        let made = open(temporary, O_RDONLY)
        guard made >= 0 else { throw Tracefs.Failure(description: "trace-cmd wrote no \(temporary)") }
        close(made)
        try Self.publish((temporary, -1), to: output.path, overwrite: request.force)
    }

    // MARK: Probe plan

    /// The probe plan for this host, with an offsets-only fallback when it uses BTF arguments.
    static func plan(features: Tracefs.Features, btfDirectory: String) -> Result<(ProbePlan, ProbePlan?), Refusal> {
        guard features.kprobes || features.fprobes else {
            return .failure(Refusal(description: "this kernel has neither kprobe nor fprobe events (CONFIG_KPROBE_EVENTS, CONFIG_FPROBE_EVENTS)"))
        }
        do {
            let (btf, kprobePlace, _) = try KernelBTF.load(directory: btfDirectory)
            let kind: ProbePlan.Kind = features.kprobes ? .kprobe : .fprobe
            let place = kind == .kprobe ? kprobePlace : ProbePlan.function
            let argument = features.argN || kind == .fprobe ? "$arg1" : "%di"
            let offsets = try ProbePlan.make(btf: btf, kind: kind, place: place, argument: argument)
            guard features.btfArguments else { return .success((offsets, nil)) }
            let withBTF = try ProbePlan.make(btf: btf, kind: kind, place: place, argument: argument, btfArguments: true)
            return .success((withBTF, offsets))
        } catch let error as BTFError {
            return .failure(Refusal(description: error.description))
        } catch {
            return .failure(Refusal(description: "\(error)"))
        }
    }

    // MARK: Files

    /// Creates `.NAME.svmdbg-XXXXXX` next to `output`.
    static func temporaryFile(next output: URL) throws -> (path: String, descriptor: Int32) {
        let folder = output.deletingLastPathComponent().path
        var template = Array("\(folder)/.\(output.lastPathComponent).svmdbg-XXXXXX".utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { buffer -> Int32 in
            guard let base = buffer.baseAddress else { return -1 }
            return mkstemp(base)
        }
        guard descriptor >= 0 else {
            throw Tracefs.Failure(description: "cannot create a file in \(folder): \(Tracefs.errnoText())")
        }
        let path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let mask = umask(0)
        umask(mask)
        fchmod(descriptor, 0o666 & ~mask)
        return (path, descriptor)
    }

    /// Publishes a finished temporary file: `link(2)` (never replaces) or, with `overwrite`, `rename(2)`.
    static func publish(_ file: (path: String, descriptor: Int32), to target: String, overwrite: Bool) throws {
        if file.descriptor >= 0 {
            guard fsync(file.descriptor) == 0 || errno == EINVAL else {
                throw Tracefs.Failure(description: "\(target): write failed: \(Tracefs.errnoText())")
            }
        }
        if overwrite {
            guard rename(file.path, target) == 0 else { throw Tracefs.Failure(description: "\(target): rename failed: \(Tracefs.errnoText())") }
            return
        }
        guard link(file.path, target) == 0 else {
            throw Tracefs.Failure(description: "\(target): cannot create (\(Tracefs.errnoText())); the capture is kept in \(file.path)")
        }
        unlink(file.path)
    }

    /// The first executable `name` on `PATH`.
    static func which(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin"
        for folder in path.split(separator: ":") where access("\(folder)/\(name)", X_OK) == 0 {
            return "\(folder)/\(name)"
        }
        return nil
    }
}
