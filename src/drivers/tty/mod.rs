//! Terminals (Linux's `drivers/tty/`).

pub mod n_tty;
pub mod serial;
pub mod tty_jobctrl;
