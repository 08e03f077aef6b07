//! Assorted system calls: identity, time, limits, `uname`, `reboot` (Linux: `kernel/sys.c`,
//! `kernel/time/`, `kernel/reboot.c`, `drivers/char/random.c`'s `getrandom`).

use core::sync::atomic::Ordering;

use crate::arch::uaccess::{copy_from_user, copy_to_user};
use crate::kernel::capability::{
    capable, CAP_SETGID, CAP_SYS_ADMIN, CAP_SYS_BOOT, CAP_SYS_RESOURCE, CAP_SYS_TIME,
};
use crate::kernel::cred::{commit_creds, current_cred, Cred};
use crate::kernel::errno::Errno;
use crate::kernel::task::current;

type SysResult = Result<u64, Errno>;

/// The calling process's ID (its thread group).
#[inline]
pub fn getpid() -> i32 {
    current().tgid.load(Ordering::Relaxed)
}

/// The calling thread's ID.
#[inline]
pub fn gettid() -> i32 {
    current().pid()
}

/// The parent's process ID.
#[inline]
pub fn getppid() -> i32 {
    current().ppid()
}

/// `set_tid_address(2)`: remember where to clear the TID at exit; returns the TID.
pub fn sys_set_tid_address(tidptr: u64) -> SysResult {
    current().clear_child_tid.store(tidptr, Ordering::Relaxed);
    Ok(gettid() as u64)
}

/// `uname(2)`: `struct new_utsname`, six 65-byte fields.
pub fn sys_uname(buf: u64) -> SysResult {
    let mut uts = [0u8; 65 * 6];
    let hostname = crate::kernel::sys::hostname();
    let domain = uts_string(&DOMAINNAME);
    let version = alloc::format!("#1 SMP {}", crate::init::version::RUSTC_VERSION);
    let fields: [&[u8]; 6] = [
        b"Linux",
        hostname.as_bytes(),
        crate::init::version::UTS_RELEASE.as_bytes(),
        version.as_bytes(),
        b"aarch64",
        domain.as_bytes(),
    ];
    for (i, f) in fields.iter().enumerate() {
        let n = f.len().min(64);
        uts[i * 65..i * 65 + n].copy_from_slice(&f[..n]);
    }
    copy_to_user(buf, &uts)?;
    Ok(0)
}

/// A UTS name field: `name`, NUL-padded to 65 bytes.
const fn uts_field(name: &[u8]) -> [u8; 65] {
    let mut field = [0u8; 65];
    let mut i = 0;
    while i < name.len() && i < 64 {
        field[i] = name[i];
        i += 1;
    }
    field
}

static HOSTNAME: crate::kernel::locking::SpinLock<[u8; 65]> =
    crate::kernel::locking::SpinLock::new(uts_field(b"cradle"));

static DOMAINNAME: crate::kernel::locking::SpinLock<[u8; 65]> =
    crate::kernel::locking::SpinLock::new(uts_field(b"(none)"));

/// Copy a new UTS name of `len` bytes from `name` into `field` (NUL-padded). EINVAL if it
/// is longer than 64 bytes, as Linux's `__NEW_UTS_LEN`.
fn set_uts_field(
    field: &crate::kernel::locking::SpinLock<[u8; 65]>,
    name: u64,
    len: usize,
) -> SysResult {
    if len > 64 {
        return Err(Errno::EINVAL);
    }
    let mut buf = [0u8; 65];
    copy_from_user(&mut buf[..len], name)?;
    *field.lock() = buf;
    Ok(0)
}

/// `sethostname(2)`: CAP_SYS_ADMIN.
pub fn sys_sethostname(name: u64, len: usize) -> SysResult {
    if !capable(CAP_SYS_ADMIN) {
        return Err(Errno::EPERM);
    }
    set_uts_field(&HOSTNAME, name, len)
}

/// `setdomainname(2)`: CAP_SYS_ADMIN.
pub fn sys_setdomainname(name: u64, len: usize) -> SysResult {
    if !capable(CAP_SYS_ADMIN) {
        return Err(Errno::EPERM);
    }
    set_uts_field(&DOMAINNAME, name, len)
}

fn uts_string(field: &crate::kernel::locking::SpinLock<[u8; 65]>) -> alloc::string::String {
    let h = *field.lock();
    let len = h.iter().position(|&b| b == 0).unwrap_or(64);
    alloc::string::String::from_utf8_lossy(&h[..len]).into_owned()
}

/// The NIS domain name (`setdomainname` changes it).
pub fn domainname() -> alloc::string::String {
    uts_string(&DOMAINNAME)
}

/// The host name (`sethostname` changes it).
pub fn hostname() -> alloc::string::String {
    uts_string(&HOSTNAME)
}

/// `reboot(2)` magic numbers and commands (Linux's `include/uapi/linux/reboot.h`).
mod reboot {
    pub const MAGIC1: u32 = 0xfee1_dead;
    pub const MAGIC2: [u32; 4] = [672_274_793, 85_072_278, 369_367_448, 537_993_216];
    pub const CMD_RESTART: u32 = 0x0123_4567;
    pub const CMD_HALT: u32 = 0xcdef_0123;
    pub const CMD_POWER_OFF: u32 = 0x4321_fedc;
    pub const CMD_CAD_ON: u32 = 0x89ab_cdef;
    pub const CMD_CAD_OFF: u32 = 0;
}

/// `reboot(2)`: power off or restart through PSCI (or the board's own means).
pub fn sys_reboot(magic1: u32, magic2: u32, cmd: u32) -> SysResult {
    // Linux checks the capability before the magic numbers.
    if !capable(CAP_SYS_BOOT) {
        return Err(Errno::EPERM);
    }
    if magic1 != reboot::MAGIC1 || !reboot::MAGIC2.contains(&magic2) {
        return Err(Errno::EINVAL);
    }
    match cmd {
        reboot::CMD_POWER_OFF | reboot::CMD_HALT => {
            log::info!("reboot: Power down");
            crate::arch::cpu::machine_power_off()
        }
        reboot::CMD_RESTART => {
            log::info!("reboot: Restarting system");
            crate::arch::cpu::machine_restart()
        }
        reboot::CMD_CAD_ON | reboot::CMD_CAD_OFF => Ok(0),
        _ => Err(Errno::EINVAL),
    }
}

fn write_timespec(ptr: u64, ns: u64) -> Result<(), Errno> {
    let mut ts = [0u8; 16];
    ts[..8].copy_from_slice(&((ns / 1_000_000_000) as i64).to_le_bytes());
    ts[8..].copy_from_slice(&((ns % 1_000_000_000) as i64).to_le_bytes());
    copy_to_user(ptr, &ts)
}

/// Linux's clock IDs (`include/uapi/linux/time.h`) that Cradle knows.
mod clock {
    pub const CLOCK_REALTIME: i32 = 0;
    pub const CLOCK_REALTIME_COARSE: i32 = 5;
    pub const CLOCK_REALTIME_ALARM: i32 = 8;
    /// ID 10 (`CLOCK_SGI_CYCLE`) is retired: Linux has no clock there.
    pub const CLOCK_SGI_CYCLE: i32 = 10;
    pub const CLOCK_TAI: i32 = 11;
}

/// Which clock an ID names: Ok(true) for the wall clock (REALTIME, its COARSE and ALARM
/// kinds, and TAI, whose offset from UTC is 0 until adjtimex sets it), Ok(false) for a
/// clock counting from power-on (MONOTONIC and BOOTTIME kinds; and, roughly, the CPU-time
/// clocks), EINVAL for an ID Linux does not have.
fn clock_is_realtime(clock_id: i32) -> Result<bool, Errno> {
    use clock::*;
    match clock_id {
        CLOCK_REALTIME | CLOCK_REALTIME_COARSE | CLOCK_REALTIME_ALARM | CLOCK_TAI => Ok(true),
        CLOCK_SGI_CYCLE => Err(Errno::EINVAL),
        0..=11 => Ok(false),
        _ => Err(Errno::EINVAL),
    }
}

/// The time by clock `clock_id`, in nanoseconds: a CPU-time clock (`posix_cpu_timers`),
/// the wall clock, or the counter since power-on.
fn clock_get_ns(clock_id: i32) -> Result<u64, Errno> {
    use crate::kernel::time::posix_cpu_timers as cpu;
    if cpu::is_cpu_clock(clock_id) {
        return Ok(cpu::sample(&cpu::lookup(clock_id)?));
    }
    let realtime = clock_is_realtime(clock_id)?;
    if COARSE_CLOCKS.contains(&clock_id) {
        // The time at the last tick, as the vDSO has it (Linux's `ktime_get_coarse_ts64`).
        let (mono, offs_real) = crate::kernel::time::vsyscall::ktime_get_coarse_ns();
        return Ok(if realtime { mono + offs_real } else { mono });
    }
    Ok(if realtime {
        crate::kernel::time::timekeeping::ktime_get_real_ns()
    } else {
        crate::kernel::time::ktime_get_ns()
    })
}

/// `clock_gettime(2)`: the wall clock (`timekeeping`), or the generic counter since
/// power-on.
pub fn sys_clock_gettime(clock: i32, tp: u64) -> SysResult {
    write_timespec(tp, clock_get_ns(clock)?)?;
    Ok(0)
}

/// `clock_settime(2)`: only CLOCK_REALTIME can be set. Linux: EINVAL for a clock without
/// `clock_set` and for a time out of range, EPERM for the dynamic CPU-time clocks.
pub fn sys_clock_settime(clock: i32, tp: u64) -> SysResult {
    use crate::kernel::time::posix_cpu_timers as cpu;
    match clock {
        clock::CLOCK_REALTIME => {}
        c if c < 0 && cpu::is_cpu_clock(c) => {
            // Linux's `posix_cpu_clock_set`, after the time is read: EINVAL for a clock
            // naming nobody, else EPERM. (CLOCK_PROCESS_CPUTIME_ID and
            // CLOCK_THREAD_CPUTIME_ID have no `clock_set` at all: EINVAL below.)
            copy_from_user(&mut [0u8; 16], tp)?;
            cpu::lookup(c)?;
            return Err(Errno::EPERM);
        }
        _ => return Err(Errno::EINVAL),
    }
    let mut ts = [0u8; 16];
    copy_from_user(&mut ts, tp)?;
    let sec = i64::from_le_bytes(ts[..8].try_into().unwrap_or([0; 8]));
    let nsec = i64::from_le_bytes(ts[8..].try_into().unwrap_or([0; 8]));
    // do_sys_settimeofday64: the time's range (EINVAL), then CAP_SYS_TIME (EPERM).
    crate::kernel::time::timekeeping::check_settod(sec, nsec)?;
    if !capable(CAP_SYS_TIME) {
        return Err(Errno::EPERM);
    }
    crate::kernel::time::timekeeping::do_settimeofday64(sec, nsec)?;
    Ok(0)
}

/// `settimeofday(2)`: `struct timeval` (seconds, microseconds) and `struct timezone`
/// (minutes west, DST type), either may be NULL. Linux's order (`settimeofday` →
/// `do_sys_settimeofday64`): read both (EFAULT), check the time, then the timezone's
/// ±15 hours (EINVAL). The timezone is remembered nowhere: Cradle has no FAT file system
/// or local-time RTC to apply it to, and `gettimeofday` reports UTC.
pub fn sys_settimeofday(tv: u64, tz: u64) -> SysResult {
    let mut time = None;
    if tv != 0 {
        let mut b = [0u8; 16];
        copy_from_user(&mut b, tv)?;
        let sec = i64::from_le_bytes(b[..8].try_into().unwrap_or([0; 8]));
        let usec = i64::from_le_bytes(b[8..].try_into().unwrap_or([0; 8]));
        if !(0..=1_000_000).contains(&usec) {
            return Err(Errno::EINVAL);
        }
        time = Some((sec, usec * 1000));
    }
    let mut minuteswest = 0;
    if tz != 0 {
        let mut b = [0u8; 8];
        copy_from_user(&mut b, tz)?;
        minuteswest = i32::from_le_bytes(b[..4].try_into().unwrap_or([0; 4]));
    }
    if let Some((sec, nsec)) = time {
        crate::kernel::time::timekeeping::check_settod(sec, nsec)?;
    }
    if !capable(CAP_SYS_TIME) {
        return Err(Errno::EPERM);
    }
    if !(-15 * 60..=15 * 60).contains(&minuteswest) {
        return Err(Errno::EINVAL);
    }
    if let Some((sec, nsec)) = time {
        crate::kernel::time::timekeeping::do_settimeofday64(sec, nsec)?;
    }
    Ok(0)
}

/// A tick in nanoseconds (Linux's `TICK_NSEC`): the resolution of the `_COARSE` clocks.
pub const TICK_NSEC: u64 = 1_000_000_000 / crate::kernel::time::HZ;

/// `CLOCK_REALTIME_COARSE`, `CLOCK_MONOTONIC_COARSE`.
const COARSE_CLOCKS: [i32; 2] = [5, 6];

/// The resolution of the counter-driven clocks: the counter's period, rounded up to a
/// nanosecond.
pub fn hres_resolution_ns() -> u64 {
    let freq = crate::arch::arch_timer::frequency().max(1);
    1_000_000_000u64.div_ceil(freq)
}

/// `clock_getres(2)`: the counter's period, rounded up to a nanosecond; a tick for the
/// `_COARSE` clocks (as Linux's `LOW_RES_NSEC`). The vDSO answers the same.
pub fn sys_clock_getres(clock: i32, tp: u64) -> SysResult {
    use crate::kernel::time::posix_cpu_timers as cpu;
    if cpu::is_cpu_clock(clock) {
        let res = cpu::resolution(&cpu::lookup(clock)?);
        if tp != 0 {
            write_timespec(tp, res)?;
        }
        return Ok(0);
    }
    clock_is_realtime(clock)?;
    if tp != 0 {
        let ns = if COARSE_CLOCKS.contains(&clock) {
            TICK_NSEC
        } else {
            hres_resolution_ns()
        };
        write_timespec(tp, ns)?;
    }
    Ok(0)
}

/// `gettimeofday(2)`: the wall clock; the timezone is UTC (zeros), as `settimeofday` keeps
/// none.
pub fn sys_gettimeofday(tv: u64, tz: u64) -> SysResult {
    if tz != 0 {
        copy_to_user(tz, &[0u8; 8])?;
    }
    if tv != 0 {
        let ns = crate::kernel::time::timekeeping::ktime_get_real_ns();
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&((ns / 1_000_000_000) as i64).to_le_bytes());
        b[8..].copy_from_slice(&(((ns % 1_000_000_000) / 1000) as i64).to_le_bytes());
        copy_to_user(tv, &b)?;
    }
    Ok(0)
}

/// Sleep until `deadline` (ktime ns), interruptibly (Linux's `hrtimer_nanosleep` →
/// `do_nanosleep`). A signal ends the sleep early: the time left goes to `rem` (if not 0)
/// and the call returns ERESTART_RESTARTBLOCK, which `do_signal` turns into EINTR if a
/// handler runs, and otherwise into `restart_syscall`, which sleeps on to the same deadline.
pub fn nanosleep_until(deadline: u64, rem: u64) -> SysResult {
    let tick = 1_000_000_000 / crate::kernel::time::HZ;
    let task = crate::kernel::task::current();
    loop {
        let now = crate::kernel::time::ktime_get_ns();
        if now >= deadline {
            return Ok(0);
        }
        crate::kernel::sched::core::set_current_state(
            crate::kernel::task::state::TASK_INTERRUPTIBLE,
        );
        if crate::kernel::signal::signal_pending(task) {
            crate::kernel::sched::core::set_current_state(crate::kernel::task::state::TASK_RUNNING);
            if rem != 0 {
                let left = deadline - now;
                let mut ts = [0u8; 16];
                ts[..8].copy_from_slice(&(left / 1_000_000_000).to_le_bytes());
                ts[8..].copy_from_slice(&(left % 1_000_000_000).to_le_bytes());
                copy_to_user(rem, &ts)?;
            }
            crate::kernel::signal::set_restart_nanosleep(deadline, rem, None);
            return Err(crate::kernel::signal::ERESTART_RESTARTBLOCK);
        }
        let jiffies = (deadline - now).div_ceil(tick);
        crate::kernel::time::timer::schedule_timeout(jiffies);
    }
}

/// `nanosleep(2)`.
pub fn sys_nanosleep(req: u64, rem: u64) -> SysResult {
    let ns = crate::kernel::time::get_timespec_ns(req)?;
    nanosleep_until(crate::kernel::time::ktime_get_ns().saturating_add(ns), rem)
}

/// `clock_nanosleep(2)` (TIMER_ABSTIME = 1: `rem` is not written, and an interrupted sleep
/// restarts with the same arguments). An absolute time on a wall clock is turned into the
/// monotonic clock's once, at the start (a later clock_settime does not move it, as it
/// would on Linux). The CPU clocks sleep in `posix_cpu_timers::cpu_nanosleep`; the raw
/// and coarse clocks, a PTP clock ID and CLOCK_THREAD_CPUTIME_ID cannot be slept on
/// (EOPNOTSUPP: Linux's clocks without `nsleep`).
pub fn sys_clock_nanosleep(clock: i32, cflags: u32, req: u64, rem: u64) -> SysResult {
    use crate::kernel::time::posix_cpu_timers as cpu;
    if clock == cpu::CLOCK_THREAD_CPUTIME_ID
        || (4..=6).contains(&clock)
        || (clock < 0 && clock & 7 == 3)
    {
        return Err(Errno::ENOTSUP);
    }
    if cpu::is_cpu_clock(clock) {
        let ns = crate::kernel::time::get_timespec_ns(req)?;
        return cpu::cpu_nanosleep(
            clock,
            cflags & 1 != 0,
            ns,
            if cflags & 1 != 0 { 0 } else { rem },
        );
    }
    let realtime = clock_is_realtime(clock)?;
    let ns = crate::kernel::time::get_timespec_ns(req)?;
    if cflags & 1 != 0 {
        let deadline = if realtime {
            crate::kernel::time::timekeeping::real_to_monotonic_ns(ns)
        } else {
            ns
        };
        return nanosleep_until(deadline, 0).map_err(|e| {
            if e == crate::kernel::signal::ERESTART_RESTARTBLOCK {
                crate::kernel::signal::ERESTARTNOHAND
            } else {
                e
            }
        });
    }
    nanosleep_until(crate::kernel::time::ktime_get_ns().saturating_add(ns), rem)
}

/// `sched_yield(2)`.
pub fn sys_sched_yield() -> SysResult {
    crate::kernel::sched::core::yield_now();
    Ok(0)
}

/// `getcpu(2)`: the CPU the caller runs on and its NUMA node (always 0); either pointer may
/// be NULL. The third argument (a cache) has been unused since Linux 2.6.24.
pub fn sys_getcpu(cpup: u64, nodep: u64) -> SysResult {
    let cpu = crate::arch::percpu::smp_processor_id() as u32;
    if cpup != 0 {
        crate::arch::uaccess::copy_to_user(cpup, &cpu.to_le_bytes())?;
    }
    if nodep != 0 {
        crate::arch::uaccess::copy_to_user(nodep, &0u32.to_le_bytes())?;
    }
    Ok(0)
}

/// `getrandom(2)`.
pub fn sys_getrandom(buf: u64, count: usize, _gflags: u32) -> SysResult {
    let n = count.min(1 << 16);
    let mut bytes = alloc::vec![0u8; n];
    crate::kernel::random::get_random_bytes(&mut bytes);
    copy_to_user(buf, &bytes)?;
    Ok(n as u64)
}

/// `RLIMIT_CPU`: CPU seconds before SIGXCPU (soft) and SIGKILL (hard).
const RLIMIT_CPU: u32 = 0;
/// `RLIMIT_MEMLOCK`: bytes `mlock` may lock.
pub const RLIMIT_MEMLOCK: u32 = 8;
/// `RLIMIT_NICE`: the lowest nice value an unprivileged task may set, as `20 - nice`.
pub const RLIMIT_NICE: u32 = 13;
/// `RLIMIT_RTPRIO`: the highest real-time priority an unprivileged task may set.
pub const RLIMIT_RTPRIO: u32 = 14;
/// The number of limits (Linux's `RLIM_NLIMITS`).
const RLIM_NLIMITS: usize = 16;
/// No limit.
pub const RLIM_INFINITY: u64 = u64::MAX;

/// `RLIMIT_SIGPENDING`: signals that may be queued for the process's real user.
const RLIMIT_SIGPENDING: u32 = 11;

/// A process's resource limits, (soft, hard) by resource (Linux's `signal->rlim`), but
/// RLIMIT_CPU, which the CPU timers keep (`sched::cputime`). Lock: its own.
pub struct Rlimits(crate::kernel::locking::SpinLock<[(u64, u64); RLIM_NLIMITS]>);

impl Rlimits {
    /// Linux's `INIT_RLIMITS` (`include/asm-generic/resource.h`), with the process and
    /// signal counts Linux sizes from memory at boot fixed at 4096 and unlimited.
    pub const fn new() -> Self {
        const INF: u64 = RLIM_INFINITY;
        Self(crate::kernel::locking::SpinLock::new([
            (INF, INF),         // CPU (kept in cputime)
            (INF, INF),         // FSIZE
            (INF, INF),         // DATA
            (8 << 20, INF),     // STACK
            (INF, INF),         // CORE
            (INF, INF),         // RSS
            (4096, 4096),       // NPROC
            (1024, 4096),       // NOFILE
            (8 << 20, 8 << 20), // MEMLOCK (MLOCK_LIMIT)
            (INF, INF),         // AS
            (INF, INF),         // LOCKS
            (INF, INF),         // SIGPENDING
            (819_200, 819_200), // MSGQUEUE
            (0, 0),             // NICE
            (0, 0),             // RTPRIO
            (INF, INF),         // RTTIME
        ]))
    }

    /// Take the parent's limits (`copy_signal`).
    pub fn copy_from(&self, parent: &Rlimits) {
        let limits = *parent.0.lock();
        *self.0.lock() = limits;
    }

    /// The (soft, hard) limit of `resource`.
    pub fn get(&self, resource: u32) -> (u64, u64) {
        self.0.lock()[resource as usize % RLIM_NLIMITS]
    }
}

impl Default for Rlimits {
    fn default() -> Self {
        Self::new()
    }
}

/// The soft limit of `resource` for `task`'s process (Linux's `task_rlimit`).
pub fn task_rlimit(task: &crate::kernel::task::TaskStruct, resource: u32) -> u64 {
    task.signal().rlim.get(resource).0
}

/// `prlimit64(2)`: the current process's limits, Linux's by default. RLIMIT_CPU is kept (in
/// the process's `SignalCputime`) and enforced by the tick; RLIMIT_SIGPENDING (in its
/// `SignalStruct`, sized from memory at boot) by the sending of signals; RLIMIT_NICE,
/// RLIMIT_RTPRIO and RLIMIT_MEMLOCK are enforced by the calls they limit; the others are kept and not
/// enforced beyond what the kernel already limits. Linux's order (`do_prlimit`): the new
/// limit is read (EFAULT), then EINVAL for an unknown resource or cur > max, EPERM for
/// raising the hard limit without CAP_SYS_RESOURCE; the old value is written last.
pub fn sys_prlimit64(pid: i32, resource: u32, new: u64, old: u64) -> SysResult {
    let mut new_rlim = None;
    if new != 0 {
        let mut b = [0u8; 16];
        copy_from_user(&mut b, new)?;
        let cur = u64::from_le_bytes(b[..8].try_into().unwrap_or([0; 8]));
        let max = u64::from_le_bytes(b[8..].try_into().unwrap_or([0; 8]));
        new_rlim = Some((cur, max));
    }
    if pid != 0 && pid != getpid() {
        return Err(Errno::ESRCH);
    }
    if resource as usize >= RLIM_NLIMITS {
        return Err(Errno::EINVAL);
    }
    let signal = current().signal();
    let (cur, max) = match resource {
        RLIMIT_CPU => signal.cputime.inner.lock().rlim_cpu,
        RLIMIT_SIGPENDING => signal.rlimit_sigpending(),
        _ => signal.rlim.get(resource),
    };
    if let Some((new_cur, new_max)) = new_rlim {
        if new_cur > new_max {
            return Err(Errno::EINVAL);
        }
        if new_max > max && !capable(CAP_SYS_RESOURCE) {
            return Err(Errno::EPERM);
        }
        match resource {
            RLIMIT_CPU => {
                let group = &signal.cputime;
                let mut t = group.inner.lock();
                t.rlim_cpu = (new_cur, new_max);
                group.update_timers_active(&t);
            }
            RLIMIT_SIGPENDING => *signal.rlim_sigpending.lock() = Some((new_cur, new_max)),
            _ => signal.rlim.0.lock()[resource as usize] = (new_cur, new_max),
        }
    }
    if old != 0 {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&cur.to_le_bytes());
        b[8..].copy_from_slice(&max.to_le_bytes());
        copy_to_user(old, &b)?;
    }
    Ok(0)
}

/// `getpriority`/`setpriority`'s `which`: a task, a process group, a user.
const PRIO_PROCESS: i32 = 0;
const PRIO_PGRP: i32 = 1;
const PRIO_USER: i32 = 2;

/// The tasks `which`/`who` name (Linux's walks in `sys_setpriority`/`sys_getpriority`):
/// one task by ID (a thread's too), every thread of a process group, every task whose real
/// UID is `who` (0: the caller's) but the idle tasks.
pub(crate) fn prio_targets(which: i32, who: i32) -> alloc::vec::Vec<crate::kernel::task::TaskRef> {
    use crate::kernel::pid::{find_task_by_pid, for_each_task};
    let mut tasks = alloc::vec::Vec::new();
    match which {
        PRIO_PROCESS => {
            if who == 0 {
                tasks.push(current().get_ref());
            } else if let Some(t) = find_task_by_pid(who) {
                tasks.push(t);
            }
        }
        PRIO_PGRP => {
            let pgrp = if who == 0 {
                crate::kernel::session::pgrp_of(current())
            } else {
                who
            };
            for_each_task(|t| {
                if t.pid() != 0 && crate::kernel::session::pgrp_of(t) == pgrp {
                    tasks.push(t.get_ref());
                }
            });
        }
        _ => {
            let uid = if who == 0 {
                current_cred().uid
            } else {
                who as u32
            };
            for_each_task(|t| {
                if t.pid() != 0 && crate::kernel::cred::task_cred(t).uid == uid {
                    tasks.push(t.get_ref());
                }
            });
        }
    }
    tasks
}

/// `setpriority(2)` (Linux's `set_one_prio` for each target): EINVAL for a bad `which`,
/// ESRCH if nothing matched, else the last target's verdict — EPERM unless the caller's
/// effective UID is the target's real or effective UID or it has CAP_SYS_NICE, EACCES for
/// lowering the nice value past RLIMIT_NICE without CAP_SYS_NICE. `niceval` is clamped
/// to -20..=19.
pub fn sys_setpriority(which: i32, who: i32, niceval: i32) -> SysResult {
    use crate::kernel::sched::syscalls::{can_nice, set_user_nice, MAX_NICE, MIN_NICE};
    if !(PRIO_PROCESS..=PRIO_USER).contains(&which) {
        return Err(Errno::EINVAL);
    }
    let niceval = niceval.clamp(MIN_NICE, MAX_NICE);
    let cred = current_cred();
    let mut error = Err(Errno::ESRCH);
    for p in prio_targets(which, who) {
        let pcred = crate::kernel::cred::task_cred(&p);
        error = if pcred.uid != cred.euid
            && pcred.euid != cred.euid
            && !cred.has_cap(crate::kernel::capability::CAP_SYS_NICE)
        {
            Err(Errno::EPERM)
        } else if niceval < crate::kernel::sched::core::task_nice(&p) && !can_nice(&p, niceval) {
            Err(Errno::EACCES)
        } else {
            set_user_nice(&p, niceval);
            Ok(0)
        };
    }
    error
}

/// `getpriority(2)`: the highest `20 - nice` among the targets (so the raw call never
/// returns a negative number); EINVAL for a bad `which`, ESRCH if nothing matched.
pub fn sys_getpriority(which: i32, who: i32) -> SysResult {
    if !(PRIO_PROCESS..=PRIO_USER).contains(&which) {
        return Err(Errno::EINVAL);
    }
    prio_targets(which, who)
        .iter()
        .map(|p| (20 - crate::kernel::sched::core::task_nice(p)) as u64)
        .max()
        .ok_or(Errno::ESRCH)
}

/// `umask(2)`.
pub fn sys_umask(mask: u32) -> SysResult {
    let fs = current().fs()?;
    let mut fs = fs.lock();
    let old = fs.umask;
    fs.umask = mask & 0o777;
    Ok(old as u64)
}

/// `personality(2)` (Linux's `kernel/exec_domain.c`): set the calling task's personality,
/// unless it is 0xffffffff (a query); the old one either way. Any value is accepted, as on
/// Linux: only `ADDR_NO_RANDOMIZE` changes what Cradle does (the next `execve` lays the
/// address space out without randomization).
pub fn sys_personality(persona: u32) -> SysResult {
    let task = current();
    let old = task.personality.load(Ordering::Relaxed);
    if persona != 0xffff_ffff {
        task.personality.store(persona, Ordering::Relaxed);
    }
    Ok(u64::from(old))
}

/// `prctl(2)`: PR_SET_NAME (15) and PR_GET_NAME (16); others are accepted as no-ops.
pub fn sys_prctl(option: i32, arg2: u64) -> SysResult {
    match option {
        15 => {
            let mut name = [0u8; 16];
            let n = crate::arch::uaccess::strncpy_from_user(&mut name, arg2)
                .unwrap_or(15)
                .min(15);
            current().set_comm(core::str::from_utf8(&name[..n]).unwrap_or("?"));
            Ok(0)
        }
        16 => {
            let comm = *current().comm.lock();
            copy_to_user(arg2, &comm)?;
            Ok(0)
        }
        _ => Ok(0),
    }
}

/// Linux's `INITIAL_JIFFIES`: jiffies start 300 s before wrapping a 32-bit counter, so
/// wrap bugs show early. `times` returns clock ticks counted from there, as Linux does.
const INITIAL_JIFFIES: u64 = (-(300 * crate::kernel::time::HZ as i64)) as u32 as u64;

/// Nanoseconds to `USER_HZ` (100 Hz) clock ticks (Linux's `nsec_to_clock_t`).
fn nsec_to_clock_t(ns: u64) -> u64 {
    ns / 10_000_000
}

/// `times(2)`: the process's user and system time and its reaped children's, in clock
/// ticks (USER_HZ = 100); returns the ticks since an arbitrary point (Linux's
/// `jiffies_64_to_clock_t(get_jiffies_64())`, counted from `INITIAL_JIFFIES`).
pub fn sys_times(buf: u64) -> SysResult {
    if buf != 0 {
        let sig = current().signal();
        let (utime, stime, _) = crate::kernel::sched::cputime::thread_group_cputime_adjusted(sig);
        let children = sig.cputime.inner.lock().children;
        let mut b = [0u8; 32];
        for (i, ns) in [utime, stime, children.utime, children.stime]
            .into_iter()
            .enumerate()
        {
            b[i * 8..i * 8 + 8].copy_from_slice(&nsec_to_clock_t(ns).to_le_bytes());
        }
        copy_to_user(buf, &b)?;
    }
    let jiffies = INITIAL_JIFFIES.wrapping_add(crate::kernel::time::jiffies());
    Ok(jiffies.wrapping_mul(100) / crate::kernel::time::HZ)
}

/// `getrusage`'s `who` (Linux's `RUSAGE_*`).
mod rusage {
    pub const RUSAGE_SELF: i32 = 0;
    pub const RUSAGE_CHILDREN: i32 = -1;
    pub const RUSAGE_THREAD: i32 = 1;
}

/// Write a `struct rusage` (two `timeval`s, then 14 longs): times and counts from `usage`,
/// `maxrss` in KiB.
pub fn put_rusage(
    buf: u64,
    usage: &crate::kernel::sched::cputime::Usage,
    maxrss_kib: u64,
) -> Result<(), Errno> {
    let mut b = [0u8; 144];
    for (i, ns) in [usage.utime, usage.stime].into_iter().enumerate() {
        let off = i * 16;
        b[off..off + 8].copy_from_slice(&(ns / 1_000_000_000).to_le_bytes());
        b[off + 8..off + 16].copy_from_slice(&((ns % 1_000_000_000) / 1000).to_le_bytes());
    }
    // ru_maxrss ixrss idrss isrss minflt majflt nswap inblock oublock msgsnd msgrcv
    // nsignals nvcsw nivcsw
    let longs: [(usize, u64); 4] = [
        (0, maxrss_kib),
        (4, usage.min_flt),
        (12, usage.nvcsw),
        (13, usage.nivcsw),
    ];
    for (index, value) in longs {
        let off = 32 + index * 8;
        b[off..off + 8].copy_from_slice(&value.to_le_bytes());
    }
    copy_to_user(buf, &b)
}

/// `getrusage(2)` (Linux's `getrusage` in kernel/sys.c): RUSAGE_SELF is every thread of
/// the process, live and exited; RUSAGE_THREAD the caller; RUSAGE_CHILDREN the children
/// reaped so far and what they had reaped. Times are the sampled split scaled to the
/// precise runtime.
pub fn sys_getrusage(who: i32, buf: u64) -> SysResult {
    use crate::kernel::sched::cputime;
    let task = current();
    let sig = task.signal();
    let usage = match who {
        rusage::RUSAGE_SELF => {
            let (utime, stime, mut usage) = cputime::thread_group_cputime_adjusted(sig);
            usage.utime = utime;
            usage.stime = stime;
            usage
        }
        rusage::RUSAGE_THREAD => {
            let (utime, stime) = cputime::task_cputime_adjusted(task);
            cputime::Usage {
                utime,
                stime,
                nvcsw: task
                    .cputime
                    .nvcsw
                    .load(core::sync::atomic::Ordering::Relaxed),
                nivcsw: task
                    .cputime
                    .nivcsw
                    .load(core::sync::atomic::Ordering::Relaxed),
                min_flt: task
                    .cputime
                    .min_flt
                    .load(core::sync::atomic::Ordering::Relaxed),
            }
        }
        rusage::RUSAGE_CHILDREN => sig.cputime.inner.lock().children,
        _ => return Err(Errno::EINVAL),
    };
    // ru_maxrss: Cradle keeps no high-water mark of an address space (as /proc's VmHWM, it
    // is the resident size now), and none for exited children (0).
    let maxrss_kib = match (who, task.mm()) {
        (rusage::RUSAGE_CHILDREN, _) | (_, None) => 0,
        (_, Some(mm)) => {
            crate::mm::oom_kill::mm_pages(&mm).1 * crate::arch::memory::PAGE_SIZE / 1024
        }
    };
    put_rusage(buf, &usage, maxrss_kib)?;
    Ok(0)
}

/// Write three IDs to user memory (`getresuid`/`getresgid`).
fn put_ids(ptrs: [u64; 3], ids: [u32; 3]) -> SysResult {
    for (p, id) in ptrs.into_iter().zip(ids) {
        copy_to_user(p, &id.to_le_bytes())?;
    }
    Ok(0)
}

/// `getuid(2)`, `geteuid(2)`, `getgid(2)`, `getegid(2)` (syscalls 174 to 177).
pub fn sys_getid(nr: u64) -> SysResult {
    let c = current_cred();
    Ok(match nr {
        174 => c.uid,
        175 => c.euid,
        176 => c.gid,
        _ => c.egid,
    } as u64)
}

/// `getresuid(2)`.
pub fn sys_getresuid(r: u64, e: u64, s: u64) -> SysResult {
    let c = current_cred();
    put_ids([r, e, s], [c.uid, c.euid, c.suid])
}

/// `getresgid(2)`.
pub fn sys_getresgid(r: u64, e: u64, s: u64) -> SysResult {
    let c = current_cred();
    put_ids([r, e, s], [c.gid, c.egid, c.sgid])
}

/// Apply a change of credentials computed from the current ones.
fn change_creds(f: impl FnOnce(&Cred) -> Result<Cred, Errno>) -> SysResult {
    let new = f(&current_cred())?;
    commit_creds(new);
    Ok(0)
}

/// `setuid(2)`.
pub fn sys_setuid(uid: u32) -> SysResult {
    change_creds(|c| c.setuid(uid))
}

/// `setgid(2)`.
pub fn sys_setgid(gid: u32) -> SysResult {
    change_creds(|c| c.setgid(gid))
}

/// `setreuid(2)`.
pub fn sys_setreuid(ruid: u32, euid: u32) -> SysResult {
    change_creds(|c| c.setreuid(ruid, euid))
}

/// `setregid(2)`.
pub fn sys_setregid(rgid: u32, egid: u32) -> SysResult {
    change_creds(|c| c.setregid(rgid, egid))
}

/// `setresuid(2)`.
pub fn sys_setresuid(r: u32, e: u32, s: u32) -> SysResult {
    change_creds(|c| c.setresuid(r, e, s))
}

/// `setresgid(2)`.
pub fn sys_setresgid(r: u32, e: u32, s: u32) -> SysResult {
    change_creds(|c| c.setresgid(r, e, s))
}

/// `setfsuid(2)`: returns the old fsuid whether or not it changed.
pub fn sys_setfsuid(uid: u32) -> SysResult {
    let old = current_cred();
    if let Some(new) = old.setfsuid(uid) {
        commit_creds(new);
    }
    Ok(old.fsuid as u64)
}

/// `setfsgid(2)`: returns the old fsgid whether or not it changed.
pub fn sys_setfsgid(gid: u32) -> SysResult {
    let old = current_cred();
    if let Some(new) = old.setfsgid(gid) {
        commit_creds(new);
    }
    Ok(old.fsgid as u64)
}

/// Most supplementary groups (Linux's NGROUPS_MAX).
const NGROUPS_MAX: usize = 65536;

/// `getgroups(2)`: the supplementary groups, or with `size` 0 just their number; EINVAL if
/// `size` is too small for them.
pub fn sys_getgroups(size: i32, list: u64) -> SysResult {
    let cred = current_cred();
    let groups = &cred.groups;
    if size < 0 {
        return Err(Errno::EINVAL);
    }
    if size == 0 {
        return Ok(groups.len() as u64);
    }
    if (size as usize) < groups.len() {
        return Err(Errno::EINVAL);
    }
    let bytes: alloc::vec::Vec<u8> = groups.iter().flat_map(|g| g.to_le_bytes()).collect();
    copy_to_user(list, &bytes)?;
    Ok(groups.len() as u64)
}

/// `setgroups(2)`: replace the supplementary groups (login's `initgroups`); CAP_SETGID.
pub fn sys_setgroups(size: usize, list: u64) -> SysResult {
    // Linux asks for the capability first (`may_setgroups`), then checks the size.
    if !capable(CAP_SETGID) {
        return Err(Errno::EPERM);
    }
    if size > NGROUPS_MAX {
        return Err(Errno::EINVAL);
    }
    let mut bytes = alloc::vec![0u8; size * 4];
    copy_from_user(&mut bytes, list)?;
    let groups: alloc::vec::Vec<u32> = bytes
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    change_creds(|c| c.setgroups(groups))
}

/// `sysinfo(2)`.
pub fn sys_sysinfo(buf: u64) -> SysResult {
    let mut b = [0u8; 112];
    let uptime = (crate::kernel::time::ktime_get_ns() / 1_000_000_000) as i64;
    b[..8].copy_from_slice(&uptime.to_le_bytes());
    for (i, avg) in crate::kernel::sched::loadavg::AVENRUN.iter().enumerate() {
        let v = avg.load(Ordering::Relaxed) << (16 - crate::kernel::sched::loadavg::FSHIFT);
        b[8 + 8 * i..16 + 8 * i].copy_from_slice(&v.to_le_bytes());
    }
    let total = crate::mm::pages::totalram_pages() * 4096;
    let free = crate::mm::pages::nr_free_pages() * 4096;
    b[32..40].copy_from_slice(&total.to_le_bytes());
    b[40..48].copy_from_slice(&free.to_le_bytes());
    // sharedram: shmem and tmpfs pages (Linux's NR_SHMEM); bufferram stays 0 (no block
    // devices).
    let shared = crate::mm::filemap::nr_shmem() * 4096;
    b[48..56].copy_from_slice(&shared.to_le_bytes());
    let mut procs = 0u16;
    crate::kernel::pid::for_each_task(|_| procs += 1);
    b[80..82].copy_from_slice(&procs.to_le_bytes());
    b[104..108].copy_from_slice(&1u32.to_le_bytes()); // mem_unit
    copy_to_user(buf, &b)?;
    Ok(0)
}
