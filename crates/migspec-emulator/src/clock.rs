//! Time: the emulator's clock and the date formats the two APIs use.
//!
//! Every timed behaviour (job phases, signature expiry, rate-limit refills) reads the
//! emulator's [`Clock`], never the system clock directly, so tests can use a
//! [`ManualClock`] and move time forward explicitly instead of sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A source of wall-clock time in milliseconds since the Unix epoch.
///
/// Implementations must be cheap: the emulator reads the clock on every request.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    fn now_ms(&self) -> u64;
}

/// The real wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        system_now_ms()
    }
}

/// A clock that only moves when told to; clones share the same time.
///
/// It starts at the current system time so that requests signed "now" by a client
/// that reads the same clock pass the signature-expiry checks.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now_ms: Arc<AtomicU64>,
}

impl ManualClock {
    /// A manual clock set to the current system time.
    #[must_use]
    pub fn new() -> Self {
        Self::at_ms(system_now_ms())
    }

    /// A manual clock set to `ms` milliseconds since the Unix epoch.
    #[must_use]
    pub fn at_ms(ms: u64) -> Self {
        Self {
            now_ms: Arc::new(AtomicU64::new(ms)),
        }
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        self.now_ms.fetch_add(ms, Ordering::SeqCst);
    }

    /// Sets the clock to `ms` milliseconds since the Unix epoch.
    pub fn set_ms(&self, ms: u64) {
        self.now_ms.store(ms, Ordering::SeqCst);
    }

    /// The current time of this clock, in seconds since the Unix epoch.
    #[must_use]
    pub fn now_secs(&self) -> u64 {
        self.now_ms() / 1000
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        self.now_ms.load(Ordering::SeqCst)
    }
}

fn system_now_ms() -> u64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
}

/// Days since 1970-01-01 → (year, month 1..=12, day 1..=31), proleptic Gregorian.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let year = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let month = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    (if month <= 2 { year + 1 } else { year }, month, day)
}

/// (year, month, day) → days since 1970-01-01.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let month = i64::from(month);
    let doy = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn split_secs(secs: i64) -> (i64, u32, u32, u32, u32, u32) {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, mo, d) = civil_from_days(days);
    let h = u32::try_from(rem / 3600).unwrap_or(0);
    let mi = u32::try_from(rem % 3600 / 60).unwrap_or(0);
    let s = u32::try_from(rem % 60).unwrap_or(0);
    (y, mo, d, h, mi, s)
}

const BEIJING_OFFSET_SECS: i64 = 8 * 3600;

/// The "unset" time string of the Tencent API.
pub(crate) const ZERO_TIME: &str = "0000-00-00 00:00:00";

/// Formats `ms` as Beijing time (UTC+8), `yyyy-mm-dd hh:mm:ss`, as Tencent DTS does.
pub(crate) fn beijing_time(ms: u64) -> String {
    let secs = i64::try_from(ms / 1000).unwrap_or(i64::MAX / 2) + BEIJING_OFFSET_SECS;
    let (y, mo, d, h, mi, s) = split_secs(secs);
    // Hand-rolled instead of `format!`: this runs several times per job in every describe answer.
    let mut out = String::with_capacity(19);
    push_digits(&mut out, y, 4);
    out.push('-');
    push_digits(&mut out, i64::from(mo), 2);
    out.push('-');
    push_digits(&mut out, i64::from(d), 2);
    out.push(' ');
    push_digits(&mut out, i64::from(h), 2);
    out.push(':');
    push_digits(&mut out, i64::from(mi), 2);
    out.push(':');
    push_digits(&mut out, i64::from(s), 2);
    out
}

/// Appends the last `width` decimal digits of `value`, zero-padded.
fn push_digits(out: &mut String, value: i64, width: u32) {
    for power in (0..width).rev() {
        let digit = (value / 10_i64.pow(power)).rem_euclid(10);
        out.push(char::from(b'0' + u8::try_from(digit).unwrap_or(0)));
    }
}

/// Like [`beijing_time`], with [`ZERO_TIME`] for `None`.
pub(crate) fn beijing_time_or_zero(ms: Option<u64>) -> String {
    ms.map_or_else(|| ZERO_TIME.to_owned(), beijing_time)
}

/// Parses a Beijing-time `yyyy-mm-dd hh:mm:ss` string into milliseconds since the epoch.
pub(crate) fn parse_beijing_time(text: &str) -> Option<u64> {
    let bytes = text.as_bytes();
    if bytes.len() != 19
        || bytes[4] != b'-'
        || bytes[7] != b'-'
        || bytes[10] != b' '
        || bytes[13] != b':'
        || bytes[16] != b':'
    {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = text.get(range)?;
        if part.bytes().all(|b| b.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let (y, mo, d, h, mi, s) = (
        num(0..4)?,
        num(5..7)?,
        num(8..10)?,
        num(11..13)?,
        num(14..16)?,
        num(17..19)?,
    );
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 59 {
        return None;
    }
    let days = days_from_civil(i64::from(y), mo, d);
    // Reject dates such as 02-31 that roll over into the next month.
    if civil_from_days(days) != (i64::from(y), mo, d) {
        return None;
    }
    let secs = days * 86_400 + i64::from(h) * 3600 + i64::from(mi) * 60 + i64::from(s)
        - BEIJING_OFFSET_SECS;
    u64::try_from(secs).ok().map(|s| s * 1000)
}

/// The UTC date `yyyy-mm-dd` of a Unix timestamp in seconds (the TC3 credential-scope date).
pub(crate) fn utc_date(secs: i64) -> String {
    let (y, mo, d, ..) = split_secs(secs);
    format!("{y:04}-{mo:02}-{d:02}")
}

/// Parses Huawei's `X-Sdk-Date` format, `yyyymmddThhmmssZ` (UTC), into seconds since the epoch.
pub(crate) fn parse_sdk_date(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    if bytes.len() != 16 || bytes[8] != b'T' || bytes[15] != b'Z' {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = text.get(range)?;
        if part.bytes().all(|b| b.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let (y, mo, d, h, mi, s) = (
        num(0..4)?,
        num(4..6)?,
        num(6..8)?,
        num(9..11)?,
        num(11..13)?,
        num(13..15)?,
    );
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    Some(
        days_from_civil(i64::from(y), mo, d) * 86_400
            + i64::from(h) * 3600
            + i64::from(mi) * 60
            + i64::from(s),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_date_of_the_tc3_vector_timestamp_is_the_day_before_beijing() {
        assert_eq!(utc_date(1_551_113_065), "2019-02-25");
        assert_eq!(beijing_time(1_551_113_065_000), "2019-02-26 00:44:25");
        assert_eq!(utc_date(1_700_000_000), "2023-11-14");
    }

    #[test]
    fn beijing_time_round_trips() {
        let ms = parse_beijing_time("2018-05-24 15:06:03").expect("valid time");
        assert_eq!(beijing_time(ms), "2018-05-24 15:06:03");
        assert_eq!(parse_beijing_time("2018-02-31 00:00:00"), None);
        assert_eq!(parse_beijing_time("2018-5-24 15:06:03"), None);
        assert_eq!(beijing_time_or_zero(None), ZERO_TIME);
    }

    #[test]
    fn sdk_date_parses() {
        assert_eq!(parse_sdk_date("20240102T030405Z"), Some(1_704_164_645));
        assert_eq!(parse_sdk_date("2024-01-02T03:04:05Z"), None);
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = ManualClock::at_ms(1_000);
        let shared = clock.clone();
        clock.advance(Duration::from_millis(500));
        assert_eq!(shared.now_ms(), 1_500);
        shared.set_ms(10_000);
        assert_eq!(clock.now_secs(), 10);
    }
}
