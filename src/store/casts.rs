//! The cast queue: how one flow hands a request to the next, as if they ran
//! in separate services. A cast is taken (deleted) in the same transaction
//! that records the flow consuming it, so a crash leaves either the cast or
//! the flow — never neither.

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;

use super::unix_now;
use crate::error::Result;

/// The scheduler's topic.
pub const SCHEDULER: &str = "scheduler";

/// The topic of a backend's volume manager.
pub fn manager_topic(backend: &str) -> String {
    format!("manager:{backend}")
}

/// A queued request.
#[derive(Clone, Debug, PartialEq)]
pub struct Cast {
    /// Queue position.
    pub id: i64,
    /// `scheduler` or `manager:<backend>`.
    pub topic: String,
    /// The volume it is about.
    pub volume_id: Option<String>,
    /// The request.
    pub payload: Value,
    /// The process that queued it.
    pub owner: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
}

/// Queues a request; returns its id.
pub fn push(
    conn: &Connection,
    topic: &str,
    volume_id: Option<&str>,
    payload: &Value,
    owner: Option<&str>,
) -> Result<i64> {
    conn.prepare_cached(
        "INSERT INTO casts (topic, volume_id, payload, owner, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![topic, volume_id, serde_json::to_string(payload)?, owner, unix_now()])?;
    Ok(conn.last_insert_rowid())
}

/// A row as read: the payload still text.
type Raw = (Cast, String);

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Raw> {
    Ok((
        Cast {
            id: r.get(0)?,
            topic: r.get(1)?,
            volume_id: r.get(2)?,
            payload: Value::Null,
            owner: r.get(4)?,
            created_at: r.get(5)?,
        },
        r.get(3)?,
    ))
}

fn cast((mut c, payload): Raw) -> Result<Cast> {
    c.payload = serde_json::from_str(&payload)?;
    Ok(c)
}

/// Removes and returns a queued request (`None` if someone took it).
pub fn take(conn: &Connection, id: i64) -> Result<Option<Cast>> {
    conn.prepare_cached(
        "DELETE FROM casts WHERE id = ?1
         RETURNING id, topic, volume_id, payload, owner, created_at",
    )?
    .query_row([id], row)
    .optional()?
    .map(cast)
    .transpose()
}

/// Removes a queued request if it is still there.
pub fn remove(conn: &Connection, id: i64) -> Result<()> {
    conn.prepare_cached("DELETE FROM casts WHERE id = ?1")?
        .execute([id])?;
    Ok(())
}

/// The oldest request queued for a volume.
pub fn next_for_volume(conn: &Connection, volume_id: &str) -> Result<Option<Cast>> {
    conn.prepare_cached(
        "SELECT id, topic, volume_id, payload, owner, created_at FROM casts
         WHERE volume_id = ?1 ORDER BY id LIMIT 1",
    )?
    .query_row([volume_id], row)
    .optional()?
    .map(cast)
    .transpose()
}

/// Every queued request, oldest first.
pub fn list(conn: &Connection) -> Result<Vec<Cast>> {
    conn.prepare_cached(
        "SELECT id, topic, volume_id, payload, owner, created_at FROM casts ORDER BY id",
    )?
    .query_map([], row)?
    .map(|r| cast(r?))
    .collect()
}
