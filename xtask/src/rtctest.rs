//! The wall clock on `virt`: QEMU's PL031 real-time clock starts at the host's time, and
//! Cradle's `rtc-pl031` driver sets the wall clock from it at boot, as Linux's `hctosys`
//! does. The test boots Debian's busybox `sh` as PID 1 and checks the two log lines, that
//! `date` says the host's year (the host's clock is real; 1970 would mean no RTC), and
//! that `date -s` sets the clock (`clock_settime`). The same boot checks that `nproc` says
//! 1 and that nothing reaches the console about it (an unknown system call is logged at
//! debug level only, as Linux says nothing).

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::env::out_dir;
use crate::harness::Summary;
use crate::initramfs::{write_newc, Entry, Source};
use crate::qemu::{run_captured, QemuOptions};

/// The UTC year of `secs` since the epoch (Howard Hinnant's `civil_from_days`).
fn utc_year(secs: u64) -> i64 {
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    yoe + era * 400 + i64::from(mp >= 10)
}

fn host_year() -> Result<i64, String> {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|e| format!("the host's clock is before 1970: {e}"))?
        .as_secs();
    Ok(utc_year(secs))
}

/// 2030-01-02T03:04:05Z, for `date -s`.
const SET_TO: u64 = 1_893_553_445;

fn check(image: &Path) -> Result<String, String> {
    let busybox = crate::busybox::fetch_busybox()?;
    let cpio = out_dir().join("initramfs-busybox-sh.cpio");
    let bytes = write_newc(&[
        Entry::new("/bin/busybox", Source::File(busybox), 0o755),
        Entry::new("/bin/sh", Source::Symlink("busybox".into()), 0o777),
        Entry::new("/dev", Source::Dir, 0o755),
    ])?;
    std::fs::write(&cpio, bytes).map_err(|e| e.to_string())?;
    let year_before = host_year()?;
    let script = format!(
        "echo nproc=$(busybox nproc); echo year=$(busybox date -u +%Y); x=$(busybox date -u -s @{SET_TO}); \
         echo set=$(busybox date -u +%FT%T); busybox poweroff -f"
    );
    let mut opts = QemuOptions::for_board("virt");
    opts.initrd = Some(cpio);
    opts.append = Some(format!("rdinit=/bin/sh -- -c \"{script}\""));
    let t = run_captured(&opts, image, None, Duration::from_secs(120))?;
    let year_after = host_year()?;
    let text = t.text.replace('\r', "");
    let log = out_dir().join("test-logs").join("rtc.log");
    let _ = std::fs::write(&log, &text);
    if !text.contains("rtc-pl031 9010000.pl031: registered as rtc0") {
        return Err(format!("no 'registered as rtc0' line:\n{text}"));
    }
    let setting = text
        .lines()
        .find_map(|l| {
            l.split_once("rtc-pl031 9010000.pl031: setting system clock to ")
                .map(|(_, r)| r)
        })
        .ok_or_else(|| format!("no 'setting system clock' line:\n{text}"))?;
    // "2026-12-04T23:35:38 UTC (1796427338)": the date must be the seconds in brackets.
    let secs: u64 = setting
        .rsplit_once('(')
        .and_then(|(_, s)| s.strip_suffix(')'))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("cannot read the seconds in: {setting}"))?;
    let year_logged = utc_year(secs);
    if !setting.starts_with(&format!("{year_logged}-")) || !setting.contains(" UTC (") {
        return Err(format!(
            "the logged date does not match its seconds: {setting}"
        ));
    }
    let year_user: i64 = text
        .lines()
        .find_map(|l| l.strip_prefix("year="))
        .and_then(|y| y.trim().parse().ok())
        .ok_or_else(|| format!("date +%Y printed nothing usable:\n{text}"))?;
    for (what, year) in [("the boot log", year_logged), ("date +%Y", year_user)] {
        if year != year_before && year != year_after {
            return Err(format!(
                "{what} says {year}, the host says {year_before}:\n{text}"
            ));
        }
    }
    if !text.contains("set=2030-01-02T03:04:0") {
        return Err(format!("date -s @{SET_TO} did not set the clock:\n{text}"));
    }
    Ok(text)
}

/// `nproc` printed `1` and the console shows no complaint from the kernel.
fn check_nproc(text: &str) -> Result<(), String> {
    if !text.contains("\nnproc=1\n") {
        return Err(format!("nproc did not print 1:\n{text}"));
    }
    if text.contains("unknown syscall") {
        return Err(format!("an unknown syscall reached the console:\n{text}"));
    }
    Ok(())
}

/// The test, in the `rtc` group.
pub(crate) fn rtc_test(summary: &mut Summary, image: &Path) {
    let text = check(image);
    summary.record(
        "rtc: virt's PL031 sets the wall clock at boot (the host's year in the log and in date), date -s sets it",
        text.as_ref().map(|_| ()).map_err(Clone::clone),
    );
    summary.record(
        "rtc: busybox nproc prints 1 and the kernel prints nothing about it",
        text.and_then(|t| check_nproc(&t)),
    );
}

#[cfg(test)]
mod tests {
    use super::{utc_year, SET_TO};

    #[test]
    fn years() {
        assert_eq!(utc_year(0), 1970);
        assert_eq!(utc_year(951_782_400), 2000); // 2000-02-29
        assert_eq!(utc_year(1_796_427_338), 2026);
        assert_eq!(utc_year(1_798_761_599), 2026); // 2026-12-31T23:59:59
        assert_eq!(utc_year(1_798_761_600), 2027);
        assert_eq!(utc_year(SET_TO), 2030);
    }
}
