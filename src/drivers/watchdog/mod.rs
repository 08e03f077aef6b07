//! Watchdogs (Linux's `drivers/watchdog/`).

pub mod bcm2835_wdt;
