//! The console terminal and its line discipline (Linux: `drivers/tty/tty_io.c`,
//! `drivers/tty/n_tty.c`, reduced).
//!
//! Bytes the UART receives (by interrupt) go through a canonical-mode line discipline:
//! echoed back, edited by backspace, and handed to readers a line at a time; Ctrl-D ends
//! input; with ISIG, ^C, ^\ and ^Z send SIGINT, SIGQUIT and SIGTSTP to the foreground
//! process group (job control: [`super::tty_jobctrl`]). Writes go to the console with `\n`
//! as `\r\n`. `/dev/console` (5:1), `/dev/ttyAMA0` (204:64) and `/dev/ttyS1` (4:65) reach
//! it, and `/dev/tty` (5:0) does for the processes it is the controlling terminal of.

use crate::fs::select::PollHead;
use alloc::collections::VecDeque;
use alloc::sync::Arc;
use alloc::vec::Vec;

use super::tty_jobctrl::JobCtrl;
use crate::fs::char_dev::{self, CharDevice};
use crate::fs::iov_iter::{short_copy, IovIter};
use crate::kernel::errno::Errno;
use crate::kernel::locking::mutex::Mutex;
use crate::kernel::locking::SpinLock;
use crate::kernel::sched::wait::WaitQueueHead;
use crate::kernel::workqueue::{schedule_work, WorkStruct};
use core::sync::atomic::{AtomicI32, Ordering};

/// termios ioctls (Linux's `asm-generic/ioctls.h`).
pub mod ioctls {
    /// Get the termios.
    pub const TCGETS: u32 = 0x5401;
    /// Set the termios now.
    pub const TCSETS: u32 = 0x5402;
    /// Set after output drains.
    pub const TCSETSW: u32 = 0x5403;
    /// Set after output drains, flushing input.
    pub const TCSETSF: u32 = 0x5404;
    /// Wait until output drains (`tcdrain`) or send a break.
    pub const TCSBRK: u32 = 0x5409;
    /// Suspend or restart output (`tcflow`).
    pub const TCXONC: u32 = 0x540a;
    /// Discard queued input or output (`tcflush`).
    pub const TCFLSH: u32 = 0x540b;
    /// Bytes waiting to be read (FIONREAD).
    pub const TIOCINQ: u32 = 0x541b;
    /// Get the window size.
    pub const TIOCGWINSZ: u32 = 0x5413;
    /// Set the window size.
    pub const TIOCSWINSZ: u32 = 0x5414;
}

/// Linux's `struct termios` for arm64 (asm-generic `termbits.h`): 36 bytes.
#[repr(C)]
#[derive(Clone, Copy)]
struct Termios {
    c_iflag: u32,
    c_oflag: u32,
    c_cflag: u32,
    c_lflag: u32,
    c_line: u8,
    c_cc: [u8; 19],
}

/// How much of a write is copied in and written at a time (Linux's `tty_write` chunk).
const TTY_WRITE_CHUNK: usize = 2048;

const ICRNL: u32 = 0o400;
const OPOST: u32 = 0o1;
const ONLCR: u32 = 0o4;
const ISIG: u32 = 0o1;
const ICANON: u32 = 0o2;
const ECHO: u32 = 0o10;
const ECHOE: u32 = 0o20;
const ECHOK: u32 = 0o40;
const B115200: u32 = 0o10002;
const CS8: u32 = 0o60;
const CREAD: u32 = 0o200;
const ECHOCTL: u32 = 0o1000;
const NOFLSH: u32 = 0o200;
const TOSTOP: u32 = 0o400;
const VINTR: usize = 0;
const VQUIT: usize = 1;
const VSUSP: usize = 10;
const VERASE: usize = 2;
const VKILL: usize = 3;
const VEOF: usize = 4;
const VTIME: usize = 5;
const VMIN: usize = 6;

impl Termios {
    /// Linux's `tty_std_termios`.
    const fn default() -> Self {
        let mut c_cc = [0u8; 19];
        c_cc[VINTR] = 3; // ^C
        c_cc[VQUIT] = 28; // ^\
        c_cc[VERASE] = 127;
        c_cc[VKILL] = 21; // ^U
        c_cc[VEOF] = 4; // ^D
        c_cc[VMIN] = 1;
        c_cc[VSUSP] = 26; // ^Z
        Self {
            c_iflag: ICRNL,
            c_oflag: OPOST | ONLCR,
            c_cflag: B115200 | CS8 | CREAD,
            c_lflag: ISIG | ICANON | ECHO | ECHOE | ECHOK,
            c_line: 0,
            c_cc,
        }
    }
}

struct Ldisc {
    termios: Termios,
    /// Bytes being typed (canonical mode): not yet readable.
    edit: Vec<u8>,
    /// Bytes a reader can take.
    ready: VecDeque<u8>,
    /// Ctrl-D seen with nothing typed: the next read returns 0.
    eof: usize,
    /// Times `ready` was flushed: a reader that copied bytes out takes them from `ready`
    /// only if no flush came in between (the bytes it saw are gone already).
    flushes: u64,
    winsize: [u16; 4],
}

impl Ldisc {
    /// Throw away what readers could take.
    fn flush_ready(&mut self) {
        self.ready.clear();
        self.flushes += 1;
    }
}

/// The console tty.
pub struct Tty {
    ldisc: SpinLock<Ldisc>,
    /// One reader at a time (Linux's `ldata->atomic_read_lock`): held while a reader copies
    /// bytes to user memory, which may sleep, before it takes them from `ready`.
    read_lock: Mutex<()>,
    readers: WaitQueueHead,
    /// Its session and foreground process group.
    pub jobctrl: JobCtrl,
}

static CONSOLE_TTY: Tty = Tty {
    ldisc: SpinLock::new(Ldisc {
        termios: Termios::default(),
        edit: Vec::new(),
        ready: VecDeque::new(),
        eof: 0,
        flushes: 0,
        winsize: [24, 80, 0, 0],
    }),
    read_lock: Mutex::new(()),
    readers: WaitQueueHead::new(),
    jobctrl: JobCtrl::new(),
};

fn echo(bytes: &[u8]) {
    crate::kernel::printk::console_write(bytes);
}

impl Tty {
    /// A byte from the UART (interrupt context): the line discipline's input side.
    pub fn receive(&self, mut byte: u8) {
        let mut ld = self.ldisc.lock();
        let t = ld.termios;
        if byte == b'\r' && t.c_iflag & ICRNL != 0 {
            byte = b'\n';
        }
        let echoing = t.c_lflag & ECHO != 0;
        if t.c_lflag & ISIG != 0 {
            let signo = if byte == t.c_cc[VINTR] {
                crate::kernel::signal::sig::SIGINT
            } else if byte == t.c_cc[VQUIT] {
                crate::kernel::signal::sig::SIGQUIT
            } else if byte == t.c_cc[VSUSP] {
                crate::kernel::signal::sig::SIGTSTP
            } else {
                0
            };
            if signo != 0 && byte != 0 {
                // Linux's `n_tty_receive_signal_char`: flush the input, echo `^C`, signal.
                if t.c_lflag & NOFLSH == 0 {
                    ld.edit.clear();
                    ld.flush_ready();
                }
                if echoing && t.c_lflag & ECHOCTL != 0 {
                    echo(&[b'^', byte ^ 0x40]);
                }
                drop(ld);
                isig(signo);
                self.readers.wake_up_all();
                TTY_POLL.wake();
                return;
            }
        }
        if t.c_lflag & ICANON == 0 {
            ld.ready.push_back(byte);
            if echoing {
                echo(&[byte]);
            }
        } else if byte == t.c_cc[VERASE] || byte == 8 {
            if ld.edit.pop().is_some() && echoing {
                echo(b"\x08 \x08");
            }
        } else if byte == t.c_cc[VKILL] {
            while ld.edit.pop().is_some() {
                if echoing {
                    echo(b"\x08 \x08");
                }
            }
        } else if byte == t.c_cc[VEOF] {
            let line: Vec<u8> = core::mem::take(&mut ld.edit);
            if line.is_empty() {
                ld.eof += 1;
            }
            ld.ready.extend(line);
        } else {
            ld.edit.push(byte);
            if echoing {
                echo(if byte == b'\n' {
                    b"\n"
                } else {
                    core::slice::from_ref(&byte)
                });
            }
            if byte == b'\n' {
                let line: Vec<u8> = core::mem::take(&mut ld.edit);
                ld.ready.extend(line);
            }
        }
        drop(ld);
        self.readers.wake_up_all();
        TTY_POLL.wake();
    }

    /// Non-canonical read, with POSIX's VMIN/VTIME rules (VTIME in tenths of a second):
    /// MIN=0 TIME=0 returns what is there; MIN=0 TIME>0 waits up to TIME for a byte;
    /// MIN>0 TIME=0 waits for MIN bytes (or as many as asked for); MIN>0 TIME>0 waits for
    /// the first byte, then returns at MIN bytes or when TIME passes with no new byte
    /// (Linux's `n_tty_read` non-canonical branch).
    fn read_raw(&self, to: &mut IovIter<'_>, vmin: usize, vtime: u64) -> Result<usize, Errno> {
        let want = vmin.min(to.count());
        let ticks = (vtime * crate::kernel::time::HZ).div_ceil(10);
        let available = || self.ldisc.lock().ready.len();
        let mut n = 0;
        loop {
            // Take what is there.
            let (copied, faulted) = self.deliver(to, false);
            n += copied;
            if faulted {
                return if n > 0 { Ok(n) } else { Err(Errno::EFAULT) };
            }
            if n >= want.max(1) || to.count() == 0 || (vmin == 0 && vtime == 0) {
                return Ok(n);
            }
            if vtime == 0 || (vmin > 0 && n == 0) {
                // No timer, or MIN>0 and the inter-byte timer starts at the first byte.
                let waited = self.readers.wait_event_interruptible(|| available() > 0);
                if let Err(e) = waited {
                    return if n > 0 { Ok(n) } else { Err(e) };
                }
            } else {
                match self
                    .readers
                    .wait_event_interruptible_timeout(|| available() > 0, ticks)
                {
                    Ok(0) => return Ok(n), // TIME passed with nothing new
                    Ok(_) => {}
                    Err(e) => return if n > 0 { Ok(n) } else { Err(e) },
                }
            }
        }
    }

    /// Copy bytes of `ready` into `to` (in canonical mode, up to the end of the line),
    /// a piece at a time: each piece is copied out of the lock, then taken from `ready` as
    /// far as the copy got, so a fault consumes nothing it did not deliver. The caller holds
    /// `read_lock`. Returns the bytes delivered and whether a copy faulted.
    fn deliver(&self, to: &mut IovIter<'_>, canonical: bool) -> (usize, bool) {
        let mut piece = [0u8; 64];
        let mut done = 0;
        while to.count() > 0 {
            let (n, flushes, line_end) = {
                let ld = self.ldisc.lock();
                let mut n = 0;
                let mut line_end = false;
                for &b in ld.ready.iter().take(piece.len().min(to.count())) {
                    piece[n] = b;
                    n += 1;
                    if canonical && b == b'\n' {
                        line_end = true;
                        break;
                    }
                }
                (n, ld.flushes, line_end)
            };
            if n == 0 {
                break;
            }
            let copied = to.copy_to_iter(&piece[..n]);
            {
                let mut ld = self.ldisc.lock();
                if ld.flushes == flushes {
                    ld.ready.drain(..copied);
                }
            }
            done += copied;
            if copied < n {
                return (done, true);
            }
            if line_end {
                break;
            }
        }
        (done, false)
    }

    fn readable(&self) -> bool {
        let ld = self.ldisc.lock();
        !ld.ready.is_empty() || ld.eof > 0
    }
}

impl CharDevice for Tty {
    fn read(&self, to: &mut IovIter<'_>) -> Result<usize, Errno> {
        self.jobctrl.check_read()?;
        if to.count() == 0 {
            return Ok(0);
        }
        let _reader = self.read_lock.lock();
        let t = self.ldisc.lock().termios;
        if t.c_lflag & ICANON == 0 {
            return self.read_raw(to, t.c_cc[VMIN] as usize, t.c_cc[VTIME] as u64);
        }
        self.readers.wait_event_interruptible(|| self.readable())?;
        {
            let mut ld = self.ldisc.lock();
            if ld.ready.is_empty() && ld.eof > 0 {
                ld.eof -= 1;
                return Ok(0);
            }
        }
        let (done, faulted) = self.deliver(to, true);
        if faulted && done == 0 {
            return Err(Errno::EFAULT);
        }
        Ok(done)
    }

    fn write(&self, from: &mut IovIter<'_>) -> Result<usize, Errno> {
        if self.ldisc.lock().termios.c_lflag & TOSTOP != 0 {
            self.jobctrl.check_change()?;
        }
        // Linux's `iterate_tty_write`: chunks of 2048 bytes, each copied whole from the
        // caller before it is written; a chunk that faults is not written, and the call
        // returns what the chunks before it wrote (EFAULT if none).
        let mut chunk = Vec::new();
        let mut done = 0;
        while from.count() > 0 {
            let want = from.count().min(TTY_WRITE_CHUNK);
            if chunk.len() < want {
                chunk.try_reserve_exact(want).map_err(|_| Errno::ENOMEM)?;
                chunk.resize(want, 0u8);
            }
            if from.copy_from_iter(&mut chunk[..want]) < want {
                return short_copy(done, 0, want);
            }
            crate::kernel::printk::console_write(&chunk[..want]);
            done += want;
        }
        Ok(done)
    }

    fn ioctl(&self, cmd: u32, arg: u64) -> Result<i64, Errno> {
        use crate::arch::uaccess::{copy_from_user, copy_to_user};
        if let Some(result) = self.jobctrl.ioctl(cmd, arg) {
            return result;
        }
        match cmd {
            ioctls::TCGETS => {
                let t = self.ldisc.lock().termios;
                // SAFETY: Termios is plain old data of 36 bytes.
                let bytes =
                    unsafe { core::slice::from_raw_parts(&t as *const Termios as *const u8, 36) };
                copy_to_user(arg, bytes)?;
                Ok(0)
            }
            ioctls::TCSETS | ioctls::TCSETSW | ioctls::TCSETSF => {
                self.jobctrl.check_change()?;
                let mut bytes = [0u8; 36];
                copy_from_user(&mut bytes, arg)?;
                // SAFETY: any 36 bytes are a valid Termios (integers only).
                let t = unsafe { (bytes.as_ptr() as *const Termios).read_unaligned() };
                let mut ld = self.ldisc.lock();
                ld.termios = t;
                if cmd == ioctls::TCSETSF {
                    ld.flush_ready();
                    ld.edit.clear();
                }
                Ok(0)
            }
            ioctls::TIOCGWINSZ => {
                let ws = self.ldisc.lock().winsize;
                let mut bytes = [0u8; 8];
                for (i, v) in ws.iter().enumerate() {
                    bytes[2 * i..2 * i + 2].copy_from_slice(&v.to_ne_bytes());
                }
                copy_to_user(arg, &bytes)?;
                Ok(0)
            }
            ioctls::TIOCSWINSZ => {
                let mut bytes = [0u8; 8];
                copy_from_user(&mut bytes, arg)?;
                let mut ld = self.ldisc.lock();
                let old = ld.winsize;
                for i in 0..4 {
                    ld.winsize[i] = u16::from_ne_bytes([bytes[2 * i], bytes[2 * i + 1]]);
                }
                let changed = ld.winsize != old;
                drop(ld);
                if changed {
                    // Linux's `tty_do_resize`: the foreground redraws.
                    let fg = self.jobctrl.foreground();
                    let _ = crate::kernel::session::kill_pgrp(
                        fg,
                        crate::kernel::signal::sig::SIGWINCH,
                        true,
                    );
                }
                Ok(0)
            }
            ioctls::TCFLSH => {
                self.jobctrl.check_change()?;
                if arg == 0 || arg == 2 {
                    // TCIFLUSH or TCIOFLUSH: typed-ahead input goes; output is never queued.
                    let mut ld = self.ldisc.lock();
                    ld.flush_ready();
                    ld.edit.clear();
                    ld.eof = 0;
                } else if arg != 1 {
                    return Err(Errno::EINVAL);
                }
                Ok(0)
            }
            // Output is written synchronously, so it has always drained; no breaks or flow
            // control on the console.
            ioctls::TCSBRK | ioctls::TCXONC => Ok(0),
            ioctls::TIOCINQ => {
                let n = self.ldisc.lock().ready.len() as i32;
                copy_to_user(arg, &n.to_ne_bytes())?;
                Ok(0)
            }
            _ => Err(Errno::ENOTTY),
        }
    }

    fn poll_read_ready(&self) -> bool {
        self.readable()
    }
}

/// The signal ^C, ^\ or ^Z asked for, until the worker sends it (0: none). One at a time:
/// a second key before the worker runs replaces the first.
static TTY_SIGNAL: AtomicI32 = AtomicI32::new(0);
static TTY_SIGNAL_WORK: WorkStruct = WorkStruct::new(tty_signal_work);

/// Send `signo` to the tty's foreground (Linux's `isig` → `kill_pgrp`). The UART interrupt
/// hands it to a worker: finding the tasks takes locks and allocates.
fn isig(signo: i32) {
    TTY_SIGNAL.store(signo, Ordering::Release);
    schedule_work(&TTY_SIGNAL_WORK);
}

/// Send the keyboard's signal to the foreground process group, if the tty has one.
fn tty_signal_work(_: &'static WorkStruct) {
    let signo = TTY_SIGNAL.swap(0, Ordering::AcqRel);
    if signo != 0 {
        let _ = crate::kernel::session::kill_pgrp(CONSOLE_TTY.jobctrl.foreground(), signo, true);
    }
}

/// Bytes from the console UART, called by its interrupt handler.
pub fn tty_receive(byte: u8) {
    CONSOLE_TTY.receive(byte);
}

/// The console tty, for job control outside this file (exit, /proc).
pub fn console_tty() -> &'static Tty {
    &CONSOLE_TTY
}

/// The console tty's own device number (Linux's `tty_devnum`): the PL011's `ttyAMA0`
/// (204:64) or the mini UART's `ttyS1` (4:65).
pub fn console_devnum() -> (u32, u32) {
    match crate::kernel::printk::console_name() {
        Some(name) if name.starts_with("ttyS") => (4, 65),
        _ => (204, 64),
    }
}

/// Which device node reached the console tty.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Node {
    /// `/dev/tty` (5:0): the caller's controlling terminal.
    CurrentTty,
    /// `/dev/console` (5:1): never becomes a controlling terminal by being opened.
    Console,
    /// The UART's own node (`/dev/ttyAMA0`, `/dev/ttyS0`).
    Line,
}

/// A handle on the console tty for the device table.
struct ConsoleDev(Node);

impl CharDevice for ConsoleDev {
    fn open(&self, flags: u32) -> Result<(), Errno> {
        match self.0 {
            Node::CurrentTty => CONSOLE_TTY.jobctrl.open_current_tty(),
            Node::Console => Ok(()),
            Node::Line => {
                if flags & crate::fs::file::flags::O_NOCTTY == 0 {
                    CONSOLE_TTY.jobctrl.on_open();
                }
                Ok(())
            }
        }
    }
    fn read(&self, to: &mut IovIter<'_>) -> Result<usize, Errno> {
        CONSOLE_TTY.read(to)
    }
    fn write(&self, from: &mut IovIter<'_>) -> Result<usize, Errno> {
        CONSOLE_TTY.write(from)
    }
    fn ioctl(&self, cmd: u32, arg: u64) -> Result<i64, Errno> {
        CONSOLE_TTY.ioctl(cmd, arg)
    }
    fn poll_read_ready(&self) -> bool {
        CONSOLE_TTY.poll_read_ready()
    }
    fn poll_head(&self) -> Option<&'static PollHead> {
        Some(&TTY_POLL)
    }
}

/// epoll items watching the console tty; woken with its readers.
static TTY_POLL: PollHead = PollHead::new();

/// Register the console tty under its device numbers (Linux's `tty_init`).
fn tty_init() -> i32 {
    char_dev::register(5, 0, Arc::new(ConsoleDev(Node::CurrentTty)));
    char_dev::register(5, 1, Arc::new(ConsoleDev(Node::Console)));
    char_dev::register(204, 64, Arc::new(ConsoleDev(Node::Line)));
    char_dev::register(4, 65, Arc::new(ConsoleDev(Node::Line)));
    0
}
crate::fs_initcall!(tty_init);
