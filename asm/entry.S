/*
 * entry.S - exception vectors and the kernel entry/exit paths (Linux: arch/arm64/kernel/entry.S).
 *
 * Every exception lands in `vectors` (VBAR_EL1), saves the interrupted context as a
 * `struct pt_regs` on the current kernel stack (kernel_entry), calls a Rust handler with a
 * pointer to it, and restores it (kernel_exit). This must be assembly: no compiled code may
 * run before every register of the interrupted context is saved.
 *
 * While the CPU is in the kernel, sp_el0 holds `current` (the running task_struct), as on
 * Linux. On entry from EL0, sp_el0 holds the user stack pointer instead: it is saved in
 * pt_regs and `current` is reloaded from this CPU's `entry_task`, found through TPIDR_EL1.
 *
 * pt_regs offsets come from Rust (src/arch/arm64/ptrace.rs) as `const` operands.
 */

/* Save the interrupted context into the pt_regs kernel_ventry made room for at sp. */
.macro kernel_entry, el
	stp	x0, x1, [sp, #16 * 0]
	stp	x2, x3, [sp, #16 * 1]
	stp	x4, x5, [sp, #16 * 2]
	stp	x6, x7, [sp, #16 * 3]
	stp	x8, x9, [sp, #16 * 4]
	stp	x10, x11, [sp, #16 * 5]
	stp	x12, x13, [sp, #16 * 6]
	stp	x14, x15, [sp, #16 * 7]
	stp	x16, x17, [sp, #16 * 8]
	stp	x18, x19, [sp, #16 * 9]
	stp	x20, x21, [sp, #16 * 10]
	stp	x22, x23, [sp, #16 * 11]
	stp	x24, x25, [sp, #16 * 12]
	stp	x26, x27, [sp, #16 * 13]
	stp	x28, x29, [sp, #16 * 14]

	.if	\el == 0
	mrs	x21, sp_el0			/* the user's stack pointer */
	mrs	x20, tpidr_el1			/* this CPU's per-CPU area */
	ldr	x19, [x20, #{PERCPU_ENTRY_TASK}]
	msr	sp_el0, x19			/* current = this CPU's entry_task */
	.else
	add	x21, sp, #{S_FRAME_SIZE}	/* the interrupted kernel stack pointer */
	.endif
	mrs	x22, elr_el1
	mrs	x23, spsr_el1
	stp	lr, x21, [sp, #{S_LR}]
	stp	x22, x23, [sp, #{S_PC}]
	mov	x0, #-1
	str	x0, [sp, #{S_SYSCALLNO}]

	/* A frame record inside pt_regs links the call trace across the exception. */
	.if	\el == 0
	stp	xzr, xzr, [sp, #{S_STACKFRAME}]
	.else
	stp	x29, x22, [sp, #{S_STACKFRAME}]
	.endif
	add	x29, sp, #{S_STACKFRAME}
.endm

.macro kernel_exit, el
	ldp	x21, x22, [sp, #{S_PC}]		/* ELR, SPSR */
	.if	\el == 0
	ldr	x23, [sp, #{S_SP}]
	msr	sp_el0, x23			/* back to the user's stack pointer */
	.endif
	msr	elr_el1, x21
	msr	spsr_el1, x22
	ldp	x0, x1, [sp, #16 * 0]
	ldp	x2, x3, [sp, #16 * 1]
	ldp	x4, x5, [sp, #16 * 2]
	ldp	x6, x7, [sp, #16 * 3]
	ldp	x8, x9, [sp, #16 * 4]
	ldp	x10, x11, [sp, #16 * 5]
	ldp	x12, x13, [sp, #16 * 6]
	ldp	x14, x15, [sp, #16 * 7]
	ldp	x16, x17, [sp, #16 * 8]
	ldp	x18, x19, [sp, #16 * 9]
	ldp	x20, x21, [sp, #16 * 10]
	ldp	x22, x23, [sp, #16 * 11]
	ldp	x24, x25, [sp, #16 * 12]
	ldp	x26, x27, [sp, #16 * 13]
	ldp	x28, x29, [sp, #16 * 14]
	ldr	lr, [sp, #{S_LR}]
	add	sp, sp, #{S_FRAME_SIZE}
	eret
.endm

/*
 * One vector slot (32 instructions at most). Make room for pt_regs, then check that the
 * stack has not overflowed, without corrupting any register: every kernel stack is aligned
 * to 2 * THREAD_SIZE, so a valid sp has bit THREAD_SHIFT clear and one that ran into the
 * guard below has it set (Linux's CONFIG_VMAP_STACK check). On overflow, switch to this
 * CPU's overflow stack and report it (__bad_stack).
 */
.macro kernel_ventry, label
	.balign	128
	sub	sp, sp, #{S_FRAME_SIZE}
	add	sp, sp, x0			/* sp' = sp + x0 */
	sub	x0, sp, x0			/* x0' = sp' - x0 = sp */
	tbnz	x0, #{THREAD_SHIFT}, 0f
	sub	x0, sp, x0			/* x0'' = sp' - x0' = x0 */
	sub	sp, sp, x0			/* sp'' = sp' - x0 = sp */
	b	\label
0:	msr	tpidr_el0, x0			/* stash the overflowed sp (user TLS is lost: we die) */
	sub	x0, sp, x0			/* the original x0 */
	msr	tpidrro_el0, x0
	mrs	x0, tpidr_el1			/* this CPU's overflow stack */
	ldr	x0, [x0, #{PERCPU_OVERFLOW_STACK_TOP}]
	mov	sp, x0
	mrs	x0, tpidr_el0			/* already on the overflow stack? */
	sub	x0, sp, x0
	tst	x0, #~({OVERFLOW_STACK_SIZE} - 1)
	b.ne	__bad_stack			/* no: report the overflow */
	sub	sp, sp, x0			/* yes: carry on there */
	mrs	x0, tpidrro_el0
	b	\label
.endm

/* An exception Cradle never expects: report which vector, then die. */
.macro unhandled_entry, el, vector, number
	.balign	4
__unhandled_\vector:
	kernel_entry \el
	mov	x0, sp
	mov	x1, #\number
	bl	panic_unhandled
	b	.
.endm

	.section ".entry.text", "ax"

	.balign	2048
	.globl	vectors
vectors:
	kernel_ventry	__unhandled_EL1T_SYNC	/* current EL with SP_EL0 */
	kernel_ventry	__unhandled_EL1T_IRQ
	kernel_ventry	__unhandled_EL1T_FIQ
	kernel_ventry	__unhandled_EL1T_ERROR

	kernel_ventry	el1h_64_sync		/* current EL with SP_ELx: the kernel */
	kernel_ventry	el1h_64_irq
	kernel_ventry	__unhandled_EL1H_FIQ
	kernel_ventry	el1h_64_error

	kernel_ventry	el0t_64_sync		/* lower EL, AArch64: user space */
	kernel_ventry	el0t_64_irq
	kernel_ventry	__unhandled_EL0T_FIQ
	kernel_ventry	el0t_64_error

	kernel_ventry	__unhandled_EL0T32_SYNC	/* lower EL, AArch32: never entered */
	kernel_ventry	__unhandled_EL0T32_IRQ
	kernel_ventry	__unhandled_EL0T32_FIQ
	kernel_ventry	__unhandled_EL0T32_ERROR

	.balign	128
	unhandled_entry 1, EL1T_SYNC, {VECTOR_EL1T_SYNC}
	unhandled_entry 1, EL1T_IRQ, {VECTOR_EL1T_IRQ}
	unhandled_entry 1, EL1T_FIQ, {VECTOR_EL1T_FIQ}
	unhandled_entry 1, EL1T_ERROR, {VECTOR_EL1T_ERROR}
	unhandled_entry 1, EL1H_FIQ, {VECTOR_EL1H_FIQ}
	unhandled_entry 0, EL0T_FIQ, {VECTOR_EL0T_FIQ}
	unhandled_entry 0, EL0T32_SYNC, {VECTOR_EL0T32_SYNC}
	unhandled_entry 0, EL0T32_IRQ, {VECTOR_EL0T32_IRQ}
	unhandled_entry 0, EL0T32_FIQ, {VECTOR_EL0T32_FIQ}
	unhandled_entry 0, EL0T32_ERROR, {VECTOR_EL0T32_ERROR}

/*
 * __bad_stack - kernel_ventry found sp in a stack's guard. We are on the overflow stack
 * with the original x0 in tpidrro_el0 and the overflowed sp in tpidr_el0: save what we can
 * and report it (handle_bad_stack never returns).
 */
__bad_stack:
	mrs	x0, tpidrro_el0
	sub	sp, sp, #{S_FRAME_SIZE}
	kernel_entry 1
	mrs	x0, tpidr_el0
	add	x0, x0, #{S_FRAME_SIZE}
	str	x0, [sp, #{S_SP}]
	mov	x0, sp
	bl	handle_bad_stack
	b	.

el1h_64_sync:
	kernel_entry 1
	mov	x0, sp
	bl	el1h_64_sync_handler
	kernel_exit 1

el1h_64_irq:
	kernel_entry 1
	mov	x0, sp
	bl	el1h_64_irq_handler
	kernel_exit 1

el1h_64_error:
	kernel_entry 1
	mov	x0, sp
	bl	el1h_64_error_handler
	kernel_exit 1

el0t_64_sync:
	kernel_entry 0
	mov	x0, sp
	bl	el0t_64_sync_handler
	b	ret_to_user

el0t_64_irq:
	kernel_entry 0
	mov	x0, sp
	bl	el0t_64_irq_handler
	b	ret_to_user

el0t_64_error:
	kernel_entry 0
	mov	x0, sp
	bl	el0t_64_error_handler
	b	ret_to_user

/* ret_to_user - back to EL0 with the pt_regs at sp. The handlers did the exit work. */
	.globl	ret_to_user
ret_to_user:
	kernel_exit 0

/*
 * call_on_stack(arg: x0, fn: x1, stack_top: x2) - run fn(arg) on another stack and come
 * back (Linux's call_on_irq_stack, generalised). A frame record on the old stack links the
 * call trace back.
 */
	.globl	call_on_stack
call_on_stack:
	stp	x29, x30, [sp, #-16]!
	mov	x29, sp
	mov	sp, x2
	blr	x1
	mov	sp, x29
	ldp	x29, x30, [sp], #16
	ret
