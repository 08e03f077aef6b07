//! Device drivers (Linux's `drivers/`). Each binds to device tree nodes by `compatible`.

pub mod base;
pub mod clk;
pub mod clocksource;
pub mod firmware;
pub mod irqchip;
pub mod mailbox;
pub mod misc;
pub mod pinctrl;
pub mod rtc;
pub mod tty;
pub mod watchdog;
