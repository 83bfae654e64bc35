/* svmdbg lab: layout shared by the userspace VMM (vmm.c) and the L1 guest (l1.c, l1.S).
 *
 * Guest-physical memory map of the L1 VM (identity-mapped by L1's page tables):
 *   0x001000 PML4, 0x002000 PDPT, 0x003000 PD (2 MiB pages, 0..1 GiB, U=1)
 *   0x010000 L1 image (text, data, bss), stack top 0x030000 (below hsave)
 *   0x030000 VM_HSAVE page, 0x031000 vmcb12, 0x032000 aux VMCB, 0x033000 aux2 VMCB
 *   0x034000 MSR permission map (8 KiB), 0x038000 I/O permission map (12 KiB)
 *   0x03b000 lab_config (written by the VMM before the first KVM_RUN)
 *   0x040000 L1's nested page tables for L2 (PML4, PDPT, PD, PT)
 *   0x058000 L2 stack top, 0x05f000 L2 ring-0 stack top (TSS.RSP0 for CPL-3 L2)
 *   0x05f800 L2 result slots (L2 programs store values here)
 *   0x070000..0x072fff test pages
 *   0x100000 lab_log (L1 -> VMM, 1 MiB)
 */
#ifndef SVMDBG_LAB_H
#define SVMDBG_LAB_H

#include <stdint.h>

#define LAB_RAM_SIZE        0x400000ull
#define LAB_PML4            0x1000ull
#define LAB_L1_BASE         0x10000ull
#define LAB_L1_STACK_TOP    0x30000ull
#define LAB_HSAVE           0x30000ull
#define LAB_VMCB12          0x31000ull
#define LAB_VMCB_AUX        0x32000ull
#define LAB_VMCB_AUX2       0x33000ull
#define LAB_MSRPM           0x34000ull
#define LAB_IOPM            0x38000ull
#define LAB_CONFIG          0x3b000ull
#define LAB_NPT             0x40000ull
#define LAB_L2_STACK_TOP    0x58000ull
#define LAB_L2_RSP0         0x5f000ull
#define LAB_L2_RESULTS      0x5f800ull
#define LAB_LOG             0x100000ull
#define LAB_LOG_SIZE        0x100000ull

/* Bad RAX values used by the bad-RAX scenarios (MAXPHYADDR is 40 on QEMU's EPYC). */
#define LAB_BAD_MISALIGNED_OFF 0x10ull
#define LAB_BAD_ILLEGAL_GPA    (1ull << 40)
#define LAB_BAD_UNBACKED_GPA   0x100000000ull

/* I/O ports serviced by the VMM. */
#define LAB_PORT_MARK  0x510 /* L1 writes its log index after each event */
#define LAB_PORT_DONE  0x511 /* L1 writes its final status */
#define LAB_DONE_OK    0x600d

#define LAB_CONFIG_MAGIC 0x53564d4c41424346ull /* "SVMLABCF" */
#define LAB_LOG_MAGIC    0x53564d4c41424c47ull /* "SVMLABLG" */

enum lab_flow { LAB_FLOW_L2 = 0, LAB_FLOW_L1_INSN = 1 };
enum lab_l1_insn { LAB_INSN_VMRUN = 0, LAB_INSN_VMLOAD = 1, LAB_INSN_VMSAVE = 2 };
enum lab_bad { LAB_BAD_MISALIGNED = 0, LAB_BAD_ILLEGAL = 1, LAB_BAD_UNBACKED = 2 };
enum lab_npt { LAB_NPT_OFF = 0, LAB_NPT_IDENTITY = 1, LAB_NPT_HOLES = 2, LAB_NPT_REMAP = 3 };
enum lab_poke_op { LAB_POKE_SET = 0, LAB_POKE_CLEAR = 1, LAB_POKE_PUT = 2 };
enum lab_action_op { LAB_ACT_CLEAR = 0, LAB_ACT_SET = 1 };

#define LAB_MAX_STEPS    64
#define LAB_MAX_ACTIONS  16
#define LAB_MAX_INJECT   16
#define LAB_MAX_ATTEMPTS 8
#define LAB_MAX_POKES    4
#define LAB_MAX_PEEKS    6
#define LAB_WHY_LEN      48
#define LAB_STEP_FINAL   65535u

struct lab_step { uint64_t rip; uint32_t step; uint32_t len; };
struct lab_action { uint32_t step; uint32_t op; uint32_t word; uint32_t mask; char why[LAB_WHY_LEN]; };
struct lab_inject { uint32_t step; uint32_t event_inj; uint32_t err; uint32_t pad; char why[LAB_WHY_LEN]; };
struct lab_poke { uint32_t offset; uint32_t width; uint32_t op; uint32_t pad; uint64_t value; };
struct lab_attempt { char why[LAB_WHY_LEN]; uint32_t n_pokes; uint32_t pad; struct lab_poke pokes[LAB_MAX_POKES]; };

/* Written by the VMM at LAB_CONFIG; read by L1. */
struct lab_config {
	uint64_t magic;
	uint32_t scenario_id, flow;
	uint32_t l1_insn, l1_bad;
	uint64_t l2_entry;
	uint32_t intercept[6];       /* vmcb offsets 0x00..0x14 (APM vol 2, table B-1) */
	uint32_t nested_ctl;         /* vmcb offset 0x90 */
	uint32_t npt_layout;
	uint32_t cpl;                /* 0 or 3 */
	uint32_t v_intr_masking;
	uint32_t max_exits;
	uint32_t n_steps, n_actions, n_inject, n_attempts, n_peeks;
	char initial_why[LAB_WHY_LEN];
	uint64_t peeks[LAB_MAX_PEEKS];
	struct lab_step steps[LAB_MAX_STEPS];
	struct lab_action actions[LAB_MAX_ACTIONS];
	struct lab_inject inject[LAB_MAX_INJECT];
	struct lab_attempt attempts[LAB_MAX_ATTEMPTS];
};

enum lab_ev_kind {
	LAB_EV_NOTE = 1, LAB_EV_CONFIG = 2, LAB_EV_VMRUN = 3, LAB_EV_VMEXIT = 4, LAB_EV_EXCEPTION = 5,
};

/* One record of L1's log (136 bytes). */
struct lab_event {
	uint32_t kind;
	uint32_t step;
	uint64_t v[10];
	char text[LAB_WHY_LEN];
};
/* VMEXIT:    v = exit_code, info1, info2, int_info, int_info_err, l2_rip, next_rip
 * CONFIG:    v = intercept[0..5] (packed 2 per slot: v0=cr|dr<<32, v1=exc|w3<<32, v2=w4|w5<<32),
 *            v3 = nested_ctl, v4 = event_inj, v5 = event_inj_err
 * VMRUN:     v0 = rax
 * EXCEPTION: v0 = vector, v1 = error_code, v2 = rip, v3 = cr2, v4 = insn_len, v5 = context (1 = L2)
 * NOTE:      v0..v2 */

struct lab_log {
	uint64_t magic;
	uint32_t count;
	uint32_t status;
	uint64_t pad[6];
	struct lab_event ev[(LAB_LOG_SIZE - 64) / sizeof(struct lab_event)];
};

#endif
