//! Serial drivers and finding the console (Linux: `drivers/tty/serial/`,
//! `of_console_check` / `stdout-path` handling in `drivers/of/base.c`).
//!
//! The console is the UART the `console=` bootarg names (`ttyAMA0`: the PL011; `ttyS0` or
//! `ttyS1`: the Pi's mini UART), or else the one `/chosen/stdout-path` names
//! (`serial0:115200n8`, or a full node path). Its registers are translated through the DT's
//! `ranges` and mapped through the fixmap, so it prints from `setup_arch` on; once the page
//! allocator runs, it moves to an `ioremap` mapping, and input arrives by interrupt.
//! Before it registers, `serial_core` sets its pins, clock and baud rate up (on a Pi after
//! asking the firmware for the clock), so the first line printed is already at the right
//! rate.

pub mod amba_pl011;
pub mod bcm2835aux;
pub mod serial_core;

use fdt::node::FdtNode;

use crate::arch::fixmap::{fix_to_virt, set_fixmap, slot, FIXMAP_PAGE_IO};
use crate::kernel::printk::{register_console, Console};
use crate::kernel::sync::InitOnce;

use amba_pl011::Pl011;
use bcm2835aux::MiniUart;

/// The console UART, whichever driver it needs.
enum ConsoleUart {
    Pl011(Pl011),
    MiniUart(MiniUart),
}

impl ConsoleUart {
    fn console(&self) -> &dyn Console {
        match self {
            ConsoleUart::Pl011(u) => u,
            ConsoleUart::MiniUart(u) => u,
        }
    }

    /// # Safety
    ///
    /// `va` maps the same UART's registers as device memory for good.
    unsafe fn move_to(&self, va: usize) {
        match self {
            // SAFETY: the caller's guarantee, passed on.
            ConsoleUart::Pl011(u) => unsafe { u.move_to(va) },
            // SAFETY: as above.
            ConsoleUart::MiniUart(u) => unsafe { u.move_to(va) },
        }
    }

    fn enable_rx_interrupt(&self) {
        match self {
            ConsoleUart::Pl011(u) => u.enable_rx_interrupt(),
            ConsoleUart::MiniUart(u) => u.enable_rx_interrupt(),
        }
    }

    fn handle_rx(&self) {
        let sink = crate::drivers::tty::n_tty::tty_receive;
        match self {
            ConsoleUart::Pl011(u) => u.handle_rx(sink),
            ConsoleUart::MiniUart(u) => u.handle_rx(sink),
        }
    }
}

static CONSOLE_UART: InitOnce<ConsoleUart> = InitOnce::new();
/// The console UART's physical address, for `console_ioremap`.
static CONSOLE_PHYS: InitOnce<u64> = InitOnce::new();
/// The console's DT node path, for finding its interrupt later.
static CONSOLE_NODE: InitOnce<&'static str> = InitOnce::new();

const PL011: &str = "arm,pl011";
const MINI_UART: &str = "brcm,bcm2835-aux-uart";

/// The node `/chosen/stdout-path` points at, without its `:options` suffix.
fn stdout_path<'a>(fdt: &fdt::Fdt<'a>) -> Option<&'a str> {
    let path = fdt
        .find_node("/chosen")?
        .property("stdout-path")?
        .as_str()?;
    Some(path.split(':').next().unwrap_or(path))
}

fn is_compatible(node: &FdtNode<'_, '_>, compatible: &str) -> bool {
    node.compatible()
        .is_some_and(|c| c.all().any(|s| s == compatible))
}

fn is_enabled(node: &FdtNode<'_, '_>) -> bool {
    node.property("status")
        .and_then(|p| p.as_str())
        .is_none_or(|s| s == "okay" || s == "ok")
}

/// The path of the UART `alias` names if it is an enabled `compatible` device, else the
/// `stdout-path` node if that one is (Pi DTBs alias serial0/serial1; virt has only
/// stdout-path).
fn find_uart(fdt: &fdt::Fdt<'static>, alias: &str, compatible: &str) -> Option<&'static str> {
    let usable = |path: &str| {
        fdt.find_node(path)
            .is_some_and(|n| is_compatible(&n, compatible) && is_enabled(&n))
    };
    if let Some(path) = fdt.aliases().and_then(|a| a.resolve(alias)) {
        if usable(path) {
            return Some(path);
        }
    }
    stdout_path(fdt).filter(|p| usable(p))
}

/// The options after `stdout-path`'s `:` (`115200n8`), if any.
fn stdout_options<'a>(fdt: &fdt::Fdt<'a>) -> Option<&'a str> {
    let path = fdt
        .find_node("/chosen")?
        .property("stdout-path")?
        .as_str()?;
    path.split_once(':').map(|(_, options)| options)
}

/// Which UART to use, and its line options: `console=` wins, then `stdout-path` (Linux's
/// order of preference).
fn console_node<'c>(
    fdt: &fdt::Fdt<'static>,
    cmdline: &'c str,
) -> Option<(&'static str, Option<&'c str>)> {
    let console = crate::kernel::params::get(cmdline, "console").flatten();
    let (name, options) = match console.map(|c| c.split_once(',').unwrap_or((c, ""))) {
        Some((name, options)) => (Some(name), Some(options).filter(|o| !o.is_empty())),
        None => (None, None),
    };
    let path = match name {
        Some("ttyAMA0") => find_uart(fdt, "serial0", PL011)?,
        Some("ttyS0") | Some("ttyS1") => find_uart(fdt, "serial1", MINI_UART)?,
        _ => return stdout_path(fdt).map(|p| (p, stdout_options(fdt))),
    };
    Some((path, options))
}

/// Find the console in the device tree and register it (Linux's `of_console_check` plus the
/// driver's probe).
pub fn console_init_from_dt() {
    let Some(fdt) = crate::arch::setup::fdt() else {
        return;
    };
    let cmdline = crate::arch::setup::boot_command_line();
    let Some((path, options)) = console_node(&fdt, cmdline) else {
        log::warn!("of: no console named by console= or /chosen/stdout-path");
        return;
    };
    let Some(node) = fdt.find_node(path) else {
        log::warn!("of: console {path} names no node: no console");
        return;
    };
    let Ok((pa, _size)) = crate::of::address::node_reg_first(&fdt, node) else {
        log::warn!("of: console {} has no usable reg", node.name);
        return;
    };
    set_fixmap(slot::FIX_EARLYCON_MEM_BASE, pa, FIXMAP_PAGE_IO);
    let va = fix_to_virt(slot::FIX_EARLYCON_MEM_BASE) as usize + (pa as usize & 0xfff);
    let line = serial_core::uart_parse_options(options.unwrap_or(""));
    // On a Pi the clock is the firmware's: find it before the UART needs it.
    crate::drivers::firmware::raspberrypi::rpi_firmware_probe();
    let uart = if is_compatible(&node, PL011) {
        // SAFETY: the DT says a PL011 lives at `pa`; the fixmap slot maps that page as
        // device memory for good, and nothing else drives this UART.
        let uart = unsafe { Pl011::new(va, "ttyAMA0") };
        serial_core::pl011_console_setup(&fdt, node, &uart, pa, line);
        ConsoleUart::Pl011(uart)
    } else if is_compatible(&node, MINI_UART) {
        // SAFETY: as above, for the mini UART.
        let uart = unsafe { MiniUart::new(va, "ttyS1") };
        serial_core::mini_uart_console_setup(&fdt, node, &uart, pa, line);
        ConsoleUart::MiniUart(uart)
    } else {
        log::warn!("of: no driver for console {}", node.name);
        return;
    };
    let _ = CONSOLE_PHYS.set(pa);
    let _ = CONSOLE_NODE.set(path);
    if CONSOLE_UART.set(uart).is_ok() {
        if let Some(uart) = CONSOLE_UART.get() {
            register_console(uart.console());
        }
    }
}

/// Move the console from its fixmap slot to an `ioremap` mapping, once the page allocator
/// exists; the fixmap slot is then free for other early mappings.
pub fn console_ioremap() {
    let (Some(uart), Some(&pa)) = (CONSOLE_UART.get(), CONSOLE_PHYS.get()) else {
        return;
    };
    match crate::mm::vmalloc::ioremap(pa, 0x1000) {
        // SAFETY: ioremap mapped the same UART as device memory, for good.
        Some(va) => unsafe { uart.move_to(va as usize) },
        None => log::warn!("console: ioremap of {pa:#x} failed, staying on the fixmap"),
    }
}

fn uart_irq(_hwirq: u32) {
    if let Some(uart) = CONSOLE_UART.get() {
        uart.handle_rx();
    }
}

/// Take console input by interrupt: find the UART's interrupt in the DT and request it
/// (a device initcall: the interrupt controller is up by then).
fn console_rx_init() -> i32 {
    let (Some(uart), Some(fdt), Some(path)) = (
        CONSOLE_UART.get(),
        crate::arch::setup::fdt(),
        CONSOLE_NODE.get(),
    ) else {
        return 0;
    };
    let Some(node) = fdt.find_node(path) else {
        return 0;
    };
    let hwirq = match crate::drivers::irqchip::of_irq_parse_one(&fdt, node, 0) {
        Ok(hwirq) => hwirq,
        Err(e) => {
            log::warn!("serial: no interrupt for the console ({e:?}): input disabled");
            return 0;
        }
    };
    let name = uart.console().name();
    match crate::kernel::irq::request_irq(hwirq, uart_irq, "serial") {
        Ok(()) => {
            uart.enable_rx_interrupt();
            log::info!("serial: {name} receives on hwirq {hwirq}");
        }
        Err(e) => log::warn!("serial: cannot request hwirq {hwirq}: {e}"),
    }
    0
}
crate::device_initcall!(console_rx_init);

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
