//! timerfd: a timer as a file, `timerfd_create`, `timerfd_settime`, `timerfd_gettime`
//! (Linux: `fs/timerfd.c`).
//!
//! A read returns, as a u64, how many times the timer expired since it was set or last read
//! (waiting for the first expiry, or EAGAIN with O_NONBLOCK; EINVAL for a buffer under 8
//! bytes); the file is readable (POLLIN) while that count is not 0. The timer runs on
//! CLOCK_REALTIME, CLOCK_MONOTONIC or CLOCK_BOOTTIME (the alarm clocks act as their plain
//! twins), relative or absolute (TFD_TIMER_ABSTIME), one-shot or periodic; expiries are
//! counted when the timer fires, one tick of the kernel's at the latest after they fall due
//! (`hrtimer.rs`), and a periodic timer that fires late counts every period that passed.
//!
//! An absolute CLOCK_REALTIME timer set with TFD_TIMER_CANCEL_ON_SET is cancelled when the
//! wall clock is set (`clock_settime`, `settimeofday`): a read then fails with ECANCELED
//! (Linux's `timerfd_clock_was_set`). Other absolute CLOCK_REALTIME timers follow the new
//! clock.
//!
//! Locks: a timerfd's `state` is a spinlock; the timer callback takes it from the tick.

use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use core::any::Any;

use super::anon_inodes::{anon_inode_getfd, AnonStat};
use super::file::{fdget, flags};
use super::inode::{Inode, Kiocb, Stat};
use super::iov_iter::IovIter;
use super::select::{pollbits, PollHead};
use crate::arch::uaccess::{copy_from_user, copy_to_user};
use crate::kernel::errno::Errno;
use crate::kernel::locking::SpinLock;
use crate::kernel::sched::wait::WaitQueueHead;
use crate::kernel::time::hrtimer::{
    expiry_ns, hrtimer_cancel, hrtimer_forward, hrtimer_start, itimerspec_from_bytes,
    itimerspec_to_bytes, HrTimerCallback,
};
use crate::kernel::time::ktime_get_ns;

/// Clocks (Linux's `include/uapi/linux/time.h`).
pub const CLOCK_REALTIME: i32 = 0;
/// The monotonic clock.
pub const CLOCK_MONOTONIC: i32 = 1;
/// The monotonic clock including suspend (the same in Cradle).
pub const CLOCK_BOOTTIME: i32 = 7;
/// CLOCK_REALTIME that wakes a suspended system.
pub const CLOCK_REALTIME_ALARM: i32 = 8;
/// CLOCK_BOOTTIME that wakes a suspended system.
pub const CLOCK_BOOTTIME_ALARM: i32 = 9;

/// The time is absolute.
const TFD_TIMER_ABSTIME: i32 = 1;
/// Cancel on a change of the wall clock.
const TFD_TIMER_CANCEL_ON_SET: i32 = 2;
const TFD_SETTIME_FLAGS: i32 = TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET;
const TFD_CREATE_FLAGS: i32 = (flags::O_CLOEXEC | flags::O_NONBLOCK) as i32;

/// A timerfd's timer.
#[derive(Default)]
struct TimerState {
    /// Expiries not yet read (Linux's `ticks`).
    ticks: u64,
    /// When it next expires, monotonic ns; `None` when disarmed.
    expires_ns: Option<u64>,
    /// For an absolute CLOCK_REALTIME timer: its time by the wall clock.
    real_expires_ns: Option<u64>,
    /// The period (0: one-shot).
    interval_ns: u64,
    /// The key of the current arming (`hrtimer.rs`), if armed.
    key: Option<u64>,
    /// Set with TFD_TIMER_CANCEL_ON_SET on an absolute CLOCK_REALTIME timer.
    might_cancel: bool,
    /// The wall clock was set since: reads fail with ECANCELED.
    canceled: bool,
    /// The flags of the last `timerfd_settime`, for fdinfo.
    settime_flags: i32,
}

/// A timerfd (Linux's `struct timerfd_ctx`).
pub struct TimerFd {
    clockid: i32,
    /// Lock: its own (taken by the timer from the tick).
    state: SpinLock<TimerState>,
    /// Readers wait here for an expiry.
    wait: WaitQueueHead,
    poll_head: PollHead,
    /// Itself, for arming timers.
    me: Weak<TimerFd>,
    stat: AnonStat,
}

/// Every timerfd whose timer is absolute on CLOCK_REALTIME, for [`timerfd_clock_was_set`].
static REALTIME_ABS: SpinLock<BTreeMap<usize, Weak<TimerFd>>> = SpinLock::new(BTreeMap::new());

impl TimerFd {
    fn realtime(&self) -> bool {
        matches!(self.clockid, CLOCK_REALTIME | CLOCK_REALTIME_ALARM)
    }

    fn wake(&self) {
        self.wait.wake_up_all();
        self.poll_head.wake();
    }

    /// Arm for `expires_ns` (state locked by the caller).
    fn arm(&self, st: &mut TimerState, expires_ns: u64) {
        st.expires_ns = Some(expires_ns);
        let me: Weak<dyn HrTimerCallback> = self.me.clone();
        st.key = Some(hrtimer_start(me, expires_ns));
    }

    fn disarm(st: &mut TimerState) {
        if let Some(key) = st.key.take() {
            hrtimer_cancel(key);
        }
        st.expires_ns = None;
    }

    /// The time left and the period (Linux's `timerfd_get_remaining`).
    fn current_value(st: &TimerState) -> [u8; 32] {
        let left = st
            .expires_ns
            .map_or(0, |e| e.saturating_sub(ktime_get_ns()).max(1));
        itimerspec_to_bytes(st.interval_ns, left)
    }
}

impl HrTimerCallback for TimerFd {
    /// Linux's `timerfd_tmrproc`: count the expiries, re-arm a periodic timer, wake.
    fn hrtimer_expired(&self, key: u64) {
        {
            let mut st = self.state.lock();
            if st.key != Some(key) {
                return;
            }
            st.key = None;
            let Some(expires) = st.expires_ns else { return };
            let (periods, next) = hrtimer_forward(expires, st.interval_ns, ktime_get_ns());
            st.ticks = st.ticks.saturating_add(periods);
            if st.interval_ns > 0 {
                st.real_expires_ns = st
                    .real_expires_ns
                    .map(|r| r.saturating_add(periods * st.interval_ns));
                self.arm(&mut st, next);
            } else {
                st.expires_ns = None;
            }
        }
        self.wake();
    }
}

impl Inode for TimerFd {
    fn stat(&self) -> Stat {
        self.stat.stat()
    }

    /// Linux's `timerfd_read_iter`.
    fn read_iter(&self, iocb: &Kiocb, to: &mut IovIter<'_>) -> Result<usize, Errno> {
        if to.count() < 8 {
            return Err(Errno::EINVAL);
        }
        let ticks = loop {
            {
                let mut st = self.state.lock();
                if st.canceled {
                    st.canceled = false;
                    st.ticks = 0;
                    return Err(Errno::ECANCELED);
                }
                if st.ticks > 0 {
                    break core::mem::take(&mut st.ticks);
                }
            }
            if iocb.nonblock() {
                return Err(Errno::EAGAIN);
            }
            self.wait.wait_event_interruptible(|| {
                let st = self.state.lock();
                st.ticks > 0 || st.canceled
            })?;
        };
        if to.copy_to_iter(&ticks.to_ne_bytes()) != 8 {
            self.state.lock().ticks += ticks;
            return Err(Errno::EFAULT);
        }
        Ok(8)
    }

    fn write_iter(&self, _iocb: &Kiocb, _from: &mut IovIter<'_>) -> Result<usize, Errno> {
        Err(Errno::EINVAL)
    }

    /// O_NONBLOCK is decided in `read_iter` (after the size check).
    fn poll_read_ready(&self) -> bool {
        true
    }

    fn poll(&self, _file_flags: u32) -> u32 {
        let st = self.state.lock();
        if st.ticks > 0 || st.canceled {
            pollbits::POLLIN | pollbits::POLLRDNORM
        } else {
            0
        }
    }

    /// Linux's `timerfd_show`.
    fn show_fdinfo(&self, out: &mut alloc::string::String) {
        use core::fmt::Write;
        let st = self.state.lock();
        let left = st
            .expires_ns
            .map_or(0, |e| e.saturating_sub(ktime_get_ns()).max(1));
        let (ticks, flags, interval) = (st.ticks, st.settime_flags, st.interval_ns);
        drop(st);
        const NS: u64 = 1_000_000_000;
        let _ = write!(
            out,
            "clockid: {}\nticks: {}\nsettime flags: 0{:o}\nit_value: ({}, {})\nit_interval: ({}, {})\n",
            self.clockid,
            ticks,
            flags,
            left / NS,
            left % NS,
            interval / NS,
            interval % NS
        );
    }

    fn with_poll_head(&self, f: &mut dyn FnMut(&PollHead)) -> bool {
        f(&self.poll_head);
        true
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Drop for TimerFd {
    fn drop(&mut self) {
        let mut st = self.state.lock();
        TimerFd::disarm(&mut st);
        drop(st);
        REALTIME_ABS.lock().remove(&(self as *const Self as usize));
    }
}

type SysResult = Result<u64, Errno>;

/// `timerfd_create(2)`.
pub fn sys_timerfd_create(clockid: i32, tflags: i32) -> SysResult {
    if tflags & !TFD_CREATE_FLAGS != 0 {
        return Err(Errno::EINVAL);
    }
    if !matches!(
        clockid,
        CLOCK_REALTIME
            | CLOCK_MONOTONIC
            | CLOCK_BOOTTIME
            | CLOCK_REALTIME_ALARM
            | CLOCK_BOOTTIME_ALARM
    ) {
        return Err(Errno::EINVAL);
    }
    let tfd = Arc::new_cyclic(|me| TimerFd {
        clockid,
        state: SpinLock::new(TimerState::default()),
        wait: WaitQueueHead::new(),
        poll_head: PollHead::new(),
        me: me.clone(),
        stat: AnonStat::new(),
    });
    anon_inode_getfd("[timerfd]", tfd, tflags as u32)
}

/// The timerfd behind `fd`: EBADF if none, EINVAL if it is not a timerfd.
fn timerfd_fget(fd: i32) -> Result<(alloc::sync::Arc<super::file::File>, Arc<TimerFd>), Errno> {
    let file = fdget(fd)?;
    let inode: Arc<dyn Any + Send + Sync> = file.inode.clone();
    let tfd = inode.downcast::<TimerFd>().map_err(|_| Errno::EINVAL)?;
    Ok((file, tfd))
}

/// `timerfd_settime(2)`.
pub fn sys_timerfd_settime(fd: i32, tflags: i32, new: u64, old: u64) -> SysResult {
    let mut raw = [0u8; 32];
    copy_from_user(&mut raw, new)?;
    if tflags & !TFD_SETTIME_FLAGS != 0 {
        return Err(Errno::EINVAL);
    }
    let (interval_ns, value_ns) = itimerspec_from_bytes(&raw)?;
    let (_file, tfd) = timerfd_fget(fd)?;
    let absolute = tflags & TFD_TIMER_ABSTIME != 0;
    let previous = {
        let mut st = tfd.state.lock();
        let previous = TimerFd::current_value(&st);
        TimerFd::disarm(&mut st);
        st.ticks = 0;
        st.canceled = false;
        st.settime_flags = tflags;
        st.interval_ns = interval_ns;
        st.might_cancel = tfd.realtime() && absolute && tflags & TFD_TIMER_CANCEL_ON_SET != 0;
        st.real_expires_ns = (tfd.realtime() && absolute && value_ns > 0).then_some(value_ns);
        if value_ns > 0 {
            let expires = expiry_ns(tfd.realtime(), absolute, value_ns);
            tfd.arm(&mut st, expires);
        }
        previous
    };
    let key = Arc::as_ptr(&tfd) as usize;
    if tfd.realtime() && absolute {
        REALTIME_ABS.lock().insert(key, Arc::downgrade(&tfd));
    } else {
        REALTIME_ABS.lock().remove(&key);
    }
    if old != 0 {
        copy_to_user(old, &previous)?;
    }
    Ok(0)
}

/// `timerfd_gettime(2)`.
pub fn sys_timerfd_gettime(fd: i32, cur: u64) -> SysResult {
    let (_file, tfd) = timerfd_fget(fd)?;
    let value = TimerFd::current_value(&tfd.state.lock());
    copy_to_user(cur, &value)?;
    Ok(0)
}

/// The wall clock was set (Linux's `timerfd_clock_was_set` and the hrtimer realtime base
/// moving): absolute CLOCK_REALTIME timers move to the new clock, and those set with
/// TFD_TIMER_CANCEL_ON_SET are cancelled (a read fails with ECANCELED once).
pub fn timerfd_clock_was_set() {
    let all: alloc::vec::Vec<Arc<TimerFd>> = REALTIME_ABS
        .lock()
        .values()
        .filter_map(|w| w.upgrade())
        .collect();
    for tfd in all {
        let mut st = tfd.state.lock();
        if let (Some(real), Some(_)) = (st.real_expires_ns, st.key) {
            TimerFd::disarm(&mut st);
            let expires = crate::kernel::time::timekeeping::real_to_monotonic_ns(real);
            tfd.arm(&mut st, expires);
        }
        let cancel = st.might_cancel;
        if cancel {
            st.canceled = true;
        }
        drop(st);
        if cancel {
            tfd.wake();
        }
    }
}
