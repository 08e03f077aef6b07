//! Setting up the console's line: baud rate, pins and clock (Linux:
//! `drivers/tty/serial/serial_core.c`'s `uart_parse_options`, and the drivers' `*_console_setup`
//! with the clock and pin binding their probe does).
//!
//! The baud rate comes from the options of `console=ttyAMA0,115200` or of
//! `stdout-path = "serial1:115200n8"`, else 115200. The UART's reference clock comes from the
//! DT (see `drivers/clk`): on QEMU virt a fixed 24 MHz, on a Pi the firmware's UART clock
//! (PL011) or core clock (mini UART). If the firmware cannot be asked, a Pi's PL011 is
//! assumed to run at the firmware's default `init_uart_clock` of 48 MHz; a mini UART whose
//! clock is unknown, or a UART on an unknown clock elsewhere, keeps what the firmware set.
//! Every choice is logged with where the clock came from.

use fdt::node::FdtNode;
use fdt::Fdt;

use super::amba_pl011::Pl011;
use super::bcm2835aux::{AuxRegisters, MiniUart};
use crate::arch::fixmap::{fix_to_virt, set_fixmap, slot, FIXMAP_PAGE_IO};
use crate::drivers::clk::{is_rpi_clock, of_clk_get_rate};

/// The baud rate when neither `console=` nor `stdout-path` gives one.
pub const DEFAULT_BAUD: u32 = 115_200;
/// The Pi firmware's default PL011 clock (`init_uart_clock`) when it cannot be asked.
pub const RPI_DEFAULT_UART_CLOCK: u32 = 48_000_000;

/// A console's line settings, as `console=ttyAMA0,115200n8` writes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineOptions {
    pub baud: u32,
    /// `n`, `o` or `e`.
    pub parity: u8,
    pub bits: u32,
}

/// Linux's `uart_parse_options`: `<baud><parity><bits><flow>`, each part optional from the
/// right (`115200`, `115200n8`, `9600e7r`). Missing parts are 115200, `n`, 8.
pub fn uart_parse_options(options: &str) -> LineOptions {
    let digits = options.bytes().take_while(u8::is_ascii_digit).count();
    let baud = options[..digits]
        .parse()
        .ok()
        .filter(|&b| b > 0)
        .unwrap_or(DEFAULT_BAUD);
    let mut rest = options[digits..].bytes();
    let parity = rest.next().unwrap_or(b'n');
    let bits = rest
        .next()
        .filter(u8::is_ascii_digit)
        .map_or(8, |b| u32::from(b - b'0'));
    LineOptions { baud, parity, bits }
}

/// Set a PL011 console up: pins, clock, baud, 8N1.
pub fn pl011_console_setup(
    fdt: &Fdt<'_>,
    node: FdtNode<'_, '_>,
    uart: &Pl011,
    pa: u64,
    line: LineOptions,
) {
    // On a Pi the clock is the firmware's: find it before the UART needs it.
    crate::drivers::firmware::raspberrypi::rpi_firmware_probe();
    warn_unsupported(line);
    select_pins(fdt, node);
    let (uartclk, source) = match of_clk_get_rate(fdt, node, 0) {
        Ok((rate, source)) => (rate, Source::Clock(source)),
        Err(e) if is_rpi_clock(fdt, node, 0) => {
            log::warn!(
                "serial: {}: cannot get uartclk ({e:?}); assuming the Pi firmware's default",
                node.name
            );
            (RPI_DEFAULT_UART_CLOCK, Source::Default)
        }
        Err(e) => {
            log::info!(
                "serial: ttyAMA0 at MMIO {pa:#x} is a PL011: clock unknown ({e:?}), baud rate as the firmware set it"
            );
            uart.startup();
            return;
        }
    };
    match uart.set_termios(uartclk, line.baud) {
        Some(setup) => log::info!(
            "serial: ttyAMA0 at MMIO {pa:#x} (base_baud = {}) is a PL011: uartclk {uartclk} Hz ({source}), {} baud 8n1 (IBRD {}, FBRD {}){}",
            uartclk / 16,
            line.baud,
            setup.ibrd,
            setup.fbrd,
            if setup.kept { ", as already set" } else { "" }
        ),
        None => {
            log::warn!(
                "serial: ttyAMA0: {} baud is out of reach of uartclk {uartclk} Hz ({source}); left as it was",
                line.baud
            );
            uart.startup();
        }
    }
}

/// Set a mini UART console up: pins, the AUX enable, clock, baud, 8 bits.
pub fn mini_uart_console_setup(
    fdt: &Fdt<'_>,
    node: FdtNode<'_, '_>,
    uart: &MiniUart,
    pa: u64,
    line: LineOptions,
) {
    // On a Pi the clock is the firmware's: find it before the UART needs it.
    crate::drivers::firmware::raspberrypi::rpi_firmware_probe();
    warn_unsupported(line);
    select_pins(fdt, node);
    let (core_clock, source) = match of_clk_get_rate(fdt, node, 0) {
        Ok((rate, source)) => (rate, source),
        Err(e) => {
            log::info!(
                "serial: ttyS1 at MMIO {pa:#x} is a BCM2835 mini UART: core clock unknown ({e:?}), baud rate as the firmware set it"
            );
            return;
        }
    };
    aux_enable_uart(fdt, node);
    match uart.set_termios(core_clock, line.baud) {
        Some(setup) => log::info!(
            "serial: ttyS1 at MMIO {pa:#x} (base_baud = {}) is a BCM2835 mini UART: core clock {core_clock} Hz ({source}), {} baud 8n1 (AUX_MU_BAUD {}){}",
            core_clock / 8,
            line.baud,
            setup.divisor,
            if setup.kept { ", as already set" } else { "" }
        ),
        None => log::warn!(
            "serial: ttyS1: {} baud is out of reach of a core clock of {core_clock} Hz; left as it was",
            line.baud
        ),
    }
}

/// Where a PL011's clock rate came from, including the fallback.
enum Source {
    Clock(crate::drivers::clk::ClockSource),
    Default,
}

impl core::fmt::Display for Source {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Source::Clock(source) => write!(f, "{source}"),
            Source::Default => write!(f, "the firmware's default"),
        }
    }
}

fn warn_unsupported(line: LineOptions) {
    if line.parity != b'n' || line.bits != 8 {
        log::warn!(
            "serial: only 8n1 is supported; {}{} ignored",
            line.parity as char,
            line.bits
        );
    }
}

fn select_pins(fdt: &Fdt<'_>, node: FdtNode<'_, '_>) {
    if let Err(e) = crate::drivers::pinctrl::pinctrl_bcm2835::pinctrl_select_default(fdt, node) {
        log::warn!("serial: {}: cannot set the pins up ({e:?})", node.name);
    }
}

/// Set the mini UART's bit in AUX_ENABLES (its register block is the `brcm,bcm2835-aux`
/// node the UART's clock names; Linux's `clk-bcm2835-aux.c` gates it as a clock).
fn aux_enable_uart(fdt: &Fdt<'_>, node: FdtNode<'_, '_>) {
    let aux = node
        .property("clocks")
        .and_then(|p| crate::of::base::be32(p.value))
        .and_then(|phandle| fdt.find_phandle(phandle))
        .filter(|n| {
            n.compatible()
                .is_some_and(|c| c.all().any(|s| s == "brcm,bcm2835-aux"))
        });
    let Some(aux) = aux else { return };
    let Ok((pa, _)) = crate::of::address::node_reg_first(fdt, aux) else {
        return;
    };
    set_fixmap(slot::FIX_EARLY_IO, pa, FIXMAP_PAGE_IO);
    let va = fix_to_virt(slot::FIX_EARLY_IO) as usize + (pa as usize & 0xfff);
    // SAFETY: the DT says the AUX block is at `pa`; the early-I/O slot maps its page as
    // device memory until the unmap below, and nothing else uses the block yet.
    let regs = unsafe { &*(va as *const AuxRegisters) };
    regs.enable_uart();
    set_fixmap(slot::FIX_EARLY_IO, 0, 0);
}

#[cfg(target_os = "none")]
mod kunit {
    use super::*;
    use crate::kunit::Test;
    use crate::{kunit_expect, kunit_test_suite};

    /// `console=` and `stdout-path` options parse as Linux's `uart_parse_options` does.
    fn parse_options(test: &mut Test) {
        let line = |baud, parity, bits| LineOptions { baud, parity, bits };
        let cases = [
            ("115200n8", line(115_200, b'n', 8)),
            ("115200", line(115_200, b'n', 8)),
            ("9600e7", line(9_600, b'e', 7)),
            ("38400n8r", line(38_400, b'n', 8)),
            ("", line(DEFAULT_BAUD, b'n', 8)),
            ("0", line(DEFAULT_BAUD, b'n', 8)),
            ("fast", line(DEFAULT_BAUD, b'f', 8)),
        ];
        for (options, want) in cases {
            let got = uart_parse_options(options);
            kunit_expect!(test, got == want, "{options:?}: {got:?} != {want:?}");
        }
    }

    kunit_test_suite!(serial_core, [parse_options]);
}
