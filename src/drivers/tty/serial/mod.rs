//! Serial drivers and finding the console (Linux: `drivers/tty/serial/`,
//! `of_console_check` / `stdout-path` handling in `drivers/of/base.c`).
//!
//! The console is the UART that `/chosen/stdout-path` names (`serial0:115200n8`, or a full
//! node path); its registers are translated through the DT's `ranges` and mapped through the
//! fixmap, so it prints from `setup_arch` on.

pub mod amba_pl011;

use crate::arch::arm64::fixmap::{fix_to_virt, set_fixmap, slot, FIXMAP_PAGE_IO};
use crate::kernel::printk::register_console;
use crate::kernel::sync::InitOnce;

use amba_pl011::Pl011;

static PL011_CONSOLE: InitOnce<Pl011> = InitOnce::new();
/// The console UART's physical address, for `console_ioremap`.
static CONSOLE_PHYS: InitOnce<u64> = InitOnce::new();

/// The node `/chosen/stdout-path` points at, without its `:options` suffix.
fn stdout_path<'a>(fdt: &fdt::Fdt<'a>) -> Option<&'a str> {
    let path = fdt
        .find_node("/chosen")?
        .property("stdout-path")?
        .as_str()?;
    Some(path.split(':').next().unwrap_or(path))
}

/// Find the console in the device tree and register it (Linux's `of_console_check` plus the
/// driver's probe).
pub fn console_init_from_dt() {
    let Some(fdt) = crate::arch::arm64::setup::fdt() else {
        return;
    };
    let Some(path) = stdout_path(&fdt) else {
        log::warn!("of: no /chosen/stdout-path: no console");
        return;
    };
    let Some(node) = fdt.find_node(path) else {
        log::warn!("of: stdout-path {path} names no node: no console");
        return;
    };
    let compatible = node.compatible().map(|c| c.all().any(|s| s == "arm,pl011"));
    if compatible != Some(true) {
        log::warn!("of: no driver for console {}", node.name);
        return;
    }
    let reg = crate::of::address::node_reg(&fdt, node)
        .ok()
        .and_then(|mut reg| reg.next());
    let Some(Ok((pa, _size))) = reg else {
        log::warn!("of: console {} has no usable reg", node.name);
        return;
    };
    set_fixmap(slot::FIX_EARLYCON_MEM_BASE, pa, FIXMAP_PAGE_IO);
    let va = fix_to_virt(slot::FIX_EARLYCON_MEM_BASE) as usize + (pa as usize & 0xfff);
    // SAFETY: the DT says a PL011 lives at `pa`; the fixmap slot maps that page as device
    // memory for good, and nothing else drives this UART.
    let uart = unsafe { Pl011::new(va, "ttyAMA0") };
    uart.startup();
    let _ = CONSOLE_PHYS.set(pa);
    if PL011_CONSOLE.set(uart).is_ok() {
        if let Some(console) = PL011_CONSOLE.get() {
            register_console(console);
        }
    }
}

/// Move the console from its fixmap slot to an `ioremap` mapping, once the page allocator
/// exists; the fixmap slot is then free for other early mappings.
pub fn console_ioremap() {
    let (Some(uart), Some(&pa)) = (PL011_CONSOLE.get(), CONSOLE_PHYS.get()) else {
        return;
    };
    match crate::mm::vmalloc::ioremap(pa, 0x1000) {
        // SAFETY: ioremap mapped the same PL011 as device memory, for good.
        Some(va) => unsafe { uart.move_to(va as usize) },
        None => log::warn!("console: ioremap of {pa:#x} failed, staying on the fixmap"),
    }
}

fn pl011_irq(_hwirq: u32) {
    if let Some(uart) = PL011_CONSOLE.get() {
        uart.handle_rx(crate::drivers::tty::n_tty::tty_receive);
    }
}

/// Take console input by interrupt: find the UART's interrupt in the DT and request it
/// (a device initcall: the interrupt controller is up by then).
fn console_rx_init() -> i32 {
    let (Some(uart), Some(fdt)) = (PL011_CONSOLE.get(), crate::arch::arm64::setup::fdt()) else {
        return 0;
    };
    let Some(node) = stdout_path(&fdt).and_then(|p| fdt.find_node(p)) else {
        return 0;
    };
    let hwirq = match crate::drivers::irqchip::of_irq_parse_one(&fdt, node, 0) {
        Ok(hwirq) => hwirq,
        Err(e) => {
            log::warn!("serial: no interrupt for the console ({e:?}): input disabled");
            return 0;
        }
    };
    match crate::kernel::irq::request_irq(hwirq, pl011_irq, "uart-pl011") {
        Ok(()) => {
            uart.enable_rx_interrupt();
            log::info!("serial: ttyAMA0 receives on hwirq {hwirq}");
        }
        Err(e) => log::warn!("serial: cannot request hwirq {hwirq}: {e}"),
    }
    0
}
crate::device_initcall!(console_rx_init);
