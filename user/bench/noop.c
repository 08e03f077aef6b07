/*
 * noop.c - the do-nothing program the fork + execve benchmark runs: freestanding (no libc
 * start-up), so the figure is the kernel's cost of execve, exit and wait, not glibc's.
 * Built with -nostdlib -static -ffreestanding by `cargo xtask bench`.
 */
__asm__(".text\n"
	".global _start\n"
	"_start:\n"
	"	mov	x0, #0\n"
	"	mov	x8, #94\n" /* exit_group(0) */
	"	svc	#0\n"
	"1:	b	1b\n");
