//! The portable half of printk: log levels, time stamps, the record ring, line formatting.
//!
//! Kept free of hardware so it is unit-tested on the host. The ring keeps whole records
//! (level, time stamp, text) and drops the oldest when full, like Linux's printk ringbuffer.

use core::fmt;

/// A message's importance, with Linux's numbering: lower is more severe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Loglevel(pub u8);

impl Loglevel {
    /// KERN_EMERG: the system is unusable (panic).
    pub const EMERG: Self = Self(0);
    /// KERN_ALERT: action must be taken immediately (oops headers).
    pub const ALERT: Self = Self(1);
    /// KERN_CRIT: critical conditions.
    pub const CRIT: Self = Self(2);
    /// KERN_ERR: error conditions.
    pub const ERR: Self = Self(3);
    /// KERN_WARNING.
    pub const WARNING: Self = Self(4);
    /// KERN_NOTICE.
    pub const NOTICE: Self = Self(5);
    /// KERN_INFO: the ordinary boot messages.
    pub const INFO: Self = Self(6);
    /// KERN_DEBUG.
    pub const DEBUG: Self = Self(7);
    /// Linux's CONSOLE_LOGLEVEL_DEFAULT: everything but debug reaches the console.
    pub const DEFAULT_CONSOLE: Self = Self(7);
    /// Linux's CONSOLE_LOGLEVEL_QUIET (the `quiet` bootarg).
    pub const QUIET: Self = Self(4);
    /// Linux's CONSOLE_LOGLEVEL_DEBUG (the `debug` bootarg): everything.
    pub const ALL: Self = Self(10);
}

impl From<log::Level> for Loglevel {
    fn from(level: log::Level) -> Self {
        match level {
            log::Level::Error => Self::ERR,
            log::Level::Warn => Self::WARNING,
            log::Level::Info => Self::INFO,
            log::Level::Debug | log::Level::Trace => Self::DEBUG,
        }
    }
}

/// A message's time: nanoseconds since the counter started (power-on).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timestamp(pub u64);

impl Timestamp {
    /// Convert a generic-counter reading at `freq` Hz to nanoseconds without overflowing.
    pub fn from_counter(count: u64, freq: u64) -> Self {
        if freq == 0 {
            return Self(0);
        }
        let ns = (count as u128 * 1_000_000_000) / freq as u128;
        Self(ns.min(u64::MAX as u128) as u64)
    }
}

/// Linux's `[    5.123456]` prefix: seconds padded to 5, then microseconds.
impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0 / 1_000_000_000;
        let usecs = (self.0 % 1_000_000_000) / 1000;
        write!(f, "[{secs:5}.{usecs:06}]")
    }
}

/// A `fmt::Write` into a fixed buffer that cuts what does not fit instead of failing.
pub struct LineWriter<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> LineWriter<N> {
    /// An empty line.
    pub const fn new() -> Self {
        Self {
            buf: [0; N],
            len: 0,
        }
    }

    /// What has been written (cut at a character boundary if it overflowed).
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// The text as a `str`.
    pub fn as_str(&self) -> &str {
        // Only whole `str` pieces, cut at char boundaries, are ever copied in.
        core::str::from_utf8(self.as_bytes()).unwrap_or("")
    }
}

impl<const N: usize> Default for LineWriter<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> fmt::Write for LineWriter<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = N - self.len;
        let mut take = s.len().min(room);
        while !s.is_char_boundary(take) {
            take -= 1;
        }
        self.buf[self.len..self.len + take].copy_from_slice(&s.as_bytes()[..take]);
        self.len += take;
        Ok(())
    }
}

/// Record header in the ring: level (1), length (2), time stamp (8).
const HEADER: usize = 11;

/// A ring of log records, oldest dropped first when a new one does not fit.
///
/// # Invariants
///
/// `head..head+used` (modulo N) holds whole records back to back; `used <= N`.
pub struct LogRing<const N: usize> {
    buf: [u8; N],
    head: usize,
    used: usize,
    /// Records dropped to make room, ever (Linux counts them too).
    dropped: u64,
    /// Records in the ring now.
    records: u64,
    /// The sequence number the next record will get; records are numbered from 0 in the
    /// order they were logged, so a reader can remember where it stopped.
    next_seq: u64,
}

impl<const N: usize> LogRing<N> {
    /// An empty ring.
    pub const fn new() -> Self {
        Self {
            buf: [0; N],
            head: 0,
            used: 0,
            dropped: 0,
            records: 0,
            next_seq: 0,
        }
    }

    /// Append a record, cutting text longer than a quarter of the ring.
    pub fn push(&mut self, level: Loglevel, ts: Timestamp, text: &[u8]) {
        let text = &text[..text.len().min(N / 4).min(u16::MAX as usize)];
        let need = HEADER + text.len();
        while N - self.used < need {
            self.drop_oldest();
        }
        let mut header = [0u8; HEADER];
        header[0] = level.0;
        header[1..3].copy_from_slice(&(text.len() as u16).to_le_bytes());
        header[3..11].copy_from_slice(&ts.0.to_le_bytes());
        let at = (self.head + self.used) % N;
        self.copy_in(at, &header);
        self.copy_in((at + HEADER) % N, text);
        self.used += need;
        self.records += 1;
        self.next_seq += 1;
    }

    fn copy_in(&mut self, at: usize, bytes: &[u8]) {
        for (i, b) in bytes.iter().enumerate() {
            self.buf[(at + i) % N] = *b;
        }
    }

    fn byte(&self, at: usize) -> u8 {
        self.buf[at % N]
    }

    fn record_len(&self, at: usize) -> usize {
        HEADER + u16::from_le_bytes([self.byte(at + 1), self.byte(at + 2)]) as usize
    }

    fn drop_oldest(&mut self) {
        let len = self.record_len(self.head);
        self.head = (self.head + len) % N;
        self.used -= len;
        self.records -= 1;
        self.dropped += 1;
    }

    /// How many records were dropped to make room.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// The sequence number of the oldest record still in the ring.
    pub fn first_seq(&self) -> u64 {
        self.next_seq - self.records
    }

    /// The sequence number the next record will get.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// The records, oldest first, each as (level, time stamp, text).
    pub fn iter(&self) -> impl Iterator<Item = (Loglevel, Timestamp, &[u8])> + '_ {
        self.iter_seq()
            .map(|(_, level, ts, text)| (level, ts, text))
    }

    /// The records, oldest first, each with its sequence number.
    pub fn iter_seq(&self) -> impl Iterator<Item = (u64, Loglevel, Timestamp, &[u8])> + '_ {
        let mut offset = 0;
        let mut seq = self.first_seq();
        core::iter::from_fn(move || {
            if offset >= self.used {
                return None;
            }
            let at = (self.head + offset) % N;
            let len = self.record_len(at);
            let level = Loglevel(self.byte(at));
            let mut ts = [0u8; 8];
            for (i, b) in ts.iter_mut().enumerate() {
                *b = self.byte(at + 3 + i);
            }
            let start = (at + HEADER) % N;
            let text_len = len - HEADER;
            offset += len;
            seq += 1;
            // Text that wraps is shown up to the end of the buffer only; records are small
            // next to N, so this is rare and loses only the tail of one line.
            let end = (start + text_len).min(N);
            Some((
                seq - 1,
                level,
                Timestamp(u64::from_le_bytes(ts)),
                &self.buf[start..end],
            ))
        })
    }
}

/// Write one record the way `syslog(2)` and `dmesg -r` show it: every line of the text as
/// `<6>[    0.123456] text\n`, the level in angle brackets before Linux's time stamp.
pub fn syslog_record(level: Loglevel, ts: Timestamp, text: &[u8], out: &mut impl FnMut(&[u8])) {
    let mut prefix = LineWriter::<40>::new();
    let _ = fmt::Write::write_fmt(&mut prefix, format_args!("<{}>{ts} ", level.0));
    let text = text.strip_suffix(b"\n").unwrap_or(text);
    for line in text.split(|&b| b == b'\n') {
        out(prefix.as_bytes());
        out(line);
        out(b"\n");
    }
}

impl<const N: usize> Default for LogRing<N> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::fmt::Write;

    #[test]
    fn timestamp_prints_like_linux() {
        let ts = Timestamp::from_counter(62_500_000 * 5 + 7_712, 62_500_000);
        let mut line = LineWriter::<32>::new();
        write!(line, "{ts}").unwrap();
        assert_eq!(line.as_str(), "[    5.000123]");
        assert_eq!(Timestamp::from_counter(123, 0), Timestamp(0));
    }

    #[test]
    fn timestamp_does_not_overflow_on_huge_counts() {
        let ts = Timestamp::from_counter(u64::MAX, 1_000_000_000);
        assert_eq!(ts.0, u64::MAX);
    }

    #[test]
    fn line_writer_cuts_at_char_boundary() {
        let mut line = LineWriter::<5>::new();
        write!(line, "ab€cd").unwrap();
        assert_eq!(line.as_str(), "ab€");
        write!(line, "xyz").unwrap();
        assert_eq!(line.as_str(), "ab€");
    }

    #[test]
    fn ring_keeps_records_in_order() {
        let mut ring = LogRing::<256>::new();
        ring.push(Loglevel::INFO, Timestamp(1), b"one");
        ring.push(Loglevel::ERR, Timestamp(2), b"two");
        let got: Vec<_> = ring.iter().map(|(l, t, s)| (l, t.0, s.to_vec())).collect();
        assert_eq!(
            got,
            vec![
                (Loglevel::INFO, 1, b"one".to_vec()),
                (Loglevel::ERR, 2, b"two".to_vec())
            ]
        );
    }

    #[test]
    fn ring_drops_oldest_when_full() {
        let mut ring = LogRing::<64>::new();
        for i in 0..10u64 {
            ring.push(
                Loglevel::INFO,
                Timestamp(i),
                format!("message {i}").as_bytes(),
            );
        }
        let got: Vec<_> = ring.iter().map(|(_, t, _)| t.0).collect();
        assert_eq!(*got.last().unwrap(), 9);
        assert!(got.len() < 10);
        assert_eq!(ring.dropped() as usize + got.len(), 10);
        for (_, t, text) in ring.iter() {
            if text.len() == format!("message {}", t.0).len() {
                assert_eq!(text, format!("message {}", t.0).as_bytes());
            }
        }
    }

    #[test]
    fn ring_numbers_records_across_drops() {
        let mut ring = LogRing::<64>::new();
        assert_eq!((ring.first_seq(), ring.next_seq()), (0, 0));
        for i in 0..10u64 {
            ring.push(Loglevel::INFO, Timestamp(i), b"0123456789");
        }
        assert_eq!(ring.next_seq(), 10);
        assert_eq!(ring.first_seq(), ring.dropped());
        // A record's sequence number is its place in the order of logging: here the
        // time stamp was chosen to match it.
        for (seq, _, ts, _) in ring.iter_seq() {
            assert_eq!(seq, ts.0);
        }
    }

    #[test]
    fn syslog_record_prefixes_every_line() {
        let mut out = Vec::new();
        syslog_record(
            Loglevel::WARNING,
            Timestamp(1_500_000_000),
            b"first\nsecond\n",
            &mut |b: &[u8]| out.extend_from_slice(b),
        );
        assert_eq!(
            out,
            b"<4>[    1.500000] first\n<4>[    1.500000] second\n".to_vec()
        );
    }

    #[test]
    fn log_levels_map_like_linux() {
        assert_eq!(Loglevel::from(log::Level::Error), Loglevel::ERR);
        assert_eq!(Loglevel::from(log::Level::Info), Loglevel::INFO);
        assert!(Loglevel::INFO < Loglevel::DEFAULT_CONSOLE);
        assert!(Loglevel::DEBUG >= Loglevel::DEFAULT_CONSOLE);
        assert!(Loglevel::INFO >= Loglevel::QUIET);
    }
}
