import BTF
import TraceKit

/// The `svmdbg/exit_regs` probe for one running kernel: which function it is placed on, and
/// one fetch argument per ``ProbeSchema`` field, each computed from the kernel's BTF.
///
/// Placement: the entry of `svm/svm.c:svm_handle_exit(struct kvm_vcpu *vcpu, …)`, which
/// `vcpu_enter_guest` calls (through `kvm_x86_ops.handle_exit`) for every exit that
/// `svm_vcpu_run` did not finish on the fastpath, after `svm_vcpu_run` copied RAX/RSP/RIP
/// from the VMCB into `vcpu->arch.regs` and traced `kvm_exit`, and before `svm_handle_exit`
/// itself traces `kvm_nested_vmexit` (6.1 and 6.12). Its first argument is `&svm->vcpu`
/// (`to_svm` is a `container_of`), so every field is an offset from `vcpu_svm`.
///
/// Fields whose member the BTF lacks are left out and listed in ``missing``; the capture still
/// runs and the reader treats an absent field as unknown.
struct ProbePlan: Sendable, Equatable {
    /// One fetch argument.
    struct Field: Sendable, Equatable {
        /// ``ProbeSchema`` name.
        var name: String
        /// The fetch argument text, e.g. `+6480($arg1)` or `vcpu->arch.efer`.
        var fetch: String
        /// The tracefs type (`x8`, `x32`, `x64`).
        var type: String
        /// Where the offset came from (the member path), for `--print-probes`.
        var origin: String
    }

    /// How the probe is created.
    enum Kind: String, Sendable {
        /// `p:` kprobe (`CONFIG_KPROBE_EVENTS`).
        case kprobe
        /// `f:` fprobe on the function entry (`CONFIG_FPROBE_EVENTS`).
        case fprobe
    }

    /// The probed function.
    static let function = "svm_handle_exit"
    /// The kernel module that holds it when KVM is modular.
    static let module = "kvm_amd"

    /// Probe kind.
    var kind: Kind
    /// `kvm_amd:svm_handle_exit` for a kprobe on the module, `svm_handle_exit` otherwise.
    var place: String
    /// The fetch arguments, in ``ProbeSchema`` order.
    var fields: [Field]
    /// Fields left out, with the reason (e.g. `vcpu_svm has no member nested`).
    var missing: [(name: String, reason: String)]

    static func == (a: ProbePlan, b: ProbePlan) -> Bool {
        a.kind == b.kind && a.place == b.place && a.fields == b.fields && a.missing.map(\.name) == b.missing.map(\.name)
    }

    /// The `dynamic_events` line that creates the probe.
    var definition: String {
        let prefix = kind == .kprobe ? "p" : "f"
        let arguments = fields.map { "\($0.name)=\($0.fetch):\($0.type)" }.joined(separator: " ")
        return "\(prefix):\(ProbeSchema.group)/\(ProbeSchema.exitRegsEvent) \(place) \(arguments)"
    }

    /// The `dynamic_events` line that removes it.
    static var removal: String { removal(of: ProbeSchema.exitRegsEvent) }

    /// The `dynamic_events` line that removes the svmdbg probe `event`.
    static func removal(of event: String) -> String { "-:\(ProbeSchema.group)/\(event)" }

    /// The return probes on VMRUN's consistency checks and CR3 loading, for the functions `btf`
    /// (kvm_amd's) defines: `r:svmdbg/vmcb_check_save kvm_amd:__nested_vmcb_check_save ret=$retval:u8`, …
    /// `prefix` is `kvm_amd:` for a modular kvm_amd, empty otherwise. Functions the BTF lacks
    /// (renamed or fully inlined in that kernel) are returned as missing.
    static func checkDefinitions(btf: BTF, prefix: String) -> (definitions: [(event: String, definition: String)], missing: [String]) {
        var definitions: [(String, String)] = []
        var missing: [String] = []
        for (event, function) in ProbeSchema.checkFunctions {
            guard btf.functionParameters(function) != nil else {
                missing.append(function)
                continue
            }
            // The checks return bool (u8); nested_svm_load_cr3 returns int (0 or -EINVAL).
            let type = event == ProbeSchema.loadCR3Event ? "s32" : "u8"
            definitions.append((event, "r:\(ProbeSchema.group)/\(event) \(prefix)\(function) \(ProbeSchema.mapResult)=$retval:\(type)"))
        }
        return (definitions, missing)
    }

    /// The function the `vcpu_map` return probe is placed on (`virt/kvm/kvm_main.c`, module kvm).
    static let mapFunction = "kvm_vcpu_map"

    /// The `vcpu_map` probes as (event, definition) pairs: one return probe fetching `gfn`
    /// where return probes fetch arguments; otherwise an entry probe `vcpu_map_entry` for
    /// `gfn` (`$arg2`, or `%si` without `$argN`) plus a return probe for the result, which
    /// Replay pairs by order on the thread.
    ///
    /// They record `kvm_vcpu_map(vcpu, gfn, map)`'s frame number and result, so Replay learns
    /// whether the page at RAX is mapped (backed by a memslot); `btf` is kvm's BTF (or
    /// vmlinux's when KVM is built in) and must name `gfn` as the second parameter.
    static func mapDefinitions(btf: BTF?, place: String, features: Tracefs.Features) -> Result<[(event: String, definition: String)], CaptureFrontend.Refusal> {
        guard features.kprobes else { return .failure(.init(description: "no kprobe events for the return probe")) }
        guard let parameters = btf?.functionParameters(mapFunction) else {
            return .failure(.init(description: "no \(mapFunction) in the kvm BTF (/sys/kernel/btf/kvm)"))
        }
        guard parameters.count >= 2, parameters[1].name == ProbeSchema.mapGFN else {
            return .failure(.init(description: "\(mapFunction)'s second parameter is not gfn in this kernel's BTF"))
        }
        let group = ProbeSchema.group
        if features.argumentsAtReturn {
            return .success([(ProbeSchema.vcpuMapEvent, "r:\(group)/\(ProbeSchema.vcpuMapEvent) \(place) \(ProbeSchema.mapGFN)=$arg2:x64 \(ProbeSchema.mapResult)=$retval:s32")])
        }
        // x86-64 SysV: the second argument is in %rsi at function entry.
        let argument = features.argN ? "$arg2" : "%si"
        return .success([
            (ProbeSchema.vcpuMapEntryEvent, "p:\(group)/\(ProbeSchema.vcpuMapEntryEvent) \(place) \(ProbeSchema.mapGFN)=\(argument):x64"),
            (ProbeSchema.vcpuMapEvent, "r:\(group)/\(ProbeSchema.vcpuMapEvent) \(place) \(ProbeSchema.mapResult)=$retval:s32"),
        ])
    }

    /// What each field reads, as member paths rooted at `vcpu_svm`.
    static let memberPaths: [(name: String, path: String)] = {
        var paths: [(String, String)] = []
        for (index, name) in ProbeSchema.gprNames.enumerated() { paths.append((name, "vcpu_svm.vcpu.arch.regs[\(index)]")) }
        paths += [
            (ProbeSchema.hflags, "vcpu_svm.vcpu.arch.hflags"),
            (ProbeSchema.vmcbPointer, "vcpu_svm.vmcb"),
            (ProbeSchema.vmcb01Pointer, "vcpu_svm.vmcb01.ptr"),
            (ProbeSchema.efer, "vcpu_svm.vcpu.arch.efer"),
            (ProbeSchema.exitCode, "vcpu_svm.vmcb->control.exit_code"),
            (ProbeSchema.cr0, "vcpu_svm.vmcb->save.cr0"),
            (ProbeSchema.cr3, "vcpu_svm.vmcb->save.cr3"),
            (ProbeSchema.cr4, "vcpu_svm.vmcb->save.cr4"),
            (ProbeSchema.cpl, "vcpu_svm.vmcb->save.cpl"),
            (ProbeSchema.rflags, "vcpu_svm.vmcb->save.rflags"),
            (ProbeSchema.l1EFER, "vcpu_svm.vmcb01.ptr->save.efer"),
            (ProbeSchema.l1CR0, "vcpu_svm.vmcb01.ptr->save.cr0"),
            (ProbeSchema.l1CR4, "vcpu_svm.vmcb01.ptr->save.cr4"),
            (ProbeSchema.l1RFLAGS, "vcpu_svm.vmcb01.ptr->save.rflags"),
            (ProbeSchema.vmcb12GPA, "vcpu_svm.nested.vmcb12_gpa"),
        ]
        for (index, name) in ProbeSchema.interceptNames.enumerated() { paths.append((name, "vcpu_svm.nested.ctl.intercepts[\(index)]")) }
        paths += [
            (ProbeSchema.msrpmBase, "vcpu_svm.nested.ctl.msrpm_base_pa"),
            (ProbeSchema.iopmBase, "vcpu_svm.nested.ctl.iopm_base_pa"),
            (ProbeSchema.hsaveMSR, "vcpu_svm.nested.hsave_msr"),
        ]
        return paths
    }()

    /// The function the `vmrun_vmcb12` entry probe is placed on (`svm/nested.c`).
    static let vmrunFunction = "__nested_vmcb_check_save"

    /// The `vmrun_vmcb12` probe: at the entry of `__nested_vmcb_check_save(vcpu, save)`, which
    /// `nested_svm_vmrun` reaches after copying vmcb12's control and save areas into
    /// `svm->nested.ctl` / `svm->nested.save`, every cached field the consistency checks read
    /// (``ProbeSchema/vmrunFields``), as offsets from the first argument (`&svm->vcpu`).
    /// `btf` is kvm_amd's; nil when the function or its `vcpu` parameter is missing or no field
    /// resolves (the capture then goes without it and says so).
    static func vmrunDefinition(btf: BTF, prefix: String, argument: String = "$arg1") -> (definition: String, missing: [(String, String)])? {
        guard let parameters = btf.functionParameters(vmrunFunction), parameters.first?.name == "vcpu",
              let base = try? btf.location(of: "vcpu_svm.vcpu").offsets[0] else { return nil }
        let paths = ProbeSchema.vmrunFields.map { ($0.name, "vcpu_svm.\($0.member)") }
        let (fields, missing) = resolve(paths, btf: btf, base: base, argument: argument, btfArguments: false)
        guard !fields.isEmpty else { return nil }
        let arguments = fields.map { "\($0.name)=\($0.fetch):\($0.type)" }.joined(separator: " ")
        return ("p:\(ProbeSchema.group)/\(ProbeSchema.vmrunVMCB12Event) \(prefix)\(vmrunFunction) \(arguments)", missing)
    }

    /// ``vmrunDefinition(btf:prefix:argument:)`` for a kernel with `features` (a `p:` kprobe:
    /// `$arg1`, or `%di` without `$argN`).
    static func vmrunProbe(btf: BTF, modular: Bool, features: Tracefs.Features) -> Result<(String, [(String, String)]), CaptureFrontend.Refusal> {
        guard features.kprobes else { return .failure(.init(description: "no kprobe events")) }
        guard let made = vmrunDefinition(btf: btf, prefix: modular ? "\(module):" : "", argument: features.argN ? "$arg1" : "%di") else {
            return .failure(.init(description: "no \(vmrunFunction)(vcpu, …) with vcpu_svm.nested.save/ctl in this kernel's BTF"))
        }
        return .success(made)
    }

    /// The `guest_read` place next to `kvm_vcpu_map`'s (`kvm:kvm_vcpu_map` → `kvm:kvm_vcpu_read_guest`).
    static func readPlace(mapPlace: String?) -> String {
        guard let mapPlace, mapPlace.hasSuffix(mapFunction) else { return readFunction }
        return String(mapPlace.dropLast(mapFunction.count)) + readFunction
    }

    /// The function the `guest_read` return probe is placed on (`virt/kvm/kvm_main.c`, module kvm).
    static let readFunction = "kvm_vcpu_read_guest"

    /// The `guest_read` probes on `kvm_vcpu_read_guest(vcpu, gpa, data, len)`, as (event,
    /// definition) pairs. The bytes must be read after the function filled the buffer (an entry
    /// probe would see the old bytes), so:
    /// - where return probes fetch arguments (6.12): one return probe with the address, the
    ///   length, the first 4 bytes of `data` and the result;
    /// - otherwise (Debian 6.1): an entry probe `guest_read_entry` with the address, the length
    ///   and the buffer's address (`$argN`, or `%si`/`%cx`/`%dx` without them), and a return probe
    ///   with the stack pointer at the return, a window of 16 words of the stack around it and the
    ///   result. The callers that read L1's bitmaps (`svm/nested.c:nested_svm_exit_handled_msr`,
    ///   `nested_svm_intercept_ioio`) read into a local, which lies in that window; Replay pairs
    ///   the two lines by order on the thread and takes the bytes at the buffer's address.
    ///
    /// `btf` is kvm's and must name the parameters `vcpu`, `gpa`, `data`, `len`.
    static func readDefinitions(btf: BTF?, place: String, features: Tracefs.Features) -> Result<[(event: String, definition: String)], CaptureFrontend.Refusal> {
        guard features.kprobes else { return .failure(.init(description: "no kprobe events for the return probe")) }
        guard let parameters = btf?.functionParameters(readFunction) else {
            return .failure(.init(description: "no \(readFunction) in the kvm BTF (/sys/kernel/btf/kvm)"))
        }
        guard parameters.map(\.name).prefix(4) == ["vcpu", "gpa", "data", "len"] else {
            return .failure(.init(description: "\(readFunction)'s parameters are not (vcpu, gpa, data, len) in this kernel's BTF"))
        }
        let group = ProbeSchema.group
        if features.argumentsAtReturn {
            return .success([(ProbeSchema.guestReadEvent, "r:\(group)/\(ProbeSchema.guestReadEvent) \(place) \(ProbeSchema.readGPA)=$arg2:x64 \(ProbeSchema.readLength)=$arg4:u64 \(ProbeSchema.readValue)=+0($arg3):x32 \(ProbeSchema.mapResult)=$retval:s32")])
        }
        // x86-64 SysV: arguments 2, 3, 4 are in %rsi, %rdx, %rcx at function entry.
        let (gpa, data, length) = features.argN ? ("$arg2", "$arg3", "$arg4") : ("%si", "%dx", "%cx")
        let window = ProbeSchema.stackWindowNames.enumerated().map { index, name in
            let offset = ProbeSchema.stackWindowStart + 8 * index
            return "\(name)=\(offset < 0 ? "-\(-offset)" : "+\(offset)")($stack):x64"
        }.joined(separator: " ")
        return .success([
            (ProbeSchema.guestReadEntryEvent, "p:\(group)/\(ProbeSchema.guestReadEntryEvent) \(place) \(ProbeSchema.readGPA)=\(gpa):x64 \(ProbeSchema.readLength)=\(length):u64 \(ProbeSchema.readData)=\(data):x64"),
            (ProbeSchema.guestReadEvent, "r:\(group)/\(ProbeSchema.guestReadEvent) \(place) \(ProbeSchema.stackPointer)=$stack:x64 \(window) \(ProbeSchema.mapResult)=$retval:s32"),
        ])
    }

    /// Fields the kernel can resolve itself from the argument's BTF (`CONFIG_PROBE_EVENTS_BTF_ARGS`:
    /// `vcpu->field.field`, no array indexing and no casts, so only members of `kvm_vcpu`).
    static let btfArgumentFields: [String: String] = [
        ProbeSchema.hflags: "vcpu->arch.hflags",
        ProbeSchema.efer: "vcpu->arch.efer",
    ]

    /// Builds the plan from `btf` (kvm_amd's split BTF on vmlinux, or vmlinux's when KVM is
    /// built in). `argument` is how the first argument is fetched (`$arg1`, or `%di` on kernels
    /// without `$argN`); `btfArguments` lets the kernel resolve the fields it can.
    static func make(btf: BTF, kind: Kind, place: String, argument: String = "$arg1", btfArguments: Bool = false) throws -> ProbePlan {
        let vcpu = try btf.location(of: "vcpu_svm.vcpu")
        let (fields, missing) = resolve(memberPaths, btf: btf, base: vcpu.offsets[0], argument: argument, btfArguments: btfArguments)
        return ProbePlan(kind: kind, place: place, fields: fields, missing: missing)
    }

    /// The fetch arguments for `paths` (member paths rooted at `vcpu_svm`, read through
    /// `argument` = `&svm->vcpu`, which sits at `base` in `vcpu_svm`), and the fields left out.
    static func resolve(_ paths: [(name: String, path: String)], btf: BTF, base: Int, argument: String, btfArguments: Bool) -> (fields: [Field], missing: [(String, String)]) {
        var fields: [Field] = []
        var missing: [(String, String)] = []
        for (name, path) in paths {
            do {
                let location = try btf.location(of: path)
                guard location.bitfieldSize == nil, let type = fetchType(size: location.size) else {
                    missing.append((name, "\(path) is \(location.size) bytes or a bitfield"))
                    continue
                }
                if btfArguments, let expression = btfArgumentFields[name] {
                    fields.append(Field(name: name, fetch: expression, type: type, origin: "BTF argument (kernel-resolved)"))
                    continue
                }
                var fetch = argument
                for (level, offset) in location.offsets.enumerated() {
                    let relative = level == 0 ? offset - base : offset
                    fetch = (relative < 0 ? "-\(-relative)" : "+\(relative)") + "(\(fetch))"
                }
                fields.append(Field(name: name, fetch: fetch, type: type, origin: "\(path) = " + location.offsets.map(String.init).joined(separator: " → ")))
            } catch let error as BTFError {
                missing.append((name, error.message))
            } catch {
                missing.append((name, "\(error)"))
            }
        }
        return (fields, missing)
    }

    /// The hex fetch type of a `size`-byte member.
    static func fetchType(size: Int) -> String? {
        switch size {
        case 1: "x8"
        case 2: "x16"
        case 4: "x32"
        case 8: "x64"
        default: nil
        }
    }
}
