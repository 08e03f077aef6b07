/*
 * entry.S - exception vectors and the kernel entry/exit paths (Linux: arch/arm64/kernel/entry.S).
 * Rust half: src/arch/arm64/kernel/entry.rs, which assembles this file with global_asm!.
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
 * pt_regs offsets come from Rust (src/arch/arm64/kernel/ptrace.rs) as `const` operands.
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

/*
 * ret_to_user - back to EL0 with the pt_regs at sp, after the pending work
 * (exit_to_user_mode: rescheduling, and later signals) is done.
 */
	.globl	ret_to_user
ret_to_user:
	mov	x0, sp
	bl	exit_to_user_mode
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

/*
 * cpu_switch_to(prev: x0, next: x1) -> x0 = prev
 * Save prev's callee-saved registers, frame pointer, stack pointer and return address in
 * prev->thread.cpu_context; load next's; point sp_el0 (current) at next. Returns, on next's
 * stack, to wherever next last called cpu_switch_to from (or to ret_from_fork).
 * (Linux: arch/arm64/kernel/entry.S.) Corrupts x8-x10.
 */
	.globl	cpu_switch_to
cpu_switch_to:
	mov	x10, #{THREAD_CPU_CONTEXT}
	add	x8, x0, x10
	mov	x9, sp
	stp	x19, x20, [x8], #16
	stp	x21, x22, [x8], #16
	stp	x23, x24, [x8], #16
	stp	x25, x26, [x8], #16
	stp	x27, x28, [x8], #16
	stp	x29, x9, [x8], #16
	str	lr, [x8]
	add	x8, x1, x10
	ldp	x19, x20, [x8], #16
	ldp	x21, x22, [x8], #16
	ldp	x23, x24, [x8], #16
	ldp	x25, x26, [x8], #16
	ldp	x27, x28, [x8], #16
	ldp	x29, x9, [x8], #16
	ldr	lr, [x8]
	mov	sp, x9
	msr	sp_el0, x1			/* current = next */
	ret

/*
 * ret_from_fork - where every new task starts (Linux: arch/arm64/kernel/entry.S).
 * schedule_tail finishes the switch that brought us here. A kernel thread then runs its
 * function (x19) with its argument (x20); if that returns — kernel_init after a successful
 * execve — the task returns to user space through the pt_regs at the top of its stack.
 * A user task (x19 = 0, from fork) goes straight there.
 */
	.globl	ret_from_fork
ret_from_fork:
	bl	schedule_tail
	cbz	x19, 1f
	mov	x0, x20
	blr	x19
1:	b	ret_to_user

/*
 * fpsimd_save_state(state: x0) / fpsimd_load_state(state: x0): the user's v0-v31, FPSR and
 * FPCR to and from a struct FpsimdState (Linux: arch/arm64/kernel/entry-fpsimd.S). The
 * kernel is soft-float, so these are its only FP/SIMD instructions. Corrupts x8.
 */
	.arch_extension fp
	.arch_extension simd
	.globl	fpsimd_save_state
fpsimd_save_state:
	stp	q0, q1, [x0, #32 * 0]
	stp	q2, q3, [x0, #32 * 1]
	stp	q4, q5, [x0, #32 * 2]
	stp	q6, q7, [x0, #32 * 3]
	stp	q8, q9, [x0, #32 * 4]
	stp	q10, q11, [x0, #32 * 5]
	stp	q12, q13, [x0, #32 * 6]
	stp	q14, q15, [x0, #32 * 7]
	stp	q16, q17, [x0, #32 * 8]
	stp	q18, q19, [x0, #32 * 9]
	stp	q20, q21, [x0, #32 * 10]
	stp	q22, q23, [x0, #32 * 11]
	stp	q24, q25, [x0, #32 * 12]
	stp	q26, q27, [x0, #32 * 13]
	stp	q28, q29, [x0, #32 * 14]
	stp	q30, q31, [x0, #32 * 15]
	mrs	x8, fpsr
	str	w8, [x0, #512]
	mrs	x8, fpcr
	str	w8, [x0, #516]
	ret

	.globl	fpsimd_load_state
fpsimd_load_state:
	ldp	q0, q1, [x0, #32 * 0]
	ldp	q2, q3, [x0, #32 * 1]
	ldp	q4, q5, [x0, #32 * 2]
	ldp	q6, q7, [x0, #32 * 3]
	ldp	q8, q9, [x0, #32 * 4]
	ldp	q10, q11, [x0, #32 * 5]
	ldp	q12, q13, [x0, #32 * 6]
	ldp	q14, q15, [x0, #32 * 7]
	ldp	q16, q17, [x0, #32 * 8]
	ldp	q18, q19, [x0, #32 * 9]
	ldp	q20, q21, [x0, #32 * 10]
	ldp	q22, q23, [x0, #32 * 11]
	ldp	q24, q25, [x0, #32 * 12]
	ldp	q26, q27, [x0, #32 * 13]
	ldp	q28, q29, [x0, #32 * 14]
	ldp	q30, q31, [x0, #32 * 15]
	ldr	w8, [x0, #512]
	msr	fpsr, x8
	ldr	w8, [x0, #516]
	msr	fpcr, x8
	ret
