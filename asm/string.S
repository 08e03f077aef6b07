/*
 * string.S - memcpy and memset for the kernel (Linux: arch/arm64/lib/memcpy.S, memset.S).
 * Rust half: src/arch/arm64/lib/string.rs, which assembles this file with global_asm!.
 *
 * Rust code calls memcpy and memset for every copy or fill it does not inline: moving a
 * struct, building one in the heap, zeroing an array. The generic versions compiler_builtins
 * provides (weak symbols, which these replace) are built for +strict-align, so they copy 8
 * bytes per 4 instructions when source and destination share an alignment, and assemble
 * each word from single bytes when they do not: a struct field at an offset of 4 costs
 * 2.6 instructions a byte. These use unaligned 16-byte pairs (ldp/stp), which Normal memory
 * allows with SCTLR_EL1.A clear (sysreg.rs): about 0.2 instructions a byte whatever the
 * alignment. This must be assembly: written in Rust the loops would be recognised as
 * memcpy and memset and compiled into calls to themselves.
 *
 * Only for Normal (cacheable) memory, which is all that Rust code copies: device registers
 * are read and written one at a time with volatile accesses, never with these. Rust runs
 * only once the MMU is on (head.S), so they are never called with the MMU off, where
 * unaligned accesses fault.
 *
 * The short cases copy overlapping pieces (the first and the last 8 bytes of 8..16, ...),
 * as Arm's optimized-routines do, so no length needs a byte loop.
 */

	.text

/*
 * memcpy(dst: x0, src: x1, n: x2) -> x0 = dst. The ranges must not overlap (memmove is
 * compiler_builtins'). Corrupts x3-x9.
 */
	.globl	memcpy
	.type	memcpy, %function
	.balign	16
memcpy:
	add	x4, x1, x2		/* end of the source */
	add	x5, x0, x2		/* end of the destination */
	cmp	x2, #16
	b.lo	.Lcpy_small
	mov	x3, x0
.Lcpy_loop:				/* more than 32 left: 32 bytes a round */
	cmp	x2, #32
	b.ls	.Lcpy_tail
	ldp	x6, x7, [x1]
	ldp	x8, x9, [x1, #16]
	add	x1, x1, #32
	stp	x6, x7, [x3]
	stp	x8, x9, [x3, #16]
	add	x3, x3, #32
	sub	x2, x2, #32
	b	.Lcpy_loop
.Lcpy_tail:				/* 1..32 left, and n >= 16 */
	cmp	x2, #16
	b.ls	1f
	ldp	x6, x7, [x1]		/* 17..32: the first 16 ... */
	stp	x6, x7, [x3]
1:	ldp	x6, x7, [x4, #-16]	/* ... and the last 16, overlapping what is copied */
	stp	x6, x7, [x5, #-16]
	ret
.Lcpy_small:				/* 0..15 */
	tbz	x2, #3, 2f
	ldr	x6, [x1]		/* 8..15: the first and the last 8 */
	ldr	x7, [x4, #-8]
	str	x6, [x0]
	str	x7, [x5, #-8]
	ret
2:	tbz	x2, #2, 3f
	ldr	w6, [x1]		/* 4..7: the first and the last 4 */
	ldr	w7, [x4, #-4]
	str	w6, [x0]
	str	w7, [x5, #-4]
	ret
3:	cbz	x2, 4f
	lsr	x8, x2, #1		/* 1..3: the first, the middle and the last byte */
	ldrb	w6, [x1]
	ldrb	w9, [x1, x8]
	ldrb	w7, [x4, #-1]
	strb	w6, [x0]
	strb	w9, [x0, x8]
	strb	w7, [x5, #-1]
4:	ret
	.size	memcpy, . - memcpy

/*
 * memset(dst: x0, c: w1, n: x2) -> x0 = dst. Corrupts x1, x3, x5, x8.
 */
	.globl	memset
	.type	memset, %function
	.balign	16
memset:
	and	w1, w1, #0xff
	mov	x8, #0x0101010101010101
	mul	x1, x1, x8		/* the byte in all eight */
	add	x5, x0, x2		/* end of the destination */
	cmp	x2, #16
	b.lo	.Lset_small
	mov	x3, x0
.Lset_loop:				/* more than 32 left: 32 bytes a round */
	cmp	x2, #32
	b.ls	.Lset_tail
	stp	x1, x1, [x3]
	stp	x1, x1, [x3, #16]
	add	x3, x3, #32
	sub	x2, x2, #32
	b	.Lset_loop
.Lset_tail:				/* 1..32 left, and n >= 16 */
	cmp	x2, #16
	b.ls	1f
	stp	x1, x1, [x3]
1:	stp	x1, x1, [x5, #-16]
	ret
.Lset_small:				/* 0..15 */
	tbz	x2, #3, 2f
	str	x1, [x0]
	str	x1, [x5, #-8]
	ret
2:	tbz	x2, #2, 3f
	str	w1, [x0]
	str	w1, [x5, #-4]
	ret
3:	cbz	x2, 4f
	lsr	x8, x2, #1
	strb	w1, [x0]
	strb	w1, [x0, x8]
	strb	w1, [x5, #-1]
4:	ret
	.size	memset, . - memset
