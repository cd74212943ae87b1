//! The cast queue's table. Rows are a topic and a JSON message; what they
//! mean, and who consumes them, is `crate::dispatch`'s (the only user).

use rusqlite::{Connection, OptionalExtension, params};

use super::unix_now;
use crate::error::Result;

/// A queued row as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct RawCast {
    /// Queue position.
    pub id: i64,
    /// `scheduler` or `manager:<backend>`.
    pub topic: String,
    /// The volume it is about.
    pub volume_id: Option<String>,
    /// The message, JSON.
    pub payload: String,
    /// The process that queued it.
    pub owner: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
}

const COLUMNS: &str = "id, topic, volume_id, payload, owner, created_at";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawCast> {
    Ok(RawCast {
        id: r.get(0)?,
        topic: r.get(1)?,
        volume_id: r.get(2)?,
        payload: r.get(3)?,
        owner: r.get(4)?,
        created_at: r.get(5)?,
    })
}

/// Queues a message; returns its id.
pub fn push(
    conn: &Connection,
    topic: &str,
    volume_id: Option<&str>,
    payload: &str,
    owner: Option<&str>,
) -> Result<i64> {
    conn.prepare_cached(
        "INSERT INTO casts (topic, volume_id, payload, owner, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![topic, volume_id, payload, owner, unix_now()])?;
    Ok(conn.last_insert_rowid())
}

/// Removes and returns a queued row (`None` if someone took it).
pub fn take(conn: &Connection, id: i64) -> Result<Option<RawCast>> {
    Ok(conn
        .prepare_cached(&format!(
            "DELETE FROM casts WHERE id = ?1 RETURNING {COLUMNS}"
        ))?
        .query_row([id], row)
        .optional()?)
}

/// Removes a queued row if it is still there.
pub fn remove(conn: &Connection, id: i64) -> Result<()> {
    conn.prepare_cached("DELETE FROM casts WHERE id = ?1")?
        .execute([id])?;
    Ok(())
}

/// The oldest row queued for a volume.
pub fn next_for_volume(conn: &Connection, volume_id: &str) -> Result<Option<RawCast>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM casts WHERE volume_id = ?1 ORDER BY id LIMIT 1"
        ))?
        .query_row([volume_id], row)
        .optional()?)
}

/// Every queued row, oldest first.
pub fn list(conn: &Connection) -> Result<Vec<RawCast>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM casts ORDER BY id"))?
        .query_map([], row)?
        .collect::<rusqlite::Result<_>>()?)
}
