import BTF
import Foundation
import TraceKit

/// `svmdbg capture --print-probes` and `--cleanup`.
enum CaptureCommands {
    /// What `--print-probes` assumes when the running kernel cannot host probes: kprobe events with `$argN`.
    static let assumed = Tracefs.Features(
        readme: "$arg<N>\n kernel return probes support: $retval, $arg<N>, $comm", dynamicEvents: true, kprobeEvents: true)

    /// Prints the probe this kernel would get (from its BTF and tracefs README when readable;
    /// a kprobe with `$arg1` otherwise), one field per line with the member path it reads.
    static func printProbes(btfDirectory: String) -> Int32 {
        let tracefs = try? Tracefs.locate()
        var features = tracefs?.features() ?? assumed
        if !features.kprobes && !features.fprobes {
            StandardOutput.text("# this kernel has no kprobe or fprobe events (or tracefs is not readable): the plan below is for a kernel with kprobe events\n")
            features = assumed
        }
        switch CaptureFrontend.plan(features: features, btfDirectory: btfDirectory) {
        case .failure(let refusal):
            StandardError.write("svmdbg capture: \(refusal.description)\n")
            return SVMDebugExitCode.unusable
        case .success(let (plan, fallback)):
            StandardOutput.text(text(plan: plan, fallback: fallback, features: features, tracefs: tracefs))
            if let (btf, _, modular) = try? KernelBTF.load(directory: btfDirectory) {
                let checks = ProbePlan.checkDefinitions(btf: btf, prefix: modular ? "\(ProbePlan.module):" : "")
                for (event, definition) in checks.definitions {
                    StandardOutput.text("# add:    echo '\(definition)' >> \(controlPath(features, tracefs))\n")
                    StandardOutput.text("# remove: echo '\(ProbePlan.removal(of: event))' >> \(controlPath(features, tracefs))\n")
                }
                for function in checks.missing { StandardOutput.text("# no return probe on \(function): not in this kernel's BTF\n") }
                switch ProbePlan.vmrunProbe(btf: btf, modular: modular, features: features) {
                case .success(let (definition, missing)):
                    StandardOutput.text("# add:    echo '\(definition)' >> \(controlPath(features, tracefs))\n")
                    StandardOutput.text("# remove: echo '\(ProbePlan.removal(of: ProbeSchema.vmrunVMCB12Event))' >> \(controlPath(features, tracefs))\n")
                    for (name, reason) in missing { StandardOutput.text("\(name)\tmissing\t\(reason)\n") }
                case .failure(let refusal): StandardOutput.text("# no \(ProbeSchema.vmrunVMCB12Event) probe: \(refusal.description)\n")
                }
            }
            let kvm = KernelBTF.loadKVM(directory: btfDirectory)
            switch ProbePlan.mapDefinitions(btf: kvm?.btf, place: kvm?.place ?? ProbePlan.mapFunction, features: features) {
            case .success(let definitions):
                let control = controlPath(features, tracefs)
                for (event, definition) in definitions {
                    StandardOutput.text("# add:    echo '\(definition)' >> \(control)\n")
                    StandardOutput.text("# remove: echo '\(ProbePlan.removal(of: event))' >> \(control)\n")
                }
            case .failure(let refusal): StandardOutput.text("# no \(ProbeSchema.vcpuMapEvent) probe: \(refusal.description)\n")
            }
            switch ProbePlan.readDefinitions(btf: kvm?.btf, place: ProbePlan.readPlace(mapPlace: kvm?.place), features: features) {
            case .success(let definitions):
                for (event, definition) in definitions {
                    StandardOutput.text("# add:    echo '\(definition)' >> \(controlPath(features, tracefs))\n")
                    StandardOutput.text("# remove: echo '\(ProbePlan.removal(of: event))' >> \(controlPath(features, tracefs))\n")
                }
            case .failure(let refusal): StandardOutput.text("# no \(ProbeSchema.guestReadEvent) probe: \(refusal.description)\n")
            }
            StandardOutput.text("# tracepoints enabled in the instance when present: " + CaptureSession.walkEvents.map { "\(CaptureSession.walkSystem)/\($0)" }.joined(separator: ", ") + " (KVM's page-table walks: L1's NPT at an L2 #NPF, the level's own tables at a #PF under shadow paging)\n")
            return SVMDebugExitCode.success
        }
    }

    /// The `--print-probes` report.
    static func text(plan: ProbePlan, fallback: ProbePlan?, features: Tracefs.Features, tracefs: Tracefs?) -> String {
        let control = controlPath(features, tracefs)
        var out = "# kernel: \(features.kprobes ? "kprobe" : "")\(features.fprobes ? " fprobe" : "") events\(features.btfArguments ? ", BTF arguments" : "")\n"
        out += "# add:    echo '\(plan.definition)' >> \(control)\n"
        if let fallback { out += "# if the kernel refuses BTF arguments: echo '\(fallback.definition)' >> \(control)\n" }
        out += "# remove: echo '\(ProbePlan.removal)' >> \(control)\n"
        for field in plan.fields {
            out += "\(field.name)\t\(field.fetch):\(field.type)\t\(field.origin)\n"
        }
        for (name, reason) in plan.missing { out += "\(name)\tmissing\t\(reason)\n" }
        return out
    }

    /// The probe control file's path (a default path when tracefs is not readable).
    static func controlPath(_ features: Tracefs.Features, _ tracefs: Tracefs?) -> String {
        tracefs.map { $0.path($0.probeControl(features)) } ?? "/sys/kernel/tracing/dynamic_events"
    }

    /// Removes leftovers of crashed captures (needs root and tracefs).
    static func cleanup() -> Int32 {
        guard geteuid() == 0 else {
            StandardError.write("svmdbg capture: --cleanup needs root (it writes to tracefs); run it with sudo\n")
            return SVMDebugExitCode.unusable
        }
        let tracefs: Tracefs
        do { tracefs = try Tracefs.locate() } catch {
            StandardError.write("svmdbg capture: \(error)\n")
            return SVMDebugExitCode.unusable
        }
        let (removed, failed) = CaptureSession.removeLeftovers(tracefs)
        for line in removed { StandardOutput.text("svmdbg capture: \(line)\n") }
        for line in failed { StandardError.write("svmdbg capture: \(line)\n") }
        if removed.isEmpty && failed.isEmpty { StandardOutput.text("svmdbg capture: nothing to clean up in \(tracefs.root)\n") }
        return failed.isEmpty ? SVMDebugExitCode.success : SVMDebugExitCode.unusable
    }
}
