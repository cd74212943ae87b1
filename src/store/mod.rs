//! volctl's SQLite store: one database file in the state directory holding
//! volumes, types, quotas, the cast queue, events and flow state.
//!
//! Functions that read or write take a `&Connection` so that callers can
//! compose them inside one transaction ([`Db::immediate`]).

pub mod backends;
pub mod casts;
pub mod events;
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
}

impl Store {
    /// Opens (creating if needed) the store in `dir`.
    pub fn open(dir: &Path) -> Result<Store> {
        crate::trust::ensure_dir(dir, "state directory")?;
        let path = dir.join("volctl.db");
        let db = Db::open(&path).ctx(format!("opening {}", path.display()))?;
        schema::migrate(&db)?;
        Ok(Store {
            db,
            dir: dir.to_path_buf(),
        })
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

/// Now, as stored: RFC 3339, UTC, seconds.
pub fn now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
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

/// GiB provisioned on a backend: volumes (in-flight creates included, so
/// concurrent schedulers never count the same space twice), snapshots, and
/// image cache entries.
pub fn provisioned_gb(conn: &rusqlite::Connection, backend: &str) -> crate::error::Result<u64> {
    let (vols, snaps, cache): (i64, i64, i64) = conn
        .prepare_cached(
            "SELECT
               (SELECT coalesce(sum(size), 0) FROM volumes WHERE backend = ?1 AND status != 'error'),
               (SELECT coalesce(sum(size), 0) FROM snapshots WHERE backend = ?1),
               (SELECT coalesce(sum(size), 0) FROM image_cache WHERE backend = ?1)",
        )?
        .query_row([backend], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok((vols + snaps) as u64 + (cache as u64).div_ceil(1 << 30))
}

/// Ids of the flows about a volume (by the `volume_id` in their metadata),
/// oldest first.
pub fn flows_of_volume(
    conn: &rusqlite::Connection,
    volume_id: &str,
) -> crate::error::Result<Vec<String>> {
    Ok(conn
        .prepare_cached(
            "SELECT id FROM flows WHERE json_extract(meta, '$.volume_id') = ?1 ORDER BY created_at, rowid",
        )?
        .query_map([volume_id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?)
}
