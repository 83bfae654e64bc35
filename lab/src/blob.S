/* Embeds the flat L1 image into the VMM. */
	.section .rodata
	.globl l1_blob, l1_blob_end
	.balign 4096
l1_blob:
	.incbin "l1.bin"
l1_blob_end:
	.section .note.GNU-stack, "", @progbits
