//! The Raspberry Pi firmware's property interface (Linux: `drivers/firmware/raspberrypi.c`,
//! `include/soc/bcm2835/raspberrypi-firmware.h`), DT compatible
//! `raspberrypi,bcm2835-firmware`.
//!
//! The VideoCore firmware owns the Pi's clocks. The ARM asks it questions by writing a
//! message into RAM and posting the message's *bus* address on the mailbox's property
//! channel (8); the firmware rewrites the message in place with its answers and posts the
//! address back. A message is a list of 32-bit words:
//!
//! ```text
//!   [0] total size in bytes      [1] 0 = request; answer: 0x80000000 ok, 0x80000001 error
//!   [2] tag      [3] value buffer size in bytes      [4] 0; answer: 0x80000000 | length
//!   [5..] value buffer (request data in, answer out)     ...more tags...     [n] 0 = end
//! ```
//!
//! The VideoCore does not snoop the ARM's caches: the message is cleaned to RAM before it
//! is posted and invalidated after the answer, and it lives in a static buffer of whole
//! cache lines so no other data shares them. Its bus address comes from the mailbox node's
//! `dma-ranges` (on the Pi 3 and 4 RAM at 0 is bus 0xc0000000, the VideoCore's uncached
//! alias). Cradle asks before the page allocator or interrupts exist (the console's clock),
//! so the mailbox is polled with a time limit, and missing or silent firmware is an error
//! value, never a hang.

use core::sync::atomic::{AtomicBool, Ordering};

use crate::arch::cacheflush::dcache_clean_inval_poc;
use crate::arch::fixmap::{fix_to_virt, set_fixmap, slot, FIXMAP_PAGE_IO};
use crate::arch::head::pa_symbol;
use crate::drivers::mailbox::bcm2835_mailbox::{Bcm2835Mailbox, MailboxError};
use crate::kernel::locking::{InitOnce, SpinLock};
use crate::of::base::be32;

/// The mailbox channel of the property interface, ARM to VideoCore.
const MBOX_CHAN_PROPERTY: u32 = 8;

/// `RPI_FIRMWARE_STATUS_REQUEST`, `_SUCCESS`, `_ERROR`: word 1 of a message.
const STATUS_REQUEST: u32 = 0;
const STATUS_SUCCESS: u32 = 0x8000_0000;
/// Bit 31 of a tag's request/response word: the firmware answered this tag.
const TAG_RESPONSE: u32 = 0x8000_0000;
/// `RPI_FIRMWARE_PROPERTY_END`.
const PROPERTY_END: u32 = 0;

/// Tags (`enum rpi_firmware_property_tag`).
pub const RPI_FIRMWARE_GET_FIRMWARE_REVISION: u32 = 0x0000_0001;
pub const RPI_FIRMWARE_GET_BOARD_REVISION: u32 = 0x0001_0002;
pub const RPI_FIRMWARE_GET_ARM_MEMORY: u32 = 0x0001_0005;
pub const RPI_FIRMWARE_GET_CLOCK_RATE: u32 = 0x0003_0002;

/// Clock ids of `RPI_FIRMWARE_GET_CLOCK_RATE` (`enum rpi_firmware_clk_id`).
pub const RPI_FIRMWARE_UART_CLK_ID: u32 = 2;
pub const RPI_FIRMWARE_CORE_CLK_ID: u32 = 4;

/// Why a property call failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FirmwareError {
    /// No firmware node, no usable mailbox, or the firmware never answered at probe time.
    NoFirmware,
    /// The mailbox exchange itself failed.
    Mailbox(MailboxError),
    /// The request does not fit the message buffer.
    TooBig,
    /// The firmware's answer to the whole message was not success (word 1).
    Status(u32),
    /// The firmware did not answer the tag, or answered a different one.
    NotAnswered,
}

/// Words in the message buffer: 256 bytes, four cache lines of 64 bytes.
pub const MESSAGE_WORDS: usize = 64;

/// The message buffer: whole cache lines of its own (64 is the Cortex-A53/A72 line size and
/// a multiple of the 16-byte alignment the mailbox needs).
#[repr(C, align(64))]
struct Message([u32; MESSAGE_WORDS]);

/// Encode a message with one tag into `buf`: `data` is the request, and its length is the
/// size of the value buffer (room for the answer too). Returns the message's length in
/// words. Linux's `rpi_firmware_property` does the same around its `rpi_firmware_property_list`.
pub fn encode_property(buf: &mut [u32], tag: u32, data: &[u32]) -> Result<usize, FirmwareError> {
    let words = 5 + data.len() + 1;
    if words > buf.len() {
        return Err(FirmwareError::TooBig);
    }
    buf[0] = (words * 4) as u32;
    buf[1] = STATUS_REQUEST;
    buf[2] = tag;
    buf[3] = (data.len() * 4) as u32;
    buf[4] = 0;
    buf[5..5 + data.len()].copy_from_slice(data);
    buf[5 + data.len()] = PROPERTY_END;
    Ok(words)
}

/// Decode the firmware's answer to a message [`encode_property`] built: copy the tag's value
/// buffer (up to `data.len()` words and the length the firmware reports) into `data`.
pub fn decode_property(buf: &[u32], tag: u32, data: &mut [u32]) -> Result<(), FirmwareError> {
    if buf.len() < 5 + data.len() {
        return Err(FirmwareError::TooBig);
    }
    if buf[1] != STATUS_SUCCESS {
        return Err(FirmwareError::Status(buf[1]));
    }
    if buf[2] != tag || buf[4] & TAG_RESPONSE == 0 {
        return Err(FirmwareError::NotAnswered);
    }
    let answered = ((buf[4] & !TAG_RESPONSE) as usize)
        .div_ceil(4)
        .min(data.len());
    data[..answered].copy_from_slice(&buf[5..5 + answered]);
    Ok(())
}

/// The firmware, once found and answering.
struct RpiFirmware {
    mbox: Bcm2835Mailbox,
    /// The message buffer's address as the VideoCore sees it.
    bus_address: u32,
}

// SAFETY: the mailbox is MMIO registers; every exchange runs under `MESSAGE`'s lock.
unsafe impl Sync for RpiFirmware {}
// SAFETY: as above: a register pointer and a number.
unsafe impl Send for RpiFirmware {}

static FIRMWARE: InitOnce<RpiFirmware> = InitOnce::new();
/// The message buffer; the lock also serialises use of the mailbox.
static MESSAGE: SpinLock<Message> = SpinLock::new(Message([0; MESSAGE_WORDS]));
/// Set once probing started, so a failed probe is not retried (and its timeout not paid)
/// on every call.
static PROBED: AtomicBool = AtomicBool::new(false);

impl RpiFirmware {
    /// One property call: encode, post, wait, decode (Linux's `rpi_firmware_property`).
    fn property(&self, tag: u32, data: &mut [u32]) -> Result<(), FirmwareError> {
        let mut message = MESSAGE.lock();
        encode_property(&mut message.0, tag, data)?;
        dcache_clean_inval_poc::<Message>(&message);
        let answer = self
            .mbox
            .send_receive(MBOX_CHAN_PROPERTY, self.bus_address)
            .map_err(FirmwareError::Mailbox);
        // Drop any line the CPU fetched (speculatively) while the VideoCore was writing.
        dcache_clean_inval_poc::<Message>(&message);
        answer?;
        // SAFETY: a plain read of our own buffer; volatile so the compiler cannot reuse
        // values from before the firmware rewrote it behind its back.
        let words = unsafe { core::ptr::read_volatile(&message.0) };
        decode_property(&words, tag, data)
    }
}

/// Ask the firmware one question: `data` holds the request and receives the answer
/// (Linux's `rpi_firmware_property`).
pub fn rpi_firmware_property(tag: u32, data: &mut [u32]) -> Result<(), FirmwareError> {
    FIRMWARE
        .get()
        .ok_or(FirmwareError::NoFirmware)?
        .property(tag, data)
}

/// The rate of one of the firmware's clocks in Hz (`RPI_FIRMWARE_GET_CLOCK_RATE`); a rate
/// of 0 means the firmware does not know the clock.
pub fn rpi_firmware_get_clock_rate(clock_id: u32) -> Result<u32, FirmwareError> {
    let mut data = [clock_id, 0];
    rpi_firmware_property(RPI_FIRMWARE_GET_CLOCK_RATE, &mut data)?;
    match data {
        [id, rate] if id == clock_id && rate != 0 => Ok(rate),
        _ => Err(FirmwareError::NotAnswered),
    }
}

/// Days since 1970-01-01 as a (year, month, day) of the proleptic Gregorian calendar.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    // Count from 0000-03-01 so that the leap day ends each 4/100/400-year cycle.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// A Unix time as Linux's `%ptT` prints it: `YYYY-MM-DDTHH:MM:SS`.
pub struct IsoTime(pub u64);

impl core::fmt::Display for IsoTime {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let (days, secs) = (self.0 / 86_400, self.0 % 86_400);
        let (year, month, day) = civil_from_days(days as i64);
        write!(
            f,
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        )
    }
}

/// Find the firmware node and its mailbox, map the mailbox, and check that the firmware
/// answers (Linux's `rpi_firmware_probe`, which prints the same "Attached" line). Runs
/// once, from the console set-up in `setup_arch`; without firmware it does nothing.
pub fn rpi_firmware_probe() {
    if PROBED.swap(true, Ordering::AcqRel) {
        return;
    }
    let Some(fdt) = crate::arch::setup::fdt() else {
        return;
    };
    let Some(node) = fdt.find_compatible(&["raspberrypi,bcm2835-firmware"]) else {
        return;
    };
    // Linux names the device after its path below the root: /soc/firmware is soc:firmware.
    let dev = match fdt.find_node("/soc/firmware") {
        Some(n) if core::ptr::eq(n.name, node.name) => "soc:firmware",
        _ => node.name,
    };
    let mbox = node
        .property("mboxes")
        .and_then(|p| be32(p.value))
        .and_then(|phandle| fdt.find_phandle(phandle))
        .filter(|m| {
            m.compatible()
                .is_some_and(|c| c.all().any(|s| s == "brcm,bcm2835-mbox"))
        });
    let Some(mbox) = mbox else {
        log::warn!("raspberrypi-firmware {dev}: no brcm,bcm2835-mbox in mboxes");
        return;
    };
    let Ok((pa, _)) = crate::of::address::node_reg_first(&fdt, mbox) else {
        log::warn!("raspberrypi-firmware {dev}: the mailbox has no usable reg");
        return;
    };
    // The buffer's address as the VideoCore sees it, through /soc's dma-ranges.
    let buffer_pa = pa_symbol(&*MESSAGE.lock() as *const Message as u64);
    let bus_address = match crate::of::address::of_dma_address(&fdt, mbox, buffer_pa) {
        Ok(bus) => match u32::try_from(bus) {
            Ok(bus) if bus & 0xf == 0 => bus,
            _ => {
                log::warn!("raspberrypi-firmware {dev}: buffer bus address {bus:#x} unusable");
                return;
            }
        },
        Err(e) => {
            log::warn!("raspberrypi-firmware {dev}: buffer at {buffer_pa:#x}: {e}");
            return;
        }
    };
    set_fixmap(slot::FIX_MBOX, pa, FIXMAP_PAGE_IO);
    let va = fix_to_virt(slot::FIX_MBOX) as usize + (pa as usize & 0xfff);
    // SAFETY: the DT says a BCM2835 mailbox is at `pa`; its fixmap slot maps that page as
    // device memory for good, and only this driver uses it (under MESSAGE's lock).
    let mbox = unsafe { Bcm2835Mailbox::new(va) };
    let firmware = RpiFirmware { mbox, bus_address };
    let mut revision = [0u32];
    match firmware.property(RPI_FIRMWARE_GET_FIRMWARE_REVISION, &mut revision) {
        Ok(()) => log::info!(
            "raspberrypi-firmware {dev}: Attached to firmware from {}",
            IsoTime(u64::from(revision[0]))
        ),
        Err(e) => {
            log::warn!("raspberrypi-firmware {dev}: the firmware does not answer ({e:?})");
            set_fixmap(slot::FIX_MBOX, 0, 0);
            return;
        }
    }
    let mut board = [0u32];
    let mut memory = [0u32; 2];
    if firmware
        .property(RPI_FIRMWARE_GET_BOARD_REVISION, &mut board)
        .is_ok()
        && firmware
            .property(RPI_FIRMWARE_GET_ARM_MEMORY, &mut memory)
            .is_ok()
    {
        log::info!(
            "raspberrypi-firmware {dev}: board revision {:#08x}, ARM memory {:#x}-{:#x}",
            board[0],
            memory[0],
            u64::from(memory[0]) + u64::from(memory[1]).saturating_sub(1)
        );
    }
    let _ = FIRMWARE.set(firmware);
}

#[cfg(target_os = "none")]
mod kunit {
    use super::*;
    use crate::kunit::Test;
    use crate::{kunit_expect, kunit_test_suite};

    /// A GET_CLOCK_RATE request for the UART clock encodes as the firmware documents it.
    fn encode_get_clock_rate(test: &mut Test) {
        let mut buf = [0xdead_beef_u32; 16];
        let words = encode_property(&mut buf, RPI_FIRMWARE_GET_CLOCK_RATE, &[2, 0]);
        kunit_expect!(test, words == Ok(8), "{words:?}");
        kunit_expect!(
            test,
            buf[..8] == [32, 0, 0x0003_0002, 8, 0, 2, 0, 0],
            "{:x?}",
            &buf[..8]
        );
        kunit_expect!(test, buf[8] == 0xdead_beef, "wrote past the end tag");
        kunit_expect!(
            test,
            encode_property(&mut buf, 1, &[0; 11]) == Err(FirmwareError::TooBig)
        );
    }

    /// Answers decode into the value buffer; failures are errors, not garbage.
    fn decode_answers(test: &mut Test) {
        let tag = RPI_FIRMWARE_GET_CLOCK_RATE;
        let ok = [
            32,
            STATUS_SUCCESS,
            tag,
            8,
            TAG_RESPONSE | 8,
            2,
            48_000_000,
            0,
        ];
        let mut data = [2, 0];
        kunit_expect!(test, decode_property(&ok, tag, &mut data) == Ok(()));
        kunit_expect!(test, data == [2, 48_000_000], "{data:?}");
        let failed = [32, 0x8000_0001, tag, 8, 0, 2, 0, 0];
        kunit_expect!(
            test,
            decode_property(&failed, tag, &mut data) == Err(FirmwareError::Status(0x8000_0001))
        );
        let unanswered = [32, STATUS_SUCCESS, tag, 8, 0, 2, 0, 0];
        kunit_expect!(
            test,
            decode_property(&unanswered, tag, &mut data) == Err(FirmwareError::NotAnswered)
        );
        // A shorter answer than the buffer leaves the rest as it was.
        let short = [28, STATUS_SUCCESS, 1, 4, TAG_RESPONSE | 4, 1234, 0];
        let mut rev = [7, 7];
        kunit_expect!(test, decode_property(&short, 1, &mut rev) == Ok(()));
        kunit_expect!(test, rev == [1234, 7], "{rev:?}");
    }

    /// The firmware date line prints like Linux's `%ptT`.
    fn iso_time(test: &mut Test) {
        use alloc::format;
        let cases = [
            (0, "1970-01-01T00:00:00"),
            (346_337, "1970-01-05T00:12:17"),
            (951_782_400, "2000-02-29T00:00:00"),
            (1_677_086_307, "2023-02-22T17:18:27"),
            (4_102_444_799, "2099-12-31T23:59:59"),
        ];
        for (secs, want) in cases {
            let got = format!("{}", IsoTime(secs));
            kunit_expect!(test, got == want, "{secs}: {got} != {want}");
        }
    }

    kunit_test_suite!(
        raspberrypi_firmware,
        [encode_get_clock_rate, decode_answers, iso_time]
    );
}
