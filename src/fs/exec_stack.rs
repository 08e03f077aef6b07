//! The initial user stack of a new program: argc, argv, envp, the auxiliary vector.
//!
//! `execve` leaves a program's stack as arm64 Linux does, since the C library's start-up code
//! reads it before anything else: at `sp`, `argc`; then the `argv` pointers and a NULL, the
//! `envp` pointers and a NULL, and the auxiliary vector (`AT_*` pairs, ending with `AT_NULL`),
//! which tells the program its page size, where its program headers are, its entry point,
//! its hardware capabilities and where 16 random bytes for its stack protector are. Above the
//! table, the data the pointers point at. From the top down, as `create_elf_tables` and
//! `do_execveat_common` leave it:
//!
//! ```text
//! stack_top ->  8 zero bytes               (Linux: bprm->p = vm_end - sizeof(void *))
//!               execfn string              AT_EXECFN
//!               envp strings               env_start .. env_end (for /proc/<pid>/environ)
//!               argv strings               arg_start .. arg_end (for /proc/<pid>/cmdline)
//!               (align down to 16)         Linux also subtracts a random amount here
//!               "aarch64"                  AT_PLATFORM
//!               16 random bytes            AT_RANDOM
//!               (align so sp is 16-aligned)
//!               auxv pairs, AT_NULL last
//!               NULL, envp[envc-1] .. envp[0]
//!               NULL, argv[argc-1] .. argv[0]
//! sp         -> argc
//! ```
//!
//! [`build_initial_stack`] computes all of it as bytes plus the `sp` they start at, for the
//! caller to copy into the new address space; it touches no memory itself. The auxiliary
//! vector follows Linux's order, less what Cradle does not provide: no vDSO
//! (`AT_SYSINFO_EHDR`), no rseq (`AT_RSEQ_*`). The `HWCAP` bits come from the architecture
//! (`crate::arch::hwcap`).
//!
//! Linux: `fs/binfmt_elf.c` (`create_elf_tables`), `fs/exec.c` (`copy_strings`,
//! `bprm_stack_limits`), `include/uapi/linux/auxvec.h`, `arch/arm64/include/asm/elf.h`
//! (`ARCH_DLINFO`, `ELF_PLATFORM`).

use alloc::vec;
use alloc::vec::Vec;

use crate::kernel::errno::Errno;

/// End of the auxiliary vector.
pub const AT_NULL: u64 = 0;
/// An entry to ignore.
pub const AT_IGNORE: u64 = 1;
/// File descriptor of the program (binfmt_misc).
pub const AT_EXECFD: u64 = 2;
/// Address of the program headers in memory.
pub const AT_PHDR: u64 = 3;
/// Size of one program header.
pub const AT_PHENT: u64 = 4;
/// Number of program headers.
pub const AT_PHNUM: u64 = 5;
/// Page size.
pub const AT_PAGESZ: u64 = 6;
/// Load address of the interpreter (0 for static programs).
pub const AT_BASE: u64 = 7;
/// Flags (always 0).
pub const AT_FLAGS: u64 = 8;
/// The program's entry point.
pub const AT_ENTRY: u64 = 9;
/// The program is not ELF.
pub const AT_NOTELF: u64 = 10;
/// Real user ID.
pub const AT_UID: u64 = 11;
/// Effective user ID.
pub const AT_EUID: u64 = 12;
/// Real group ID.
pub const AT_GID: u64 = 13;
/// Effective group ID.
pub const AT_EGID: u64 = 14;
/// Address of the platform string.
pub const AT_PLATFORM: u64 = 15;
/// Hardware capabilities (`HWCAP_*`).
pub const AT_HWCAP: u64 = 16;
/// Clock ticks per second, for `times()`.
pub const AT_CLKTCK: u64 = 17;
/// Secure mode (setuid): the C library must distrust the environment.
pub const AT_SECURE: u64 = 23;
/// Address of the base platform string.
pub const AT_BASE_PLATFORM: u64 = 24;
/// Address of 16 random bytes.
pub const AT_RANDOM: u64 = 25;
/// More hardware capabilities (`HWCAP2_*`).
pub const AT_HWCAP2: u64 = 26;
/// rseq feature size.
pub const AT_RSEQ_FEATURE_SIZE: u64 = 27;
/// rseq alignment.
pub const AT_RSEQ_ALIGN: u64 = 28;
/// Address of the filename the program was executed as.
pub const AT_EXECFN: u64 = 31;
/// Address of the vDSO.
pub const AT_SYSINFO_EHDR: u64 = 33;
/// The smallest stack a signal handler can run on.
pub const AT_MINSIGSTKSZ: u64 = 51;

/// `AT_PLATFORM` on arm64 (Linux: `ELF_PLATFORM`).
pub const ELF_PLATFORM: &[u8] = b"aarch64";
/// `AT_CLKTCK`: `USER_HZ`.
pub const USER_HZ: u64 = 100;
/// `AT_PAGESZ`.
pub use crate::arch::memory::PAGE_SIZE;
/// `AT_MINSIGSTKSZ`: arm64's `MINSIGSTKSZ` (the signal frame without SVE/SME state).
pub const MINSIGSTKSZ: u64 = 5120;
/// How many bytes of argument and environment strings, with their NULs and pointers, a
/// program may be given. Linux allows a quarter of `RLIMIT_STACK` (2 MiB with the usual
/// 8 MiB), but at least `ARG_MAX`; Cradle allows just `ARG_MAX`, 32 pages.
pub const ARG_MAX: usize = 32 * 4096;

/// What the auxiliary vector says about the program and its credentials.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AuxvInput {
    /// `AT_SYSINFO_EHDR`: where the vDSO's ELF header is mapped (0: no vDSO, no entry).
    pub sysinfo_ehdr: u64,
    /// `AT_HWCAP`: `HWCAP_*` bits ([`crate::arch::hwcap::hwcap_from_id_regs`]).
    pub hwcap: u64,
    /// `AT_HWCAP2`: `HWCAP2_*` bits ([`crate::arch::hwcap::hwcap2_from_id_regs`]).
    pub hwcap2: u64,
    /// `AT_PHDR`: where the program headers are mapped (after the load bias).
    pub phdr: u64,
    /// `AT_PHENT`: 56.
    pub phent: u64,
    /// `AT_PHNUM`.
    pub phnum: u64,
    /// `AT_BASE`: the interpreter's load address; 0 for static programs.
    pub base: u64,
    /// `AT_ENTRY`: the program's entry point (after the load bias).
    pub entry: u64,
    /// `AT_UID`.
    pub uid: u64,
    /// `AT_EUID`.
    pub euid: u64,
    /// `AT_GID`.
    pub gid: u64,
    /// `AT_EGID`.
    pub egid: u64,
    /// `AT_SECURE`: 1 for a setuid/setgid program, whose environment the C library must
    /// distrust; else 0.
    pub secure: u64,
    /// `AT_FLAGS`: 0.
    pub flags: u64,
}

/// A built initial stack, and where its parts are (all user addresses).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitialStack {
    /// The stack pointer the program starts with: 16-byte aligned, pointing at `argc`.
    pub sp: u64,
    /// The contents of `[sp, stack_top)`, to copy into user memory.
    pub bytes: Vec<u8>,
    /// `argv[0]`'s string; `/proc/<pid>/cmdline` is `[arg_start, arg_end)`.
    pub arg_start: u64,
    /// The end of the last argument string (its NUL included).
    pub arg_end: u64,
    /// `envp[0]`'s string; `/proc/<pid>/environ` is `[env_start, env_end)`.
    pub env_start: u64,
    /// The end of the last environment string.
    pub env_end: u64,
    /// The auxiliary vector as written, `AT_NULL` included (`/proc/<pid>/auxv`).
    pub auxv: Vec<(u64, u64)>,
}

/// Lays out a new program's stack below `stack_top` (16-byte aligned): see the module doc.
///
/// An empty `args` becomes one empty string, as Linux does since 5.18 so that `argv[0]` is
/// never NULL. Errors: `E2BIG` if the strings and their pointers exceed [`ARG_MAX`];
/// `EINVAL` if a string holds a NUL (a caller's bug: strings from user space end at their
/// first NUL), `stack_top` is misaligned or too low to hold the stack.
pub fn build_initial_stack(
    stack_top: u64,
    args: &[&[u8]],
    envs: &[&[u8]],
    auxv_in: &AuxvInput,
    random: [u8; 16],
    execfn: &[u8],
) -> Result<InitialStack, Errno> {
    build_initial_stack_below(stack_top, 0, args, envs, auxv_in, random, execfn)
}

/// [`build_initial_stack`], with the tables `align_offset` bytes further below the strings
/// (less than 8 KiB: Linux's `arch_align_stack` in `create_elf_tables`, random when the
/// layout is).
pub fn build_initial_stack_below(
    stack_top: u64,
    align_offset: u64,
    args: &[&[u8]],
    envs: &[&[u8]],
    auxv_in: &AuxvInput,
    random: [u8; 16],
    execfn: &[u8],
) -> Result<InitialStack, Errno> {
    let align_offset = align_offset.min(8191);
    const EMPTY_ARGV: &[&[u8]] = &[b""];
    let args = if args.is_empty() { EMPTY_ARGV } else { args };
    if !stack_top.is_multiple_of(16) {
        return Err(Errno::EINVAL);
    }
    let strings = args.iter().chain(envs).chain([&execfn]);
    if strings.clone().any(|s| s.contains(&0)) {
        return Err(Errno::EINVAL);
    }
    // As `bprm_stack_limits`, counting each string's NUL and each pointer.
    let string_bytes: usize = args.iter().chain(envs).map(|s| s.len() + 1).sum();
    let pointer_bytes = (args.len() + envs.len()) * 8;
    if string_bytes + pointer_bytes > ARG_MAX || execfn.len() + 1 > ARG_MAX {
        return Err(Errno::E2BIG);
    }

    // A generous bound on the size, checked against `stack_top` once, so that the address
    // arithmetic below cannot underflow.
    let auxv_max = 32;
    let bound = 8
        + align_offset as usize
        + execfn.len()
        + 1
        + string_bytes
        + 16
        + ELF_PLATFORM.len()
        + 1
        + 16
        + 16
        + 8 * (1 + args.len() + 1 + envs.len() + 1 + 2 * auxv_max);
    if stack_top < bound as u64 {
        return Err(Errno::EINVAL);
    }

    // Place the strings, going down (`copy_strings` copies the last one first).
    let mut writes: Vec<(u64, &[u8])> = Vec::new();
    let mut p = stack_top - 8;
    p -= execfn.len() as u64 + 1;
    let execfn_addr = p;
    writes.push((p, execfn));
    let env_end = p;
    let mut env_addrs = vec![0u64; envs.len()];
    for (addr, s) in env_addrs.iter_mut().zip(envs).rev() {
        p -= s.len() as u64 + 1;
        *addr = p;
        writes.push((p, s));
    }
    let env_start = p;
    let mut arg_addrs = vec![0u64; args.len()];
    for (addr, s) in arg_addrs.iter_mut().zip(args).rev() {
        p -= s.len() as u64 + 1;
        *addr = p;
        writes.push((p, s));
    }
    let arg_start = p;

    // `create_elf_tables`: `arch_align_stack`, then the platform string and the random
    // bytes.
    p = (p - align_offset) & !15;
    p -= ELF_PLATFORM.len() as u64 + 1;
    let platform_addr = p;
    writes.push((p, ELF_PLATFORM));
    p -= 16;
    let random_addr = p;

    // The auxiliary vector, in Linux's order (ARCH_DLINFO first).
    // ARCH_DLINFO first (the vDSO, then the signal stack size), as arm64 Linux orders them.
    let mut auxv: Vec<(u64, u64)> = Vec::with_capacity(auxv_max);
    if auxv_in.sysinfo_ehdr != 0 {
        auxv.push((AT_SYSINFO_EHDR, auxv_in.sysinfo_ehdr));
    }
    auxv.extend([
        (AT_MINSIGSTKSZ, MINSIGSTKSZ),
        (AT_HWCAP, auxv_in.hwcap),
        (AT_PAGESZ, PAGE_SIZE),
        (AT_CLKTCK, USER_HZ),
        (AT_PHDR, auxv_in.phdr),
        (AT_PHENT, auxv_in.phent),
        (AT_PHNUM, auxv_in.phnum),
        (AT_BASE, auxv_in.base),
        (AT_FLAGS, auxv_in.flags),
        (AT_ENTRY, auxv_in.entry),
        (AT_UID, auxv_in.uid),
        (AT_EUID, auxv_in.euid),
        (AT_GID, auxv_in.gid),
        (AT_EGID, auxv_in.egid),
        (AT_SECURE, auxv_in.secure),
        (AT_RANDOM, random_addr),
        (AT_HWCAP2, auxv_in.hwcap2),
        (AT_EXECFN, execfn_addr),
        (AT_PLATFORM, platform_addr),
        (AT_NULL, 0),
    ]);
    debug_assert!(auxv.len() <= auxv_max);

    // The table: argc, argv, NULL, envp, NULL, auxv.
    let mut table: Vec<u64> = Vec::with_capacity(3 + args.len() + envs.len() + 2 * auxv.len());
    table.push(args.len() as u64);
    table.extend(&arg_addrs);
    table.push(0);
    table.extend(&env_addrs);
    table.push(0);
    for &(key, value) in &auxv {
        table.extend([key, value]);
    }
    let sp = (p - 8 * table.len() as u64) & !15;

    let mut bytes = vec![0u8; (stack_top - sp) as usize];
    let at = |addr: u64| (addr - sp) as usize;
    for (i, word) in table.iter().enumerate() {
        let offset = 8 * i;
        bytes[offset..offset + 8].copy_from_slice(&word.to_le_bytes());
    }
    bytes[at(random_addr)..at(random_addr) + 16].copy_from_slice(&random);
    for (addr, s) in writes {
        // The NUL after each string is already there.
        bytes[at(addr)..at(addr) + s.len()].copy_from_slice(s);
    }

    Ok(InitialStack {
        sp,
        bytes,
        arg_start,
        arg_end: env_start,
        env_start,
        env_end,
        auxv,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::hwcap::*;

    const TOP: u64 = 0x0000_ffff_ffff_f000;
    const RANDOM: [u8; 16] = *b"0123456789abcdef";

    fn aux() -> AuxvInput {
        AuxvInput {
            sysinfo_ehdr: 0,
            hwcap: HWCAP_FP | HWCAP_ASIMD | HWCAP_CPUID,
            hwcap2: HWCAP2_RNG,
            phdr: 0x200040,
            phent: 56,
            phnum: 6,
            base: 0,
            entry: 0x2101e4,
            uid: 1000,
            euid: 1001,
            gid: 100,
            egid: 101,
            secure: 0,
            flags: 0,
        }
    }

    /// What a C library's start-up code would read, for checking.
    struct Parsed {
        argv: Vec<Vec<u8>>,
        envp: Vec<Vec<u8>>,
        auxv: Vec<(u64, u64)>,
    }

    fn word(stack: &InitialStack, addr: u64) -> u64 {
        let at = (addr - stack.sp) as usize;
        u64::from_le_bytes(stack.bytes[at..at + 8].try_into().unwrap())
    }

    fn cstr(stack: &InitialStack, addr: u64) -> Vec<u8> {
        let at = (addr - stack.sp) as usize;
        let len = stack.bytes[at..].iter().position(|&b| b == 0).unwrap();
        stack.bytes[at..at + len].to_vec()
    }

    fn parse(stack: &InitialStack) -> Parsed {
        let mut p = stack.sp;
        let argc = word(stack, p);
        p += 8;
        let mut argv = Vec::new();
        for _ in 0..argc {
            argv.push(cstr(stack, word(stack, p)));
            p += 8;
        }
        assert_eq!(word(stack, p), 0, "argv ends with NULL");
        p += 8;
        let mut envp = Vec::new();
        while word(stack, p) != 0 {
            envp.push(cstr(stack, word(stack, p)));
            p += 8;
        }
        p += 8;
        let mut auxv = Vec::new();
        loop {
            let pair = (word(stack, p), word(stack, p + 8));
            auxv.push(pair);
            p += 16;
            if pair.0 == AT_NULL {
                break;
            }
        }
        Parsed { argv, envp, auxv }
    }

    fn lookup(auxv: &[(u64, u64)], key: u64) -> Option<u64> {
        auxv.iter().find(|&&(k, _)| k == key).map(|&(_, v)| v)
    }

    #[test]
    fn stack_reads_back() {
        let args: [&[u8]; 3] = [b"/bin/busybox", b"sh", b"-c"];
        let envs: [&[u8]; 2] = [b"HOME=/", b"TERM=linux"];
        let stack = build_initial_stack(TOP, &args, &envs, &aux(), RANDOM, b"/bin/sh").unwrap();
        assert_eq!(stack.sp % 16, 0);
        assert_eq!(stack.sp + stack.bytes.len() as u64, TOP);
        assert_eq!(
            &stack.bytes[stack.bytes.len() - 8..],
            [0; 8],
            "a NULL word at the top"
        );

        let parsed = parse(&stack);
        assert_eq!(parsed.argv, [&b"/bin/busybox"[..], b"sh", b"-c"]);
        assert_eq!(parsed.envp, [&b"HOME=/"[..], b"TERM=linux"]);
        assert_eq!(parsed.auxv, stack.auxv);

        let a = &parsed.auxv;
        assert_eq!(lookup(a, AT_PAGESZ), Some(4096));
        assert_eq!(lookup(a, AT_CLKTCK), Some(100));
        assert_eq!(lookup(a, AT_PHDR), Some(0x200040));
        assert_eq!(lookup(a, AT_PHENT), Some(56));
        assert_eq!(lookup(a, AT_PHNUM), Some(6));
        assert_eq!(lookup(a, AT_BASE), Some(0));
        assert_eq!(lookup(a, AT_FLAGS), Some(0));
        assert_eq!(lookup(a, AT_ENTRY), Some(0x2101e4));
        assert_eq!(lookup(a, AT_UID), Some(1000));
        assert_eq!(lookup(a, AT_EUID), Some(1001));
        assert_eq!(lookup(a, AT_GID), Some(100));
        assert_eq!(lookup(a, AT_EGID), Some(101));
        assert_eq!(lookup(a, AT_SECURE), Some(0));
        assert_eq!(
            lookup(a, AT_HWCAP),
            Some(HWCAP_FP | HWCAP_ASIMD | HWCAP_CPUID)
        );
        assert_eq!(lookup(a, AT_HWCAP2), Some(HWCAP2_RNG));
        assert_eq!(lookup(a, AT_MINSIGSTKSZ), Some(5120));
        assert_eq!(lookup(a, AT_SYSINFO_EHDR), None);
        assert_eq!(a.last(), Some(&(AT_NULL, 0)));
        assert_eq!(a.len(), 20);

        let random = lookup(a, AT_RANDOM).unwrap();
        let at = (random - stack.sp) as usize;
        assert_eq!(stack.bytes[at..at + 16], RANDOM);
        assert_eq!(cstr(&stack, lookup(a, AT_EXECFN).unwrap()), b"/bin/sh");
        assert_eq!(cstr(&stack, lookup(a, AT_PLATFORM).unwrap()), b"aarch64");

        // /proc/<pid>/cmdline and environ.
        let range = |start: u64, end: u64| {
            stack.bytes[(start - stack.sp) as usize..(end - stack.sp) as usize].to_vec()
        };
        assert_eq!(
            range(stack.arg_start, stack.arg_end),
            b"/bin/busybox\0sh\0-c\0"
        );
        assert_eq!(
            range(stack.env_start, stack.env_end),
            b"HOME=/\0TERM=linux\0"
        );
        assert_eq!(
            stack.arg_start,
            word(&stack, stack.sp + 8),
            "argv[0] starts the strings"
        );
    }

    #[test]
    fn alignment_holds_for_every_string_length() {
        for n in 0..40usize {
            let arg = vec![b'a'; n];
            let env = vec![b'e'; n / 3];
            let args: Vec<&[u8]> = (0..n % 5 + 1).map(|_| arg.as_slice()).collect();
            let envs: Vec<&[u8]> = (0..n % 3).map(|_| env.as_slice()).collect();
            let stack = build_initial_stack(TOP, &args, &envs, &aux(), RANDOM, &arg).unwrap();
            assert_eq!(stack.sp % 16, 0, "n = {n}");
            let parsed = parse(&stack);
            assert_eq!(parsed.argv.len(), args.len());
            assert!(parsed.argv.iter().all(|a| *a == arg));
            assert_eq!(parsed.envp.len(), envs.len());
            let random = lookup(&parsed.auxv, AT_RANDOM).unwrap();
            assert!(random > stack.sp + 8 * (parsed.auxv.len() as u64 * 2));
            assert_eq!(random % 8, 0);
            let at = (random - stack.sp) as usize;
            assert_eq!(stack.bytes[at..at + 16], RANDOM);
        }
    }

    #[test]
    fn empty_argv_gets_an_empty_argv0() {
        let stack = build_initial_stack(TOP, &[], &[], &aux(), RANDOM, b"/init").unwrap();
        let parsed = parse(&stack);
        assert_eq!(parsed.argv, [b""]);
        assert!(parsed.envp.is_empty());
    }

    #[test]
    fn vdso_comes_first_and_only_when_there_is_one() {
        let none = build_initial_stack(TOP, &[b"a"], &[], &aux(), RANDOM, b"/a").unwrap();
        assert_eq!(lookup(&none.auxv, AT_SYSINFO_EHDR), None);
        assert_eq!(none.auxv[0].0, AT_MINSIGSTKSZ);
        let with = AuxvInput {
            sysinfo_ehdr: 0xffff_f7ff_b000,
            ..aux()
        };
        let stack = build_initial_stack(TOP, &[b"a"], &[], &with, RANDOM, b"/a").unwrap();
        assert_eq!(stack.auxv[0], (AT_SYSINFO_EHDR, 0xffff_f7ff_b000));
        assert_eq!(stack.auxv[1].0, AT_MINSIGSTKSZ);
        assert_eq!(stack.auxv.len(), none.auxv.len() + 1);
    }

    #[test]
    fn secure_flag() {
        let input = AuxvInput { secure: 1, ..aux() };
        let stack = build_initial_stack(TOP, &[b"x"], &[], &input, RANDOM, b"x").unwrap();
        assert_eq!(lookup(&stack.auxv, AT_SECURE), Some(1));
    }

    #[test]
    fn argument_limit() {
        let big = vec![b'x'; 64 * 1024];
        // Two 64 KiB strings, their NULs and pointers: over 128 KiB.
        let too_much: [&[u8]; 2] = [&big, &big];
        assert_eq!(
            build_initial_stack(TOP, &too_much, &[], &aux(), RANDOM, b"x"),
            Err(Errno::E2BIG)
        );
        assert_eq!(
            build_initial_stack(TOP, &[&big], &too_much[..1], &aux(), RANDOM, b"x"),
            Err(Errno::E2BIG)
        );
        // Exactly at the limit is fine.
        let fits = vec![b'y'; ARG_MAX - 1 - 8];
        let stack = build_initial_stack(TOP, &[&fits], &[], &aux(), RANDOM, b"x").unwrap();
        assert_eq!(parse(&stack).argv[0].len(), fits.len());
        let over = vec![b'y'; ARG_MAX - 8];
        assert_eq!(
            build_initial_stack(TOP, &[&over], &[], &aux(), RANDOM, b"x"),
            Err(Errno::E2BIG)
        );
        let many: Vec<&[u8]> = vec![b""; ARG_MAX / 9 + 1];
        assert_eq!(
            build_initial_stack(TOP, &many, &[], &aux(), RANDOM, b"x"),
            Err(Errno::E2BIG)
        );
    }

    #[test]
    fn caller_errors() {
        assert_eq!(
            build_initial_stack(TOP, &[b"a\0b"], &[], &aux(), RANDOM, b"x"),
            Err(Errno::EINVAL)
        );
        assert_eq!(
            build_initial_stack(TOP, &[b"a"], &[b"\0"], &aux(), RANDOM, b"x"),
            Err(Errno::EINVAL)
        );
        assert_eq!(
            build_initial_stack(TOP, &[b"a"], &[], &aux(), RANDOM, b"x\0"),
            Err(Errno::EINVAL)
        );
        assert_eq!(
            build_initial_stack(TOP - 8, &[b"a"], &[], &aux(), RANDOM, b"x"),
            Err(Errno::EINVAL)
        );
        assert_eq!(
            build_initial_stack(0x100, &[b"a"], &[], &aux(), RANDOM, b"x"),
            Err(Errno::EINVAL)
        );
        assert_eq!(
            build_initial_stack(0, &[b"a"], &[], &aux(), RANDOM, b"x"),
            Err(Errno::EINVAL)
        );
        assert!(build_initial_stack(0x1000, &[b"a"], &[], &aux(), RANDOM, b"x").is_ok());
    }
}
