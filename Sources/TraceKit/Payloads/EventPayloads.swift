/// The payload of `kvm_inj_exception`: an exception KVM programs into EVENTINJ.
///
/// Tracepoint: `kvm_inj_exception` (`trace-events.md` §3.9). 6.1+: name, ` (0x<err>)` only
/// when it has an error code, ` [reinjected]`. ≤6.0: `%s (0x%x)` with the code always
/// printed (so `errorCode` is set even when the exception has none) and `reinjected` unknown.
public struct KVMInjException: Sendable, Hashable {
    /// The vector (`#GP` → 13; hex-printed vectors such as `0x2` for NMI).
    public var vector: UInt8
    /// The error code, when printed.
    public var errorCode: UInt32?
    /// `[reinjected]` present (`true`), absent in a format that has it (`false`), or a format without it (`nil`).
    public var reinjected: Bool?

    /// Creates an exception-injection payload.
    public init(vector: UInt8, errorCode: UInt32?, reinjected: Bool?) {
        self.vector = vector
        self.errorCode = errorCode
        self.reinjected = reinjected
    }

    /// `kvm_trace_sym_exc` names by vector (`trace-events.md` §2.2, 6.18 table).
    public static let exceptionNames: [UInt8: String] = ExceptionVector.traceSymbols
}

/// The payload of `kvm_inj_virq`: an interrupt KVM writes into EVENTINJ.
///
/// Tracepoint: `kvm_inj_virq` (`trace-events.md` §3.10): old `irq %u` (decimal vector);
/// 6.1+ `IRQ 0x20` / `Soft/INTn 0x80` with optional ` [reinjected]`.
public struct KVMInjVirq: Sendable, Hashable {
    /// External interrupt or software interrupt.
    public enum Kind: String, Sendable, Hashable {
        /// `IRQ` (and the old `irq` form).
        case irq
        /// `Soft/INTn` (INTn / INT3 re-injected as a software interrupt).
        case softInterrupt
    }
    /// Interrupt kind.
    public var kind: Kind
    /// The vector.
    public var vector: UInt32
    /// `[reinjected]`; `nil` in the old format that cannot print it.
    public var reinjected: Bool?

    /// Creates a virtual-interrupt injection payload.
    public init(kind: Kind, vector: UInt32, reinjected: Bool?) {
        self.kind = kind
        self.vector = vector
        self.reinjected = reinjected
    }
}

/// The payload of `kvm_msr`: `msr_read|msr_write %x = 0x%llx[ (#GP)]` (`trace-events.md` §3.13).
public struct KVMMSR: Sendable, Hashable {
    /// `msr_write` (else `msr_read`).
    public var isWrite: Bool
    /// The MSR index (`ecx`).
    public var msr: UInt32
    /// The data read or written.
    public var data: UInt64
    /// ` (#GP)`: the access faulted.
    public var faulted: Bool

    /// Creates an MSR payload.
    public init(isWrite: Bool, msr: UInt32, data: UInt64, faulted: Bool) {
        self.isWrite = isWrite
        self.msr = msr
        self.data = data
        self.faulted = faulted
    }
}

/// The payload of `kvm_cr`: `cr_read|cr_write %x = 0x%lx` (`trace-events.md` §3.12).
public struct KVMCR: Sendable, Hashable {
    /// `cr_write` (else `cr_read`).
    public var isWrite: Bool
    /// The control register number.
    public var cr: UInt32
    /// The value.
    public var value: UInt64

    /// Creates a CR-access payload.
    public init(isWrite: Bool, cr: UInt32, value: UInt64) {
        self.isWrite = isWrite
        self.cr = cr
        self.value = value
    }
}

/// The payload of `kvm_pio`: `pio_%s at 0x%x size %d count %d val 0x%x %s` (`trace-events.md` §3.17).
///
/// The kernel line ends in a space when `count` ≤ 1; with `count` > 1 it ends in `(...)`.
public struct KVMPIO: Sendable, Hashable {
    /// `pio_write` (else `pio_read`).
    public var isWrite: Bool
    /// The port.
    public var port: UInt32
    /// Access size in bytes.
    public var size: UInt32
    /// Repeat count.
    public var count: UInt32
    /// The first value.
    public var value: UInt32
    /// The `(...)` marker for multi-value accesses.
    public var hasMoreValues: Bool

    /// Creates a port-I/O payload.
    public init(isWrite: Bool, port: UInt32, size: UInt32, count: UInt32, value: UInt32, hasMoreValues: Bool) {
        self.isWrite = isWrite
        self.port = port
        self.size = size
        self.count = count
        self.value = value
        self.hasMoreValues = hasMoreValues
    }
}

/// The payload of `kvm_emulate_insn` (`trace-events.md` §3.11).
///
/// Kernel: `%x:%llx:%s (%s)%s` (CS base, RIP, bytes, mode, ` failed`). Plugin:
/// `<csbase>:<rip>: <disassembly or bytes>[ FAIL]`, no mode.
public struct KVMEmulateInsn: Sendable, Hashable {
    /// Emulator mode (`flags`), `trace-events.md` §2.3.
    public enum Mode: String, Sendable, Hashable {
        /// `real` (0).
        case real
        /// `vm16` (0x3).
        case vm16
        /// `prot16` (0x1).
        case prot16
        /// `prot32` (0x5).
        case prot32
        /// `prot64` (0x9).
        case prot64
    }
    /// CS base.
    public var csBase: UInt64
    /// The instruction's RIP.
    public var rip: UInt64
    /// Instruction bytes, when printed as hex bytes.
    public var bytes: [UInt8]?
    /// The plugin's disassembly text, when it printed something other than hex bytes.
    public var disassembly: String?
    /// The mode (kernel wording only).
    public var mode: Mode?
    /// ` failed` / ` FAIL`.
    public var failed: Bool

    /// Creates an emulated-instruction payload.
    public init(csBase: UInt64, rip: UInt64, bytes: [UInt8]?, disassembly: String?, mode: Mode?, failed: Bool) {
        self.csBase = csBase
        self.rip = rip
        self.bytes = bytes
        self.disassembly = disassembly
        self.mode = mode
        self.failed = failed
    }
}

/// The payload of `kvm_page_fault` (`trace-events.md` §3.14).
///
/// 6.1+: `vcpu %u rip 0x%lx address 0x%016llx error_code 0x%llx` (64-bit error code).
/// ≤6.0: `address %lx error_code %x` (error code truncated to 32 bits, no vcpu/rip).
public struct KVMPageFault: Sendable, Hashable {
    /// `vcpu_id` (6.1+).
    public var vcpu: UInt32?
    /// `guest_rip` (6.1+).
    public var guestRIP: UInt64?
    /// `fault_address` (GPA for an NPF).
    public var address: UInt64
    /// `error_code`.
    public var errorCode: UInt64

    /// Creates a page-fault payload.
    public init(vcpu: UInt32?, guestRIP: UInt64?, address: UInt64, errorCode: UInt64) {
        self.vcpu = vcpu
        self.guestRIP = guestRIP
        self.address = address
        self.errorCode = errorCode
    }
}

/// The payload of `kvm_invlpga`: `rip: 0x%016llx asid: %u address: 0x%016llx` (`%d` asid ≤5.x).
public struct KVMInvlpga: Sendable, Hashable {
    /// RIP of the INVLPGA.
    public var rip: UInt64
    /// ASID (ECX); signed in old kernels' wording.
    public var asid: Int64
    /// Address (RAX).
    public var address: UInt64

    /// Creates an INVLPGA payload.
    public init(rip: UInt64, asid: Int64, address: UInt64) {
        self.rip = rip
        self.asid = asid
        self.address = address
    }
}

/// The payload of `kvm_skinit`: `rip: 0x%016llx slb: 0x%08x` (`trace-events.md` §3.16).
public struct KVMSkinit: Sendable, Hashable {
    /// RIP of the SKINIT.
    public var rip: UInt64
    /// SLB (EAX).
    public var slb: UInt32

    /// Creates an SKINIT payload.
    public init(rip: UInt64, slb: UInt32) {
        self.rip = rip
        self.slb = slb
    }
}

/// The payload of `kvm_userspace_exit`: `reason %s (%d)` (`trace-events.md` §3.19).
public struct KVMUserspaceExit: Sendable, Hashable {
    /// The printed reason: `KVM_EXIT_IO`, `restart`, `error`, or hex for unnamed reasons.
    public var reason: String
    /// The number in parentheses: the `KVM_EXIT_*` value, or -errno for `restart`/`error`.
    public var number: Int64

    /// Creates a userspace-exit payload.
    public init(reason: String, number: Int64) {
        self.reason = reason
        self.number = number
    }
}

/// The payload of `kvm_hypercall`: `nr 0x%lx a0 0x%lx a1 0x%lx a2 0x%lx a3 0x%lx` (§3.18).
public struct KVMHypercall: Sendable, Hashable {
    /// Hypercall number.
    public var nr: UInt64
    /// Arguments a0–a3.
    public var arguments: [UInt64]

    /// Creates a hypercall payload.
    public init(nr: UInt64, arguments: [UInt64]) {
        self.nr = nr
        self.arguments = arguments
    }
}

/// The payload of `kvm_cpuid`:
/// `func %x idx %x rax %lx rbx %lx rcx %lx rdx %lx, cpuid entry %s%s` (§3.20).
public struct KVMCPUID: Sendable, Hashable {
    /// Leaf (EAX in).
    public var function: UInt32
    /// Sub-leaf (ECX in).
    public var index: UInt32
    /// Results.
    public var rax: UInt64, rbx: UInt64, rcx: UInt64, rdx: UInt64
    /// `found` (vs `not found`).
    public var entryFound: Bool
    /// Text after `cpuid entry found|not found` (e.g. `, used max basic`), empty if none.
    public var note: String

    /// Creates a CPUID payload.
    public init(function: UInt32, index: UInt32, rax: UInt64, rbx: UInt64, rcx: UInt64, rdx: UInt64,
                entryFound: Bool, note: String) {
        self.function = function
        self.index = index
        self.rax = rax
        self.rbx = rbx
        self.rcx = rcx
        self.rdx = rdx
        self.entryFound = entryFound
        self.note = note
    }
}
