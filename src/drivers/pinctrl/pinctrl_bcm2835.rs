//! The BCM2835/BCM2711 GPIO block as a pin controller (Linux:
//! `drivers/pinctrl/bcm/pinctrl-bcm2835.c`), DT compatible `brcm,bcm2835-gpio` (Pi 3) and
//! `brcm,bcm2711-gpio` (Pi 4).
//!
//! A device's DT node lists pin groups in `pinctrl-0`; each group, a child of the GPIO
//! node, says `brcm,pins`, `brcm,function` (the GPFSEL code: 0 input, 1 output, 4 ALT0,
//! 5 ALT1, 6 ALT2, 7 ALT3, 3 ALT4, 2 ALT5) and optionally `brcm,pull` (0 off, 1 down,
//! 2 up). Debian's DTBs give the mini UART `uart1_gpio14` (GPIO 14/15, ALT5) and the PL011
//! the Bluetooth pins `uart0_gpio32` (GPIO 32/33, ALT3) plus RTS/CTS; an overlay such as
//! `disable-bt` moves it to `uart0_gpio14` (GPIO 14/15, ALT0).
//!
//! Pulls differ by chip. The BCM2835 (ARM Peripherals manual, section 6.1) sets them with a
//! write-only sequence: control in GPPUD, wait, clock it into the pins named in
//! GPPUDCLK0/1, wait, clear both; the state cannot be read back. The BCM2711 (BCM2711 ARM
//! Peripherals, section 5.2) has readable two-bit fields in GPIO_PUP_PDN_CNTRL_REG0..3,
//! with up and down the other way round (1 up, 2 down).
//!
//! The firmware usually set the console's pins up already; a pin whose function is right
//! is left alone (and on the BCM2711 a pull that is right), so a working set-up is not
//! disturbed.

use fdt::node::FdtNode;
use fdt::Fdt;
use tock_registers::interfaces::{Readable, Writeable};
use tock_registers::register_structs;
use tock_registers::registers::ReadWrite;

use crate::arch::arch_timer;
use crate::arch::fixmap::{fix_to_virt, set_fixmap, slot, FIXMAP_PAGE_IO};

register_structs! {
    /// The GPIO registers pin control uses.
    #[allow(non_snake_case)]
    pub GpioRegisters {
        /// Function select: ten pins per register, three bits each.
        (0x00 => GPFSEL: [ReadWrite<u32>; 6]),
        (0x18 => _reserved0),
        /// BCM2835 pull control and its per-pin clocks (pins 0-31, 32-53).
        (0x94 => GPPUD: ReadWrite<u32>),
        (0x98 => GPPUDCLK: [ReadWrite<u32>; 2]),
        (0xa0 => _reserved1),
        /// BCM2711 pull state: sixteen pins per register, two bits each.
        (0xe4 => GPIO_PUP_PDN_CNTRL: [ReadWrite<u32>; 4]),
        (0xf4 => @END),
    }
}

/// The chip has 54 GPIOs (the BCM2711 has 58; the UARTs use the first 54).
const NR_PINS: u32 = 54;
/// `BCM2835_PUD_OFF`, `_DOWN`, `_UP`, as the DT writes them.
const PUD_OFF: u32 = 0;
const PUD_DOWN: u32 = 1;
const PUD_UP: u32 = 2;

/// The name of a GPFSEL code, as Linux's pinctrl calls the functions.
pub fn function_name(function: u32) -> &'static str {
    match function {
        0 => "gpio_in",
        1 => "gpio_out",
        2 => "alt5",
        3 => "alt4",
        4 => "alt0",
        5 => "alt1",
        6 => "alt2",
        7 => "alt3",
        _ => "?",
    }
}

/// GPFSEL register index, and the new value of `old` with `pin`'s field set to `function`.
pub fn fsel_update(old: u32, pin: u32, function: u32) -> (usize, u32) {
    let shift = (pin % 10) * 3;
    (
        (pin / 10) as usize,
        (old & !(7 << shift)) | ((function & 7) << shift),
    )
}

/// A BCM2835 pull code as the BCM2711's GPIO_PUP_PDN_CNTRL field (0 none, 1 up, 2 down).
pub fn bcm2711_pull(pud: u32) -> u32 {
    match pud {
        PUD_UP => 1,
        PUD_DOWN => 2,
        _ => 0,
    }
}

/// Why the default state could not be selected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PinctrlError {
    /// No BCM2835/BCM2711 GPIO node, or it has no usable `reg`.
    NoController,
    /// A group's properties are malformed (no pins, a pin out of range, bad lengths).
    BadGroup,
}

fn be32_list<'a>(node: &FdtNode<'_, 'a>, name: &str) -> Option<impl Iterator<Item = u32> + 'a> {
    Some(crate::of::base::be32_cells(node.property(name)?.value))
}

/// The `index`-th value of a per-pin list that may also hold just one value for all pins.
fn per_pin(values: &[u32], index: usize) -> Option<u32> {
    match values {
        [] => None,
        [one] => Some(*one),
        many => many.get(index).copied(),
    }
}

/// Wait about a microsecond: the BCM2835 asks for 150 cycles around GPPUDCLK writes.
fn udelay_1() {
    let ticks = arch_timer::frequency() / 1_000_000 + 1;
    let start = arch_timer::counter();
    let mut spins = 0u32;
    while arch_timer::counter().wrapping_sub(start) < ticks && spins < 1_000_000 {
        spins += 1;
        core::hint::spin_loop();
    }
}

/// Pin numbers for the log: `14, 15`.
struct PinList<'a>(&'a [u32]);

impl core::fmt::Display for PinList<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for (i, pin) in self.0.iter().enumerate() {
            if i > 0 {
                write!(f, ", ")?;
            }
            write!(f, "{pin}")?;
        }
        Ok(())
    }
}

struct Controller<'r> {
    regs: &'r GpioRegisters,
    bcm2711: bool,
}

impl Controller<'_> {
    /// Set one pin's pull. Returns whether it changed (the BCM2835's always does).
    fn set_pull(&self, pin: u32, pud: u32) -> bool {
        if self.bcm2711 {
            let (index, shift) = ((pin / 16) as usize, (pin % 16) * 2);
            let old = self.regs.GPIO_PUP_PDN_CNTRL[index].get();
            let new = (old & !(3 << shift)) | (bcm2711_pull(pud) << shift);
            if new != old {
                self.regs.GPIO_PUP_PDN_CNTRL[index].set(new);
            }
            new != old
        } else {
            let (index, bit) = ((pin / 32) as usize, 1 << (pin % 32));
            self.regs.GPPUD.set(pud);
            udelay_1();
            self.regs.GPPUDCLK[index].set(bit);
            udelay_1();
            self.regs.GPPUD.set(PUD_OFF);
            self.regs.GPPUDCLK[index].set(0);
            true
        }
    }

    /// Apply one group (`brcm,pins`, `brcm,function`, `brcm,pull`).
    fn apply_group(&self, group: &FdtNode<'_, '_>) -> Result<(), PinctrlError> {
        let mut pins = [0u32; 8];
        let mut functions = [0u32; 8];
        let mut pulls = [0u32; 8];
        let fill = |name: &str, out: &mut [u32; 8]| -> Result<usize, PinctrlError> {
            let mut n = 0;
            for value in be32_list(group, name).into_iter().flatten() {
                *out.get_mut(n).ok_or(PinctrlError::BadGroup)? = value;
                n += 1;
            }
            Ok(n)
        };
        let npins = fill("brcm,pins", &mut pins)?;
        let nfunctions = fill("brcm,function", &mut functions)?;
        let npulls = fill("brcm,pull", &mut pulls)?;
        if npins == 0 || pins[..npins].iter().any(|&p| p >= NR_PINS) {
            return Err(PinctrlError::BadGroup);
        }
        let mut changed = false;
        for (i, &pin) in pins[..npins].iter().enumerate() {
            let function = per_pin(&functions[..nfunctions], i).ok_or(PinctrlError::BadGroup)?;
            let pull = per_pin(&pulls[..npulls], i);
            let index = (pin / 10) as usize;
            let old = self.regs.GPFSEL[index].get();
            let (_, new) = fsel_update(old, pin, function);
            if new != old {
                self.regs.GPFSEL[index].set(new);
                changed = true;
                if let Some(pud) = pull {
                    self.set_pull(pin, pud);
                }
            } else if let Some(pud) = pull {
                // A right function means the firmware set the pin up; only the BCM2711
                // can say whether the pull is right too.
                if self.bcm2711 {
                    changed |= self.set_pull(pin, pud);
                }
            }
        }
        let function = per_pin(&functions[..nfunctions], 0).unwrap_or(0);
        log::info!(
            "pinctrl-bcm2835: {}: GPIO {} {} {}",
            group.name,
            PinList(&pins[..npins]),
            if changed { "set to" } else { "already" },
            function_name(function)
        );
        Ok(())
    }
}

/// Select the default pin state of `device` (its `pinctrl-0` groups) on the BCM2835/BCM2711
/// GPIO block (Linux's `pinctrl_bind_pins` for the `default` state). A device without
/// `pinctrl-0`, or whose groups belong to another controller, is left alone.
pub fn pinctrl_select_default(fdt: &Fdt<'_>, device: FdtNode<'_, '_>) -> Result<(), PinctrlError> {
    let Some(phandles) = be32_list(&device, "pinctrl-0") else {
        return Ok(());
    };
    let controller = fdt
        .find_compatible(&["brcm,bcm2711-gpio", "brcm,bcm2835-gpio"])
        .ok_or(PinctrlError::NoController)?;
    let bcm2711 = controller
        .compatible()
        .is_some_and(|c| c.all().any(|s| s == "brcm,bcm2711-gpio"));
    let Ok((pa, _)) = crate::of::address::node_reg_first(fdt, controller) else {
        return Err(PinctrlError::NoController);
    };
    set_fixmap(slot::FIX_EARLY_IO, pa, FIXMAP_PAGE_IO);
    let va = fix_to_virt(slot::FIX_EARLY_IO) as usize + (pa as usize & 0xfff);
    // SAFETY: the DT says the GPIO block is at `pa`; the early-I/O fixmap slot maps its
    // page as device memory until the unmap below, and nothing else drives the block yet.
    let regs = unsafe { &*(va as *const GpioRegisters) };
    let chip = Controller { regs, bcm2711 };
    let mut result = Ok(());
    for phandle in phandles {
        let group = controller
            .children()
            .find(|g| be32_list(g, "phandle").and_then(|mut p| p.next()) == Some(phandle));
        if let Some(group) = group {
            if let Err(e) = chip.apply_group(&group) {
                log::warn!("pinctrl-bcm2835: {}: {e:?}", group.name);
                result = Err(e);
            }
        }
    }
    set_fixmap(slot::FIX_EARLY_IO, 0, 0);
    result
}

#[cfg(target_os = "none")]
mod kunit {
    use super::*;
    use crate::kunit::Test;
    use crate::{kunit_expect, kunit_test_suite};

    /// GPIO 14 and 15 live in GPFSEL1 at bits 12-14 and 15-17; other pins keep theirs.
    fn fsel_fields(test: &mut Test) {
        kunit_expect!(test, fsel_update(0, 14, 4) == (1, 0b100 << 12));
        kunit_expect!(test, fsel_update(0, 15, 2) == (1, 0b010 << 15));
        let (_, both) = fsel_update(fsel_update(0, 14, 2).1, 15, 2);
        kunit_expect!(test, both == 0x12000, "{both:#x}");
        kunit_expect!(test, fsel_update(0xffff_ffff, 14, 4).1 == 0xffff_cfff);
        kunit_expect!(test, fsel_update(0, 32, 7) == (3, 0b111 << 6));
        kunit_expect!(
            test,
            function_name(2) == "alt5" && function_name(4) == "alt0"
        );
    }

    /// The BCM2711 swaps up and down relative to the DT's BCM2835 codes.
    fn pull_codes(test: &mut Test) {
        kunit_expect!(test, bcm2711_pull(PUD_OFF) == 0);
        kunit_expect!(test, bcm2711_pull(PUD_UP) == 1);
        kunit_expect!(test, bcm2711_pull(PUD_DOWN) == 2);
        kunit_expect!(test, per_pin(&[0, 2], 1) == Some(2));
        kunit_expect!(test, per_pin(&[4], 1) == Some(4));
        kunit_expect!(test, per_pin(&[], 0).is_none());
    }

    kunit_test_suite!(pinctrl_bcm2835, [fsel_fields, pull_codes]);
}
