//! The BCM2835 mailbox between the ARM and the VideoCore (Linux:
//! `drivers/mailbox/bcm2835-mailbox.c`), DT compatible `brcm,bcm2835-mbox`.
//!
//! Two one-way FIFOs of 32-bit words: mailbox 0 carries the VideoCore's messages to the ARM,
//! mailbox 1 the ARM's to the VideoCore. A word is a 16-byte aligned bus address with a
//! channel number (0-15) in its low four bits; the firmware answers on the same channel
//! with the same word. Linux takes the answer by interrupt; Cradle needs it before the
//! interrupt controller is up (the console's clock), so it polls, with a time limit.
//! Register offsets from Linux's driver (`MAIL0_RD` .. `MAIL1_STA`); status bits from the
//! same place (`ARM_MS_FULL`, `ARM_MS_EMPTY`).

use tock_registers::interfaces::{Readable, Writeable};
use tock_registers::register_bitfields;
use tock_registers::register_structs;
use tock_registers::registers::{ReadOnly, ReadWrite, WriteOnly};

use crate::arch::arch_timer;

register_bitfields! {
    u32,
    /// A mailbox's status register.
    STATUS [
        /// The FIFO cannot take another word.
        FULL OFFSET(31) NUMBITS(1) [],
        /// The FIFO holds no word.
        EMPTY OFFSET(30) NUMBITS(1) []
    ]
}

register_structs! {
    /// The registers at the DT's `reg` (the ARM's view, 0x7e00b880 on the bus).
    #[allow(non_snake_case)]
    pub MailboxRegisters {
        /// Mailbox 0 (VideoCore to ARM): read pops a word.
        (0x00 => MAIL0_RD: ReadOnly<u32>),
        (0x04 => _reserved0),
        (0x18 => MAIL0_STA: ReadOnly<u32, STATUS::Register>),
        (0x1c => MAIL0_CNF: ReadWrite<u32>),
        /// Mailbox 1 (ARM to VideoCore): write pushes a word.
        (0x20 => MAIL1_WRT: WriteOnly<u32>),
        (0x24 => _reserved1),
        (0x38 => MAIL1_STA: ReadOnly<u32, STATUS::Register>),
        (0x3c => _reserved2),
        (0x40 => @END),
    }
}

/// Why a mailbox exchange failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MailboxError {
    /// Mailbox 1 stayed full: nobody is reading it.
    SendTimeout,
    /// No answer came back in time.
    ReplyTimeout,
}

/// The longest a message may take, each way. The firmware answers a property request in
/// microseconds; a whole second means it is not there.
const TIMEOUT_MS: u64 = 1000;
/// Stale words the firmware may have left in mailbox 0 that are skipped, at most.
const MAX_STALE: usize = 64;

/// A mailbox at a mapped virtual address.
pub struct Bcm2835Mailbox {
    regs: &'static MailboxRegisters,
}

/// Counts time with the generic counter, or iterations when CNTFRQ_EL0 was never set.
struct Deadline {
    start: u64,
    ticks: u64,
    spins: u64,
}

impl Deadline {
    fn after_ms(ms: u64) -> Self {
        let freq = arch_timer::frequency();
        Self {
            start: arch_timer::counter(),
            ticks: freq / 1000 * ms,
            spins: 0,
        }
    }

    fn passed(&mut self) -> bool {
        self.spins += 1;
        if self.ticks == 0 {
            // No counter frequency: fall back to a generous number of register polls.
            return self.spins > 10_000_000;
        }
        arch_timer::counter().wrapping_sub(self.start) > self.ticks
    }
}

impl Bcm2835Mailbox {
    /// Take over the mailbox whose registers are mapped at `regs`.
    ///
    /// # Safety
    ///
    /// `regs` must be the virtual address of a BCM2835 mailbox's registers, mapped as
    /// device memory for the rest of the kernel's life; callers serialise exchanges.
    pub unsafe fn new(regs: usize) -> Self {
        // SAFETY: the caller's guarantee: `regs` maps the register block for good.
        let regs = unsafe { &*(regs as *const MailboxRegisters) };
        Self { regs }
    }

    /// Send `data` (a 16-byte aligned bus address) on `channel` and wait for the answer on
    /// the same channel: Linux's `bcm2835_send_data` plus the interrupt handler's read,
    /// polled. Words for other channels are dropped.
    pub fn send_receive(&self, channel: u32, data: u32) -> Result<u32, MailboxError> {
        self.send_receive_timeout(channel, data, TIMEOUT_MS)
    }

    /// [`Bcm2835Mailbox::send_receive`] giving up after `timeout_ms` each way.
    pub fn send_receive_timeout(
        &self,
        channel: u32,
        data: u32,
        timeout_ms: u64,
    ) -> Result<u32, MailboxError> {
        debug_assert!(channel < 16 && data & 0xf == 0);
        // Drop answers to requests nobody waits for any more (a timed-out earlier call).
        for _ in 0..MAX_STALE {
            if self.regs.MAIL0_STA.is_set(STATUS::EMPTY) {
                break;
            }
            let _ = self.regs.MAIL0_RD.get();
        }
        let mut deadline = Deadline::after_ms(timeout_ms);
        while self.regs.MAIL1_STA.is_set(STATUS::FULL) {
            if deadline.passed() {
                return Err(MailboxError::SendTimeout);
            }
            core::hint::spin_loop();
        }
        // The message buffer must be in memory before the VideoCore is told about it.
        crate::arch::barrier::mb();
        self.regs.MAIL1_WRT.set(data | channel);
        let mut deadline = Deadline::after_ms(timeout_ms);
        loop {
            if !self.regs.MAIL0_STA.is_set(STATUS::EMPTY) {
                let word = self.regs.MAIL0_RD.get();
                if word & 0xf == channel {
                    // Reads of the buffer come after the answer.
                    crate::arch::barrier::mb();
                    return Ok(word & !0xf);
                }
                continue;
            }
            if deadline.passed() {
                return Err(MailboxError::ReplyTimeout);
            }
            core::hint::spin_loop();
        }
    }
}

#[cfg(target_os = "none")]
mod kunit {
    use super::*;
    use crate::kunit::Test;
    use crate::{kunit_assert, kunit_expect, kunit_test_suite};
    use alloc::boxed::Box;

    const WORDS: usize = 0x40 / 4;
    const STA_FULL: u32 = 1 << 31;
    const STA_EMPTY: u32 = 1 << 30;

    /// A "mailbox" in RAM whose registers hold what the test put there: the driver's
    /// polling, timeouts and channel check run as on the device, with no firmware behind.
    fn fake(init: &[(usize, u32)]) -> (&'static mut [u32; WORDS], Bcm2835Mailbox) {
        let regs: &'static mut [u32; WORDS] = Box::leak(Box::new([0; WORDS]));
        for &(offset, value) in init {
            regs[offset / 4] = value;
        }
        let va = regs.as_ptr() as usize;
        // SAFETY: `regs` is leaked, so it lives for good, and only this test uses it.
        let mbox = unsafe { Bcm2835Mailbox::new(va) };
        (regs, mbox)
    }

    /// An answer on the property channel comes back with the channel bits stripped, and
    /// the request went out as address | channel.
    fn answer_on_channel(test: &mut Test) {
        let (regs, mbox) = fake(&[(0x18, 0), (0x00, 0xc000_1008), (0x38, 0)]);
        let got = mbox.send_receive_timeout(8, 0xc000_1000, 10);
        kunit_expect!(test, got == Ok(0xc000_1000), "{got:?}");
        // SAFETY: reading the leaked fake registers.
        let sent = unsafe { core::ptr::read_volatile(&regs[0x20 / 4]) };
        kunit_expect!(test, sent == 0xc000_1008, "{sent:#x}");
    }

    /// Nobody reading mailbox 1, or nobody answering on mailbox 0: errors after the time
    /// limit, not a hang.
    fn timeouts(test: &mut Test) {
        let (_, full) = fake(&[(0x38, STA_FULL), (0x18, STA_EMPTY)]);
        let start = crate::kernel::time::ktime_get_ns();
        let got = full.send_receive_timeout(8, 0x1000, 10);
        kunit_expect!(test, got == Err(MailboxError::SendTimeout), "{got:?}");
        let (regs, silent) = fake(&[(0x38, 0), (0x18, STA_EMPTY)]);
        let got = silent.send_receive_timeout(8, 0x1000, 10);
        kunit_expect!(test, got == Err(MailboxError::ReplyTimeout), "{got:?}");
        // SAFETY: reading the leaked fake registers.
        let sent = unsafe { core::ptr::read_volatile(&regs[0x20 / 4]) };
        kunit_expect!(
            test,
            sent == 0x1008,
            "the request was not posted: {sent:#x}"
        );
        let ms = (crate::kernel::time::ktime_get_ns() - start) / 1_000_000;
        kunit_assert!(
            test,
            (20..2000).contains(&ms),
            "two 10 ms timeouts took {ms} ms"
        );
    }

    kunit_test_suite!(bcm2835_mailbox, [answer_on_channel, timeouts]);
}
