//! Finding the console UART in the device tree and starting it early (Linux:
//! `drivers/tty/serial/earlycon.c`, `of_setup_earlycon`, and the `stdout-path` handling of
//! `drivers/of/base.c`).
//!
//! Each UART driver declares itself with [`EARLYCON_DECLARE!`](crate::EARLYCON_DECLARE): its
//! `compatible`, the device names `console=` may give it (`ttyAMA0`), the DT alias that
//! names its node (`serial0`), and a setup function. The console is the UART the `console=`
//! bootarg names, or else the one `/chosen/stdout-path` names (`serial0:115200n8`, or a full
//! node path). Its registers are translated through the DT's `ranges` and mapped through the
//! fixmap, so it prints from `setup_arch` on; once the page allocator runs, it moves to an
//! `ioremap` mapping, and input arrives by interrupt.

use fdt::node::FdtNode;
use fdt::Fdt;

use crate::arch::fixmap::{fix_to_virt, set_fixmap, slot, FIXMAP_PAGE_IO};
use crate::kernel::locking::InitOnce;
use crate::kernel::printk::{register_console, Console};
use crate::of::base::{
    of_device_is_available, of_device_is_compatible, of_match_node, of_table, OfDeviceId,
};

use super::serial_core::LineOptions;

/// A UART that can be the console: what the console code needs beyond printing.
pub trait UartConsole: Console {
    /// Use the registers at a new virtual address (the same device, mapped again).
    ///
    /// # Safety
    ///
    /// `va` maps the same UART's registers as device memory for the rest of the kernel's
    /// life.
    unsafe fn move_to(&self, va: usize);
    /// Raise an interrupt when a byte arrives.
    fn enable_rx_interrupt(&self);
    /// Hand every received byte to `sink` (from the UART's interrupt), leaving the UART's
    /// interrupt raised if a byte came after the last one handed over.
    fn handle_rx(&self, sink: fn(u8));
}

/// Start the UART at `node` as the console: its registers are mapped at `va` (physical
/// address `pa`); `line` is the baud rate and format asked for. Returns the driver's port.
pub type EarlyconSetupFn =
    fn(&Fdt<'_>, FdtNode<'_, '_>, usize, u64, LineOptions) -> Option<&'static dyn UartConsole>;

/// What a UART driver declares for the console (Linux's `struct earlycon_id`).
pub struct Earlycon {
    /// The device names `console=` uses for this UART (`ttyAMA0`).
    pub names: &'static [&'static str],
    /// The DT alias naming the UART's node, when `console=` picks the driver.
    pub alias: &'static str,
    /// Start it.
    pub setup: EarlyconSetupFn,
}

/// Declare a UART driver that can be the console (Linux's `OF_EARLYCON_DECLARE`):
/// `EARLYCON_DECLARE!(pl011, "arm,pl011", ["ttyAMA0"], "serial0", setup_fn)`.
#[macro_export]
macro_rules! EARLYCON_DECLARE {
    ($name:ident, $compatible:literal, [$($tty:literal),*], $alias:literal, $setup:path) => {
        $crate::__of_declare!(
            ".earlycon_table",
            $crate::drivers::tty::serial::earlycon::Earlycon,
            $compatible,
            $crate::drivers::tty::serial::earlycon::Earlycon {
                names: &[$($tty),*],
                alias: $alias,
                setup: $setup,
            }
        );
    };
}

extern "C" {
    static __earlycon_table_start: u8;
    static __earlycon_table_end: u8;
}

/// The declared console UARTs (Linux's `__earlycon_table`).
fn earlycon_table() -> &'static [OfDeviceId<Earlycon>] {
    // SAFETY: the linker script collects exactly the entries EARLYCON_DECLARE! emits between
    // these two symbols.
    unsafe {
        of_table(
            &raw const __earlycon_table_start,
            &raw const __earlycon_table_end,
        )
    }
}

static CONSOLE_UART: InitOnce<&'static dyn UartConsole> = InitOnce::new();
/// The console UART's physical address, for `console_ioremap`.
static CONSOLE_PHYS: InitOnce<u64> = InitOnce::new();
/// The console's DT node path, for finding its interrupt later.
static CONSOLE_NODE: InitOnce<&'static str> = InitOnce::new();

/// The node `/chosen/stdout-path` points at, without its `:options` suffix.
fn stdout_path<'a>(fdt: &Fdt<'a>) -> Option<&'a str> {
    let path = fdt
        .find_node("/chosen")?
        .property("stdout-path")?
        .as_str()?;
    Some(path.split(':').next().unwrap_or(path))
}

/// The path of the UART `alias` names if it is an enabled `compatible` device, else the
/// `stdout-path` node if that one is (Pi DTBs alias serial0/serial1; virt has only
/// stdout-path).
fn find_uart(fdt: &Fdt<'static>, alias: &str, compatible: &str) -> Option<&'static str> {
    let usable = |path: &str| {
        fdt.find_node(path)
            .is_some_and(|n| of_device_is_compatible(n, compatible) && of_device_is_available(n))
    };
    if let Some(path) = fdt.aliases().and_then(|a| a.resolve(alias)) {
        if usable(path) {
            return Some(path);
        }
    }
    stdout_path(fdt).filter(|p| usable(p))
}

/// The options after `stdout-path`'s `:` (`115200n8`), if any.
fn stdout_options<'a>(fdt: &Fdt<'a>) -> Option<&'a str> {
    let path = fdt
        .find_node("/chosen")?
        .property("stdout-path")?
        .as_str()?;
    path.split_once(':').map(|(_, options)| options)
}

/// Which UART to use, and its line options: `console=` wins, then `stdout-path` (Linux's
/// order of preference).
fn console_node<'c>(
    fdt: &Fdt<'static>,
    cmdline: &'c str,
) -> Option<(&'static str, Option<&'c str>)> {
    let console = crate::kernel::params::get(cmdline, "console").flatten();
    let (name, options) = match console.map(|c| c.split_once(',').unwrap_or((c, ""))) {
        Some((name, options)) => (Some(name), Some(options).filter(|o| !o.is_empty())),
        None => (None, None),
    };
    let named = name.and_then(|name| {
        earlycon_table()
            .iter()
            .find(|id| id.data.names.contains(&name))
    });
    let path = match named {
        Some(id) => find_uart(fdt, id.data.alias, id.compatible)?,
        None => return stdout_path(fdt).map(|p| (p, stdout_options(fdt))),
    };
    Some((path, options))
}

/// Find the console in the device tree and register it (Linux's `of_setup_earlycon` plus the
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
    let Some(id) = of_match_node(earlycon_table(), node) else {
        log::warn!("of: no driver for console {}", node.name);
        return;
    };
    set_fixmap(slot::FIX_EARLYCON_MEM_BASE, pa, FIXMAP_PAGE_IO);
    let va = fix_to_virt(slot::FIX_EARLYCON_MEM_BASE) as usize + (pa as usize & 0xfff);
    let line = super::serial_core::uart_parse_options(options.unwrap_or(""));
    let Some(uart) = (id.data.setup)(&fdt, node, va, pa, line) else {
        log::warn!("of: console {} could not be set up", node.name);
        return;
    };
    let _ = CONSOLE_PHYS.set(pa);
    let _ = CONSOLE_NODE.set(path);
    if CONSOLE_UART.set(uart).is_ok() {
        register_console(uart);
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
        uart.handle_rx(crate::drivers::tty::n_tty::tty_receive);
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
    let hwirq = match crate::of::irq::of_irq_parse_one(&fdt, node, 0) {
        Ok(hwirq) => hwirq,
        Err(e) => {
            log::warn!("serial: no interrupt for the console ({e:?}): input disabled");
            return 0;
        }
    };
    let name = uart.name();
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
