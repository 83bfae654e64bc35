/// The values of one `svmdbg capture` probe event: a kprobe whose fetch arguments print as
/// `name=value` pairs after the probed location, e.g.
/// `exit_regs: (svm_handle_exit+0x0/0x3a0 [kvm_amd]) rax=0x1000 rcx=0x0 … cpl=0x0`.
///
/// TraceKit knows only the shape and the field names ``ProbeSchema`` fixes; what the values
/// mean for the model is Replay's business.
public struct ProbePayload: Sendable, Hashable {
    /// The fields in the order the line prints them.
    public var fields: [ProbeField]

    /// Wraps fields.
    public init(fields: [ProbeField]) { self.fields = fields }

    /// The value of the field called `name`, if the line has it.
    public subscript(_ name: String) -> UInt64? {
        fields.first { $0.name == name }?.value
    }
}

/// One `name=value` fetch argument of a probe event.
public struct ProbeField: Sendable, Hashable {
    /// The fetch argument's name (``ProbeSchema`` names).
    public var name: String
    /// Its value (hex `x` types, unsigned or two's complement of signed decimal types).
    public var value: UInt64

    /// A field.
    public init(name: String, value: UInt64) {
        self.name = name
        self.value = value
    }
}

/// The probe events `svmdbg capture` defines, shared by the capture command (which writes
/// them into tracefs) and the reader (which recognises them): one source for the names.
///
/// All probes live in the tracefs group ``group``; a trace prints only the event name.
public enum ProbeSchema {
    /// The tracefs group of every svmdbg probe (`dynamic_events` `p:svmdbg/…`).
    public static let group = "svmdbg"
    /// The per-exit event: a kprobe at the entry of `svm/svm.c:svm_handle_exit`, which runs for
    /// every exit `svm_vcpu_run` did not finish on the fastpath, after `kvm_exit` and before
    /// `kvm_nested_vmexit`.
    public static let exitRegsEvent = "exit_regs"
    /// The mapping event: a return probe on `virt/kvm/kvm_main.c:kvm_vcpu_map`, which KVM's SVM
    /// code calls to map the page at RAX (VMLOAD/VMSAVE: `svm/svm.c:vmload_vmsave_interception`;
    /// VMRUN: `svm/nested.c:nested_svm_vmrun`), vmcb12 at a nested #VMEXIT, and HSAVE around SMM.
    public static let vcpuMapEvent = "vcpu_map"
    /// Return probe on `svm/nested.c:__nested_vmcb_check_save` (VMRUN's save-area checks): `ret` 1 = all pass.
    public static let checkSaveEvent = "vmcb_check_save"
    /// Return probe on `svm/nested.c:__nested_vmcb_check_controls` (VMRUN's control checks): `ret` 1 = all pass.
    public static let checkControlsEvent = "vmcb_check_controls"
    /// Return probe on `svm/nested.c:nested_svm_load_cr3` (CR3/PDPTR loading on entry and exit): `ret` 0 = loaded.
    public static let loadCR3Event = "load_cr3"
    /// The return probes on VMRUN's checks, by event name: the kernel function each is placed on.
    public static let checkFunctions: [(event: String, function: String)] = [
        (checkSaveEvent, "__nested_vmcb_check_save"),
        (checkControlsEvent, "__nested_vmcb_check_controls"),
        (loadCR3Event, "nested_svm_load_cr3"),
    ]
    /// Entry probe on `kvm_vcpu_map` recording `gfn`, for kernels whose return probes cannot
    /// fetch arguments (6.1): the next `vcpu_map` (return) line of the thread belongs to it.
    public static let vcpuMapEntryEvent = "vcpu_map_entry"
    /// Entry probe on `svm/nested.c:__nested_vmcb_check_save` (reached from
    /// `nested_svm_vmrun` after `nested_copy_vmcb_control_to_cache` and
    /// `nested_copy_vmcb_save_to_cache`): vmcb12's save-area and control fields as KVM cached
    /// them for this VMRUN's consistency checks (``vmrunFields``). Inputs of the checks, not
    /// their result.
    public static let vmrunVMCB12Event = "vmrun_vmcb12"
    /// Return probe on `virt/kvm/kvm_main.c:kvm_vcpu_read_guest` (6.12 and later: return
    /// probes fetch arguments): the guest-physical address, the length, up to 4 bytes read
    /// (``readValue``, from the buffer after the read) and the result. KVM's SVM code reads
    /// L1's MSRPM word (`nested_svm_exit_handled_msr`) and IOPM bytes
    /// (`nested_svm_intercept_ioio`) with it.
    public static let guestReadEvent = "guest_read"
    /// Entry probe on `kvm_vcpu_read_guest` for kernels whose return probes cannot fetch
    /// arguments (Debian 6.1): the address (``readGPA``), the length (``readLength``) and the
    /// buffer's address (``readData``). Its `guest_read` return line (the thread's next) then
    /// carries the stack pointer at the return (``stackPointer``) and a window of the caller's
    /// stack (``stackWindowNames``), where the buffer lies: `nested_svm_exit_handled_msr`'s
    /// `value` and `nested_svm_intercept_ioio`'s `val` are locals of the caller.
    public static let guestReadEntryEvent = "guest_read_entry"
    /// Every probe event name svmdbg defines.
    public static let eventNames: Set<String> = [
        exitRegsEvent, vcpuMapEvent, vcpuMapEntryEvent, checkSaveEvent, checkControlsEvent, loadCR3Event,
        vmrunVMCB12Event, guestReadEvent, guestReadEntryEvent,
    ]

    /// `guest_read_entry`: the buffer's (kernel) address (`data`, 3rd argument).
    public static let readData = "data"
    /// `guest_read` without arguments: the stack pointer when the function returned (`$stack`).
    public static let stackPointer = "sp"
    /// `guest_read` without arguments: the first window word is at `sp + stackWindowStart`.
    public static let stackWindowStart: Int = -16
    /// `guest_read` without arguments: the window's 8-byte words, `s0` at `sp + stackWindowStart`,
    /// `s1` 8 bytes above, …
    public static let stackWindowNames: [String] = (0..<16).map { "s\($0)" }

    /// `guest_read`: the guest-physical address (`gpa`, 2nd argument).
    public static let readGPA = "gpa"
    /// `guest_read`: the length asked for (`len`, 4th argument).
    public static let readLength = "len"
    /// `guest_read`: the first 4 bytes of the buffer after the read (little-endian; only
    /// `len` of them were read).
    public static let readValue = "val"

    /// `vmrun_vmcb12` fields: (field name, member of `struct vcpu_svm`), read through the
    /// probed function's first argument (`&svm->vcpu`). `nested.save` is
    /// `struct vmcb_save_area_cached`, `nested.ctl` `struct vmcb_ctrl_area_cached`
    /// (`svm/svm.h`, 6.1 and 6.12).
    public static let vmrunFields: [(name: String, member: String)] = [
        ("vmcb12_gpa", "nested.vmcb12_gpa"),
        ("efer", "nested.save.efer"), ("cr0", "nested.save.cr0"), ("cr3", "nested.save.cr3"),
        ("cr4", "nested.save.cr4"), ("dr6", "nested.save.dr6"), ("dr7", "nested.save.dr7"),
        ("cs_attrib", "nested.save.cs.attrib"),
        ("ic_cr", "nested.ctl.intercepts[0]"), ("ic_dr", "nested.ctl.intercepts[1]"),
        ("ic_exc", "nested.ctl.intercepts[2]"), ("ic_w3", "nested.ctl.intercepts[3]"),
        ("ic_w4", "nested.ctl.intercepts[4]"), ("ic_w5", "nested.ctl.intercepts[5]"),
        ("iopm_base", "nested.ctl.iopm_base_pa"), ("msrpm_base", "nested.ctl.msrpm_base_pa"),
        ("asid", "nested.ctl.asid"), ("tlb_ctl", "nested.ctl.tlb_ctl"), ("int_ctl", "nested.ctl.int_ctl"),
        ("nested_ctl", "nested.ctl.nested_ctl"), ("event_inj", "nested.ctl.event_inj"),
        ("nested_cr3", "nested.ctl.nested_cr3"), ("virt_ext", "nested.ctl.virt_ext"),
    ]
    /// `exit_regs`: vmcb12's MSRPM and IOPM base as KVM cached them at the last VMRUN
    /// (`svm->nested.ctl.msrpm_base_pa` / `iopm_base_pa`), where `guest_read` addresses are
    /// relative to.
    public static let msrpmBase = "msrpm_base", iopmBase = "iopm_base"

    /// `vcpu_map`: the guest frame number asked for (`gfn`, the function's 2nd argument).
    public static let mapGFN = "gfn"
    /// `vcpu_map`: the return value (0: mapped; negative errno: no memslot or no page).
    public static let mapResult = "ret"

    /// General-purpose registers in `kvm_vcpu_arch.regs[]` order (`VCPU_REGS_RAX` = 0 …
    /// `VCPU_REGS_R15` = 15, `arch/x86/include/asm/kvm_vcpu_regs.h`).
    public static let gprNames = ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                  "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"]
    /// `hflags` of `kvm_vcpu_arch` (its bit layout changed between 6.1 and 6.12: see ``ProbeSchema/smmMasks``).
    public static let hflags = "hflags"
    /// `svm->vmcb`, the VMCB the vCPU ran (vmcb02 in guest mode).
    public static let vmcbPointer = "vmcb"
    /// `svm->vmcb01.ptr`: guest mode is exactly `vmcb != vmcb01` (`svm/nested.c:enter_svm_guest_mode`
    /// switches to vmcb02, `nested_svm_vmexit` back; any kernel with the vmcb01/vmcb02 split).
    public static let vmcb01Pointer = "vmcb01"
    /// `HF_SMM_MASK` in each known `hflags` layout: bit 6 up to the renumbering that put
    /// `HF_GUEST_MASK` at bit 0 (6.1 prints guest mode as 0x20), bit 1 after it (6.12 prints 0x1),
    /// `arch/x86/include/asm/kvm_host.h`. With neither bit set the vCPU is not in SMM in either layout.
    public static let smmMasks: UInt64 = 1 << 6 | 1 << 1
    /// `control.exit_code` of the current VMCB.
    public static let exitCode = "exit_code"
    /// Save area of the current VMCB (vmcb02 in guest mode, vmcb01 otherwise): the level that ran.
    public static let cr0 = "cr0", cr3 = "cr3", cr4 = "cr4", efer = "efer", cpl = "cpl", rflags = "rflags"
    /// Save area of vmcb01: L1's EFER/CR0/CR4/RFLAGS (in guest mode, what `nested_svm_vmrun` stored there).
    public static let l1EFER = "l1_efer", l1CR0 = "l1_cr0", l1CR4 = "l1_cr4", l1RFLAGS = "l1_rflags"
    /// `svm->nested.vmcb12_gpa`: where L1's vmcb12 is (L1's RAX at the last VMRUN).
    public static let vmcb12GPA = "vmcb12_gpa"
    /// `svm->nested.hsave_msr`: MSR_VM_HSAVE_PA as L1 last wrote it (`nested_svm_vmrun`
    /// raises #GP while it is 0). L1 usually writes it long before a capture starts.
    public static let hsaveMSR = "hsave_msr"
    /// `svm->nested.ctl.intercepts[0…5]`: vmcb12's intercept words as cached at the last VMRUN
    /// (CR, DR, exceptions, word 3, word 4, word 5).
    public static let interceptNames = ["ic_cr", "ic_dr", "ic_exc", "ic_w3", "ic_w4", "ic_w5"]
}
