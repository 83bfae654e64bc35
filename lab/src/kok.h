/* svmdbg lab, KVM-on-KVM mode: layout and op codes shared by the L2 guest (kok_l2.c) and
 * the VMM that runs it on L1's /dev/kvm (kokvmm.c). Guest-physical addresses. */
#ifndef KOK_H
#define KOK_H

#define KOK_RAM_SIZE    0x400000ull  /* 4 MiB */
#define KOK_GDT         0x1000
#define KOK_IDT         0x2000
#define KOK_PML4        0x3000
#define KOK_PDPT        0x4000
#define KOK_PD          0x5000       /* 4 page directories: 4 GiB of 2 MiB pages */
#define KOK_SIPI_PAGE   0x9000       /* real-mode trampoline, SIPI vector 9 */
#define KOK_CODE        0x10000
#define KOK_FLAGS       0x2f000      /* shared flags, 64 x u64 */
#define KOK_OPS         0x30000      /* per vCPU: KOK_OPS + cpu * 0x1000 */
#define KOK_OPS_STRIDE  0x1000
#define KOK_STACKS      0x40000      /* per vCPU: 16 KiB, struct kok_pcpu at the bottom */
#define KOK_STACK_SIZE  0x4000
#define KOK_TOUCH_BASE  0x100000     /* pages L2 may touch: up to KOK_RAM_SIZE */
#define KOK_MMIO_HOLE   0xd0000000ull /* no memslot: KVM_EXIT_MMIO */
#define KOK_MAX_VCPUS   4
#define KOK_MAX_OPS     (KOK_OPS_STRIDE / 32)

#define KOK_PORT_DONE   0xf0  /* vCPU finished its op list (value = cpu) */
#define KOK_PORT_SIPI   0xf1  /* the SIPI trampoline ran */
#define KOK_PORT_STEP   0xf2  /* op index about to run (only with the `mark` op) */

struct kok_op {
	unsigned int code, pad;
	unsigned long long a, b, c;
};

struct kok_pcpu {
	unsigned long long recover; /* RIP an exception handler resumes at, 0 = none */
	unsigned long long cpu, irqs, nmis, exceptions, last_vector;
};

enum kok_opcode {
	KOK_OP_END = 0,
	KOK_OP_CPUID,      /* a leaf, b subleaf */
	KOK_OP_RDMSR,      /* a msr (a #GP is caught) */
	KOK_OP_WRMSR,      /* a msr, b value (a #GP is caught) */
	KOK_OP_OUTB,       /* a port, b value */
	KOK_OP_OUTW,
	KOK_OP_OUTL,
	KOK_OP_INB,        /* a port */
	KOK_OP_OUTSB,      /* a port, b count (rep outsb) */
	KOK_OP_MMIO_READ,  /* a address (32-bit read) */
	KOK_OP_MMIO_WRITE, /* a address, b value */
	KOK_OP_TOUCH,      /* a address, b pages: one write per 4 KiB page */
	KOK_OP_UD2,
	KOK_OP_INT3,
	KOK_OP_DIV0,
	KOK_OP_VMMCALL,    /* a rax */
	KOK_OP_RDTSCP,
	KOK_OP_WBINVD,
	KOK_OP_XGETBV,     /* a ecx (a #UD is caught) */
	KOK_OP_XSETBV,     /* a ecx, b value (a #UD/#GP is caught) */
	KOK_OP_APIC_ON,    /* x2APIC on, software enabled */
	KOK_OP_TIMER,      /* a initial count, b vector: one-shot LAPIC timer, STI;HLT until it fires */
	KOK_OP_IPI,        /* a destination x2APIC id, b vector (fixed) */
	KOK_OP_SELF_IPI,   /* a vector, then STI;HLT until it arrives */
	KOK_OP_NMI,        /* a destination: NMI IPI */
	KOK_OP_WAIT_IRQ,   /* a count: STI;HLT until this many interrupts arrived in total */
	KOK_OP_WAIT_NMI,   /* a count: HLT until this many NMIs arrived in total */
	KOK_OP_INIT_SIPI,  /* a destination, b vector: INIT then SIPI */
	KOK_OP_PARK,       /* CLI;HLT forever (waits for INIT) */
	KOK_OP_SET_FLAG,   /* a flag index */
	KOK_OP_WAIT_FLAG,  /* a flag index: spin (PAUSE) until set */
	KOK_OP_HLT,        /* STI;HLT once */
	KOK_OP_COUNT
};

#endif
