#!/usr/bin/env python3
"""Adds the feature scenarios (issue #15: vGIF, pause filter, LBR virtualization, Hyper-V) to
traces/scenarios/kvm-tests/.

Usage: python3 traces/scenarios/kvm-tests/generate_features.py traces/scenarios/kvm-tests
Loads generate.py's helpers (its own output goes to a scratch folder; run generate.py or
generate_insns.py for the base suite). The assertions are retold in our own words; no test
code is copied.
"""
import os, runpy, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = sys.argv[1]
argv = sys.argv
with tempfile.TemporaryDirectory() as scratch:
    sys.argv = [argv[0], scratch]
    g = runpy.run_path(os.path.join(HERE, "generate.py"))
sys.argv = argv
g["emit"].__globals__["OUT"] = OUT          # emit writes into the real folder from here on
g["written"].clear()
emit, base_state, reflect, l0 = g["emit"], g["base_state"], g["reflect"], g["l0"]
KUT, ST, F, HOST = g["KUT"], g["ST"], g["F"], g["HOST"]
SD = "tools/testing/selftests/kvm/x86_64/"
EVENT_FACTS = {"vcpu.nmi-masked": False, "vcpu.interrupt-shadow": False}
NO_EXIT = {"kind": "no_exit", "level": "L2"}

# ---- vGIF: kvm-unit-tests "vgif" and svm_intr_intercept_mix_{gif,gif2,nmi,smi} ----
# svm/svm.c:init_vmcb (vGIF clears the STGI/CLGI intercepts), svm/nested.c:
# nested_vmcb02_prepare_control (V_GIF bits from vmcb12 only with nested vGIF),
# svm/svm.h:get_vgif_vmcb / gif_set, svm/svm.c:svm_enable_nmi_window (STGI intercept while an
# NMI/SMI waits for GIF).
V_GIF_ENABLE, V_GIF = 1 << 25, 1 << 9
NO_VGIF_HOST = dict(HOST, vgif=0)
for insn in ("stgi", "clgi"):
    st = base_state(int_ctl=V_GIF_ENABLE | (V_GIF if insn == "clgi" else 0))
    emit(f"vgif-{insn}-nested", KUT, F, "vgif",
         f"after L1 sets V_GIF_ENABLED_MASK, L2's {insn.upper()} causes no #VMEXIT (the next exit is VMMCALL) and "
         f"{'sets' if insn == 'stgi' else 'clears'} V_GIF in int_ctl ('{'STGI set' if insn == 'stgi' else 'CLGI cleared'} VGIF bit')",
         f"L2 {insn.upper()} with nested vGIF (host vgif, L1's CPUID vGIF, V_GIF_ENABLE in vmcb12) and no {insn.upper()} intercept of L1: "
         "the CPU changes V_GIF in vmcb02 (copied back to vmcb12 at the next #VMEXIT), nothing exits",
         st, {"type": insn}, NO_EXIT)

def mix_state(word3_bits, l2_if):
    st = base_state(word3=0x80000000 | word3_bits, int_ctl=0, l1_if=0, l2_if=l2_if)
    st["assumptions"] = dict(EVENT_FACTS)
    return st
def no_vgif(st):
    st["guest"]["cpuid"]["vgif"] = 0
    return st
INTR, NMI, SMI = 1, 2, 4
MIX = [
    ("intr", "svm_intr_intercept_mix_gif", INTR, "interrupt", "SVM_EXIT_INTR", "interrupt",
     "L2 clears GIF and sets IF with a self-IPI pending: 'No interrupt expected'"),
    ("intr2", "svm_intr_intercept_mix_gif2", INTR, "interrupt", "SVM_EXIT_INTR", "interrupt",
     "L2 clears GIF, then sends itself an IPI: 'No interrupt expected'"),
    ("nmi", "svm_intr_intercept_mix_nmi", NMI, "nmi", "SVM_EXIT_NMI", "nmi",
     "L2 clears GIF, then sends itself an NMI: 'No NMI expected'"),
    ("smi", "svm_intr_intercept_mix_smi", SMI, "smi", "SVM_EXIT_SMI", "smi",
     "L2 clears GIF, then sends itself an SMI: the guest must not exit before its STGI"),
]
for tag, test, bit, pending, exitname, code, held in MIX:
    for host_vgif in (1, 0):
        suffix = "" if host_vgif else "-no-vgif"
        host = HOST if host_vgif else NO_VGIF_HOST
        how = ("host vGIF without V_GIF_ENABLE in vmcb12: the CPU clears vmcb02's V_GIF, the GIF gif_set reads"
               if host_vgif else "no host vGIF: L0 intercepts CLGI and clears HF_GIF_MASK (clgi_interception)")
        st = mix_state(bit, 1)
        if not host_vgif: no_vgif(st)
        emit(f"gif-mix-{tag}-clgi{suffix}", KUT, F, test, f"{held} (L1 intercepts {pending.upper()}, not CLGI)",
             f"L2 CLGI that L1 does not intercept, then {pending} pending: {how}; GIF clear blocks it, no exit",
             st, {"type": "clgi", "then": pending}, NO_EXIT, host=host)
        st = mix_state(bit, 1)
        st["assumptions"]["vcpu.gif"] = False
        if not host_vgif: no_vgif(st)
        window = {"nmi": "L0 set the STGI intercept for the waiting NMI (svm_enable_nmi_window): the STGI exits to L0, stgi_interception sets GIF",
                  "smi": "L0 set the STGI intercept for the waiting SMI (svm_enable_smi_window): the STGI exits to L0, stgi_interception sets GIF",
                  "interrupt": "the STGI itself does not exit (vGIF); the interrupt window opens with vmcb02's V_GIF"}[pending]
        if not host_vgif: window = "L0 intercepts STGI (no vGIF): stgi_interception sets HF_GIF_MASK"
        emit(f"gif-mix-{tag}-stgi{suffix}", KUT, F, test, f"L2's STGI opens GIF: the pending {pending} exits to L1 with {exitname}",
             f"L2 STGI (L1 does not intercept it) after its CLGI, {pending} pending and intercepted by L1: {window}; the {pending} is then a #VMEXIT to L1",
             st, {"type": "stgi", "then": pending}, reflect(code, 0, 0), host=host)

# ---- pause filter: kvm-unit-tests pause_filter_test (unittests.cfg [svm_pause_filter]:
# -overcommit cpu-pm=on, i.e. PAUSE exits disabled for L1: kvm_pause_in_guest) ----
PAUSE_BIT = 1 << 23      # word3 bit 23 = intercept bit 119 (PAUSE)
PIG_HOST = dict(HOST, pause_in_guest=1)
def pause_state():
    st = base_state(word3=0x80000000 | PAUSE_BIT)
    st["guest"]["cpuid"]["pausefilter"] = 1
    st["guest"]["cpuid"]["pfthreshold"] = 1
    return st
def loop(bursts, count, thresh, gap=None, burst_gap=None):
    e = {"type": "pause_loop", "bursts": bursts, "pause_filter_count": count, "pause_filter_thresh": thresh}
    if gap is not None: e["gap_cycles"] = gap
    if burst_gap is not None: e["burst_gap_cycles"] = burst_gap
    return e
emit("pause-filter-count-reached", KUT, F, "pause_filter_test",
     "filter count 9, 10 PAUSEs in L2 (threshold 0): 'expected PAUSE vmexit'",
     "L1 intercepts PAUSE with pause_filter_count 9; PAUSE exits disabled for L1 (cpu-pm=on), so vmcb02 takes L1's count: the 9th PAUSE exits, reflected",
     pause_state(), loop([10], 9, 0), reflect("pause"), host=PIG_HOST)
emit("pause-filter-count-not-reached", KUT, F, "pause_filter_test",
     "filter count 21, 20 PAUSEs in L2 (threshold 0): 'no expected PAUSE vmexit' (the next exit is VMMCALL)",
     "vmcb02 takes L1's count 21; 20 PAUSEs leave the counter at 1: no #VMEXIT",
     pause_state(), loop([20], 21, 0), NO_EXIT, host=PIG_HOST)
emit("pause-filter-threshold-resets", KUT, F, "pause_filter_test",
     "filter count 21, 20 PAUSEs, a 1000-iteration wait, 20 PAUSEs, threshold 10: the wait reloads the counter, 'no expected PAUSE vmexit'",
     "vmcb02 takes L1's count 21 and threshold 10; the wait between the bursts (1000 loop iterations, over 1000 cycles) is above the threshold, so the counter reloads and never reaches 0",
     pause_state(), loop([20, 20], 21, 10, gap=1000), NO_EXIT, host=PIG_HOST)
emit("pause-filter-threshold-no-reset", KUT, F, "pause_filter_test",
     "filter count 21, 20 PAUSEs, a 10-iteration wait, 20 PAUSEs, threshold 1000: no reload, 'expected PAUSE vmexit'",
     "vmcb02 takes L1's count 21 and threshold 1000; the gaps (a 10-iteration loop, a PAUSE loop step: stated as under 1000 cycles, as the test assumes) never reload the counter: the 21st PAUSE exits, reflected",
     pause_state(), loop([20, 20], 21, 1000, gap=100, burst_gap=100), reflect("pause"), host=PIG_HOST)
L0_PLE_HOST = dict(HOST, pause_in_guest=0, pause_filter_count=3000, pause_filter_thresh=128)
emit("pause-filter-l0-window", KUT, F, "pause_filter_test",
     "unittests.cfg runs pause_filter_test only with -overcommit cpu-pm=on and excludes it from [svm] ('-pause_filter_test'): with L0 intercepting PAUSE, "
     "filter count 9 and 10 PAUSEs do not give the PAUSE exit the test expects on 6.1/6.12",
     "L0 intercepts PAUSE (default host, pause_filter_count 3000): 6.1 and 6.12 start vmcb02 from L0's PLE window (>= 3000), so 10 PAUSEs do not exit; "
     "the 2026 kvm-x86 snapshot intercepts PAUSE for L2 only for L1 and takes L1's count 9: the 9th PAUSE exits, reflected",
     pause_state(), loop([10], 9, 0), expect_by_profile={"6.1": NO_EXIT, "6.12": NO_EXIT, "upstream": reflect("pause")},
     host=L0_PLE_HOST)

# ---- LBR virtualization: kvm-unit-tests svm_lbrv_test{1,2,3} and svm_lbrv_nested_test{1,2,3}.
# The assertions are register contents (DEBUGCTL, LBR from/to after VMRUN / #VMEXIT); the nested
# decision is only that L2's DEBUGCTL and LBR MSR accesses never reach L1 (vmcb_ident sets no
# MSR_PROT): if one exits, L0's svm_set_msr / svm_get_msr serve it. ----
DEBUGCTL, LBR_FROM, LBR_TO = 0x1d9, 0x1db, 0x1dc
LBR_CTL = 1
def lbr_state(nested):
    st = base_state()
    if nested: st["vmcb12"]["virt_ext"] = hex(LBR_CTL)
    st["guest"]["l0_rejects_msr"] = {hex(DEBUGCTL): 0, hex(LBR_FROM): 0, hex(LBR_TO): 0}
    return st
def msr_exit(msr, write, value=None):
    e = {"type": "exit", "exit_code": "msr", "exit_info_1": 1 if write else 0, "exit_info_2": 0, "exit_int_info": 0,
         "rcx": hex(msr), "insn_bytes": "0f 30" if write else "0f 32"}
    if value is not None: e["written_value"] = hex(value)
    return e
for nested in (False, True):
    pre = "svm_lbrv_nested_test" if nested else "svm_lbrv_test"
    tag = "lbrv-nested" if nested else "lbrv"
    ctl = " with LBR_CTL in vmcb12's virt_ext" if nested else " without LBR virtualization for L2"
    emit(f"{tag}-l2-debugctl-read", KUT, F, f"{pre}1",
         f"L2 (svm_lbrv_test_guest1) reads DEBUGCTL and expects the LBR bit{ctl}; L1's next exit is VMMCALL",
         f"L2 RDMSR DEBUGCTL{ctl}; L1 does not intercept MSRs (no MSR_PROT): if the CPU exits, L0 serves it (svm_get_msr), L1 sees nothing",
         lbr_state(nested), msr_exit(DEBUGCTL, False), l0())
    emit(f"{tag}-l2-debugctl-write", KUT, F, f"{pre}2",
         f"L2 (svm_lbrv_test_guest2) writes DEBUGCTL = LBR and reads it back{ctl}; L1's next exit is VMMCALL",
         f"L2 WRMSR DEBUGCTL = 0x1 (LBR, no reserved bit){ctl}; no MSR_PROT: L0's svm_set_msr takes it (svm_update_lbrv), nothing reaches L1",
         lbr_state(nested), msr_exit(DEBUGCTL, True, 1), l0())
    for msr, name in ((LBR_FROM, "from"), (LBR_TO, "to")):
        emit(f"{tag}-l2-lbr-{name}-read", KUT, F, f"{pre}1",
             f"L2 reads the last-branch {name.upper()} IP to check it{ctl}; L1's next exit is VMMCALL",
             f"L2 RDMSR {hex(msr)}{ctl}; no MSR_PROT: if it exits (LBR MSRs are passed through only while LBR virtualization is on), L0's svm_get_msr serves it",
             lbr_state(nested), msr_exit(msr, False), l0())

# ---- Hyper-V: selftests hyperv_svm_test.c (enlightened MSR bitmap, L2 TLB flush) ----
HV = SD + "hyperv_svm_test.c"
FS_BASE, GS_BASE = 0xc0000100, 0xc0000101
MSR_PROT = 1 << 28
def hvf(**kw):
    names = {"msr_bitmap": "vmcb12.hv-msr-bitmap", "clean": "vmcb12.hv-clean-enlightenments", "force": "nested.force-msr-bitmap-recalc"}
    return {names[k]: v for k, v in kw.items()}
def hv_msr_state(msrpm, **kw):
    st = base_state(word3=MSR_PROT)
    st["vmcb12"]["msrpm"] = msrpm
    st["assumptions"] = {"hv.hypercall-enabled": True}
    st["assumptions"].update(hvf(**kw))
    return st
emit("hv-msr-bitmap-fs-base", ST, HV, "hyperv_svm_test",
     "with MSR_PROT and FS_BASE's read bit set (no enlightened MSR bitmap), L2's rdmsr FS_BASE exits with SVM_EXIT_MSR",
     "L2 RDMSR FS_BASE: KVM merges L1's MSRPM at this VMRUN (no msr_bitmap enlightenment), FS_BASE's read bit is set: the CPU exits, reflected",
     hv_msr_state({hex(FS_BASE): {"read": 1}}, msr_bitmap=False, force=False),
     {"type": "msr_access", "msr": hex(FS_BASE), "write": 0, "last_merge": 1}, reflect("msr", 0))
emit("hv-msr-bitmap-enabled-not-clean", ST, HV, "hyperv_svm_test",
     "after enabling the enlightened MSR bitmap (clean bit not set), L2's rdmsr FS_BASE still exits with SVM_EXIT_MSR",
     "msr_bitmap enlightenment on, HV_VMCB_NESTED_ENLIGHTENMENTS not clean: KVM merges L1's MSRPM, FS_BASE's read bit is set: reflected",
     hv_msr_state({hex(FS_BASE): {"read": 1}}, msr_bitmap=True, clean=False, force=False),
     {"type": "msr_access", "msr": hex(FS_BASE), "write": 0, "last_merge": 1}, reflect("msr", 0))
emit("hv-msr-bitmap-clean-stale", ST, HV, "hyperv_svm_test",
     "L1 sets GS_BASE's read bit without telling KVM (clean bit set): L2's rdmsr GS_BASE must not exit, the next exit is SVM_EXIT_VMMCALL",
     "enlightened MSR bitmap marked clean: nested_svm_vmrun_msrpm keeps the previous merge, where GS_BASE's read bit was clear and L0 passes GS_BASE through: no exit",
     hv_msr_state({hex(FS_BASE): {"read": 1}, hex(GS_BASE): {"read": 1}}, msr_bitmap=True, clean=True, force=False),
     {"type": "msr_access", "msr": hex(GS_BASE), "write": 0, "last_merge": 0}, NO_EXIT)
emit("hv-msr-bitmap-clean-cleared", ST, HV, "hyperv_svm_test",
     "after L1 clears the clean bit, L2's rdmsr GS_BASE exits with SVM_EXIT_MSR",
     "HV_VMCB_NESTED_ENLIGHTENMENTS cleared: KVM merges L1's MSRPM again, GS_BASE's read bit is now set: reflected",
     hv_msr_state({hex(FS_BASE): {"read": 1}, hex(GS_BASE): {"read": 1}}, msr_bitmap=True, clean=False, force=False),
     {"type": "msr_access", "msr": hex(GS_BASE), "write": 0, "last_merge": 0}, reflect("msr", 0))
def hv_flush_state(lock):
    st = base_state(word3=MSR_PROT)
    st["vmcb12"]["msrpm"] = {hex(FS_BASE): {"read": 1}, hex(GS_BASE): {"read": 1}}
    st["assumptions"] = {"hv.hypercall-enabled": True, "guest.hv-cpuid.direct-flush": True,
                         "vmcb12.hv-nested-flush-hypercall": True, "l1.hv-direct-hypercall": True, "hv.tlb-lock-count": lock}
    return st
FLUSH = {"type": "exit", "exit_code": "hypercall", "exit_info_1": 0, "exit_info_2": 0, "exit_int_info": 0,
         "insn_bytes": "0f 01 d9", "rcx": "0x10002"}
emit("hv-l2-tlb-flush-l0", ST, HV, "hyperv_svm_test",
     "L2's HvFlushVirtualAddressSpace (fast) with nested_flush_hypercall and directhypercall is handled by L0: no VMMCALL exit, the next exit is L2's rdmsr (SVM_EXIT_MSR)",
     "L2 VMMCALL with RCX = 0x10002 (flush, fast): nested_svm_exit_special keeps it in L0 before L1's VMMCALL intercept; tlb_lock_count 0: L2 continues",
     hv_flush_state(False), FLUSH, expect_by_profile={"6.12": l0(), "upstream": l0(), "6.1": reflect("hypercall")})
emit("hv-l2-tlb-flush-trap", ST, HV, "hyperv_svm_test",
     "with the partition assist page's tlb_lock_count set, the flush ends in exit_code HV_SVM_EXITCODE_ENL with exit_info_1 HV_SVM_ENL_EXITCODE_TRAP_AFTER_FLUSH",
     "L2 VMMCALL flush kept by L0; kvm_hv_hypercall_complete reads tlb_lock_count = 1 and svm_hv_inject_synthetic_vmexit_post_tlb_flush exits to L1 with 0xf0000000 / 1",
     hv_flush_state(True), FLUSH,
     expect_by_profile={"6.12": reflect("0xf0000000", 1, 0), "upstream": reflect("0xf0000000", 1, 0), "6.1": reflect("hypercall")})

print(len(g["written"]), "feature scenarios")

# ---- further assertions of svm_tests.c about one nested event (item 5 of issue #15) ----
pend = g["pend"]
virq_state, VIRQ_PRIO_F = g["virq_state"], g["VIRQ_PRIO_F"]
pend("interrupt-direct", "interrupt",
     "stage 0: without the INTR intercept the timer interrupt is taken inside L2 ('direct interrupt while running guest', also '+ hlt')",
     "interrupt pending while L2 runs with IF set, L1 intercepts neither INTR nor uses V_INTR_MASKING: KVM injects it into L2",
     "interrupt", 0, False, 1, 1, {"kind": "inject_interrupt", "level": "L2"})
pend("interrupt-intercepted", "interrupt",
     "stage 1: with INTERCEPT_INTR and V_INTR_MASKING the timer interrupt exits with SVM_EXIT_INTR ('intercepted interrupt while running guest', also '+ hlt')",
     "interrupt pending for L1 (test_run runs L1 with IF set), L1 intercepts INTR with V_INTR_MASKING: #VMEXIT(INTR)",
     "interrupt", INTR, True, 1, 0, reflect("interrupt", 0, 0))
pend("nmi-hlt-direct", "nmi_hlt",
     "stage 1: without INTERCEPT_NMI an NMI sent while L2 halts is taken inside L2 ('direct NMI + hlt')",
     "NMI pending while L2 is halted, L1 does not intercept NMI: injected into L2 (the halt ends)",
     "nmi", 0, False, 0, 0, {"kind": "inject_nmi", "level": "L2"})
pend("nmi-hlt-intercepted", "nmi_hlt",
     "stage 2: with INTERCEPT_NMI an NMI sent while L2 halts exits with SVM_EXIT_NMI ('NMI intercept while running guest')",
     "NMI pending while L2 is halted, L1 intercepts NMI: #VMEXIT(NMI)",
     "nmi", NMI, False, 0, 0, reflect("nmi", 0, 0))
st = virq_state(VIRQ_PRIO_F, 1)
st["assumptions"]["vcpu.interrupt-shadow"] = True
emit("virq-within-shadow-held", KUT, F, "virq_inject_within_shadow",
     "L1 enters L2 with int_state's interrupt shadow and V_IRQ pending: the virtual interrupt must not fire on the first instruction (virq_rip is one instruction later)",
     "V_IRQ pending (vector 0xf1, priority 15), L2's IF set, but the interrupt shadow L1 put in vmcb12 int_state holds: the CPU waits one instruction",
     st, {"type": "pending", "pending": "v_irq", "vector": 0xf1}, NO_EXIT)
st = virq_state(VIRQ_PRIO_F, 1)
emit("virq-within-shadow-fires", KUT, F, "virq_inject_within_shadow",
     "after the shadowed instruction V_IRQ fires inside L2 ('V_IRQ did not fire' otherwise) before the VMMCALL",
     "V_IRQ pending, L2's IF set, the shadow over: the CPU delivers vector 0xf1 in L2, no #VMEXIT (VINTR not intercepted)",
     st, {"type": "pending", "pending": "v_irq", "vector": 0xf1}, {"kind": "inject_interrupt", "vector": 0xf1, "level": "L2"})
st = base_state()
emit("cpuid-osxsave-l0", KUT, F, "svm_cr4_osxsave_test",
     "L2 (CR4.OSXSAVE set from L1's CR4) runs CPUID and checks OSXSAVE; L1 does not intercept CPUID and the guest finishes with VMMCALL",
     "L2 CPUID that L1 does not intercept: L0 always intercepts CPUID and emulates it for L2 (kvm_emulate_cpuid, OSXSAVE from L2's CR4); nothing reaches L1",
     st, {"type": "exit", "exit_code": "cpuid", "exit_info_1": 0, "exit_info_2": 0, "exit_int_info": 0, "insn_bytes": "0f a2"}, l0())
st = base_state()
st["vmcb12"]["nested_paging"] = 0
st["guest"]["cpuid"]["npt"] = 0
emit("cr3-read-nointercept-no-npt", KUT, F, "cr3 read nointercept",
     "without INTERCEPT_CR3_READ, L2's mov from CR3 returns its CR3 and the guest ends with VMMCALL ([svm_no_npt]: L0 shadows CR3)",
     "L2 MOV from CR3 on a host without NPT (kvm-unit-tests' svm_no_npt run): L0 intercepts CR3 reads for its shadow paging and serves the read (cr_interception); L1 does not intercept it",
     st, {"type": "exit", "exit_code": "read_cr3", "exit_info_1": "0x8000000000000000", "exit_info_2": 0, "exit_int_info": 0, "insn_bytes": "0f 20 d8"},
     l0(), host=dict(HOST, npt=0))

print(len(g["written"]), "feature scenarios in all")

# ---- LBR MSRs as accesses: does L2's RDMSR of the last-branch IPs exit at all? (svm/svm.c:
# svm_update_lbrv: vmcb02 has LBR virtualization with nested LBRV or L1's DEBUGCTL.LBR, and L0
# then passes the LBR MSRs through) ----
def lbr_access_state(nested, l1_lbr):
    st = base_state()
    st["guest"]["cpuid"]["lbrv"] = 1
    if nested: st["vmcb12"]["virt_ext"] = hex(LBR_CTL)
    st["guest"]["l0_rejects_msr"] = {hex(LBR_FROM): 0}
    st["assumptions"] = {"l1.debugctl-lbr": l1_lbr}
    return st
LBR_READ = {"type": "msr_access", "msr": hex(LBR_FROM), "write": 0}
emit("lbrv-test1-lbr-from-passthrough", KUT, F, "svm_lbrv_test1",
     "L1 enables DEBUGCTL.LBR before VMRUN (no LBR_CTL): L2's get_lbr_ips reads the branch L2 made, and L1's next exit is VMMCALL",
     "L2 RDMSR LASTBRANCHFROMIP with L1's DEBUGCTL.LBR set at VMRUN: vmcb02 inherits LBR virtualization (svm_update_lbrv), L0 passes the LBR MSRs through: the CPU runs it, no exit",
     lbr_access_state(False, True), LBR_READ, NO_EXIT)
emit("lbrv-test2-lbr-from-l0", KUT, F, "svm_lbrv_test2",
     "L1 clears DEBUGCTL before VMRUN: L2's first get_lbr_ips still sees L1's last branch (host_branch2) and L1's next exit is VMMCALL",
     "L2 RDMSR LASTBRANCHFROMIP with L1's DEBUGCTL.LBR clear and no LBR_CTL: no LBR virtualization, L0 intercepts the LBR MSRs and serves the read (svm_get_msr); L1 does not intercept MSRs",
     lbr_access_state(False, False), LBR_READ, l0())
for n in (1, 2):
    emit(f"lbrv-nested-test{n}-lbr-from-passthrough", KUT, F, f"svm_lbrv_nested_test{n}",
         "with LBR_CTL in vmcb12's virt_ext, L2's LBR reads see L2's own (vmcb12) LBR state and L1's next exit is VMMCALL",
         "L2 RDMSR LASTBRANCHFROMIP with nested LBRV (L1's CPUID LBRV, LBR_CTL): vmcb02 has LBR virtualization with vmcb12's LBR state, L0 passes the LBR MSRs through: no exit",
         lbr_access_state(True, n == 1), LBR_READ, NO_EXIT)

print(len(g["written"]), "feature scenarios with the LBR accesses")
