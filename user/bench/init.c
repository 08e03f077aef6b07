/*
 * init.c - the benchmark's /init: freestanding (no libc), so that the counter it reads
 * first is the kernel's cost of reaching user space and nothing else.
 *
 * Its first instruction reads CNTVCT_EL0 (the virtual counter, which starts at 0 when QEMU
 * starts the machine; with -icount shift=0 it advances one tick per instruction). It prints
 *
 *     bench: boot <counter>
 *     bench: cntfrq <CNTFRQ_EL0>
 *
 * then runs /bench with its own arguments (fork + execve + wait4), reports how it ended,
 * and, as PID 1's last act, powers the machine off with reboot(2), which makes QEMU exit.
 * It refuses to power off unless it is PID 1.
 *
 * Built with -nostdlib -static -ffreestanding by `cargo xtask bench`.
 */

typedef unsigned long u64;
typedef long s64;

#define SYS_write 64
#define SYS_exit 93
#define SYS_reboot 142
#define SYS_getpid 172
#define SYS_clone 220
#define SYS_execve 221
#define SYS_wait4 260

#define SIGCHLD 17
#define LINUX_REBOOT_MAGIC1 0xfee1deadUL
#define LINUX_REBOOT_MAGIC2 672274793UL
#define LINUX_REBOOT_CMD_POWER_OFF 0x4321fedcUL

/* The entry point: read the counter before anything else, then call cmain(sp, counter). */
__asm__(".text\n"
	".global _start\n"
	".type _start, %function\n"
	"_start:\n"
	"	mrs	x1, cntvct_el0\n"
	"	mov	x0, sp\n"
	"	mov	x29, #0\n"
	"	mov	x30, #0\n"
	"	bl	cmain\n"
	"1:	b	1b\n");

static s64 sys6(s64 n, s64 a, s64 b, s64 c, s64 d, s64 e)
{
	register s64 x8 __asm__("x8") = n;
	register s64 x0 __asm__("x0") = a;
	register s64 x1 __asm__("x1") = b;
	register s64 x2 __asm__("x2") = c;
	register s64 x3 __asm__("x3") = d;
	register s64 x4 __asm__("x4") = e;
	__asm__ volatile("svc #0"
			 : "+r"(x0)
			 : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4)
			 : "memory");
	return x0;
}

static unsigned long str_len(const char *s)
{
	unsigned long n = 0;
	while (s[n])
		n++;
	return n;
}

static void put(const char *s)
{
	sys6(SYS_write, 1, (s64)s, (s64)str_len(s), 0, 0);
}

static void put_num(const char *prefix, s64 value, const char *suffix)
{
	char buf[24];
	int i = sizeof(buf);
	u64 v = value < 0 ? -(u64)value : (u64)value;

	buf[--i] = 0;
	do {
		buf[--i] = '0' + v % 10;
		v /= 10;
	} while (v);
	if (value < 0)
		buf[--i] = '-';
	put(prefix);
	put(buf + i);
	put(suffix);
}

void cmain(s64 *sp, u64 boot_counter) __attribute__((noreturn, used));

void cmain(s64 *sp, u64 boot_counter)
{
	s64 argc = sp[0];
	char **argv = (char **)(sp + 1);
	char **envp = argv + argc + 1;
	u64 frequency;
	int status = 0;

	__asm__ volatile("mrs %0, cntfrq_el0" : "=r"(frequency));
	put_num("bench: boot ", (s64)boot_counter, "\n");
	put_num("bench: cntfrq ", (s64)frequency, "\n");

	/* /bench gets our arguments, with argv[0] = "/bench". */
	argv[0] = "/bench";
	s64 pid = sys6(SYS_clone, SIGCHLD, 0, 0, 0, 0);
	if (pid == 0) {
		sys6(SYS_execve, (s64)"/bench", (s64)argv, (s64)envp, 0, 0);
		put("bench: init: execve /bench failed\n");
		sys6(SYS_exit, 127, 0, 0, 0, 0);
	}
	if (pid < 0) {
		put_num("bench: init: fork failed: ", pid, "\n");
	} else {
		/* Reap every child (orphans come to PID 1) until /bench ends. */
		for (;;) {
			s64 done = sys6(SYS_wait4, -1, (s64)&status, 0, 0, 0);
			if (done == pid || done < 0)
				break;
		}
		if ((status & 0x7f) == 0)
			put_num("bench: init: /bench exited with status ", (status >> 8) & 0xff, "\n");
		else
			put_num("bench: init: /bench killed by signal ", status & 0x7f, "\n");
	}
	if (sys6(SYS_getpid, 0, 0, 0, 0, 0) != 1) {
		put("bench: init: not PID 1, so not powering off\n");
		sys6(SYS_exit, 0, 0, 0, 0, 0);
	}
	put("bench: init: powering off\n");
	sys6(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, LINUX_REBOOT_CMD_POWER_OFF, 0, 0);
	put("bench: init: reboot(POWER_OFF) failed\n");
	for (;;)
		sys6(SYS_exit, 1, 0, 0, 0, 0);
}
