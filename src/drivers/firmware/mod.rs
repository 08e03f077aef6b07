//! Firmware interfaces (Linux's `drivers/firmware/`).

pub mod psci;
pub mod raspberrypi;
