/*
 * uaccess.S - copying to and from user memory, surviving faults
 * (Linux: arch/arm64/lib/copy_from_user.S, copy_to_user.S, strncpy_from_user, clear_user.S).
 * Rust half: src/arch/arm64/mm/uaccess.rs, which assembles this file with global_asm!.
 *
 * Every load or store that may fault has an entry in __ex_table: (instruction, fixup), both
 * as offsets from the entry itself. When such an instruction faults and the page-fault
 * handler cannot make the page present, the handler moves pc to the fixup, which returns
 * how much was left undone. This must be assembly: the fault-prone instructions' addresses
 * must be known exactly.
 *
 * User accesses use the unprivileged forms (ldtr/sttr) so user-space permissions apply: a
 * copy_to_user into a read-only or copy-on-write page faults just as the program would.
 */

/* Mark the instruction at \insn as allowed to fault; go to \fixup if it does. */
.macro _asm_extable, insn, fixup
	.pushsection __ex_table, "a"
	.balign	4
	.long	(\insn - .)
	.long	(\fixup - .)
	.popsection
.endm

	.text

/*
 * __arch_copy_from_user(to: x0, from: x1 (user), n: x2) -> x0 = bytes not copied.
 * Both aligned: 32 bytes a round, then words, then bytes. A word that faults sends the
 * rest of the copy, from the start of its round, to the byte loop, so the count returned is
 * exact: every byte before the first one that faults is copied (what a short read or write
 * reports; Linux's copy_template fixups "try harder" the same way). Corrupts x0-x6.
 */
	.globl	__arch_copy_from_user
__arch_copy_from_user:
	cbz	x2, 9f
	orr	x3, x0, x1
	tst	x3, #7
	b.ne	2f
3:	cmp	x2, #32			/* both aligned: 32 bytes a round */
	b.lo	1f
12:	ldtr	x3, [x1]
	_asm_extable 12b, 2f
13:	ldtr	x4, [x1, #8]
	_asm_extable 13b, 2f
14:	ldtr	x5, [x1, #16]
	_asm_extable 14b, 2f
15:	ldtr	x6, [x1, #24]
	_asm_extable 15b, 2f
	stp	x3, x4, [x0]
	stp	x5, x6, [x0, #16]
	add	x0, x0, #32
	add	x1, x1, #32
	sub	x2, x2, #32
	b	3b
1:	cmp	x2, #8			/* whole words */
	b.lo	2f
10:	ldtr	x3, [x1]
	_asm_extable 10b, 2f
	str	x3, [x0], #8
	add	x1, x1, #8
	sub	x2, x2, #8
	b	1b
2:	cbz	x2, 9f
11:	ldtrb	w3, [x1]
	_asm_extable 11b, 8f
	strb	w3, [x0], #1
	add	x1, x1, #1
	sub	x2, x2, #1
	b	2b
8:	mov	x0, x2			/* fixup: what is left */
	ret
9:	mov	x0, #0
	ret

/*
 * __arch_copy_to_user(to: x0 (user), from: x1, n: x2) -> x0 = bytes not copied.
 * As __arch_copy_from_user, the other way round. Corrupts x0-x6.
 */
	.globl	__arch_copy_to_user
__arch_copy_to_user:
	cbz	x2, 9f
	orr	x3, x0, x1
	tst	x3, #7
	b.ne	2f
3:	cmp	x2, #32			/* both aligned: 32 bytes a round */
	b.lo	1f
	ldp	x3, x4, [x1]
	ldp	x5, x6, [x1, #16]
12:	sttr	x3, [x0]
	_asm_extable 12b, 2f
13:	sttr	x4, [x0, #8]
	_asm_extable 13b, 2f
14:	sttr	x5, [x0, #16]
	_asm_extable 14b, 2f
15:	sttr	x6, [x0, #24]
	_asm_extable 15b, 2f
	add	x0, x0, #32
	add	x1, x1, #32
	sub	x2, x2, #32
	b	3b
1:	cmp	x2, #8
	b.lo	2f
	ldr	x3, [x1], #8
10:	sttr	x3, [x0]
	_asm_extable 10b, 5f
	add	x0, x0, #8
	sub	x2, x2, #8
	b	1b
2:	cbz	x2, 9f
	ldrb	w3, [x1], #1
11:	sttrb	w3, [x0]
	_asm_extable 11b, 6f
	add	x0, x0, #1
	sub	x2, x2, #1
	b	2b
5:	sub	x1, x1, #8		/* fixup after a word store: x1 had moved on */
	b	2b
6:	mov	x0, x2			/* fixup after a byte store */
	ret
9:	mov	x0, #0
	ret

/*
 * __arch_clear_user(to: x0 (user), n: x1) -> x0 = bytes not cleared. Corrupts x0-x2.
 */
	.globl	__arch_clear_user
__arch_clear_user:
	cbz	x1, 9f
10:	sttrb	wzr, [x0]
	_asm_extable 10b, 8f
	add	x0, x0, #1
	subs	x1, x1, #1
	b.ne	10b
9:	mov	x0, #0
	ret
8:	mov	x0, x1
	ret

/*
 * __arch_strncpy_from_user(to: x0, from: x1 (user), count: x2) -> x0 = length of the string
 * copied (without its NUL), count if no NUL came within count bytes, or -EFAULT (-14).
 * Corrupts x0-x4.
 */
	.globl	__arch_strncpy_from_user
__arch_strncpy_from_user:
	mov	x4, #0
1:	cmp	x4, x2
	b.hs	3f
	add	x3, x1, x4
10:	ldtrb	w3, [x3]
	_asm_extable 10b, 8f
	strb	w3, [x0, x4]
	cbz	w3, 2f
	add	x4, x4, #1
	b	1b
2:	mov	x0, x4
	ret
3:	mov	x0, x2
	ret
8:	mov	x0, #-14
	ret

/*
 * __copy_nofault(to: x0, from: x1, n: x2) -> x0 = bytes not copied. Kernel addresses,
 * privileged accesses; a fault ends the copy instead of oopsing (Linux's
 * copy_from_kernel_nofault and copy_to_kernel_nofault). Corrupts x0-x3.
 */
	.globl	__copy_nofault
__copy_nofault:
	cbz	x2, 9f
10:	ldrb	w3, [x1]
	_asm_extable 10b, 8f
11:	strb	w3, [x0]
	_asm_extable 11b, 8f
	add	x0, x0, #1
	add	x1, x1, #1
	subs	x2, x2, #1
	b.ne	10b
9:	mov	x0, #0
	ret
8:	mov	x0, x2
	ret

/*
 * __arch_futex_cmpxchg(uaddr: x0 (user, 4-byte aligned), old: w1, new: w2)
 *   -> x0 = the value found (bits 0-31), or 1 << 32 if the word cannot be reached.
 * Stores `new` only if the word held `old`, atomically (Linux's
 * futex_atomic_cmpxchg_inatomic). A copy-on-write or missing page faults and is resolved
 * by the fault handler; the store-exclusive then fails and the loop retries.
 * Corrupts x0, x4, x5.
 */
	.globl	__arch_futex_cmpxchg
__arch_futex_cmpxchg:
1:	ldaxr	w4, [x0]
	_asm_extable 1b, 9f
	cmp	w4, w1
	b.ne	3f
2:	stlxr	w5, w2, [x0]
	_asm_extable 2b, 9f
	cbnz	w5, 1b
3:	mov	w0, w4
	ret
9:	mov	x0, #1
	lsl	x0, x0, #32
	ret

/*
 * __arch_futex_atomic_op(op: w0, oparg: w1, uaddr: x2 (user, 4-byte aligned))
 *   -> x0 = the old value (bits 0-31), or 1 << 32 if the word cannot be reached.
 * Atomically replaces the word with `old op oparg` for FUTEX_OP_SET (0), ADD (1), OR (2),
 * ANDN (3), XOR (4) (Linux's arch_futex_atomic_op_inuser). The caller checks `op`.
 * Corrupts x0, x4-x6.
 */
	.globl	__arch_futex_atomic_op
__arch_futex_atomic_op:
1:	ldxr	w4, [x2]
	_asm_extable 1b, 9f
	cmp	w0, #1
	b.eq	11f
	cmp	w0, #2
	b.eq	12f
	cmp	w0, #3
	b.eq	13f
	cmp	w0, #4
	b.eq	14f
	mov	w5, w1			/* SET */
	b	2f
11:	add	w5, w4, w1
	b	2f
12:	orr	w5, w4, w1
	b	2f
13:	bic	w5, w4, w1
	b	2f
14:	eor	w5, w4, w1
2:	stlxr	w6, w5, [x2]
	_asm_extable 2b, 9f
	cbnz	w6, 1b
	dmb	ish
	mov	w0, w4
	ret
9:	mov	x0, #1
	lsl	x0, x0, #32
	ret
