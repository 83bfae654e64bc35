import BTF
import Foundation
import TraceKit
#if canImport(Glibc)
import Glibc
#endif

/// What `svmdbg capture` did to the host, so that exactly that is undone — in reverse order,
/// whatever happened in between (error, Ctrl-C, SIGTERM).
///
/// The changes: one ftrace instance `instances/svmdbg-<pid>` (its own ring buffer, so the
/// top-level buffer and other tracers are untouched), the `kvm:*` events and the probe enabled
/// in that instance only, and the global probe definition `svmdbg/exit_regs` in
/// `dynamic_events`. Nothing else is written.
struct CaptureSession {
    let tracefs: Tracefs
    /// `svmdbg-<pid>`.
    let instanceName: String
    /// Undo steps, most recent last.
    private(set) var undo: [(what: String, action: () throws -> Void)] = []
    /// Messages for standard error (warnings, what was skipped).
    private(set) var notes: [String] = []

    init(tracefs: Tracefs, instanceName: String = "svmdbg-\(getpid())") {
        self.tracefs = tracefs
        self.instanceName = instanceName
    }

    /// `instances/<name>`.
    var instance: String { "instances/\(instanceName)" }

    /// Creates the instance and enables the `kvm:*` events in it.
    mutating func createInstance(bufferKB: Int) throws {
        let path = tracefs.path(instance)
        guard tracefs.exists("instances") else {
            throw Tracefs.Failure(description: "\(tracefs.path("instances")) does not exist: this kernel has no ftrace instances")
        }
        guard mkdir(path, 0o755) == 0 else {
            throw Tracefs.Failure(description: "cannot create the ftrace instance \(path): \(Tracefs.errnoText())")
        }
        let tracefs = tracefs
        undo.append(("remove the instance \(path)", {
            // The kernel refuses rmdir while a file of the instance is open; the copier is closed by now.
            // `trace-cmd extract -B` removes the instance itself: gone is done.
            guard rmdir(path) == 0 || errno == ENOENT else { throw Tracefs.Failure(description: "cannot remove \(path): \(Tracefs.errnoText())") }
        }))
        try tracefs.write("0", to: "\(instance)/tracing_on")
        try tracefs.write(String(bufferKB), to: "\(instance)/buffer_size_kb")
        guard tracefs.exists("\(instance)/events/kvm/enable") else {
            throw Tracefs.Failure(description: "no kvm events in \(tracefs.path(instance))/events: the kvm module is not loaded (modprobe kvm_amd)")
        }
        try tracefs.write("1", to: "\(instance)/events/kvm/enable")
        let instance = self.instance
        undo.append(("disable kvm events in \(path)", {
            guard tracefs.exists(instance) else { return }
            try tracefs.write("0", to: "\(instance)/events/kvm/enable")
        }))
    }

    /// The tracepoint system of KVM's MMU events (`arch/x86/kvm/mmu/mmutrace.h`).
    static let walkSystem = "kvmmmu"
    /// The page-table walker's tracepoints (`mmu/paging_tmpl.h:FNAME(walk_addr_generic)`, 6.1 and
    /// 6.12): the walk's address, each entry read, and the error code when it faults. For an L2
    /// #NPF under L1's nested paging KVM walks L1's NPT with it (`FNAME(page_fault)` →
    /// `FNAME(walk_addr)`) before deciding to reflect (`nested_svm_inject_npf_exit`). With an L0
    /// without NPT, a #PF of L1 or L2 exits to L0 (`svm/svm.c:pf_interception`), whose shadow
    /// MMU walks that level's own page tables the same way before queueing the #PF for it.
    static let walkEvents = ["kvm_mmu_pagetable_walk", "kvm_mmu_paging_element", "kvm_mmu_walker_error"]

    /// Enables the walker tracepoints the kernel has in the instance; returns those enabled.
    mutating func enableWalkEvents() -> [String] {
        var enabled: [String] = []
        let tracefs = tracefs
        let instance = self.instance
        for event in Self.walkEvents {
            let enable = "\(instance)/events/\(Self.walkSystem)/\(event)/enable"
            guard tracefs.exists(enable), (try? tracefs.write("1", to: enable)) != nil else { continue }
            enabled.append(event)
            undo.append(("disable \(Self.walkSystem)/\(event) in \(tracefs.path(instance))", {
                guard tracefs.exists(instance) else { return }
                try tracefs.write("0", to: enable)
            }))
        }
        return enabled
    }

    /// Defines the probe of `plan` and enables it in the instance. When the plan uses BTF
    /// arguments and the kernel refuses them, `fallback` (offsets only) is tried.
    mutating func addProbe(_ plan: ProbePlan, fallback: ProbePlan?, features: Tracefs.Features) throws -> ProbePlan {
        let control = tracefs.probeControl(features)
        let existing = (try? tracefs.read(control)) ?? ""
        if existing.contains("\(ProbeSchema.group)/\(ProbeSchema.exitRegsEvent) ") {
            throw Tracefs.Failure(description: "\(ProbeSchema.group)/\(ProbeSchema.exitRegsEvent) is already defined in \(tracefs.path(control)): another svmdbg capture runs, or a crashed one left it (svmdbg capture --cleanup removes leftovers)")
        }
        var used = plan
        do {
            try tracefs.write(plan.definition, to: control, append: true)
        } catch {
            guard let fallback else { throw error }
            notes.append("the kernel refused BTF arguments (\(error)); using offsets computed from BTF for every field")
            try tracefs.write(fallback.definition, to: control, append: true)
            used = fallback
        }
        try registerProbe(event: ProbeSchema.exitRegsEvent, control: control)
        return used
    }

    /// Defines one more svmdbg probe (`definition` creates `event`) and enables it in the instance.
    mutating func addExtraProbe(_ definition: String, event: String, features: Tracefs.Features) throws {
        let control = tracefs.probeControl(features)
        try tracefs.write(definition, to: control, append: true)
        try registerProbe(event: event, control: control)
    }

    /// Records the removal of a defined probe, then enables it in the instance.
    private mutating func registerProbe(event: String, control: String) throws {
        let tracefs = tracefs
        undo.append(("remove the probe \(ProbeSchema.group)/\(event)", {
            try tracefs.write(ProbePlan.removal(of: event), to: control, append: true)
        }))
        let enable = "\(instance)/events/\(ProbeSchema.group)/\(event)/enable"
        try tracefs.write("1", to: enable)
        let instance = self.instance
        undo.append(("disable the probe \(event) in \(tracefs.path(instance))", {
            guard tracefs.exists(instance) else { return }
            try tracefs.write("0", to: enable)
        }))
    }

    /// Starts or stops recording into the instance's buffer.
    func setTracing(_ on: Bool) throws {
        try tracefs.write(on ? "1" : "0", to: "\(instance)/tracing_on")
    }

    /// Undoes every change, most recent first; returns what could not be undone.
    mutating func tearDown() -> [String] {
        var failures: [String] = []
        while let step = undo.popLast() {
            do { try step.action() } catch { failures.append("\(step.what): \(error)") }
        }
        return failures
    }

    /// Removes what crashed captures left: every `svmdbg/*` probe and every
    /// `instances/svmdbg-<pid>` whose process is gone. Returns one line per removal.
    static func removeLeftovers(_ tracefs: Tracefs) -> (removed: [String], failed: [String]) {
        var removed: [String] = []
        var failed: [String] = []
        let instances = (try? FileManager.default.contentsOfDirectory(atPath: tracefs.path("instances"))) ?? []
        var live = false
        for name in instances.sorted() where name.hasPrefix("svmdbg-") {
            if let pid = Int32(name.dropFirst("svmdbg-".count)), pid != getpid(), kill(pid, 0) == 0 || errno == EPERM {
                live = true
                failed.append("\(tracefs.path("instances/" + name)): process \(pid) still runs; left alone")
                continue
            }
            let instance = "instances/\(name)"
            _ = try? tracefs.write("0", to: "\(instance)/events/enable")
            if rmdir(tracefs.path(instance)) == 0 {
                removed.append("removed \(tracefs.path(instance))")
            } else {
                failed.append("cannot remove \(tracefs.path(instance)): \(Tracefs.errnoText())")
            }
        }
        guard !live else {
            failed.append("probes left in place: a capture still runs")
            return (removed, failed)
        }
        for control in ["dynamic_events", "kprobe_events"] where tracefs.exists(control) {
            let text = (try? tracefs.read(control)) ?? ""
            for line in text.split(separator: "\n") {
                guard let colon = line.firstIndex(of: ":") else { continue }
                let name = line[line.index(after: colon)...].prefix { $0 != " " }
                guard name.hasPrefix("\(ProbeSchema.group)/") else { continue }
                do {
                    try tracefs.write("-:\(name)", to: control, append: true)
                    removed.append("removed probe \(name) (\(control))")
                } catch {
                    failed.append("\(error)")
                }
            }
        }
        return (removed, failed)
    }
}

/// Where the probe's BTF comes from on this host.
enum KernelBTF {
    /// `/sys/kernel/btf`.
    static let directory = "/sys/kernel/btf"

    /// kvm's BTF (split on vmlinux when kvm is a module) and the `kvm_vcpu_map` probe place,
    /// or nil when `directory` has neither `kvm` nor a vmlinux that defines `kvm_vcpu_map`.
    static func loadKVM(directory: String = directory) -> (btf: BTF, place: String)? {
        guard let vmlinux = (try? Data(contentsOf: URL(fileURLWithPath: directory + "/vmlinux"))).flatMap({ try? BTF(bytes: [UInt8]($0), source: directory + "/vmlinux") }) else { return nil }
        if let data = try? Data(contentsOf: URL(fileURLWithPath: directory + "/kvm")),
           let kvm = try? BTF(bytes: [UInt8](data), base: vmlinux, source: directory + "/kvm") {
            return (kvm, "kvm:\(ProbePlan.mapFunction)")
        }
        return vmlinux.functionParameters(ProbePlan.mapFunction) != nil ? (vmlinux, ProbePlan.mapFunction) : nil
    }

    /// Loads vmlinux's BTF and, when KVM's SVM code is a module, its split BTF on top; the
    /// result resolves `vcpu_svm`. `place` is the probe place for that layout.
    static func load(directory: String = directory) throws -> (btf: BTF, place: String, kvmAMDModule: Bool) {
        func bytes(_ name: String) throws -> [UInt8] {
            let path = directory + "/" + name
            guard let data = FileManager.default.contents(atPath: path) else {
                throw BTFError("cannot read \(path)", source: path)
            }
            return [UInt8](data)
        }
        guard FileManager.default.fileExists(atPath: directory + "/vmlinux") else {
            throw BTFError("\(directory)/vmlinux does not exist: the kernel has no BTF (CONFIG_DEBUG_INFO_BTF); probe offsets cannot be computed", source: directory)
        }
        let vmlinux = try BTF(bytes: bytes("vmlinux"), source: directory + "/vmlinux")
        if FileManager.default.fileExists(atPath: directory + "/" + ProbePlan.module) {
            let module = try BTF(bytes: bytes(ProbePlan.module), base: vmlinux, source: directory + "/" + ProbePlan.module)
            return (module, "\(ProbePlan.module):\(ProbePlan.function)", true)
        }
        guard vmlinux.structure(named: "vcpu_svm") != nil else {
            throw BTFError("kvm_amd is not loaded (no \(directory)/\(ProbePlan.module), and vmlinux has no struct vcpu_svm): probe target \(ProbePlan.function) is missing; load it with modprobe kvm_amd", source: directory)
        }
        return (vmlinux, ProbePlan.function, false)
    }
}
