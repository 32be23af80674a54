//! When to try Graph again: `Retry-After` parsing and full-jitter backoff.

use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use rand::Rng;

/// `Retry-After` as seconds ("2", "2.5": Graph sends decimals) or an HTTP date (RFC 9110 §10.2.3).
/// `None` when unparseable or negative; a date already past → `Some(0)`.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if is_decimal(value) {
        let seconds: f64 = value.parse().ok()?;
        // Absurdly large values do not fit a Duration: treat them as garbage, not as "never".
        return Duration::try_from_secs_f64(seconds).ok();
    }
    let date = parse_http_date(value)?;
    // A negative difference (the date is past) means "now".
    Some((date - now).to_std().unwrap_or(Duration::ZERO))
}

/// Digits with at most one decimal point and digits on both sides. Stricter than `f64::from_str`,
/// which would also take "-1", "inf", "NaN" and "1e3".
fn is_decimal(value: &str) -> bool {
    let (whole, fraction) = match value.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (value, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    digits(whole) && fraction.is_none_or(digits)
}

/// IMF-fixdate, plus the two obsolete formats RFC 9110 §5.6.7 says recipients must still accept.
fn parse_http_date(value: &str) -> Option<DateTime<Utc>> {
    if let Ok(date) = DateTime::parse_from_rfc2822(value) {
        return Some(date.with_timezone(&Utc));
    }
    const OBSOLETE: [&str; 2] = [
        "%A, %d-%b-%y %H:%M:%S GMT", // RFC 850
        "%a %b %e %H:%M:%S %Y",      // asctime
    ];
    OBSOLETE
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(value, format).ok())
        .map(|naive| naive.and_utc())
}

/// Full-jitter exponential backoff: uniform in `[0, min(cap, base × 2^attempt)]`. The jitter keeps
/// many queued messages of one mailbox from retrying in lockstep against its 4-request limit.
pub fn backoff(attempt: u32, base: Duration, cap: Duration, rng: &mut impl Rng) -> Duration {
    let ceiling = 1u32
        .checked_shl(attempt)
        .and_then(|factor| base.checked_mul(factor))
        .map_or(cap, |d| d.min(cap));
    let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
    Duration::from_nanos(rng.gen_range(0..=nanos))
}
