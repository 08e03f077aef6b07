//! The Arm PrimeCell UART, PL011 (Linux: `drivers/tty/serial/amba-pl011.c`).
//!
//! QEMU `virt`'s console and the Raspberry Pi's UART0. Registers from the PL011 Technical
//! Reference Manual (ARM DDI 0183G), section 3.2.
//!
//! QEMU ignores the baud rate; real hardware does not. [`Pl011::set_termios`] programs the
//! line as Linux's `pl011_set_termios` does for the console: the divisor from the UART's
//! reference clock (`uartclk`, from the DT's clock) and the baud rate, 8N1, FIFOs on.

use tock_registers::interfaces::{ReadWriteable, Readable, Writeable};
use tock_registers::register_bitfields;
use tock_registers::register_structs;
use tock_registers::registers::{ReadOnly, ReadWrite, WriteOnly};

use core::sync::atomic::{AtomicUsize, Ordering};

use fdt::node::FdtNode;
use fdt::Fdt;

use super::earlycon::UartConsole;
use super::serial_core::LineOptions;
use crate::kernel::locking::InitOnce;
use crate::kernel::printk::Console;

register_bitfields! {
    u32,
    /// Flag register (TRM 3.3.3).
    FR [
        /// Transmit FIFO full.
        TXFF OFFSET(5) NUMBITS(1) [],
        /// Receive FIFO empty.
        RXFE OFFSET(4) NUMBITS(1) [],
        /// UART busy transmitting.
        BUSY OFFSET(3) NUMBITS(1) []
    ],
    /// Control register (TRM 3.3.8).
    CR [
        /// Receive enable.
        RXE OFFSET(9) NUMBITS(1) [],
        /// Transmit enable.
        TXE OFFSET(8) NUMBITS(1) [],
        /// UART enable.
        UARTEN OFFSET(0) NUMBITS(1) []
    ],
    /// Line control register (TRM 3.3.7).
    LCR_H [
        /// Stick parity.
        SPS OFFSET(7) NUMBITS(1) [],
        /// Word length: 0b11 = 8 bits.
        WLEN OFFSET(5) NUMBITS(2) [EightBit = 0b11],
        /// Enable FIFOs; clearing it flushes them.
        FEN OFFSET(4) NUMBITS(1) [],
        /// Two stop bits.
        STP2 OFFSET(3) NUMBITS(1) [],
        /// Even parity.
        EPS OFFSET(2) NUMBITS(1) [],
        /// Parity enable.
        PEN OFFSET(1) NUMBITS(1) [],
        /// Send break.
        BRK OFFSET(0) NUMBITS(1) []
    ]
}

register_structs! {
    /// The PL011's registers.
    #[allow(non_snake_case)]
    pub Pl011Registers {
        (0x00 => DR: ReadWrite<u32>),
        (0x04 => _reserved0),
        (0x18 => FR: ReadOnly<u32, FR::Register>),
        (0x1c => _reserved1),
        (0x24 => IBRD: ReadWrite<u32>),
        (0x28 => FBRD: ReadWrite<u32>),
        (0x2c => LCR_H: ReadWrite<u32, LCR_H::Register>),
        (0x30 => CR: ReadWrite<u32, CR::Register>),
        (0x34 => IFLS: ReadWrite<u32>),
        (0x38 => IMSC: ReadWrite<u32>),
        (0x3c => RIS: ReadOnly<u32>),
        (0x40 => MIS: ReadOnly<u32>),
        (0x44 => ICR: WriteOnly<u32>),
        (0x48 => @END),
    }
}

/// Interrupt bits, the same in IMSC, RIS, MIS and ICR (TRM 3.3.10-3.3.14): receive,
/// transmit, and receive timeout.
const IMSC_RXIM: u32 = 1 << 4;
const IMSC_TXIM: u32 = 1 << 5;
const IMSC_RTIM: u32 = 1 << 6;

/// How many times one interrupt looks at the status again before it returns (Linux's
/// `AMBA_ISR_PASS_LIMIT`): input arriving without end cannot keep a CPU in the handler.
const AMBA_ISR_PASS_LIMIT: u32 = 256;

/// The baud rate divisor for `uartclk` Hz and `baud` (TRM 3.3.6): the reference clock over
/// 16 × baud as a 16.6 fixed-point number, rounded to nearest, as (IBRD, FBRD); `None` if
/// the rate cannot be reached (IBRD must be 1..=65535, and FBRD 0 when IBRD is 65535).
/// Linux: `quot = DIV_ROUND_CLOSEST(clk * 4, baud)` in `pl011_set_termios`.
pub fn pl011_divisors(uartclk: u32, baud: u32) -> Option<(u32, u32)> {
    if baud == 0 {
        return None;
    }
    let quot = (u64::from(uartclk) * 4 + u64::from(baud) / 2) / u64::from(baud);
    let (ibrd, fbrd) = (quot >> 6, quot & 0x3f);
    match ibrd {
        1..=0xfffe => Some((ibrd as u32, fbrd as u32)),
        0xffff if fbrd == 0 => Some((0xffff, 0)),
        _ => None,
    }
}

/// How [`Pl011::set_termios`] left the line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pl011Setup {
    /// Integer and fractional divisor.
    pub ibrd: u32,
    pub fbrd: u32,
    /// The UART already ran with these settings and was left alone.
    pub kept: bool,
}

/// Bound the wait for the transmitter to drain: 32 bytes at 300 baud take about a second.
const BUSY_SPINS: u32 = 10_000_000;

/// A PL011 at a mapped virtual address.
pub struct Pl011 {
    /// Virtual address of the registers; changes once, when the console moves from the
    /// fixmap to its ioremap mapping.
    base: AtomicUsize,
    name: &'static str,
}

impl Pl011 {
    /// Take over the PL011 mapped at `base`.
    ///
    /// # Safety
    ///
    /// `base` must be the virtual address of a PL011's registers, mapped as device memory
    /// for the rest of the kernel's life, and no other driver may use the device.
    pub unsafe fn new(base: usize, name: &'static str) -> Self {
        Self {
            base: AtomicUsize::new(base),
            name,
        }
    }

    fn regs(&self) -> &Pl011Registers {
        // SAFETY: `base` maps a PL011 register block for as long as it is stored here (the
        // contract of `new` and `move_to`).
        unsafe { &*(self.base.load(Ordering::Relaxed) as *const Pl011Registers) }
    }

    /// Use the registers at a new virtual address (the same device, mapped again).
    ///
    /// # Safety
    ///
    /// As for [`Pl011::new`]: `base` maps this same PL011 for the rest of the kernel's life.
    pub unsafe fn move_to(&self, base: usize) {
        self.base.store(base, Ordering::Relaxed);
    }

    /// Make sure the UART transmits: enable it if the firmware left it off. The baud rate
    /// is left as the firmware (or QEMU, which ignores it) set it.
    pub fn startup(&self) {
        if !self.regs().CR.is_set(CR::UARTEN) || !self.regs().CR.is_set(CR::TXE) {
            self.regs().CR.set(0);
            self.regs()
                .LCR_H
                .write(LCR_H::WLEN::EightBit + LCR_H::FEN::SET);
            self.regs()
                .CR
                .modify(CR::UARTEN::SET + CR::TXE::SET + CR::RXE::SET);
        }
    }

    /// Program `baud`, 8N1 with FIFOs, from a reference clock of `uartclk` Hz, and enable
    /// transmit and receive (the TRM's order, 3.3.8: disable, let the transmitter drain,
    /// flush the FIFOs, set the divisor, then LCR_H, whose write latches the divisor, then
    /// enable). A UART that already runs with exactly these settings is left alone, so a
    /// firmware set-up that works is not disturbed. The interrupt mask is not touched.
    pub fn set_termios(&self, uartclk: u32, baud: u32) -> Option<Pl011Setup> {
        let (ibrd, fbrd) = pl011_divisors(uartclk, baud)?;
        let regs = self.regs();
        let lcr_h = LCR_H::WLEN::EightBit + LCR_H::FEN::SET;
        let running = CR::UARTEN::SET + CR::TXE::SET + CR::RXE::SET;
        if regs.CR.matches_all(running)
            && regs.IBRD.get() == ibrd
            && regs.FBRD.get() == fbrd
            && regs.LCR_H.get() & 0xff == lcr_h.value
        {
            return Some(Pl011Setup {
                ibrd,
                fbrd,
                kept: true,
            });
        }
        // Let what the firmware (or an earlier print) queued go out at the old rate.
        let mut spins = 0;
        while regs.FR.is_set(FR::BUSY) && spins < BUSY_SPINS {
            spins += 1;
            core::hint::spin_loop();
        }
        regs.CR.set(0);
        regs.LCR_H.set(0);
        regs.IBRD.set(ibrd);
        regs.FBRD.set(fbrd);
        regs.LCR_H.write(lcr_h);
        regs.CR.write(running);
        Some(Pl011Setup {
            ibrd,
            fbrd,
            kept: false,
        })
    }

    fn putc(&self, byte: u8) {
        while self.regs().FR.is_set(FR::TXFF) {
            core::hint::spin_loop();
        }
        self.regs().DR.set(byte as u32);
    }

    /// Interrupt on received data and on receive timeout (a partly filled FIFO going idle).
    pub fn enable_rx_interrupt(&self) {
        self.regs().ICR.set(0x7ff);
        self.regs().IMSC.set(IMSC_RXIM | IMSC_RTIM);
    }

    /// The receive interrupt (Linux's `pl011_int`): while the raw status shows an enabled
    /// interrupt, clear the ones that are not data (errors, modem lines) and drain the
    /// receive FIFO into `sink`. The receive and receive-timeout interrupts are never
    /// cleared through ICR: draining the FIFO clears them (TRM 3.4.2, 3.4.4), and a byte
    /// that arrives after the last look at FR raises them again. Clearing them after the
    /// drain would lose that byte's interrupt: QEMU raises RX only as its FIFO goes from
    /// empty to one byte, so the FIFO would fill and input stop for good (a login session
    /// stalled that way at -smp 4, where the UART is fed while a CPU drains it).
    pub fn handle_rx(&self, mut sink: impl FnMut(u8)) {
        let regs = self.regs();
        let enabled = regs.IMSC.get();
        let mut status = regs.RIS.get() & enabled;
        let mut pass = 0;
        while status != 0 && pass < AMBA_ISR_PASS_LIMIT {
            regs.ICR.set(status & !(IMSC_TXIM | IMSC_RTIM | IMSC_RXIM));
            while let Some(byte) = self.getc() {
                sink(byte);
            }
            status = regs.RIS.get() & enabled;
            pass += 1;
        }
    }

    /// A received byte, if one is waiting.
    pub fn getc(&self) -> Option<u8> {
        if self.regs().FR.is_set(FR::RXFE) {
            None
        } else {
            Some(self.regs().DR.get() as u8)
        }
    }
}

impl Console for Pl011 {
    fn name(&self) -> &str {
        self.name
    }

    fn write(&self, bytes: &[u8]) {
        super::uart_console_write(bytes, |b| self.putc(b));
    }
}

// SAFETY: the registers are MMIO; concurrent use from two CPUs can garble output but cannot
// break memory safety. printk's lock serialises all but the panic path.
unsafe impl Sync for Pl011 {}
// SAFETY: as above: the struct is only an address and a name.
unsafe impl Send for Pl011 {}

#[cfg(target_os = "none")]
mod kunit {
    use super::*;
    use crate::kunit::Test;
    use crate::{kunit_expect, kunit_test_suite};

    /// Divisors for the clocks the boards have: the Pi firmware's 48 MHz, QEMU virt's 24 MHz,
    /// the old Pi default of 3 MHz; and rates no divisor reaches.
    fn baud_divisors(test: &mut Test) {
        let cases = [
            (48_000_000, 115_200, Some((26, 3))),
            (48_000_000, 9_600, Some((312, 32))),
            (48_000_000, 921_600, Some((3, 16))),
            (24_000_000, 115_200, Some((13, 1))),
            (3_000_000, 115_200, Some((1, 40))),
            (3_000_000, 38_400, Some((4, 57))),
            // Faster than the clock allows (IBRD 0) and no baud at all.
            (3_000_000, 230_400, None),
            (48_000_000, 0, None),
            // Slower than the divisor reaches.
            (48_000_000, 45, None),
        ];
        for (clk, baud, want) in cases {
            let got = pl011_divisors(clk, baud);
            kunit_expect!(
                test,
                got == want,
                "{clk} Hz, {baud} baud: {got:?} != {want:?}"
            );
        }
    }

    kunit_test_suite!(amba_pl011, [baud_divisors]);
}

impl UartConsole for Pl011 {
    unsafe fn move_to(&self, va: usize) {
        // SAFETY: the caller's guarantee, passed on.
        unsafe { Pl011::move_to(self, va) }
    }

    fn enable_rx_interrupt(&self) {
        Pl011::enable_rx_interrupt(self);
    }

    fn handle_rx(&self, sink: fn(u8)) {
        Pl011::handle_rx(self, sink);
    }
}

/// The console PL011, once `earlycon` chose it.
static CONSOLE_PORT: InitOnce<Pl011> = InitOnce::new();

/// Start the PL011 at `node` (mapped at `va`) as the console (Linux's `pl011_early_console_setup`).
fn pl011_early_console_setup(
    fdt: &Fdt<'_>,
    node: FdtNode<'_, '_>,
    va: usize,
    pa: u64,
    line: LineOptions,
) -> Option<&'static dyn UartConsole> {
    // SAFETY: the DT says this UART lives at `pa`; earlycon's fixmap slot maps that page as
    // device memory for good, and nothing else drives this UART.
    let uart = unsafe { Pl011::new(va, "ttyAMA0") };
    super::serial_core::pl011_console_setup(fdt, node, &uart, pa, line);
    CONSOLE_PORT.set(uart).ok()?;
    Some(CONSOLE_PORT.get()? as &dyn UartConsole)
}

crate::EARLYCON_DECLARE!(
    pl011,
    "arm,pl011",
    ["ttyAMA0"],
    "serial0",
    pl011_early_console_setup
);
