//! Serial drivers and the console (Linux: `drivers/tty/serial/`).
//!
//! The console is found and started by `earlycon` (from the drivers' `EARLYCON_DECLARE!`
//! entries); `serial_core` sets a UART's pins, clock and baud rate up before it registers.

pub mod amba_pl011;
pub mod bcm2835aux;
pub mod earlycon;
pub mod serial_core;

pub use earlycon::{console_init_from_dt, console_ioremap};

/// Console output as a terminal wants it: each `\n` preceded by `\r` (Linux's
/// `uart_console_write`).
pub fn uart_console_write(bytes: &[u8], mut putc: impl FnMut(u8)) {
    for &b in bytes {
        if b == b'\n' {
            putc(b'\r');
        }
        putc(b);
    }
}
