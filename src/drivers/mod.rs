//! Device drivers (Linux's `drivers/`). Each binds to device tree nodes by `compatible`.

pub mod clocksource;
pub mod firmware;
pub mod irqchip;
pub mod misc;
pub mod tty;
pub mod watchdog;
