/* svmdbg lab: L1 entry, exception stubs, the VMRUN trampoline and the L2 programs.
 * Linked at LAB_L1_BASE (0x10000); the VMM starts it in 64-bit mode at CPL 0.
 * SVM instruction encodings: APM vol 3, "VMRUN", "VMLOAD", "VMSAVE", "CLGI", "STGI",
 * "INVLPGA", "SKINIT", "VMMCALL" (all 0F 01 xx, 3 bytes). */
	.code64
	.section .text.entry, "ax"
	.globl _start
_start:
	mov	$0x30000, %rsp
	xor	%ebp, %ebp
	call	l1_main
1:	mov	$0x511, %dx
	mov	$0xdead0001, %eax
	out	%eax, (%dx)
	hlt
	jmp	1b

	.text
/* Exception stubs: vectors that push an error code (8, 10-14, 17, 21, 29, 30) do not
 * push a dummy one (APM vol 2, "Exceptions and Interrupts": error codes). */
.macro ISR_NOERR n
	.globl isr\n
isr\n:	push	$0
	push	$\n
	jmp	isr_common
.endm
.macro ISR_ERR n
	.globl isr\n
isr\n:	push	$\n
	jmp	isr_common
.endm
ISR_NOERR 0
ISR_NOERR 1
ISR_NOERR 2
ISR_NOERR 3
ISR_NOERR 4
ISR_NOERR 5
ISR_NOERR 6
ISR_NOERR 7
ISR_ERR 8
ISR_NOERR 9
ISR_ERR 10
ISR_ERR 11
ISR_ERR 12
ISR_ERR 13
ISR_ERR 14
ISR_NOERR 15
ISR_NOERR 16
ISR_ERR 17
ISR_NOERR 18
ISR_NOERR 19
ISR_NOERR 20
ISR_ERR 21
ISR_NOERR 22
ISR_NOERR 23
ISR_NOERR 24
ISR_NOERR 25
ISR_NOERR 26
ISR_NOERR 27
ISR_NOERR 28
ISR_ERR 29
ISR_ERR 30
ISR_NOERR 31
ISR_NOERR 48

isr_common:
	push	%rax
	push	%rbx
	push	%rcx
	push	%rdx
	push	%rsi
	push	%rdi
	push	%rbp
	push	%r8
	push	%r9
	push	%r10
	push	%r11
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	mov	%rsp, %rdi
	call	l1_exception
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%r11
	pop	%r10
	pop	%r9
	pop	%r8
	pop	%rbp
	pop	%rdi
	pop	%rsi
	pop	%rdx
	pop	%rcx
	pop	%rbx
	pop	%rax
	add	$16, %rsp
	iretq

	.section .rodata
	.globl isr_table
	.balign 8
isr_table:
	.quad isr0, isr1, isr2, isr3, isr4, isr5, isr6, isr7, isr8, isr9, isr10, isr11
	.quad isr12, isr13, isr14, isr15, isr16, isr17, isr18, isr19, isr20, isr21, isr22
	.quad isr23, isr24, isr25, isr26, isr27, isr28, isr29, isr30, isr31
	.globl isr48_addr
isr48_addr:
	.quad isr48

	.text
/* uint64_t svm_run(uint64_t vmcb_pa): CLGI; VMRUN; STGI with L2's general registers
 * (all but RAX/RSP, which live in the VMCB save area) kept in l2_gpr across runs. */
	.globl svm_run
svm_run:
	push	%rbx
	push	%rbp
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	mov	%rdi, %rax
	movl	$1, in_l2(%rip)
	mov	l2_gpr+0(%rip), %rbx
	mov	l2_gpr+8(%rip), %rcx
	mov	l2_gpr+16(%rip), %rdx
	mov	l2_gpr+24(%rip), %rsi
	mov	l2_gpr+40(%rip), %rbp
	mov	l2_gpr+48(%rip), %r8
	mov	l2_gpr+56(%rip), %r9
	mov	l2_gpr+64(%rip), %r10
	mov	l2_gpr+72(%rip), %r11
	mov	l2_gpr+80(%rip), %r12
	mov	l2_gpr+88(%rip), %r13
	mov	l2_gpr+96(%rip), %r14
	mov	l2_gpr+104(%rip), %r15
	mov	l2_gpr+32(%rip), %rdi
	clgi
	.globl svm_run_vmrun
svm_run_vmrun:
	vmrun	%rax
	mov	%rbx, l2_gpr+0(%rip)
	mov	%rcx, l2_gpr+8(%rip)
	mov	%rdx, l2_gpr+16(%rip)
	mov	%rsi, l2_gpr+24(%rip)
	mov	%rdi, l2_gpr+32(%rip)
	mov	%rbp, l2_gpr+40(%rip)
	mov	%r8, l2_gpr+48(%rip)
	mov	%r9, l2_gpr+56(%rip)
	mov	%r10, l2_gpr+64(%rip)
	mov	%r11, l2_gpr+72(%rip)
	mov	%r12, l2_gpr+80(%rip)
	mov	%r13, l2_gpr+88(%rip)
	mov	%r14, l2_gpr+96(%rip)
	mov	%r15, l2_gpr+104(%rip)
	stgi
	movl	$0, in_l2(%rip)
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%rbp
	pop	%rbx
	ret

/* L1's own VMLOAD/VMSAVE (for the l1-* scenarios). */
	.globl l1_vmload
l1_vmload:
	mov	%rdi, %rax
	.globl l1_vmload_insn
l1_vmload_insn:
	vmload	%rax
	ret
	.globl l1_vmsave
l1_vmsave:
	mov	%rdi, %rax
	.globl l1_vmsave_insn
l1_vmsave_insn:
	vmsave	%rax
	ret

	.globl l1_rdmsr
l1_rdmsr:
	mov	%edi, %ecx
	rdmsr
	shl	$32, %rdx
	or	%rdx, %rax
	ret
	.globl l1_wrmsr
l1_wrmsr:
	mov	%edi, %ecx
	mov	%rsi, %rax
	mov	%rsi, %rdx
	shr	$32, %rdx
	wrmsr
	ret

/* ---------------------------------------------------------------------------------
 * L2 programs. Each is `l2_NAME`; `l2step_NAME_N` marks step N and `l2end_NAME` the
 * final step (65535). The build turns these symbols plus objdump's decoding into the
 * step table (rip, length, instruction text) that the VMM gives L1 and the manifest.
 * --------------------------------------------------------------------------------- */
.macro PROG name
	.balign 16
	.globl l2_\name
l2_\name:
.endm
.macro STEP p, n
	.globl l2step_\p\()_\n
l2step_\p\()_\n:
.endm
.macro END p
	.globl l2end_\p
l2end_\p:
.endm
#define L2RES 0x5f800

PROG hlt
END hlt
	hlt
	jmp	l2end_hlt

PROG cpuid_toggle
	xor	%eax, %eax
	xor	%ecx, %ecx
STEP cpuid_toggle, 1
	cpuid
	xor	%eax, %eax
	xor	%ecx, %ecx
STEP cpuid_toggle, 2
	cpuid
	mov	$1, %eax
	xor	%ecx, %ecx
STEP cpuid_toggle, 3
	cpuid
	mov	%rax, L2RES
	mov	%rcx, L2RES+8
	mov	%rdx, L2RES+16
STEP cpuid_toggle, 4
	vmmcall
	xor	%eax, %eax
	xor	%ecx, %ecx
STEP cpuid_toggle, 5
	cpuid
END cpuid_toggle
	hlt

PROG msr_prot
	mov	$0x10, %ecx
STEP msr_prot, 1
	rdmsr
	mov	$0x174, %ecx
	xor	%eax, %eax
	xor	%edx, %edx
STEP msr_prot, 2
	wrmsr
	mov	$0xc0000081, %ecx
STEP msr_prot, 3
	rdmsr
STEP msr_prot, 4
	wrmsr
	mov	$0xc0000082, %ecx
STEP msr_prot, 5
	rdmsr
	mov	$0x174, %ecx
STEP msr_prot, 6
	rdmsr
	mov	$0x40000000, %ecx
STEP msr_prot, 7
	rdmsr
	mov	$0xc0010117, %ecx
STEP msr_prot, 8
	rdmsr
	mov	%rax, L2RES
	mov	%rdx, L2RES+8
END msr_prot
	hlt

PROG cr_access
STEP cr_access, 1
	mov	%cr0, %rax
STEP cr_access, 2
	mov	%rax, %cr0
STEP cr_access, 3
	mov	%cr3, %rax
STEP cr_access, 4
	mov	%cr4, %rax
STEP cr_access, 5
	mov	%rax, %cr4
	mov	$0x1000, %eax
STEP cr_access, 6
	mov	%rax, %cr3
END cr_access
	hlt

PROG exceptions
STEP exceptions, 1
	ud2
STEP exceptions, 2
	int3
	mov	$0x1234, %ecx
STEP exceptions, 3
	rdmsr
	mov	$1, %eax
	xor	%edx, %edx
	xor	%ecx, %ecx
STEP exceptions, 4
	div	%ecx
	movabs	$0x8000000000000000, %rax
STEP exceptions, 5
	mov	(%rax), %rax
STEP exceptions, 6
	ud2
END exceptions
	hlt

PROG vmmcall
STEP vmmcall, 1
	vmmcall
	mov	$0x12345678, %eax
STEP vmmcall, 2
	vmmcall
	mov	%rax, L2RES
END vmmcall
	hlt

PROG svm_insns
	mov	$0x32000, %eax
STEP svm_insns, 1
	vmload	%rax
STEP svm_insns, 2
	vmsave	%rax
	mov	$0x33000, %eax
STEP svm_insns, 3
	vmrun	%rax
STEP svm_insns, 4
	clgi
STEP svm_insns, 5
	stgi
	mov	$0x70000, %eax
	mov	$1, %ecx
STEP svm_insns, 6
	invlpga	%rax, %ecx
	mov	$0x70000, %eax
STEP svm_insns, 7
	skinit	%eax
END svm_insns
	hlt

PROG svm_nointercept
	mov	$0x32000, %eax
STEP svm_nointercept, 1
	vmsave	%rax
STEP svm_nointercept, 2
	vmload	%rax
STEP svm_nointercept, 3
	clgi
STEP svm_nointercept, 4
	stgi
	mov	$0x70000, %eax
	mov	$1, %ecx
STEP svm_nointercept, 5
	invlpga	%rax, %ecx
	mov	$0x70000, %eax
STEP svm_nointercept, 6
	skinit	%eax
END svm_nointercept
	hlt

PROG badrax_vmrun
	mov	$0x33010, %eax
STEP badrax_vmrun, 1
	vmrun	%rax
	movabs	$0x10000000000, %rax
STEP badrax_vmrun, 2
	vmrun	%rax
	movabs	$0x100000000, %rax
STEP badrax_vmrun, 3
	vmrun	%rax
END badrax_vmrun
	hlt

PROG badrax_vmload_vmsave
	mov	$0x32000, %eax
STEP badrax_vmload_vmsave, 1
	vmsave	%rax
	mov	$0x32010, %eax
STEP badrax_vmload_vmsave, 2
	vmload	%rax
	movabs	$0x10000000000, %rax
STEP badrax_vmload_vmsave, 3
	vmload	%rax
	movabs	$0x100000000, %rax
STEP badrax_vmload_vmsave, 4
	vmload	%rax
	mov	$0x32010, %eax
STEP badrax_vmload_vmsave, 5
	vmsave	%rax
	movabs	$0x10000000000, %rax
STEP badrax_vmload_vmsave, 6
	vmsave	%rax
	movabs	$0x100000000, %rax
STEP badrax_vmload_vmsave, 7
	vmsave	%rax
END badrax_vmload_vmsave
	hlt

PROG nested_npt
STEP nested_npt, 1
	mov	0x70000, %eax
STEP nested_npt, 2
	movl	$0x1234, 0x71000
STEP nested_npt, 3
	mov	0x70008, %eax
END nested_npt
	hlt

PROG npt_remap
	mov	$0x70000, %eax
STEP npt_remap, 1
	vmload	%rax
	mov	$0xc0000081, %ecx
STEP npt_remap, 2
	rdmsr
	mov	%eax, L2RES
	mov	%edx, L2RES+4
	mov	$0xaaaa, %eax
STEP npt_remap, 3
	wrmsr
	mov	$0x70000, %eax
STEP npt_remap, 4
	vmsave	%rax
END npt_remap
	hlt

/* IOIO: sizes 1/2/4, an access crossing a bitmap byte (0x87..0x88), port 0xFFFF and
 * accesses that run past it, and a string OUTS (APM vol 2, "I/O Permissions Map"). */
PROG ioio
	mov	$0x11, %al
STEP ioio, 1
	outb	%al, $0x80
STEP ioio, 2
	outw	%ax, $0x80
STEP ioio, 3
	outl	%eax, $0x80
STEP ioio, 4
	outb	%al, $0x87
STEP ioio, 5
	outw	%ax, $0x87
	mov	$0xffff, %edx
STEP ioio, 6
	inb	%dx, %al
	mov	$0xfffe, %edx
STEP ioio, 7
	outb	%al, %dx
STEP ioio, 8
	inw	%dx, %ax
	mov	$0xffff, %edx
STEP ioio, 9
	outw	%ax, %dx
STEP ioio, 10
	outl	%eax, %dx
	lea	l2_iobuf(%rip), %rsi
	mov	$2, %ecx
	mov	$0x80, %edx
STEP ioio, 11
	rep outsb
END ioio
	hlt
l2_iobuf:
	.byte 0x5a, 0xa5, 0, 0

/* Selective CR0 write: TS/MP-only changes do not match, CD and LMSW(EM) do. */
PROG cr0_sel
	mov	%cr0, %rax
	mov	%rax, %rbx
	xor	$0x8, %rax
STEP cr0_sel, 1
	mov	%rax, %cr0
	mov	%rbx, %rax
	xor	$0x2, %rax
STEP cr0_sel, 2
	mov	%rax, %cr0
	mov	%rbx, %rax
	or	$0x40000000, %rax
STEP cr0_sel, 3
	mov	%rax, %cr0
	mov	%rbx, %rax
STEP cr0_sel, 4
	mov	%rax, %cr0
	mov	%rbx, %rax
	or	$0x4, %eax
STEP cr0_sel, 5
	lmsw	%ax
STEP cr0_sel, 6
	clts
STEP cr0_sel, 7
	smsw	%eax
END cr0_sel
	hlt

PROG dr_access
STEP dr_access, 1
	mov	%dr7, %rax
	mov	$0x400, %eax
STEP dr_access, 2
	mov	%rax, %dr7
STEP dr_access, 3
	mov	%dr0, %rax
	xor	%eax, %eax
STEP dr_access, 4
	mov	%rax, %dr0
STEP dr_access, 5
	mov	%dr6, %rax
STEP dr_access, 6
	mov	%rax, %dr1
END dr_access
	hlt

PROG invlpga
	mov	$0x70000, %eax
	mov	$1, %ecx
STEP invlpga, 1
	invlpga	%rax, %ecx
	mov	$0x70000, %eax
	mov	$1, %ecx
STEP invlpga, 2
	invlpga	%rax, %ecx
	mov	$0x70000, %eax
	xor	%ecx, %ecx
STEP invlpga, 3
	invlpga	%rax, %ecx
END invlpga
	hlt

/* #PF: 0x40000000 is above the 1 GiB identity map, so L2's own walk faults. */
PROG pf
STEP pf, 1
	mov	0x40000000, %rax
STEP pf, 2
	movq	$1, 0x40001000
STEP pf, 3
	mov	0x40000008, %rax
END pf
	hlt

/* MMIO: 8 MiB is mapped by the page tables but has no memslot (RAM is 4 MiB). */
PROG mmio
STEP mmio, 1
	mov	0x800000, %eax
STEP mmio, 2
	movl	$0x5a5a, 0x800010
END mmio
	hlt

/* L2 at CPL 3: privilege checks against intercepts. Ends with VMMCALL (HLT is #GP). */
PROG cpl3
	xor	%eax, %eax
	xor	%ecx, %ecx
STEP cpl3, 1
	cpuid
	mov	$0x10, %ecx
STEP cpl3, 2
	rdmsr
STEP cpl3, 3
	mov	%cr0, %rax
STEP cpl3, 4
	hlt
STEP cpl3, 5
	outb	%al, $0x80
STEP cpl3, 6
	int3
STEP cpl3, 7
	ud2
STEP cpl3, 8
	vmload	%rax
END cpl3
	vmmcall

/* Event injection: L1 injects an event on the VMRUN after each VMMCALL exit. */
PROG inject
	nop
STEP inject, 1
	vmmcall
	nop
STEP inject, 2
	vmmcall
	nop
STEP inject, 3
	vmmcall
	nop
STEP inject, 4
	vmmcall
	nop
STEP inject, 5
	vmmcall
	nop
END inject
	hlt

#include "l2-replay.S"
