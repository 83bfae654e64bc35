/* svmdbg lab, KVM-on-KVM mode: the L2 guest. Freestanding, 64-bit, CPL 0, linked at
 * KOK_CODE. Every vCPU starts at kok_start with RDI = its index and RSP = the top of its
 * stack; it builds the shared IDT, then runs its op list (written by kokvmm from the
 * scenario file) and reports the end on KOK_PORT_DONE. Exceptions an op provokes resume at
 * the op's recovery point; interrupts count and EOI; NMIs count. */
#include "kok.h"

typedef unsigned long long u64;
typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;

struct frame {
	u64 r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
	u64 vector, error, rip, cs, rflags, rsp, ss;
};

/* Entry and interrupt stubs: vectors 0-255, 16 bytes each; those with an error code skip
 * the dummy push. */
__asm__(
	".section .text.entry, \"ax\"\n"
	".globl kok_start\n"
	"kok_start:\n"
	"	call kok_main\n"
	"1:	cli; hlt; jmp 1b\n"
	".text\n"
	".balign 16\n"
	".globl kok_stubs\n"
	"kok_stubs:\n"
	"	vec = 0\n"
	"	.rept 256\n"
	"	.balign 16\n"
	"	.if vec == 8 || vec == 10 || vec == 11 || vec == 12 || vec == 13 || vec == 14 || vec == 17 || vec == 21 || vec == 29 || vec == 30\n"
	"	nop; nop\n"
	"	.else\n"
	"	pushq $0\n"
	"	.endif\n"
	"	pushq $vec\n"
	"	jmp kok_common\n"
	"	vec = vec + 1\n"
	"	.endr\n"
	"kok_common:\n"
	"	push %rax; push %rbx; push %rcx; push %rdx; push %rsi; push %rdi; push %rbp\n"
	"	push %r8; push %r9; push %r10; push %r11; push %r12; push %r13; push %r14; push %r15\n"
	"	mov %rsp, %rdi\n"
	"	call kok_handler\n"
	"	pop %r15; pop %r14; pop %r13; pop %r12; pop %r11; pop %r10; pop %r9; pop %r8\n"
	"	pop %rbp; pop %rdi; pop %rsi; pop %rdx; pop %rcx; pop %rbx; pop %rax\n"
	"	add $16, %rsp\n"
	"	iretq\n");

extern char kok_stubs[];

static inline struct kok_pcpu *pcpu(void)
{
	u64 sp;
	__asm__ volatile("mov %%rsp, %0" : "=r"(sp));
	return (struct kok_pcpu *)(sp & ~(u64)(KOK_STACK_SIZE - 1));
}

static inline void wrmsr(u32 msr, u64 v)
{
	__asm__ volatile("wrmsr" ::"c"(msr), "a"((u32)v), "d"((u32)(v >> 32)) : "memory");
}

static inline u64 rdmsr(u32 msr)
{
	u32 lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr) : "memory");
	return ((u64)hi << 32) | lo;
}

void kok_handler(struct frame *f)
{
	struct kok_pcpu *p = pcpu();
	p->last_vector = f->vector;
	if (f->vector == 2) {
		p->nmis++;
	} else if (f->vector >= 32) {
		p->irqs++;
		wrmsr(0x80b, 0); /* x2APIC EOI */
	} else {
		p->exceptions++;
		if (p->recover) {
			f->rip = p->recover;
			p->recover = 0;
		} else {
			for (;;) __asm__ volatile("cli; hlt");
		}
	}
}

/* Runs INSN with p->recover pointing just after it (an exception resumes there). */
#define G_BEGIN "lea 1f(%%rip), %%r11\n\tmov %%r11, %[rec]\n\t"
#define G_END "\n1:\n\tmovq $0, %[rec]"

static void idt_setup(void)
{
	u64 *idt = (u64 *)KOK_IDT;
	for (int v = 0; v < 256; v++) {
		u64 h = (u64)kok_stubs + (u64)v * 16;
		/* 64-bit interrupt gate, selector 0x08, present, DPL 0 (APM vol 2, "Gate Descriptors") */
		idt[2 * v] = (h & 0xffff) | (0x08ull << 16) | (0x8eull << 40) | ((h >> 16 & 0xffff) << 48);
		idt[2 * v + 1] = h >> 32;
	}
	struct __attribute__((packed)) { u16 limit; u64 base; } d = {256 * 16 - 1, KOK_IDT};
	__asm__ volatile("lidt %0" ::"m"(d));
}

static void wait_count(volatile u64 *counter, u64 want)
{
	while (*counter < want) __asm__ volatile("sti; hlt; cli" ::: "memory");
}

void kok_main(u64 cpu)
{
	struct kok_pcpu *p = pcpu();
	p->cpu = cpu;
	p->recover = 0;
	idt_setup();
	volatile u64 *flags = (volatile u64 *)KOK_FLAGS;
	const struct kok_op *op = (const struct kok_op *)(KOK_OPS + cpu * KOK_OPS_STRIDE);
	static const char outs_buf[64] = "svmdbg-kok-outsb-data-svmdbg-kok-outsb-data-svmdbg-kok-outsb-da";
	for (int i = 0; i < KOK_MAX_OPS; i++, op++) {
		u64 a = op->a, b = op->b;
		switch (op->code) {
		case KOK_OP_END: i = KOK_MAX_OPS; break;
		case KOK_OP_CPUID: {
			u32 eax = (u32)a, ebx, ecx = (u32)b, edx;
			__asm__ volatile("cpuid" : "+a"(eax), "=b"(ebx), "+c"(ecx), "=d"(edx));
			break;
		}
		case KOK_OP_RDMSR: __asm__ volatile(G_BEGIN "rdmsr" G_END : [rec] "+m"(p->recover), "+c"(a)::"rax", "rdx", "r11", "memory"); break;
		case KOK_OP_WRMSR:
			__asm__ volatile(G_BEGIN "wrmsr" G_END : [rec] "+m"(p->recover), "+c"(a) : "a"((u32)b), "d"((u32)(b >> 32)) : "r11", "memory");
			break;
		case KOK_OP_OUTB: __asm__ volatile("outb %%al, %%dx" ::"a"((u8)b), "d"((u16)a)); break;
		case KOK_OP_OUTW: __asm__ volatile("outw %%ax, %%dx" ::"a"((u16)b), "d"((u16)a)); break;
		case KOK_OP_OUTL: __asm__ volatile("outl %%eax, %%dx" ::"a"((u32)b), "d"((u16)a)); break;
		case KOK_OP_INB: { u8 v; __asm__ volatile("inb %%dx, %%al" : "=a"(v) : "d"((u16)a)); (void)v; break; }
		case KOK_OP_OUTSB: {
			const char *src = outs_buf;
			u64 n = b > sizeof(outs_buf) ? sizeof(outs_buf) : b;
			__asm__ volatile("rep outsb" : "+S"(src), "+c"(n) : "d"((u16)a) : "memory");
			break;
		}
		case KOK_OP_MMIO_READ: { u32 v = *(volatile u32 *)a; (void)v; break; }
		case KOK_OP_MMIO_WRITE: *(volatile u32 *)a = (u32)b; break;
		case KOK_OP_TOUCH:
			for (u64 k = 0; k < b; k++) *(volatile u8 *)(a + k * 4096) = (u8)k;
			break;
		case KOK_OP_UD2: __asm__ volatile(G_BEGIN "ud2" G_END : [rec] "+m"(p->recover) :: "r11", "memory"); break;
		case KOK_OP_INT3: __asm__ volatile(G_BEGIN "int3" G_END : [rec] "+m"(p->recover) :: "r11", "memory"); break;
		case KOK_OP_DIV0: __asm__ volatile(G_BEGIN "xor %%edx, %%edx\n\txor %%ecx, %%ecx\n\tmov $1, %%eax\n\tdiv %%ecx" G_END : [rec] "+m"(p->recover) :: "rax", "rcx", "rdx", "r11", "memory"); break;
		case KOK_OP_VMMCALL: { u64 r = a; __asm__ volatile("vmmcall" : "+a"(r) :: "rbx", "rcx", "rdx", "rsi", "memory"); break; }
		case KOK_OP_RDTSCP: __asm__ volatile("rdtscp" ::: "rax", "rcx", "rdx"); break;
		case KOK_OP_WBINVD: __asm__ volatile("wbinvd" ::: "memory"); break;
		case KOK_OP_XGETBV: __asm__ volatile(G_BEGIN "xgetbv" G_END : [rec] "+m"(p->recover), "+c"(a)::"rax", "rdx", "r11", "memory"); break;
		case KOK_OP_XSETBV:
			__asm__ volatile(G_BEGIN "xsetbv" G_END : [rec] "+m"(p->recover), "+c"(a) : "a"((u32)b), "d"((u32)(b >> 32)) : "r11", "memory");
			break;
		case KOK_OP_APIC_ON:
			wrmsr(0x1b, rdmsr(0x1b) | (1ull << 11) | (1ull << 10)); /* APIC_BASE: EN, EXTD */
			wrmsr(0x80f, 0x1ff);                                   /* SVR: enabled, vector 0xff */
			break;
		case KOK_OP_TIMER: {
			u64 want = p->irqs + 1;
			wrmsr(0x83e, 0xb);   /* divide by 1 */
			wrmsr(0x832, b & 0xff); /* LVT timer: one-shot, vector */
			wrmsr(0x838, a);     /* initial count */
			wait_count(&p->irqs, want);
			break;
		}
		case KOK_OP_IPI: wrmsr(0x830, (a << 32) | (b & 0xff)); break;
		case KOK_OP_SELF_IPI: {
			u64 want = p->irqs + 1;
			wrmsr(0x83f, a & 0xff);
			wait_count(&p->irqs, want);
			break;
		}
		case KOK_OP_NMI: wrmsr(0x830, (a << 32) | 0x400); break;
		case KOK_OP_WAIT_IRQ: wait_count(&p->irqs, a); break;
		case KOK_OP_WAIT_NMI: wait_count(&p->nmis, a); break;
		case KOK_OP_INIT_SIPI:
			wrmsr(0x830, (a << 32) | 0x4500);        /* INIT, level assert */
			wrmsr(0x830, (a << 32) | 0x4600 | (b & 0xff)); /* STARTUP */
			break;
		case KOK_OP_PARK: for (;;) __asm__ volatile("cli; hlt");
		case KOK_OP_SET_FLAG: flags[a & 63] = 1; break;
		case KOK_OP_WAIT_FLAG: while (!flags[a & 63]) __asm__ volatile("pause"); break;
		case KOK_OP_HLT: __asm__ volatile("sti; hlt; cli" ::: "memory"); break;
		default: break;
		}
	}
	__asm__ volatile("outb %%al, %%dx" ::"a"((u8)cpu), "d"((u16)KOK_PORT_DONE));
}
