#!/usr/bin/env python3
"""Adds the events2 scenarios to traces/scenarios/kvm-tests/ (follow-up events: the
single-step #DB after VMRUN, EVENTINJ delivered or escalating to #DF / triple fault).

Usage: python3 traces/scenarios/kvm-tests/generate_events2.py traces/scenarios/kvm-tests
Runs generate.py first (same output folder, same helpers), then writes the scenarios below.
The assertions are retold in our own words; no test code is copied.
"""
import copy, os, runpy, sys

HERE = os.path.dirname(os.path.abspath(__file__))
g = runpy.run_path(os.path.join(HERE, "generate.py"))  # writes the base suite into sys.argv[1]
emit, base_state, reflect = g["emit"], g["base_state"], g["reflect"]
KUT, ST, F, HOST = g["KUT"], g["ST"], g["F"], g["HOST"]
VMRUN_EVENT = g["VMRUN_EVENT"]
written_before = len(g["written"])
KERNELS = ["6.1", "6.12", "upstream"]  # the follow-up is KVM's (nested_svm_vmexit), not an apm answer

def with_facts(st, **facts):
    st = copy.deepcopy(st)
    st.setdefault("assumptions", {}).update({k.replace("_", "-").replace("l1-", "l1."): v for k, v in facts.items()})
    return st

VMMCALL_EXIT = {"type": "exit", "exit_code": "hypercall", "exit_info_1": 0, "exit_info_2": 0, "exit_int_info": 0}
DB_L1 = {"kind": "inject_exception", "vector": 1, "level": "L1"}

# ---- host_rflags (x86/svm_tests.c): L1's RFLAGS.TF around VMRUN ----
emit("host-rflags-ss-vmrun-db-after-vmexit", KUT, F, "host_rflags",
     "with TF set in L1's RFLAGS right before VMRUN, the single-step #DB is taken in L1 only after the #VMEXIT that ends L2 (VMMCALL), at the instruction after VMRUN (RIP = VMRUN + 3)",
     "L2's VMMCALL #VMEXIT after a VMRUN L1 executed with RFLAGS.TF: nested_svm_vmexit restores L1's RFLAGS and queues #DB for L1",
     with_facts(base_state(), l1_rflags_tf=True), VMMCALL_EXIT,
     dict(reflect("hypercall", 0), then=[DB_L1]), profiles=KERNELS)
emit("host-rflags-ss-vmrun-no-db-in-l2", KUT, F, "host_rflags",
     "with TF set in L1's RFLAGS right before VMRUN, the guest's main code runs before any #DB: the single step of VMRUN does not trap inside L2",
     "L1's VMRUN with RFLAGS.TF: kvm_skip_emulated_instruction queues #DB, nested_run_pending blocks it and the first exit from L2 drops it",
     with_facts(base_state(level="L1"), l1_rflags_tf=True), dict(VMRUN_EVENT),
     {"kind": "vmrun_succeeds", "then": []}, profiles=KERNELS)
emit("host-rflags-no-tf-no-db", KUT, F, "host_rflags",
     "without TF in L1's RFLAGS (stage 0) the VMMCALL #VMEXIT is all L1 sees: no #DB follows",
     "L2's VMMCALL #VMEXIT after a VMRUN without RFLAGS.TF: nothing follows the #VMEXIT",
     with_facts(base_state(), l1_rflags_tf=False), VMMCALL_EXIT,
     dict(reflect("hypercall", 0), then=[]), profiles=KERNELS)

# ---- svm_test_singlestep (x86/svm_tests.c): L2's own RFLAGS.TF from vmcb12 ----
emit("singlestep-l2-tf-trap-after-first-insn", KUT, F, "svm_test_singlestep",
     "TF loaded into L2's RFLAGS by VMRUN traps after L2's first instruction, and the #DB is handled by L2's own handler (RIP = the second instruction)",
     "L2 raises #DB (single step); L0 intercepts #DB (svm/svm.c:init_vmcb), db_interception queues it back for L2 since L1 does not intercept #DB",
     with_facts(base_state(), **{"l0.nmi-singlestep": False}), {"type": "exception", "vector": 1},
     {"kind": "inject_exception", "vector": 1, "level": "L2"})

# ---- exc_inject (x86/svm_tests.c): EVENTINJ the CPU delivers ----
emit("exc-inject-de-delivered", KUT, F, "exc_inject",
     "an exception L1 injects with EVENTINJ (#DE, type exception) is delivered to L2's #DE handler (counted once) with no intercept involved",
     "EVENTINJ #DE (0x80000300) through a working gate: the CPU delivers it in L2 on VMRUN, nothing reaches L0",
     base_state(excp=0), {"type": "event_inj", "event_inj": "0x80000300", "idt": "present"},
     {"kind": "inject_exception", "vector": 0, "level": "L2"})

# ---- svm_nested_shutdown_test (selftests): #UD → #NP → #NP → #DF → #NP → SHUTDOWN ----
SHUT_F = "tools/testing/selftests/kvm/x86_64/svm_nested_shutdown_test.c"
st = base_state(word3=0, excp=0)
emit("st-nested-shutdown-idt-chain", ST, SHUT_F, "svm_nested_shutdown_test",
     "L2's ud2 with the #UD, #NP and #DF gates not present and INTERCEPT_SHUTDOWN clear: #UD's delivery raises #NP, #NP's raises #NP again (→ #DF), #DF's raises #NP (→ triple fault); the VM exits with KVM_EXIT_SHUTDOWN",
     "L0 intercepts L2's #UD (svm/svm.c:init_vmcb) and handle_ud re-injects it through vmcb02's EVENTINJ: that delivery (0x80000306) is followed through the broken gates to the SHUTDOWN L1 does not intercept",
     st, {"type": "event_inj", "event_inj": "0x80000306", "idt_gates": {"6": "not_present", "11": "not_present", "8": "not_present", "*": "present"}},
     {"kind": "userspace_exit"})
emit("st-nested-shutdown-idt-chain-intercepted", ST, SHUT_F, "svm_nested_shutdown_test",
     "the same broken gates with INTERCEPT_SHUTDOWN left set (the test clears it to see KVM_EXIT_SHUTDOWN): the triple fault is L1's SVM_EXIT_SHUTDOWN",
     "as st-nested-shutdown-idt-chain, L1 intercepting SHUTDOWN: the triple fault is reflected",
     base_state(excp=0), {"type": "event_inj", "event_inj": "0x80000306", "idt_gates": {"6": "not_present", "11": "not_present", "8": "not_present", "*": "present"}},
     reflect("shutdown"))

# ---- svm_shutdown_intercept_test (x86/svm_tests.c): IDT on an unmapped page ----
emit("shutdown-intercept-idt-unmapped", KUT, F, "svm_shutdown_intercept_test",
     "L2's ud2 with its IDT base on an unmapped page: delivering #UD faults (#PF), delivering #PF faults again (#DF), delivering #DF faults (triple fault); with INTERCEPT_SHUTDOWN L1 sees SVM_EXIT_SHUTDOWN",
     "the #UD L0 re-injects (0x80000306) meets an IDT page L2 does not map: #PF, #PF (→ #DF), #PF during #DF (→ triple fault), reflected as SHUTDOWN",
     base_state(excp=0), {"type": "event_inj", "event_inj": "0x80000306", "idt_gates": {"*": "unmapped"}},
     reflect("shutdown"))

print(len(g["written"]) - written_before, "events2 scenarios")
