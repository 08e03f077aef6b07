//! Clock rates from the device tree (Linux's `drivers/clk/`: `of_clk_get`, `clk_get_rate`,
//! for the providers the boards have).
//!
//! Cradle has no clock framework: a driver that needs a rate (the console UART's) asks for
//! the rate of its node's `clocks` entry, and this file follows the phandle to a provider
//! it knows:
//!
//! - `fixed-clock`: its `clock-frequency` (QEMU virt's `apb-pclk`, 24 MHz);
//! - `raspberrypi,firmware-clocks`: the firmware's clock with the cell as its id
//!   (Linux's `clk-raspberrypi.c`);
//! - `brcm,bcm2835-cprman` / `brcm,bcm2711-cprman`, the Pi's clock manager, which Debian's
//!   DTBs name for the PL011 (`BCM2835_CLOCK_UART`, 19) and the VPU (`BCM2835_CLOCK_VPU`,
//!   20): Linux reads the PLL and divider registers (`clk-bcm2835.c`); Cradle asks the
//!   firmware, which programmed them, for the same clocks (UART id 2, CORE id 4);
//! - `brcm,bcm2835-aux`: the mini UART's gate (Linux's `clk-bcm2835-aux.c`), which passes
//!   its parent's rate through.

use fdt::node::FdtNode;
use fdt::Fdt;

use crate::of::base::{be32, of_device_is_compatible};

use crate::drivers::firmware::raspberrypi::{
    rpi_firmware_get_clock_rate, FirmwareError, RPI_FIRMWARE_CORE_CLK_ID, RPI_FIRMWARE_UART_CLK_ID,
};

/// `BCM2835_CLOCK_UART` and `BCM2835_CLOCK_VPU` (`dt-bindings/clock/bcm2835.h`).
const BCM2835_CLOCK_UART: u32 = 19;
const BCM2835_CLOCK_VPU: u32 = 20;
/// How many providers deep a lookup may go (aux -> cprman is two).
const MAX_DEPTH: usize = 4;

/// Where a rate came from, for the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClockSource {
    /// A `fixed-clock` node's `clock-frequency`.
    Fixed,
    /// The Raspberry Pi firmware, with the firmware's clock id.
    Firmware(u32),
}

impl core::fmt::Display for ClockSource {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ClockSource::Fixed => write!(f, "fixed-clock"),
            ClockSource::Firmware(RPI_FIRMWARE_UART_CLK_ID) => write!(f, "firmware UART clock"),
            ClockSource::Firmware(RPI_FIRMWARE_CORE_CLK_ID) => write!(f, "firmware CORE clock"),
            ClockSource::Firmware(id) => write!(f, "firmware clock {id}"),
        }
    }
}

/// Why no rate could be found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClkError {
    /// The node has no such `clocks` entry, or the phandle names no node.
    NoClock,
    /// The provider is one Cradle does not know, or the clock is not one it can ask for.
    Unsupported,
    /// The provider is the firmware's, which could not answer.
    Firmware(FirmwareError),
}

/// The provider node and specifier cells of entry `index` of `node`'s `clocks`.
fn parse_clock<'b, 'a>(
    fdt: &'b Fdt<'a>,
    node: FdtNode<'b, 'a>,
    index: usize,
) -> Result<(FdtNode<'b, 'a>, [u32; 2]), ClkError> {
    let mut cells = node.property("clocks").ok_or(ClkError::NoClock)?.value;
    for i in 0..=index {
        let provider = be32(cells)
            .and_then(|p| fdt.find_phandle(p))
            .ok_or(ClkError::NoClock)?;
        let count = provider
            .property("#clock-cells")
            .and_then(|p| be32(p.value))
            .unwrap_or(0) as usize;
        let len = 4 * (1 + count);
        if cells.len() < len || count > 2 {
            return Err(ClkError::NoClock);
        }
        if i == index {
            let mut args = [0; 2];
            for (arg, bytes) in args.iter_mut().zip(cells[4..len].chunks_exact(4)) {
                *arg = be32(bytes).unwrap_or(0);
            }
            return Ok((provider, args));
        }
        cells = &cells[len..];
    }
    Err(ClkError::NoClock)
}

fn firmware_rate(id: u32) -> Result<(u32, ClockSource), ClkError> {
    rpi_firmware_get_clock_rate(id)
        .map(|rate| (rate, ClockSource::Firmware(id)))
        .map_err(ClkError::Firmware)
}

fn rate_of(
    fdt: &Fdt<'_>,
    node: FdtNode<'_, '_>,
    index: usize,
    depth: usize,
) -> Result<(u32, ClockSource), ClkError> {
    if depth >= MAX_DEPTH {
        return Err(ClkError::Unsupported);
    }
    let (provider, args) = parse_clock(fdt, node, index)?;
    if of_device_is_compatible(provider, "fixed-clock") {
        let rate = provider
            .property("clock-frequency")
            .and_then(|p| be32(p.value))
            .ok_or(ClkError::NoClock)?;
        Ok((rate, ClockSource::Fixed))
    } else if of_device_is_compatible(provider, "raspberrypi,firmware-clocks") {
        firmware_rate(args[0])
    } else if of_device_is_compatible(provider, "brcm,bcm2835-cprman")
        || of_device_is_compatible(provider, "brcm,bcm2711-cprman")
    {
        match args[0] {
            BCM2835_CLOCK_UART => firmware_rate(RPI_FIRMWARE_UART_CLK_ID),
            BCM2835_CLOCK_VPU => firmware_rate(RPI_FIRMWARE_CORE_CLK_ID),
            _ => Err(ClkError::Unsupported),
        }
    } else if of_device_is_compatible(provider, "brcm,bcm2835-aux") {
        rate_of(fdt, provider, 0, depth + 1)
    } else {
        Err(ClkError::Unsupported)
    }
}

/// The rate in Hz of entry `index` of `node`'s `clocks`, and where it came from (Linux's
/// `clk_get_rate(of_clk_get(node, index))`).
pub fn of_clk_get_rate(
    fdt: &Fdt<'_>,
    node: FdtNode<'_, '_>,
    index: usize,
) -> Result<(u32, ClockSource), ClkError> {
    rate_of(fdt, node, index, 0)
}

/// Is entry `index` of `node`'s `clocks` a Raspberry Pi clock (one the firmware owns)?
pub fn is_rpi_clock(fdt: &Fdt<'_>, node: FdtNode<'_, '_>, index: usize) -> bool {
    parse_clock(fdt, node, index).is_ok_and(|(p, _)| {
        [
            "raspberrypi,firmware-clocks",
            "brcm,bcm2835-cprman",
            "brcm,bcm2711-cprman",
            "brcm,bcm2835-aux",
        ]
        .iter()
        .any(|c| of_device_is_compatible(p, c))
    })
}
