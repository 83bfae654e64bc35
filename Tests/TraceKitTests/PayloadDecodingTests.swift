import Testing
@testable import TraceKit

/// One payload line and what it must decode to.
struct PayloadCase: Sendable, CustomTestStringConvertible {
    var name: String
    var payload: String
    var expected: EventPayload
    var testDescription: String { "\(name): \(payload.prefix(60))" }
}

let zeroExit = KVMExit(exitReason: .hlt, guestRIP: 0x101ce, exitInfo1: 0, exitInfo2: 0, intrInfo: 0, errorCode: 0, vcpu: 0)

/// Real lines from `traces/` and the examples of `reference/trace-events.md` (old formats constructed there).
let payloadCases: [PayloadCase] = [
    // kvm_exit, 5.10–6.13 kernel wording (6.12/minimal.trace).
    .init(name: "kvm_exit", payload: "vcpu 0 reason npf rip 0x101c2 info1 0x0000000200000006 info2 0x0000000000001000 intr_info 0x00000000 error_code 0x00000000",
          expected: .exit(KVMExit(exitReason: .npf, guestRIP: 0x101c2, exitInfo1: 0x2_0000_0006, exitInfo2: 0x1000, intrInfo: 0, errorCode: 0, vcpu: 0))),
    .init(name: "kvm_exit", payload: "vcpu 0 reason GP excp rip 0x1016f info1 0x0000000000000000 info2 0x0000000000000000 intr_info 0x00000000 error_code 0x00000000",
          expected: .exit(KVMExit(exitReason: .exception(13), guestRIP: 0x1016f, exitInfo1: 0, exitInfo2: 0, intrInfo: 0, errorCode: 0, vcpu: 0))),
    .init(name: "kvm_exit", payload: "vcpu 0 reason io rip 0x10902 info1 0x0000000005100040 info2 0x0000000000010903 intr_info 0x00000b0d error_code 0x00000000",
          expected: .exit(KVMExit(exitReason: .ioio, guestRIP: 0x10902, exitInfo1: 0x5100040, exitInfo2: 0x10903, intrInfo: 0xb0d, errorCode: 0, vcpu: 0))),
    // VMEXIT_INVALID prints as 0xffffffff (constructed, trace-events.md §3.2).
    .init(name: "kvm_exit", payload: "vcpu 0 reason 0xffffffff rip 0x0 info1 0x0000000000000000 info2 0x0000000000000000 intr_info 0x00000000 error_code 0x00000000",
          expected: .exit(KVMExit(exitReason: .invalid, guestRIP: 0, exitInfo1: 0, exitInfo2: 0, intrInfo: 0, errorCode: 0, vcpu: 0))),
    // Unknown code printed as hex by the kernel (RDPRU 0x8e).
    .init(name: "kvm_exit", payload: "vcpu 3 reason 0x8e rip 0x4000 info1 0x0000000000000000 info2 0x0000000000000000 intr_info 0x00000000 error_code 0x00000000",
          expected: .exit(KVMExit(exitReason: SVMExitReason(0x8e), guestRIP: 0x4000, exitInfo1: 0, exitInfo2: 0, intrInfo: 0, errorCode: 0, vcpu: 3))),
    // 6.14+ with requests.
    .init(name: "kvm_exit", payload: "vcpu 1 reason msr rip 0xffffffff81001234 info1 0x0000000000000001 info2 0x0000000000000000 intr_info 0x00000000 error_code 0x00000000 requests 0x0000000000000400",
          expected: .exit(KVMExit(exitReason: .msr, guestRIP: 0xffff_ffff_8100_1234, exitInfo1: 1, exitInfo2: 0, intrInfo: 0, errorCode: 0, vcpu: 1, requests: 0x400))),
    // ≤5.3 kernel and the plugin's wording (trace-events.md §3.2).
    .init(name: "kvm_exit", payload: "reason npf rip 0xffffffff81a0b2c4 info 100000004 fee000b0",
          expected: .exit(KVMExit(exitReason: .npf, guestRIP: 0xffff_ffff_81a0_b2c4, exitInfo1: 0x1_0000_0004, exitInfo2: 0xfee0_00b0))),
    .init(name: "kvm_exit", payload: "vcpu 2 reason hlt rip 0x1000 info 0 0",
          expected: .exit(KVMExit(exitReason: .hlt, guestRIP: 0x1000, exitInfo1: 0, exitInfo2: 0, vcpu: 2))),
    .init(name: "kvm_exit", payload: "            reason EXIT_NPF rip 0x10000 info 200000006 1000",
          expected: .exit(KVMExit(exitReason: .npf, guestRIP: 0x10000, exitInfo1: 0x2_0000_0006, exitInfo2: 0x1000))),
    .init(name: "kvm_exit", payload: "reason EXIT_EXCP_GP rip 0x1016f info 0 0",
          expected: .exit(KVMExit(exitReason: .exception(13), guestRIP: 0x1016f, exitInfo1: 0, exitInfo2: 0))),
    .init(name: "kvm_exit", payload: "reason UNKNOWN (142) rip 0x1000 info 0 0",
          expected: .exit(KVMExit(exitReason: SVMExitReason(142), guestRIP: 0x1000, exitInfo1: 0, exitInfo2: 0))),
    .init(name: "kvm_exit", payload: "reason EXIT_ERR rip 0x0 info 0 0",
          expected: .exit(KVMExit(exitReason: .invalid, guestRIP: 0, exitInfo1: 0, exitInfo2: 0))),
    .init(name: "kvm_exit", payload: "reason EXIT_MSR rip 0xffffffff81063a14 native_write_msr+0x4 info 1 0",
          expected: .exit(KVMExit(exitReason: .msr, guestRIP: 0xffff_ffff_8106_3a14, exitInfo1: 1, exitInfo2: 0))),
    // kvm_nested_vmexit: 5.10+ (same as kvm_exit), the plugin's CANT FIND FIELD prefix, and ≤5.7's own format.
    .init(name: "kvm_nested_vmexit", payload: "vcpu 0 reason hlt rip 0x101ce info1 0x0000000000000000 info2 0x0000000000000000 intr_info 0x00000000 error_code 0x00000000",
          expected: .nestedVMExit(zeroExit)),
    .init(name: "kvm_nested_vmexit", payload: "   <CANT FIND FIELD rip>vcpu 0 reason hlt rip 0x101ce info1 0x0000000000000000 info2 0x0000000000000000 intr_info 0x00000000 error_code 0x00000000",
          expected: .nestedVMExit(zeroExit)),
    .init(name: "kvm_nested_vmexit", payload: "<CAN'T FIND FIELD rip>vcpu 0 reason hlt rip 0x101ce info1 0x0000000000000000 info2 0x0000000000000000 intr_info 0x00000000 error_code 0x00000000",
          expected: .nestedVMExit(zeroExit)),
    .init(name: "kvm_nested_vmexit", payload: "rip: 0x00000000000101ce reason: hlt ext_inf1: 0x0000000000000000 ext_inf2: 0x0000000000000000 ext_int: 0x00000000 ext_int_err: 0x00000000",
          expected: .nestedVMExit(KVMExit(exitReason: .hlt, guestRIP: 0x101ce, exitInfo1: 0, exitInfo2: 0, intrInfo: 0, errorCode: 0))),
    // kvm_entry generations.
    .init(name: "kvm_entry", payload: "vcpu 0", expected: .entry(KVMEntry(vcpu: 0))),
    .init(name: "kvm_entry", payload: "vcpu 0, rip 0x101c2", expected: .entry(KVMEntry(vcpu: 0, rip: 0x101c2))),
    .init(name: "kvm_entry", payload: "vcpu 0, rip 0x104b1[immediate exit]", expected: .entry(KVMEntry(vcpu: 0, rip: 0x104b1, immediateExit: true))),
    .init(name: "kvm_entry", payload: "vcpu 0, rip 0x401000 intr_info 0x80000b0d error_code 0x00000000",
          expected: .entry(KVMEntry(vcpu: 0, rip: 0x401000, intrInfo: 0x8000_0b0d, errorCode: 0))),
    .init(name: "kvm_entry", payload: "vcpu 1, rip 0x7f0c12345678 intr_info 0x00000000 error_code 0x00000000[immediate exit]",
          expected: .entry(KVMEntry(vcpu: 1, rip: 0x7f0c_1234_5678, immediateExit: true, intrInfo: 0, errorCode: 0))),
    .init(name: "kvm_entry", payload: "            vcpu 0 rip 0xffffffff81a0b2c4", expected: .entry(KVMEntry(vcpu: 0, rip: 0xffff_ffff_81a0_b2c4))),
    // kvm_nested_vmenter (6.12/minimal.trace line 64, 6.12/nested-npt.trace line 64) and ≤6.0 kvm_nested_vmrun.
    .init(name: "kvm_nested_vmenter", payload: "rip: 0x0000000000010172 vmcb: 0x0000000000031000 nested_rip: 0x00000000000101c2 int_ctl: 0x01000000 event_inj: 0x00000000 nested_npt=n guest_cr3: 0x0000000000001000",
          expected: .nestedVMEnter(KVMNestedVMEnter(generation: .vmenter, rip: 0x10172, vmcb: 0x31000, nestedRIP: 0x101c2, intCtl: 0x0100_0000, eventInj: 0, nestedPaging: false, pagingRoot: .guestCR3(0x1000)))),
    .init(name: "kvm_nested_vmenter", payload: "rip: 0x0000000000010172 vmcb: 0x0000000000031000 nested_rip: 0x000000000001074a int_ctl: 0x01000000 event_inj: 0x00000000 nested_npt=y nested_cr3: 0x0000000000060000",
          expected: .nestedVMEnter(KVMNestedVMEnter(generation: .vmenter, rip: 0x10172, vmcb: 0x31000, nestedRIP: 0x1074a, intCtl: 0x0100_0000, eventInj: 0, nestedPaging: true, pagingRoot: .nestedCR3(0x60000)))),
    .init(name: "kvm_nested_vmrun", payload: "rip: 0xffffffffc0a41d2b vmcb: 0x0000000104e5a000 nrip: 0x000000000000fff0 int_ctl: 0x01000000 event_inj: 0x00000000 npt: on",
          expected: .nestedVMEnter(KVMNestedVMEnter(generation: .vmrun, rip: 0xffff_ffff_c0a4_1d2b, vmcb: 0x1_04e5_a000, nestedRIP: 0xfff0, intCtl: 0x0100_0000, eventInj: 0, nestedPaging: true, pagingRoot: nil))),
    // kvm_nested_intercepts, 5.10+ and ≤5.9.
    .init(name: "kvm_nested_intercepts", payload: "cr_read: 0008 cr_write: 0001 excp: 00000000 intercepts: 01000000 00000001 00000000",
          expected: .nestedIntercepts(KVMNestedIntercepts(crRead: 8, crWrite: 1, exceptions: 0, word3: 0x0100_0000, word4: 1, word5: 0))),
    .init(name: "kvm_nested_intercepts", payload: "cr_read: 0000 cr_write: 0001 excp: 00044000 intercept: 0000007f99040003",
          expected: .nestedIntercepts(KVMNestedIntercepts(crRead: 0, crWrite: 1, exceptions: 0x44000, word3: 0x9904_0003, word4: 0x7f, word5: nil))),
    // kvm_nested_vmexit_inject, kernel and plugin.
    .init(name: "kvm_nested_vmexit_inject", payload: "reason: npf ext_inf1: 0x0000000100000007 ext_inf2: 0x0000000000071000 ext_int: 0x00000000 ext_int_err: 0x00000000",
          expected: .nestedVMExitInject(KVMNestedVMExitInject(exitReason: .npf, exitInfo1: 0x1_0000_0007, exitInfo2: 0x71000, exitIntInfo: 0, exitIntInfoErr: 0))),
    .init(name: "kvm_nested_vmexit_inject", payload: "reason: GP excp ext_inf1: 0x0000000000000000 ext_inf2: 0x0000000000000000 ext_int: 0x00000000 ext_int_err: 0x00000000",
          expected: .nestedVMExitInject(KVMNestedVMExitInject(exitReason: .exception(13), exitInfo1: 0, exitInfo2: 0, exitIntInfo: 0, exitIntInfoErr: 0))),
    .init(name: "kvm_nested_vmexit_inject", payload: "reason: 0xffffffff ext_inf1: 0x0000000000000000 ext_inf2: 0x0000000000000000 ext_int: 0x00000000 ext_int_err: 0x00000000",
          expected: .nestedVMExitInject(KVMNestedVMExitInject(exitReason: .invalid, exitInfo1: 0, exitInfo2: 0, exitIntInfo: 0, exitIntInfoErr: 0))),
    .init(name: "kvm_nested_vmexit_inject", payload: "reason EXIT_NPF info1 100000006 info2 b8000000 int_info 0 int_info_err 0",
          expected: .nestedVMExitInject(KVMNestedVMExitInject(exitReason: .npf, exitInfo1: 0x1_0000_0006, exitInfo2: 0xb800_0000, exitIntInfo: 0, exitIntInfoErr: 0))),
    .init(name: "kvm_nested_intr_vmexit", payload: "rip: 0x0000000000010036", expected: .nestedIntrVMExit(rip: 0x10036)),
    .init(name: "kvm_nested_vmenter_failed", payload: "!vmcb12_is_intercept(control, INTERCEPT_VMRUN)",
          expected: .nestedVMEnterFailed(message: "!vmcb12_is_intercept(control, INTERCEPT_VMRUN)")),
    .init(name: "kvm_nested_vmenter_failed", payload: "(save->cr0 & X86_CR0_CD) == 0 && (save->cr0 & X86_CR0_NW)",
          expected: .nestedVMEnterFailed(message: "(save->cr0 & X86_CR0_CD) == 0 && (save->cr0 & X86_CR0_NW)")),
    // kvm_inj_exception: 6.1+ forms, a hex-printed vector, ≤6.0 form, and perf's [FAILED TO PARSE].
    .init(name: "kvm_inj_exception", payload: "#GP (0x0)", expected: .injException(KVMInjException(vector: 13, errorCode: 0, reinjected: false))),
    .init(name: "kvm_inj_exception", payload: "#UD", expected: .injException(KVMInjException(vector: 6, errorCode: nil, reinjected: false))),
    .init(name: "kvm_inj_exception", payload: "#GP (0x0) [reinjected]", expected: .injException(KVMInjException(vector: 13, errorCode: 0, reinjected: true))),
    .init(name: "kvm_inj_exception", payload: "#UD [reinjected]", expected: .injException(KVMInjException(vector: 6, errorCode: nil, reinjected: true))),
    .init(name: "kvm_inj_exception", payload: "#PF (0x2) [reinjected]", expected: .injException(KVMInjException(vector: 14, errorCode: 2, reinjected: true))),
    .init(name: "kvm_inj_exception", payload: "0x2", expected: .injException(KVMInjException(vector: 2, errorCode: nil, reinjected: false))),
    .init(name: "kvm_inj_exception", payload: "#UD (0x0)", expected: .injException(KVMInjException(vector: 6, errorCode: 0, reinjected: nil))),
    .init(name: "kvm_inj_exception", payload: "[FAILED TO PARSE] exception=6 has_error=0 error_code=0 reinjected=1",
          expected: .injException(KVMInjException(vector: 6, errorCode: nil, reinjected: true))),
    .init(name: "kvm_inj_exception", payload: "   [FAILED TO PARSE] exception=13 has_error=1 error_code=0 reinjected=0",
          expected: .injException(KVMInjException(vector: 13, errorCode: 0, reinjected: false))),
    // kvm_inj_virq old and new.
    .init(name: "kvm_inj_virq", payload: "irq 32", expected: .injVirq(KVMInjVirq(kind: .irq, vector: 32, reinjected: nil))),
    .init(name: "kvm_inj_virq", payload: "IRQ 0x20", expected: .injVirq(KVMInjVirq(kind: .irq, vector: 0x20, reinjected: false))),
    .init(name: "kvm_inj_virq", payload: "Soft/INTn 0x3 [reinjected]", expected: .injVirq(KVMInjVirq(kind: .softInterrupt, vector: 3, reinjected: true))),
    // Handler events.
    .init(name: "kvm_msr", payload: "msr_read 1b = 0xfee00900", expected: .msr(KVMMSR(isWrite: false, msr: 0x1b, data: 0xfee0_0900, faulted: false))),
    .init(name: "kvm_msr", payload: "msr_read c0011fff = 0x0 (#GP)", expected: .msr(KVMMSR(isWrite: false, msr: 0xc001_1fff, data: 0, faulted: true))),
    .init(name: "kvm_msr", payload: "msr_write c0010117 = 0x30000", expected: .msr(KVMMSR(isWrite: true, msr: 0xc001_0117, data: 0x30000, faulted: false))),
    .init(name: "kvm_cr", payload: "cr_write 4 = 0x3506f0", expected: .cr(KVMCR(isWrite: true, cr: 4, value: 0x35_06f0))),
    .init(name: "kvm_pio", payload: "pio_write at 0x510 size 4 count 1 val 0x2 ",
          expected: .pio(KVMPIO(isWrite: true, port: 0x510, size: 4, count: 1, value: 2, hasMoreValues: false))),
    .init(name: "kvm_pio", payload: "pio_read at 0x1f0 size 2 count 256 val 0x4040 (...)",
          expected: .pio(KVMPIO(isWrite: false, port: 0x1f0, size: 2, count: 256, value: 0x4040, hasMoreValues: true))),
    .init(name: "kvm_emulate_insn", payload: "0:1016f:0f 01 d8 (prot64)",
          expected: .emulateInsn(KVMEmulateInsn(csBase: 0, rip: 0x1016f, bytes: [0x0f, 0x01, 0xd8], disassembly: nil, mode: .prot64, failed: false))),
    .init(name: "kvm_emulate_insn", payload: "0:1000:66 b9 40 0d 03 00 (real)",
          expected: .emulateInsn(KVMEmulateInsn(csBase: 0, rip: 0x1000, bytes: [0x66, 0xb9, 0x40, 0x0d, 0x03, 0x00], disassembly: nil, mode: .real, failed: false))),
    .init(name: "kvm_emulate_insn", payload: "0:fff0:0f 01 da (prot64) failed",
          expected: .emulateInsn(KVMEmulateInsn(csBase: 0, rip: 0xfff0, bytes: [0x0f, 0x01, 0xda], disassembly: nil, mode: .prot64, failed: true))),
    .init(name: "kvm_emulate_insn", payload: "    0:112d4: 0f 32",
          expected: .emulateInsn(KVMEmulateInsn(csBase: 0, rip: 0x112d4, bytes: [0x0f, 0x32], disassembly: nil, mode: nil, failed: false))),
    .init(name: "kvm_emulate_insn", payload: "0:112d4: rdmsr FAIL",
          expected: .emulateInsn(KVMEmulateInsn(csBase: 0, rip: 0x112d4, bytes: nil, disassembly: "rdmsr", mode: nil, failed: true))),
    .init(name: "kvm_page_fault", payload: "vcpu 0 rip 0x101c2 address 0x0000000000001000 error_code 0x200000006",
          expected: .pageFault(KVMPageFault(vcpu: 0, guestRIP: 0x101c2, address: 0x1000, errorCode: 0x2_0000_0006))),
    .init(name: "kvm_page_fault", payload: "address fee000b0 error_code 4",
          expected: .pageFault(KVMPageFault(vcpu: nil, guestRIP: nil, address: 0xfee0_00b0, errorCode: 4))),
    .init(name: "kvm_invlpga", payload: "rip: 0x000000000001061e asid: 0 address: 0x0000000000033000",
          expected: .invlpga(KVMInvlpga(rip: 0x1061e, asid: 0, address: 0x33000))),
    .init(name: "kvm_invlpga", payload: "rip: 0x000000000001061e asid: -1 address: 0x0000000000033000",
          expected: .invlpga(KVMInvlpga(rip: 0x1061e, asid: -1, address: 0x33000))),
    .init(name: "kvm_skinit", payload: "rip: 0x000000000001062d slb: 0x00033000", expected: .skinit(KVMSkinit(rip: 0x1062d, slb: 0x33000))),
    .init(name: "kvm_userspace_exit", payload: "reason KVM_EXIT_IO (2)", expected: .userspaceExit(KVMUserspaceExit(reason: "KVM_EXIT_IO", number: 2))),
    .init(name: "kvm_userspace_exit", payload: "reason restart (4)", expected: .userspaceExit(KVMUserspaceExit(reason: "restart", number: 4))),
    .init(name: "kvm_userspace_exit", payload: "reason 0x27 (39)", expected: .userspaceExit(KVMUserspaceExit(reason: "0x27", number: 39))),
    .init(name: "kvm_hypercall", payload: "nr 0x1 a0 0x2 a1 0x3 a2 0x0 a3 0xffffffffffffffff",
          expected: .hypercall(KVMHypercall(nr: 1, arguments: [2, 3, 0, .max]))),
    .init(name: "kvm_cpuid", payload: "func 1 idx 0 rax 800f12 rbx 800 rcx 76f83203 rdx 78bfbfd, cpuid entry found",
          expected: .cpuid(KVMCPUID(function: 1, index: 0, rax: 0x800f12, rbx: 0x800, rcx: 0x76f8_3203, rdx: 0x78b_fbfd, entryFound: true, note: ""))),
    .init(name: "kvm_cpuid", payload: "func 40000100 idx 0 rax 0 rbx 0 rcx 0 rdx 0, cpuid entry not found, used max basic",
          expected: .cpuid(KVMCPUID(function: 0x4000_0100, index: 0, rax: 0, rbx: 0, rcx: 0, rdx: 0, entryFound: false, note: ", used max basic"))),
    .init(name: "kvm_fpu", payload: "load", expected: .fpu(loaded: true)),
    .init(name: "kvm_fpu", payload: "unload", expected: .fpu(loaded: false)),
    // Not modelled: kept raw.
    .init(name: "kvm_apicv_inhibit_changed", payload: "set reason=0, inhibits=0x1 DISABLED", expected: .raw),
]

@Suite struct PayloadDecodingTests {
    @Test("each payload generation and dialect decodes to its typed value", arguments: payloadCases)
    func decodes(_ testCase: PayloadCase) throws {
        #expect(try decode(testCase.name, testCase.payload) == testCase.expected)
    }

    @Test("a modelled event in no known format is kept raw with a diagnostic")
    func unknownForm() throws {
        let trace = try loadText(tracefsPrefix + "kvm_exit: something else entirely\n")
        #expect(trace.count == 1)
        #expect(trace.event(at: EventNumber(0)).payload == .raw)
        #expect(trace.event(at: EventNumber(0)).payloadText == "something else entirely")
        #expect(trace.lineAccounting.raw == 1)
        #expect(trace.diagnostics.map(\.kind) == [.unrecognizedPayload])
    }

    @Test("exit reason names of both dialects map to the same code",
          arguments: [("npf", 0x400), ("EXIT_NPF", 0x400), ("GP excp", 0x4d), ("EXIT_EXCP_GP", 0x4d), ("hypercall", 0x81),
                      ("EXIT_VMMCALL", 0x81), ("io", 0x7b), ("EXIT_IOIO", 0x7b), ("UNKNOWN (142)", 0x8e),
                      ("0xffffffff", 0xffff_ffff), ("EXIT_ERR", 0xffff_ffff), ("0x8e", 0x8e), ("read_rt", 0x69)] as [(String, UInt32)])
    func exitNames(name: String, code: UInt32) {
        #expect(SVMExitReason(name: name)?.rawValue == code)
    }

    @Test("unknown exit codes print as hex, known ones by kernel name")
    func exitDescriptions() {
        #expect(SVMExitReason(0x8e).description == "0x8e")
        #expect(SVMExitReason.invalid.description == "0xffffffff")
        #expect(SVMExitReason.npf.description == "npf")
        #expect(SVMExitReason.npf.pluginName == "EXIT_NPF")
        #expect(SVMExitReason(name: "EPT_VIOLATION") == nil)
    }
}
