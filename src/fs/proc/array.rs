//! `/proc/<pid>/stat`, `status` and `statm`: a process in one line, in named lines, and
//! its memory in pages (Linux: `fs/proc/array.c` `do_task_stat`, `proc_pid_status`,
//! `proc_pid_statm`; `fs/proc/task_mmu.c` `task_mem`).
//!
//! What Cradle does not keep (page-fault counts, system time apart from user time) reads
//! as 0. The controlling terminal is the console tty when the process has it, with its
//! foreground group as `tpgid`.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;
use core::sync::atomic::Ordering;

use super::generic::{nsec_to_clock_t, task_runtime_ns};
use crate::arch::memory::PAGE_SIZE;
use crate::arch::mmu;
use crate::arch::paging::KernelTableAlloc;
use crate::kernel::errno::Errno;
use crate::kernel::signal::SIG_IGN;
use crate::kernel::smp::{CpuMaskHex, CpuMaskList};
use crate::kernel::task::TaskStruct;
use crate::mm::mm_types::MmStruct;
use crate::mm::vma::VmFlags;

/// An unlimited resource limit, as `stat`'s `rsslim` prints it (Linux's `RLIM_INFINITY`).
const RLIM_INFINITY: u64 = u64::MAX;

/// What `stat`, `status` and `statm` report about an address space, in pages and addresses.
#[derive(Default)]
struct MmCounts {
    /// Pages of every VMA (Linux's `total_vm`).
    total_vm: u64,
    /// Pages mapped now (Linux's `get_mm_rss`).
    rss: u64,
    /// Pages of private writable VMAs other than the stack (`data_vm`).
    data_vm: u64,
    /// Pages of the stack (`stack_vm`).
    stack_vm: u64,
    /// Pages of executable VMAs (`exec_vm`).
    exec_vm: u64,
    start_code: u64,
    end_code: u64,
    start_brk: u64,
    arg_start: u64,
    arg_end: u64,
    env_start: u64,
    env_end: u64,
}

/// Count an address space (Linux's `task_mem` / `task_statm` inputs).
fn mm_counts(mm: &MmStruct) -> MmCounts {
    let inner = mm.inner.lock();
    let mut c = MmCounts {
        start_brk: inner.start_brk,
        arg_start: inner.arg_start,
        arg_end: inner.arg_end,
        env_start: inner.env_start,
        env_end: inner.env_end,
        ..MmCounts::default()
    };
    for vma in inner.vmas.iter() {
        let pages = vma.len() / PAGE_SIZE;
        c.total_vm += pages;
        if vma.flags.contains(VmFlags::GROWSDOWN) || vma.flags.contains(VmFlags::STACK) {
            c.stack_vm += pages;
        } else if vma.flags.contains(VmFlags::EXEC) {
            c.exec_vm += pages;
            if c.start_code == 0 {
                c.start_code = vma.start;
                c.end_code = vma.end;
            }
        } else if vma.flags.contains(VmFlags::WRITE) && !vma.flags.contains(VmFlags::SHARED) {
            c.data_vm += pages;
        }
        let mut rss = 0u64;
        // SAFETY: `inner` is held, so no one edits these page tables meanwhile; the
        // callback only counts and leaves every descriptor as it is. VMA bounds are page
        // aligned and below TASK_SIZE.
        unsafe {
            mmu::for_each_leaf(
                mm.pgd,
                vma.start,
                vma.end,
                &KernelTableAlloc,
                &mut |_, _| rss += 1,
            )
        };
        c.rss += rss;
    }
    c
}

/// The counts of `task`'s address space; all zero for a kernel thread or a zombie.
fn task_mm_counts(task: &TaskStruct) -> MmCounts {
    task.mm().map(|mm| mm_counts(&mm)).unwrap_or_default()
}

/// Threads in `task`'s thread group (Linux's `get_nr_threads`).
fn num_threads(task: &TaskStruct) -> u64 {
    (task.signal().nr_threads() as u64).max(1)
}

/// Signals ignored and caught (Linux's `collect_sigign_sigcatch`), bit n-1 for signal n.
fn sigign_sigcatch(task: &TaskStruct) -> (u64, u64) {
    let actions = task.with_actions(|actions| *actions);
    let (mut ignored, mut caught) = (0u64, 0u64);
    for (i, action) in actions.iter().enumerate() {
        match action.handler {
            0 => {}
            SIG_IGN => ignored |= 1 << i,
            _ => caught |= 1 << i,
        }
    }
    (ignored, caught)
}

/// `State:` as `status` spells it (Linux's `task_state_array`).
fn state_name(state: char) -> &'static str {
    match state {
        'R' => "R (running)",
        'S' => "S (sleeping)",
        'D' => "D (disk sleep)",
        'T' => "T (stopped)",
        'Z' => "Z (zombie)",
        _ => "X (dead)",
    }
}

/// `/proc/<pid>/stat`: the process's line, its times those of every thread, live and
/// exited.
pub fn proc_pid_stat(task: &TaskStruct) -> Result<Vec<u8>, Errno> {
    do_task_stat(task, true)
}

/// `/proc/<pid>/task/<tid>/stat`: the thread's line, its times its own.
pub fn proc_tid_stat(task: &TaskStruct) -> Result<Vec<u8>, Errno> {
    do_task_stat(task, false)
}

/// `utime`, `stime` and `minflt` of a stat line (Linux's `do_task_stat`): the thread
/// group's or the thread's, adjusted to the precise runtime.
fn stat_times(task: &TaskStruct, whole: bool) -> (u64, u64, u64) {
    use crate::kernel::sched::cputime;
    if whole {
        let (utime, stime, usage) = cputime::thread_group_cputime_adjusted(task.signal());
        (utime, stime, usage.min_flt)
    } else {
        let (utime, stime) = cputime::task_cputime_adjusted(task);
        let min_flt = task.cputime.min_flt.load(Ordering::Relaxed);
        (utime, stime, min_flt)
    }
}

/// A stat line: 52 fields (Linux's `do_task_stat`).
fn do_task_stat(task: &TaskStruct, whole: bool) -> Result<Vec<u8>, Errno> {
    let pid = task.pid();
    let state = task.state_char();
    let mm = task_mm_counts(task);
    let (sigign, sigcatch) = sigign_sigcatch(task);
    let pending = task.pending.load(Ordering::Relaxed);
    let blocked = task.blocked.load(Ordering::Relaxed);
    let wchan = u8::from(matches!(state, 'S' | 'D'));
    let tty = crate::drivers::tty::n_tty::console_tty();
    let (tty_nr, tpgid) = if tty.jobctrl.is_ctty_of(task) {
        let (major, minor) = crate::drivers::tty::n_tty::console_devnum();
        // Linux's `new_encode_dev`.
        let nr = (minor & 0xff) | (major << 8) | ((minor & !0xff) << 12);
        (nr, tty.jobctrl.tpgid_of(task))
    } else {
        (0, -1)
    };
    // Linux's `task_prio` (prio - MAX_RT_PRIO: 20 + nice, or -1 - rt_priority for a
    // real-time task) and `task_nice`.
    let policy = task.policy.load(Ordering::Relaxed);
    let rt_priority = task.rt_priority.load(Ordering::Relaxed);
    let nice = task.static_prio.load(Ordering::Relaxed) - 120;
    let priority = if policy == 1 || policy == 2 {
        -1 - rt_priority as i32
    } else {
        20 + nice
    };
    let mut s = String::new();
    // pid (comm) state ppid pgrp session tty_nr tpgid flags
    let _ = write!(
        s,
        "{pid} ({}) {state} {} {} {} {tty_nr} {tpgid} {}",
        task.comm(),
        task.ppid(),
        crate::kernel::session::pgrp_of(task),
        crate::kernel::session::session_of(task),
        task.flags.load(Ordering::Relaxed),
    );
    // minflt cminflt majflt cmajflt utime stime cutime cstime priority nice num_threads
    // itrealvalue starttime vsize rss rsslim
    let (utime, stime, min_flt) = stat_times(task, whole);
    let children = task.signal().cputime.inner.lock().children;
    let _ = write!(
        s,
        " {min_flt} {} 0 0 {} {} {} {} {priority} {nice} {} 0 {} {} {} {RLIM_INFINITY}",
        children.min_flt,
        nsec_to_clock_t(utime),
        nsec_to_clock_t(stime),
        nsec_to_clock_t(children.utime),
        nsec_to_clock_t(children.stime),
        num_threads(task),
        nsec_to_clock_t(task.start_time_ns.load(Ordering::Relaxed)),
        mm.total_vm * PAGE_SIZE,
        mm.rss,
    );
    // startcode endcode startstack kstkesp kstkeip signal blocked sigignore sigcatch wchan
    // nswap cnswap exit_signal processor rt_priority policy delayacct_blkio_ticks
    // guest_time cguest_time
    let _ = write!(
        s,
        " {} {} 0 0 0 {} {} {} {} {wchan} 0 0 {} {} {rt_priority} {policy} 0 0 0",
        mm.start_code,
        mm.end_code,
        pending & 0x7fff_ffff,
        blocked & 0x7fff_ffff,
        sigign & 0x7fff_ffff,
        sigcatch & 0x7fff_ffff,
        task.exit_signal.load(Ordering::Relaxed),
        task.cpu.load(Ordering::Relaxed),
    );
    // exit_code: the exit status once the task exits; while it is stopped, the stop signal
    // its parent's wait4(WUNTRACED) has yet to collect (Linux keeps both in `exit_code`).
    let exit_code = match task.exit_code.load(Ordering::Relaxed) {
        0 => task.signal().inner.lock().stop_report,
        code => code,
    };
    // start_data end_data start_brk arg_start arg_end env_start env_end exit_code
    let _ = writeln!(
        s,
        " 0 0 {} {} {} {} {} {}",
        mm.start_brk, mm.arg_start, mm.arg_end, mm.env_start, mm.env_end, exit_code,
    );
    Ok(s.into_bytes())
}

/// `/proc/<pid>/schedstat` (Linux's `proc_pid_schedstat`): time on the CPU (ns), time
/// spent waiting on a run queue (ns; not tracked: 0), and how many times it was switched
/// out (Cradle's stand-in for `pcount`, the times it got the CPU).
pub fn proc_pid_schedstat(task: &TaskStruct) -> Result<Vec<u8>, Errno> {
    let switches =
        task.cputime.nvcsw.load(Ordering::Relaxed) + task.cputime.nivcsw.load(Ordering::Relaxed);
    Ok(format!("{} 0 {switches}\n", task_runtime_ns(task)).into_bytes())
}

/// `/proc/<pid>/statm`: size resident shared text lib data dt, in pages (Linux's
/// `proc_pid_statm`).
pub fn proc_pid_statm(task: &TaskStruct) -> Result<Vec<u8>, Errno> {
    let mm = task_mm_counts(task);
    Ok(format!(
        "{} {} 0 {} 0 {} 0\n",
        mm.total_vm,
        mm.rss,
        mm.exec_vm,
        mm.data_vm + mm.stack_vm
    )
    .into_bytes())
}

/// `/proc/<pid>/status` (Linux's `proc_pid_status`).
pub fn proc_pid_status(task: &TaskStruct) -> Result<Vec<u8>, Errno> {
    let pid = task.pid();
    let tgid = task.tgid.load(Ordering::Relaxed);
    let mut s = String::new();
    let _ = writeln!(s, "Name:\t{}", task.comm());
    let fs = task.fs.lock().clone();
    if let Some(fs) = fs {
        let _ = writeln!(s, "Umask:\t{:04o}", fs.lock().umask);
    }
    let files = task.files.lock().clone();
    let fd_size = files.map_or(0, |files| {
        files.lock().open_fds().last().map_or(0, |(fd, _)| fd + 1)
    });
    let c = crate::kernel::cred::task_cred(task);
    let _ = write!(
        s,
        "State:\t{}\nTgid:\t{tgid}\nNgid:\t0\nPid:\t{pid}\nPPid:\t{}\nTracerPid:\t0\n\
         Uid:\t{}\t{}\t{}\t{}\nGid:\t{}\t{}\t{}\t{}\nFDSize:\t{}\nGroups:\t{}\n\
         NStgid:\t{tgid}\nNSpid:\t{pid}\nNSpgid:\t{}\nNSsid:\t{}\n",
        state_name(task.state_char()),
        task.ppid(),
        c.uid,
        c.euid,
        c.suid,
        c.fsuid,
        c.gid,
        c.egid,
        c.sgid,
        c.fsgid,
        fd_size.next_multiple_of(64).max(64),
        c.groups.iter().map(|g| format!("{g} ")).collect::<String>(),
        crate::kernel::session::pgrp_of(task),
        crate::kernel::session::session_of(task),
    );
    if let Some(mm) = task.mm() {
        let c = mm_counts(&mm);
        let kb = |pages: u64| pages * (PAGE_SIZE / 1024);
        for (name, pages) in [
            ("VmPeak", c.total_vm),
            ("VmSize", c.total_vm),
            ("VmLck", crate::mm::mlock::locked_vm(&mm)),
            ("VmPin", 0),
            ("VmHWM", c.rss),
            ("VmRSS", c.rss),
            ("RssAnon", c.rss),
            ("RssFile", 0),
            ("RssShmem", 0),
            ("VmData", c.data_vm),
            ("VmStk", c.stack_vm),
            ("VmExe", c.exec_vm),
            ("VmLib", 0),
            ("VmPTE", 0),
            ("VmSwap", 0),
        ] {
            let _ = writeln!(s, "{name}:\t{:>8} kB", kb(pages));
        }
        let _ = writeln!(s, "HugetlbPages:\t{:>8} kB", 0);
    }
    let _ = write!(s, "CoreDumping:\t0\nTHP_enabled:\t1\n");
    let (sigign, sigcatch) = sigign_sigcatch(task);
    let _ = write!(
        s,
        "Threads:\t{}\nSigQ:\t{}/{}\nSigPnd:\t{:016x}\nShdPnd:\t{:016x}\nSigBlk:\t{:016x}\n\
         SigIgn:\t{sigign:016x}\nSigCgt:\t{sigcatch:016x}\n",
        num_threads(task),
        crate::kernel::signal::sigqueue::sigpending_of(crate::kernel::cred::task_cred(task).uid),
        task.signal().rlimit_sigpending().0,
        task.pending.load(Ordering::Relaxed),
        task.signal().shared_pending.load(Ordering::Relaxed),
        task.blocked.load(Ordering::Relaxed),
    );
    let _ = write!(
        s,
        "CapInh:\t{:016x}\nCapPrm:\t{:016x}\nCapEff:\t{:016x}\nCapBnd:\t{:016x}\n",
        c.cap_inheritable.0, c.cap_permitted.0, c.cap_effective.0, c.cap_bset.0,
    );
    s.push_str(
        "CapAmb:\t0000000000000000\nNoNewPrivs:\t0\nSeccomp:\t0\n\
         Seccomp_filters:\t0\nSpeculation_Store_Bypass:\tthread vulnerable\n\
         SpeculationIndirectBranch:\tunknown\n",
    );
    let cpus = crate::kernel::sched::core::task_cpus_allowed(task);
    let nr_cpu_ids = crate::kernel::sched::syscalls::nr_cpu_ids();
    let _ = writeln!(s, "Cpus_allowed:\t{}", CpuMaskHex(cpus, nr_cpu_ids));
    let _ = writeln!(s, "Cpus_allowed_list:\t{}", CpuMaskList(cpus, nr_cpu_ids));
    s.push_str(
        "Mems_allowed:\t1\nMems_allowed_list:\t0\nvoluntary_ctxt_switches:\t0\n\
         nonvoluntary_ctxt_switches:\t0\n",
    );
    Ok(s.into_bytes())
}
