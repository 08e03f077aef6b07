//! Terminals (Linux's `drivers/tty/`).

pub mod serial;
