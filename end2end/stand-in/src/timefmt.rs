//! Date formatting and parsing in the forms Microsoft uses, without a date crate.

/// Splits Unix seconds into (year, month, day, hour, minute, second), UTC.
fn civil(unix: i64) -> (i64, u32, u32, u32, u32, u32) {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        year,
        u32::try_from(month).unwrap_or(1),
        u32::try_from(day).unwrap_or(1),
        u32::try_from(secs / 3600).unwrap_or(0),
        u32::try_from(secs % 3600 / 60).unwrap_or(0),
        u32::try_from(secs % 60).unwrap_or(0),
    )
}

fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `01/31/2025 17:00:39`: how Entra's messages name a certificate's validity.
pub fn us(unix: i64) -> String {
    let (y, mo, d, h, mi, s) = civil(unix);
    format!("{mo:02}/{d:02}/{y:04} {h:02}:{mi:02}:{s:02}")
}

/// `2025-01-01T00:00:00Z` (Graph's `receivedDateTime` form).
pub fn iso(unix: i64) -> String {
    let (y, mo, d, h, mi, s) = civil(unix);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// `2025-01-01T00:00:00` (Graph's `innerError.date` form, no zone designator).
pub fn iso_no_zone(unix: i64) -> String {
    let (y, mo, d, h, mi, s) = civil(unix);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}")
}

/// `2025-01-01 00:00:00Z` (Entra's `timestamp` form).
pub fn entra(unix: i64) -> String {
    let (y, mo, d, h, mi, s) = civil(unix);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}Z")
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fff][Z|±HH:MM]` or `YYYY-MM-DD` (UTC). Clients write the
/// offset form too (`+00:00`, as RFC 3339 formatters do), and Graph accepts it.
pub fn parse_iso(text: &str) -> Option<i64> {
    let text = text.trim().trim_end_matches('Z');
    let (date, time) = match text.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (text, None),
    };
    let (time, offset) = match time.and_then(|t| t.find(['+', '-']).map(|i| t.split_at(i))) {
        Some((t, zone)) => (Some(t), parse_offset(zone)?),
        None => (time, 0),
    };
    let mut parts = date.split('-');
    let year: i64 = parts.next()?.parse().ok()?;
    let month: i64 = parts.next()?.parse().ok()?;
    let day: i64 = parts.next()?.parse().ok()?;
    if parts.next().is_some() || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let mut seconds = 0;
    if let Some(time) = time {
        let time = time.split('.').next()?;
        let mut t = time.split(':');
        let h: i64 = t.next()?.parse().ok()?;
        let m: i64 = t.next()?.parse().ok()?;
        let s: i64 = t.next().unwrap_or("0").parse().ok()?;
        seconds = h * 3600 + m * 60 + s;
    }
    Some(days_from_civil(year, month, day) * 86_400 + seconds - offset)
}

/// `+HH:MM`, `-HH:MM` or `+HHMM` → seconds east of UTC.
fn parse_offset(zone: &str) -> Option<i64> {
    let sign = if zone.starts_with('-') { -1 } else { 1 };
    let digits: String = zone.get(1..)?.chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 {
        return None;
    }
    let hours: i64 = digits.get(..2)?.parse().ok()?;
    let minutes: i64 = digits.get(2..)?.parse().ok()?;
    Some(sign * (hours * 3600 + minutes * 60))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_round_trip() {
        assert_eq!(iso(1_735_689_600), "2025-01-01T00:00:00Z");
        assert_eq!(entra(1_735_689_600 + 3661), "2025-01-01 01:01:01Z");
        assert_eq!(iso_no_zone(951_782_400), "2000-02-29T00:00:00");
        assert_eq!(parse_iso("2025-01-01T00:00:00Z"), Some(1_735_689_600));
        assert_eq!(parse_iso("2000-02-29"), Some(951_782_400));
        assert_eq!(parse_iso("nonsense"), None);
        assert_eq!(
            parse_iso("2025-01-01T02:00:00.1234567+02:00"),
            Some(1_735_689_600)
        );
        assert_eq!(parse_iso("2024-12-31T23:00:00-01:00"), Some(1_735_689_600));
        assert_eq!(parse_iso("2025-01-01T00:00:00+0"), None);
    }
}
