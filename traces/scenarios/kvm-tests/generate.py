#!/usr/bin/env python3
"""Writes traces/scenarios/kvm-tests/*.json: decide scenarios retelling KVM's own tests.

Usage: python3 traces/scenarios/kvm-tests/generate.py traces/scenarios/kvm-tests
Each scenario names the test (kvm_test: suite, file, test, assertion) and the outcome it
requires (expect / expect_by_profile); Tests/NestedSVMTests/KVMTestScenarioTests.swift runs
them all under every profile. The assertions are retold in our own words; no test code is copied.
"""
import json, os, sys, copy
OUT = sys.argv[1]
os.makedirs(OUT, exist_ok=True)
KUT = "kvm-unit-tests"
ST = "selftests"
written = []

HOST = {"svme_addr_chk": 1, "vgif": 1, "npt": 1, "nrips": 1, "decode_assists": 1, "maxphyaddr": 48,
        "vls": 1, "vmware_backdoor": 0, "guest_debug": 0}
SOURCE = "harness facts of the test (kvm-unit-tests x86/svm.c vmcb_ident / test_run)"

# default_prepare → vmcb_ident: intercepts VMRUN, VMMCALL, SHUTDOWN; ASID 1; NPT on;
# save area copied from L1 (long mode, paging, EFER with SVME).
def base_state(level="L2", word3=0x80000000, word4=0x3, excp=0, cr_read=0, cr_write=0, dr_read=0, dr_write=0,
               word5=0, int_ctl=0, l2_if=None, l1_if=0):
    st = {
        "level": level,
        "vmcb12": {
            "intercepts": {"cr_read": hex(cr_read), "cr_write": hex(cr_write), "dr_read": hex(dr_read),
                           "dr_write": hex(dr_write), "excp": hex(excp), "word3": hex(word3), "word4": hex(word4),
                           "word5": hex(word5)},
            "nested_paging": 1, "nested_cr3": "0x40f000", "int_ctl": hex(int_ctl), "event_inj": "0x0",
            "virt_ext": "0x0", "asid": 1, "msrpm_base_pa": "0x420000", "iopm_base_pa": "0x424000",
            "efer": "0x1d00", "cr0": "0x80010011", "cr3": "0x40f000", "cr4": "0x620",
            "dr6": "0xffff0ff0", "dr7": "0x400", "cs_attrib": "0xa99",
        },
        "l1": {"efer": "0x1d00", "cr0": "0x80010011", "cr4": "0x620", "cpl": 0, "rflags_if": l1_if},
        "l2": {"efer": "0x1d00", "cr0": "0x80010011", "cpl": 0},
        "hsave_pa": "0x430000",
        "smm": 0,
        "guest": {"maxphyaddr": 48,
                  "cpuid": {"lm": 1, "nx": 1, "rdtscp": 1, "invpcid": 1, "xsave": 1, "npt": 1, "vgif": 1,
                            "v_vmsave_vmload": 1, "fxsr_opt": 0},
                  "memory": [["0x0", "0x3fffffff"]]},
    }
    if l2_if is not None:
        st["l2"]["rflags_if"] = l2_if
    return st

def emit(name, suite, file, test, assertion, description, state, event, expect=None, expect_by_profile=None,
         profiles=None, host=None):
    doc = {"description": description, "source": SOURCE,
           "kvm_test": {"suite": suite, "file": file, "test": test, "assertion": assertion},
           "host": host or HOST, "state": state, "event": event}
    if expect is not None: doc["expect"] = expect
    if expect_by_profile: doc["expect_by_profile"] = expect_by_profile
    if profiles: doc["profiles"] = profiles
    path = os.path.join(OUT, name + ".json")
    assert name not in written, name
    written.append(name)
    with open(path, "w") as f:
        f.write(json.dumps(doc, indent=2) + "\n")

def reflect(code, info1=None, info2=None):
    e = {"kind": "reflect_to_l1", "exit_code": code}
    if info1 is not None: e["exit_info_1"] = hex(info1)
    if info2 is not None: e["exit_info_2"] = hex(info2)
    return e

def l0(level="L2"): return {"kind": "l0_handles", "level": level}
def inject(vector, level, error=None):
    e = {"kind": "inject_exception", "vector": vector, "level": level}
    if error is not None: e["error_code"] = error
    return e

F = "x86/svm_tests.c"
MSR_PROT = 0x80000000 | (1 << 28)   # SHUTDOWN + MSR_PROT (bit 124)
IOIO_PROT = 0x80000000 | (1 << 27)  # SHUTDOWN + IOIO_PROT (bit 123)

# ---- "msr intercept check" (prepare_msr_intercept / __test_msr_intercept) ----
# MSRs KVM emulates for an L2 (so a non-intercepted access is just handled by L0).
accepted = {0x10: "TSC", 0x1b: "APIC_BASE", 0x174: "SYSENTER_CS", 0x175: "SYSENTER_ESP",
            0x176: "SYSENTER_EIP", 0x277: "PAT", 0xc0000080: "EFER", 0xc0000081: "STAR",
            0xc0000082: "LSTAR", 0xc0000084: "SFMASK", 0xc0000100: "FS_BASE", 0xc0000102: "KERNEL_GS_BASE",
            0xc0010117: "VM_HSAVE_PA"}
edges_in = [0x0, 0x1fff, 0xc0000000, 0xc0001fff, 0xc0010000, 0xc0011fff]
outside = [0x2000, 0xbfffffff, 0xc0002000, 0xc000ffff, 0xc0012000]
for msr in list(accepted) + edges_in:
    for write in (False, True):
        d = "wrmsr" if write else "rdmsr"
        st = base_state(word3=MSR_PROT)
        st["vmcb12"]["msrpm"] = {hex(msr): {"read": 0 if write else 1, "write": 1 if write else 0}}
        emit(f"msr-{d}-{msr:x}-intercepted", KUT, F, "msr intercept check",
             f"with only the MSRPM {'write' if write else 'read'} bit of MSR {msr:#x} set, {d.upper()} in L2 must #VMEXIT to L1 with exit_info_1 = {int(write)}",
             f"L2 {d.upper()} {msr:#x} ({accepted.get(msr, 'range edge')}) with L1's MSRPM bit for that direction set: reflected as an MSR #VMEXIT",
             st, {"type": "exit", "exit_code": "msr", "exit_info_1": int(write), "exit_info_2": 0, "exit_int_info": 0, "rcx": hex(msr)},
             reflect("msr", int(write), 0))
for msr, name in accepted.items():
    for write in (False, True):
        d = "wrmsr" if write else "rdmsr"
        st = base_state(word3=MSR_PROT)
        st["vmcb12"]["msrpm"] = {hex(msr): {"read": 0, "write": 0}}
        st["guest"]["l0_rejects_msr"] = {hex(msr): 0}
        emit(f"msr-{d}-{msr:x}-not-intercepted", KUT, F, "msr intercept check",
             f"with both MSRPM bits of {name} clear, {d.upper()} in L2 must not reach L1 (test->scratch stays -1)",
             f"L2 {d.upper()} {name} ({msr:#x}) with L1's MSRPM bits clear: L0's msr_interception emulates it, L2 continues",
             st, {"type": "exit", "exit_code": "msr", "exit_info_1": int(write), "exit_info_2": 0, "exit_int_info": 0, "rcx": hex(msr)},
             l0("L2"))
for msr in outside:
    for write in (False, True):
        d = "wrmsr" if write else "rdmsr"
        st = base_state(word3=MSR_PROT)
        emit(f"msr-{d}-{msr:x}-outside-ranges", KUT, F, "msr intercept check",
             f"MSR {msr:#x} lies outside the three MSRPM ranges; with MSR_PROT set every access must #VMEXIT to L1 ('not covered by an MSRPM range')",
             f"L2 {d.upper()} {msr:#x}, outside every MSRPM range: always reflected",
             st, {"type": "exit", "exit_code": "msr", "exit_info_1": int(write), "exit_info_2": 0, "exit_int_info": 0, "rcx": hex(msr)},
             reflect("msr", int(write), 0))

# ---- "ioio" (prepare_ioio / test_ioio) ----
def io_info(port, size, is_in):
    bits = {1: 1 << 4, 2: 1 << 5, 4: 1 << 6}[size]
    return (port << 16) | bits | (1 if is_in else 0)
io_cases = [
    ("ioio-inb-5000-pass", "stage 0: inb(0x5000) with an empty IOPM passes to L0", 0x5000, 1, True, {"0x5000": 0}, "l0"),
    ("ioio-outb-5000-pass", "stage 0: outb(0x5000) with an empty IOPM passes to L0", 0x5000, 1, False, {"0x5000": 0}, "l0"),
    ("ioio-inb-0-intercepted", "io_bitmap[0] = 0xff: inb(0) must exit (stage 1 → 2)", 0x0, 1, True, {"0x0": 1}, "l1"),
    ("ioio-outw-0-intercepted", "io_bitmap[0] = 0xff: outw(0) must exit (stage 2 → 3)", 0x0, 2, False, {"0x0": 1, "0x1": 1}, "l1"),
    ("ioio-inl-0-intercepted", "io_bitmap[0] = 0xff: inl(0) must exit (stage 3 → 4)", 0x0, 4, True, {"0x0": 1, "0x1": 1, "0x2": 1, "0x3": 1}, "l1"),
    ("ioio-inb-5000-intercepted", "the bit of port 0x5000 set: inb(0x5000) must exit (low port)", 0x5000, 1, True, {"0x5000": 1}, "l1"),
    ("ioio-inw-9000-intercepted", "the bit of port 0x9000 set: inw(0x9000) must exit (high port)", 0x9000, 2, True, {"0x9000": 1, "0x9001": 0}, "l1"),
    ("ioio-inl-4fff-partial", "only port 0x5000's bit set: inl(0x4fff) covers it and must exit (partial pass)", 0x4fff, 4, True, {"0x4fff": 0, "0x5000": 1, "0x5001": 0, "0x5002": 0}, "l1"),
    ("ioio-inl-7fff-pass", "ports 0x7fff-0x8002 all clear: inl(0x7fff) across the page boundary passes", 0x7fff, 4, True, {"0x7fff": 0, "0x8000": 0, "0x8001": 0, "0x8002": 0}, "l0"),
    ("ioio-inl-7fff-across-pages", "port 0x8000's bit (second IOPM page) set: inl(0x7fff) must exit (across pages)", 0x7fff, 4, True, {"0x7fff": 0, "0x8000": 1, "0x8001": 0, "0x8002": 0}, "l1"),
    ("ioio-inl-ffff-beyond-64k", "io_bitmap[8192] = 0xff: inl(0xffff) reaches bits 0x10000-0x10002 and must exit", 0xffff, 4, True, {"0xffff": 0, "0x10000": 1, "0x10001": 1, "0x10002": 1}, "l1"),
    ("ioio-inl-ffff-pass", "io_bitmap[8192] = 0 and port 0xffff's bit cleared by the previous exit: inl(0xffff) passes", 0xffff, 4, True, {"0xffff": 0, "0x10000": 0, "0x10001": 0, "0x10002": 0}, "l0"),
]
for name, assertion, port, size, is_in, bits, who in io_cases:
    st = base_state(word3=IOIO_PROT)
    st["vmcb12"]["iopm"] = bits
    info = io_info(port, size, is_in)
    emit(name, KUT, F, "ioio", assertion,
         f"L2 {'IN' if is_in else 'OUT'} of {size} byte(s) at port {port:#x} under L1's IOPM: " + ("reflected as an io #VMEXIT" if who == "l1" else "L0 handles it (kvm_pio), L2 continues"),
         st, {"type": "exit", "exit_code": "io", "exit_info_1": hex(info), "exit_info_2": 0, "exit_int_info": 0},
         reflect("io", info) if who == "l1" else l0("L2"))
st = base_state(word3=0x80000000)
emit("ioio-no-iopm-intercept", KUT, F, "null",
     "default_prepare sets no IOIO_PROT: port I/O of L2 never reaches L1 (null test ends at VMMCALL)",
     "L2 OUT to port 0x3f8 while L1 does not set IOIO_PROT: L0 handles it", st,
     {"type": "exit", "exit_code": "io", "exit_info_1": hex(io_info(0x3f8, 1, False)), "exit_info_2": 0, "exit_int_info": 0},
     l0("L2"))

# ---- "dr intercept check" (intercept[INTERCEPT_DR] = 0xff00ff) ----
for i in range(8):
    for write in (False, True):
        st = base_state(dr_read=0xff, dr_write=0xff)
        code = (0x30 if write else 0x20) + i
        emit(f"dr{i}-{'write' if write else 'read'}-intercepted", KUT, F, "dr intercept check",
             f"with DR intercepts 0xff00ff, MOV {'to' if write else 'from'} DR{i} must #VMEXIT to L1 with exit code {'write' if write else 'read'}_dr{i} (scratch = n % 16 = {i})",
             f"L2 MOV {'to' if write else 'from'} DR{i} with L1 intercepting DR{i} {'writes' if write else 'reads'}: reflected",
             st, {"type": "exit", "exit_code": hex(code), "exit_info_1": 0, "exit_info_2": 0, "exit_int_info": 0},
             reflect(hex(code)))

# ---- CR tests ----
st = base_state(cr_read=1 << 3)
emit("cr3-read-intercept", KUT, F, "cr3 read intercept",
     "check_cr3_intercept: MOV from CR3 with INTERCEPT_CR3_READ set exits with SVM_EXIT_READ_CR3",
     "L2 MOV from CR3 while L1 intercepts CR3 reads: reflected as read_cr3", st,
     {"type": "exit", "exit_code": "read_cr3", "exit_info_1": hex((1 << 63) | 0), "exit_info_2": 0, "exit_int_info": 0},
     reflect("read_cr3"))
# selective CR0: hardware reports cr0_sel_write directly
st = base_state(word3=0x80000000 | (1 << 5))
st["vmcb12"]["cr0"] = "0x80010011"
emit("sel-cr0-write-intercept-hw", KUT, F, "sel cr0 write intercept",
     "check_sel_cr0_intercept: MOV to CR0 setting CR0.CD under the selective CR0 intercept exits with SVM_EXIT_CR0_SEL_WRITE",
     "L2 sets CR0.CD; the CPU reports the selective CR0 write (exit 0x65) and L1 intercepts it: reflected", st,
     {"type": "exit", "exit_code": "cr0_sel_write", "exit_info_1": hex(1 << 63), "exit_info_2": 0, "exit_int_info": 0},
     reflect("cr0_sel_write"))
st = base_state(word3=0x80000000 | (1 << 5))
emit("sel-cr0-write-intercept-via-l0", KUT, F, "sel cr0 write intercept",
     "check_sel_cr0_intercept: setting CR0.CD must reach L1 as SVM_EXIT_CR0_SEL_WRITE even when the hardware exit was L0's own CR0-write intercept",
     "L2 MOV to CR0 setting CD exits on vmcb02's CR0-write intercept (L0's); L1 does not intercept CR0 writes but uses the selective intercept: check_selective_cr0_intercepted turns it into cr0_sel_write", st,
     {"type": "exit", "exit_code": "write_cr0", "exit_info_1": hex(1 << 63), "exit_info_2": 0, "exit_int_info": 0,
      "written_value": hex(0x80010011 | (1 << 30))},
     reflect("cr0_sel_write"))
st = base_state(word3=0x80000000 | (1 << 5), cr_write=1)
emit("sel-cr0-write-intercept-priority", KUT, F, "sel cr0 write intercept priority",
     "check_nonsel_cr0_intercept: with both the CR0-write and the selective intercept, the write exits with SVM_EXIT_WRITE_CR0",
     "L2 sets CR0.CD while L1 intercepts all CR0 writes (and selectively): the plain write_cr0 is reflected", st,
     {"type": "exit", "exit_code": "write_cr0", "exit_info_1": hex(1 << 63), "exit_info_2": 0, "exit_int_info": 0,
      "written_value": hex(0x80010011 | (1 << 30))},
     reflect("write_cr0"))
st = base_state(word3=0x80000000 | (1 << 5))
emit("sel-cr0-write-nointercept", KUT, F, "sel cr0 write nointercept",
     "check_cr0_nointercept: a MOV to CR0 that changes only CR0.MP is not a selective write; the guest reaches VMMCALL with the new CR0",
     "L2 sets CR0.MP (only TS/MP change) on L0's CR0-write intercept: not a selective write, L0 performs the MOV", st,
     {"type": "exit", "exit_code": "write_cr0", "exit_info_1": hex(1 << 63), "exit_info_2": 0, "exit_int_info": 0,
      "written_value": hex(0x80010011 | (1 << 1))},
     l0("L2"))

# ---- VMRUN / basic (null, vmrun, vmrun intercept check, asid_zero) ----
st = base_state()
emit("null-vmmcall", KUT, F, "null", "null_check: the guest's VMMCALL exits with SVM_EXIT_VMMCALL",
     "L2 VMMCALL while L1 intercepts VMMCALL (vmcb_ident): reflected as hypercall", st,
     {"type": "exit", "exit_code": "hypercall", "exit_info_1": 0, "exit_info_2": 0, "exit_int_info": 0, "insn_bytes": "0f 01 d9"},
     reflect("hypercall"))
st = base_state()
emit("vmrun-in-l2", KUT, F, "vmrun", "check_vmrun: VMRUN executed by L2 exits with SVM_EXIT_VMRUN",
     "L2 executes VMRUN; L1 intercepts VMRUN (it must): reflected as vmrun", st,
     {"type": "exit", "exit_code": "vmrun", "exit_info_1": 0, "exit_info_2": 0, "exit_int_info": 0, "rax": "0x421000", "insn_bytes": "0f 01 d8"},
     reflect("vmrun"))
st = base_state(level="L1", word4=0x2)
emit("vmrun-intercept-check", KUT, F, "vmrun intercept check",
     "check_no_vmrun_int: VMRUN of a vmcb without the VMRUN intercept fails with SVM_EXIT_ERR",
     "L1 VMRUN with vmcb12 not intercepting VMRUN: consistency check fails, VMEXIT_INVALID", st,
     {"type": "exit", "exit_code": "vmrun", "exit_info_1": 0, "exit_info_2": 0, "exit_int_info": 0, "rax": "0x421000", "insn_bytes": "0f 01 d8"},
     {"kind": "vmrun_fails", "check": "vmrun-intercept"})
st = base_state(level="L1")
st["vmcb12"]["asid"] = 0
emit("asid-zero", KUT, F, "asid_zero", "check_asid_zero: VMRUN with ASID 0 fails with SVM_EXIT_ERR",
     "L1 VMRUN with vmcb12 ASID 0: the ASID consistency check fails", st,
     {"type": "exit", "exit_code": "vmrun", "exit_info_1": 0, "exit_info_2": 0, "exit_int_info": 0, "rax": "0x421000", "insn_bytes": "0f 01 d8"},
     {"kind": "vmrun_fails", "check": "asid"})
st = base_state(level="L1")
emit("vmrun-default-vmcb", KUT, F, "null",
     "default_prepare builds a consistent vmcb (vmcb_ident): VMRUN enters the guest",
     "L1 VMRUN of vmcb_ident's vmcb (state copied from L1): every consistency check passes, L2 runs", st,
     {"type": "exit", "exit_code": "vmrun", "exit_info_1": 0, "exit_info_2": 0, "exit_int_info": 0, "rax": "0x421000", "insn_bytes": "0f 01 d8"},
     {"kind": "vmrun_succeeds"})

# ---- next_rip: RDTSC intercept ----
st = base_state(word3=0x80000000 | (1 << 14))
emit("next-rip-rdtsc", KUT, F, "next_rip", "check_next_rip: RDTSC with INTERCEPT_RDTSC exits to L1 (next_rip = the following instruction)",
     "L2 RDTSC with L1 intercepting RDTSC: reflected as rdtsc", st,
     {"type": "exit", "exit_code": "rdtsc", "exit_info_1": 0, "exit_info_2": 0, "exit_int_info": 0},
     reflect("rdtsc"))

# ---- svm_guest_state_test: VMRUN consistency checks (test_efer, test_cr0, test_cr3, test_cr4, test_dr) ----
VMRUN_EVENT = {"type": "exit", "exit_code": "vmrun", "exit_info_1": 0, "exit_info_2": 0, "exit_int_info": 0, "rax": "0x421000", "insn_bytes": "0f 01 d8"}
def vmrun_case(name, test, assertion, description, mutate, expect, cpuid=None, profiles=None, expect_by_profile=None):
    st = base_state(level="L1")
    mutate(st["vmcb12"])
    if cpuid: st["guest"]["cpuid"].update(cpuid)
    emit(name, KUT, F, test, assertion, description, st, dict(VMRUN_EVENT), expect, profiles=profiles, expect_by_profile=expect_by_profile)
FAIL = lambda check: {"kind": "vmrun_fails", "check": check}
OK = {"kind": "vmrun_succeeds"}
def setf(field, value):
    def m(v): v[field] = value
    return m
vmrun_case("guest-state-efer-svme-clear", "svm_guest_state_test", "test_efer: clearing EFER.SVME in the VMCB makes VMRUN fail with SVM_EXIT_ERR",
           "vmcb12 EFER without SVME: __nested_vmcb_check_save fails", setf("efer", "0xd00"), FAIL("efer-svme"))
vmrun_case("guest-state-efer-bit9", "svm_guest_state_test", "test_efer: EFER bit 9 is MBZ; setting it makes VMRUN fail",
           "vmcb12 EFER with reserved bit 9: kvm_valid_efer rejects it", setf("efer", hex(0x1d00 | (1 << 9))), FAIL("efer-valid"))
for b in range(16, 64, 4):
    vmrun_case(f"guest-state-efer-bit{b}", "svm_guest_state_test", f"test_efer: EFER bit {b} is MBZ (63:16); setting it makes VMRUN fail",
               f"vmcb12 EFER with reserved bit {b}: kvm_valid_efer rejects it", setf("efer", hex(0x1d00 | (1 << b))), FAIL("efer-valid"))
def lm_no_pae(v): v["cr4"] = hex(0x620 & ~0x20)
vmrun_case("guest-state-lme-pg-no-pae", "svm_guest_state_test", "test_efer: EFER.LME=1, CR0.PG=1 and CR4.PAE=0 makes VMRUN fail",
           "long mode without CR4.PAE: check fails", lm_no_pae, FAIL("long-mode-pae"))
def lm_no_pe(v): v["cr0"] = hex(0x80010011 & ~1)
vmrun_case("guest-state-lme-pg-no-pe", "svm_guest_state_test", "test_efer: EFER.LME=1, CR0.PG=1 and CR0.PE=0 makes VMRUN fail",
           "long mode with paging but CR0.PE clear: check fails", lm_no_pe, FAIL("long-mode-pe"))
vmrun_case("guest-state-cs-l-and-d", "svm_guest_state_test", "test_efer: EFER.LME, CR0.PG, CR4.PAE, CS.L and CS.D all set makes VMRUN fail",
           "long mode with CS.L and CS.D both set: check fails", setf("cs_attrib", hex(0xa99 | (1 << 10))), FAIL("long-mode-cs"))
for cd, nw, ok in ((1, 0, True), (1, 1, True), (0, 0, True), (0, 1, False)):
    cr0 = 0x80010011 | (cd << 30) | (nw << 29)
    vmrun_case(f"guest-state-cr0-cd{cd}-nw{nw}", "svm_guest_state_test",
               f"test_cr0: CR0 CD={cd}, NW={nw} must {'enter the guest (VMMCALL exit)' if ok else 'make VMRUN fail (SVM_EXIT_ERR)'}",
               f"vmcb12 CR0 with CD={cd} NW={nw}: " + ("legal" if ok else "NW without CD is illegal"), setf("cr0", hex(cr0)),
               OK if ok else FAIL("cr0-cd-nw"))
for b in range(32, 64, 4):
    vmrun_case(f"guest-state-cr0-bit{b}", "svm_guest_state_test", f"test_cr0: CR0 bit {b} is MBZ (63:32); setting it makes VMRUN fail",
               f"vmcb12 CR0 with bit {b} set: check fails", setf("cr0", hex(0x80010011 | (1 << b))), FAIL("cr0-upper"))
for b in range(52, 64):
    vmrun_case(f"guest-state-cr3-bit{b}", "svm_guest_state_test", f"test_cr3: CR3 bit {b} is MBZ in long mode (63:52); setting it makes VMRUN fail",
               f"vmcb12 CR3 with bit {b} set, beyond the guest MAXPHYADDR: the long-mode CR3 check fails", setf("cr3", hex(0x40f000 | (1 << b))), FAIL("long-mode-cr3"))
vmrun_case("guest-state-cr3-clear", "svm_guest_state_test", "test_cr3: CR3 with the MBZ bits clear enters the guest",
           "vmcb12 CR3 with 63:52 clear: legal", setf("cr3", "0x40f000"), OK)
for b in (0, 1, 2, 5, 6, 7, 8, 9, 10, 11):
    def m(v, b=b):
        v["cr3"] = hex(0x40f000 | (1 << b)); v["cr4"] = hex(0x620 | (1 << 17))
    vmrun_case(f"guest-state-cr3-pcide-bit{b}", "svm_guest_state_test",
               f"test_cr3 (PCIDE=1): CR3 bit {b} is a PCID bit, not reserved; VMRUN enters the guest",
               f"vmcb12 CR4.PCIDE with CR3 bit {b}: legal when L1's CPUID has PCID", m, OK, cpuid={"pcid": 1})
# CR4 reserved bits in legacy and long mode (SVM_CR4_LEGACY_RESERVED_MASK / SVM_CR4_RESERVED_MASK)
always = [15, 25, 26, 27, 29, 30, 31]
for b in always:
    vmrun_case(f"guest-state-cr4-bit{b}-long", "svm_guest_state_test", f"test_cr4: CR4 bit {b} is reserved; with EFER.LME set VMRUN fails",
               f"vmcb12 CR4 with reserved bit {b} (long mode): check fails", setf("cr4", hex(0x620 | (1 << b))), FAIL("cr4-valid"))
    def m(v, b=b):
        v["cr4"] = hex(0x620 | (1 << b)); v["efer"] = hex(0x1d00 & ~0x500); v["cr0"] = "0x80010011"
    vmrun_case(f"guest-state-cr4-bit{b}-legacy", "svm_guest_state_test", f"test_cr4: CR4 bit {b} is reserved; with EFER.LME clear VMRUN fails",
               f"vmcb12 CR4 with reserved bit {b} (legacy mode): check fails", m, FAIL("cr4-valid"))
for b, feat in ((13, "vmx"), (14, "smx"), (19, "keylocker"), (28, "lam")):
    vmrun_case(f"guest-state-cr4-bit{b}-no-{feat}", "svm_guest_state_test",
               f"test_cr4: CR4 bit {b} is in SVM_CR4_RESERVED_MASK; VMRUN fails (the L1 has no {feat.upper()})",
               f"vmcb12 CR4 bit {b} without guest CPUID {feat}: __cr4_reserved_bits rejects it", setf("cr4", hex(0x620 | (1 << b))),
               FAIL("cr4-valid"), cpuid={feat: 0})
for b in range(32, 64, 4):
    vmrun_case(f"guest-state-cr4-bit{b}", "svm_guest_state_test", f"test_cr4: CR4 bit {b} (63:32) is reserved; VMRUN fails",
               f"vmcb12 CR4 with bit {b}: check fails", setf("cr4", hex(0x620 | (1 << b))), FAIL("cr4-valid"))
for reg, check in (("dr6", "dr6-upper"), ("dr7", "dr7-upper")):
    base = 0xffff0ff0 if reg == "dr6" else 0x400
    for b in range(32, 64, 4):
        vmrun_case(f"guest-state-{reg}-bit{b}", "svm_guest_state_test", f"test_dr: {reg.upper()} bit {b} is MBZ (63:32); VMRUN fails",
                   f"vmcb12 {reg.upper()} with bit {b}: check fails", setf(reg, hex(base | (1 << b))), FAIL(check))
# test_msrpm_iopm_bitmap_addrs with guest MAXPHYADDR 48
LIM = 1 << 48
PG = 0x1000
def bm(field, addr):
    def m(v):
        v[field] = hex(addr)
        w = int(v["intercepts"]["word3"], 16)
        v["intercepts"]["word3"] = hex(w | (1 << (28 if field == "msrpm_base_pa" else 27)))
    return m
vmrun_case("bitmap-msrpm-last-page", "svm_guest_state_test", "test_msrpm_iopm_bitmap_addrs: an MSRPM at 2^MAXPHYADDR - 4 KiB runs past the limit; VMRUN fails",
           "MSRPM base one page below the limit: its 8 KiB cross 2^MAXPHYADDR", bm("msrpm_base_pa", LIM - PG), FAIL("msrpm-base"))
vmrun_case("bitmap-msrpm-own", "svm_guest_state_test", "test_msrpm_iopm_bitmap_addrs: the test's own MSRPM address enters the guest",
           "MSRPM at a low, page-aligned address: legal", bm("msrpm_base_pa", 0x420000), OK)
vmrun_case("bitmap-msrpm-own-low-bits", "svm_guest_state_test", "test_msrpm_iopm_bitmap_addrs: bits 11:0 of the MSRPM address are ignored (addr | 0xfff enters the guest)",
           "MSRPM base with bits 11:0 set: KVM clears them when caching vmcb12", bm("msrpm_base_pa", 0x420fff), OK)
for off, ok, what in ((4 * PG, True, "4 pages"), (3 * PG, True, "3 pages"), (2 * PG + 2, True, "2 pages + 2 bytes (bits 11:0 ignored: 3 pages)"),
                      (2 * PG, False, "2 pages"), (PG, False, "1 page")):
    vmrun_case(f"bitmap-iopm-limit-minus-{off:x}", "svm_guest_state_test",
               f"test_msrpm_iopm_bitmap_addrs: an IOPM {what} below 2^MAXPHYADDR {'fits and enters the guest' if ok else 'runs past the limit; VMRUN fails'}",
               f"IOPM base 2^48 - {off:#x}: the 12 KiB map " + ("fits" if ok else "crosses the limit"), bm("iopm_base_pa", LIM - off), OK if ok else FAIL("iopm-base"))
vmrun_case("bitmap-iopm-own-low-bits", "svm_guest_state_test", "test_msrpm_iopm_bitmap_addrs: the IOPM address with bits 11:0 set enters the guest",
           "IOPM base with bits 11:0 set: ignored", bm("iopm_base_pa", 0x424fff), OK)

# ---- svm_vmload_vmsave ----
for insn, code, bit, op in (("vmload", "vmload", 130, "0f 01 da"), ("vmsave", "vmsave", 131, "0f 01 db")):
    st = base_state(word4=0x3 | (1 << (bit - 128)))
    emit(f"{insn}-intercepted", KUT, F, "svm_vmload_vmsave", f"with INTERCEPT_{insn.upper()} set, {insn.upper()} in L2 exits with SVM_EXIT_{insn.upper()}",
         f"L2 {insn.upper()} while L1 intercepts it: reflected", st,
         {"type": "exit", "exit_code": code, "exit_info_1": 0, "exit_info_2": 0, "exit_int_info": 0, "rax": "0x421000", "insn_bytes": op},
         reflect(code))

# ---- rsm ----
st = base_state(word3=0x80000000 | (1 << 19), excp=1 << 6)
emit("rsm-intercepted", KUT, F, "rsm", "finished_rsm_intercept stage 0: RSM with INTERCEPT_RSM exits with SVM_EXIT_RSM",
     "L2 RSM while L1 intercepts RSM: reflected", st,
     {"type": "exit", "exit_code": "rsm", "exit_info_1": 0, "exit_info_2": 0, "exit_int_info": 0, "insn_bytes": "0f aa"},
     reflect("rsm"))
st = base_state(excp=1 << 6)
emit("rsm-outside-smm-ud", KUT, F, "rsm", "finished_rsm_intercept stage 1: without the RSM intercept, RSM outside SMM raises #UD, which L1 intercepts (SVM_EXIT_EXCP_BASE + UD_VECTOR)",
     "L2 RSM outside SMM, L1 not intercepting RSM but #UD: L0 emulates RSM, em_rsm raises #UD, reflected as UD excp", st,
     {"type": "exit", "exit_code": "rsm", "exit_info_1": 0, "exit_info_2": 0, "exit_int_info": 0, "insn_bytes": "0f aa"},
     reflect("UD excp"))

# ---- svm_exception_test: handle_exception_in_l1 ----
for vec, mnem, err in ((13, "GP", 0), (6, "UD", None), (0, "DE", None), (1, "DB", None), (3, "BP", None), (17, "AC", 0), (4, "OF", None), (7, "NM", None)):
    st = base_state(excp=1 << vec)
    if vec == 1:  # the test raises no NMI: L0 is not single-stepping over an NMI window
        st["assumptions"] = {"l0.nmi-singlestep": False}
    emit(f"exception-{mnem.lower()}-in-l1", KUT, F, "svm_exception_test",
         f"handle_exception_in_l1: with the #{mnem} intercept set, the guest's #{mnem} exits with SVM_EXIT_EXCP_BASE + {vec}",
         f"L2 raises #{mnem} while L1 intercepts it: reflected as the exception exit", st,
         dict({"type": "exit", "exit_code": hex(0x40 + vec), "exit_info_1": err if err is not None else 0, "exit_info_2": 0, "exit_int_info": 0},
              **({"insn_bytes": "0f 0b"} if vec == 6 else {})),
         reflect(hex(0x40 + vec)))

# ---- svm_shutdown_intercept_test ----
st = base_state()
emit("shutdown-intercepted", KUT, F, "svm_shutdown_intercept_test",
     "a #UD with an unusable IDT escalates to shutdown; with INTERCEPT_SHUTDOWN L1 sees SVM_EXIT_SHUTDOWN",
     "L2 shuts down (triple fault) while L1 intercepts SHUTDOWN: reflected", st,
     {"type": "exit", "exit_code": "shutdown", "exit_info_1": 0, "exit_info_2": 0, "exit_int_info": 0},
     reflect("shutdown"))
st = base_state()
emit("shutdown-triple-fault-pending", KUT, F, "svm_shutdown_intercept_test",
     "a triple fault KVM raises for L2 (KVM_REQ_TRIPLE_FAULT) becomes SVM_EXIT_SHUTDOWN when L1 intercepts SHUTDOWN",
     "pending triple fault of L2, L1 intercepts SHUTDOWN: nested_svm_triple_fault synthesizes the #VMEXIT", st,
     {"type": "pending", "pending": "triple_fault"}, reflect("shutdown"))

# ---- svm_unsupported_instruction_intercept_test ----
for insn, code, feat, op in (("rdtscp", "rdtscp", "rdtscp", "0f 01 f9"), ("skinit", "skinit", "skinit", "0f 01 de"),
                             ("rdpru", "rdpru", "rdpru", "0f 01 fd"), ("invpcid", "invpcid", "invpcid", "66 0f 38 82 05")):
    bit = {"rdtscp": 135, "skinit": 134, "rdpru": 142, "invpcid": 162}[insn]
    w3, w4, w5 = 0x80000000, 0x3, 0
    if bit < 160: w4 |= 1 << (bit - 128)
    else: w5 |= 1 << (bit - 160)
    st = base_state(excp=1 << 6, word3=w3, word4=w4, word5=w5)
    st["guest"]["cpuid"][feat] = 0
    emit(f"unsupported-{insn}-ud", KUT, F, "svm_unsupported_instruction_intercept_test",
         f"L1's CPUID lacks {insn.upper()}: L1's intercept of it must be ignored and the guest gets #UD, which L1 intercepts ('UD Exception injected')",
         f"L2 {insn.upper()} while L1 intercepts it but L1's CPUID lacks the feature: upstream KVM ignores L1's bit, L0's handler raises #UD, reflected as UD excp; 6.1/6.12 reflect the instruction exit (the test fails there)",
         st, {"type": "exit", "exit_code": code, "exit_info_1": 0, "exit_info_2": 0, "exit_int_info": 0, "insn_bytes": op},
         expect=None, expect_by_profile={"upstream": reflect("UD excp"), "6.12": reflect(code), "6.1": reflect(code)})

# ---- pending events (pending_event, pending_event_cli, svm_intr_intercept_mix_*, nmi, init, smi) ----
INTR, NMI, SMI, INIT = 1, 2, 4, 8
# The harness's L2 is not inside an NMI handler and the event is recognised outside an
# STI/MOV SS shadow (the tests' sti is followed by a nop or more code before the check).
HARNESS_EVENT_FACTS = {"vcpu.nmi-masked": False, "vcpu.interrupt-shadow": False}
def pend(name, test, assertion, description, kind, word3_bits, masking, l1_if, l2_if, expect, file=F, suite=KUT):
    st = base_state(word3=0x80000000 | word3_bits, int_ctl=(1 << 24) if masking else 0, l1_if=l1_if, l2_if=l2_if)
    if kind in ("nmi", "interrupt"):
        st["assumptions"] = dict(HARNESS_EVENT_FACTS)
    emit(name, suite, file, test, assertion, description, st, {"type": "pending", "pending": kind}, expect)
pend("pending-event-intr-intercepted", "pending_event",
     "with INTERCEPT_INTR and V_INTR_MASKING, a self-IPI pending at VMRUN exits with SVM_EXIT_INTR before the guest runs",
     "interrupt pending for L1 (L1's IF set by test_run's sti), L1 intercepts INTR with V_INTR_MASKING: #VMEXIT(INTR)",
     "interrupt", INTR, True, 1, 0, reflect("interrupt", 0, 0))
pend("pending-event-cli-blocked", "pending_event_cli",
     "without V_INTR_MASKING and INTR intercept, the pending interrupt must not fire while L2 runs with IF=0",
     "interrupt pending, no V_INTR_MASKING, L2's RFLAGS.IF clear: svm_interrupt_blocked, nothing happens",
     "interrupt", 0, False, 1, 0, {"kind": "no_exit", "level": "L2"})
pend("pending-event-cli-delivered", "pending_event_cli",
     "after L2's sti the pending interrupt is delivered inside L2 (pending_event_ipi_fired)",
     "interrupt pending, no V_INTR_MASKING, L2's IF set, L1 not intercepting INTR: injected into L2",
     "interrupt", 0, False, 0, 1, {"kind": "inject_interrupt", "level": "L2"})
pend("intr-mix-if-blocked", "svm_intr_intercept_mix_if",
     "'No interrupt expected' while L2 runs with EFLAGS.IF clear (INTR intercepted, no V_INTR_MASKING)",
     "interrupt pending, L1 intercepts INTR without V_INTR_MASKING, L2's IF clear: blocked, no exit",
     "interrupt", INTR, False, 0, 0, {"kind": "no_exit", "level": "L2"})
pend("intr-mix-if-sti", "svm_intr_intercept_mix_if",
     "after L2's sti the pending interrupt exits with SVM_EXIT_INTR",
     "interrupt pending, L1 intercepts INTR without V_INTR_MASKING, L2's IF set: #VMEXIT(INTR)",
     "interrupt", INTR, False, 0, 1, reflect("interrupt", 0, 0))
pend("intr-mix-masking-l1-if-clear", "svm_intr_intercept_mix_gif",
     "with V_INTR_MASKING the interrupt belongs to L1: while L1's IF is clear nothing exits, whatever L2's IF",
     "interrupt pending, V_INTR_MASKING, L1's RFLAGS.IF clear, L2's set: blocked by L1's IF (vmcb01), no exit",
     "interrupt", INTR, True, 0, 1, {"kind": "no_exit", "level": "L2"})
pend("nmi-intercepted", "nmi", "nmi_finished stage 1: with INTERCEPT_NMI a self-NMI exits with SVM_EXIT_NMI",
     "NMI pending while L2 runs, L1 intercepts NMI: #VMEXIT(NMI)", "nmi", NMI, False, 1, 0, reflect("nmi", 0, 0))
pend("nmi-intr-mix", "svm_intr_intercept_mix_nmi", "an NMI sent while L2 runs exits with SVM_EXIT_NMI (NMI intercepted)",
     "NMI pending, L1 intercepts NMI: reflected", "nmi", NMI, False, 0, 0, reflect("nmi", 0, 0))
pend("nmi-not-intercepted", "nmi", "nmi stage 0: without the NMI intercept the NMI is delivered inside the guest (its handler runs, then VMMCALL)",
     "NMI pending, L1 does not intercept NMI: injected into L2", "nmi", 0, False, 0, 0, {"kind": "inject_nmi", "level": "L2"})
pend("init-intercepted", "svm_init_intercept_test", "a self-INIT with INTERCEPT_INIT exits with SVM_EXIT_INIT",
     "INIT latched while L2 runs, L1 intercepts INIT: #VMEXIT(INIT)", "init", INIT, False, 0, 0, reflect("init", 0, 0))
pend("smi-intercepted", "svm_intr_intercept_mix_smi", "an SMI sent while L2 runs exits with SVM_EXIT_SMI (SMI intercepted)",
     "SMI pending, L1 intercepts SMI: #VMEXIT(SMI)", "smi", SMI, False, 0, 0, reflect("smi", 0, 0))

# ---- selftests ----
SD = "tools/testing/selftests/kvm/x86_64/"
st = base_state()
emit("st-svm-vmcall", ST, SD + "svm_vmcall_test.c", "svm_vmcall_test",
     "l1_guest_code asserts exit_code == SVM_EXIT_VMMCALL after L2's vmmcall",
     "L2 VMMCALL with L1 intercepting VMMCALL (generic_svm_setup): reflected as hypercall", st,
     {"type": "exit", "exit_code": "hypercall", "exit_info_1": 0, "exit_info_2": 0, "exit_int_info": 0, "insn_bytes": "0f 01 d9"},
     reflect("hypercall"))
st = base_state(word3=0)
emit("st-nested-shutdown-hw", ST, SD + "svm_nested_shutdown_test.c", "svm_nested_shutdown_test",
     "L1 clears INTERCEPT_SHUTDOWN; L2's ud2 with a broken IDT shuts down and the VM exits with KVM_EXIT_SHUTDOWN",
     "L2 shutdown exit while L1 does not intercept SHUTDOWN: L0's shutdown_interception, KVM_EXIT_SHUTDOWN", st,
     {"type": "exit", "exit_code": "shutdown", "exit_info_1": 0, "exit_info_2": 0, "exit_int_info": 0},
     {"kind": "userspace_exit"})
st = base_state(word3=0)
emit("st-nested-shutdown-triple-fault", ST, SD + "svm_nested_shutdown_test.c", "svm_nested_shutdown_test",
     "a triple fault of L2 that L1 does not intercept (SHUTDOWN clear) ends in KVM_EXIT_SHUTDOWN",
     "pending triple fault of L2, L1 not intercepting SHUTDOWN: KVM_EXIT_SHUTDOWN", st,
     {"type": "pending", "pending": "triple_fault"}, {"kind": "userspace_exit"})
st = base_state(word3=0)
emit("st-triple-fault-event", ST, SD + "triple_fault_event_test.c", "triple_fault_event_test (SVM)",
     "a triple fault injected with KVM_SET_VCPU_EVENTS while L2 runs, SHUTDOWN not intercepted: KVM_EXIT_SHUTDOWN",
     "pending triple fault in guest mode, L1 not intercepting SHUTDOWN: the VM shuts down", st,
     {"type": "pending", "pending": "triple_fault"}, {"kind": "userspace_exit"})
EXC_SS_GP_DF = (1 << 12) | (1 << 13) | (1 << 8)
st = base_state(excp=EXC_SS_GP_DF)
emit("st-nested-exceptions-ss-pending", ST, SD + "nested_exceptions_test.c", "nested_exceptions_test (SVM)",
     "l2_ss_pending_test: a #SS queued by userspace exits with SVM_EXIT_EXCP_BASE + SS_VECTOR and exit_info_1 = SS_ERROR_CODE",
     "#SS (error code 0xdeadbeef) pending for L2, L1 intercepts #SS: reflected with the error code in exit_info_1", st,
     {"type": "pending", "pending": "exception", "vector": 12, "error_code": "0xdeadbeef"}, reflect("0x4c", 0xdeadbeef))
st = base_state(excp=EXC_SS_GP_DF)
emit("st-nested-exceptions-ss-injected-gp", ST, SD + "nested_exceptions_test.c", "nested_exceptions_test (SVM)",
     "l2_ss_injected_gp_test: delivering #SS through an empty IDT raises #GP, exit SVM_EXIT_EXCP_BASE + GP_VECTOR with exit_info_1 = (12 * 8) | 2",
     "#GP (IDT error code 0x62) while the CPU delivered #SS, L1 intercepts #GP: reflected; the #SS in flight goes to L1 in exit_int_info", st,
     {"type": "exit", "exit_code": "GP excp", "exit_info_1": "0x62", "exit_info_2": 0, "exit_int_info": "0x80000b0c", "exit_int_info_err": "0xdeadbeef"},
     reflect("GP excp", 0x62))
st = base_state(excp=(1 << 12) | (1 << 8))
emit("st-nested-exceptions-ss-injected-df", ST, SD + "nested_exceptions_test.c", "nested_exceptions_test (SVM)",
     "l2_ss_injected_df_test: with #GP not intercepted, the #GP during #SS delivery becomes #DF: exit SVM_EXIT_EXCP_BASE + DF_VECTOR, exit_info_1 = 0",
     "#DF (error code 0) in L2, L1 intercepts #DF: reflected", st,
     {"type": "exit", "exit_code": "DF excp", "exit_info_1": 0, "exit_info_2": 0, "exit_int_info": "0x80000b0c", "exit_int_info_err": "0xdeadbeef"},
     reflect("DF excp", 0))
st = base_state(excp=1 << 12)
emit("st-nested-exceptions-ss-injected-tf", ST, SD + "nested_exceptions_test.c", "nested_exceptions_test (SVM)",
     "l2_ss_injected_tf_test: with only #SS intercepted, the fault during #DF delivery shuts L2 down: exit_code == SVM_EXIT_SHUTDOWN",
     "L2 shuts down (triple fault) while L1 intercepts SHUTDOWN: reflected", st,
     {"type": "exit", "exit_code": "shutdown", "exit_info_1": 0, "exit_info_2": 0, "exit_int_info": 0},
     reflect("shutdown"))
for name, inj, what in (("soft-int", 0x80000420, "a software interrupt (INT 0x20)"), ("nmi", 0x80000200, "an NMI (vector field 0)"),
                        ("bp-exception", 0x80000303, "#BP as an exception")):
    st = base_state(level="L1", excp=(1 << 14) | (1 << 6), word3=0x80000000 | NMI | (1 << 24))
    st["vmcb12"]["event_inj"] = hex(inj)
    emit(f"st-soft-inject-vmrun-{name}", ST, SD + "svm_nested_soft_inject_test.c", "svm_nested_soft_inject_test",
         f"L1 injects {what} with EVENTINJ and VMRUN enters L2 (the injected event's handler runs in L2)",
         f"L1 VMRUN with EVENTINJ = {inj:#x}: a valid event in every kernel (an NMI may carry any vector), L2 runs", st,
         dict(VMRUN_EVENT), {"kind": "vmrun_succeeds"})
st = base_state(excp=(1 << 14) | (1 << 6), word3=0x80000000 | NMI | (1 << 24))
emit("st-soft-inject-ud", ST, SD + "svm_nested_soft_inject_test.c", "svm_nested_soft_inject_test",
     "the NMI variant's L2 executes ud2; with #UD intercepted L1 sees the #UD exit (guest_nmi_handler stage 1 then VMMCALL)",
     "L2 ud2 while L1 intercepts #UD: L0 claims #UD first, cannot emulate ud2, re-queues #UD, reflected as UD excp", st,
     {"type": "exit", "exit_code": "UD excp", "exit_info_1": 0, "exit_info_2": 0, "exit_int_info": 0, "insn_bytes": "0f 0b"},
     reflect("UD excp"))
st = base_state(excp=(1 << 14) | (1 << 6), word3=0x80000000 | NMI | (1 << 24))
emit("st-soft-inject-hlt", ST, SD + "svm_nested_soft_inject_test.c", "svm_nested_soft_inject_test",
     "after the #BP injection the L2 code halts: exit_code == SVM_EXIT_HLT (INTERCEPT_HLT set)",
     "L2 HLT while L1 intercepts HLT: reflected", st,
     {"type": "exit", "exit_code": "hlt", "exit_info_1": 0, "exit_info_2": 0, "exit_int_info": 0}, reflect("hlt"))
pend("st-int-ctl-intr-in-l2", "svm_int_ctl_test",
     "L1 clears V_INTR_MASKING and the INTR/VINTR intercepts: the self-IPI is taken by L2's handler (intr_irq_called)",
     "interrupt pending, no V_INTR_MASKING, no INTR intercept, L2's IF set: injected into L2",
     "interrupt", 0, False, 0, 1, {"kind": "inject_interrupt", "level": "L2"}, file=SD + "svm_int_ctl_test.c", suite=ST)
st = base_state()
emit("st-int-ctl-vmmcall", ST, SD + "svm_int_ctl_test.c", "svm_int_ctl_test",
     "after both interrupts L2 executes vmmcall: exit_code == SVM_EXIT_VMMCALL",
     "L2 VMMCALL with L1 intercepting VMMCALL: reflected", st,
     {"type": "exit", "exit_code": "hypercall", "exit_info_1": 0, "exit_info_2": 0, "exit_int_info": 0, "insn_bytes": "0f 01 d9"},
     reflect("hypercall"))
st = base_state(word3=0x80000000)
emit("st-smm-smi-in-l2", ST, SD + "smm_test.c", "smm_test",
     "an SMI injected from userspace while L2 runs (L1 does not intercept SMI) makes the vCPU enter SMM; the test goes on in SMM",
     "SMI pending while L2 runs, L1 not intercepting SMI: L0 delivers it (enter_smm)", st,
     {"type": "pending", "pending": "smi"}, {"kind": "l0_handles", "level": "L2"})

# ---- x86/svm_npt.c ----
FN = "x86/svm_npt.c"
for name, assertion, info1, addr in (
    ("npt-np", "npt_np_check: an access through a not-present NPT entry exits with SVM_EXIT_NPF, exit_info_1 = 0x100000004", 0x100000004, 0x423000),
    ("npt-nx", "npt_nx_check: executing from a page whose NPT entry has NX exits with SVM_EXIT_NPF, exit_info_1 = 0x100000015", 0x100000015, 0x424000),
    ("npt-us", "npt_us_check: a supervisor access to a user-only NPT page... exits with SVM_EXIT_NPF, exit_info_1 = 0x100000005", 0x100000005, 0x425000),
    ("npt-rw", "npt_rw_check: a write to a read-only NPT page exits with SVM_EXIT_NPF, exit_info_1 = 0x100000007", 0x100000007, 0x426000),
    ("npt-rw-pfwalk", "npt_rw_pfwalk_check: the guest page walk hits a read-only NPT page: SVM_EXIT_NPF, exit_info_1 = 0x200000007, exit_info_2 = CR3", 0x200000007, 0x40f000),
    ("npt-rw-l1mmio", "npt_rw_l1mmio_check: a write to L1's APIC page mapped read-only in the NPT: SVM_EXIT_NPF, exit_info_1 = 0x100000007", 0x100000007, 0xfee00000),
):
    st = base_state()
    emit(name, KUT, FN, name.replace("-", "_"), assertion,
         f"L2 NPF at {addr:#x} whose walk of L1's nested page tables faults: nested_svm_inject_npf_exit reflects it (bits 31:0 of exit_info_1 come from KVM's walk)",
         st, {"type": "exit", "exit_code": "npf", "exit_info_1": hex(info1), "exit_info_2": hex(addr), "exit_int_info": 0, "l1_npt_walk_faults": 1},
         {"kind": "reflect_to_l1", "exit_code": "npf", "exit_info_2": hex(addr)})
st = base_state()
emit("npt-l1mmio", KUT, FN, "npt_l1mmio", "npt_l1mmio_check: L2 reads L1's APIC registers through an identity NPT mapping and sees L1's values (no #VMEXIT)",
     "L2 NPF on L1's MMIO (APIC page) whose L1 NPT walk succeeds: L0 keeps it and emulates the MMIO access for L2 (kvm_mmu_page_fault)", st,
     {"type": "exit", "exit_code": "npf", "exit_info_1": "0x100000004", "exit_info_2": "0xfee00030", "exit_int_info": 0, "l1_npt_walk_faults": 0},
     l0("L2"))

# ---- svm_exception_test: handle_exception_in_l2 (no L1 intercept) ----
for vec, mnem, err, expect, insn in (
    (13, "GP", 0, {"kind": "no_exit", "level": "L2"}, None),
    (6, "UD", None, inject(6, "L2"), "0f 0b"),
    (0, "DE", None, {"kind": "no_exit", "level": "L2"}, None),
    (1, "DB", None, inject(1, "L2"), None),
    (3, "BP", None, {"kind": "no_exit", "level": "L2"}, None),
    (17, "AC", 0, inject(17, "L2", 0), None),
    (4, "OF", None, {"kind": "no_exit", "level": "L2"}, None),
    (7, "NM", None, {"kind": "no_exit", "level": "L2"}, None),
):
    st = base_state()
    if vec == 1:  # the test raises no NMI: L0 is not single-stepping over an NMI window
        st["assumptions"] = {"l0.nmi-singlestep": False}
    ev = {"type": "exception", "vector": vec}
    if err is not None: ev["error_code"] = err
    if insn: ev["insn_bytes"] = insn
    how = ("L0 intercepts it itself (vmcb01: #UD, #DB, #AC always), handles it and re-queues it for L2, which L1 does not intercept"
           if expect["kind"] == "inject_exception" else "neither L0 nor L1 intercepts it: the CPU delivers it through L2's IDT, no exit")
    emit(f"exception-{mnem.lower()}-in-l2", KUT, F, "svm_exception_test",
         f"handle_exception_in_l2: without an L1 intercept, #{mnem} is handled by L2's own handler (the guest then exits with VMMCALL)",
         f"L2 raises #{mnem}, L1 does not intercept it: {how}", st, ev, expect)

# ---- sel cr0 lmsw intercept (LMSW is never decode-assisted: L0 emulates it) ----
st = base_state(word3=0x80000000 | (1 << 5))
emit("sel-cr0-lmsw-intercept", KUT, F, "sel cr0 lmsw intercept",
     "check_sel_cr0_intercept: LMSW setting only CR0.MP still exits with SVM_EXIT_CR0_SEL_WRITE (LMSW always triggers the selective intercept)",
     "L2 LMSW (only MP changes) exits on L0's CR0-write intercept; the emulator's svm_check_intercept treats every LMSW as a selective CR0 write: reflected as cr0_sel_write", st,
     {"type": "exit", "exit_code": "write_cr0", "exit_info_1": 0, "exit_info_2": 0, "exit_int_info": 0, "insn_bytes": "0f 01 f0",
      "written_value": hex(0x80010011 | 2)},
     reflect("cr0_sel_write"))

# ---- smm_test.c (selftests): an SMI that arrives while L2 runs; RSM goes back into L2 ----
# svm_enter_smm leaves guest mode (SMM runs on vmcb01, level L1) and records the vmcb12 address
# in SMRAM; the RSM exit (init_vmcb intercepts RSM) is emulated and svm_leave_smm re-enters L2.
st = base_state(level="L1")
st["smm"] = 1
st["assumptions"] = {"smm.from-guest-mode": True}
emit("st-smm-rsm-back-to-l2", ST, "tools/testing/selftests/kvm/x86_64/smm_test.c", "smm_test (stages 8-10)",
     "after an SMI injected while L2 runs (stage 8), the SMI handler's RSM returns to L2, which goes on to report stage 10",
     "RSM in SMM whose SMI came in guest mode: L0 emulates it and svm_leave_smm re-enters L2 (emulate, L2 continues)", st,
     {"type": "exit", "exit_code": "0x73", "exit_info_1": 0, "exit_info_2": 0, "exit_int_info": 0, "insn_bytes": "0f aa"},
     {"kind": "emulate", "level": "L2"})
st = base_state(level="L1")
st["smm"] = 1
st["assumptions"] = {"smm.from-guest-mode": False}
emit("st-smm-rsm-back-to-l1", ST, "tools/testing/selftests/kvm/x86_64/smm_test.c", "smm_test (stages 2-4)",
     "an SMI taken while L1 runs (self_smi before any VMRUN) returns to L1 after RSM",
     "RSM in SMM whose SMI came while L1 ran: L0 emulates it, L1 continues", st,
     {"type": "exit", "exit_code": "0x73", "exit_info_1": 0, "exit_info_2": 0, "exit_int_info": 0, "insn_bytes": "0f aa"},
     {"kind": "emulate", "level": "L1"})

# ---- the "... emulate" variants: the instruction sits on an MMIO page, so the L2 NPF is kept by
# L0, which emulates it; x86_emulate_insn asks svm_check_intercept about L1's CR intercepts ----
def npf_mmio_state(**kw):
    st = base_state(**kw)
    st["assumptions"] = {"l0.emulates-at-npf": True}
    return st
def npf_mmio_event(insn):
    # a code fetch that faults on L1's MMIO page (identity-mapped by L1's NPT: the walk does not fault)
    return {"type": "exit", "exit_code": "npf", "exit_info_1": hex(0x100000014), "exit_info_2": "0xfee00000",
            "exit_int_info": 0, "insn_bytes": insn, "l1_npt_walk_faults": 0}
emit("cr3-read-intercept-emulate", KUT, F, "cr3 read intercept emulate",
     "with L1 intercepting CR3 reads, a MOV from CR3 that KVM has to emulate (fetched from MMIO) still exits to L1 with SVM_EXIT_READ_CR3",
     "L2 NPF on an MMIO page holding `mov %cr3, %rax`: L0 emulates it, svm_check_intercept finds L1's CR3-read intercept: reflected as read_cr3",
     npf_mmio_state(cr_read=1 << 3), npf_mmio_event("0f 20 d8"), reflect("0x3"))
emit("sel-cr0-write-intercept-emulate", KUT, F, "sel cr0 write intercept emulate",
     "with only the selective CR0 intercept, an emulated MOV to CR0 that sets CD exits to L1 with SVM_EXIT_CR0_SEL_WRITE",
     "L2 NPF on an MMIO page holding `mov %rax, %cr0` (CD set): L0 emulates it, svm_check_intercept converts it to cr0_sel_write",
     dict(npf_mmio_state(word3=0x80000000 | (1 << 5)), assumptions={"l0.emulates-at-npf": True, "cr0-write.changes-other-bits": True}),
     npf_mmio_event("0f 22 c0"), reflect("cr0_sel_write"))
emit("sel-cr0-write-priority-emulate", KUT, F, "sel cr0 write intercept priority emulate",
     "with both the CR0-write and the selective intercept, an emulated MOV to CR0 exits with SVM_EXIT_WRITE_CR0 (the unconditional intercept wins)",
     "L2 NPF on an MMIO page holding `mov %rax, %cr0`: L0 emulates it; L1 intercepts CR0 writes outright: reflected as write_cr0",
     npf_mmio_state(cr_write=1, word3=0x80000000 | (1 << 5)), npf_mmio_event("0f 22 c0"), reflect("0x10"))
emit("sel-cr0-write-nointercept-emulate", KUT, F, "sel cr0 write nointercept emulate",
     "without any CR0 intercept an emulated MOV to CR0 does not exit to L1: L2 continues",
     "L2 NPF on an MMIO page holding `mov %rax, %cr0`, no CR0 intercepts in vmcb12: L0's emulator executes it",
     npf_mmio_state(), npf_mmio_event("0f 22 c0"), {"kind": "emulate", "level": "L2"})

# ---- virtual interrupts, vNMI, GIF (helper "events": svm/nested.c:nested_vmcb02_prepare_control,
# svm/svm.c:svm_{interrupt,nmi,smi}_blocked) ----
V_IRQ, V_INTR_MASKING, V_NMI_PENDING, V_NMI_ENABLE = 1 << 8, 1 << 24, 1 << 11, 1 << 26
VINTR = 1 << 4  # word3 bit 4 = intercept bit 100
def virq_state(int_ctl, l2_if, word3=0x80000000):
    st = base_state(word3=word3, int_ctl=int_ctl, l1_if=0, l2_if=l2_if)
    st["assumptions"] = dict(HARNESS_EVENT_FACTS)
    return st
VIRQ_PRIO_F = V_INTR_MASKING | V_IRQ | (0xf << 16)
emit("virq-inject-before-sti", KUT, F, "virq_inject",
     "with V_IRQ at the highest priority and no VINTR intercept, the virtual interrupt must not fire while L2 runs with IF clear ('fired before L2 sti')",
     "V_IRQ pending in vmcb12 (vector 0xf1, priority 15), L2's RFLAGS.IF clear: the CPU holds it, nothing exits",
     virq_state(VIRQ_PRIO_F, 0), {"type": "pending", "pending": "v_irq", "vector": 0xf1}, {"kind": "no_exit", "level": "L2"})
emit("virq-inject-after-sti", KUT, F, "virq_inject",
     "after L2's sti the virtual interrupt fires inside L2 (virq_isr runs, 'not fired after L2 sti' otherwise) and V_IRQ is clear at the next exit",
     "V_IRQ pending in vmcb12 (vector 0xf1, priority 15), L2's IF set, no VINTR intercept: the CPU delivers vector 0xf1 in L2, no exit",
     virq_state(VIRQ_PRIO_F, 1), {"type": "pending", "pending": "v_irq", "vector": 0xf1},
     {"kind": "inject_interrupt", "vector": 0xf1, "level": "L2"})
emit("virq-inject-vintr-intercepted", KUT, F, "virq_inject",
     "stage 1: with INTERCEPT_VINTR the virtual interrupt does not fire; L2's sti leads to an SVM_EXIT_VINTR #VMEXIT instead",
     "V_IRQ pending, L1 intercepts VINTR, L2's IF set: #VMEXIT(VINTR) to L1",
     virq_state(VIRQ_PRIO_F, 1, word3=0x80000000 | VINTR), {"type": "pending", "pending": "v_irq", "vector": 0xf1},
     reflect("vintr", 0, 0))
emit("virq-inject-priority-below-tpr", KUT, F, "virq_inject",
     "with V_INTR_PRIO below V_TPR (V_IGN_TPR clear) the virtual interrupt must not fire even with L2's IF set",
     "V_IRQ pending with priority 0 and V_TPR 15, L2's IF set: held by the priority test, nothing exits",
     virq_state(V_INTR_MASKING | V_IRQ | 0xf, 1), {"type": "pending", "pending": "v_irq", "vector": 0xf1},
     {"kind": "no_exit", "level": "L2"})
emit("st-int-ctl-vintr-in-l2", ST, SD + "svm_int_ctl_test.c", "svm_int_ctl_test",
     "L1 sets V_IRQ (priority 1) without V_INTR_MASKING or VINTR intercept: L2's vintr handler runs (vintr_irq_called)",
     "V_IRQ pending (vector 0x20, priority 1 above V_TPR 0), L2's IF set, no VINTR intercept: the CPU delivers it in L2",
     virq_state(V_IRQ | (1 << 16), 1), {"type": "pending", "pending": "v_irq", "vector": 0x20},
     {"kind": "inject_interrupt", "vector": 0x20, "level": "L2"})
st = virq_state(V_NMI_ENABLE | V_NMI_PENDING, 0, word3=0x80000000 | NMI)
st["assumptions"]["l1.vnmi-usable"] = True
emit("vnmi-pending-delivered", KUT, F, "vnmi",
     "with vNMI enabled and NMIs intercepted, setting V_NMI_PENDING makes the NMI fire inside L2 (nmi_fired) without an NMI #VMEXIT",
     "V_NMI_PENDING in vmcb12 with V_NMI_ENABLE (nested vNMI): the CPU delivers the NMI in L2, no exit (6.12+: int_ctl_vmcb12_bits carries the V_NMI bits)",
     st, {"type": "pending", "pending": "v_nmi"}, {"kind": "inject_nmi", "level": "L2"}, profiles=["6.12", "upstream"])
st = virq_state(0, 1, word3=0x80000000 | INTR)
st["assumptions"]["vcpu.gif"] = False
emit("intr-mix-gif-clear", KUT, F, "svm_intr_intercept_mix_gif",
     "L2 clears GIF, sets IF and sends itself an IPI: 'No interrupt expected' until its stgi (then SVM_EXIT_INTR)",
     "interrupt pending while L2's CLGI has cleared GIF, INTR intercepted, L2's IF set: svm_interrupt_blocked, nothing exits",
     st, {"type": "pending", "pending": "interrupt"}, {"kind": "no_exit", "level": "L2"})
st = virq_state(0, 0, word3=0x80000000 | NMI)
st["assumptions"]["vcpu.gif"] = False
emit("nmi-mix-gif-clear", KUT, F, "svm_intr_intercept_mix_nmi",
     "an NMI sent while L2 runs with GIF clear must not exit ('No NMI expected') until L2's stgi, then SVM_EXIT_NMI",
     "NMI pending while GIF is clear, NMI intercepted: svm_nmi_blocked, nothing exits",
     st, {"type": "pending", "pending": "nmi"}, {"kind": "no_exit", "level": "L2"})
st = virq_state(0, 0, word3=0x80000000 | SMI)
st["assumptions"]["vcpu.gif"] = False
emit("smi-mix-gif-clear", KUT, F, "svm_intr_intercept_mix_smi",
     "an SMI sent while L2 runs with GIF clear must not exit ('No SMI expected') until L2's stgi, then SVM_EXIT_SMI",
     "SMI pending while GIF is clear, SMI intercepted: svm_smi_blocked, nothing exits",
     st, {"type": "pending", "pending": "smi"}, {"kind": "no_exit", "level": "L2"})

print(len(written), "scenarios")
