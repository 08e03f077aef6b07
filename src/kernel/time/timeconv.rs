//! Seconds since the epoch to a calendar date and back (Linux: `kernel/time/timeconv.c`'s
//! `time64_to_tm`, `kernel/time/time.c`'s `mktime64`), for the RTC class and its log lines.
//!
//! The proleptic Gregorian calendar, UTC, no leap seconds: what `struct rtc_time` and
//! POSIX time mean. Portable and unit-tested on the host.

use core::fmt;

/// A broken-down UTC time (the fields of Linux's `struct rtc_time`, but with the real year
/// and a 1-based month, which is how it is printed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tm {
    /// The year, e.g. 2026.
    pub year: i64,
    /// 1..=12.
    pub month: u32,
    /// 1..=31.
    pub day: u32,
    /// 0..=23.
    pub hour: u32,
    /// 0..=59.
    pub min: u32,
    /// 0..=59.
    pub sec: u32,
}

/// Days from 1970-01-01 to the date (Howard Hinnant's `days_from_civil`, as `mktime64`'s
/// arithmetic does it).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400); // 0..=399
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date `days` after 1970-01-01 (Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // 0..=146096
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Seconds since the epoch to a UTC date (Linux's `time64_to_tm` / `rtc_time64_to_tm`).
pub fn time64_to_tm(secs: i64) -> Tm {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400) as u32;
    let (year, month, day) = civil_from_days(days);
    Tm {
        year,
        month,
        day,
        hour: rem / 3600,
        min: rem / 60 % 60,
        sec: rem % 60,
    }
}

/// A UTC date to seconds since the epoch (Linux's `mktime64`).
pub fn mktime64(tm: &Tm) -> i64 {
    days_from_civil(tm.year, tm.month, tm.day) * 86_400
        + i64::from(tm.hour) * 3600
        + i64::from(tm.min) * 60
        + i64::from(tm.sec)
}

/// ISO 8601, as Linux's `%ptR` prints it: `2026-12-04T23:31:40`.
impl fmt::Display for Tm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.min, self.sec
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tm(year: i64, month: u32, day: u32, hour: u32, min: u32, sec: u32) -> Tm {
        Tm {
            year,
            month,
            day,
            hour,
            min,
            sec,
        }
    }

    #[test]
    fn the_epoch() {
        assert_eq!(time64_to_tm(0), tm(1970, 1, 1, 0, 0, 0));
        assert_eq!(mktime64(&tm(1970, 1, 1, 0, 0, 0)), 0);
    }

    #[test]
    fn known_dates() {
        // `date -u -d @N` on a Linux host.
        assert_eq!(time64_to_tm(951_782_400), tm(2000, 2, 29, 0, 0, 0));
        assert_eq!(time64_to_tm(1_709_251_199), tm(2024, 2, 29, 23, 59, 59));
        assert_eq!(time64_to_tm(2_147_483_647), tm(2038, 1, 19, 3, 14, 7));
        assert_eq!(time64_to_tm(4_107_542_400), tm(2100, 3, 1, 0, 0, 0));
        assert_eq!(time64_to_tm(-1), tm(1969, 12, 31, 23, 59, 59));
        assert_eq!(time64_to_tm(1_796_427_100), tm(2026, 12, 4, 23, 31, 40));
    }

    #[test]
    fn round_trip() {
        let mut s = -100 * 365 * 86_400i64;
        while s < 300 * 365 * 86_400 {
            assert_eq!(mktime64(&time64_to_tm(s)), s, "{s}");
            s += 86_399 * 7 + 13;
        }
    }

    #[test]
    fn prints_like_pt_r() {
        assert_eq!(
            alloc::format!("{}", tm(2026, 12, 4, 23, 31, 40)),
            "2026-12-04T23:31:40"
        );
    }
}
