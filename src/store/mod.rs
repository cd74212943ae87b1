//! volctl's SQLite store: one database file in the state directory holding
//! volumes, types, quotas, the cast queue, events and flow state.
//!
//! Functions that read or write take a `&Connection` so that callers can
//! compose them inside one transaction ([`Db::immediate`]).

pub mod backends;
pub mod casts;
pub mod events;
pub mod flows;
pub mod images;
pub mod schema;
pub mod snapshots;
pub mod types;
pub mod volumes;

use std::path::{Path, PathBuf};

use crate::db::Db;
use crate::error::{Context, Result};

/// The store of one state directory.
#[derive(Clone, Debug)]
pub struct Store {
    db: Db,
    dir: PathBuf,
    id: String,
}

impl Store {
    /// Opens (creating if needed) the store in `dir`.
    pub fn open(dir: &Path) -> Result<Store> {
        crate::trust::ensure_dir(dir, "state directory")?;
        let path = dir.join("volctl.db");
        refuse_lost_database(dir, &path)?;
        for f in ["volctl.db", "volctl.db-wal"] {
            crate::trust::check_file_if_exists(&dir.join(f), "database")?;
        }
        crate::timings::mark("trust checks");
        let db = Db::open(&path).ctx(format!("opening {}", path.display()))?;
        crate::timings::mark("open database");
        schema::migrate(&db)?;
        crate::timings::mark("check schema version");
        let id: String = db
            .lock()
            .query_row(
                "SELECT value FROM store_meta WHERE key = 'store_id'",
                [],
                |r| r.get(0),
            )
            .ctx("reading the store's identity")?;
        Ok(Store {
            db,
            dir: dir.to_path_buf(),
            id,
        })
    }

    /// The store's identity (random, made with the database), with which
    /// it claims its backends.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The shared database handle.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The state directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// Now, as stored: RFC 3339, UTC, microseconds.
pub fn now() -> String {
    // Microseconds: rows made in the same second still sort in the order
    // they were made (and rowid breaks what ties remain).
    humantime::format_rfc3339_micros(std::time::SystemTime::now()).to_string()
}

/// Unix time now in seconds.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A fresh id.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Space provisioned on a backend: volumes (in-flight creates included, so
/// concurrent schedulers never count the same space twice; a migrating
/// volume on its target too), snapshots, and image cache entries. Read
/// from the figure triggers keep (schema V10): one row, whatever the store
/// holds.
pub fn provisioned(
    conn: &rusqlite::Connection,
    backend: &str,
) -> crate::error::Result<crate::units::Bytes> {
    use rusqlite::OptionalExtension;
    let bytes: Option<i64> = conn
        .prepare_cached("SELECT bytes FROM backend_provisioned WHERE backend = ?1")?
        .query_row([backend], |r| r.get(0))
        .optional()?;
    Ok(crate::units::Bytes(bytes.unwrap_or(0).max(0) as u64))
}

/// Overwrites a backend's kept provisioned figure (repair, from a recount).
pub fn set_provisioned(
    conn: &rusqlite::Connection,
    backend: &str,
    bytes: i64,
) -> crate::error::Result<()> {
    conn.prepare_cached(
        "INSERT INTO backend_provisioned (backend, bytes) VALUES (?1, ?2)
         ON CONFLICT (backend) DO UPDATE SET bytes = excluded.bytes",
    )?
    .execute(rusqlite::params![backend, bytes])?;
    Ok(())
}

/// Every backend's kept provisioned figure (for `check`).
pub fn all_provisioned(conn: &rusqlite::Connection) -> crate::error::Result<Vec<(String, i64)>> {
    Ok(conn
        .prepare_cached("SELECT backend, bytes FROM backend_provisioned ORDER BY backend")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?)
}

/// [`provisioned`] counted afresh from the rows (what `check` compares the
/// kept figure with; a scan of every volume).
pub fn provisioned_recount(
    conn: &rusqlite::Connection,
    backend: &str,
) -> crate::error::Result<crate::units::Bytes> {
    let (vols, snaps, cache): (i64, i64, i64) = conn
        .prepare_cached(
            "SELECT
               (SELECT coalesce(sum(size), 0) FROM volumes
                 WHERE (backend = ?1 OR migrating_to = ?1) AND status != ?2),
               (SELECT coalesce(sum(size), 0) FROM snapshots WHERE backend = ?1),
               (SELECT coalesce(sum(size), 0) FROM image_cache WHERE backend = ?1)",
        )?
        .query_row(
            rusqlite::params![backend, volumes::VolumeStatus::Error],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
    Ok(crate::units::Bytes((vols + snaps + cache).max(0) as u64))
}

/// A state directory that has been used (it holds backends, images or
/// locks) but has no database lost its database — deleted, or the state
/// directory half-restored. Opening a fresh empty store there would make
/// every volume look foreign (and `check --repair` act on them): refuse.
fn refuse_lost_database(dir: &Path, db: &Path) -> Result<()> {
    // An empty file is as lost as a missing one (truncated, or made anew).
    if std::fs::metadata(db).is_ok_and(|m| m.len() > 0) {
        return Ok(());
    }
    let used: Vec<&str> = ["backends", "images", "locks"]
        .into_iter()
        .filter(|d| std::fs::read_dir(dir.join(d)).is_ok_and(|mut rd| rd.next().is_some()))
        .collect();
    if used.is_empty() {
        return Ok(());
    }
    Err(crate::error::Error::invalid(format!(
        "state directory {} has {} but no database ({}): it was deleted or moved. \
         Restore volctl.db (with its -wal file) from where it went; or, to start afresh, \
         move the whole state directory aside first (its backends keep the volumes' data)",
        dir.display(),
        used.join(", "),
        db.display()
    )))
}
