//! Sleeping locks (Linux's `kernel/locking/`).

pub mod mutex;
