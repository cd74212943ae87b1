//! The image catalog and the image cache.

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use crate::backends::Format;
use crate::error::{Error, Result};
use crate::flow::now_us;

crate::string_enum! {
    /// An image's life-cycle state.
    ImageStatus {
        /// In the catalog: volumes may be made from it.
        Active = "active",
        /// Being deleted.
        Deleting = "deleting",
    }
}

/// A catalog image; its JSON form is the stable output shape.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Image {
    /// Unique id.
    pub id: String,
    /// Unique name.
    pub name: String,
    /// `raw` or `qcow2`.
    pub format: Format,
    /// Size of the disk it holds, bytes.
    pub virtual_size: u64,
    /// Size of the file, bytes.
    pub size: u64,
    /// The catalog's copy.
    pub path: String,
    /// `active` or `deleting`.
    pub status: ImageStatus,
    /// Where it was imported from.
    pub source: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// Whether it has compressed clusters (qcow2), as `qemu-img check`
    /// counted them at import.
    pub compressed: bool,
    /// How many volumes were made from it (attempts included).
    pub uses: u64,
}

impl Image {
    /// The smallest volume it fits in: its virtual size, rounded up to a
    /// whole MiB (volumes' granularity), at least 1 MiB.
    pub fn min_size(&self) -> crate::units::Bytes {
        crate::units::Bytes(self.virtual_size.max(1)).round_up(crate::units::MIB)
    }
}

const COLUMNS: &str =
    "id, name, format, virtual_size, size, path, status, source, created_at, compressed, uses";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Image> {
    let format: String = r.get(2)?;
    Ok(Image {
        id: r.get(0)?,
        name: r.get(1)?,
        format: Format::parse(&format).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(2, rusqlite::types::Type::Text, Box::new(e))
        })?,
        virtual_size: r.get::<_, i64>(3)? as u64,
        size: r.get::<_, i64>(4)? as u64,
        path: r.get(5)?,
        status: r.get(6)?,
        source: r.get(7)?,
        created_at: r.get(8)?,
        compressed: r.get(9)?,
        uses: r.get::<_, i64>(10)? as u64,
    })
}

/// Registers an image.
pub fn insert(conn: &Connection, i: &Image) -> Result<()> {
    let r = conn
        .prepare_cached(&format!(
            "INSERT INTO images ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
        ))?
        .execute(params![
            i.id,
            i.name,
            i.format.as_str(),
            i.virtual_size as i64,
            i.size as i64,
            i.path,
            i.status,
            i.source,
            i.created_at,
            i.compressed,
            i.uses as i64
        ]);
    match r {
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            Err(Error::conflict(format!(
                "an image named `{}` already exists",
                i.name
            )))
        }
        other => other.map(drop).map_err(Error::from),
    }
}

/// Counts one more volume made from image `id`; the count, this one
/// included.
pub fn record_use(conn: &Connection, id: &str) -> Result<u64> {
    Ok(conn
        .prepare_cached("UPDATE images SET uses = uses + 1 WHERE id = ?1 RETURNING uses")?
        .query_row([id], |r| r.get::<_, i64>(0))
        .optional()?
        .unwrap_or(0) as u64)
}

/// The image with this id.
pub fn get(conn: &Connection, id: &str) -> Result<Option<Image>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM images WHERE id = ?1"))?
        .query_row([id], from_row)
        .optional()?)
}

/// Finds an image by id, name or unique id prefix (8+).
pub fn find(conn: &Connection, key: &str) -> Result<Image> {
    let direct = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM images WHERE id = ?1 OR name = ?1"
        ))?
        .query_row([key], from_row)
        .optional()?;
    if let Some(i) = direct {
        return Ok(i);
    }
    let mut m = if key.len() >= 8 {
        conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM images WHERE id >= ?1 AND id < ?1 || '~'"
        ))?
        .query_map([key], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?
    } else {
        Vec::new()
    };
    match m.len() {
        0 => Err(Error::not_found(format!(
            "no image with id or name `{key}`"
        ))),
        1 => Ok(m.remove(0)),
        n => Err(Error::invalid(format!(
            "`{key}` is the prefix of {n} image ids"
        ))),
    }
}

/// All images, by name.
pub fn list(conn: &Connection) -> Result<Vec<Image>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM images ORDER BY name"))?
        .query_map([], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Sets an image's status.
pub fn set_status(conn: &Connection, id: &str, status: ImageStatus) -> Result<()> {
    conn.prepare_cached("UPDATE images SET status = ?2 WHERE id = ?1")?
        .execute(params![id, status])?;
    Ok(())
}

/// Removes an image and its cache rows.
pub fn delete(conn: &Connection, id: &str) -> Result<()> {
    conn.prepare_cached("DELETE FROM image_cache WHERE image_id = ?1")?
        .execute([id])?;
    conn.prepare_cached("DELETE FROM images WHERE id = ?1")?
        .execute([id])?;
    Ok(())
}

/// A cached copy of an image on a backend.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CacheEntry {
    /// The backend.
    pub backend: String,
    /// The image.
    pub image_id: String,
    /// Its backend object.
    pub path: String,
    /// Its size, bytes.
    pub size: u64,
    /// Volumes made from it.
    pub hits: u64,
    /// RFC 3339.
    pub created_at: String,
    /// Its last use (for LRU eviction; RFC 3339 in JSON).
    pub last_used: crate::flow::Micros,
    /// What the object was when filled (the backend's
    /// [`fingerprint`](crate::backends::Driver::fingerprint)): a hit on an
    /// object that changed since is a miss.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub fingerprint: Option<String>,
}

const CACHE_COLUMNS: &str =
    "backend, image_id, path, size, hits, created_at, last_used, fingerprint";

fn cache_row(r: &Row<'_>) -> rusqlite::Result<CacheEntry> {
    Ok(CacheEntry {
        backend: r.get(0)?,
        image_id: r.get(1)?,
        path: r.get(2)?,
        size: r.get::<_, i64>(3)? as u64,
        hits: r.get::<_, i64>(4)? as u64,
        created_at: r.get(5)?,
        last_used: r.get(6)?,
        fingerprint: r.get(7)?,
    })
}

/// The cache entry of `image_id` on `backend`.
pub fn cache_get(conn: &Connection, backend: &str, image_id: &str) -> Result<Option<CacheEntry>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {CACHE_COLUMNS} FROM image_cache WHERE backend = ?1 AND image_id = ?2"
        ))?
        .query_row([backend, image_id], cache_row)
        .optional()?)
}

/// Records a new cache entry.
pub fn cache_insert(conn: &Connection, e: &CacheEntry) -> Result<()> {
    conn.prepare_cached(&format!(
        // An upsert, not `OR REPLACE` (which deletes without the delete
        // triggers that keep the provisioned figures).
        "INSERT INTO image_cache ({CACHE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (backend, image_id) DO UPDATE SET path = excluded.path,
           size = excluded.size, hits = excluded.hits, created_at = excluded.created_at,
           last_used = excluded.last_used, fingerprint = excluded.fingerprint"
    ))?
    .execute(params![
        e.backend,
        e.image_id,
        e.path,
        e.size as i64,
        e.hits as i64,
        e.created_at,
        e.last_used,
        e.fingerprint
    ])?;
    Ok(())
}

/// Marks a cache entry used now.
pub fn cache_touch(conn: &Connection, backend: &str, image_id: &str) -> Result<()> {
    conn.prepare_cached(
        "UPDATE image_cache SET hits = hits + 1, last_used = ?3 WHERE backend = ?1 AND image_id = ?2",
    )?
    .execute(params![backend, image_id, now_us()])?;
    Ok(())
}

/// Forgets a cache entry.
pub fn cache_remove(conn: &Connection, backend: &str, image_id: &str) -> Result<()> {
    conn.prepare_cached("DELETE FROM image_cache WHERE backend = ?1 AND image_id = ?2")?
        .execute([backend, image_id])?;
    Ok(())
}

/// Cache entries, least recently used first; of one backend or one image.
pub fn cache_list(
    conn: &Connection,
    backend: Option<&str>,
    image_id: Option<&str>,
) -> Result<Vec<CacheEntry>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {CACHE_COLUMNS} FROM image_cache WHERE (?1 IS NULL OR backend = ?1)
             AND (?2 IS NULL OR image_id = ?2) ORDER BY last_used, image_id"
        ))?
        .query_map(params![backend, image_id], cache_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?)
}
