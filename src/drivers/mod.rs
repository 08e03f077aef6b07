//! Device drivers (Linux's `drivers/`). Each binds to device tree nodes by `compatible`.

pub mod firmware;
pub mod misc;
pub mod tty;
