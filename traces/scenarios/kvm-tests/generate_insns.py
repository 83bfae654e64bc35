#!/usr/bin/env python3
"""Adds the insns scenarios to traces/scenarios/kvm-tests/ (forced emulation, VLS, PAE PDPTEs).

Usage: python3 traces/scenarios/kvm-tests/generate_insns.py traces/scenarios/kvm-tests
Runs generate.py first (same output folder, same helpers), then writes the scenarios below.
The assertions are retold in our own words; no test code is copied.
"""
import copy, os, runpy, sys

HERE = os.path.dirname(os.path.abspath(__file__))
g = runpy.run_path(os.path.join(HERE, "generate.py"))  # writes the base suite into sys.argv[1]
emit, base_state, reflect, l0 = g["emit"], g["base_state"], g["reflect"], g["l0"]
KUT, F, HOST = g["KUT"], g["F"], g["HOST"]
written_before = len(g["written"])

# ---- forced emulation: kvm-unit-tests "sel cr0 ... emulate" (fep_supported; the guest code
# runs asm_conditional_fep_safe: `ud2; .ascii "kvm"` before the instruction) ----
FEP_HOST = dict(HOST, force_emulation_prefix=1)
SEL = 0x80000000 | (1 << 5)  # SHUTDOWN + SELECTIVE_CR0 (bit 101)
CR0 = 0x80010011             # prepare_sel_cr0_intercept clears MP and CD
def fep_state(**kw):
    st = base_state(**kw)
    st["vmcb12"]["cr0"] = hex(CR0)
    st["l2"]["cr0"] = hex(CR0)
    return st
def fep(insn, written=None):
    e = {"type": "forced_emulation", "insn_bytes": insn}
    if written is not None: e["written_value"] = hex(written)
    return e
emit("sel-cr0-write-intercept-fep", KUT, F, "sel cr0 write intercept emulate",
     "with only the selective CR0 intercept, a force-emulated MOV to CR0 that sets CD exits to L1 with SVM_EXIT_CR0_SEL_WRITE",
     "L2 runs KVM_FEP + `mov %rax, %cr0` (CD set): handle_ud emulates it, svm_check_intercept converts the CR0 write to cr0_sel_write",
     fep_state(word3=SEL), fep("0f 22 c0", CR0 | (1 << 30)), reflect("cr0_sel_write"), host=FEP_HOST)
emit("sel-cr0-write-priority-fep", KUT, F, "sel cr0 write intercept priority emulate",
     "with both the CR0-write and the selective intercept, a force-emulated MOV to CR0 exits with SVM_EXIT_WRITE_CR0",
     "L2 runs KVM_FEP + `mov %rax, %cr0`: the unconditional CR0-write intercept of L1 wins in svm_check_intercept",
     fep_state(cr_write=1, word3=SEL), fep("0f 22 c0", CR0 | (1 << 30)), reflect("write_cr0"), host=FEP_HOST)
emit("sel-cr0-write-nointercept-fep", KUT, F, "sel cr0 write nointercept emulate",
     "a force-emulated MOV to CR0 that changes only MP does not meet the selective intercept: no exit to L1, L2 reaches VMMCALL",
     "L2 runs KVM_FEP + `mov %rax, %cr0` (only MP changes): svm_check_intercept finds no intercept; the emulator executes it",
     fep_state(word3=SEL), fep("0f 22 c0", CR0 | 2), {"kind": "emulate", "level": "L2"}, host=FEP_HOST)
emit("sel-cr0-lmsw-intercept-fep", KUT, F, "sel cr0 lmsw intercept emulate",
     "a force-emulated LMSW that sets only MP still exits with SVM_EXIT_CR0_SEL_WRITE (LMSW always triggers the selective intercept)",
     "L2 runs KVM_FEP + `lmsw %ax`: svm_check_intercept turns every LMSW into cr0_sel_write when L1 uses the selective intercept",
     fep_state(word3=SEL), fep("0f 01 f0"), reflect("cr0_sel_write"), host=FEP_HOST)

# ---- svm_vmload_vmsave: intercepts cleared → no #VMEXIT to L1 (harness virt_ext 0: L0
# forces the intercept, nested_vmcb_needs_vls_intercept, and emulates it on vmcb01) ----
for insn, code, op in (("vmload", "vmload", "0f 01 da"), ("vmsave", "vmsave", "0f 01 db")):
    st = base_state()
    emit(f"{insn}-not-intercepted", KUT, F, "svm_vmload_vmsave",
         f"with INTERCEPT_{insn.upper()} cleared, {insn.upper()} in L2 causes no #VMEXIT to L1 (the next exit is VMMCALL)",
         f"L2 {insn.upper()} that L1 does not intercept: vmcb12 does not enable virtual VMLOAD/VMSAVE, so L0 forced the intercept and emulates it for L2",
         st, {"type": "exit", "exit_code": code, "exit_info_1": 0, "exit_info_2": 0, "exit_int_info": 0,
              "rax": "0x421000", "insn_bytes": op},
         l0("L2"))

# ---- svm_pae_test (test_svm_guest_pdptes): PAE PDPTEs at VMRUN ----
PDPT = 0x500000
PDPTES = [0x501001, 0x502001, 0x503001, 0x504001]
def pae_state(npt, pdptes):
    st = base_state(level="L1")
    v = st["vmcb12"]
    v["efer"] = hex(0x1d00 & ~0x500)  # EFER.LME/LMA cleared: legacy PAE paging
    v["cs_attrib"] = "0xc9b"
    v["cr3"] = hex(PDPT)
    v["pdptes"] = [hex(p) for p in pdptes]
    v["nested_paging"] = npt
    return st
VMRUN = {"type": "exit", "exit_code": "vmrun", "exit_info_1": 0, "exit_info_2": 0, "exit_int_info": 0,
         "rax": "0x421000", "insn_bytes": "0f 01 d8"}
NO_NPT_HOST = dict(HOST, npt=0)
for i in range(4):
    for b in (52, 57, 62):
        p = list(PDPTES); p[i] |= 1 << b
        st = pae_state(0, p)
        st["guest"]["cpuid"]["npt"] = 0
        emit(f"pae-pdpte{i}-bit{b}-no-npt", KUT, F, "svm_pae_test",
             f"test_svm_guest_pdptes without NPT: PDPTE{i} with reserved bit {b} set makes VMRUN fail with SVM_EXIT_ERR",
             f"L1 VMRUN into legacy PAE paging without nested paging, PDPTE{i} sets bit {b} (above MAXPHYADDR): load_pdptrs fails in nested_svm_load_cr3",
             st, VMRUN, {"kind": "vmrun_fails", "check": "load-pdptrs"}, host=NO_NPT_HOST)
        st = pae_state(1, p)
        emit(f"pae-pdpte{i}-bit{b}-npt", KUT, F, "svm_pae_test",
             f"test_svm_guest_pdptes with NPT: SVM does not check PDPTE{i}'s reserved bit {b} at VMRUN; VMRUN enters the guest",
             f"L1 VMRUN into legacy PAE paging with nested paging, PDPTE{i} sets bit {b}: KVM loads no PDPTEs (nested NPT), VMRUN succeeds",
             st, VMRUN, {"kind": "vmrun_succeeds"})
    for b in (9, 11):
        p = list(PDPTES); p[i] |= 1 << b
        st = pae_state(0, p)
        st["guest"]["cpuid"]["npt"] = 0
        emit(f"pae-pdpte{i}-ignored-bit{b}-no-npt", KUT, F, "svm_pae_test",
             f"test_svm_guest_pdptes: PDPTE{i} bit {b} is ignored; VMRUN succeeds",
             f"L1 VMRUN into legacy PAE paging without nested paging, PDPTE{i} sets ignored bit {b}: load_pdptrs accepts it",
             st, VMRUN, {"kind": "vmrun_succeeds"}, host=NO_NPT_HOST)
st = pae_state(0, PDPTES)
st["guest"]["cpuid"]["npt"] = 0
emit("pae-clean-no-npt", KUT, F, "svm_pae_test",
     "test_svm_guest_pdptes: a clean PAE setup runs to VMMCALL",
     "L1 VMRUN into legacy PAE paging without nested paging, four valid PDPTEs: VMRUN succeeds",
     st, VMRUN, {"kind": "vmrun_succeeds"}, host=NO_NPT_HOST)

# ---- test_msrpm_iopm_bitmap_addrs: an MSRPM that fits below 2^MAXPHYADDR but lies in no
# memslot: nested_svm_check_bitmap_pa passes, nested_svm_vmrun_msrpm cannot read it ----
vmrun_case, bm, FAIL, LIM, PG = g["vmrun_case"], g["bm"], g["FAIL"], g["LIM"], g["PG"]
for off, what in ((2 * PG, "2^MAXPHYADDR - 8 KiB"), (2 * PG - 1, "2^MAXPHYADDR - 8 KiB + 1 (bits 11:0 ignored)")):
    vmrun_case(f"bitmap-msrpm-limit-minus-{off:x}", "svm_guest_state_test",
               f"test_msrpm_iopm_bitmap_addrs: an MSRPM at {what} fits below the limit but is unallocated; VMRUN fails with SVM_EXIT_ERR",
               f"MSRPM base {what}: the address check passes, the pages are not backed, so KVM's copy of L1's MSRPM fails after entry",
               bm("msrpm_base_pa", LIM - off), FAIL("msrpm-read"))

print(len(g["written"]) - written_before, "insns scenarios")
