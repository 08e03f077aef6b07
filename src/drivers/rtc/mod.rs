//! Real-time clocks (Linux's `drivers/rtc/`): the RTC class and its drivers.
//!
//! A driver that finds its clock registers it with [`rtc_register_device`] (Linux's
//! `devm_rtc_register_device`). The first one becomes `rtc0`, and, as Linux does with
//! `CONFIG_RTC_HCTOSYS_DEVICE="rtc0"`, the wall clock is set from it at once
//! (`rtc_hctosys`). With no RTC (the Raspberry Pi has none) the wall clock starts at the
//! epoch at power-on.

pub mod rtc_pl031;

use crate::kernel::errno::Errno;
use crate::kernel::locking::InitOnce;
use crate::kernel::time::timeconv::time64_to_tm;

/// What a driver does for the class (Linux's `struct rtc_class_ops`).
pub trait RtcClassOps: Sync {
    /// The time the clock holds, in seconds since the epoch (UTC).
    fn read_time(&self) -> Result<i64, Errno>;
}

/// A registered clock (Linux's `struct rtc_device`, only what Cradle uses).
pub struct RtcDevice {
    /// The driver's name, as Linux prints it before the device (`rtc-pl031`).
    pub driver: &'static str,
    /// The parent device's name, after its DT node (`9010000.pl031`).
    pub dev_name: alloc::string::String,
    /// The driver's operations.
    pub ops: &'static dyn RtcClassOps,
}

/// `rtc0`, the clock the wall clock is set from.
static RTC0: InitOnce<RtcDevice> = InitOnce::new();

/// Register a clock (Linux's `devm_rtc_register_device`). The first one is `rtc0` and sets
/// the wall clock; Cradle keeps no others.
pub fn rtc_register_device(rtc: RtcDevice) -> Result<(), Errno> {
    if RTC0.set(rtc).is_err() {
        return Err(Errno::EBUSY);
    }
    let Some(rtc) = RTC0.get() else {
        return Err(Errno::ENODEV);
    };
    log::info!("{} {}: registered as rtc0", rtc.driver, rtc.dev_name);
    rtc_hctosys(rtc);
    Ok(())
}

/// Set the wall clock from `rtc` (Linux's `rtc_hctosys`, with its log line).
fn rtc_hctosys(rtc: &RtcDevice) {
    let result = rtc.ops.read_time().and_then(|secs| {
        crate::kernel::time::timekeeping::do_settimeofday64(secs, 0).map(|()| secs)
    });
    match result {
        Ok(secs) => log::info!(
            "{} {}: setting system clock to {} UTC ({secs})",
            rtc.driver,
            rtc.dev_name,
            time64_to_tm(secs)
        ),
        Err(e) => log::warn!(
            "{} {}: hctosys: unable to set the system clock: {e}",
            rtc.driver,
            rtc.dev_name
        ),
    }
}
