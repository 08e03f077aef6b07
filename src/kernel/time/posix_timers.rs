//! POSIX timers: `timer_create`, `timer_settime`, `timer_gettime`, `timer_getoverrun`,
//! `timer_delete` (Linux: `kernel/time/posix-timers.c`).
//!
//! A process's timers are numbered from 0 on, an ID never reused while the process lives
//! (Linux's `next_posix_timer_id`, kept across exec), and live in one table keyed by
//! (process ID, timer ID). A timer runs on CLOCK_REALTIME, CLOCK_MONOTONIC,
//! CLOCK_BOOTTIME, CLOCK_TAI or an alarm clock (`hrtimer.rs`: one kernel tick late at most),
//! or a CPU-time clock (CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID and the clock IDs
//! of `clock_getcpuclockid`/`pthread_getcpuclockid`, another process's too; Linux's
//! `posix-cpu-timers.c`); the coarse and raw clocks and PTP clock IDs are EOPNOTSUPP, as
//! Linux has no timers on them.
//!
//! A CPU timer expires when its clock reaches its time. Armed ones are in one list
//! (`CPU_TIMERS`), with their expiry on their clock; each process counts those on its
//! clocks (`posix_cpu_timers` in its `SignalCputime`), so the tick does nothing more while
//! there are none. The tick of a thread checks the timers on that thread's clock and on its
//! process's clock (all threads' time): a thread's timer moves only while it runs, and
//! stops for good once the thread is gone (`timer_gettime` then says disarmed,
//! `timer_settime` ESRCH), as does a process's once the process is reaped. A timer set to
//! a time its clock has passed fires at once. An expired periodic timer moves on by whole
//! intervals, the ones skipped counting as overruns; a SIGEV_NONE timer is disarmed by its
//! first expiry (Linux's `cpu_timer_fire`). Expiry is seen to a tick.
//!
//! On expiry a SIGEV_SIGNAL timer sends its signal to the process, a SIGEV_THREAD_ID one to
//! its thread (glibc's SIGEV_THREAD is built on that), with `si_code` SI_TIMER, `si_timerid`
//! and the `si_value` given; SIGEV_NONE sends nothing. The tick cannot look tasks up, so it
//! hands expired timers to a worker (as `itimer.rs` does). If the timer's signal is still
//! pending when it expires again, the expiry is counted as an overrun instead (Linux's
//! `send_sigqueue`); when the signal is taken, its `si_overrun` is that count, which
//! `timer_getoverrun` reports from then on (Linux's `posixtimer_rearm`).
//!
//! An absolute CLOCK_REALTIME timer follows the wall clock when it is set.
//!
//! A process's timers are deleted when it execs or exits (`exit_itimers`). Each timer counts
//! against its creator's RLIMIT_SIGPENDING while it exists, as the `sigqueue` Linux
//! preallocates for it does (`SigQ` in /proc/<pid>/status shows it; over the limit
//! `timer_create` is EAGAIN), and its queued signal is not counted again. At most
//! [`MAX_TIMERS`] per process, too: more is EAGAIN.

use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use super::hrtimer::{
    expiry_ns, hrtimer_cancel, hrtimer_forward, hrtimer_start, itimerspec_from_bytes,
    itimerspec_to_bytes, HrTimerCallback,
};
use super::ktime_get_ns;
use super::posix_cpu_timers::{self as cpu, CpuClock};
use crate::arch::uaccess::{copy_from_user, copy_to_user};
use crate::kernel::errno::Errno;
use crate::kernel::locking::SpinLock;
use crate::kernel::sched::cputime::{posix_cpu_timers_add, task_cputime, thread_group_cputime};
use crate::kernel::signal::{si, sig, KernelSigInfo, NSIG};
use crate::kernel::task::{current, TaskRef, TaskStruct};
use crate::kernel::workqueue::{schedule_work, WorkStruct};

/// The most timers one process may have.
pub const MAX_TIMERS: usize = 4096;

/// `sigev_notify` values (Linux's `include/uapi/asm-generic/siginfo.h`).
const SIGEV_SIGNAL: i32 = 0;
const SIGEV_NONE: i32 = 1;
const SIGEV_THREAD: i32 = 2;
const SIGEV_THREAD_ID: i32 = 4;
/// `timer_settime`'s flag for an absolute time.
const TIMER_ABSTIME: i32 = 1;

/// A POSIX timer (Linux's `struct k_itimer`).
struct KTimer {
    /// The process (thread-group ID) that owns it.
    tgid: i32,
    /// Its ID in that process.
    id: i32,
    realtime: bool,
    /// SIGEV_SIGNAL, SIGEV_NONE or SIGEV_THREAD_ID (SIGEV_THREAD counts as SIGEV_SIGNAL).
    notify: i32,
    signo: i32,
    /// `sigev_value`.
    value: u64,
    /// The thread for SIGEV_THREAD_ID.
    tid: i32,
    /// The CPU clock it runs on, for a CPU timer.
    cpu: Option<CpuClock>,
    /// Lock: its own; taken by the tick.
    state: SpinLock<KTimerState>,
    me: Weak<KTimer>,
    /// Its count against RLIMIT_SIGPENDING, given back when the timer goes.
    _charge: crate::kernel::signal::sigqueue::PreallocCharge,
}

#[derive(Default)]
struct KTimerState {
    /// When it next expires (monotonic ns); `None` when disarmed. Unused for a CPU timer,
    /// whose expiry is in its `CPU_TIMERS` entry.
    expires_ns: Option<u64>,
    /// For an absolute CLOCK_REALTIME timer: its time by the wall clock.
    real_expires_ns: Option<u64>,
    interval_ns: u64,
    /// The key of the current arming (a CPU timer: of its `CPU_TIMERS` entry).
    key: Option<u64>,
    /// Expiries while its signal was pending (Linux's `it_overrun`).
    overrun: i64,
    /// What the last signal taken carried (Linux's `it_overrun_last`).
    overrun_last: i64,
}

/// Every timer, by (process, timer ID).
static TIMERS: SpinLock<BTreeMap<(i32, i32), Arc<KTimer>>> = SpinLock::new(BTreeMap::new());
/// The next timer ID of each process that made one (Linux's `signal->next_posix_timer_id`).
static NEXT_IDS: SpinLock<BTreeMap<i32, i32>> = SpinLock::new(BTreeMap::new());
/// Expired timers (by key of arming) for the worker.
static FIRED: SpinLock<Vec<(Weak<KTimer>, u64)>> = SpinLock::new(Vec::new());
static FIRED_WORK: WorkStruct = WorkStruct::new(posix_timer_work);

/// An armed CPU timer, as the tick checks it (Linux's `struct cpu_timer` queued on its
/// task's or process's `posix_cputimers`).
struct ArmedCpuTimer {
    timer: Weak<KTimer>,
    /// The arming's key (`KTimerState::key`).
    key: u64,
    /// The thread whose clock it is on, or the process's leader.
    target: TaskRef,
    /// On the thread's own clock rather than its process's.
    thread: bool,
    /// `CPUCLOCK_PROF`, `CPUCLOCK_VIRT` or `CPUCLOCK_SCHED`.
    which: usize,
    /// When it expires, on its clock (ns).
    expires: u64,
    /// The interval; 0 for one shot.
    incr: u64,
    /// SIGEV_NONE: its first expiry disarms it.
    once: bool,
}

/// A CPU timer's expiry, for the worker: the arming's key, the periods that passed unseen,
/// and its entry if the expiry took it out of `CPU_TIMERS` (dropped by the worker, not the
/// tick).
struct CpuFired {
    timer: Weak<KTimer>,
    key: u64,
    missed: u64,
    entry: Option<ArmedCpuTimer>,
}

/// Every armed CPU timer. Lock order: a timer's `state`, then this, then a process's
/// thread list and CPU-time totals.
static CPU_TIMERS: SpinLock<Vec<ArmedCpuTimer>> = SpinLock::new(Vec::new());
/// CPU timers that expired, for the worker.
static CPU_FIRED: SpinLock<Vec<CpuFired>> = SpinLock::new(Vec::new());
static CPU_FIRED_WORK: WorkStruct = WorkStruct::new(posix_cpu_timer_work);
/// The next CPU timer arming's key.
static NEXT_CPU_KEY: AtomicU64 = AtomicU64::new(1);

/// `timers[i]` has expired at `now` on its clock: move it on by whole intervals, or take it
/// out, and hand the expiry to the worker (Linux's `cpu_timer_fire`; the worker sends).
fn cpu_timer_expired(timers: &mut Vec<ArmedCpuTimer>, i: usize, now: u64) {
    let e = &mut timers[i];
    let fired = if e.incr == 0 || e.once {
        let e = timers.swap_remove(i);
        posix_cpu_timers_add(e.target.signal(), -1);
        CpuFired {
            timer: e.timer.clone(),
            key: e.key,
            missed: 0,
            entry: Some(e),
        }
    } else {
        let periods = (now - e.expires) / e.incr + 1;
        e.expires = e.expires.saturating_add(periods.saturating_mul(e.incr));
        CpuFired {
            timer: e.timer.clone(),
            key: e.key,
            missed: periods - 1,
            entry: None,
        }
    };
    CPU_FIRED.lock().push(fired);
    schedule_work(&CPU_FIRED_WORK);
}

/// The tick found `p` running while timers are armed on its process's clocks: fire those
/// on its own clocks or its process's that have expired (Linux's `run_posix_cpu_timers` →
/// `check_thread_timers`, `check_process_timers`). IRQs masked.
pub fn run_posix_cpu_timers(p: &TaskStruct) {
    let own = task_cputime(p);
    let mut group = None;
    let mut timers = CPU_TIMERS.lock();
    let mut i = 0;
    while i < timers.len() {
        let e = &timers[i];
        let now = if e.thread && e.target.ptr_eq(p) {
            cpu::pick(&own, e.which)
        } else if !e.thread && core::ptr::eq(e.target.signal(), p.signal()) {
            let g = group.get_or_insert_with(|| thread_group_cputime(p.signal()).0);
            cpu::pick(g, e.which)
        } else {
            i += 1;
            continue;
        };
        if now >= e.expires {
            let len = timers.len();
            cpu_timer_expired(&mut timers, i, now);
            if timers.len() < len {
                continue; // taken out: another entry is at `i` now
            }
        }
        i += 1;
    }
}

/// The task `p` is released: the CPU timers on its thread clock, and if it leads its
/// process those on the process's clocks, stop for good (Linux's `posix_cpu_timers_exit`
/// and `posix_cpu_timers_exit_group`).
pub fn posix_cpu_timers_exit(p: &TaskStruct) {
    let gone: Vec<ArmedCpuTimer> = {
        let mut timers = CPU_TIMERS.lock();
        let mut gone = Vec::new();
        let mut i = 0;
        while i < timers.len() {
            if timers[i].target.ptr_eq(p) {
                let e = timers.swap_remove(i);
                posix_cpu_timers_add(e.target.signal(), -1);
                gone.push(e);
            } else {
                i += 1;
            }
        }
        gone
    };
    drop(gone);
}

fn posix_cpu_timer_work(_: &'static WorkStruct) {
    let fired = core::mem::take(&mut *CPU_FIRED.lock());
    for f in fired {
        if let Some(timer) = f.timer.upgrade() {
            timer.cpu_expire(f.key, f.missed, f.entry.is_some());
        }
    }
}

impl HrTimerCallback for KTimer {
    fn hrtimer_expired(&self, key: u64) {
        FIRED.lock().push((self.me.clone(), key));
        schedule_work(&FIRED_WORK);
    }
}

impl KTimer {
    fn arm(&self, st: &mut KTimerState, expires_ns: u64) {
        st.expires_ns = Some(expires_ns);
        let me: Weak<dyn HrTimerCallback> = self.me.clone();
        st.key = Some(hrtimer_start(me, expires_ns));
    }

    fn disarm(&self, st: &mut KTimerState) {
        if let Some(key) = st.key.take() {
            if self.cpu.is_some() {
                let entry = {
                    let mut timers = CPU_TIMERS.lock();
                    let i = timers.iter().position(|e| e.key == key);
                    i.map(|i| timers.swap_remove(i))
                };
                if let Some(e) = entry {
                    posix_cpu_timers_add(e.target.signal(), -1);
                    // The worker drops it (and its task reference), with no lock held: the
                    // key is stale, so it sends nothing.
                    CPU_FIRED.lock().push(CpuFired {
                        timer: e.timer.clone(),
                        key,
                        missed: 0,
                        entry: Some(e),
                    });
                    schedule_work(&CPU_FIRED_WORK);
                }
            } else {
                hrtimer_cancel(key);
            }
        }
        st.expires_ns = None;
    }

    /// Arm a CPU timer to expire when its clock, now at `now`, reaches `expires`; at once
    /// if it has.
    fn cpu_arm(&self, clock: &CpuClock, st: &mut KTimerState, expires: u64, now: u64) {
        let key = NEXT_CPU_KEY.fetch_add(1, Ordering::Relaxed);
        st.key = Some(key);
        let entry = ArmedCpuTimer {
            timer: self.me.clone(),
            key,
            target: clock.task.clone(),
            thread: clock.thread,
            which: clock.which,
            expires,
            incr: st.interval_ns,
            once: self.notify == SIGEV_NONE,
        };
        posix_cpu_timers_add(clock.task.signal(), 1);
        let mut timers = CPU_TIMERS.lock();
        timers.push(entry);
        if now >= expires {
            let i = timers.len() - 1;
            cpu_timer_expired(&mut timers, i, now);
        }
    }

    /// A CPU timer's value: its clock is at `now` (Linux's `posix_cpu_timer_get`: 1 ns for
    /// a timer due but not yet fired; nothing for a clock whose task is gone).
    fn cpu_value(&self, clock: &CpuClock, st: &KTimerState, now: u64) -> [u8; 32] {
        let expires = st.key.filter(|_| clock.alive()).and_then(|key| {
            let timers = CPU_TIMERS.lock();
            timers.iter().find(|e| e.key == key).map(|e| e.expires)
        });
        let left = expires.map_or(0, |e| e.saturating_sub(now).max(1));
        itimerspec_to_bytes(st.interval_ns, left)
    }

    /// A CPU timer's arming `key` expired with `missed` periods unseen; `done` if that
    /// disarmed it (worker context).
    fn cpu_expire(&self, key: u64, missed: u64, done: bool) {
        {
            let mut st = self.state.lock();
            if st.key != Some(key) {
                return;
            }
            if done {
                st.key = None;
            }
            st.overrun = st.overrun.saturating_add(missed as i64);
        }
        self.send();
    }

    fn current_value(st: &KTimerState) -> [u8; 32] {
        let left = st
            .expires_ns
            .map_or(0, |e| e.saturating_sub(ktime_get_ns()).max(1));
        itimerspec_to_bytes(st.interval_ns, left)
    }

    /// The arming `key` expired: re-arm a periodic timer, then signal (worker context).
    fn expire(&self, key: u64) {
        let periods = {
            let mut st = self.state.lock();
            if st.key != Some(key) {
                return;
            }
            st.key = None;
            let Some(expires) = st.expires_ns else { return };
            let (periods, next) = hrtimer_forward(expires, st.interval_ns, ktime_get_ns());
            if st.interval_ns > 0 {
                let advance = periods.saturating_mul(st.interval_ns);
                st.real_expires_ns = st.real_expires_ns.map(|r| r.saturating_add(advance));
                self.arm(&mut st, next);
            } else {
                st.expires_ns = None;
            }
            // Periods that passed unseen (the worker ran late) are overruns too.
            st.overrun = st.overrun.saturating_add(periods as i64 - 1);
            periods
        };
        let _ = periods;
        self.send();
    }

    /// Signal the expiry as `sigev_notify` says (Linux's `posix_timer_event`).
    fn send(&self) {
        if self.notify == SIGEV_NONE {
            return;
        }
        let (target, group) = if self.notify == SIGEV_THREAD_ID {
            (crate::kernel::pid::find_task_by_pid(self.tid), false)
        } else {
            (crate::kernel::pid::find_task_by_pid(self.tgid), true)
        };
        let Some(task) = target else { return };
        let info = KernelSigInfo {
            signo: self.signo,
            code: si::SI_TIMER,
            timerid: self.id,
            value: self.value,
            ..KernelSigInfo::EMPTY
        };
        if !crate::kernel::signal::send_sigqueue(&task, info, group) {
            let mut st = self.state.lock();
            st.overrun = st.overrun.saturating_add(1);
        }
    }
}

fn posix_timer_work(_: &'static WorkStruct) {
    let fired = core::mem::take(&mut *FIRED.lock());
    for (timer, key) in fired {
        if let Some(timer) = timer.upgrade() {
            timer.expire(key);
        }
    }
}

/// A timer's signal is being taken by `task`: give it the overrun count (Linux's
/// `posixtimer_rearm` from `dequeue_signal`).
pub fn posixtimer_dequeued(task: &TaskStruct, info: &mut KernelSigInfo) {
    let tgid = task.tgid.load(Ordering::Relaxed);
    let Some(timer) = TIMERS.lock().get(&(tgid, info.timerid)).cloned() else {
        return;
    };
    let mut st = timer.state.lock();
    st.overrun_last = core::mem::take(&mut st.overrun);
    info.overrun = st.overrun_last.min(i32::MAX as i64) as i32;
}

fn tgid() -> i32 {
    current().tgid.load(Ordering::Relaxed)
}

fn find(id: i32) -> Result<Arc<KTimer>, Errno> {
    TIMERS
        .lock()
        .get(&(tgid(), id))
        .cloned()
        .ok_or(Errno::EINVAL)
}

type SysResult = Result<u64, Errno>;

/// `timer_create(2)`.
pub fn sys_timer_create(clockid: i32, sevp: u64, timerid: u64) -> SysResult {
    let is_cpu = cpu::is_cpu_clock(clockid);
    let realtime = match clockid {
        0 | 8 => true,                            // CLOCK_REALTIME, CLOCK_REALTIME_ALARM
        1 | 7 | 9 | 11 => false,                  // MONOTONIC, BOOTTIME, BOOTTIME_ALARM, TAI
        _ if is_cpu => false,                     // the CPU-time clocks
        4..=6 => return Err(Errno::ENOTSUP),      // MONOTONIC_RAW and the coarse clocks
        c if c < 0 => return Err(Errno::ENOTSUP), // a PTP clock (CLOCKFD)
        _ => return Err(Errno::EINVAL),
    };
    let me = current();
    let tgid = me.tgid.load(Ordering::Relaxed);
    let (mut notify, mut signo, mut value, mut tid) = (SIGEV_SIGNAL, sig::SIGALRM, None, tgid);
    let mut event = None;
    if sevp != 0 {
        let mut ev = [0u8; 64];
        copy_from_user(&mut ev, sevp)?;
        event = Some(ev);
    }
    // Linux's `alloc_posix_timer`: its `sigqueue`, within RLIMIT_SIGPENDING (before the
    // event is judged).
    let charge = crate::kernel::signal::sigqueue::PreallocCharge::new(
        crate::kernel::cred::with_current_cred(|c| c.uid),
        me.signal().rlimit_sigpending().0,
    )
    .ok_or(Errno::EAGAIN)?;
    if let Some(ev) = event {
        value = Some(u64::from_le_bytes(ev[0..8].try_into().unwrap_or([0; 8])));
        signo = i32::from_le_bytes(ev[8..12].try_into().unwrap_or([0; 4]));
        notify = i32::from_le_bytes(ev[12..16].try_into().unwrap_or([0; 4]));
        tid = i32::from_le_bytes(ev[16..20].try_into().unwrap_or([0; 4]));
        // Linux's good_sigevent.
        let signal_ok = (1..=NSIG as i32).contains(&signo);
        match notify {
            SIGEV_THREAD_ID => {
                let same_group = crate::kernel::pid::find_task_by_pid(tid)
                    .is_some_and(|t| t.tgid.load(Ordering::Relaxed) == tgid);
                if !same_group || !signal_ok {
                    return Err(Errno::EINVAL);
                }
            }
            SIGEV_SIGNAL | SIGEV_THREAD if signal_ok => notify = SIGEV_SIGNAL,
            SIGEV_NONE => {}
            _ => return Err(Errno::EINVAL),
        }
    }
    // Linux finds the CPU clock's task last (`posix_cpu_timer_create`, after the ID is
    // written out); EINVAL then, for a clock of no process or of another's thread.
    let cpu = if is_cpu {
        Some(cpu::timer_lookup(clockid))
    } else {
        None
    };
    let timer = {
        let mut timers = TIMERS.lock();
        if timers.range((tgid, 0)..=(tgid, i32::MAX)).count() >= MAX_TIMERS {
            return Err(Errno::EAGAIN);
        }
        // Linux's `posix_timer_add`: the next ID not in use, wrapping at INT_MAX.
        let mut next_ids = NEXT_IDS.lock();
        let next = next_ids.entry(tgid).or_insert(0);
        let mut id = *next;
        while timers.contains_key(&(tgid, id)) {
            id = id.wrapping_add(1) & i32::MAX;
        }
        *next = id.wrapping_add(1) & i32::MAX;
        drop(next_ids);
        let timer = Arc::new_cyclic(|me| KTimer {
            tgid,
            id,
            realtime,
            notify,
            signo,
            value: value.unwrap_or(id as u64),
            tid,
            cpu: cpu
                .as_ref()
                .and_then(|c| c.as_ref().ok())
                .map(|c| CpuClock {
                    task: c.task.clone(),
                    thread: c.thread,
                    which: c.which,
                }),
            state: SpinLock::new(KTimerState::default()),
            me: me.clone(),
            _charge: charge,
        });
        timers.insert((tgid, id), timer.clone());
        timer
    };
    let result = copy_to_user(timerid, &timer.id.to_le_bytes()).and(match cpu {
        Some(Err(e)) => Err(e),
        _ => Ok(()),
    });
    if let Err(e) = result {
        TIMERS.lock().remove(&(tgid, timer.id));
        return Err(e);
    }
    Ok(0)
}

/// `timer_settime(2)`.
pub fn sys_timer_settime(id: i32, tflags: i32, new: u64, old: u64) -> SysResult {
    let mut raw = [0u8; 32];
    copy_from_user(&mut raw, new)?;
    let (interval_ns, value_ns) = itimerspec_from_bytes(&raw)?;
    let timer = find(id)?;
    if let Some(clock) = &timer.cpu {
        let previous = timer_settime_cpu(&timer, clock, tflags, interval_ns, value_ns)?;
        if old != 0 {
            copy_to_user(old, &previous)?;
        }
        return Ok(0);
    }
    let previous = {
        let mut st = timer.state.lock();
        let previous = KTimer::current_value(&st);
        timer.disarm(&mut st);
        st.interval_ns = interval_ns;
        st.overrun_last = 0;
        let absolute = tflags & TIMER_ABSTIME != 0;
        st.real_expires_ns = (timer.realtime && absolute && value_ns > 0).then_some(value_ns);
        if value_ns > 0 {
            let expires = expiry_ns(timer.realtime, absolute, value_ns);
            timer.arm(&mut st, expires);
        }
        previous
    };
    if old != 0 {
        copy_to_user(old, &previous)?;
    }
    Ok(0)
}

/// `timer_settime` of a CPU timer (Linux's `posix_cpu_timer_set`): ESRCH once its clock's
/// task is gone; an absolute time is on its clock, a relative one from the clock's now.
/// Returns the old value.
fn timer_settime_cpu(
    timer: &KTimer,
    clock: &CpuClock,
    tflags: i32,
    interval_ns: u64,
    value_ns: u64,
) -> Result<[u8; 32], Errno> {
    if !clock.alive() {
        return Err(Errno::ESRCH);
    }
    let now = cpu::sample(clock);
    let mut st = timer.state.lock();
    let previous = timer.cpu_value(clock, &st, now);
    timer.disarm(&mut st);
    st.interval_ns = interval_ns;
    st.overrun = 0;
    st.overrun_last = 0;
    if value_ns > 0 {
        let expires = if tflags & TIMER_ABSTIME != 0 {
            value_ns
        } else {
            now.saturating_add(value_ns)
        };
        timer.cpu_arm(clock, &mut st, expires, now);
    }
    Ok(previous)
}

/// `timer_gettime(2)`.
pub fn sys_timer_gettime(id: i32, cur: u64) -> SysResult {
    let timer = find(id)?;
    let value = match &timer.cpu {
        Some(clock) => {
            let now = cpu::sample(clock);
            timer.cpu_value(clock, &timer.state.lock(), now)
        }
        None => KTimer::current_value(&timer.state.lock()),
    };
    copy_to_user(cur, &value)?;
    Ok(0)
}

/// `timer_getoverrun(2)`.
pub fn sys_timer_getoverrun(id: i32) -> SysResult {
    let timer = find(id)?;
    let last = timer.state.lock().overrun_last;
    Ok(last.min(i32::MAX as i64) as u64)
}

/// `timer_delete(2)`.
pub fn sys_timer_delete(id: i32) -> SysResult {
    let timer = TIMERS.lock().remove(&(tgid(), id)).ok_or(Errno::EINVAL)?;
    timer.disarm(&mut timer.state.lock());
    Ok(0)
}

/// The wall clock was set: absolute CLOCK_REALTIME timers move to the new clock (Linux's
/// realtime hrtimer base moving with `clock_was_set`).
pub fn posix_timers_clock_was_set() {
    let all: Vec<Arc<KTimer>> = TIMERS.lock().values().cloned().collect();
    for timer in all {
        let mut st = timer.state.lock();
        if let (Some(real), Some(_)) = (st.real_expires_ns, st.key) {
            timer.disarm(&mut st);
            timer.arm(&mut st, super::timekeeping::real_to_monotonic_ns(real));
        }
    }
}

/// The process `tgid` is gone: its timer IDs start from 0 again for whoever gets its ID.
pub fn forget_process(tgid: i32) {
    NEXT_IDS.lock().remove(&tgid);
}

/// Delete every timer of the process `tgid` (Linux's `exit_itimers`, at exec and exit).
pub fn exit_itimers(tgid: i32) {
    let gone: Vec<Arc<KTimer>> = {
        let mut timers = TIMERS.lock();
        let ids: Vec<(i32, i32)> = timers
            .range((tgid, i32::MIN)..=(tgid, i32::MAX))
            .map(|(k, _)| *k)
            .collect();
        ids.iter().filter_map(|k| timers.remove(k)).collect()
    };
    for timer in gone {
        timer.disarm(&mut timer.state.lock());
    }
}
