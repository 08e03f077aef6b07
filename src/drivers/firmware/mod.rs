//! Firmware interfaces (Linux's `drivers/firmware/`).
//!
//! A firmware interface the kernel needs from `setup_arch` on (PSCI: a panic during boot must
//! still power the machine off) declares its `compatible` strings with
//! [`FIRMWARE_OF_DECLARE!`](crate::FIRMWARE_OF_DECLARE); [`firmware_init`], which `setup_arch`
//! calls, runs the declared init for the first available node one matches (as Linux's
//! `psci_dt_init` takes the first match of `psci_of_match`). The Raspberry Pi firmware is probed on demand
//! instead, by the clock code that needs it.

pub mod psci;
pub mod raspberrypi;

use fdt::node::FdtNode;
use fdt::Fdt;

use crate::kernel::errno::Errno;
use crate::of::base::{of_find_matching_node, of_table, OfDeviceId};

/// A firmware interface's init for its device tree node.
pub type FirmwareInitFn = fn(&Fdt<'_>, FdtNode<'_, '_>) -> Result<(), Errno>;

/// Declare that `$init` sets up the firmware interface compatible with `$compatible`: an
/// entry in the `.firmware_of_table` section.
#[macro_export]
macro_rules! FIRMWARE_OF_DECLARE {
    ($name:ident, $compatible:literal, $init:path) => {
        $crate::__of_declare!(
            ".firmware_of_table",
            $crate::drivers::firmware::FirmwareInitFn,
            $compatible,
            $init
        );
    };
}

extern "C" {
    static __firmware_of_table_start: u8;
    static __firmware_of_table_end: u8;
}

/// The declared firmware interfaces.
fn firmware_of_table() -> &'static [OfDeviceId<FirmwareInitFn>] {
    // SAFETY: the linker script collects exactly the entries FIRMWARE_OF_DECLARE! emits
    // between these two symbols.
    unsafe {
        of_table(
            &raw const __firmware_of_table_start,
            &raw const __firmware_of_table_end,
        )
    }
}

/// Set up the firmware interface the device tree describes and a driver declared: the first
/// node a table entry matches, as Linux's `psci_dt_init` takes the first `psci_of_match`
/// node (the walk stops there: it runs on every boot).
pub fn firmware_init() {
    let Some(fdt) = crate::arch::setup::fdt() else {
        return;
    };
    if let Some((node, id)) = of_find_matching_node(&fdt, firmware_of_table()) {
        if let Err(err) = (id.data)(&fdt, node) {
            log::warn!("firmware: {}: {err:?}", node.name);
        }
    }
}
