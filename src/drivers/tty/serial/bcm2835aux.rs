//! The Raspberry Pi's mini UART, the BCM2835 auxiliary UART (Linux:
//! `drivers/tty/serial/8250/8250_bcm2835aux.c`).
//!
//! The console the Pi's device trees name (`stdout-path = "serial1"`, compatible
//! `brcm,bcm2835-aux-uart`). A cut-down 16550: registers from the BCM2835 ARM Peripherals
//! manual, section 2.2.2.
//!
//! Its baud rate derives from the VPU core clock: `baud = core_clock / (8 × (AUX_MU_BAUD +
//! 1))`. The firmware enables it and sets the rate with `enable_uart=1` (which also pins the
//! core clock); [`MiniUart::set_termios`] programs it from the core clock the firmware
//! reports, as Linux's `8250_bcm2835aux.c` does with its clock (there `uartclk` is twice the
//! core clock, since the mini UART divides by 8 where a 16550 divides by 16).

use core::sync::atomic::{AtomicUsize, Ordering};

use tock_registers::interfaces::{ReadWriteable, Readable, Writeable};
use tock_registers::register_bitfields;
use tock_registers::register_structs;
use tock_registers::registers::{ReadOnly, ReadWrite};

use fdt::node::FdtNode;
use fdt::Fdt;

use super::earlycon::UartConsole;
use super::serial_core::LineOptions;
use crate::kernel::locking::InitOnce;
use crate::kernel::printk::Console;

register_bitfields! {
    u32,
    /// Line status register (AUX_MU_LSR_REG).
    LSR [
        /// The transmit FIFO is empty and the last bit has gone out.
        TX_IDLE OFFSET(6) NUMBITS(1) [],
        /// The transmit FIFO can accept at least one byte.
        TX_EMPTY OFFSET(5) NUMBITS(1) [],
        /// The receive FIFO holds at least one byte.
        DATA_READY OFFSET(0) NUMBITS(1) []
    ],
    /// Interrupt enable register (AUX_MU_IER_REG).
    IER [
        /// Interrupt when the receive FIFO holds data.
        RX OFFSET(0) NUMBITS(1) []
    ],
    /// Line control register (AUX_MU_LCR_REG).
    LCR [
        /// Data size: 0b11 = 8 bits (the manual documents bit 0 only; both are needed).
        DATA_SIZE OFFSET(0) NUMBITS(2) [SevenBit = 0b00, EightBit = 0b11]
    ],
    /// Extra control register (AUX_MU_CNTL_REG).
    CNTL [
        /// Transmitter enable.
        TX_ENABLE OFFSET(1) NUMBITS(1) [],
        /// Receiver enable.
        RX_ENABLE OFFSET(0) NUMBITS(1) []
    ]
}

register_structs! {
    /// The AUX block's shared registers (the `brcm,bcm2835-aux` node's `reg`).
    #[allow(non_snake_case)]
    pub AuxRegisters {
        (0x00 => AUX_IRQ: ReadOnly<u32>),
        /// Bit 0 enables the mini UART (Linux models it as a clock gate).
        (0x04 => AUX_ENABLES: ReadWrite<u32>),
        (0x08 => @END),
    }
}

/// AUX_ENABLES: the mini UART.
const AUX_ENABLES_UART: u32 = 1 << 0;

impl AuxRegisters {
    /// Turn the mini UART on (its registers do not respond while it is off); the SPI
    /// masters' bits are kept.
    pub fn enable_uart(&self) {
        let enables = self.AUX_ENABLES.get();
        if enables & AUX_ENABLES_UART == 0 {
            self.AUX_ENABLES.set(enables | AUX_ENABLES_UART);
        }
    }
}

/// The AUX_MU_BAUD value for `baud` from a core clock of `core_clock` Hz:
/// `core_clock / (8 × baud) - 1`, rounded to nearest; `None` if out of the 16-bit range.
pub fn mini_uart_divisor(core_clock: u32, baud: u32) -> Option<u32> {
    if baud == 0 {
        return None;
    }
    let eight = 8 * u64::from(baud);
    let quot = (u64::from(core_clock) + eight / 2) / eight;
    match quot {
        1..=0x1_0000 => Some((quot - 1) as u32),
        _ => None,
    }
}

/// How [`MiniUart::set_termios`] left the line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MiniUartSetup {
    /// The AUX_MU_BAUD value.
    pub divisor: u32,
    /// The UART already ran with these settings and was left alone.
    pub kept: bool,
}

register_structs! {
    /// The mini UART's registers, from AUX_MU_IO_REG (the DT's `reg` points there).
    #[allow(non_snake_case)]
    pub MiniUartRegisters {
        (0x00 => IO: ReadWrite<u32>),
        (0x04 => IER: ReadWrite<u32, IER::Register>),
        (0x08 => IIR: ReadWrite<u32>),
        (0x0c => LCR: ReadWrite<u32, LCR::Register>),
        (0x10 => MCR: ReadWrite<u32>),
        (0x14 => LSR: ReadOnly<u32, LSR::Register>),
        (0x18 => MSR: ReadOnly<u32>),
        (0x1c => SCRATCH: ReadWrite<u32>),
        (0x20 => CNTL: ReadWrite<u32, CNTL::Register>),
        (0x24 => STAT: ReadOnly<u32>),
        (0x28 => BAUD: ReadWrite<u32>),
        (0x2c => @END),
    }
}

/// A mini UART at a mapped virtual address.
pub struct MiniUart {
    base: AtomicUsize,
    name: &'static str,
}

impl MiniUart {
    /// Take over the mini UART mapped at `base`.
    ///
    /// # Safety
    ///
    /// `base` must map a BCM2835 mini UART's registers (AUX_MU_IO_REG onwards) as device
    /// memory for the rest of the kernel's life, and no other driver may use it.
    pub unsafe fn new(base: usize, name: &'static str) -> Self {
        Self {
            base: AtomicUsize::new(base),
            name,
        }
    }

    fn regs(&self) -> &MiniUartRegisters {
        // SAFETY: `base` maps the registers for as long as it is stored (see `new`/`move_to`).
        unsafe { &*(self.base.load(Ordering::Relaxed) as *const MiniUartRegisters) }
    }

    /// Use the registers at a new virtual address.
    ///
    /// # Safety
    ///
    /// As for [`MiniUart::new`].
    pub unsafe fn move_to(&self, base: usize) {
        self.base.store(base, Ordering::Relaxed);
    }

    /// Program `baud`, 8 data bits, from a core clock of `core_clock` Hz, and enable
    /// transmit and receive (BCM2835 ARM Peripherals 2.2.2: let the transmitter drain, stop
    /// the line, set the data size, flush the FIFOs, write the baud register, start the
    /// line). The AUX_ENABLES bit must already be set. A UART that already runs with exactly these settings is left
    /// alone. The interrupt enables are not touched.
    pub fn set_termios(&self, core_clock: u32, baud: u32) -> Option<MiniUartSetup> {
        let divisor = mini_uart_divisor(core_clock, baud)?;
        let regs = self.regs();
        let running = CNTL::TX_ENABLE::SET + CNTL::RX_ENABLE::SET;
        if regs.CNTL.matches_all(running)
            && regs.BAUD.get() & 0xffff == divisor
            && regs.LCR.matches_all(LCR::DATA_SIZE::EightBit)
        {
            return Some(MiniUartSetup {
                divisor,
                kept: true,
            });
        }
        // Let what the firmware queued go out at the old rate (bounded: 8 bytes at 300 baud
        // take a quarter of a second).
        let mut spins = 0u32;
        while !regs.LSR.is_set(LSR::TX_IDLE) && spins < 10_000_000 {
            spins += 1;
            core::hint::spin_loop();
        }
        regs.CNTL.set(0);
        regs.LCR.write(LCR::DATA_SIZE::EightBit);
        regs.MCR.set(0);
        // Clear both FIFOs (IIR bits 1 and 2 on write).
        regs.IIR.set(0x6);
        regs.BAUD.set(divisor);
        regs.CNTL.modify(running);
        Some(MiniUartSetup {
            divisor,
            kept: false,
        })
    }

    fn putc(&self, byte: u8) {
        while !self.regs().LSR.is_set(LSR::TX_EMPTY) {
            core::hint::spin_loop();
        }
        self.regs().IO.set(byte as u32);
    }

    /// A received byte, if one is waiting.
    pub fn getc(&self) -> Option<u8> {
        self.regs()
            .LSR
            .is_set(LSR::DATA_READY)
            .then(|| self.regs().IO.get() as u8)
    }

    /// Interrupt on received data.
    pub fn enable_rx_interrupt(&self) {
        self.regs().IER.write(IER::RX::SET);
    }

    /// Drain the receive FIFO into `sink` (reading the data clears the interrupt).
    pub fn handle_rx(&self, mut sink: impl FnMut(u8)) {
        while let Some(byte) = self.getc() {
            sink(byte);
        }
    }
}

impl Console for MiniUart {
    fn name(&self) -> &str {
        self.name
    }

    fn write(&self, bytes: &[u8]) {
        super::uart_console_write(bytes, |b| self.putc(b));
    }
}

// SAFETY: MMIO registers; concurrent use can garble output but not break memory safety,
// and printk's lock serialises all but the panic path.
unsafe impl Sync for MiniUart {}
// SAFETY: as above: an address and a name.
unsafe impl Send for MiniUart {}

#[cfg(target_os = "none")]
mod kunit {
    use super::*;
    use crate::kunit::Test;
    use crate::{kunit_expect, kunit_test_suite};

    /// AUX_MU_BAUD for the core clocks the Pis run the mini UART at (250 MHz with
    /// `enable_uart=1` on the Pi 3, 500 MHz on the Pi 4) and rates out of range.
    fn baud_register(test: &mut Test) {
        let cases = [
            (250_000_000, 115_200, Some(270)),
            (500_000_000, 115_200, Some(542)),
            (400_000_000, 115_200, Some(433)),
            (250_000_000, 9_600, Some(3254)),
            (250_000_000, 31_250_000, Some(0)),
            (250_000_000, 100_000_000, None),
            (250_000_000, 300, None),
            (250_000_000, 0, None),
        ];
        for (clk, baud, want) in cases {
            let got = mini_uart_divisor(clk, baud);
            kunit_expect!(
                test,
                got == want,
                "{clk} Hz, {baud} baud: {got:?} != {want:?}"
            );
        }
    }

    kunit_test_suite!(bcm2835aux, [baud_register]);
}

impl UartConsole for MiniUart {
    unsafe fn move_to(&self, va: usize) {
        // SAFETY: the caller's guarantee, passed on.
        unsafe { MiniUart::move_to(self, va) }
    }

    fn enable_rx_interrupt(&self) {
        MiniUart::enable_rx_interrupt(self);
    }

    fn handle_rx(&self, sink: fn(u8)) {
        MiniUart::handle_rx(self, sink);
    }
}

/// The console mini UART, once `earlycon` chose it.
static CONSOLE_PORT: InitOnce<MiniUart> = InitOnce::new();

/// Start the mini UART at `node` (mapped at `va`) as the console (Linux's `bcm2835aux_early_console_setup`).
fn bcm2835aux_early_console_setup(
    fdt: &Fdt<'_>,
    node: FdtNode<'_, '_>,
    va: usize,
    pa: u64,
    line: LineOptions,
) -> Option<&'static dyn UartConsole> {
    // SAFETY: the DT says this UART lives at `pa`; earlycon's fixmap slot maps that page as
    // device memory for good, and nothing else drives this UART.
    let uart = unsafe { MiniUart::new(va, "ttyS1") };
    super::serial_core::mini_uart_console_setup(fdt, node, &uart, pa, line);
    CONSOLE_PORT.set(uart).ok()?;
    Some(CONSOLE_PORT.get()? as &dyn UartConsole)
}

crate::EARLYCON_DECLARE!(
    bcm2835aux,
    "brcm,bcm2835-aux-uart",
    ["ttyS0", "ttyS1"],
    "serial1",
    bcm2835aux_early_console_setup
);
