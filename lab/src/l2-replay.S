/* svmdbg lab: the generic L2 programs `svmdbg export --format lab-scenario` writes for an
 * exit of L2 (Sources/Replay/Lab/LabScenarioExport.swift). Included at the end of l1.S, so
 * PROG/STEP/END are l1.S's macros.
 *
 * Each program loads L2's registers from LAB_L2_REPLAY, which the scenario fills with `mem`
 * lines (the VMM writes them before L1 starts), runs one instruction (step 1) and ends with
 * HLT (step 65535; the scenario intercepts HLT so L1 stops there):
 *   LAB_L2_REPLAY + 0x00 RAX, + 0x08 RCX, + 0x10 RDX, + 0x18 RSI, + 0x20 RDI
 *   LAB_L2_REPLAY_BUF (0x5fd00..0x5ffff): the data string I/O reads from or writes to
 * (RSI/RDI point there). Port I/O always uses the DX form, so every port 0..0xffff works. */
#define LAB_L2_REPLAY     0x5fc00
#define LAB_L2_REPLAY_BUF 0x5fd00

.macro REPLAY name, insn:vararg
PROG replay_\name
	mov	LAB_L2_REPLAY+0x00, %rax
	mov	LAB_L2_REPLAY+0x08, %rcx
	mov	LAB_L2_REPLAY+0x10, %rdx
	mov	LAB_L2_REPLAY+0x18, %rsi
	mov	LAB_L2_REPLAY+0x20, %rdi
STEP replay_\name, 1
	\insn
END replay_\name
	hlt
.endm

/* RDMSR/WRMSR: ECX = MSR, EDX:EAX = the value WRMSR writes (APM vol 3, "RDMSR", "WRMSR"). */
REPLAY rdmsr, rdmsr
REPLAY wrmsr, wrmsr
/* CPUID: EAX = leaf, ECX = subleaf. */
REPLAY cpuid, cpuid
/* IN/OUT with the port in DX (APM vol 3, "IN", "OUT"). */
REPLAY inb, inb %dx, %al
REPLAY inw, inw %dx, %ax
REPLAY inl, inl %dx, %eax
REPLAY outb, outb %al, %dx
REPLAY outw, outw %ax, %dx
REPLAY outl, outl %eax, %dx
/* INS (ES:RDI) and OUTS (DS:RSI), without and with REP (RCX = count). */
REPLAY insb, insb
REPLAY insw, insw
REPLAY insl, insl
REPLAY outsb, outsb
REPLAY outsw, outsw
REPLAY outsl, outsl
REPLAY rep_insb, rep insb
REPLAY rep_insw, rep insw
REPLAY rep_insl, rep insl
REPLAY rep_outsb, rep outsb
REPLAY rep_outsw, rep outsw
REPLAY rep_outsl, rep outsl
