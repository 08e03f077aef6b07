//! CPU-time accounting: who had the CPU, in user or system mode (Linux:
//! `kernel/sched/cputime.c`, with `CONFIG_TICK_CPU_ACCOUNTING`, as arm64 builds it).
//!
//! Two clocks measure a task. The scheduler's `sum_exec_runtime` is precise: `update_curr`
//! adds the nanoseconds between being picked and being switched out (or the last tick), and
//! [`task_sched_runtime`](super::core::task_sched_runtime) adds the slice in progress, even
//! for a task running on another CPU. The user/system split is sampled by the tick
//! ([`account_process_tick`]): each tick charges a whole `TICK_NSEC` to the interrupted
//! task, to `utime` if the tick came from EL0, else to `stime`; a tick that finds the
//! CPU's idle task counts as that CPU's idle time. Both also go to the per-CPU counters
//! `/proc/stat` prints (Linux's `kcpustat`), each CPU counting its own ticks.
//!
//! What user space sees (`times`, `getrusage`, `/proc/<pid>/stat`) is the sampled split
//! scaled to the precise total by [`cputime_adjust`], which also keeps both halves from
//! ever going backwards between reads. The CPU-time clocks (`CLOCK_*_CPUTIME_ID`) read
//! `sum_exec_runtime` itself; `ITIMER_VIRTUAL`/`ITIMER_PROF` and their `CPUCLOCK_VIRT` and
//! `CPUCLOCK_PROF` clocks count the sampled times, as Linux's do.
//!
//! A process (thread group) adds up its threads: live ones are read one by one, and a
//! thread that is released hands its times to the group's [`SignalCputime`] (Linux's
//! `__exit_signal`), under the group's thread-list lock so no reader counts it twice or
//! not at all. A child's times, and those of the children it reaped, go to its parent's
//! `cutime`/`cstime` when the parent reaps it (`wait_task_zombie`), not before.
//!
//! Locking: the per-task and per-CPU counters are atomics, written by the CPU the task
//! runs on and read from anywhere; `PrevCputime` and the group's totals each have a leaf
//! `SpinLock`.

/// What `cputime_adjust` is given: the sampled split and the precise total, nanoseconds
/// (Linux's `struct task_cputime`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cputime {
    /// Tick-sampled user time.
    pub utime: u64,
    /// Tick-sampled system time.
    pub stime: u64,
    /// The scheduler's precise total.
    pub sum_exec_runtime: u64,
}

/// The last split handed out, so the next is never smaller in either half (Linux's
/// `struct prev_cputime`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PrevCputime {
    /// User time last reported, nanoseconds.
    pub utime: u64,
    /// System time last reported, nanoseconds.
    pub stime: u64,
}

impl PrevCputime {
    /// Nothing reported yet.
    pub const fn new() -> Self {
        Self { utime: 0, stime: 0 }
    }
}

/// `a * b / c` without overflow (Linux's `mul_u64_u64_div_u64`); `c` is not 0.
fn mul_div(a: u64, b: u64, c: u64) -> u64 {
    ((a as u128 * b as u128) / c as u128) as u64
}

/// Scale the sampled split `curr` to its precise total, never letting a half go below what
/// `prev` last reported; returns (utime, stime), which add up to the total, and updates
/// `prev` (Linux's `cputime_adjust`, line for line).
pub fn cputime_adjust(curr: Cputime, prev: &mut PrevCputime) -> (u64, u64) {
    let rtime = curr.sum_exec_runtime;
    // The total is behind what was reported (the samples ran ahead of the precise clock,
    // or a tick-old read): report the same again.
    if prev.stime + prev.utime >= rtime {
        return (prev.utime, prev.stime);
    }
    // No system samples: all user; no user samples: all system; else in proportion.
    let mut stime = if curr.stime == 0 {
        0
    } else if curr.utime == 0 {
        rtime
    } else {
        mul_div(curr.stime, rtime, curr.stime + curr.utime).min(rtime)
    };
    // stime does not go backwards; utime = rtime - stime then cannot either, as rtime only
    // grows. Then the same the other way round.
    if stime < prev.stime {
        stime = prev.stime;
    }
    let mut utime = rtime - stime;
    if utime < prev.utime {
        utime = prev.utime;
        stime = rtime - utime;
    }
    prev.stime = stime;
    prev.utime = utime;
    (utime, stime)
}

#[cfg(target_os = "none")]
pub use kernel::*;

#[cfg(target_os = "none")]
mod kernel {
    use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

    use super::{cputime_adjust, Cputime, PrevCputime};
    use crate::arch::percpu::{smp_processor_id, NR_CPUS};
    use crate::kernel::locking::SpinLock;
    use crate::kernel::sched::core::task_sched_runtime;
    use crate::kernel::signal::SignalStruct;
    use crate::kernel::task::{TaskStruct, PF_IDLE};
    use crate::kernel::time::HZ;

    /// A tick in nanoseconds (Linux's `TICK_NSEC`): what each sampled tick charges.
    pub const TICK_NSEC: u64 = 1_000_000_000 / HZ;

    /// One task's own CPU-time counters (Linux's `utime`, `stime`, `nvcsw`, `nivcsw`,
    /// `min_flt`, `maj_flt` and `prev_cputime` in `task_struct`).
    pub struct TaskCputime {
        /// Tick-sampled user time, nanoseconds. Written by the tick of the CPU the task runs on.
        pub utime: AtomicU64,
        /// Tick-sampled system time, nanoseconds.
        pub stime: AtomicU64,
        /// Voluntary context switches: it slept.
        pub nvcsw: AtomicU64,
        /// Involuntary context switches: it was preempted.
        pub nivcsw: AtomicU64,
        /// Page faults served without I/O.
        pub min_flt: AtomicU64,
        /// The last adjusted split handed out for this thread.
        pub prev: SpinLock<PrevCputime>,
    }

    impl TaskCputime {
        /// A task that has not run.
        pub const fn new() -> Self {
            Self {
                utime: AtomicU64::new(0),
                stime: AtomicU64::new(0),
                nvcsw: AtomicU64::new(0),
                nivcsw: AtomicU64::new(0),
                min_flt: AtomicU64::new(0),
                prev: SpinLock::new(PrevCputime::new()),
            }
        }
    }

    impl Default for TaskCputime {
        fn default() -> Self {
            Self::new()
        }
    }

    /// Counters that add up over threads or children (Linux's fields of `signal_struct`
    /// and `struct rusage`'s).
    #[derive(Clone, Copy, Debug, Default)]
    pub struct Usage {
        /// User time, nanoseconds (adjusted for children, sampled for dead threads).
        pub utime: u64,
        /// System time, nanoseconds.
        pub stime: u64,
        /// Voluntary context switches.
        pub nvcsw: u64,
        /// Involuntary context switches.
        pub nivcsw: u64,
        /// Minor page faults.
        pub min_flt: u64,
    }

    impl Usage {
        fn add(&mut self, other: &Usage) {
            self.utime += other.utime;
            self.stime += other.stime;
            self.nvcsw += other.nvcsw;
            self.nivcsw += other.nivcsw;
            self.min_flt += other.min_flt;
        }
    }

    /// One CPU-time interval timer (Linux's `struct cpu_itimer`): the process CPU time at
    /// which it fires next (0: disarmed) and the reload interval, nanoseconds.
    #[derive(Clone, Copy, Debug, Default)]
    pub struct CpuItimer {
        /// Absolute expiry on its clock; 0 when disarmed.
        pub expires: u64,
        /// Reload interval; 0 for a one-shot timer.
        pub incr: u64,
    }

    /// Which of a process's CPU timers: `CPUCLOCK_PROF` (user + system) or `CPUCLOCK_VIRT`
    /// (user), Linux's indices into `signal->it`.
    pub const CPUCLOCK_PROF: usize = 0;
    /// The user-time clock.
    pub const CPUCLOCK_VIRT: usize = 1;
    /// The scheduler's precise clock.
    pub const CPUCLOCK_SCHED: usize = 2;

    /// The group's totals. Lock: `SignalCputime::inner`.
    pub struct SignalTimes {
        /// Released threads: sampled times, switches, faults (Linux's `sig->utime` …).
        pub dead: Usage,
        /// Released threads' `sum_exec_runtime` (Linux's `sum_sched_runtime`).
        pub sum_sched_runtime: u64,
        /// Reaped children and what they reaped (Linux's `cutime`, `cstime`, `cnvcsw` …).
        pub children: Usage,
        /// The adjusted split last handed out for the whole group.
        pub prev: PrevCputime,
        /// `ITIMER_PROF` and `ITIMER_VIRTUAL`, by `CPUCLOCK_PROF`/`CPUCLOCK_VIRT`.
        pub it: [CpuItimer; 2],
        /// RLIMIT_CPU's soft and hard limits in seconds (`u64::MAX`: none).
        pub rlim_cpu: (u64, u64),
        /// Armed POSIX timers on this process's CPU clocks or its threads' (Linux's
        /// `posix_cputimers` being non-empty); `time::posix_timers` keeps them.
        pub posix_cpu_timers: u32,
    }

    /// What a thread group keeps of CPU time (Linux's part of `signal_struct`).
    pub struct SignalCputime {
        /// Sampled user time of every thread, live or dead (Linux's `cputimer` sums, kept
        /// always): the tick adds to it, so CPU timers need no walk over the threads.
        pub group_utime: AtomicU64,
        /// Sampled system time of every thread, live or dead.
        pub group_stime: AtomicU64,
        /// An interval timer, a POSIX CPU timer or RLIMIT_CPU is set: the tick checks them.
        pub timers_active: AtomicBool,
        /// Totals, children and timers.
        pub inner: SpinLock<SignalTimes>,
    }

    impl SignalCputime {
        /// A new process: nothing counted.
        pub const fn new() -> Self {
            Self {
                group_utime: AtomicU64::new(0),
                group_stime: AtomicU64::new(0),
                timers_active: AtomicBool::new(false),
                inner: SpinLock::new(SignalTimes {
                    dead: Usage {
                        utime: 0,
                        stime: 0,
                        nvcsw: 0,
                        nivcsw: 0,
                        min_flt: 0,
                    },
                    sum_sched_runtime: 0,
                    children: Usage {
                        utime: 0,
                        stime: 0,
                        nvcsw: 0,
                        nivcsw: 0,
                        min_flt: 0,
                    },
                    prev: PrevCputime::new(),
                    it: [CpuItimer {
                        expires: 0,
                        incr: 0,
                    }; 2],
                    rlim_cpu: (u64::MAX, u64::MAX),
                    posix_cpu_timers: 0,
                }),
            }
        }

        /// Re-evaluate whether the tick must look at this group's timers. Called with
        /// `inner` held.
        pub fn update_timers_active(&self, t: &SignalTimes) {
            let active = t.it.iter().any(|it| it.expires != 0)
                || t.rlim_cpu.0 != u64::MAX
                || t.posix_cpu_timers != 0;
            self.timers_active.store(active, Ordering::Release);
        }
    }

    /// A new process inherits its parent's RLIMIT_CPU (Linux copies `signal->rlim` in
    /// `copy_signal`); its interval timers start disarmed.
    pub fn copy_rlimit_cpu(parent: &SignalStruct, child: &SignalStruct) {
        let rlim = parent.cputime.inner.lock().rlim_cpu;
        let mut t = child.cputime.inner.lock();
        t.rlim_cpu = rlim;
        child.cputime.update_timers_active(&t);
    }

    /// One more (`delta` 1) or one fewer (-1) armed POSIX CPU timer on `sig`'s clocks.
    pub fn posix_cpu_timers_add(sig: &SignalStruct, delta: i32) {
        let group = &sig.cputime;
        let mut t = group.inner.lock();
        t.posix_cpu_timers = t.posix_cpu_timers.saturating_add_signed(delta);
        group.update_timers_active(&t);
    }

    impl Default for SignalCputime {
        fn default() -> Self {
            Self::new()
        }
    }

    /// Linux's `enum cpu_usage_stat`: the columns of `/proc/stat`'s `cpu` lines.
    pub mod cpustat {
        /// Normal processes in user mode.
        pub const USER: usize = 0;
        /// Niced processes in user mode.
        pub const NICE: usize = 1;
        /// In kernel mode.
        pub const SYSTEM: usize = 2;
        /// Idle.
        pub const IDLE: usize = 3;
        /// Idle with I/O outstanding.
        pub const IOWAIT: usize = 4;
        /// Serving interrupts.
        pub const IRQ: usize = 5;
        /// Serving softirqs.
        pub const SOFTIRQ: usize = 6;
        /// Stolen by the hypervisor.
        pub const STEAL: usize = 7;
        /// Running a guest.
        pub const GUEST: usize = 8;
        /// Running a niced guest.
        pub const GUEST_NICE: usize = 9;
        /// How many columns.
        pub const NR_STATS: usize = 10;
    }

    /// One CPU's time by kind, nanoseconds (Linux's `struct kernel_cpustat`). Each CPU's
    /// tick writes only its own.
    pub struct KernelCpustat {
        /// By `cpustat::*` index.
        pub cpustat: [AtomicU64; cpustat::NR_STATS],
    }

    /// Every CPU's counters (Linux's per-CPU `kernel_cpustat`), by CPU number.
    pub static KCPUSTAT: [KernelCpustat; NR_CPUS] = [const {
        KernelCpustat {
            cpustat: [const { AtomicU64::new(0) }; cpustat::NR_STATS],
        }
    }; NR_CPUS];

    /// Whether the interrupt being handled on each CPU came from EL0 (what Linux reads
    /// from `user_mode(get_irq_regs())`). Set by the IRQ entry, read by the tick.
    static IRQ_FROM_USER: [AtomicBool; NR_CPUS] = [const { AtomicBool::new(false) }; NR_CPUS];

    /// Record, on IRQ entry, whether the interrupted context was user space.
    #[inline]
    pub fn irq_enter_from(user: bool) {
        IRQ_FROM_USER[smp_processor_id()].store(user, Ordering::Relaxed);
    }

    /// Charge a tick to the running task and this CPU (Linux's `update_process_times` →
    /// `account_process_tick`, then `run_posix_cpu_timers`). From the tick, IRQs masked.
    pub fn update_process_times() {
        let cpu = smp_processor_id();
        let user_tick = IRQ_FROM_USER[cpu].load(Ordering::Relaxed);
        let p = crate::kernel::task::current();
        let group = &p.signal().cputime;
        account_process_tick(p, group, cpu, user_tick);
        if group.timers_active.load(Ordering::Acquire) {
            run_posix_cpu_timers(p);
        }
    }

    /// Linux's `account_process_tick`: user time if the tick interrupted EL0, idle time if
    /// it found the idle task, system time otherwise.
    fn account_process_tick(p: &TaskStruct, group: &SignalCputime, cpu: usize, user_tick: bool) {
        let stat = &KCPUSTAT[cpu].cpustat;
        if p.flags.load(Ordering::Relaxed) & PF_IDLE != 0 {
            stat[cpustat::IDLE].fetch_add(TICK_NSEC, Ordering::Relaxed);
            return;
        }
        if user_tick {
            p.cputime.utime.fetch_add(TICK_NSEC, Ordering::Relaxed);
            group.group_utime.fetch_add(TICK_NSEC, Ordering::Relaxed);
            stat[cpustat::USER].fetch_add(TICK_NSEC, Ordering::Relaxed);
        } else {
            p.cputime.stime.fetch_add(TICK_NSEC, Ordering::Relaxed);
            group.group_stime.fetch_add(TICK_NSEC, Ordering::Relaxed);
            stat[cpustat::SYSTEM].fetch_add(TICK_NSEC, Ordering::Relaxed);
        }
    }

    /// Count a context switch away from `prev` (Linux's `nvcsw`/`nivcsw` in `__schedule`):
    /// voluntary when it gave up the CPU to sleep, involuntary when preempted.
    #[inline]
    pub fn account_context_switch(prev: &TaskStruct, voluntary: bool) {
        let counter = if voluntary {
            &prev.cputime.nvcsw
        } else {
            &prev.cputime.nivcsw
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Count a page fault handled for the current task (Linux's `mm_account_fault`).
    pub fn account_min_flt(p: &TaskStruct) {
        p.cputime.min_flt.fetch_add(1, Ordering::Relaxed);
    }

    /// One thread's sampled split and precise total (Linux's `task_cputime` plus
    /// `task_sched_runtime`).
    pub fn task_cputime(p: &TaskStruct) -> Cputime {
        let sum_exec_runtime = task_sched_runtime(p);
        Cputime {
            utime: p.cputime.utime.load(Ordering::Relaxed),
            stime: p.cputime.stime.load(Ordering::Relaxed),
            sum_exec_runtime,
        }
    }

    /// One thread's (utime, stime), scaled to its precise total (Linux's
    /// `task_cputime_adjusted`).
    pub fn task_cputime_adjusted(p: &TaskStruct) -> (u64, u64) {
        let curr = task_cputime(p);
        cputime_adjust(curr, &mut p.cputime.prev.lock())
    }

    /// A thread's own switches and faults.
    fn thread_usage(p: &TaskStruct) -> Usage {
        Usage {
            utime: 0,
            stime: 0,
            nvcsw: p.cputime.nvcsw.load(Ordering::Relaxed),
            nivcsw: p.cputime.nivcsw.load(Ordering::Relaxed),
            min_flt: p.cputime.min_flt.load(Ordering::Relaxed),
        }
    }

    /// The whole process's sampled split and precise total, live and dead threads (Linux's
    /// `thread_group_cputime`), plus its switches and faults.
    pub fn thread_group_cputime(sig: &SignalStruct) -> (Cputime, Usage) {
        // The thread list's lock keeps a thread from moving from the list to the dead totals
        // while we add (`exit_thread_cputime` moves it under the same lock).
        let threads = sig.threads.lock();
        let (mut sum, mut usage) = {
            let t = sig.cputime.inner.lock();
            (t.sum_sched_runtime, t.dead)
        };
        for t in threads.iter() {
            sum += task_sched_runtime(t);
            usage.add(&thread_usage(t));
        }
        drop(threads);
        let times = Cputime {
            utime: sig.cputime.group_utime.load(Ordering::Relaxed),
            stime: sig.cputime.group_stime.load(Ordering::Relaxed),
            sum_exec_runtime: sum,
        };
        (times, usage)
    }

    /// The whole process's (utime, stime), adjusted, and its switches and faults (Linux's
    /// `thread_group_cputime_adjusted`).
    pub fn thread_group_cputime_adjusted(sig: &SignalStruct) -> (u64, u64, Usage) {
        let (curr, usage) = thread_group_cputime(sig);
        let (utime, stime) = cputime_adjust(curr, &mut sig.cputime.inner.lock().prev);
        (utime, stime, usage)
    }

    /// The process's precise CPU time: `CLOCK_PROCESS_CPUTIME_ID`.
    pub fn thread_group_sched_runtime(sig: &SignalStruct) -> u64 {
        thread_group_cputime(sig).0.sum_exec_runtime
    }

    /// A thread leaves its group's list: its times go to the group's dead totals (Linux's
    /// `__exit_signal`). Called with `sig.threads` locked by the caller, who removes it.
    pub fn exit_thread_cputime(sig: &SignalStruct, p: &TaskStruct) {
        let runtime = task_sched_runtime(p);
        let usage = thread_usage(p);
        let mut t = sig.cputime.inner.lock();
        t.sum_sched_runtime += runtime;
        t.dead.utime += p.cputime.utime.load(Ordering::Relaxed);
        t.dead.stime += p.cputime.stime.load(Ordering::Relaxed);
        t.dead.add(&usage);
    }

    /// What a reaped child is worth to its parent: its whole group's adjusted times and
    /// counts, plus its own reaped children's (Linux's `wait_task_zombie`, and
    /// `getrusage(RUSAGE_BOTH)` for `wait4`'s `rusage`).
    pub fn child_total_usage(child_sig: &SignalStruct) -> Usage {
        let (utime, stime, mut usage) = thread_group_cputime_adjusted(child_sig);
        usage.utime = utime;
        usage.stime = stime;
        usage.add(&child_sig.cputime.inner.lock().children);
        usage
    }

    /// The parent reaps a child: the child's total joins the parent's `cutime`/`cstime`
    /// and children's counts (Linux's `wait_task_zombie`). Returns what was added, for
    /// `wait4`'s `rusage`.
    pub fn reap_child_cputime(parent_sig: &SignalStruct, child_sig: &SignalStruct) -> Usage {
        let usage = child_total_usage(child_sig);
        if !core::ptr::eq(parent_sig, child_sig) {
            parent_sig.cputime.inner.lock().children.add(&usage);
        }
        usage
    }

    /// Check the current process's CPU timers against its sampled time and signal what
    /// expired (Linux's `run_posix_cpu_timers` → `check_process_timers`: `ITIMER_PROF`,
    /// `ITIMER_VIRTUAL`, RLIMIT_CPU; then the POSIX timers on its clocks and its threads',
    /// `time::posix_timers::run_posix_cpu_timers`). From the tick, only while a timer or
    /// limit is set.
    #[cold]
    #[inline(never)]
    fn run_posix_cpu_timers(p: &TaskStruct) {
        use crate::kernel::signal::sig::{SIGKILL, SIGPROF, SIGVTALRM, SIGXCPU};
        let sig = p.signal();
        let group = &sig.cputime;
        if p.is_kthread() {
            return;
        }
        let utime = group.group_utime.load(Ordering::Relaxed);
        let prof = utime + group.group_stime.load(Ordering::Relaxed);
        let mut fire = [0i32; 3];
        let posix_timers = {
            let mut t = group.inner.lock();
            for (i, (now, signo)) in [(prof, SIGPROF), (utime, SIGVTALRM)].iter().enumerate() {
                let it = &mut t.it[i];
                if it.expires != 0 && *now >= it.expires {
                    it.expires = if it.incr != 0 {
                        it.expires + it.incr
                    } else {
                        0
                    };
                    fire[i] = *signo;
                }
            }
            // RLIMIT_CPU (only when a soft limit is set, as Linux): SIGKILL at the hard
            // limit; SIGXCPU at the soft one, which then moves on a second, so it comes
            // again every second until the hard limit.
            let (soft, hard) = t.rlim_cpu;
            let secs = prof / 1_000_000_000;
            if soft != u64::MAX {
                if hard != u64::MAX && secs >= hard {
                    fire[2] = SIGKILL;
                } else if secs >= soft {
                    fire[2] = SIGXCPU;
                    t.rlim_cpu.0 = soft + 1;
                }
            }
            group.update_timers_active(&t);
            t.posix_cpu_timers != 0
        };
        for signo in fire {
            if signo != 0 {
                crate::kernel::signal::send_signal_kernel(p, signo);
            }
        }
        if posix_timers {
            crate::kernel::time::posix_timers::run_posix_cpu_timers(p);
        }
    }

    /// The user, system and idle time of `cpu` so far, by `cpustat::*`, nanoseconds.
    pub fn kcpustat_cpu(cpu: usize) -> [u64; cpustat::NR_STATS] {
        let mut out = [0; cpustat::NR_STATS];
        for (o, c) in out.iter_mut().zip(&KCPUSTAT[cpu].cpustat) {
            *o = c.load(Ordering::Relaxed);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adjust(prev: &mut PrevCputime, utime: u64, stime: u64, rtime: u64) -> (u64, u64) {
        cputime_adjust(
            Cputime {
                utime,
                stime,
                sum_exec_runtime: rtime,
            },
            prev,
        )
    }

    #[test]
    fn scales_split_to_total() {
        let mut prev = PrevCputime::new();
        // 3 user ticks, 1 system tick, 10 ms precise: 7.5 and 2.5.
        assert_eq!(adjust(&mut prev, 12, 4, 10_000), (7_500, 2_500));
    }

    #[test]
    fn no_samples_is_all_user_or_all_system() {
        let mut prev = PrevCputime::new();
        assert_eq!(adjust(&mut prev, 0, 0, 100), (100, 0));
        let mut prev = PrevCputime::new();
        assert_eq!(adjust(&mut prev, 0, 8, 100), (0, 100));
    }

    #[test]
    fn halves_never_go_backwards() {
        let mut prev = PrevCputime::new();
        let (u1, s1) = adjust(&mut prev, 0, 4, 1_000);
        assert_eq!((u1, s1), (0, 1_000));
        // Now mostly user samples: stime would shrink to 1/11 of 1100; it stays.
        let (u2, s2) = adjust(&mut prev, 40, 4, 1_100);
        assert!(s2 >= s1 && u2 >= u1 && u2 + s2 == 1_100);
        // A total behind what was reported: same answer again.
        assert_eq!(adjust(&mut prev, 40, 4, 900), (u2, s2));
    }

    #[test]
    fn sums_to_total_and_monotonic_over_many_reads() {
        let mut prev = PrevCputime::new();
        let (mut lu, mut ls) = (0, 0);
        let mut x = 12345u64;
        let mut rtime = 0;
        for _ in 0..1000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            rtime += x >> 50;
            let (u, s) = adjust(&mut prev, (x >> 20) & 0xffff, (x >> 36) & 0xffff, rtime);
            assert!(u >= lu && s >= ls);
            assert!(u + s == rtime || (u, s) == (lu, ls));
            (lu, ls) = (u, s);
        }
    }

    #[test]
    fn no_overflow_for_large_values() {
        let mut prev = PrevCputime::new();
        let big = 1u64 << 62;
        let (u, s) = adjust(&mut prev, big, big, big);
        assert_eq!(u + s, big);
    }
}
