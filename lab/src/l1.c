/* svmdbg lab: the L1 guest hypervisor. Freestanding; linked at LAB_L1_BASE.
 * It runs the scenario that the VMM wrote at LAB_CONFIG and logs what it sees to
 * LAB_LOG, writing the log index to port LAB_PORT_MARK after each event.
 * VMCB offsets: AMD64 APM vol 2 (pub. 24593), appendix B, tables B-1 (control area)
 * and B-2 (state save area). MSRs: APM vol 2, "SVM Related MSRs". */
#include "lab.h"

typedef uint64_t u64;
typedef uint32_t u32;
typedef uint16_t u16;
typedef uint8_t u8;

/* VMCB control area (APM table B-1). */
#define VMCB_INTERCEPT_CR   0x000
#define VMCB_INTERCEPT_DR   0x004
#define VMCB_INTERCEPT_EXC  0x008
#define VMCB_INTERCEPT_W3   0x00c
#define VMCB_INTERCEPT_W4   0x010
#define VMCB_INTERCEPT_W5   0x014
#define VMCB_IOPM_BASE      0x040
#define VMCB_MSRPM_BASE     0x048
#define VMCB_ASID           0x058
#define VMCB_TLB_CTL        0x05c
#define VMCB_V_INTR         0x060
#define VMCB_EXITCODE       0x070
#define VMCB_EXITINFO1      0x078
#define VMCB_EXITINFO2      0x080
#define VMCB_EXITINTINFO    0x088
#define VMCB_NESTED_CTL     0x090
#define VMCB_EVENTINJ       0x0a8
#define VMCB_N_CR3          0x0b0
#define VMCB_NEXT_RIP       0x0c8
/* VMCB state save area (APM table B-2). Segment: selector +0, attrib +2, limit +4, base +8. */
#define VMCB_ES   0x400
#define VMCB_CS   0x410
#define VMCB_SS   0x420
#define VMCB_DS   0x430
#define VMCB_FS   0x440
#define VMCB_GS   0x450
#define VMCB_GDTR 0x460
#define VMCB_LDTR 0x470
#define VMCB_IDTR 0x480
#define VMCB_TR   0x490
#define VMCB_CPL  0x4cb
#define VMCB_EFER 0x4d0
#define VMCB_CR4  0x548
#define VMCB_CR3  0x550
#define VMCB_CR0  0x558
#define VMCB_DR7  0x560
#define VMCB_DR6  0x568
#define VMCB_RFLAGS 0x570
#define VMCB_RIP  0x578
#define VMCB_RSP  0x5d8
#define VMCB_RAX  0x5f8
#define VMCB_STAR 0x600
#define VMCB_GPAT 0x668

#define MSR_EFER        0xc0000080u
#define MSR_STAR        0xc0000081u
#define MSR_VM_HSAVE_PA 0xc0010117u
#define EFER_SVME       (1u << 12)

#define SVM_EXIT_EXCP_BASE 0x40
#define SVM_EXIT_IOIO      0x7b
#define SVM_EXIT_HLT       0x78
#define SVM_EXIT_SHUTDOWN  0x7f
#define SVM_EXIT_NPF       0x400
#define SVM_EXIT_INVALID   0xffffffffffffffffull

#define GDT_KCODE 0x08
#define GDT_KDATA 0x10
#define GDT_UCODE 0x1b
#define GDT_UDATA 0x23
#define GDT_TSS   0x28

struct frame {
	u64 r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
	u64 vector, error, rip, cs, rflags, rsp, ss;
};

extern u64 svm_run(u64 vmcb);
extern void l1_vmload(u64 pa);
extern void l1_vmsave(u64 pa);
extern u64 l1_rdmsr(u32 msr);
extern void l1_wrmsr(u32 msr, u64 v);
extern const u64 isr_table[32];
extern const u64 isr48_addr;

volatile u32 in_l2;
u64 l2_gpr[14];
static volatile u32 inj_vector = 0xffffffffu; /* vector injected on the pending VMRUN */
static u32 l2_exceptions;
static u32 l1_gp_count;

static u64 gdt[8] __attribute__((aligned(16)));
static u64 idt[2 * 256] __attribute__((aligned(16)));
static u8 tss[104] __attribute__((aligned(16)));

#define CFG ((volatile struct lab_config *)LAB_CONFIG)
#define LOG ((volatile struct lab_log *)LAB_LOG)

void *memset(void *d, int c, unsigned long n) { u8 *p = d; while (n--) *p++ = (u8)c; return d; }
void *memcpy(void *d, const void *s, unsigned long n) { u8 *p = d; const u8 *q = s; while (n--) *p++ = *q++; return d; }

static inline void outl(u16 port, u32 v) { __asm__ volatile("outl %0, %1" :: "a"(v), "Nd"(port)); }
static inline u64 rd_cr0(void) { u64 v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static inline u64 rd_cr2(void) { u64 v; __asm__ volatile("mov %%cr2, %0" : "=r"(v)); return v; }
static inline u64 rd_cr3(void) { u64 v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static inline u64 rd_cr4(void) { u64 v; __asm__ volatile("mov %%cr4, %0" : "=r"(v)); return v; }

static inline volatile u8 *vmcb(u64 pa) { return (volatile u8 *)pa; }
static inline void w64(u64 pa, u32 off, u64 v) { *(volatile u64 *)(pa + off) = v; }
static inline void w32(u64 pa, u32 off, u32 v) { *(volatile u32 *)(pa + off) = v; }
static inline void w16(u64 pa, u32 off, u16 v) { *(volatile u16 *)(pa + off) = v; }
static inline void w8(u64 pa, u32 off, u8 v) { *(volatile u8 *)(pa + off) = v; }
static inline u64 r64(u64 pa, u32 off) { return *(volatile u64 *)(pa + off); }
static inline u32 r32(u64 pa, u32 off) { return *(volatile u32 *)(pa + off); }

static void copy_text(volatile char *dst, const volatile char *src, int n)
{
	int i = 0;
	for (; i < n - 1 && src[i]; i++)
		dst[i] = src[i];
	for (; i < n; i++)
		dst[i] = 0;
}

static volatile struct lab_event *log_new(u32 kind, u32 step)
{
	u32 i = LOG->count;
	volatile struct lab_event *e = &LOG->ev[i];
	e->kind = kind;
	e->step = step;
	for (int k = 0; k < 10; k++)
		e->v[k] = 0;
	e->text[0] = 0;
	return e;
}

static void log_commit(void)
{
	u32 i = LOG->count;
	LOG->count = i + 1;
	outl(LAB_PORT_MARK, i);
}

static void note(u32 step, const char *what, u64 a, u64 b, u64 c)
{
	volatile struct lab_event *e = log_new(LAB_EV_NOTE, step);
	e->v[0] = a; e->v[1] = b; e->v[2] = c;
	copy_text(e->text, what, sizeof(e->text));
	log_commit();
}

static void log_config(u32 step, const volatile char *why)
{
	u64 v = LAB_VMCB12;
	volatile struct lab_event *e = log_new(LAB_EV_CONFIG, step);
	e->v[0] = r32(v, VMCB_INTERCEPT_CR) | (u64)r32(v, VMCB_INTERCEPT_DR) << 32;
	e->v[1] = r32(v, VMCB_INTERCEPT_EXC) | (u64)r32(v, VMCB_INTERCEPT_W3) << 32;
	e->v[2] = r32(v, VMCB_INTERCEPT_W4) | (u64)r32(v, VMCB_INTERCEPT_W5) << 32;
	e->v[3] = r64(v, VMCB_NESTED_CTL);
	e->v[4] = r32(v, VMCB_EVENTINJ);
	e->v[5] = r32(v, VMCB_EVENTINJ + 4);
	copy_text(e->text, why, sizeof(e->text));
	log_commit();
}

static int step_at(u64 rip, u32 *len)
{
	for (u32 i = 0; i < CFG->n_steps; i++)
		if (CFG->steps[i].rip == rip) {
			if (len)
				*len = CFG->steps[i].len;
			return (int)CFG->steps[i].step;
		}
	return -1;
}

static int step_after(u64 rip)
{
	for (u32 i = 0; i < CFG->n_steps; i++)
		if (CFG->steps[i].rip + CFG->steps[i].len == rip)
			return (int)CFG->steps[i].step;
	return -1;
}

/* Called by isr_common for every exception or interrupt L1's IDT delivers, in L1
 * context or (L2 shares this IDT) in L2 context. */
void l1_exception(struct frame *f)
{
	u32 vec = (u32)f->vector;
	int in_guest = in_l2 && f->rip != (u64)0; /* refined below */
	extern char svm_run_vmrun[], l1_vmload_insn[], l1_vmsave_insn[];
	u64 rip = f->rip;
	if (rip == (u64)svm_run_vmrun || rip == (u64)l1_vmload_insn || rip == (u64)l1_vmsave_insn)
		in_guest = 0;
	volatile struct lab_event *e;
	u32 len = 0;
	int step;
	int injected = in_guest && vec == inj_vector;
	if (injected) {
		inj_vector = 0xffffffffu;
		step = step_after(rip);
		if (step < 0)
			step = step_at(rip, 0);
	} else if (vec == 1 || vec == 3 || vec == 4 || vec == 48) {
		step = step_after(rip);
	} else {
		step = step_at(rip, &len);
	}
	e = log_new(LAB_EV_EXCEPTION, step < 0 ? 0 : (u32)step);
	e->v[0] = vec;
	e->v[1] = f->error;
	e->v[2] = rip;
	e->v[3] = vec == 14 ? rd_cr2() : 0;
	e->v[5] = in_guest ? 1 : 0;
	e->v[6] = injected;
	if (!in_guest) {
		/* L1's own VMRUN/VMLOAD/VMSAVE with a bad RAX: skip the 3-byte instruction. */
		const volatile u8 *p = (const volatile u8 *)rip;
		if (vec == 13 && p[0] == 0x0f && p[1] == 0x01 && (p[2] == 0xd8 || p[2] == 0xda || p[2] == 0xdb)) {
			e->v[4] = 3;
			log_commit();
			l1_gp_count++;
			f->rip = rip + 3;
			return;
		}
		log_commit();
		note(0, "fatal L1 exception", vec, rip, f->error);
		LOG->status = 0xdead0002u;
		outl(LAB_PORT_DONE, 0xdead0002u);
		for (;;)
			__asm__ volatile("cli; hlt");
	}
	e->v[4] = injected ? 0 : len;
	log_commit();
	l2_exceptions++;
	if (!injected && len)
		f->rip = rip + len;
	if (l2_exceptions > 256) {
		note(0, "too many L2 exceptions", vec, rip, 0);
		LOG->status = 0xdead0003u;
		outl(LAB_PORT_DONE, 0xdead0003u);
		for (;;)
			__asm__ volatile("cli; hlt");
	}
}

static void set_gate(int vec, u64 handler)
{
	/* 64-bit interrupt gate, DPL 3 so INT3/INTn work from a CPL-3 L2 (APM vol 2, "Gate Descriptors"). */
	idt[2 * vec] = (handler & 0xffff) | ((u64)GDT_KCODE << 16) | ((u64)0xee00 << 32) |
		       ((handler >> 16) & 0xffff) << 48;
	idt[2 * vec + 1] = handler >> 32;
}

static struct { u16 limit; u64 base; } __attribute__((packed)) gdtr, idtr;

static void setup_descriptors(void)
{
	gdt[0] = 0;
	gdt[1] = 0x00af9a000000ffffull; /* kernel code, L=1 */
	gdt[2] = 0x00cf92000000ffffull; /* kernel data */
	gdt[3] = 0x00affa000000ffffull; /* user code, L=1, DPL 3 */
	gdt[4] = 0x00cff2000000ffffull; /* user data, DPL 3 */
	u64 tb = (u64)tss;
	memset(tss, 0, sizeof(tss));
	*(u64 *)(tss + 4) = LAB_L2_RSP0; /* RSP0 */
	*(u16 *)(tss + 102) = sizeof(tss); /* no I/O bitmap */
	gdt[5] = (sizeof(tss) - 1) | ((tb & 0xffffff) << 16) | (0x89ull << 40) | ((tb >> 24) & 0xff) << 56;
	gdt[6] = tb >> 32;
	for (int i = 0; i < 32; i++)
		set_gate(i, isr_table[i]);
	set_gate(48, isr48_addr);
	gdtr.limit = sizeof(gdt) - 1;
	gdtr.base = (u64)gdt;
	idtr.limit = sizeof(idt) - 1;
	idtr.base = (u64)idt;
	__asm__ volatile("lgdt %0" :: "m"(gdtr));
	__asm__ volatile("lidt %0" :: "m"(idtr));
	__asm__ volatile(
		"pushq $0x08\n\tlea 1f(%%rip), %%rax\n\tpushq %%rax\n\tlretq\n1:\n\t"
		"mov $0x10, %%eax\n\tmov %%eax, %%ds\n\tmov %%eax, %%es\n\tmov %%eax, %%ss\n\t"
		"mov %%eax, %%fs\n\tmov %%eax, %%gs\n\t"
		"mov $0x28, %%eax\n\tltr %%ax" ::: "rax", "memory");
}

/* L1's nested page tables for L2 (APM vol 2, "Nested Paging"): 1 GiB identity with
 * 2 MiB pages, the first 2 MiB as 4 KiB pages so single pages can be changed. */
#define NPT_PML4 (LAB_NPT + 0x0000)
#define NPT_PDPT (LAB_NPT + 0x1000)
#define NPT_PD   (LAB_NPT + 0x2000)
#define NPT_PT   (LAB_NPT + 0x3000)
#define PTE_P  1ull
#define PTE_RW 2ull
#define PTE_US 4ull
#define PTE_PS 0x80ull

static void npt_build(u32 layout)
{
	volatile u64 *pml4 = (volatile u64 *)NPT_PML4, *pdpt = (volatile u64 *)NPT_PDPT;
	volatile u64 *pd = (volatile u64 *)NPT_PD, *pt = (volatile u64 *)NPT_PT;
	for (int i = 0; i < 512; i++) {
		pml4[i] = 0;
		pdpt[i] = 0;
		pd[i] = ((u64)i << 21) | PTE_P | PTE_RW | PTE_US | PTE_PS;
		pt[i] = ((u64)i << 12) | PTE_P | PTE_RW | PTE_US;
	}
	pml4[0] = NPT_PDPT | PTE_P | PTE_RW | PTE_US;
	pdpt[0] = NPT_PD | PTE_P | PTE_RW | PTE_US;
	pd[0] = NPT_PT | PTE_P | PTE_RW | PTE_US;
	if (layout == LAB_NPT_HOLES) {
		pt[0x70] = 0;                          /* not present */
		pt[0x71] = 0x71000 | PTE_P | PTE_US;   /* read-only */
	} else if (layout == LAB_NPT_REMAP) {
		pt[0x70] = 0x72000 | PTE_P | PTE_RW | PTE_US;
	}
}

static void seg(u64 v, u32 off, u16 sel, u16 attr, u32 limit, u64 base)
{
	w16(v, off + 0, sel);
	w16(v, off + 2, attr);
	w32(v, off + 4, limit);
	w64(v, off + 8, base);
}

/* Segment attributes in VMCB format: type[3:0] S[4] DPL[6:5] P[7] AVL[8] L[9] DB[10] G[11]. */
#define ATTR_KCODE 0x0a9b
#define ATTR_KDATA 0x0c93
#define ATTR_UCODE 0x0afb
#define ATTR_UDATA 0x0cf3
#define ATTR_TSS   0x008b

static void vmcb_init(u64 v, u64 rip)
{
	for (int i = 0; i < 4096; i += 8)
		w64(v, i, 0);
	w32(v, VMCB_INTERCEPT_CR, CFG->intercept[0]);
	w32(v, VMCB_INTERCEPT_DR, CFG->intercept[1]);
	w32(v, VMCB_INTERCEPT_EXC, CFG->intercept[2]);
	w32(v, VMCB_INTERCEPT_W3, CFG->intercept[3]);
	w32(v, VMCB_INTERCEPT_W4, CFG->intercept[4]);
	w32(v, VMCB_INTERCEPT_W5, CFG->intercept[5]);
	w64(v, VMCB_IOPM_BASE, LAB_IOPM);
	w64(v, VMCB_MSRPM_BASE, LAB_MSRPM);
	w32(v, VMCB_ASID, 1);
	if (CFG->v_intr_masking)
		w32(v, VMCB_V_INTR, 1u << 24);
	if (CFG->npt_layout != LAB_NPT_OFF) {
		w64(v, VMCB_NESTED_CTL, 1);
		w64(v, VMCB_N_CR3, NPT_PML4);
	}
	int user = CFG->cpl == 3;
	seg(v, VMCB_CS, user ? GDT_UCODE : GDT_KCODE, user ? ATTR_UCODE : ATTR_KCODE, 0xffffffff, 0);
	seg(v, VMCB_SS, user ? GDT_UDATA : GDT_KDATA, user ? ATTR_UDATA : ATTR_KDATA, 0xffffffff, 0);
	seg(v, VMCB_DS, user ? GDT_UDATA : GDT_KDATA, user ? ATTR_UDATA : ATTR_KDATA, 0xffffffff, 0);
	seg(v, VMCB_ES, user ? GDT_UDATA : GDT_KDATA, user ? ATTR_UDATA : ATTR_KDATA, 0xffffffff, 0);
	seg(v, VMCB_FS, 0, 0, 0, 0);
	seg(v, VMCB_GS, 0, 0, 0, 0);
	seg(v, VMCB_TR, GDT_TSS, ATTR_TSS, sizeof(tss) - 1, (u64)tss);
	seg(v, VMCB_GDTR, 0, 0, sizeof(gdt) - 1, (u64)gdt);
	seg(v, VMCB_IDTR, 0, 0, sizeof(idt) - 1, (u64)idt);
	w8(v, VMCB_CPL, (u8)CFG->cpl);
	w64(v, VMCB_EFER, l1_rdmsr(MSR_EFER));
	w64(v, VMCB_CR0, rd_cr0());
	w64(v, VMCB_CR3, rd_cr3());
	w64(v, VMCB_CR4, rd_cr4());
	w64(v, VMCB_DR6, 0xffff0ff0);
	w64(v, VMCB_DR7, 0x400);
	w64(v, VMCB_RFLAGS, 0x2);
	w64(v, VMCB_RIP, rip);
	w64(v, VMCB_RSP, LAB_L2_STACK_TOP);
	w64(v, VMCB_RAX, 0);
	w64(v, VMCB_GPAT, 0x0007040600070406ull);
}

static void apply_pokes(u64 v, volatile struct lab_attempt *a)
{
	for (u32 i = 0; i < a->n_pokes && i < LAB_MAX_POKES; i++) {
		volatile struct lab_poke *p = &a->pokes[i];
		u64 cur;
		switch (p->width) {
		case 8: cur = *(volatile u8 *)(v + p->offset); break;
		case 16: cur = *(volatile u16 *)(v + p->offset); break;
		case 32: cur = *(volatile u32 *)(v + p->offset); break;
		default: cur = *(volatile u64 *)(v + p->offset); break;
		}
		if (p->op == LAB_POKE_SET) cur |= p->value;
		else if (p->op == LAB_POKE_CLEAR) cur &= ~p->value;
		else cur = p->value;
		switch (p->width) {
		case 8: *(volatile u8 *)(v + p->offset) = (u8)cur; break;
		case 16: *(volatile u16 *)(v + p->offset) = (u16)cur; break;
		case 32: *(volatile u32 *)(v + p->offset) = (u32)cur; break;
		default: *(volatile u64 *)(v + p->offset) = cur; break;
		}
	}
}

static void log_vmexit(u64 v, u32 step)
{
	volatile struct lab_event *e = log_new(LAB_EV_VMEXIT, step);
	e->v[0] = r64(v, VMCB_EXITCODE);
	e->v[1] = r64(v, VMCB_EXITINFO1);
	e->v[2] = r64(v, VMCB_EXITINFO2);
	e->v[3] = r32(v, VMCB_EXITINTINFO);
	e->v[4] = r32(v, VMCB_EXITINTINFO + 4);
	e->v[5] = r64(v, VMCB_RIP);
	e->v[6] = r64(v, VMCB_NEXT_RIP);
	log_commit();
}

static void finish(u32 status)
{
	for (u32 i = 0; i < CFG->n_peeks && i < LAB_MAX_PEEKS; i += 3) {
		u64 a = CFG->peeks[i], b = i + 1 < CFG->n_peeks ? CFG->peeks[i + 1] : 0;
		u64 c = i + 2 < CFG->n_peeks ? CFG->peeks[i + 2] : 0;
		note(LAB_STEP_FINAL, "peek", *(volatile u64 *)a, b ? *(volatile u64 *)b : 0, c ? *(volatile u64 *)c : 0);
	}
	note(LAB_STEP_FINAL, "scenario done", 0, l2_exceptions + l1_gp_count, 0);
	LOG->status = status;
	outl(LAB_PORT_DONE, status);
	for (;;)
		__asm__ volatile("cli; hlt");
}

static void flow_l2(void)
{
	u64 v = LAB_VMCB12;
	u32 n_exits = 0;
	/* VMRUN consistency-check attempts: one corrupted vmcb12 each (APM vol 2,
	 * "Canonicalization and Consistency Checks"). */
	for (u32 a = 0; a < CFG->n_attempts && a < LAB_MAX_ATTEMPTS; a++) {
		vmcb_init(v, CFG->l2_entry);
		apply_pokes(v, &CFG->attempts[a]);
		log_config(a + 1, CFG->attempts[a].why);
		svm_run(v);
		log_vmexit(v, a + 1);
	}
	vmcb_init(v, CFG->l2_entry);
	u32 next_inj = 0;
	int last_step = 0;
	u64 last_npf = ~0ull;
	for (;;) {
		int logged = 0;
		while (next_inj < CFG->n_inject && CFG->inject[next_inj].step == (u32)last_step) {
			w32(v, VMCB_EVENTINJ, CFG->inject[next_inj].event_inj);
			w32(v, VMCB_EVENTINJ + 4, CFG->inject[next_inj].err);
			inj_vector = CFG->inject[next_inj].event_inj & 0xff;
			log_config((u32)last_step, CFG->inject[next_inj].why);
			logged = 1;
			next_inj++;
			break;
		}
		if (n_exits == 0 && !logged)
			log_config(0, CFG->initial_why);
		svm_run(v);
		n_exits++;
		w32(v, VMCB_EVENTINJ, 0);
		w32(v, VMCB_EVENTINJ + 4, 0);
		w32(v, VMCB_TLB_CTL, 0);
		inj_vector = 0xffffffffu;
		u64 code = r64(v, VMCB_EXITCODE);
		u64 rip = r64(v, VMCB_RIP);
		u32 len = 0;
		int step = step_at(rip, &len);
		log_vmexit(v, step < 0 ? 0 : (u32)step);
		if (step == (int)LAB_STEP_FINAL || code == SVM_EXIT_INVALID || code == SVM_EXIT_SHUTDOWN)
			break;
		if (n_exits >= CFG->max_exits) {
			note(step < 0 ? 0 : (u32)step, "exit limit reached", n_exits, code, rip);
			break;
		}
		if (code == SVM_EXIT_NPF) {
			u64 gpa = r64(v, VMCB_EXITINFO2) & ~0xfffull;
			if (CFG->npt_layout == LAB_NPT_OFF || gpa >= 0x200000 || gpa == last_npf) {
				note(step < 0 ? 0 : (u32)step, "npf not fixable", gpa, 0, 0);
				break;
			}
			volatile u64 *pt = (volatile u64 *)NPT_PT;
			pt[gpa >> 12] = gpa | PTE_P | PTE_RW | PTE_US;
			w32(v, VMCB_TLB_CTL, 1); /* flush this guest's TLB on the next VMRUN */
			note(step < 0 ? 0 : (u32)step, "npf fixed pte", gpa, pt[gpa >> 12], 0);
			last_npf = gpa;
			continue;
		}
		if (code == SVM_EXIT_IOIO)
			w64(v, VMCB_RIP, r64(v, VMCB_EXITINFO2)); /* exit_info_2 = next RIP (APM "IOIO Intercept") */
		else if (step > 0 && !(r32(v, VMCB_EXITINTINFO) & 0x80000000u))
			w64(v, VMCB_RIP, rip + len);
		if (step > 0)
			last_step = step;
		for (u32 i = 0; i < CFG->n_actions; i++) {
			volatile struct lab_action *ac = &CFG->actions[i];
			if (step < 0 || ac->step != (u32)step || ac->word > 5)
				continue;
			u32 off = VMCB_INTERCEPT_CR + 4 * ac->word;
			u32 cur = r32(v, off);
			w32(v, off, ac->op == LAB_ACT_SET ? (cur | ac->mask) : (cur & ~ac->mask));
			log_config((u32)step, ac->why);
		}
	}
	finish(LAB_DONE_OK);
}

static u64 bad_rax(u64 base)
{
	switch (CFG->l1_bad) {
	case LAB_BAD_MISALIGNED: return base + LAB_BAD_MISALIGNED_OFF;
	case LAB_BAD_ILLEGAL: return LAB_BAD_ILLEGAL_GPA;
	default: return LAB_BAD_UNBACKED_GPA;
	}
}
static const char *bad_name(void)
{
	return CFG->l1_bad == LAB_BAD_MISALIGNED ? "misaligned" : CFG->l1_bad == LAB_BAD_ILLEGAL ? "illegal" : "unbacked";
}

static void log_l1_vmrun(u32 step, u64 rax, const char *what)
{
	volatile struct lab_event *e = log_new(LAB_EV_VMRUN, step);
	e->v[0] = rax;
	copy_text(e->text, what, sizeof(e->text));
	log_commit();
}

static void flow_l1_insn(void)
{
	u64 v = LAB_VMCB12, aux = LAB_VMCB_AUX;
	const u64 star1 = 0x0023001000000001ull, star2 = 0x0023001000000002ull;
	if (CFG->l1_insn == LAB_INSN_VMRUN) {
		vmcb_init(v, CFG->l2_entry);
		log_config(0, CFG->initial_why);
		log_l1_vmrun(1, v, "valid");
		svm_run(v);
		note(1, "after valid vmrun", r64(v, VMCB_EXITCODE), 0, r64(v, VMCB_RIP));
		vmcb_init(v, CFG->l2_entry);
		w64(v, VMCB_EXITCODE, 0x5e5e5e5e);
		u64 bad = bad_rax(v);
		log_l1_vmrun(2, bad, bad_name());
		svm_run(bad);
		note(2, "after bad vmrun", r64(v, VMCB_EXITCODE), l1_gp_count, r64(v, VMCB_RIP));
	} else if (CFG->l1_insn == LAB_INSN_VMLOAD) {
		for (int i = 0; i < 4096; i += 8)
			w64(aux, i, 0);
		w64(aux, VMCB_STAR, star1);
		l1_vmload(aux);
		note(1, "star after valid vmload", l1_rdmsr(MSR_STAR), 0, 0);
		w64(aux, VMCB_STAR, star2);
		u64 bad = bad_rax(aux);
		if (CFG->l1_bad == LAB_BAD_MISALIGNED)
			w64(bad, VMCB_STAR, star2);
		note(2, bad_name(), bad, 0, 0);
		l1_vmload(bad);
		note(2, "star after bad vmload", l1_rdmsr(MSR_STAR), l1_gp_count, 0);
	} else {
		for (int i = 0; i < 4096; i += 8)
			w64(aux, i, 0);
		l1_wrmsr(MSR_STAR, star1);
		l1_vmsave(aux);
		note(1, "aux.star after valid vmsave", r64(aux, VMCB_STAR), 0, l1_rdmsr(MSR_STAR));
		w64(aux, VMCB_STAR, 0);
		l1_wrmsr(MSR_STAR, star2);
		u64 bad = bad_rax(aux);
		note(2, bad_name(), bad, 0, 0);
		l1_vmsave(bad);
		note(2, "aux.star after bad vmsave", r64(aux, VMCB_STAR), l1_gp_count, 0);
	}
	finish(LAB_DONE_OK);
}

void l1_main(void)
{
	LOG->magic = LAB_LOG_MAGIC;
	LOG->count = 0;
	LOG->status = 0;
	setup_descriptors();
	if (CFG->magic != LAB_CONFIG_MAGIC) {
		outl(LAB_PORT_DONE, 0xdead0004u);
		return;
	}
	u64 efer = l1_rdmsr(MSR_EFER);
	l1_wrmsr(MSR_EFER, efer | EFER_SVME);
	l1_wrmsr(MSR_VM_HSAVE_PA, LAB_HSAVE);
	note(0, "svme on", l1_rdmsr(MSR_EFER), l1_rdmsr(MSR_VM_HSAVE_PA), 0);
	if (CFG->npt_layout != LAB_NPT_OFF)
		npt_build(CFG->npt_layout);
	if (CFG->flow == LAB_FLOW_L1_INSN)
		flow_l1_insn();
	else
		flow_l2();
}
