//! Time for scripts: durations (`--ttl 2h`, `--timeout 60s`), expiry
//! timestamps, and the states `volctl wait` waits for.

use std::time::{Duration, SystemTime};

use crate::error::{Error, Result};

crate::string_enum! {
    /// A state `volctl wait` waits for.
    Until {
        /// `available` (an `error` status ends the wait: it will not come).
        Available = "available",
        /// Attached (`in-use`).
        InUse = "in-use",
        /// Gone from the store.
        Deleted = "deleted",
    }
}

/// Parses a duration: a number with a unit (`90s`, `15m`, `2h`, `7d`, or
/// several: `1h30m`); a plain number is seconds.
pub fn parse_duration(s: &str) -> Result<Duration> {
    let s = s.trim();
    if let Ok(secs) = s.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    humantime::parse_duration(s).map_err(|e| {
        Error::invalid(format!(
            "duration `{s}`: {e} (write e.g. 90s, 15m, 2h, 7d or 1h30m)"
        ))
    })
}

/// `t` as stored: RFC 3339, UTC, microseconds (so stored times compare as
/// strings).
pub fn format(t: SystemTime) -> String {
    humantime::format_rfc3339_micros(t).to_string()
}

/// Checks an RFC 3339 UTC timestamp (`2026-12-24T18:00:00Z`) and returns it
/// as stored.
pub fn check_timestamp(s: &str) -> Result<String> {
    humantime::parse_rfc3339(s).map(format).map_err(|e| {
        Error::invalid(format!(
            "time `{s}`: {e} (RFC 3339 in UTC, e.g. 2026-12-24T18:00:00Z)"
        ))
    })
}

/// The expiry `ttl` from now, as stored.
pub fn expiry_in(ttl: Duration) -> Result<String> {
    SystemTime::now()
        .checked_add(ttl)
        .filter(|t| {
            t.duration_since(SystemTime::UNIX_EPOCH)
                .is_ok_and(|d| d.as_secs() < 253_402_300_799) // 9999-12-31
        })
        .map(format)
        .ok_or_else(|| {
            Error::invalid(format!(
                "a ttl of {} is too long",
                humantime::format_duration(ttl)
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_timestamps() {
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("2h").unwrap(), Duration::from_secs(7200));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert!(parse_duration("soon").is_err());
        assert_eq!(
            check_timestamp("2026-12-24T18:00:00Z").unwrap(),
            "2026-12-24T18:00:00.000000Z"
        );
        assert!(check_timestamp("tomorrow").is_err());
        let a = expiry_in(Duration::from_secs(60)).unwrap();
        let b = expiry_in(Duration::from_secs(3600)).unwrap();
        assert!(a < b, "stored times compare as strings");
        assert!(expiry_in(Duration::from_secs(u64::MAX / 4)).is_err());
    }
}
