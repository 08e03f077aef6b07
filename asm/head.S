/*
 * head.S - from the loader to start_kernel (Linux: arch/arm64/kernel/head.S, v5.x names).
 * Rust half: src/arch/arm64/kernel/head.rs, which assembles this file with global_asm!.
 *
 * Contract with the loader (Linux's Documentation/arm64/booting.rst):
 *   - MMU off, D-cache off, the Image cleaned to the point of coherency;
 *   - x0 = physical address of the device tree blob (DTB), x1 = x2 = x3 = 0;
 *   - entered at EL2 (recommended) or EL1, interrupts masked, only this CPU running;
 *   - the Image placed TEXT_OFFSET bytes above a 2 MiB-aligned base in RAM.
 * Cradle also accepts entry at EL3 (QEMU raspi given an ELF) and drops to EL2 first.
 *
 * Register use. These hold values across the calls below, so no routine may corrupt them:
 *
 *   x19  __primary_switch()                        SCTLR_EL1 value that turns the MMU on
 *   x20  primary_entry() .. __primary_switched()   boot mode (BOOT_CPU_MODE_EL1 or _EL2)
 *   x21  primary_entry() .. __primary_switched()   FDT pointer passed at boot in x0
 *   x24  primary_entry() .. __primary_switched()   physical address of _text
 *   x28  __create_page_tables()                    its own return address
 *
 * A secondary CPU (secondary_entry .. secondary_start_kernel) keeps:
 *   x19  __secondary_switch()                      SCTLR_EL1 value that turns the MMU on
 *   x20  secondary_entry() .. __secondary_switched()  the mode it entered in (as x20 above)
 *
 * Newer Linux renamed some stages (el2_setup became init_kernel_el, __create_page_tables
 * became create_idmap/create_kernel_mapping); Cradle keeps the names the seed articles use.
 *
 * Constants come from Rust (src/arch/arm64/kernel/head.rs) as `const` operands.
 */

/* Load the address of \sym, PC-relative: physical with the MMU off, virtual with it on. */
.macro adr_l, dst, sym
	adrp	\dst, \sym
	add	\dst, \dst, :lo12:\sym
.endm

/* Store \src to \sym, PC-relative, using \tmp. */
.macro str_l, src, sym, tmp
	adrp	\tmp, \sym
	str	\src, [\tmp, :lo12:\sym]
.endm

/*
 * map_memory tbl, vstart, vend, pstart - map [vstart, vend) to pstart.. with 2 MiB blocks.
 * tbl is the physical address of three zeroed pages: L0, L1, L2. The range must lie in one
 * 1 GiB-aligned window (one L2 table); a larger one branches to __no_boot.
 * Corrupts x7-x13.
 */
.macro map_memory, tbl, vstart, vend, pstart
	lsr	x7, \vstart, #30
	sub	x8, \vend, #1
	lsr	x8, x8, #30
	cmp	x7, x8
	b.ne	__init_no_boot

	lsr	x7, \vstart, #39		/* L0 entry -> the L1 table */
	and	x7, x7, #511
	add	x8, \tbl, #{PAGE_SIZE}
	orr	x8, x8, #3			/* valid table descriptor */
	str	x8, [\tbl, x7, lsl #3]

	lsr	x7, \vstart, #30		/* L1 entry -> the L2 table */
	and	x7, x7, #511
	add	x9, \tbl, #{PAGE_SIZE}
	add	x8, \tbl, #(2 * {PAGE_SIZE})
	orr	x8, x8, #3
	str	x8, [x9, x7, lsl #3]

	add	x9, \tbl, #(2 * {PAGE_SIZE})	/* L2 entries: 2 MiB blocks */
	lsr	x10, \vstart, #21
	and	x10, x10, #511
	sub	x11, \vend, #1
	lsr	x11, x11, #21
	and	x11, x11, #511
	ldr	x12, ={PTE_BLOCK_KERNEL}
	orr	x13, \pstart, x12
9999:	str	x13, [x9, x10, lsl #3]
	add	x13, x13, #(1 << 21)
	add	x10, x10, #1
	cmp	x10, x11
	b.ls	9999b
.endm

/* ---------------------------------------------------------------------------------------- */

	.section ".head.text", "ax"
/*
 * The 64-byte arm64 Image header. QEMU -kernel, the Raspberry Pi firmware and U-Boot booti
 * read it: text_offset says where above a 2 MiB boundary to load us, image_size how much
 * room (BSS included) to leave, and the magic at offset 56 says this is an arm64 Image.
 */
	.globl	_head
_head:
	b	primary_entry			/* code0: branch to the kernel */
	.long	0				/* code1 */
	.quad	{TEXT_OFFSET}			/* text_offset, little-endian */
	.quad	_kernel_size_le			/* image_size (from the linker script) */
	.quad	{HEAD_FLAGS}			/* flags: LE, 4K pages, anywhere in RAM */
	.quad	0				/* res2 */
	.quad	0				/* res3 */
	.quad	0				/* res4 */
	.ascii	"ARM\x64"			/* magic */
	.long	0				/* res5 (PE header offset: no EFI stub) */

/*
 * primary_entry - the first instruction after the header.
 * Runs with the MMU off at the physical address the loader chose. Never returns.
 */
	.globl	primary_entry
primary_entry:
	bl	preserve_boot_args
	bl	el2_setup			/* drop to EL1; w0 = boot mode */
	mov	x20, x0
	adr_l	x24, _text			/* physical: the MMU is off */
	bl	__create_page_tables
	bl	__cpu_setup			/* x0 = SCTLR_EL1 for the MMU on */
	b	__primary_switch

/*
 * Everything from here to __primary_switch runs once, at boot: it lives in .init.text,
 * which free_initmem gives back to the page allocator (Linux's __INIT).
 */
	.section ".init.text", "ax"

/*
 * preserve_boot_args - keep x0..x3 as the loader passed them.
 * Takes x0..x3. Returns x21 = x0 (the FDT pointer). Corrupts x0-x3.
 * The MMU is off, so the stores went straight to memory; invalidate the lines so that no
 * stale cache line hides them once the caches are on.
 */
preserve_boot_args:
	mov	x21, x0
	adr_l	x0, boot_args
	stp	x21, x1, [x0]
	stp	x2, x3, [x0, #16]
	dmb	sy
	add	x1, x0, #32
	b	dcache_inval_poc		/* tail call */

/*
 * __create_page_tables - the early page tables.
 *   idmap_pg_dir (TTBR0): the Image's physical range mapped to itself, so the instructions
 *                         that turn the MMU on keep running at the same address.
 *   init_pg_dir  (TTBR1): KIMAGE_VADDR.. mapped onto the physical 2 MiB slot the Image is
 *                         running in: one Image runs wherever the loader put it.
 * Both use 2 MiB blocks of normal memory; paging_init replaces them with W^X page tables.
 * Takes x24 = physical _text. Corrupts x0-x13, x28.
 */
__create_page_tables:
	mov	x28, lr

	/* Discard stale cache lines over the tables, then zero them (MMU off: straight to RAM). */
	adrp	x0, idmap_pg_dir
	adrp	x1, init_pg_end
	bl	dcache_inval_poc
	adrp	x0, idmap_pg_dir
	adrp	x1, init_pg_end
1:	stp	xzr, xzr, [x0], #16
	stp	xzr, xzr, [x0], #16
	stp	xzr, xzr, [x0], #16
	stp	xzr, xzr, [x0], #16
	cmp	x0, x1
	b.lo	1b

	/* The base of the 2 MiB slot we run in must be aligned, as the boot protocol says. */
	sub	x3, x24, #{TEXT_OFFSET}
	tst	x3, #((1 << 21) - 1)
	b.ne	__init_no_boot

	/* Identity map: [slot base, _end) -> itself. */
	adrp	x0, idmap_pg_dir
	adrp	x6, _end
	map_memory x0, x3, x6, x3

	/* Kernel map: [KIMAGE_VADDR, KIMAGE_VADDR + (_end - slot base)) -> slot base. */
	adrp	x0, init_pg_dir
	adrp	x6, _end
	sub	x6, x6, x3
	ldr	x5, ={KIMAGE_VADDR}
	add	x6, x6, x5
	map_memory x0, x5, x6, x3

	/* The table walker will read through the caches once the MMU is on. */
	dmb	sy
	adrp	x0, idmap_pg_dir
	adrp	x1, init_pg_end
	bl	dcache_inval_poc

	ret	x28

/*
 * __primary_switch - turn the MMU on, then jump to the kernel's linked (virtual) address.
 * Takes x0 = SCTLR_EL1 value. Never returns.
 */
__primary_switch:
	mov	x19, x0
	adrp	x1, init_pg_dir
	bl	__enable_mmu
	ldr	x8, =__primary_switched		/* absolute: the kernel's virtual address */
	br	x8

/*
 * __init_no_boot - __no_boot within reach of the conditional branches above (+-1 MiB): a
 * built-in initramfs can put .idmap.text further than that from .init.text.
 */
__init_no_boot:
	b	__no_boot

	.section ".idmap.text", "ax"
/*
 * Everything from here to idmap_cpu_replace_ttbr1 is identity-mapped (idmap_pg_dir) and
 * stays in the image for good: secondary CPUs run el2_setup and __cpu_setup after
 * free_initmem gave .init.text away, and turn their MMU on through the identity map.
 */
/*
 * secondary_entry - where a secondary CPU starts (Linux: head.S, same name), MMU off.
 * Reached from PSCI CPU_ON (x0 = the context argument, unused) or from the spin table
 * (x0 = 0), at EL2 or EL1, at the physical address __cpu_up gave the firmware. It takes
 * the boot CPU's road with what is already built: el2_setup, __cpu_setup, then the MMU on
 * with TTBR0 = the identity map and TTBR1 = swapper_pg_dir (paging_init's final tables).
 * Never returns.
 */
	.globl	secondary_entry
secondary_entry:
	bl	el2_setup			/* drop to EL1; w0 = boot mode */
	mov	x20, x0
	bl	__cpu_setup			/* x0 = SCTLR_EL1 for the MMU on */
	b	__secondary_switch

/*
 * __secondary_switch - turn the MMU on with the kernel's tables, then jump to the
 * kernel's virtual address. Takes x0 = SCTLR_EL1 value. Never returns.
 */
__secondary_switch:
	mov	x19, x0
	adrp	x1, {SWAPPER_PG_DIR}		/* physical: the MMU is off */
	bl	__enable_mmu
	ldr	x8, =__secondary_switched	/* absolute: the kernel's virtual address */
	br	x8

/*
 * el2_setup - leave the exception level we were entered at for EL1.
 * Entered at EL3: set up a non-secure AArch64 EL2 and eret to it, then carry on as EL2.
 * Entered at EL2: configure EL2 for a host with no guests (Linux's "nVHE" host: HCR_EL2.RW
 * so EL1 is AArch64, timers and FP/SIMD untrapped, GICv3 system registers enabled for EL1)
 * and eret to EL1h.
 * Entered at EL1: put SCTLR_EL1 in a known state and carry on.
 * Returns w0 = BOOT_CPU_MODE_EL1 or BOOT_CPU_MODE_EL2. Corrupts x0-x2. Preserves lr.
 */
el2_setup:
	msr	SPsel, #1			/* use SP_ELx */
	mrs	x0, CurrentEL
	cmp	x0, #(3 << 2)
	b.eq	el3_drop
	cmp	x0, #(2 << 2)
	b.eq	1f
	ldr	x0, ={SCTLR_EL1_MMU_OFF}
	msr	sctlr_el1, x0
	mov	w0, #{BOOT_CPU_MODE_EL1}
	isb
	ret

1:	ldr	x0, ={HCR_EL2_HOST}
	msr	hcr_el2, x0			/* RW = 1: EL1 is AArch64 (it is 0 at reset) */
	isb

	mrs	x0, cnthctl_el2
	orr	x0, x0, #3			/* EL1PCEN | EL1PCTEN: EL1 may use the physical timer */
	msr	cnthctl_el2, x0
	msr	cntvoff_el2, xzr		/* virtual counter == physical counter */

	mrs	x0, id_aa64pfr0_el1		/* GICv3 system register interface? */
	ubfx	x0, x0, #24, #4
	cbz	x0, 2f
	mrs	x0, S3_4_C12_C9_5		/* ICC_SRE_EL2 */
	orr	x0, x0, #1			/* SRE: system registers */
	orr	x0, x0, #(1 << 3)		/* Enable: EL1 may set its own SRE */
	msr	S3_4_C12_C9_5, x0
	isb
	msr	S3_4_C12_C11_0, xzr		/* ICH_HCR_EL2 = 0: no virtual interrupts */

2:	mov	x0, #0x33ff
	msr	cptr_el2, x0			/* no FP/SIMD traps to EL2 */
	msr	hstr_el2, xzr			/* no CP15 traps */
	msr	vttbr_el2, xzr			/* no stage 2 */
	mrs	x0, midr_el1			/* EL1 reads of MIDR/MPIDR see the real values */
	msr	vpidr_el2, x0
	mrs	x0, mpidr_el1
	msr	vmpidr_el2, x0

	ldr	x0, ={SCTLR_EL1_MMU_OFF}
	msr	sctlr_el1, x0
	mov	x0, #{SPSR_EL1H_MASKED}
	msr	spsr_el2, x0
	msr	elr_el2, lr
	mov	w0, #{BOOT_CPU_MODE_EL2}
	eret

el3_drop:
	mov	x0, #{SCR_EL3_NS_RW}
	msr	scr_el3, x0			/* lower ELs non-secure, EL2 AArch64, HVC enabled */
	msr	cptr_el3, xzr			/* no FP/SIMD traps to EL3 */
	ldr	x0, ={SCTLR_EL2_MMU_OFF}
	msr	sctlr_el2, x0
	mov	x0, #{SPSR_EL2H_MASKED}
	msr	spsr_el3, x0
	adr	x0, el2_setup
	msr	elr_el3, x0
	eret					/* re-enter el2_setup at EL2 */

/*
 * __cpu_setup - prepare this CPU for turning the MMU on (Linux: arch/arm64/mm/proc.S).
 * FP/SIMD untrapped for user space (the kernel itself is built soft-float), MAIR and TCR programmed with
 * the CPU's physical address size and ASID width.
 * Returns x0 = the SCTLR_EL1 value to write. Corrupts x0-x2.
 */
__cpu_setup:
	tlbi	vmalle1				/* invalidate local TLB */
	dsb	nsh

	mov	x0, #(3 << 20)
	msr	cpacr_el1, x0			/* FPEN: no FP/SIMD traps at EL0/EL1 */
	mov	x0, #(1 << 12)
	msr	mdscr_el1, x0			/* TDCC: EL0 cannot reach the debug channel */
	isb

	ldr	x0, ={MAIR_EL1}
	msr	mair_el1, x0

	ldr	x0, ={TCR_EL1}
	mrs	x1, id_aa64mmfr0_el1
	ubfx	x2, x1, #0, #4			/* PARange: clamp to 48 bits (5) */
	cmp	x2, #5
	mov	x9, #5
	csel	x2, x2, x9, ls
	bfi	x0, x2, #32, #3			/* TCR_EL1.IPS */
	ubfx	x2, x1, #4, #4			/* ASIDBits: 2 means 16-bit ASIDs */
	cmp	x2, #2
	b.ne	1f
	orr	x0, x0, #(1 << 36)		/* TCR_EL1.AS */
1:	msr	tcr_el1, x0

	ldr	x0, ={SCTLR_EL1_MMU_ON}
	ret

/*
 * __enable_mmu - install the page tables and set SCTLR_EL1.M.
 * Runs from the identity map, so the next instruction is found at the same address with
 * the MMU on. Takes x19 = SCTLR_EL1, x1 = TTBR1 table. Corrupts x0-x2.
 */
__enable_mmu:
	mrs	x2, id_aa64mmfr0_el1
	ubfx	x2, x2, #28, #4			/* TGran4: 0xf = 4 KiB pages not supported */
	cmp	x2, #0xf
	b.eq	__no_boot
	adrp	x2, idmap_pg_dir
	msr	ttbr0_el1, x2
	msr	ttbr1_el1, x1
	isb
	msr	sctlr_el1, x19
	isb
	ic	iallu				/* discard instructions fetched with the MMU off */
	dsb	nsh
	isb
	ret

/*
 * idmap_cpu_replace_ttbr1 - point TTBR1 at new kernel page tables (Linux: mm/proc.S).
 * Runs from the identity map, so no kernel (TTBR1) address is touched while the kernel's
 * tables are swapped: TTBR1 goes to an empty table first, the TLB is flushed, then the new
 * table goes in (break-before-make for the whole upper half). No stack is used.
 * Takes x0 = the new TTBR1, x1 = the physical address of an empty table. Corrupts nothing.
 */
	.globl	idmap_cpu_replace_ttbr1
idmap_cpu_replace_ttbr1:
	msr	ttbr1_el1, x1
	isb
	tlbi	vmalle1
	dsb	nsh
	isb
	msr	ttbr1_el1, x0
	isb
	ret

	.ltorg					/* the idmap routines' literals stay within reach */

	.text
/*
 * __primary_switched - the first code at the kernel's virtual address.
 * PID 0 is born here: sp = init_thread_union + THREAD_SIZE, sp_el0 = &init_task (which is
 * how `current` is found), vbar_el1 = vectors. Then BSS is cleared, the boot values are
 * saved, and start_kernel runs on init_task's stack. Never returns.
 */
__primary_switched:
	adr_l	x4, init_thread_union
	add	sp, x4, #{THREAD_SIZE}
	adr_l	x5, init_task
	msr	sp_el0, x5			/* current = &init_task */

	adr_l	x8, vectors
	msr	vbar_el1, x8
	isb

	mov	x29, xzr			/* the final frame record ends a call trace */
	mov	x30, xzr
	stp	x29, x30, [sp, #-16]!
	mov	x29, sp

	adr_l	x0, __bss_start
	adr_l	x1, __bss_stop
1:	cmp	x0, x1
	b.hs	2f
	stp	xzr, xzr, [x0], #16
	b	1b

2:	str_l	x21, __fdt_pointer, x5		/* physical address of the DTB */
	adr_l	x4, _text
	sub	x4, x4, x24
	str_l	x4, kimage_voffset, x5		/* virtual - physical, for the kernel image */
	str_l	w20, __boot_cpu_mode, x5	/* set_cpu_boot_mode_flag */
	bl	start_kernel
	b	__no_boot			/* start_kernel never returns */

/*
 * __secondary_switched - a secondary CPU's first code at the kernel's virtual address.
 * Its idle task is born here: sp = the top of that task's stack and sp_el0 = the task, both
 * from secondary_data (written by __cpu_up, read now that the MMU and caches are on) if
 * its hwid is this CPU's MPIDR, vbar_el1 = vectors. Then secondary_start_kernel(boot mode). Never returns.
 */
__secondary_switched:
	adr_l	x5, vectors
	msr	vbar_el1, x5
	isb

	adr_l	x0, {SECONDARY_DATA}
	ldr	x3, [x0, #{SECONDARY_DATA_HWID}]	/* the data must be for this CPU: one that */
	mrs	x4, mpidr_el1			/* arrives after __cpu_up gave up on it finds */
	ldr	x5, ={MPIDR_HWID_BITMASK}	/* zeros or another CPU's, and parks instead */
	and	x4, x4, x5			/* of sharing that CPU's stack */
	cmp	x3, x4
	b.ne	__no_boot
	ldr	x1, [x0, #{SECONDARY_DATA_STACK}]
	mov	sp, x1
	ldr	x2, [x0, #{SECONDARY_DATA_TASK}]
	msr	sp_el0, x2			/* current = this CPU's idle task */

	mov	x29, xzr			/* the final frame record ends a call trace */
	mov	x30, xzr
	stp	x29, x30, [sp, #-16]!
	mov	x29, sp

	mov	w0, w20				/* the mode this CPU entered in */
	bl	secondary_start_kernel
	b	__no_boot			/* secondary_start_kernel never returns */

/*
 * dcache_inval_poc - invalidate data cache lines over [x0, x1) to the point of coherency.
 * Corrupts x0-x3.
 */
dcache_inval_poc:
	mrs	x3, ctr_el0
	ubfx	x3, x3, #16, #4			/* DminLine: log2(words) of the smallest line */
	mov	x2, #4
	lsl	x2, x2, x3
	sub	x3, x2, #1
	bic	x0, x0, x3
1:	dc	ivac, x0
	add	x0, x0, x2
	cmp	x0, x1
	b.lo	1b
	dsb	sy
	ret

/*
 * __no_boot - the Image cannot run here (misaligned load address, no 4 KiB granule, an
 * image straddling 1 GiB). There is no console yet: park the CPU where a debugger sees it.
 */
	.globl	__no_boot
__no_boot:
	wfe
	b	__no_boot

	.ltorg
