/* Embeds the flat L2 image of the KVM-on-KVM mode into kokvmm. */
	.section .rodata
	.globl kok_blob, kok_blob_end
	.balign 4096
kok_blob:
	.incbin "kok_l2.bin"
kok_blob_end:
	.section .note.GNU-stack, "", @progbits
