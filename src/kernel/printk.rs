//! printk: the kernel log buffer and the consoles (Linux: `kernel/printk/printk.c`).
//!
//! Every message goes into a ring buffer with its level and the generic counter's time, and
//! then to every registered console whose loglevel lets it through. Messages logged before
//! any console exists (the first lines of boot) are replayed when the first one registers,
//! so nothing is lost — as Linux's `register_console` replays its buffer.
//!
//! The `log` crate's macros (`info!`, `warn!`, ...) land here too: [`Printk`] is the
//! `log::Log` backend, mapping its levels onto Linux's `KERN_*` levels.

use alloc::vec::Vec;
use core::fmt::{self, Write};

use crate::kernel::errno::Errno;
use crate::kernel::locking::{InitOnce, SpinLock};
use crate::kernel::printk_fmt::{syslog_record, LineWriter, LogRing, Loglevel, Timestamp};
use crate::kernel::sched::core::set_current_state;
use crate::kernel::signal::{signal_pending, ERESTARTSYS};
use crate::kernel::task::{current, state};
use crate::kernel::time::timer::{msecs_to_jiffies, schedule_timeout};

/// Something that can print bytes: a UART, in practice (Linux's `struct console`).
pub trait Console: Sync {
    /// The device name Linux would give it (`ttyAMA0`, `ttyS1`).
    fn name(&self) -> &str;
    /// Write bytes, turning `\n` into `\r\n`, waiting for room as needed.
    fn write(&self, bytes: &[u8]);
}

/// How many consoles may be registered.
const MAX_CONSOLES: usize = 4;
/// Size of the log ring buffer (Linux: `CONFIG_LOG_BUF_SHIFT`, 64 KiB here).
const LOG_BUF_LEN: usize = 64 * 1024;

/// The log buffer and the console loglevel. The lock also keeps lines from interleaving.
struct State {
    ring: LogRing<LOG_BUF_LEN>,
    /// Messages with a level numerically below this reach the consoles.
    console_loglevel: Loglevel,
    /// The level `syslog(SYSLOG_ACTION_CONSOLE_OFF)` saved, for CONSOLE_ON to restore.
    saved_console_loglevel: Option<Loglevel>,
    /// The first record `syslog(SYSLOG_ACTION_READ_ALL)` shows (moved by `dmesg -c`).
    clear_seq: u64,
    /// The first record `syslog(SYSLOG_ACTION_READ)` has not yet handed out.
    read_seq: u64,
}

static STATE: SpinLock<State> = SpinLock::new(State {
    ring: LogRing::new(),
    console_loglevel: Loglevel::DEFAULT_CONSOLE,
    saved_console_loglevel: None,
    clear_seq: 0,
    read_seq: 0,
});

/// The registered consoles. Written once each, read without a lock, so the panic path can
/// print even when the CPU that holds `STATE` will never release it.
static CONSOLES: [InitOnce<&'static dyn Console>; MAX_CONSOLES] =
    [const { InitOnce::new() }; MAX_CONSOLES];

fn consoles() -> impl Iterator<Item = &'static dyn Console> {
    CONSOLES.iter().filter_map(|c| c.get().copied())
}

/// Log one message at `level` (Linux's `printk(KERN_xxx ...)`).
pub fn printk(level: Loglevel, args: fmt::Arguments<'_>) {
    let ts = now();
    let mut line = LineWriter::<512>::new();
    // A message longer than the line buffer is cut, as Linux cuts at LOG_LINE_MAX.
    let _ = line.write_fmt(args);
    log_store(&mut STATE.lock(), level, ts, line.as_bytes());
}

/// Put one record in the ring and, if its level passes, on every console — all under the
/// log lock, so a record from one CPU is never interleaved with another CPU's.
fn log_store(state: &mut State, level: Loglevel, ts: Timestamp, text: &[u8]) {
    state.ring.push(level, ts, text);
    if level < state.console_loglevel {
        for console in consoles() {
            emit(console, ts, text);
        }
    }
}

/// How long the panic and oops paths wait for the log lock before they print without it.
const EMERGENCY_WAIT_MS: u64 = 1000;

/// Log at KERN_EMERG from the panic and oops paths, which must print even if the log lock is
/// never released (Linux's `bust_spinlocks` / `console_flush_on_panic`): if this CPU holds
/// it (it faulted inside printk), or another CPU keeps it for [`EMERGENCY_WAIT_MS`] (it is
/// stuck, or was stopped while holding it), the line goes straight to the consoles instead —
/// possibly mixed with that CPU's output, which beats silence.
pub fn printk_emergency(args: fmt::Arguments<'_>) {
    let ts = now();
    let mut line = LineWriter::<512>::new();
    let _ = line.write_fmt(args);
    match emergency_lock() {
        Some(mut state) => log_store(&mut state, Loglevel::EMERG, ts, line.as_bytes()),
        None => {
            for console in consoles() {
                emit(console, ts, line.as_bytes());
            }
        }
    }
}

/// The log lock, unless this CPU already holds it or it stays taken for
/// [`EMERGENCY_WAIT_MS`].
fn emergency_lock() -> Option<crate::kernel::locking::SpinLockGuard<'static, State>> {
    if STATE.held_by_this_cpu() {
        return None;
    }
    let (start, freq) = crate::arch::arch_timer::counter_and_frequency();
    let limit = freq * EMERGENCY_WAIT_MS / 1000;
    loop {
        if let Some(guard) = STATE.try_lock() {
            return Some(guard);
        }
        let (now, _) = crate::arch::arch_timer::counter_and_frequency();
        if now.wrapping_sub(start) >= limit {
            return None;
        }
        core::hint::spin_loop();
    }
}

/// The time stamp of a message: the generic counter, which runs from power-on.
fn now() -> Timestamp {
    let (count, freq) = crate::arch::arch_timer::counter_and_frequency();
    Timestamp::from_counter(count, freq)
}

/// Print one record: every line of it gets the time stamp, as Linux prints multi-line
/// messages.
fn emit(console: &dyn Console, ts: Timestamp, text: &[u8]) {
    let mut prefix = LineWriter::<32>::new();
    let _ = write!(prefix, "{ts} ");
    let text = text.strip_suffix(b"\n").unwrap_or(text);
    for line in text.split(|&b| b == b'\n') {
        console.write(prefix.as_bytes());
        console.write(line);
        console.write(b"\n");
    }
}

/// Register a console and replay the log buffer onto it (Linux's `register_console`).
pub fn register_console(console: &'static dyn Console) {
    let state = STATE.lock();
    if !CONSOLES.iter().any(|slot| slot.set(console).is_ok()) {
        return;
    }
    let level = state.console_loglevel;
    for (lvl, ts, text) in state.ring.iter() {
        if lvl < level {
            emit(console, ts, text);
        }
    }
    drop(state);
    printk(
        Loglevel::INFO,
        format_args!("printk: console [{}] enabled", console.name()),
    );
}

/// The name of the first registered console (`ttyAMA0`, `ttyS1`), if there is one.
pub fn console_name() -> Option<&'static str> {
    consoles().next().map(|c| c.name())
}

/// Set the console loglevel from the command line: `loglevel=N`, `quiet`, `debug`.
pub fn set_console_loglevel(level: Loglevel) {
    STATE.lock().console_loglevel = level;
}

/// The current console loglevel.
pub fn console_loglevel() -> Loglevel {
    STATE.lock().console_loglevel
}

/// Write raw bytes to every console, bypassing the log (for KTAP output and the like,
/// which tests parse line by line and which must not carry a timestamp).
pub fn console_write(bytes: &[u8]) {
    let _state = STATE.lock();
    for console in consoles() {
        console.write(bytes);
    }
}

/// The `log` crate backend.
pub struct Printk;

/// The one instance handed to `log::set_logger`.
pub static PRINTK: Printk = Printk;

impl log::Log for Printk {
    fn enabled(&self, _metadata: &log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &log::Record<'_>) {
        let level = Loglevel::from(record.level());
        printk(level, *record.args());
    }

    fn flush(&self) {}
}

/// Install [`PRINTK`] as the `log` backend. Called first thing in `start_kernel`.
pub fn printk_init() {
    // Only fails if a logger is already set, which would mean printk_init ran twice.
    let _ = log::set_logger(&PRINTK);
    log::set_max_level(log::LevelFilter::Trace);
}

/// `pr_emerg!`: log at KERN_EMERG (always reaches the console).
#[macro_export]
macro_rules! pr_emerg {
    ($($arg:tt)*) => {
        $crate::kernel::printk::printk(
            $crate::kernel::printk_fmt::Loglevel::EMERG, format_args!($($arg)*))
    };
}

/// `pr_alert!`: log at KERN_ALERT.
#[macro_export]
macro_rules! pr_alert {
    ($($arg:tt)*) => {
        $crate::kernel::printk::printk(
            $crate::kernel::printk_fmt::Loglevel::ALERT, format_args!($($arg)*))
    };
}

/// A `fmt::Write` that logs each complete line at KERN_INFO (for long reports such as the
/// page-table dump, without a large buffer on the stack).
pub struct LineLogger {
    line: LineWriter<160>,
}

impl LineLogger {
    /// An empty logger.
    pub fn new() -> Self {
        Self {
            line: LineWriter::new(),
        }
    }
}

impl Default for LineLogger {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Write for LineLogger {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut rest = s;
        while let Some(nl) = rest.find('\n') {
            self.line.write_str(&rest[..nl])?;
            printk(Loglevel::INFO, format_args!("{}", self.line.as_str()));
            self.line = LineWriter::new();
            rest = &rest[nl + 1..];
        }
        self.line.write_str(rest)
    }
}

impl Drop for LineLogger {
    fn drop(&mut self) {
        if !self.line.as_bytes().is_empty() {
            printk(Loglevel::INFO, format_args!("{}", self.line.as_str()));
        }
    }
}

/// `syslog(2)`'s actions (Linux's `SYSLOG_ACTION_*`, `include/linux/syslog.h`).
mod action {
    pub const CLOSE: i32 = 0;
    pub const OPEN: i32 = 1;
    pub const READ: i32 = 2;
    pub const READ_ALL: i32 = 3;
    pub const READ_CLEAR: i32 = 4;
    pub const CLEAR: i32 = 5;
    pub const CONSOLE_OFF: i32 = 6;
    pub const CONSOLE_ON: i32 = 7;
    pub const CONSOLE_LEVEL: i32 = 8;
    pub const SIZE_UNREAD: i32 = 9;
    pub const SIZE_BUFFER: i32 = 10;
}

/// The lowest console loglevel `syslog` may set (Linux's `minimum_console_loglevel`).
const MINIMUM_CONSOLE_LOGLEVEL: Loglevel = Loglevel(1);

/// Records from `from` on, formatted as `syslog(2)` returns them, each record's bytes
/// kept apart so callers can hand out whole records.
fn format_records(state: &State, from: u64) -> Vec<Vec<u8>> {
    let mut records = Vec::new();
    for (seq, level, ts, text) in state.ring.iter_seq() {
        if seq >= from {
            let mut bytes = Vec::new();
            syslog_record(level, ts, text, &mut |b: &[u8]| bytes.extend_from_slice(b));
            records.push(bytes);
        }
    }
    records
}

/// Copy records to the user buffer `buf` of `len` bytes, and return how many bytes went.
/// The records are formatted under the log lock but copied after it is dropped: a fault
/// while copying may itself want to log.
fn copy_records(buf: u64, len: usize, records: &[Vec<u8>]) -> Result<u64, Errno> {
    let mut out = Vec::with_capacity(len.min(records.iter().map(Vec::len).sum()));
    for r in records {
        let room = len - out.len();
        out.extend_from_slice(&r[..r.len().min(room)]);
        if out.len() == len {
            break;
        }
    }
    crate::arch::uaccess::copy_to_user(buf, &out)?;
    Ok(out.len() as u64)
}

/// `syslog(2)` (glibc's `klogctl`, busybox's `dmesg` and `klogd`): read or clear the log
/// buffer and set the console loglevel (Linux's `do_syslog`). Everyone is root here, so
/// there is no permission check.
pub fn sys_syslog(kind: i32, buf: u64, len: i32) -> Result<u64, Errno> {
    let reads = matches!(kind, action::READ | action::READ_ALL | action::READ_CLEAR);
    if reads {
        if buf == 0 || len < 0 {
            return Err(Errno::EINVAL);
        }
        if len == 0 {
            return Ok(0);
        }
    }
    let len = len.max(0) as usize;
    match kind {
        action::CLOSE | action::OPEN => Ok(0),
        action::READ => {
            // Wait for something unread. printk itself wakes no one (it runs with any lock
            // held, the scheduler's included), so the reader looks again every 100 ms.
            let records = loop {
                {
                    let mut state = STATE.lock();
                    state.read_seq = state.read_seq.max(state.ring.first_seq());
                    let records = format_records(&state, state.read_seq);
                    if !records.is_empty() {
                        // Hand out the records that fit whole (at least one, cut if it
                        // must be), oldest first, and move the reader past them.
                        let mut used = 0;
                        let mut taken = 0;
                        for r in &records {
                            if taken > 0 && used + r.len() > len {
                                break;
                            }
                            used += r.len();
                            taken += 1;
                        }
                        state.read_seq += taken as u64;
                        break records.into_iter().take(taken).collect::<Vec<_>>();
                    }
                }
                if signal_pending(current()) {
                    return Err(ERESTARTSYS);
                }
                set_current_state(state::TASK_INTERRUPTIBLE);
                schedule_timeout(msecs_to_jiffies(100));
            };
            copy_records(buf, len, &records)
        }
        action::READ_ALL | action::READ_CLEAR => {
            let mut state = STATE.lock();
            let from = state.clear_seq.max(state.ring.first_seq());
            let mut records = format_records(&state, from);
            // The newest records that fit whole, as Linux's `syslog_print_all` does.
            let mut used = 0;
            let mut keep = 0;
            for r in records.iter().rev() {
                if used + r.len() > len {
                    break;
                }
                used += r.len();
                keep += 1;
            }
            records.drain(..records.len() - keep);
            if kind == action::READ_CLEAR {
                state.clear_seq = state.ring.next_seq();
            }
            drop(state);
            copy_records(buf, len, &records)
        }
        action::CLEAR => {
            let mut state = STATE.lock();
            state.clear_seq = state.ring.next_seq();
            Ok(0)
        }
        action::CONSOLE_OFF => {
            let mut state = STATE.lock();
            if state.saved_console_loglevel.is_none() {
                state.saved_console_loglevel = Some(state.console_loglevel);
            }
            state.console_loglevel = MINIMUM_CONSOLE_LOGLEVEL;
            Ok(0)
        }
        action::CONSOLE_ON => {
            let mut state = STATE.lock();
            if let Some(level) = state.saved_console_loglevel.take() {
                state.console_loglevel = level;
            }
            Ok(0)
        }
        action::CONSOLE_LEVEL => {
            if !(1..=8).contains(&len) {
                return Err(Errno::EINVAL);
            }
            let mut state = STATE.lock();
            state.console_loglevel = Loglevel(len as u8).max(MINIMUM_CONSOLE_LOGLEVEL);
            // An explicit level ends a CONSOLE_OFF, as in Linux.
            state.saved_console_loglevel = None;
            Ok(0)
        }
        action::SIZE_UNREAD => {
            let state = STATE.lock();
            let from = state.read_seq.max(state.ring.first_seq());
            Ok(format_records(&state, from)
                .iter()
                .map(Vec::len)
                .sum::<usize>() as u64)
        }
        action::SIZE_BUFFER => Ok(LOG_BUF_LEN as u64),
        _ => Err(Errno::EINVAL),
    }
}
