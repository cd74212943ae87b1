//! Snapshot rows.

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use super::now;
use crate::error::{Error, Result};
use crate::units::Bytes;

crate::string_enum! {
    /// A snapshot's life-cycle state.
    SnapshotStatus {
        /// Being made.
        Creating = "creating",
        /// Ready.
        Available = "available",
        /// Being deleted.
        Deleting = "deleting",
        /// Being written to a file (`export --snapshot`).
        Exporting = "exporting",
        /// Being put back into its volume (`snapshot revert`).
        Reverting = "reverting",
        /// Deletion failed part-way; delete it again.
        ErrorDeleting = "error_deleting",
    }
}

/// A snapshot row; its JSON form is the stable output shape.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Unique id.
    pub id: String,
    /// Optional name.
    pub name: Option<String>,
    /// The volume it was taken of.
    pub volume_id: String,
    /// Its size (the volume's when taken): `size_bytes` in JSON, with
    /// `size` in GiB beside it.
    #[serde(flatten, with = "crate::units::size_fields")]
    pub size: Bytes,
    /// Life-cycle state.
    pub status: SnapshotStatus,
    /// The backend it lives on (its volume's).
    pub backend: String,
    /// Its backend object.
    pub path: Option<String>,
    /// Owning project.
    pub project: String,
    /// The volume's type.
    #[serde(rename = "type")]
    pub type_name: Option<String>,
    /// Why a delete failed.
    pub error: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
    /// Whether its quota is in use.
    #[serde(skip)]
    pub quota_held: bool,
}

const COLUMNS: &str = "id, name, volume_id, size, status, backend, path, project, type_name, error,
    created_at, updated_at, quota_held";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Snapshot> {
    Ok(Snapshot {
        id: r.get(0)?,
        name: r.get(1)?,
        volume_id: r.get(2)?,
        size: Bytes(r.get::<_, i64>(3)? as u64),
        status: r.get(4)?,
        backend: r.get(5)?,
        path: r.get(6)?,
        project: r.get(7)?,
        type_name: r.get(8)?,
        error: r.get(9)?,
        created_at: r.get(10)?,
        updated_at: r.get(11)?,
        quota_held: r.get(12)?,
    })
}

/// Inserts a snapshot row.
pub fn insert(conn: &Connection, s: &Snapshot) -> Result<()> {
    conn.prepare_cached(&format!(
        "INSERT INTO snapshots ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
    ))?
    .execute(params![
        s.id,
        s.name,
        s.volume_id,
        s.size.get() as i64,
        s.status,
        s.backend,
        s.path,
        s.project,
        s.type_name,
        s.error,
        s.created_at,
        s.updated_at,
        s.quota_held,
    ])?;
    Ok(())
}

/// Refuses (conflict, exit 6) a snapshot name another snapshot of the
/// project has; called inside the write transaction that sets it.
pub fn claim_name(conn: &Connection, project: &str, name: &str) -> Result<()> {
    let other: Option<String> = conn
        .prepare_cached("SELECT id FROM snapshots WHERE project = ?1 AND name = ?2 LIMIT 1")?
        .query_row(params![project, name], |r| r.get(0))
        .optional()?;
    match other {
        Some(id) => Err(Error::conflict(format!(
            "a snapshot named `{name}` already exists in project {project} ({id}): names are unique per project"
        ))),
        None => Ok(()),
    }
}

/// The snapshot with this id.
pub fn get(conn: &Connection, id: &str) -> Result<Option<Snapshot>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM snapshots WHERE id = ?1"))?
        .query_row([id], from_row)
        .optional()?)
}

/// Finds a snapshot by id, unique id prefix (8+) or unique name, within
/// `project` (or, with `None`, in every project).
pub fn find(conn: &Connection, project: Option<&str>, key: &str) -> Result<Snapshot> {
    if let Some(s) = get(conn, key)?
        && project.is_none_or(|p| s.project == p)
    {
        return Ok(s);
    }
    let mut m = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM snapshots WHERE name = ?1 AND (?2 IS NULL OR project = ?2)"
        ))?
        .query_map(params![key, project], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    if m.is_empty() && crate::api::looks_like_id_prefix(key) {
        m = conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM snapshots WHERE id >= ?1 AND id < ?1 || '~'
                 AND (?2 IS NULL OR project = ?2)"
            ))?
            .query_map(params![key, project], from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
    }
    match m.len() {
        0 => Err(Error::not_found(format!(
            "no snapshot with id or name `{key}`"
        ))),
        1 => Ok(m.remove(0)),
        n => Err(Error::invalid(format!(
            "`{key}` names {n} snapshots; use an id"
        ))),
    }
}

/// All snapshots (of one project, or of one volume), oldest first.
pub fn list(
    conn: &Connection,
    project: Option<&str>,
    volume_id: Option<&str>,
) -> Result<Vec<Snapshot>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM snapshots WHERE (?1 IS NULL OR project = ?1)
             AND (?2 IS NULL OR volume_id = ?2) ORDER BY created_at, rowid"
        ))?
        .query_map(params![project, volume_id], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Sets the status and error.
pub fn set_status(
    conn: &Connection,
    id: &str,
    status: SnapshotStatus,
    error: Option<&str>,
) -> Result<()> {
    conn.prepare_cached(
        "UPDATE snapshots SET status = ?2, error = ?3, updated_at = ?4 WHERE id = ?1",
    )?
    .execute(params![id, status, error, now()])?;
    Ok(())
}

/// Records the backend object and makes it available.
pub fn set_created(conn: &Connection, id: &str, path: &str) -> Result<()> {
    conn.prepare_cached(
        "UPDATE snapshots SET status = ?4, path = ?2, updated_at = ?3 WHERE id = ?1",
    )?
    .execute(params![id, path, now(), SnapshotStatus::Available])?;
    Ok(())
}

/// Removes the row.
pub fn delete(conn: &Connection, id: &str) -> Result<()> {
    conn.prepare_cached("DELETE FROM snapshots WHERE id = ?1")?
        .execute([id])?;
    Ok(())
}
