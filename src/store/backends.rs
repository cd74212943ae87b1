//! Cached backend statistics: lvm2 reports take tens of milliseconds, so
//! figures are kept in the store for a short time and dropped whenever
//! volctl changes the backend.

use rusqlite::{Connection, OptionalExtension, params};

use crate::backends::Stats;
use crate::error::Result;
use crate::flow::now_us;

/// Cached stats of `backend` younger than `ttl_us`.
pub fn cached(conn: &Connection, backend: &str, ttl_us: i64) -> Result<Option<Stats>> {
    let row: Option<(String, i64)> = conn
        .prepare_cached(
            "SELECT stats, stats_at FROM backends WHERE name = ?1 AND stats IS NOT NULL",
        )?
        .query_row([backend], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    match row {
        Some((json, at)) if now_us().get() - at < ttl_us => Ok(serde_json::from_str(&json).ok()),
        _ => Ok(None),
    }
}

/// Stores fresh stats.
pub fn save(conn: &Connection, backend: &str, driver: &str, stats: &Stats) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO backends (name, driver, stats, stats_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (name) DO UPDATE SET driver = excluded.driver, stats = excluded.stats,
         stats_at = excluded.stats_at",
    )?
    .execute(params![
        backend,
        driver,
        serde_json::to_string(stats)?,
        now_us()
    ])?;
    Ok(())
}

/// Forgets cached stats: the backend just changed.
///
/// A loopback backend's cached figures are kept (cached only with
/// `capacity_gb`, whose allocated figure walks its directory): an
/// estimate for their TTL, which the exact provisioned figure the
/// capacity filter also applies bounds; a create must not pay the walk.
pub fn invalidate(conn: &Connection, backend: &str) -> Result<()> {
    conn.prepare_cached(
        "UPDATE backends SET stats = NULL WHERE name = ?1 AND driver != 'loopback'",
    )?
    .execute([backend])?;
    Ok(())
}
