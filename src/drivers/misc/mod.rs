//! Miscellaneous drivers (Linux's `drivers/misc/`).

pub mod lkdtm;
