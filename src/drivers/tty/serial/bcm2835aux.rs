//! The Raspberry Pi's mini UART, the BCM2835 auxiliary UART (Linux:
//! `drivers/tty/serial/8250/8250_bcm2835aux.c`).
//!
//! The console the Pi's device trees name (`stdout-path = "serial1"`, compatible
//! `brcm,bcm2835-aux-uart`). A cut-down 16550: registers from the BCM2835 ARM Peripherals
//! manual, section 2.2.2. The firmware enables it and sets its baud rate (`enable_uart=1`
//! in config.txt); the driver only moves bytes.

use core::sync::atomic::{AtomicUsize, Ordering};

use tock_registers::interfaces::{Readable, Writeable};
use tock_registers::register_bitfields;
use tock_registers::register_structs;
use tock_registers::registers::{ReadOnly, ReadWrite};

use crate::kernel::printk::Console;

register_bitfields! {
    u32,
    /// Line status register (AUX_MU_LSR_REG).
    LSR [
        /// The transmit FIFO can accept at least one byte.
        TX_EMPTY OFFSET(5) NUMBITS(1) [],
        /// The receive FIFO holds at least one byte.
        DATA_READY OFFSET(0) NUMBITS(1) []
    ],
    /// Interrupt enable register (AUX_MU_IER_REG).
    IER [
        /// Interrupt when the receive FIFO holds data.
        RX OFFSET(0) NUMBITS(1) []
    ]
}

register_structs! {
    /// The mini UART's registers, from AUX_MU_IO_REG (the DT's `reg` points there).
    #[allow(non_snake_case)]
    pub MiniUartRegisters {
        (0x00 => IO: ReadWrite<u32>),
        (0x04 => IER: ReadWrite<u32, IER::Register>),
        (0x08 => IIR: ReadWrite<u32>),
        (0x0c => LCR: ReadWrite<u32>),
        (0x10 => MCR: ReadWrite<u32>),
        (0x14 => LSR: ReadOnly<u32, LSR::Register>),
        (0x18 => @END),
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
        for &b in bytes {
            if b == b'\n' {
                self.putc(b'\r');
            }
            self.putc(b);
        }
    }
}

// SAFETY: MMIO registers; concurrent use can garble output but not break memory safety,
// and printk's lock serialises all but the panic path.
unsafe impl Sync for MiniUart {}
// SAFETY: as above: an address and a name.
unsafe impl Send for MiniUart {}
