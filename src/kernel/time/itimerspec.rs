//! The arithmetic of interval timers, portable and unit-tested on the host: `struct
//! itimerspec` to and from nanoseconds (Linux: `kernel/time/time.c`, `get_itimerspec64`,
//! `put_itimerspec64`, `itimerspec64_valid`) and moving a periodic timer past the present
//! (`kernel/time/hrtimer.c`, `hrtimer_forward`). timerfd and POSIX timers use them.

use crate::kernel::errno::Errno;

const NSEC_PER_SEC: u64 = 1_000_000_000;

/// A `struct itimerspec` (interval, then value: two `timespec`s of `i64` seconds and
/// nanoseconds) from its 32 bytes, as `(interval, value)` in nanoseconds; EINVAL for a
/// negative second or a nanosecond outside 0..1e9 (Linux's `itimerspec64_valid`).
pub fn itimerspec_from_bytes(b: &[u8; 32]) -> Result<(u64, u64), Errno> {
    let ts = |o: usize| -> Result<u64, Errno> {
        let sec = i64::from_le_bytes(b[o..o + 8].try_into().unwrap_or([0; 8]));
        let nsec = i64::from_le_bytes(b[o + 8..o + 16].try_into().unwrap_or([0; 8]));
        if sec < 0 || !(0..NSEC_PER_SEC as i64).contains(&nsec) {
            return Err(Errno::EINVAL);
        }
        Ok((sec as u64)
            .saturating_mul(NSEC_PER_SEC)
            .saturating_add(nsec as u64))
    };
    Ok((ts(0)?, ts(16)?))
}

/// `(interval, value)` in nanoseconds as a `struct itimerspec`.
pub fn itimerspec_to_bytes(interval_ns: u64, value_ns: u64) -> [u8; 32] {
    let mut b = [0u8; 32];
    for (o, ns) in [(0, interval_ns), (16, value_ns)] {
        b[o..o + 8].copy_from_slice(&(ns / NSEC_PER_SEC).to_le_bytes());
        b[o + 8..o + 16].copy_from_slice(&(ns % NSEC_PER_SEC).to_le_bytes());
    }
    b
}

/// A timer due at `expires_ns` with period `interval_ns` fired at `now_ns`: how many
/// periods have begun by then (at least 1), and when the next one begins (Linux's
/// `hrtimer_forward`, counting the expiry itself).
pub fn hrtimer_forward(expires_ns: u64, interval_ns: u64, now_ns: u64) -> (u64, u64) {
    if interval_ns == 0 || now_ns < expires_ns {
        return (1, expires_ns.saturating_add(interval_ns));
    }
    let periods = (now_ns - expires_ns) / interval_ns + 1;
    (
        periods,
        expires_ns.saturating_add(periods.saturating_mul(interval_ns)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(isec: i64, insec: i64, vsec: i64, vnsec: i64) -> [u8; 32] {
        let mut b = [0u8; 32];
        for (o, v) in [(0, isec), (8, insec), (16, vsec), (24, vnsec)] {
            b[o..o + 8].copy_from_slice(&v.to_le_bytes());
        }
        b
    }

    #[test]
    fn itimerspec_round_trip_and_validity() {
        let b = spec(1, 500, 2, 999_999_999);
        assert_eq!(
            itimerspec_from_bytes(&b),
            Ok((1_000_000_500, 2_999_999_999))
        );
        assert_eq!(itimerspec_to_bytes(1_000_000_500, 2_999_999_999), b);
        assert_eq!(itimerspec_from_bytes(&spec(0, 0, 0, 0)), Ok((0, 0)));
        assert_eq!(
            itimerspec_from_bytes(&spec(0, 1_000_000_000, 0, 0)),
            Err(Errno::EINVAL)
        );
        assert_eq!(
            itimerspec_from_bytes(&spec(0, 0, -1, 0)),
            Err(Errno::EINVAL)
        );
        assert_eq!(
            itimerspec_from_bytes(&spec(0, 0, 0, -1)),
            Err(Errno::EINVAL)
        );
        // Huge seconds saturate instead of wrapping.
        assert_eq!(
            itimerspec_from_bytes(&spec(0, 0, i64::MAX, 0)),
            Ok((0, u64::MAX))
        );
    }

    #[test]
    fn forward_counts_every_period_begun() {
        // Fired on time: one period, the next one interval later.
        assert_eq!(hrtimer_forward(100, 10, 100), (1, 110));
        // Fired 25 late: the periods at 100, 110 and 120 have begun.
        assert_eq!(hrtimer_forward(100, 10, 125), (3, 130));
        // Exactly on a later boundary.
        assert_eq!(hrtimer_forward(100, 10, 130), (4, 140));
        // A one-shot timer counts once.
        assert_eq!(hrtimer_forward(100, 0, 1_000), (1, 100));
        // Early (the tick before the time): still one.
        assert_eq!(hrtimer_forward(100, 10, 90), (1, 110));
        // No overflow near the end of time.
        assert_eq!(hrtimer_forward(u64::MAX - 5, 10, u64::MAX).0, 1);
    }
}
