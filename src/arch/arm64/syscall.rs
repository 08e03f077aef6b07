//! The system call entry: `svc #0` from EL0 (Linux: `arch/arm64/kernel/syscall.c`,
//! `el0_svc` → `invoke_syscall`, and the asm-generic syscall table).
//!
//! The number is in x8, the arguments in x0-x5, the result (or `-errno`) goes back in x0.
//! The numbers are Linux's (`include/uapi/asm-generic/unistd.h`), so unmodified static
//! Linux programs run. An unknown number returns `-ENOSYS` and is logged once.

use super::ptrace::PtRegs;
use crate::fs::read_write as rw;
use crate::fs::syscalls as fs;
use crate::fs::xattr;
use crate::kernel::errno::Errno;
use crate::kernel::{exit, fork, futex, session, signal, sys};
use crate::mm::mmap;

/// Syscall numbers (asm-generic), for the ones the kernel names elsewhere.
pub mod nr {
    /// `restart_syscall`.
    pub const RESTART_SYSCALL: u64 = 128;
    /// `rt_sigreturn`.
    pub const RT_SIGRETURN: u64 = 139;
    /// `execve`.
    pub const EXECVE: u64 = 221;
}

/// Numbers already reported as unknown (one bit each, for the first 512).
static REPORTED: [core::sync::atomic::AtomicU64; 8] =
    [const { core::sync::atomic::AtomicU64::new(0) }; 8];

fn report_unknown(nr: u64) {
    let task = crate::kernel::task::current();
    let first = match REPORTED.get((nr / 64) as usize) {
        Some(word) => {
            word.fetch_or(1 << (nr % 64), core::sync::atomic::Ordering::Relaxed) & (1 << (nr % 64))
                == 0
        }
        None => true,
    };
    if first {
        log::warn!(
            "{}[{}]: unknown syscall {nr}: returning -ENOSYS",
            task.comm(),
            task.pid()
        );
    }
}

/// Run syscall `nr` with the arguments in `regs` (Linux's `invoke_syscall`).
fn invoke_syscall(regs: &mut PtRegs, nr: u64) -> Result<u64, Errno> {
    let a = [
        regs.regs[0],
        regs.regs[1],
        regs.regs[2],
        regs.regs[3],
        regs.regs[4],
        regs.regs[5],
    ];
    let i = |x: u64| x as i32;
    match nr {
        5 => xattr::sys_setxattr(a[0], a[1], a[4] as u32, true),
        6 => xattr::sys_setxattr(a[0], a[1], a[4] as u32, false),
        7 => xattr::sys_fsetxattr(i(a[0]), a[1], a[4] as u32),
        8 => xattr::sys_getxattr(a[0], a[1], a[2], a[3] as usize),
        9 => xattr::sys_lgetxattr(a[0], a[1], a[2], a[3] as usize),
        10 => xattr::sys_fgetxattr(i(a[0]), a[1], a[2], a[3] as usize),
        11 => xattr::sys_listxattr(a[0], a[1], a[2] as usize, true),
        12 => xattr::sys_listxattr(a[0], a[1], a[2] as usize, false),
        13 => xattr::sys_flistxattr(i(a[0]), a[1], a[2] as usize),
        14 => xattr::sys_removexattr(a[0], a[1], true),
        15 => xattr::sys_removexattr(a[0], a[1], false),
        16 => xattr::sys_fremovexattr(i(a[0]), a[1]),
        17 => fs::sys_getcwd(a[0], a[1] as usize),
        23 => fs::sys_dup(i(a[0])),
        24 => fs::sys_dup3(i(a[0]), i(a[1]), a[2] as u32),
        25 => fs::sys_fcntl(i(a[0]), a[1] as u32, a[2]),
        29 => fs::sys_ioctl(i(a[0]), a[1] as u32, a[2]),
        33 => fs::sys_mknodat(i(a[0]), a[1], a[2] as u32, a[3]),
        34 => fs::sys_mkdirat(i(a[0]), a[1], a[2] as u32),
        35 => fs::sys_unlinkat(i(a[0]), a[1], a[2] as u32),
        36 => fs::sys_symlinkat(a[0], i(a[1]), a[2]),
        37 => fs::sys_linkat(i(a[0]), a[1], i(a[2]), a[3], a[4] as u32),
        38 => fs::sys_renameat2(i(a[0]), a[1], i(a[2]), a[3], 0),
        39 => fs::sys_umount2(a[0], a[1] as u32),
        40 => fs::sys_mount(a[0], a[1], a[2], a[3], a[4]),
        43 => crate::fs::statfs::sys_statfs(a[0], a[1]),
        44 => crate::fs::statfs::sys_fstatfs(i(a[0]), a[1]),
        46 => fs::sys_ftruncate(i(a[0]), a[1]),
        45 => fs::sys_truncate(a[0], a[1]),
        48 => fs::sys_faccessat(i(a[0]), a[1], a[2] as u32),
        439 => fs::sys_faccessat(i(a[0]), a[1], a[2] as u32),
        49 => fs::sys_chdir(a[0]),
        50 => fs::sys_fchdir(i(a[0])),
        52 => fs::sys_fchmod(i(a[0]), a[1] as u32),
        53 => fs::sys_fchmodat(i(a[0]), a[1], a[2] as u32),
        54 | 55 => Ok(0), // fchownat, fchown: everything belongs to root
        56 => fs::sys_openat(i(a[0]), a[1], a[2] as u32, a[3] as u32),
        57 => fs::sys_close(i(a[0])),
        59 => fs::sys_pipe2(a[0], a[1] as u32),
        61 => fs::sys_getdents64(i(a[0]), a[1], a[2] as usize),
        62 => rw::sys_lseek(i(a[0]), a[1] as i64, a[2] as u32),
        63 => rw::sys_read(i(a[0]), a[1], a[2] as usize),
        64 => rw::sys_write(i(a[0]), a[1], a[2] as usize),
        65 => rw::sys_readv(i(a[0]), a[1], a[2] as usize),
        66 => rw::sys_writev(i(a[0]), a[1], a[2] as usize),
        67 => rw::sys_pread64(i(a[0]), a[1], a[2] as usize, a[3] as i64),
        68 => rw::sys_pwrite64(i(a[0]), a[1], a[2] as usize, a[3] as i64),
        69 => rw::sys_preadv(i(a[0]), a[1], a[2] as usize, a[3] as i64),
        70 => rw::sys_pwritev(i(a[0]), a[1], a[2] as usize, a[3] as i64),
        71 => rw::sys_sendfile(i(a[0]), i(a[1]), a[2], a[3] as usize),
        72 => fs::sys_pselect6(a[0] as usize, a[1], a[2], a[3], a[4], a[5]),
        73 => fs::sys_ppoll(a[0], a[1] as usize, a[2], a[3], a[4] as usize),
        78 => fs::sys_readlinkat(i(a[0]), a[1], a[2], a[3] as usize),
        79 => fs::sys_newfstatat(i(a[0]), a[1], a[2], a[3] as u32),
        80 => fs::sys_fstat(i(a[0]), a[1]),
        81 => Ok(0),                       // sync: ramfs has nothing to write back
        82 | 83 => fs::sys_fsync(i(a[0])), // fsync, fdatasync
        223 => rw::sys_fadvise64(i(a[0]), a[1] as i64, a[2] as i64, a[3] as u32),
        285 => rw::sys_copy_file_range(i(a[0]), a[1], i(a[2]), a[3], a[4] as usize, a[5] as u32),
        291 => crate::fs::stat::sys_statx(i(a[0]), a[1], a[2] as u32, a[3] as u32, a[4]),
        88 => fs::sys_utimensat(i(a[0]), a[1], a[2], a[3] as u32),
        93 => exit::sys_exit(i(a[0])),
        94 => exit::sys_exit_group(i(a[0])),
        96 => sys::sys_set_tid_address(a[0]),
        98 => futex::sys_futex(a[0], a[1] as u32, a[2] as u32, a[3], a[4], a[5] as u32),
        99 => futex::sys_set_robust_list(a[0], a[1] as usize),
        100 => futex::sys_get_robust_list(i(a[0]), a[1], a[2]),
        101 => sys::sys_nanosleep(a[0], a[1]),
        113 => sys::sys_clock_gettime(i(a[0]), a[1]),
        114 => sys::sys_clock_getres(i(a[0]), a[1]),
        115 => sys::sys_clock_nanosleep(i(a[0]), a[1] as u32, a[2], a[3]),
        116 => crate::kernel::printk::sys_syslog(i(a[0]), a[1], i(a[2])),
        124 => sys::sys_sched_yield(),
        128 => signal::sys_restart_syscall(),
        129 => signal::sys_kill(i(a[0]), i(a[1])),
        130 => signal::sys_tkill(i(a[0]), i(a[1])),
        131 => signal::sys_tgkill(i(a[0]), i(a[1]), i(a[2])),
        132 => signal::sys_sigaltstack(a[0], a[1], regs.sp),
        133 => signal::sys_rt_sigsuspend(a[0], a[1] as usize),
        134 => signal::sys_rt_sigaction(i(a[0]), a[1], a[2], a[3] as usize),
        135 => signal::sys_rt_sigprocmask(i(a[0]), a[1], a[2], a[3] as usize),
        136 => signal::sys_rt_sigpending(a[0], a[1] as usize),
        137 => signal::sys_rt_sigtimedwait(a[0], a[1], a[2], a[3] as usize),
        139 => super::signal::sys_rt_sigreturn(regs),
        142 => sys::sys_reboot(a[0] as u32, a[1] as u32, a[2] as u32),
        153 => sys::sys_times(a[0]),
        102 => crate::kernel::time::itimer::sys_getitimer(i(a[0]), a[1]),
        103 => crate::kernel::time::itimer::sys_setitimer(i(a[0]), a[1], a[2]),
        161 => sys::sys_sethostname(a[0], a[1] as usize),
        162 => sys::sys_setdomainname(a[0], a[1] as usize),
        // socket: Cradle has no network stack and no UNIX sockets yet; libc's syslog()
        // then falls back to the console, as on a Linux without them.
        198 => Err(Errno::EAFNOSUPPORT),
        // getsockname, getpeername: there are no sockets, so no descriptor is one (bash
        // asks whether its standard input is a socket).
        204 | 205 => fs::fdget(i(a[0])).and(Err(Errno::ENOTSOCK)),
        154 => session::sys_setpgid(i(a[0]), i(a[1])),
        155 => session::sys_getpgid(i(a[0])),
        156 => session::sys_getsid(i(a[0])),
        157 => session::sys_setsid(),
        158 => sys::sys_getgroups(i(a[0]), a[1]),
        159 => sys::sys_setgroups(a[0] as usize, a[1]),
        160 => sys::sys_uname(a[0]),
        163 => sys::sys_prlimit64(0, a[0] as u32, 0, a[1]),
        261 => sys::sys_prlimit64(i(a[0]), a[1] as u32, a[2], a[3]),
        165 => sys::sys_getrusage(i(a[0]), a[1]),
        166 => sys::sys_umask(a[0] as u32),
        167 => sys::sys_prctl(i(a[0]), a[1]),
        169 => sys::sys_gettimeofday(a[0], a[1]),
        172 => Ok(sys::getpid() as u64),
        173 => Ok(sys::getppid() as u64),
        174..=177 => Ok(0), // getuid, geteuid, getgid, getegid: root
        144 | 146 | 143 | 145 | 147 | 149 | 151 | 152 => Ok(0), // set*id: already root
        148 | 150 => sys::sys_getresid(a[0], a[1], a[2]),
        178 => Ok(sys::gettid() as u64),
        179 => sys::sys_sysinfo(a[0]),
        214 => mmap::sys_brk(a[0]),
        215 => mmap::sys_munmap(a[0], a[1]),
        220 => fork::sys_clone(regs, a[0], a[1], a[2], a[3], a[4]),
        435 => fork::sys_clone3(a[0], a[1] as usize),
        221 => crate::fs::exec::sys_execve(a[0], a[1], a[2]),
        222 => mmap::sys_mmap(a[0], a[1], a[2] as u32, a[3] as u32, i(a[4]), a[5]),
        226 => mmap::sys_mprotect(a[0], a[1], a[2] as u32),
        216 => mmap::sys_mremap(a[0], a[1], a[2], a[3] as u32, a[4]),
        227 => mmap::sys_msync(a[0], a[1], a[2] as u32),
        233 => mmap::sys_madvise(a[0], a[1], a[2] as u32),
        260 => exit::sys_wait4(i(a[0]), a[1], a[2] as u32, a[3]),
        276 => fs::sys_renameat2(i(a[0]), a[1], i(a[2]), a[3], a[4] as u32),
        278 => sys::sys_getrandom(a[0], a[1] as usize, a[2] as u32),
        293 => Err(Errno::ENOSYS), // rseq: libcs expect ENOSYS and carry on
        _ => {
            report_unknown(nr);
            Err(Errno::ENOSYS)
        }
    }
}

/// `svc #0` from EL0 (Linux's `el0_svc`).
pub fn el0_svc(regs: &mut PtRegs) {
    let nr = regs.regs[8];
    regs.orig_x0 = regs.regs[0];
    regs.syscallno = nr as i64;
    let ret = invoke_syscall(regs, nr);
    // A successful execve replaced the registers: its x0 is the new program's (0). So did
    // rt_sigreturn: x0 is the interrupted context's.
    if (nr == nr::EXECVE || nr == nr::RT_SIGRETURN) && ret.is_ok() {
        return;
    }
    regs.regs[0] = match ret {
        Ok(v) => v,
        Err(e) => e.to_syscall_ret() as u64,
    };
}
