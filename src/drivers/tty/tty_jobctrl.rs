//! Job control on a terminal (Linux: `drivers/tty/tty_jobctrl.c`).
//!
//! A terminal belongs to at most one session, whose leader took it as its *controlling
//! terminal* (`TIOCSCTTY`, or by opening it without `O_NOCTTY`); inside that session one
//! process group is in the *foreground* (`TIOCSPGRP`). The foreground group gets the keyboard
//! signals and may read; a background group that reads gets SIGTTIN, and one that changes
//! the terminal's settings (or writes, under `TOSTOP`) gets SIGTTOU — both stop it by
//! default, and its shell's `fg` continues it. When the session leader exits, the terminal
//! is free again: its foreground group gets SIGHUP and SIGCONT, and every process of the
//! session loses it (Linux's `disassociate_ctty`).

use core::sync::atomic::{AtomicI32, Ordering};

use crate::arch::uaccess::{copy_from_user, copy_to_user};
use crate::kernel::errno::Errno;
use crate::kernel::session::{self, is_session_leader, pgrp_of, session_of};
use crate::kernel::signal::{self, sig, ERESTARTSYS};
use crate::kernel::task::{current, TaskStruct};

/// Job-control ioctls (Linux's `asm-generic/ioctls.h`).
pub mod ioctls {
    /// Make the terminal the caller's controlling terminal.
    pub const TIOCSCTTY: u32 = 0x540e;
    /// Get the foreground process group.
    pub const TIOCGPGRP: u32 = 0x540f;
    /// Set the foreground process group.
    pub const TIOCSPGRP: u32 = 0x5410;
    /// Give up the controlling terminal.
    pub const TIOCNOTTY: u32 = 0x5422;
    /// Get the terminal's session.
    pub const TIOCGSID: u32 = 0x5429;
}

/// Which session owns a terminal and which of its groups is in the foreground (Linux's
/// `tty->session` and `tty->pgrp`; 0 for none).
pub struct JobCtrl {
    session: AtomicI32,
    pgrp: AtomicI32,
}

impl JobCtrl {
    /// A terminal no session owns.
    pub const fn new() -> Self {
        Self {
            session: AtomicI32::new(0),
            pgrp: AtomicI32::new(0),
        }
    }

    /// The foreground process group (0: none).
    pub fn foreground(&self) -> i32 {
        self.pgrp.load(Ordering::Acquire)
    }

    /// True if this terminal is `task`'s controlling terminal.
    pub fn is_ctty_of(&self, task: &TaskStruct) -> bool {
        let owner = self.session.load(Ordering::Acquire);
        task.ctty.load(Ordering::Relaxed) && owner != 0 && owner == session_of(task)
    }

    /// For /proc/<pid>/stat's `tpgid`: the foreground group of `task`'s terminal, or -1.
    pub fn tpgid_of(&self, task: &TaskStruct) -> i32 {
        if self.is_ctty_of(task) {
            self.foreground()
        } else {
            -1
        }
    }

    /// May the current process act on the terminal as if in the foreground? A background
    /// process of the terminal's session gets `signo` sent to its group and the call is
    /// restarted once it is continued; if it cannot be stopped (the signal ignored or
    /// blocked, or an orphaned group), `Ok` when `ignored_ok` (changing settings, writing)
    /// or EIO (reading). Linux's `__tty_check_change`.
    fn check(&self, signo: i32, ignored_ok: bool) -> Result<(), Errno> {
        let me = current();
        if !self.is_ctty_of(me) {
            return Ok(());
        }
        let fg = self.foreground();
        let mine = pgrp_of(me);
        if fg == 0 || fg == mine {
            return Ok(());
        }
        if signal::is_ignored_or_blocked(me, signo) {
            return if ignored_ok { Ok(()) } else { Err(Errno::EIO) };
        }
        if session::is_current_pgrp_orphaned() {
            return Err(Errno::EIO);
        }
        let _ = session::kill_pgrp(mine, signo, true);
        Err(ERESTARTSYS)
    }

    /// Before a read (Linux's `job_control` in n_tty): SIGTTIN for a background group.
    pub fn check_read(&self) -> Result<(), Errno> {
        self.check(sig::SIGTTIN, false)
    }

    /// Before a change of settings, and before a write under `TOSTOP` (Linux's
    /// `tty_check_change`): SIGTTOU for a background group.
    pub fn check_change(&self) -> Result<(), Errno> {
        self.check(sig::SIGTTOU, true)
    }

    /// Opening the terminal's own device node (not `/dev/console` or `/dev/tty`) without
    /// O_NOCTTY makes it the controlling terminal of a session leader that has none, if no
    /// other session has it (Linux's `tty_open_proc_set_tty`).
    pub fn on_open(&self) {
        let me = current();
        if is_session_leader(me)
            && !me.ctty.load(Ordering::Relaxed)
            && self.session.load(Ordering::Acquire) == 0
        {
            self.attach(me);
        }
    }

    /// Opening `/dev/tty`: there must be a controlling terminal (ENXIO, as on Linux).
    pub fn open_current_tty(&self) -> Result<(), Errno> {
        if self.is_ctty_of(current()) {
            Ok(())
        } else {
            Err(Errno::ENXIO)
        }
    }

    fn attach(&self, task: &TaskStruct) {
        self.session.store(session_of(task), Ordering::Release);
        self.pgrp.store(pgrp_of(task), Ordering::Release);
        task.ctty.store(true, Ordering::Relaxed);
    }

    /// Free the terminal from its session: every process of it loses the terminal, and the
    /// foreground group gets SIGHUP and SIGCONT (Linux's `disassociate_ctty` with the
    /// hangup of the session's terminal).
    fn detach_session(&self, sid: i32) {
        let fg = self.pgrp.swap(0, Ordering::AcqRel);
        self.session.store(0, Ordering::Release);
        crate::kernel::pid::for_each_task(|t| {
            if session_of(t) == sid {
                t.ctty.store(false, Ordering::Relaxed);
            }
        });
        if fg > 0 {
            let _ = session::kill_pgrp(fg, sig::SIGHUP, true);
            let _ = session::kill_pgrp(fg, sig::SIGCONT, true);
        }
    }

    /// A session leader is exiting: if this is its terminal, free it.
    pub fn leader_exit(&self, task: &TaskStruct) {
        if is_session_leader(task) && self.is_ctty_of(task) {
            self.detach_session(session_of(task));
        }
    }

    /// The job-control ioctls; `None` if `cmd` is not one of them.
    pub fn ioctl(&self, cmd: u32, arg: u64) -> Option<Result<i64, Errno>> {
        let me = current();
        let result = match cmd {
            ioctls::TIOCSCTTY => {
                let owner = self.session.load(Ordering::Acquire);
                if is_session_leader(me) && self.is_ctty_of(me) {
                    Ok(0) // already ours
                } else if !is_session_leader(me)
                    || me.ctty.load(Ordering::Relaxed)
                    || (owner != 0 && arg != 1)
                {
                    // Only a session leader without a terminal may take one, and one that
                    // another session has only by force (arg 1).
                    Err(Errno::EPERM)
                } else {
                    // Root (everyone, here) may steal it from another session with arg 1.
                    if owner != 0 {
                        self.detach_session(owner);
                    }
                    self.attach(me);
                    Ok(0)
                }
            }
            ioctls::TIOCNOTTY => {
                if !self.is_ctty_of(me) {
                    Err(Errno::ENOTTY)
                } else {
                    if is_session_leader(me) {
                        self.detach_session(session_of(me));
                    } else {
                        me.ctty.store(false, Ordering::Relaxed);
                    }
                    Ok(0)
                }
            }
            ioctls::TIOCGPGRP | ioctls::TIOCGSID => {
                if !self.is_ctty_of(me) {
                    Err(Errno::ENOTTY)
                } else {
                    let v = if cmd == ioctls::TIOCGPGRP {
                        self.foreground()
                    } else {
                        self.session.load(Ordering::Acquire)
                    };
                    copy_to_user(arg, &v.to_ne_bytes()).map(|()| 0)
                }
            }
            ioctls::TIOCSPGRP => self.set_foreground(arg),
            _ => return None,
        };
        Some(result)
    }

    /// `TIOCSPGRP` (`tcsetpgrp`): the caller's terminal, a group of its session.
    fn set_foreground(&self, arg: u64) -> Result<i64, Errno> {
        let me = current();
        if !self.is_ctty_of(me) {
            return Err(Errno::ENOTTY);
        }
        self.check_change()?;
        let mut bytes = [0u8; 4];
        copy_from_user(&mut bytes, arg)?;
        let pgrp = i32::from_ne_bytes(bytes);
        if pgrp < 0 {
            return Err(Errno::EINVAL);
        }
        let members = session::group_members(pgrp);
        if members.is_empty() {
            return Err(Errno::ESRCH);
        }
        if members.iter().any(|t| session_of(t) != session_of(me)) {
            return Err(Errno::EPERM);
        }
        self.pgrp.store(pgrp, Ordering::Release);
        Ok(0)
    }
}

impl Default for JobCtrl {
    fn default() -> Self {
        Self::new()
    }
}
