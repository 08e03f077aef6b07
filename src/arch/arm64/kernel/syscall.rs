//! The system call entry: `svc #0` from EL0 (Linux: `arch/arm64/kernel/syscall.c`,
//! `el0_svc` → `invoke_syscall`, and the asm-generic syscall table).
//!
//! The number is in x8, the arguments in x0-x5, the result (or `-errno`) goes back in x0.
//! The numbers are Linux's, named as Linux names them (`unistd.rs`), so unmodified static
//! Linux programs run. An unknown number returns `-ENOSYS` and is logged once per number, at
//! debug level (Linux prints nothing).

use crate::arch::ptrace::PtRegs;
use crate::arch::unistd::*;
use crate::fs;
use crate::fs::read_write as rw;
use crate::fs::xattr;
use crate::kernel::errno::Errno;
use crate::kernel::sched::syscalls as sched;
use crate::kernel::time::posix_timers;
use crate::kernel::{exit, fork, futex, session, signal, sys};
use crate::mm::mmap;
use crate::net::socket as net;

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
    // Debug level, as Linux says nothing: not on the console at the default loglevel, but
    // in the log (dmesg) for whoever wonders what a program asked for.
    if first {
        log::debug!(
            "{}[{}]: unknown syscall {nr}: returning -ENOSYS",
            task.comm(),
            task.pid()
        );
    }
}

/// Run syscall `nr` with the arguments in `regs` (Linux's `invoke_syscall`). One arm per
/// call, `__NR_name => handler(args),`, in any order.
#[allow(non_upper_case_globals)] // Linux's `__NR_*` names
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
        __NR_setxattr => xattr::sys_setxattr(a[0], a[1], a[2], a[3] as usize, a[4] as u32, true),
        __NR_lsetxattr => xattr::sys_setxattr(a[0], a[1], a[2], a[3] as usize, a[4] as u32, false),
        __NR_fsetxattr => xattr::sys_fsetxattr(i(a[0]), a[1], a[2], a[3] as usize, a[4] as u32),
        __NR_getxattr => xattr::sys_getxattr(a[0], a[1], a[2], a[3] as usize),
        __NR_lgetxattr => xattr::sys_lgetxattr(a[0], a[1], a[2], a[3] as usize),
        __NR_fgetxattr => xattr::sys_fgetxattr(i(a[0]), a[1], a[2], a[3] as usize),
        __NR_listxattr => xattr::sys_listxattr(a[0], a[1], a[2] as usize, true),
        __NR_llistxattr => xattr::sys_listxattr(a[0], a[1], a[2] as usize, false),
        __NR_flistxattr => xattr::sys_flistxattr(i(a[0]), a[1], a[2] as usize),
        __NR_removexattr => xattr::sys_removexattr(a[0], a[1], true),
        __NR_lremovexattr => xattr::sys_removexattr(a[0], a[1], false),
        __NR_fremovexattr => xattr::sys_fremovexattr(i(a[0]), a[1]),
        __NR_getcwd => fs::d_path::sys_getcwd(a[0], a[1] as usize),
        __NR_dup => fs::file::sys_dup(i(a[0])),
        __NR_dup3 => fs::file::sys_dup3(i(a[0]), i(a[1]), a[2] as u32),
        __NR_fcntl => fs::fcntl::sys_fcntl(i(a[0]), a[1] as u32, a[2]),
        __NR_ioctl => fs::ioctl::sys_ioctl(i(a[0]), a[1] as u32, a[2]),
        __NR_ioprio_set => crate::block::ioprio::sys_ioprio_set(i(a[0]), i(a[1]), i(a[2])),
        __NR_ioprio_get => crate::block::ioprio::sys_ioprio_get(i(a[0]), i(a[1])),
        __NR_flock => fs::locks::sys_flock(i(a[0]), a[1] as u32),
        __NR_mknodat => fs::namei::sys_mknodat(i(a[0]), a[1], a[2] as u32, a[3]),
        __NR_mkdirat => fs::namei::sys_mkdirat(i(a[0]), a[1], a[2] as u32),
        __NR_unlinkat => fs::namei::sys_unlinkat(i(a[0]), a[1], a[2] as u32),
        __NR_symlinkat => fs::namei::sys_symlinkat(a[0], i(a[1]), a[2]),
        __NR_linkat => fs::namei::sys_linkat(i(a[0]), a[1], i(a[2]), a[3], a[4] as u32),
        __NR_renameat => fs::namei::sys_renameat2(i(a[0]), a[1], i(a[2]), a[3], 0),
        __NR_umount2 => fs::namespace::sys_umount2(a[0], a[1] as u32),
        __NR_mount => fs::namespace::sys_mount(a[0], a[1], a[2], a[3], a[4]),
        __NR_statfs => crate::fs::statfs::sys_statfs(a[0], a[1]),
        __NR_fstatfs => crate::fs::statfs::sys_fstatfs(i(a[0]), a[1]),
        __NR_ftruncate => fs::open::sys_ftruncate(i(a[0]), a[1]),
        __NR_truncate => fs::open::sys_truncate(a[0], a[1]),
        __NR_fallocate => fs::open::sys_fallocate(i(a[0]), a[1] as u32, a[2] as i64, a[3] as i64),
        __NR_faccessat => fs::open::sys_faccessat(i(a[0]), a[1], a[2] as u32, 0),
        __NR_faccessat2 => fs::open::sys_faccessat(i(a[0]), a[1], a[2] as u32, a[3] as u32),
        __NR_chdir => fs::open::sys_chdir(a[0]),
        __NR_fchdir => fs::open::sys_fchdir(i(a[0])),
        __NR_chroot => fs::open::sys_chroot(a[0]),
        __NR_fchmod => fs::open::sys_fchmod(i(a[0]), a[1] as u32),
        __NR_fchmodat => fs::open::sys_fchmodat(i(a[0]), a[1], a[2] as u32),
        __NR_fchownat => {
            fs::open::sys_fchownat(i(a[0]), a[1], a[2] as u32, a[3] as u32, a[4] as u32)
        }
        __NR_fchown => fs::open::sys_fchown(i(a[0]), a[1] as u32, a[2] as u32),
        __NR_openat => fs::open::sys_openat(i(a[0]), a[1], a[2] as u32, a[3] as u32),
        __NR_close => fs::open::sys_close(i(a[0])),
        __NR_pipe2 => fs::pipe::sys_pipe2(a[0], a[1] as u32),
        __NR_getdents64 => fs::readdir::sys_getdents64(i(a[0]), a[1], a[2] as usize),
        __NR_lseek => rw::sys_lseek(i(a[0]), a[1] as i64, a[2] as u32),
        __NR_read => rw::sys_read(i(a[0]), a[1], a[2] as usize),
        __NR_write => rw::sys_write(i(a[0]), a[1], a[2] as usize),
        __NR_readv => rw::sys_readv(i(a[0]), a[1], a[2] as usize),
        __NR_writev => rw::sys_writev(i(a[0]), a[1], a[2] as usize),
        __NR_pread64 => rw::sys_pread64(i(a[0]), a[1], a[2] as usize, a[3] as i64),
        __NR_pwrite64 => rw::sys_pwrite64(i(a[0]), a[1], a[2] as usize, a[3] as i64),
        __NR_preadv => rw::sys_preadv(i(a[0]), a[1], a[2] as usize, a[3] as i64),
        __NR_pwritev => rw::sys_pwritev(i(a[0]), a[1], a[2] as usize, a[3] as i64),
        __NR_sendfile => rw::sys_sendfile(i(a[0]), i(a[1]), a[2], a[3] as usize),
        __NR_pselect6 => fs::select::sys_pselect6(a[0] as usize, a[1], a[2], a[3], a[4], a[5]),
        __NR_ppoll => fs::select::sys_ppoll(a[0], a[1] as usize, a[2], a[3], a[4] as usize),
        __NR_signalfd4 => fs::signalfd::sys_signalfd4(i(a[0]), a[1], a[2] as usize, i(a[3])),
        __NR_timerfd_create => fs::timerfd::sys_timerfd_create(i(a[0]), i(a[1])),
        __NR_timerfd_settime => fs::timerfd::sys_timerfd_settime(i(a[0]), i(a[1]), a[2], a[3]),
        __NR_timerfd_gettime => fs::timerfd::sys_timerfd_gettime(i(a[0]), a[1]),
        __NR_timer_create => posix_timers::sys_timer_create(i(a[0]), a[1], a[2]),
        __NR_timer_settime => posix_timers::sys_timer_settime(i(a[0]), i(a[1]), a[2], a[3]),
        __NR_timer_gettime => posix_timers::sys_timer_gettime(i(a[0]), a[1]),
        __NR_timer_getoverrun => posix_timers::sys_timer_getoverrun(i(a[0])),
        __NR_timer_delete => posix_timers::sys_timer_delete(i(a[0])),
        __NR_inotify_init1 => fs::notify::sys_inotify_init1(i(a[0])),
        __NR_inotify_add_watch => fs::notify::sys_inotify_add_watch(i(a[0]), a[1], a[2] as u32),
        __NR_inotify_rm_watch => fs::notify::sys_inotify_rm_watch(i(a[0]), i(a[1])),
        __NR_eventfd2 => fs::eventfd::sys_eventfd2(a[0] as u32, i(a[1])),
        __NR_epoll_create1 => fs::eventpoll::sys_epoll_create1(i(a[0])),
        __NR_epoll_ctl => fs::eventpoll::sys_epoll_ctl(i(a[0]), i(a[1]), i(a[2]), a[3]),
        __NR_epoll_pwait => {
            fs::eventpoll::sys_epoll_pwait(i(a[0]), a[1], i(a[2]), i(a[3]), a[4], a[5] as usize)
        }
        __NR_epoll_pwait2 => {
            fs::eventpoll::sys_epoll_pwait2(i(a[0]), a[1], i(a[2]), a[3], a[4], a[5] as usize)
        }
        __NR_readlinkat => fs::stat::sys_readlinkat(i(a[0]), a[1], a[2], a[3] as usize),
        __NR_newfstatat => fs::stat::sys_newfstatat(i(a[0]), a[1], a[2], a[3] as u32),
        __NR_fstat => fs::stat::sys_fstat(i(a[0]), a[1]),
        __NR_statx => fs::stat::sys_statx(i(a[0]), a[1], a[2] as u32, a[3] as u32, a[4]),
        __NR_sync => Ok(0), // sync: ramfs has nothing to write back
        __NR_fsync => fs::sync::sys_fsync(i(a[0])),
        __NR_fdatasync => fs::sync::sys_fsync(i(a[0])),
        __NR_sync_file_range => {
            fs::sync::sys_sync_file_range(i(a[0]), a[1] as i64, a[2] as i64, a[3] as u32)
        }
        __NR_utimensat => fs::utimes::sys_utimensat(i(a[0]), a[1], a[2], a[3] as u32),
        __NR_exit => exit::sys_exit(i(a[0])),
        __NR_exit_group => exit::sys_exit_group(i(a[0])),
        __NR_waitid => exit::sys_waitid(i(a[0]), i(a[1]), a[2], a[3] as u32, a[4]),
        __NR_set_tid_address => sys::sys_set_tid_address(a[0]),
        __NR_futex => futex::sys_futex(a[0], a[1] as u32, a[2] as u32, a[3], a[4], a[5] as u32),
        __NR_set_robust_list => futex::sys_set_robust_list(a[0], a[1] as usize),
        __NR_get_robust_list => futex::sys_get_robust_list(i(a[0]), a[1], a[2]),
        __NR_nanosleep => sys::sys_nanosleep(a[0], a[1]),
        __NR_clock_settime => sys::sys_clock_settime(i(a[0]), a[1]),
        __NR_clock_gettime => sys::sys_clock_gettime(i(a[0]), a[1]),
        __NR_clock_getres => sys::sys_clock_getres(i(a[0]), a[1]),
        __NR_clock_nanosleep => sys::sys_clock_nanosleep(i(a[0]), a[1] as u32, a[2], a[3]),
        __NR_syslog => crate::kernel::printk::sys_syslog(i(a[0]), a[1], i(a[2])),
        __NR_sched_setparam => sched::sys_sched_setparam(i(a[0]), a[1]),
        __NR_sched_setscheduler => sched::sys_sched_setscheduler(i(a[0]), i(a[1]), a[2]),
        __NR_sched_getscheduler => sched::sys_sched_getscheduler(i(a[0])),
        __NR_sched_getparam => sched::sys_sched_getparam(i(a[0]), a[1]),
        __NR_sched_setaffinity => sched::sys_sched_setaffinity(i(a[0]), a[1] as u32, a[2]),
        __NR_sched_getaffinity => sched::sys_sched_getaffinity(i(a[0]), a[1] as u32, a[2]),
        __NR_sched_yield => sys::sys_sched_yield(),
        __NR_getcpu => sys::sys_getcpu(a[0], a[1]),
        __NR_sched_get_priority_max => sched::sys_sched_get_priority_max(i(a[0])),
        __NR_sched_get_priority_min => sched::sys_sched_get_priority_min(i(a[0])),
        __NR_sched_rr_get_interval => sched::sys_sched_rr_get_interval(i(a[0]), a[1]),
        __NR_restart_syscall => signal::sys_restart_syscall(),
        __NR_kill => signal::sys_kill(i(a[0]), i(a[1])),
        __NR_tkill => signal::sys_tkill(i(a[0]), i(a[1])),
        __NR_tgkill => signal::sys_tgkill(i(a[0]), i(a[1]), i(a[2])),
        __NR_sigaltstack => signal::sys_sigaltstack(a[0], a[1], regs.sp),
        __NR_rt_sigsuspend => signal::sys_rt_sigsuspend(a[0], a[1] as usize),
        __NR_rt_sigaction => signal::sys_rt_sigaction(i(a[0]), a[1], a[2], a[3] as usize),
        __NR_rt_sigprocmask => signal::sys_rt_sigprocmask(i(a[0]), a[1], a[2], a[3] as usize),
        __NR_rt_sigpending => signal::sys_rt_sigpending(a[0], a[1] as usize),
        __NR_rt_sigtimedwait => signal::sys_rt_sigtimedwait(a[0], a[1], a[2], a[3] as usize),
        __NR_rt_sigqueueinfo => signal::sys_rt_sigqueueinfo(i(a[0]), i(a[1]), a[2]),
        __NR_rt_sigreturn => crate::arch::signal::sys_rt_sigreturn(regs),
        __NR_setpriority => sys::sys_setpriority(i(a[0]), i(a[1]), i(a[2])),
        __NR_getpriority => sys::sys_getpriority(i(a[0]), i(a[1])),
        __NR_reboot => sys::sys_reboot(a[0] as u32, a[1] as u32, a[2] as u32),
        __NR_times => sys::sys_times(a[0]),
        __NR_getitimer => crate::kernel::time::itimer::sys_getitimer(i(a[0]), a[1]),
        __NR_setitimer => crate::kernel::time::itimer::sys_setitimer(i(a[0]), a[1], a[2]),
        __NR_sethostname => sys::sys_sethostname(a[0], a[1] as usize),
        __NR_setdomainname => sys::sys_setdomainname(a[0], a[1] as usize),
        __NR_socket => net::sys_socket(i(a[0]), i(a[1]), i(a[2])),
        __NR_socketpair => net::sys_socketpair(i(a[0]), i(a[1]), i(a[2]), a[3]),
        __NR_bind => net::sys_bind(i(a[0]), a[1], i(a[2])),
        __NR_listen => net::sys_listen(i(a[0]), i(a[1])),
        __NR_accept => net::sys_accept4(i(a[0]), a[1], a[2], 0),
        __NR_connect => net::sys_connect(i(a[0]), a[1], i(a[2])),
        __NR_getsockname => net::sys_getsockname(i(a[0]), a[1], a[2]),
        __NR_getpeername => net::sys_getpeername(i(a[0]), a[1], a[2]),
        __NR_sendto => net::sys_sendto(i(a[0]), a[1], a[2] as usize, a[3] as u32, a[4], i(a[5])),
        __NR_recvfrom => net::sys_recvfrom(i(a[0]), a[1], a[2] as usize, a[3] as u32, a[4], a[5]),
        __NR_setsockopt => net::sys_setsockopt(i(a[0]), i(a[1]), i(a[2]), a[3], i(a[4])),
        __NR_getsockopt => net::sys_getsockopt(i(a[0]), i(a[1]), i(a[2]), a[3], a[4]),
        __NR_shutdown => net::sys_shutdown(i(a[0]), i(a[1])),
        __NR_sendmsg => net::sys_sendmsg(i(a[0]), a[1], a[2] as u32),
        __NR_recvmsg => net::sys_recvmsg(i(a[0]), a[1], a[2] as u32),
        __NR_setpgid => session::sys_setpgid(i(a[0]), i(a[1])),
        __NR_getpgid => session::sys_getpgid(i(a[0])),
        __NR_getsid => session::sys_getsid(i(a[0])),
        __NR_setsid => session::sys_setsid(),
        __NR_getgroups => sys::sys_getgroups(i(a[0]), a[1]),
        __NR_setgroups => sys::sys_setgroups(a[0] as usize, a[1]),
        __NR_uname => sys::sys_uname(a[0]),
        __NR_personality => sys::sys_personality(a[0] as u32),
        __NR_getrlimit => sys::sys_prlimit64(0, a[0] as u32, 0, a[1]),
        __NR_prlimit64 => sys::sys_prlimit64(i(a[0]), a[1] as u32, a[2], a[3]),
        __NR_syncfs => fs::sync::sys_syncfs(i(a[0])),
        __NR_getrusage => sys::sys_getrusage(i(a[0]), a[1]),
        __NR_umask => sys::sys_umask(a[0] as u32),
        __NR_prctl => sys::sys_prctl(i(a[0]), a[1]),
        __NR_gettimeofday => sys::sys_gettimeofday(a[0], a[1]),
        __NR_settimeofday => sys::sys_settimeofday(a[0], a[1]),
        __NR_getpid => Ok(sys::getpid() as u64),
        __NR_getppid => Ok(sys::getppid() as u64),
        __NR_getuid | __NR_geteuid | __NR_getgid | __NR_getegid => sys::sys_getid(nr),
        __NR_setregid => sys::sys_setregid(a[0] as u32, a[1] as u32),
        __NR_setgid => sys::sys_setgid(a[0] as u32),
        __NR_setreuid => sys::sys_setreuid(a[0] as u32, a[1] as u32),
        __NR_setuid => sys::sys_setuid(a[0] as u32),
        __NR_setresuid => sys::sys_setresuid(a[0] as u32, a[1] as u32, a[2] as u32),
        __NR_setresgid => sys::sys_setresgid(a[0] as u32, a[1] as u32, a[2] as u32),
        __NR_setfsuid => sys::sys_setfsuid(a[0] as u32),
        __NR_setfsgid => sys::sys_setfsgid(a[0] as u32),
        __NR_getresuid => sys::sys_getresuid(a[0], a[1], a[2]),
        __NR_getresgid => sys::sys_getresgid(a[0], a[1], a[2]),
        __NR_capget => crate::kernel::capability::sys_capget(a[0], a[1]),
        __NR_capset => crate::kernel::capability::sys_capset(a[0], a[1]),
        __NR_gettid => Ok(sys::gettid() as u64),
        __NR_sysinfo => sys::sys_sysinfo(a[0]),
        __NR_readahead => crate::mm::readahead::sys_readahead(i(a[0]), a[1] as i64, a[2] as usize),
        __NR_brk => mmap::sys_brk(a[0]),
        __NR_munmap => mmap::sys_munmap(a[0], a[1]),
        __NR_clone => fork::sys_clone(regs, a[0], a[1], a[2], a[3], a[4]),
        __NR_execve => crate::fs::exec::sys_execve(a[0], a[1], a[2]),
        __NR_mmap => mmap::sys_mmap(a[0], a[1], a[2] as u32, a[3] as u32, i(a[4]), a[5]),
        __NR_mprotect => mmap::sys_mprotect(a[0], a[1], a[2] as u32),
        __NR_mremap => mmap::sys_mremap(a[0], a[1], a[2], a[3] as u32, a[4]),
        __NR_msync => mmap::sys_msync(a[0], a[1], a[2] as u32),
        __NR_mlock => crate::mm::mlock::sys_mlock(a[0], a[1]),
        __NR_munlock => crate::mm::mlock::sys_munlock(a[0], a[1]),
        __NR_mlockall => crate::mm::mlock::sys_mlockall(a[0] as u32),
        __NR_munlockall => crate::mm::mlock::sys_munlockall(),
        __NR_mincore => crate::mm::mlock::sys_mincore(a[0], a[1], a[2]),
        __NR_madvise => mmap::sys_madvise(a[0], a[1], a[2] as u32),
        __NR_rt_tgsigqueueinfo => signal::sys_rt_tgsigqueueinfo(i(a[0]), i(a[1]), i(a[2]), a[3]),
        __NR_accept4 => net::sys_accept4(i(a[0]), a[1], a[2], i(a[3])),
        __NR_recvmmsg => net::sys_recvmmsg(i(a[0]), a[1], a[2] as u32, a[3] as u32, a[4]),
        __NR_wait4 => exit::sys_wait4(i(a[0]), a[1], a[2] as u32, a[3]),
        __NR_sched_setattr => sched::sys_sched_setattr(i(a[0]), a[1], a[2] as u32),
        __NR_sched_getattr => sched::sys_sched_getattr(i(a[0]), a[1], a[2] as u32, a[3] as u32),
        __NR_renameat2 => fs::namei::sys_renameat2(i(a[0]), a[1], i(a[2]), a[3], a[4] as u32),
        __NR_fadvise64 => rw::sys_fadvise64(i(a[0]), a[1] as i64, a[2] as i64, a[3] as u32),
        __NR_copy_file_range => {
            rw::sys_copy_file_range(i(a[0]), a[1], i(a[2]), a[3], a[4] as usize, a[5] as u32)
        }
        __NR_sendmmsg => net::sys_sendmmsg(i(a[0]), a[1], a[2] as u32, a[3] as u32),
        __NR_preadv2 => rw::sys_preadv2(i(a[0]), a[1], a[2] as usize, a[3] as i64, a[5] as u32),
        __NR_pwritev2 => rw::sys_pwritev2(i(a[0]), a[1], a[2] as usize, a[3] as i64, a[5] as u32),
        __NR_pidfd_send_signal => {
            signal::sys_pidfd_send_signal(i(a[0]), i(a[1]), a[2], a[3] as u32)
        }
        __NR_pidfd_open => crate::kernel::pid::sys_pidfd_open(i(a[0]), a[1] as u32),
        __NR_clone3 => fork::sys_clone3(a[0], a[1] as usize),
        __NR_close_range => fs::open::sys_close_range(a[0] as u32, a[1] as u32, a[2] as u32),
        __NR_pidfd_getfd => crate::kernel::pid::sys_pidfd_getfd(i(a[0]), i(a[1]), a[2] as u32),
        __NR_getrandom => sys::sys_getrandom(a[0], a[1] as usize, a[2] as u32),
        __NR_memfd_create => crate::mm::memfd::sys_memfd_create(a[0], a[1] as u32),
        __NR_execveat => crate::fs::exec::sys_execveat(i(a[0]), a[1], a[2], a[3], a[4] as u32),
        __NR_membarrier => {
            crate::kernel::sched::membarrier::sys_membarrier(i(a[0]), a[1] as u32, i(a[2]))
        }
        __NR_mlock2 => crate::mm::mlock::sys_mlock2(a[0], a[1], a[2] as u32),
        __NR_rseq => Err(Errno::ENOSYS), // rseq: libcs expect ENOSYS and carry on
        _ => {
            report_unknown(nr);
            Err(Errno::ENOSYS)
        }
    }
}

/// `svc #0` from EL0 (Linux's `el0_svc`).
#[allow(non_upper_case_globals)] // Linux's `__NR_*` names
pub fn el0_svc(regs: &mut PtRegs) {
    let nr = regs.regs[8];
    regs.orig_x0 = regs.regs[0];
    regs.syscallno = nr as i64;
    let ret = invoke_syscall(regs, nr);
    // A successful execve replaced the registers: its x0 is the new program's (0). So did
    // rt_sigreturn: x0 is the interrupted context's.
    if (nr == __NR_execve || nr == __NR_execveat || nr == __NR_rt_sigreturn) && ret.is_ok() {
        return;
    }
    regs.regs[0] = match ret {
        Ok(v) => v,
        Err(e) => e.to_syscall_ret() as u64,
    };
}
