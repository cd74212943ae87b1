//! The event log: what happened to volumes, in order.

use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::now;
use crate::error::Result;

/// One recorded event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Position in the log.
    pub id: i64,
    /// RFC 3339.
    pub at: String,
    /// `volume.create.start`, `scheduler.create_volume`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// The volume concerned.
    pub volume_id: Option<String>,
    /// Event-specific fields.
    pub payload: Value,
}

/// Appends an event; returns it as stored.
pub fn append(
    conn: &Connection,
    kind: &str,
    volume_id: Option<&str>,
    payload: Value,
) -> Result<Event> {
    let at = now();
    conn.prepare_cached(
        "INSERT INTO events (at, type, volume_id, payload) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![
        at,
        kind,
        volume_id,
        serde_json::to_string(&payload)?
    ])?;
    Ok(Event {
        id: conn.last_insert_rowid(),
        at,
        kind: kind.to_string(),
        volume_id: volume_id.map(str::to_string),
        payload,
    })
}

/// Events after `after_id`, oldest first, optionally of one volume.
pub fn list(conn: &Connection, after_id: i64, volume_id: Option<&str>) -> Result<Vec<Event>> {
    conn.prepare_cached(
        "SELECT id, at, type, volume_id, payload FROM events
         WHERE id > ?1 AND (?2 IS NULL OR volume_id = ?2) ORDER BY id",
    )?
    .query_map(params![after_id, volume_id], |r| {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get::<_, String>(4)?,
        ))
    })?
    .map(|r| {
        let (id, at, kind, volume_id, payload) = r?;
        Ok(Event {
            id,
            at,
            kind,
            volume_id,
            payload: serde_json::from_str(&payload)?,
        })
    })
    .collect()
}
