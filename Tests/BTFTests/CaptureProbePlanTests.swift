import BTF
@testable import svmdbg
import TraceKit
import Testing

/// The probe `svmdbg capture` defines, computed from real Debian kernels' BTF. Every offset
/// below was read from `pahole --btf_base vmlinux.btf -F btf kvm_amd.btf -C <struct>` on the
/// same blobs (dwarves 1.24).
@Suite struct CaptureProbePlanTests {
    /// (kernel, field, expected fetch argument).
    static let fetches: [(String, String, String)] = [
        ("6.12.117", "rax", "+296($arg1)"),
        ("6.12.117", "rcx", "+304($arg1)"),
        ("6.12.117", "hflags", "+512($arg1)"),
        ("6.12.117", "vmcb", "+6480($arg1)"),
        ("6.12.117", "vmcb01", "+6488($arg1)"),
        ("6.12.117", "efer", "+520($arg1)"),
        ("6.12.117", "exit_code", "+112(+6480($arg1))"),
        ("6.12.117", "cr0", "+1368(+6480($arg1))"),
        ("6.12.117", "cpl", "+1227(+6480($arg1))"),
        ("6.12.117", "l1_efer", "+1232(+6488($arg1))"),
        ("6.12.117", "vmcb12_gpa", "+6656($arg1)"),
        ("6.12.117", "ic_dr", "+6692($arg1)"),
        ("6.12.117", "ic_w5", "+6708($arg1)"),
        ("6.1.192", "rax", "+296($arg1)"),
        ("6.1.192", "cr0", "+1368(+6552($arg1))"),
        ("6.1.192", "l1_efer", "+1232(+6560($arg1))"),
        ("6.1.192", "ic_cr", "+6760($arg1)"),
        ("6.1.192", "ic_w3", "+6772($arg1)"),
    ]

    @Test("each field fetches the member pahole places at that offset", arguments: fetches)
    func fetch(kernel: String, field: String, expected: String) throws {
        let (_, module) = try BTFFixture.kvmAMD(kernel)
        let plan = try ProbePlan.make(btf: module, kind: .kprobe, place: "kvm_amd:svm_handle_exit")
        #expect(plan.missing.isEmpty)
        #expect(plan.fields.first { $0.name == field }?.fetch == expected)
    }

    @Test("the plan covers every field ProbeSchema names, with the type of its member's size")
    func everyField() throws {
        let (_, module) = try BTFFixture.kvmAMD("6.12.117")
        let plan = try ProbePlan.make(btf: module, kind: .kprobe, place: "kvm_amd:svm_handle_exit")
        let names = plan.fields.map(\.name)
        #expect(names == ProbePlan.memberPaths.map(\.name))
        #expect(Set(names).isSuperset(of: ProbeSchema.gprNames + ProbeSchema.interceptNames))
        #expect(plan.fields.first { $0.name == "cpl" }?.type == "x8")
        #expect(plan.fields.first { $0.name == "exit_code" }?.type == "x32")
        #expect(plan.fields.first { $0.name == "cr3" }?.type == "x64")
        #expect(plan.definition.hasPrefix("p:svmdbg/exit_regs kvm_amd:svm_handle_exit rax=+296($arg1):x64 rcx=+304($arg1):x64 "))
        // The kernel's write buffer for one dynamic_events line is 4096 bytes (trace_dynevent.c: WRITE_BUFSIZE).
        #expect(plan.definition.utf8.count < 4096)
        #expect(ProbePlan.removal == "-:svmdbg/exit_regs")
    }

    @Test("with BTF arguments the kernel resolves hflags and efer itself; fprobes and %di are spelled right")
    func variants() throws {
        let (_, module) = try BTFFixture.kvmAMD("6.12.117")
        let btf = try ProbePlan.make(btf: module, kind: .fprobe, place: "svm_handle_exit", btfArguments: true)
        #expect(btf.definition.hasPrefix("f:svmdbg/exit_regs svm_handle_exit rax=+296($arg1):x64"))
        #expect(btf.definition.contains(" hflags=vcpu->arch.hflags:x32 vmcb=+6480($arg1):x64 vmcb01=+6488($arg1):x64 efer=vcpu->arch.efer:x64 "))
        let register = try ProbePlan.make(btf: module, kind: .kprobe, place: "svm_handle_exit", argument: "%di")
        #expect(register.definition.contains(" cr0=+1368(+6480(%di)):x64 "))
    }

    @Test("a plan from BTF without kvm_amd names the missing struct")
    func withoutKVMAMD() throws {
        let (vmlinux, _) = try BTFFixture.kvmAMD("6.12.117")
        #expect(throws: BTFError.self) { try ProbePlan.make(btf: vmlinux, kind: .kprobe, place: "svm_handle_exit") }
    }

    /// README excerpts of `kernel/trace/trace.c` for each config combination.
    static let readmes: [(String, Bool, Bool, Bool, Bool)] = [
        // This host (6.18 without KPROBE/FPROBE events): the p[:…] line is printed for uprobes too.
        ("\t   Format: p[:[<group>/][<event>]] <place> [<args>]\n   place (uprobe): <path>:<offset>\n\t           $stack<index>, $stack, $retval, $comm, $arg<N>,\n", false, false, true, false),
        // Debian 6.12: kprobes, fprobes, BTF arguments.
        ("\t   Format: p[:[<group>/][<event>]] <place> [<args>]\n\t           f[:[<group>/][<event>]] <func-name>[%return] [<args>]\n\t    place: [<module>:]<symbol>[+<offset>]|<memaddr>\n\t           $stack<index>, $stack, $retval, $comm, $arg<N>,\n\t           <argname>[->field[->field|.field...]],\n", true, true, true, true),
    ]

    @Test("tracefs README tells which probe kinds the kernel has", arguments: readmes)
    func features(readme: String, kprobes: Bool, fprobes: Bool, argN: Bool, btf: Bool) {
        let features = Tracefs.Features(readme: readme, dynamicEvents: true, kprobeEvents: false)
        #expect(features.kprobes == kprobes)
        #expect(features.fprobes == fprobes)
        #expect(features.argN == argN)
        #expect(features.btfArguments == btf)
    }

    @Test("the tracefs mount point comes from /proc/mounts, tracefs before debugfs", arguments: [
        ("sysfs /sys sysfs rw 0 0\ntracefs /sys/kernel/tracing tracefs rw 0 0\n", "/sys/kernel/tracing"),
        ("debugfs /sys/kernel/debug debugfs rw 0 0\n", "/sys/kernel/debug/tracing"),
        ("debugfs /sys/kernel/debug debugfs rw 0 0\nnodev /mnt/my\\040trace tracefs rw 0 0\n", "/mnt/my trace"),
        ("proc /proc proc rw 0 0\n", nil),
    ] as [(String, String?)])
    func mountPoint(mounts: String, expected: String?) {
        #expect(Tracefs.mountPoint(mounts: mounts) == expected)
    }

    @Test("vcpu_map is one return probe where return probes fetch arguments, an entry/return pair otherwise")
    func mapProbes() throws {
        let (vmlinux, _) = try BTFFixture.kvmAMD("6.1.192")
        let kvm = try BTF(bytes: BTFFixture.bytes("6.1.192", "kvm.btf"), base: vmlinux, source: "kvm")
        let modern = Tracefs.Features(
            readme: "place: [<module>:]<symbol>\n$arg<N>\n kernel return probes support: $retval, $arg<N>, $comm", dynamicEvents: true, kprobeEvents: true)
        let single = try ProbePlan.mapDefinitions(btf: kvm, place: "kvm:kvm_vcpu_map", features: modern).get()
        #expect(single.map(\.definition) == ["r:svmdbg/vcpu_map kvm:kvm_vcpu_map gfn=$arg2:x64 ret=$retval:s32"])
        let older = Tracefs.Features(
            readme: "place: [<module>:]<symbol>\n$arg<N>\n kernel return probes support: $retval, $comm", dynamicEvents: true, kprobeEvents: true)
        let pair = try ProbePlan.mapDefinitions(btf: kvm, place: "kvm:kvm_vcpu_map", features: older).get()
        #expect(pair.map(\.definition) == [
            "p:svmdbg/vcpu_map_entry kvm:kvm_vcpu_map gfn=$arg2:x64", "r:svmdbg/vcpu_map kvm:kvm_vcpu_map ret=$retval:s32",
        ])
        #expect(throws: CaptureFrontend.Refusal.self) { try ProbePlan.mapDefinitions(btf: nil, place: "kvm_vcpu_map", features: older).get() }
    }

    @Test("the VMRUN check return probes are planned for the functions kvm_amd's BTF has", arguments: ["6.12.117", "6.1.192"])
    func checkProbes(kernel: String) throws {
        let (_, module) = try BTFFixture.kvmAMD(kernel)
        let checks = ProbePlan.checkDefinitions(btf: module, prefix: "kvm_amd:")
        #expect(checks.missing.isEmpty)
        #expect(checks.definitions.map(\.definition) == [
            "r:svmdbg/vmcb_check_save kvm_amd:__nested_vmcb_check_save ret=$retval:u8",
            "r:svmdbg/vmcb_check_controls kvm_amd:__nested_vmcb_check_controls ret=$retval:u8",
            "r:svmdbg/load_cr3 kvm_amd:nested_svm_load_cr3 ret=$retval:s32",
        ])
    }
}

/// The probes that record vmcb12 at VMRUN and the MSRPM/IOPM bytes KVM reads (issue #16).
@Suite struct CaptureInputProbeTests {
    /// (kernel, field, expected fetch): `struct vmcb_ctrl_area_cached` in `svm/svm.h` is
    /// intercepts[MAX_INTERCEPT = 6] (u32), two u16, then iopm_base_pa and msrpm_base_pa (u64),
    /// tsc_offset (u64), asid (u32); so from `nested.ctl` at 6688 (6.12, 6760 on 6.1, as the
    /// exit_regs intercept words show) iopm_base_pa is at +32, msrpm_base_pa +40, asid +56.
    static let fetches: [(String, String, String)] = [
        ("6.12.117", "vmcb12_gpa", "+6656($arg1)"),
        ("6.12.117", "ic_cr", "+6688($arg1)"),
        ("6.12.117", "ic_w3", "+6700($arg1)"),
        ("6.12.117", "iopm_base", "+6720($arg1)"),
        ("6.12.117", "msrpm_base", "+6728($arg1)"),
        ("6.12.117", "asid", "+6744($arg1)"),
        ("6.1.192", "ic_cr", "+6760($arg1)"),
        ("6.1.192", "iopm_base", "+6792($arg1)"),
        ("6.1.192", "msrpm_base", "+6800($arg1)"),
        ("6.1.192", "asid", "+6816($arg1)"),
    ]

    @Test("vmrun_vmcb12 reads svm->nested.ctl/save through __nested_vmcb_check_save's vcpu", arguments: fetches)
    func vmrunFetch(kernel: String, field: String, expected: String) throws {
        let (_, module) = try BTFFixture.kvmAMD(kernel)
        let (definition, missing) = try #require(ProbePlan.vmrunDefinition(btf: module, prefix: "kvm_amd:"))
        #expect(missing.isEmpty)
        #expect(definition.hasPrefix("p:svmdbg/vmrun_vmcb12 kvm_amd:__nested_vmcb_check_save vmcb12_gpa="))
        #expect(definition.contains(" \(field)=\(expected):"))
        #expect(definition.utf8.count < 4096)
    }

    @Test("every vmrun_vmcb12 field resolves on both kernels, with its member's size", arguments: ["6.12.117", "6.1.192"])
    func vmrunFields(kernel: String) throws {
        let (_, module) = try BTFFixture.kvmAMD(kernel)
        let (definition, missing) = try #require(ProbePlan.vmrunDefinition(btf: module, prefix: "kvm_amd:", argument: "%di"))
        #expect(missing.isEmpty)
        for (name, _) in ProbeSchema.vmrunFields { #expect(definition.contains(" \(name)=")) }
        #expect(definition.contains(" cs_attrib=") && definition.contains("(%di):x16"))
        #expect(definition.contains(" tlb_ctl=") && definition.contains(":x8"))
        // exit_regs gains the bases the guest_read addresses are relative to.
        let plan = try ProbePlan.make(btf: module, kind: .kprobe, place: "kvm_amd:svm_handle_exit")
        #expect(plan.fields.contains { $0.name == ProbeSchema.msrpmBase } && plan.fields.contains { $0.name == ProbeSchema.iopmBase })
    }

    @Test("guest_read: a return probe reading the buffer where return probes fetch arguments, else entry + stack window", arguments: ["6.12.117", "6.1.192"])
    func guestRead(kernel: String) throws {
        let (vmlinux, _) = try BTFFixture.kvmAMD(kernel)
        let kvm = try BTF(bytes: BTFFixture.bytes(kernel, "kvm.btf"), base: vmlinux, source: "kvm")
        let modern = Tracefs.Features(
            readme: "place: [<module>:]<symbol>\n$arg<N>\n kernel return probes support: $retval, $arg<N>, $comm", dynamicEvents: true, kprobeEvents: true)
        let made = try ProbePlan.readDefinitions(btf: kvm, place: ProbePlan.readPlace(mapPlace: "kvm:kvm_vcpu_map"), features: modern).get()
        #expect(made.map(\.event) == ["guest_read"])
        #expect(made.first?.definition == "r:svmdbg/guest_read kvm:kvm_vcpu_read_guest gpa=$arg2:x64 len=$arg4:u64 val=+0($arg3):x32 ret=$retval:s32")
        // Debian 6.1: no arguments at return probes: the entry records where the buffer is, the
        // return a window of the stack (the callers' buffers are their locals).
        let older = Tracefs.Features(
            readme: "place: [<module>:]<symbol>\n$arg<N>\n kernel return probes support: $retval, $comm", dynamicEvents: true, kprobeEvents: true)
        let pair = try ProbePlan.readDefinitions(btf: kvm, place: "kvm:kvm_vcpu_read_guest", features: older).get()
        #expect(pair.map(\.event) == ["guest_read_entry", "guest_read"])
        #expect(pair[0].definition == "p:svmdbg/guest_read_entry kvm:kvm_vcpu_read_guest gpa=$arg2:x64 len=$arg4:u64 data=$arg3:x64")
        #expect(pair[1].definition.hasPrefix("r:svmdbg/guest_read kvm:kvm_vcpu_read_guest sp=$stack:x64 s0=-16($stack):x64 s1=-8($stack):x64 s2=+0($stack):x64 "))
        #expect(pair[1].definition.hasSuffix(" s15=+104($stack):x64 ret=$retval:s32"))
        #expect(!pair[1].definition.contains("$arg"))
        let noArgN = Tracefs.Features(readme: "place: [<module>:]<symbol>\n", dynamicEvents: true, kprobeEvents: true)
        #expect(try ProbePlan.readDefinitions(btf: kvm, place: "kvm:kvm_vcpu_read_guest", features: noArgN).get()[0].definition
            == "p:svmdbg/guest_read_entry kvm:kvm_vcpu_read_guest gpa=%si:x64 len=%cx:u64 data=%dx:x64")
        #expect(throws: CaptureFrontend.Refusal.self) { try ProbePlan.readDefinitions(btf: nil, place: "kvm_vcpu_read_guest", features: modern).get() }
    }
}
